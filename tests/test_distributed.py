"""The distributed crawl: `akhbar worker`s on one redis (a real redis-server on 127.0.0.1) and one
PostgreSQL archive, fed by `akhbar crawl --redis`, crawling the local fixture site.

What one worker stores is the reference: two workers store exactly that, each page fetched once;
a worker killed with SIGKILL mid-crawl loses nothing and doubles nothing (its requests in flight
go back to the queue when their lease runs out); and the politeness of one host (its delay between
requests) holds for all workers together, as the site sees it.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redisserver import RedisServer
from sitefixture import FixtureSite
from sqlalchemy import create_engine, text
from waiting import wait_until

pytestmark = pytest.mark.e2e  # real redis-server, PostgreSQL, fixture site, worker subprocesses

REPO = Path(__file__).resolve().parents[1]
AKHBAR = [sys.executable, "-c", "from crawler.cli import main; main()"]
#: As in test_crawl: politeness on, waits shortened; the workers' counts go to redis every 0.5 s.
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_START_DELAY=0", "--set", "AKHBAR_RETRY_BACKOFF_BASE=0.1",
        "--set", "AKHBAR_HEARTBEAT_SECONDS=0.5", "--set", "AKHBAR_EXTRACT_WORKERS=1"]


def _redis_db(server: RedisServer, number: int) -> str:
    """A flushed database ``number`` of the session's redis (one per scenario)."""
    import redis

    url = f"redis://127.0.0.1:{server.port}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


class Workers:
    """`akhbar worker` subprocesses, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, tmp: Path, redis: str, sources: Path, db: str) -> None:
        self.tmp, self.redis, self.sources, self.db = tmp, redis, sources, db
        self.procs: list[subprocess.Popen] = []

    def start(self, *extra: str) -> subprocess.Popen:
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([*AKHBAR, "worker", "--redis", self.redis, "--sources", str(self.sources),
                                 "--db", self.db, "--warc-dir", str(self.tmp / "warc"), *FAST, *extra],
                                cwd=REPO, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append(proc)
        return proc

    def stop(self) -> list[int]:
        codes = []
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                codes.append(proc.wait(60))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes

    def logs(self) -> str:
        return "\n".join((self.tmp / f"worker-{i}.log").read_text(errors="replace")[-3000:]
                         for i in range(len(self.procs)))


def crawl_redis(redis: str, sources: Path, db: str, *extra: str) -> tuple[int, list[dict], str]:
    done = subprocess.run([*AKHBAR, "crawl", "--redis", redis, "--sources", str(sources), "--db", db, "--json",
                           *FAST, *extra], cwd=REPO, capture_output=True, text=True, timeout=240)
    return done.returncode, json.loads(done.stdout or "[]"), done.stderr


def stored(db: str) -> list[tuple[str, str]]:
    """(URL, content hash) of every stored article URL, sorted; repeated rows would show as repeats."""
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT u.url, a.content_hash FROM article_urls u "
                                     "JOIN articles a ON a.id = u.article_id ORDER BY u.url")).all()
            articles = conn.execute(text("SELECT count(*), count(DISTINCT content_hash) FROM articles")).one()
    finally:
        engine.dispose()
    assert articles[0] == articles[1]
    return [(url, digest) for url, digest in rows]


def warc_pids(warc: Path) -> set[str]:
    """The pids in the WARC file names (``akhbar-SOURCE-STAMP-PID-SERIAL.warc.gz``): who fetched."""
    return {path.name.split("-")[-2] for path in warc.glob("*.warc.gz")}


def relative(site: FixtureSite, rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rows with the site's origin taken off (two sites, two ports, one comparison)."""
    return [(url.removeprefix(site.url), digest) for url, digest in rows]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory, pg_server, redis_server):
    """The reference: one worker crawls a fresh fixture site into an empty PostgreSQL archive."""
    tmp = tmp_path_factory.mktemp("one")
    db = pg_server.create_database()
    with FixtureSite() as site:
        sources = site.write_sources(tmp / "sources.toml", timezone="Africa/Cairo")
        redis = _redis_db(redis_server, 1)
        workers = Workers(tmp, redis, sources, db)
        workers.start()
        try:
            code, report, err = crawl_redis(redis, sources, db)
        finally:
            workers.stop()
        assert code == 0, err + workers.logs()
        yield {"site": site, "rows": relative(site, stored(db)), "report": report}
    pg_server.drop_database(db)


