"""The record's storage: tables, the engine, migrations and backups.

An embedded SQLite file by default (WAL mode, a full fsync on commit, every write transaction taken with
``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing half-way), or a PostgreSQL server shared by
a mission (``postgresql://USER@HOST:PORT/DB``, through psycopg 3), where every write transaction starts by
locking the audit chain's head row (``lock_for_writing``): writers from every office and dashboard process
queue on it, as on SQLite. The schema is created and upgraded by Alembic migrations
(``planner/record/migrations``, under an advisory lock on a server, so two processes starting at once do not
both migrate), never by ``create_all``, so an upgrade keeps every record. Backups are SQLite's online backup
or the server's own ``pg_dump``. Where the store is is said by ``planner.record.location``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import weakref
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine

from planner.errors import InputError

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),  # false: kept, may not sign in
)

assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("plan_name", sa.String(300), nullable=False),
    sa.Column("plan_text", sa.Text, nullable=False),  # the plan as submitted
    sa.Column("inputs", sa.Text, nullable=False),  # JSON: every input file with its sha256
    sa.Column("settings", sa.Text, nullable=False),  # JSON: the settings used
    sa.Column("result", sa.Text, nullable=False),  # JSON: the full result
    sa.Column("sha256", sa.String(64), nullable=False),  # of all the above: what a sign-off binds to
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("assessment_id", sa.String(40), sa.ForeignKey("assessments.id"), primary_key=True),
    sa.Column("key", sa.String(60), primary_key=True),  # "A/P05", or "H1" / "A/H1" for items added by hand
    sa.Column("coa", sa.String(40), nullable=False),  # "" for a plan-wide item added by hand
    sa.Column("source", sa.String(10), nullable=False),  # rule | adviser
    sa.Column("content", sa.Text, nullable=False),  # JSON: title, text, owner, severity, evidence ...
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # bumped by every review: a stale edit is a conflict
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("assessment_id", sa.String(40), nullable=False),
    sa.Column("key", sa.String(60), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # the item's version this review created
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.UniqueConstraint("assessment_id", "key", "version"),
)

signoffs = sa.Table(
    "signoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("assessment_id", sa.String(40), sa.ForeignKey("assessments.id"), nullable=False),
    sa.Column("decision", sa.String(30), nullable=False),
    sa.Column("coa", sa.String(40), nullable=False, server_default=""),  # the COA approved; "" for the plan
    sa.Column("conditions", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),  # why it supersedes an earlier decision
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("binds_to", sa.String(64), nullable=False),  # the assessment's sha256
    sa.Column("sha256", sa.String(64), nullable=False),
)

# Harm observed after an operation. The row holds what intake recorded (JSON: when, where, counts, mechanism,
# source, sensitive names) and is never changed; what follows is one ``harm_steps`` row per step taken.
harm_records = sa.Table(
    "harm_records",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("assessment_id", sa.String(40), sa.ForeignKey("assessments.id"), nullable=False),
    sa.Column("coa", sa.String(40), nullable=False),
    sa.Column("element", sa.String(100), nullable=False),  # "" when the element is not known
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Index("harm_records_by_assessment", "assessment_id"),
)

harm_steps = sa.Table(
    "harm_steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("harm_id", sa.String(40), sa.ForeignKey("harm_records.id"), nullable=False),
    sa.Column("step", sa.String(20), nullable=False),  # initial_review | assessment | decision | response
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON: lessons, mitigations, dates of a response ...
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Index("harm_steps_by_harm", "harm_id"),
)

# Support given to a non-UN force under a plan (HRDDP), and each follow-up review of the supported unit.
support_records = sa.Table(
    "support_records",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("assessment_id", sa.String(40), sa.ForeignKey("assessments.id"), nullable=False),
    sa.Column("content", sa.Text, nullable=False),  # JSON: partner, unit, kind, dates, conditions, mitigations
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)

support_reviews = sa.Table(
    "support_reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("support_id", sa.String(40), sa.ForeignKey("support_records.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # done | finding | finding_closed
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("next_due", sa.String(10), nullable=False),  # the next follow-up's date, "" when none is due
    sa.Column("by", sa.String(100), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Index("support_reviews_by_support", "support_id"),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row: the last entry of the audit chain. Updating it serialises appends on every database, and
# deleting the chain's last entries cannot go unnoticed.
chain_head = sa.Table(
    "chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

GENESIS = "0" * 64
MIGRATION_LOCK = 0x5052494D  # "PRIM": the advisory lock a server's migrations are taken under


def open_store(url: str) -> Engine:
    """The engine of the store at ``url``, created on first use and migrated to the current schema."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError.single(path, "", f"cannot create the store's folder ({exc})", "set PRIMUM_DB") from None
        engine = sa.create_engine(url, connect_args={"timeout": 60})
        _sqlite_pragmas(engine)
    else:
        engine = sa.create_engine(server_url(url), pool_pre_ping=True)
        # A store let go closes its server connections (a connection only dropped leaves the server waiting)
        weakref.finalize(engine, engine.pool.dispose)
    try:
        migrate(engine)
    except sa.exc.OperationalError as exc:  # no server there, refused, wrong password, no such database
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise InputError.single(
            engine.url.render_as_string(hide_password=True),
            "",
            f"the record cannot be reached ({reason})",
            "check that the server runs and PRIMUM_DB names it: postgresql://USER@HOST:PORT/DB",
        ) from None
    return engine


