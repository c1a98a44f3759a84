"""The akhbar scheduler: a foreground daemon that keeps every source of a sources file crawled.

``akhbar schedule --sources FILE --db URL`` runs :class:`Daemon`.  How it works:

- **Jobs.**  APScheduler 3 (``BackgroundScheduler``) keeps one job per enabled source in its
  SQLAlchemy job store, in the archive database itself (table ``apscheduler_jobs``), so a
  restarted scheduler keeps its jobs and their next run times.  Jobs are reconciled with the
  sources file at start and whenever the file changes (sources added, removed, changed).  Job
  defaults: ``coalesce`` (runs missed while down become one), ``max_instances=1`` (never two runs
  of a source at once in one process), a misfire grace time of the source's ``max_interval`` (a
  run kept waiting for a free worker still happens); new and overdue
  sources are spread over up to a minute, and every next run is jittered.
- **Runs.**  The job function :func:`run_source` takes the source's lease in ``source_state`` and
  creates its ``crawl_runs`` row in one transaction, then runs ``python -m crawler.cli crawl
  SOURCE --run-id N --trigger schedule ...`` in a subprocess (Twisted's reactor cannot restart in
  one process), renews the lease while the child lives, stops it at the time limit (``timeout``),
  records ``killed`` if it died of a signal, releases the lease, updates the source's health and
  adaptive interval (:mod:`crawler.core.schedule_policy`) and returns the next run time, which the
  daemon writes into the job.  A source that fails never stops the others.
- **Distributed.**  With ``--redis URL`` (``Settings.redis_url``) a run starts no subprocess: its
  source's start requests are queued in redis for the ``akhbar worker``s, and the job follows the run
  (lease renewed, time limit kept) until the workers are done, recording it from what they counted
  (:mod:`crawler.dispatch`).  Everything else - leases, health, intervals - is the same.
- **Leases.**  Two schedulers on one archive never crawl one source at the same time: the lease
  is a compare-and-set in the database, and a source is only run when its ``next_run_at`` is due,
  so the second scheduler's stale view of the job store cannot cause a second run either.
- **Dead runs.**  At start, and every few seconds, runs left ``running`` by a process that vanished
  are marked ``died`` (:func:`storage.scheduling.mark_dead_runs`); leases of dead processes of
  this host are freed at once.
- **Stopping.**  SIGINT/SIGTERM: no new runs start, each crawl in flight gets SIGTERM (it stops
  cleanly and keeps what it fetched, outcome ``interrupted``), and after a grace period SIGKILL.
"""
from __future__ import annotations

import hashlib
import logging
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.core.schedule_policy import DEFAULT_POLICY, FAILED_OUTCOMES, Limits, Policy, first_delay, jitter, next_delay
from crawler.core.sources import Source, SourcesError, load_sources, parse_interval
from storage import scheduling
from storage.archive import utcnow
from storage.db import make_engine, one_at_a_time, open_engine
from storage.quality import quality_warnings
from storage.runs import HEARTBEAT_SECONDS, finish_run, get_run, set_run_pid, start_run

__all__ = ["Daemon", "Settings", "job_id", "limits_of", "run_source"]

log = logging.getLogger("akhbar.scheduler")

JOB_PREFIX = "source:"
#: Runs of other hosts (or without a pid) are declared dead after this long without a heartbeat
#: and no live lease: 15 missed heartbeats of the crawl's default pace (storage.runs.HEARTBEAT_SECONDS),
#: so a crawl busy with a large page or waiting for a locked archive is not taken for dead.
STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 15)
#: A source whose ``next_run_at`` is at most this far ahead counts as due.
DUE_SLACK = timedelta(milliseconds=50)
#: The crawl command, run as ``python -c``: unlike ``python -m crawler.cli`` this imports
#: crawler.cli once, under its own name, so commands registered by other modules are there.
_CRAWL_MAIN = "from crawler.cli import main; main(prog_name='akhbar')"
#: On Linux the crawl subprocess gets SIGTERM if the scheduler dies (PR_SET_PDEATHSIG), so a
#: SIGKILLed scheduler leaves no orphan crawl behind.  The guard then execs the crawl command.
_GUARD = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(143)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


