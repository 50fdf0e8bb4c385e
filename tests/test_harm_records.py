"""Harm after an operation: records linked to the assessment before it, a workflow each role takes its own step
of, names of witnesses kept back, and an audit chain that catches an edited record."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_record import PASSWORD, PEOPLE, new_record, world_assessment

from planner.errors import RecordError
from planner.record import NotAllowedError, NotFoundError, Record
from planner.record.harm import HarmLog, HarmReport, parse_count, parse_moment
from planner.vocabulary import HARM_STEP_ROLES, ROLES

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
