"""The record: who assessed, reviewed and signed what, kept so that nothing is lost and nothing changes unseen.

Every rule is enforced here, not on a screen: planners record assessments; PoC advisers review checklist
items and add their own; commanders sign off, and only when no item is open (rejecting is always allowed);
admins manage users. Each change is one transaction that also appends to the hash-chained audit log, so a
process killed half-way leaves nothing half-written. A review names the item version it was made on; when
another reviewer got there first it is refused as a conflict, never applied over theirs.

A sign-off binds to the assessment's hash and to the hash of every input file. It stays valid only while
those files still hash the same: ``status`` re-hashes them and says which changed and when.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import argon2
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from planner import __version__
from planner.errors import RecordError
from planner.opening import file_sha256
from planner.record.audit import Seal, append, breaks, canonical, now, sha256
from planner.settings import Settings

if TYPE_CHECKING:
    from planner.assess import Assessment
from planner.record.harm import harm_problems
from planner.record.roles import (
    ConflictError,
    NotAllowedError,
    NotFoundError,
    SignInError,
    User,
    ensure_active,
    require,
)
from planner.record.store import (
    assessments,
    audit,
    chain_head,
    items,
    lock_for_writing,
    open_store,
    reviews,
    signoffs,
    users,
)
from planner.record.support import support_problems
from planner.vocabulary import (
    DECISIONS,
    MIN_PASSWORD,
    NEEDS_NOTE,
    REVIEWERS,
    ROLES,
    SEVERITIES,
    STATUSES,
    record_key,
)

# Failed sign-ins for a name in this window slow the next attempt: 0.5 s, 1 s, 2 s ... up to 8 s.
FAILURE_WINDOW = timedelta(minutes=15)
MAX_DELAY_S = 8.0


@dataclass(frozen=True)
class Validity:
    valid: bool
    reasons: list[str] = field(default_factory=list)  # why it is void: "layer `idp` changed on 2026-11-20"


@dataclass(frozen=True)
class Verification:
    problems: list[str]  # every break found: the record cannot be trusted where these point
    signoffs: list[dict[str, Any]]  # every sign-off with its validity now

    @property
    def intact(self) -> bool:
        return not self.problems


_HASHER = argon2.PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash that unknown names are checked against, so they take as long as real ones; made on first
    sign-in, not when the module is imported (every command would pay for it)."""
    return _HASHER.hash(secrets.token_hex(16))


