"""Users of the record: an admin lists them, changes a role, resets a password, deactivates and reactivates
someone; every change is audited and verified, and the record always keeps an active admin."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import argon2
import pytest

from planner.record import NotAllowedError, Record, RecordError, SignInError, User

PASSWORD = "correct horse battery"


@pytest.fixture
def record(tmp_path: Path) -> Record:
    found = Record.open(f"sqlite:///{tmp_path / 'record.db'}")
    admin = found.add_user(None, "admin-1", "admin", PASSWORD)
    found.add_user(admin, "planner-1", "planner", PASSWORD)
    found.add_user(admin, "adviser-1", "poc_adviser", PASSWORD)
    return found


ADMIN = User("admin-1", "admin")


def names(record: Record) -> dict[str, dict[str, Any]]:
    return {u["name"]: u for u in record.list_users(ADMIN)}


def test_an_admin_lists_users_and_no_one_else_may(record: Record) -> None:
    listed = names(record)
    assert {n: (u["role"], u["active"]) for n, u in listed.items()} == {
        "admin-1": ("admin", True),
        "planner-1": ("planner", True),
        "adviser-1": ("poc_adviser", True),
    }
    with pytest.raises(NotAllowedError, match="only a admin"):
        record.list_users(User("planner-1", "planner"))


def test_a_role_change_and_a_password_reset_take_effect_and_verify(record: Record) -> None:
    record.change_user(ADMIN, "adviser-1", role="human_rights_officer")
    record.change_user(ADMIN, "planner-1", password="a brand new one")
    assert record.sign_in("adviser-1", PASSWORD).role == "human_rights_officer"
    with pytest.raises(SignInError):
        record.sign_in("planner-1", PASSWORD)
    assert record.sign_in("planner-1", "a brand new one").role == "planner"
    assert record.verify().intact
    with pytest.raises(RecordError, match="at least 8"):
        record.change_user(ADMIN, "planner-1", password="short")


def test_a_deactivated_user_is_kept_may_not_sign_in_nor_act_from_an_open_session(record: Record) -> None:
    open_session = record.sign_in("adviser-1", PASSWORD)
    record.change_user(ADMIN, "adviser-1", active=False)
    record.change_user(ADMIN, "planner-1", active=False)
    assert names(record)["planner-1"]["active"] is False
    with pytest.raises(SignInError, match="deactivated"):
        record.sign_in("planner-1", PASSWORD)
    with pytest.raises(NotAllowedError, match="deactivated"):
        record.add_item(open_session, "any", title="x", owner="planner")
    record.change_user(ADMIN, "planner-1", active=True)
    record.change_user(ADMIN, "adviser-1", active=True)
    assert record.sign_in("planner-1", PASSWORD).name == "planner-1"
    assert record.verify().intact


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(record: Record) -> None:
    with pytest.raises(NotAllowedError, match="last active admin"):
        record.change_user(ADMIN, "admin-1", role="planner")
    with pytest.raises(NotAllowedError, match="last active admin"):
        record.change_user(ADMIN, "admin-1", active=False)
    record.add_user(ADMIN, "admin-2", "admin", PASSWORD)
    record.change_user(ADMIN, "admin-1", active=False)
    assert record.sign_in("admin-2", PASSWORD).role == "admin"


def test_reactivating_a_user_behind_the_records_back_is_caught(record: Record, tmp_path: Path) -> None:
    record.change_user(ADMIN, "planner-1", active=False)
    with sqlite3.connect(tmp_path / "record.db") as conn:
        conn.execute("UPDATE users SET active = 1 WHERE name = 'planner-1'")
    found = record.verify()
    assert not found.intact and any("planner-1" in p for p in found.problems)


def test_passwords_are_hashed_with_argon2id_at_no_less_than_the_owasp_minimum() -> None:
    from conftest import PRODUCT_HASHER  # noqa: PLC0415 (the product's hasher, before the tests' cheap one)

    assert PRODUCT_HASHER.type is argon2.Type.ID
    assert PRODUCT_HASHER.memory_cost >= 19_456 and PRODUCT_HASHER.time_cost >= 2  # OWASP: 19 MiB, 2 passes
    assert argon2.extract_parameters(PRODUCT_HASHER.hash("a password")).memory_cost == PRODUCT_HASHER.memory_cost