# --- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How the daemon runs (everything but the sources themselves)."""

    sources_file: Path
    db_url: str
    time_limit: timedelta = timedelta(hours=1)  # a crawl running longer is stopped (outcome "timeout")
    lease: timedelta = timedelta(seconds=60)  # lease length; renewed every quarter of it
    stop_grace: timedelta = timedelta(seconds=10)  # SIGTERM -> SIGKILL delay for a crawl being stopped
    workers: int = 4  # crawls at the same time
    poll: float = 1.0  # seconds between housekeeping passes (file changes, dead runs)
    crawl_command: str = ""  # the crawl command before "SOURCE --run-id N ..."; default: this Python's crawler.cli crawl
    crawl_settings: tuple[str, ...] = ()  # KEY=VALUE Scrapy/akhbar settings passed to every crawl (``--set``)
    redis_url: str = ""  # hand crawls to `akhbar worker`s through this redis instead of running them here


def limits_of(source: Source) -> Limits:
    """A source's configured pace."""
    return Limits(interval=source.interval, floor=source.min_interval, cap=source.max_interval)


def job_id(source_name: str) -> str:
    """The APScheduler job id of a source."""
    return JOB_PREFIX + source_name


def fingerprint(source: Source) -> str:
    """Identifies a source's configuration: a changed source gets its job updated."""
    return hashlib.sha256(repr(source).encode("utf-8")).hexdigest()[:16]


def _seconds(delta: timedelta) -> str:
    return f"{max(1, round(delta.total_seconds()))}s"