class Record:
    """The service every front end calls: the command line now, the dashboard later."""

    def __init__(
        self,
        engine: Engine,
        *,
        sleep: Callable[[float], None] = time.sleep,
        seal: Seal | None = None,
        key_file: Path | None = None,
        anchor: Path | None = None,
    ) -> None:
        self.engine = engine
        self._sleep = sleep
        self.seal = seal or Seal.for_store(engine.url, key_file=key_file, anchor=anchor, new=self.chain_length() == 0)

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> Record:
        return cls(open_store(url), **kwargs)

    def chain_length(self) -> int:
        """How many entries the audit chain holds (its head's sequence number)."""
        with self.engine.connect() as conn:
            head = conn.execute(sa.select(chain_head.c.seq).where(chain_head.c.id == 1)).scalar_one_or_none()
            conn.rollback()
        return int(head or 0)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction that appends to the audit chain; its hashes are anchored once it has committed."""
        with self.engine.begin() as conn:
            lock_for_writing(conn)
            sealed: list[tuple[int, str]] = []
            conn.info["sealed"] = sealed
            try:
                yield conn
            finally:
                conn.info.pop("sealed", None)
        self.seal.write_anchor(sealed)

    # --- users ---------------------------------------------------------------------------------------------

    def add_user(self, actor: User | None, name: str, role: str, password: str) -> User:
        """Add a user. The first user of an empty store must be an admin and needs no actor."""
        name = name.strip()
        if role not in ROLES:
            raise RecordError(f"unknown role '{role}': use one of {', '.join(ROLES)}")
        if not name or len(name) > 100:
            raise RecordError("a user name needs 1 to 100 characters")
        _check_password(password)
        with self.writing() as conn:
            first = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one() == 0
            if first and role != "admin":
                raise NotAllowedError("the first user of a new record must be an admin (--role admin)")
            if not first:
                require(actor, "add_user")
                assert actor is not None
                ensure_active(conn, actor)
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
                raise RecordError(f"user '{name}' already exists")
            at, by = now(), actor.name if actor else name
            digest = _HASHER.hash(password)
            conn.execute(
                users.insert().values(name=name, role=role, password_hash=digest, created_at=at, created_by=by)
            )
            append(
                conn,
                self.seal,
                actor=by,
                action="user_added",
                subject=name,
                details={"role": role, "sha256": _user_sha(name, role, digest)},
            )
        return User(name, role)

    def list_users(self, actor: User) -> list[dict[str, Any]]:
        """Every user of the record with their role and whether they may still sign in (admins)."""
        require(actor, "manage_users")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).all()
            conn.rollback()
        return [
            {
                "name": r.name,
                "role": r.role,
                "active": bool(r.active),
                "created_at": r.created_at,
                "created_by": r.created_by,
            }
            for r in rows
        ]

    def change_user(
        self,
        actor: User,
        name: str,
        *,
        role: str | None = None,
        password: str | None = None,
        active: bool | None = None,
    ) -> User:
        """Change a user's role, reset their password, or (de)activate them; audited, like every change.

        The record always keeps an active admin: the last one can be neither demoted nor deactivated.
        """
        require(actor, "manage_users")
        if role is not None and role not in ROLES:
            raise RecordError(f"unknown role '{role}': use one of {', '.join(ROLES)}")
        if password is not None:
            _check_password(password)
        with self.writing() as conn:
            ensure_active(conn, actor)
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no user '{name}' in the record")
            new_role = role if role is not None else row.role
            new_active = bool(row.active) if active is None else active
            if row.role == "admin" and (new_role != "admin" or not new_active):
                admins = conn.execute(
                    sa.select(sa.func.count()).where(users.c.role == "admin", users.c.active.is_(True))
                ).scalar_one()
                if admins <= 1:
                    raise NotAllowedError(f"'{name}' is the record's last active admin: add another admin first")
            digest = _HASHER.hash(password) if password is not None else row.password_hash
            conn.execute(
                users.update()
                .where(users.c.name == name)
                .values(role=new_role, password_hash=digest, active=new_active)
            )
            changed = [
                what
                for what, done in (
                    ("role", role is not None),
                    ("password", password is not None),
                    ("active", active is not None),
                )
                if done
            ]
            append(
                conn,
                self.seal,
                actor=actor.name,
                action="user_changed",
                subject=name,
                details={
                    "changed": changed,
                    "role": new_role,
                    "active": new_active,
                    "sha256": _user_sha(name, new_role, digest, active=new_active),
                },
            )
        return User(name, new_role)

    def sign_in(self, name: str, password: str) -> User:
        """The user, if the password is right; wrong passwords are logged and each one slows the next try."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
            conn.rollback()
        try:
            _HASHER.verify(row.password_hash if row else _dummy_hash(), password)
            if row is None:
                raise argon2.exceptions.VerifyMismatchError
        except (argon2.exceptions.VerifyMismatchError, argon2.exceptions.InvalidHashError):
            failures = self._recent_failures(name)
            with self.writing() as conn:
                append(
                    conn,
                    self.seal,
                    actor=name,
                    action="sign_in_failed",
                    subject=name,
                    details={"known_user": row is not None},
                )
            self._sleep(min(0.5 * 2**failures, MAX_DELAY_S))
            raise SignInError(f"wrong user name or password for '{name}'") from None
        if not row.active:
            raise SignInError(f"'{name}' has been deactivated: ask an admin")
        return User(row.name, row.role)

    def _recent_failures(self, name: str) -> int:
        since = (datetime.now(UTC) - FAILURE_WINDOW).isoformat()
        query = sa.select(sa.func.count()).where(
            audit.c.action == "sign_in_failed", audit.c.subject == name, audit.c.at >= since
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # --- assessments and items -----------------------------------------------------------------------------

    def record_assessment(self, user: User, result: Assessment, lang: str = "en") -> str:
        """Keep an assessment with its plan, inputs and result; its checklist items start open."""
        require(user, "record")
        data = result.to_dict(lang)
        inputs = input_files(result)
        plan_text = result.plan.path.read_text(encoding="utf-8")
        settings = result.settings.model_dump()
        content = {"plan_text": plan_text, "inputs": inputs, "settings": settings, "result": data}
        digest = sha256(content)
        ident = f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
        # An item raised alike by several COAs is one row, under its first COA's key: reviewed once
        shared = {
            record_key(coa["id"], item): (item.get("coas") or [coa["id"]])[0]
            for coa in data["coas"]
            for item in coa["checklist"]["items"]
        }
        items_of = {record_key(coa["id"], item): item for coa in data["coas"] for item in coa["checklist"]["items"]}
        rows = [
            {
                "assessment_id": ident,
                "key": key,
                "coa": shared[key],
                "source": "rule",
                "content": canonical(item),
                "status": "open",
                "version": 1,
            }
            for key, item in items_of.items()
        ]
        with self.writing() as conn:
            ensure_active(conn, user)
            conn.execute(
                assessments.insert().values(
                    id=ident,
                    created_at=now(),
                    created_by=user.name,
                    plan_name=result.plan.name,
                    plan_text=plan_text,
                    inputs=canonical(inputs),
                    settings=canonical(settings),
                    result=canonical(data),
                    sha256=digest,
                )
            )
            if rows:
                conn.execute(items.insert(), rows)
            append(
                conn,
                self.seal,
                actor=user.name,
                action="assessment_recorded",
                subject=ident,
                details={
                    "sha256": digest,
                    "items": {r["key"]: sha256(r["content"]) for r in rows},
                    "version": __version__,
                },
            )
        return ident

    def add_item(
        self,
        user: User,
        assessment_id: str,
        *,
        title: str,
        owner: str,
        text: str = "",
        severity: str = "medium",
        coa: str = "",
    ) -> str:
        """An item a PoC adviser adds by hand; it starts open like every other. Returns its key."""
        require(user, "add_item")
        if not title.strip():
            raise RecordError("the item needs a title")
        if severity not in SEVERITIES:
            raise RecordError(f"unknown severity '{severity}': use one of {', '.join(SEVERITIES)}")
        with self.writing() as conn:
            ensure_active(conn, user)
            result = self.assessment_row(conn, assessment_id)
            coas = [c["id"] for c in json.loads(result.result)["coas"]]
            if coa and coa not in coas:
                raise NotFoundError(f"no COA '{coa}' in assessment {assessment_id}: use one of {', '.join(coas)}")
            taken = conn.execute(
                sa.select(sa.func.count()).where(items.c.assessment_id == assessment_id, items.c.source == "adviser")
            ).scalar_one()
            key = f"{coa}/H{taken + 1}" if coa else f"H{taken + 1}"
            content = {
                "id": f"H{taken + 1}",
                "title": title.strip(),
                "text": text.strip(),
                "owner": [owner],
                "severity": severity,
                "kind": "finding",
                "source": "adviser",
                "added_by": user.name,
                "evidence": [],
            }
            text_content = canonical(content)
            conn.execute(
                items.insert().values(
                    assessment_id=assessment_id,
                    key=key,
                    coa=coa,
                    source="adviser",
                    content=text_content,
                    status="open",
                    version=1,
                )
            )
            append(
                conn,
                self.seal,
                actor=user.name,
                action="item_added",
                subject=f"{assessment_id}/{key}",
                details={"sha256": sha256(text_content)},
            )
        return key

    def review(
        self,
        user: User,
        assessment_id: str,
        key: str,
        *,
        status: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> int:
        """Set an item's status with a note; returns the item's new version.

        ``expected_version`` is the version the reviewer saw. When someone else reviewed the item since, the
        review is refused with a conflict naming who and when, so that nothing is overwritten unseen.
        """
        require(user, "review")
        if status not in STATUSES:
            raise RecordError(f"unknown status '{status}': use one of {', '.join(STATUSES)}")
        if status in NEEDS_NOTE and not note.strip():
            raise RecordError(f"'{status}' needs a note saying why (--note)")
        with self.writing() as conn:
            ensure_active(conn, user)
            self.assessment_row(conn, assessment_id)
            key = self._item_key(conn, assessment_id, key)
            item = conn.execute(
                sa.select(items).where(items.c.assessment_id == assessment_id, items.c.key == key)
            ).one()
            _may_review(user, key, json.loads(item.content))
            if self._signed(conn, assessment_id):
                raise NotAllowedError(
                    f"assessment {assessment_id} is signed off: record a new assessment to review again"
                )
            if expected_version is not None and item.version != expected_version:
                last = conn.execute(
                    sa.select(reviews)
                    .where(reviews.c.assessment_id == assessment_id, reviews.c.key == key)
                    .order_by(reviews.c.version.desc())
                ).first()
                who = f" by {last.by} at {last.at}" if last else ""
                raise ConflictError(
                    f"item {key} changed since you saw it (version {expected_version}, now {item.version}: "
                    f"'{item.status}'{who}); reload it and review again"
                )
            version = item.version + 1
            updated = conn.execute(
                items.update()
                .where(items.c.assessment_id == assessment_id, items.c.key == key, items.c.version == item.version)
                .values(status=status, version=version)
            )
            if updated.rowcount != 1:
                raise ConflictError(f"item {key} changed while this review was saved; reload it and review again")
            values = {
                "assessment_id": assessment_id,
                "key": key,
                "version": version,
                "status": status,
                "note": note,
                "by": user.name,
                "at": now(),
            }
            digest = _review_sha(values)
            conn.execute(reviews.insert().values(**values, sha256=digest))
            append(
                conn,
                self.seal,
                actor=user.name,
                action="review",
                subject=f"{assessment_id}/{key}",
                details={"sha256": digest},
            )
        return version

    def signoff(
        self,
        user: User,
        assessment_id: str,
        *,
        decision: str,
        coa: str = "",
        conditions: str = "",
        note: str = "",
    ) -> int:
        """The commander's decision, bound to the assessment's hash: approve one COA, or reject the plan.

        Only the chosen COA's items (and items added for the whole plan) must be closed to approve it. A
        decision taken after another supersedes it, and must say why in ``note``.
        """
        require(user, "signoff")
        if decision not in DECISIONS:
            raise RecordError(f"unknown decision '{decision}': use one of {', '.join(DECISIONS)}")
        if decision == "approve_with_conditions" and not conditions.strip():
            raise RecordError("approve_with_conditions needs the conditions (--conditions)")
        with self.writing() as conn:
            ensure_active(conn, user)
            row = self.assessment_row(conn, assessment_id)
            coas = [c["id"] for c in json.loads(row.result)["coas"]]
            if decision != "reject" or coa:
                coa = self._chosen(coa, coas, assessment_id)
            earlier = conn.execute(
                sa.select(signoffs).where(signoffs.c.assessment_id == assessment_id).order_by(signoffs.c.id.desc())
            ).first()
            if earlier is not None and not note.strip():
                chosen = f" COA {earlier.coa}" if earlier.coa else ""
                raise NotAllowedError(
                    f"{assessment_id} was already decided ({earlier.decision}{chosen} by {earlier.by} at "
                    f"{earlier.at[:16]}): a new decision replaces it only with a note saying why (--note)"
                )
            if decision != "reject":
                self._closed_for(conn, assessment_id, coa, decision)
            values = {
                "assessment_id": assessment_id,
                "decision": decision,
                "coa": coa,
                "conditions": conditions,
                "note": note,
                "by": user.name,
                "at": now(),
                "binds_to": row.sha256,
            }
            digest = _signoff_sha(values)
            inserted = conn.execute(signoffs.insert().values(**values, sha256=digest))
            ident = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            details = {"signoff": ident, "sha256": digest, "binds_to": row.sha256, "coa": coa}
            if earlier is not None:
                details["supersedes"] = earlier.id
            append(conn, self.seal, actor=user.name, action="signoff", subject=assessment_id, details=details)
        return ident

    @staticmethod
    def _chosen(coa: str, coas: list[str], assessment_id: str) -> str:
        if not coa and len(coas) == 1:
            return coas[0]
        if coa not in coas:
            said = f"no COA '{coa}'" if coa else "an approval names the COA chosen"
            raise RecordError(f"{said} in assessment {assessment_id} (--coa): one of {', '.join(coas)}")
        return coa

    def _closed_for(self, conn: Connection, assessment_id: str, coa: str, decision: str) -> None:
        """Refuse an approval of ``coa`` while any of its items is open, naming them by key and title."""
        rows = conn.execute(sa.select(items).where(items.c.assessment_id == assessment_id)).all()
        mine = [r for r in rows if coa in _item_coas(r) or not _item_coas(r)]
        still_open = [r for r in mine if r.status == "open"]
        if still_open:
            listed = "; ".join(f"{r.key} {json.loads(r.content)['title']}" for r in still_open)
            raise NotAllowedError(f"{len(still_open)} item(s) of COA {coa} are still open: {listed}. Review them first")
        changes = [r for r in mine if r.status == "change_requested"]
        if decision == "approve" and changes:
            listed = "; ".join(f"{r.key} {json.loads(r.content)['title']}" for r in changes)
            raise NotAllowedError(
                f"{len(changes)} item(s) of COA {coa} ask for a plan change ({listed}): approve with conditions, "
                "or reject"
            )

    # --- reading -------------------------------------------------------------------------------------------

    def status(self, assessment_id: str) -> dict[str, Any]:
        """Items by status, each item with its last review, and the latest sign-off with its validity now."""
        with self.engine.connect() as conn:
            row = self.assessment_row(conn, assessment_id)
            rows = conn.execute(
                sa.select(items).where(items.c.assessment_id == assessment_id).order_by(items.c.coa, items.c.key)
            ).all()
            history = conn.execute(
                sa.select(reviews).where(reviews.c.assessment_id == assessment_id).order_by(reviews.c.id)
            ).all()
            decisions = conn.execute(
                sa.select(signoffs).where(signoffs.c.assessment_id == assessment_id).order_by(signoffs.c.id)
            ).all()
            head = conn.execute(sa.select(chain_head).where(chain_head.c.id == 1)).one()
            conn.rollback()
        by_key: dict[str, list[Any]] = {}
        for review in history:
            by_key.setdefault(review.key, []).append(review)
        counts = dict.fromkeys(STATUSES, 0)
        listed = []
        for item in rows:
            content = json.loads(item.content)
            counts[item.status] += 1
            listed.append(
                {
                    "key": item.key,
                    "coa": item.coa,
                    "coas": content.get("coas") or ([item.coa] if item.coa else []),
                    "owner": content.get("owner", []),
                    "title": content["title"],
                    "severity": content["severity"],
                    "kind": content.get("kind", "finding"),
                    "source": item.source,
                    "status": item.status,
                    "version": item.version,
                    "history": [
                        {"status": r.status, "note": r.note, "by": r.by, "at": r.at} for r in by_key.get(item.key, [])
                    ],
                }
            )
        signoff_history = []
        for decided in decisions:  # oldest first; each later one supersedes the one before
            validity = self.validity(row, decided)
            signoff_history.append(
                {
                    "id": decided.id,
                    "decision": decided.decision,
                    "coa": decided.coa,
                    "conditions": decided.conditions,
                    "note": decided.note,
                    "by": decided.by,
                    "at": decided.at,
                    "binds_to": decided.binds_to,
                    "valid": validity.valid,
                    "void_because": validity.reasons,
                }
            )
        signed = signoff_history[-1] if signoff_history else None
        return {
            "id": row.id,
            "plan": row.plan_name,
            "recorded_by": row.created_by,
            "recorded_at": row.created_at,
            "sha256": row.sha256,
            "counts": counts,
            "items": listed,
            "signoff": signed,
            "signoff_history": signoff_history,
            # The audit chain's head when this was read: a brief carries it, to be checked against the anchor.
            "audit_head": {"seq": head.seq, "hash": head.hash},
        }

    def validity(self, assessment: Any, signoff: Any) -> Validity:
        """Whether a sign-off still holds: its assessment unchanged, and every input file hashing the same."""
        reasons = []
        if signoff.binds_to != assessment.sha256 or _content_sha(assessment) != assessment.sha256:
            reasons.append("the recorded assessment no longer matches what was signed")
        for entry in json.loads(assessment.inputs):
            reasons.extend(_input_change(entry))
        return Validity(not reasons, reasons)

    def verify(self) -> Verification:
        """Recompute the audit chain and every record it vouches for; list each break precisely."""
        with self.engine.connect() as conn:
            problems, entries = breaks(conn, self.seal)
            problems += self._check_records(conn, entries)
            problems += harm_problems(conn, entries)
            problems += support_problems(conn, entries)
            checked = []
            for signoff in conn.execute(sa.select(signoffs).order_by(signoffs.c.id)):
                assessment = conn.execute(
                    sa.select(assessments).where(assessments.c.id == signoff.assessment_id)
                ).first()
                validity = self.validity(assessment, signoff) if assessment else Validity(False, ["assessment missing"])
                checked.append(
                    {
                        "signoff": signoff.id,
                        "assessment": signoff.assessment_id,
                        "decision": signoff.decision,
                        "by": signoff.by,
                        "at": signoff.at,
                        "valid": validity.valid,
                        "void_because": validity.reasons,
                    }
                )
            conn.rollback()
        return Verification(problems, checked)

    def _check_records(self, conn: Connection, entries: list[Any]) -> list[str]:
        """Every row the chain vouches for must match its entry, and every vouched row must still exist."""
        problems = []
        vouched: dict[tuple[str, str], str] = {}
        for entry in entries:
            if entry.action == "user_changed":  # the user as the latest change left them
                vouched[("user_added", entry.subject)] = entry.details.get("sha256", "")
            if entry.action in ("user_added", "assessment_recorded", "signoff"):
                vouched[(entry.action, str(entry.details.get("signoff", entry.subject)))] = entry.details.get(
                    "sha256", ""
                )
            if entry.action == "review":
                vouched[("review", entry.details.get("sha256", ""))] = entry.details.get("sha256", "")
            if entry.action == "assessment_recorded":
                for item_key, digest in entry.details.get("items", {}).items():
                    vouched[("item", f"{entry.subject}/{item_key}")] = digest
            if entry.action == "item_added":
                vouched[("item", entry.subject)] = entry.details.get("sha256", "")
        seen: set[tuple[str, str]] = set()
        for user in conn.execute(sa.select(users)):
            key = ("user_added", user.name)
            seen.add(key)
            if vouched.get(key) != _user_sha(user.name, user.role, user.password_hash, active=bool(user.active)):
                problems.append(f"user '{user.name}' (role {user.role}) does not match the audit log")
        for row in conn.execute(sa.select(assessments)):
            key = ("assessment_recorded", row.id)
            seen.add(key)
            if vouched.get(key) != row.sha256 or _content_sha(row) != row.sha256:
                problems.append(f"assessment {row.id} was altered after it was recorded")
        latest: dict[tuple[str, str], Any] = {}
        for review in conn.execute(sa.select(reviews).order_by(reviews.c.id)):
            digest = _review_sha(review)
            key = ("review", review.sha256)
            seen.add(key)
            if digest != review.sha256 or key not in vouched:
                problems.append(f"review {review.id} of {review.assessment_id}/{review.key} was altered or inserted")
            latest[(review.assessment_id, review.key)] = review
        for item in conn.execute(sa.select(items)):
            key = ("item", f"{item.assessment_id}/{item.key}")
            seen.add(key)
            if vouched.get(key) != sha256(item.content):
                problems.append(f"item {item.assessment_id}/{item.key} was altered after it was recorded")
            last = latest.get((item.assessment_id, item.key))
            status, version = (last.status, last.version) if last else ("open", 1)
            if (item.status, item.version) != (status, version):
                problems.append(
                    f"item {item.assessment_id}/{item.key} says '{item.status}' but its reviews say '{status}'"
                )
        for signoff in conn.execute(sa.select(signoffs)):
            key = ("signoff", str(signoff.id))
            seen.add(key)
            digest = _signoff_sha(signoff)
            if digest != signoff.sha256 or vouched.get(key) != digest:
                problems.append(f"sign-off {signoff.id} of {signoff.assessment_id} was altered after it was signed")
        for key in vouched.keys() - seen:
            problems.append(f"{key[0].replace('_', ' ')} {key[1]} is in the audit log but missing from the record")
        return problems

    def reassess(self, assessment_id: str) -> Assessment:
        """The recorded assessment rebuilt from its inputs, for outputs that need geometry (maps, exports).

        Refused when any input file changed since it was recorded, or when the rebuilt figures differ from
        the recorded ones (another Primum version): an output must show what was reviewed and signed.
        """
        with self.engine.connect() as conn:
            row = self.assessment_row(conn, assessment_id)
            conn.rollback()
        inputs = json.loads(row.inputs)
        changed = [reason for entry in inputs for reason in _input_change(entry)]
        if changed:
            raise RecordError(
                f"assessment {assessment_id} cannot be rebuilt as recorded: {'; '.join(changed)}. "
                "Assess the plan again with --record and use the new id"
            )
        recorded = json.loads(row.result)
        plan_path = next(Path(e["path"]) for e in inputs if e["kind"] == "plan")
        # The assessment machinery is loaded only by the commands that assess (start-up of the others)
        from planner.assess import assess  # noqa: PLC0415
        from planner.layers.manifest import load_layerset  # noqa: PLC0415
        from planner.past_harm import HarmHistory  # noqa: PLC0415
        from planner.plan import check_plan_in_layers, load_plan  # noqa: PLC0415

        settings = Settings.model_validate(json.loads(row.settings))
        plan = load_plan(plan_path, limits=settings.limits)
        # Read as when it was recorded: roads (and threat reports) over the study area it names, or whole
        read = recorded["provenance"]["layers"]
        areas = [tuple(e["read_within"]) for e in read if e.get("read_within")]
        area = areas[0] if areas else None
        beyond = None
        if any(e.get("kind") == "threats" and e.get("read_within") for e in read):
            from planner.catalogue import load_catalogue  # noqa: PLC0415
            from planner.checklist import reports_beyond_area  # noqa: PLC0415

            beyond = reports_beyond_area(plan, settings, load_catalogue(settings.checklist.catalogue))
        layerset = load_layerset(plan.layers_path, limits=settings.limits, area=area, beyond=beyond)
        check_plan_in_layers(plan, layerset)
        # The same past harm as when it was recorded: harm recorded since belongs to the next assessment
        history = HarmHistory.from_dict(recorded["provenance"].get("past_harm"))
        rebuilt = assess(plan, layerset, settings, history=history)
        lang = recorded["coas"][0]["checklist"]["language"] if recorded["coas"] else "en"
        if json.loads(canonical(rebuilt.to_dict(lang))) != recorded:
            raise RecordError(
                f"assessment {assessment_id} was recorded by Primum {recorded['provenance']['version']} and gives "
                f"other figures with Primum {__version__}: assess the plan again with --record"
            )
        return rebuilt

    def note_release(self, user: User, assessment_id: str, *, output: str, fields: list[str]) -> None:
        """Log in the audit chain that ``user`` took sensitive fields out of the tool, and in which output."""
        with self.writing() as conn:
            self.assessment_row(conn, assessment_id)
            append(
                conn,
                self.seal,
                actor=user.name,
                action="sensitive_release",
                subject=assessment_id,
                details={"output": output, "fields": fields},
            )

    def assessments(self, plan_name: str | None = None) -> list[dict[str, str]]:
        """Recorded assessments, newest first; only those of ``plan_name`` when given."""
        query = sa.select(
            assessments.c.id, assessments.c.plan_name, assessments.c.created_by, assessments.c.created_at
        ).order_by(assessments.c.created_at.desc())
        if plan_name is not None:
            query = query.where(assessments.c.plan_name == plan_name)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            conn.rollback()
        return [
            {"id": r.id, "plan": r.plan_name, "recorded_by": r.created_by, "recorded_at": r.created_at} for r in rows
        ]

    def has_users(self) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(users.c.name).limit(1)).first() is not None
            conn.rollback()
        return found

    def assessment_result(self, assessment_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = self.assessment_row(conn, assessment_id)
            conn.rollback()
        return dict(json.loads(row.result))

    def assessment_row(self, conn: Connection, assessment_id: str) -> Any:
        """The assessment's row, or a refusal naming the id and where ids come from."""
        row = conn.execute(sa.select(assessments).where(assessments.c.id == assessment_id)).first()
        if row is None:
            raise NotFoundError(
                f"no assessment '{assessment_id}' in the record (primum assess PLAN --record prints the id)"
            )
        return row

    def _item_key(self, conn: Connection, assessment_id: str, key: str) -> str:
        """The item's full key: 'A/P05' as given, or 'P05' when only one COA has it."""
        keys = list(conn.execute(sa.select(items.c.key).where(items.c.assessment_id == assessment_id)).scalars())
        if key in keys:
            return key
        matches = [k for k in keys if k.rsplit("/", 1)[-1] == key]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFoundError(f"item {key} is raised for several COAs: name one of {', '.join(matches)}")
        raise NotFoundError(f"no item '{key}' in assessment {assessment_id} (primum status {assessment_id} lists them)")

    def _signed(self, conn: Connection, assessment_id: str) -> bool:
        decision = conn.execute(
            sa.select(signoffs.c.decision)
            .where(signoffs.c.assessment_id == assessment_id)
            .order_by(signoffs.c.id.desc())
        ).first()
        return decision is not None and decision[0] != "reject"


def _may_review(user: User, key: str, content: dict[str, Any]) -> None:
    """A PoC adviser reviews any item; another civilian officer only the items their role owns."""
    owners = list(content.get("owner", []))
    if user.role == "poc_adviser" or user.role in owners:
        return
    named = ", ".join(o for o in owners if o in REVIEWERS) or "no reviewing role"
    raise NotAllowedError(
        f"{user.name} ({user.role}) may not review {key}: it is reviewed by its owners ({named}) or a PoC adviser"
    )


def _user_sha(name: str, role: str, password_hash: str, *, active: bool = True) -> str:
    # Deactivation joins the hash only when it applies, so that users recorded before it existed still verify
    return sha256(["user", name, role, password_hash, *([] if active else ["inactive"])])


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RecordError(f"the password needs at least {MIN_PASSWORD} characters")


REVIEW_FIELDS = ("assessment_id", "key", "version", "status", "note", "by", "at")
SIGNOFF_FIELDS = ("assessment_id", "decision", "conditions", "by", "at", "binds_to")


def _review_sha(review: Any) -> str:
    """The hash of a review (a row, or its values as a dict) over what a reviewer wrote and when."""
    return sha256(["review", *(_field(review, f) for f in REVIEW_FIELDS)])


def _signoff_sha(signoff: Any) -> str:
    # The COA and the note join the hash only when given, so that decisions recorded before they existed
    # (on the whole assessment) still verify, and blanking either afterwards does not.
    extra = [[name, _field(signoff, name)] for name in ("coa", "note") if _field(signoff, name)]
    return sha256(["signoff", *(_field(signoff, f) for f in SIGNOFF_FIELDS), *extra])


def _item_coas(item: Any) -> list[str]:
    """The COAs an item of the record belongs to; none for an item added for the whole plan."""
    coas: list[str] = json.loads(item.content).get("coas") or ([item.coa] if item.coa else [])
    return coas


def _field(record: Any, name: str) -> Any:
    return record[name] if isinstance(record, dict) else getattr(record, name)


def _content_sha(row: Any) -> str:
    return sha256(
        {
            "plan_text": row.plan_text,
            "inputs": json.loads(row.inputs),
            "settings": json.loads(row.settings),
            "result": json.loads(row.result),
        }
    )


def input_files(result: Assessment) -> list[dict[str, Any]]:
    """Every file the assessment read, with its hash: plan, geometry files, layers, settings, tables, rules."""
    found = [{"kind": "plan", "id": result.plan.name, "path": str(result.plan.files[0])}]
    found += [{"kind": "geometry", "id": p.name, "path": str(p)} for p in result.plan.files[1:]]
    found += [{"kind": "layer", "id": layer.id, "path": str(layer.path)} for layer in result.layerset]
    found.append({"kind": "layer set", "id": result.layerset.area, "path": str(result.layerset.path)})
    if result.plan.effects_table is not None:
        found.append({"kind": "effects table", "id": "effects", "path": str(result.plan.effects_table)})
    if Path(result.settings.source).is_file():
        found.append({"kind": "settings", "id": "settings", "path": str(Path(result.settings.source).resolve())})
    if result.settings.checklist.catalogue:
        for rules in sorted(Path(result.settings.checklist.catalogue).glob("*.yaml")):
            found.append({"kind": "rules", "id": rules.name, "path": str(rules)})
    for entry in found:
        entry["sha256"] = file_sha256(Path(entry["path"]))
    return found


def _input_change(entry: dict[str, Any]) -> list[str]:
    path = Path(entry["path"])
    if not path.is_file():
        return [f"{entry['kind']} `{entry['id']}` is missing ({path})"]
    if file_sha256(path) == entry["sha256"]:
        return []
    changed = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [f"{entry['kind']} `{entry['id']}` changed on {changed} ({path})"]
