"""Exposure: people, displaced people and sites inside the effects zones of a course of action.

People come from the population raster with exact fractional pixel coverage (exactextract), read only in the
window the zones cover. Displaced people come from displacement sites and are kept beside the raster figure,
never added to it (the raster may or may not count them). Every site in a zone is listed with the element
that reaches it, its distance and the intensity there.

"core" is the union of the elements' core zones; "outer" is the ring between the core and the outer edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from affine import Affine
from exactextract import exact_extract
from exactextract.feature import JSONFeatureSource
from exactextract.raster import NumPyRasterSource
from pyproj import CRS
from rasterio.io import DatasetReader
from shapely.geometry.base import BaseGeometry

from planner.effects import Zone, intensity
from planner.geo import distance_xy, project_grid, transformer
from planner.layers.manifest import LayerSet
from planner.layers.model import Flag, ProjectedIndex, VectorLayer
from planner.layers.population import PopulationLayer

ZONES = ("core", "outer")
# Below this share of a zone covered by population data, the people figure is flagged as incomplete.
FULL_COVERAGE = 0.999


@dataclass(frozen=True)
class ZoneFigures:
    """People and displaced people in one zone; ``people`` is None when no population data covers it."""

    people: float | None
    people_weighted: float | None
    coverage: float  # share of the zone's area with population data, 0..1
    displaced: float
    displaced_weighted: float
    displaced_unknown_sites: int = 0


@dataclass(frozen=True)
class SiteHit:
    """A site (or displacement site) inside a zone of a COA."""

    layer: str
    id: str
    name: str | None
    category: str
    subtype: str | None
    zone: str
    distance_m: float
    element: str
    intensity: float
    source_row: int
    functional: bool | None = None
    population: float | None = None  # displacement sites: people counted there
    share_core: float = 0.0  # displacement polygons: share of the site's area in the core / in the ring
    share_outer: float = 0.0
    geometry: BaseGeometry | None = None  # EPSG:4326
    hours: str | None = None  # opening hours (OSM syntax) where the layer gives them
    usual_hours: str | None = None  # a place of worship's usual service times, when it gives no hours


@dataclass
class Exposure:
    """What one COA exposes: per zone, per element, and every site reached."""

    zones: dict[str, ZoneFigures]
    by_element: dict[str, dict[str, ZoneFigures]]
    sites: list[SiteHit]
    flags: dict[str, list[Flag]] = field(default_factory=dict)  # figure -> flags that weaken it


def coa_zones(zones: list[Zone]) -> tuple[BaseGeometry, BaseGeometry]:
    """The core (union of cores) and the outer ring (union of outers minus the core) of a COA."""
    core = shapely.union_all([z.core for z in zones])
    outer = shapely.union_all([z.outer for z in zones]).difference(core)
    return core, outer


def exposure(zones: list[Zone], layerset: LayerSet, crs: CRS, raster: DatasetReader | None = None) -> Exposure:
    """People, displaced people and sites in the zones of one COA (zones in the working CRS ``crs``).

    ``raster`` is the population raster already open, when several COAs are assessed in a row.
    """
    core, ring = coa_zones(zones)
    shapes = {("coa", "core"): core, ("coa", "outer"): ring}
    for zone in zones:
        shapes[(zone.element, "core")] = zone.core
        shapes[(zone.element, "outer")] = zone.outer.difference(zone.core)
    people = _people(shapes, zones, layerset.population, crs, raster)
    hits = sites_in_zones(zones, core, layerset, crs)
    displaced = _displaced(hits)

    figures = {zone: _figures(people[("coa", zone)], displaced, zone) for zone in ZONES}
    by_element = {
        z.element: {zone: _figures(people[(z.element, zone)], displaced, zone, element=z.element) for zone in ZONES}
        for z in zones
    }
    return Exposure(figures, by_element, hits, _figure_flags(layerset, figures, hits))


def _figures(
    people: PeopleFigures,
    displaced: _DisplacedHits,
    zone: str,
    element: str | None = None,
) -> ZoneFigures:
    of = np.ones(displaced.element.size, dtype=bool) if element is None else displaced.element == element
    share = displaced.share_core if zone == "core" else displaced.share_outer
    known = of & ~np.isnan(displaced.population)
    unknown = of & np.isnan(displaced.population) & (share > 0)
    counted = displaced.population[known] * share[known]
    return ZoneFigures(
        people=people[0],
        people_weighted=people[1],
        coverage=people[2],
        displaced=float(counted.sum()),
        displaced_weighted=float((counted * displaced.intensity[known]).sum()),
        displaced_unknown_sites=int(unknown.sum()),
    )


PeopleFigures = tuple[float | None, float | None, float]


def _people(
    shapes: dict[tuple[str, str], BaseGeometry],
    zones: list[Zone],
    population: PopulationLayer | None,
    crs: CRS,
    raster: DatasetReader | None = None,
) -> dict[tuple[str, str], PeopleFigures]:
    """(people, intensity-weighted people, coverage) for each shape, from one windowed read."""
    unknown: PeopleFigures = (None, None, 0.0)
    empty = dict.fromkeys(shapes, unknown)
    if population is None:
        return empty
    bounds = shapely.bounds(np.array([g for g in shapes.values() if not g.is_empty], dtype=object))
    west, south = bounds[:, :2].min(axis=0)
    east, north = bounds[:, 2:].max(axis=0)
    window = population.read_window((west, south, east, north), crs, raster)
    if window.shape == (0, 0):
        return empty
    people = np.ma.filled(window.people().astype(float), np.nan)
    intensity = _pixel_intensity(window.transform, window.shape, population.crs, zones, crs)
    t = window.transform
    xmin, ymax = t.c, t.f
    xmax, ymin = xmin + t.a * window.shape[1], ymax + t.e * window.shape[0]
    wkt = population.wkt
    values = NumPyRasterSource(people, xmin, ymin, xmax, ymax, nodata=np.nan, srs_wkt=wkt)
    weights = NumPyRasterSource(intensity, xmin, ymin, xmax, ymax, srs_wkt=wkt)
    keys = [k for k, geom in shapes.items() if not geom.is_empty]
    to_raster = transformer(crs, population.crs).transform
    projected = [shapely.transform(shapes[k], to_raster, interleaved=False) for k in keys]
    features = [
        {"type": "Feature", "properties": {"key": i}, "geometry": shapely.geometry.mapping(g)}
        for i, g in enumerate(projected)
    ]
    result = exact_extract(
        values,
        JSONFeatureSource(features, srs_wkt=wkt),
        ["sum", "count", "weighted_sum"],
        weights=weights,
        include_cols=["key"],
    )
    pixel_area = abs(t.a * t.e)
    out = dict(empty)
    for feature in result:
        row = feature["properties"]
        zone_pixels = projected[row["key"]].area / pixel_area
        coverage = min(float(row["count"]) / zone_pixels, 1.0) if zone_pixels > 0 else 1.0
        out[keys[row["key"]]] = (float(row["sum"]), float(row["weighted_sum"]), coverage)
    for key, geom in shapes.items():
        if geom.is_empty:
            out[key] = (0.0, 0.0, 1.0)  # an empty zone (no core) holds nobody, with certainty
    return out


def _pixel_intensity(
    transform: Affine, shape: tuple[int, int], raster_crs: CRS, zones: list[Zone], crs: CRS
) -> np.ndarray:
    """Intensity at each pixel centre of a window: the highest any element of the COA gives there.

    Distances are computed only for pixels inside each zone's bounding box: the rest of the window
    lies beyond that zone's outer edge, where its intensity is zero.
    """
    rows, cols = shape
    xs = transform.c + transform.a * (np.arange(cols) + 0.5)
    ys = transform.f + transform.e * (np.arange(rows) + 0.5)
    gx, gy = project_grid(xs, ys, raster_crs, crs)
    px, py = gx.ravel(), gy.ravel()
    result = np.zeros(px.shape)
    for zone in zones:
        west, south, east, north = zone.outer.bounds
        near = np.flatnonzero((px >= west) & (px <= east) & (py >= south) & (py <= north))
        if near.size:
            distance = distance_xy(zone.geometry, px[near], py[near])
            result[near] = np.maximum(result[near], zone.intensity_at(distance))
    return result.reshape(shape)


@dataclass(frozen=True)
class Located:
    """Rows of one layer inside a COA's outer zones, as arrays aligned with ``rows`` (sorted)."""

    rows: np.ndarray  # row positions in the layer's frame
    element: np.ndarray  # index of the nearest element
    distance_m: np.ndarray  # distance to that element
    intensity: np.ndarray  # the highest intensity any element gives there
    in_core: np.ndarray  # touches a core zone


