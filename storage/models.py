"""The archive's tables as SQLAlchemy 2.0 typed models.

The schema itself is owned by the Alembic migrations in :mod:`storage.migrations`; these
models describe it for queries, and a test checks that the two agree.  All timestamps are
naive UTC (``DateTime`` without a zone), because SQLite keeps no zone.

Not modelled here: ``articles_fts``, the SQLite FTS5 index created by the first migration
and maintained by :mod:`storage.search`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so later migrations (batch mode on SQLite) can drop or alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: What became of a document taken in (``None`` while it has not been processed yet).
OUTCOMES = ("stored", "duplicate", "rejected", "error")


class Base(DeclarativeBase):
    """Declarative base of every archive model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """A news outlet (or any other named origin) that articles and documents come from."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The segment the source sets at one end of its titles (its name), once its titles showed it:
    # "prefix:<loose key>" or "suffix:<loose key>" (crawler.core.anatomy.source_title_affix).
    title_affix: Mapped[str | None] = mapped_column(Text)


class ArticleRecord(Base):
    """One article, identified by the hash of its normalised text; stored text is as published.

    ``url`` is the article's canonical address: the page's rel=canonical when known, otherwise
    the first URL it was seen at.  Every URL it was reached under is in :attr:`urls`.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(40))
    published_utc: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    date_source: Mapped[str | None] = mapped_column(String(20))
    modified: Mapped[str | None] = mapped_column(String(40))
    section: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16), index=True)
    lang_confidence: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    kicker: Mapped[str | None] = mapped_column(Text)  # the label above the headline
    lead: Mapped[str | None] = mapped_column(Text)  # the standfirst (also the text's first paragraph)
    captions: Mapped[list[str] | None] = mapped_column(JSON)  # image captions and credits, never in text
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)

    source: Mapped[Source | None] = relationship(lazy="joined")
    urls: Mapped[list[ArticleUrl]] = relationship(
        back_populates="article", lazy="selectin", order_by="ArticleUrl.id"
    )

    def __repr__(self) -> str:
        return f"<ArticleRecord id={self.id} url={self.url!r} hash={self.content_hash[:12]}>"


class ArticleUrl(Base):
    """A URL an article was seen at; a URL belongs to one article (the first seen there)."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)

    article: Mapped[ArticleRecord] = relationship(back_populates="urls")


class Document(Base):
    """One fetched (or replayed) response, kept raw so extraction can be re-run later.

    ``raw`` holds the zlib-compressed bytes, unless they live in a WARC file, in which case
    ``warc_path``/``warc_offset``/``warc_length`` point at the record.  The same bytes at the
    same URL are one document: (``sha256``, ``url``) is unique.
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("sha256", "url"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('stored', 'duplicate', 'rejected', 'error')",
            name="outcome",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(200))
    encoding: Mapped[str | None] = mapped_column(String(40))
    http_status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    warc_path: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )

    source: Mapped[Source | None] = relationship()
    article: Mapped[ArticleRecord | None] = relationship()


#: How a crawl run ended (``running`` while it goes on; ``died`` when its process vanished).
RUN_OUTCOMES = ("running", "ok", "failed", "timeout", "killed", "interrupted", "died")


class CrawlRun(Base):
    """One crawl of one source: when, how it ended, and what it did.

    ``heartbeat_at`` is bumped while the run goes on, so a run whose process was killed
    (SIGKILL, power loss) can be told apart from a slow one and marked ``died``.
    ``errors`` counts errors by kind (``{"http_404": 2, "timeout": 1}``).
    """

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint("outcome IN " + str(RUN_OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(200))
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    articles_rejected: Mapped[int] = mapped_column(Integer, default=0)
    skipped_seen: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[dict[str, int] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)


class HttpValidator(Base):
    """The validators of the last good answer for a feed or sitemap URL (conditional GET)."""

    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(DateTime)


class SourceState(Base):
    """Per-source scheduling state and health: the lease that keeps two schedulers from
    crawling one source at once, the adaptive interval, and the recent record."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    recent_new: Mapped[list[int] | None] = mapped_column(JSON)
