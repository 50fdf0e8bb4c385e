"""Threat reports: ACLED, UCDP GED and generic incident logs (mission SAGE-like exports, community alerts).

Normalised frame columns:

======================  =====================================================================
event_id                the source's id, or ``line:<row>`` when it has none
date                    day the event started (datetime64, no time zone)
date_precision_days     how many days the date may be off (0 = exact day)
kind                    one of ``THREAT_KINDS``
subkind                 the source's own type text (ACLED sub_event_type, UCDP type, log type)
civilian_targeting      True when civilians were the target (ACLED flag, UCDP one-sided, log type)
one_sided               UCDP one-sided violence (type_of_violence 3)
fatalities              best estimate of deaths, NaN when unknown
location_precision_m    radius within which the true place lies (from geo/where precision codes)
severity                1 (low) to 5 (high) where the source gives it, else NaN
actors                  the parties named, "actor1; actor2"
community_source        True when the report came from community members (``community_source: true`` on
                        the layer, or ``source_type`` naming a column whose value says so); None when the
                        layer does not say
source_row              CSV line or feature number
geometry                point, EPSG:4326
======================  =====================================================================

Columns declared ``sensitive`` in the manifest (for example ``source`` or ``notes``, which may name the
community members who alerted the mission) are carried under their own names and listed in the layer's
``sensitive``; they are never shown or exported unless the role is cleared for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner._yamlfile import parse_yaml
from planner.errors import Collector
from planner.layers._table import Area, TableOptions, find_column, read_table, row_label, rows_text, text_column
from planner.layers.dates import DATE_FORMAT_FIX, parse_dates
from planner.layers.model import BeyondArea, Flag, VectorLayer
from planner.layers.numbers import parse_numbers
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, ThreatsSpec

THREAT_KINDS = (
    "attack_on_civilians",
    "sexual_violence",
    "armed_clash",
    "explosion",
    "unrest",
    "strategic",
    "other",
)
COLUMNS = [
    "event_id",
    "date",
    "date_precision_days",
    "kind",
    "subkind",
    "civilian_targeting",
    "one_sided",
    "fatalities",
    "location_precision_m",
    "severity",
    "actors",
    "community_source",
    "source_row",
    "geometry",
]

# Radius in metres implied by each precision code. ACLED geo_precision: 1 the named place, 2 near it or
# within its district, 3 only the region's capital. UCDP where_prec: 1 exact, 2 within 25 km, 3 second-
# order admin unit, 4 first-order unit, 5 along a line, 6 country, 7 at sea or in the air.
ACLED_PRECISION_M = {1: 2_000.0, 2: 25_000.0, 3: 100_000.0}
UCDP_PRECISION_M = {
    1: 1_000.0,
    2: 25_000.0,
    3: 50_000.0,
    4: 150_000.0,
    5: 50_000.0,
    6: 500_000.0,
    7: 500_000.0,
}
# Days a date may be off. ACLED time_precision: 1 day, 2 week, 3 month. UCDP date_prec: 1 day, 2 two to six
# days, 3 week, 4 month, 5 longer.
ACLED_DATE_DAYS = {1: 0.0, 2: 7.0, 3: 31.0}
UCDP_DATE_DAYS = {1: 0.0, 2: 6.0, 3: 7.0, 4: 31.0, 5: 365.0}

ACLED_REQUIRED = ("event_date", "event_type", "latitude", "longitude")
UCDP_REQUIRED = ("type_of_violence", "date_start")
# The columns each schema reads by name. Exports write them in lower case (today's ACLED and UCDP), in
# upper case (ACLED before 2019, Excel re-saves) or mixed: they are matched without case.
SCHEMA_COLUMNS = {
    "acled": (
        *ACLED_REQUIRED,
        "event_id_cnty",
        "event_id_no_cnty",
        "time_precision",
        "sub_event_type",
        "civilian_targeting",
        "actor1",
        "actor2",
        "geo_precision",
        "fatalities",
    ),
    "ucdp": (
        *UCDP_REQUIRED,
        "id",
        "date_end",
        "date_prec",
        "where_prec",
        "side_a",
        "side_b",
        "best",
        "latitude",
        "longitude",
    ),
    "generic": (),
}
GENERIC_WORDS = (  # first match wins: words in a free-text type
    ("sexual", "sexual_violence"),
    ("sgbv", "sexual_violence"),
    ("gbv", "sexual_violence"),
    ("rape", "sexual_violence"),
    ("civilian", "attack_on_civilians"),
    ("abduction", "attack_on_civilians"),
    ("killing", "attack_on_civilians"),
    ("looting", "attack_on_civilians"),
    ("raid", "attack_on_civilians"),
    ("reprisal", "attack_on_civilians"),
    ("shelling", "explosion"),
    ("explosion", "explosion"),
    ("ied", "explosion"),
    ("mortar", "explosion"),
    ("airstrike", "explosion"),
    ("clash", "armed_clash"),
    ("battle", "armed_clash"),
    ("fighting", "armed_clash"),
    ("armed", "armed_clash"),
    ("shooting", "armed_clash"),
    ("gunfire", "armed_clash"),
    ("protest", "unrest"),
    ("riot", "unrest"),
    ("demonstration", "unrest"),
    ("movement", "strategic"),
    ("checkpoint", "strategic"),
    ("recruitment", "strategic"),
)


@lru_cache(maxsize=1)
def acled_types() -> dict[str, dict[str, str]]:
    """ACLED's sub-event and event types (normalised text) -> threat kinds, from ``acled_types.yaml``."""
    text = resources.files("planner.layers").joinpath("acled_types.yaml").read_text(encoding="utf-8")
    table = parse_yaml(text)
    return {part: {_type_key(k): v for k, v in table[part].items()} for part in ("sub_event_types", "event_types")}


