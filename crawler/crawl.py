"""Running a crawl of some sources in this process: one Scrapy crawler per source, one reactor.

:func:`crawl` opens (and migrates) the archive, runs the right spider for each source
(:func:`spiders.source.spider_for`; its ``crawl_runs`` row is created, or the one given adopted,
as its spider opens) with :class:`~scrapy.crawler.CrawlerProcess`, and returns what each run did.  SIGTERM / SIGINT stop
the crawl gracefully (Scrapy's shutdown; what was fetched is kept) and end the runs
``interrupted``.  Twisted's reactor cannot be restarted, so call it once per process; the
scheduler runs ``akhbar crawl`` as a subprocess for that reason.
"""
from __future__ import annotations

import gc
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy.orm import Session

from crawler.core.errors import NotFound
from crawler.core.sources import Source
from crawler.extensions import counters
from crawler.extractpool import configured_workers, start_server
from crawler.extraction import unexpected_reason
from crawler.middlewares import default_warc_dir
from crawler.settings import user_agent
from spiders.source import spider_for
from storage.db import open_engine, resolve_url
from storage.runs import finish_run, get_run, run_dict, start_run
from storage.scheduling import settle_dead_runs

log = logging.getLogger(__name__)

#: The fields of a run that ``akhbar crawl --json`` prints, in order.
REPORT_FIELDS = ("run_id", "source", "outcome", "pages_fetched", "not_modified", "articles_new",
                 "articles_duplicate", "articles_rejected", "skipped_seen", "errors", "bytes")


