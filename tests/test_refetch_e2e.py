"""Re-fetching, live: crawls of a loopback site (127.0.0.1) whose answers the test changes between crawls.

Each crawl is `akhbar crawl` in a subprocess (Twisted's reactor runs once per process); the clock of
the re-fetch schedule is set with ``--set AKHBAR_NOW=...``, so hours pass without waiting.
"""
from __future__ import annotations

import gzip
import html
import json
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # crawls in subprocesses

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_START_DELAY=0", "--set", "AKHBAR_RETRY_BACKOFF_BASE=0.1",
        "--set", "AKHBAR_HEARTBEAT_SECONDS=0.5"]
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
PAIRS = json.loads(gzip.decompress((FIXTURES / "neardup" / "pairs.json.gz").read_bytes()))
#: A consent wall as real sites serve it (tests/fixtures/pagetype: labelled "consent").
CONSENT = gzip.decompress((FIXTURES / "pagetype" / "pages" / "consent_00__htmldate_elbaladtv_1806793639.page.gz").read_bytes())


def story(kind: str, index: int = 0) -> tuple[str, str]:
    """A labelled pair of texts of one story (tests/fixtures/neardup): ``kind`` says how the second differs."""
    pair = [p for p in PAIRS if p["kind"] == kind and p["same"]][index]
    return pair["a"], pair["b"]


def article_html(title: str, text: str, *, outlet: str = "الخبر اليوم", sections: tuple[str, ...] = ("سياسة", "اقتصاد")) -> bytes:
    """An article page: the outlet's navigation and footer around a headline, a date and the text."""
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())
    nav = "".join(f'<li><a href="/section/{i}">{html.escape(name)}</a></li>' for i, name in enumerate(sections))
    return f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{html.escape(title)} - {html.escape(outlet)}</title>
