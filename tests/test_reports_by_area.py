"""Threat reports read for one study area: the reports in it, the ones beyond it that a rule looking at the
whole layer asks for, the layer's age and date order as the whole file gives them, and a clear refusal when
a layer read for one plan is asked for another.

The law: a layer read for an area is the whole reading's rows that lie in the area, or are dated from the day
the checklist looks back to, or in the future, with the same cells, the same lines and the same age.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from world import lonlat, make_world

from planner.assess import assess, reading_area
from planner.errors import InputError
from planner.layers import load_layerset
from planner.layers.model import BeyondArea
from planner.plan import load_plan, open_plan
from planner.settings import Settings

AREA = (30.0, 9.0, 30.2, 9.2)
HEADER = [
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "latitude",
    "longitude",
    "fatalities",
]
# The only row whose day is above 12: far away and long ago, it alone says the file's dates are day-first
DECIDES_DAY_FIRST = ["FAR0", "25/01/2020", "Battles", "Armed clash", "SSPDF", "4.5", "31.5", "0"]


def _acled(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, DECIDES_DAY_FIRST, *rows])
    return out.getvalue()


def _layers(folder: Path, text: str) -> Path:
    (folder / "events.csv").write_text(text, encoding="utf-8")
    manifest = folder / "layers.yaml"
    layer = {"kind": "threats", "path": "events.csv", "schema": "acled"}
    manifest.write_text(yaml.safe_dump({"area": "Reports", "layers": {"events": layer}}))
    return manifest


REPORT = st.tuples(
    st.floats(29.8, 30.4),  # longitude: some in the area, some beyond it
    st.floats(8.8, 9.4),
    st.dates(date(2021, 1, 1), date.today() + timedelta(days=30)),
    st.sampled_from([("Violence against civilians", "Attack"), ("Protests", "Peaceful protest")]),
)


@settings(max_examples=25, deadline=None)
@given(reports=st.lists(REPORT, max_size=25), data=st.data())
def test_a_layer_read_for_an_area_is_the_whole_readings_rows_in_it_or_recent_enough(
    reports: list[tuple[float, float, date, tuple[str, str]]], data: st.DataObject
) -> None:
    days = [day for _, _, day, _ in reports]  # the day looked back to is often one a report has
    since = data.draw(
        st.one_of(st.none(), st.dates(date(2021, 1, 1), date.today()), *([st.sampled_from(days)] * 2 if days else []))
    )
    rows = [
        [f"R{i}", day.strftime("%d/%m/%Y"), kind, sub, "Militia", f"{lat:.4f}", f"{lon:.4f}", "1"]
        for i, (lon, lat, day, (kind, sub)) in enumerate(reports)
    ]
    with tempfile.TemporaryDirectory() as folder:
        manifest = _layers(Path(folder), _acled(rows))
        whole = load_layerset(manifest).layers["events"]
        read = load_layerset(manifest, area=AREA, beyond=BeyondArea(since)).layers["events"]
    frame = whole.frame
    west, south, east, north = AREA
    x, y = frame.geometry.x, frame.geometry.y
    inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    recent = frame["date"] >= pd.Timestamp(since) if since else False
    future = frame["date"] > pd.Timestamp(date.today())
    expected = frame[inside | recent | future].reset_index(drop=True)
    cells, whole_cells = read.frame.drop(columns="geometry"), expected.drop(columns="geometry")
    pd.testing.assert_frame_equal(cells, whole_cells, check_dtype=len(expected) > 0)  # an empty column has no type
    assert list(read.frame.geometry.to_wkt()) == list(expected.geometry.to_wkt())
    assert read.as_of == whole.as_of  # the newest report of the file, wherever it is
    assert read.read_as == whole.read_as  # day-first, as the whole file says
    assert (read.area, read.complete_since) == (AREA, since)


def test_dates_that_could_run_either_way_in_the_area_are_read_in_the_whole_files_order(tmp_path: Path) -> None:
    near = ["N1", "03/04/2026", "Protests", "Peaceful protest", "Rioters", "9.1", "30.1", "0"]
    manifest = _layers(tmp_path, _acled([near]))
    read = load_layerset(manifest, area=AREA, beyond=BeyondArea()).layers["events"]
    assert list(read.frame["event_id"]) == ["N1"]  # the far row that decided it is not kept
    assert read.frame["date"].iloc[0] == pd.Timestamp("2026-04-03")  # 3 April, not 4 March
    assert read.read_as["dates in 'event_date'"] == "day-first"


def test_a_layer_without_what_lies_beyond_the_area_is_read_whole(tmp_path: Path) -> None:
    manifest = _layers(tmp_path, _acled([]))
    layer = load_layerset(manifest, area=AREA).layers["events"]
    assert layer.area is None and list(layer.frame["event_id"]) == ["FAR0"]


def test_the_partner_forces_record_beyond_the_area_is_read_as_far_back_as_hrddp_looks(tmp_path: Path) -> None:
    header = "date,lat,lon,type,actors"
    rows = [
        "2025-04-01,4.0,30.0,attack on civilians,Blue Brigade",  # far away, in the 180 days before the operation
        "2024-01-01,4.0,30.0,attack on civilians,Blue Brigade",  # far away and older: read by nothing
    ]
    partner = {"partner_force": True, "partner_forces": ["Blue Brigade"]}
    plan_path = make_world(tmp_path, threats=header + "\n" + "\n".join(rows) + "\n", plan_extra=partner)
    plan, layerset = open_plan(plan_path)
    layer = layerset.layers["events"]
    assert layer.complete_since == date(2025, 6, 1) - timedelta(days=180)
    assert list(layer.frame["date"].dt.date) == [date(2025, 4, 1)]
    assert layer.as_of == date(2025, 4, 1)
    settings_ = Settings(surface={"margin_m": 300})
    read = assess(plan, layerset, settings_).to_dict()["coas"][0]["checklist"]["items"]
    whole = assess(plan, load_layerset(plan.layers_path), settings_).to_dict()["coas"][0]["checklist"]["items"]
    assert [i for i in read if i["id"] == "P23"] == [i for i in whole if i["id"] == "P23"] != []
    summary = layer.summary(date(2025, 6, 1))
    assert summary["read_within"] == list(reading_area(plan)) and summary["read_beyond_from"] == "2024-12-03"


def test_without_a_partner_force_no_report_beyond_the_area_is_read(tmp_path: Path) -> None:
    far = "2025-04-01,4.0,30.0,attack on civilians,Blue Brigade"
    near = "2025-05-01,{},{},shooting,Unknown".format(*reversed(lonlat(450, 550)))
    plan_path = make_world(tmp_path, threats="date,lat,lon,type,actors\n" + far + "\n" + near + "\n")
    _, layerset = open_plan(plan_path)
    layer = layerset.layers["events"]
    assert layer.complete_since is None and list(layer.frame["source_row"]) == [3]


def test_a_rule_looking_further_back_than_the_layer_was_read_is_refused(tmp_path: Path) -> None:
    partner = {"partner_force": True, "partner_forces": ["Blue Brigade"]}
    plan_path = make_world(tmp_path, threats="date,lat,lon,type\n2025-05-01,4.0,30.0,shooting\n", plan_extra=partner)
    plan = load_plan(plan_path)
    later = BeyondArea(date(2025, 5, 1))  # the HRDDP rule looks back 180 days, to 3 December 2024
    layerset = load_layerset(plan.layers_path, area=reading_area(plan), beyond=later)
    with pytest.raises(ValueError, match=r"beyond the study area were read from 2025-05-01.*back to 2024-12-03"):
        assess(plan, layerset, Settings(surface={"margin_m": 300}))


def test_reports_read_for_one_area_are_refused_for_a_plan_elsewhere(tmp_path: Path) -> None:
    plan_path = make_world(tmp_path, threats="date,lat,lon,type\n2025-05-01,4.0,30.0,shooting\n")
    plan = load_plan(plan_path)
    west, south, east, north = reading_area(plan)
    small = (west, south, (west + east) / 2, north)
    layerset = load_layerset(plan.layers_path, area=small, beyond=BeyondArea())
    with pytest.raises(ValueError, match=r"reports of 'events' were read for another study area"):
        assess(plan, layerset)


def test_swapped_coordinates_are_still_named_when_the_reports_are_read_for_an_area(tmp_path: Path) -> None:
    rows = []
    for i, (x, y) in enumerate([(450, 550), (200, 800), (700, 300)]):
        lon, lat = lonlat(x, y)
        rows.append(f"2025-05-0{i + 1},{lon},{lat},shooting")  # longitude under 'lat', latitude under 'lon'
    plan_path = make_world(tmp_path, threats="date,lat,lon,type\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="look swapped"):
        open_plan(plan_path)


def test_a_file_whose_reports_all_lie_beyond_the_area_is_no_empty_layer(tmp_path: Path) -> None:
    plan_path = make_world(tmp_path, threats="date,lat,lon,type\n2025-05-25,4.0,30.0,shooting\n")
    plan, layerset = open_plan(plan_path)
    layer = layerset.layers["events"]
    assert len(layer) == 0 and layer.file_rows == 1 and not layer.holds_nothing
    assert [f.code for f in layer.flags] == []  # not "holds no features: unknown"
    settings_ = Settings(surface={"margin_m": 300})
    read = assess(plan, layerset, settings_).to_dict()["coas"][0]["threats"]
    whole = assess(plan, load_layerset(plan.layers_path), settings_).to_dict()["coas"][0]["threats"]
    assert read == whole and read["count"] == 0 and read["flags"] == []
