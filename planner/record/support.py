"""The register of support to non-UN security forces (HRDDP): what a plan gives a partner force, the conditions
and mitigating measures agreed, and the follow-up reviews of the supported unit.

Support is registered against the recorded assessment of the plan that gives it, by a planner, a PoC adviser
or a Human Rights officer, with the date its first follow-up is due: support with no follow-up is what the
policy exists to prevent. Each follow-up review (Human Rights officer, PoC adviser) is done, records a
finding against the unit, or closes the findings; it sets when the next one is due. Like harm records, every
registration and review is kept, audited and verified.

The next assessment of a plan naming the same partner raises P43 when a follow-up is overdue by the start of
the operation or a finding is open, naming the support record; harm records attributing harm to the unit, and
threat reports naming it as an actor since the support began, are findings too.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.errors import RecordError
from planner.past_harm import Support
from planner.record.audit import Entry, append, canonical, now, sha256
from planner.record.roles import NotFoundError, User, ensure_active, require
from planner.record.store import support_records, support_reviews
from planner.vocabulary import SUPPORT_KINDS, SUPPORT_REVIEW_STATUSES

if TYPE_CHECKING:
    from planner.record.assessments import Record


@dataclass(frozen=True)
class SupportGiven:
    """Support a plan gives a partner force, as registered."""

    partner: str  # the force, as the plan's partner_forces and the threat reports name it
    kind: str  # SUPPORT_KINDS
    starts: str  # ISO dates
    ends: str
    follow_up_due: str  # when the supported unit's conduct is first reviewed
    unit: str = ""
    conditions: str = ""
    mitigations: str = ""


def _day(text: str, name: str) -> str:
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise RecordError(f"--{name} '{text}' is not a date: give it as 2026-12-03") from None


class SupportRegister:
    def __init__(self, record: Record) -> None:
        self.record = record

    def add(self, user: User, assessment_id: str, given: SupportGiven) -> str:
        """Register support under a recorded assessment's plan; returns its id."""
        require(user, "register_support")
        if not given.partner.strip():
            raise RecordError("name the partner force (--partner), as the plan's partner_forces name it")
        if given.kind not in SUPPORT_KINDS:
            raise RecordError(f"unknown kind of support '{given.kind}': use one of {', '.join(SUPPORT_KINDS)}")
        starts, ends = _day(given.starts, "from"), _day(given.ends, "to")
        if ends < starts:
            raise RecordError(f"--to {ends} is before --from {starts}")
        content = asdict(given) | {
            "partner": given.partner.strip(),
            "unit": given.unit.strip(),
            "starts": starts,
            "ends": ends,
            "follow_up_due": _day(given.follow_up_due, "follow-up"),
        }
        with self.record.writing() as conn:
            ensure_active(conn, user)
            self.record.assessment_row(conn, assessment_id)
            values = {
                "id": f"SU-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}",
                "assessment_id": assessment_id,
                "content": canonical(content),
                "by": user.name,
                "at": now(),
            }
            digest = _record_sha(values)
            conn.execute(support_records.insert().values(**values, sha256=digest))
            append(
                conn,
                self.record.seal,
                actor=user.name,
                action="support_registered",
                subject=values["id"],
                details={"sha256": digest, "assessment": assessment_id},
            )
        return str(values["id"])

    def review(self, user: User, support_id: str, *, status: str, note: str = "", next_due: str = "") -> int:
        """A follow-up review of the supported unit; ``next_due`` is when the next one is due ("" none)."""
        require(user, "follow_up_support")
        if status not in SUPPORT_REVIEW_STATUSES:
            raise RecordError(f"unknown status '{status}': use one of {', '.join(SUPPORT_REVIEW_STATUSES)}")
        if status in ("finding", "finding_closed") and not note.strip():
            raise RecordError(f"'{status}' needs a note saying what was found or how it was closed (--note)")
        due = _day(next_due, "next") if next_due else ""
        with self.record.writing() as conn:
            ensure_active(conn, user)
            _support(conn, support_id)
            values = {
                "support_id": support_id,
                "status": status,
                "note": note.strip(),
                "next_due": due,
                "by": user.name,
                "at": now(),
            }
            digest = _review_sha(values)
            inserted = conn.execute(support_reviews.insert().values(**values, sha256=digest))
            append(
                conn,
                self.record.seal,
                actor=user.name,
                action="support_review",
                subject=support_id,
                details={"sha256": digest, "status": status},
            )
        return int(inserted.inserted_primary_key[0])  # type: ignore[index]

    def entries(self) -> list[dict[str, Any]]:
        """Every support registered, oldest first, with its reviews, the follow-up due and open findings."""
        with self.record.engine.connect() as conn:
            rows = conn.execute(sa.select(support_records).order_by(support_records.c.at)).all()
            reviews = conn.execute(sa.select(support_reviews).order_by(support_reviews.c.id)).all()
            conn.rollback()
        by_support: dict[str, list[Any]] = {}
        for review in reviews:
            by_support.setdefault(review.support_id, []).append(review)
        return [_listed(row, by_support.get(row.id, [])) for row in rows]

    def support(self, harms: list[dict[str, Any]]) -> tuple[Support, ...]:
        """What the next assessment needs of the register; harm records attributing harm to a supported unit
        are findings against it."""
        found = []
        for entry in self.entries():
            names = [n for n in (entry["partner"], entry["unit"]) if n]
            attributed = [
                f"{h['id']} ({h['at'][:10]})"
                for h in harms
                if h["attributed_to"] and any(_same(h["attributed_to"], n) for n in names)
            ]
            found.append(
                Support(
                    id=entry["id"],
                    partner=entry["partner"],
                    unit=entry["unit"],
                    kind=entry["kind"],
                    starts=entry["starts"],
                    due=entry["due"],
                    findings=(*entry["open_findings"], *attributed),
                )
            )
        return tuple(found)


