"""Admin boundaries (OCHA COD-AB and the like), and figures given per admin area joined to them.

DTM admin 1-2 tables and county population tables give people per area, not per place. Joined by p-code or
name to a boundary layer (``kind: admin``), each figure becomes an area:

- displaced people per area (``kind: displacement`` with ``admin:``) are spread over the populated pixels of
  the area (the population raster's share of the area's people in each pixel), or evenly over the area where
  no raster covers it, and the rows are flagged ``area_level``;
- residents per area (``kind: population_table``) scale the population raster inside each area to the
  table's figure, so every count the raster gives agrees with it (``scaled_to_areas``); where no raster covers
  an area its figure is kept as an area figure, said so, and never put on pixels that do not exist.

Admin layer frame columns:

==========  ==================================================================
admin_id    p-code when the layer has one, else the name
name        area name, or None
pcode       p-code, or None
source_row  feature number
geometry    polygon or multipolygon, EPSG:4326
==========  ==================================================================
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely
from exactextract import exact_extract
from exactextract.feature import JSONFeatureSource
from exactextract.raster import RasterioRasterSource
from shapely.geometry.base import BaseGeometry

from planner.errors import Collector, Problem
from planner.geo import WGS84
from planner.layers._table import TableOptions, find_column, read_table, row_label, text_column
from planner.layers.dates import DATE_FORMAT_FIX, parse_dates
from planner.layers.model import Dropped, Flag, VectorLayer
from planner.layers.population import PopulationLayer
from planner.layers.repeats import group_repeats, grouped_flag
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, AdminSpec, PopulationTableSpec

NAME_COLUMNS = ("name", "admin_name", "adm2_en", "adm1_en", "admin2name", "admin1name", "county", "state")
AREA_TYPES = {"Polygon", "MultiPolygon"}
_GEOD = pyproj.Geod(ellps="WGS84")


def read_admin(layer_id: str, spec: AdminSpec, path: Path, problems: Collector) -> VectorLayer | None:
    table = read_table(path, TableOptions.of(spec), problems)
    if table is None:
        return None
    frame = table.frame
    columns = [c for c in frame.columns if c not in ("source_row", "geometry")]
    for key, declared in (("name", spec.name), ("pcode", spec.pcode)):
        if declared is not None and declared not in columns:
            problems.add(key, f"column '{declared}' is not in the file", f"columns are: {', '.join(columns)}")
    not_areas = ~frame.geometry.geom_type.isin(AREA_TYPES)
    if not_areas.any():
        problems.add_rows(
            frame.loc[not_areas, "source_row"],
            row_label(path),
            "not an area (an admin layer holds polygons)",
            "use the boundary polygons (e.g. OCHA COD-AB), not points or lines",
        )
    if problems.problems:
        return None
    name_col = find_column(columns, spec.name, NAME_COLUMNS)
    pcode_col = spec.pcode or _pcode_column(columns)
    if name_col is None and pcode_col is None:
        problems.add(
            "name",
            "no name or p-code column found",
            f"declare it, e.g. `name: ADM2_EN`; columns are: {', '.join(columns)}",
        )
        return None
    names = text_column(frame[name_col]) if name_col else pd.Series(None, index=frame.index, dtype=object)
    pcodes = text_column(frame[pcode_col]) if pcode_col else pd.Series(None, index=frame.index, dtype=object)
    out = frame.assign(admin_id=pcodes.fillna(names), name=names, pcode=pcodes)
    return VectorLayer(
        id=layer_id,
        kind="admin",
        path=path,
        as_of=spec.as_of,
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["admin"],
        description=spec.description,
        frame=out[["admin_id", "name", "pcode", "source_row", "geometry"]],
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
    )


def read_population_table(
    layer_id: str, spec: PopulationTableSpec, path: Path, problems: Collector
) -> VectorLayer | None:
    """People per admin area, one row per area (the latest where a table repeats areas by year or round)."""
    table = read_table(path, TableOptions.of(spec, no_geometry=True), problems)
    if table is None:
        return None
    frame = table.frame
    columns = [c for c in frame.columns if c not in ("source_row", "geometry")]
    for key, declared in (("admin_key", spec.admin_key), ("population", spec.population), ("date", spec.date)):
        if declared is not None and declared not in columns:
            problems.add(key, f"column '{declared}' is not in the file", f"columns are: {', '.join(columns)}")
    if problems.problems:
        return None
    label = row_label(path)
    keys = text_column(frame[spec.admin_key])
    if keys.isna().any():
        problems.add_rows(
            frame.loc[keys.isna(), "source_row"], label, f"'{spec.admin_key}' is empty", "name the row's area"
        )
    people, unreadable = table.numbers(spec.population)
    if unreadable.any():
        problems.add_rows(
            frame.loc[unreadable, "source_row"], label, f"'{spec.population}' is not a number", "write plain numbers"
        )
    dates = None
    if spec.date is not None:
        read = parse_dates(frame[spec.date], spec.date_format)
        table.read_as[f"dates in '{spec.date}'"] = read.order
        if read.problem is not None:
            problems.add("date_format", f"'{spec.date}' {read.problem}", DATE_FORMAT_FIX)
        dates = read.dates
    if problems.problems:
        return None
    out = frame.assign(area_key=keys, name=keys, population=people)
    out, grouped = group_repeats(out, keys, "latest" if dates is not None else "first", dates)
    layer = VectorLayer(
        id=layer_id,
        kind="population_table",
        path=path,
        as_of=spec.as_of or (dates.max().date() if dates is not None and dates.notna().any() else None),
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["population_table"],
        description=spec.description,
        frame=out[["area_key", "name", "population", "source_row", "geometry"]],
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
    )
    if grouped is not None:
        layer.flags.append(grouped_flag(layer_id, grouped, "areas"))
    unknown = out.loc[out["population"].isna(), "source_row"].tolist()
    if unknown:
        layer.flags.append(
            Flag(
                "population_unknown",
                layer_id,
                f"{len(unknown)} area(s) in '{layer_id}' have no figure: the raster's people stand there unscaled",
                tuple(unknown),
            )
        )
    return layer


def scale_population(table: VectorLayer, population: PopulationLayer) -> None:
    """Scale the raster inside each area of ``table`` (already joined) to the table's figure for it."""
    frame = table.frame
    usable = frame["population"].notna() & (frame["area_people"] > 0)
    factors = (frame["population"] / frame["area_people"]).where(usable)
    to_raster = pyproj.Transformer.from_crs(WGS84, population.crs, always_xy=True)
    areas = shapely.transform(
        frame.geometry.to_numpy()[usable.to_numpy()],
        lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1])),
    )
    population.scales = tuple(zip(areas, factors[usable].astype(float), strict=True))
    population.scaled_by = table.id
    if len(population.scales):
        low, high = float(factors[usable].min()), float(factors[usable].max())
        population.flags.append(
            Flag(
                "scaled_to_areas",
                population.id,
                f"people in '{population.id}' are scaled to the figures of '{table.id}' in {int(usable.sum())} "
                f"area(s) (by {low:.2f} to {high:.2f}): counts follow the table's totals, spread as the raster "
                "spreads them",
            )
        )
    uncovered = frame.loc[frame["population"].notna() & ~(frame["area_people"] > 0), "source_row"].tolist()
    if uncovered:
        table.flags.append(
            Flag(
                "no_coverage",
                table.id,
                f"{len(uncovered)} area(s) of '{table.id}' lie outside the population raster: their figures are "
                "kept as area totals; people in them are unknown at any place",
                tuple(uncovered),
            )
        )


