"""Live crawls of the local Arabic fixture site (127.0.0.1), through `akhbar crawl` in a subprocess.

Expected numbers come from the site's own description (tests/fixtures/site/site.json through
tests/sitefixture.py): which pages a polite crawler can store, which robots.txt forbids, which
answer 503 first.  Twisted's reactor runs once per process, so every crawl is its own process,
as the scheduler runs it.
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
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from sitefixture import FixtureSite
from sqlalchemy.orm import Session
from waiting import wait_until
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import main
from storage.archive import document_raw
from storage.db import open_engine
from storage.models import Document
from storage.runs import start_run

pytestmark = pytest.mark.e2e  # crawls of the fixture site, in subprocesses

REPO = Path(__file__).resolve().parents[1]
#: Politeness stays on (robots, AutoThrottle, per-domain limits); only the waiting is shortened.
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_START_DELAY=0", "--set", "AKHBAR_RETRY_BACKOFF_BASE=0.1",
        "--set", "AKHBAR_HEARTBEAT_SECONDS=0.5"]
REPORT_KEYS = {"run_id", "source", "outcome", "pages_fetched", "not_modified", "articles_new", "articles_duplicate",
               "articles_rejected", "skipped_seen", "errors", "bytes"}


def akhbar(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from crawler.cli import main; main()", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120, **kwargs)


def crawl(sources: Path, db: str, warc: Path, *extra: str) -> tuple[int, list[dict]]:
    result = akhbar("crawl", "--sources", str(sources), "--db", db, "--warc-dir", str(warc), "--json", *FAST, *extra)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def stats(db: str) -> dict:
    result = CliRunner().invoke(main, ["stats", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def content_hashes(db: str) -> set[str]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return {row[0] for row in conn.execute("SELECT content_hash FROM articles")}


def page_paths(site: FixtureSite, entries) -> list[str]:
    """Decoded paths of the article pages (any page of site.json, stored or not) among log entries."""
    return [e.path for e in entries if site.page_at(e.path) is not None]


@pytest.fixture(scope="module")
def first_crawl(tmp_path_factory):
    """One crawl of a fresh site into an empty archive; the requests it made, with times."""
    tmp = tmp_path_factory.mktemp("crawl")
    with FixtureSite() as site:
        times: list[tuple[str, int, float]] = []
        record = site.record

        def timed(entry):  # the site's request log, with when each answer went out
            times.append((entry.path, entry.status, time.monotonic()))
            record(entry)

        site.record = timed
        sources = site.write_sources(tmp / "sources.toml", timezone="Africa/Cairo")
        db = f"sqlite:///{tmp / 'archive.db'}"
        code, report = crawl(sources, db, tmp / "warc")
        yield {"site": site, "db": db, "warc": tmp / "warc", "code": code, "report": report, "log": site.log,
               "times": times, "tmp": tmp}


def test_a_crawl_stores_every_unique_article_once(first_crawl):
    site, report = first_crawl["site"], first_crawl["report"]
    expected = len(site.article_urls())
    assert first_crawl["code"] == 0
    assert len(report) == 1 and set(report[0]) == REPORT_KEYS
    run = report[0]
    assert (run["source"], run["outcome"], run["articles_new"]) == ("fixture", "ok", expected)
    assert stats(first_crawl["db"])["articles"] == expected
    assert run["errors"].get("http_404") == len(site.missing_urls())
    assert run["pages_fetched"] + run["not_modified"] == len(first_crawl["log"])


def test_nothing_robots_forbids_is_fetched_and_each_article_page_once(first_crawl):
    site, log = first_crawl["site"], first_crawl["log"]
    assert site.disallowed_urls()
    for page in site.pages:
        hits = site.hits(page.path)
        if site.disallowed(page):
            assert hits == [], page.path
        elif page.body is not None:  # announced up to five times, fetched once (plus its 503s)
            assert [h.status for h in hits] == [503] * page.fail_first + [200], page.path
    assert [e.path for e in log].count("/robots.txt") == 1
    agents = {e.headers.get("User-Agent", "") for e in log}
    assert all(a.startswith("akhbar/") and "mailto:" in a for a in agents), agents


def test_a_page_that_answered_503_is_retried_after_retry_after(first_crawl):
    site, times = first_crawl["site"], first_crawl["times"]
    failing = [p for p in site.pages if p.fail_first]
    assert failing
    for page in failing:
        answers = [(status, t) for path, status, t in times if path.rstrip("/") == page.path.rstrip("/")]
        assert [s for s, _ in answers] == [503, 200]
        assert answers[1][1] - answers[0][1] >= 0.95  # the site said Retry-After: 1


def test_every_response_is_in_warc_and_documents_point_at_it(first_crawl):
    files = sorted(first_crawl["warc"].glob("*.warc.gz"))
    assert files
    responses = []
    for path in files:
        with open(path, "rb") as stream:
            responses += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream)
                          if r.rec_type == "response"]
    assert len(responses) == len(first_crawl["log"])
    engine = open_engine(first_crawl["db"])
    with Session(engine) as session:
        docs = session.query(Document).all()
        assert docs and all(d.warc_path and d.raw is None for d in docs)
        for doc in docs:  # bytes read back through the pointer match the stored SHA-256
            assert document_raw(session, doc.id)
    engine.dispose()


def test_replaying_the_crawls_warc_stores_the_same_articles(first_crawl, tmp_path):
    files = [str(p) for p in sorted(first_crawl["warc"].glob("*.warc.gz"))]
    empty = f"sqlite:///{tmp_path / 'replayed.db'}"
    result = CliRunner().invoke(main, ["replay", *files, "--db", empty, "--json"])
    assert result.exit_code == 0, result.output
    assert content_hashes(empty) == content_hashes(first_crawl["db"])
    assert len(content_hashes(empty)) == len(first_crawl["site"].article_urls())


def test_runs_lists_the_crawl(first_crawl):
    result = CliRunner().invoke(main, ["runs", "--db", first_crawl["db"], "--json"])
    assert result.exit_code == 0
    (run,) = json.loads(result.output)
    report = first_crawl["report"][0]
    assert run["id"] == report["run_id"] and run["outcome"] == "ok" and run["trigger"] == "manual"
    assert run["finished_at"] and run["articles_new"] == report["articles_new"] and run["bytes"] == report["bytes"]


def test_the_next_crawls_fetch_only_what_is_new(fixture_site, tmp_path, db_url):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db, warc = db_url, tmp_path / "warc"  # SQLite, then PostgreSQL
    code, _ = crawl(sources, db, warc)
    assert code == 0
    first_pages = page_paths(site, site.log)
    site.reset_log()

    new_url = site.add_article()  # one new item in the feeds and the news sitemap
    code, (run,) = crawl(sources, db, warc)
    assert code == 0 and run["articles_new"] == 1
    assert page_paths(site, site.log) == [unquote(new_url.removeprefix(site.url))]
    assert stats(db)["articles"] == len(site.article_urls())
    site.reset_log()

    code, (run,) = crawl(sources, db, warc)  # nothing new
    assert code == 0 and run["articles_new"] == 0
    assert len(page_paths(site, site.log)) < 0.05 * len(first_pages)
    conditional = [e for e in site.log if e.path in ("/feed.xml", "/atom.xml", "/sitemap_index.xml")]
    assert len(conditional) == 3 and all(e.status == 304 and e.headers.get("If-None-Match") for e in conditional)
    assert run["not_modified"] == len([e for e in site.log if e.status == 304])


def test_scrapy_crawl_runs_one_spider_from_the_repo_root(fixture_site, tmp_path):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", name="feeds-only", timezone="Africa/Cairo")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", "source=feeds-only", "-a", f"sources={sources}",
         "-a", f"db={db}", "-a", f"warc_dir={tmp_path / 'warc'}", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "AKHBAR_RETRY_BACKOFF_BASE=0.1", "-s", "LOG_LEVEL=WARNING"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    from_feeds = set(site.article_urls("rss")) | set(site.article_urls("atom"))
    assert stats(db)["articles"] == len(from_feeds)
    assert not [e for e in site.log if e.path.startswith("/sitemap") or e.path.rstrip("/") == "/news"]
    assert list((tmp_path / "warc").glob("*.warc.gz"))


def _unreachable_source(tmp_path: Path) -> Path:
    """A sources file with one source, "down", whose feed is on a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "down"\nfeeds = ["http://127.0.0.1:{port}/feed.xml"]\n', encoding="utf-8")
    return sources


