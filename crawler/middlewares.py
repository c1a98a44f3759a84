"""Scrapy middlewares of akhbar's crawl: retries that wait, conditional GET, raw capture, archive filters.

* :class:`BackoffRetryMiddleware` - Scrapy's RetryMiddleware, but the retried request waits
  first: exponential backoff, and at least as long as the server's ``Retry-After`` says
  (:func:`retry_delay`, a pure helper).  The retry is handed back at once, marked with the time
  it is due (``meta[NOT_BEFORE_KEY]``), and the crawl's scheduler
  (:class:`crawler.retrywait.RetryWaitScheduler`) holds it until then: the wait holds none of
  the downloader's request slots.
* :class:`ConditionalGetMiddleware` - sends the stored ``ETag`` / ``Last-Modified`` of a feed
  or sitemap back as ``If-None-Match`` / ``If-Modified-Since``.
* :class:`OffsiteRedirectMiddleware` - a redirect that leaves the source's allowed domains is not
  followed, whatever the request (Scrapy's offsite check lets start requests through).
* :class:`PageSizeMiddleware` - article pages larger than ``AKHBAR_MAX_PAGE_BYTES`` (decompressed)
  are cut off in the download (Scrapy's ``download_maxsize``, which its HttpCompressionMiddleware
  applies while it decompresses: a gzip bomb stops at the bound), and recorded ``rejected``.
* :class:`WarcCaptureMiddleware` - writes every response (and its request) to WARC as it came
  over the wire, counts pages and bytes, and tells the spider where the record lies.
* :class:`SeenUrlMiddleware` (spider middleware) - drops the article requests (``meta[ARTICLE_KEY]``)
  whose URL the archive has already, unless it is to be fetched again (:mod:`crawler.core.refetch`:
  announced newer, due on the source's schedule, a rejected page's retry; such a request is made
  conditional on the page's stored validators), a few queries per page read; and a listing's next
  page when every article of its page was archived already.
* :class:`LastRunMiddleware` (spider middleware) - drops child sitemaps (``meta[LASTMOD_KEY]``)
  not modified since the source's last good run.
* :class:`ErrorLogMiddleware` (spider middleware) - an unexpected exception in a spider callback
  is one WARNING line, a run error by kind and a loss (what the callback had still to yield is
  gone: the run is not ``ok`` and keeps no validators); its traceback is logged at DEBUG only.

The archive is reached through :func:`crawler.extensions.archive_engine`; the components that need
it are not configured when the crawl has none.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from scrapy.utils.url import url_is_from_any_domain
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from twisted.internet import task, threads

from crawler.capture.warc import WarcWriter
from crawler.core.decode import header_value
from crawler.core.discovery import entries_since
from crawler.core.extractor import MAX_PAGE_BYTES  # the default of AKHBAR_MAX_PAGE_BYTES: the extractor's own bound
from crawler.core.refetch import (
    FetchState,
    announced_newer,
    announcements_credible,
    parse_announced,
    refetch_reason,
)
from crawler.counters import count, lose
from crawler.extensions import archive_engine, crawl_now, require_archive
from crawler.ingest import unexpected_reason
from crawler.items import (
    ANNOUNCED_KEY, ARTICLE_KEY, CONDITIONAL_KEY, LASTMOD_KEY, NOT_BEFORE_KEY, PAGING_KEY, REFETCH_KEY, WARC_KEY,
)
from crawler.retrywait import RetryWaitScheduler
from storage.archive import seen_urls
from storage.db import resolve_url
from storage.refetch import UrlRow, fetch_state, url_states
from storage.runs import last_ok_start
from storage.validators import conditional_headers, get_validator

__all__ = [
    "CONDITIONAL_KEY", "WARC_KEY", "BackoffRetryMiddleware", "ConditionalGetMiddleware", "ErrorLogMiddleware",
    "LastRunMiddleware", "OffsiteRedirectMiddleware", "PageSizeMiddleware", "SeenUrlMiddleware", "WarcCaptureMiddleware", "default_warc_dir", "parse_retry_after",
    "retry_delay",
]

log = logging.getLogger(__name__)


# --- waiting before a retry (pure) ---------------------------------------------------------

#: How often a retry's backoff looks whether the crawl is being stopped.
_STOP_CHECK_SECONDS = 0.25


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date); ``None`` if absent
    or unreadable.  A date in the past means 0."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a year past C's long
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def retry_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = 2.0,
    cap: float = 120.0,
    retry_after_cap: float = 600.0,
) -> float:
    """How long to wait before retry number ``attempt`` (1 for the first retry).

    Exponential backoff ``base * 2**(attempt-1)`` up to ``cap``; a server's ``Retry-After``
    (seconds) is honoured as a minimum, up to ``retry_after_cap`` (a site asking for hours is
    not waited for inside one crawl: it is tried again at the next run).
    """
    backoff = min(cap, base * 2 ** max(0, attempt - 1))
    if retry_after is None or math.isnan(retry_after):
        return backoff
    return max(backoff, min(max(0.0, retry_after), retry_after_cap))


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware whose retries wait (:func:`retry_delay`) instead of going out at once.

    A retry that goes back through the scheduler is marked ``meta[NOT_BEFORE_KEY]`` and returned
    at once (the scheduler holds it: :mod:`crawler.retrywait`).  Two kinds wait here instead,
    on a reactor timer: a request fetched around the scheduler (``callback=NO_CALLBACK``, as
    robots.txt: ``engine.download_async`` sends a returned request straight out again), and any
    retry when the crawl's ``SCHEDULER`` is not a :class:`RetryWaitScheduler`.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("AKHBAR_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("AKHBAR_RETRY_BACKOFF_MAX", 120.0)
        self.retry_after_cap = settings.getfloat("AKHBAR_RETRY_AFTER_MAX", 600.0)
        scheduler = settings.get("SCHEDULER")
        self.scheduler_waits = bool(scheduler) and _is_retry_wait_scheduler(scheduler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, parse_retry_after(header_value(response.headers, "Retry-After")))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, retry_after: float | None) -> None:
        attempt = int(retry.meta.get("retry_times", 1))
        delay = retry_delay(attempt, retry_after, base=self.base, cap=self.cap, retry_after_cap=self.retry_after_cap)
        count(self.crawler, "retries")
        if self.scheduler_waits and retry.callback is not NO_CALLBACK:
            retry.meta[NOT_BEFORE_KEY] = time.time() + delay  # the scheduler holds it; this slot is free now
            return
        await self._sleep(delay)
        if not self.crawler.crawling:  # stopping: a retry now would only hold up the shutdown
            raise IgnoreRequest(f"crawl stopping: retry of {retry.url} dropped")

    async def _sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, or less when the crawl is stopped meanwhile (SIGTERM, a time limit):
        a backoff of up to minutes must not keep a stopping crawl alive until it is killed."""
        # Imported here on purpose: importing the reactor at module level would install Twisted's
        # default reactor before Scrapy installs the one TWISTED_REACTOR names.
        from twisted.internet import reactor

        end = time.monotonic() + delay
        while self.crawler.crawling and (left := end - time.monotonic()) > 0:
            await maybe_deferred_to_future(task.deferLater(reactor, min(left, _STOP_CHECK_SECONDS), lambda: None))


