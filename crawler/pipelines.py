"""Item pipelines: fetched pages go through the same path as a replay (:func:`crawler.ingest.ingest`).

Also the crawl's link to the archive: :func:`archive_engine` gives every component of one
crawler (spider, middlewares, pipeline, run recorder) the same SQLAlchemy engine, kept on the
crawler itself, and :func:`count` keeps the run's counters in the crawler's stats.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.core.decode import header_value
from crawler.ingest import IngestResult, fetched_url, ingest
from crawler.items import PageItem

log = logging.getLogger(__name__)

#: Prefix of akhbar's counters in Scrapy's stats.
STAT_PREFIX = "akhbar/"
#: Outcome of :func:`crawler.ingest.ingest` -> run counter.
OUTCOME_COUNTERS = {"stored": "articles_new", "duplicate": "articles_duplicate", "rejected": "articles_rejected"}


def archive_engine(crawler: Crawler) -> Engine:
    """The archive engine of this crawler (opened, and migrated, on first use; setting ``AKHBAR_DB``)."""
    engine = getattr(crawler, "_akhbar_engine", None)
    if engine is None:
        from storage.db import open_engine, resolve_url

        engine = open_engine(resolve_url(crawler.settings.get("AKHBAR_DB")))
        crawler._akhbar_engine = engine  # type: ignore[attr-defined]
    return engine


def count(crawler: Crawler, name: str, n: int = 1) -> None:
    """Add ``n`` to the run counter ``name`` (``errors/<kind>`` for errors)."""
    if crawler.stats is not None:
        crawler.stats.inc_value(STAT_PREFIX + name, n)


def counters(crawler: Crawler) -> dict[str, Any]:
    """The run counters so far: ``{pages_fetched: .., ..., errors: {kind: n}}``."""
    from storage.runs import COUNTERS

    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    values: dict[str, Any] = {key: int(stats.get(STAT_PREFIX + key, 0)) for key in COUNTERS}
    prefix = STAT_PREFIX + "errors/"
    values["errors"] = {key[len(prefix):]: int(n) for key, n in sorted(stats.items()) if key.startswith(prefix)}
    return values


def record_redirect(session: Session, item: PageItem, result: IngestResult) -> None:
    """When the announced link redirected elsewhere, record the bytes under the link too, so the
    archive's seen-URL check knows the link next time (http -> https, moved articles...)."""
    doc = item.doc
    link, fetched = fetched_url(item.link), fetched_url(doc.url)
    if not link or link == fetched:
        return
    from storage import archive

    document_id, _ = archive.add_document(
        session, url=link, raw=doc.data, source=doc.source, fetched_at=doc.fetched_at,
        content_type=header_value(doc.headers, "Content-Type"), http_status=doc.status, headers=doc.headers,
        warc_path=doc.warc_path, warc_offset=doc.warc_offset, warc_length=doc.warc_length,
    )
    archive.set_document_outcome(session, document_id, result.outcome, article_id=result.article_id,
                                 reason=f"redirected to {fetched}")


class IngestPipeline:
    """Extract and store each fetched page; one commit per page (a killed crawl loses at most one)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        with Session(archive_engine(self.crawler)) as session:
            try:
                result = ingest(session, item.doc)
                record_redirect(session, item, result)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - one bad page never stops the crawl
                session.rollback()
                log.warning("could not store %s: %s", item.doc.url, f"{type(exc).__name__}: {exc}".splitlines()[0])
                count(self.crawler, "errors/store")
                return item
        count(self.crawler, OUTCOME_COUNTERS[result.outcome])
        if result.outcome == "rejected":
            log.info("not an article: %s (%s)", item.doc.url, result.reason)
        return item
