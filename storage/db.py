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
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from crawler.core.errors import ArchiveError, DriverMissing, InputError

#: Environment variable naming the archive database when no ``--db`` is given.
ENV_VAR = "AKHBAR_DB"
DEFAULT_URL = "sqlite:///archive.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: How long a SQLite writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 30_000


#: pip packages of the drivers SQLAlchemy imports by default, by module name (others: the module's name).
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
                   "pymysql": "PyMySQL", "cx_Oracle": "cx_Oracle", "oracledb": "oracledb", "pyodbc": "pyodbc"}


def resolve_url(db: str | None) -> str:
    """Return the database URL: ``db``, else ``$AKHBAR_DB``, else ``sqlite:///archive.db``.

    A value without ``://`` is taken as the path of a SQLite file (``~`` is expanded); one
    with a ``:`` but no ``://`` is neither (``postgresql:/x``, ``::::``): :class:`InputError`.
    """
    value = db or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in value:
        if ":" in value:
            raise InputError(f"{value!r} is not a database URL or path (a URL has '://', e.g. sqlite:///archive.db)")
        return f"sqlite:///{os.path.expanduser(value)}"
    return value


def parse_url(url: str) -> URL:
    """``url`` (or a bare SQLite path) parsed; :class:`InputError` when it is not a database URL."""
    try:
        return make_url(resolve_url(url))
    except (ArgumentError, ValueError) as exc:
        raise InputError(f"{url!r} is not a database URL or path ({exc})") from None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for other databases and in-memory ones)."""
    parsed = parse_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).expanduser()


def display_url(url: str) -> str:
    """How to name the archive to a user: a SQLite file by its path, others without the password."""
    path = sqlite_file(url)
    return str(path) if path is not None else parse_url(url).render_as_string(hide_password=True)


@contextmanager
def archive_errors(url: str | None = None) -> Iterator[None]:
    """Turn a database library's error inside the block into one :class:`ArchiveError` line."""
    try:
        yield
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        where = f"{display_url(url)}: " if url else ""
        raise ArchiveError(f"archive error: {where}{reason[0] if reason else type(exc).__name__}") from exc


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

    A SQLite file's folder must exist (:class:`ArchiveError`; no folder is created); a URL whose
    driver is not installed raises :class:`DriverMissing`.  SQLite connections keep the
    driver's default transaction handling: a transaction begins at the first write, so a
    writer waits (``busy_timeout``) for the lock instead of failing on a stale read snapshot.
    """
    url = resolve_url(url)
    parsed = parse_url(url)
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise ArchiveError(f"{path.parent}: no such file or folder (the archive {path.name} goes in it)")
    engine = _create(url, parsed)
    if parsed.get_backend_name() != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        _set_sqlite_pragmas(dbapi_connection, record, busy_timeout_ms)

    return engine


def _create(url: str, parsed: URL) -> Engine:
    """``create_engine``, with a missing driver or unknown dialect as :class:`DriverMissing`."""
    try:
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2"):
            # Naive timestamps bound outside a UtcDateTime column (CASE results...) are UTC too.
            return create_engine(url, connect_args={"options": "-c timezone=UTC"})
        return create_engine(url)
    except NoSuchModuleError:
        raise DriverMissing(f"{parsed.drivername!r} is not a database akhbar can open "
                            "(use sqlite:///FILE or postgresql://...)") from None
    except ImportError as exc:
        module = (exc.name or "").split(".")[0] or parsed.drivername
        package = DRIVER_PACKAGES.get(module, module)
        raise DriverMissing(f"the database {parsed.drivername!r} needs the Python package {package!r}, "
                            f"which is not installed (pip install '{package}')") from None
    except ArgumentError as exc:
        raise InputError(f"{parsed.render_as_string(hide_password=True)!r} is not a usable database URL: "
                         f"{str(exc).splitlines()[0]}") from None


#: Tables that exist only through raw SQL in migrations: the FTS5 index and its shadow tables
#: (SQLite), the tsvector index (PostgreSQL).
UNMODELLED_PREFIXES = ("articles_fts", "article_search_keys")


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


#: The PostgreSQL advisory lock key of :func:`one_at_a_time` (any fixed 64-bit number; this one
#: spells "akhbar" in ASCII), shared by every process that opens the archive.
SCHEMA_LOCK = 0x616B68626172


@contextmanager
def one_at_a_time(engine: Engine) -> Iterator[Connection]:
    """A transaction that processes sharing the archive enter one after the other, for schema work
    (migrations, the scheduler's job table), which is check-then-create by nature.

    On SQLite it takes the write lock first (``BEGIN IMMEDIATE``); the others wait for it
    (``busy_timeout``), then find the work done.  On PostgreSQL it takes the transaction-level
    advisory lock :data:`SCHEMA_LOCK` (``pg_advisory_xact_lock``), released at commit or rollback.
    Committed when the block ends.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        yield connection
        connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade`` on ``engine`` in one transaction, one process at a time
    (:func:`one_at_a_time`): processes opening a new archive at the same moment migrate it once."""
    with one_at_a_time(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_engine(url: str, *, create: bool = True, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """Create the engine for ``url`` (or a bare SQLite file path) and bring its schema to the
    newest revision (creating it in an empty database).

    With ``create=False`` (the read-only commands) nothing is created: a SQLite file that does
    not exist, or a database without akhbar's schema, is :class:`ArchiveError` ("no archive").
    Database errors on the way are :class:`ArchiveError` too.
    """
    path = sqlite_file(url)
    if not create and path is not None and not path.is_file():
        raise no_archive(url)
    engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
    try:
        with archive_errors(url):
            revision = current_revision(engine)
            if revision is None and not create:
                raise no_archive(url)
            if revision != head_revision():
                upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def no_archive(url: str) -> ArchiveError:
    """The error of a read-only command run where there is no archive yet."""
    return ArchiveError(f"no archive at {display_url(url)} (run `akhbar replay` or `akhbar crawl` first)")
