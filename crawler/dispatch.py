"""A distributed crawl: sources seeded into redis (:func:`seed`), fetched by workers (:func:`work`), their
runs recorded by whoever seeded them (:func:`follow`).

How a distributed run is recorded: seeding a source creates its ``crawl_runs`` row (the trigger of
the one who seeded it: ``manual`` for ``akhbar crawl --redis``, ``schedule`` for the scheduler), with
the seeder's pid and host.  Workers write no rows: they add what they count to the source's
``counts`` hash in redis (:class:`crawler.distributed.SharedCounters`).  The seeder follows the
crawl - heartbeats the row with the counts so far - until the source's queue and its requests in
flight are both empty for a while (the workers' last counts have arrived), then finishes the row with
the outcome of those counts (as a one-process crawl: ``failed`` when no start URL could be read or
something was lost) and, when the crawl was clean, stores the validators of the feeds and sitemaps it
read.  A seeder that is stopped first leaves the row ``interrupted`` (the workers go on; the next seeding
starts a new run); one killed outright leaves it to the dead-run check.
"""
from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from scrapy.settings import Settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.core.errors import NotFound
from crawler.core.sources import Source
from crawler.counters import LOST, UNFETCHED
from crawler.crawl import REPORT_FIELDS, CrawlReport, _Process, quiet_scrapy, scrapy_settings
from crawler.distributed import Keys, connect, worker_overrides
from crawler.extensions import run_message, run_outcome
from crawler.middlewares import default_warc_dir
from spiders.source import spider_for
from storage.db import open_engine, resolve_url
from storage.runs import COUNTERS, HEARTBEAT_SECONDS, finish_run, get_run, heartbeat, run_dict, start_run
from storage.validators import save_validator

log = logging.getLogger(__name__)


# --- seeding ----------------------------------------------------------------------------------


def seed(client: Any, source: Source) -> int:
    """Push the start requests of ``source`` into its queue; return how many.  A source whose queue and
    requests in flight are empty starts a new crawl: last crawl's fingerprints, counts and validators go."""
    from scrapy_redis.queue import PriorityQueue

    keys = Keys(source.name)
    if not busy(client, keys):
        client.delete(*keys.per_crawl())
    spider = spider_for(source)(source=source)
    queue = PriorityQueue(client, spider, keys.queue)
    requests = list(spider.start_requests_for_ways())
    for request in requests:
        queue.push(request)
    return len(requests)


def busy(client: Any, keys: Keys) -> bool:
    """Whether a source has requests queued, in flight, or waiting to be retried."""
    return bool(client.zcard(keys.queue) or client.hlen(keys.inflight) or client.zcard(keys.delayed))


def stop(client: Any, source: str) -> int:
    """Drop what a source has queued, in flight and waiting to be retried (a crawl stopped at its time
    limit); return how many."""
    keys = Keys(source)
    dropped = int(client.zcard(keys.queue)) + int(client.hlen(keys.inflight)) + int(client.zcard(keys.delayed))
    client.delete(keys.queue, keys.inflight, keys.leases, keys.delayed)
    return dropped


# --- following a seeded run -------------------------------------------------------------------


def totals(client: Any, keys: Keys) -> dict[str, int]:
    """What the workers counted so far for the source's current run."""
    raw = client.hgetall(keys.counts)
    return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def run_counters(counted: Mapping[str, int]) -> dict[str, Any]:
    """The ``crawl_runs`` counters of the workers' counts (pure)."""
    values: dict[str, Any] = {key: int(counted.get(key, 0)) for key in COUNTERS}
    values["errors"] = {key[len("errors/"):]: n for key, n in sorted(counted.items()) if key.startswith("errors/")}
    return values


#: A followed run whose queue nobody has touched for this long gets one warning line.
NO_WORKER_SECONDS = 30


@dataclass
class Followed:
    outcome: str
    message: str | None


def follow(
    client: Any, engine: Engine, source: str, run_id: int, *,
    interval: float = HEARTBEAT_SECONDS, time_limit: float | None = None,
    should_stop: Callable[[], bool] = lambda: False, on_beat: Callable[[], None] = lambda: None,
) -> Followed:
    """Heartbeat run ``run_id`` with the workers' counts until the source's crawl is done (nothing queued
    or in flight for two ``interval``s, so the workers' last counts are in), then finish it.  At
    ``time_limit`` seconds the source's queue is dropped and the run ends ``timeout``; when
    ``should_stop()`` says so it ends ``interrupted``."""
    keys = Keys(source)
    started = time.monotonic()
    quiet_since: float | None = None
    warned = False
    while True:
        time.sleep(min(interval, 0.5))
        now = time.monotonic()
        if busy(client, keys):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        counted = totals(client, keys)
        if not warned and not counted and now - started > NO_WORKER_SECONDS and not client.hlen(keys.inflight):
            warned = True
            log.warning("%s: no worker has taken its requests for %d s: is `akhbar worker --redis` running on "
                        "this redis?", source, NO_WORKER_SECONDS)
        _write(engine, lambda s: heartbeat(s, run_id, **run_counters(counted)))
        on_beat()
        if quiet_since is not None and now - quiet_since >= 2 * interval:
            return settle(client, engine, source, run_id)
        if time_limit is not None and now - started > time_limit:
            stop(client, source)
            return _finish(engine, run_id, "timeout", f"stopped at the time limit of {time_limit:.0f}s", counted)
        if should_stop():
            return _finish(engine, run_id, "interrupted", "stopped by a signal (the workers finish what was queued)",
                           counted)


