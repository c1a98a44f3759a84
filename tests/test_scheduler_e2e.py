"""`akhbar schedule` end to end: the real crawl command on the local fixture site (127.0.0.1).

The scheduler is SIGKILLed together with its crawl in the middle of a crawl, started again, and
must end with every article stored exactly once, store nothing twice on the runs after, list
every run (the killed one marked ``died``), show each source's health, and stop on SIGTERM
within seconds.  Politeness stays on; only the crawl's waiting is shortened (``--set``).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sitefixture import FixtureSite
from waiting import wait_until

from crawler.cli import main

pytestmark = pytest.mark.e2e  # the real scheduler and crawl processes on the fixture site

REPO = Path(__file__).resolve().parents[1]
CRAWL_SETTINGS = ["--set", "DOWNLOAD_DELAY=0.3", "--set", "AUTOTHROTTLE_START_DELAY=0.3",
                  "--set", "AKHBAR_RETRY_BACKOFF_BASE=0.1", "--set", "AKHBAR_HEARTBEAT_SECONDS=0.5"]


def offline_sources(path: Path, name: str, extra: str = "") -> Path:
    """A sources file with one source whose feed is on a port of 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path.write_text(f'[[sources]]\nname = "{name}"\nfeeds = ["http://127.0.0.1:{port}/feed.xml"]\n{extra}',
                    encoding="utf-8")
    return path


def schedule(sources: Path, db: str, log: Path) -> subprocess.Popen:
    with log.open("a") as err:
        return subprocess.Popen(
            [sys.executable, "-c", "from crawler.cli import main; main()", "schedule", "--sources", str(sources),
             "--db", db, "--lease", "6s", "--stop-grace", "5s", *CRAWL_SETTINGS],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)


def query(db: str, sql: str) -> list[tuple]:
    with sqlite3.connect(db.removeprefix("sqlite:///"), timeout=30) as conn:
        return conn.execute(sql).fetchall()


def runs(db: str) -> list[tuple]:
    """(id, outcome, articles_new, pid) of every run, oldest first."""
    try:
        return query(db, "SELECT id, outcome, articles_new, pid FROM crawl_runs ORDER BY id")
    except sqlite3.OperationalError:  # not created yet
        return []


def wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    wait_until(predicate, timeout, what, interval=0.2, report=lambda: "\n" + log.read_text()[-3000:])


def test_killed_mid_crawl_and_restarted_it_stores_every_article_once(tmp_path):
    log = tmp_path / "schedule.log"
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with FixtureSite() as site:
        expected = len(site.article_urls())
        sources = site.write_sources(tmp_path / "sources.toml", interval="5s")
        first = schedule(sources, db, log)
        try:
            # it starts crawling by itself; kill it with its crawl once some articles are in
            wait_for(lambda: any(r[1] == "running" and r[2] >= 2 for r in runs(db)), 40, "a crawl under way", log)
            killed_id, _, _, child = next(r for r in runs(db) if r[1] == "running")
            os.kill(first.pid, signal.SIGKILL)
            os.kill(child, signal.SIGKILL)
            first.wait(5)
        finally:
            if first.poll() is None:
                first.kill()
        stored_before = query(db, "SELECT count(*) FROM articles")[0][0]
        assert 2 <= stored_before < expected, "killed in the middle of the crawl"

        restarted = time.monotonic()
        second = schedule(sources, db, log)
        try:
            wait_for(lambda: query(db, "SELECT count(*) FROM articles")[0][0] >= expected
                     and any(r[0] > killed_id and r[1] == "ok" for r in runs(db)), 60, "the archive complete", log)
            assert time.monotonic() - restarted < 60
            completed = max(r[0] for r in runs(db) if r[1] == "ok")
            # the runs after store nothing twice
            wait_for(lambda: any(r[0] > completed and r[1] == "ok" for r in runs(db)), 30, "one more run", log)
            stopped = time.monotonic()
            second.send_signal(signal.SIGTERM)
            second.wait(15)
            assert time.monotonic() - stopped < 8, "SIGTERM stops it within seconds"
        finally:
            if second.poll() is None:
                second.kill()
    assert second.returncode == 0, log.read_text()[-2000:]
    assert query(db, "SELECT count(*), count(DISTINCT content_hash) FROM articles")[0] == (expected, expected)
    every = runs(db)
    # the runs after the kill store exactly what the killed one had not (its own counters may lag
    # behind what it committed by one heartbeat: it was SIGKILLed)
    assert sum(r[2] for r in every if r[0] > killed_id) == expected - stored_before
    assert all(r[2] == 0 for r in every if r[0] > completed)

    listed = CliRunner().invoke(main, ["runs", "--db", db, "--json", "--limit", "1000"])
    assert listed.exit_code == 0, listed.output
    by_id = {run["id"]: run for run in json.loads(listed.output)}
    assert set(by_id) == {r[0] for r in every}, "every run is listed"
    assert by_id[killed_id]["outcome"] == "died" and 0 < by_id[killed_id]["articles_new"] <= stored_before
    assert all(run["outcome"] in ("ok", "interrupted", "died") for run in by_id.values())
    assert all(run["finished_at"] for run in by_id.values())

    health = CliRunner().invoke(main, ["sources", "--sources", str(sources), "--db", db, "--json"])
    assert health.exit_code == 0, health.output
    (fixture,) = json.loads(health.output)
    assert fixture["name"] == "fixture" and fixture["last_success"] and fixture["next_run"]
    assert fixture["consecutive_failures"] == 0 and fixture["running"] is False
    assert fixture["last_error"].startswith("died")  # the killed run is part of its record
    assert fixture["recent_new"][-1] == 0 and sum(fixture["recent_new"]) == expected - stored_before
    assert "run " in log.read_text() and "Traceback" not in log.read_text()


def test_without_network_each_failure_is_one_log_line_and_backed_off(tmp_path):
    sources = offline_sources(tmp_path / "sources.toml", "offline", 'interval = "1s"\n')
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    log = tmp_path / "schedule.log"
    proc = schedule(sources, db, log)
    try:
        wait_for(lambda: len([r for r in runs(db) if r[1] == "failed"]) >= 2, 30, "two failed runs", log)
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    text = log.read_text()
    failures = [line for line in text.splitlines() if " offline failed " in line]
    assert len(failures) == len([r for r in runs(db) if r[1] == "failed"]) and "Traceback" not in text
    assert "retry in 2s" in failures[0] and "retry in 4s" in failures[1]
    health = CliRunner().invoke(main, ["sources", "--sources", str(sources), "--db", db])
    assert "offline: failing x" in health.output and "last error" in health.output


def test_the_crawl_records_its_own_pid_on_the_run_it_adopts(tmp_path):
    """The dead-run check watches the pid on the run: the crawl writes its own there, whatever
    process created the row (here a made-up pid 1, as if the scheduler's write had been lost)."""
    from crawler.cli.support import archive_session
    from storage.runs import start_run

    sources = offline_sources(tmp_path / "sources.toml", "down")  # nothing to fetch: a short crawl
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with archive_session(click.Context(main), db) as session:
        run_id = start_run(session, "down", trigger="schedule", pid=1)
        session.commit()
    crawl = subprocess.Popen(
        [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "down", "--run-id", str(run_id),
         "--trigger", "schedule", "--sources", str(sources), "--db", db, "--warc-dir", str(tmp_path / "warc"),
         "--json", "--set", "RETRY_TIMES=0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = crawl.communicate(timeout=60)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert json.loads(out)[0]["run_id"] == run_id, err
    assert runs(db) == [(run_id, "failed", 0, crawl.pid)]
