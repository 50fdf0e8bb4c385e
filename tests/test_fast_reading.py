"""Large tables are read the fast way where they allow it (Arrow's CSV parser, one vectorised conversion of a
column of numbers): the cells, lines and numbers must be exactly those of the careful reading, whatever the
file holds."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import Collector
from planner.layers import tabular
from planner.layers._table import text_column
from planner.layers.dates import _parse_dates, parse_dates
from planner.layers.numbers import _careful_numbers, parse_numbers

# Mostly plain cells, now and then one with a separator, quote, space or line break in it
PLAIN = st.text(alphabet="ab1 .-é", max_size=6)
CELL = st.one_of(PLAIN, PLAIN, PLAIN, PLAIN, st.text(alphabet=list('ab,;" \n\r\t'), max_size=4))


def _careful(text: str, sep: str) -> tuple[object, object, dict[int, str]]:
    return tabular._csv(text, sep, Collector("t.csv"))


@st.composite
def tables(draw: st.DrawFn) -> list[list[str]]:
    """A header and rows of its width, now and then one longer or shorter (a file cut short)."""
    header = draw(
        st.lists(st.sampled_from(["id", "name", "lat", "lon", " date", "type"]), min_size=1, max_size=4, unique=True)
    )
    width = len(header)
    rows = draw(
        st.lists(
            st.one_of(*[st.lists(CELL, min_size=width, max_size=width)] * 6, st.lists(CELL, max_size=5)), max_size=8
        )
    )
    return [header, *rows]


@settings(max_examples=300, deadline=None)
@given(
    table=tables(),
    blanks=st.lists(st.integers(0, 10), max_size=3),
    sep=st.sampled_from([",", ";"]),
    ending=st.sampled_from(["\n", "\r\n"]),
    last_newline=st.booleans(),
)
def test_the_fast_reading_gives_the_careful_readings_cells_and_lines(
    table: list[list[str]], blanks: list[int], sep: str, ending: str, last_newline: bool
) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator=ending).writerows(table)
    lines = out.getvalue().split(ending)
    for at in blanks:  # blank lines here and there, as hand-edited files have
        lines.insert(min(at + 1, len(lines)), "")
    text = ending.join(lines)
    if not last_newline:
        text = text.rstrip("\r\n")
    fast = tabular._plain_csv(text.encode(), sep)
    if fast is None:
        return  # the careful reading takes it
    frame, starts, ragged = _careful(text, sep)
    assert not ragged
    assert fast[0].equals(frame), (text, fast[0], frame)
    assert np.array_equal(fast[1], np.asarray(starts)), (text, fast[1], starts)


def test_the_fast_reading_takes_a_plain_export_and_leaves_the_rest() -> None:
    assert tabular._plain_csv(b"id,name\n1,Bor\n\n2, Nyal\r\n", ",") is not None
    assert tabular._plain_csv(b'id,note\n1,"two\nlines"\n', ",") is None
    assert tabular._plain_csv(b"id,name\n1,Bor,extra\n", ",") is None
    assert tabular._plain_csv(b'id,name\n1, "Bor"\n', ",") is None
    assert tabular._plain_csv(b'id,x\n "a,b",1\n', ",") is None  # a quote after a space, at a line's start
    assert tabular._plain_csv(b'id\n "a\nb"\n', ",") is None  # ... holding a line break
    assert tabular._plain_csv(b"id,name\n1,Bor\n  \n2,Nyal\n", ",") is None  # a line of spaces
    assert tabular._plain_csv(b"id,id\n1,2\n", ",") is None


NUMBERISH = st.text(alphabet=list("0123456789.,-+ e\u00a0–x١"), max_size=8)


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), NUMBERISH, st.from_regex(r"-?[0-9]{1,3}\.[0-9]{1,5}", fullmatch=True))))
def test_a_column_of_numbers_reads_as_the_careful_reading_reads_it(cells: list[str | None]) -> None:
    values = pd.Series(cells, dtype=object)
    for decimal in (".", ","):
        numbers, unreadable = parse_numbers(values, decimal)
        careful, careful_unreadable = _careful_numbers(values, decimal)
        assert numbers.equals(careful), (cells, decimal)
        assert unreadable.equals(careful_unreadable), (cells, decimal)


DATEISH = st.one_of(
    st.none(),
    st.just(""),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d %B %Y")),
    st.text(alphabet="0123456789/-. x", max_size=10),
)


@settings(max_examples=100, deadline=None)
@given(pool=st.lists(DATEISH, min_size=1, max_size=6), picks=st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_a_column_of_repeated_dates_reads_as_each_cell_read_on_its_own(
    pool: list[str | None], picks: list[int]
) -> None:
    values = pd.Series([pool[i % len(pool)] for i in picks], dtype=object)
    once, careful = parse_dates(values), _parse_dates(values, None)
    assert once.dates.equals(careful.dates), values.tolist()
    assert once.unreadable.equals(careful.unreadable), values.tolist()
    assert (once.order, once.problem) == (careful.order, careful.problem)


def _text_column_cell_by_cell(values: pd.Series) -> pd.Series:
    """What ``text_column`` must give: each cell stripped, blanks None."""
    text = values.astype("string[pyarrow]").str.strip()
    text = text.where(text != "", None)
    return text.astype(object).where(text.notna(), None)


@settings(max_examples=100, deadline=None)
@given(
    cells=st.lists(
        st.one_of(st.none(), st.just(float("nan")), st.integers(-5, 5), st.text(alphabet=" \tab\u00a0é", max_size=4))
    )
)
def test_text_cleaned_once_per_distinct_value_is_text_cleaned_cell_by_cell(cells: list[object]) -> None:
    values = pd.Series(cells, dtype=object, index=pd.RangeIndex(10, 10 + len(cells)))
    assert text_column(values).equals(_text_column_cell_by_cell(values))
    assert list(text_column(values).index) == list(values.index)
