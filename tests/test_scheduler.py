"""The scheduler daemon with a stand-in crawl command that keeps the crawl command's contract.

The stand-in (written to the test's folder) adopts the run row, heartbeats, and ends as told per
source: ``ok:N[:SECONDS]`` (N new articles after sleeping), ``fail``, ``hang``, ``selfkill``
(SIGKILLs itself mid-way), ``crash`` (exits without finishing its row), ``stubborn`` (hangs and
ignores SIGTERM).  It appends
``start``/``end`` lines with times to a log, so overlaps can be seen.  The real crawl command is
exercised in tests/test_scheduler_e2e.py.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from waiting import wait_until

from crawler.cli import main
from crawler.core.schedule_policy import Policy
from scheduler import Daemon, Settings, job_id, job_store
from storage import scheduling
from storage.archive import utcnow
from storage.db import make_engine, open_engine
from storage.models import CrawlRun

pytestmark = pytest.mark.e2e  # slow: scheduler daemons and their crawl processes

FAKE_CRAWL = textwrap.dedent('''
    import json, os, signal, sqlite3, sys, time
    from datetime import datetime, timezone

    modes_file, log_file, name = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    run_id = int(args[args.index("--run-id") + 1])
    db = args[args.index("--db") + 1]
    mode = json.load(open(modes_file))[name].split(":")

    def write(**values):  # as the crawl command does: counters and heartbeat on its run row
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")  # naive UTC, as SQLAlchemy keeps it
        if "outcome" in values:
            values["finished_at"] = now
        values["heartbeat_at"] = now
        if db.startswith("sqlite:///"):
            with sqlite3.connect(db.removeprefix("sqlite:///"), timeout=30) as conn:
                conn.execute("UPDATE crawl_runs SET " + ", ".join(f"{k} = ?" for k in values) + " WHERE id = ?",
                             [*values.values(), run_id])
            return
        import psycopg  # PostgreSQL: the same row; the times are UTC
        for key in ("finished_at", "heartbeat_at"):
            if key in values:
                values[key] += "+00:00"
        with psycopg.connect(db.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute("UPDATE crawl_runs SET " + ", ".join(f"{k} = %s" for k in values) + " WHERE id = %s",
                         [*values.values(), run_id])

    def log(what):
        with open(log_file, "a") as f:
            f.write(f"{what} {name} {run_id} {time.time()} {os.getppid()}\\n")

    def on_term(*_):
        write(outcome="interrupted", message="stopped by SIGTERM", pages_fetched=1)
        log("end")
        sys.exit(143)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if mode[0] == "stubborn" else on_term)
    write(pid=os.getpid(), pages_fetched=0)
    log("start")
    if mode[0] == "ok":
        time.sleep(float(mode[2]) if len(mode) > 2 else 0.2)
        write(outcome="ok", pages_fetched=3, articles_new=int(mode[1]))
        print(json.dumps([{"run_id": run_id, "source": name, "outcome": "ok"}]))
    elif mode[0] == "fail":
        write(outcome="failed", message="DNS lookup failed for news.example")
        log("end")
        sys.exit(1)
    elif mode[0] in ("hang", "stubborn"):
        while True:
            write(pages_fetched=1)
            time.sleep(0.2)
    elif mode[0] == "selfkill":
        write(pages_fetched=3, articles_new=2)
        log("end")
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode[0] == "crash":
        print("Traceback (most recent call last):\\nRuntimeError: the spider blew up", file=sys.stderr)
        log("end")
        sys.exit(2)
    log("end")
''')



class Env:
    """A sources file, an archive and the stand-in crawl, in one test folder."""

    def __init__(self, tmp: Path, db: str | None = None) -> None:
        self.tmp = tmp
        self.sources = tmp / "sources.toml"
        self.modes = tmp / "modes.json"
        self.log = tmp / "crawl.log"
        self.db = db or f"sqlite:///{tmp / 'archive.db'}"
        script = tmp / "fake_crawl.py"
        script.write_text(FAKE_CRAWL)
        self.command = f"{sys.executable} {script} {self.modes} {self.log}"
        self.log.touch()
        open_engine(self.db).dispose()
        self.engine = make_engine(self.db)

    def write_sources(self, spec: dict[str, tuple[str, str]], **extra: str) -> None:
        """``{name: (interval, mode)}``."""
        tables = []
        for name, (interval, _mode) in spec.items():
            more = "".join(f'{k} = "{v}"\n' for k, v in extra.items())
            tables.append(f'[[sources]]\nname = "{name}"\nfeeds = ["http://127.0.0.1:9/{name}.xml"]\n'
                          f'interval = "{interval}"\n{more}')
        self.sources.write_text("\n".join(tables))
        self.modes.write_text(json.dumps({name: mode for name, (_i, mode) in spec.items()}))

    def settings(self, **kw) -> Settings:
        base = dict(sources_file=self.sources, db_url=self.db, lease=timedelta(seconds=4),
                    stop_grace=timedelta(seconds=2), poll=0.2, crawl_command=self.command)
        base.update(kw)
        return Settings(**base)

    def runs(self, source: str | None = None) -> list[CrawlRun]:
        with Session(self.engine) as s:
            query = select(CrawlRun).order_by(CrawlRun.id)
            if source:
                query = query.where(CrawlRun.source == source)
            return list(s.execute(query).scalars())

    def state(self, source: str):
        with Session(self.engine) as s:
            return scheduling.get_state(s, source)

    def spans(self) -> dict[int, list[float]]:
        """run id -> [start, end] times (end missing while running), from the stand-in's log."""
        spans: dict[int, list[float]] = {}
        for line in self.log.read_text().splitlines():
            what, _name, run_id, moment, _ppid = line.split()
            spans.setdefault(int(run_id), []).append(float(moment))
        return spans

    def wait_for(self, predicate, timeout: float, what: str) -> None:
        wait_until(predicate, timeout, what, interval=0.1,
                   report=lambda: f"runs: {[(r.id, r.source, r.outcome, r.message) for r in self.runs()]}")


