"""A consistent copy of a live SQLite database, through SQLite's online backup API."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from storage.db import Database


def backup_sqlite(database: Database, destination: Path) -> int:
    """Copy the database to `destination` (created owner-only: it holds PHI); returns the pages copied.

    The backup API copies a snapshot while other connections keep writing, unlike copying the file.
    """
    source_path = database.engine.url.database
    if not source_path:
        raise ValueError("this SQLite database has no file to back up")
    destination = destination.resolve()
    if destination == Path(source_path).resolve():
        raise ValueError("the backup would overwrite the database itself; choose another file")
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(destination, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    copied = 0

    def progress(status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total

    with closing(sqlite3.connect(source_path)) as source, closing(sqlite3.connect(destination)) as target:
        source.backup(target, pages=1024, progress=progress)
    os.chmod(destination, 0o600)
    return copied
