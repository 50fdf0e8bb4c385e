"""Harm after an operation: what was observed, linked to the assessment made before it, and what was done.

A harm record is taken in by anyone signed in (nobody may sit on a report) and is never changed: what intake
recorded stays as it was, and each step after it is a row of its own. The steps follow one another in the
order of ``vocabulary.HARM_STEPS``, each taken by the roles ``HARM_STEP_ROLES`` names:

- initial review (PoC adviser): credible when harm by the force is more likely than not;
- assessment or investigation (PoC adviser, Human Rights officer): findings, lessons, mitigations;
- decision (commander): amends, condolence, no response, or an investigation;
- response (PoC adviser, Civil Affairs officer): amends or condolence offered, accepted, paid or declined,
  or a referral to services, each with its date.

A step may be taken again when more is known; the latest of each step is the record's state and every earlier
one is kept. Every intake and step appends to the audit chain, and ``verify`` recomputes them.

The witness's and reporter's names are sensitive: they leave the record only for a cleared role that asks.
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

from planner.effects import MECHANISMS, load_effects_table
from planner.errors import RecordError
from planner.observed import CalibrationRow, Observation, calibration, observe
from planner.past_harm import HarmHistory, Lesson, PastHarm
from planner.record.audit import Entry, append, canonical, now, sha256
from planner.record.roles import NotAllowedError, NotFoundError, User, ensure_active, require
from planner.record.store import harm_records, harm_steps
from planner.record.support import SupportRegister
from planner.vocabulary import (
    HARM_CONFIDENCE,
    HARM_SENSITIVE,
    HARM_SOURCES,
    HARM_STEP_ROLES,
    HARM_STEP_STATUSES,
    HARM_STEPS,
)

if TYPE_CHECKING:
    from planner.record.assessments import Record

# Conclusions that must say why, so that a closed report is never closed silently.
NEEDS_NOTE = ("not_credible", "not_substantiated", "inconclusive", "no_response", "declined")
# Responses that only follow a decision to offer amends or condolence (a referral may follow any decision).
OFFER_RESPONSES = ("offered", "accepted", "paid", "declined")
# The response that closes amends: paid or declined; a condolence also closes when it is accepted.
CLOSING_RESPONSES = {"amends": ("paid", "declined"), "condolence": ("accepted", "paid", "declined")}

_COUNT = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*$")


def parse_count(text: str, name: str) -> tuple[int, int]:
    """'3' or '2-4' as (low, high): an estimate with its bounds, as harm counts are first known."""
    match = _COUNT.match(str(text))
    if not match:
        raise RecordError(f"--{name} '{text}' is not a count: give N or LOW-HIGH, e.g. 0-2")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    if high < low:
        raise RecordError(f"--{name} '{text}': the upper bound is below the lower one; give LOW-HIGH, e.g. 2-4")
    return low, high


def parse_moment(text: str, name: str = "at") -> tuple[str, str]:
    """An ISO time with its zone, or an ISO date; returns (the time as written, its precision).

    A time without its zone is refused: read in the wrong zone, it would move the harm by hours.
    """
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return day.isoformat(), "day"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(
            f"--{name} '{text}' is not an ISO time: give e.g. 2026-12-03T09:30+03:00, or a date 2026-12-03"
        ) from None
    if moment.tzinfo is None:
        raise RecordError(f"--{name} '{text}' has no time zone: add it, e.g. {text}+03:00 (or Z for UTC)")
    return moment.isoformat(timespec="minutes"), "minute"


@dataclass(frozen=True)
class HarmReport:
    """What intake records about one incident of harm. Counts are (low, high) estimates."""

    coa: str
    at: str  # ISO time with zone, or a date (then the whole day)
    position: tuple[float, float]  # (lon, lat), EPSG:4326
    mechanism: str  # one of the effects table's mechanisms (blast, stray_rounds, ...)
    origin: str  # who reported it: HARM_SOURCES
    confidence: str  # HARM_CONFIDENCE
    element: str = ""
    until: str = ""  # the end of the window when the time is known only to a window
    position_precision_m: float = 100.0
    deaths: tuple[int, int] = (0, 0)
    injuries: tuple[int, int] = (0, 0)
    damage: str = ""  # homes, civilian objects, services
    displaced: tuple[int, int] = (0, 0)
    detained: tuple[int, int] = (0, 0)
    movement_restriction: str = ""
    means: str = ""  # the activity (effects table id); the element's own when not given
    community: str = ""
    attributed_to: str = ""  # "" for this force; a partner force's unit otherwise
    description: str = ""
    witness: str = ""  # sensitive
    reporter: str = ""  # sensitive


class HarmLog:
    """The harm-tracking service over one record; the command line and the dashboard are thin over it."""

    def __init__(self, record: Record) -> None:
        self.record = record

    def add(self, user: User, assessment_id: str, report: HarmReport) -> str:
        """Take a harm report in, linked to a recorded assessment's COA; returns its id."""
        require(user, "record_harm")
        content = self._checked(report)
        with self.record.writing() as conn:
            ensure_active(conn, user)
            row = self.record.assessment_row(conn, assessment_id)
            content["means"] = _means(json.loads(row.result), report)
            values = {
                "id": f"HR-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}",
                "assessment_id": assessment_id,
                "coa": report.coa,
                "element": report.element,
                "content": canonical(content),
                "by": user.name,
                "at": now(),
            }
            digest = _record_sha(values)
            conn.execute(harm_records.insert().values(**values, sha256=digest))
            append(
                conn,
                self.record.seal,
                actor=user.name,
                action="harm_recorded",
                subject=values["id"],
                details={"sha256": digest, "assessment": assessment_id},
            )
        return str(values["id"])

    def review(
        self,
        user: User,
        harm_id: str,
        *,
        step: str,
        status: str,
        note: str = "",
        details: dict[str, str] | None = None,
    ) -> int:
        """Take one step of the workflow; returns the step's id. Refused out of order or to the wrong role."""
        if step not in HARM_STEPS:
            raise RecordError(f"unknown step '{step}': use one of {', '.join(HARM_STEPS)}")
        if status not in HARM_STEP_STATUSES[step]:
            raise RecordError(
                f"'{status}' is not a status of the {step.replace('_', ' ')}: use one of "
                f"{', '.join(HARM_STEP_STATUSES[step])}"
            )
        roles = HARM_STEP_ROLES[step]
        if user.role not in roles:
            raise NotAllowedError(
                f"{user.name} ({user.role}) may not take the {step.replace('_', ' ')} of a harm record: only a "
                f"{' or '.join(roles)} may"
            )
        if status in NEEDS_NOTE and not note.strip():
            raise RecordError(f"'{status}' needs a note saying why (--note)")
        kept = {k: v.strip() for k, v in (details or {}).items() if v and v.strip()}
        with self.record.writing() as conn:
            ensure_active(conn, user)
            self._harm(conn, harm_id)
            latest = _latest(self._steps(conn, harm_id))
            _in_order(harm_id, step, status, latest)
            values = {
                "harm_id": harm_id,
                "step": step,
                "status": status,
                "note": note.strip(),
                "details": canonical(kept),
                "by": user.name,
                "at": now(),
            }
            digest = _step_sha(values)
            inserted = conn.execute(harm_steps.insert().values(**values, sha256=digest))
            ident = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            append(
                conn,
                self.record.seal,
                actor=user.name,
                action="harm_step",
                subject=harm_id,
                details={"sha256": digest, "step": step, "status": status},
            )
        return ident

    def records(self, assessment_id: str | None = None, *, sensitive: bool = False) -> list[dict[str, Any]]:
        """Harm records (of one assessment when given), oldest first, each with its steps and state.

        ``sensitive`` adds the witness's and reporter's names: the caller has checked the clearance
        (``redaction.policy``) first.
        """
        query = sa.select(harm_records).order_by(harm_records.c.at)
        if assessment_id is not None:
            query = query.where(harm_records.c.assessment_id == assessment_id)
        with self.record.engine.connect() as conn:
            if assessment_id is not None:
                self.record.assessment_row(conn, assessment_id)
            rows = conn.execute(query).all()
            steps = conn.execute(sa.select(harm_steps).order_by(harm_steps.c.id)).all()
            conn.rollback()
        by_harm: dict[str, list[Any]] = {}
        for taken in steps:
            by_harm.setdefault(taken.harm_id, []).append(taken)
        return [_listed(row, by_harm.get(row.id, []), sensitive=sensitive) for row in rows]

    def record_of(self, harm_id: str, *, sensitive: bool = False) -> dict[str, Any]:
        with self.record.engine.connect() as conn:
            row = self._harm(conn, harm_id)
            steps = self._steps(conn, harm_id)
            conn.rollback()
        return _listed(row, steps, sensitive=sensitive)

    def history(self) -> HarmHistory:
        """What the next assessment learns: every harm record not found untrue, with its state, what is still
        owed and its lessons (never the witness's or reporter's names); and the support register."""
        found = []
        standing = [h for h in self.records() if not _refuted({s["step"]: s for s in h["steps"]})]
        for harm in standing:
            latest = {s["step"]: s for s in harm["steps"]}
            assessed = latest.get("assessment", {}).get("details", {})
            lessons = (
                (
                    Lesson(
                        harm["id"],
                        assessed.get("lesson_rule", ""),
                        assessed["lessons"],
                        assessed.get("mitigations", ""),
                    ),
                )
                if assessed.get("lessons")
                else ()
            )
            owed = latest["decision"]["status"] if harm["amends_open"] else ""
            lon, lat = harm["position"]
            found.append(
                PastHarm(
                    id=harm["id"],
                    at=harm["at"],
                    lon=lon,
                    lat=lat,
                    precision_m=harm["position_precision_m"],
                    kinds=_kinds(harm),
                    deaths=tuple(harm["deaths"]),
                    injuries=tuple(harm["injuries"]),
                    mechanism=harm["mechanism"],
                    means=harm["means"],
                    step=harm["stage"],
                    status=harm["status"],
                    community=harm["community"],
                    attributed_to=harm["attributed_to"],
                    owed=owed,
                    owed_response=_status(latest, "response") if owed else "",
                    lessons=lessons,
                )
            )
        url = self.record.engine.url.render_as_string(hide_password=True)
        return HarmHistory(url, tuple(found), SupportRegister(self.record).support(standing))

    def observed(self, assessment_id: str) -> list[Observation]:
        """The harm recorded after ``assessment_id`` beside what its estimate and checklist said, except harm
        its review found untrue."""
        harms = [h for h in self.records(assessment_id) if not _refuted({s["step"]: s for s in h["steps"]})]
        result = self.record.assessment_result(assessment_id)
        if harms and any("geometry" not in e for coa in result["coas"] for e in coa["elements"]):
            raise RecordError(
                f"assessment {assessment_id} was recorded by a Primum that did not keep where its elements are: "
                "its harm cannot be placed against its zones"
            )
        return observe(assessment_id, result, self.record.status(assessment_id), harms)

    def calibration(self) -> tuple[list[CalibrationRow], list[str]]:
        """The calibration table over every assessment with harm recorded after it, and the assessments left
        out (recorded before element positions were kept)."""
        seen: list[Observation] = []
        left_out = []
        for assessment_id in sorted({h["assessment"] for h in self.records()}):
            try:
                seen += self.observed(assessment_id)
            except RecordError:
                left_out.append(assessment_id)
        return calibration(seen), left_out

    @staticmethod
    def _checked(report: HarmReport) -> dict[str, Any]:
        if not report.coa.strip():
            raise RecordError("say which COA the harm followed (--coa)")
        if report.mechanism not in MECHANISMS:
            raise RecordError(f"unknown mechanism '{report.mechanism}': use one of {', '.join(MECHANISMS)}")
        if report.origin not in HARM_SOURCES:
            raise RecordError(f"unknown source '{report.origin}': use one of {', '.join(HARM_SOURCES)}")
        if report.confidence not in HARM_CONFIDENCE:
            raise RecordError(f"unknown confidence '{report.confidence}': use one of {', '.join(HARM_CONFIDENCE)}")
        if not report.position_precision_m > 0:
            raise RecordError("--precision-m must be a distance in metres above 0")
        start, precision = parse_moment(report.at, "at")
        end = ""
        if report.until:
            end, _ = parse_moment(report.until, "until")
            if _instant(end, last=True) < _instant(start):
                raise RecordError(f"--until {report.until} is before --at {report.at}: the window must run forward")
            precision = "window"
        content = asdict(report)
        content.update(
            at=start,
            until=end,
            time_precision=precision,
            position=[round(report.position[0], 6), round(report.position[1], 6)],
            deaths=list(report.deaths),
            injuries=list(report.injuries),
            displaced=list(report.displaced),
            detained=list(report.detained),
        )
        return content

    @staticmethod
    def _harm(conn: Connection, harm_id: str) -> Any:
        row = conn.execute(sa.select(harm_records).where(harm_records.c.id == harm_id)).first()
        if row is None:
            raise NotFoundError(f"no harm record '{harm_id}' (primum harm list shows them)")
        return row

    @staticmethod
    def _steps(conn: Connection, harm_id: str) -> list[Any]:
        return list(
            conn.execute(sa.select(harm_steps).where(harm_steps.c.harm_id == harm_id).order_by(harm_steps.c.id))
        )