def test_one_worker_stores_what_a_crawl_stores(one_worker):
    site, report = one_worker["site"], one_worker["report"]
    assert [run["outcome"] for run in report] == ["ok"]
    assert report[0]["articles_new"] == len(site.article_urls()) == len({d for _u, d in one_worker["rows"]})
    assert report[0]["errors"].get("http_404") == len(site.missing_urls())


def test_two_workers_store_exactly_what_one_stores_each_page_fetched_once(one_worker, tmp_path, pg_url,
                                                                        redis_server):
    redis = _redis_db(redis_server, 2)
    with FixtureSite() as site:
        sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
        workers = Workers(tmp_path, redis, sources, pg_url)
        for _ in range(2):  # two requests at a time each: neither can take the whole queue
            workers.start("--set", "CONCURRENT_REQUESTS=2")
        try:
            code, report, err = crawl_redis(redis, sources, pg_url)
        finally:
            codes = workers.stop()
        assert code == 0, err + workers.logs()
        assert codes == [0, 0], workers.logs()
        assert relative(site, stored(pg_url)) == one_worker["rows"]
        assert report[0]["outcome"] == "ok" and report[0]["articles_new"] == len({d for _u, d in one_worker["rows"]})
        for page in site.pages:  # the shared dupefilter: announced up to five times, fetched once by all
            if page.body is not None and not site.disallowed(page):
                assert [h.status for h in site.hits(page.path)] == [503] * page.fail_first + [200], page.path
        assert len(warc_pids(tmp_path / "warc")) == 2  # both workers fetched


