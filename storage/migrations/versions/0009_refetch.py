"""Re-fetching: per-URL fetch state (url_state) - validators, announcement, schedule, rejections.

Revision ID: 0009_refetch
Revises: 0008
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_refetch"
down_revision: str | None = "0008"
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


def downgrade() -> None:
    op.drop_index(op.f("ix_url_state_next_due"), table_name="url_state")
    op.drop_index(op.f("ix_url_state_source"), table_name="url_state")
    op.drop_table("url_state")
