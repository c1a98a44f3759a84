"""The first tables: sources, articles, article_urls, documents, and the FTS5 index.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# FTS5 over crawler.core.arabic.search_text() of title and body.  The text arrives already
# normalised and split on \w+, so the tokenizer only has to split on the spaces between
# tokens: letters, digits, marks and '_' are token characters, as they are for \w.
# remove_diacritics 2 folds Latin accents (Arabic marks are already gone).
ARTICLES_FTS = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, "
    "tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* Co M*' tokenchars '_'\")"
)

# Index rows are written by the application (storage.search) in the article's transaction;
# a deleted article takes its index row with it whoever deletes it.
ARTICLES_FTS_DELETE = (
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    "DELETE FROM articles_fts WHERE rowid = old.id; END"
)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published", sa.String(length=40), nullable=True),
        sa.Column("published_utc", sa.DateTime(), nullable=True),
        sa.Column("date_source", sa.String(length=20), nullable=True),
        sa.Column("modified", sa.String(length=40), nullable=True),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("lang_confidence", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_articles_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_articles_content_hash")),
    )
    op.create_index(op.f("ix_articles_published_utc"), "articles", ["published_utc"])
    op.create_index(op.f("ix_articles_lang"), "articles", ["lang"])
    op.create_index(op.f("ix_articles_source_id"), "articles", ["source_id"])

    op.create_table(
        "article_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_urls_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_urls")),
        sa.UniqueConstraint("url", name=op.f("uq_article_urls_url")),
    )
    op.create_index(op.f("ix_article_urls_article_id"), "article_urls", ["article_id"])

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("encoding", sa.String(length=40), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("warc_path", sa.Text(), nullable=True),
        sa.Column("warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("warc_length", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('stored', 'duplicate', 'rejected', 'error')",
            name=op.f("ck_documents_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_documents_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_documents_article_id_articles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("sha256", "url", name=op.f("uq_documents_sha256_url")),
    )
    op.create_index(op.f("ix_documents_url"), "documents", ["url"])
    op.create_index(op.f("ix_documents_source_id"), "documents", ["source_id"])
    op.create_index(op.f("ix_documents_article_id"), "documents", ["article_id"])

    if op.get_context().dialect.name == "sqlite":
        op.execute(ARTICLES_FTS)
        op.execute(ARTICLES_FTS_DELETE)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts")
    op.drop_table("documents")
    op.drop_table("article_urls")
    op.drop_table("articles")
    op.drop_table("sources")
