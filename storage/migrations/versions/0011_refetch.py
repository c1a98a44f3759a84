"""Re-fetching: per-URL fetch state (url_state) - validators, announcement, schedule, rejections.

Revision ID: 0011_refetch
Revises: 0010_pgquery
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_refetch"
down_revision: str | None = "0010_pgquery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "url_state",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("announced", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_fetched", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetches", sa.Integer(), nullable=False),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_tries", sa.Integer(), nullable=False),
        sa.Column("given_up", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_url_state")),
    )
    op.create_index(op.f("ix_url_state_source"), "url_state", ["source"])
    op.create_index(op.f("ix_url_state_next_due"), "url_state", ["next_due"])
    _backfill()


def _backfill() -> None:
    """State for what an archive made before re-fetching had seen, so its URLs are not left out:
    every article URL (fetched once, at its first sighting; past any schedule, so only a newer
    sitemap lastmod / feed updated fetches it again), and every URL whose documents were only
    rejected (due again at the next crawl of its source, as a first retry)."""
    meta = sa.MetaData()
    state = sa.Table("url_state", meta, autoload_with=op.get_bind())
    urls = sa.table("article_urls", sa.column("url"), sa.column("article_id"), sa.column("first_seen"),
                    sa.column("last_seen"))
    articles = sa.table("articles", sa.column("id"), sa.column("source_id"))
    sources = sa.table("sources", sa.column("id"), sa.column("name"))
    documents = sa.table("documents", sa.column("url"), sa.column("source_id"), sa.column("fetched_at"),
                         sa.column("outcome"))
    columns = ["url", "source", "first_seen", "last_fetched", "fetches", "next_due", "rejected_tries", "given_up"]
    seen = (
        sa.select(urls.c.url, sources.c.name, urls.c.first_seen, urls.c.last_seen, sa.literal(1),
                  sa.null(), sa.literal(0), sa.false())
        .select_from(urls.join(articles, articles.c.id == urls.c.article_id)
                     .outerjoin(sources, sources.c.id == articles.c.source_id))
    )
    op.execute(state.insert().from_select(columns, seen))
    last = sa.func.max(documents.c.fetched_at)
    rejected = (
        sa.select(documents.c.url, sa.func.max(sources.c.name), sa.func.min(documents.c.fetched_at), last,
                  sa.func.count(), last, sa.literal(1), sa.false())
        .select_from(documents.outerjoin(sources, sources.c.id == documents.c.source_id))
        .where(documents.c.url.not_in(sa.select(urls.c.url)))
        .group_by(documents.c.url)
        .having(sa.func.sum(sa.case((documents.c.outcome == "rejected", 0), else_=1)) == 0)
    )
    op.execute(state.insert().from_select(columns, rejected))


def downgrade() -> None:
    op.drop_index(op.f("ix_url_state_next_due"), table_name="url_state")
    op.drop_index(op.f("ix_url_state_source"), table_name="url_state")
    op.drop_table("url_state")