def test_an_unreachable_source_fails_the_run_it_was_given(tmp_path):
    sources = _unreachable_source(tmp_path)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = open_engine(db)
    with Session(engine) as session:
        run_id = start_run(session, "down", trigger="schedule", pid=1)
        session.commit()
    engine.dispose()
    code, report = crawl(sources, db, tmp_path / "warc", "down", "--run-id", str(run_id), "--trigger", "schedule",
                         "--set", "RETRY_TIMES=1")
    assert code == 1
    assert [(r["run_id"], r["outcome"]) for r in report] == [(run_id, "failed")]
    assert report[0]["errors"] == {"connection_refused": 1}
    (run,) = json.loads(CliRunner().invoke(main, ["runs", "--db", db, "--json"]).output)
    assert run["id"] == run_id and run["outcome"] == "failed" and "connection_refused" in run["message"]


def test_sigterm_does_not_wait_out_a_retry_backoff(tmp_path):
    """A crawl waiting to retry an unreachable outlet (here a 60 s backoff) stops within seconds on
    SIGTERM, as interrupted: the pending retry is dropped, not waited for until the crawl is killed."""
    sources = _unreachable_source(tmp_path)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    log = tmp_path / "crawl.log"
    with log.open("w") as err:  # DEBUG: Scrapy says "Retrying <GET ...>" as the backoff begins
        child = subprocess.Popen(
            [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources), "--db", db,
             "--warc-dir", str(tmp_path / "warc"), "--json", "--set", "AKHBAR_RETRY_BACKOFF_BASE=60",
             "--set", "AKHBAR_HEARTBEAT_SECONDS=0.2", "-vv"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        wait_until(lambda: "Retrying <GET" in log.read_text() or child.poll() is not None, 60,
                   "the first retry's backoff", report=lambda: log.read_text()[-2000:])
        assert child.poll() is None, log.read_text()[-2000:]
        stopped = time.monotonic()
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 128 + signal.SIGTERM, log.read_text()[-2000:]
    assert took < 10, f"stopping took {took:.1f}s"
    (run,) = json.loads(out)
    assert run["outcome"] == "interrupted"


def _articles_so_far(db: str) -> int:
    """The new articles the running crawl's last heartbeat recorded (0 before its run row exists)."""
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"), timeout=30)) as conn:
        try:
            return max((n for (n,) in conn.execute("SELECT articles_new FROM crawl_runs")), default=0)
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def test_sigterm_stops_the_crawl_cleanly_and_the_next_one_finishes_the_job(fixture_site, tmp_path):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db, warc = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "warc"
    slow = ["--set", "DOWNLOAD_DELAY=0.5", "--set", "AUTOTHROTTLE_ENABLED=false", "--set", "AKHBAR_HEARTBEAT_SECONDS=0.2",
            "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    child = subprocess.Popen(
        [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources), "--db", db,
         "--warc-dir", str(warc), "--json", *slow], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # a couple of articles in, most still to go, and at least one heartbeat with counters
        wait_until(lambda: len(page_paths(site, site.log)) >= 2 or child.poll() is not None, 60, "two article fetches")
        wait_until(lambda: _articles_so_far(db) >= 1 or child.poll() is not None, 60, "a heartbeat with an article")
        assert child.poll() is None
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 128 + signal.SIGTERM, err
    (run,) = json.loads(out)
    assert run["outcome"] == "interrupted"
    kept = stats(db)["articles"]
    assert run["articles_new"] == kept and 0 < kept < len(site.article_urls())
    code, (second,) = crawl(sources, db, warc)
    assert code == 0 and second["articles_new"] == len(site.article_urls()) - kept
    assert stats(db)["articles"] == len(site.article_urls())


def _without_contact() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "AKHBAR_CONTACT"}