def _means(result: dict[str, Any], report: HarmReport) -> str:
    """The activity that caused it: as given, else the element's; the COA and element must be the assessment's."""
    coas = {coa["id"]: coa for coa in result["coas"]}
    if report.coa not in coas:
        raise NotFoundError(f"no COA '{report.coa}' in that assessment: use one of {', '.join(coas)}")
    elements = {e["id"]: e["activity"] for e in coas[report.coa]["elements"]}
    if report.element and report.element not in elements:
        raise NotFoundError(
            f"no element '{report.element}' in COA {report.coa}: use one of {', '.join(elements)}, or leave it out"
        )
    if report.means:
        # An activity of the assessment's plan, or one of Primum's built-in activities
        known = {e["activity"] for coa in result["coas"] for e in coa["elements"]}
        known |= set(load_effects_table().activities)
        if report.means not in known:
            examples = ", ".join(sorted(known)[:6])
            raise RecordError(f"unknown means '{report.means}': use an activity of the effects table, e.g. {examples}")
    return report.means or elements.get(report.element, "")


def _instant(text: str, *, last: bool = False) -> datetime:
    """A moment to compare windows by: a date is its first (or last) minute in UTC."""
    if "T" not in text:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, 23 if last else 0, 59 if last else 0, tzinfo=UTC)
    return datetime.fromisoformat(text)


