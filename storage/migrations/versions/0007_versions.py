"""Versions: a publisher's versions of an article (article_versions); each existing article is version 1.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each article becomes its version 1: its hash, first sight and the document it was stored from
# (a 'stored' one first, else any document pointing at it).  Title and text stay NULL: the
# current version's text is the article row's (storage.models.ArticleVersion), so nothing is copied.
_FIRST_VERSIONS = """
INSERT INTO article_versions (article_id, version, content_hash, title, text, modified, fetched_at,
                              document_id, extractor_version, extracted_at, reextractions)
SELECT a.id, 1, a.content_hash, NULL, NULL, a.modified, a.first_seen,
       COALESCE((SELECT min(d.id) FROM documents d WHERE d.article_id = a.id AND d.outcome = 'stored'),
                (SELECT min(d.id) FROM documents d WHERE d.article_id = a.id)),
       NULL, NULL, 0
FROM articles a
"""


def upgrade() -> None:
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("modified", sa.String(length=40), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("extractor_version", sa.String(length=100), nullable=True),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reextractions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_versions_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_article_versions_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.UniqueConstraint("article_id", "version", name=op.f("uq_article_versions_article_id_version")),
    )
    op.create_index(op.f("ix_article_versions_article_id"), "article_versions", ["article_id"])
    op.create_index(op.f("ix_article_versions_content_hash"), "article_versions", ["content_hash"])
    op.create_index(op.f("ix_article_versions_document_id"), "article_versions", ["document_id"])
    op.execute(_FIRST_VERSIONS)


def downgrade() -> None:
    # The article rows keep the current versions; earlier versions are lost with the table.
    op.drop_index(op.f("ix_article_versions_document_id"), table_name="article_versions")
    op.drop_index(op.f("ix_article_versions_content_hash"), table_name="article_versions")
    op.drop_index(op.f("ix_article_versions_article_id"), table_name="article_versions")
    op.drop_table("article_versions")
