"""Article anatomy: the kicker, the lead and the image captions of each article; a source's title affix.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("kicker", sa.Text(), nullable=True))
        batch.add_column(sa.Column("lead", sa.Text(), nullable=True))
        batch.add_column(sa.Column("captions", sa.JSON(), nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("title_affix", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("title_affix")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("captions")
        batch.drop_column("lead")
        batch.drop_column("kicker")
