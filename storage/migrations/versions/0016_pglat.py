"""PostgreSQL only: each article's month and source as marks in its search vector.

Every ``article_search_keys.keys`` gains two lexemes without positions: ``@d<YYYYMM>`` (the UTC
month of its publication; ``@d`` when undated) and ``@s<source id>`` (none without a source),
made by the SQL function ``akhbar_search_marks(published_utc, source_id)`` (and in Python by
storage.search_pg.marks).  A word key never starts with ``@`` (keys are ``\\w`` runs), so no user
query matches a mark and ``ts_rank`` (which looks only at the query's lexemes) is unchanged.  A
first page ANDs the month marks of a few months into its tsquery, newest months first
(storage.search_pg.walk): the GIN index then skips through a common word's long posting list to
the rows of those months instead of handing every match over to be read and sorted; a source
filter ANDs the source marks.  The trigger of revision 0013 now also moves the marks when an
article's date or source changes.

``article_search_keys_month`` (a B-tree over the month of ``published_utc``) gives the newest and
oldest months at once.  It is over an expression on purpose: the planner cannot walk it for the
searches' ORDER BY on ``published_utc`` (see revision 0013).  The vectors are stored with lz4
where the server has it (faster to read for ``ts_rank``; the rewrite below recompresses every
vector), and the GIN index is built again after the rewrite (faster than following 1 row at a
time).  No article row is touched.

Revision ID: 0016_pglat
Revises: 0015_textzip
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_pglat"
down_revision: str | None = "0015_textzip"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKS = """
CREATE FUNCTION akhbar_search_marks(published TIMESTAMP WITH TIME ZONE, source INTEGER) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT array_to_tsvector(ARRAY['@d' || coalesce(to_char(published AT TIME ZONE 'UTC', 'YYYYMM'), '')]
                             || CASE WHEN source IS NULL THEN ARRAY[]::text[] ELSE ARRAY['@s' || source] END)
$$
"""
#: A vector without its marks (every lexeme starting with @).
UNMARKED = """
CREATE FUNCTION akhbar_search_unmarked(keys tsvector) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
    SELECT ts_delete(keys, ARRAY(SELECT u.lexeme FROM unnest(keys) AS u WHERE left(u.lexeme, 1) = '@'))
$$
"""
FOLLOW = """
CREATE OR REPLACE FUNCTION akhbar_search_keys_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_search_keys SET published_utc = NEW.published_utc, source_id = NEW.source_id,
        keys = akhbar_search_unmarked(keys) || akhbar_search_marks(NEW.published_utc, NEW.source_id)
    WHERE article_id = NEW.id;
    RETURN NULL;
END $$
"""
#: Revision 0013's trigger function.
FOLLOW_0013 = """
CREATE OR REPLACE FUNCTION akhbar_search_keys_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_search_keys SET published_utc = NEW.published_utc, source_id = NEW.source_id
    WHERE article_id = NEW.id;
    RETURN NULL;
END $$
"""
MONTH_INDEX = ("CREATE INDEX article_search_keys_month ON article_search_keys "
               "((date_trunc('month', published_utc AT TIME ZONE 'UTC')))")
GIN_INDEX = "CREATE INDEX article_search_keys_gin ON article_search_keys USING GIN (keys)"
#: lz4 when the server was built with it (an error otherwise, caught: the vectors keep pglz).
LZ4 = """
DO $$ BEGIN
    ALTER TABLE article_search_keys ALTER COLUMN keys SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
END $$
"""


def _rewrite(expression: str) -> None:
    """Every vector set to ``expression``, the GIN index dropped during the rewrite and built after."""
    op.execute("DROP INDEX IF EXISTS article_search_keys_gin")
    op.execute(f"UPDATE article_search_keys SET keys = {expression}")
    op.execute(GIN_INDEX)


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(MARKS)
    op.execute(UNMARKED)
    op.execute(FOLLOW)
    op.execute(LZ4)
    _rewrite("keys || akhbar_search_marks(published_utc, source_id)")
    op.execute(MONTH_INDEX)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX article_search_keys_month")
    op.execute("ALTER TABLE article_search_keys ALTER COLUMN keys SET COMPRESSION default")
    _rewrite("akhbar_search_unmarked(keys)")
    op.execute(FOLLOW_0013)
    op.execute("DROP FUNCTION akhbar_search_unmarked(tsvector)")
    op.execute("DROP FUNCTION akhbar_search_marks(TIMESTAMP WITH TIME ZONE, INTEGER)")