FAST = Policy(spread_max=timedelta(seconds=0.5))


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    yield e
    e.engine.dispose()


@pytest.fixture
def env_on(tmp_path, db_url):
    """An :class:`Env` whose archive is SQLite, then PostgreSQL."""
    e = Env(tmp_path, db_url)
    yield e
    e.engine.dispose()


class Running:
    """A Daemon serving in a thread, stopped at the end."""

    def __init__(self, settings: Settings, policy: Policy = FAST, seed: int = 1) -> None:
        self.daemon = Daemon(settings, rng=random.Random(seed), policy=policy)
        self.stop_event = threading.Event()
        self.daemon.start()
        self.thread = threading.Thread(target=self.daemon.serve, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)
        self.daemon.stop()


@pytest.mark.e2e
def test_jobs_fire_on_time_never_overlap_and_adapt_their_interval(env):
    env.write_sources({"quiet": ("1s", "ok:0:0.3"), "busy": ("2s", "ok:25:0.3")})
    started = time.time()
    daemon = Running(env.settings())
    try:
        env.wait_for(lambda: len([r for r in env.runs("quiet") if r.outcome == "ok"]) >= 3, 15, "three quiet runs")
        env.wait_for(lambda: len([r for r in env.runs("busy") if r.outcome == "ok"]) >= 3, 15, "three busy runs")
    finally:
        daemon.stop()
    spans = env.spans()
    by_source: dict[str, list[list[float]]] = {}
    for run in env.runs():
        if run.id in spans:  # a run stopped at the end may not have reached its first line
            by_source.setdefault(run.source, []).append(spans[run.id] + [float("inf")])
    for source, runs in by_source.items():
        assert runs[0][0] - started < 3, "the first run comes by itself, soon"
        for (_s1, e1, *_), (s2, *_) in zip(runs, runs[1:]):
            assert s2 > e1, f"{source}: two runs overlapped"
    quiet = [r for r in env.runs("quiet") if r.outcome == "ok"]
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in zip(quiet, quiet[1:])]
    # on time: nothing new, so 1.5 s after the first run, then 2.25 s (+-10 % jitter)
    assert 1.3 < gaps[0] < 1.65 + 0.5 and 2.0 < gaps[1] < 2.5 + 0.5, gaps
    assert env.state("quiet").interval_seconds > 2.0
    busy = env.state("busy")
    assert busy.interval_seconds < 1.0 and busy.recent_new[:3] == [25, 25, 25]  # sped up towards the floor (0.5 s)
    assert busy.consecutive_failures == 0 and busy.last_success is not None


