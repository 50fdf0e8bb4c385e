"""Threat context: recent reports near the footprint, weighted by age, location precision and kind.

A report's weight is ``0.5 ** (age_days / half_life) * min(1, precise_m / precision_m) * kind_weight``:
recent, precisely located attacks on civilians weigh most. Only report ids, dates, kinds and distances leave
this module; fields the layer set marks sensitive (sources, notes) never do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from planner.effects import Zone
from planner.geo import box_text
from planner.layers.manifest import LayerSet
from planner.layers.model import Flag, ProjectedIndex, VectorLayer
from planner.settings import ThreatSettings


@dataclass(frozen=True)
class Report:
    layer: str
    event_id: str
    date: str
    kind: str
    distance_m: float
    weight: float
    civilian_targeting: bool
    location_precision_m: float
    x: float  # working CRS, for the density surface
    y: float
    actors: str = ""  # the parties the source names
    community_source: bool = False  # came from community members: their identity must be protected


@dataclass
class ThreatContext:
    """Reports near one footprint in the window before the operation."""

    reports: list[Report]
    window_days: int
    distance_m: float
    flags: list[Flag] = field(default_factory=list)

    @property
    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for report in self.reports:
            counts[report.kind] = counts.get(report.kind, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def weighted_total(self) -> float:
        return float(sum(r.weight for r in self.reports))

    @property
    def most_recent(self) -> Report | None:
        return max(self.reports, key=lambda r: (r.date, r.weight), default=None)

    @property
    def civilian_targeting(self) -> int:
        return sum(r.civilian_targeting for r in self.reports)


def threat_context(
    zones: list[Zone], layerset: LayerSet, start: datetime, crs: CRS, settings: ThreatSettings
) -> ThreatContext:
    """Reports within ``settings.distance_m`` of the COA's outer zones in the window before ``start``.

    A report's distance to the footprint is the least, over the elements, of its distance to the element
    minus the element's outer radius (zero inside): the exact distance to the outer zones as defined.
    """
    layers = [layer for layer in layerset.of_kind("threats") if not layer.holds_nothing]
    context = ThreatContext([], settings.window_days, settings.distance_m)
    if not layers:
        empty = [layer.id for layer in layerset.of_kind("threats")]
        what = f"threat-report layer(s) {', '.join(empty)} hold no reports" if empty else "no threat-report layer"
        context.flags.append(Flag("no_data", "-", f"{what}: the threat context is unknown, not calm"))
        return context
    other_weight = settings.kind_weights.get("other", 0.5)
    day = pd.Timestamp(start.date())
    earliest = day - pd.Timedelta(days=settings.window_days)
    for layer in layers:
        _check_read_area(layer, zones, crs, settings.distance_m)
        if layer.as_of is not None and (start.date() - layer.as_of).days > layer.max_age_days:
            context.flags.append(
                Flag(
                    "stale",
                    layer.id,
                    f"the latest report in '{layer.id}' is from "
                    f"{layer.as_of.isoformat()}: recent threats may be missing",
                )
            )
        index = layer.projected(crs)
        rows, distances = locate_near(index, zones, settings.distance_m)
        dates = layer.column("date")[rows]
        recent = (dates >= earliest.to_datetime64()) & (dates < day.to_datetime64())
        rows, distances, dates = rows[recent], distances[recent], pd.DatetimeIndex(dates[recent])
        if rows.size == 0:
            continue
        age = (day - dates).days.to_numpy()
        precision = layer.column("location_precision_m")[rows].astype(float)
        kinds = layer.column("kind")[rows]
        kind_weight = np.array([settings.kind_weights.get(str(k), other_weight) for k in kinds])
        weights = (
            0.5 ** (age / settings.half_life_days)
            * np.minimum(1.0, settings.precise_m / np.maximum(precision, 1.0))
            * kind_weight
        )
        projected = index.take(rows)
        context.reports.extend(
            Report(
                layer.id,
                str(event_id),
                date.date().isoformat(),
                str(kind),
                float(dist),
                float(weight),
                bool(civilian),
                float(prec),
                float(x),
                float(y),
                actors if isinstance(actors, str) else "",
                bool(community),
            )
            for event_id, date, kind, dist, weight, civilian, prec, x, y, actors, community in zip(
                layer.column("event_id")[rows],
                dates,
                kinds,
                distances,
                weights,
                layer.column("civilian_targeting")[rows].astype(bool),
                precision,
                shapely.get_x(projected),
                shapely.get_y(projected),
                layer.column("actors")[rows],
                layer.column("community_source")[rows].astype(bool),
                strict=True,
            )
        )
    context.reports.sort(key=lambda r: (-r.weight, r.date, r.event_id))
    return context


def _check_read_area(layer: VectorLayer, zones: list[Zone], crs: CRS, distance_m: float) -> None:
    """Reports read for one study area cannot answer for another: those beyond it would be missing, and the
    footprint would look calm. Refused, never answered short."""
    if layer.area is None:
        return
    reach = shapely.union_all([z.outer for z in zones]).buffer(distance_m, quad_segs=2)
    to_degrees = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    west, south, east, north = reach.bounds
    needed = to_degrees.transform_bounds(west, south, east, north, densify_pts=21)
    if not shapely.box(*layer.area).contains(shapely.box(*needed)):
        raise ValueError(
            f"the reports of '{layer.id}' were read for another study area ({box_text(layer.area)}) than this "
            f"assessment needs ({box_text(needed)}): read the layer set again for this plan"
        )


def locate_near(index: ProjectedIndex, zones: list[Zone], distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows within ``distance_m`` of the zones' outer edge, and their distance to it (0 inside), rows sorted.

    The R-tree finds the candidates, then the exact distance is measured on them only.
    """
    geoms = np.array([z.geometry for z in zones], dtype=object)
    reach = np.array([z.outer_m for z in zones]) + distance_m
    element, rows = index.tree.query(geoms, predicate="dwithin", distance=reach)
    beyond = shapely.distance(geoms[element], index.take(rows)) - (reach - distance_m)[element]
    near = beyond <= distance_m
    rows, beyond = rows[near], np.maximum(beyond[near], 0.0)
    order = np.lexsort((beyond, rows))
    rows, beyond = rows[order], beyond[order]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if rows.size else np.array([], dtype=int)
    return rows[first], beyond[first]


