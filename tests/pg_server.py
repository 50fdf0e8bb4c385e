"""A real PostgreSQL server for the record's tests: Debian's `postgresql` package (installed where missing), a
throwaway cluster in a temporary folder, listening on a free loopback port only, started once per test worker
and stopped when the worker ends. Each test gets a database of its own. No mock: what runs is what a mission
deploys.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

USER = "primum"


@dataclass
class Server:
    bindir: Path
    root: Path
    port: int
    run_as: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _bindir() -> Path:
    """The server's programs (initdb, pg_ctl): Debian keeps them under /usr/lib/postgresql/VERSION/bin."""
    found = _versions()
    if not found:
        from conftest import _apt_install  # noqa: PLC0415

        _apt_install("postgresql")
        found = _versions()
    assert found, "PostgreSQL is missing and `apt-get install postgresql` did not provide it"
    return found[-1].parent


def _versions() -> list[Path]:
    """Every installed server's initdb, oldest version first."""
    return sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start() -> Server:
    """A new cluster, started; run as the `postgres` account when the tests run as root (the server refuses
    to run as root)."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="primum-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    initdb = [str(bindir / "initdb"), "-D", str(root / "data"), "-U", USER, "--auth=trust", "-E", "UTF8"]
    subprocess.run(
        [*run_as, *initdb, "--no-sync", "--no-instructions"],
        capture_output=True,
        check=True,
    )
    for attempt in range(5):  # a port taken between the probe and the start: try another
        port = _free_port()
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-o", options]
        started = subprocess.run(
            [*run_as, *pg_ctl, "-w", "-t", "60", "start"],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode == 0:
            return Server(bindir, root, port, run_as)
        if attempt == 4:
            log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log[-2000:]}")
    raise AssertionError("unreachable")