def _type_key(text: object) -> str:
    """'Battle - No change of territory ' -> 'battle-no change of territory' (exports vary in case and spaces)."""
    return re.sub(r"\s*([/-])\s*", r"\1", re.sub(r"\s+", " ", str(text).strip().lower()))


def _kinds_of(texts: pd.Series, table: dict[str, str]) -> pd.Series:
    """Each text's threat kind from ``table`` (None when it has none); each distinct text is looked up once."""
    return per_distinct(texts, lambda t: None if t is None else table.get(_type_key(t)))


def per_distinct(values: pd.Series, read: Callable[[Any], Any]) -> pd.Series:
    """``read`` of each cell, called once per distinct value (and once with None for the blanks): half a
    million reports hold a few dozen types and codes."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    found = np.empty(len(distinct) + 1, dtype=object)
    found[:] = [*(read(v) for v in distinct), read(None)]
    return pd.Series(found[codes], index=values.index, dtype=object)  # code -1, a blank, reads as None


def lowercase_schema_columns(frame: pd.DataFrame, schema: str) -> pd.DataFrame:
    """Rename a schema's columns written in another case ('EVENT_DATE') to the names it reads."""
    wanted = set(SCHEMA_COLUMNS[schema])
    renames = {c: c.lower() for c in frame.columns if c.lower() in wanted and c != c.lower()}
    renames = {c: new for c, new in renames.items() if new not in frame.columns}
    return frame.rename(columns=renames) if renames else frame


def generic_kind(text: object) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return "other"
    lowered = str(text).lower()
    if lowered in THREAT_KINDS:
        return lowered
    return next((kind for word, kind in GENERIC_WORDS if word in lowered), "other")


