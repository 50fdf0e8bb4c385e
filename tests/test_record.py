"""The record: roles, reviews and sign-offs that bind to their inputs, an audit chain that catches any edit,
and a store that keeps every write through crashes and concurrent writers. Every test that touches a store
runs on an embedded SQLite file and on a real PostgreSQL server (started by the tests, see ``pg_server``)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner
from world import make_world

from planner.assess import Assessment, assess
from planner.cli import app
from planner.errors import InputError
from planner.plan import open_plan
from planner.record import ConflictError, NotAllowedError, Record, RecordError, SignInError, User
from planner.record.assessments import _signoff_sha
from planner.record.audit import ENTRY_FIELDS, Seal, canonical
from planner.record.audit import sha256 as audit_sha256
from planner.record.store import backup, metadata, open_store
from planner.settings import Settings
from planner.vocabulary import ALLOWED, ROLES

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
PEOPLE = {role: User(f"{role}-1", role) for role in ROLES}


def world_assessment(folder: Path) -> Assessment:
    plan, layers = open_plan(make_world(folder, sites=[("clinic", "Cordon clinic", 450, 550)]))
    return assess(plan, layers, Settings(surface={"margin_m": 300}))


def new_record(where: str | Path, **kwargs: Any) -> Record:
    """A record with a user of each role: at a store's URL, or in a SQLite file in a folder."""
    record = Record.open(where if isinstance(where, str) else f"sqlite:///{where / 'record.db'}", **kwargs)
    record.add_user(None, PEOPLE["admin"].name, "admin", PASSWORD)
    for role in ("planner", "poc_adviser", "commander"):
        record.add_user(PEOPLE["admin"], PEOPLE[role].name, role, PASSWORD)
    return record


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty record: a SQLite file, or a database of its own on the tests' PostgreSQL server (its seal
    in this test's folder, as a mission keeps it beside the service)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'record.db'}"
        return
    monkeypatch.setenv("PRIMUM_AUDIT_KEY", str(tmp_path / "record.db.key"))
    monkeypatch.setenv("PRIMUM_AUDIT_ANCHOR", str(tmp_path / "record.db.anchor"))
    engines: weakref.WeakSet[sa.engine.Engine] = weakref.WeakSet()

    def remember(connection: sa.Connection) -> None:
        engines.add(connection.engine)

    sa.event.listen(sa.engine.Engine, "engine_connect", remember)
    try:
        yield str(request.getfixturevalue("postgres").new_database())
    finally:
        # Every record the test opened closes its server connections now, as a service does when it stops
        sa.event.remove(sa.engine.Engine, "engine_connect", remember)
        for engine in list(engines):
            engine.dispose()


@pytest.fixture
def recorded(store_url: str, tmp_path: Path) -> tuple[Record, str, Assessment]:
    (tmp_path / "world").mkdir()
    result = world_assessment(tmp_path / "world")
    record = new_record(store_url)
    return record, record.record_assessment(PEOPLE["planner"], result), result


def raw(record: Record, sql: str, **params: Any) -> list[Any]:
    """Run SQL straight on the record's database, as anyone who can write it could (no service, no seal)."""
    found: list[Any] = []
    with record.engine.begin() as conn:
        for statement in [part.strip() for part in sql.split(";") if part.strip()]:
            result = conn.execute(sa.text(statement), params)
            if result.returns_rows:
                found.extend(result.mappings().all())
    return found


def review_all(record: Record, ident: str, status: str = "addressed") -> None:
    for item in record.status(ident)["items"]:
        record.review(PEOPLE["poc_adviser"], ident, item["key"], status=status, note="done")


# --- rules ---------------------------------------------------------------------------------------------------