@pytest.mark.e2e
def test_failures_back_off_exponentially_and_never_stop_the_other_sources(env):
    env.write_sources({"down": ("1s", "fail"), "up": ("1s", "ok:1:0.1")})
    daemon = Running(env.settings())
    try:
        env.wait_for(lambda: len(env.runs("down")) >= 3 and env.runs("down")[2].outcome != "running", 20,
                     "three failed runs")
    finally:
        daemon.stop()
    down = env.runs("down")
    assert {r.outcome for r in down} == {"failed"}
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in zip(down, down[1:])]
    assert 1.75 < gaps[0] < 2.2 + 0.5 and 3.55 < gaps[1] < 4.4 + 0.5, gaps  # 2 s, then 4 s (+- 10 %)
    state = env.state("down")
    assert state.consecutive_failures >= 3 - 1 and state.last_error == "failed: DNS lookup failed for news.example"
    assert state.last_success is None
    assert len([r for r in env.runs("up") if r.outcome == "ok"]) >= 4


@pytest.mark.e2e
def test_a_hung_crawl_is_stopped_at_the_time_limit_and_recorded_as_timeout(env):
    env.write_sources({"stuck": ("1m", "hang")})
    daemon = Running(env.settings(time_limit=timedelta(seconds=2), stop_grace=timedelta(seconds=1)))
    try:
        env.wait_for(lambda: env.runs("stuck") and env.runs("stuck")[0].outcome != "running", 10, "the timeout")
    finally:
        daemon.stop()
    run = env.runs("stuck")[0]
    assert run.outcome == "timeout" and "time limit" in run.message and run.pages_fetched == 1
    assert 1.9 < (run.finished_at - run.started_at).total_seconds() < 5
    state = env.state("stuck")
    assert state.lease_owner is None and state.consecutive_failures == 1 and state.last_error.startswith("timeout")


@pytest.mark.e2e
def test_a_crawl_killed_by_a_signal_is_recorded_killed_and_keeps_its_counts(env):
    env.write_sources({"victim": ("1m", "selfkill"), "crasher": ("1m", "crash")})
    daemon = Running(env.settings())
    try:
        env.wait_for(lambda: all(r.outcome != "running" for r in env.runs()) and len(env.runs()) >= 2, 10,
                     "both runs to end")
    finally:
        daemon.stop()
    victim = env.runs("victim")[0]
    assert victim.outcome == "killed" and victim.message == "the crawl process was killed by SIGKILL"
    assert (victim.pages_fetched, victim.articles_new) == (3, 2)
    crasher = env.runs("crasher")[0]
    assert crasher.outcome == "failed" and crasher.message == "RuntimeError: the spider blew up"
    next_run = env.state("victim").next_run_at
    assert next_run - victim.finished_at > timedelta(seconds=100)  # backed off: 2 x 1 min, +- 10 %


def test_a_crawl_the_shutdown_had_to_kill_is_interrupted_not_a_failure_of_its_source(env):
    env.write_sources({"slow": ("1m", "stubborn")})
    daemon = Running(env.settings())  # stop_grace 2 s: SIGTERM is ignored, so the stop SIGKILLs it
    try:
        env.wait_for(lambda: "start slow" in env.log.read_text(), 10, "the crawl to start (SIGTERM ignored)")
    finally:
        daemon.stop()
    run = env.runs("slow")[0]
    assert run.outcome == "interrupted" and "SIGKILL" in run.message
    state = env.state("slow")
    assert state.consecutive_failures == 0 and state.last_error is None and state.lease_owner is None
    assert state.next_run_at - run.finished_at > timedelta(seconds=50)  # its usual interval, not a back-off


def test_a_restarted_scheduler_keeps_its_jobs_and_reconciles_the_file(env):
    env.write_sources({"a": ("1h", "ok:0"), "b": ("1h", "ok:0"), "c": ("1h", "ok:0")})
    slow = Policy(spread_max=timedelta(hours=1))  # first runs far away: nothing runs during the test
    first = Daemon(env.settings(), rng=random.Random(3), policy=slow)
    first.start()
    planned = {name: job.next_run_time for name, job in first.jobs().items()}
    first.stop()
    assert set(planned) == {"a", "b", "c"}
    assert min(planned.values()) > datetime.now(timezone.utc) + timedelta(seconds=30)
    assert len({t for t in planned.values()}) == 3, "jittered: not all at the same moment"

    again = Daemon(env.settings(), rng=random.Random(99), policy=slow)
    again.start()
    try:
        kept = {name: job.next_run_time for name, job in again.jobs().items()}
        assert kept == planned
        assert env.state("a").next_run_at == planned["a"].replace(tzinfo=None)
        # the file changes while it runs: b removed, c's interval shortened, d added; its time moves
        # on a second (as it would for an edit), however coarse the file system's clock
        seen = os.stat(env.sources).st_mtime_ns
        env.write_sources({"a": ("1h", "ok:0"), "c": ("10m", "ok:0"), "d": ("1h", "ok:0")})
        os.utime(env.sources, ns=(seen + 10**9, seen + 10**9))
        again.housekeeping()
        jobs = again.jobs()
        assert set(jobs) == {"a", "c", "d"}
        assert jobs["a"].next_run_time == planned["a"]
        assert jobs["c"].next_run_time <= datetime.now(timezone.utc) + timedelta(minutes=11)
        assert env.state("c").interval_seconds == 600
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
        assert again.scheduler.get_job(job_id("b")) is None
    finally:
        again.stop()