def read_threats(
    layer_id: str,
    spec: ThreatsSpec,
    path: Path,
    problems: Collector,
    *,
    area: Area | None = None,
    beyond: BeyondArea | None = None,
) -> VectorLayer | None:
    """A threat layer; with ``area`` and ``beyond``, the reports in the area and those beyond it that
    ``beyond`` says the checklist reads, plus every report with no readable date or a date in the future (for
    the checks to name). The layer's age and its dates' order are those of the whole file. Without ``beyond``
    nothing says which reports beyond the area are needed: the whole file is read."""
    whole = _WholeFile()
    wanted = None
    since = None
    if area is not None and beyond is not None:
        since = beyond.since_for(says_community=spec.community_source or spec.source_type is not None)
        wanted = partial(_wanted, spec=spec, since=since, whole=whole)
    else:
        area = None
    table = read_table(path, TableOptions.of(spec), problems, area=area, wanted=wanted)
    if table is None:
        return None
    frame = lowercase_schema_columns(table.frame, spec.schema_)
    columns = list(frame.columns)
    shown = ", ".join(c for c in columns if c not in ("source_row", "geometry"))
    for key, col in (
        *((f"sensitive[{c}]", c) for c in spec.sensitive),
        *((f"keep[{c}]", c) for c in spec.keep),
        *((("source_type", spec.source_type),) if spec.source_type else ()),
    ):
        if col not in columns:
            problems.add(
                key,
                f"column '{col}' is not in the file",
                f"correct the name (a misspelt sensitive column would leave the real one unprotected); "
                f"columns are: {shown}",
            )
    required = {"acled": ACLED_REQUIRED, "ucdp": UCDP_REQUIRED, "generic": ()}[spec.schema_]
    missing = [c for c in required if c not in columns]
    if missing:
        problems.add(
            "",
            f"{spec.schema_.upper()} column(s) missing: {', '.join(missing)}",
            f"export the full {spec.schema_.upper()} table, or use `schema: generic` with column keys",
        )
    if problems.problems:
        return None
    label = row_label(path)
    reader = {"acled": _acled, "ucdp": _ucdp, "generic": _generic}[spec.schema_]
    reading = _Reading(problems, label, table.decimal, table.read_as, whole.order)
    normal = reader(frame, spec, reading)
    if normal is None or problems.problems:
        return None
    unrecognised: np.ndarray | None = normal.pop("unrecognised", None)  # type: ignore[assignment]
    normal["community_source"] = _community(frame, spec)
    normal["source_row"] = frame["source_row"].to_numpy()
    keep = [c for c in [*spec.keep, *spec.sensitive] if c not in COLUMNS]
    for col in keep:
        normal[col] = frame[col].to_numpy()
    out = frame[["geometry"]].assign(**{c: normal[c] for c in COLUMNS[:-1] + keep})
    newest = whole.newest if whole.newest is not None else (out["date"].max() if len(out) else None)
    as_of = spec.as_of or (newest.date() if newest is not None and pd.notna(newest) else None)
    layer = VectorLayer(
        id=layer_id,
        kind="threats",
        path=path,
        as_of=as_of,
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["threats"],
        sensitive=tuple(spec.sensitive),
        description=spec.description,
        frame=out[COLUMNS[:-1] + keep + ["geometry"]],
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
        area=table.area,
        complete_since=since if table.area is not None else None,
        file_rows=whole.rows if table.area is not None else None,
    )
    if unrecognised is not None and unrecognised.any():
        texts = sorted(set(normal["subkind"][unrecognised].fillna("(blank)").astype(str)))  # type: ignore[index]
        rows = tuple(frame.loc[unrecognised, "source_row"])
        layer.flags.append(
            Flag(
                "unknown_types",
                layer_id,
                f"{len(rows)} report(s) in '{layer_id}' have an event type Primum does not know "
                f"({', '.join(texts[:6])}): they count as 'other' threats; check the export's ACLED version",
                rows,
            )
        )
    future = out.loc[out["date"] > pd.Timestamp(date.today()), "source_row"].tolist()
    if future:
        layer.flags.append(
            Flag(
                "future_dates",
                layer_id,
                f"{len(future)} report(s) in '{layer_id}' are dated after today ({rows_text(future)}): a date in "
                "the future cannot be right; check the date column and its day/month order",
                tuple(future),
            )
        )
    return layer


@dataclass(frozen=True)
class _Reading:
    """What every part of a threat file's reading shares: where problems go, how rows are counted, the
    file's decimal mark, the report of how it was read (each date column's order is added to it), and the
    order the whole file's dates run in when only some of its rows are read."""

    problems: Collector
    label: str
    decimal: str
    read_as: dict[str, str]
    order: str | None = None


