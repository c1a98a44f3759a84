"""What every akhbar spider shares: the source, the seen-URL check, article requests and pages."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy.orm import Session
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.core.decode import header_value
from crawler.core.discovery import DiscoveryError
from crawler.ingest import RawDocument
from crawler.items import PageItem
from crawler.middlewares import CONDITIONAL_KEY, WARC_KEY
from crawler.pipelines import archive_engine, count
from crawler.core.sources import Source, SourcesError, load_sources
from crawler.capture.warc import headers_dict

log = logging.getLogger(__name__)

#: Request meta keys the spiders use.
FEED_DATE_KEY = "akhbar_feed_date"
START_KEY = "akhbar_start"
#: Sitemap entries last modified this long before the last good run started are still read
#: (publishers' clocks and zones vary).
LASTMOD_MARGIN = timedelta(hours=24)


def load_source(source: Source | str, sources_file: str | None) -> Source:
    """A :class:`Source` object as is, or the source called ``source`` in the sources file."""
    if isinstance(source, Source):
        return source
    path = sources_file or "sources.toml"
    found = [s for s in load_sources(path) if s.name == source]
    if not found:
        raise SourcesError(f"{path}: no source named {source!r}")
    return found[0]


def default_warc_dir(db_url: str) -> str:
    """``warc/`` beside a SQLite archive file; ``./warc`` for any other database."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from storage.db import resolve_url

    parsed = make_url(resolve_url(db_url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        return str(Path(parsed.database).expanduser().resolve().parent / "warc")
    return str(Path("warc").resolve())


def error_kind(failure: Failure) -> str:
    """A short name for why a request failed: ``http_404``, ``timeout``, ``dns``, ``robots_disallowed``..."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        return "robots_disallowed" if "robots" in str(exc).lower() else "ignored"
    if isinstance(exc, (DNSLookupError, CannotResolveHostError)):
        return "dns"
    if isinstance(exc, (TimeoutError, TCPTimedOutError, DownloadTimeoutError)):
        return "timeout"
    if isinstance(exc, (ConnectionRefusedError, DownloadConnectionRefusedError)):
        return "connection_refused"
    if isinstance(exc, ResponseDataLossError):
        return "data_loss"
    if isinstance(exc, (ConnectError, DownloadFailedError)):
        return "connection"
    return type(exc).__name__.lower()


class AkhbarSpider(scrapy.Spider):
    """Base of the generic spiders.  ``ways`` says which of the source's URLs a spider starts from.

    Spider arguments: ``source`` (a name, or a :class:`Source` when run from Python),
    ``sources`` (the sources file; default ``sources.toml``), ``db``, ``warc_dir``, ``run_id``,
    ``trigger``, ``since`` (ISO date: sitemap entries older than it are skipped).
    """

    ways: tuple[str, ...] = ()

    def __init__(
        self,
        source: Source | str | None = None,
        sources: str | None = None,
        db: str | None = None,
        warc_dir: str | None = None,
        run_id: int | str | None = None,
        trigger: str = "manual",
        since: str | datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is None:
            raise ValueError(f"spider {self.name}: give -a source=NAME")
        self.source: Source = load_source(source, sources)
        self.db = db
        self.warc_dir = warc_dir
        self.run_id = int(run_id) if run_id not in (None, "") else None
        self.trigger = trigger
        self.since = datetime.fromisoformat(since) if isinstance(since, str) else since
        self.allowed_domains = list(self.source.allowed_domains)
        self.first_error: str | None = None
        self._validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> AkhbarSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if settings.frozen:  # settings applied already (e.g. a test's crawler): nothing to carry over
            return spider
        if spider.db:
            settings.set("AKHBAR_DB", spider.db, priority="spider")
        if spider.warc_dir:
            settings.set("AKHBAR_WARC_DIR", spider.warc_dir, priority="spider")
        if not settings.get("AKHBAR_WARC_DIR"):
            settings.set("AKHBAR_WARC_DIR", default_warc_dir(settings.get("AKHBAR_DB")), priority="spider")
        if spider.run_id is not None:
            settings.set("AKHBAR_RUN_ID", spider.run_id, priority="spider")
        settings.set("AKHBAR_SOURCE", spider.source.name, priority="spider")
        settings.set("AKHBAR_TRIGGER", spider.trigger, priority="spider")
        return spider

    # -- starting ---------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests_for_ways():
            yield request

    def start_requests_for_ways(self) -> Iterator[scrapy.Request]:
        """The first requests: feeds, sitemaps, listing pages, as ``ways`` says."""
        if "feeds" in self.ways:
            for url in self.source.feeds:
                yield self.discovery_request(url, self.parse_feed, start=True)  # type: ignore[attr-defined]
        if "sitemaps" in self.ways:
            for url in self.source.sitemaps:
                yield self.discovery_request(url, self.parse_sitemap, start=True)  # type: ignore[attr-defined]
        if "listings" in self.ways:
            for index, listing in enumerate(self.source.listings):
                yield self.listing_request(listing.url, index, 1, start=True)  # type: ignore[attr-defined]

    def discovery_request(self, url: str, callback: Any, *, start: bool = False) -> scrapy.Request:
        """A conditional GET of a feed or sitemap (a 304 reaches ``callback`` too)."""
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=start,
            meta={CONDITIONAL_KEY: url, "handle_httpstatus_list": [304], START_KEY: start},
        )

    def started(self, response: Response) -> None:
        """Count a start URL that answered usably."""
        if response.meta.get(START_KEY):
            count(self.crawler, "start_ok")

    def keep_validators(self, response: Response) -> None:
        """Remember the feed/sitemap's validators, stored if the crawl finishes cleanly."""
        key = response.meta.get(CONDITIONAL_KEY)
        if not key or response.status != 200:
            return
        self._validators[key] = (
            header_value(response.headers, "ETag") or None,
            header_value(response.headers, "Last-Modified") or None,
        )

    # -- articles -----------------------------------------------------------------------------
    def article_requests(self, links: Iterable[tuple[str, str | None]]) -> Iterator[scrapy.Request]:
        """Requests for the announced (link, feed date) pairs that are allowed and not yet in the archive.

        Each link is canonicalised first (:meth:`Source.allowed_url`); the seen-URL check is the
        archive's (:func:`storage.archive.seen_urls`), a few queries for the whole batch.
        Repeats within one run are Scrapy's dupefilter's.
        """
        from storage.archive import seen_urls

        allowed: list[tuple[str, str | None]] = []
        for link, feed_date in links:
            url = self.source.allowed_url(link)
            if url is None:
                count(self.crawler, "skipped_offsite")
            else:
                allowed.append((url, feed_date))
        with Session(archive_engine(self.crawler)) as session:
            seen = seen_urls(session, (url for url, _ in allowed))
        for url, feed_date in allowed:
            if url in seen:
                count(self.crawler, "skipped_seen")
                continue
            yield scrapy.Request(
                url, callback=self.parse_article, errback=self.on_error, meta={FEED_DATE_KEY: feed_date}
            )

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        pointer = response.meta.get(WARC_KEY)
        doc = RawDocument(
            data=response.body,
            url=response.url,
            headers=headers_dict(response.headers),
            status=response.status,
            fetched_at=datetime.now(timezone.utc),
            source=self.source.name,
            timezone=self.source.timezone,
            locale=self.source.locale,
            feed_date=response.meta.get(FEED_DATE_KEY),
            warc_path=pointer.path if pointer else None,
            warc_offset=pointer.offset if pointer else None,
            warc_length=pointer.length if pointer else None,
        )
        first = response.meta.get("redirect_urls") or [response.request.url if response.request else None]
        yield PageItem(doc, link=first[0])

    def read_document(self, response: Response, parse: Any, what: str) -> Any:
        """Parse a feed or sitemap answer with ``parse``; ``None`` for a 304 (nothing changed) or an
        unreadable document (counted).  A readable one's validators are kept for the next crawl."""
        if response.status == 304:
            self.started(response)
            return None
        try:
            parsed = parse(response.body, response.url)
        except DiscoveryError as exc:
            self.bad_document(response, f"not a {what} ({exc})")
            return None
        self.started(response)
        self.keep_validators(response)
        return parsed

    # -- failures and the end -----------------------------------------------------------------
    def on_error(self, failure: Failure) -> None:
        """Count a failed request by kind; a failed start URL also counts towards a failed run."""
        kind = error_kind(failure)
        count(self.crawler, f"errors/{kind}")
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if request is not None and request.meta.get(START_KEY):
            count(self.crawler, "start_failed")
            if self.first_error is None:
                self.first_error = f"{url}: {kind} ({str(failure.value).splitlines()[0] if str(failure.value) else ''})"
        log.info("failed: %s (%s)", url, kind)

    def bad_document(self, response: Response, problem: str) -> None:
        """A feed/sitemap/listing that answered but could not be read."""
        count(self.crawler, "errors/unreadable")
        if response.meta.get(START_KEY):
            count(self.crawler, "start_failed")
            if self.first_error is None:
                self.first_error = f"{response.url}: {problem}"
        log.warning("unreadable %s: %s", response.url, problem)

    def closed(self, reason: str) -> None:
        """Store the validators of the feeds and sitemaps read, if the crawl finished cleanly."""
        if reason != "finished" or not self._validators:
            return
        from storage.validators import save_validator

        with Session(archive_engine(self.crawler)) as session:
            for url, (etag, modified) in self._validators.items():
                save_validator(session, url, etag=etag, last_modified=modified)
            session.commit()


def lastmod_since(spider: AkhbarSpider) -> datetime | None:
    """Sitemap entries last modified before this are skipped: the ``since`` argument, else the start
    of the source's last run that ended ``ok`` less :data:`LASTMOD_MARGIN`."""
    if spider.since is not None:
        return spider.since
    from storage.runs import last_ok_start

    with Session(archive_engine(spider.crawler)) as session:
        started = last_ok_start(session, spider.source.name)
    if started is None:
        return None
    return started.replace(tzinfo=timezone.utc) - LASTMOD_MARGIN