def _daemon_process(env: Env, **settings) -> subprocess.Popen:
    s = env.settings(**settings)
    code = (
        "import logging, sys; from datetime import timedelta; from pathlib import Path\n"
        "from scheduler import Settings, run_daemon\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr, format='%(message)s')\n"
        f"run_daemon(Settings(sources_file=Path({str(s.sources_file)!r}), db_url={s.db_url!r}, "
        f"lease=timedelta(seconds={s.lease.total_seconds()}), stop_grace=timedelta(seconds={s.stop_grace.total_seconds()}), "
        f"poll={s.poll}, workers={s.workers}, crawl_command={s.crawl_command!r}))\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_schedulers_starting_together_on_a_new_archive_create_the_job_table_once(tmp_path, request, database):
    """APScheduler checks for its table, then creates it: schedulers starting at the same moment
    on a new archive must not both create it (the loser would crash at start)."""
    workers, rounds = 6, 5
    for n in range(rounds):
        if database == "sqlite":
            url = f"sqlite:///{tmp_path / f'new{n}.db'}"
        else:  # a new database per round (dropped with the server at the end of the session)
            url = request.getfixturevalue("pg_server").create_database()
        open_engine(url).dispose()
        start = threading.Barrier(workers, timeout=60)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                start.wait()
                job_store(url).engine.dispose()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        engine = make_engine(url)
        assert "apscheduler_jobs" in inspect(engine).get_table_names()
        engine.dispose()


@pytest.mark.e2e
def test_two_schedulers_on_one_archive_never_run_a_source_twice_at_once(env_on):
    env = env_on
    env.write_sources({"shared": ("1s", "ok:0:0.8"), "other": ("1s", "ok:0:0.5")},
                      min_interval="1s", max_interval="1s")  # a fixed pace: every second
    one, two = _daemon_process(env), _daemon_process(env)
    try:
        env.wait_for(lambda: len([r for r in env.runs("shared") if r.outcome == "ok"]) >= 3, 25, "three runs")
    finally:
        for proc in (one, two):
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=15) for proc in (one, two)]
    assert one.returncode == 0 and two.returncode == 0, outputs
    spans = env.spans()
    for source in ("shared", "other"):
        runs = sorted(spans[r.id] + [float("inf")] for r in env.runs(source) if r.id in spans)
        for (_s1, e1, *_), (s2, *_) in zip(runs, runs[1:]):
            assert s2 > e1, f"{source}: two runs at once"
            assert s2 - e1 > 0.5, f"{source}: run again at once (the second scheduler's stale schedule)"
    parents = {line.split()[4] for line in env.log.read_text().splitlines()}
    assert {str(one.pid), str(two.pid)} & parents, "the runs came from the two schedulers"
    assert all(r.outcome in ("ok", "interrupted") for r in env.runs())


@pytest.mark.e2e
def test_sigterm_stops_the_daemon_within_seconds_and_the_crawl_cleanly(env):
    env.write_sources({"long": ("2s", "hang")})
    proc = _daemon_process(env, stop_grace=timedelta(seconds=5))
    try:
        env.wait_for(lambda: env.runs("long") and env.runs("long")[0].pages_fetched == 1, 15,
                     "the crawl to fetch its first page")
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=15)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and took < 4, (took, err)
    run = env.runs("long")[0]
    assert run.outcome == "interrupted" and run.pages_fetched == 1  # what it fetched is kept
    assert env.state("long").lease_owner is None
    assert "SIGTERM received" in err and "stopped" in err


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_once_stopping_has_begun_no_waiting_source_starts_a_run(env, signum):
    """Sources due while every worker is busy wait in the pool; a stop must not start them (each
    would be a phantom run, signalled at once and recorded as interrupted in a fraction of a second)."""
    names = [f"s{n}" for n in range(8)]
    env.write_sources({name: ("2s", "hang") for name in names})
    proc = _daemon_process(env, workers=2, stop_grace=timedelta(seconds=5))
    try:
        # every first run is planned within the 2 s interval; two crawl, the rest wait for a worker
        env.wait_for(lambda: all(env.state(n) and env.state(n).next_run_at for n in names), 15, "the plan")
        last_due = max(env.state(n).next_run_at for n in names)
        env.wait_for(lambda: len(env.spans()) == 2 and utcnow() > last_due + timedelta(seconds=0.5), 15,
                     "two crawls under way and the other sources due")
        signalled = utcnow()
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    runs = env.runs()
    late = [(r.id, r.source, r.outcome, r.started_at) for r in runs if r.started_at > signalled]
    assert late == [], f"runs started after {signal.Signals(signum).name}: {late}"
    assert len(runs) == 2 and all(r.outcome == "interrupted" and r.pages_fetched == 1 for r in runs)
    assert all(env.state(n).lease_owner is None for n in names)