def test_every_action_by_every_role_only_the_allowed_ones_pass(recorded: tuple[Record, str, Assessment]) -> None:
    record, ident, result = recorded
    key = record.status(ident)["items"][0]["key"]
    actions = {
        "add_user": lambda user, n: record.add_user(user, f"new-{user.role}-{n}", "planner", PASSWORD),
        "record": lambda user, n: record.record_assessment(user, result),
        "review": lambda user, n: record.review(user, ident, key, status="addressed", note=f"{n}"),
        "add_item": lambda user, n: record.add_item(user, ident, title=f"Item {n}", owner="planner"),
        "signoff": lambda user, n: record.signoff(user, ident, decision="reject", conditions=""),
    }
    outcomes = {}
    for n, (action, attempt) in enumerate(actions.items()):
        for role, user in PEOPLE.items():
            try:
                attempt(user, n)
                outcomes[(action, role)] = True
            except NotAllowedError:
                outcomes[(action, role)] = False
    # A PoC adviser reviews any item; the mission's other civilian officers only the items their role owns
    owners = next(i["owner"] for i in record.status(ident)["items"] if i["key"] == key)
    expected = {(a, r): r in ALLOWED[a] for a in actions for r in ROLES}
    expected |= {("review", r): r == "poc_adviser" or (r in ALLOWED["review"] and r in owners) for r in ROLES}
    assert outcomes == expected
    assert record.verify().intact


def test_a_commander_cannot_approve_while_an_item_is_open_but_may_always_reject(
    recorded: tuple[Record, str, Assessment],
) -> None:
    record, ident, _ = recorded
    commander = PEOPLE["commander"]
    with pytest.raises(NotAllowedError, match="still open"):
        record.signoff(commander, ident, decision="approve")
    review_all(record, ident)
    first = record.status(ident)["items"][0]
    record.review(PEOPLE["poc_adviser"], ident, first["key"], status="change_requested", note="move the cordon")
    with pytest.raises(NotAllowedError, match="plan change"):
        record.signoff(commander, ident, decision="approve")
    with pytest.raises(RecordError, match="needs the conditions"):
        record.signoff(commander, ident, decision="approve_with_conditions")
    record.signoff(commander, ident, decision="approve_with_conditions", conditions="cordon moved 200 m east")
    signed = record.status(ident)["signoff"]
    assert signed["decision"] == "approve_with_conditions" and signed["valid"] and signed["by"] == commander.name
    with pytest.raises(NotAllowedError, match="signed off"):
        record.review(PEOPLE["poc_adviser"], ident, first["key"], status="addressed", note="")


def test_a_risk_accepted_without_a_reason_is_refused(recorded: tuple[Record, str, Assessment]) -> None:
    record, ident, _ = recorded
    key = record.status(ident)["items"][0]["key"]
    with pytest.raises(RecordError, match="needs a note"):
        record.review(PEOPLE["poc_adviser"], ident, key, status="accepted_risk")


def test_items_added_by_hand_are_reviewed_like_the_others(recorded: tuple[Record, str, Assessment]) -> None:
    record, ident, _ = recorded
    key = record.add_item(
        PEOPLE["poc_adviser"], ident, title="Brief the camp committee", owner="civil_affairs", coa="A"
    )
    assert key == "A/H1"
    found = {i["key"]: i for i in record.status(ident)["items"]}
    assert found["A/H1"]["source"] == "adviser" and found["A/H1"]["status"] == "open"
    record.review(PEOPLE["poc_adviser"], ident, "A/H1", status="addressed", note="briefed on 3 June")
    found = {i["key"]: i for i in record.status(ident)["items"]}
    [entry] = found["A/H1"]["history"]
    assert (entry["status"], entry["note"], entry["by"]) == ("addressed", "briefed on 3 June", "poc_adviser-1")
    assert record.verify().intact


# --- sign-off validity ---------------------------------------------------------------------------------------


def test_a_signoff_is_void_once_an_input_layer_changes_and_says_which(
    recorded: tuple[Record, str, Assessment], tmp_path: Path
) -> None:
    record, ident, _ = recorded
    review_all(record, ident)
    record.signoff(PEOPLE["commander"], ident, decision="approve")
    assert record.status(ident)["signoff"]["valid"]
    idp = tmp_path / "world" / "idp.geojson"
    idp.write_text(idp.read_text().replace("1000", "1500"))
    signed = record.status(ident)["signoff"]
    assert not signed["valid"]
    [reason] = signed["void_because"]
    assert reason.startswith("layer `idp` changed on ")
    assert [s["valid"] for s in record.verify().signoffs] == [False]
    assert record.verify().intact  # a changed input voids the sign-off; it is not tampering with the record
    # ... but `primum verify` does not say all is well: it names the VOID sign-off and exits 1.
    result = CliRunner().invoke(app, ["verify"], env={"PRIMUM_DB": str(record.engine.url)})
    assert result.exit_code == 1
    assert "VOID: layer `idp` changed on" in result.output and "1 sign-off(s) VOID" in result.output


