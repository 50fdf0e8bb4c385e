"""Dates as field files write them, read the same way for a whole column, never guessed cell by cell.

ISO dates, date-times and written dates (ACLED's ``03 December 2020``, ``9-May-20``) are unambiguous. A
numeric ``03/04/2025`` is not: a French Excel save writes day first, an American one month first. Parsed cell
by cell, a column of day-first dates would be read month-first whenever the day is 12 or less and day-first
otherwise, moving recent attacks into the past without a word. So the order is read from the column: a day
above 12 in the first place means day-first, in the second place month-first; a column that holds both, or
whose every date could be either, is refused with the key that settles it (``date_format``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

# dd/mm/yyyy, mm/dd/yyyy, with /, . or - and an optional time after it.
_NUMERIC = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:[ T].*)?\s*$")


@dataclass(frozen=True)
class DateColumn:
    """A column's dates (no time zone, at midnight), the cells that could not be read, and how it was read."""

    dates: pd.Series
    unreadable: pd.Series  # bool, aligned with dates
    order: str  # "day-first", "month-first", "declared" or "unambiguous"
    problem: str | None = None  # the column cannot be read without `date_format`: why


def parse_dates(values: pd.Series, date_format: str | None = None, order: str | None = None) -> DateColumn:
    """Read a column of dates (see the module's docstring); ``date_format`` (strftime) settles any doubt.
    ``order`` ('day-first' or 'month-first') is the order the whole column was read in, for some of its rows
    read again: a few rows alone may not show it.

    Each distinct text is read once: a national table of half a million reports holds a few thousand days.
    """
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype(object)  # Arrow text stays so
    codes, distinct = pd.factorize(text, use_na_sentinel=True)
    if len(distinct) * 2 >= len(values):
        return _parse_dates(values, date_format, order)
    once = _parse_dates(pd.Series([*distinct, None], dtype=object), date_format, order)
    codes[codes < 0] = len(distinct)  # an empty cell reads as the None at the end: no date, nothing unreadable
    dates, unreadable = once.dates.to_numpy()[codes], once.unreadable.to_numpy()[codes]
    return DateColumn(
        pd.Series(dates, index=values.index), pd.Series(unreadable, index=values.index), once.order, once.problem
    )


def _parse_dates(values: pd.Series, date_format: str | None, order: str | None = None) -> DateColumn:
    raw = values.astype(object)
    text = raw.where(raw.notna(), "").astype(str).str.strip()
    present = text != ""
    if date_format:
        parsed = _to_datetime(text.where(present, None), format=date_format)
        return _column(parsed, present, "declared")
    parts = text.str.extract(_NUMERIC)
    numeric = parts[0].notna()
    if not numeric.any():
        parsed = _to_datetime(text.where(present, None), format="mixed")
        return _column(parsed, present, "unambiguous")
    first, second = parts.loc[numeric, 0].astype(int), parts.loc[numeric, 1].astype(int)
    if order in ("day-first", "month-first"):
        return _ordered(text, present, numeric, values.index, dayfirst=order == "day-first")
    # Only a cell that is a date one way and not the other says which way the column runs (31/31 is neither).
    day_first = first[(first > 12) & (first <= 31) & (second <= 12)]
    month_first = second[(second > 12) & (second <= 31) & (first <= 12)]
    if len(day_first) and len(month_first):
        problem = (
            f"mixes day-first dates ('{text[day_first.index[0]]}') and month-first dates "
            f"('{text[month_first.index[0]]}')"
        )
        return _column(pd.Series(pd.NaT, index=values.index), present, "mixed", problem)
    if not len(day_first) and not len(month_first):
        either = first[(first <= 12) & (second <= 12)]
        if not len(either):  # no numeric cell is a date either way (31/31/2025): each is named as unreadable
            return _column(_written(text, present & ~numeric, values.index), present, "unambiguous")
        problem = f"every date could be day-first or month-first (such as '{text[either.index[0]]}')"
        return _column(pd.Series(pd.NaT, index=values.index), present, "ambiguous", problem)
    return _ordered(text, present, numeric, values.index, dayfirst=bool(len(day_first)))


def _ordered(text: pd.Series, present: pd.Series, numeric: pd.Series, index: pd.Index, *, dayfirst: bool) -> DateColumn:
    parsed = _written(text, present & ~numeric, index)
    parsed[numeric] = _to_datetime(text[numeric], format="mixed", dayfirst=dayfirst)
    return _column(parsed, present, "day-first" if dayfirst else "month-first")


def _written(text: pd.Series, cells: pd.Series, index: pd.Index) -> pd.Series:
    """The unambiguous cells (ISO, written months) parsed; every other cell left empty."""
    parsed = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if cells.any():
        parsed[cells] = _to_datetime(text[cells], format="mixed")
    return parsed


def _to_datetime(text: pd.Series, **how: Any) -> pd.Series:
    """``text`` as UTC times; a cell that is no date, or a date beyond the range of times kept (year 1, as in
    '13/1/001'), is empty, for the reader to name as unreadable."""
    parsed = pd.to_datetime(text, errors="coerce", utc=True, **how)
    inside = (parsed >= _EARLIEST) & (parsed <= _LATEST)
    return parsed.where(inside).astype("datetime64[ns, UTC]")


_EARLIEST, _LATEST = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")


def _column(parsed: pd.Series, present: pd.Series, order: str, problem: str | None = None) -> DateColumn:
    dates = pd.to_datetime(parsed, utc=True).dt.tz_localize(None).dt.normalize()
    unreadable = present & dates.isna() if problem is None else pd.Series(False, index=present.index)
    return DateColumn(dates, unreadable, order, problem)


DATE_FORMAT_FIX = "set `date_format:` in the manifest, e.g. '%d/%m/%Y' for day-first dates"
