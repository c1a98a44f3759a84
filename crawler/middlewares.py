"""Scrapy components of akhbar's crawl: retries that wait, conditional GET, raw capture, run record.

* :class:`BackoffRetryMiddleware` - Scrapy's RetryMiddleware, but the retried request waits
  first: exponential backoff, and at least as long as the server's ``Retry-After`` says
  (:func:`retry_delay`, a pure helper).  The wait is a reactor timer, never ``time.sleep``.
* :class:`ConditionalGetMiddleware` - sends the stored ``ETag`` / ``Last-Modified`` of a feed
  or sitemap back as ``If-None-Match`` / ``If-Modified-Since``.
* :class:`WarcCaptureMiddleware` - writes every response (and its request) to WARC as it came
  over the wire, counts pages and bytes, and tells the spider where the record lies.
* :class:`RunRecorder` (an extension) - the ``crawl_runs`` row: heartbeat with the counters
  every few seconds, and the outcome at the end.
"""
from __future__ import annotations

import logging
import math
import os
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.orm import Session
from twisted.internet import task

from crawler.core.decode import header_value
from crawler.pipelines import archive_engine, count, counters
from crawler.capture.warc import WarcWriter

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
    except (TypeError, ValueError, IndexError):
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
    """RetryMiddleware whose retries wait (:func:`retry_delay`) instead of going out at once."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("AKHBAR_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("AKHBAR_RETRY_BACKOFF_MAX", 120.0)
        self.retry_after_cap = settings.getfloat("AKHBAR_RETRY_AFTER_MAX", 600.0)

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
        await self._sleep(delay)
        if not self.crawler.crawling:  # stopping: a retry now would only hold up the shutdown
            raise IgnoreRequest(f"crawl stopping: retry of {retry.url} dropped")

    async def _sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, or less when the crawl is stopped meanwhile (SIGTERM, a time limit):
        a backoff of up to minutes must not keep a stopping crawl alive until it is killed."""
        from twisted.internet import reactor

        end = time.monotonic() + delay
        while self.crawler.crawling and (left := end - time.monotonic()) > 0:
            await maybe_deferred_to_future(task.deferLater(reactor, min(left, _STOP_CHECK_SECONDS), lambda: None))


# --- conditional GET -----------------------------------------------------------------------

#: Request meta key: the feed/sitemap URL whose stored validators make this request conditional.
CONDITIONAL_KEY = "akhbar_conditional"


