"""Archive size: article texts stored zlib-compressed on SQLite (storage.textzip).

Every plain ``articles.text`` and ``article_versions.text`` long enough to gain is rewritten as
the zlib stream of its UTF-8 bytes (a BLOB); the text itself does not change, so neither do the
index's keys: the index's update triggers are taken off during the rewrite (no article is
indexed again) and put back as they were.  No row is added or removed.  The pages freed stay in
the file until a ``VACUUM``.  Downgrading writes every blob back as plain text.  PostgreSQL: no
change (TOAST compresses long text there already).

Revision ID: 0015_textzip
Revises: 0014_sqlsize
Create Date: 2026-12-02
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015_textzip"
down_revision: str | None = "0014_sqlsize"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
TABLES = ("articles", "article_versions")
_UPDATE_TRIGGER = re.compile(r"^\s*CREATE\s+(?:TEMP\w*\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+"
                             r"(?:BEFORE\s+|AFTER\s+|INSTEAD\s+OF\s+)?UPDATE\b", re.IGNORECASE)


@contextmanager
def _without_update_triggers(bind: sa.Connection) -> Iterator[None]:
    """The update triggers of the two tables dropped for the block, then made again from their own SQL."""
    marks = ", ".join(f"'{t}'" for t in TABLES)
    triggers = [(name, sql) for name, sql in bind.execute(sa.text(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})")).all()
        if _UPDATE_TRIGGER.match(sql)]
    for name, _ in triggers:
        bind.execute(sa.text(f'DROP TRIGGER "{name}"'))
    yield
    for _, sql in triggers:
        bind.execute(sa.text(sql))


def _rewrite(bind: sa.Connection, table: str, stored_as: str, convert: Callable[[Any], Any]) -> int:
    """Rewrite, batch by batch, every ``text`` of ``table`` whose SQLite type is ``stored_as``
    with ``convert(text)`` (when that differs in type); how many rows were rewritten."""
    last, changed = 0, 0
    while True:
        rows = bind.execute(sa.text(
            f"SELECT id, text FROM {table} WHERE id > :last AND typeof(text) = :kind ORDER BY id LIMIT :n"),
            {"last": last, "kind": stored_as, "n": BATCH}).all()
        if not rows:
            return changed
        new = [{"id": r.id, "t": t} for r in rows if type(t := convert(r.text)) is not type(r.text)]
        if new:
            bind.execute(sa.text(f"UPDATE {table} SET text = :t WHERE id = :id"), new)
        changed += len(new)
        last = rows[-1].id


def _all(stored_as: str, convert: Callable[[Any], Any]) -> None:
    bind = op.get_bind()
    with _without_update_triggers(bind):
        for table in TABLES:
            _rewrite(bind, table, stored_as, convert)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        from storage.textzip import pack

        _all("text", pack)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        from storage.textzip import unpack

        _all("blob", lambda value: unpack(bytes(value)))
