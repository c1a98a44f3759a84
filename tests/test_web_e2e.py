"""``akhbar serve`` started as a process and driven by headless Chromium (Debian's ``chromium``):
a search with diacritics shows the article, its page is right to left, a stored <script> is inert.

Chromium runs with every host name but 127.0.0.1 unresolvable and its background services off,
so nothing leaves the machine.  A screenshot of the search page is kept under the test's tmp dir.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TRAP = "<script>document.title='PWNED';document.documentElement.setAttribute('data-pwned','1')</script>"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-domain-reliability", "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1100,1400",
]


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI installs it: apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium) - the browser test needs it")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    path = root / "archive.db"
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        for i, (title, body) in enumerate([
            ("مجلس النواب يقر قانون الموازنة", "أقر مجلس النواب قانون الموازنة العامة بعد جلسة طويلة."),
            (f"{TRAP} خبر الميناء", f"وصلت السفن إلى الميناء. {TRAP} انتهى الخبر."),
        ]):
            a = Article(url=f"https://news.example/{i}", title=title, text=body, content_hash=content_hash(body),
                        published=f"2024-0{i + 1}-05", lang="ar")
            add_article(s, a, source="news")
        body = "أقر مجلس النواب قانون الموازنة العامة بعد جلسة طويلة ومناقشة حادة."  # a second version of the first
        add_article(s, Article(url="https://news.example/0", title="مجلس النواب يقر قانون الموازنة", text=body,
                               content_hash=content_hash(body), published="2024-01-05", lang="ar"), source="news")
        s.commit()
    engine.dispose()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = root / "serve.log"
    args = [sys.executable, "-m", "crawler.cli", "serve", "--db", str(path), "--port", str(port)]
    with log.open("w") as err, subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=err) as proc:
        try:
            wait_for(port, proc, log)
            yield f"http://127.0.0.1:{port}", root
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def wait_for(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"akhbar serve exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("akhbar serve did not start listening")


def browse(chromium: str, url: str, profile: Path, *extra: str) -> str:
    """The DOM of ``url`` after Chromium loaded it and ran its scripts (or ``extra`` actions)."""
    args = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_search_open_and_read_in_chromium(chromium, server):
    base, root = server
    profile = root / "profile"
    search_url = f"{base}/?" + urlencode({"q": "المَوَازَنَةِ"})
    dom = browse(chromium, search_url, profile, "--dump-dom")
    assert re.search(r'<html lang="ar" dir="rtl"', dom)
    links = re.findall(r'<a class="title" href="(/articles/\d+)">([^<]*)</a>', dom)
    assert [title for _, title in links] == ["مجلس النواب يقر قانون الموازنة"], dom[-3000:]
    assert "<mark>الموازنة</mark>" in dom

    article = browse(chromium, base + links[0][0], profile, "--dump-dom")
    assert re.search(r'<html lang="ar" dir="rtl"', article) and "جلسة طويلة" in article
    versions = article.split('id="versions"')[1]
    assert 'id="version-1"' in versions and 'id="version-2"' in versions
    assert re.search(r"<del>طويلة\.</del>\s*<ins>طويلة ومناقشة حادة\.</ins>", versions), versions[:2000]

    trap_dom = browse(chromium, f"{base}/?" + urlencode({"q": "الميناء"}), profile, "--dump-dom")
    trap_id = re.findall(r'<a class="title" href="(/articles/\d+)">', trap_dom)
    assert len(trap_id) == 1
    trap_page = browse(chromium, base + trap_id[0], profile, "--dump-dom")
    for dom_text in (trap_dom, trap_page):
        assert "<title>PWNED</title>" not in dom_text
        assert re.search(r"<html[^>]*data-pwned", dom_text) is None
        assert "&lt;script&gt;document.title=" in dom_text  # shown as text

    shot = root / "search.png"
    browse(chromium, search_url, profile, f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 1000
    print(f"\nscreenshot of the search page: {shot}")