def _pcode_column(columns: list[str]) -> str | None:
    """The one column named like a p-code (ADM2_PCODE, admin2Pcode, county_pcode); None when none or several."""
    found = [c for c in columns if re.sub(r"[^a-z]", "", c.lower()).endswith("pcode")]
    return found[0] if len(found) == 1 else None


def plain_key(text: object) -> str:
    """How area names and p-codes are compared: no case, accents, spaces or punctuation ('Kajo-Keji' = 'Kajo Keji')."""
    bare = unicodedata.normalize("NFKD", str(text).lower())
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in bare if not unicodedata.combining(c)))


def join_areas(
    figures: VectorLayer,
    admin: VectorLayer,
    population: PopulationLayer | None,
    manifest: Path,
    spellings: dict[str, str | None] | None = None,
) -> list[Problem]:
    """Give each area figure its admin area's outline and the people the raster puts in that area.

    Matching is by p-code where the key matches one, else by name; a key that matches no area is a problem
    that lists the nearest names, never a figure silently left out.
    """
    renamed = {plain_key(k): v for k, v in (spellings or {}).items()}
    left_out = figures.frame["area_key"].map(lambda k: plain_key(k) in renamed and not renamed[plain_key(k)])
    if left_out.any():  # `admin_names: {Abyei: null}`: an area the boundary layer does not have, left out
        rows = tuple(int(r) for r in figures.frame.loc[left_out, "source_row"])
        figures.dropped.append(Dropped(rows, f"no area in '{admin.id}' (admin_names leaves it out)"))
        figures.flags.append(
            Flag(
                "rows_dropped",
                figures.id,
                f"{len(rows)} row(s) of '{figures.id}' name areas that '{admin.id}' does not have and were left out "
                f"({', '.join(sorted(set(figures.frame.loc[left_out, 'area_key'].astype(str))))}): their people "
                "are missing from every figure",
                rows,
            )
        )
        figures.frame = figures.frame[~left_out.to_numpy()].reset_index(drop=True)
        # A flag about those rows alone no longer says anything about the layer
        figures.flags = [
            f for f in figures.flags if not f.rows or not set(f.rows) <= set(rows) or f.code == "rows_dropped"
        ]
    frame = figures.frame
    keys = frame["area_key"].map(lambda k: renamed.get(plain_key(k)) or k)
    by_pcode = {plain_key(v): i for i, v in enumerate(admin.frame["pcode"]) if v}
    by_name = {plain_key(v): i for i, v in enumerate(admin.frame["name"]) if v}
    matched = [by_pcode.get(plain_key(k), by_name.get(plain_key(k))) for k in keys]
    missing = sorted({str(k) for k, m in zip(keys, matched, strict=True) if m is None})
    if missing:
        known = [str(v) for v in admin.frame["name"].dropna()] + [str(v) for v in admin.frame["pcode"].dropna()]
        hints = [
            f"'{m}' (nearest: {', '.join(difflib.get_close_matches(m, known, n=2, cutoff=0.6)) or 'none'})"
            for m in missing[:6]
        ]
        rows = frame.loc[[m is None for m in matched], "source_row"].tolist()
        return [
            Problem(
                str(figures.path),
                f"layer '{figures.id}'",
                f"{len(rows)} row(s) name an area that is not in the admin layer '{admin.id}': {'; '.join(hints)}",
                f"map each spelling to the admin layer's in {manifest.name} (e.g. `admin_names: "
                f"{{'{missing[0]}': '<name in {admin.id}>'}}`, or `null` to leave an area out), correct the file, "
                "or point `admin:` at the boundary layer of the same level and year",
                tuple(rows),
            )
        ]
    index = np.array(matched, dtype=int)
    figures.frame = figures.frame.set_geometry(admin.frame.geometry.to_numpy()[index], crs=WGS84)
    figures.frame["area_people"] = area_people(figures.frame.geometry.to_numpy(), population)
    if figures.kind == "displacement":
        figures.flags.append(
            Flag(
                "area_level",
                figures.id,
                f"the {len(frame)} figures of '{figures.id}' are given per admin area (joined to '{admin.id}'), "
                "not per site: their people are spread over each area's populated pixels, so where they are is rough",
                tuple(frame["source_row"]),
            )
        )
    return []