def test_a_refused_connection_is_one_line_without_verbose_and_the_whole_story_with_it(tmp_path):
    sources = _unreachable_source(tmp_path)
    args = ["crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'archive.db'}",
            "--warc-dir", str(tmp_path / "warc"), "--set", "RETRY_TIMES=1", "--set", "AKHBAR_RETRY_BACKOFF_BASE=0.1"]
    env = {**_without_contact(), "AKHBAR_CONTACT": "mailto:ops@example.org"}
    quiet = akhbar(*args, env=env)
    assert quiet.returncode == 1
    (line,) = quiet.stderr.splitlines()
    assert line.startswith("akhbar: down: http://127.0.0.1:") and "connection_refused" in line
    loud = akhbar(*args, "-v", env=env)
    assert loud.returncode == 1 and "Gave up retrying" in loud.stderr and len(loud.stderr.splitlines()) > 3


def test_a_crawl_without_a_contact_warns_once_at_its_start(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sources = tmp_path / "sources.toml"
    sources.write_text("".join(f'[[sources]]\nname = "{name}"\nfeeds = ["http://127.0.0.1:{port}/{name}.xml"]\n'
                               for name in ("one", "two")), encoding="utf-8")
    args = ["crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'archive.db'}",
            "--warc-dir", str(tmp_path / "warc"), "--set", "RETRY_TIMES=0"]
    unset = akhbar(*args, env=_without_contact())
    warned = [line for line in unset.stderr.splitlines() if "AKHBAR_CONTACT" in line]
    assert len(warned) == 1 and "WARNING" in warned[0] and "is not set" in warned[0], unset.stderr
    given = akhbar(*args, env={**_without_contact(), "AKHBAR_CONTACT": "mailto:ops@example.org"})
    assert given.returncode == 1 and "AKHBAR_CONTACT" not in given.stderr


@pytest.mark.parametrize("arguments, problem", [
    ([], "give the source to crawl: -a source=NAME"),
    (["-a", "source=nowhere"], "no source named 'nowhere'"),
])
def test_scrapy_crawl_without_a_usable_source_is_one_error_line(tmp_path, arguments, problem):
    sources = _unreachable_source(tmp_path)
    env = {**os.environ, "AKHBAR_DB": f"sqlite:///{tmp_path / 'archive.db'}"}
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "feed", *arguments, "-a", f"sources={sources}"],
                            cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if "error:" in line]
    assert error.endswith(f"spider feed: {problem}" if "nowhere" not in problem else problem)
