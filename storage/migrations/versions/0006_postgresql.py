"""PostgreSQL only: timestamps with time zone, and the full-text index ``article_search_keys``.

On SQLite this revision does nothing (SQLite keeps no zone, and its index is ``articles_fts``).
On PostgreSQL every timestamp column becomes ``TIMESTAMP WITH TIME ZONE`` (the naive values
written so far are UTC), and ``article_search_keys`` holds one ``tsvector`` per article, built
from the normalised search text (:mod:`storage.search_pg`), with a GIN index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Every timestamp column of the revisions before this one, by table.
TIMESTAMPS = {
    "sources": ("created_at",),
    "articles": ("published_utc", "first_seen", "last_seen"),
    "article_urls": ("first_seen", "last_seen"),
    "documents": ("fetched_at",),
    "crawl_runs": ("started_at", "finished_at", "heartbeat_at"),
    "http_validators": ("checked_at",),
    "source_state": ("lease_until", "next_run_at", "last_success", "last_error_at"),
}

SEARCH_KEYS = (
    "CREATE TABLE article_search_keys ("
    "article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE, "
    "keys TSVECTOR NOT NULL)"
)
SEARCH_KEYS_INDEX = "CREATE INDEX article_search_keys_gin ON article_search_keys USING GIN (keys)"


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _retype(zone: bool) -> None:
    for table, columns in TIMESTAMPS.items():
        for column in columns:
            if zone:
                change = f"TYPE TIMESTAMP WITH TIME ZONE USING {column} AT TIME ZONE 'UTC'"
            else:
                change = f"TYPE TIMESTAMP WITHOUT TIME ZONE USING {column} AT TIME ZONE 'UTC'"
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} {change}")


def upgrade() -> None:
    if not _on_postgresql():
        return
    _retype(zone=True)
    op.execute(SEARCH_KEYS)
    op.execute(SEARCH_KEYS_INDEX)
    # The keys of articles stored before this revision come from storage.search.rebuild_index
    # (the normalisation lives in Python, not in SQL).


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.execute("DROP TABLE IF EXISTS article_search_keys")
    _retype(zone=False)
