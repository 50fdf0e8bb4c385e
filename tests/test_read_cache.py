"""A layer read once is not parsed again in the same process while its file is unchanged: the dashboard,
record rebuilds and repeated assessments share it. A changed file, or one written a moment ago, is read
afresh; what one layer set adds to a layer (flags) reaches no other."""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import pytest
import yaml

from planner.layers import load_layerset
from planner.layers.model import BeyondArea, Flag
from planner.layers.read_cache import READ_LAYERS

HEADER = ["event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "latitude", "longitude"]
ATTACK = ["Violence against civilians", "Attack", "Militia"]
HOUR_AGO_NS = 3600 * 10**9


def _write_events(folder: Path, rows: list[list[str]], *, age_ns: int = HOUR_AGO_NS) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    events = folder / "events.csv"
    events.write_text(out.getvalue(), encoding="utf-8")
    if age_ns:
        when = time.time_ns() - age_ns
        os.utime(events, ns=(when, when))
    return events


def _manifest(folder: Path, **layers: dict[str, object]) -> Path:
    manifest = folder / "layers.yaml"
    manifest.write_text(yaml.safe_dump({"area": "Reports", "layers": layers}))
    return manifest


EVENTS = {"kind": "threats", "path": "events.csv", "schema": "acled"}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    READ_LAYERS.clear()


def test_an_unchanged_file_is_parsed_once_and_its_layer_shared(tmp_path: Path) -> None:
    _write_events(tmp_path, [["E1", "2026-11-01", *ATTACK, "9.10", "30.10"]])
    manifest = _manifest(tmp_path, events=EVENTS)
    first = load_layerset(manifest).layers["events"]
    second = load_layerset(manifest).layers["events"]
    assert second.frame is first.frame  # not parsed again
    assert second is not first
    added = Flag("checked", "events", "added by one layer set")
    first.flags.append(added)
    assert added not in second.flags  # what one layer set adds reaches no other
    assert added not in load_layerset(manifest).layers["events"].flags


def test_a_changed_file_is_read_afresh(tmp_path: Path) -> None:
    _write_events(tmp_path, [["E1", "2026-11-01", *ATTACK, "9.10", "30.10"]])
    manifest = _manifest(tmp_path, events=EVENTS)
    assert len(load_layerset(manifest).layers["events"].frame) == 1
    _write_events(
        tmp_path,
        [["E1", "2026-11-01", *ATTACK, "9.10", "30.10"], ["E2", "2026-11-02", *ATTACK, "9.11", "30.11"]],
        age_ns=HOUR_AGO_NS - 10**9,
    )
    assert list(load_layerset(manifest).layers["events"].frame["event_id"]) == ["E1", "E2"]


def test_a_file_written_a_moment_ago_is_read_afresh_even_with_the_same_size_and_time(tmp_path: Path) -> None:
    """Written twice within one tick of the filesystem's clock, a file keeps its size and modification time:
    until it has been left alone for a while, its layer is not kept."""
    events = _write_events(tmp_path, [["E1", "2026-11-01", *ATTACK, "9.10", "30.10"]], age_ns=0)
    stamp = events.stat().st_mtime_ns
    manifest = _manifest(tmp_path, events=EVENTS)
    assert list(load_layerset(manifest).layers["events"].frame["event_id"]) == ["E1"]
    _write_events(tmp_path, [["E9", "2026-11-01", *ATTACK, "9.10", "30.10"]], age_ns=0)
    os.utime(events, ns=(stamp, stamp))
    assert events.stat().st_size == len(events.read_bytes())
    assert list(load_layerset(manifest).layers["events"].frame["event_id"]) == ["E9"]


def test_a_layer_read_through_a_study_area_is_kept_apart_from_the_whole_layer(tmp_path: Path) -> None:
    _write_events(
        tmp_path,
        [["NEAR", "2026-11-01", *ATTACK, "9.10", "30.10"], ["FAR", "2020-01-01", *ATTACK, "4.50", "31.50"]],
    )
    manifest = _manifest(tmp_path, events=EVENTS)
    area = (30.0, 9.0, 30.2, 9.2)
    whole = load_layerset(manifest).layers["events"]
    near = load_layerset(manifest, area=area, beyond=BeyondArea()).layers["events"]
    again = load_layerset(manifest, area=area, beyond=BeyondArea()).layers["events"]
    assert list(whole.frame["event_id"]) == ["NEAR", "FAR"]
    assert list(near.frame["event_id"]) == ["NEAR"]
    assert again.frame is near.frame and near.area == area and whole.area is None
    # without reports asked for beyond the area, threats are read whole: the same layer as before
    assert load_layerset(manifest, area=area).layers["events"].frame is whole.frame


def test_an_empty_layer_is_flagged_once_however_often_it_is_read(tmp_path: Path) -> None:
    _write_events(tmp_path, [])
    manifest = _manifest(tmp_path, events=EVENTS)
    for _ in range(3):
        flags = load_layerset(manifest).layers["events"].flags
        assert [f.code for f in flags].count("empty") == 1


def test_dropped_rows_are_listed_once_on_every_reading(tmp_path: Path) -> None:
    rows = [[f"E{i}", "2026-11-01", *ATTACK, "9.10", "30.10"] for i in range(200)]
    rows[7][1] = "not a date"
    _write_events(tmp_path, rows)
    manifest = _manifest(tmp_path, events=EVENTS)
    for _ in range(2):
        layer = load_layerset(manifest).layers["events"]
        assert len(layer.frame) == 199
        assert [f.code for f in layer.flags].count("rows_dropped") == 1
        assert len(layer.dropped) == 1
