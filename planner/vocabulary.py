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
}
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
