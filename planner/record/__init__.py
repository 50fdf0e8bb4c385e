"""The record: who assessed, reviewed, signed and tracked what, kept so that nothing is lost and nothing changes
unseen.

- ``store``: the tables, the engine, migrations (``migrations/``) and backups;
- ``audit``: the hash-chained, sealed audit log every change appends to;
- ``roles``: who is acting and what their role lets them do;
- ``assessments``: the service for users, assessments, checklist reviews and sign-offs (``Record``).

Front ends import the service from here: ``from planner.record import Record, User``.
"""

from planner.errors import RecordError
from planner.record.assessments import Record, Validity, Verification, input_files
from planner.record.roles import ConflictError, NotAllowedError, NotFoundError, SignInError, User

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
