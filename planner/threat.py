"""Threat context: recent reports near the footprint, weighted by age, location precision and kind.

A report's weight is ``0.5 ** (age_days / half_life) * min(1, precise_m / precision_m) * kind_weight``:
recent, precisely located attacks on civilians weigh most. Only report ids, dates, kinds and distances leave
this module; fields the layer set marks sensitive (sources, notes) never do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner.layers.manifest import LayerSet
from planner.layers.model import Flag
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
    footprint: BaseGeometry, layerset: LayerSet, start: datetime, crs: CRS, settings: ThreatSettings
) -> ThreatContext:
    """Reports within ``settings.distance_m`` of ``footprint`` (working CRS) in the window before ``start``."""
    layers = layerset.of_kind("threats")
    context = ThreatContext([], settings.window_days, settings.distance_m)
    if not layers:
        context.flags.append(Flag("no_data", "-", "no threat-report layer: the threat context is unknown, not calm"))
        return context
    other_weight = settings.kind_weights.get("other", 0.5)
    day = pd.Timestamp(start.date())
    earliest = day - pd.Timedelta(days=settings.window_days)
    for layer in layers:
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
        found = np.sort(index.tree.query(footprint, predicate="dwithin", distance=settings.distance_m))
        dates = layer.frame["date"].to_numpy()[found]
        found = found[(dates >= earliest.to_datetime64()) & (dates < day.to_datetime64())]
        if found.size == 0:
            continue
        projected = index.geometries[found]
        distances = shapely.distance(projected, footprint)
        near = distances <= settings.distance_m
        found, projected, distances = found[near], projected[near], distances[near]
        frame = layer.frame
        dates = pd.DatetimeIndex(frame["date"].take(found))
        age = (day - dates).days.to_numpy()
        precision = frame["location_precision_m"].take(found).to_numpy(dtype=float)
        kinds = frame["kind"].take(found).to_numpy(dtype=object)
        kind_weight = np.array([settings.kind_weights.get(str(k), other_weight) for k in kinds])
        weights = (
            0.5 ** (age / settings.half_life_days)
            * np.minimum(1.0, settings.precise_m / np.maximum(precision, 1.0))
            * kind_weight
        )
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
            )
            for event_id, date, kind, dist, weight, civilian, prec, x, y in zip(
                frame["event_id"].take(found).to_numpy(dtype=object),
                dates,
                kinds,
                distances,
                weights,
                frame["civilian_targeting"].take(found).to_numpy(dtype=bool),
                precision,
                shapely.get_x(projected),
                shapely.get_y(projected),
                strict=True,
            )
        )
    context.reports.sort(key=lambda r: (-r.weight, r.date, r.event_id))
    return context


def threat_density(reports: list[Report], xs: np.ndarray, ys: np.ndarray, bandwidth_m: float) -> np.ndarray:
    """Gaussian kernel density of weighted reports at points (working CRS): weighted reports per km²."""
    density = np.zeros(np.shape(xs))
    if not reports:
        return density
    norm = 1.0 / (2 * np.pi * (bandwidth_m / 1000) ** 2)
    for report in reports:
        d2 = (xs - report.x) ** 2 + (ys - report.y) ** 2
        density += report.weight * norm * np.exp(-d2 / (2 * bandwidth_m**2))
    return density
