"""The commander's decision names a COA: only its items must be closed, a refusal lists them, and a later
decision replaces an earlier one only with a note, every decision kept in the history.

The world is tests/world.py's with two COAs: A cordons the quarter, B patrols past it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from test_checklist_fit import cordon, patrol
from typer.testing import CliRunner
from world import make_world

from planner.assess import assess
from planner.cli import app
from planner.plan import open_plan
from planner.record import NotAllowedError, Record, RecordError, User
from planner.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
ADVISER = User("poc-1", "poc_adviser")
COMMANDER = User("commander-1", "commander")


@pytest.fixture
def two_coas(tmp_path: Path) -> tuple[Record, str, Path]:
    (tmp_path / "world").mkdir()
    plan_path = make_world(tmp_path / "world", sites=[("clinic", "Cordon clinic", 450, 550)])
    plan = yaml.safe_load(plan_path.read_text())
    plan["coas"] = [
        {"id": "A", "name": "Cordon", "elements": [cordon()]},
        {"id": "B", "name": "Patrol", "elements": [patrol(y=950)]},
    ]
    plan_path.write_text(yaml.safe_dump(plan))
    result = assess(*open_plan(plan_path), Settings(surface={"margin_m": 300}))
    db = tmp_path / "record.db"
    record = Record.open(f"sqlite:///{db}")
    admin = record.add_user(None, "admin-1", "admin", PASSWORD)
    for user in (ADVISER, COMMANDER, User("planner-1", "planner")):
        record.add_user(admin, user.name, user.role, PASSWORD)
    return record, record.record_assessment(User("planner-1", "planner"), result), db


def close(record: Record, ident: str, coa: str) -> None:
    for item in record.status(ident)["items"]:
        if coa in item["coas"] and item["status"] == "open":
            record.review(ADVISER, ident, item["key"], status="accepted_risk", note="weighed")


def items_of(record: Record, ident: str, coa: str) -> list[dict[str, Any]]:
    return [i for i in record.status(ident)["items"] if coa in i["coas"]]


def test_approving_a_coa_needs_only_its_own_items_closed_and_a_refusal_names_them(
    two_coas: tuple[Record, str, Path],
) -> None:
    record, ident, _ = two_coas
    with pytest.raises(NotAllowedError) as refused:
        record.signoff(COMMANDER, ident, decision="approve", coa="B")
    still_open = items_of(record, ident, "B")
    message = str(refused.value)
    assert f"{len(still_open)} item(s) of COA B are still open" in message
    assert all(f"{i['key']} {i['title']}" in message for i in still_open)
    assert "A/P40" not in message  # A's own items are not B's business
    close(record, ident, "B")
    assert any(i["status"] == "open" for i in items_of(record, ident, "A"))
    record.signoff(COMMANDER, ident, decision="approve", coa="B")
    signed = record.status(ident)["signoff"]
    assert (signed["decision"], signed["coa"], signed["valid"]) == ("approve", "B", True)
    assert record.verify().intact


def test_an_approval_names_a_coa_of_the_plan(two_coas: tuple[Record, str, Path]) -> None:
    record, ident, _ = two_coas
    with pytest.raises(RecordError, match=r"names the COA chosen.*one of A, B"):
        record.signoff(COMMANDER, ident, decision="approve")
    with pytest.raises(RecordError, match="no COA 'Z'"):
        record.signoff(COMMANDER, ident, decision="approve", coa="Z")
    record.signoff(COMMANDER, ident, decision="reject")  # a rejection is of the plan: no COA needed
    assert record.status(ident)["signoff"]["coa"] == ""


def test_a_later_decision_replaces_the_one_in_force_only_with_a_note_and_both_stay_in_the_history(
    two_coas: tuple[Record, str, Path],
) -> None:
    record, ident, _ = two_coas
    record.signoff(COMMANDER, ident, decision="reject")
    close(record, ident, "A")
    with pytest.raises(NotAllowedError, match=r"already decided.*note"):
        record.signoff(COMMANDER, ident, decision="approve", coa="A")
    record.signoff(COMMANDER, ident, decision="approve", coa="A", note="the cordon now keeps the clinic open")
    status = record.status(ident)
    history = [(h["decision"], h["coa"], h["note"]) for h in status["signoff_history"]]
    assert history == [("reject", "", ""), ("approve", "A", "the cordon now keeps the clinic open")]
    assert status["signoff"]["decision"] == "approve" and status["signoff"]["coa"] == "A"
    assert record.verify().intact


def test_blanking_the_coa_of_a_decision_is_caught(two_coas: tuple[Record, str, Path]) -> None:
    record, ident, _ = two_coas
    close(record, ident, "B")
    record.signoff(COMMANDER, ident, decision="approve", coa="B")
    with record.engine.begin() as conn:
        conn.execute(sa.text("UPDATE signoffs SET coa = ''"))
    found = record.verify()
    assert not found.intact and any("sign-off 1" in p and "altered" in p for p in found.problems)


def test_the_command_line_decides_on_a_coa_and_status_shows_the_history(two_coas: tuple[Record, str, Path]) -> None:
    record, ident, db = two_coas
    close(record, ident, "B")
    env = {"PRIMUM_DB": str(db), "PATH": "/usr/bin:/bin", "HOME": str(db.parent)}

    def primum(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "planner.cli", *args],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )

    refused = primum("signoff", ident, "--decision", "approve", "--coa", "A", "--as", COMMANDER.name)
    assert refused.returncode != 0 and "of COA A are still open" in refused.stderr and "Traceback" not in refused.stderr
    # The later steps in this process (the password from the environment): the same command, no start-up
    signed_in = {"PRIMUM_DB": str(db), "PRIMUM_PASSWORD": PASSWORD}
    args = ["signoff", ident, "--decision", "approve", "--coa", "B", "--as", COMMANDER.name]
    done = CliRunner().invoke(app, args, env=signed_in, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    assert "approve COA B by commander-1" in done.stdout
    shown = CliRunner().invoke(app, ["status", ident], env=signed_in, catch_exceptions=False)
    assert "sign-off: approve COA B by commander-1" in shown.stdout and "VALID" in shown.stdout
