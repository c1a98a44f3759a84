"""The run's counters, kept in Scrapy's stats under ``akhbar/``: what every crawl component counts with."""
from __future__ import annotations

from scrapy.crawler import Crawler

#: Prefix of akhbar's counters in Scrapy's stats.
STAT_PREFIX = "akhbar/"
#: What the crawl read but could not keep: pages that failed to store, callbacks (feed, sitemap,
#: listing parsers) that failed half way.  A run with any is not ``ok`` and saves no validators.
LOST = "lost"


def count(crawler: Crawler, name: str, n: int = 1) -> None:
    """Add ``n`` to the run counter ``name`` (``errors/<kind>`` for errors)."""
    if crawler.stats is not None:
        crawler.stats.inc_value(STAT_PREFIX + name, n)


def counted(crawler: Crawler, name: str) -> int:
    """The run counter ``name`` so far."""
    return int(crawler.stats.get_value(STAT_PREFIX + name, 0)) if crawler.stats is not None else 0


#: Article pages that could not be fetched for a passing reason (timeout, 5xx after the retries):
#: the run may still be ``ok``, but it saves no validators, so the next crawl reads the feeds again
#: and asks for those pages once more.
UNFETCHED = "unfetched"

#: Stats key of the first loss's one-line reason (not a counter).
FIRST_LOSS = "akhbar_first_loss"


def lose(crawler: Crawler, reason: str) -> None:
    """Count one :data:`LOST` thing, keeping the first one's ``reason`` for the run's message."""
    count(crawler, LOST)
    if crawler.stats is not None and crawler.stats.get_value(FIRST_LOSS) is None:
        crawler.stats.set_value(FIRST_LOSS, reason)


def first_loss(crawler: Crawler) -> str | None:
    """The reason of the run's first loss, if any."""
    return crawler.stats.get_value(FIRST_LOSS) if crawler.stats is not None else None
