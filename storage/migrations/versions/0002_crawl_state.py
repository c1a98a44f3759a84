"""Crawl state: runs, HTTP validators for conditional GET, per-source scheduling state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_OUTCOMES = ("running", "ok", "failed", "timeout", "killed", "interrupted", "died")


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("articles_new", sa.Integer(), nullable=False),
        sa.Column("articles_duplicate", sa.Integer(), nullable=False),
        sa.Column("articles_rejected", sa.Integer(), nullable=False),
        sa.Column("skipped_seen", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint("outcome IN " + str(RUN_OUTCOMES), name=op.f("ck_crawl_runs_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_index(op.f("ix_crawl_runs_source"), "crawl_runs", ["source"])
    op.create_index(op.f("ix_crawl_runs_started_at"), "crawl_runs", ["started_at"])
    op.create_table(
        "http_validators",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_http_validators")),
    )
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("interval_seconds", sa.Float(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_success", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("recent_new", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_state")),
    )


def downgrade() -> None:
    op.drop_table("source_state")
    op.drop_table("http_validators")
    op.drop_index(op.f("ix_crawl_runs_started_at"), table_name="crawl_runs")
    op.drop_index(op.f("ix_crawl_runs_source"), table_name="crawl_runs")
    op.drop_table("crawl_runs")
