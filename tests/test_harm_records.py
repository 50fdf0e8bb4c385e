"""Harm after an operation: records linked to the assessment before it, a workflow each role takes its own step
of, names of witnesses kept back, and an audit chain that catches an edited record."""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from pyproj import CRS, Transformer
from test_record import PASSWORD, PEOPLE, here, new_record, primum, world_assessment
from world import lonlat

from planner.assess import assess
from planner.brief import brief_html
from planner.effects import zone_from
from planner.errors import RecordError
from planner.export import export
from planner.observed import ZONE_CLASSES, Observation, calibration, zones_of
from planner.outputs import from_record
from planner.past_harm import place
from planner.plan import open_plan
from planner.record import NotAllowedError, NotFoundError, Record, User
from planner.record.harm import HarmLog, HarmReport, parse_count, parse_moment
from planner.record.support import SupportGiven, SupportRegister
from planner.settings import RedactionSettings, Settings
from planner.vocabulary import HARM_STEP_ROLES, ROLES

ROOT = Path(__file__).resolve().parent.parent

CANARY = "Witness-Canary-7731"


@pytest.fixture
def harm(tmp_path: Path) -> tuple[Record, HarmLog, str]:
    (tmp_path / "world").mkdir()
    record = new_record(tmp_path)
    for role in ("human_rights_officer", "civil_affairs_officer"):
        record.add_user(PEOPLE["admin"], PEOPLE[role].name, role, PASSWORD)
    ident = record.record_assessment(PEOPLE["planner"], world_assessment(tmp_path / "world"))
    return record, HarmLog(record), ident


def report(**changes: object) -> HarmReport:
    fields: dict[str, object] = {
        "coa": "A",
        "element": "cordon-1",
        "at": "2025-06-01T09:30+03:00",
        "position": (31.6, 4.86),
        "mechanism": "movement_restriction",
        "origin": "community",
        "confidence": "medium",
        "deaths": (0, 1),
        "injuries": (2, 4),
        "witness": CANARY,
    }
    return HarmReport(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_harm_record_keeps_what_intake_said_with_its_ranges_and_the_elements_means(
    harm: tuple[Record, HarmLog, str],
) -> None:
    record, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report(damage="two huts burnt", community="Nyal"))
    [listed] = log.records(ident)
    assert listed["id"] == harm_id and listed["assessment"] == ident
    assert (listed["coa"], listed["element"], listed["means"]) == ("A", "cordon-1", "cordon_search")
    assert listed["deaths"] == [0, 1] and listed["injuries"] == [2, 4]
    assert listed["at"] == "2025-06-01T09:30+03:00" and listed["time_precision"] == "minute"
    assert listed["damage"] == "two huts burnt" and listed["community"] == "Nyal"
    assert (listed["stage"], listed["status"], listed["amends_open"]) == ("intake", "recorded", False)
    assert record.verify().intact


def test_the_witness_and_reporter_leave_the_record_only_when_asked_for(harm: tuple[Record, HarmLog, str]) -> None:
    _, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report(reporter="Reporter-Canary"))
    withheld = json.dumps(log.records(ident)) + json.dumps(log.record_of(harm_id))
    assert CANARY not in withheld and "Reporter-Canary" not in withheld
    shown = log.record_of(harm_id, sensitive=True)
    assert (shown["witness"], shown["reporter"]) == (CANARY, "Reporter-Canary")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"coa": "Z"}, "no COA 'Z'"),
        ({"element": "lz-9"}, "no element 'lz-9' in COA A"),
        ({"mechanism": "fire"}, "unknown mechanism 'fire': use one of blast"),
        ({"origin": "rumour"}, "unknown source 'rumour'"),
        ({"means": "airstrike"}, "unknown means 'airstrike': use an activity of the effects table"),
        ({"confidence": "sure"}, "unknown confidence"),
        ({"at": "2025-06-01T09:30"}, "has no time zone: add it"),
        ({"at": "01/06/2025"}, "is not an ISO time"),
        ({"until": "2025-06-01T08:00+03:00"}, "before --at"),
    ],
)
def test_a_bad_intake_is_refused_in_words_and_nothing_is_written(
    harm: tuple[Record, HarmLog, str], changes: dict[str, object], message: str
) -> None:
    record, log, ident = harm
    before = record.chain_length()
    with pytest.raises(RecordError, match=message):
        log.add(PEOPLE["planner"], ident, report(**changes))
    assert log.records() == [] and record.chain_length() == before


