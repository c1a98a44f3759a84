"""A crawl on all cores: extraction in worker processes (crawler/extractpool.py), archive writes in
batches from one thread (crawler/archivewriter.py), and the crawl that uses both
(crawler/pipelines.py): killed at any moment, the next crawl finishes the job."""
from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from waiting import wait_until

from crawler.archivewriter import ArchiveWriter
from crawler.capture.document import RawDocument
from crawler.extraction import TIMED_OUT, extract_document, job_of
from crawler.extractpool import ExtractPool
from storage import archive
from storage.db import open_engine
from storage.models import Source

pytestmark = pytest.mark.e2e  # slow: worker processes started and killed

REPO = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "fixtures" / "site" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
WHEN = datetime(2020, 6, 3, 12, tzinfo=timezone.utc)


def page(name: str = "albayan_2020-06-03.html") -> RawDocument:
    return RawDocument(data=(PAGES / name).read_bytes(), url=f"https://news.example/{name}", headers=HTML)


@pytest.fixture
def pool():
    pool = ExtractPool(1, timeout=60)
    yield pool
    pool.close()


# --- the pool of extraction processes ---------------------------------------------------------


def test_a_worker_process_extracts_what_this_process_would(pool):
    for name in sorted(os.listdir(PAGES))[:3]:
        doc = page(name)
        there = pool.submit(job_of(doc, WHEN)).result(timeout=60)
        here = extract_document(doc, WHEN)
        assert there == here and there.outcome == "article"
    worker = pool.workers[0].process
    assert worker is not None and worker.pid != os.getpid() and worker.is_alive()


def test_a_page_over_the_time_limit_is_rejected_and_its_worker_replaced(pool):
    pool.submit(job_of(page(), WHEN)).result(timeout=60)  # the worker is up
    first = pool.workers[0].process
    pool.timeout = 0.001  # no real page is extracted in a millisecond
    late = pool.submit(job_of(page(), WHEN)).result(timeout=60)
    assert (late.outcome, late.reason, late.article) == ("rejected", TIMED_OUT, None)
    assert not first.is_alive()  # killed, not left to finish
    pool.timeout = 60
    again = pool.submit(job_of(page(), WHEN)).result(timeout=60)
    assert again.outcome == "article" and pool.workers[0].process.pid != first.pid


def test_a_worker_that_dies_is_an_error_for_its_page_and_is_replaced(pool):
    pool.submit(job_of(page(), WHEN)).result(timeout=60)
    dead = pool.workers[0].process
    os.kill(dead.pid, signal.SIGKILL)
    dead.join(10)
    lost = pool.submit(job_of(page(), WHEN)).result(timeout=60)
    assert lost.outcome == "error" and lost.reason.startswith("extraction worker died")
    assert pool.submit(job_of(page(), WHEN)).result(timeout=60).outcome == "article"


def test_the_pools_queue_is_bounded(pool):
    job = job_of(page(), WHEN)
    taken = []
    with pytest.raises(queue.Full):
        for _ in range(pool.capacity + len(pool.workers) + 1):
            taken.append(pool.submit(job))
    assert pool.capacity <= len(taken) <= pool.capacity + len(pool.workers)
    assert all(f.result(timeout=120).outcome == "article" for f in taken)


# --- the archive writer ------------------------------------------------------------------------


def test_writes_are_committed_in_batches_and_a_failing_one_costs_only_itself(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")

    def fail(session):
        archive.get_or_create_source(session, "half-written")
        raise ValueError("no")

    writer = ArchiveWriter(engine, batch=10, wait=5)  # the 6 pieces wait for each other: one batch
    futures = [writer.submit(lambda s, n=n: archive.get_or_create_source(s, f"s{n}")) for n in range(5)]
    futures.insert(2, writer.submit(fail))
    writer.close()
    assert isinstance(futures[2].exception(), ValueError)
    assert all(f.result() > 0 for i, f in enumerate(futures) if i != 2)
    with Session(engine) as session:
        names = set(session.scalars(select(Source.name)))
    assert names == {f"s{n}" for n in range(5)}
    engine.dispose()


def test_nothing_is_committed_before_its_batch_is(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    writer = ArchiveWriter(engine, batch=3, wait=60)
    first = [writer.submit(lambda s, n=n: archive.get_or_create_source(s, f"s{n}")) for n in range(2)]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0
        assert not any(f.done() for f in first)
    third = writer.submit(lambda s: archive.get_or_create_source(s, "s2"))  # the batch is full: written
    assert third.result(timeout=30) and all(f.result(timeout=1) for f in first)
    writer.close()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 3
    engine.dispose()


# --- the crawl ---------------------------------------------------------------------------------

FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_START_DELAY=0", "--set", "AKHBAR_HEARTBEAT_SECONDS=0.5"]


def crawl_command(sources: Path, db: str, warc: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources),
            "--db", db, "--warc-dir", str(warc), "--json", *FAST, *extra]


def articles(db: str) -> int:
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"), timeout=30)) as conn:
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


@pytest.mark.e2e
def test_a_crawl_killed_outright_loses_only_what_was_in_flight_and_the_next_one_takes_it_in(fixture_site, tmp_path):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db, warc = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "warc"
    slow = ["--set", "DOWNLOAD_DELAY=0.3", "--set", "AUTOTHROTTLE_ENABLED=false",
            "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "--set", "AKHBAR_WRITE_BATCH=3"]
    log = tmp_path / "crawl.log"
    with open(log, "wb") as err:
        child = subprocess.Popen(crawl_command(sources, db, warc, *slow), cwd=REPO, stdout=subprocess.DEVNULL,
                                 stderr=err, start_new_session=True)
    try:
        wait_until(lambda: articles(db) >= 2 or child.poll() is not None, 60, "two articles committed",
                   report=lambda: f"{articles(db)} committed; the crawl's log ends: {log.read_text()[-1500:]!r}")
        assert child.poll() is None
        os.killpg(child.pid, signal.SIGKILL)  # the crawl and its workers, no goodbye
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    kept = articles(db)
    assert 0 < kept < len(site.article_urls())
    again = subprocess.run(crawl_command(sources, db, warc), cwd=REPO, capture_output=True, text=True, timeout=120)
    (run,) = json.loads(again.stdout)
    assert run["outcome"] == "ok", again.stderr
    assert articles(db) == len(site.article_urls()) and run["articles_new"] == len(site.article_urls()) - kept


@pytest.mark.e2e
def test_a_crawl_rejects_the_pages_over_its_extraction_time_limit(fixture_site, tmp_path):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = subprocess.run(crawl_command(sources, db, tmp_path / "warc", "--set", "AKHBAR_EXTRACT_TIMEOUT=0.001",
                                          "--set", "AKHBAR_EXTRACT_WORKERS=1"),
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    (run,) = json.loads(result.stdout)
    assert run["articles_new"] == 0 and run["articles_rejected"] > 0
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as conn:
        reasons = {r for (r,) in conn.execute("SELECT reason FROM documents WHERE outcome = 'rejected'")}
    assert reasons == {TIMED_OUT}


def test_the_workers_forkserver_loads_the_language_profiles_before_forking_them():
    """The forkserver imports the warm-up module last; importing it loads langdetect's profiles, so
    no worker loads them again on its first page (the workers are forked from that process)."""
    from crawler import extractpool

    code = ("from crawler.core import language\n"
            "assert language._profiles.cache_info().currsize == 0\n"
            f"import {extractpool.WARM_MODULE}\n"
            "assert language._profiles.cache_info().currsize == 1\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
    assert extractpool.PRELOAD[-1] == extractpool.WARM_MODULE
