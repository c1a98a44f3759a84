"""Search: a contentless FTS5 index of word keys and light stems, rebuilt from the stored text.

The first index (0001) kept a normalised copy of every title and text beside its inverted index.
This one (``content=''``) keeps the inverted index only, with four columns per article: the word
keys of the title and of the text, and the stems of their tokens where a stem differs from its key
(crawler.core.analyzer).  A contentless row can
only be removed by giving FTS5 its old values, so the triggers on ``articles`` recompute them
from the stored text with the SQL functions that storage.search.register_functions installs.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* Co M*' tokenchars '_'\""
ARTICLES_FTS = (
    f"CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, title_stem, body_stem, content='', {TOKENIZE})"
)
_OLD_ROW = "old.id, akhbar_words(old.title), akhbar_words(old.text), akhbar_stems(old.title), akhbar_stems(old.text)"
_NEW_ROW = "new.id, akhbar_words(new.title), akhbar_words(new.text), akhbar_stems(new.title), akhbar_stems(new.text)"
_COLUMNS = "articles_fts, rowid, title, body, title_stem, body_stem"
TRIGGERS = (
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    f"INSERT INTO articles_fts ({_COLUMNS}) VALUES ('delete', {_OLD_ROW}); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN "
    f"INSERT INTO articles_fts ({_COLUMNS}) VALUES ('delete', {_OLD_ROW}); "
    f"INSERT INTO articles_fts (rowid, title, body, title_stem, body_stem) VALUES ({_NEW_ROW}); END",
)
BATCH = 500


def _reindex(bind: sa.Connection, insert: str, values) -> None:
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
    # Search joins its matches to this index, not to the article rows (filters, date sorts).
    op.create_index("ix_articles_search", "articles", ["id", "published_utc", "source_id", "lang"])
    if op.get_context().dialect.name != "sqlite":
        return
    from storage.search import index_values

    op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
    op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute(ARTICLES_FTS)
    for trigger in TRIGGERS:
        op.execute(trigger)
    _reindex(
        op.get_bind(),
        "INSERT INTO articles_fts (rowid, title, body, title_stem, body_stem) "
        "VALUES (:id, :title, :body, :title_stem, :body_stem)",
        index_values,
    )
    op.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")


def downgrade() -> None:
    op.drop_index("ix_articles_search", table_name="articles")
    if op.get_context().dialect.name != "sqlite":
        return
    from crawler.core.arabic import search_text

    op.execute("DROP TRIGGER IF EXISTS articles_fts_update")
    op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
    op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute(f"CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, {TOKENIZE})")
    op.execute(
        "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
        "DELETE FROM articles_fts WHERE rowid = old.id; END"
    )
    _reindex(
        op.get_bind(),
        "INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)",
        lambda i, title, body: {"id": i, "title": search_text(title or ""), "body": search_text(body)},
    )