def locate_sites(index: ProjectedIndex, zones: list[Zone]) -> Located:
    """Which rows of an indexed layer touch the outer zone of any element, and how close they come.

    One R-tree query over all elements' outer zones gives (element, row) pairs; distances, intensities and
    the core test are then computed on those pairs only, so the cost follows the footprint, not the layer.
    """
    outers = np.array([z.outer for z in zones], dtype=object)
    element, rows = index.tree.query(outers, predicate="intersects")
    if rows.size == 0:
        empty = np.array([], dtype=int)
        return Located(empty, empty, np.array([]), np.array([]), np.array([], dtype=bool))
    geoms = index.take(rows)
    distance = shapely.distance(np.array([z.geometry for z in zones], dtype=object)[element], geoms)
    core_m = np.array([z.core_m for z in zones])[element]
    outer_m = np.array([z.outer_m for z in zones])[element]
    reach = intensity(distance, core_m, outer_m, zones[0].profile)
    in_core = shapely.intersects(np.array([z.core for z in zones], dtype=object)[element], geoms)
    # Per row: the nearest element first; the highest intensity and any core over all its pairs.
    order = np.lexsort((distance, rows))
    rows, element, distance = rows[order], element[order], distance[order]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    return Located(
        rows=rows[first],
        element=element[first],
        distance_m=distance[first],
        intensity=np.maximum.reduceat(reach[order], first),
        in_core=np.logical_or.reduceat(in_core[order], first),
    )


