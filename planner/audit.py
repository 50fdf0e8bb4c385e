"""The audit log: an append-only chain where each entry carries the hash of the one before.

An entry's hash covers its sequence number, time, actor, action, subject, details and the previous hash,
so editing, deleting, inserting or reordering any entry breaks the chain from that point, and ``breaks``
names the first entry where it does. The chain head (last sequence number and hash) is kept in its own row:
appends lock it, so concurrent writers never fork the chain, and dropping the last entries is detected too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.store import GENESIS, audit, chain_head


def canonical(data: Any) -> str:
    """The one JSON text of ``data`` that every hash is taken over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


ENTRY_FIELDS = ("seq", "at", "actor", "action", "subject", "details", "prev_hash")


def entry_hash(entry: Any) -> str:
    """The hash of an entry (a row, or its values as a dict), over its fields and the previous hash."""
    return sha256([entry[f] if isinstance(entry, dict) else getattr(entry, f) for f in ENTRY_FIELDS])


def append(connection: Connection, *, actor: str, action: str, subject: str, details: dict[str, Any]) -> int:
    """Add an entry in the caller's transaction; returns its sequence number."""
    head = connection.execute(sa.select(chain_head).where(chain_head.c.id == 1).with_for_update()).one()
    seq = head.seq + 1
    values = {
        "seq": seq,
        "at": now(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": canonical(details),
        "prev_hash": head.hash,
    }
    digest = entry_hash(values)
    connection.execute(audit.insert().values(**values, hash=digest))
    updated = connection.execute(
        chain_head.update().where(chain_head.c.id == 1, chain_head.c.seq == head.seq).values(seq=seq, hash=digest)
    )
    if updated.rowcount != 1:  # another writer appended in between: the transaction must not commit
        raise RuntimeError("the audit chain moved during an append")
    return seq


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


def breaks(connection: Connection) -> tuple[list[str], list[Entry]]:
    """Every place the chain does not hold, precisely; and the entries read (in order) for further checks."""
    problems: list[str] = []
    entries: list[Entry] = []
    previous, expected = GENESIS, 1
    for row in connection.execute(sa.select(audit).order_by(audit.c.seq)):
        if row.seq != expected:
            problems.append(f"audit entry {expected} is missing (the next entry is {row.seq})")
        if row.prev_hash != previous:
            problems.append(
                f"audit entry {row.seq} does not follow entry {row.seq - 1} (deleted, inserted or reordered)"
            )
        if entry_hash(row) != row.hash:
            problems.append(f"audit entry {row.seq} ({row.action} {row.subject}) was altered after it was written")
        try:
            details = json.loads(row.details)
        except json.JSONDecodeError:
            details = {}
        entries.append(Entry(row.seq, row.at, row.actor, row.action, row.subject, details))
        previous, expected = row.hash, row.seq + 1
    head = connection.execute(sa.select(chain_head).where(chain_head.c.id == 1)).one_or_none()
    last = entries[-1].seq if entries else 0
    if head is None:
        problems.append("the audit chain head is missing")
    elif head.seq != last or head.hash != previous:
        problems.append(f"the audit chain ends at entry {last} but was last written at entry {head.seq}")
    return problems, entries
