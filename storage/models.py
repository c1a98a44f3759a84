"""The archive's tables as SQLAlchemy 2.0 typed models.

The schema itself is owned by the Alembic migrations in :mod:`storage.migrations`; these
models describe it for queries, and a test checks that the two agree.  In Python every timestamp
is naive UTC; in the database it is :class:`UtcDateTime`: ``DATETIME`` without a zone on SQLite
(which keeps none), ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL.

Not modelled here: ``articles_fts``, the SQLite FTS5 index (contentless since migration 0004)
maintained by :mod:`storage.search` and its triggers, and ``article_search_keys``, its
PostgreSQL counterpart (:mod:`storage.search_pg`).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.textzip import pack, unpack

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


class UtcDateTime(TypeDecorator[datetime]):
    """A naive-UTC ``datetime`` in Python; ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, plain
    ``DATETIME`` elsewhere.  An aware value is converted to UTC on the way in; what comes out is
    always naive UTC, whatever the connection's time zone."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(tzinfo=timezone.utc) if dialect.name == "postgresql" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value


class ZippedText(TypeDecorator[str]):
    """An article's text: a ``str`` in Python; on SQLite stored zlib-compressed as a BLOB
    (:mod:`storage.textzip`; short texts and rows written before migration 0015 stay plain TEXT,
    and read the same), on PostgreSQL plain ``TEXT`` (TOAST compresses it on the server)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | bytes | None:
        if value is None or dialect.name != "sqlite":
            return value
        return pack(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unpack(value)


class Base(DeclarativeBase):
    """Declarative base of every archive model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """A news outlet (or any other named origin) that articles and documents come from."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The segment the source sets at one end of its titles (its name), once its titles showed it:
    # "prefix:<loose key>" or "suffix:<loose key>" (crawler.core.anatomy.source_title_affix).
    title_affix: Mapped[str | None] = mapped_column(Text)


class ArticleRecord(Base):
    """One article, identified by the hash of its normalised text; stored text is as published.

    ``url`` is the article's canonical address: the page's rel=canonical when known, otherwise
    the first URL it was seen at.  Every URL it was reached under is in :attr:`urls`.
    """

    __tablename__ = "articles"
    # Search joins its matches here: this index answers the filters and date sorts without
    # reading the (large) article rows (storage.search, migration 0004); the second gives a
    # match's near-duplicate cluster the same way (storage.collapse, migration 0009).
    __table_args__ = (
        Index("ix_articles_search", "id", "published_utc", "source_id", "lang"),
        Index("ix_articles_cluster_of", "id", "cluster_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(ZippedText)  # zlib-compressed on SQLite (storage.textzip)
    published: Mapped[str | None] = mapped_column(String(40))
    published_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
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
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    # Near-duplicates (storage.neardup): the id of the first article of the story's cluster (its
    # own id when it is the first), and the estimated Jaccard similarity to that first article.
    cluster_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cluster_similarity: Mapped[float | None] = mapped_column(Float)

    source: Mapped[Source | None] = relationship(lazy="joined")
    urls: Mapped[list[ArticleUrl]] = relationship(
        back_populates="article", lazy="selectin", order_by="ArticleUrl.id"
    )

    def __repr__(self) -> str:
        return f"<ArticleRecord id={self.id} url={self.url!r} hash={self.content_hash[:12]}>"


class ArticleVersion(Base):
    """One publisher's version of an article: the text as published at one time.

    The same article (same URL or rel=canonical) fetched again with changed text gets a new
    version; the article row carries the CURRENT version's title, text and hash (so search, show
    and the dedup index read one row).  A version's own ``title``/``text`` columns are NULL
    while it is the current one, and filled with its text when a newer version supersedes it:
    the text is never stored twice.  ``extractor_version``/``extracted_at`` say which extractor
    produced the stored text and when; ``reextractions`` counts the times ``akhbar reprocess``
    changed it (an extraction revision, not a publisher's version).
    """

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # no index of its own: the unique (article_id, version) index serves lookups by article (0009)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(ZippedText)
    modified: Mapped[str | None] = mapped_column(String(40))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    extractor_version: Mapped[str | None] = mapped_column(String(100))
    extracted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reextractions: Mapped[int] = mapped_column(Integer, default=0)


class NeardupBand(Base):
    """One LSH band key of an article's MinHash signature (crawler.core.neardup.band_keys).

    Articles that share a (band, hash) row are candidate near-duplicates.  Without rowid: the
    primary key is the table, so a lookup by (band, hash) reads one B-tree."""

    __tablename__ = "neardup_bands"
    __table_args__ = {"sqlite_with_rowid": False}

    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # no index of its own (0009): it would repeat the table; nothing looks bands up by article
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)


class NeardupSignature(Base):
    """An article's MinHash signature (NUM_PERM little-endian uint32), to score candidates
    without their texts."""

    __tablename__ = "neardup_signatures"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class ArticleUrl(Base):
    """A URL an article was seen at; a URL belongs to one article (the first seen there)."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)

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
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
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
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
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
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SourceState(Base):
    """Per-source scheduling state and health: the lease that keeps two schedulers from
    crawling one source at once, the adaptive interval, and the recent record."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    last_success: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    recent_new: Mapped[list[int] | None] = mapped_column(JSON)


class UrlState(Base):
    """One article URL's fetches, for fetching it again (:mod:`crawler.core.refetch`,
    :mod:`storage.refetch`): the validators of its last article answer, the newest announcement
    (sitemap lastmod / feed updated) seen for it, when it is due next, and its rejections in a row."""

    __tablename__ = "url_state"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    announced: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_fetched: Mapped[datetime] = mapped_column(UtcDateTime)
    fetches: Mapped[int] = mapped_column(Integer, default=0)
    next_due: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    rejected_tries: Mapped[int] = mapped_column(Integer, default=0)
    given_up: Mapped[bool] = mapped_column(Boolean, default=False)