# A report's kernel is summed out to this many bandwidths (beyond 4, less than 0.04 % of its weight is left)
KERNEL_REACH = 4.0


def threat_density(reports: list[Report], transform: Affine, shape: tuple[int, int], bandwidth_m: float) -> np.ndarray:
    """Gaussian kernel density of weighted reports at the centres of a north-up grid (working CRS), in
    weighted reports per km². Each report adds its kernel to the cells within ``KERNEL_REACH`` bandwidths of
    it only, found from the grid's arithmetic: the cost follows the reports near the area, not the grid."""
    rows, cols = shape
    density = np.zeros(shape)
    if not reports or rows == 0 or cols == 0:
        return density
    cell = transform.a
    west, north = transform.c, transform.f
    reach = KERNEL_REACH * bandwidth_m
    norm = 1.0 / (2 * np.pi * (bandwidth_m / 1000) ** 2)
    col_x = west + cell * (np.arange(cols) + 0.5)
    row_y = north - cell * (np.arange(rows) + 0.5)
    for report in reports:
        c0 = max(math.floor((report.x - reach - west) / cell), 0)
        c1 = min(math.ceil((report.x + reach - west) / cell), cols)
        r0 = max(math.floor((north - report.y - reach) / cell), 0)
        r1 = min(math.ceil((north - report.y + reach) / cell), rows)
        if c0 >= c1 or r0 >= r1:
            continue
        dx2 = (col_x[c0:c1] - report.x) ** 2
        dy2 = (row_y[r0:r1] - report.y) ** 2
        density[r0:r1, c0:c1] += report.weight * norm * np.exp(-(dy2[:, None] + dx2[None, :]) / (2 * bandwidth_m**2))
    return density
