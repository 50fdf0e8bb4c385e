"""The audit log: an append-only chain where each entry carries the hash of the one before.

An entry's hash covers its sequence number, time, actor, action, subject, details and the previous hash,
so editing, deleting, inserting or reordering any entry breaks the chain from that point, and ``breaks``
names the first entry where it does. The chain head (last sequence number and hash) is kept in its own row:
appends lock it, so concurrent writers never fork the chain.

Anyone who can write the database could recompute plain hashes, so the chain is sealed with what the
database does not hold (``Seal``): each hash is an HMAC under a key kept in a file outside the record,
readable only by the service, and every entry's hash is also appended to an anchor file beside it once the
entry is committed. A rewritten chain fails the key; a truncated tail or a wiped record falls short of the
anchor. Key rotation: append a new key (64 hex digits) as the last line of the key file; new entries are
sealed with it and older ones still verify with theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from planner.errors import InputError
from planner.record.store import GENESIS, audit, chain_head


def canonical(data: Any) -> str:
    """The one JSON text of ``data`` that every hash is taken over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


ENTRY_FIELDS = ("seq", "at", "actor", "action", "subject", "details", "prev_hash")


def _fields(entry: Any) -> bytes:
    return canonical([entry[f] if isinstance(entry, dict) else getattr(entry, f) for f in ENTRY_FIELDS]).encode()