def test_a_deleted_plan_file_voids_the_signoff(recorded: tuple[Record, str, Assessment], tmp_path: Path) -> None:
    record, ident, _ = recorded
    record.signoff(PEOPLE["commander"], ident, decision="reject")
    (tmp_path / "world" / "plan.yaml").unlink()
    assert "plan `Hand-made plan` is missing" in record.status(ident)["signoff"]["void_because"][0]


# --- concurrency and crashes ---------------------------------------------------------------------------------


def test_a_second_reviewer_working_from_the_same_version_gets_a_conflict(
    recorded: tuple[Record, str, Assessment],
) -> None:
    record, ident, _ = recorded
    item = record.status(ident)["items"][0]
    other = User("poc_adviser-2", "poc_adviser")
    record.review(PEOPLE["poc_adviser"], ident, item["key"], status="addressed", note="first", expected_version=1)
    with pytest.raises(ConflictError, match="poc_adviser-1"):
        record.review(other, ident, item["key"], status="accepted_risk", note="second", expected_version=1)
    [kept] = record.status(ident)["items"][0]["history"]
    assert kept["note"] == "first"


# One writer: a process of its own that loads only the record, as a dashboard process or script would; eight
# of them on three items collide on most rounds, so fifty attempts each are plenty
ATTEMPTS = 50
WRITER = f"""
import json, random, sys
from planner.record import ConflictError, Record, User
from planner.record.store import open_store
url, ident, keys, seed = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
record = Record(open_store(url))
rng = random.Random(seed)
user = User(f"adviser-{{seed}}", "poc_adviser")
done = conflicts = 0
print("ready", flush=True)
sys.stdin.readline()  # every writer starts at once
for n in range({ATTEMPTS}):
    key = rng.choice(keys)
    version = next(i["version"] for i in record.status(ident)["items"] if i["key"] == key)
    try:
        record.review(user, ident, key, status="addressed", note=f"{{seed}}-{{n}}", expected_version=version)
        done += 1
    except ConflictError:
        conflicts += 1
print(done, conflicts, flush=True)
"""


def test_eight_concurrent_writers_keep_every_review_and_report_every_conflict(
    recorded: tuple[Record, str, Assessment],
) -> None:
    record, ident, _ = recorded
    keys = [i["key"] for i in record.status(ident)["items"]][:3]  # few items: many collisions
    url = str(record.engine.url)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, ident, json.dumps(keys), str(seed)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(8)
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:  # all of them go before any is waited for
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    outputs = [writer.communicate(timeout=300) for writer in writers]
    assert all(writer.returncode == 0 for writer in writers), [err[-2000:] for _, err in outputs]
    counts = [tuple(int(n) for n in out.split()) for out, _ in outputs]
    done = sum(c[0] for c in counts)
    assert all(c[0] + c[1] == ATTEMPTS for c in counts)  # every attempt either kept or reported
    assert sum(c[1] for c in counts) > 0  # the writers did collide
    notes = {n for i in record.status(ident)["items"] for n in (h["note"] for h in i["history"])}
    assert len(notes) == done  # every kept review is in the history, none overwritten
    assert sum(i["version"] - 1 for i in record.status(ident)["items"]) == done
    assert record.verify().intact


KILLED_WRITER = """
import sys
from planner.record import Record, User
from planner.record.store import open_store
record = Record(open_store(sys.argv[1]))
items = [i["key"] for i in record.status(sys.argv[2])["items"]]
print("ready", flush=True)
n = 0
while True:
    record.review(User("adviser-k", "poc_adviser"), sys.argv[2], items[n % len(items)], status="addressed", note=str(n))
    n += 1
"""