def test_an_unknown_assessment_is_named(harm: tuple[Record, HarmLog, str]) -> None:
    _, log, _ = harm
    with pytest.raises(NotFoundError, match="no assessment 'nope'"):
        log.add(PEOPLE["planner"], "nope", report())


def test_counts_and_times_are_read_as_written() -> None:
    assert parse_count("3", "deaths") == (3, 3)
    assert parse_count("2-4", "injuries") == (2, 4)
    assert parse_count(" 0 – 1 ", "deaths") == (0, 1)
    for bad in ("4-2", "two", "-1", "1.5"):
        with pytest.raises(RecordError, match="--deaths"):
            parse_count(bad, "deaths")
    assert parse_moment("2026-12-03") == ("2026-12-03", "day")
    assert parse_moment("2026-12-03T09:30:12Z") == ("2026-12-03T09:30+00:00", "minute")


def test_a_time_window_is_kept_with_its_precision(harm: tuple[Record, HarmLog, str]) -> None:
    _, log, ident = harm
    log.add(PEOPLE["planner"], ident, report(at="2025-06-01", until="2025-06-02"))
    [listed] = log.records()
    assert (listed["at"], listed["until"], listed["time_precision"]) == ("2025-06-01", "2025-06-02", "window")


def walk(log: HarmLog, harm_id: str) -> None:
    log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="credible")
    log.review(
        PEOPLE["human_rights_officer"],
        harm_id,
        step="assessment",
        status="substantiated",
        note="cordon held families without water for 9 hours",
        details={"lessons": "water points inside every cordon", "lesson_rule": "P40"},
    )
    log.review(PEOPLE["commander"], harm_id, step="decision", status="amends")


def test_each_step_is_taken_only_by_its_roles(harm: tuple[Record, HarmLog, str]) -> None:
    record, log, ident = harm
    steps = {
        "initial_review": "credible",
        "assessment": "substantiated",
        "decision": "amends",
        "response": "offered",
    }
    for step, status in steps.items():
        harm_id = log.add(PEOPLE["planner"], ident, report())
        for earlier in list(steps)[: list(steps).index(step)]:
            log.review(PEOPLE[HARM_STEP_ROLES[earlier][0]], harm_id, step=earlier, status=steps[earlier])
        allowed = set()
        for role in ROLES:
            try:
                log.review(PEOPLE[role], harm_id, step=step, status=status, note="seen")
                allowed.add(role)
            except NotAllowedError as refusal:
                assert "may not take the" in str(refusal) and HARM_STEP_ROLES[step][0] in str(refusal)
        assert allowed == set(HARM_STEP_ROLES[step]), step
    assert record.verify().intact


def test_steps_follow_the_workflow_and_the_refusal_says_what_comes_first(harm: tuple[Record, HarmLog, str]) -> None:
    _, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report())
    with pytest.raises(NotAllowedError, match="initial review finds it credible \\(it is not taken\\)"):
        log.review(PEOPLE["poc_adviser"], harm_id, step="assessment", status="substantiated")
    with pytest.raises(RecordError, match="needs a note"):
        log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="not_credible")
    log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="not_credible", note="no one hurt")
    with pytest.raises(NotAllowedError, match="it is 'not_credible'"):
        log.review(PEOPLE["poc_adviser"], harm_id, step="assessment", status="substantiated")
    with pytest.raises(NotAllowedError, match="needs its assessment"):
        log.review(PEOPLE["commander"], harm_id, step="decision", status="amends")
    with pytest.raises(RecordError, match="not a status of the decision"):
        log.review(PEOPLE["commander"], harm_id, step="decision", status="credible")
    # Found credible when more is known: the earlier review is kept, the latest is the state
    log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="credible", note="clinic records")
    state = log.record_of(harm_id)
    assert [s["status"] for s in state["steps"]] == ["not_credible", "credible"]
    assert (state["stage"], state["status"]) == ("initial_review", "credible")