def area_people(areas: np.ndarray, population: PopulationLayer | None) -> np.ndarray:
    """People the population raster puts in each area (NaN where it covers none of it): the denominator that
    turns an area's figure into people per pixel. Where a population table scales the raster, each area's
    pieces inside the scaled areas count with their factors, as every other reading of the raster does."""
    out = np.full(len(areas), np.nan)
    if population is None or not len(areas):
        return out
    to_raster = pyproj.Transformer.from_crs(WGS84, population.crs, always_xy=True)
    projected = shapely.transform(areas, lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1])))
    # Pieces: (area index, factor, geometry in the raster's CRS)
    pieces: list[tuple[int, float, BaseGeometry]] = []
    scaled = shapely.union_all([g for g, _ in population.scales]) if population.scales else None
    for i, area in enumerate(projected):
        for shape, factor in population.scales:
            part = shapely.intersection(area, shape)
            if not part.is_empty and part.area > 0:
                pieces.append((i, factor, part))
        rest = area if scaled is None else shapely.difference(area, scaled)
        if not rest.is_empty and rest.area > 0:
            pieces.append((i, 1.0, rest))
    features = [
        {"type": "Feature", "properties": {"key": k}, "geometry": shapely.geometry.mapping(g)}
        for k, (_, _, g) in enumerate(pieces)
    ]
    # A density raster's mean times the piece's true area; a count raster's sum (exact pixel fractions)
    operation = "sum" if population.units == "count" else "mean"
    with population.open() as src:
        result = exact_extract(
            RasterioRasterSource(src, population.band),
            JSONFeatureSource(features, srs_wkt=population.wkt),
            [operation, "count"],
            include_cols=["key"],
        )
    to_wgs84 = pyproj.Transformer.from_crs(population.crs, WGS84, always_xy=True)
    for feature in result:
        row = feature["properties"]
        if not row["count"]:
            continue
        index, factor, part = pieces[row["key"]]
        value = float(row[operation])
        if operation == "mean":
            geographic = shapely.transform(part, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))
            value *= abs(_GEOD.geometry_area_perimeter(geographic)[0]) / 1e6
        out[index] = np.nansum([out[index], value * factor])
    return out