def test_a_writer_killed_mid_review_leaves_the_record_whole(recorded: tuple[Record, str, Assessment]) -> None:
    record, ident, _ = recorded
    before = record.status(ident)
    for delay in (0.2, 0.45, 0.7):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, str(record.engine.url), ident],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    after = record.verify()
    assert after.intact, after.problems
    found = record.status(ident)
    reviews = sum(len(i["history"]) for i in found["items"])
    assert reviews > 0 and sum(i["version"] - 1 for i in found["items"]) == reviews
    assert found["recorded_at"] == before["recorded_at"] and len(found["items"]) == len(before["items"])


# --- the audit chain -----------------------------------------------------------------------------------------


def _tamper(record: Record, sql: str) -> list[str]:
    raw(record, sql)
    return record.verify().problems


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE audit SET actor = 'someone' WHERE seq = 3", "audit entry 3"),
        ("DELETE FROM audit WHERE seq = 4", "audit entry 4 is missing"),
        ("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)", "chain ends at entry"),
        (
            "UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; "  # noqa: ISC004
            "UPDATE audit SET seq = 3 WHERE seq = -1",
            "does not follow",
        ),
        ("UPDATE reviews SET note = 'nothing to see' WHERE id = 1", "review 1"),
        ("DELETE FROM reviews WHERE id = 1", "missing from the record"),
        ("UPDATE signoffs SET decision = 'approve' WHERE id = 1", "sign-off 1"),
        ("DELETE FROM signoffs WHERE id = 1", "signoff 1 is in the audit log but missing"),
        ("UPDATE users SET role = 'commander' WHERE name = 'planner-1'", "user 'planner-1'"),
        (
            "UPDATE items SET status = 'addressed' WHERE key = (SELECT MIN(key) FROM items WHERE status = 'open')",
            "reviews say 'open'",
        ),
        ("UPDATE assessments SET result = '{}'", "altered after it was recorded"),
    ],
)
def test_any_edit_deletion_or_reordering_is_caught_by_verify(
    recorded: tuple[Record, str, Assessment], sql: str, expected: str
) -> None:
    record, ident, _ = recorded
    key = record.status(ident)["items"][0]["key"]
    record.review(PEOPLE["poc_adviser"], ident, key, status="addressed", note="checked on the ground")
    record.signoff(PEOPLE["commander"], ident, decision="reject")
    assert record.verify().intact
    problems = _tamper(record, sql)
    assert any(expected in p for p in problems), problems


# --- passwords -----------------------------------------------------------------------------------------------


def test_passwords_are_never_stored_or_logged_in_clear_and_wrong_ones_are_slowed_and_logged(
    store_url: str, tmp_path: Path
) -> None:
    waits: list[float] = []
    record = new_record(store_url, sleep=waits.append)
    assert record.sign_in("commander-1", PASSWORD) == PEOPLE["commander"]
    for _ in range(3):
        with pytest.raises(SignInError, match="wrong user name or password"):
            record.sign_in("commander-1", "guess")
    with pytest.raises(SignInError):
        record.sign_in("nobody", "guess")
    assert waits[:3] == [0.5, 1.0, 2.0] and waits[3] == 0.5  # each failure for a name doubles the next wait
    stored = repr([raw(record, f"SELECT * FROM {table.name}") for table in metadata.sorted_tables])
    assert PASSWORD not in stored and "guess" not in stored
    if store_url.startswith("sqlite"):  # and nowhere in the file, its journal included
        written = b"".join(p.read_bytes() for p in tmp_path.glob("record.db*") if p.is_file())
        assert PASSWORD.encode() not in written and b"guess" not in written
    with record.engine.connect() as conn:
        failed = conn.execute(sa.text("SELECT subject FROM audit WHERE action = 'sign_in_failed'")).scalars().all()
    assert failed == ["commander-1"] * 3 + ["nobody"]


def test_the_first_user_must_be_an_admin(store_url: str) -> None:
    record = Record.open(store_url)
    with pytest.raises(NotAllowedError, match="must be an admin"):
        record.add_user(None, "pat", "planner", PASSWORD)
    record.add_user(None, "ada", "admin", PASSWORD)
    with pytest.raises(NotAllowedError):
        record.add_user(None, "eve", "admin", PASSWORD)  # only the first comes without an admin