def settle(client: Any, engine: Engine, source: str, run_id: int) -> Followed:
    """Finish a drained run with the workers' counts; store the validators read when it was clean."""
    keys = Keys(source)
    counted = totals(client, keys)
    lost = counted.get(LOST, 0)
    outcome = run_outcome("finished", counted.get("start_ok", 0), counted.get("start_failed", 0), lost)
    first = client.get(keys.first_error)
    first_text = first.decode() if isinstance(first, bytes) else first
    if lost:
        first_text = f"{lost} lost (read again next time)"
    followed = _finish(engine, run_id, outcome, run_message(outcome, "finished", first_text), counted)
    if outcome == "ok" and not lost and not counted.get(UNFETCHED, 0):
        validators = client.hgetall(keys.validators)

        def keep(session: Session) -> None:
            for url, value in validators.items():
                data = json.loads(value)
                save_validator(session, url.decode() if isinstance(url, bytes) else url,
                               etag=data.get("etag"), last_modified=data.get("last_modified"))

        _write(engine, keep)
    return followed


def _finish(engine: Engine, run_id: int, outcome: str, message: str | None, counted: Mapping[str, int]) -> Followed:
    _write(engine, lambda s: finish_run(s, run_id, outcome, message=message, only_if_running=True,
                                        **run_counters(counted)))
    return Followed(outcome, message)


def _write(engine: Engine, change: Callable[[Session], Any]) -> None:
    with Session(engine) as session:
        change(session)
        session.commit()


def crawl_shared(
    sources: Sequence[Source], redis_url: str, *, db_url: str | None = None, trigger: str = "manual",
    run_ids: Mapping[str, int] | None = None, interval: float = HEARTBEAT_SECONDS,
) -> CrawlReport:
    """``akhbar crawl --redis``: seed ``sources`` (one run row each) and follow each run to its end, while
    workers fetch; return what each run did."""
    client = connect(redis_url)
    engine = open_engine(resolve_url(db_url))
    given = dict(run_ids or {})
    report = CrawlReport()
    try:
        runs: dict[str, int] = {}
        with Session(engine) as session:
            for wanted in given.values():
                if get_run(session, wanted) is None:
                    raise NotFound(f"no crawl run {wanted} in the archive (--run-id takes the id of an existing run)")
            for source in sources:
                runs[source.name] = given.get(source.name) or start_run(session, source.name, trigger=trigger)
            session.commit()
        for source in sources:
            pushed = seed(client, source)
            log.info("%s: %d start requests queued (run %d)", source.name, pushed, runs[source.name])
        with _stop_on_signal() as stopped:
            for source in sources:
                follow(client, engine, source.name, runs[source.name], interval=interval,
                       should_stop=lambda: stopped.signal is not None)
        report.signal = stopped.signal
        with Session(engine) as session:
            for source in sources:
                run = get_run(session, runs[source.name])
                assert run is not None
                data = run_dict(run)
                report.runs.append({"run_id": run.id, **{k: data[k] for k in REPORT_FIELDS[1:]},
                                    "message": run.message})
    finally:
        engine.dispose()
    return report


class _Stopped:
    signal: int | None = None


@contextmanager
def _stop_on_signal() -> Iterator[_Stopped]:
    """SIGINT / SIGTERM while following: note it (the runs then end ``interrupted``)."""
    stopped = _Stopped()

    def note(signum: int, _frame: Any) -> None:
        stopped.signal = signum

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- a worker ----------------------------------------------------------------------------------


def worker_settings(base: Settings, redis_url: str) -> Settings:
    """``base`` made a worker's (:func:`crawler.distributed.worker_overrides`)."""
    for key, value in worker_overrides(base, redis_url).items():
        base.set(key, value, priority="cmdline")
    return base


def work(
    sources: Sequence[Source], redis_url: str, *, db_url: str | None = None, warc_dir: str | None = None,
    settings: Mapping[str, Any] | None = None, log_level: str = "WARNING",
) -> int:
    """``akhbar worker``: fetch the requests of ``sources`` from the shared queue until SIGTERM / SIGINT
    (what is in flight then goes back to the queue); blocks.  Returns the signal number that stopped it."""
    connect(redis_url)  # one line now, rather than a crawler that cannot start
    url = resolve_url(db_url)
    options = worker_settings(scrapy_settings(db_url=url, warc_dir=warc_dir or default_warc_dir(url),
                                              overrides=settings, log_level=log_level), redis_url)
    process = _Process(options)
    if log_level in ("WARNING", "ERROR", "CRITICAL"):
        quiet_scrapy()
    for source in sources:
        crawler = process.create_crawler(spider_for(source))
        process.crawl(crawler, source=source, trigger="worker")
    process.start()
    return process.received or 0
