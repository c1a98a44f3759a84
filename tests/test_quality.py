"""Quality signals per source, and the warning when an outlet's pages stop looking like articles.

A small outlet is served on 127.0.0.1: an RSS feed and article pages of one template.  Halfway,
its new pages switch to another template (an app shell whose text comes from a script, or a
consent wall); a crawl of the new pages must raise the warning, a crawl of a healthy site never.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from crawler.capture.document import RawDocument
from crawler.cli import main
from crawler.ingest import ingest
from scheduler import warn_on_quality
from storage.db import open_engine
from storage.quality import source_quality
from storage.runs import finish_run, start_run

REPO = Path(__file__).resolve().parents[1]
GOLD = Path(__file__).parent / "fixtures" / "extract"
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_START_DELAY=0", "--set", "AKHBAR_RETRY_BACKOFF_BASE=0.1"]


def paragraphs() -> list[str]:
    """Real Arabic news paragraphs, each used once (no body line repeats across the outlet's pages)."""
    found = []
    for path in sorted(GOLD.glob("*.gold.txt")):
        found += [line.strip() for line in path.read_text("utf-8").splitlines() if len(line.split()) >= 25]
    return found


PARAGRAPHS = paragraphs()
HEADLINES = ["اجتماع وزاري لبحث أزمة المياه", "افتتاح معرض الكتاب في العاصمة", "ارتفاع أسعار الذهب في الأسواق",
             "الحكومة تعلن خطة للنقل العام", "انطلاق امتحانات الثانوية العامة", "مباحثات لتعزيز التعاون التجاري",
             "تراجع معدلات البطالة هذا العام", "حملة وطنية للتشجير في المحافظات", "إطلاق منصة رقمية للخدمات"]


def old_template(n: int, published: datetime) -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2 * n:2 * n + 2])
    return (f"<html lang='ar'><head><meta charset='utf-8'><title>{HEADLINES[n]} | أخبار المدينة</title>"
            f"<meta property='article:published_time' content='{published.isoformat()}'></head><body>"
            "<nav><a href='/'>الرئيسية</a><a href='/sport'>رياضة</a><a href='/eco'>اقتصاد</a></nav>"
            f"<article><h1>{HEADLINES[n]}</h1><div class='content'>{body}</div></article>"
            "<footer>جميع الحقوق محفوظة</footer></body></html>")


def app_shell(n: int, published: datetime) -> str:
    """The new template: the page is an empty shell that a script fills in."""
    data = json.dumps({"title": HEADLINES[n], "body": PARAGRAPHS[2 * n:2 * n + 2]}, ensure_ascii=False)
    return (f"<html><head><meta charset='utf-8'><title>أخبار المدينة</title></head><body><div id='root'></div>"
            f"<script>window.__DATA__ = {data};</script><script src='/app.js'></script></body></html>")


def consent_wall(n: int, published: datetime) -> str:
    return ("<html lang='ar'><head><meta charset='utf-8'><title>أخبار المدينة</title></head><body>"
            "<div class='consent'><h2>نحن نهتم بخصوصيتك</h2><p>نستخدم ملفات تعريف الارتباط وتقنيات مشابهة لتحسين "
            "تجربتك على موقعنا. يمكنك قبول جميع الملفات أو إدارة تفضيلاتك في أي وقت.</p>"
            "<button>موافق</button><button>إدارة الخيارات</button></div></body></html>")


