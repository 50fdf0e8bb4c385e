"""The risk surface: a grid over the study area (every COA's outer zone plus a margin), cell by cell.

Each cell carries its components: people (from the population raster, resampled as a density so totals hold
whether the raster is finer or coarser than the grid), displaced people and site weight (at each site's
representative point), threat density (weighted reports per km²), and per COA the intensity of effects. The
score of a cell is the COA's expected harm there (casualty-equivalents), filled in by the harm estimate, so
the map and the COA's total read the same figures.
Cost grows with the study area: one windowed raster read and vectorised distances over its cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.warp import Resampling, reproject
from shapely.geometry.base import BaseGeometry

from planner.effects import Zone
from planner.geo import distance_xy
from planner.layers.manifest import LayerSet
from planner.layers.model import VectorLayer
from planner.layers.population import PopulationLayer
from planner.settings import Settings
from planner.threat import Report, threat_density


@dataclass
class RiskSurface:
    """Grid arrays (north-up, in the working CRS) and, per COA, intensity and score."""

    crs: CRS
    transform: Affine
    shape: tuple[int, int]
    cell_m: float
    people: np.ndarray  # NaN where no population data
    displaced: np.ndarray
    sites: np.ndarray  # people-equivalents of the sites in the cell
    threat: np.ndarray  # weighted reports per km²
    intensity: dict[str, np.ndarray]
    score: dict[str, np.ndarray]  # expected harm per cell (casualty-equivalents), from the harm estimate
    # What is built from the surface and shared by every COA's computations (the grid for routes)
    derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = self.shape
        xs = self.transform.c + self.cell_m * (np.arange(cols) + 0.5)
        ys = self.transform.f - self.cell_m * (np.arange(rows) + 0.5)
        return np.meshgrid(xs, ys)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        rows, cols = self.shape
        return (
            self.transform.c,
            self.transform.f - rows * self.cell_m,
            self.transform.c + cols * self.cell_m,
            self.transform.f,
        )


def study_area(zones: list[Zone], margin_m: float, cell_m: float) -> tuple[Affine, tuple[int, int]]:
    """The grid over every zone plus a margin, snapped to whole cells."""
    west, south, east, north = shapely.union_all([z.outer for z in zones]).bounds
    west = math.floor((west - margin_m) / cell_m) * cell_m
    south = math.floor((south - margin_m) / cell_m) * cell_m
    east = math.ceil((east + margin_m) / cell_m) * cell_m
    north = math.ceil((north + margin_m) / cell_m) * cell_m
    shape = (round((north - south) / cell_m), round((east - west) / cell_m))
    return Affine(cell_m, 0, west, 0, -cell_m, north), shape


def coa_window(
    surface: RiskSurface, zones: list[Zone], settings: Settings, also: np.ndarray | None = None
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The rows and columns of ``surface`` that one COA's own study area covers (its zones plus the margin),
    widened to hold the cells ``also`` (flat indices: people the COA cuts off from care, wherever they live)."""
    transform, (rows, cols) = study_area(zones, settings.surface.margin_m, surface.cell_m)
    r0 = round((surface.transform.f - transform.f) / surface.cell_m)
    c0 = round((transform.c - surface.transform.c) / surface.cell_m)
    r1, c1 = r0 + rows, c0 + cols
    full_rows, full_cols = surface.shape
    if also is not None and also.size:
        cell_rows, cell_cols = np.divmod(also, full_cols)
        r0, r1 = min(r0, int(cell_rows.min())), max(r1, int(cell_rows.max()) + 1)
        c0, c1 = min(c0, int(cell_cols.min())), max(c1, int(cell_cols.max()) + 1)
    return (max(r0, 0), min(r1, full_rows)), (max(c0, 0), min(c1, full_cols))


def risk_surface(
    zones_by_coa: dict[str, list[Zone]], reports: list[Report], layerset: LayerSet, crs: CRS, settings: Settings
) -> RiskSurface:
    cell_m = settings.surface.cell_m
    transform, shape = study_area(
        [z for zones in zones_by_coa.values() for z in zones], settings.surface.margin_m, cell_m
    )
    surface = RiskSurface(
        crs,
        transform,
        shape,
        cell_m,
        people_on_grid(layerset.population, crs, transform, shape),
        np.zeros(shape),
        np.zeros(shape),
        np.zeros(shape),
        {},
        {},
    )
    _place_sites(surface, layerset, settings)
    surface.threat = threat_density(reports, transform, shape, settings.threat.bandwidth_m)
    xs, ys = surface.centres()
    x, y = xs.ravel(), ys.ravel()
    for coa_id, zones in zones_by_coa.items():
        intensity = np.zeros(x.shape)
        for zone in zones:
            west, south, east, north = zone.outer.bounds
            near = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
            if near.size:  # beyond the zone's bounding box its intensity is zero
                reach = zone.intensity_at(distance_xy(zone.geometry, x[near], y[near]))
                intensity[near] = np.maximum(intensity[near], reach)
        surface.intensity[coa_id] = intensity.reshape(shape)
        surface.score[coa_id] = np.zeros(shape)  # the harm estimate fills it
    return surface