@dataclass
class CrawlReport:
    """What a crawl did: one mapping per source (:data:`REPORT_FIELDS` plus ``message``), and the
    signal that stopped it, if one did."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    signal: int | None = None

    @property
    def exit_code(self) -> int:
        """0 when every run is ok; 128 + signal number when interrupted; 1 when a run failed."""
        if self.signal is not None:
            return 128 + self.signal
        if any(run["outcome"] == "interrupted" for run in self.runs):
            return 130
        return 0 if all(run["outcome"] == "ok" for run in self.runs) else 1


class _Process(CrawlerProcess):
    """CrawlerProcess that remembers which signal asked it to stop (for the exit code)."""

    received: int | None = None

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum
        super()._signal_shutdown(signum, frame)


def scrapy_settings(
    *, db_url: str, warc_dir: str, overrides: Mapping[str, Any] | None = None, log_level: str = "WARNING"
) -> Settings:
    """akhbar's Scrapy settings (:mod:`crawler.settings`) for one crawl, with ``overrides`` on top."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    settings.set("AKHBAR_DB", db_url, priority="cmdline")
    settings.set("AKHBAR_WARC_DIR", warc_dir, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    if "AKHBAR_CONTACT" in (overrides or {}) and "USER_AGENT" not in (overrides or {}):
        settings.set("USER_AGENT", user_agent(str(overrides["AKHBAR_CONTACT"])), priority="cmdline")  # type: ignore[index]
    return settings


def crawl(
    sources: Sequence[Source],
    *,
    db_url: str | None = None,
    warc_dir: str | None = None,
    settings: Mapping[str, Any] | None = None,
    run_ids: Mapping[str, int] | None = None,
    trigger: str = "manual",
    log_level: str = "WARNING",
) -> CrawlReport:
    """Crawl ``sources`` (one run each) into the archive at ``db_url``; blocks until done.

    At most ``AKHBAR_CONCURRENT_SOURCES`` sources are crawled at a time; each run's row is made
    as its crawl starts, and after a signal the sources not started yet are left alone (no run).
    ``run_ids`` maps a source name to a ``crawl_runs`` row created beforehand (the scheduler's)
    to fill in instead of creating one.  ``settings`` overrides Scrapy / akhbar settings.
    At ``log_level`` WARNING (the default) Scrapy's and Twisted's own log is left out
    (:func:`quiet_scrapy`): each failed run says why in one line of its own.
    """
    url = resolve_url(db_url)
    warc = warc_dir or default_warc_dir(url)
    options = scrapy_settings(db_url=url, warc_dir=warc, overrides=settings, log_level=log_level)
    with suppress(ValueError):  # a setting that is no number is the pipeline's to report
        if configured_workers(options.get("AKHBAR_EXTRACT_WORKERS")) > 0:
            start_server()  # the extraction workers' server loads the extractor while the rest starts
    engine = open_engine(url)
    given = dict(run_ids or {})
    with Session(engine) as session:
        settle_dead_runs(session)  # earlier crawls killed outright are not left ``running``
        for wanted in given.values():
            if get_run(session, wanted) is None:
                raise NotFound(f"no crawl run {wanted} in the archive (--run-id takes the id of an existing run)")

    process = _Process(options)
    if logging.getLevelName(log_level) >= logging.WARNING:
        quiet_scrapy()
    problems: dict[str, str] = {}
    crawlers: dict[str, Any] = {}
    waiting = deque(sources)

    def start_next(passed: Any = None) -> Any:
        """Start the next source's crawl (when one ends, or to fill the first slots); none after a signal."""
        if waiting and process.received is None:
            source = waiting.popleft()
            # Its run row is created when the spider opens (crawler.extensions.RunRecorder), not up front.
            crawlers[source.name] = crawler = process.create_crawler(spider_for(source))
            deferred = process.crawl(crawler, source=source, run_id=given.get(source.name), trigger=trigger)
            deferred.addErrback(_remember(problems, source.name))
            deferred.addBoth(start_next)
        return passed

    for _ in range(max(1, options.getint("AKHBAR_CONCURRENT_SOURCES", 8))):
        start_next()
    # What the imports and the setup made lives as long as the process: out of the collector's
    # sight (after one collection, so that no garbage is kept), each of the crawl's full collections
    # walks only what the crawl itself holds.
    gc.collect()
    gc.freeze()
    process.start()

    report = CrawlReport(signal=process.received)
    for source in sources:
        if source.name in crawlers:  # else never started (a signal came first): no run
            spider = crawlers[source.name].spider
            default = ("interrupted" if process.received is not None else "failed",
                       problems.get(source.name, "the crawl did not run"))
            report.runs.append(_settled_run(engine, source.name, given.get(source.name) or getattr(spider, "run_id", None),
                                            getattr(spider, "run_final", None) or default, trigger,
                                            counters(crawlers[source.name])))
    engine.dispose()
    return report


def _settled_run(
    engine: Any, name: str, run_id: int | None, final: tuple[str, str], trigger: str, counts: Mapping[str, Any]
) -> dict[str, Any]:
    """The report of one source's run, its end recorded if the run recorder could not (or the
    spider never opened).  When the archive cannot take it either (a full disk, a lock held too
    long), the report says so and the run is ``failed``: its row stays ``running`` until the next
    command that opens the archive settles it as ``died``, and nothing of it is trusted (its
    validators were not saved, its pages are fetched again)."""
    try:
        with Session(engine) as session:
            if run_id is None:  # the spider never opened: record the run it could not be
                run_id = start_run(session, name, trigger=trigger)
            run = get_run(session, run_id)
            assert run is not None
            if run.outcome == "running":
                finish_run(session, run.id, final[0], message=final[1])
                session.commit()
                session.refresh(run)
            data = run_dict(run)
            return {"run_id": run.id, **{k: data[k] for k in REPORT_FIELDS[1:]}, "message": run.message}
    except Exception as exc:  # noqa: BLE001 - the report must still say what became of the run
        reason = unexpected_reason(exc)
        log.warning("%s: could not record the end of run %s: %s", name, run_id, reason)
        errors = dict(counts.get("errors") or {})
        errors["store"] = errors.get("store", 0) + 1
        known = {k: counts.get(k, 0) for k in REPORT_FIELDS}
        return {**known, "run_id": run_id, "source": name, "outcome": "failed", "errors": errors,
                "message": f"the end of the run could not be written to the archive ({reason}); {final[1]}"}


#: The loggers of the libraries under the crawl: their errors come with tracebacks, one per failed
#: request and retry; the run record and akhbar's own log already say what failed, in one line each.
LIBRARY_LOGGERS = ("scrapy", "twisted", "py.warnings", "asyncio")


def quiet_scrapy() -> None:
    """Leave Scrapy's and Twisted's own messages (and their tracebacks) out of the log; -v brings them back."""
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _remember(problems: dict[str, str], name: str) -> Any:
    """An errback that keeps the one-line reason a source's crawl could not run."""

    def errback(failure: Any) -> None:
        problems[name] = f"{type(failure.value).__name__}: {failure.value}".splitlines()[0]
        log.debug("crawl of %s could not run", name, exc_info=failure.value)

    return errback
