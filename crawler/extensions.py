"""Scrapy extensions of akhbar's crawl: the archive it writes to, the run record, the contact check.

* :class:`ArchiveExtension` - owns the crawl's SQLAlchemy engine (setting ``AKHBAR_DB``): opened,
  and migrated, when the crawler is built; disposed when the engine stops.  Every other component
  reaches it through :func:`archive_engine`.  ``AKHBAR_ARCHIVE_ENABLED = False`` turns it off, and
  with it every component that needs the archive (they raise ``NotConfigured``).
* :class:`RunRecorder` - the ``crawl_runs`` row: heartbeat with the counters every few seconds,
  and the outcome at the end.
* :class:`ContactCheck` - warns, once, when no ``AKHBAR_CONTACT`` was given.
* :func:`crawl_now` - the clock of the crawl's re-fetch decisions (``AKHBAR_NOW``, or the real time).
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, UsageError
from scrapy.settings import BaseSettings
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from twisted.internet import task

from crawler.core.refetch import naive_utc
from crawler.counters import LOST, STAT_PREFIX, counted, first_loss
from crawler.extraction import unexpected_reason
from crawler.settings import PLACEHOLDER_CONTACT
from storage.db import BUSY_TIMEOUT_MS, open_engine, resolve_url
from storage.runs import COUNTERS, HEARTBEAT_SECONDS, finish_run, heartbeat, set_run_pid, start_run

log = logging.getLogger(__name__)


# --- the archive -----------------------------------------------------------------------------


def archive_enabled(settings: BaseSettings) -> bool:
    """Whether this crawl writes to an archive (``AKHBAR_ARCHIVE_ENABLED``, on by default)."""
    return settings.getbool("AKHBAR_ARCHIVE_ENABLED", True)


def require_archive(crawler: Crawler, component: str) -> None:
    """Raise ``NotConfigured`` for ``component`` when the crawl has no archive."""
    if not archive_enabled(crawler.settings):
        raise NotConfigured(f"{component}: AKHBAR_ARCHIVE_ENABLED is off")


class ArchiveExtension:
    """The archive of one crawler: one engine for its spider, middlewares, pipelines and extensions."""

    def __init__(self, crawler: Crawler, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.engine: Engine = open_engine(url, busy_timeout_ms=busy_timeout_ms)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveExtension:
        require_archive(crawler, "archive")
        busy_ms = crawler.settings.getint("AKHBAR_DB_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS)
        return cls(crawler, resolve_url(crawler.settings.get("AKHBAR_DB")), busy_ms)

    def engine_stopped(self) -> None:
        self.engine.dispose()


def archive_engine(crawler: Crawler) -> Engine:
    """The archive engine of this crawler (its :class:`ArchiveExtension`'s)."""
    extension = crawler.get_extension(ArchiveExtension)
    if extension is None:
        raise NotConfigured("the crawl has no archive (ArchiveExtension is not enabled)")
    return extension.engine


# --- the run record --------------------------------------------------------------------------


def counters(crawler: Crawler) -> dict[str, Any]:
    """The run counters so far: ``{pages_fetched: .., ..., errors: {kind: n}}``."""
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    values: dict[str, Any] = {key: counted(crawler, key) for key in COUNTERS}
    prefix = STAT_PREFIX + "errors/"
    values["errors"] = {key[len(prefix):]: int(n) for key, n in sorted(stats.items()) if key.startswith(prefix)}
    return values


def run_outcome(reason: str, start_ok: int, start_failed: int, lost: int = 0) -> str:
    """The ``crawl_runs.outcome`` of a spider that closed for ``reason``.

    ``interrupted`` after a shutdown (SIGTERM/SIGINT); ``failed`` when no start URL (feed,
    sitemap, listing) could be read at all, or when something read was ``lost`` (a page that
    could not be stored, a parser that failed half way); ``ok`` otherwise, even if some pages
    could not be fetched (404, timeouts: they are not announced as fetched, nothing is lost).
    """
    if reason == "shutdown":
        return "interrupted"
    if (start_ok == 0 and start_failed > 0) or lost > 0:
        return "failed"
    if reason in ("finished",) or reason.startswith("closespider"):
        return "ok"
    return "failed"


def run_message(outcome: str, reason: str, first_error: str | None) -> str | None:
    """The one line a finished run keeps: why it failed, or that a signal stopped it."""
    if outcome == "interrupted":
        return "stopped by a signal"
    if outcome == "failed":
        return first_error or f"crawl ended: {reason}"
    return None


class RunRecorder:
    """Keeps the crawl's ``crawl_runs`` row current: adopts ``AKHBAR_RUN_ID`` (recording this
    process's pid on it) or creates a row, bumps ``heartbeat_at`` with the counters every
    ``AKHBAR_HEARTBEAT_SECONDS`` (default :data:`storage.runs.HEARTBEAT_SECONDS`), finishes it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("AKHBAR_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
        self.run_id: int | None = None
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        require_archive(crawler, "run record")
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        if getattr(spider, "source", None) is None:
            return
        given = self.crawler.settings.get("AKHBAR_RUN_ID")
        if given:
            self.run_id = int(given)
            self.adopt()
        else:
            with Session(archive_engine(self.crawler)) as session:
                self.run_id = start_run(
                    session, getattr(spider, "source").name, trigger=self.crawler.settings.get("AKHBAR_TRIGGER", "manual")
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
        lost = counted(self.crawler, LOST)
        outcome = run_outcome(reason, counted(self.crawler, "start_ok"), counted(self.crawler, "start_failed"), lost)
        first = getattr(spider, "first_error", None)
        if lost and (first is None or counted(self.crawler, "start_ok")):
            first = f"{lost} lost (read again next time); first: {first_loss(self.crawler)}"
        message = run_message(outcome, reason, first)
        # The crawl's report reads this when the run's end cannot be written (a full disk, a
        # locked archive): it then says so itself rather than lose the run's verdict.
        spider.run_final = (outcome, message)  # type: ignore[attr-defined]
        try:
            with Session(archive_engine(self.crawler)) as session:
                finish_run(session, self.run_id, outcome, message=message, **counters(self.crawler))
                session.commit()
        except Exception as exc:  # noqa: BLE001 - crawler.crawl reports it; the row is settled as died later
            log.warning("could not record the end of run %s: %s", self.run_id, unexpected_reason(exc))


# --- the contact ---------------------------------------------------------------------------

#: Warn once per process, however many sources one crawl runs.
_warned_contact = False


def contact_missing(settings: BaseSettings) -> bool:
    """Whether the crawl would send the placeholder contact (``AKHBAR_CONTACT`` unset or empty)."""
    contact = (settings.get("AKHBAR_CONTACT") or "").strip()
    return not contact or contact == PLACEHOLDER_CONTACT


class ContactCheck:
    """Logs one WARNING at the start of a crawl that names no contact: sites would be sent the
    placeholder address, and their webmasters could not reach the operator before blocking."""

    def __init__(self, crawler: Crawler) -> None:
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactCheck:
        if not contact_missing(crawler.settings):
            raise NotConfigured("AKHBAR_CONTACT is set")
        return cls(crawler)

    def engine_started(self) -> None:
        global _warned_contact
        if not _warned_contact:
            _warned_contact = True
            log.warning("AKHBAR_CONTACT is not set: sites are sent the placeholder contact %s; "
                        "set it to a mailto: or https: URL where you can be reached", PLACEHOLDER_CONTACT)


# --- the re-fetch clock ----------------------------------------------------------------------


def crawl_now(crawler: Crawler) -> datetime:
    """Now (naive UTC) for the crawl's re-fetch decisions (:mod:`crawler.core.refetch`).

    The ``AKHBAR_NOW`` setting (an ISO 8601 date-time; UTC when it names no zone) makes a crawl
    decide what is due, and record its fetches, as if it ran then: the decaying schedule (hours,
    days) can be tried without waiting.  Unset, it is the real time, read at each call."""
    given = crawler.settings.get("AKHBAR_NOW")
    if not given:
        return naive_utc(datetime.now(timezone.utc))
    if isinstance(given, datetime):
        return naive_utc(given)
    try:
        return naive_utc(datetime.fromisoformat(str(given)))
    except ValueError:
        raise UsageError(f"AKHBAR_NOW: {given!r} is not an ISO 8601 date-time") from None