@pytest.mark.e2e
def test_a_killed_scheduler_leaves_a_died_run_and_the_next_start_frees_its_source(env):
    env.write_sources({"s": ("2s", "hang")})
    proc = _daemon_process(env)
    try:
        env.wait_for(lambda: env.spans(), 15, "the crawl to start")
        child = env.runs("s")[0].pid
        os.kill(proc.pid, signal.SIGKILL)
        os.kill(child, signal.SIGKILL)
        proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    env.wait_for(lambda: not scheduling.pid_alive(child), 5, "the crawl to be gone")
    assert env.runs("s")[0].outcome == "running"  # nobody could record it
    env.modes.write_text(json.dumps({"s": "ok:1:0.1"}))
    daemon = Running(env.settings())
    try:
        env.wait_for(lambda: any(r.outcome == "ok" for r in env.runs("s")), 10, "a run after the restart")
    finally:
        daemon.stop()
    first = env.runs("s")[0]
    assert first.outcome == "died" and "vanished" in first.message and first.pages_fetched == 1


@pytest.mark.e2e
def test_sources_command_shows_each_sources_health(env):
    env.write_sources({"fine": ("1m", "ok:4:0.1"), "broken": ("1m", "fail")})
    daemon = Running(env.settings())
    try:
        env.wait_for(lambda: len([r for r in env.runs() if r.outcome != "running"]) >= 2, 10, "both runs")
    finally:
        daemon.stop()
    result = CliRunner().invoke(main, ["sources", "--sources", str(env.sources), "--db", env.db, "--json"])
    assert result.exit_code == 0, result.output
    health = {entry["name"]: entry for entry in json.loads(result.output)}
    fine, broken = health["fine"], health["broken"]
    assert fine["last_success"] and fine["recent_new"] == [4] and fine["consecutive_failures"] == 0
    assert fine["last_run"]["outcome"] == "ok" and fine["next_run"] and fine["interval_seconds"] == 60
    assert broken["consecutive_failures"] == 1 and broken["last_error"] == "failed: DNS lookup failed for news.example"
    assert broken["last_success"] is None and broken["next_run"] > fine["next_run"]
    text = CliRunner().invoke(main, ["sources", "--sources", str(env.sources), "--db", env.db])
    assert text.exit_code == 0
    assert "broken: failing x1" in text.output and "DNS lookup failed" in text.output and "fine: ok" in text.output


def test_schedule_command_reports_a_bad_sources_file_in_one_line(env):
    env.sources.write_text('[[sources]]\nname = "x"\n')
    result = CliRunner().invoke(main, ["schedule", "--sources", str(env.sources), "--db", env.db])
    assert result.exit_code != 0
    assert "needs at least one of feeds" in result.output and "Traceback" not in result.output


@pytest.mark.e2e  # slow: a fresh Python process
def test_the_sources_command_reports_without_loading_the_scheduler(tmp_path):
    """`akhbar sources` only reads the archive: it must not import APScheduler (nor the daemon)."""
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "quiet"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n', encoding="utf-8")
    probe = ("import json, sys\n"
             "from click.testing import CliRunner\n"
             "from crawler.cli import main\n"
             "result = CliRunner().invoke(main, sys.argv[1:])\n"
             "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('apscheduler', 'scheduler'))\n"
             "print(json.dumps([result.exit_code, json.loads(result.output), loaded]))\n")
    done = subprocess.run([sys.executable, "-c", probe, "sources", "--sources", str(sources),
                           "--db", f"sqlite:///{tmp_path / 'archive.db'}", "--json"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    code, health, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0 and [entry["name"] for entry in health] == ["quiet"] and health[0]["last_run"] is None
    assert loaded == []