# --- the store -----------------------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_schema_the_code_uses_and_reopening_keeps_the_data(store_url: str) -> None:
    record = new_record(store_url)
    with record.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    again = Record.open(record.engine.url.render_as_string(hide_password=False))
    assert again.sign_in("admin-1", PASSWORD).role == "admin"


def test_a_restored_backup_is_accepted_by_verify(
    recorded: tuple[Record, str, Assessment], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    record, ident, _ = recorded
    review_all(record, ident)
    record.signoff(PEOPLE["commander"], ident, decision="approve")
    copy = tmp_path / "backup.db"
    backup(record.engine, copy)
    with pytest.raises(InputError, match="already exists"):
        backup(record.engine, copy)
    # A backup is restored with the mission's key (kept apart from it) and the anchor copied beside it.
    (tmp_path / "backup.db.anchor").write_bytes((tmp_path / "record.db.anchor").read_bytes())
    if record.engine.url.get_backend_name() == "sqlite":
        restored_url = f"sqlite:///{copy}"
        with pytest.raises(InputError, match="sealed with a key that is not here"):
            Record.open(restored_url)
    else:  # the server's own tool, as the README says: pg_restore into an empty database
        restored_url = request.getfixturevalue("postgres").new_database()
        restore = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={restored_url}", str(copy)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert restore.returncode == 0, restore.stderr
    restored = Record(open_store(restored_url), seal=Seal(record.seal.keys, tmp_path / "backup.db.anchor"))
    assert restored.verify().intact
    assert restored.status(ident) == record.status(ident)


# --- the command line ----------------------------------------------------------------------------------------


def primum(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **env},
        check=False,
    )


