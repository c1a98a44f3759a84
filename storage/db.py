"""Opening the archive: database URL resolution, engine set-up and schema migration.

``open_engine(url)`` is the one entry point: it makes the engine and brings the schema to the
newest Alembic revision, so an archive is created or upgraded on first use, from any working
directory and from an installed package (the Alembic configuration is built in code; no
``alembic.ini`` is read).  Sessions are made and owned by the caller::

    engine = open_engine(resolve_url(None))
    with Session(engine) as session:
        add_article(session, article)
        session.commit()
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

#: Environment variable naming the archive database when no ``--db`` is given.
ENV_VAR = "AKHBAR_DB"
DEFAULT_URL = "sqlite:///archive.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: How long a SQLite writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 30_000


def resolve_url(db: str | None) -> str:
    """Return the database URL: ``db``, else ``$AKHBAR_DB``, else ``sqlite:///archive.db``.

    A value without ``://`` is taken as the path of a SQLite file (``~`` is expanded).
    """
    value = db or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in value:
        return f"sqlite:///{os.path.expanduser(value)}"
    return value


def _use_wal(cursor: Any, busy_timeout_ms: int) -> None:
    """Switch the file to WAL (a lasting property of the file) unless it is WAL already.

    The switch needs a moment of exclusive access, and SQLite does not wait for it through
    ``busy_timeout``, so connections opening a new file together retry until the timeout.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode not in ("wal", "memory"):
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any, busy_timeout_ms: int) -> None:
    """Per-connection SQLite settings: wait for locks, WAL journal, foreign keys enforced."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _use_wal(cursor, busy_timeout_ms)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()
    from storage.search import register_functions  # the search index's triggers call them

    register_functions(dbapi_connection)


def make_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """Create the engine for ``url`` (or a bare SQLite file path) without touching the schema.

    For a SQLite file the parent folder is created if missing.  SQLite connections keep the
    driver's default transaction handling: a transaction begins at the first write, so a
    writer waits (``busy_timeout``) for the lock instead of failing on a stale read snapshot.
    """
    url = resolve_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        _set_sqlite_pragmas(dbapi_connection, record, busy_timeout_ms)

    return engine


#: Tables that exist only through raw SQL in migrations: the FTS5 index and its shadow tables.
UNMODELLED_PREFIXES = ("articles_fts",)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: keep autogenerate away from unmodelled tables, and from
    ``apscheduler_jobs``, the scheduler's job store, which APScheduler creates and owns."""
    return not (type_ == "table" and name is not None and (name.startswith(UNMODELLED_PREFIXES) or name == "apscheduler_jobs"))


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration built in code, pointing at this package's migrations folder."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest revision among the package's migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def one_at_a_time(engine: Engine) -> Iterator[Connection]:
    """A transaction that processes sharing the archive enter one after the other, for schema work
    (migrations, the scheduler's job table), which is check-then-create by nature.

    On SQLite it takes the write lock first (``BEGIN IMMEDIATE``); the others wait for it
    (``busy_timeout``), then find the work done.  Committed when the block ends.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection
        connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade`` on ``engine`` in one transaction, one process at a time
    (:func:`one_at_a_time`): processes opening a new archive at the same moment migrate it once."""
    with one_at_a_time(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """Create the engine for ``url`` (or a bare SQLite file path) and bring its schema to the
    newest revision (creating it in an empty database)."""
    engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
    if current_revision(engine) != head_revision():
        upgrade(engine)
    return engine