def test_amends_stay_open_until_paid_or_declined(harm: tuple[Record, HarmLog, str]) -> None:
    _, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report())
    walk(log, harm_id)
    assert log.record_of(harm_id)["amends_open"]
    with pytest.raises(RecordError, match="needs a note"):
        log.review(PEOPLE["civil_affairs_officer"], harm_id, step="response", status="declined")
    log.review(
        PEOPLE["civil_affairs_officer"], harm_id, step="response", status="offered", details={"on": "2025-06-10"}
    )
    log.review(PEOPLE["civil_affairs_officer"], harm_id, step="response", status="accepted")
    assert log.record_of(harm_id)["amends_open"]
    log.review(PEOPLE["civil_affairs_officer"], harm_id, step="response", status="paid", details={"on": "2025-06-20"})
    state = log.record_of(harm_id)
    assert not state["amends_open"] and state["steps"][-1]["details"] == {"on": "2025-06-20"}
    other = log.add(PEOPLE["planner"], ident, report())
    log.review(PEOPLE["poc_adviser"], other, step="initial_review", status="credible")
    log.review(PEOPLE["poc_adviser"], other, step="assessment", status="substantiated")
    log.review(PEOPLE["commander"], other, step="decision", status="no_response", note="harm by another armed group")
    with pytest.raises(NotAllowedError, match="follows a decision to offer amends"):
        log.review(PEOPLE["poc_adviser"], other, step="response", status="offered")
    log.review(PEOPLE["poc_adviser"], other, step="response", status="referred", details={"to": "MSF clinic"})


def test_a_deactivated_user_cannot_take_harm_in(harm: tuple[Record, HarmLog, str]) -> None:
    record, log, ident = harm
    record.change_user(PEOPLE["admin"], PEOPLE["planner"].name, active=False)
    with pytest.raises(NotAllowedError, match="deactivated"):
        log.add(PEOPLE["planner"], ident, report())


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE harm_records SET content = replace(content, '\"deaths\":[0,1]', '\"deaths\":[0,0]')", "altered"),
        ("UPDATE harm_records SET coa = 'B'", "altered"),
        ("DELETE FROM harm_steps WHERE id = 1", "missing from the record"),
        ("UPDATE harm_steps SET status = 'not_credible' WHERE id = 1", "altered or inserted"),
        (
            (
                "INSERT INTO harm_steps (harm_id, step, status, note, details, by, at, sha256) "
                "SELECT harm_id, 'decision', 'no_response', '', '{}', 'x', 'y', sha256 FROM harm_steps WHERE id = 1"
            ),
            "altered or inserted",
        ),
    ],
)
def test_verify_catches_an_edited_or_removed_harm_row(
    harm: tuple[Record, HarmLog, str], sql: str, expected: str
) -> None:
    record, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report())
    log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="credible")
    assert record.verify().intact
    with sqlite3.connect(record.engine.url.database) as conn:  # type: ignore[arg-type]
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.executescript(sql)
    problems = record.verify().problems
    assert any(expected in p and "harm" in p for p in problems), problems


# --- the next assessment learns --------------------------------------------------------------------------------


def reassess_world(folder: Path, log: HarmLog, lang: str = "en") -> dict[str, Any]:
    plan, layers = open_plan(folder / "plan.yaml")
    result = assess(plan, layers, Settings(surface={"margin_m": 300}), history=log.history())
    return result.to_dict(lang)["coas"][0]["checklist"]


def item(checklist: dict[str, Any], rule: str) -> dict[str, Any] | None:
    return next((i for i in checklist["items"] if i["id"] == rule), None)


def test_harm_near_a_new_footprint_raises_p30_naming_each_record_and_far_harm_does_not(
    harm: tuple[Record, HarmLog, str], tmp_path: Path
) -> None:
    _, log, ident = harm
    inside = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550)), at="2025-06-01"))
    near = log.add(
        PEOPLE["planner"], ident, report(position=tuple(lonlat(950, 950)), mechanism="traffic", damage="a hut")
    )
    far = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550 + 30_000))))
    partner = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(500, 500)), attributed_to="SSPDF 5th"))
    checklist = reassess_world(tmp_path / "world", log)
    raised = item(checklist, "P30")
    assert raised is not None and raised["kind"] == "finding"
    named = [e["data"]["harm"] for e in raised["evidence"] if e["decided"]]
    assert named == [inside, near]  # nearest first; neither the far one nor the partner force's
    assert far not in json.dumps(checklist) and partner not in json.dumps(checklist)
    first = next(e["text"] for e in raised["evidence"] if e["decided"])
    assert first.startswith(f"{inside} on 2025-06-01: 0–1 killed, 2–4 injured by movement restriction")
    assert "in the core zone of cordon-1" in first and "taken in, not yet reviewed" in first
    assert "330 m from this COA's zones" in next(  # hypot(350, 250) - 100 m of outer zone
        e["text"] for e in raised["evidence"] if e["data"].get("harm") == near
    )
    second = next(e["text"] for e in raised["evidence"] if e["data"].get("harm") == near)
    assert "damage to homes or civilian objects by road traffic" in second