<meta property="article:published_time" content="2026-11-30T10:00:00+00:00"></head>
<body><header><div class="logo">{html.escape(outlet)}</div><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{html.escape(title)}</h1><time datetime="2026-11-30T10:00:00+00:00">30 نوفمبر 2026</time>
{paras}</article></main><footer><p>جميع الحقوق محفوظة - {html.escape(outlet)}</p></footer></body></html>""".encode()


def home_html(links: list[str]) -> bytes:
    """A home page: rows of headline links, no article."""
    rows = "".join(f'<div class="card"><a href="{link}">خبر رقم {i} عن الأوضاع في المنطقة اليوم</a></div>'
                   for i, link in enumerate(links * 8))
    return f'<!doctype html><html lang="ar"><head><meta charset="utf-8"><title>الرئيسية</title></head><body>{rows}</body></html>'.encode()


@dataclass
class Answer:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None


@dataclass
class Hit:
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class Site:
    """A loopback site whose answers (path -> :class:`Answer`) the test sets; an answer with an
    ``etag`` answers a matching ``If-None-Match`` with 304.  Every request is logged."""

    answers: dict[str, Answer] = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, body: bytes, *, etag: str | None = None) -> None:
        self.answers[path] = Answer(body, etag=etag)

    def sitemap(self, path: str, entries: list[tuple[str, datetime | None]]) -> None:
        urls = "".join(f"<url><loc>{self.url}{p}</loc>" + (f"<lastmod>{m.isoformat()}</lastmod>" if m else "") + "</url>"
                       for p, m in entries)
        body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        self.answers[path] = Answer(body.encode(), "application/xml")

    def hits(self, path: str) -> list[Hit]:
        return [h for h in self.log if h.path == path]

    def __enter__(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

            def do_GET(self) -> None:
                answer = site.answers.get(self.path)
                if answer is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                elif answer.etag and self.headers.get("If-None-Match") == answer.etag:
                    status, headers, body = 304, {"ETag": answer.etag}, b""
                else:
                    status, headers, body = 200, {"Content-Type": answer.content_type}, answer.body
                    if answer.etag:
                        headers["ETag"] = answer.etag
                site.log.append(Hit(self.path, status, dict(self.headers.items())))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def akhbar(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from crawler.cli import main; main()", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


class Archive:
    """An archive and a sources file in ``tmp``; crawls of it at set times."""

    def __init__(self, tmp: Path, site: Site, sources: str, *, workers: int = 0) -> None:
        self.tmp, self.site, self.workers = tmp, site, workers  # 0: extracted on the reactor (quicker to start)
        self.db = f"sqlite:///{tmp / 'archive.db'}"
        self.sources = tmp / "sources.toml"
        self.sources.write_text(sources, encoding="utf-8")

    def crawl(self, at: datetime) -> dict:
        """One crawl as if at ``at``: the run of each source, by name."""
        result = akhbar("crawl", "--sources", str(self.sources), "--db", self.db, "--warc-dir", str(self.tmp / "warc"),
                        "--json", *FAST, "--set", f"AKHBAR_NOW={at.isoformat()}",
                        "--set", f"AKHBAR_EXTRACT_WORKERS={self.workers}")
        assert result.stdout.strip(), result.stderr
        return {run["source"]: run for run in json.loads(result.stdout)}

    def json(self, *args: str) -> object:
        result = akhbar(*args, "--db", self.db, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def rows(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.db.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(sql))


def one_source(site: Site, name: str = "outlet", extra: str = "") -> str:
    return f'[[sources]]\nname = "{name}"\nsitemaps = ["{site.url}/sitemap.xml"]\n{extra}'


@pytest.fixture
def site():
    with Site() as s:
        yield s


def test_an_article_changed_with_a_newer_lastmod_is_one_article_with_two_versions(site, tmp_path):
    first, second = story("paragraph_added")
    site.page("/news/1", article_html("ارتفاع التضخم", first))
    site.sitemap("/sitemap.xml", [("/news/1", T0 - timedelta(hours=2))])
    archive = Archive(tmp_path, site, one_source(site))
    assert archive.crawl(T0)["outlet"]["articles_new"] == 1

    run = archive.crawl(T0 + timedelta(minutes=10))["outlet"]  # same lastmod, not due yet: not asked again
    assert (run["skipped_seen"], len(site.hits("/news/1"))) == (1, 1)

    site.page("/news/1", article_html("ارتفاع التضخم", second))
    site.sitemap("/sitemap.xml", [("/news/1", T0 + timedelta(minutes=15))])
    run = archive.crawl(T0 + timedelta(minutes=20))["outlet"]  # still not due on the schedule: the lastmod says it changed
    assert run["outcome"] == "ok" and len(site.hits("/news/1")) == 2

    (article_id,) = [row[0] for row in archive.rows("SELECT id FROM articles")]
    shown = archive.json("show", str(article_id), "--versions")
    assert [(v["version"], v["current"]) for v in shown["versions"]] == [(1, False), (2, True)]
    assert shown["versions"][1]["text"] != shown["versions"][0]["text"]


def test_an_unchanged_article_due_on_the_schedule_costs_a_304_and_no_document(site, tmp_path):
    text, _ = story("paragraph_added", 1)
    site.page("/news/2", article_html("اجتماع الوزراء", text), etag='"v1"')
    site.sitemap("/sitemap.xml", [("/news/2", None)])
    archive = Archive(tmp_path, site, one_source(site, extra='refetch = ["1h", "6h"]\n'), workers=1)  # the pool's way
    assert archive.crawl(T0)["outlet"]["articles_new"] == 1
    documents = archive.rows("SELECT count(*) FROM documents")

    assert archive.crawl(T0 + timedelta(minutes=30))["outlet"]["skipped_seen"] == 1  # not due yet
    run = archive.crawl(T0 + timedelta(hours=2))["outlet"]  # due (1h after first sight)
    hits = site.hits("/news/2")
    assert [h.status for h in hits] == [200, 304]
    assert hits[1].headers.get("If-None-Match") == '"v1"' and "If-None-Match" not in hits[0].headers
    assert (run["not_modified"], run["articles_new"], run["articles_duplicate"]) == (1, 0, 0)
    assert archive.rows("SELECT count(*) FROM documents") == documents

    assert archive.crawl(T0 + timedelta(hours=3))["outlet"]["skipped_seen"] == 1  # next due at 6h
    archive.crawl(T0 + timedelta(hours=7))
    assert len(site.hits("/news/2")) == 3
    archive.crawl(T0 + timedelta(days=30))  # the schedule is over
    assert len(site.hits("/news/2")) == 3


def test_a_page_behind_a_consent_wall_is_stored_when_the_article_comes_on_a_later_run(site, tmp_path):
    text, _ = story("paragraph_added", 2)
    site.page("/news/3", CONSENT)
    site.sitemap("/sitemap.xml", [("/news/3", None)])
    archive = Archive(tmp_path, site, one_source(site))
    run = archive.crawl(T0)["outlet"]
    assert (run["articles_rejected"], run["articles_new"]) == (1, 0)
    (health,) = archive.json("sources", "--sources", str(archive.sources))
    assert health["refetch"]["waiting_retry"] == 1

    site.page("/news/3", article_html("قمة اقتصادية", text))
    run = archive.crawl(T0 + timedelta(minutes=5))["outlet"]  # the next crawl tries again
    assert run["articles_new"] == 1
    (stored,) = archive.rows("SELECT url FROM articles")
    assert stored[0] == f"{site.url}/news/3"


def test_a_page_rejected_every_time_is_given_up_after_its_retries(site, tmp_path):
    site.page("/news/4", CONSENT)
    site.sitemap("/sitemap.xml", [("/news/4", None)])
    archive = Archive(tmp_path, site, one_source(site, extra="retry_rejected = 2\n"))
    for hours in (0, 1, 3, 100, 200):  # tried, retried at once, retried after 1h, then left
        archive.crawl(T0 + timedelta(hours=hours))
    assert len(site.hits("/news/4")) == 3
    (health,) = archive.json("sources", "--sources", str(archive.sources))
    assert health["refetch"] == {**health["refetch"], "waiting_retry": 0, "given_up": 1}
    text = akhbar("sources", "--sources", str(archive.sources), "--db", archive.db).stdout
    assert "given up 1" in text


def test_one_story_at_two_outlets_with_their_own_boilerplate_is_one_cluster(site, tmp_path):
    wire, rewritten = story("lead_rewritten")
    site.page("/a/news/7", article_html("التضخم في السعودية", wire, outlet="صحيفة الشرق", sections=("محليات", "دولي")))
    site.page("/b/story/7", article_html("التضخم يرتفع", rewritten, outlet="موقع الغرب",
                                         sections=("أخبار", "رياضة", "فن")))
    site.sitemap("/a/sitemap.xml", [("/a/news/7", None)])
    site.sitemap("/b/sitemap.xml", [("/b/story/7", None)])
    archive = Archive(tmp_path, site, f'[[sources]]\nname = "east"\nsitemaps = ["{site.url}/a/sitemap.xml"]\n'
                                      f'[[sources]]\nname = "west"\nsitemaps = ["{site.url}/b/sitemap.xml"]\n')
    runs = archive.crawl(T0)
    assert (runs["east"]["articles_new"], runs["west"]["articles_new"]) == (1, 1)
    ids = dict(archive.rows("SELECT s.name, a.id FROM articles a JOIN sources s ON s.id = a.source_id"))
    shown = archive.json("show", str(ids["east"]), "--copies")
    assert [(c["id"], c["source"]) for c in shown["copies"]] == [(ids["west"], "west")]


def test_a_home_page_is_recorded_rejected_not_stored(site, tmp_path):
    text, _ = story("paragraph_added", 3)
    site.page("/", home_html(["/news/5", "/news/6"]))
    site.page("/news/5", article_html("انتخابات بلدية", text))
    site.sitemap("/sitemap.xml", [("/", None), ("/news/5", None)])
    archive = Archive(tmp_path, site, one_source(site))
    run = archive.crawl(T0)["outlet"]
    assert (run["articles_new"], run["articles_rejected"]) == (1, 1)
    assert archive.rows("SELECT url FROM articles") == [(f"{site.url}/news/5",)]
    (reason,) = archive.rows(f"SELECT reason FROM documents WHERE url = '{site.url}/'")
    assert reason[0].startswith("not an article: ")