def without_areas(layer: VectorLayer, located: Located) -> Located:
    """Figures per admin area are not sites: a county touching a zone is no camp in it. Their people count in
    the harm estimate, spread over the area's residents; here they are left out (the ``area_level`` flag on
    the displaced figure says so)."""
    areas = {row for flag in layer.flags if flag.code == "area_level" for row in flag.rows}
    if not areas or located.rows.size == 0:
        return located
    keep = ~np.isin(layer.column("source_row")[located.rows], list(areas))
    return Located(
        rows=located.rows[keep],
        element=located.element[keep],
        distance_m=located.distance_m[keep],
        intensity=located.intensity[keep],
        in_core=located.in_core[keep],
    )


def sites_in_zones(zones: list[Zone], core: BaseGeometry, layerset: LayerSet, crs: CRS) -> list[SiteHit]:
    """Every site and displacement site touching an outer zone, nearest first within each zone."""
    outer = shapely.union_all([z.outer for z in zones])
    hits: list[SiteHit] = []
    for layer in [*layerset.of_kind("sites"), *layerset.of_kind("displacement")]:
        located = without_areas(layer, locate_sites(layer.projected(crs), zones))
        hits.extend(_layer_hits(layer, located, zones, core=core, outer=outer, crs=crs))
    return sorted(hits, key=lambda h: (ZONES.index(h.zone), h.distance_m, h.layer, h.id))


def _layer_hits(
    layer: VectorLayer, located: Located, zones: list[Zone], *, core: BaseGeometry, outer: BaseGeometry, crs: CRS
) -> list[SiteHit]:
    """The located rows of a layer as records that carry their evidence."""
    if located.rows.size == 0:
        return []
    displacement = layer.kind == "displacement"
    rows = located.rows
    geoms = layer.projected(crs).take(rows)

    def column(name: str) -> np.ndarray:
        return layer.column(name)[rows]

    ids, names, source_rows = column("site_id"), column("name"), column("source_row")
    wgs84 = layer.frame.geometry.array[rows]
    if displacement:
        categories = np.full(rows.size, "displacement", dtype=object)
        subtypes, population = column("site_type"), column("population")
        functional = np.full(rows.size, None, dtype=object)
    else:
        categories, subtypes, functional = column("category"), column("subtype"), column("functional")
        population = np.full(rows.size, None, dtype=object)
    hours = column("hours") if "hours" in layer.frame.columns else np.full(rows.size, None, dtype=object)
    usual = column("usual_hours") if "usual_hours" in layer.frame.columns else np.full(rows.size, None, dtype=object)
    hits = []
    for i in range(rows.size):
        share_core, share_outer = _shares(geoms[i], core, outer) if displacement else (0.0, 0.0)
        hits.append(
            SiteHit(
                layer=layer.id,
                id=str(ids[i]),
                name=names[i],
                category=str(categories[i]),
                subtype=subtypes[i],
                zone="core" if located.in_core[i] else "outer",
                distance_m=float(located.distance_m[i]),
                element=zones[located.element[i]].element,
                intensity=float(located.intensity[i]),
                source_row=int(source_rows[i]),
                functional=_bool_or_none(functional[i]),
                population=None if population[i] is None or pd.isna(population[i]) else float(population[i]),
                share_core=share_core,
                share_outer=share_outer,
                geometry=wgs84[i],
                hours=hours[i] if isinstance(hours[i], str) and hours[i] else None,
                usual_hours=usual[i] if isinstance(usual[i], str) else None,
            )
        )
    return hits


