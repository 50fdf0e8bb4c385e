"""The record: who assessed, reviewed, signed and tracked what, kept so that nothing is lost and nothing changes
unseen.

- ``store``: the tables, the engine, migrations (``migrations/``) and backups; ``location`` says where it is;
- ``audit``: the hash-chained, sealed audit log every change appends to;
- ``roles``: who is acting and what their role lets them do;
- ``assessments``: the service for users, assessments, checklist reviews and sign-offs (``Record``);
- ``harm``: harm after an operation and its review; ``support``: the register of support to partner forces.

Front ends import the service from here: ``from planner.record import Record, User``. The names are loaded on
first use, so that a command that only asks where the record is does not pay for the database layer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.errors import RecordError
    from planner.record.assessments import Record, Validity, Verification, input_files
    from planner.record.roles import ConflictError, NotAllowedError, NotFoundError, SignInError, User

_WHERE = {
    "RecordError": "planner.errors",
    "Record": "planner.record.assessments",
    "Validity": "planner.record.assessments",
    "Verification": "planner.record.assessments",
    "input_files": "planner.record.assessments",
    "ConflictError": "planner.record.roles",
    "NotAllowedError": "planner.record.roles",
    "NotFoundError": "planner.record.roles",
    "SignInError": "planner.record.roles",
    "User": "planner.record.roles",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'planner.record' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)


__all__ = [
    "ConflictError",
    "NotAllowedError",
    "NotFoundError",
    "Record",
    "RecordError",
    "SignInError",
    "User",
    "Validity",
    "Verification",
    "input_files",
]
