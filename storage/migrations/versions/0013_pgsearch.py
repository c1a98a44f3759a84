"""PostgreSQL only: each article's publication time and source beside its search keys.

``article_search_keys`` gains ``published_utc`` and ``source_id`` (copies of the article's), so
that the matches of a query are filtered by source and date and put newest first without a join
to ``articles`` (storage.search_pg).  They are filled here for the rows already there; a row is
written with them (storage.search_pg.index_article), and a trigger on ``articles`` follows any later
change of either.  No B-tree over them on purpose: the planner would walk one and test each row's
vector (it does not count what reading a vector costs) instead of taking a word's matches from the
GIN index and filtering those on the small rows.  ``toast_tuple_target`` 128 puts every
vector out of line, so the table's own rows stay small and reading the ids and dates of many
matches does not read their vectors.

Revision ID: 0013_pgsearch
Revises: 0012_searchperf
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_pgsearch"
down_revision: str | None = "0012_searchperf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLLOW = """
CREATE FUNCTION akhbar_search_keys_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_search_keys SET published_utc = NEW.published_utc, source_id = NEW.source_id
    WHERE article_id = NEW.id;
    RETURN NULL;
END $$
"""
TRIGGER = (
    "CREATE TRIGGER articles_search_keys_follow AFTER UPDATE OF published_utc, source_id ON articles "
    "FOR EACH ROW WHEN (OLD.published_utc IS DISTINCT FROM NEW.published_utc "
    "OR OLD.source_id IS DISTINCT FROM NEW.source_id) EXECUTE FUNCTION akhbar_search_keys_follow()"
)


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE article_search_keys ADD COLUMN published_utc TIMESTAMP WITH TIME ZONE, "
               "ADD COLUMN source_id INTEGER")
    op.execute("ALTER TABLE article_search_keys SET (toast_tuple_target = 128)")
    op.execute("UPDATE article_search_keys k SET published_utc = a.published_utc, source_id = a.source_id "
               "FROM articles a WHERE a.id = k.article_id")
    op.execute(FOLLOW)
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER articles_search_keys_follow ON articles")
    op.execute("DROP FUNCTION akhbar_search_keys_follow()")
    op.execute("ALTER TABLE article_search_keys RESET (toast_tuple_target)")
    op.execute("ALTER TABLE article_search_keys DROP COLUMN source_id, DROP COLUMN published_utc")
