"""What every layer reader returns: plain data, with provenance, drops and data-quality flags.

A vector layer's ``frame`` is a GeoDataFrame in EPSG:4326 whose columns each reader documents. Every
frame has ``source_row``: the CSV line or feature number (from 1) where the row came from, so any finding
can be traced back to the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from planner.opening import file_identity, file_sha256

CATEGORIES = (
    "health",
    "education",
    "worship",
    "market",
    "water",
    "power",
    "bridge",
    "humanitarian",
    "government",
    "other",
)
KINDS = ("population", "sites", "displacement", "threats", "roads", "backdrop", "admin", "population_table")


@dataclass(frozen=True)
class Dropped:
    """Rows a reader left out, and why (never silently)."""

    rows: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class Flag:
    """Something that weakens the estimate: shown on the result and on each figure it affects.

    ``code`` is stable for programs (``stale``, ``coarse_raster``, ``town_centroid``, ``no_date``,
    ``population_unknown``, ``unclassified_roads``, ``density_as_count``, ``outside_area``,
    ``no_coverage``, ``rows_dropped``, ``grouped_rows``, ``status_unrecognised``, ``unknown_types``,
    ``area_level`` ...); ``message`` is for people.
    """

    code: str
    layer: str
    message: str
    rows: tuple[int, ...] = ()


@lru_cache(maxsize=512)
def _version_sha256(identity: tuple[str, int, int]) -> str:
    return file_sha256(Path(identity[0]))


@dataclass
class LayerInfo:
    """What is known of any layer: where it came from, how old it is, what was dropped and flagged."""

    id: str
    kind: str
    path: Path
    as_of: date | None
    max_age_days: int
    dropped: list[Dropped] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    sensitive: tuple[str, ...] = ()
    description: str = ""

    @property
    def sha256(self) -> str:
        """Hash of the file as read, for an assessment's provenance: computed once per version of the file
        (path, size, modification time) in this process, as a country raster takes seconds. The record hashes
        its inputs afresh whenever it records or checks a sign-off."""
        return _version_sha256(file_identity(self.path))

    def age_days(self, on: date) -> int | None:
        return None if self.as_of is None else (on - self.as_of).days

    def freshness_flag(self, on: date) -> Flag | None:
        """The stale or undated flag of this layer for an operation on ``on``; None when fresh."""
        age = self.age_days(on)
        if age is None:
            return Flag(
                "no_date",
                self.id,
                f"layer '{self.id}' has no date: its age is unknown, "
                "treat its figures as unverified (set `as_of:` in the manifest)",
            )
        if age < 0:
            return Flag(
                "future",
                self.id,
                f"layer '{self.id}' is dated {self.as_of.isoformat() if self.as_of else ''}, after the operation "
                f"({on.isoformat()}): its age cannot be known, treat its figures as unverified (check `as_of:`)",
            )
        if age > self.max_age_days:
            return Flag(
                "stale",
                self.id,
                f"layer '{self.id}' is {age} days old on {on.isoformat()} "
                f"(freshness limit {self.max_age_days} days): verify on the ground",
            )
        return None

    @property
    def dropped_count(self) -> int:
        return sum(len(d.rows) for d in self.dropped)

    def summary(self, on: date) -> dict[str, object]:
        """What a user checks of a layer: what was read, dropped and flagged, how old, where, in which CRS."""
        stale = self.freshness_flag(on)
        return {
            "id": self.id,
            "kind": self.kind,
            "path": str(self.path),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "age_days": self.age_days(on),
            "max_age_days": self.max_age_days,
            "dropped": [{"rows": list(d.rows), "reason": d.reason} for d in self.dropped],
            "flags": [
                {"code": f.code, "message": f.message, "rows": list(f.rows)}
                for f in [*self.flags, *([stale] if stale else [])]
            ],
            "sensitive": list(self.sensitive),
            **self._details(),
        }

    def _details(self) -> dict[str, object]:
        return {}


@dataclass(frozen=True)
class BeyondArea:
    """The threat reports beyond an assessment's study area that its checklist still reads: rules that look at
    a whole layer (a partner force's record anywhere) read the reports dated from ``since``; rules about
    reports from community members, those dated from ``community_since`` in a layer that says which are.
    None: no rule looks beyond the area."""

    since: date | None = None
    community_since: date | None = None

    def since_for(self, *, says_community: bool) -> date | None:
        days = [d for d in (self.since, self.community_since if says_community else None) if d is not None]
        return min(days) if days else None


@dataclass(frozen=True)
class ProjectedIndex:
    """A layer's geometries in a working CRS with spatial indexes over them, built once and reused.

    A layer of points (threat reports, most sites) keeps its coordinates (``xy``): a point is made only for the
    rows asked for (``take``) until a spatial query needs them all.
    """

    shapes: np.ndarray | None = None  # shapely geometries, row-aligned with the layer's frame (not points)
    xy: np.ndarray | None = None  # the coordinates of a layer of points, row-aligned

    @cached_property
    def geometries(self) -> np.ndarray:
        """Every row's geometry (for a layer of points, made when first asked for)."""
        if self.shapes is not None:
            return self.shapes
        assert self.xy is not None
        return shapely.points(self.xy)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The geometries of ``rows``."""
        if self.xy is not None and "geometries" not in self.__dict__:
            return shapely.points(self.xy[rows]) if len(rows) else np.array([], dtype=object)
        return self.geometries[rows]

    @cached_property
    def tree(self) -> shapely.STRtree:
        """The R-tree, built when first asked for."""
        return shapely.STRtree(self.geometries)


@dataclass
class VectorLayer(LayerInfo):
    """Sites, displacement sites, threat reports, roads or backdrop features, normalised."""

    frame: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    source_crs: str = "EPSG:4326"
    # How the file was read (format, encoding, separator, decimal mark, sheet, date order of each date
    # column), so a user can see that a French Excel CSV was read as one
    read_as: dict[str, str] = field(default_factory=dict)
    # The box (west, south, east, north in degrees) the layer was read through, for an assessment of one
    # study area; None when the whole file was read. Nothing beyond it may be asked of the layer.
    area: tuple[float, float, float, float] | None = None
    # Threat reports read for a study area: those beyond it are kept from this day on (None: none are), and
    # how many rows the whole file holds (a file with reports elsewhere only is not an empty layer)
    complete_since: date | None = None
    file_rows: int | None = None
    _projected: dict[str, ProjectedIndex] = field(default_factory=dict, repr=False)
    _columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # Things built from the layer and reused across assessments (road graphs), keyed by what they depend on.
    derived: dict[object, Any] = field(default_factory=dict, repr=False)

    def projected(self, crs: CRS) -> ProjectedIndex:
        """The layer in ``crs`` with its spatial index; projected and indexed once per CRS.

        Assessments query this with zones in metres, so their cost follows the footprint: the projection
        of the whole layer is paid once, not on every assessment.
        """
        key = CRS.from_user_input(crs).to_string()
        if key not in self._projected:
            source = self.frame.geometry.to_numpy()
            if len(source) and bool((shapely.get_type_id(source) == shapely.GeometryType.POINT).all()):
                # Points (reports, most sites): their coordinates projected as two arrays, one pass
                xy = shapely.get_coordinates(source)
                x, y = Transformer.from_crs(self.frame.crs, crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
                xy = np.column_stack([x, y])
                self._projected[key] = ProjectedIndex(xy=xy)
            else:
                self._projected[key] = ProjectedIndex(shapes=self.frame.geometry.to_crs(crs).to_numpy())
        return self._projected[key]

    def column(self, name: str) -> np.ndarray:
        """A column of the frame as a numpy array, converted once: picking rows from it costs per row taken."""
        if name not in self._columns:
            self._columns[name] = self.frame[name].to_numpy(dtype=object if self.frame[name].dtype == object else None)
        return self._columns[name]

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        if self.frame.empty:
            return None
        minx, miny, maxx, maxy = self.frame.total_bounds
        return float(minx), float(miny), float(maxx), float(maxy)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def holds_nothing(self) -> bool:
        """No feature in the file at all (not merely none in the study area it was read for)."""
        return len(self.frame) == 0 and not self.file_rows

    def _details(self) -> dict[str, object]:
        details: dict[str, object] = {
            "read": len(self.frame),
            "read_as": dict(self.read_as),
            "source_crs": self.source_crs,
            "bounds": self.bounds,
        }
        if self.area is not None:
            details["read_within"] = list(self.area)
            if self.kind == "threats":
                details["read_beyond_from"] = self.complete_since.isoformat() if self.complete_since else None
        for column, key in (
            ("category", "by_category"),
            ("kind", "by_kind"),
            ("road_class", "by_road_class"),
            ("status_class", "by_status"),
        ):
            if column in self.frame.columns:
                counts = self.frame[column].value_counts()
                details[key] = {str(k): int(v) for k, v in counts.items()}
        if "population" in self.frame.columns:
            known = self.frame["population"].dropna()
            details["population_total"] = float(known.sum())
            details["population_unknown_sites"] = int(self.frame["population"].isna().sum())
        if "date" in self.frame.columns and len(self.frame):
            details["date_range"] = [
                self.frame["date"].min().date().isoformat(),
                self.frame["date"].max().date().isoformat(),
            ]
        return details
