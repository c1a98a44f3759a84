"""Retries that wait outside the downloader: a scheduler that holds a request until it is due.

Scrapy's downloader counts a request against ``CONCURRENT_REQUESTS`` until its downloader
middlewares are done with it, so a retry backoff awaited inside a middleware holds one of the
process's request slots for as long as it waits (up to ``AKHBAR_RETRY_AFTER_MAX``, minutes).
Instead, :class:`crawler.middlewares.BackoffRetryMiddleware` returns the retry at once, marked
with the wall-clock time before which it must not go out (``meta[NOT_BEFORE_KEY]``), and
:class:`RetryWaitScheduler` - Scrapy's own scheduler otherwise - keeps such a request aside on a
reactor timer.  When the time comes, the request goes back to the engine (``engine.crawl``: the
scheduler's queues, the dupefilter and the download slots as any request).  Meanwhile every
other request keeps flowing.  This is how Scrapy's maintainers suggest a per-request delay
without scheduler support (scrapy/scrapy#802: "use callLater to schedule a request to a later
time"), kept in the scheduler so the engine sees the waiting requests as pending work and does
not close the spider as idle while one waits.

A crawl stopped while retries wait (SIGTERM, a time limit) does not wait for them: the timers
are cancelled as the scheduler closes, and an article page dropped so counts ``unfetched``
(:data:`crawler.counters.UNFETCHED`: the feeds are read again next time).
"""
from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from twisted.internet import task
from twisted.internet.defer import CancelledError, Deferred

from crawler.counters import UNFETCHED, count
from crawler.items import ARTICLE_KEY, NOT_BEFORE_KEY

log = logging.getLogger(__name__)


def seconds_until_due(request: Request, now: float | None = None) -> float:
    """How long ``request`` must still wait (0 when it carries no ``NOT_BEFORE_KEY`` or is due)."""
    due = request.meta.get(NOT_BEFORE_KEY)
    if due is None:
        return 0.0
    try:
        left = float(due) - (time.time() if now is None else now)
    except (TypeError, ValueError):
        return 0.0
    return left if left > 0 else 0.0


class RetryWaitScheduler(Scheduler):
    """Scrapy's scheduler, but a request marked ``meta[NOT_BEFORE_KEY]`` in the future is held on a
    reactor timer until then, and only then queued (through ``engine.crawl``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: dict[Request, Deferred[None]] = {}  # request -> its timer

    def enqueue_request(self, request: Request) -> bool:
        wait = seconds_until_due(request)
        if wait <= 0:
            return super().enqueue_request(request)
        # Imported here: importing the reactor at module level would install Twisted's default
        # reactor before Scrapy installs the one TWISTED_REACTOR names.
        from twisted.internet import reactor

        waited = task.deferLater(reactor, wait, self._due, request)
        waited.addErrback(lambda failure: failure.trap(CancelledError))  # cancelled: the crawl ended
        self.waiting[request] = waited
        return True

    def _due(self, request: Request) -> None:
        """The wait is over: hand the request to the engine, which queues it and looks for work."""
        self.waiting.pop(request, None)
        request.meta.pop(NOT_BEFORE_KEY, None)
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is None or engine.spider is None:
            return
        engine.crawl(request)

    def __len__(self) -> int:
        return super().__len__() + len(self.waiting)

    def close(self, reason: str) -> Deferred[None] | None:
        for request, waited in list(self.waiting.items()):
            waited.cancel()
            log.info("retry of %s dropped: the crawl ended (%s) while it waited", request.url, reason)
            if self.crawler is not None:
                count(self.crawler, "retries_dropped")
                if request.meta.get(ARTICLE_KEY):
                    count(self.crawler, UNFETCHED)
        self.waiting.clear()
        return super().close(reason)