def _is_retry_wait_scheduler(path_or_class: Any) -> bool:
    """Whether the ``SCHEDULER`` setting names a scheduler that holds a request until its
    ``NOT_BEFORE_KEY`` time: :class:`RetryWaitScheduler`, or one that says so with ``waits_for_due``
    (the distributed crawl's, which keeps waiting retries in redis)."""
    try:
        scheduler = load_object(path_or_class) if isinstance(path_or_class, str) else path_or_class
    except (ImportError, NameError, ValueError, AttributeError):
        return False
    if not isinstance(scheduler, type):
        return False
    return issubclass(scheduler, RetryWaitScheduler) or bool(getattr(scheduler, "waits_for_due", False))


# --- conditional GET -----------------------------------------------------------------------

class ConditionalGetMiddleware:
    """Adds ``If-None-Match`` / ``If-Modified-Since`` to requests marked ``meta[CONDITIONAL_KEY]``.

    The validators are stored by :class:`crawler.pipelines.ValidatorPipeline` once the crawl finished
    cleanly (so a crawl killed before it fetched a feed's articles does not make the next crawl skip
    that feed).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        require_archive(crawler, "conditional GET")
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        key = request.meta.get(CONDITIONAL_KEY)
        if not key or "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            return None
        with Session(archive_engine(self.crawler)) as session:
            headers = conditional_headers(get_validator(session, key))
        for name, value in headers.items():
            request.headers[name] = value
        return None


# --- redirects ---------------------------------------------------------------------------------


class OffsiteRedirectMiddleware:
    """Drops a redirected request (``meta["redirect_urls"]``) whose host is not one of the spider's
    ``allowed_domains`` (or a subdomain): feeds, sitemaps and listings given in the sources file
    too, which Scrapy's own offsite check lets through (they are ``dont_filter``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        domains = getattr(self.crawler.spider, "allowed_domains", None)
        if request.meta.get("redirect_urls") and domains and not url_is_from_any_domain(request.url, domains):
            raise IgnoreRequest(f"offsite redirect to {request.url} (not in the source's allowed_domains)")
        return None


