"""The generated bench site (bench/site.py) serves what it promises, on a tiny site.

Built from tests/fixtures/benchsite: two small template pages (Arabic, English; .tpl, so that
bench/snapshot.py does not take them for extraction cases) and sentences
copied from ../shared/realpages (ANT corpus and Arabic TimeML texts; Zyte benchmark gold texts),
so the test does not need ../shared.  Everything is fetched over HTTP from 127.0.0.1.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e  # slow: a generated site served on 127.0.0.1

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "benchsite"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _load_site_module():
    spec = importlib.util.spec_from_file_location("bench_site_under_test", ROOT / "bench" / "site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


benchsite = _load_site_module()


@pytest.fixture(scope="module")
def material():
    return benchsite.Material.from_files(
        {"ar": [FIXTURES / "ar-page.tpl"], "en": [FIXTURES / "en-page.tpl"]},
        {"ar": [FIXTURES / "ar-text.txt"], "en": [FIXTURES / "en-text.txt"]})


@pytest.fixture(scope="module")
def site(material):
    with benchsite.GeneratedSite(pages=150, material=material, seed=3) as site:
        yield site


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def sitemap_entries(site) -> list[str]:
    status, body = get(site.base_url + "/sitemap_index.xml")
    assert status == 200
    locs = []
    for child in ET.fromstring(body).iter(SM + "loc"):
        status, sub = get(child.text)
        assert status == 200
        urls = [loc.text for loc in ET.fromstring(sub).iter(SM + "loc")]
        assert 0 < len(urls) <= benchsite.SITEMAP_SIZE
        locs += urls
    return locs


def body_paragraphs(page: bytes) -> list[str]:
    """The paragraphs the generator put in the article body (the template's body container)."""
    body = re.search(r'<div class="article-body">(.*?)</div>|<section class="story">(.*?)</section>',
                     page.decode(), re.S)
    return [unescape(p) for p in re.findall(r"<p>(.*?)</p>", body.group(1) or body.group(2), re.S)]


def test_robots_allows_all_and_names_the_sitemap(site):
    status, body = get(site.base_url + "/robots.txt")
    assert status == 200
    assert "Allow: /" in body.decode() and "Disallow: /" not in body.decode()
    assert f"Sitemap: {site.base_url}/sitemap_index.xml" in body.decode()


def test_sitemaps_list_every_entry_once_in_sitemaps_of_bounded_size(site, monkeypatch):
    monkeypatch.setattr(benchsite, "SITEMAP_SIZE", 40)
    entries = sitemap_entries(site)
    assert len(entries) == site.counts["entries"] == 150
    assert len(set(entries)) == len(entries)
    status, index = get(site.base_url + "/sitemap_index.xml")
    assert len(list(ET.fromstring(index).iter(SM + "sitemap"))) == 4  # 40 + 40 + 40 + 30


def test_every_entry_of_a_large_site_has_its_own_url(material):
    model = benchsite.build(material, 5000, seed=1)
    assert len({p.path for p in model.pages}) == 5000


def test_feed_items_are_live_articles_with_their_titles(site):
    status, body = get(site.base_url + "/rss.xml")
    assert status == 200
    items = ET.fromstring(body).findall("./channel/item")
    assert len(items) == min(benchsite.FEED_SIZE, 150)
    for item in items[:10]:
        status, page = get(item.findtext("link"))
        if site.truth(item.findtext("link")) is None:
            assert status == 404
            continue
        assert status == 200
        assert f"<h1 class=\"headline\">{item.findtext('title')}</h1>" in unescape(page.decode()) or \
            f"<h1>{item.findtext('title')}</h1>" in unescape(page.decode())


def test_tracking_urls_serve_the_same_bytes_as_the_article(site):
    tracked = [u for u in sitemap_entries(site) if "?" in u]
    assert len(tracked) == site.counts["tracking"] > 0
    for url in tracked:
        assert re.search(r"[?&](utm_source|fbclid)=", url)
        status, copy = get(url)
        status_orig, orig = get(url.split("?")[0])
        assert status == status_orig == 200
        assert copy == orig


def test_second_path_copies_and_near_duplicates(site):
    pages = site.model.pages
    aliases = [p for p in pages if p.kind == "alias"]
    nears = [p for p in pages if p.kind == "near"]
    assert aliases and nears
    for alias in aliases:
        assert get(site.url(alias))[1] == get(site.url(pages[alias.text]))[1]
    for near in nears:
        mine = body_paragraphs(get(site.url(near))[1])
        theirs = body_paragraphs(get(site.url(pages[near.story]))[1])
        assert len(mine) == len(theirs)
        assert sum(a != b for a, b in zip(mine, theirs)) == 1


def test_dead_links_answer_404(site):
    dead = [u for u in sitemap_entries(site) if site.truth(u) is None]
    assert len(dead) == site.counts["broken"] > 0
    assert all(get(u)[0] == 404 for u in dead)
    assert get(site.base_url + "/no/such/page")[0] == 404


def test_articles_have_distinct_texts_of_2_to_6_kb_and_their_metadata(site):
    texts = {}
    for page in site.model.pages:
        if page.kind not in ("article", "english"):
            continue
        html = get(site.url(page))[1].decode()
        paras = body_paragraphs(html.encode())
        size = len("\n".join(paras).encode())
        assert benchsite.BODY_BYTES[0] <= size <= benchsite.BODY_BYTES[1] + len(paras)
        texts[page.id] = "\n".join(paras)
        title = unescape(re.search(r"<h1[^>]*>(.*?)</h1>", html).group(1))
        assert f'<meta property="og:title" content="{title}">' in unescape(html)
        assert re.search(r"<title>" + re.escape(title) + r"( - أخبار الاختبار| \| Test News)</title>", unescape(html))
        assert f'<meta property="article:published_time" content="{page.published.isoformat()}">' in html
        assert f'<link rel="canonical" href="{site.url(page)}">' in html
        if page.lang == "ar":
            data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
            assert data["headline"] == title and data["datePublished"] == page.published.isoformat()
            assert data["articleBody"] == texts[page.id]
            assert data["publisher"]["url"] == "https://example.com/"  # not the article's slot
        else:
            assert re.search(r"\b(the|and|of)\b", texts[page.id])
        assert "amphtml" not in html and "ارتفعت أسعار النفط" not in html  # the template's own text is gone
    assert len(set(texts.values())) == len(texts)
    assert len(texts) + site.counts["near"] == site.counts["distinct_texts"]


def test_listing_pages_link_every_entry_and_the_next_page(site):
    seen, url = [], site.base_url + "/news/"
    while url:
        status, body = get(url)
        assert status == 200
        html = body.decode()
        seen += [unescape(u) for u in re.findall(r'<li><a href="([^"]+)"', html)]
        nxt = re.search(r'<a rel="next"[^>]*href="([^"]+)"', html)
        url = site.base_url + nxt.group(1) if nxt else None
    assert seen == sitemap_entries(site)


def test_same_seed_same_site_other_seed_other_site(material, site):
    with benchsite.GeneratedSite(pages=150, material=material, seed=3) as again, \
            benchsite.GeneratedSite(pages=150, material=material, seed=4) as other:
        for path in ("/sitemap_index.xml", "/rss.xml", "/news/page/2/"):
            assert get(again.base_url + path)[1].replace(again.base_url.encode(), b"") == \
                get(site.base_url + path)[1].replace(site.base_url.encode(), b"")
        first = lambda s: get(s.url(s.model.pages[0]))[1].replace(s.base_url.encode(), b"")  # noqa: E731
        assert first(again) == first(site)
        assert first(other) != first(site)


def test_delay_is_applied_to_every_request(material):
    with benchsite.GeneratedSite(pages=5, material=material, delay=300) as slow:
        started = time.perf_counter()
        assert get(slow.base_url + "/robots.txt")[0] == 200
        assert time.perf_counter() - started >= 0.3


def test_missing_shared_data_is_a_clear_error(tmp_path):
    with pytest.raises(benchsite.SiteDataMissing, match="real pages the bench site is made from are missing"):
        benchsite.Material.shared(tmp_path / "realpages")


def test_truth_ignores_host_and_tracking_parameters(site):
    page = next(p for p in site.model.pages if p.kind == "article")
    moved = "http://other.example" + urlsplit(site.url(page)).path + "?utm_source=x"
    assert site.truth(moved) is page
