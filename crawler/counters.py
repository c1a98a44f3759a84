"""The run's counters, kept in Scrapy's stats under ``akhbar/``: what every crawl component counts with."""
from __future__ import annotations

from scrapy.crawler import Crawler

#: Prefix of akhbar's counters in Scrapy's stats.
STAT_PREFIX = "akhbar/"


def count(crawler: Crawler, name: str, n: int = 1) -> None:
    """Add ``n`` to the run counter ``name`` (``errors/<kind>`` for errors)."""
    if crawler.stats is not None:
        crawler.stats.inc_value(STAT_PREFIX + name, n)


def counted(crawler: Crawler, name: str) -> int:
    """The run counter ``name`` so far."""
    return int(crawler.stats.get_value(STAT_PREFIX + name, 0)) if crawler.stats is not None else 0