@dataclass
class _WholeFile:
    """What the dates of every row of a file read for a study area say: the order they run in and the newest."""

    order: str | None = None
    newest: pd.Timestamp | None = None
    rows: int | None = None


def _date_column(columns: list[str], spec: ThreatsSpec) -> str | None:
    """The column of a report's date, among a file's own column names (as the schema's reader finds it)."""
    if spec.schema_ == "generic":
        return find_column(columns, spec.date, ("date", "event_date", "incident_date", "reported_date"))
    if spec.date is not None:
        return spec.date if spec.date in columns else None
    return find_column(columns, None, ("event_date",) if spec.schema_ == "acled" else ("date_start",))


def _wanted(
    columns: list[str], column: Callable[[str], pd.Series], *, spec: ThreatsSpec, since: date | None, whole: _WholeFile
) -> np.ndarray:
    """The rows to read beyond the study area: dated from ``since``, dated in the future, or with no date
    that reads (all rows when the dates cannot be read without a key: the whole reading names why)."""
    name = _date_column(columns, spec)
    cells = column(name if name is not None else columns[0])
    whole.rows = len(cells)
    if name is None:
        return np.ones(len(cells), dtype=bool)
    read = parse_dates(cells, spec.date_format)
    if read.problem is not None:
        return np.ones(len(cells), dtype=bool)
    whole.order = read.order if read.order in ("day-first", "month-first") else None
    whole.newest = read.dates.max() if read.dates.notna().any() else None
    dates = read.dates
    keep = dates.isna() | (dates > pd.Timestamp(date.today()))
    if since is not None:
        keep |= dates >= pd.Timestamp(since)
    return keep.to_numpy(dtype=bool)


def _community(frame: pd.DataFrame, spec: ThreatsSpec) -> np.ndarray:
    """Which reports came from community members: the whole layer, or rows whose source type says so."""
    if spec.community_source:
        return np.ones(len(frame), dtype=bool)
    if spec.source_type is None:  # the layer does not say: unknown, not "no"
        return np.full(len(frame), None, dtype=object)
    words = [w.lower() for w in spec.community_values]
    pattern = re.compile("|".join(rf"\b{re.escape(w)}\b" for w in words), re.IGNORECASE)
    texts = text_column(frame[spec.source_type])
    says = {v: bool(words) and bool(pattern.search(v)) for v in texts.dropna().unique()}  # each text once
    return texts.map(says).fillna(False).to_numpy(dtype=bool)


def _dates(frame: pd.DataFrame, column: str, reading: _Reading, date_format: str | None = None) -> pd.Series:
    read = parse_dates(frame[column], date_format, reading.order)
    reading.read_as[f"dates in '{column}'"] = reading.order or read.order  # the whole file's, when part is read
    if read.problem is not None:
        reading.problems.add("date_format", f"'{column}' {read.problem}", DATE_FORMAT_FIX)
        return read.dates
    dates, bad = read.dates, read.unreadable
    missing = frame[column].isna()
    if bad.any() or missing.any():
        reading.problems.add_rows(
            frame.loc[bad | missing, "source_row"],
            reading.label,
            f"'{column}' is missing or not a date",
            "write dates as YYYY-MM-DD",
        )
    return dates


def _ids(frame: pd.DataFrame, declared: str | None, names: tuple[str, ...]) -> pd.Series:
    """The source's event ids; rows without one are named by their line ('line:12')."""
    column = find_column(list(frame.columns), declared, names)
    fallback = "line:" + frame["source_row"].astype(str)
    if column is None:
        return fallback
    ids = frame[column].astype(object)
    return ids.where(ids.notna(), fallback).astype(str)


def _codes(frame: pd.DataFrame, column: str | None, table: dict[int, float], default: float) -> pd.Series:
    if column is None or column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=float)
    # A blank or unknown code: the widest default
    return per_distinct(frame[column], lambda v: table.get(_code(v), default)).astype(float)