def test_a_worker_killed_mid_crawl_loses_nothing_and_doubles_nothing(one_worker, tmp_path, pg_url, redis_server):
    redis = _redis_db(redis_server, 3)
    import redis as redis_driver

    client = redis_driver.Redis.from_url(redis)
    with FixtureSite() as site:
        sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
        workers = Workers(tmp_path, redis, sources, pg_url)
        # a short lease, so the survivor takes the dead worker's requests back soon; a shared delay, so
        # the crawl lasts long enough to be killed in the middle of it
        slow = ("--set", "AKHBAR_REDIS_LEASE=2", "--set", "DOWNLOAD_DELAY=0.25", "--set", "CONCURRENT_REQUESTS=2")
        victim = workers.start(*slow)
        crawl = subprocess.Popen([*AKHBAR, "crawl", "--redis", redis, "--sources", str(sources), "--db", pg_url,
                                  "--json", *FAST],
                                 cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # killed while it holds requests (in flight, under its lease) and pages are left to fetch
            wait_until(lambda: len(site.log) >= 6 and client.hlen("akhbar:fixture:inflight") > 0, timeout=60)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            held = client.hlen("akhbar:fixture:inflight")
            survivor = workers.start(*slow)
            out, err = crawl.communicate(timeout=180)
        finally:
            if crawl.poll() is None:
                crawl.kill()
            workers.stop()
            client.close()
        assert held > 0
        assert crawl.returncode == 0, err + workers.logs()
        assert survivor.returncode == 0
        report = json.loads(out)
        assert relative(site, stored(pg_url)) == one_worker["rows"]
        assert report[0]["outcome"] == "ok"


def test_the_delay_of_a_host_holds_across_workers(tmp_path, pg_url, redis_server):
    delay = 0.5
    redis = _redis_db(redis_server, 4)
    with FixtureSite() as site:
        times: list[float] = []
        paths: list[tuple[float, str, int]] = []
        record = site.record

        def timed(entry):
            times.append(time.monotonic())
            paths.append((times[-1], entry.path, entry.status))
            record(entry)

        site.record = timed
        sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
        workers = Workers(tmp_path, redis, sources, pg_url)
        for _ in range(2):
            workers.start("--set", f"DOWNLOAD_DELAY={delay}", "--set", "CONCURRENT_REQUESTS=2")
        try:
            code, report, err = crawl_redis(redis, sources, pg_url)
        finally:
            workers.stop()
        assert code == 0, err + workers.logs()
        assert len(warc_pids(tmp_path / "warc")) == 2  # both workers fetched from the host
    gaps = sorted(b - a for a, b in zip(sorted(times), sorted(times)[1:]))
    assert len(gaps) >= 15
    shown = "\n".join(f"{t:.3f} {p} {s}" for t, p, s in sorted(paths))
    # The slot is taken on the redis clock just before a request is handed to the downloader; the site
    # stamps it when it answers.  Between the two: opening a connection, a worker's reactor busy for a
    # moment - up to about a tenth of a second here (2 shared cores).  Without the shared slot the two
    # workers' requests come together (gaps near 0).
    assert gaps[0] >= delay - 0.15, shown
    assert gaps[len(gaps) // 2] >= delay * 0.95, shown


def test_the_scheduler_hands_a_due_crawl_to_the_workers_and_records_its_run(one_worker, tmp_path, pg_url,
                                                                             redis_server):
    from sqlalchemy.orm import Session

    from scheduler import run_source
    from storage import scheduling
    from storage.db import open_engine
    from storage.runs import list_runs

    redis = _redis_db(redis_server, 5)
    with FixtureSite() as site:
        sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
        workers = Workers(tmp_path, redis, sources, pg_url)
        workers.start()
        engine = open_engine(pg_url)
        try:
            next_run = run_source("fixture", str(sources), pg_url, time_limit="120s", redis_url=redis)
        finally:
            workers.stop()
        with Session(engine) as session:
            runs = list_runs(session, source="fixture")
            state = scheduling.get_state(session, "fixture")
        engine.dispose()
        assert next_run is not None  # the run was concluded: the source has its next run time
        assert [(r.trigger, r.outcome) for r in runs] == [("schedule", "ok")]
        assert runs[0].articles_new == len({d for _u, d in one_worker["rows"]})
        assert runs[0].pages_fetched > 0 and runs[0].errors.get("http_404") == len(site.missing_urls())
        assert state is not None and state.lease_owner is None and state.consecutive_failures == 0
        assert relative(site, stored(pg_url)) == one_worker["rows"]


def test_scrapy_crawl_with_redis_url_is_a_worker(one_worker, tmp_path, pg_url, redis_server):
    redis = _redis_db(redis_server, 6)
    with FixtureSite() as site:
        sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
        settings = [arg.replace("--set", "-s") for arg in FAST]
        log = open(tmp_path / "scrapy.log", "wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "source", "-a", "source=fixture", "-a", f"sources={sources}",
             "-a", f"db={pg_url}", "-a", f"warc_dir={tmp_path / 'warc'}", "-s", f"REDIS_URL={redis}", *settings],
            cwd=REPO, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        try:
            code, report, err = crawl_redis(redis, sources, pg_url)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        assert code == 0, err + (tmp_path / "scrapy.log").read_text(errors="replace")[-3000:]
        assert report[0]["outcome"] == "ok"
        assert relative(site, stored(pg_url)) == one_worker["rows"]


def test_a_retry_waits_in_redis_not_in_a_request_slot(tmp_path, pg_url, redis_server):
    """One worker with one request slot: the page answering 503 + Retry-After waits out its backoff in
    redis while every other page is fetched, then any worker takes it from the queue and stores it."""
    from tests.test_retry_wait import ARTICLES, FlakySite, _sources

    site = FlakySite(retry_after=4)
    redis = _redis_db(redis_server, 6)
    workers = Workers(tmp_path, redis, _sources(tmp_path, site), pg_url)
    workers.start("--set", "CONCURRENT_REQUESTS=1", "--set", "AUTOTHROTTLE_ENABLED=false")
    try:
        code, report, err = crawl_redis(redis, _sources(tmp_path, site), pg_url)
    finally:
        workers.stop()
        site.close()
    assert code == 0, err + workers.logs()
    assert site.flaky is not None
    (first, failed_at), (second, retried_at) = site.hits(site.flaky)
    assert (first, second) == (503, 200)
    assert retried_at - failed_at >= site.retry_after - 0.1, "the retry went out before Retry-After had passed"
    others = [name for name in ARTICLES if name != site.flaky]
    during = [name for name in others if any(failed_at < when < failed_at + site.retry_after
                                            for _, when in site.hits(name))]
    assert during == others, f"fetched while the retry waited: {during}; {site.log}"
    assert [run["outcome"] for run in report] == ["ok"] and report[0]["articles_new"] == len(ARTICLES), report
    assert f"{site.url}/{site.flaky}" in {url for url, _digest in stored(pg_url)}
