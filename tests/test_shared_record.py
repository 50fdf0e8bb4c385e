"""Several dashboard processes on one PostgreSQL record behave as one: two advisers in two offices, each with
the checklist open at the same version, save a review of the same item; one is kept, the other is told on
screen that it changed since they saw it, and nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from test_dashboard import PASSWORD, _sample_area

from planner.assess import assess
from planner.plan import open_plan
from planner.record import Record

ROOT = Path(__file__).resolve().parent.parent

# One dashboard process: the checklist page as the adviser sees it, saved when the test says go
OFFICE = """
import sys
from pathlib import Path
from streamlit.testing.v1 import AppTest
from planner.record import User

plan, who, note = sys.argv[1], sys.argv[2], sys.argv[3]
at = AppTest.from_file("app.py", default_timeout=120)
at.session_state["plan_path"] = plan
at.session_state["lang"] = "en"
at.session_state["user"] = User(who, "poc_adviser")
at.run()
at.switch_page("planner/dashboard/pages/checklist.py")
at.run()
assert not at.exception, at.exception
label = next(e.label for e in at.expander if e.label.startswith("A/P38"))
print("ready", label, flush=True)
at.session_state[f"open:{at.session_state['assessment_id']}:A/P38"] = True  # the item opened: its form drawn
at.run()
sys.stdin.readline()  # both offices have the item open at the same version: go
at.selectbox(key="status_A/P38").set_value("addressed")
at.text_input(key="note_A/P38").input(note)
at.button(key="save_A/P38").click().run()
assert not at.exception, at.exception
print("warning:", " | ".join(w.value for w in at.warning), flush=True)
print("success:", " | ".join(s.value for s in at.success), flush=True)
"""


def test_two_dashboard_processes_on_one_server_record_keep_one_review_and_tell_the_other(
    postgres: Any, tmp_path: Path
) -> None:
    area = _sample_area(tmp_path / "area")
    url = postgres.new_database()
    env = {
        **os.environ,
        "PRIMUM_SETTINGS": str(area / "mission.toml"),
        "PRIMUM_DB": url,
        "PRIMUM_AUDIT_KEY": str(tmp_path / "audit.key"),
        "PRIMUM_AUDIT_ANCHOR": str(tmp_path / "audit.anchor"),
    }
    os.environ.update({k: env[k] for k in ("PRIMUM_AUDIT_KEY", "PRIMUM_AUDIT_ANCHOR")})
    try:
        record = Record.open(url)
        admin = record.add_user(None, "admin-1", "admin", PASSWORD)
        planner = record.add_user(admin, "planner-1", "planner", PASSWORD)
        for office in ("juba", "bentiu"):
            record.add_user(admin, f"adviser-{office}", "poc_adviser", PASSWORD)
        plan, layers = open_plan(area / "scenarios" / "sample.yaml")
        ident = record.record_assessment(planner, assess(plan, layers))
    finally:
        for key in ("PRIMUM_AUDIT_KEY", "PRIMUM_AUDIT_ANCHOR"):
            os.environ.pop(key, None)
    offices = {
        office: subprocess.Popen(
            [sys.executable, "-c", OFFICE, str(area / "scenarios" / "sample.yaml"), f"adviser-{office}", office],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for office in ("juba", "bentiu")
    }
    for child in offices.values():
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready.startswith("ready A/P38") and " · open · " in ready, (ready, child.stderr.read())
    said = {}
    for office, child in offices.items():
        out, err = child.communicate("go\n", timeout=300)
        assert child.returncode == 0, err[-3000:]
        said[office] = out
    refused = [office for office, out in said.items() if "changed since you saw it" in out]
    assert len(refused) == 1, said  # whichever saved second is told, on screen
    [kept] = [office for office in offices if office not in refused]
    item = next(i for i in record.status(ident)["items"] if i["key"] == "A/P38")
    assert item["status"] == "addressed" and [h["note"] for h in item["history"]] == [kept]
    assert [h["by"] for h in item["history"]] == [f"adviser-{kept}"]
    assert record.verify().intact
    record.engine.dispose()
