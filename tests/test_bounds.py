"""Bounds of one crawl, against small servers on 127.0.0.1: a page over the size bound (a gzip bomb,
or plain bytes) stops in the download and the crawl goes on; a truncated sitemap is a recorded
error and keeps no validator; redirects of feeds do not leave the source's domains."""
from __future__ import annotations

import gzip
import sqlite3
import threading
import zlib
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.test_crawl import crawl

pytestmark = pytest.mark.e2e

ARTICLE = (Path(__file__).parent / "fixtures" / "site" / "pages" / "albayan_2020-06-03.html").read_bytes()


class Site:
    """Serves ``routes`` (path -> (status, headers, body)) on 127.0.0.1; records the paths asked for."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes = routes
        self.asked: list[str] = []
        self.hosts: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.asked.append(self.path)
                site.hosts.append(self.headers.get("Host", ""))
                status, headers, body = site.routes.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:  # a route may declare a size of its own (a lie)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the crawler gave up on it: as intended
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    served = Site({})
    yield served
    served.close()


def _rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()


def _sources(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[sources]]\nname = "bounds"\n{body}', encoding="utf-8")
    return path


def _documents(db: str) -> list[str]:
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as conn:
        return [url for (url,) in conn.execute("SELECT url FROM documents")]


HTML = {"Content-Type": "text/html; charset=utf-8"}


def _rejected(db: str) -> list[tuple[str, str, int, bytes | None]]:
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as conn:
        return list(conn.execute("SELECT url, reason, size, raw FROM documents WHERE outcome = 'rejected'"))


@pytest.mark.parametrize("encoding", ["gzip", "identity", "declared"])
def test_a_page_over_the_size_bound_is_recorded_rejected_without_its_body_and_the_crawl_goes_on(
        site, tmp_path, encoding):
    if encoding == "gzip":  # a gzip bomb: 300 MB decompressed, a few hundred KB on the wire
        big = b"<html><body>" + b" " * (300 * 1024 * 1024) + b"</body></html>"
        headers, body = {**HTML, "Content-Encoding": "gzip"}, gzip.compress(big, compresslevel=9)
    elif encoding == "identity":  # 20 MB sent as they are
        headers, body = HTML, b" " * (20 * 1024 * 1024)
    else:  # 10 GB declared up front, a few bytes sent
        headers, body = {**HTML, "Content-Length": str(10 * 1024**3)}, b"<html>"
    site.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
        "/feed.xml": (200, {"Content-Type": "application/rss+xml"}, _rss([site.url + "/bomb", site.url + "/good"])),
        "/bomb": (200, headers, body),
        "/good": (200, HTML, ARTICLE),
    })
    sources = _sources(tmp_path, f'feeds = ["{site.url}/feed.xml"]\n')
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    code, (run,) = crawl(sources, db, tmp_path / "warc")
    assert "/bomb" in site.asked
    assert run["articles_new"] == 1 and run["articles_rejected"] == 1, run
    assert code == 0 and run["outcome"] == "ok" and run["errors"] == {}, run
    (url, reason, size, raw), = _rejected(db)
    assert url == site.url + "/bomb" and reason == "too large: over 5 MB"
    assert size == 0 and zlib.decompress(raw) == b""  # the body is not kept
    site.asked.clear()
    code, (again,) = crawl(sources, db, tmp_path / "warc")
    assert "/bomb" not in site.asked and again["skipped_seen"] == 2, again  # settled: not fetched again
    assert code == 0 and again["outcome"] == "ok"


def _validators(db: str) -> list[str]:
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as conn:
        return [url for (url,) in conn.execute("SELECT url FROM http_validators")]


def test_a_truncated_sitemap_is_a_recorded_error_and_keeps_no_validator(site, tmp_path):
    urls = "".join(f"<url><loc>{site.url}/page-{n}-{'x' * 200}</loc></url>" for n in range(300))
    xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    whole = gzip.compress(xml.encode())
    cut = whole[: len(whole) // 2]  # a download broken half way
    validators = {"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
    site.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
        "/sitemap.xml.gz": (200, {"Content-Type": "application/x-gzip", **validators}, cut),
        "/feed.xml": (200, {"Content-Type": "application/rss+xml", **validators}, _rss([])),
    })
    sources = _sources(tmp_path, f'feeds = ["{site.url}/feed.xml"]\nsitemaps = ["{site.url}/sitemap.xml.gz"]\n')
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    _, (run,) = crawl(sources, db, tmp_path / "warc")
    assert run["errors"].get("truncated") == 1, run
    assert _validators(db) == [f"{site.url}/feed.xml"]  # the whole feed's are kept; the cut sitemap's not


@pytest.mark.parametrize("redirected", ["/feed.xml", "/sitemap.xml"])
def test_a_feed_or_sitemap_redirected_to_another_host_is_not_followed(site, tmp_path, redirected):
    port = site.url.rsplit(":", 1)[1]
    elsewhere = f"http://localhost:{port}/moved{redirected}"  # the same server under another host name
    site.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
        redirected: (301, {"Location": elsewhere}, b""),
        f"/moved{redirected}": (200, {"Content-Type": "application/xml"}, _rss([f"http://localhost:{port}/good"])),
        "/good": (200, HTML, ARTICLE),
    })
    kind = "feeds" if redirected == "/feed.xml" else "sitemaps"
    sources = _sources(tmp_path, f'{kind} = ["{site.url}{redirected}"]\n')
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    _, (run,) = crawl(sources, db, tmp_path / "warc")
    assert not [host for host in site.hosts if host.startswith("localhost")], site.hosts
    assert run["outcome"] == "failed" and run["articles_new"] == 0