# --- page size -------------------------------------------------------------------------------



class PageSizeMiddleware:
    """Gives article requests (``meta[ARTICLE_KEY]``) the download bound ``AKHBAR_MAX_PAGE_BYTES``; feeds
    and sitemaps keep ``DOWNLOAD_MAXSIZE`` (a sitemap may be tens of MB).  A page over the bound fails
    its request (declared, on the wire, or while it is decompressed); the spider's errback makes it a
    :class:`crawler.items.RefusedPage`, recorded ``rejected`` without its body by the ingest pipeline."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageSizeMiddleware:
        return cls(crawler.settings.getint("AKHBAR_MAX_PAGE_BYTES", MAX_PAGE_BYTES))

    def process_request(self, request: Request) -> None:
        if request.meta.get(ARTICLE_KEY) and "download_maxsize" not in request.meta:
            request.meta["download_maxsize"] = self.max_bytes
            request.meta.setdefault("download_warnsize", self.max_bytes // 2)
        return None


# --- raw capture -----------------------------------------------------------------------------

def default_warc_dir(db_url: str | None) -> str:
    """``warc/`` beside a SQLite archive file; ``./warc`` for any other database."""
    parsed = make_url(resolve_url(db_url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        return str(Path(parsed.database).expanduser().resolve().parent / "warc")
    return str(Path("warc").resolve())


class WarcCaptureMiddleware:
    """Writes every response to WARC (setting ``AKHBAR_WARC_DIR``; gzip; rotated at
    ``AKHBAR_WARC_MAX_BYTES``) and counts pages fetched, 304s and bytes.

    Placed next to the downloader, so the body is stored as it came (content-encoding intact).
    Without ``AKHBAR_WARC_DIR``, the files go beside the archive (:func:`default_warc_dir`).
    """

    def __init__(self, crawler: Crawler, directory: Path, max_bytes: int) -> None:
        self.crawler = crawler
        source = crawler.settings.get("AKHBAR_SOURCE") or "crawl"
        self.writer = WarcWriter(directory, prefix=f"akhbar-{source}", max_bytes=max_bytes)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        directory = crawler.settings.get("AKHBAR_WARC_DIR") or default_warc_dir(crawler.settings.get("AKHBAR_DB"))
        max_bytes = crawler.settings.getint("AKHBAR_WARC_MAX_BYTES", 1_000_000_000)
        return cls(crawler, Path(directory).resolve(), max_bytes)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 304:
            count(self.crawler, "not_modified")
        else:
            count(self.crawler, "pages_fetched")
        count(self.crawler, "bytes", len(response.body))
        try:
            # gzip is the costly part: done on a thread (zlib lets go of the GIL), the reactor fetches on
            pointer = await maybe_deferred_to_future(threads.deferToThread(
                self.writer.write, response.url, response.status, response.headers, response.body,
                method=request.method, request_headers=request.headers,
            ))
        except OSError as exc:
            log.error("WARC write failed for %s: %s", response.url, exc)
            count(self.crawler, "errors/warc")
            return response
        request.meta[WARC_KEY] = pointer
        return response

    def spider_closed(self, spider: Spider) -> None:
        self.writer.close()


# --- the archive's filters (spider middlewares) ----------------------------------------------


class SeenUrlMiddleware:
    """Drops the article requests a callback yields whose URL the archive has already
    (:func:`storage.archive.seen_urls`: one batch per page read), counted ``skipped_seen``,
    unless its fetch state (:mod:`storage.refetch`) says it is to be fetched again
    (:func:`crawler.core.refetch.refetch_reason`, counted ``refetch/<reason>``): then it goes out
    conditional on the validators of its last article answer, and a 304 is passed to the spider.
    A URL seen before the archive kept fetch states has none and is not fetched again.

    A listing's next page (``meta[PAGING_KEY]``) is dropped too when its page had article links
    and all of them were archived already: the pages after it are older still.  Repeats within
    one run are Scrapy's dupefilter's.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenUrlMiddleware:
        require_archive(crawler, "seen-URL check")
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        yield from self.unseen(list(result))

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        for entry in self.unseen([entry async for entry in result]):
            yield entry

    def unseen(self, out: list[Any]) -> list[Any]:
        """``out`` (one callback's output) less what the archive has already."""
        articles = [r for r in out if isinstance(r, Request) and r.meta.get(ARTICLE_KEY)]
        if not articles:
            return out
        with Session(archive_engine(self.crawler)) as session:
            seen = seen_urls(session, (r.url for r in articles))
            rows = url_states(session, seen)
        states = {url: (row, fetch_state(row)) for url, row in rows.items()}
        nothing_new = all(r.url in seen for r in articles)
        now = crawl_now(self.crawler)
        announced = self.announcements(articles, states)
        kept = []
        for entry in out:
            if isinstance(entry, Request) and entry.meta.get(ARTICLE_KEY) and entry.url in seen:
                if self.again(entry, states.get(entry.url), announced.get(entry.url), now):
                    kept.append(entry)
                else:
                    count(self.crawler, "skipped_seen")
            elif not (isinstance(entry, Request) and entry.meta.get(PAGING_KEY) and nothing_new):
                kept.append(entry)
        return kept

    def announcements(self, articles: list[Request], states: dict[str, tuple[UrlRow, FetchState]]) -> dict[str, datetime]:
        """The announcement dates of the seen URLs among ``articles``, when they are believed
        (:func:`crawler.core.refetch.announcements_credible`; if not, counted ``refetch/stamped``)."""
        dates = {r.url: parse_announced(r.meta.get(ANNOUNCED_KEY)) for r in articles if r.url in states}
        known = {url: when for url, when in dates.items() if when is not None}
        newer = sum(announced_newer(when, states[url][1]) for url, when in known.items())
        if not announcements_credible(len(dates), newer):
            count(self.crawler, "refetch/stamped")
            return {}
        return known

    def again(self, request: Request, state: tuple[UrlRow, FetchState] | None, announced: datetime | None,
              now: datetime) -> bool:
        """Whether the seen URL of ``request`` is fetched again now; if so, the request is marked
        (``meta[REFETCH_KEY]``), made conditional, and told to pass a 304 on to the spider."""
        if state is None:
            return False
        row, facts = state
        reason = refetch_reason(facts, announced, now)
        if reason is None:
            return False
        count(self.crawler, f"refetch/{reason}")
        request.meta[REFETCH_KEY] = reason
        headers = conditional_headers(row)
        if headers:
            for name, value in headers.items():
                request.headers.setdefault(name, value)
            request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", []), 304]
        return True