def people_on_grid(
    population: PopulationLayer | None, crs: CRS, transform: Affine, shape: tuple[int, int]
) -> np.ndarray:
    """People per cell of a north-up grid: one window of the raster, resampled as a density so totals hold.
    NaN where the raster has no data."""
    result = np.full(shape, np.nan)
    if population is None:
        return result
    rows, cols = shape
    bounds = (transform.c, transform.f - rows * transform.a, transform.c + cols * transform.a, transform.f)
    window = population.read_window(bounds, crs)
    if window.shape == (0, 0):
        return result
    density = np.ma.filled((window.people() / window.pixel_area_km2[:, np.newaxis]).astype(float), np.nan)
    # A border of pixels without data round the window, so a cell reaching beyond the raster's edge is seen
    # as partly covered (the average below weighs each pixel by the share of the cell it covers)
    density = np.pad(density, 1, constant_values=np.nan)
    edged = window.transform @ Affine.translation(-1, -1)
    resampled = np.full(shape, np.nan)
    covered = np.zeros(shape)
    with rasterio.Env():
        for source, target in ((density, resampled), (np.isfinite(density).astype(float), covered)):
            reproject(
                source,
                target,
                src_transform=edged,
                src_crs=window.crs,
                src_nodata=np.nan,
                dst_transform=transform,
                dst_crs=crs,
                dst_nodata=np.nan,
                resampling=Resampling.average,
                tolerance=0,  # exact coordinates, not GDAL's approximation: a cell's figure is the same
            )  # whatever window it is computed in (a whole-country surface computes it chunk by chunk)
    # The average density of the pixels with data, over the share of the cell they cover: a cell half over
    # the raster's edge (or its no-data) holds the people of its covered half, not twice as many
    return resampled * np.where(np.isnan(resampled), np.nan, covered) * (transform.a**2 / 1e6)


def _place_sites(surface: RiskSurface, layerset: LayerSet, settings: Settings) -> None:
    """Every site and displacement site of the study area, at its representative point."""
    west, south, east, north = surface.bounds
    rows, cols = surface.shape
    for layer in [*layerset.of_kind("sites"), *layerset.of_kind("displacement")]:
        index = layer.projected(surface.crs)  # projected and indexed once per layer, shared with exposure
        found = np.sort(index.tree.query(shapely.box(west, south, east, north), predicate="intersects"))
        if found.size == 0:
            continue
        frame = layer.frame.iloc[found]
        points = gpd.GeoSeries(shapely.point_on_surface(index.take(found)))
        col = ((points.x.to_numpy() - west) // surface.cell_m).astype(int)
        row = ((north - points.y.to_numpy()) // surface.cell_m).astype(int)
        inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        if layer.kind == "displacement":
            people = frame["population"].fillna(0.0).to_numpy()
            areas = _area_rows(layer, frame)
            sites = inside & ~areas
            np.add.at(surface.displaced, (row[sites], col[sites]), people[sites])
            for i in np.flatnonzero(areas):
                _spread_over_residents(surface, index.geometries[found[i]], people[i], frame["area_people"].iloc[i])
            continue
        weights = frame["category"].map(settings.risk.site_weights).fillna(0.0).to_numpy(dtype=float)
        np.add.at(surface.sites, (row[inside], col[inside]), weights[inside])


def _area_rows(layer: VectorLayer, frame: pd.DataFrame) -> np.ndarray:
    """Which rows are figures per admin area (flagged ``area_level``), not sites."""
    areas = {row for flag in layer.flags if flag.code == "area_level" for row in flag.rows}
    return frame["source_row"].isin(areas).to_numpy() if areas else np.zeros(len(frame), dtype=bool)


def _spread_over_residents(surface: RiskSurface, area: BaseGeometry, people: float, area_people: float) -> None:
    """An admin area's displaced people over the surface's cells inside it, in proportion to their residents
    (the area's people outside the surface stay outside it); evenly by cell where the raster has nobody."""
    xs, ys = surface.centres()
    inside = shapely.contains_xy(area, xs, ys)
    if not inside.any() or not people:
        return
    residents = np.nan_to_num(surface.people[inside])
    if area_people > 0 and residents.sum() > 0:
        surface.displaced[inside] += people * residents / area_people
    else:
        cells = area.area / surface.cell_m**2
        surface.displaced[inside] += people / max(cells, inside.sum())


def footprint(zones: list[Zone]) -> BaseGeometry:
    """Everything a COA reaches: the union of its outer zones (working CRS)."""
    return shapely.union_all([z.outer for z in zones])
