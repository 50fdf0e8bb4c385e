"""Places in words: a point described by the nearest named settlement, site or road of the layers, and MGRS.

Field staff locate things by the names they know ("1.2 km NE of Kalo town") and by a grid reference they can
put on a map or a radio; a projected coordinate pair means nothing to them. The names come from the layer
set itself, so a place is only ever named after something the mission's own data holds: settlements in a
backdrop layer first (within ``SETTLEMENT_REACH_M``), otherwise the nearest named site, displacement site or
road.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
import shapely.ops
from pyproj import CRS

from planner.geo import WGS84, to_mgrs, transformer
from planner.words import distance

if TYPE_CHECKING:
    from planner.layers.manifest import LayerSet

# Backdrop features that are places people live, by the words OSM, HDX and field GIS cells use.
SETTLEMENT_WORDS = frozenset(
    {"settlement", "town", "village", "city", "hamlet", "suburb", "neighbourhood", "quarter", "locality", "place"}
)
# A settlement this close names a place; farther away, a nearby named site or road says more.
SETTLEMENT_REACH_M = 5_000.0
# Closer than this, a place is "at" the named feature rather than a distance and bearing from it.
AT_M = 100.0
# MGRS digits per axis: 4 is a 10 m square, as precise as anything Primum places and short enough to read.
MGRS_DIGITS = 4
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class Where:
    """A point as a person says it: the named feature, its distance and bearing from it, and an MGRS reference."""

    name: str | None
    distance_m: float
    bearing: str  # from the named feature to the point: "NE"
    mgrs: str

    @property
    def text(self) -> str:
        """The place in the command line's words: '2.6 km S of Nyal (36N WM 6175 8595)', 'at Nyal (...)', or
        the MGRS reference alone when nothing named is near. (Checklists say it in their language.)"""
        if not self.name:
            return self.mgrs
        if self.distance_m < AT_M:
            return f"at {self.name} ({self.mgrs})"
        return f"{distance(self.distance_m, 'en')} {self.bearing} of {self.name} ({self.mgrs})"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "distance_m": self.distance_m, "bearing": self.bearing, "mgrs": self.mgrs}


class Gazetteer:
    """The named features of a layer set in a working CRS, and the nearest one to any point."""

    def __init__(self, layerset: LayerSet, crs: CRS) -> None:
        self.layerset = layerset
        self.crs = crs
        self._index: tuple[_Named, _Named] | None = None  # built on the first place asked for
        self._to_wgs84 = transformer(crs, WGS84)

    def _named(self) -> tuple[_Named, _Named]:
        if self._index is None:
            self._index = self._build(self.layerset, self.crs)
        return self._index

    @staticmethod
    def _build(layerset: LayerSet, crs: CRS) -> tuple[_Named, _Named]:
        settlements: list[tuple[str, shapely.Geometry]] = []
        others: list[tuple[str, shapely.Geometry]] = []
        layers = [layer for kind in ("backdrop", "sites", "displacement", "roads") for layer in layerset.of_kind(kind)]
        for layer in layers:
            if "name" not in layer.frame.columns:
                continue
            names = layer.frame["name"].to_numpy()
            named = np.flatnonzero([isinstance(n, str) and n.strip() != "" for n in names])
            if named.size == 0:
                continue
            geometries = layer.projected(crs).geometries
            if layer.kind == "backdrop":
                features = layer.frame["feature"].to_numpy()
                for i in named:
                    if isinstance(features[i], str) and features[i].strip().casefold() in SETTLEMENT_WORDS:
                        settlements.append((str(names[i]).strip(), geometries[i]))
            else:
                others.extend((str(names[i]).strip(), geometries[i]) for i in named)
        return _Named(settlements), _Named(others)

    def where(self, x: float, y: float) -> Where:
        """The point (x, y in the working CRS) named after the nearest settlement, site or road."""
        point = shapely.Point(x, y)
        settlements, others = self._named()
        found = settlements.nearest(point)
        if found is None or found[1] > SETTLEMENT_REACH_M:
            other = others.nearest(point)
            if other is not None and (found is None or other[1] < found[1]):
                found = other
        lon, lat = self._to_wgs84.transform(x, y)
        reference = mgrs_reference(float(lon), float(lat))
        if found is None:
            return Where(None, 0.0, "", reference)
        name, distance, anchor = found
        return Where(name, distance, _bearing(anchor, point), reference)


class _Named:
    def __init__(self, entries: list[tuple[str, shapely.Geometry]]) -> None:
        self.names = [n for n, _ in entries]
        self.geometries = np.array([g for _, g in entries], dtype=object)
        self.tree = shapely.STRtree(self.geometries) if entries else None

    def nearest(self, point: shapely.Point) -> tuple[str, float, shapely.Point] | None:
        if self.tree is None:
            return None
        index = int(self.tree.nearest(point))
        geometry = self.geometries[index]
        anchor = shapely.ops.nearest_points(geometry, point)[0]
        return self.names[index], float(geometry.distance(point)), anchor


def _bearing(origin: shapely.Point, point: shapely.Point) -> str:
    """The compass point from ``origin`` to ``point`` (grid north of the working CRS, close to true north)."""
    angle = math.degrees(math.atan2(point.x - origin.x, point.y - origin.y)) % 360
    return COMPASS[int((angle + 22.5) // 45) % 8]


def mgrs_reference(lon: float, lat: float) -> str:
    """A point's MGRS reference to 10 m, written as people write it: '36N WM 6135 8845'."""
    return spaced_mgrs(to_mgrs(lon, lat, precision=MGRS_DIGITS))


def spaced_mgrs(reference: str) -> str:
    """'36NWM68708600' as people write it: '36N WM 6870 8600'."""
    parts = re.fullmatch(r"(\d{1,2}[C-X])([A-Z]{2})(\d*)", reference)
    if parts is None or len(parts[3]) % 2:
        return reference
    half = len(parts[3]) // 2
    return " ".join(p for p in (parts[1], parts[2], parts[3][:half], parts[3][half:]) if p)
