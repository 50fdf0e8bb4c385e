"""Sites: infrastructure and protected places (health, schools, worship, markets, water, power, bridges ...).

Normalised frame columns:

============  ===============================================================================
site_id       identifier from the file (``id`` column, OSM id) or ``<layer>:<row>``
name          name from the file, or None
category      one of ``CATEGORIES``
subtype       the tag value or source value that gave the category (``hospital``, ``water_well``)
functional    True / False from a declared status column, None when unknown
status        the status text as written in the file, or None
hours         opening hours in the OSM ``opening_hours`` syntax (markets, clinics), or None
usual_hours   a place of worship's usual service times by its ``religion`` (``worship_times.yaml``) when it gives no
              hours; the checklist checks them against the window and says they are the usual ones
source_row    CSV line or feature number in the file
geometry      point or polygon, EPSG:4326
============  ===============================================================================
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from opening_hours import OpeningHours, ParserError, State  # type: ignore[attr-defined]

from planner._yamlfile import parse_yaml
from planner.errors import Collector
from planner.layers._table import TableOptions, find_column, read_table, rows_text, text_column
from planner.layers.dates import DATE_FORMAT_FIX, parse_dates
from planner.layers.model import Flag, VectorLayer
from planner.layers.repeats import group_repeats, grouped_flag
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, SitesSpec

ID_COLUMNS = ("site_id", "id", "osm_id", "@id", "fid")
NAME_COLUMNS = (
    "name",
    "name:en",
    "site_name",
    "facility_name",
    "health facility name",
    "facil_name",
    "market",
    "market_name",
    "mktname",
    "nom",
)
SITE_COLUMNS = [
    "site_id",
    "name",
    "category",
    "subtype",
    "functional",
    "status",
    "status_class",
    "hours",
    "usual_hours",
    "occupancy",
    "source_row",
    "geometry",
]
HOURS_COLUMNS = ("opening_hours", "hours")
RELIGION_COLUMNS = ("religion",)
DATE_COLUMNS = ("date", "reported_date", "last_updated", "last_update", "survey_date")
OCCUPANCY_COLUMNS = ("occupancy", "capacity")
STATUS_COLUMNS = (
    "functional_status",
    "functional status",
    "functionality",
    "status",
    "statut",
    "etat",
    "état",
    "operational_status",
    "operational status",
)
STATUS_CLASSES = ("functional", "partly_functional", "not_functional", "unknown")
StatusClass = Literal["functional", "partly_functional", "not_functional", "unknown"]


@lru_cache(maxsize=1)
def status_words() -> dict[str, tuple[str, ...]]:
    """The status vocabulary (``status_words.yaml``): status class -> plain phrases, in the order tried."""
    text = resources.files("planner.layers").joinpath("status_words.yaml").read_text(encoding="utf-8")
    table = parse_yaml(text)
    return {cls: tuple(_plain(str(w)) for w in table[cls]) for cls in STATUS_CLASSES}


def _plain(text: str) -> str:
    """Lower case, no accents, '_' and '-' as spaces, single spaces: how status words are compared."""
    lowered = text.strip().lower().replace("_", " ").replace("-", " ")
    bare = "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))
    return " ".join(bare.split())


def status_class(text: object, status_map: Mapping[str, str] | None = None) -> StatusClass | None:
    """What a status text says: one of ``STATUS_CLASSES``; None for a text no list knows (flagged by the
    reader, counted as unknown). A blank cell is ``unknown``."""
    if text is None or (isinstance(text, float) and pd.isna(text)) or not str(text).strip():
        return "unknown"
    plain = _plain(str(text))
    mapped = {_plain(k): v for k, v in (status_map or {}).items()}.get(plain)
    if mapped is not None:
        return mapped  # type: ignore[return-value]
    words = status_words()
    if plain in words["unknown"]:
        return "unknown"
    padded = f" {plain}"
    for cls in ("not_functional", "partly_functional", "functional"):
        # a phrase at the start of a word, whatever its ending ('fermée', 'détruite', 'fonctionnelle')
        if any(f" {phrase}" in padded for phrase in words[cls]):
            return cls
    return None


def functional_from_status(text: object, status_map: Mapping[str, str] | None = None) -> bool | None:
    """Whether a status text says the site works (partly working counts as working); None when unknown."""
    cls = status_class(text, status_map)
    return None if cls in (None, "unknown") else cls != "not_functional"


@lru_cache(maxsize=1)
def osm_categories() -> dict[str, dict[str, str]]:
    """The OSM tag -> category table, in the order tags are tried."""
    text = resources.files("planner.layers").joinpath("osm_categories.yaml").read_text(encoding="utf-8")
    return {tag: {str(k): v for k, v in values.items()} for tag, values in parse_yaml(text).items()}


def osm_category(tags: dict[str, object]) -> tuple[str, str | None]:
    """Category and subtype of a feature from its OSM tags; ('other', None) when no tag matches."""
    for tag, table in osm_categories().items():
        value = tags.get(tag)
        if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() in {"", "no"}:
            continue
        text = str(value).strip()
        for pattern, category in table.items():
            if fnmatchcase(text, pattern):
                return category, text
    return "other", None


def readable_hours(text: str) -> bool:
    try:
        OpeningHours(text)
    except ParserError:
        return False
    return True


def open_during(text: object, start: datetime, end: datetime) -> bool | None:
    """Whether opening hours ``text`` overlap the local window [start, end); None when unknown."""
    if text is None or (isinstance(text, float) and pd.isna(text)) or not readable_hours(str(text)):
        return None
    local_start, local_end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    states = [interval[2] for interval in OpeningHours(str(text)).intervals(local_start, local_end)]
    if any(state == State.OPEN for state in states):
        return True
    if any(state == State.UNKNOWN for state in states):
        return None
    return False


@lru_cache(maxsize=1)
def worship_times() -> dict[str, str]:
    """Usual service hours by religion (``worship_times.yaml``), for places of worship that give none."""
    text = resources.files("planner.layers").joinpath("worship_times.yaml").read_text(encoding="utf-8")
    return {str(k).casefold(): str(v) for k, v in parse_yaml(text).items()}


def read_sites(layer_id: str, spec: SitesSpec, path: Path, problems: Collector) -> VectorLayer | None:
    table = read_table(path, TableOptions.of(spec), problems)
    if table is None:
        return None
    frame = table.frame
    columns = list(frame.columns)
    for key, column in (
        ("id", spec.id),
        ("name", spec.name),
        ("status", spec.status),
        ("hours", spec.hours),
        ("religion", spec.religion),
        ("occupancy", spec.occupancy),
        ("category_column", spec.category_column),
        *((f"keep[{c}]", c) for c in spec.keep),
        *((f"sensitive[{c}]", c) for c in spec.sensitive),
    ):
        if column is not None and column not in columns:
            problems.add(
                key,
                f"column '{column}' is not in the file",
                f"columns are: {', '.join(c for c in columns if c not in ('source_row', 'geometry'))}",
            )
    if problems.problems:
        return None

    if spec.category is not None:
        category = pd.Series(spec.category, index=frame.index)
        subtype = pd.Series(None, index=frame.index, dtype=object)
    elif spec.category_column is not None:
        raw = text_column(frame[spec.category_column])
        category = raw.map(spec.category_map).fillna("other").astype(object)
        subtype = raw
    else:
        tags = frame.drop(columns=["geometry"]).to_dict("records")
        pairs = [osm_category(t) for t in tags]
        category = pd.Series([p[0] for p in pairs], index=frame.index)
        subtype = pd.Series([p[1] for p in pairs], index=frame.index, dtype=object)

    id_col = find_column(columns, spec.id, ID_COLUMNS)
    name_col = find_column(columns, spec.name, NAME_COLUMNS)
    status_col = find_column(columns, spec.status, STATUS_COLUMNS)
    status = text_column(frame[status_col]) if status_col else pd.Series(None, index=frame.index, dtype=object)
    # Each distinct status text is read once: a national list repeats a handful of words thousands of times
    meaning = {v: status_class(v, spec.status_map) for v in status.dropna().unique()}
    classes = status.map(meaning).astype(object).where(status.notna(), "unknown")
    hours_col = find_column(columns, spec.hours, HOURS_COLUMNS)
    hours = text_column(frame[hours_col]) if hours_col else pd.Series(None, index=frame.index, dtype=object)
    religion_col = find_column(columns, spec.religion, RELIGION_COLUMNS)
    religion = text_column(frame[religion_col]) if religion_col else pd.Series(None, index=frame.index, dtype=object)
    usual = religion.str.casefold().map(worship_times()).where((category == "worship") & hours.isna())
    occupancy_col = find_column(columns, spec.occupancy, OCCUPANCY_COLUMNS)
    occupancy = (
        pd.to_numeric(frame[occupancy_col], errors="coerce")
        if occupancy_col
        else pd.Series(np.nan, index=frame.index, dtype=float)
    )
    out = frame.assign(
        site_id=(frame[id_col].astype(str) if id_col else layer_id + ":" + frame["source_row"].astype(str)),
        name=text_column(frame[name_col]) if name_col else None,
        category=category,
        subtype=subtype,
        status=status,
        functional=classes.map(lambda c: None if c in (None, "unknown") else c != "not_functional").astype(object),
        status_class=classes.fillna("unknown"),
        hours=hours,
        usual_hours=usual.astype(object).where(usual.notna(), None),
        occupancy=occupancy,
    )
    # A price table lists a market once per commodity and week: one site each, its latest row
    date_col = find_column(columns, spec.date, DATE_COLUMNS)
    dates = None
    if date_col is not None:
        read = parse_dates(frame[date_col], spec.date_format)
        table.read_as[f"dates in '{date_col}'"] = read.order
        if read.problem is not None:
            problems.add("date_format", f"'{date_col}' {read.problem}", DATE_FORMAT_FIX)
            return None
        dates = read.dates
    rule = spec.repeated or ("latest" if dates is not None else "first")
    if rule == "latest" and dates is None:
        problems.add("repeated", "`repeated: latest` needs a date column", "name it with `date: <column>`")
        return None
    # The same id (or name) at the same place and of the same category is one site
    names = (out["site_id"] if id_col else out["name"]).astype(object)
    out, grouped = group_repeats(out, names.where(names.isna(), names.astype(str) + "|" + out["category"]), rule, dates)
    keep = [c for c in [*spec.keep, *spec.sensitive] if c not in SITE_COLUMNS]
    layer = VectorLayer(
        id=layer_id,
        kind="sites",
        path=path,
        as_of=spec.as_of,
        max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["sites"],
        sensitive=tuple(spec.sensitive),
        description=spec.description,
        frame=out[SITE_COLUMNS[:-1] + keep + ["geometry"]],
        source_crs=table.source_crs.to_string(),
        read_as=table.read_as,
    )
    if grouped is not None:
        layer.flags.append(grouped_flag(layer_id, grouped, "sites"))
    readable = {text: readable_hours(text) for text in out["hours"].dropna().unique() if isinstance(text, str) and text}
    unreadable = [
        row
        for row, text in zip(out["source_row"], out["hours"], strict=True)
        if isinstance(text, str) and text and not readable[text]
    ]
    if unreadable:
        layer.flags.append(
            Flag(
                "hours_unreadable",
                layer_id,
                f"{len(unreadable)} site(s) in '{layer_id}' have opening hours that cannot be read "
                "(OSM opening_hours syntax expected): their hours count as unknown",
                tuple(unreadable),
            )
        )
    repeated = out.loc[out["site_id"].duplicated(keep=False), "source_row"].tolist()
    if id_col and repeated:
        layer.flags.append(
            Flag(
                "duplicate_id",
                layer_id,
                f"{len(repeated)} sites in '{layer_id}' share an id with another ({rows_text(repeated)}): the same "
                "site may be listed twice, or two sites under one id; check the file",
                tuple(repeated),
            )
        )
    if occupancy_col:
        unread = frame.loc[occupancy.isna() & frame[occupancy_col].notna(), "source_row"].tolist()
        if unread:
            layer.flags.append(
                Flag(
                    "occupancy_unreadable",
                    layer_id,
                    f"{len(unread)} site(s) in '{layer_id}' have an occupancy that is not a number in "
                    f"'{occupancy_col}': their people present are assumed from the category",
                    tuple(unread),
                )
            )
    unrecognised = frame.loc[classes.isna(), "source_row"].tolist()
    if unrecognised:
        words = sorted({str(v) for v in status[classes.isna()]})
        layer.flags.append(
            Flag(
                "status_unrecognised",
                layer_id,
                f"{len(unrecognised)} site(s) in '{layer_id}' have a status Primum does not know "
                f"({', '.join(words[:6])}): counted as unknown, not as working; say what each means with "
                f"`status_map:` (functional, partly_functional, not_functional, unknown)",
                tuple(unrecognised),
            )
        )
    if status_col:
        unknown = out.loc[out["functional"].isna(), "source_row"].tolist()
        if unknown:
            layer.flags.append(
                Flag(
                    "status_unknown",
                    layer_id,
                    f"{len(unknown)} site(s) in '{layer_id}' have no functional status: "
                    "they are treated as possibly functional",
                    tuple(unknown),
                )
            )
    return layer
