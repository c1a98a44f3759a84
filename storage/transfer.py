"""Copying an archive into another database (``akhbar migrate-archive``), e.g. SQLite to PostgreSQL.

Every modelled table is copied in foreign-key order with its primary keys, so the rows keep their
ids and point at each other as before: sources, articles, article URLs, documents (raw bytes or
WARC pointers as they are), crawl runs, HTTP validators, source state.  APScheduler's job table
is not copied (a scheduler rebuilds its jobs from the sources file).

The copy goes in batches of primary keys and is resumable: a batch first asks the target which
of its keys are there already and copies only the others, with ``ON CONFLICT DO NOTHING`` beside
that, so a copy stopped half-way is finished by running it again.  A row the target has under a
copied key must be the source's (same unique columns: content hash, URL, name...), else the
target holds another archive and the copy stops.  Copied articles are indexed
for search in the target's own way (FTS5 or tsvector), and PostgreSQL's id sequences are moved
past the copied ids.  At the end the row counts of the two archives are compared.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, Table, UniqueConstraint, func, select, text, tuple_
from sqlalchemy.orm import Session

from crawler.core.errors import ArchiveError
from storage.archive import _insert
from storage.models import ArticleRecord, Base
from storage.search import index_article

#: Primary keys per batch (documents carry their raw bytes: a batch stays a few megabytes).
BATCH = 500

#: Called after each batch with (table name, rows looked at in the batch).
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in the source and in the target after the copy, and how many were copied now."""

    table: str
    source: int
    target: int
    copied: int

    @property
    def complete(self) -> bool:
        return self.source == self.target


def tables() -> list[Table]:
    """The tables to copy, parents before children."""
    return list(Base.metadata.sorted_tables)


def _key_columns(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def _key(table: Table) -> Any:
    """The primary key as one SQL expression (a row value when it has several columns)."""
    columns = _key_columns(table)
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def _key_of(table: Table, row: Any) -> Any:
    """The primary key of a result row whose first columns are the key columns."""
    width = len(table.primary_key.columns)
    return row[0] if width == 1 else tuple(row[:width])


def count_rows(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _key_batches(engine: Engine, table: Table, size: int) -> Iterator[list[Any]]:
    """The source's primary keys in order, ``size`` at a time (keyset paging: no OFFSET scans)."""
    columns, key = _key_columns(table), _key(table)
    last: Any = None
    with engine.connect() as connection:
        while True:
            query = select(*columns).order_by(*columns).limit(size)
            if last is not None:
                query = query.where(key > (last if len(columns) == 1 else tuple_(*last)))
            keys = [_key_of(table, row) for row in connection.execute(query)]
            if not keys:
                return
            yield keys
            last = keys[-1]


#: Columns that tell one row from another beside its key, where no unique constraint says it.
IDENTITY = {"crawl_runs": ("source", "started_at")}


def identity_columns(table: Table) -> list[Column[Any]]:
    """The columns a row of the target must share with the source's row of the same key to be
    its copy: those of the table's unique constraints (or :data:`IDENTITY`)."""
    names = list(IDENTITY.get(table.name, ()))
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            names.extend(column.name for column in constraint.columns)
    return [table.c[name] for name in dict.fromkeys(names)]


def _identities(connection: Connection | Session, table: Table, keys: Sequence[Any]) -> dict[Any, tuple[Any, ...]]:
    columns = _key_columns(table)
    rows = connection.execute(select(*columns, *identity_columns(table)).where(_key(table).in_(keys)))
    return {_key_of(table, row): tuple(row[len(columns):]) for row in rows}


def _check_same_rows(source: Engine, target: Session, table: Table, present: dict[Any, tuple[Any, ...]]) -> None:
    """:class:`ArchiveError` when a row the target has under a copied key is not the source's row."""
    if not present:
        return
    with source.connect() as connection:
        theirs = _identities(connection, table, list(present))
    for k, mine in present.items():
        if theirs.get(k) != mine:
            raise ArchiveError(f"the target's {table.name} row {k} is not the source's: the target holds "
                               "another archive (copy into a new database)")


def _copy_batch(source: Engine, target: Session, table: Table, keys: Sequence[Any]) -> list[Any]:
    """Copy the rows of ``keys`` the target lacks; return the keys copied."""
    key = _key(table)
    present = _identities(target, table, keys)
    _check_same_rows(source, target, table, present)
    missing = [k for k in keys if k not in present]
    if not missing:
        return []
    with source.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(table).where(key.in_(missing)))]
    target.execute(_insert(target, table).values(rows).on_conflict_do_nothing())
    if table is ArticleRecord.__table__:
        for row in rows:
            index_article(target, row["id"], row["title"], row["text"])
    return missing


def _advance_sequence(target: Session, table: Table) -> None:
    """On PostgreSQL, move a serial key's sequence past the copied ids (inserts with explicit ids
    do not move it, and the next new row would take a copied id)."""
    columns = _key_columns(table)
    if target.get_bind().dialect.name != "postgresql" or len(columns) != 1 or not isinstance(columns[0].type, Integer):
        return
    key = columns[0]
    target.execute(
        text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "
             f"COALESCE((SELECT max({key.name}) FROM {table.name}), 0) + 1, false)"),
        {"table": table.name, "column": key.name},
    )


def copy_archive(source: Engine, target: Engine, *, batch: int = BATCH,
                 progress: Progress | None = None) -> list[TableCount]:
    """Copy every table of ``source`` into ``target`` (both at the newest schema); returns the
    counts.  Each batch is committed on its own, so an interrupted copy keeps what it did."""
    counts: list[TableCount] = []
    for table in tables():
        copied = 0
        with Session(target) as session:
            for keys in _key_batches(source, table, batch):
                copied += len(_copy_batch(source, session, table, keys))
                session.commit()
                if progress is not None:
                    progress(table.name, len(keys))
            _advance_sequence(session, table)
            session.commit()
        counts.append(TableCount(table.name, count_rows(source, table), count_rows(target, table), copied))
    return counts


def check_counts(counts: Sequence[TableCount]) -> None:
    """:class:`ArchiveError` naming every table whose row counts differ after a copy."""
    wrong = [f"{c.table} {c.source} in the source, {c.target} in the target" for c in counts if not c.complete]
    if wrong:
        raise ArchiveError("the copy is not complete: " + "; ".join(wrong)
                           + " (was the target a new database, or a copy of this same archive?)")