def _bool_or_none(value: object) -> bool | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else bool(value)


def _shares(geom: BaseGeometry, core: BaseGeometry, outer: BaseGeometry) -> tuple[float, float]:
    """Share of a displacement site in the core and in the ring: points whole, polygons by area."""
    if geom.geom_type in ("Point", "MultiPoint"):
        in_core = not core.is_empty and bool(shapely.intersects(geom, core))
        return (1.0, 0.0) if in_core else (0.0, 1.0)
    area = geom.area
    if area == 0:
        return 0.0, 1.0
    share_core = geom.intersection(core).area / area if not core.is_empty else 0.0
    share_all = geom.intersection(outer).area / area
    return share_core, max(share_all - share_core, 0.0)


@dataclass(frozen=True)
class _DisplacedHits:
    """The displacement sites hit by a COA's elements, as columns: one row per site and element."""

    element: np.ndarray
    population: np.ndarray  # NaN where the site gives no figure
    share_core: np.ndarray
    share_outer: np.ndarray
    intensity: np.ndarray


def _displaced(hits: list[SiteHit]) -> _DisplacedHits:
    # Arrays, not a frame: each COA sums them for every element and zone, where frame filtering costs more
    # than the sums on a plan of a few dozen sites
    rows = [h for h in hits if h.category == "displacement"]
    return _DisplacedHits(
        np.array([h.element for h in rows], dtype=object),
        np.array([np.nan if h.population is None else h.population for h in rows], dtype=float),
        np.array([h.share_core for h in rows], dtype=float),
        np.array([h.share_outer for h in rows], dtype=float),
        np.array([h.intensity for h in rows], dtype=float),
    )


def _figure_flags(layerset: LayerSet, figures: dict[str, ZoneFigures], hits: list[SiteHit]) -> dict[str, list[Flag]]:
    """Which data-quality flags weaken which figure of this COA."""
    flags: dict[str, list[Flag]] = {"people": [], "displaced": [], "sites": []}
    population = layerset.population
    if population is None:
        flags["people"].append(
            Flag("no_coverage", "-", "no population raster in the layer set: people in the zones are unknown, not zero")
        )
    else:
        flags["people"].extend(population.flags)
        for zone, fig in figures.items():
            if fig.coverage < FULL_COVERAGE:
                flags["people"].append(
                    Flag(
                        "no_coverage",
                        population.id,
                        f"only {fig.coverage:.0%} of the {zone} zone has population data in '{population.id}': "
                        "people in the rest are unknown, not zero",
                    )
                )
    hit_layers = {h.layer for h in hits}
    for layer in layerset.of_kind("displacement"):
        rows = {h.source_row for h in hits if h.layer == layer.id}
        for flag in layer.flags:
            # Figures per admin area are never site hits, yet their people are in the estimate: always said
            if not flag.rows or rows & set(flag.rows) or flag.code == "area_level":
                flags["displaced"].append(flag)
    for layer in layerset.of_kind("sites"):
        if layer.id in hit_layers:
            flags["sites"].extend(layer.flags)
    if not layerset.of_kind("displacement"):
        flags["displaced"].append(Flag("no_data", "-", "no displacement-site layer: displaced people are unknown"))
    return flags