def _human(delta: timedelta) -> str:
    """``2h5m``, ``45s``: a delay for log lines."""
    total = max(0, round(delta.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds or not total else ""]
    return "".join(parts) if total < 3600 else "".join(parts[:2]) or "0s"


def _aware(moment: datetime) -> datetime:
    """A naive-UTC archive time as an aware UTC datetime (APScheduler's kind)."""
    return moment.replace(tzinfo=timezone.utc)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


# --- admission: no run starts once stopping has begun ---------------------------------------------


class _Gate:
    """Whether runs may still start in one daemon.  A run is started (claimed, recorded, its crawl
    spawned) while holding the gate; :meth:`close` takes it too, so a stop either sees the run started
    (and stops its crawl) or the run sees the stop (and does not start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        with self._lock:
            self.closed = True

    @contextmanager
    def admission(self) -> Iterator[bool]:
        """Held while a run starts: yields whether it may."""
        with self._lock:
            yield not self.closed


_worker = threading.local()  # .gate: the gate of the daemon whose worker thread this is


def _enter_pool(gate: _Gate) -> None:
    """Initializer of a daemon's worker threads: their runs go through that daemon's gate."""
    _worker.gate = gate


@contextmanager
def _admission() -> Iterator[bool]:
    """The gate of the daemon running this job, if any (a direct call of run_source is always admitted)."""
    gate: _Gate | None = getattr(_worker, "gate", None)
    if gate is None:
        yield True
        return
    with gate.admission() as admitted:
        yield admitted


# --- one run (the job function) ----------------------------------------------------------------------


@contextmanager
def _session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def _crawl_argv(command: str, name: str, run_id: int, sources_file: str, db_url: str, settings: str = "") -> list[str]:
    head = shlex.split(command) if command else [sys.executable, "-c", _CRAWL_MAIN, "crawl"]
    argv = [*head, name, "--run-id", str(run_id), "--trigger", "schedule",
            "--sources", sources_file, "--db", db_url, "--json"]
    for pair in shlex.split(settings):
        argv += ["--set", pair]
    if sys.platform.startswith("linux"):
        return [sys.executable, "-c", _GUARD, str(os.getpid()), *argv]
    return argv


def _last_line(stream: IO[bytes]) -> str | None:
    """The last non-empty line of a child's captured stderr (its one-line error, usually)."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - 8192))
    lines = [line.strip() for line in stream.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else None


def _stop_child(child: subprocess.Popen[bytes], grace: timedelta) -> None:
    """SIGTERM the crawl (it stops cleanly), SIGKILL it if it is still there after ``grace``."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(grace.total_seconds())
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


@dataclass
class _Finished:
    outcome: str
    message: str | None
    new_articles: int
    summary: str


def _renew(engine: Engine, name: str, owner: str, lease: timedelta) -> None:
    """Extend our lease of ``name`` while its crawl runs (a failure is logged: the crawl goes on)."""
    try:
        with _session(engine) as session:
            if not scheduling.renew_lease(session, name, owner, lease=lease) and not scheduling.claim_lease(
                session, name, owner, lease=lease
            ):
                log.warning("%s: lost the lease of the source while crawling (another scheduler holds it)", name)
            session.commit()
    except SQLAlchemyError as exc:
        log.warning("%s: could not renew the lease: %s", name, str(exc).splitlines()[0])


def _spawn(engine: Engine, run_id: int, argv: list[str], out: IO[bytes], err: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start the crawl subprocess and record its pid on the run (so a stop finds it at once)."""
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    try:
        with _session(engine) as session:
            set_run_pid(session, run_id, child.pid)
            session.commit()
    except SQLAlchemyError as exc:  # the crawl records its own pid too, when it adopts the run
        log.warning("run %d: could not record the crawl's pid: %s", run_id, str(exc).splitlines()[0])
    return child


def _supervise(
    engine: Engine, name: str, run_id: int, owner: str, child: subprocess.Popen[bytes], err: IO[bytes], *,
    lease: timedelta, time_limit: timedelta, grace: timedelta,
) -> _Finished:
    """Follow the crawl subprocess to its end, renewing the lease; return how the run ended."""
    started = time.monotonic()
    renew_every = max(0.5, lease.total_seconds() / 4)
    renewed = started
    timed_out = False
    while child.poll() is None:
        try:
            child.wait(min(1.0, renew_every))
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if child.poll() is None and now - started > time_limit.total_seconds():
            timed_out = True
            _stop_child(child, grace)
        elif now - renewed >= renew_every:
            renewed = now
            _renew(engine, name, owner, lease)
    outcome, message = _ending(child.returncode, timed_out, _last_line(err), time_limit, stopping=_stopping())
    return _record(engine, run_id, outcome, message, only_if_running=not timed_out)


def _ending(code: int, timed_out: bool, stderr_line: str | None, time_limit: timedelta, *,
            stopping: bool = False) -> tuple[str, str]:
    """(outcome, message) of a crawl subprocess that ended with ``code``, unless it recorded its own.

    ``stopping``: the daemon that ran it is shutting down.  A crawl it had to SIGKILL after the grace
    period was stopped by the shutdown, not by a fault of its source: ``interrupted``, which neither
    counts as a failure nor backs the source off (what it stored stays; the rest is fetched next time)."""
    if timed_out:
        return "timeout", f"stopped at the time limit of {_human(time_limit)}"
    if code in (-signal.SIGTERM, -signal.SIGINT):  # stopped (by us, or by hand) before it could record it
        return "interrupted", f"stopped by {signal.Signals(-code).name}"
    if stopping and code == -signal.SIGKILL:
        return "interrupted", "stopped with the scheduler: SIGKILL after the grace period"
    if code < 0:
        return "killed", f"the crawl process was killed by {signal.Signals(-code).name}"
    if code != 0:
        return "failed", stderr_line or f"the crawl process exited with code {code}"
    return "failed", "the crawl process exited without finishing its run"


def _record(engine: Engine, run_id: int, outcome: str, message: str, *, only_if_running: bool) -> _Finished:
    """Finish the run row (the outcome the crawl recorded stands if ``only_if_running``); read it back."""
    with _session(engine) as session:
        finish_run(session, run_id, outcome, message=message, only_if_running=only_if_running, alive=False)
        session.commit()
        run = get_run(session, run_id)
        assert run is not None
        session.refresh(run)
        errors = sum((run.errors or {}).values())
        summary = (f"{run.pages_fetched} pages, {run.not_modified} not modified, {run.articles_new} new, "
                   f"{run.articles_duplicate} duplicate, {run.articles_rejected} rejected, {errors} errors")
        return _Finished(run.outcome, run.message, run.articles_new, summary)


def _claim(engine: Engine, name: str, owner: str, lease: timedelta) -> tuple[int | None, datetime | None]:
    """Take the source's lease and create its run row, in one transaction: ``(run id, None)``; or, when the
    source is not due or another scheduler crawls it, ``(None, when to look again)`` (None: as planned)."""
    now = utcnow()
    with _session(engine) as session:
        scheduling.ensure_states(session, [name])
        if not scheduling.claim_lease(session, name, owner, lease=lease, now=now, due_by=now + DUE_SLACK):
            state = scheduling.get_state(session, name)
            session.rollback()
            if state is not None and state.lease_until is not None and state.lease_until > now:
                return None, _aware(state.lease_until)  # another scheduler is crawling it: look again then
            return None, _aware(state.next_run_at) if state and state.next_run_at else None
        run_id = start_run(session, name, trigger="schedule")
        scheduling.set_last_run(session, name, run_id)
        session.commit()
    return run_id, None


def run_source(
    name: str,
    sources_file: str,
    db_url: str,
    time_limit: str = "1h",
    lease: str = "60s",
    stop_grace: str = "10s",
    crawl_command: str = "",
    crawl_settings: str = "",
    redis_url: str = "",
    **_config: str,
) -> datetime | None:
    """APScheduler job: crawl source ``name`` once, in a subprocess, if it is due and its lease is free.

    Every argument is a string, so the job store can keep the job.  Returns when the source
    should run next (aware UTC), or ``None`` to leave the job's schedule as it is.  Never raises
    for a crawl that goes wrong: the outcome is recorded and logged in one line.  Once the daemon
    has begun to stop, a job still waiting for a worker starts nothing and records nothing.
    """
    try:
        source = next((s for s in load_sources(sources_file) if s.name == name), None)
    except SourcesError as exc:
        log.error("%s: not run: %s", name, exc)
        return None
    if source is None or not source.enabled:
        return None
    lease_for = parse_interval(lease)
    owner = scheduling.owner_id()
    engine = make_engine(db_url)
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            with _admission() as admitted:
                if not admitted:
                    log.info("%s: not started: the scheduler is stopping", name)
                    return None
                run_id, look_again = _claim(engine, name, owner, lease_for)
                if run_id is None:
                    return look_again
                clock = time.monotonic()
                if redis_url:
                    child: subprocess.Popen[bytes] | OSError | None = None
                else:
                    argv = _crawl_argv(crawl_command, name, run_id, os.path.abspath(sources_file), db_url,
                                       crawl_settings)
                    try:
                        child = _spawn(engine, run_id, argv, out, err)
                    except OSError as exc:  # the crawl command could not be started
                        child = exc
            if child is None:
                finished = _hand_to_workers(engine, source, run_id, owner, redis_url, lease=lease_for,
                                            time_limit=parse_interval(time_limit))
            elif isinstance(child, OSError):
                finished = _record(engine, run_id, "failed", f"cannot start the crawl: {child}", only_if_running=True)
            else:
                finished = _supervise(engine, name, run_id, owner, child, err, lease=lease_for,
                                      time_limit=parse_interval(time_limit), grace=parse_interval(stop_grace))
        return _conclude(engine, source, limits_of(source), run_id, owner, finished, time.monotonic() - clock)
    finally:
        engine.dispose()


def _stopping() -> bool:
    """Whether the daemon running this job has begun to stop."""
    gate: _Gate | None = getattr(_worker, "gate", None)
    return gate is not None and gate.closed


def _hand_to_workers(engine: Engine, source: Source, run_id: int, owner: str, redis_url: str, *,
                     lease: timedelta, time_limit: timedelta) -> _Finished:
    """The distributed run: queue the source's start requests in redis for the workers, follow the run
    until the workers have done it (renewing the lease), and read back how it ended
    (:mod:`crawler.dispatch` records it from the workers' counts)."""
    from crawler.core.errors import AkhbarError
    from crawler.dispatch import follow, seed  # here: Scrapy loads slowly, and only this mode needs it
    from crawler.distributed import connect

    try:
        client = connect(redis_url)
        seed(client, source)
    except AkhbarError as exc:
        return _record(engine, run_id, "failed", f"cannot queue the crawl: {exc.one_line()}", only_if_running=True)
    renew_every = max(0.5, lease.total_seconds() / 4)
    renewed = [time.monotonic()]

    def renew() -> None:
        if time.monotonic() - renewed[0] >= renew_every:
            renewed[0] = time.monotonic()
            _renew(engine, source.name, owner, lease)

    try:
        followed = follow(client, engine, source.name, run_id, time_limit=time_limit.total_seconds(),
                          should_stop=_stopping, on_beat=renew)
    except Exception as exc:  # noqa: BLE001 - redis or the archive went away: the run failed, the daemon goes on
        return _record(engine, run_id, "failed", f"lost the distributed run: {str(exc).splitlines()[0]}",
                       only_if_running=True)
    finally:
        client.close()
    return _record(engine, run_id, followed.outcome, followed.message or "", only_if_running=True)


def _conclude(engine: Engine, source: Source, limits: Limits, run_id: int, owner: str, finished: _Finished,
              took: float) -> datetime:
    """Update the source's health and interval, release the lease, log the run's line; return the next run."""
    failed = finished.outcome in FAILED_OUTCOMES
    rng = random.Random()
    with _session(engine) as session:
        state = scheduling.get_state(session, source.name)
        current = timedelta(seconds=state.interval_seconds) if state and state.interval_seconds else limits.interval
        failures = (state.consecutive_failures if state else 0) + 1 if failed else 0
        interval, delay = next_delay(finished.outcome, current=current, new_articles=finished.new_articles,
                                     consecutive_failures=failures, limits=limits, rng=rng)
        now = utcnow()
        next_at = now + delay
        scheduling.record_outcome(
            session, source.name, run_id,
            scheduling.Outcome(finished.outcome, finished.new_articles, finished.message, interval, next_at),
            owner=owner, failed=failed, now=now,
        )
        session.commit()
    if failed:
        log.warning("run %d %s %s after %.1fs: %s; %d failure%s in a row, retry in %s", run_id, source.name,
                    finished.outcome, took, finished.message or "no message", failures, "s" if failures > 1 else "",
                    _human(delay))
    else:
        log.info("run %d %s %s in %.1fs: %s; interval %s, next in %s", run_id, source.name, finished.outcome, took,
                 finished.summary, _human(interval), _human(delay))
    warn_on_quality(engine, source.name, run_id)
    return _aware(next_at)


def warn_on_quality(engine: Engine, name: str, run_id: int) -> list[str]:
    """Log one warning line when the run's pages stopped looking like the source's articles
    (:mod:`storage.quality`); return the signals that jumped."""
    try:
        with _session(engine) as session:
            jumped = quality_warnings(session, name)
    except SQLAlchemyError as exc:
        log.warning("%s: could not read the quality of run %d: %s", name, run_id, str(exc).splitlines()[0])
        return []
    if jumped:
        log.warning("run %d %s: pages no longer look like the source's articles: %s", run_id, name, "; ".join(jumped))
    return jumped


# --- the daemon ---------------------------------------------------------------------------------------


def _parent_of(pid: int) -> int | None:
    """The parent pid of ``pid`` (Linux /proc), or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rpartition(b")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _started_by_us(pid: int) -> bool:
    """Whether ``pid`` is a crawl this process started: its child, or the child of a crawl command
    that does not exec (the crawl records its own pid); True when /proc cannot tell."""
    me = os.getpid()
    parent = _parent_of(pid)
    return parent in (me, None) or _parent_of(parent) == me


class _CountingExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, counting the runs in flight so that a stop can wait for them
    (through the executor extension points ``_do_submit_job`` / ``_run_job_success`` / ``_run_job_error``)."""

    def __init__(self, max_workers: int) -> None:
        self.gate = _Gate()  # closed when stopping begins: no run is started any more
        super().__init__(max_workers, pool_kwargs={"initializer": _enter_pool, "initargs": (self.gate,)})
        self._busy = 0
        self._idle = threading.Condition()

    @property
    def closing(self) -> bool:
        return self.gate.closed

    def close(self) -> None:
        """Start no run from now on: jobs still waiting for a worker return without starting one.  Returns
        once no run is half-started (the crawls already started are then found by their pids)."""
        self.gate.close()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        with self._idle:
            if self.closing:  # APScheduler may still process due jobs while it shuts down
                return
            self._busy += 1
        try:
            super()._do_submit_job(job, run_times)
        except BaseException:
            self._done()
            raise

    def _run_job_success(self, job_id: str, events: list[Any]) -> None:
        try:
            super()._run_job_success(job_id, events)
        finally:
            self._done()

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: Any = None) -> None:
        try:
            super()._run_job_error(job_id, exc, traceback)
        finally:
            self._done()

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for no run to be in flight; return whether none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy <= 0, timeout)


