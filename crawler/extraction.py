"""The extract step of :func:`crawler.ingest.ingest`: a document's bytes -> an article, or why not.

Light on purpose (the core and the document, no database, no Scrapy): a crawl runs this step in
worker processes (:mod:`crawler.extractpool`), a replay runs it in place.  The extractor itself
(trafilatura, lxml, numpy) is imported by the first page extracted (:func:`extractor`), so that
a crawl's reactor process, which only hands pages over, never loads it.  What goes to a worker
is :func:`job_of` (plain, picklable values); what comes back is an :class:`Extraction`.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler.capture.document import RawDocument
from crawler.core.analyzer import ArticleColumns, article_columns, index_columns
from crawler.core.article import Article
from crawler.core.errors import ExtractionError

__all__ = ["Extraction", "TIMED_OUT", "extract_document", "extract_job", "job_of", "retitled", "unexpected_reason",
           "warm"]

#: The reason a page that took longer than ``AKHBAR_EXTRACT_TIMEOUT`` is rejected with.
TIMED_OUT = "extraction timed out"


@dataclass(frozen=True)
class Extraction:
    """What the extract step made of a page: an ``article``; or ``rejected`` (not an article, with
    the reason); or ``error`` (the extractor failed unexpectedly; ``detail`` holds its traceback)."""

    outcome: str
    article: Article | None = None
    reason: str | None = None
    detail: str | None = None
    #: The article text's near-duplicate signature (:func:`crawler.core.neardup.signature`, as
    #: bytes), made here so that a crawl's worker, not its archive writer, pays for it.
    signature: bytes | None = None
    #: The article's search index columns (:func:`crawler.core.analyzer.article_columns`), made
    #: here for the same reason.
    index: ArticleColumns | None = None


def retitled(keys: ArticleColumns, title: str | None) -> ArticleColumns:
    """``keys`` of an article whose title became ``title`` (its text unchanged)."""
    title_words, title_stems = index_columns(title or "")
    return title_words, keys[1], title_stems, keys[3]


def unexpected_reason(exc: BaseException) -> str:
    """One line naming an unexpected exception: ``ValueError: what it said``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


#: The modules :func:`extract_job` runs (a worker pool preloads them).
EXTRACTOR_MODULES = ("crawler.core.extract", "crawler.core.neardup", "crawler.core.analyzer")


def extractor() -> tuple[Callable[..., Article], Callable[[str], Any]]:
    """:func:`crawler.core.extract.extract` and :func:`crawler.core.neardup.signature`, imported here."""
    from crawler.core.extract import extract
    from crawler.core.neardup import signature

    return extract, signature


def warm() -> None:
    """Load now what the extractor otherwise loads on the first page: its modules and langdetect's
    language profiles (a worker pool's forkserver does this once, before the workers are forked)."""
    from crawler.core.language import load_profiles

    extractor()
    load_profiles()


def job_of(doc: RawDocument, fetched_at: datetime) -> tuple[Any, ...]:
    """The arguments of :func:`extract_job` for ``doc``: what a worker process is sent."""
    return (doc.data, doc.url, dict(doc.headers), doc.kind, doc.name, fetched_at, doc.timezone, doc.locale,
            doc.feed_date)


def extract_job(data: bytes, url: str | None, headers: Mapping[str, str], kind: str | None, name: str | None,
                fetched_at: datetime, timezone: str | None, locale: str | None,
                feed_date: str | None) -> Extraction:
    """Run the extractor on one page; never raises for the page's sake."""
    extract, signature = extractor()
    try:
        article = extract(data, url, headers, kind=kind, name=name, fetched_at=fetched_at, timezone=timezone,
                          locale=locale, feed_date=feed_date)
    except ExtractionError as exc:
        return Extraction("rejected", reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - a defect of the extractor: the caller keeps the raw document
        return Extraction("error", reason=unexpected_reason(exc), detail=traceback.format_exc())
    return Extraction("article", article=article, signature=signature(article.text).to_bytes(),
                      index=article_columns(article.title, article.text))


def extract_document(doc: RawDocument, fetched_at: datetime) -> Extraction:
    """The extract step for ``doc``, in this process."""
    return extract_job(*job_of(doc, fetched_at))
