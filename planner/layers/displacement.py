"""Displacement sites (IDP camps, PoC sites, collective centres): where, how many people, counted when.

Reads IOM DTM-like CSVs, HXL-tagged CSVs (``#loc+name``, ``#geo+lat``, ``#geo+lon``, ``#affected+idps+ind``,
``#date+reported``) and point or polygon files. Normalised frame columns:

=================  ==========================================================================
site_id            identifier from the file, or ``<layer>:<row>``
name               site name, or None
population         individuals as counted; NaN when the file gives none (never 0 by default)
population_date    date of that count (the row's date, else the layer's ``as_of``), or NaT
site_type          e.g. ``PoC site``, ``camp``, ``collective centre``, or None
source_row         CSV line or feature number
geometry           point or polygon, EPSG:4326
=================  ==========================================================================
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.errors import Collector
from planner.layers._table import (
    TableOptions,
    find_column,
    hxl_column,
    read_table,
    row_label,
    rows_text,
    text_column,
)
from planner.layers.dates import DATE_FORMAT_FIX, parse_dates
from planner.layers.model import Flag, VectorLayer
from planner.layers.repeats import group_repeats, grouped_flag
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, DisplacementSpec

POPULATION_COLUMNS = ("individuals", "idps", "idp_individuals", "population", "ind", "persons")
NAME_COLUMNS = ("site_name", "name", "site name", "location")
ID_COLUMNS = ("site_id", "id", "ssid", "site id")
DATE_COLUMNS = ("assessment_date", "date", "reported_date", "survey_date")
TYPE_COLUMNS = ("site_type", "type", "site type")
COLUMNS = ["site_id", "name", "population", "population_date", "site_type", "source_row", "geometry"]


def read_displacement(layer_id: str, spec: DisplacementSpec, path: Path, problems: Collector) -> VectorLayer | None:
    table = read_table(path, TableOptions.of(spec, no_geometry=spec.admin is not None), problems)
    if table is None:
        return None
    frame, hxl = table.frame, table.hxl
    columns = list(frame.columns)
    area_col = None
    if spec.admin is not None:
        # Figures per admin area: the key that joins each row to its area (the join is the layer set's)
        area_col = spec.admin_key
        if area_col is None or area_col not in columns:
            problems.add(
                "admin_key",
                f"column '{area_col}' is not in the file" if area_col else "`admin:` needs `admin_key:`",
                f"name the column with each row's admin p-code or name; columns are: "
                f"{', '.join(c for c in columns if c not in ('source_row', 'geometry'))}",
            )
            return None
        blank = frame[area_col].isna()
        if blank.any():
            problems.add_rows(
                frame.loc[blank, "source_row"], row_label(path), f"'{area_col}' is empty", "name the row's admin area"
            )
            return None
    label = row_label(path)

    def column(key: str, declared: str | None, names: tuple[str, ...], tags: tuple[str, ...] = ()) -> str | None:
        if declared is not None and declared not in columns:
            problems.add(
                key,
                f"column '{declared}' is not in the file",
                f"columns are: {', '.join(c for c in columns if c not in ('source_row', 'geometry'))}",
            )
            return None
        found = find_column(columns, declared, names)
        for tag in tags:
            found = found or hxl_column(hxl, tag)
        return found

    pop_col = column("population", spec.population, POPULATION_COLUMNS, ("#affected+idps+ind", "#affected+ind"))
    date_col = column("date", spec.date, DATE_COLUMNS, ("#date+reported", "#date"))
    name_col = column("name", spec.name, NAME_COLUMNS, ("#loc+name",))
    id_col = column("id", spec.id, ID_COLUMNS, ("#loc+code",))
    type_col = column("site_type", spec.site_type, TYPE_COLUMNS, ("#loc+type",))
    for key, col in (
        *((f"sensitive[{c}]", c) for c in spec.sensitive),
        *((f"keep[{c}]", c) for c in spec.keep),
    ):
        if col not in columns:
            problems.add(key, f"column '{col}' is not in the file", "correct the column name")
    if pop_col is None and spec.population is None:
        problems.add(
            "population",
            "no column with the number of displaced people was found",
            "declare it, e.g. `population: individuals`",
        )
    if problems.problems or pop_col is None:
        return None

    population, unreadable = table.numbers(pop_col)
    if unreadable.any():
        problems.add_rows(
            frame.loc[unreadable, "source_row"],
            label,
            f"'{pop_col}' is not a number",
            "write plain numbers of individuals, or leave the cell empty",
        )
    negative = population < 0
    if negative.any():
        problems.add(
            rows_text(frame.loc[negative, "source_row"], label),
            f"'{pop_col}' is negative",
            "correct the count, or leave the cell empty if unknown",
        )
    if date_col is not None:
        read = parse_dates(frame[date_col], spec.date_format)
        table.read_as[f"dates in '{date_col}'"] = read.order
        if read.problem is not None:
            problems.add("date_format", f"'{date_col}' {read.problem}", DATE_FORMAT_FIX)
        dates, bad_dates = read.dates, read.unreadable
        if bad_dates.any():
            problems.add_rows(
                frame.loc[bad_dates, "source_row"],
                label,
                f"'{date_col}' is not a date",
                "write dates as YYYY-MM-DD",
            )
    else:
        dates = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if problems.problems:
        return None
    if spec.as_of is not None:
        dates = dates.fillna(pd.Timestamp(spec.as_of))
    as_of = spec.as_of or (dates.max().date() if dates.notna().any() else None)

    if area_col is not None:
        id_col = id_col or area_col
        name_col = name_col or area_col
    out = frame.assign(
        site_id=frame[id_col].astype(str) if id_col else layer_id + ":" + frame["source_row"].astype(str),
        name=text_column(frame[name_col]) if name_col else None,
        population=population,
        population_date=dates,
        site_type=text_column(frame[type_col]) if type_col else None,
    )
    # A DTM table lists a site once per round: its latest count is the site's
    rule = spec.repeated or ("latest" if date_col else "first")
    out, grouped = group_repeats(out, out["site_id"] if id_col else out["name"], rule, out["population_date"])
    keep = [c for c in [*spec.keep, *spec.sensitive] if c not in COLUMNS]
    if area_col is not None:
        out["area_key"] = text_column(out[area_col])
        keep.append("area_key")
    layer = VectorLayer(
        id=layer_id,
        kind="displacement",
        path=path,
        as_of=as_of,
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["displacement"],
        sensitive=tuple(spec.sensitive),
        description=spec.description,
        frame=out[COLUMNS[:-1] + keep + ["geometry"]],
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
    )
    if grouped is not None:
        layer.flags.append(grouped_flag(layer_id, grouped, "displacement sites"))
    _flag_quality(layer, spec)
    return layer


def _flag_quality(layer: VectorLayer, spec: DisplacementSpec) -> None:
    frame = layer.frame
    unknown = frame.loc[frame["population"].isna(), "source_row"].tolist()
    if unknown:
        layer.flags.append(
            Flag(
                "population_unknown",
                layer.id,
                f"{len(unknown)} displacement site(s) in '{layer.id}' have no population figure: "
                "their people are unknown, not zero",
                tuple(unknown),
            )
        )
    counted = frame[frame["population"] > 0]
    repeated = counted[counted["population"].duplicated(keep=False)]
    if len(repeated):
        names = ", ".join(str(n) for n in repeated["name"].fillna(repeated["site_id"]))
        layer.flags.append(
            Flag(
                "shared_count",
                layer.id,
                f"{len(repeated)} displacement sites in '{layer.id}' carry the same population figure ({names}): one "
                "count may cover several sites, so adding them would count people twice; verify the figures",
                tuple(repeated["source_row"]),
            )
        )
    if spec.location_precision == "town":
        layer.flags.append(
            Flag(
                "town_centroid",
                layer.id,
                f"displacement sites in '{layer.id}' are located at town centroids, not at the "
                "sites: distances to them are rough",
                tuple(frame["source_row"]),
            )
        )
        return
    points = frame[frame.geometry.geom_type == "Point"]
    if len(points) < 2:
        return
    keys = points.geometry.x.round(5).astype(str) + "," + points.geometry.y.round(5).astype(str)
    shared = points[keys.duplicated(keep=False)]
    if len(shared):
        groups = keys[shared.index].nunique()
        layer.flags.append(
            Flag(
                "town_centroid",
                layer.id,
                f"{len(shared)} displacement sites in '{layer.id}' share {groups} point(s): the coordinates are "
                "probably town or area centroids, not the sites; distances to them are rough",
                tuple(shared["source_row"]),
            )
        )