def _same(attributed: str, name: str) -> bool:
    """A harm record's 'attributed to' names the force or unit as a whole word, any case."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", attributed, re.IGNORECASE) is not None


def _support(conn: Connection, support_id: str) -> Any:
    row = conn.execute(sa.select(support_records).where(support_records.c.id == support_id)).first()
    if row is None:
        raise NotFoundError(f"no support record '{support_id}' (primum support list shows them)")
    return row


def _listed(row: Any, reviews: list[Any]) -> dict[str, Any]:
    content = json.loads(row.content)
    # The next follow-up: as the latest review set it, else as registered
    due = reviews[-1].next_due if reviews else content["follow_up_due"]
    open_findings: list[str] = []
    for review in reviews:  # a finding stays open until a later review closes the findings
        if review.status == "finding":
            open_findings.append(review.note)
        elif review.status == "finding_closed":
            open_findings = []
    return {
        "id": row.id,
        "assessment": row.assessment_id,
        **content,
        "registered_by": row.by,
        "registered_at": row.at,
        "due": due,
        "open_findings": open_findings,
        "reviews": [
            {"status": r.status, "note": r.note, "next_due": r.next_due, "by": r.by, "at": r.at} for r in reviews
        ],
    }


RECORD_FIELDS = ("id", "assessment_id", "content", "by", "at")
REVIEW_FIELDS = ("support_id", "status", "note", "next_due", "by", "at")


def _record_sha(row: Any) -> str:
    return sha256(["support", *(_field(row, f) for f in RECORD_FIELDS)])


def _review_sha(row: Any) -> str:
    return sha256(["support_review", *(_field(row, f) for f in REVIEW_FIELDS)])


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def support_problems(conn: Connection, entries: list[Entry]) -> list[str]:
    """Every support record and review must match the audit entry that vouches for it, and none may be missing."""
    records = {e.subject: e.details.get("sha256", "") for e in entries if e.action == "support_registered"}
    reviews = {e.details.get("sha256", ""): e.subject for e in entries if e.action == "support_review"}
    problems = []
    for row in conn.execute(sa.select(support_records)):
        digest = _record_sha(row)
        if records.pop(row.id, None) != digest or row.sha256 != digest:
            problems.append(f"support record {row.id} was altered after it was registered")
    for review in conn.execute(sa.select(support_reviews).order_by(support_reviews.c.id)):
        digest = _review_sha(review)
        if digest != review.sha256 or reviews.pop(digest, None) != review.support_id:
            problems.append(f"follow-up review {review.id} of support {review.support_id} was altered or inserted")
    problems += [f"support record {ident} is in the audit log but missing from the record" for ident in records]
    problems += [
        f"a follow-up review of support {ident} is in the audit log but missing from the record"
        for ident in reviews.values()
    ]
    return problems
