"""Roads: lines with a class (OSM ``highway`` or a declared column such as the Logistics Cluster's ``CLASS``).

Normalised frame columns:

==============  ==========================================================================
road_id         identifier from the file, or ``<layer>:<row>``
road_class      the class as written (``primary``, ``Local/Urban`` ...); ``unknown`` when blank
surface         surface text, or None
condition       condition text, or None
rainy_season    rainy-season passability text (``All Season``, ``Dry Season Only`` ...), or None
bridge          True where the file marks the segment as a bridge
name            road name, or None
source_row      CSV line or feature number
geometry        LineString or MultiLineString, EPSG:4326
==============  ==========================================================================
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely

from planner.errors import Collector
from planner.layers._table import Area, TableOptions, find_column, read_table, row_label, rows_text, text_column
from planner.layers.model import Dropped, Flag, VectorLayer
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, RoadsSpec

COLUMNS = [
    "road_id",
    "road_class",
    "surface",
    "condition",
    "rainy_season",
    "bridge",
    "name",
    "source_row",
    "geometry",
]
LINE_TYPES = {"LineString", "MultiLineString"}
CLASS_COLUMNS = ("highway", "class", "fclass", "road_class")


def read_roads(
    layer_id: str, spec: RoadsSpec, path: Path, problems: Collector, area: Area | None = None
) -> VectorLayer | None:
    """The road pieces of ``path``; with ``area``, only those whose extent meets it (see ``read_table``)."""
    table = read_table(path, TableOptions.of(spec, degenerate_lines_ok=True), problems, area)
    if table is None:
        return None
    frame = table.frame
    columns = list(frame.columns)
    label = row_label(path)
    declared_class = None if spec.road_class in (None, "none") else spec.road_class
    for key, col in (
        ("class", declared_class),
        ("surface", spec.surface),
        ("condition", spec.condition),
        ("rainy", spec.rainy),
        ("bridge", spec.bridge),
        ("name", spec.name),
        ("id", spec.id),
    ):
        if col is not None and col not in columns:
            problems.add(
                key,
                f"column '{col}' is not in the file",
                f"declare the right column, e.g. `class: CLASS`; columns are: "
                f"{', '.join(c for c in columns if c not in ('source_row', 'geometry'))}",
            )
    not_lines = ~frame.geometry.geom_type.isin(LINE_TYPES)
    if not_lines.any():
        problems.add(
            rows_text(frame.loc[not_lines, "source_row"], label),
            f"not a line ({', '.join(sorted(set(frame.geometry.geom_type[not_lines])))})",
            "a roads layer holds LineString or MultiLineString features only",
        )
    if problems.problems:
        return None

    # `class: none`, or no class column at all: every segment is unclassified, flagged below
    class_col = None if spec.road_class == "none" else find_column(columns, declared_class, CLASS_COLUMNS)
    road_class = text_column(frame[class_col]) if class_col else pd.Series(None, index=frame.index, dtype=object)
    surface_col = spec.surface or find_column(columns, None, ("surface",))
    bridge_col = spec.bridge or find_column(columns, None, ("bridge",))
    name_col = spec.name or find_column(columns, None, ("name", "rt_name"))
    id_col = spec.id or find_column(columns, None, ("road_id", "id", "osm_id", "objectid"))
    bridge = (
        text_column(frame[bridge_col]).fillna("no").str.lower().isin({"yes", "true", "1", "viaduct"})
        if bridge_col
        else pd.Series(False, index=frame.index)
    )
    out = frame.assign(
        road_id=frame[id_col].astype(str) if id_col else layer_id + ":" + frame["source_row"].astype(str),
        road_class=road_class.fillna("unknown"),
        surface=text_column(frame[surface_col]) if surface_col else None,
        condition=text_column(frame[spec.condition]) if spec.condition else None,
        rainy_season=text_column(frame[spec.rainy]) if spec.rainy else None,
        bridge=bridge.astype(bool),
        name=text_column(frame[name_col]) if name_col else None,
    )
    layer = VectorLayer(
        id=layer_id,
        kind="roads",
        path=path,
        as_of=spec.as_of,
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["roads"],
        sensitive=tuple(spec.sensitive),
        description=spec.description,
        frame=out[COLUMNS],
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
        area=table.area,
        file_rows=table.file_rows,
    )
    # A line of zero length joins nothing and would only add a node; it is dropped and said so.
    # In degrees (the frame is EPSG:4326): 1e-7° is about a centimetre, and no projection is needed to say so.
    zero = pd.Series(shapely.length(out.geometry.to_numpy()) < 1e-7, index=out.index)
    if zero.any():
        layer.dropped.append(Dropped(tuple(out.loc[zero, "source_row"]), "zero-length line"))
        layer.frame = layer.frame[~zero.to_numpy()].reset_index(drop=True)
    unknown = layer.frame.loc[layer.frame["road_class"] == "unknown", "source_row"].tolist()
    if unknown:
        layer.flags.append(
            Flag(
                "unclassified_roads",
                layer_id,
                f"{len(unknown)} road segment(s) in '{layer_id}' have no class: travel on them "
                "uses the slowest speed of the speed table",
                tuple(unknown),
            )
        )
    return layer
