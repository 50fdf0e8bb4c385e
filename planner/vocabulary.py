"""The product's vocabulary: roles, review statuses, decisions, who may do what, and the output formats.

Plain constants with no imports, so the command line can name them in its help without loading the record
or the outputs.
"""

from __future__ import annotations

from typing import Any

ROLES = (
    "planner",
    "poc_adviser",
    "commander",
    "admin",
    "human_rights_officer",
    "child_protection_officer",
    "civil_affairs_officer",
    "women_protection_adviser",
)
# The mission's civilian officers who review checklist items: a PoC adviser any item, the others the items
# their role owns. The PoC adviser stays responsible for the whole checklist.
REVIEWERS = (
    "poc_adviser",
    "human_rights_officer",
    "child_protection_officer",
    "civil_affairs_officer",
    "women_protection_adviser",
)
STATUSES = ("open", "addressed", "accepted_risk", "not_applicable", "change_requested")
DECISIONS = ("approve", "approve_with_conditions", "reject")
SEVERITIES = ("high", "medium", "low")
# Who may do what. Reading (status, history) is open to every signed-in role.
ALLOWED = {
    "add_user": {"admin"},
    "manage_users": {"admin"},
    "record": {"planner"},
    "review": set(REVIEWERS),
    "add_item": {"poc_adviser"},
    "signoff": {"commander"},
    "read": set(ROLES),
    "record_harm": set(ROLES),  # anyone signed in takes a harm report in: nobody may sit on one
    "register_support": {"planner", "poc_adviser", "human_rights_officer"},
    "follow_up_support": {"human_rights_officer", "poc_adviser"},
}
# Harm tracking after an operation: the steps a harm record goes through after intake, in order, who takes
# each and what each may conclude. An initial review finds a report credible when harm by the force is more
# likely than not; only then is it assessed. Amends and condolence are offered, then accepted and paid, or
# declined; a referral to services may follow any decision.
HARM_STEPS = ("initial_review", "assessment", "decision", "response")
HARM_STEP_ROLES = {
    "initial_review": ("poc_adviser",),
    "assessment": ("poc_adviser", "human_rights_officer"),
    "decision": ("commander",),
    "response": ("poc_adviser", "civil_affairs_officer"),
}
HARM_STEP_STATUSES = {
    "initial_review": ("credible", "not_credible", "needs_information"),
    "assessment": ("substantiated", "not_substantiated", "inconclusive"),
    "decision": ("amends", "condolence", "no_response", "investigation"),
    "response": ("offered", "accepted", "paid", "declined", "referred"),
}
HARM_SOURCES = ("own_forces", "community", "humanitarian", "media")
HARM_CONFIDENCE = ("low", "medium", "high")
# Fields naming people who reported or saw the harm: withheld like a threat report's sources.
HARM_SENSITIVE = ("witness", "reporter")
# Support to non-UN security forces under the HRDDP: what kinds are registered, and what a follow-up review of
# the supported unit concludes (a finding stays open until a later review closes it).
SUPPORT_KINDS = ("fire_support", "joint_operation", "logistics", "transport", "detainee_handover")
SUPPORT_REVIEW_STATUSES = ("done", "finding", "finding_closed")
# What a password must be, said up front wherever one is chosen.
MIN_PASSWORD = 8
# Statuses that need a reason written down.
NEEDS_NOTE = ("accepted_risk", "not_applicable", "change_requested")
# Output formats: the commander's brief, and the exports of an assessment's layers and tables.
BRIEF_FORMATS = ("html", "pdf")
EXPORT_FORMATS = ("gpkg", "geotiff", "geojson", "kml", "csv")


def record_key(coa: str, item: dict[str, Any]) -> str:
    """The key of an item of ``coa``'s checklist in the record: 'A/P12' under the first COA that raises it
    alike (an item shared by several COAs is one row, reviewed once)."""
    coas = item.get("coas") or [coa]
    return f"{coas[0]}/{item['id']}"
