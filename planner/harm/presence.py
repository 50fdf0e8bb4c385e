"""People present at the time of the operation: residents at home, people at open sites, displaced people.

A residential raster (WorldPop, GHS-POP, census) says where people sleep. During the window only the share
``home_share_by_hour`` of them is at home; sites with opening hours hold their occupancy while open (an
``occupancy`` column, else a default per category); a displacement site always holds its residents.

Each group of people carries a range. Where the data cannot place or count them, the range widens and the
reason is kept: a town-centroid point spreads its people over a disc (the central figure is their expected
place; the high figure keeps them all on the point), a site without a count takes the spread of its layer's
counted sites, a site without hours runs from nobody present to a full site, a coarse or stale raster widens
the residents' range. Nothing unknown counts as zero without a flag saying so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
import pandas as pd
import shapely
from opening_hours import OpeningHours, State
from opening_hours import ParserError as HoursError  # type: ignore[attr-defined]
from pyproj import CRS

from planner.layers.manifest import LayerSet
from planner.layers.model import Flag, VectorLayer
from planner.plan import TimeWindow
from planner.settings import HarmSettings
from planner.surface import RiskSurface

# Polygons and discs are sampled on a grid this fine (coarser for very large ones, at most MAX_SAMPLES points).
SAMPLE_M = 20.0
MAX_SAMPLES = 4_000


# Why a range is wide: (code, subject), rendered in the reader's language by ``planner.risk.reasons_text``.
Reason = tuple[str, str]


@dataclass(frozen=True)
class Range:
    """An estimate with its uncertainty: ``low <= central <= high``."""

    low: float
    central: float
    high: float

    @classmethod
    def exact(cls, value: float) -> Range:
        return cls(value, value, value)

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.central + other.central, self.high + other.high)

    def scaled(self, low: float, central: float, high: float) -> Range:
        return Range(self.low * low, self.central * central, self.high * high)


ZERO = Range(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Group:
    """People at one site during the window, as sample points whose weights add up to one.

    ``x``/``y`` are in the working CRS. ``point_x``/``point_y`` is the site as the layer places it: for an
    imprecise point the samples spread over a disc around it, and the high figure puts everyone on it.
    """

    layer: str
    id: str
    name: str | None
    category: str
    kind: str  # "site" or "displacement"
    source_row: int
    people: Range
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    point_x: float
    point_y: float
    shape: shapely.Geometry  # the site as the layer draws it (working CRS), distances are measured to it
    imprecise: bool = False
    functional: bool | None = None
    hours: str | None = None
    open_share: float | None = None  # share of the window the site is open; None when unknown
    widened_by: tuple[Reason, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass
class Presence:
    """Who is where during the window, on the risk surface's grid (residents) and at sites (groups)."""

    home_share: float
    window_hours: float
    cell_x: np.ndarray  # cell centres of the surface, flattened
    cell_y: np.ndarray
    residents: np.ndarray  # people living in each cell (NaN: no population data)
    resident_spread: tuple[float, float]  # low and high multipliers of the residents from the raster's quality
    cell_m: float
    shape: tuple[int, int]  # rows, columns of the surface's grid
    groups: list[Group] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    resident_widened_by: tuple[Reason, ...] = ()
    _bounds: np.ndarray | None = field(default=None, repr=False)
    # Where this grid lies in the surface's: its first row and column, and the surface's shape (a COA's
    # window of the surface is a Presence of its own, so a COA's cost follows its footprint, not the plan's)
    origin: tuple[int, int] = (0, 0)
    full_shape: tuple[int, int] | None = None

    def window(self, rows: tuple[int, int], cols: tuple[int, int]) -> Presence:
        """The part of the grid in rows [r0, r1) and columns [c0, c1), with every group (groups are not cells)."""
        full_cols = self.shape[1]
        (r0, r1), (c0, c1) = rows, cols
        # Flat indices of the window's cells, from its rows and columns alone (never the whole grid's)
        grid = (np.arange(r0, r1)[:, None] * full_cols + np.arange(c0, c1)[None, :]).ravel()
        return replace(
            self,
            _bounds=self._group_bounds(),  # computed once, shared by every window
            cell_x=self.cell_x[grid],
            cell_y=self.cell_y[grid],
            residents=self.residents[grid],
            shape=(r1 - r0, c1 - c0),
            groups=self.groups,
            flags=self.flags,
            origin=(self.origin[0] + r0, self.origin[1] + c0),
            full_shape=self.full_shape or self.shape,
        )

    def local(self, cells: np.ndarray) -> np.ndarray:
        """Flat indices of the surface's grid as indices of this window (those outside it left out)."""
        found, inside = self.local_mask(cells)
        return found[inside]

    def local_mask(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices of the surface's grid as indices of this window, and which of them lie in it."""
        full_cols = (self.full_shape or self.shape)[1]
        rows, cols = np.divmod(np.asarray(cells, dtype=int), full_cols)
        rows, cols = rows - self.origin[0], cols - self.origin[1]
        inside = (rows >= 0) & (rows < self.shape[0]) & (cols >= 0) & (cols < self.shape[1])
        return rows * self.shape[1] + cols, inside

    def surface_cell(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat index on the surface's whole grid of the cell holding each point (clipped to that grid)."""
        rows, cols = self.full_shape or self.shape
        west = self.cell_x[0] - self.cell_m / 2 - self.origin[1] * self.cell_m
        north = self.cell_y[0] + self.cell_m / 2 + self.origin[0] * self.cell_m
        col = np.clip(((np.asarray(x) - west) // self.cell_m).astype(int), 0, cols - 1)
        row = np.clip(((north - np.asarray(y)) // self.cell_m).astype(int), 0, rows - 1)
        return row * cols + col

    def groups_near(self, bounds: tuple[float, float, float, float], reach_m: float) -> np.ndarray:
        """Indices of the groups whose samples (or own point) come within ``reach_m`` of ``bounds``' box."""
        if not self.groups:
            return np.array([], dtype=int)
        b = self._group_bounds()
        west, south, east, north = bounds
        return np.flatnonzero(
            (b[:, 2] >= west - reach_m)
            & (b[:, 0] <= east + reach_m)
            & (b[:, 3] >= south - reach_m)
            & (b[:, 1] <= north + reach_m)
        )

    def _group_bounds(self) -> np.ndarray:
        """Each group's box (its samples and own point), built once."""
        if self._bounds is None or len(self._bounds) != len(self.groups):
            self._bounds = np.array(
                [
                    (
                        min(g.x.min(), g.point_x),
                        min(g.y.min(), g.point_y),
                        max(g.x.max(), g.point_x),
                        max(g.y.max(), g.point_y),
                    )
                    for g in self.groups
                ]
            ).reshape(-1, 4)
        return self._bounds

    @property
    def present(self) -> np.ndarray:
        """Residents at home during the window, per cell (central)."""
        return self.residents * self.home_share


def home_share(window: TimeWindow, profile: list[float]) -> float:
    """Mean share of residents at home over the window, hour by local hour of the window's own offset."""
    start, end = window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)
    total, weighted, t = 0.0, 0.0, start
    while t < end:
        step_end = min(end, t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        hours = (step_end - t).total_seconds() / 3600
        total += hours
        weighted += hours * profile[t.hour]
        t = step_end
    return weighted / total if total > 0 else 1.0


def open_share(hours: str | None, window: TimeWindow) -> float | None:
    """Share of the window during which opening hours ``hours`` say the site is open; None when unreadable."""
    if not hours:
        return None
    try:
        parsed = OpeningHours(hours)
    except HoursError:
        return None
    start, end = window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)
    span = (end - start).total_seconds()
    opened = 0.0
    for begin, finish, state, _ in parsed.intervals(start, end):
        if state == State.UNKNOWN:
            return None
        if state == State.OPEN:
            opened += ((finish or end) - begin).total_seconds()
    return min(1.0, opened / span) if span > 0 else 0.0


def people_present(
    surface: RiskSurface, layerset: LayerSet, window: TimeWindow, crs: CRS, settings: HarmSettings
) -> Presence:
    """Residents on the surface's grid and people at every site of the study area, during ``window``."""
    xs, ys = surface.centres()
    hours = (window.end - window.start).total_seconds() / 3600
    presence = Presence(
        home_share=home_share(window, settings.home_share_by_hour),
        window_hours=hours,
        cell_x=xs.ravel(),
        cell_y=ys.ravel(),
        residents=surface.people.ravel(),
        resident_spread=(1.0, 1.0),
        cell_m=surface.cell_m,
        shape=surface.shape,
    )
    _resident_quality(presence, layerset, window, settings)
    area = shapely.box(*surface.bounds)
    for layer in layerset.of_kind("sites"):
        presence.groups.extend(_site_groups(layer, area, crs, window, settings))
    for layer in layerset.of_kind("displacement"):
        presence.groups.extend(_displacement_groups(layer, area, crs, window, settings, presence=presence))
    return presence


def _resident_quality(presence: Presence, layerset: LayerSet, window: TimeWindow, settings: HarmSettings) -> None:
    population = layerset.population
    if population is None:
        presence.flags.append(
            Flag("no_coverage", "-", "no population raster: residents in the zones are unknown, not zero")
        )
        return
    low, high, why = 1.0, 1.0, list[Reason]()
    if any(f.code == "coarse_raster" for f in population.flags):
        low, high = low * (1 - settings.coarse_spread), high * (1 + settings.coarse_spread)
        why.append(("coarse_raster", f"{population.id} (~{population.pixel_size_m:,.0f} m)"))
    stale = population.freshness_flag(window.start.date())
    if stale is not None:
        low, high = low * (1 - settings.stale_spread), high * (1 + settings.stale_spread)
        why.append(("stale", population.id))
    presence.resident_spread = (low, high)
    presence.resident_widened_by = tuple(why)


def _in_area(layer: VectorLayer, area: shapely.Polygon, crs: CRS) -> np.ndarray:
    return np.sort(layer.projected(crs).tree.query(area, predicate="intersects"))


def _site_groups(
    layer: VectorLayer, area: shapely.Polygon, crs: CRS, window: TimeWindow, settings: HarmSettings
) -> list[Group]:
    """Every site of the study area: people at it while it is open (markets, schools, worship, clinics ...).

    Sites of a category with no occupancy (bridges, power) hold nobody but can still be struck.
    """
    rows = _in_area(layer, area, crs)
    if rows.size == 0:
        return []
    frame = layer.frame.iloc[rows]
    points = shapely.point_on_surface(layer.projected(crs).take(rows))
    occupancy = frame["occupancy"] if "occupancy" in frame.columns else pd.Series(np.nan, index=frame.index)
    stale = layer.freshness_flag(window.start.date())
    hours = [h if isinstance(h, str) and h else None for h in frame["hours"]]
    shares = {h: open_share(h, window) for h in set(hours)}  # each distinct timetable parsed once
    typical = {c: open_share(h, window) for c, h in settings.default_hours.items()}
    groups = []
    for point, site_id, name, category, functional, source_row, counted, timetable in zip(
        points,
        frame["site_id"],
        frame["name"],
        frame["category"].astype(str),
        frame["functional"],
        frame["source_row"],
        occupancy,
        hours,
        strict=True,
    ):
        works = None if pd.isna(functional) else bool(functional)
        share = shares[timetable]
        why: list[Reason] = []
        if category not in settings.occupancy and pd.isna(counted):
            people = ZERO  # nobody is there to be counted (a bridge, a mast), but it can be struck
        else:
            full = float(counted) if pd.notna(counted) else settings.occupancy[category]
            if pd.isna(counted):
                why.append(("occupancy_assumed", category))
            if works is False:
                people = ZERO  # a closed or destroyed facility holds nobody
            elif share is not None:
                people = Range.exact(full * share)
            else:
                usual = typical.get(category)
                people = Range(0.0, full * (usual if usual is not None else 0.5), full)
                why.append(("hours_unknown", category))
            if stale is not None and people.high > 0:
                why.append(("stale", layer.id))
                people = people.scaled(1 - settings.stale_spread, 1.0, 1 + settings.stale_spread)
        groups.append(
            Group(
                layer=layer.id,
                id=str(site_id),
                name=name if isinstance(name, str) else None,
                category=category,
                kind="site",
                source_row=int(source_row),
                people=people,
                x=np.array([point.x]),
                y=np.array([point.y]),
                weight=np.array([1.0]),
                point_x=point.x,
                point_y=point.y,
                shape=point,
                functional=works,
                hours=timetable,
                open_share=share,
                widened_by=tuple(why),
            )
        )
    return groups


def _displacement_groups(
    layer: VectorLayer,
    area: shapely.Polygon,
    crs: CRS,
    window: TimeWindow,
    settings: HarmSettings,
    *,
    presence: Presence,
) -> list[Group]:
    """Displaced people, always present: over their site's area, over a disc where the point is rough, or,
    for a figure per admin area, over the area's populated cells in proportion to their residents."""
    rows = _in_area(layer, area, crs)
    if rows.size == 0:
        return []
    frame = layer.frame
    counted = frame["population"].dropna()
    counted = counted[counted > 0]
    flagged: dict[str, set[int]] = {code: set() for code in ("town_centroid", "shared_count", "area_level")}
    for flag in layer.flags:
        if flag.code in flagged:
            flagged[flag.code].update(flag.rows)
    shared_counts = frame.loc[frame["source_row"].isin(flagged["shared_count"]), "population"].value_counts()
    stale = layer.freshness_flag(window.start.date())
    geometries = layer.projected(crs).geometries
    groups = []
    for row in rows:
        site = frame.iloc[row]
        source_row = int(site["source_row"])
        why: list[Reason] = []
        population = site["population"]
        if pd.isna(population):
            if len(counted):
                people = Range(float(counted.min()), float(counted.median()), float(counted.max()))
                why.append(("no_count", layer.id))
            else:
                people = Range(0.0, 0.0, 0.0)
                why.append(("no_count_at_all", layer.id))
        elif source_row in flagged["shared_count"]:
            sharing = int(shared_counts.get(population, 1))
            people = Range(population / sharing, population / sharing, float(population))
            why.append(("shared_count", layer.id))
        else:
            people = Range.exact(float(population))
        if stale is not None:
            why.append(("stale", layer.id))
            people = people.scaled(1 - settings.stale_spread, 1.0, 1 + settings.stale_spread)
        geometry = geometries[row]
        imprecise = source_row in flagged["town_centroid"] and geometry.geom_type in ("Point", "MultiPoint")
        if imprecise:
            why.append(("town_centroid", f"{layer.id} ({settings.town_precision_m:,.0f} m)"))
            shape = shapely.centroid(geometry).buffer(settings.town_precision_m, quad_segs=16)
        else:
            shape = geometry
        if source_row in flagged["area_level"]:
            imprecise = True
            why.append(("area_level", layer.id))
            x, y, weight = _over_residents(geometry, float(site.get("area_people", np.nan)), presence)
        else:
            x, y, weight = sample_points(shape)
        point = shapely.point_on_surface(geometry)
        groups.append(
            Group(
                layer=layer.id,
                id=str(site["site_id"]),
                name=site["name"] if isinstance(site["name"], str) else None,
                category="displacement",
                kind="displacement",
                source_row=source_row,
                people=people,
                x=x,
                y=y,
                weight=weight,
                point_x=point.x,
                point_y=point.y,
                shape=geometry,
                imprecise=imprecise,
                widened_by=tuple(why),
            )
        )
    return groups


def _over_residents(
    shape: shapely.Geometry, area_people: float, presence: Presence
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An admin area's figure over the study area's cells inside it, each its share of the area's residents
    (so the part of the area outside the study area keeps its share, never piled onto the footprint); evenly
    over the area where the raster puts nobody in it."""
    inside = shapely.contains_xy(shape, presence.cell_x, presence.cell_y)
    residents = np.nan_to_num(presence.residents[inside])
    if not (area_people > 0) or not inside.any() or residents.sum() <= 0:
        return sample_points(shape)
    return presence.cell_x[inside], presence.cell_y[inside], residents / area_people


def sample_points(shape: shapely.Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points spread evenly over an area (a grid clipped to it), or the point itself; weights add up to one."""
    if shape.geom_type in ("Point", "MultiPoint") or shape.area <= SAMPLE_M**2:
        point = shapely.point_on_surface(shape)
        return np.array([point.x]), np.array([point.y]), np.array([1.0])
    west, south, east, north = shape.bounds
    step = max(SAMPLE_M, math.sqrt((east - west) * (north - south) / MAX_SAMPLES))
    gx, gy = np.meshgrid(np.arange(west + step / 2, east, step), np.arange(south + step / 2, north, step))
    x, y = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(shape, x, y)
    if not inside.any():
        point = shapely.point_on_surface(shape)
        return np.array([point.x]), np.array([point.y]), np.array([1.0])
    x, y = x[inside], y[inside]
    return x, y, np.full(x.size, 1.0 / x.size)