@dataclass(frozen=True)
class Seal:
    """The keys that seal the chain and the anchor file its hashes are copied to, both outside the database."""

    keys: tuple[bytes, ...]  # newest last: it seals new entries; every key still verifies its own
    anchor: Path | None  # None only for a store that lives in memory

    @classmethod
    def for_store(cls, url: URL, *, key_file: Path | None = None, anchor: Path | None = None, new: bool = True) -> Seal:
        """The seal of the store at ``url``.

        ``key_file`` and ``anchor`` (or ``PRIMUM_AUDIT_KEY`` and ``PRIMUM_AUDIT_ANCHOR``) name the files; by
        default they sit beside a SQLite file (``primum.db.key``, ``primum.db.anchor``), or in
        ``~/.local/share/primum`` for a server, named after its address. A key is made only for a ``new``
        chain: a record whose key is lost is refused, never given a new one.
        """
        key_file = key_file or _env_path("PRIMUM_AUDIT_KEY")
        anchor = anchor or _env_path("PRIMUM_AUDIT_ANCHOR")
        if url.get_backend_name() == "sqlite":
            if url.database in (None, "", ":memory:") and key_file is None:
                return cls((secrets.token_bytes(32),), None)  # a store in memory dies with its process
            base = Path(url.database or "primum")
        else:
            address = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
            base = Path(f"~/.local/share/primum/audit-{address}").expanduser()
        key_path = key_file or Path(f"{base}.key")
        anchor_path = anchor or Path(f"{base}.anchor")
        if not key_path.exists() and not new:
            raise InputError.single(
                key_path,
                "",
                "the audit chain of this record was sealed with a key that is not here",
                "restore the key file the mission keeps (PRIMUM_AUDIT_KEY or [record] audit_key names it)",
            )
        return cls(_keys(key_path), anchor_path)

    def hash(self, entry: Any) -> str:
        return hmac.new(self.keys[-1], _fields(entry), hashlib.sha256).hexdigest()

    def verifies(self, entry: Any, digest: str) -> bool:
        fields = _fields(entry)
        return any(hmac.compare_digest(hmac.new(k, fields, hashlib.sha256).hexdigest(), digest) for k in self.keys)

    def write_anchor(self, sealed: list[tuple[int, str]]) -> None:
        """Copy committed entries' hashes to the anchor (one line each, appended, flushed to disk)."""
        if self.anchor is None or not sealed:
            return
        self.anchor.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{seq} {digest}\n" for seq, digest in sealed).encode()
        handle = os.open(self.anchor, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, text)  # one write with O_APPEND: lines of concurrent writers never interleave
            os.fsync(handle)
        finally:
            os.close(handle)

    def anchored(self) -> dict[int, str]:
        """Every (sequence number, hash) the anchor holds."""
        if self.anchor is None or not self.anchor.exists():
            return {}
        found = {}
        for line in self.anchor.read_text(encoding="ascii", errors="replace").splitlines():
            seq, _, digest = line.partition(" ")
            if seq.isdigit() and len(digest) == 64:
                found[int(seq)] = digest
        return found


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _keys(path: Path) -> tuple[bytes, ...]:
    """The keys in ``path``, one per line; a new key file (readable by its owner only) when there is none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            return _keys(path)
        with os.fdopen(handle, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    try:
        keys = tuple(bytes.fromhex(line) for line in lines)
    except ValueError:
        keys = ()
    if not keys or any(len(k) < 16 for k in keys):
        raise InputError.single(
            path, "", "the audit key file holds no usable key", "restore it from where the mission keeps it"
        )
    return keys


def append(
    connection: Connection, seal: Seal, *, actor: str, action: str, subject: str, details: dict[str, Any]
) -> int:
    """Add an entry in the caller's transaction; returns its sequence number.

    The hash is kept in ``connection.info["sealed"]`` (when the caller gives one) to be anchored after commit.
    """
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
    digest = seal.hash(values)
    connection.execute(audit.insert().values(**values, hash=digest))
    if "sealed" in connection.info:
        connection.info["sealed"].append((seq, digest))
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


def breaks(connection: Connection, seal: Seal) -> tuple[list[str], list[Entry]]:
    """Every place the chain does not hold, precisely; and the entries read (in order) for further checks."""
    problems: list[str] = []
    entries: list[Entry] = []
    hashes: dict[int, str] = {}
    previous, expected = GENESIS, 1
    altered: list[str] = []
    for row in connection.execute(sa.select(audit).order_by(audit.c.seq)):
        hashes[row.seq] = row.hash
        if row.seq != expected:
            problems.append(f"audit entry {expected} is missing (the next entry is {row.seq})")
        if row.prev_hash != previous:
            problems.append(
                f"audit entry {row.seq} does not follow entry {row.seq - 1} (deleted, inserted or reordered)"
            )
        if not seal.verifies(row, row.hash):
            altered.append(f"audit entry {row.seq} ({row.action} {row.subject}) was altered after it was written")
        try:
            details = json.loads(row.details)
        except json.JSONDecodeError:
            details = {}
        entries.append(Entry(row.seq, row.at, row.actor, row.action, row.subject, details))
        previous, expected = row.hash, row.seq + 1
    if entries and len(altered) == len(entries):
        # Not one entry carries this key's seal: the whole chain was recomputed, or the key is another record's.
        problems.append(
            f"none of the {len(entries)} audit entries is sealed with this record's key: the chain was "
            "rewritten without it, or the key file is not this record's"
        )
    else:
        problems.extend(altered)
    head = connection.execute(sa.select(chain_head).where(chain_head.c.id == 1)).one_or_none()
    last = entries[-1].seq if entries else 0
    if head is None:
        problems.append("the audit chain head is missing")
    elif head.seq != last or head.hash != previous:
        problems.append(f"the audit chain ends at entry {last} but was last written at entry {head.seq}")
    anchored = seal.anchored()
    beyond = [seq for seq in anchored if seq > last]
    if beyond:
        problems.append(
            f"the record ends at entry {last} but the anchor outside the database reaches entry {max(beyond)}: "
            "entries were removed (the record was cut short, wiped or replaced)"
        )
    for seq, digest in sorted(anchored.items()):
        if seq in hashes and hashes[seq] != digest:
            problems.append(f"audit entry {seq} differs from the anchor outside the database: the chain was rewritten")
            break
    return problems, entries
