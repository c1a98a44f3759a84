"""Size: drop the indexes that repeat another index of the same table.

* ``ix_neardup_bands_article_id`` held (article_id, band, hash) for every band row: the same
  bytes as the table itself (a WITHOUT ROWID table keyed by band, hash, article_id), about a tenth
  of an archive's size beside its texts.  Nothing looks bands up by article; deleting an article
  (no command does) now scans the band rows for the cascade.
* ``ix_article_versions_article_id``: the unique (article_id, version) index answers the same
  lookups.

Revision ID: 0012_searchperf
Revises: 0011_refetch
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_searchperf"
down_revision: str | None = "0011_refetch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_neardup_bands_article_id"), table_name="neardup_bands")
    op.drop_index(op.f("ix_article_versions_article_id"), table_name="article_versions")


def downgrade() -> None:
    op.create_index(op.f("ix_article_versions_article_id"), "article_versions", ["article_id"])
    op.create_index(op.f("ix_neardup_bands_article_id"), "neardup_bands", ["article_id"])
