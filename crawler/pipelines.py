"""Item pipelines: fetched pages go through the same path as a replay (:func:`crawler.ingest.ingest`);
the validators of the feeds and sitemaps read are stored when the crawl finishes cleanly.

The reactor only fetches: each page's extract step runs in a pool of worker processes
(:mod:`crawler.extractpool`, ``AKHBAR_EXTRACT_WORKERS`` of them, one per core by default, each
page at most ``AKHBAR_EXTRACT_TIMEOUT`` seconds), and the archive is written by one thread in
small batches (:mod:`crawler.archivewriter`, ``AKHBAR_WRITE_BATCH`` pages or
``AKHBAR_WRITE_WAIT`` seconds).  A page waits for a free place in the pool's bounded queue, and
Scrapy does not fetch more while its pages are in the pipeline, so a slow extraction slows the
fetching instead of filling memory.  With ``AKHBAR_EXTRACT_WORKERS = 0`` each page is extracted
and committed on the reactor, one at a time.

An article page the download refused (over ``AKHBAR_MAX_PAGE_BYTES``: a
:class:`crawler.items.RefusedPage` from the spider's errback) is recorded as a ``rejected``
document with its reason and no body (:func:`record_refused`), counted ``articles_rejected``.

A page that could not be stored (disk full, archive locked) is counted ``errors/store`` and
``lost`` (:data:`crawler.counters.LOST`): the run then does not end ``ok`` and keeps no validators,
so the next crawl reads the feeds again and fetches that page (it is not in the archive).

Both reach the archive through :func:`crawler.extensions.archive_engine` and are not configured
when the crawl has none.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future
from datetime import datetime, timezone
from functools import partial
from typing import Any, TypeVar

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred, DeferredSemaphore

from crawler.archivewriter import ArchiveWriter
from crawler.core.decode import header_value
from crawler.counters import LOST, UNFETCHED, count, counted, lose
from crawler.extensions import archive_engine, crawl_now, require_archive
from crawler.extraction import Extraction, job_of
from crawler.extractpool import ExtractPool, configured_workers
from crawler.ingest import IngestResult, fetched_url, ingest, unexpected_reason
from crawler.core.refetch import RefetchPolicy, parse_announced
from crawler.items import NotModifiedItem, PageItem, RefusedPage, ValidatorItem
from storage import archive
from storage.archive import utcnow
from storage.refetch import record_fetch
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


#: Outcome of :func:`crawler.ingest.ingest` -> fetch event of :func:`storage.refetch.record_fetch`
#: (an ``error`` is none: the URL is fetched again on the next crawl, as before).
OUTCOME_EVENTS = {"stored": "article", "duplicate": "article", "rejected": "rejected"}


def take_in(
    session: Session,
    item: PageItem,
    extraction: Extraction | None = None,
    *,
    policy: RefetchPolicy | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Everything a fetched page adds to the archive (the caller commits); with a ``policy``, the
    fetch state of the URL it was announced under too (when it is due again), as of ``now``."""
    result = ingest(session, item.doc, extraction)
    record_redirect(session, item, result)
    event = OUTCOME_EVENTS.get(result.outcome)
    url = fetched_url(item.link) or fetched_url(item.doc.url)
    if policy is not None and event is not None and url:
        doc = item.doc
        record_fetch(session, url, source=doc.source, event=event, at=now or doc.fetched_at or utcnow(),
                     policy=policy, announced=parse_announced(item.announced),
                     etag=header_value(doc.headers, "ETag"), last_modified=header_value(doc.headers, "Last-Modified"))
    return result


def take_not_modified(session: Session, item: NotModifiedItem, *, policy: RefetchPolicy, now: datetime) -> None:
    """A conditional re-fetch answered 304: the URL's schedule moves on (the caller commits)."""
    url = fetched_url(item.url) or item.url
    record_fetch(session, url, source=item.source, event="not_modified", at=now, policy=policy,
                 announced=parse_announced(item.announced))


def record_refused(session: Session, page: RefusedPage) -> list[int]:
    """Record an article page not taken (over the size bound) as a ``rejected`` document with its
    reason and no body, under the URL it was fetched from and the one it was announced under:
    settled, so the seen-URL check does not fetch it again (the caller commits)."""
    ids = []
    for url in dict.fromkeys(u for u in (fetched_url(page.url), fetched_url(page.link)) if u):
        document_id, _ = archive.add_document(session, url=url, raw=b"", source=page.source,
                                              fetched_at=page.fetched_at)
        archive.set_document_outcome(session, document_id, "rejected", reason=page.reason)
        ids.append(document_id)
    return ids


T = TypeVar("T")


async def settled(future: Future[T]) -> T:
    """Wait, on the reactor, for a future another thread completes."""
    from twisted.internet import reactor

    deferred: Deferred[T] = Deferred()

    def fire(done: Future[T]) -> None:
        error = done.exception()
        if error is not None:
            deferred.errback(error)
        else:
            deferred.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(fire, done))
    return await maybe_deferred_to_future(deferred)