def test_a_record_found_not_credible_is_not_past_harm(harm: tuple[Record, HarmLog, str], tmp_path: Path) -> None:
    _, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550))))
    log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="not_credible", note="hoax")
    raised = item(reassess_world(tmp_path / "world", log), "P30")
    assert raised is None or harm_id not in json.dumps(raised)


def test_amends_owed_near_the_footprint_raise_p42_until_paid(harm: tuple[Record, HarmLog, str], tmp_path: Path) -> None:
    _, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550)), community="Nyal"))
    assert item(reassess_world(tmp_path / "world", log), "P42") is None
    walk(log, harm_id)
    owed = item(reassess_world(tmp_path / "world", log), "P42")
    assert owed is not None and owed["severity"] == "high" and "civil_affairs_officer" in owed["owner"]
    [line] = owed["evidence"]
    assert line["text"].startswith(f"{harm_id} on 2025-06-01 (Nyal)") and line["text"].endswith(
        "amends decided, nothing offered yet"
    )
    log.review(PEOPLE["civil_affairs_officer"], harm_id, step="response", status="offered")
    owed = item(reassess_world(tmp_path / "world", log), "P42")
    assert owed is not None and owed["evidence"][0]["text"].endswith("latest response: offered")
    log.review(PEOPLE["civil_affairs_officer"], harm_id, step="response", status="paid")
    assert item(reassess_world(tmp_path / "world", log), "P42") is None
    p30 = item(reassess_world(tmp_path / "world", log), "P30")
    assert p30 is not None and "harm by the force substantiated" not in json.dumps(p30)  # latest step: response


def test_lessons_are_shown_beside_their_rule_their_activity_and_the_harm_listed(
    harm: tuple[Record, HarmLog, str], tmp_path: Path
) -> None:
    _, log, ident = harm
    by_rule = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550 + 30_000))))
    by_activity = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550 + 30_000))))
    general = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550))))
    for harm_id, about, lesson in (
        (by_rule, "P37", "female searchers in every team"),
        (by_activity, "cordon_search", "water inside every cordon"),
        (general, "", "warn the chief the night before"),
    ):
        log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="credible")
        log.review(
            PEOPLE["poc_adviser"],
            harm_id,
            step="assessment",
            status="substantiated",
            details={"lessons": lesson, "lesson_rule": about, "mitigations": "brief the teams"},
        )
    checklist = reassess_world(tmp_path / "world", log)
    lessons = {i["id"]: {lesson["text"] for lesson in i["lessons"]} for i in checklist["items"]}
    assert "female searchers in every team" in lessons["P37"]
    assert lessons["P30"] >= {"warn the chief the night before"}
    beside_activity = [rule for rule, texts in lessons.items() if "water inside every cordon" in texts]
    assert beside_activity and all(
        any(e["data"].get("activity_id") == "cordon_search" for e in i["evidence"])
        for i in checklist["items"]
        if i["id"] in beside_activity
    )


def test_past_harm_reads_in_french(harm: tuple[Record, HarmLog, str], tmp_path: Path) -> None:
    _, log, ident = harm
    harm_id = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550)), community="Nyal"))
    walk(log, harm_id)
    checklist = reassess_world(tmp_path / "world", log, "fr")
    text = " ".join(
        e["text"] for rule in ("P30", "P42") for e in (item(checklist, rule) or {"evidence": []})["evidence"]
    )
    assert "tué(s)" in text and "réparations décidées, rien de proposé pour l'instant" in text
    assert "décision du commandant : réparations" in text and "dans la zone centrale de cordon-1" in text
    for english in ("killed", "injured", "decided", "nothing offered", "movement restriction"):
        assert english not in text


