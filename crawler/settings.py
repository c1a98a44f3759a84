"""Scrapy settings of akhbar (``scrapy.cfg`` points here).  Settings only.

Politeness first: robots.txt obeyed, AutoThrottle on, at most two requests at a time per
site, a User-Agent that names akhbar and how to reach its operator.

The contact comes from the ``AKHBAR_CONTACT`` environment variable (a ``mailto:`` or
``https:`` URL).  The default below is a placeholder: set it, so that a site's webmaster can
reach you before blocking you.  A spider or the CLI that overrides ``AKHBAR_CONTACT`` as a
Scrapy setting must also set ``USER_AGENT = user_agent(contact)``.

Scrapy 2.19's RetryMiddleware retries RETRY_HTTP_CODES and network errors at once, with a
lower priority, and ignores ``Retry-After``; waiting and backoff are left to akhbar's own
middleware and scheduler (registered below).
"""
from __future__ import annotations

import os
from importlib import metadata

try:
    _VERSION = metadata.version("akhbar")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    _VERSION = "0"


def user_agent(contact: str) -> str:
    """The User-Agent akhbar sends: product token first, so robots.txt rules for "akhbar" apply."""
    return f"akhbar/{_VERSION} (+{contact}; Arabic news archive)"


BOT_NAME = "akhbar"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

#: What is sent when no contact was given (the crawl warns at its start: crawler.extensions.ContactCheck).
PLACEHOLDER_CONTACT = "mailto:akhbar-operator@example.org"
AKHBAR_CONTACT = os.environ.get("AKHBAR_CONTACT") or PLACEHOLDER_CONTACT
USER_AGENT = user_agent(AKHBAR_CONTACT)

# Politeness.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0  # also AutoThrottle's floor
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Failures: retry timeouts, rate limiting and server errors.  A retry waits (backoff, Retry-After)
# in the scheduler, not in the downloader: crawler.retrywait holds it until it is due.
SCHEDULER = "crawler.retrywait.RetryWaitScheduler"
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 30
# Bounds of one response, decompressed (Scrapy's HttpCompressionMiddleware stops a gzip bomb at
# them): feeds and sitemaps up to crawler.core.discovery.MAX_DOCUMENT_BYTES; article pages up to
# AKHBAR_MAX_PAGE_BYTES (crawler.middlewares.PageSizeMiddleware).
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 32 * 1024 * 1024

# Items of one response handled at once.  A page gives one item; Scrapy's default (100) starts 100
# asyncio tasks per response all the same, a reactor cost that showed in the crawl benchmark.
CONCURRENT_ITEMS = 8

HTTPCACHE_ENABLED = False  # the archive and the WARC files are the record, not a cache
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# Scrapy 2.19's default, stated so that a change of default does not change akhbar.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# REQUEST_FINGERPRINTER_IMPLEMENTATION is not set: Scrapy 2.19 no longer reads it.

# The crawl's own components (crawler/middlewares.py, crawler/pipelines.py, crawler/extensions.py).
DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.OffsiteRedirectMiddleware": 540,  # redirects stay on the source's domains
    "crawler.middlewares.BackoffRetryMiddleware": 550,  # waits: backoff, Retry-After
    "crawler.middlewares.ConditionalGetMiddleware": 580,  # If-None-Match / If-Modified-Since
    "crawler.middlewares.PageSizeMiddleware": 585,  # article pages: download_maxsize = AKHBAR_MAX_PAGE_BYTES
    "crawler.middlewares.WarcCaptureMiddleware": 950,  # next to the downloader: bytes as received
}
SPIDER_MIDDLEWARES: dict[str, int] = {
    "crawler.middlewares.ErrorLogMiddleware": 550,  # a callback's unexpected exception: one line, counted
    "crawler.middlewares.SeenUrlMiddleware": 600,  # article URLs the archive has: not fetched again unless due
    "crawler.middlewares.LastRunMiddleware": 610,  # child sitemaps unchanged since the last good run
}
ITEM_PIPELINES: dict[str, int] = {"crawler.pipelines.IngestPipeline": 300, "crawler.pipelines.ValidatorPipeline": 310}
EXTENSIONS: dict[str, int] = {
    "crawler.extensions.ArchiveExtension": 50,  # the archive's engine, for every component below
    "crawler.extensions.RunRecorder": 100,
    "crawler.extensions.ContactCheck": 110,
}
# `scrapy crawl` checks the spider's arguments before starting (crawler/commands/crawl.py).
COMMANDS_MODULE = "crawler.commands"

# akhbar's own settings (spider arguments -a db=, warc_dir=, run_id= set the first three).
AKHBAR_ARCHIVE_ENABLED = True  # False: a crawl that stores nothing (no archive, run record, seen-URL check)
AKHBAR_DB: str | None = None  # None: $AKHBAR_DB, else sqlite:///archive.db
AKHBAR_WARC_DIR: str | None = None  # None: warc/ beside the SQLite file (./warc otherwise)
AKHBAR_RUN_ID: int | None = None  # adopt this crawl_runs row instead of creating one
AKHBAR_WARC_MAX_BYTES = 1_000_000_000  # rotate WARC files past this size
# AKHBAR_MAX_PAGE_BYTES: an article page over this (decompressed) is not taken; default: the extractor's own
# bound, crawler.core.extract.MAX_PAGE_BYTES (5 MB)
AKHBAR_CONCURRENT_SOURCES = 8  # sources one `akhbar crawl` crawls at a time (each has its run row as it starts)
AKHBAR_DB_BUSY_TIMEOUT_MS = 30_000  # how long a write waits for another's lock on a SQLite archive
# AKHBAR_HEARTBEAT_SECONDS: how often crawl_runs.heartbeat_at and the counters are written; unset here
# so its one default is storage.runs.HEARTBEAT_SECONDS, which the scheduler's dead-run check also uses.
AKHBAR_RETRY_BACKOFF_BASE = 2.0  # first retry waits this long, then twice as long each time
AKHBAR_RETRY_BACKOFF_MAX = 120.0
AKHBAR_RETRY_AFTER_MAX = 600.0  # longest Retry-After honoured within one crawl
AKHBAR_LISTING_MAX_PAGES = 50  # pagination depth of a listing
AKHBAR_LISTING_STOP_WHEN_SEEN = True  # stop paging at a page whose articles are all archived
# Where the work after the fetch runs (crawler/pipelines.py).  AKHBAR_EXTRACT_WORKERS: extraction
# processes, unset = one per core (crawler.extractpool.default_workers); 0 = extract on the reactor.
AKHBAR_EXTRACT_TIMEOUT = 30.0  # seconds one page may take to extract: past it, rejected "extraction timed out"
AKHBAR_WRITE_BATCH = 50  # archive writes committed together, at most...
AKHBAR_WRITE_WAIT = 0.25  # ...or what arrived within this many seconds of the first
# AKHBAR_NOW: an ISO date-time the re-fetch schedule takes for now (crawler.extensions.crawl_now); unset: the real time