#: Sitemap entries last modified this long before the last good run started are still read
#: (publishers' clocks and zones vary).
LASTMOD_MARGIN = timedelta(hours=24)


class LastRunMiddleware:
    """Drops the child sitemaps of an index (``meta[LASTMOD_KEY]``: their index entry) not modified
    since the start of the source's last run that ended ``ok``, less :data:`LASTMOD_MARGIN`;
    counted ``skipped_sitemaps``.  Asked of the archive once per crawl."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.since: datetime | None = None
        self.asked = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LastRunMiddleware:
        require_archive(crawler, "sitemap lastmod filter")
        return cls(crawler)

    def last_good_start(self, spider: Spider) -> datetime | None:
        if not self.asked:
            self.asked = True
            with Session(archive_engine(self.crawler)) as session:
                started = last_ok_start(session, spider.source.name)  # type: ignore[attr-defined]
            if started is not None:
                self.since = started.replace(tzinfo=timezone.utc) - LASTMOD_MARGIN
        return self.since

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        return (entry for entry in result if self.keep(entry))

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for entry in result:
            if self.keep(entry):
                yield entry

    def keep(self, entry: Any) -> bool:
        marked = entry.meta.get(LASTMOD_KEY) if isinstance(entry, Request) else None
        if marked is None:
            return True
        spider = self.crawler.spider
        since = self.last_good_start(spider) if spider is not None else None
        if since is not None and not entries_since([marked], since):
            count(self.crawler, "skipped_sitemaps")
            return False
        return True


class ErrorLogMiddleware:
    """An unexpected exception in a spider callback: one WARNING line, a run error by kind
    (``errors/<exception type>``), the traceback at DEBUG only; the crawl goes on."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ErrorLogMiddleware:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any] | None:
        if isinstance(exception, (HttpError, IgnoreRequest)):
            return None  # Scrapy's own, handled by its middlewares
        count(self.crawler, f"errors/{type(exception).__name__.lower()}")
        lose(self.crawler, f"{response.url}: {unexpected_reason(exception)}")
        log.warning("error reading %s: %s", response.url, unexpected_reason(exception))
        log.debug("traceback of the error reading %s", response.url, exc_info=exception)
        return []