def here(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The command line run in this process, with ``env`` added to the environment: the same commands as
    ``primum`` in a process of its own, without a start-up per step."""
    result = CliRunner().invoke(app, list(args), input=stdin, env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_the_command_line_records_reviews_signs_and_verifies(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the first command in a process of its own, the others in this one
    base = {"PRIMUM_DB": store_url}
    assert (
        primum("users", "add", "ada", "--role", "admin", "--password-stdin", env=base, stdin="adminpass1\n").returncode
        == 0
    )
    admin = {**base, "PRIMUM_PASSWORD": "adminpass1"}
    for name, role in (("pat", "planner"), ("poc", "poc_adviser"), ("cmd", "commander")):
        added = here(
            "users", "add", name, "--role", role, "--as", "ada", "--password-stdin", env=admin, stdin=f"{name}pass123\n"
        )
        assert added.returncode == 0, added.stderr
    run = here(
        "assess", "scenarios/sample.yaml", "--record", "--as", "pat", env={**base, "PRIMUM_PASSWORD": "patpass123"}
    )
    assert run.returncode == 0, run.stderr
    ident = next(line.split()[-1] for line in run.stdout.splitlines() if line.startswith("recorded as"))
    adviser = {**base, "PRIMUM_PASSWORD": "pocpass123"}
    reviewed = here(
        "review", ident, "A/P05", "--status", "change_requested", "--note", "move the LZ", "--as", "poc", env=adviser
    )
    assert reviewed.returncode == 0 and "version 2" in reviewed.stdout
    stale = here("review", ident, "A/P05", "--status", "addressed", "--expect-version", "1", "--as", "poc", env=adviser)
    assert stale.returncode == 2 and "changed since you saw it" in stale.stderr and "Traceback" not in stale.stderr
    refused = here(
        "signoff",
        ident,
        "--decision",
        "approve",
        "--coa",
        "A",
        "--as",
        "cmd",
        env={**base, "PRIMUM_PASSWORD": "cmdpass123"},
    )
    assert refused.returncode == 2 and "of COA A are still open" in refused.stderr
    wrong = here("signoff", ident, "--decision", "reject", "--as", "cmd", env={**base, "PRIMUM_PASSWORD": "nope"})
    assert wrong.returncode == 2 and "wrong user name or password" in wrong.stderr
    signed = here(
        "signoff", ident, "--decision", "reject", "--as", "cmd", env={**base, "PRIMUM_PASSWORD": "cmdpass123"}
    )
    assert signed.returncode == 0, signed.stderr
    status = json.loads(here("status", ident, "--json", env=base).stdout)
    assert status["signoff"]["decision"] == "reject" and status["signoff"]["valid"]
    assert status["counts"]["change_requested"] == 1
    assert here("verify", env=base).returncode == 0
    raw(Record.open(store_url), "UPDATE reviews SET note = 'all fine'")
    broken = here("verify", env=base)
    assert broken.returncode == 1 and "BREAK: review 1" in broken.stderr
    assert here("backup", str(tmp_path / "copy.db"), env=base).returncode == 0


# --- the seal: what someone who can write the database cannot hide --------------------------------------------


def _rewrite_chain_without_the_key(record: Record) -> None:
    """Recompute every hash of the chain as a writer of the database could: without the record's key."""
    rows = raw(record, f"SELECT {', '.join(ENTRY_FIELDS)} FROM audit ORDER BY seq")
    previous = "0" * 64
    for row in rows:
        values = dict(row) | {"prev_hash": previous}
        digest = audit_sha256([values[f] for f in ENTRY_FIELDS])
        raw(record, "UPDATE audit SET prev_hash = :p, hash = :h WHERE seq = :s", p=previous, h=digest, s=values["seq"])
        previous = digest
    raw(record, "UPDATE chain_head SET hash = :h WHERE id = 1", h=previous)


def test_a_rejection_rewritten_as_an_approval_with_a_recomputed_chain_is_caught(
    recorded: tuple[Record, str, Assessment],
) -> None:
    record, ident, _ = recorded
    signed = record.signoff(PEOPLE["commander"], ident, decision="reject")
    assert record.verify().intact
    [row] = raw(record, "SELECT * FROM signoffs WHERE id = :id", id=signed)
    row = dict(row) | {"decision": "approve"}
    forged = _signoff_sha(row)
    raw(record, "UPDATE signoffs SET decision = 'approve', sha256 = :f WHERE id = :id", f=forged, id=signed)
    [entry] = raw(record, "SELECT details FROM audit WHERE action = 'signoff'")
    details = json.loads(entry["details"]) | {"sha256": forged, "decision": "approve"}
    raw(record, "UPDATE audit SET details = :d WHERE action = 'signoff'", d=canonical(details))
    _rewrite_chain_without_the_key(record)
    found = Record.open(record.engine.url.render_as_string(hide_password=False)).verify()
    assert not found.intact
    assert any("sealed with this record's key" in p for p in found.problems)
    assert any("differs from the anchor" in p for p in found.problems)


def test_a_cut_tail_and_a_wiped_record_fall_short_of_the_anchor(recorded: tuple[Record, str, Assessment]) -> None:
    record, ident, _ = recorded
    record.signoff(PEOPLE["commander"], ident, decision="reject")
    url = record.engine.url.render_as_string(hide_password=False)
    [last] = raw(record, "SELECT seq, prev_hash FROM audit ORDER BY seq DESC LIMIT 1")
    raw(
        record,
        "DELETE FROM audit WHERE seq = :s; DELETE FROM signoffs; "
        "UPDATE chain_head SET seq = :b, hash = :h WHERE id = 1",
        s=last["seq"],
        b=last["seq"] - 1,
        h=last["prev_hash"],
    )
    cut = Record.open(url).verify()
    assert [p for p in cut.problems if f"reaches entry {last['seq']}" in p], cut.problems
    for table in ("reviews", "items", "signoffs", "assessments", "users", "audit"):
        raw(record, f"DELETE FROM {table}")
    raw(record, "UPDATE chain_head SET seq = 0, hash = :h WHERE id = 1", h="0" * 64)
    wiped = Record.open(url).verify()
    assert not wiped.intact and any("ends at entry 0 but the anchor" in p for p in wiped.problems)


def test_a_server_record_keeps_its_seal_in_files_named_after_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PRIMUM_AUDIT_KEY", raising=False)
    url = sa.make_url("postgresql+psycopg://primum:secret@127.0.0.1:5432/mission")
    first, again = Seal.for_store(url), Seal.for_store(url, new=False)
    assert first.keys == again.keys  # the same key every time the service starts, never a fresh one
    assert first.anchor is not None and first.anchor.parent == tmp_path / ".local/share/primum"
    assert "secret" not in str(first.anchor)
    other = Seal.for_store(sa.make_url("postgresql+psycopg://primum@127.0.0.1:5432/other"))
    assert other.anchor != first.anchor and other.keys != first.keys
    assert oct((first.anchor.with_suffix(".key")).stat().st_mode & 0o777) == "0o600"


def test_a_record_from_before_the_mission_roles_upgrades_in_place_and_takes_them(store_url: str) -> None:
    from alembic import command  # noqa: PLC0415

    from planner.record.store import _alembic_config  # noqa: PLC0415

    record = new_record(store_url)
    with record.engine.begin() as conn:  # the record as the version before the mission's roles left it
        command.downgrade(_alembic_config(conn), "0001")
    record.engine.dispose()
    upgraded = Record.open(record.engine.url.render_as_string(hide_password=False))
    added = upgraded.add_user(PEOPLE["admin"], "cp-1", "child_protection_officer", PASSWORD)
    assert added.role == "child_protection_officer"
    with upgraded.engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT name FROM users")).scalars())
    assert {"planner-1", "poc_adviser-1", "commander-1", "cp-1"} <= names
    assert upgraded.verify().intact


def test_a_server_that_cannot_be_reached_is_said_in_words_without_its_password() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = {"PRIMUM_DB": f"postgresql://primum:secret@127.0.0.1:{port}/mission"}
    for command in (["harm", "list"], ["verify"], ["assess", str(ROOT / "scenarios" / "sample.yaml")]):
        said = here(*command, env=down)
        assert said.returncode == 2, (command, said.stdout, said.stderr)
        assert "the record cannot be reached" in said.stderr and "Connection refused" in said.stderr
        assert "secret" not in said.stderr + said.stdout and "Traceback" not in said.stderr


def test_the_longest_names_a_plan_may_give_are_kept_on_every_database(store_url: str, tmp_path: Path) -> None:
    # A server keeps a column's declared length (SQLite does not): the plan refuses longer names in words
    # (tests/test_plan.py), and names at the limit go through every table
    (tmp_path / "world").mkdir()
    path = make_world(tmp_path / "world", sites=[("clinic", "Cordon clinic", 450, 550)])
    plan = yaml.safe_load(path.read_text())
    coa, element = "C" * 40, "e" * 100
    plan["name"] = "n" * 300
    plan["coas"][0]["id"] = coa
    plan["coas"][0]["elements"][0]["id"] = element
    path.write_text(yaml.safe_dump(plan))
    record = new_record(store_url)
    ident = record.record_assessment(PEOPLE["planner"], assess(*open_plan(path), Settings(surface={"margin_m": 300})))
    keys = [i["key"] for i in record.status(ident)["items"] if i["key"].startswith(f"{coa}/")]
    assert keys
    record.review(PEOPLE["poc_adviser"], ident, keys[0], status="addressed", note="checked")
    record.signoff(PEOPLE["commander"], ident, decision="reject")
    assert record.verify().intact


def test_a_plan_with_names_longer_than_the_record_keeps_is_refused_naming_each(tmp_path: Path) -> None:
    (tmp_path / "world").mkdir()
    path = make_world(tmp_path / "world")
    plan = yaml.safe_load(path.read_text())
    plan["name"] = "n" * 301
    plan["coas"][0]["id"] = "C" * 41
    plan["coas"][0]["elements"][0]["id"] = "e" * 101
    path.write_text(yaml.safe_dump(plan))
    with pytest.raises(InputError) as refused:
        open_plan(path)
    said = str(refused.value)
    assert all(key in said for key in ("name:", "coas.0.id:", "coas.0.elements.0.id:")), said
    assert "at most 300" in said and "at most 40" in said and "at most 100" in said
