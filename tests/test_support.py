"""The register of support to partner forces (HRDDP): support registered with its follow-up, reviews of the
supported unit, and the next assessment of a plan with that partner raising what is overdue or open."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_harm_records import report
from test_record import PASSWORD, PEOPLE, here, new_record, primum
from world import lonlat, make_world

from planner.assess import assess
from planner.errors import RecordError
from planner.plan import open_plan
from planner.record import NotAllowedError, Record
from planner.record.harm import HarmLog
from planner.record.support import SupportGiven, SupportRegister
from planner.settings import Settings
from planner.vocabulary import ALLOWED, ROLES

SETTINGS = Settings(surface={"margin_m": 300})


@pytest.fixture
def register(tmp_path: Path) -> tuple[Record, SupportRegister, str, Path]:
    record = new_record(tmp_path)
    for role in ("human_rights_officer", "civil_affairs_officer", "child_protection_officer"):
        record.add_user(PEOPLE["admin"], PEOPLE[role].name, role, PASSWORD)
    (tmp_path / "world").mkdir()
    plan_path = make_world(tmp_path / "world", plan_extra={"partner_forces": ["SSPDF"]})
    plan, layers = open_plan(plan_path)
    ident = record.record_assessment(PEOPLE["planner"], assess(plan, layers, SETTINGS))
    return record, SupportRegister(record), ident, plan_path


def given(**changes: str) -> SupportGiven:
    fields = {
        "partner": "SSPDF",
        "unit": "5th Brigade",
        "kind": "fire_support",
        "starts": "2025-05-01",
        "ends": "2025-05-03",
        "follow_up_due": "2025-05-20",
        "conditions": "no fire within 500 m of the camp",
    }
    return SupportGiven(**{**fields, **changes})


def p43(record: Record, plan_path: Path) -> dict[str, Any] | None:
    plan, layers = open_plan(plan_path)
    history = HarmLog(record).history()
    checklist = assess(plan, layers, SETTINGS, history=history).to_dict()["coas"][0]["checklist"]
    return next((i for i in checklist["items"] if i["id"] == "P43"), None)


def test_only_the_roles_named_register_and_follow_up_support(
    register: tuple[Record, SupportRegister, str, Path],
) -> None:
    record, support, ident, _ = register
    registered = support.add(PEOPLE["planner"], ident, given())
    actions = {
        "register_support": lambda user: support.add(user, ident, given()),
        "follow_up_support": lambda user: support.review(user, registered, status="done"),
    }
    roles = ("admin", "planner", "poc_adviser", "commander", *ROLES[4:7])
    outcomes = {}
    for action, attempt in actions.items():
        for role in roles:
            try:
                attempt(PEOPLE[role])
                outcomes[(action, role)] = True
            except NotAllowedError:
                outcomes[(action, role)] = False
    assert outcomes == {(a, r): r in ALLOWED[a] for a in actions for r in roles}
    assert record.verify().intact


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "training"}, "unknown kind of support 'training'"),
        ({"partner": " "}, "name the partner force"),
        ({"ends": "2025-04-01"}, "--to 2025-04-01 is before --from 2025-05-01"),
        ({"follow_up_due": "20/05/2025"}, "--follow-up '20/05/2025' is not a date"),
    ],
)
def test_bad_support_is_refused_in_words(
    register: tuple[Record, SupportRegister, str, Path], changes: dict[str, str], message: str
) -> None:
    _, support, ident, _ = register
    with pytest.raises(RecordError, match=message):
        support.add(PEOPLE["planner"], ident, given(**changes))
    assert support.entries() == []


def test_an_overdue_follow_up_raises_p43_naming_the_support_until_it_is_done(
    register: tuple[Record, SupportRegister, str, Path],
) -> None:
    record, support, ident, plan_path = register
    assert p43(record, plan_path) is None
    registered = support.add(PEOPLE["planner"], ident, given())
    raised = p43(record, plan_path)
    assert raised is not None and raised["severity"] == "high" and raised["owner"][0] == "human_rights_officer"
    [line] = raised["evidence"]
    assert line["text"] == (
        f"{registered}: fire support to SSPDF (5th Brigade): follow-up review due on 2025-05-20, before this "
        "operation, and not done"
    )
    support.review(PEOPLE["human_rights_officer"], registered, status="done", next_due="2025-09-01")
    assert p43(record, plan_path) is None  # the next follow-up falls after the operation starts
    support.review(PEOPLE["human_rights_officer"], registered, status="finding", note="shelling of Kalo market")
    raised = p43(record, plan_path)
    assert raised is not None and raised["evidence"][0]["text"].endswith("open findings: shelling of Kalo market")
    support.review(PEOPLE["poc_adviser"], registered, status="finding_closed", note="unit withdrawn", next_due="")
    assert p43(record, plan_path) is None
    assert [r["status"] for r in support.entries()[0]["reviews"]] == ["done", "finding", "finding_closed"]


def test_harm_attributed_to_the_supported_unit_is_a_finding_against_it(
    register: tuple[Record, SupportRegister, str, Path],
) -> None:
    record, support, ident, plan_path = register
    registered = support.add(PEOPLE["planner"], ident, given(follow_up_due="2025-12-01"))
    assert p43(record, plan_path) is None
    harm_id = HarmLog(record).add(
        PEOPLE["planner"], ident, report(position=tuple(lonlat(450, 550)), attributed_to="SSPDF 5th Brigade")
    )
    raised = p43(record, plan_path)
    assert raised is not None and raised["evidence"][0]["data"]["support"] == registered
    assert f"open findings: {harm_id} (2025-06-01)" in raised["evidence"][0]["text"]


def test_a_plan_without_that_partner_raises_nothing_and_one_with_unnamed_partners_is_asked(
    register: tuple[Record, SupportRegister, str, Path], tmp_path: Path
) -> None:
    record, support, ident, _ = register
    support.add(PEOPLE["planner"], ident, given())
    (tmp_path / "other").mkdir()
    assert p43(record, make_world(tmp_path / "other", plan_extra={"partner_forces": ["FACA"]})) is None
    (tmp_path / "alone").mkdir()
    assert p43(record, make_world(tmp_path / "alone")) is None
    (tmp_path / "unnamed").mkdir()
    asked = p43(record, make_world(tmp_path / "unnamed", plan_extra={"partner_force": True}))
    assert asked is not None and asked["kind"] == "prompt"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE support_records SET content = replace(content, '2025-05-20', '2026-05-20')", "support record"),
        ("UPDATE support_reviews SET status = 'done'", "follow-up review 1"),
        ("DELETE FROM support_reviews", "missing from the record"),
    ],
)
def test_verify_catches_an_edited_register(
    register: tuple[Record, SupportRegister, str, Path], sql: str, expected: str
) -> None:
    record, support, ident, _ = register
    registered = support.add(PEOPLE["planner"], ident, given())
    support.review(PEOPLE["human_rights_officer"], registered, status="finding", note="arbitrary arrests")
    assert record.verify().intact
    with sqlite3.connect(record.engine.url.database) as conn:  # type: ignore[arg-type]
        conn.executescript(sql)
    assert any(expected in p for p in record.verify().problems)


def test_the_register_on_the_command_line(register: tuple[Record, SupportRegister, str, Path]) -> None:
    record, _, ident, _ = register
    env = {"PRIMUM_DB": str(record.engine.url.database), "PRIMUM_PASSWORD": PASSWORD}
    added = primum(
        "support", "add", ident, "--partner", "SSPDF", "--unit", "5th Brigade", "--kind", "transport",
        "--from", "2025-05-01", "--to", "2025-05-02", "--follow-up", "2025-05-20", "--as", "planner-1", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    support_id = added.stdout.split()[-1]
    assert added.stdout.startswith("support recorded as SU-")
    refused = here("support", "review", support_id, "--status", "done", "--as", "commander-1", env=env)
    assert refused.returncode == 2 and "only a human_rights_officer or poc_adviser may" in refused.stderr
    done = here(
        "support", "review", support_id, "--status", "finding", "--note", "beatings at the checkpoint",
        "--next", "2025-07-01", "--as", "human_rights_officer-1", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = here("support", "list", env=env)
    assert "transport to SSPDF (5th Brigade)" in listed.stdout and "OPEN FINDING: beatings" in listed.stdout
    [entry] = json.loads(here("support", "list", "--json", env=env).stdout)
    assert (entry["due"], entry["open_findings"]) == ("2025-07-01", ["beatings at the checkpoint"])


def test_threat_reports_naming_the_supported_unit_since_the_support_began_are_findings(tmp_path: Path) -> None:
    record = new_record(tmp_path)
    (tmp_path / "world").mkdir()
    spot = lonlat(20_000, 20_000)  # far from the footprint: a unit's conduct anywhere counts
    threats = "date,lat,lon,type,actors\n" + "".join(
        f"{day},{spot[1]},{spot[0]},attack on civilians,{actors}\n"
        for day, actors in (
            ("2025-04-01", "SSPDF 5th Brigade"),  # before the support: not a finding of this support
            ("2025-05-10", "SSPDF 5th Brigade; militia"),
            ("2025-05-12", "SSPDF 9th Brigade"),  # another unit
        )
    )
    plan_path = make_world(tmp_path / "world", threats=threats, plan_extra={"partner_forces": ["SSPDF"]})
    plan, layers = open_plan(plan_path)
    ident = record.record_assessment(PEOPLE["planner"], assess(plan, layers, SETTINGS))
    registered = SupportRegister(record).add(PEOPLE["planner"], ident, given(follow_up_due="2025-12-01"))
    raised = p43(record, plan_path)
    assert raised is not None and raised["evidence"][0]["data"]["support"] == registered
    [finding] = raised["evidence"][0]["data"]["findings"]
    assert finding.endswith("(2025-05-10)") and finding.startswith("events:")
