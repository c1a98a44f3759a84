"""Retries wait outside the downloader's slots (crawler/retrywait.py), against a server on 127.0.0.1.

With one request slot for the whole process (``CONCURRENT_REQUESTS=1``), the first article page
asked for answers 503 with ``Retry-After``; the other pages must be fetched while that retry
waits, the retry must go out after the wait and its page be stored, and a crawl stopped during
the wait must end at once, cleanly.
"""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from waiting import wait_until

from tests.test_crawl import FAST, REPO, crawl

pytestmark = pytest.mark.e2e

PAGES = Path(__file__).parent / "fixtures" / "site" / "pages"
#: Real article pages, one per path (distinct texts: each one is a new article).
ARTICLES = ["albayan_2020-06-03.html", "youm7_2020-08-24.html", "cnnarabic_2013-08-03.html",
            "sputnik_2020-03-17.html", "alyaum_2020-12-01.html", "akhbarelyom_2020-10-07.html"]
ONE_SLOT = ["--set", "CONCURRENT_REQUESTS=1", "--set", "AUTOTHROTTLE_ENABLED=false"]


class FlakySite:
    """A feed of :data:`ARTICLES`; the first article page asked for answers 503 + ``Retry-After``
    once.  Every request is logged with its monotonic time and status."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.log: list[tuple[str, int, float]] = []
        self.flaky: str | None = None
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                status, headers, body = site.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        name = path.lstrip("/")
        with self.lock:
            if path == "/robots.txt":
                status, headers, body = 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
            elif path == "/feed.xml":
                items = "".join(f"<item><title>t</title><link>{self.url}/{a}</link></item>" for a in ARTICLES)
                body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()
                status, headers = 200, {"Content-Type": "application/rss+xml"}
            elif name in ARTICLES:
                if self.flaky is None:
                    self.flaky = name
                if name == self.flaky and not any(p == path for p, _, _ in self.log):
                    status, headers = 503, {"Content-Type": "text/html", "Retry-After": str(self.retry_after)}
                    body = b"<html><body>busy</body></html>"
                else:
                    status, headers = 200, {"Content-Type": "text/html; charset=utf-8"}
                    body = (PAGES / name).read_bytes()
            else:
                status, headers, body = 404, {}, b"not here"
            self.log.append((path, status, time.monotonic()))
        return status, headers, body

    def hits(self, name: str) -> list[tuple[int, float]]:
        with self.lock:
            return [(status, when) for path, status, when in self.log if path == f"/{name}"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky_site(request):
    site = FlakySite(request.param)
    yield site
    site.close()


def _sources(tmp_path: Path, site: FlakySite) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[sources]]\nname = "flaky"\nfeeds = ["{site.url}/feed.xml"]\n', encoding="utf-8")
    return path


def _stored_urls(db: str) -> set[str]:
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as conn:
        return {url for (url,) in conn.execute("SELECT url FROM documents WHERE outcome = 'stored'")}


@pytest.mark.parametrize("flaky_site", [4], indirect=True)
def test_other_pages_are_fetched_while_a_retry_waits_and_the_retry_is_stored(flaky_site, tmp_path):
    site = flaky_site
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    code, (run,) = crawl(_sources(tmp_path, site), db, tmp_path / "warc", *ONE_SLOT)
    assert site.flaky is not None
    (first, failed_at), (second, retried_at) = site.hits(site.flaky)
    assert (first, second) == (503, 200)
    assert retried_at - failed_at >= site.retry_after - 0.1, "the retry went out before Retry-After had passed"
    others = [name for name in ARTICLES if name != site.flaky]
    waited_until = failed_at + site.retry_after
    during = [name for name in others if any(failed_at < when < waited_until for _, when in site.hits(name))]
    assert during == others, f"fetched while the retry waited: {during}; {site.log}"
    assert code == 0 and run["outcome"] == "ok" and run["articles_new"] == len(ARTICLES), run
    assert f"{site.url}/{site.flaky}" in _stored_urls(db)


@pytest.mark.parametrize("flaky_site", [60], indirect=True)
def test_a_crawl_stopped_while_a_retry_waits_ends_at_once_and_keeps_what_it_fetched(flaky_site, tmp_path):
    site = flaky_site
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    others = len(ARTICLES) - 1
    child = subprocess.Popen(
        [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(_sources(tmp_path, site)),
         "--db", db, "--warc-dir", str(tmp_path / "warc"), "--json", *FAST, *ONE_SLOT],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def stored() -> int:
            try:
                return len(_stored_urls(db))
            except sqlite3.OperationalError:  # the schema is not there yet
                return 0

        wait_until(lambda: stored() == others or child.poll() is not None, 60, "the other pages stored")
        assert child.poll() is None, child.communicate()
        stopped = time.monotonic()
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 128 + signal.SIGTERM, err
    assert took < 15, f"stopping took {took:.1f}s (the retry waits 60 s)"
    assert "Traceback" not in err, err
    (run,) = json.loads(out)
    assert run["outcome"] == "interrupted" and run["articles_new"] == others, run
    assert [status for status, _ in site.hits(site.flaky)] == [503]  # the retry was dropped, not sent