def server_url(url: str) -> str:
    """A PostgreSQL address as users write it (``postgresql://`` or ``postgres://``), with the driver the
    ordinary install brings (psycopg 3); any other URL as it is."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def lock_for_writing(connection: Any) -> None:
    """Queue this write transaction behind every other writer of a server: the audit chain's head row is
    locked until it commits, so the checks a write makes (an item's version, a sign-off already there) see
    every write committed before it. SQLite's ``BEGIN IMMEDIATE`` already does so."""
    if connection.dialect.name != "sqlite":
        connection.execute(sa.select(chain_head.c.id).where(chain_head.c.id == 1).with_for_update())


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Take the write lock at the start: a reader that later writes would otherwise fail mid-way.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("planner").joinpath("record", "migrations")))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; a store already there is left as it is."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # one migrating process at a time, the others wait
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = _alembic_config(connection)
        head = ScriptDirectory.from_config(config).get_current_head()
        if MigrationContext.configure(connection).get_current_revision() != head:
            command.upgrade(config, "head")


def backup(engine: Engine, target: Path) -> None:
    """A consistent copy of the record taken while it is in use: SQLite's online backup of a file, or a
    ``pg_dump`` archive (custom format) of a server, restored with ``pg_restore`` (see the README)."""
    if target.exists():
        raise InputError.single(target, "", "the backup file already exists", "choose a new file name")
    partial = target.with_name(f".{target.name}.partial")
    if engine.url.get_backend_name() == "postgresql":
        _pg_dump(engine, partial)
    elif engine.url.get_backend_name() == "sqlite":
        source = str(engine.url.database)
        with closing(sqlite3.connect(source, timeout=60)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
    else:
        raise InputError.single(
            engine.url.render_as_string(hide_password=True),
            "",
            "backup copies SQLite and PostgreSQL records only",
            "back this database up with its own tools",
        )
    partial.replace(target)


def _pg_dump(engine: Engine, target: Path) -> None:
    """The server's own dump of the record's database, in one snapshot (pg_dump takes one)."""
    tool = shutil.which("pg_dump")
    if tool is None:
        raise InputError.single(
            "pg_dump",
            "",
            "the PostgreSQL client tools are not installed",
            "install them: apt-get install postgresql-client",
        )
    url = engine.url
    address = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}  # never on the command line
    done = subprocess.run(
        [tool, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={address}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise InputError.single(
            url.render_as_string(hide_password=True),
            "",
            f"pg_dump failed: {done.stderr.strip()[-500:]}",
            "check that the server is reachable and that pg_dump is as new as the server",
        )
