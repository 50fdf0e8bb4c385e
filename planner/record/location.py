"""Where the record is, said without loading the database layer: every assessment asks, most find none.

``PRIMUM_DB`` (a URL or a file path), else ``[record] db`` in the settings, else ``primum.db`` in
``[record] data_dir`` (default ``~/.local/share/primum``).
"""

from __future__ import annotations

import os
from pathlib import Path


def store_url(db: str | None = None, data_dir: str | None = None) -> str:
    """The store's SQLAlchemy URL: ``PRIMUM_DB``, else ``db``, else ``primum.db`` in ``data_dir``."""
    chosen = os.environ.get("PRIMUM_DB") or db
    if not chosen:
        folder = Path(data_dir or "~/.local/share/primum").expanduser()
        chosen = str(folder / "primum.db")
    if "://" in chosen:
        return chosen
    return f"sqlite:///{Path(chosen).expanduser().resolve()}"


def exists(url: str) -> bool:
    """Whether a record is there to read: a server always is; a SQLite file only once created."""
    return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).is_file()