def _code(value: object) -> Any:
    number = pd.to_numeric(pd.Series([value], dtype=object), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def _numbers(frame: pd.DataFrame, column: str | None, reading: _Reading) -> pd.Series:
    if column is None or column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    values, bad = parse_numbers(frame[column], reading.decimal)
    if bad.any():
        reading.problems.add_rows(
            frame.loc[bad, "source_row"],
            reading.label,
            f"'{column}' is not a number",
            "write a plain number, or leave it empty when unknown",
        )
    return values


def _text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None or column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=object)
    return text_column(frame[column])


def _acled(frame: pd.DataFrame, spec: ThreatsSpec, reading: _Reading) -> dict[str, object] | None:
    types = acled_types()
    event_type = _text(frame, "event_type")
    sub = _text(frame, "sub_event_type")
    by_sub = _kinds_of(sub, types["sub_event_types"])
    by_event = _kinds_of(event_type, types["event_types"])
    targeting = _text(frame, "civilian_targeting").fillna("").astype(str).str.strip().str.lower()
    civilian = targeting.str.startswith("civilian") | (by_event == "attack_on_civilians")
    kind = np.select(
        [by_sub == "sexual_violence", civilian, by_sub.notna(), by_event.notna()],
        ["sexual_violence", "attack_on_civilians", by_sub.fillna("other"), by_event.fillna("other")],
        default="other",
    )
    actors = _text(frame, "actor1").fillna("").astype(str) + "; " + _text(frame, "actor2").fillna("").astype(str)
    return {
        "event_id": _ids(frame, spec.id, ("event_id_cnty", "event_id_no_cnty")),
        "date": _dates(frame, spec.date or "event_date", reading, spec.date_format),
        "date_precision_days": _codes(frame, "time_precision", ACLED_DATE_DAYS, 31),
        "kind": kind,
        "subkind": sub.fillna(event_type),
        "civilian_targeting": civilian.to_numpy(),
        "one_sided": np.zeros(len(frame), dtype=bool),
        "fatalities": _numbers(frame, "fatalities", reading),
        "location_precision_m": _codes(frame, "geo_precision", ACLED_PRECISION_M, 100_000.0),
        "severity": pd.Series(np.nan, index=frame.index),
        "actors": actors.str.strip("; ").replace("", None),
        "unrecognised": (by_sub.isna() & by_event.isna() & ~civilian).to_numpy(),
    }


def _ucdp(frame: pd.DataFrame, spec: ThreatsSpec, reading: _Reading) -> dict[str, object] | None:
    violence = pd.to_numeric(frame["type_of_violence"], errors="coerce")
    bad = violence.isna() | ~violence.isin([1, 2, 3])
    if bad.any():
        reading.problems.add_rows(
            frame.loc[bad, "source_row"],
            reading.label,
            "'type_of_violence' must be 1, 2 or 3",
            "use the UCDP codes: 1 state-based, 2 non-state, 3 one-sided",
        )
        return None
    one_sided = (violence == 3).to_numpy()
    start = _dates(frame, spec.date or "date_start", reading, spec.date_format)
    days = _codes(frame, "date_prec", UCDP_DATE_DAYS, 31)
    if "date_end" in frame.columns:
        end = parse_dates(frame["date_end"], spec.date_format, reading.order).dates
        span = (end - start).dt.days
        days = np.maximum(days, span.fillna(0).to_numpy())
    subkind = violence.map({1: "state-based", 2: "non-state", 3: "one-sided"})
    actors = _text(frame, "side_a").fillna("").astype(str) + "; " + _text(frame, "side_b").fillna("").astype(str)
    return {
        "event_id": _ids(frame, spec.id, ("id",)),
        "date": start,
        "date_precision_days": pd.Series(days, index=frame.index).astype(float),
        "kind": np.where(one_sided, "attack_on_civilians", "armed_clash"),
        "subkind": subkind,
        "civilian_targeting": one_sided,
        "one_sided": one_sided,
        "fatalities": _numbers(frame, spec.fatalities or "best", reading),
        "location_precision_m": _codes(frame, "where_prec", UCDP_PRECISION_M, 150_000.0),
        "severity": pd.Series(np.nan, index=frame.index),
        "actors": actors.str.strip("; ").replace("", None),
    }


