"""The fixture site serves what the crawl tests rely on.  Traffic stays on 127.0.0.1."""
from __future__ import annotations

import gzip
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.core.discovery import parse_feed, parse_sitemap

ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    assert urlsplit(url).hostname == "127.0.0.1"
    request = urllib.request.Request(url, headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def without_tracking(url: str) -> str:
    """The site's own form of a linked URL: no query, no fragment, its own trailing slash."""
    return url.split("#")[0].split("?")[0]


def test_robots_disallows_a_path_that_holds_a_linked_article(fixture_site):
    status, headers, body = fetch(f"{fixture_site.url}/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "User-agent: *" in text
    assert f"Sitemap: {fixture_site.url}/sitemap_index.xml" in text
    disallowed = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Disallow:")]
    blocked = fixture_site.disallowed_urls()
    assert blocked and all(urlsplit(url).path.startswith(tuple(disallowed)) for url in blocked)
    assert not any(urlsplit(url).path.startswith(tuple(disallowed)) for url in fixture_site.article_urls())


def test_every_link_goes_where_the_site_says(fixture_site):
    """Feeds, sitemaps and listing pages link exactly the articles, blocked and dead pages."""
    site = fixture_site
    linked: set[str] = set()
    for path in ("/feed.xml", "/atom.xml"):
        linked |= {e.url for e in parse_feed(fetch(site.url + path)[2], site.url + path)}
    index = parse_sitemap(fetch(f"{site.url}/sitemap_index.xml")[2], site.url)
    assert index.kind == "index" and len(index.entries) == 2
    for entry in index.entries:
        linked |= {e.url for e in parse_sitemap(fetch(entry.url)[2], entry.url).entries}
    page, next_url = 0, f"{site.url}/news/"
    while next_url:
        page += 1
        html = fetch(next_url)[2].decode()
        linked |= {href for href in _hrefs(html) if "/news/" not in href}
        nexts = [href for rel, href in _rel_links(html) if rel == "next"]
        next_url = nexts[0] if nexts else None
    assert page == site.listing_pages() == 3
    assert fetch(f"{site.url}/news/?page=4")[0] == 404
    canonical = {without_tracking(url) for url in linked}
    expected = set(site.article_urls()) | set(site.disallowed_urls()) | set(site.missing_urls())
    assert {u.rstrip("/") for u in canonical} == {u.rstrip("/") for u in expected}
    assert len(site.article_urls()) == 10
    assert len(linked) > len(canonical)  # tracking variants are linked too


def _hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'<a href="([^"]+)"', html)]


def _rel_links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a rel="(\w+)" href="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/feed.xml", "/atom.xml", "/sitemap_index.xml", "/sitemap-news.xml", "/sitemap-pages.xml"])
def test_conditional_get_answers_304(fixture_site, path):
    url = fixture_site.url + path
    status, headers, body = fetch(url)
    assert status == 200 and body
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    status, headers304, body304 = fetch(url, If_None_Match=etag)
    assert (status, body304) == (304, b"")
    assert headers304["ETag"] == etag
    assert fetch(url, If_Modified_Since=last_modified)[0] == 304
    assert fetch(url, If_None_Match='"something-else"', If_Modified_Since=last_modified)[0] == 200
    assert fetch(url, If_Modified_Since="Mon, 01 Jan 2018 00:00:00 GMT")[0] == 200
    assert [e.status for e in fixture_site.hits(path)] == [200, 304, 304, 200, 200]