class IngestPipeline:
    """Extract and store each fetched page: extraction in worker processes, writes in batches."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.workers = configured_workers(settings.get("AKHBAR_EXTRACT_WORKERS"))
        self.timeout = settings.getfloat("AKHBAR_EXTRACT_TIMEOUT", 30.0)
        self.pool: ExtractPool | None = None
        self.writer: ArchiveWriter | None = None
        self.places: DeferredSemaphore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        require_archive(crawler, "ingest pipeline")
        return cls(crawler)

    async def open_spider(self) -> None:
        if self.workers < 1:
            return
        settings = self.crawler.settings
        self.pool = ExtractPool(self.workers, self.timeout)
        self.places = DeferredSemaphore(self.pool.capacity)
        self.writer = ArchiveWriter(archive_engine(self.crawler), batch=settings.getint("AKHBAR_WRITE_BATCH", 50),
                                    wait=settings.getfloat("AKHBAR_WRITE_WAIT", 0.25))

    async def close_spider(self) -> None:
        """Every page is through by now (Scrapy waits for them): stop the workers and the writer."""
        if self.pool is not None:
            self.pool.close()
        if self.writer is not None:
            self.writer.close()
        self.pool = self.writer = self.places = None

    def policy(self) -> RefetchPolicy | None:
        """The crawled source's re-fetch policy (``None`` for a spider without a source)."""
        source = getattr(self.crawler.spider, "source", None)
        return source.refetch_policy if source is not None else None

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, NotModifiedItem):
            await self.not_modified(item)
            return item
        if isinstance(item, RefusedPage):
            await self.refuse(item)
            return item
        if not isinstance(item, PageItem):
            return item
        if self.pool is None or self.writer is None or self.places is None:
            self.take_in_now(item)
            return item
        if item.doc.fetched_at is None:
            item.doc.fetched_at = datetime.now(timezone.utc)
        await maybe_deferred_to_future(self.places.acquire())
        try:
            extraction = await settled(self.pool.submit(job_of(item.doc, item.doc.fetched_at)))
        finally:
            self.places.release()
        try:
            result = await settled(self.writer.submit(partial(take_in, item=item, extraction=extraction,
                                                              policy=self.policy(), now=self.now())))
        except Exception as exc:  # noqa: BLE001 - one bad page never stops the crawl
            self.store_failed(item, exc)
        else:
            self.tell(item, result)
        return item

    async def refuse(self, page: RefusedPage) -> None:
        """Record a page not taken (:func:`record_refused`), counted ``articles_rejected``."""
        try:
            if self.writer is not None:
                await settled(self.writer.submit(partial(record_refused, page=page)))
            else:
                with Session(archive_engine(self.crawler)) as session:
                    record_refused(session, page)
                    session.commit()
        except Exception as exc:  # noqa: BLE001 - one bad page never stops the crawl
            log.warning("could not record %s as rejected: %s", page.url, unexpected_reason(exc))
            count(self.crawler, "errors/store")
            lose(self.crawler, f"{page.url}: could not record it as rejected ({unexpected_reason(exc)})")
            return
        count(self.crawler, "articles_rejected")

    def take_in_now(self, item: PageItem) -> None:
        """Extract and store one page here, with a commit of its own."""
        with Session(archive_engine(self.crawler)) as session:
            try:
                result = take_in(session, item, policy=self.policy(), now=self.now())
                session.commit()
            except Exception as exc:  # noqa: BLE001 - one bad page never stops the crawl
                session.rollback()
                self.store_failed(item, exc)
                return
        self.tell(item, result)

    def now(self) -> datetime | None:
        """The re-fetch clock when ``AKHBAR_NOW`` sets it; ``None``: each page's fetch time."""
        return crawl_now(self.crawler) if self.crawler.settings.get("AKHBAR_NOW") else None

    async def not_modified(self, item: NotModifiedItem) -> None:
        """Record a 304 of a re-fetch (no document, no extraction)."""
        policy = self.policy()
        if policy is None:
            return
        work = partial(take_not_modified, item=item, policy=policy, now=crawl_now(self.crawler))
        try:
            if self.writer is not None:
                await settled(self.writer.submit(work))
            else:
                with Session(archive_engine(self.crawler)) as session:
                    work(session)
                    session.commit()
        except Exception as exc:  # noqa: BLE001 - the schedule does not move: it is asked again, no loss
            log.warning("could not record the 304 of %s: %s", item.url, unexpected_reason(exc))
            count(self.crawler, "errors/store")

    def store_failed(self, item: PageItem, exc: BaseException) -> None:
        log.warning("could not store %s: %s", item.doc.url, unexpected_reason(exc))
        log.debug("traceback of the failure to store %s", item.doc.url, exc_info=exc)
        count(self.crawler, "errors/store")
        lose(self.crawler, f"{item.doc.url}: could not store ({unexpected_reason(exc)})")

    def tell(self, item: PageItem, result: IngestResult) -> None:
        """Count the page's outcome and say what became of it when it is not an article."""
        count(self.crawler, OUTCOME_COUNTERS[result.outcome])
        if result.outcome == "rejected":
            log.info("not an article: %s (%s)", item.doc.url, result.reason)
        elif result.outcome == "error":
            log.warning("could not extract %s: %s", item.doc.url, result.reason)


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
