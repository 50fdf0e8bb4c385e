"""Backdrop: rivers, boundaries, settlement outlines drawn for orientation on maps; never scored.

Normalised frame columns: ``name``, ``feature`` (what it is: river, boundary ...), ``source_row``, ``geometry``.
"""

from __future__ import annotations

from pathlib import Path

from planner.errors import Collector
from planner.layers._table import TableOptions, find_column, read_table, text_column
from planner.layers.model import VectorLayer
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, BackdropSpec


def read_backdrop(layer_id: str, spec: BackdropSpec, path: Path, problems: Collector) -> VectorLayer | None:
    table = read_table(path, TableOptions.of(spec), problems)
    if table is None:
        return None
    frame = table.frame
    columns = list(frame.columns)
    name_col = find_column(columns, spec.name, ("name",))
    feature_col = find_column(columns, spec.feature, ("feature", "waterway", "boundary", "natural", "fclass"))
    for key, declared, found in (("name", spec.name, name_col), ("feature", spec.feature, feature_col)):
        if declared is not None and found is None:
            problems.add(key, f"column '{declared}' is not in the file", "correct the column name")
    if problems.problems:
        return None
    out = frame.assign(
        name=text_column(frame[name_col]) if name_col else None,
        feature=text_column(frame[feature_col]) if feature_col else None,
    )[["name", "feature", "source_row", "geometry"]]
    return VectorLayer(
        id=layer_id,
        kind="backdrop",
        path=path,
        as_of=spec.as_of,
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["backdrop"],
        description=spec.description,
        frame=out,
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
    )