def _refuted(latest: dict[str, dict[str, Any]]) -> bool:
    """Found not credible, or not substantiated: not this force's harm as far as the record knows."""
    return _status(latest, "initial_review") == "not_credible" or _status(latest, "assessment") == "not_substantiated"


def _status(latest: dict[str, dict[str, Any]], step: str) -> str:
    return str(latest[step]["status"]) if step in latest else ""


def _kinds(harm: dict[str, Any]) -> tuple[str, ...]:
    """What happened, by kind: deaths, injuries, damage, displacement, detention, movement restriction."""
    counted = {"deaths": "deaths", "injuries": "injuries", "displaced": "displacement", "detained": "detention"}
    kinds = [kind for name, kind in counted.items() if harm[name][1] > 0]
    kinds += [kind for kind in ("damage", "movement_restriction") if harm[kind]]
    return tuple(kinds)


def _latest(steps: list[Any]) -> dict[str, Any]:
    """The latest row of each step taken: the record's state."""
    return {taken.step: taken for taken in steps}


def _in_order(harm_id: str, step: str, status: str, latest: dict[str, Any]) -> None:
    """A step follows the one before it, as the workflow says; the refusal names what comes first."""
    if step == "assessment":
        review = latest.get("initial_review")
        if review is None or review.status != "credible":
            found = f"'{review.status}'" if review else "not taken"
            raise NotAllowedError(
                f"{harm_id} is assessed only once its initial review finds it credible (it is {found})"
            )
    if step == "decision" and "assessment" not in latest:
        raise NotAllowedError(f"{harm_id} needs its assessment before a decision")
    if step == "response":
        decision = latest.get("decision")
        if decision is None:
            raise NotAllowedError(f"{harm_id} needs the commander's decision before a response")
        if status in OFFER_RESPONSES and decision.status not in CLOSING_RESPONSES:
            raise NotAllowedError(
                f"{harm_id}: '{status}' follows a decision to offer amends or condolence; the decision is "
                f"'{decision.status}'"
            )


