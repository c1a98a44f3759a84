"""Search speed: the SQLite index gets a ``facets`` column (each article's source and month).

``articles_fts`` is rebuilt with a fifth column holding two tokens an article: ``s<source id>``
and ``m<YYYYMM>`` (its publication month), taken from the article's row.  A search filtered by
source or dates adds them to its MATCH expression, so FTS5 intersects posting lists instead of
handing over every match of a common word to be checked against the filters row by row
(storage.search.facet_clause).  The triggers now also follow a change of an article's source or
publication date.  A contentless table cannot gain a column, so every article is indexed again
from its stored text (a few minutes for 100,000 articles); no article row is touched.

Revision ID: 0014_sqlsize
Revises: 0013_pgsearch
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014_sqlsize"
down_revision: str | None = "0013_pgsearch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* Co M*' tokenchars '_'\""
BATCH = 500


def _facets(row: str) -> str:
    # as storage.search.facets_sql at this revision
    month = f"substr({row}.published_utc, 1, 4) || substr({row}.published_utc, 6, 2)"
    return (f"trim(coalesce('s' || {row}.source_id, '') || ' ' || coalesce('m' || {month}, '') || ' ' || "
            f"coalesce('s' || {row}.source_id || 'm' || {month}, ''))")


def _values(row: str) -> str:
    return (f"{row}.id, akhbar_words({row}.title), akhbar_words({row}.text), "
            f"akhbar_stems({row}.title), akhbar_stems({row}.text)")


NEW_TABLE = ("CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, title_stem, body_stem, facets, "
             f"content='', {TOKENIZE})")
_NEW_COLUMNS = "rowid, title, body, title_stem, body_stem, facets"
NEW_TRIGGERS = (
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    f"INSERT INTO articles_fts (articles_fts, {_NEW_COLUMNS}) VALUES ('delete', {_values('old')}, {_facets('old')}); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text, source_id, published_utc ON articles BEGIN "
    f"INSERT INTO articles_fts (articles_fts, {_NEW_COLUMNS}) VALUES ('delete', {_values('old')}, {_facets('old')}); "
    f"INSERT INTO articles_fts ({_NEW_COLUMNS}) VALUES ({_values('new')}, {_facets('new')}); END",
)
NEW_INSERT = (f"INSERT INTO articles_fts ({_NEW_COLUMNS}) SELECT a.id, :title, :body, :title_stem, :body_stem, "
              f"{_facets('a')} FROM articles a WHERE a.id = :id")

OLD_TABLE = f"CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, title_stem, body_stem, content='', {TOKENIZE})"
_OLD_COLUMNS = "rowid, title, body, title_stem, body_stem"
OLD_TRIGGERS = (
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    f"INSERT INTO articles_fts (articles_fts, {_OLD_COLUMNS}) VALUES ('delete', {_values('old')}); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN "
    f"INSERT INTO articles_fts (articles_fts, {_OLD_COLUMNS}) VALUES ('delete', {_values('old')}); "
    f"INSERT INTO articles_fts ({_OLD_COLUMNS}) VALUES ({_values('new')}); END",
)
OLD_INSERT = f"INSERT INTO articles_fts ({_OLD_COLUMNS}) VALUES (:id, :title, :body, :title_stem, :body_stem)"


def _rebuild(table: str, triggers: Sequence[str], insert: str) -> None:
    from storage.search import index_values

    op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
    op.execute("DROP TRIGGER IF EXISTS articles_fts_update")
    op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute(table)
    for trigger in triggers:
        op.execute(trigger)
    _reindex(op.get_bind(), insert, index_values)
    op.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")


def _reindex(bind: sa.Connection, insert: str, values: Callable[[int, str | None, str], dict[str, Any]]) -> None:
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, title, text FROM articles WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        bind.execute(sa.text(insert), [values(r.id, r.title, r.text) for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _rebuild(NEW_TABLE, NEW_TRIGGERS, NEW_INSERT)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _rebuild(OLD_TABLE, OLD_TRIGGERS, OLD_INSERT)
