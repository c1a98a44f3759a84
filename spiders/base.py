"""What every akhbar spider shares: the source, article requests and pages, failures.

Spiders yield requests and items only; they read nothing from the archive.  What the archive
decides (already seen? changed since the last good run?) is the crawl's spider middlewares'
(:mod:`crawler.middlewares`), from the marks the spiders put in ``request.meta``
(:mod:`crawler.items`).
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UsageError,
)
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from crawler.capture.document import RawDocument
from crawler.capture.warc import headers_dict
from crawler.core.decode import DecodeError, decode_html, header_value
from crawler.core.discovery import DiscoveryError
from crawler.core.errors import AkhbarError
from crawler.core.sources import Source, SourcesError, load_sources
from crawler.counters import UNFETCHED, count
from crawler.items import (
    ANNOUNCED_KEY,
    ARTICLE_KEY,
    CONDITIONAL_KEY,
    FEED_DATE_KEY,
    START_KEY,
    WARC_KEY,
    NotModifiedItem,
    PageItem,
    RefusedPage,
    ValidatorItem,
)

log = logging.getLogger(__name__)


def load_source(source: Source | str, sources_file: str | None) -> Source:
    """A :class:`Source` object as is, or the source called ``source`` in the sources file."""
    if isinstance(source, Source):
        return source
    path = sources_file or "sources.toml"
    found = [s for s in load_sources(path) if s.name == source]
    if not found:
        raise SourcesError(f"{path}: no source named {source!r}")
    return found[0]


#: Why a page failed that asking again would not change: gone, forbidden, too large, off the source.
FINAL_KINDS = frozenset({"http_404", "http_410", "http_451", "robots_disallowed", "too_large", "offsite_redirect"})


def _over_max_size(exc: BaseException) -> bool:
    """Whether the download was stopped at ``download_maxsize`` (on the wire, or decompressing)."""
    text = str(exc).lower()
    return isinstance(exc, (DownloadCancelledError, CancelledError, IgnoreRequest)) and (
        "max size" in text or "download_maxsize" in text)


def too_large_reason(limit: object) -> str:
    """The reason recorded for a page over the size bound ``limit`` (bytes): ``too large: over 5 MB``."""
    try:
        size = int(limit)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "too large"
    mib = 1024 * 1024
    return f"too large: over {size // mib} MB" if size >= mib and size % mib == 0 else f"too large: over {size} bytes"


def error_kind(failure: Failure) -> str:
    """A short name for why a request failed: ``http_404``, ``timeout``, ``dns``, ``robots_disallowed``..."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if exc is not None and _over_max_size(exc):
        return "too_large"
    if isinstance(exc, IgnoreRequest) and str(exc).startswith("offsite redirect"):
        return "offsite_redirect"
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
        self.source: Source = self.source_argument(source, sources)
        self.db = db
        self.warc_dir = warc_dir
        self.run_id = int(run_id) if run_id not in (None, "") else None
        self.trigger = trigger
        self.since = datetime.fromisoformat(since) if isinstance(since, str) else since
        self.allowed_domains = list(self.source.allowed_domains)
        self.first_error: str | None = None

    @classmethod
    def source_argument(cls, source: Source | str | None, sources: str | None) -> Source:
        """The source a spider was given (``-a source=NAME [-a sources=FILE]``); ``UsageError``,
        one line, when it is missing or not in the sources file."""
        if source is None or source == "":
            raise UsageError(f"spider {cls.name}: give the source to crawl: -a source=NAME")
        try:
            return load_source(source, sources)
        except AkhbarError as exc:
            raise UsageError(f"spider {cls.name}: {exc}") from exc

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

    def validators(self, response: Response) -> Iterator[ValidatorItem]:
        """The read feed/sitemap's validators, for the next crawl's conditional GET (stored by the
        validator pipeline if this crawl finishes cleanly)."""
        key = response.meta.get(CONDITIONAL_KEY)
        if not key or response.status != 200:
            return
        yield ValidatorItem(key, header_value(response.headers, "ETag") or None,
                            header_value(response.headers, "Last-Modified") or None)

    def decoded(self, response: Response) -> Response | None:
        """``response`` read with the encoding :func:`crawler.core.decode.decode_html` finds (a
        declared charset is evidence, not the truth); ``None`` when it is not text (counted)."""
        try:
            found = decode_html(response.body, headers_dict(response.headers))
        except DecodeError as exc:
            self.bad_document(response, str(exc))
            return None
        return response.replace(cls=HtmlResponse, encoding=found.encoding)

    # -- articles -----------------------------------------------------------------------------
    def article_requests(self, links: Iterable[tuple[str, str | None, str | None]]) -> Iterator[scrapy.Request]:
        """Requests for the announced (link, feed date, announcement date) triples that are allowed,
        marked as article requests (``meta[ARTICLE_KEY]``: the seen-URL middleware drops those already
        archived unless they are due again) with the date the entry was last changed
        (``meta[ANNOUNCED_KEY]``: sitemap lastmod, feed updated; it makes a seen URL be fetched again
        when it is newer than the archive knows).

        Each link is canonicalised first (:meth:`Source.allowed_url`).
        """
        for link, feed_date, announced in links:
            url = self.source.allowed_url(link)
            if url is None:
                count(self.crawler, "skipped_offsite")
                continue
            yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error,
                                 meta={ARTICLE_KEY: True, FEED_DATE_KEY: feed_date, ANNOUNCED_KEY: announced})

    def parse_article(self, response: Response) -> Iterator[PageItem | NotModifiedItem]:
        first = response.meta.get("redirect_urls") or [response.request.url if response.request else None]
        if response.status == 304:  # a conditional re-fetch: the page did not change
            yield NotModifiedItem(first[0] or response.url, self.source.name, response.meta.get(ANNOUNCED_KEY))
            return
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
        yield PageItem(doc, link=first[0], announced=response.meta.get(ANNOUNCED_KEY))

    def read_document(self, response: Response, parse: Any, what: str) -> Any:
        """Parse a feed or sitemap answer with ``parse``; ``None`` for a 304 (nothing changed) or an
        unreadable document (counted).  A readable one's validators go on with :meth:`validators`."""
        if response.status == 304:
            self.started(response)
            return None
        try:
            parsed = parse(response.body, response.url)
        except DiscoveryError as exc:
            self.bad_document(response, f"not a {what} ({exc})")
            return None
        self.started(response)
        return parsed

    # -- failures and the end -----------------------------------------------------------------
    def on_error(self, failure: Failure) -> list[RefusedPage] | None:
        """Count a failed request by kind; a failed start URL also counts towards a failed run.
        An article page over the size bound is no error but a verdict: a :class:`RefusedPage`
        (recorded ``rejected``, counted ``articles_rejected`` by the ingest pipeline)."""
        kind = error_kind(failure)
        request = getattr(failure, "request", None)
        if kind == "too_large" and request is not None and request.meta.get(ARTICLE_KEY):
            return [self.refused(request, too_large_reason(request.meta.get("download_maxsize")))]
        count(self.crawler, f"errors/{kind}")
        url = request.url if request is not None else "?"
        if request is not None and request.meta.get(ARTICLE_KEY) and kind not in FINAL_KINDS:
            count(self.crawler, UNFETCHED)  # worth asking again next time
        if request is not None and request.meta.get(START_KEY):
            count(self.crawler, "start_failed")
            if self.first_error is None:
                self.first_error = f"{url}: {kind} ({str(failure.value).splitlines()[0] if str(failure.value) else ''})"
        log.info("failed: %s (%s)", url, kind)
        return None

    def refused(self, request: scrapy.Request, reason: str) -> RefusedPage:
        """The record of an article page not taken (``reason``), fetched from ``request``."""
        log.info("not taken: %s (%s)", request.url, reason)
        first = request.meta.get("redirect_urls") or [request.url]
        return RefusedPage(request.url, reason, self.source.name, datetime.now(timezone.utc), link=first[0])

    def bad_document(self, response: Response, problem: str) -> None:
        """A feed/sitemap/listing that answered but could not be read."""
        count(self.crawler, "errors/unreadable")
        if response.meta.get(START_KEY):
            count(self.crawler, "start_failed")
            if self.first_error is None:
                self.first_error = f"{response.url}: {problem}"
        log.warning("unreadable %s: %s", response.url, problem)
