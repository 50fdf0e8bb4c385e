"""Dates are read the same way for a whole column: day-first or month-first from the values, never per cell."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from planner.errors import InputError
from planner.layers import load_layerset
from planner.layers.dates import parse_dates


def dates(*values: str, date_format: str | None = None) -> list[str]:
    read = parse_dates(pd.Series(list(values)), date_format)
    assert read.problem is None, read.problem
    return [d.date().isoformat() if pd.notna(d) else "" for d in read.dates]


def test_a_french_excel_column_is_read_day_first_even_where_the_day_is_12_or_less() -> None:
    # Cell by cell, '03/04/2025' would be read as March 4th; the 25th in the same column says day-first.
    assert dates("03/04/2025", "25/04/2025", "12/05/2025") == ["2025-04-03", "2025-04-25", "2025-05-12"]
    assert parse_dates(pd.Series(["03/04/2025", "25/04/2025"])).order == "day-first"


def test_an_american_column_is_read_month_first() -> None:
    assert dates("04/03/2025", "04/25/2025") == ["2025-04-03", "2025-04-25"]
    assert parse_dates(pd.Series(["04/25/2025"])).order == "month-first"


def test_dots_dashes_and_times_follow_the_same_rule() -> None:
    assert dates("03.04.2025 14:30", "25-04-2025") == ["2025-04-03", "2025-04-25"]


@pytest.mark.parametrize(
    ("values", "said"),
    [
        (["03/04/2025", "05/06/2025"], "every date could be day-first or month-first (such as '03/04/2025')"),
        (["25/04/2025", "04/25/2025"], "mixes day-first dates ('25/04/2025') and month-first dates ('04/25/2025')"),
    ],
)
def test_a_column_that_cannot_say_its_order_is_refused_not_guessed(values: list[str], said: str) -> None:
    read = parse_dates(pd.Series(values))
    assert read.problem == said
    assert read.dates.isna().all()  # nothing is read rather than something read wrong


def test_a_declared_format_settles_it() -> None:
    assert dates("03/04/2025", "05/06/2025", date_format="%d/%m/%Y") == ["2025-04-03", "2025-06-05"]


def test_iso_and_written_dates_keep_working() -> None:
    assert dates("2025-04-03", "2025-04-03T10:00:00Z", "03 December 2020", "9-May-20", "") == [
        "2025-04-03",
        "2025-04-03",
        "2020-12-03",
        "2020-05-09",
        "",
    ]


def test_a_day_first_acled_export_gives_the_right_ages_and_an_ambiguous_one_names_the_key(tmp_path: Path) -> None:
    header = "event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude\n"
    rows = "X1,03/04/2025,Battles,Armed clash,4.85,31.6\nX2,25/04/2025,Battles,Armed clash,4.86,31.6\n"
    (tmp_path / "e.csv").write_text(header + rows)
    spec = {"kind": "threats", "path": "e.csv", "schema": "acled"}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"area": "T", "layers": {"e": spec}}))
    layer = load_layerset(tmp_path / "m.yaml").layers["e"]
    assert [d.date().isoformat() for d in pd.DatetimeIndex(layer.column("date"))] == ["2025-04-03", "2025-04-25"]
    (tmp_path / "e.csv").write_text(header + "X1,03/04/2025,Battles,Armed clash,4.85,31.6\n")
    with pytest.raises(InputError, match=r"date_format: 'event_date' every date could be.*Fix: set `date_format:`"):
        load_layerset(tmp_path / "m.yaml")
    spec["date_format"] = "%d/%m/%Y"
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"area": "T", "layers": {"e": spec}}))
    assert pd.Timestamp(load_layerset(tmp_path / "m.yaml").layers["e"].column("date")[0]).month == 4


def test_a_date_beyond_any_real_one_is_unreadable_not_a_crash() -> None:
    # A year typed short ('001') or a placeholder ('9999-12-31') used to stop the whole layer with an error
    read = parse_dates(pd.Series(["13/1/001", "13/1/2024", "9999-12-31", "0001-01-01"]))
    assert read.problem is None and read.order == "day-first"
    assert list(read.unreadable) == [True, False, True, True]
    assert read.dates[1] == pd.Timestamp("2024-01-13")