class ConditionalGetMiddleware:
    """Adds ``If-None-Match`` / ``If-Modified-Since`` to requests marked ``meta[CONDITIONAL_KEY]``.

    The validators are stored by the spider once the crawl finished cleanly (so a crawl killed
    before it fetched a feed's articles does not make the next crawl skip that feed).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        key = request.meta.get(CONDITIONAL_KEY)
        if not key or "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            return None
        from storage.validators import conditional_headers, get_validator

        with Session(archive_engine(self.crawler)) as session:
            headers = conditional_headers(get_validator(session, key))
        for name, value in headers.items():
            request.headers[name] = value
        return None


# --- raw capture -----------------------------------------------------------------------------

#: Request meta key under which the WARC pointer of the response is left for the spider.
WARC_KEY = "akhbar_warc"


class WarcCaptureMiddleware:
    """Writes every response to WARC (setting ``AKHBAR_WARC_DIR``; gzip; rotated at
    ``AKHBAR_WARC_MAX_BYTES``) and counts pages fetched, 304s and bytes.

    Placed next to the downloader, so the body is stored as it came (content-encoding intact).
    """

    def __init__(self, crawler: Crawler, directory: Path, max_bytes: int) -> None:
        self.crawler = crawler
        source = crawler.settings.get("AKHBAR_SOURCE") or "crawl"
        self.writer = WarcWriter(directory, prefix=f"akhbar-{source}", max_bytes=max_bytes)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        directory = crawler.settings.get("AKHBAR_WARC_DIR")
        if not directory:
            raise NotConfigured("AKHBAR_WARC_DIR not set")
        max_bytes = crawler.settings.getint("AKHBAR_WARC_MAX_BYTES", 1_000_000_000)
        return cls(crawler, Path(directory).resolve(), max_bytes)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 304:
            count(self.crawler, "not_modified")
        else:
            count(self.crawler, "pages_fetched")
        count(self.crawler, "bytes", len(response.body))
        try:
            pointer = self.writer.write(
                response.url,
                response.status,
                response.headers,
                response.body,
                method=request.method,
                request_headers=request.headers,
            )
        except OSError as exc:
            log.error("WARC write failed for %s: %s", response.url, exc)
            count(self.crawler, "errors/warc")
            return response
        request.meta[WARC_KEY] = pointer
        return response

    def spider_closed(self, spider: Spider) -> None:
        self.writer.close()


# --- the run record --------------------------------------------------------------------------


def run_outcome(reason: str, start_ok: int, start_failed: int) -> str:
    """The ``crawl_runs.outcome`` of a spider that closed for ``reason``.

    ``interrupted`` after a shutdown (SIGTERM/SIGINT); ``failed`` when no start URL (feed,
    sitemap, listing) could be read at all; ``ok`` otherwise, even if some pages failed.
    """
    if reason == "shutdown":
        return "interrupted"
    if start_ok == 0 and start_failed > 0:
        return "failed"
    if reason in ("finished",) or reason.startswith("closespider"):
        return "ok"
    return "failed"


class RunRecorder:
    """Keeps the crawl's ``crawl_runs`` row current: adopts ``AKHBAR_RUN_ID`` (recording this
    process's pid on it) or creates a row, bumps ``heartbeat_at`` with the counters every
    ``AKHBAR_HEARTBEAT_SECONDS`` (default :data:`storage.runs.HEARTBEAT_SECONDS`), finishes it."""

    def __init__(self, crawler: Crawler) -> None:
        from storage.runs import HEARTBEAT_SECONDS

        self.crawler = crawler
        self.interval = crawler.settings.getfloat("AKHBAR_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
        self.run_id: int | None = None
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        if getattr(spider, "source", None) is None:
            return
        from storage.runs import start_run

        given = self.crawler.settings.get("AKHBAR_RUN_ID")
        if given:
            self.run_id = int(given)
            self.adopt()
        else:
            with Session(archive_engine(self.crawler)) as session:
                self.run_id = start_run(
                    session, spider.source.name, trigger=self.crawler.settings.get("AKHBAR_TRIGGER", "manual")
                )
                session.commit()
        spider.run_id = self.run_id  # type: ignore[attr-defined]
        self.beat()
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(self.interval, now=False)

    def adopt(self) -> None:
        """Record this process on the adopted run, so the dead-run check watches the crawl itself
        (the scheduler records its child's pid too, but that write may have failed, and the child
        is another process when the crawl command is a wrapper)."""
        from storage.runs import set_run_pid

        try:
            with Session(archive_engine(self.crawler)) as session:
                set_run_pid(session, self.run_id, os.getpid())  # type: ignore[arg-type]
                session.commit()
        except Exception as exc:  # noqa: BLE001 - as a missed heartbeat, this must not stop the crawl
            log.warning("could not record the pid of run %s: %s", self.run_id, exc)

    def beat(self) -> None:
        """Write the counters so far and mark the run alive."""
        if self.run_id is None:
            return
        from storage.runs import heartbeat

        try:
            with Session(archive_engine(self.crawler)) as session:
                heartbeat(session, self.run_id, **counters(self.crawler))
                session.commit()
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat must not stop the crawl
            log.warning("heartbeat of run %s failed: %s", self.run_id, exc)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.run_id is None:
            return
        from storage.runs import finish_run

        stats = self.crawler.stats
        start_ok = int(stats.get_value("akhbar/start_ok", 0)) if stats else 0
        start_failed = int(stats.get_value("akhbar/start_failed", 0)) if stats else 0
        outcome = run_outcome(reason, start_ok, start_failed)
        message = getattr(spider, "first_error", None) if outcome == "failed" else None
        if outcome == "failed" and not message:
            message = f"crawl ended: {reason}"
        if outcome == "interrupted":
            message = "stopped by a signal"
        with Session(archive_engine(self.crawler)) as session:
            finish_run(session, self.run_id, outcome, message=message, **counters(self.crawler))
            session.commit()
