"""Who is acting, and whether their role lets them: the checks every service of the record makes first."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.errors import RecordError
from planner.record.store import users
from planner.vocabulary import ALLOWED


class NotAllowedError(RecordError):
    pass


class SignInError(RecordError):
    pass


class ConflictError(RecordError):
    pass


class NotFoundError(RecordError):
    pass


@dataclass(frozen=True)
class User:
    name: str
    role: str


def require(user: User | None, action: str) -> None:
    """Refuse ``action`` to anyone whose role the role matrix (``vocabulary.ALLOWED``) does not name."""
    if user is None or user.role not in ALLOWED[action]:
        who = f"{user.name} ({user.role})" if user else "nobody signed in"
        allowed = " or ".join(sorted(ALLOWED[action]))
        raise NotAllowedError(f"{who} may not {action.replace('_', ' ')}: only a {allowed} may")


def ensure_active(conn: Connection, user: User) -> None:
    """Refuse an action by a user deactivated since they signed in."""
    row = conn.execute(sa.select(users.c.active).where(users.c.name == user.name)).first()
    if row is not None and not row.active:
        raise NotAllowedError(f"{user.name} has been deactivated: ask an admin")