def amends_open(latest: dict[str, Any]) -> bool:
    """Amends or condolence decided and not yet paid, accepted or declined: the community is still owed."""
    decision = latest.get("decision")
    if decision is None or decision.status not in CLOSING_RESPONSES:
        return False
    response = latest.get("response")
    return response is None or response.status not in CLOSING_RESPONSES[decision.status]


def _listed(row: Any, steps: list[Any], *, sensitive: bool) -> dict[str, Any]:
    content = json.loads(row.content)
    for name in HARM_SENSITIVE:
        if not sensitive:
            content.pop(name, None)
    latest = _latest(steps)
    last = steps[-1] if steps else None
    return {
        "id": row.id,
        "assessment": row.assessment_id,
        **content,
        "recorded_by": row.by,
        "recorded_at": row.at,
        "stage": last.step if last else "intake",
        "status": last.status if last else "recorded",
        "amends_open": amends_open(latest),
        "steps": [
            {
                "step": s.step,
                "status": s.status,
                "note": s.note,
                "details": json.loads(s.details),
                "by": s.by,
                "at": s.at,
            }
            for s in steps
        ],
    }


RECORD_FIELDS = ("id", "assessment_id", "coa", "element", "content", "by", "at")
STEP_FIELDS = ("harm_id", "step", "status", "note", "details", "by", "at")


