"""Engines, sessions and migrations.

Sessions are created by callers and passed in (`with database.session() as s:`);
there is no global session.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = str(Path(__file__).with_name("migrations"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the scheduler and the bot read while the other writes; busy_timeout waits for the write lock.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _prepare_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only before SQLite creates it world-readable: it holds PHI."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def _readonly_reconnects(context: Any) -> None:
    """A SQLite file that was read-only when a connection opened it stays read-only for that
    connection: treat the error as a lost connection, so the pool reconnects and a file made
    writable again is written without a restart."""
    if "readonly database" in str(context.original_exception):
        context.is_disconnect = True


def _opened_read_only(dbapi_connection: Any) -> bool:
    """Whether this connection can take SQLite's write lock. Asked of the connection itself, not
    of the file's mode: a connection opened read-write still cannot write while the process
    shares a WAL index that an earlier connection mapped read-only. A lock held by another
    writer answers "locked" at once (no busy wait) and counts as writable."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return "readonly" in str(exc)
    finally:
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
    return False


def _never_pool_read_only(engine: Engine) -> None:
    """A connection that opened the file read-only stays read-only, and so does the WAL index
    SQLite shares among all of the process's connections to that file, for as long as any of
    them is open. So such a connection is closed when it is given back instead of waiting in
    the pool: once the file is fixed and the requests in flight end, the next connection can
    write again, without a restart."""

    def opened(dbapi_connection: Any, record: Any) -> None:
        record.info["read_only"] = _opened_read_only(dbapi_connection)

    def given_back(_dbapi_connection: Any, record: Any) -> None:
        if record.info.get("read_only"):
            record.invalidate()

    event.listen(engine, "connect", opened)
    event.listen(engine, "checkin", given_back)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _readonly_reconnects)
        _never_pool_read_only(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


# Any fixed number: the key of the session-level advisory lock that migrations hold on PostgreSQL.
MIGRATION_LOCK = 7_203_116


def upgrade(engine: Engine) -> None:
    """Migrate to head. On PostgreSQL the run holds an advisory lock, so replicas that start
    together migrate one at a time (the second finds the schema at head and does nothing)
    instead of racing to create the same tables. SQLite serializes writers by itself."""
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def at_head(engine: Engine) -> bool:
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == set(script.get_heads())


class Database:
    """An engine and its session factory: the one handle the rest of the program passes around."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if migrate and not at_head(self.engine):
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading; whatever it changes is discarded at the end."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back when it raises.

        The transaction rule (docs/architecture.md): storage functions add and flush; the door's
        unit of work commits, here and nowhere else."""
        with self._sessions.begin() as session:
            yield session

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()

    def close(self) -> None:
        """Release the pool at shutdown, first folding SQLite's write-ahead log into the database
        file, so that the file alone (copied after a stop) holds every committed entry."""
        if self.is_sqlite:
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            except Exception:  # a database that cannot be reached at exit: nothing to fold
                pass
        self.engine.dispose()


def insert_for(session: Session) -> Any:
    """The INSERT construct with ON CONFLICT for the session's database (PostgreSQL or SQLite)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def health(database: Database) -> tuple[bool, dict[str, str]]:
    """Whether the database answers, can be written, and its schema is current, with words for each.

    The write is an UPDATE of the schema version to itself, rolled back: a database that answers
    but refuses writes (a read-only file, a read-only replica) cannot log time, so it is unhealthy."""
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return False, {"database": f"unreachable ({type(exc).__name__})"}
    try:
        with database.engine.connect() as conn, conn.begin() as transaction:
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            transaction.rollback()
    except Exception as exc:
        return False, {"database": f"not writable ({type(exc).__name__})"}
    current = at_head(database.engine)
    return current, {"database": "ok", "migrations": "at head" if current else "behind: run `ccmbot db upgrade`"}
