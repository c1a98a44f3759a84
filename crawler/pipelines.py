"""Item pipelines: fetched pages go through the same path as a replay (:func:`crawler.ingest.ingest`);
the validators of the feeds and sitemaps read are stored when the crawl finishes cleanly.

A page that could not be stored (disk full, archive locked) is counted ``errors/store`` and
``lost`` (:data:`crawler.counters.LOST`): the run then does not end ``ok`` and keeps no validators,
so the next crawl reads the feeds again and fetches that page (it is not in the archive).

Both reach the archive through :func:`crawler.extensions.archive_engine` and are not configured
when the crawl has none.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy.orm import Session

from crawler.core.decode import header_value
from crawler.counters import LOST, UNFETCHED, count, counted, lose
from crawler.extensions import archive_engine, require_archive
from crawler.ingest import IngestResult, fetched_url, ingest, unexpected_reason
from crawler.items import PageItem, ValidatorItem
from storage import archive
from storage.validators import save_validator

log = logging.getLogger(__name__)

#: Outcome of :func:`crawler.ingest.ingest` -> run counter.
OUTCOME_COUNTERS = {"stored": "articles_new", "duplicate": "articles_duplicate", "rejected": "articles_rejected",
                    "error": "errors/extraction"}


def record_redirect(session: Session, item: PageItem, result: IngestResult) -> None:
    """When the announced link redirected elsewhere, record the bytes under the link too, so the
    archive's seen-URL check knows the link next time (http -> https, moved articles...)."""
    doc = item.doc
    link, fetched = fetched_url(item.link), fetched_url(doc.url)
    if not link or link == fetched:
        return
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
        require_archive(crawler, "ingest pipeline")
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
                log.warning("could not store %s: %s", item.doc.url, unexpected_reason(exc))
                log.debug("traceback of the failure to store %s", item.doc.url, exc_info=True)
                count(self.crawler, "errors/store")
                lose(self.crawler, f"{item.doc.url}: could not store ({unexpected_reason(exc)})")
                return item
        count(self.crawler, OUTCOME_COUNTERS[result.outcome])
        if result.outcome == "rejected":
            log.info("not an article: %s (%s)", item.doc.url, result.reason)
        elif result.outcome == "error":
            log.warning("could not extract %s: %s", item.doc.url, result.reason)
        return item


class ValidatorPipeline:
    """Keeps the :class:`ValidatorItem` of each feed/sitemap read, and stores them all when the
    spider closes ``finished`` (a crawl stopped half way must not make the next one skip a feed
    whose articles it never fetched)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.kept: dict[str, ValidatorItem] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatorPipeline:
        require_archive(crawler, "validator store")
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ValidatorItem):
            self.kept[item.url] = item
        return item

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason != "finished" or not self.kept:
            return
        missed = counted(self.crawler, LOST) + counted(self.crawler, UNFETCHED)
        if missed:
            log.warning("validators of %d feeds/sitemaps not kept: %d pages lost or not fetched (read again next time)",
                        len(self.kept), missed)
            return
        try:
            with Session(archive_engine(self.crawler)) as session:
                for item in self.kept.values():
                    save_validator(session, item.url, etag=item.etag, last_modified=item.last_modified)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - without them the next crawl reads everything again: no loss
            log.warning("could not keep the validators of the feeds/sitemaps read: %s", unexpected_reason(exc))
            count(self.crawler, "errors/store")