def _record_sha(row: Any) -> str:
    return sha256(["harm", *(_field(row, f) for f in RECORD_FIELDS)])


def _step_sha(row: Any) -> str:
    return sha256(["harm_step", *(_field(row, f) for f in STEP_FIELDS)])


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def harm_problems(conn: Connection, entries: list[Entry]) -> list[str]:
    """Every harm record and step must match the audit entry that vouches for it, and none may be missing."""
    records = {e.subject: e.details.get("sha256", "") for e in entries if e.action == "harm_recorded"}
    steps = {e.details.get("sha256", ""): e.subject for e in entries if e.action == "harm_step"}
    problems = []
    for row in conn.execute(sa.select(harm_records)):
        if records.pop(row.id, None) != _record_sha(row) or row.sha256 != _record_sha(row):
            problems.append(f"harm record {row.id} was altered after it was recorded")
    for taken in conn.execute(sa.select(harm_steps).order_by(harm_steps.c.id)):
        digest = _step_sha(taken)
        if digest != taken.sha256 or steps.pop(digest, None) != taken.harm_id:
            problems.append(f"step {taken.id} ({taken.step}) of harm record {taken.harm_id} was altered or inserted")
    problems += [f"harm record {ident} is in the audit log but missing from the record" for ident in records]
    problems += [
        f"a step of harm record {harm} is in the audit log but missing from the record" for harm in steps.values()
    ]
    return problems
