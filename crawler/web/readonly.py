"""Opening the archive for reading only: no migration, no write can succeed.

A SQLite file is opened through a ``file:...?mode=ro`` URI (SQLite itself refuses every write)
with ``PRAGMA query_only`` on as well; another database gets read-only transactions.  A missing
file, or a database without akhbar's schema (or at another revision), is one ArchiveError line.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event

from crawler.core.errors import ArchiveError
from storage.db import archive_errors, current_revision, head_revision, make_engine, no_archive, sqlite_file


#: Bytes of the archive file SQLite reads through a memory map (SQLite caps it at its build's
#: limit, 2 GiB by default): the index's pages come from the OS page cache, shared by every
#: connection, without a copy into each connection's page cache (about a tenth less CPU a search
#: on a 200,000-article archive).  Safe here: nothing is written through these connections.
MMAP_BYTES = 1 << 31


def _sqlite_readonly(path_uri: str) -> Engine:
    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path_uri, uri=True, check_same_thread=False)
        connection.execute("PRAGMA query_only = ON")
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        return connection

    return create_engine("sqlite://", creator=connect)


def _readonly_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        finally:
            cursor.close()
        dbapi_connection.commit()


def open_readonly(url: str) -> Engine:
    """An engine that reads the archive at ``url`` and cannot write to it."""
    path = sqlite_file(url)
    if path is not None:
        if not path.is_file():
            raise no_archive(url)
        engine = _sqlite_readonly(path.resolve().as_uri() + "?mode=ro")
    else:
        engine = make_engine(url)
        _readonly_transactions(engine)
    try:
        with archive_errors(url):
            revision = current_revision(engine)
        if revision is None:
            raise no_archive(url)
        if revision != head_revision():
            raise ArchiveError(f"the archive's schema is at revision {revision}, not {head_revision()}: "
                               "run any writing akhbar command (e.g. `akhbar replay`) once to upgrade it")
    except BaseException:
        engine.dispose()
        raise
    return engine
