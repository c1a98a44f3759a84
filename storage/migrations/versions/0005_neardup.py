"""Near-duplicates: LSH band keys and MinHash signatures of articles, and cluster columns.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "neardup_bands",
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_neardup_bands_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("band", "hash", "article_id", name=op.f("pk_neardup_bands")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_neardup_bands_article_id"), "neardup_bands", ["article_id"])
    op.create_table(
        "neardup_signatures",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_neardup_signatures_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_neardup_signatures")),
    )
    # Plain columns (no constraint), so SQLite adds them in place: a batch copy of the table
    # would drop the full-text triggers that hang on it.
    op.add_column("articles", sa.Column("cluster_id", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("cluster_similarity", sa.Float(), nullable=True))
    op.create_index(op.f("ix_articles_cluster_id"), "articles", ["cluster_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_articles_cluster_id"), table_name="articles")
    op.drop_column("articles", "cluster_similarity")
    op.drop_column("articles", "cluster_id")
    op.drop_table("neardup_signatures")
    op.drop_index(op.f("ix_neardup_bands_article_id"), table_name="neardup_bands")
    op.drop_table("neardup_bands")
