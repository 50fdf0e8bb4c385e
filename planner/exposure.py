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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner.effects import Zone
from planner.geo import transformer
from planner.layers.manifest import LayerSet
from planner.layers.model import Flag, VectorLayer
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


def exposure(zones: list[Zone], layerset: LayerSet, crs: CRS) -> Exposure:
    """People, displaced people and sites in the zones of one COA (zones in the working CRS ``crs``)."""
    core, ring = coa_zones(zones)
    shapes = {("coa", "core"): core, ("coa", "outer"): ring}
    for zone in zones:
        shapes[(zone.element, "core")] = zone.core
        shapes[(zone.element, "outer")] = zone.outer.difference(zone.core)
    people = _people(shapes, zones, layerset.population, crs)
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
    displaced: pd.DataFrame,
    zone: str,
    element: str | None = None,
) -> ZoneFigures:
    rows = displaced if element is None else displaced[displaced["element"] == element]
    known = rows[rows["population"].notna()]
    unknown = rows[rows["population"].isna() & (rows[f"share_{zone}"] > 0)]
    return ZoneFigures(
        people=people[0],
        people_weighted=people[1],
        coverage=people[2],
        displaced=float((known["population"] * known[f"share_{zone}"]).sum()),
        displaced_weighted=float((known["population"] * known[f"share_{zone}"] * known["intensity"]).sum()),
        displaced_unknown_sites=len(unknown),
    )


PeopleFigures = tuple[float | None, float | None, float]


def _people(
    shapes: dict[tuple[str, str], BaseGeometry], zones: list[Zone], population: PopulationLayer | None, crs: CRS
) -> dict[tuple[str, str], PeopleFigures]:
    """(people, intensity-weighted people, coverage) for each shape, from one windowed read."""
    unknown: PeopleFigures = (None, None, 0.0)
    empty = dict.fromkeys(shapes, unknown)
    if population is None:
        return empty
    outer = shapely.union_all(list(shapes.values()))
    window = population.read_window(outer.bounds, crs)
    if window.shape == (0, 0):
        return empty
    people = np.ma.filled(window.people().astype(float), np.nan)
    intensity = _pixel_intensity(window.transform, window.shape, population.crs, zones, crs)
    t = window.transform
    xmin, ymax = t.c, t.f
    xmax, ymin = xmin + t.a * window.shape[1], ymax + t.e * window.shape[0]
    wkt = population.crs.to_wkt()
    values = NumPyRasterSource(people, xmin, ymin, xmax, ymax, nodata=np.nan, srs_wkt=wkt)
    weights = NumPyRasterSource(intensity, xmin, ymin, xmax, ymax, srs_wkt=wkt)
    keys = [k for k, geom in shapes.items() if not geom.is_empty]
    frame = gpd.GeoDataFrame({"key": range(len(keys))}, geometry=[shapes[k] for k in keys], crs=crs)
    frame = frame.to_crs(population.crs)
    result = exact_extract(
        values, frame, ["sum", "count", "weighted_sum"], weights=weights, include_cols=["key"], output="pandas"
    )
    pixel_area = abs(t.a * t.e)
    out = dict(empty)
    for row in result.itertuples():
        key = keys[int(row.key)]
        zone_pixels = frame.geometry.iloc[int(row.key)].area / pixel_area
        coverage = min(float(row.count) / zone_pixels, 1.0) if zone_pixels > 0 else 1.0
        out[key] = (float(row.sum), float(row.weighted_sum), coverage)
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
    gx, gy = np.meshgrid(xs, ys)
    px, py = transformer(raster_crs, crs).transform(gx.ravel(), gy.ravel())
    px, py = np.asarray(px), np.asarray(py)
    result = np.zeros(px.shape)
    for zone in zones:
        west, south, east, north = zone.outer.bounds
        near = np.flatnonzero((px >= west) & (px <= east) & (py >= south) & (py <= north))
        if near.size:
            distance = shapely.distance(shapely.points(px[near], py[near]), zone.geometry)
            result[near] = np.maximum(result[near], zone.intensity_at(distance))
    return result.reshape(shape)


def sites_in_zones(zones: list[Zone], core: BaseGeometry, layerset: LayerSet, crs: CRS) -> list[SiteHit]:
    """Every site and displacement site touching an outer zone, found through each layer's projected index."""
    outer = shapely.union_all([z.outer for z in zones])
    hits: list[SiteHit] = []
    for layer in [*layerset.of_kind("sites"), *layerset.of_kind("displacement")]:
        hits.extend(_layer_hits(layer, zones, core=core, outer=outer, crs=crs))
    return sorted(hits, key=lambda h: (ZONES.index(h.zone), h.distance_m, h.layer, h.id))


def _layer_hits(
    layer: VectorLayer, zones: list[Zone], *, core: BaseGeometry, outer: BaseGeometry, crs: CRS
) -> list[SiteHit]:
    index = layer.projected(crs)
    found = np.sort(index.tree.query(outer, predicate="intersects"))
    if found.size == 0:
        return []
    geoms = index.geometries[found]
    # Distances from every site to every element at once: sites x elements.
    distances = np.column_stack([shapely.distance(geoms, z.geometry) for z in zones])
    intensities = np.column_stack([z.intensity_at(distances[:, i]) for i, z in enumerate(zones)])
    nearest = distances.argmin(axis=1)
    in_core = shapely.intersects(geoms, core) if not core.is_empty else np.zeros(len(geoms), dtype=bool)
    displacement = layer.kind == "displacement"
    frame = layer.frame
    # Take the found rows first: converting whole columns would cost in proportion to the layer.
    column = {name: frame[name].take(found).to_numpy(dtype=object) for name in frame.columns if name != "geometry"}
    wgs84 = frame.geometry.take(found).to_numpy()
    hits = []
    for i, geom in enumerate(geoms):
        share_core, share_outer = _shares(geom, core, outer) if displacement else (0.0, 0.0)
        population = column["population"][i] if displacement else None
        hits.append(
            SiteHit(
                layer=layer.id,
                id=str(column["site_id"][i]),
                name=column["name"][i],
                category="displacement" if displacement else str(column["category"][i]),
                subtype=column["site_type"][i] if displacement else column["subtype"][i],
                zone="core" if in_core[i] else "outer",
                distance_m=float(distances[i, nearest[i]]),
                element=zones[nearest[i]].element,
                intensity=float(intensities[i].max()),
                source_row=int(column["source_row"][i]),
                functional=None if displacement else _bool_or_none(column["functional"][i]),
                population=None if population is None or pd.isna(population) else float(population),
                share_core=share_core,
                share_outer=share_outer,
                geometry=wgs84[i],
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


def _displaced(hits: list[SiteHit]) -> pd.DataFrame:
    rows = [
        {
            "element": h.element,
            "population": h.population,
            "share_core": h.share_core,
            "share_outer": h.share_outer,
            "intensity": h.intensity,
        }
        for h in hits
        if h.category == "displacement"
    ]
    columns = ["element", "population", "share_core", "share_outer", "intensity"]
    return pd.DataFrame(rows, columns=columns).astype({"population": float})


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
            if not flag.rows or rows & set(flag.rows):
                flags["displaced"].append(flag)
    for layer in layerset.of_kind("sites"):
        if layer.id in hit_layers:
            flags["sites"].extend(layer.flags)
    if not layerset.of_kind("displacement"):
        flags["displaced"].append(Flag("no_data", "-", "no displacement-site layer: displaced people are unknown"))
    return flags