def test_a_recorded_assessment_rebuilds_with_the_past_harm_it_was_made_with(
    harm: tuple[Record, HarmLog, str], tmp_path: Path
) -> None:
    record, log, _ = harm
    first = record.record_assessment(PEOPLE["planner"], world_assessment(tmp_path / "world"))
    log.add(PEOPLE["planner"], first, report(position=tuple(lonlat(450, 550))))
    plan, layers = open_plan(tmp_path / "world" / "plan.yaml")
    learned = assess(plan, layers, Settings(surface={"margin_m": 300}), history=log.history())
    second = record.record_assessment(PEOPLE["planner"], learned)
    log.add(PEOPLE["planner"], second, report(position=tuple(lonlat(500, 500))))  # harm after the second one
    rebuilt = record.reassess(second)  # with the one record it was made with, not the two there are now
    assert [h.id for h in rebuilt.history.records] == [h.id for h in learned.history.records]
    assert record.assessment_result(second)["provenance"]["past_harm"]["source"].startswith("sqlite:///")


# --- predicted against observed --------------------------------------------------------------------------------


def test_harm_is_placed_against_the_zones_and_the_estimate_it_followed(harm: tuple[Record, HarmLog, str]) -> None:
    record, log, ident = harm
    core = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550))))
    outer = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(650, 550)), mechanism="blast"))
    outside = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(950, 950)), deaths=(1, 2)))
    refuted = log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550))))
    log.review(PEOPLE["poc_adviser"], refuted, step="initial_review", status="not_credible", note="hoax")
    p40 = next(i for i in record.status(ident)["items"] if i["key"].endswith("P40"))
    record.review(PEOPLE["poc_adviser"], ident, p40["key"], status="addressed", note="water inside")
    seen = {o.harm: o for o in log.observed(ident)}
    assert set(seen) == {core, outer, outside}
    assert (seen[core].zone, seen[core].element, seen[core].distance_m) == ("core", "cordon-1", 0.0)
    assert (seen[outer].zone, seen[outer].element) == ("outer", "cordon-1")
    assert (seen[outside].zone, round(seen[outside].distance_m)) == ("outside", 330)  # hypot(350, 250) - 100
    assert seen[outside].observed == (3, 6) and seen[core].observed == (2, 5)
    result = record.assessment_result(ident)
    [restriction] = [m for m in result["coas"][0]["risk"]["mechanisms"] if m["mechanism"] == "movement_restriction"]
    assert seen[core].predicted == tuple(restriction["casualties"][k] for k in ("low", "central", "high"))
    assert seen[outer].predicted is None  # a cordon foresees no blast: the harm came another way
    states = {i.rule: (i.status, i.addressed) for i in seen[core].items}
    assert states["P40"] == ("addressed", True) and all(s == ("open", False) for r, s in states.items() if r != "P40")
    rows, left_out = log.calibration()
    assert left_out == []
    table = {row.mechanism: row for row in rows}
    assert (table["all"].incidents, table["all"].core, table["all"].outer, table["all"].outside) == (3, 1, 1, 1)
    assert (table["blast"].incidents, table["blast"].unforeseen) == (1, 1)
    assert table["movement_restriction"].observed == (5, 11)


ZONES = [
    zone_from(
        "lz-1",
        "helicopter_lz",
        shapely.Point(31.6, 4.86),
        area=False,
        radii=(50.0, 300.0),
        crs=CRS.from_epsg(32636),
        profile="linear",
        radii_from="plan",
    ),
    zone_from(
        "cordon-1",
        "cordon_search",
        shapely.Point(31.605, 4.862).buffer(0.001),
        area=True,
        radii=(0.0, 150.0),
        crs=CRS.from_epsg(32636),
        profile="linear",
        radii_from="plan",
    ),
]
WEST, SOUTH, EAST, NORTH = shapely.bounds(shapely.union_all([z.outer for z in ZONES])).tolist()


@given(x=st.floats(WEST - 500, EAST + 500), y=st.floats(SOUTH - 500, NORTH + 500))
def test_an_incident_falls_in_exactly_one_zone_class(x: float, y: float) -> None:
    point = shapely.Point(x, y)
    placed = place(point, ZONES)
    in_core = [z.element for z in ZONES if z.core.covers(point)]
    in_outer = [z.element for z in ZONES if z.outer.covers(point)]
    if in_core:
        assert placed.zone == "core" and placed.element in in_core and placed.distance_m == 0
    elif in_outer:
        assert placed.zone == "outer" and placed.element in in_outer and placed.distance_m == 0
    else:
        assert placed.zone == "outside" and placed.distance_m > 0
        assert placed.distance_m == pytest.approx(min(z.outer.distance(point) for z in ZONES))