class Outlet:
    """One outlet on 127.0.0.1: an RSS feed and article pages, each rendered by its template."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.items: list[tuple[str, str, datetime]] = []
        self.lock = threading.Lock()
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                path = self.path.split("?", 1)[0]
                with outlet.lock:
                    body = outlet.feed() if path == "/feed.xml" else outlet.pages.get(path)
                if path == "/robots.txt":
                    body = "User-agent: *\nAllow: /\n"
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                kind = "application/rss+xml" if path.endswith(".xml") else "text/plain" if path.endswith(".txt") else "text/html"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, n: int, template) -> None:
        published = datetime(2026, 11, 1, 8, tzinfo=timezone.utc) + timedelta(hours=n)
        path = f"/news/{n}.html"
        with self.lock:
            self.pages[path] = template(n, published)
            self.items.insert(0, (path, HEADLINES[n], published))

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{escape(title)}</title><link>{self.url}{path}</link>"
            f"<pubDate>{format_datetime(when)}</pubDate></item>" for path, title, when in self.items)
        return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>أخبار المدينة</title>{items}</channel></rss>"

    def sources(self, path: Path) -> Path:
        path.write_text(f'[[sources]]\nname = "outlet"\nfeeds = ["{self.url}/feed.xml"]\n', encoding="utf-8")
        return path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def outlet():
    site = Outlet()
    yield site
    site.close()


def crawl(sources: Path, db: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources), "--db", db,
         "--json", *FAST], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]


def sources_json(sources: Path, db: str) -> dict:
    result = CliRunner().invoke(main, ["sources", "--sources", str(sources), "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)[0]


@pytest.mark.e2e
@pytest.mark.parametrize("template", [app_shell, consent_wall])
def test_a_template_switch_warns_within_one_run(outlet, tmp_path, caplog, template):
    sources, db = outlet.sources(tmp_path / "sources.toml"), f"sqlite:///{tmp_path / 'a.db'}"
    for n in range(5):
        outlet.publish(n, old_template)
    first = crawl(sources, db)
    assert first["articles_new"] == 5
    assert sources_json(sources, db)["warnings"] == []

    for n in range(5, 9):  # the outlet switches template: its new pages are no articles any more
        outlet.publish(n, template)
    second = crawl(sources, db)
    entry = sources_json(sources, db)
    assert entry["warnings"], entry["quality"]
    assert entry["quality"]["pages"] == 9

    engine = open_engine(db)
    with caplog.at_level(logging.WARNING, logger="akhbar.scheduler"):
        jumped = warn_on_quality(engine, "outlet", second["run_id"])
    engine.dispose()
    assert jumped == entry["warnings"]
    lines = [r for r in caplog.records if "no longer look like" in r.getMessage()]
    assert len(lines) == 1


@pytest.mark.e2e
def test_a_healthy_outlet_never_warns(outlet, tmp_path, caplog):
    sources, db = outlet.sources(tmp_path / "sources.toml"), f"sqlite:///{tmp_path / 'a.db'}"
    for batch in (range(0, 4), range(4, 7), range(7, 9)):
        for n in batch:
            outlet.publish(n, old_template)
        run = crawl(sources, db)
        assert run["articles_new"] == len(batch)
        entry = sources_json(sources, db)
        assert entry["warnings"] == [], entry["quality"]
    quality = entry["quality"]
    assert quality["pages"] == 9 and quality["rejected"] == 0 and quality["no_date"] == 0
    assert quality["repeated_lines"] == 0 and quality["language"] == "ar"
    engine = open_engine(db)
    with caplog.at_level(logging.WARNING, logger="akhbar.scheduler"):
        assert warn_on_quality(engine, "outlet", run["run_id"]) == []
    engine.dispose()
    assert not [r for r in caplog.records if "no longer look like" in r.getMessage()]


# --- the signals, over pages taken in through the same ingest as a crawl ------------------------------
def take_in(session: Session, n: int, html: str, when: datetime) -> None:
    ingest(session, RawDocument(data=html.encode("utf-8"), url=f"https://outlet.test/news/{n}.html",
                                fetched_at=when, source="outlet", headers={"Content-Type": "text/html"}))


def run_of(session: Session, pages: list[tuple[int, str]]) -> int:
    run_id = start_run(session, "outlet")
    for n, html in pages:
        take_in(session, n, html, datetime.now(timezone.utc))
    finish_run(session, run_id, "ok")
    session.commit()
    return run_id


def test_signals_count_rejections_and_their_reasons(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    moment = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with Session(engine) as session:
        run_of(session, [(n, old_template(n, moment)) for n in range(4)])
        run_of(session, [(n, app_shell(n, moment)) for n in range(4, 8)])
        quality = source_quality(session, "outlet")
    engine.dispose()
    assert quality["pages"] == 8 and quality["runs"] == 2
    assert quality["rejected"] == 0.5 and quality["reasons"] == {"no article text found": 4}
    assert quality["warnings"] and quality["warnings"][0].startswith("rejected 100%")


def test_chrome_leaking_into_every_body_is_repeated_lines(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    moment = datetime(2026, 11, 1, tzinfo=timezone.utc)
    leak = ("<p>هذا المحتوى من الأرشيف المصور للموقع وقد نشر ضمن ملف خاص عن أحداث الأسبوع</p>"
            "<p>يمكن للقراء إرسال الصور والملاحظات إلى فريق العمل عبر البريد الإلكتروني للموقع</p>")
    with Session(engine) as session:
        run_of(session, [(n, old_template(n, moment)) for n in range(4)])
        run_of(session, [(n, old_template(n, moment).replace("</div></article>", f"{leak}</div></article>"))
                         for n in range(4, 8)])
        quality = source_quality(session, "outlet")
    engine.dispose()
    assert quality["repeated_lines"] > 0
    assert any(w.startswith("repeated lines") for w in quality["warnings"])


def test_one_healthy_run_has_no_warning(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    moment = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with Session(engine) as session:
        run_of(session, [(n, old_template(n, moment)) for n in range(8)])
        quality = source_quality(session, "outlet")
    engine.dispose()
    assert quality["warnings"] == [] and quality["rejected"] == 0 and quality["short_body"] == 0
