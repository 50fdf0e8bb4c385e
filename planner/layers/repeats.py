"""Tables with several rows per place: a price table's market listed once per commodity and week, a DTM site
once per round. Read row by row, each would be a site of its own (25,793 "markets" for 42), counting its
people or its presence many times over.

Rows are the same site when they carry the same id (or, without an id, the same name) at the same point;
one row per site is kept: the ``first`` or ``last`` in the file, or the ``latest`` by its date. The same id
at two different places is not grouped (two sites under one id, which the readers flag instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import pandas as pd

from planner.layers.model import Flag

Repeated = Literal["first", "last", "latest"]
PLACE_DECIMALS = 5  # about a metre: the same point written twice


@dataclass(frozen=True)
class Grouped:
    """What grouping did: rows in, sites out, and the rows that were folded into another."""

    rows: int
    sites: int
    folded: tuple[int, ...]
    rule: str


def group_repeats(
    frame: gpd.GeoDataFrame, names: pd.Series, rule: Repeated, dates: pd.Series | None = None
) -> tuple[gpd.GeoDataFrame, Grouped | None]:
    """One row per site (see the module's docstring); ``names`` is each row's id or name (None: never grouped).

    ``latest`` takes the row with the newest date (a row without one counts as oldest; ties go to the later
    row in the file); the kept rows stay in file order.
    """
    located = frame.geometry.notna().to_numpy()
    where = pd.Series("", index=frame.index)  # rows without a place yet (figures per admin area): by name alone
    if located.any():
        place = frame.geometry[located].representative_point()
        where[located] = place.x.round(PLACE_DECIMALS).astype(str) + "," + place.y.round(PLACE_DECIMALS).astype(str)
    unique = "row:" + frame["source_row"].astype(str)
    key = (names.astype(object).where(names.notna(), None).astype(str) + "@" + where).where(names.notna(), unique)
    if not key.duplicated().any():
        return frame, None
    order = pd.RangeIndex(len(frame))
    ranked = pd.DataFrame({"key": key.to_numpy(), "position": order})
    if rule == "latest" and dates is not None:
        ranked["date"] = pd.to_datetime(dates).to_numpy()
        ranked = ranked.sort_values(["date", "position"], na_position="first", kind="stable")
    keep = "first" if rule == "first" else "last"
    kept = ranked.drop_duplicates("key", keep=keep)["position"].sort_values().to_numpy()
    folded = frame["source_row"].drop(frame.index[kept]).tolist()
    grouped = frame.iloc[kept].reset_index(drop=True)
    said = {"first": "the first row of each", "last": "the last row of each", "latest": "the latest-dated row of each"}
    return grouped, Grouped(len(frame), len(grouped), tuple(int(r) for r in folded), said[rule])


def grouped_flag(layer_id: str, grouped: Grouped, what: str) -> Flag:
    return Flag(
        "grouped_rows",
        layer_id,
        f"{grouped.rows} rows of '{layer_id}' describe {grouped.sites} {what} (the same id or name at the same "
        f"place): one per site is kept, {grouped.rule} (`repeated:` chooses first, last or latest)",
        grouped.folded,
    )
