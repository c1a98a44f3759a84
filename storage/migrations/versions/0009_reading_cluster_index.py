"""Search folds near-duplicates: an index giving an article's cluster without reading its row.

storage.collapse needs the cluster of every matching article; ``cluster_id`` sits at the end of
the (large) article row, so reading it from the table walks each row's overflow pages.  This
covering index ``(id, cluster_id)`` answers it from the index alone.

Revision ID: 0009_reading
Revises: 0008
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_reading"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_articles_cluster_of", "articles", ["id", "cluster_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_cluster_of", table_name="articles")