@dataclass(frozen=True)
class _Planned:
    """What the archive says of a source's schedule."""

    interval_seconds: float | None
    next_run_at: datetime | None

    @classmethod
    def of(cls, state: Any) -> _Planned:
        return cls(state.interval_seconds, state.next_run_at) if state is not None else cls(None, None)


class Daemon:
    """One scheduler process on one archive: ``start()``, ``serve(stop_event)``, ``stop()``."""

    def __init__(self, settings: Settings, *, rng: random.Random | None = None, policy: Policy = DEFAULT_POLICY) -> None:
        self.settings = settings
        self.rng = rng or random.Random()
        self.policy = policy
        self.owner = scheduling.owner_id()
        self.engine: Engine | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.executor = _CountingExecutor(settings.workers)
        self._file_seen: tuple[int, int] | None = None
        self._config_seen: str | None = None
        self._last_housekeeping = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the archive, mark dead runs, start APScheduler and reconcile its jobs with the sources file."""
        sources = load_sources(self.settings.sources_file)  # a broken file stops the start, with its one line
        self.engine = open_engine(self.settings.db_url)
        self.housekeeping(force=True)
        jobstore = job_store(self.settings.db_url)
        self.executor = _CountingExecutor(self.settings.workers)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": jobstore},
            executors={"default": self.executor},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=timezone.utc,
        )
        self.scheduler.add_listener(self._on_job_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self.scheduler.start(paused=True)
        self.reconcile(sources)
        self._remember_file()
        self.scheduler.resume()
        log.info("scheduler %s started: %d source%s from %s", self.owner, len(self.jobs()),
                 "" if len(self.jobs()) == 1 else "s", self.settings.sources_file)

    def serve(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set: watch the sources file, mark dead runs, poll the job store."""
        while not stop.wait(self.settings.poll):
            try:
                self.housekeeping()
            except Exception as exc:  # the archive is busy or briefly unreachable: try again next pass
                log.error("housekeeping failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def stop(self) -> None:
        """Start no new run; SIGTERM each crawl in flight, SIGKILL it after the grace period; wait for them."""
        if self.scheduler is None:
            return
        self.scheduler.pause()
        self.executor.close()
        deadline = time.monotonic() + self.settings.stop_grace.total_seconds()
        signalled: set[int] = set()
        while not self.executor.wait_idle(0.2):
            force = time.monotonic() > deadline
            for _run_id, pid in self._children():
                if force or pid not in signalled:
                    self._signal(pid, signal.SIGKILL if force else signal.SIGTERM)
                    signalled.add(pid)
        self.scheduler.shutdown(wait=True)
        self.scheduler = None
        if self.engine is not None:
            self.engine.dispose()
        log.info("scheduler %s stopped", self.owner)

    def _children(self) -> list[tuple[int, int]]:
        assert self.engine is not None
        try:
            with _session(self.engine) as session:
                return [(run_id, pid) for run_id, pid in scheduling.running_children(session, self.owner)
                        if _started_by_us(pid)]
        except Exception:  # noqa: BLE001 - a busy archive must not stop the shutdown
            return []

    @staticmethod
    def _signal(pid: int, signum: int) -> None:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    # -- jobs --------------------------------------------------------------------------------------
    def jobs(self) -> dict[str, Any]:
        """The scheduler's source jobs by source name."""
        assert self.scheduler is not None
        return {job.id[len(JOB_PREFIX):]: job for job in self.scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}

    def _job_args(self, source: Source) -> tuple[list[str], dict[str, str]]:
        s = self.settings
        args = [source.name, str(Path(s.sources_file).resolve()), s.db_url]
        kwargs = {"time_limit": _seconds(s.time_limit), "lease": _seconds(s.lease), "stop_grace": _seconds(s.stop_grace),
                  "crawl_command": s.crawl_command, "crawl_settings": shlex.join(s.crawl_settings),
                  "redis_url": s.redis_url,
                  "fingerprint": fingerprint(source),
                  "interval": _seconds(source.interval)}
        return args, kwargs

    def reconcile(self, sources: list[Source]) -> dict[str, list[str]]:
        """Make the jobs match the enabled ``sources``: add, remove, update; return the names by change."""
        assert self.scheduler is not None and self.engine is not None
        wanted = {source.name: source for source in sources if source.enabled}
        jobs = self.jobs()
        changes: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
        for name in sorted(set(jobs) - set(wanted)):
            self._remove(name)
            changes["removed"].append(name)
        now = datetime.now(timezone.utc)
        with _session(self.engine) as session:
            scheduling.ensure_states(session, wanted)
            session.commit()
            states = {name: _Planned.of(scheduling.get_state(session, name)) for name in wanted}
            session.commit()  # no transaction stays open while APScheduler writes its job store
        planned: dict[str, tuple[datetime, timedelta]] = {}
        for name, source in wanted.items():
            job = jobs.get(name)
            when, interval = self._plan(source, job, states[name], now)
            args, kwargs = self._job_args(source)
            options: dict[str, Any] = {
                "trigger": IntervalTrigger(seconds=source.max_interval.total_seconds(), timezone=timezone.utc),
                "args": args, "kwargs": kwargs, "name": name,
                # a run kept waiting (every worker busy) still runs, unless the next period has come
                "misfire_grace_time": max(30, int(source.max_interval.total_seconds())),
            }
            if job is None:
                self.scheduler.add_job(run_source, id=job_id(name), next_run_time=when, replace_existing=True,
                                       **options)
                changes["added"].append(name)
            elif job.kwargs.get("fingerprint") != kwargs["fingerprint"] or list(job.args) != args or job.kwargs != kwargs:
                self.scheduler.modify_job(job_id(name), next_run_time=when, **options)
                changes["changed"].append(name)
            elif job.next_run_time is None or abs((job.next_run_time - when).total_seconds()) > 1:
                self.scheduler.modify_job(job_id(name), next_run_time=when)
            planned[name] = (when, interval)
        with _session(self.engine) as session:
            for name, (when, interval) in planned.items():
                scheduling.set_schedule(session, name, next_run_at=_naive(when), interval=interval)
            session.commit()
        for kind, names in changes.items():
            if names:
                log.info("sources %s: %s", kind, ", ".join(names))
        return changes

    def _plan(self, source: Source, job: Any, state: _Planned, now: datetime) -> tuple[datetime, timedelta]:
        """(next run, current interval) of a source being (re)scheduled.

        The archive's ``next_run_at`` wins over the job store's (it is written by the run itself);
        a source whose configured interval changed runs no later than one new interval from now;
        an overdue or new source is spread over up to a minute."""
        limits = limits_of(source)
        current = timedelta(seconds=state.interval_seconds) if state.interval_seconds else None
        when = _aware(state.next_run_at) if state.next_run_at else None
        if when is None and job is not None:
            when = job.next_run_time
        old_interval = job.kwargs.get("interval") if job is not None else None
        if old_interval is not None and old_interval != _seconds(source.interval):
            current = None  # the configured pace changed: start again from it
            soonest = now + jitter(source.interval, self.rng, self.policy)
            when = min(when, soonest) if when else soonest
        interval = limits.clamp(current) if current else limits.interval
        if when is None or when <= now:
            when = now + first_delay(limits, self.rng, self.policy)
        return when, interval

    def _remove(self, name: str) -> None:
        assert self.scheduler is not None
        try:
            self.scheduler.remove_job(job_id(name))
        except JobLookupError:
            pass

    def _on_job_done(self, event: JobExecutionEvent) -> None:
        """Write the next run time a run returned into its job (the run has computed it)."""
        if event.exception is not None:
            log.error("job %s failed: %s", event.job_id, str(event.exception).splitlines()[0] if str(event.exception) else type(event.exception).__name__)
            return
        if not isinstance(event.retval, datetime) or self.scheduler is None:
            return
        try:
            self.scheduler.modify_job(event.job_id, next_run_time=event.retval)
        except JobLookupError:  # the source was removed meanwhile
            pass

    # -- housekeeping --------------------------------------------------------------------------
    def housekeeping(self, *, force: bool = False) -> None:
        """Free leases of dead local processes and mark dead runs (every few seconds); reconcile the jobs
        when the sources file changed; wake APScheduler (another scheduler may have changed the job store)."""
        assert self.engine is not None
        now = time.monotonic()
        if force or now - self._last_housekeeping >= max(self.settings.poll, 5.0):
            self._last_housekeeping = now
            with _session(self.engine) as session:
                freed = scheduling.release_dead_leases(session)
                dead = scheduling.mark_dead_runs(session, stale_after=STALE_AFTER)
                session.commit()
            if freed:
                log.info("freed the leases of dead processes on: %s", ", ".join(freed))
            for run_id in dead:
                log.warning("run %d died: its process vanished (marked died)", run_id)
        if self.scheduler is None:
            return
        if self._file_changed():
            try:
                sources = load_sources(self.settings.sources_file)
            except SourcesError as exc:
                log.error("sources file not reloaded: %s (the jobs stay as they were)", exc)
            else:
                if self._config_changed(sources):
                    self.reconcile(sources)
        self.scheduler.wakeup()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.settings.sources_file)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _remember_file(self) -> None:
        self._file_seen = self._stat()
        try:
            self._config_seen = self._config_key(load_sources(self.settings.sources_file))
        except SourcesError:
            self._config_seen = None

    def _file_changed(self) -> bool:
        seen = self._stat()
        if seen == self._file_seen:
            return False
        self._file_seen = seen
        return True

    @staticmethod
    def _config_key(sources: list[Source]) -> str:
        return "|".join(f"{s.name}:{s.enabled}:{fingerprint(s)}" for s in sources)

    def _config_changed(self, sources: list[Source]) -> bool:
        key = self._config_key(sources)
        if key == self._config_seen:
            return False
        self._config_seen = key
        return True


def job_store(db_url: str) -> SQLAlchemyJobStore:
    """APScheduler's job store in the archive, its table created one process at a time: APScheduler
    checks for the table, then creates it, and two schedulers starting together on a new archive
    would both try to create it."""
    store = SQLAlchemyJobStore(engine=make_engine(db_url))
    with one_at_a_time(store.engine) as connection:
        store.jobs_t.create(connection, checkfirst=True)
    return store


# --- the command --------------------------------------------------------------


def run_daemon(settings: Settings) -> None:
    """The ``akhbar schedule`` main: start, serve until SIGINT/SIGTERM, stop cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("%s received: stopping (crawls in flight are stopped cleanly)", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    daemon = Daemon(settings)
    try:
        daemon.start()
        daemon.serve(stop)
    finally:
        daemon.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
