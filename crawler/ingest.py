"""Everything after the fetch: raw capture -> extract -> archive, shared by crawl and replay.

The caller owns the session and commits (a replay after each document, a crawl after each small
batch: :mod:`crawler.archivewriter`), so a run that dies half way keeps everything committed
before the documents in flight, and those are simply taken in again next time (they are not in
the archive; its unique constraints make a second take a no-op).  The extract step
(:mod:`crawler.extraction`) runs here, or ran before in a worker process (a crawl's
:mod:`crawler.extractpool`) and its result is passed in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from crawler.capture.document import RawDocument
from crawler.core.anatomy import strip_title_affix
from crawler.core.article import Article
from crawler.core.canonical import canonicalize_url
from crawler.core.decode import header_value
from crawler.extraction import Extraction, extract_document, retitled, unexpected_reason
from storage import archive
from storage.models import Document

__all__ = ["IngestResult", "RawDocument", "fetched_url", "ingest", "unexpected_reason"]

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What became of one document: ``stored``, ``duplicate``, ``rejected``, or ``error`` (the
    extractor failed unexpectedly: a defect, not a verdict on the page)."""

    outcome: str
    article_id: int | None = None
    document_id: int | None = None
    reason: str | None = None
    article: Article | None = None
    url: str | None = None


def fetched_url(url: str | None) -> str | None:
    """The URL a document is recorded under: canonical (:func:`crawler.core.canonical.canonicalize_url`),
    so a crawl, a replay of its WARC and the seen-URL check all speak of one address."""
    if not url:
        return None
    try:
        return canonicalize_url(url)
    except ValueError:
        return url


def ingest(session: Session, doc: RawDocument, extraction: Extraction | None = None) -> IngestResult:
    """Take one document into the archive (the caller commits).

    The raw bytes are recorded first (inline, or as a pointer into the WARC file that holds
    them), then the article is extracted (unless ``extraction`` is the step's result already,
    made with ``doc.fetched_at``) and added; the database decides whether it is new.
    """
    fetched_at = doc.fetched_at or datetime.now(timezone.utc)
    fetched = fetched_url(doc.url)
    where = fetched or (Path(doc.name).resolve().as_uri() if doc.name else "")
    document_id, is_new = archive.add_document(
        session,
        url=where,
        raw=doc.data,
        source=doc.source,
        fetched_at=fetched_at,
        content_type=header_value(doc.headers, "Content-Type"),
        http_status=doc.status,
        headers=dict(doc.headers) or None,
        warc_path=doc.warc_path,
        warc_offset=doc.warc_offset,
        warc_length=doc.warc_length,
    )
    if not is_new:
        # These very bytes were taken in from this address before: not a new sighting.  Only a
        # document that did not become an article is tried again (the extractor may have improved).
        earlier = session.get(Document, document_id)
        if earlier is not None and earlier.outcome in ("stored", "duplicate") and earlier.article_id is not None:
            return IngestResult("duplicate", article_id=earlier.article_id, document_id=document_id, url=where)
    if extraction is None:
        extraction = extract_document(doc, fetched_at)
    if extraction.outcome != "article" or extraction.article is None:
        outcome = "rejected" if extraction.outcome == "rejected" else "error"
        if outcome == "error":
            log.debug("extraction of %s failed unexpectedly\n%s", where, extraction.detail or "")
        archive.set_document_outcome(session, document_id, outcome, reason=extraction.reason)
        return IngestResult(outcome, document_id=document_id, reason=extraction.reason, url=fetched)
    article, index = extraction.article, extraction.index
    if doc.source and article.title:  # the segment the outlet sets on every title (its name) is no headline
        extracted = article.title
        article.title = strip_title_affix(article.title, archive.source_title_affix(session, doc.source, article.title))
        if index is not None and article.title != extracted:
            index = retitled(index, article.title)
    # Where it was reached: the fetch URL; for a saved file, the page's own canonical URL when it
    # names one, else the file.  The archive records the canonical URL beside it.
    url = fetched or article.canonical_url or where
    result = archive.add_article(session, article, url=url, source=doc.source, seen_at=fetched_at,
                                 document_id=document_id, signature=extraction.signature, index=index)
    archive.set_document_outcome(session, document_id, result.status, article_id=result.article_id)
    return IngestResult(result.status, article_id=result.article_id, document_id=document_id, article=article, url=url)