def test_new_article_changes_feeds_and_news_sitemap_only(fixture_site):
    site = fixture_site
    before = {path: fetch(site.url + path)[1] for path in ("/feed.xml", "/atom.xml", "/sitemap-news.xml",
                                                           "/sitemap_index.xml", "/sitemap-pages.xml")}
    url = site.add_article()
    for path, headers in before.items():
        status = fetch(site.url + path, If_None_Match=headers["ETag"])[0]
        assert status == (304 if path == "/sitemap-pages.xml" else 200), path
        status = fetch(site.url + path, If_Modified_Since=headers["Last-Modified"])[0]
        assert status == (304 if path == "/sitemap-pages.xml" else 200), path
    feed = parse_feed(fetch(f"{site.url}/feed.xml")[2], site.url)
    assert feed[0].url == url
    assert feed[0].title == "معارضون يسيطرون على مخازن للصواريخ بريف دمشق"
    news = parse_sitemap(fetch(f"{site.url}/sitemap-news.xml")[2], site.url)
    assert news.entries[0].url == url and news.entries[0].language == "ar"
    status, _, body = fetch(url)
    assert status == 200 and "معارضون يسيطرون على مخازن للصواريخ" in body.decode()
    assert len(site.article_urls()) == 11 and url in site.article_urls("rss")
    own = site.add_article("خبر عاجل", path="/news/breaking.html", html=b"<html><body>x</body></html>", listing=True)
    assert own == f"{site.url}/news/breaking.html"
    assert own in site.article_urls("listing")
    with pytest.raises(LookupError):
        site.add_article()  # the reserve of real pages is used up


def test_flaky_page_answers_503_with_retry_after_then_recovers(fixture_site):
    flaky = [p for p in fixture_site.pages if p.fail_first]
    assert len(flaky) == 1
    url = fixture_site.url_for(flaky[0].path)
    status, headers, _ = fetch(url)
    assert status == 503 and headers["Retry-After"] == "1"
    status, _, body = fetch(url)
    assert status == 200 and "يسرا" in body.decode()
    assert [e.status for e in fixture_site.hits(flaky[0].path)] == [503, 200]


def test_dead_link_is_404(fixture_site):
    (missing,) = fixture_site.missing_urls()
    assert fetch(missing)[0] == 404
    assert fetch(f"{fixture_site.url}/no/such/page")[0] == 404


def test_tracking_variants_serve_the_same_article(fixture_site):
    (page,) = [p for p in fixture_site.pages if len(p.links) >= 4]
    variants = {fixture_site.url_for(page.path, suffix) for suffix in page.links.values()}
    assert len(variants) == 5
    bodies = {fetch(url)[2] for url in variants}
    assert bodies == {page.body}


def test_windows_1256_page_declares_its_charset_only_in_a_meta_tag(fixture_site):
    status, headers, body = fetch(f"{fixture_site.url}/archive/gaza-statement.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("cp1256")
    assert 'charset=windows-1256' in text and "كتائب الشهيد عز الدين القسام" in text


def test_gzip_when_asked_for(fixture_site):
    url = f"{fixture_site.url}/feed.xml"
    plain = fetch(url)
    packed = fetch(url, Accept_Encoding="gzip, deflate")
    assert packed[1]["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed[2]) == plain[2]
    assert packed[1]["ETag"] == "W/" + plain[1]["ETag"]
    assert fetch(url, If_None_Match=packed[1]["ETag"])[0] == 304


def test_log_records_requests_and_can_be_reset(fixture_site):
    fetch(f"{fixture_site.url}/robots.txt", User_Agent="akhbar-test")
    fetch(f"{fixture_site.url}/news/?page=2")
    log = fixture_site.log
    assert [(e.method, e.path, e.status) for e in log] == [("GET", "/robots.txt", 200), ("GET", "/news/", 200)]
    assert log[0].headers["User-Agent"] == "akhbar-test"
    assert log[1].target == "/news/?page=2"
    request = urllib.request.Request(f"{fixture_site.url}/feed.xml", method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200 and response.read() == b""
    assert fixture_site.log[-1].method == "HEAD"
    fixture_site.reset_log()
    assert fixture_site.log == []


def test_every_article_page_is_real_and_arabic(fixture_site):
    for url in fixture_site.article_urls():
        status, headers, body = fetch(url)
        if status == 503:
            status, headers, body = fetch(url)
        assert status == 200, url
        charset = "cp1256" if headers["Content-Type"] == "text/html" else "utf-8"
        text = body.decode(charset)
        assert sum("\u0600" <= ch <= "\u06ff" for ch in text) > 300, url


def test_runs_as_a_script():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sitefixture", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        url = line.split()[1].rstrip("/")
        assert urlsplit(url).hostname == "127.0.0.1"
        assert fetch(f"{url}/robots.txt")[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
