"""The raw capture behind an article: the document (fetched page) a version was extracted from,
and its bytes as kept (:func:`storage.archive.document_raw`: inline, or read from its WARC record).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.core.errors import NotFound
from storage.archive import document_raw
from storage.models import ArticleVersion, Document

__all__ = ["Capture", "capture_document", "read_capture"]


@dataclass(frozen=True)
class Capture:
    """A document's bytes with what is known of them."""

    document_id: int
    url: str
    content_type: str | None
    data: bytes


def capture_document(session: Session, article_id: int, version: int | None = None) -> Document:
    """The document of ``version`` of the article (default: its current version; an article
    without versions: its latest document).  ``NotFound`` when none was kept."""
    versions = select(ArticleVersion).where(ArticleVersion.article_id == article_id)
    if version is not None:
        versions = versions.where(ArticleVersion.version == version)
    chosen = session.scalars(versions.order_by(ArticleVersion.version.desc()).limit(1)).first()
    if version is not None and chosen is None:
        raise NotFound(f"article {article_id} has no version {version}")
    doc = session.get(Document, chosen.document_id) if chosen is not None and chosen.document_id is not None else None
    if doc is None and version is None:
        doc = session.scalars(select(Document).where(Document.article_id == article_id)
                              .order_by(Document.fetched_at.desc(), Document.id.desc()).limit(1)).first()
    if doc is None:
        which = f"version {version} of article {article_id}" if version is not None else f"article {article_id}"
        raise NotFound(f"no raw capture was kept for {which}")
    return doc


def read_capture(session: Session, article_id: int, version: int | None = None,
                 *, warc_root: Path | None = None) -> Capture:
    """The raw bytes of the article's document (see :func:`capture_document`); ``NotFound`` (one
    line) when they cannot be read (a WARC file moved away, a record that does not match)."""
    doc = capture_document(session, article_id, version)
    try:
        data = document_raw(session, doc.id, warc_root=warc_root)
    except (LookupError, ValueError, OSError, zlib.error) as exc:
        reason = "its WARC file is missing or unreadable" if isinstance(exc, OSError) else "it is damaged or missing"
        raise NotFound(f"the raw capture of article {article_id} (document {doc.id}) cannot be read: {reason}") from None
    return Capture(doc.id, doc.url, doc.content_type, data)
