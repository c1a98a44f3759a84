"""PostgreSQL only: the search keys rewritten for the query language (storage.search_pg).

Each article's ``tsvector`` now holds the word keys at their positions (title A, body D, the body
two positions after the title) and the light stems as ``~stem`` lexemes at the same positions
(title B, body C), written as a tsvector literal instead of through ``to_tsvector``.  This
revision rewrites every row; on SQLite it does nothing.

Revision ID: 0010_pgquery
Revises: 0009_reading
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010_pgquery"
down_revision: str | None = "0009_reading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
_UPSERT = "ON CONFLICT (article_id) DO UPDATE SET keys = excluded.keys"
NEW = f"INSERT INTO article_search_keys (article_id, keys) VALUES (:id, CAST(:keys AS tsvector)) {_UPSERT}"
#: The rows of revision 0006: to_tsvector of the four index columns, weighted A, B, C, D.
OLD = (
    "INSERT INTO article_search_keys (article_id, keys) VALUES (:id, "
    "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :title_stem), 'B') || "
    f"setweight(to_tsvector('simple', :body_stem), 'C') || setweight(to_tsvector('simple', :body), 'D')) {_UPSERT}"
)


def _reindex(insert: str, values: Callable[[int, str | None, str], dict[str, Any]]) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, title, text FROM articles WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}
        ).all()
        if not rows:
            return
        bind.execute(sa.text(insert), [values(r.id, r.title, r.text) for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    from storage.search_pg import index_values

    _reindex(NEW, index_values)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    from crawler.core.analyzer import index_columns

    def old(article_id: int, title: str | None, body: str) -> dict[str, Any]:
        title_words, title_stems = index_columns(title or "")
        body_words, body_stems = index_columns(body)
        return {"id": article_id, "title": title_words, "title_stem": title_stems, "body": body_words, "body_stem": body_stems}

    _reindex(OLD, old)
