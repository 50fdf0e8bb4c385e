"""Admin boundaries (OCHA COD-AB and the like), and figures given per admin area joined to them.

DTM admin 1-2 tables and county population tables give people per area, not per place. Joined by p-code or
name to a boundary layer (``kind: admin``), each figure becomes an area; its people are spread over the
populated pixels of the area (the population raster's share of the area's people in each pixel), or evenly
over the area where no raster covers it, and the rows are flagged ``area_level``.

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

from planner.errors import Collector, Problem
from planner.geo import WGS84
from planner.layers._table import TableOptions, find_column, read_table, row_label, text_column
from planner.layers.model import Flag, VectorLayer
from planner.layers.population import PopulationLayer
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, AdminSpec

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
    spellings: dict[str, str] | None = None,
) -> list[Problem]:
    """Give each area figure its admin area's outline and the people the raster puts in that area.

    Matching is by p-code where the key matches one, else by name; a key that matches no area is a problem
    that lists the nearest names, never a figure silently left out.
    """
    frame = figures.frame
    renamed = {plain_key(k): v for k, v in (spellings or {}).items()}
    keys = frame["area_key"].map(lambda k: renamed.get(plain_key(k), k))
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
                f"{{'{missing[0]}': '<name in {admin.id}>'}}`), correct the file, or point `admin:` at the "
                "boundary layer of the same level and year",
                tuple(rows),
            )
        ]
    index = np.array(matched, dtype=int)
    figures.frame = figures.frame.set_geometry(admin.frame.geometry.to_numpy()[index], crs=WGS84)
    figures.frame["area_people"] = area_people(figures.frame.geometry.to_numpy(), population)
    figures.flags.append(
        Flag(
            "area_level",
            figures.id,
            f"the {len(frame)} figures of '{figures.id}' are given per admin area (joined to '{admin.id}'), not per "
            "site: their people are spread over each area's populated pixels, so where they are is rough",
            tuple(frame["source_row"]),
        )
    )
    return []


def area_people(areas: np.ndarray, population: PopulationLayer | None) -> np.ndarray:
    """People the population raster puts in each area (NaN where it covers none of it): the denominator that
    turns an area's figure into people per pixel."""
    out = np.full(len(areas), np.nan)
    if population is None or not len(areas):
        return out
    to_raster = pyproj.Transformer.from_crs(WGS84, population.crs, always_xy=True)
    projected = shapely.transform(areas, lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1])))
    features = [
        {"type": "Feature", "properties": {"key": i}, "geometry": shapely.geometry.mapping(g)}
        for i, g in enumerate(projected)
    ]
    # A density raster's mean times the area's true area; a count raster's sum (exact pixel fractions)
    operation = "sum" if population.units == "count" else "mean"
    with population.open() as src:
        result = exact_extract(
            RasterioRasterSource(src, population.band),
            JSONFeatureSource(features, srs_wkt=population.wkt),
            [operation, "count"],
            include_cols=["key"],
        )
    for feature in result:
        row = feature["properties"]
        if not row["count"]:
            continue
        value = float(row[operation])
        if operation == "mean":
            value *= abs(_GEOD.geometry_area_perimeter(areas[row["key"]])[0]) / 1e6
        out[row["key"]] = value
    return out