observation = st.builds(
    Observation,
    harm=st.text(min_size=1, max_size=5),
    assessment=st.just("a"),
    coa=st.just("A"),
    mechanism=st.sampled_from(["blast", "stray_rounds", "traffic"]),
    zone=st.sampled_from(ZONE_CLASSES),
    element=st.just("e"),
    distance_m=st.floats(0, 1e4),
    observed=st.tuples(st.integers(0, 20), st.integers(0, 20)).map(lambda t: (min(t), max(t))),
    predicted=st.none() | st.tuples(st.floats(0, 5), st.floats(0, 5), st.floats(0, 5)).map(lambda t: tuple(sorted(t))),
    items=st.just(()),
)


@given(st.lists(observation, max_size=30))
def test_the_calibration_table_adds_up(seen: list[Observation]) -> None:
    rows = calibration(seen)
    if not seen:
        assert rows == []
        return
    *by_mechanism, total = rows
    assert total.mechanism == "all" and total.incidents == len(seen)
    assert sum(r.incidents for r in by_mechanism) == total.incidents
    for row in rows:
        assert row.core + row.outer + row.outside == row.incidents
        assert 0 <= row.unforeseen <= row.incidents
    for i in range(2):
        assert sum(r.observed[i] for r in by_mechanism) == total.observed[i]
    assert sum(r.predicted[1] for r in by_mechanism) == pytest.approx(total.predicted[1])
    assert [r.mechanism for r in by_mechanism] == sorted({s.mechanism for s in seen})


# --- end to end on the sample, from the command line ----------------------------------------------------------