def _generic(frame: pd.DataFrame, spec: ThreatsSpec, reading: _Reading) -> dict[str, object] | None:
    columns = list(frame.columns)
    date_col = find_column(columns, spec.date, ("date", "event_date", "incident_date", "reported_date"))
    type_col = find_column(columns, spec.type, ("type", "event_type", "incident_type", "category"))
    for key, declared, found in (("date", spec.date, date_col), ("type", spec.type, type_col)):
        if found is None:
            what = f"column '{declared}' is not in the file" if declared else f"no {key} column found"
            reading.problems.add(
                key,
                what,
                f"declare it, e.g. `{key}: <column>`; columns are: "
                f"{', '.join(c for c in columns if c not in ('source_row', 'geometry'))}",
            )
    if date_col is None or type_col is None:
        return None
    raw_type = _text(frame, type_col)
    kind = per_distinct(
        raw_type, lambda t: spec.type_map.get(str(t)) if t is not None and str(t) in spec.type_map else generic_kind(t)
    )
    unknown = sorted(set(kind) - set(THREAT_KINDS))
    if unknown:
        reading.problems.add(
            "type_map",
            f"unknown threat kind(s) {', '.join(unknown)}",
            f"use one of {', '.join(THREAT_KINDS)}",
        )
        return None
    severity = _numbers(frame, find_column(columns, spec.severity, ("severity",)), reading)
    out_of_range = severity.notna() & ~severity.between(1, 5)
    if out_of_range.any():
        reading.problems.add(
            rows_text(frame.loc[out_of_range, "source_row"], reading.label),
            "severity must be between 1 and 5",
            "use 1 (low) to 5 (high), or leave it empty",
        )
    # Precision in metres when the log gives it; else ACLED's or UCDP's precision codes when the log kept
    # them (a re-saved ACLED or UCDP extract read as a generic log keeps what they say)
    precision_col = find_column(columns, spec.precision, ("precision_m", "location_precision_m"))
    if precision_col:
        precision = _numbers(frame, precision_col, reading).fillna(1_000.0)
    elif find_column(columns, None, ("geo_precision",)):
        precision = _codes(frame, find_column(columns, None, ("geo_precision",)), ACLED_PRECISION_M, 100_000.0)
    elif find_column(columns, None, ("where_prec",)):
        precision = _codes(frame, find_column(columns, None, ("where_prec",)), UCDP_PRECISION_M, 150_000.0)
    else:
        precision = pd.Series(1_000.0, index=frame.index)
    if find_column(columns, None, ("time_precision",)):
        date_days = _codes(frame, find_column(columns, None, ("time_precision",)), ACLED_DATE_DAYS, 31)
    elif find_column(columns, None, ("date_prec",)):
        date_days = _codes(frame, find_column(columns, None, ("date_prec",)), UCDP_DATE_DAYS, 31)
    else:
        date_days = pd.Series(0.0, index=frame.index)
    civilian = np.isin(kind.to_numpy(), ["attack_on_civilians", "sexual_violence"])
    actor_col = find_column(columns, None, ("actors", "actor", "perpetrator", "actor1"))
    return {
        "event_id": _ids(frame, spec.id, ("event_id", "id", "incident_id")),
        "date": _dates(frame, date_col, reading, spec.date_format),
        "date_precision_days": date_days,
        "kind": kind.to_numpy(),
        "subkind": raw_type,
        "civilian_targeting": civilian,
        "one_sided": np.zeros(len(frame), dtype=bool),
        "fatalities": _numbers(frame, find_column(columns, spec.fatalities, ("fatalities", "deaths", "best")), reading),
        "location_precision_m": precision,
        "severity": severity,
        "actors": _text(frame, actor_col),
    }
