"""The product's vocabulary: roles, review statuses, decisions, who may do what, and the output formats.

Plain constants with no imports, so the command line can name them in its help without loading the record
or the outputs.
"""

from __future__ import annotations

ROLES = ("planner", "poc_adviser", "commander", "admin")
STATUSES = ("open", "addressed", "accepted_risk", "not_applicable", "change_requested")
DECISIONS = ("approve", "approve_with_conditions", "reject")
SEVERITIES = ("high", "medium", "low")
# Who may do what. Reading (status, history) is open to every signed-in role.
ALLOWED = {
    "add_user": {"admin"},
    "record": {"planner"},
    "review": {"poc_adviser"},
    "add_item": {"poc_adviser"},
    "signoff": {"commander"},
    "read": set(ROLES),
}
# Statuses that need a reason written down.
NEEDS_NOTE = ("accepted_risk", "not_applicable", "change_requested")
# Output formats: the commander's brief, and the exports of an assessment's layers and tables.
BRIEF_FORMATS = ("html", "pdf")
EXPORT_FORMATS = ("gpkg", "geotiff", "geojson", "kml", "csv")