def test_the_sample_from_assessment_to_harm_to_the_next_assessment_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    db = tmp_path / "mission.db"
    env = {"PRIMUM_DB": str(db)}
    record = Record.open(f"sqlite:///{db}")
    record.add_user(None, "ada", "admin", PASSWORD)
    roles = ("planner", "poc_adviser", "commander", "human_rights_officer", "civil_affairs_officer")
    for role in roles:
        record.add_user(User("ada", "admin"), role, role, PASSWORD)
    person = {**env, "PRIMUM_PASSWORD": PASSWORD}
    run = primum("assess", "scenarios/sample.yaml", "--record", "--as", "planner", env=person)
    assert run.returncode == 0, run.stderr
    ident = next(line.split()[-1] for line in run.stdout.splitlines() if line.startswith("recorded as"))
    for raised in record.status(ident)["items"]:
        record.review(User("poc_adviser", "poc_adviser"), ident, raised["key"], status="addressed", note="done")
    record.signoff(User("commander", "commander"), ident, decision="approve", coa="A")

    # One incident in the core of the cordon, one outside every zone of COA A but near it
    zones = zones_of(record.assessment_result(ident), "A")
    crs = CRS.from_user_input(record.assessment_result(ident)["working_crs"])
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    cordon = next(z for z in zones if z.element == "cordon-1")
    inside = to_lonlat.transform(cordon.geometry.centroid.x, cordon.geometry.centroid.y)
    x, y = cordon.geometry.centroid.x, cordon.geometry.centroid.y
    step = next(d for d in range(100, 5000, 50) if 300 < place(shapely.Point(x, y - d), zones).distance_m < 1200)
    outside = to_lonlat.transform(x, y - step)
    added = []
    for lon, lat, extra in (
        (*inside, ["--element", "cordon-1", "--mechanism", "movement_restriction", "--witness", CANARY]),
        (*outside, ["--mechanism", "stray_rounds", "--deaths", "1", "--injuries", "0-2", "--reporter", CANARY]),
    ):
        position = f"{lat:.6f}N {lon:.6f}E"
        out = here(
            "harm", "add", ident, "--coa", "A", "--at", "2026-12-03T09:30+03:00", "--position", position,
            "--source", "community", "--confidence", "medium", "--injuries", "2-4", *extra, "--as", "planner",
            env=person,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("harm recorded as HR-")
        added.append(out.stdout.split()[-1])
    first, second = added

    # The workflow, each step by its role; the wrong role is refused in words, with no traceback
    steps = [
        ("initial_review", "credible", "poc_adviser", "commander"),
        ("assessment", "substantiated", "human_rights_officer", "planner"),
        ("decision", "condolence", "commander", "poc_adviser"),
        ("response", "offered", "civil_affairs_officer", "human_rights_officer"),
    ]
    for step, status, right, wrong in steps:
        refused = here("harm", "review", first, "--step", step, "--status", status, "--as", wrong, env=person)
        assert refused.returncode == 2 and "may not take the" in refused.stderr and "Traceback" not in refused.stderr
        extra = ["--lessons", "water inside the cordon", "--lesson-rule", "P40"] if step == "assessment" else []
        taken = here("harm", "review", first, "--step", step, "--status", status, *extra, "--as", right, env=person)
        assert taken.returncode == 0, taken.stderr
    listed = here("harm", "list", ident, "--json", env=env)
    assert listed.returncode == 0 and CANARY not in listed.stdout
    states = {h["id"]: (h["stage"], h["status"], h["amends_open"]) for h in json.loads(listed.stdout)}
    assert states == {first: ("response", "offered", True), second: ("intake", "recorded", False)}
    uncleared = here("harm", "list", "--include-sensitive", "--as", "planner", env=person)
    assert uncleared.returncode == 2 and "may not include sensitive fields" in uncleared.stderr
    cleared = here("harm", "list", "--include-sensitive", "--as", "poc_adviser", env=person)
    assert cleared.returncode == 0 and CANARY in cleared.stdout

    # Predicted against observed places them where they fell
    observed = json.loads(here("harm", "observed", ident, "--json", env=env).stdout)
    placed = {o["harm"]: (o["zone"], o["element"]) for o in observed}
    assert placed[first] == ("core", "cordon-1") and placed[second][0] == "outside"

    # The next assessment of the same area learns: P30 names both records, P42 the condolence still owed
    again = here("assess", "scenarios/sample.yaml", "--json", "-", env=env)
    assert again.returncode == 0, again.stderr
    assert CANARY not in again.stdout
    result = json.loads(again.stdout)
    checklist = next(c for c in result["coas"] if c["id"] == "A")["checklist"]
    p30 = item(checklist, "P30")
    assert p30 is not None and {e["data"].get("harm") for e in p30["evidence"]} >= {first, second}
    p42 = item(checklist, "P42")
    assert p42 is not None and [e["data"]["harm"] for e in p42["evidence"]] == [first]
    p40 = item(checklist, "P40")
    assert p40 is not None and [lesson["text"] for lesson in p40["lessons"]] == ["water inside the cordon"]
    assert result["provenance"]["past_harm"]["source"] == f"sqlite:///{db}"
    text = here("assess", "scenarios/sample.yaml", env=env).stdout
    assert "lesson of " + first in text and "Past harm: 2 harm record(s)" in text

    # The harm tracking cell's export: every record, no witness or reporter for an uncleared reader
    exported = here("harm", "export", "--format", "csv", "--out", str(tmp_path / "harm"), env=env)
    assert exported.returncode == 0, exported.stderr
    table = (tmp_path / "harm" / "harm_records.csv").read_text(encoding="utf-8-sig")
    assert CANARY not in table and first in table and second in table and f"{ident}," in table
    cleared_export = here(
        "harm", "export", ident, "--format", "gpkg", "--out", str(tmp_path / "harm.gpkg"), "--include-sensitive",
        "--as", "poc_adviser", env=person,
    )  # fmt: skip
    assert cleared_export.returncode == 0, cleared_export.stderr
    layer = gpd.read_file(tmp_path / "harm.gpkg", layer="harm_records")
    assert set(layer["witness"].dropna()) == {CANARY} and set(layer["assessment"]) == {ident}

    # An edited harm row is caught
    assert here("verify", env=env).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE harm_records SET content = replace(content, '\"deaths\":[1,1]', '\"deaths\":[0,0]')")
    broken = here("verify", env=env)
    assert broken.returncode == 1 and f"BREAK: harm record {second} was altered" in broken.stderr


# --- outputs -----------------------------------------------------------------------------------------------------


def test_harm_and_support_reach_every_output_redacted_and_coarsened(
    harm: tuple[Record, HarmLog, str], tmp_path: Path
) -> None:
    record, log, ident = harm
    harm_id = log.add(
        PEOPLE["planner"], ident, report(position=tuple(lonlat(470, 530)), damage="two huts", reporter=CANARY)
    )
    log.review(PEOPLE["poc_adviser"], harm_id, step="initial_review", status="credible")
    support_id = SupportRegister(record).add(
        PEOPLE["planner"],
        ident,
        SupportGiven("SSPDF", "transport", "2025-05-01", "2025-05-02", "2025-05-20", unit="5th Brigade"),
    )
    out = tmp_path / "out"
    out.mkdir()
    _, found, _ = from_record(record, ident, RedactionSettings(), coarsen_km=1.0)
    export(found, "gpkg", out / "a.gpkg")
    export(found, "csv", out / "csv")
    brief = html.unescape(brief_html(*from_record(record, ident, RedactionSettings(), lang="fr")[:2]))
    uncleared = [brief, (out / "csv" / "harm_records.csv").read_text(encoding="utf-8-sig")]
    uncleared.append(gpd.read_file(out / "a.gpkg", layer="harm_records").to_json())
    assert all(CANARY not in text for text in uncleared)
    assert "harm_records.witness, harm_records.reporter" in " ".join(found.statement)

    harm_layer = gpd.read_file(out / "a.gpkg", layer="harm_records")
    [row] = harm_layer.to_dict("records")
    assert (row["harm_id"], row["placed_zone"], row["placed_element"]) == (harm_id, "core", "cordon-1")
    assert (row["deaths_low"], row["deaths_high"], row["injuries_low"], row["injuries_high"]) == (0, 1, 2, 4)
    assert row["position"] == "centre of a 1 km cell" and row["position_precision_m"] == 500
    utm = gpd.GeoSeries([row["geometry"]], crs="EPSG:4326").to_crs(record.assessment_result(ident)["working_crs"])
    assert utm.x[0] % 1000 == pytest.approx(500, abs=0.01) and utm.y[0] % 1000 == pytest.approx(500, abs=0.01)
    support = pd.read_csv(out / "csv" / "support.csv", comment="#")
    assert support.loc[0, "support_id"] == support_id and support.loc[0, "next_due"] == "2025-05-20"
    assert gpd.read_file(out / "a.gpkg", layer="support").loc[0, "partner"] == "SSPDF"
    assert "Annexe E : dommages enregistrés après l'opération" in brief and harm_id in brief
    assert "dans la zone centrale de cordon-1" in brief and "examen initial : crédible" in brief

    _, cleared, _ = from_record(record, ident, RedactionSettings(), user=PEOPLE["poc_adviser"], include_sensitive=True)
    assert cleared.layers["harm_records"].loc[0, "reporter"] == CANARY
    assert CANARY in brief_html(*from_record(
        record, ident, RedactionSettings(), user=PEOPLE["poc_adviser"], include_sensitive=True
    )[:2])  # fmt: skip


def test_p30_is_one_review_only_where_the_lines_read_the_same_and_shared_outputs_withhold_the_place(
    harm: tuple[Record, HarmLog, str], tmp_path: Path
) -> None:
    from world import make_world, polygon  # noqa: PLC0415

    from planner.checklist import render  # noqa: PLC0415

    _, log, ident = harm
    log.add(PEOPLE["planner"], ident, report(position=tuple(lonlat(800, 550))))

    def cordon(west: int) -> dict[str, Any]:
        square = polygon((west, 400), (west + 300, 400), (west + 300, 700), (west, 700))
        return {"id": "cordon-1", "activity": "cordon_search", "outer_m": 100, "geometry": square}

    coas = [
        {"id": "A", "name": "Near", "elements": [cordon(300)]},
        {"id": "B", "name": "Farther", "elements": [cordon(100)]},
    ]
    (tmp_path / "two").mkdir()
    plan, layers = open_plan(make_world(tmp_path / "two", plan_extra={"coas": coas}))
    result = assess(plan, layers, Settings(surface={"margin_m": 300}), history=log.history())
    texts = {}
    for r in result.coas:
        [p30] = [i for i in r.checklist.items if i.rule == "P30"]
        assert p30.coas == (r.coa.id,)  # 100 m from A's zones, 300 m from B's: two lines, two reviews
        exact = render(r.checklist, result.catalogue, "en", r.coa.id)
        shared = render(r.checklist, result.catalogue, "en", r.coa.id, coarsen_m=1000)
        texts[r.coa.id] = [
            next(e["text"] for i in page["items"] if i["id"] == "P30" for e in i["evidence"] if e["decided"])
            for page in (exact, shared)
        ]
    assert "100 m from this COA's zones" in texts["A"][0] and "300 m from this COA's zones" in texts["B"][0]
    assert "36N" in texts["A"][0]  # the place with its MGRS reference, inside the mission
    assert "somewhere in a 1 km cell (position coarsened)" in texts["A"][1] and "36N" not in texts["A"][1]
    assert "1 km from this COA's zones" in texts["A"][1]
