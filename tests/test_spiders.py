"""The generic spiders, driven offline: documents in, requests and items out.

The documents are the fixture site's own (tests/sitefixture.py generates its feeds, sitemaps and
listing pages from tests/fixtures/site/site.json); no reactor runs here (tests/test_crawl.py runs
real crawls).
"""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import unquote

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Headers, HtmlResponse, Response, XmlResponse
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy.orm import Session
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawler.core.canonical import canonicalize_url
from crawler.core.decode import header_value
from crawler.extensions import run_outcome
from crawler.ingest import RawDocument
from crawler.items import CONDITIONAL_KEY, START_KEY, WARC_KEY, PageItem, ValidatorItem
from crawler.middlewares import LastRunMiddleware, SeenUrlMiddleware, default_warc_dir, parse_retry_after, retry_delay
from crawler.pipelines import ValidatorPipeline
from crawler.replay import is_page_response
from crawler.core.sources import parse_sources
from crawler.capture.warc import WarcPointer
from spiders.base import error_kind
from spiders.feed import FeedSpider
from spiders.listing import LISTING_KEY, PAGE_KEY, ListingSpider
from spiders.sitemap import SitemapSpider
from spiders.source import SourceSpider, spider_for
from storage import archive
from storage.db import open_engine
from storage.validators import get_validator


def make_source(site, **fields):
    lines = [f'name = "site"', f'allowed_domains = ["127.0.0.1"]']
    for key, value in fields.items():
        lines.append(f"{key} = {value}")
    return parse_sources("[[sources]]\n" + "\n".join(lines) + "\n")[0]


def make_spider(cls, source, db):
    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("TWISTED_REACTOR_ENABLED", False)
    crawler = Crawler(cls, settings)
    spider = cls.from_crawler(crawler, source=source, db=db)
    crawler.spider = spider
    crawler._apply_settings()
    return spider


def response(cls, url, body, *, status=200, meta=None, headers=None):
    request = Request(url, meta=dict(meta or {}))
    return cls(url, body=body if isinstance(body, bytes) else body.encode("utf-8"), status=status,
               request=request, headers=headers or {}, encoding="utf-8")


def urls(requests):
    return [r.url for r in requests]


def crawled(spider, callback, page):
    """What a callback's output becomes on its way out of the crawl's spider middlewares (the
    archive's filters, in the order the settings give them): requests only."""
    out = callback(page)
    for middleware in (LastRunMiddleware, SeenUrlMiddleware):
        out = middleware.from_crawler(spider.crawler).process_spider_output(page, out)
    return [r for r in out if isinstance(r, Request)]


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'archive.db'}"


def linked(site, channel):
    """Canonical URLs of every page the site links from ``channel`` (robots and 404s included:
    the spider requests them; the downloader's robots middleware and the server decide)."""
    return sorted({canonicalize_url(site.url_for(p.path)) for p in site.pages if channel in p.links})


def stat(spider, name):
    return spider.crawler.stats.get_value("akhbar/" + name, 0)


# --- feeds -----------------------------------------------------------------------------------


def test_feed_links_become_canonical_requests_with_the_entry_date(fixture_site, db):
    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    feed = response(XmlResponse, f"{site.url}/feed.xml", site.rss(), meta={CONDITIONAL_KEY: f"{site.url}/feed.xml", START_KEY: True})
    requests = crawled(spider, spider.parse_feed, feed)
    assert sorted(urls(requests)) == linked(site, "rss")
    assert all("utm_" not in u and "#" not in u for u in urls(requests))
    dates = {r.url: r.meta["akhbar_feed_date"] for r in requests}
    sputnik = next(p for p in site.pages if p.id == "sputnik")
    assert dates[canonicalize_url(site.url_for(sputnik.path))] == format_datetime(datetime.fromisoformat(sputnik.published))
    assert stat(spider, "start_ok") == 1


def test_feed_skips_what_the_archive_has_seen_and_links_off_the_source(fixture_site, db):
    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    expected = linked(site, "rss")
    engine = open_engine(db)
    with Session(engine) as session:  # one page was taken in (and rejected) by an earlier crawl
        doc_id, _ = archive.add_document(session, url=expected[0], raw=b"x")
        archive.set_document_outcome(session, doc_id, "rejected", reason="no article text found")
        session.commit()
    engine.dispose()
    body = site.rss().replace("</channel>", "<item><link>https://elsewhere.example/a</link></item></channel>")
    requests = crawled(spider, spider.parse_feed, response(XmlResponse, f"{site.url}/feed.xml", body))
    assert sorted(urls(requests)) == expected[1:]
    assert stat(spider, "skipped_seen") == 1 and stat(spider, "skipped_offsite") == 1


def test_an_unchanged_feed_asks_for_nothing_and_an_unreadable_one_counts_against_the_run(fixture_site, db):
    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    assert list(spider.parse_feed(response(XmlResponse, f"{site.url}/feed.xml", b"", status=304, meta={START_KEY: True}))) == []
    assert stat(spider, "start_ok") == 1
    page = response(HtmlResponse, f"{site.url}/feed.xml", "<html><body><p>صيانة</p></body></html>", meta={START_KEY: True})
    assert list(spider.parse_feed(page)) == []
    assert stat(spider, "start_failed") == 1 and stat(spider, "errors/unreadable") == 1
    assert spider.first_error.startswith(f"{site.url}/feed.xml: not a feed")


def test_start_requests_are_conditional_and_follow_the_spiders_way(fixture_site, db):
    site = fixture_site
    source = make_source(site, feeds=f'["{site.url}/feed.xml"]', sitemaps=f'["{site.url}/sitemap_index.xml"]',
                         listings=f'[{{ url = "{site.url}/news/" }}]')
    feed_requests = list(make_spider(FeedSpider, source, db).start_requests_for_ways())
    assert urls(feed_requests) == [f"{site.url}/feed.xml"]
    assert feed_requests[0].meta[CONDITIONAL_KEY] == f"{site.url}/feed.xml"
    assert 304 in feed_requests[0].meta["handle_httpstatus_list"]
    all_requests = list(make_spider(SourceSpider, source, db).start_requests_for_ways())
    assert urls(all_requests) == [f"{site.url}/feed.xml", f"{site.url}/sitemap_index.xml", f"{site.url}/news/"]
    assert CONDITIONAL_KEY not in all_requests[2].meta  # listing pages are HTML: always fetched
    assert spider_for(source) is SourceSpider
    assert spider_for(make_source(site, sitemaps=f'["{site.url}/s.xml"]')) is SitemapSpider
    assert spider_for(make_source(site, listings=f'[{{ url = "{site.url}/news/" }}]')) is ListingSpider


def test_validators_are_kept_only_when_the_crawl_finishes(fixture_site, db):
    site = fixture_site
    url = f"{site.url}/feed.xml"
    headers = {"ETag": 'W/"v1"', "Last-Modified": "Mon, 13 May 2024 06:00:00 GMT"}
    for reason, kept in (("shutdown", False), ("finished", True)):
        spider = make_spider(FeedSpider, make_source(site, feeds=f'["{url}"]'), db)
        pipeline = ValidatorPipeline.from_crawler(spider.crawler)
        out = spider.parse_feed(response(XmlResponse, url, site.rss(), meta={CONDITIONAL_KEY: url}, headers=headers))
        items = [pipeline.process_item(i) for i in out if isinstance(i, ValidatorItem)]
        assert items == [ValidatorItem(url, headers["ETag"], headers["Last-Modified"])]
        pipeline.spider_closed(spider, reason)
        engine = open_engine(db)
        with Session(engine) as session:
            validator = get_validator(session, url)
            assert (validator is not None) is kept
            if kept:
                assert (validator.etag, validator.last_modified) == ('W/"v1"', headers["Last-Modified"])
        engine.dispose()


# --- sitemaps --------------------------------------------------------------------------------


def test_a_sitemap_index_leads_to_its_sitemaps_conditionally(fixture_site, db):
    site = fixture_site
    spider = make_spider(SitemapSpider, make_source(site, sitemaps=f'["{site.url}/sitemap_index.xml"]'), db)
    requests = list(spider.parse_sitemap(response(XmlResponse, f"{site.url}/sitemap_index.xml", site.sitemap_index())))
    assert urls(requests) == [f"{site.url}/sitemap-news.xml", f"{site.url}/sitemap-pages.xml"]
    assert all(r.meta[CONDITIONAL_KEY] == r.url and r.callback == spider.parse_sitemap for r in requests)


def test_the_lastmod_filter_skips_sitemaps_not_changed_since(fixture_site, db):
    site = fixture_site
    spider = make_spider(SitemapSpider, make_source(site, sitemaps=f'["{site.url}/sitemap_index.xml"]'), db)
    spider.since = datetime.now(timezone.utc) - timedelta(minutes=1)  # nothing in the index changed since
    assert list(spider.parse_sitemap(response(XmlResponse, f"{site.url}/sitemap_index.xml", site.sitemap_index()))) == []
    assert stat(spider, "skipped_sitemaps") == 2
    site.add_article()  # the news sitemap changes; the pages sitemap does not
    requests = list(spider.parse_sitemap(response(XmlResponse, f"{site.url}/sitemap_index.xml", site.sitemap_index())))
    assert urls(requests) == [f"{site.url}/sitemap-news.xml"]


def test_a_google_news_sitemap_gives_article_requests_with_publication_dates(fixture_site, db):
    site = fixture_site
    spider = make_spider(SitemapSpider, make_source(site, sitemaps=f'["{site.url}/sitemap_index.xml"]'), db)
    requests = list(spider.parse_sitemap(response(XmlResponse, f"{site.url}/sitemap-news.xml", site.sitemap_news())))
    assert sorted(urls(requests)) == linked(site, "news-sitemap")
    albayan = next(p for p in site.pages if p.id == "albayan")
    dates = {r.url: r.meta["akhbar_feed_date"] for r in requests}
    assert datetime.fromisoformat(dates[canonicalize_url(site.url_for(albayan.path))]) == datetime.fromisoformat(albayan.published)


# --- listings --------------------------------------------------------------------------------


def listing_page(site, number, spider):
    url = f"{site.url}/news/" if number == 1 else f"{site.url}/news/?page={number}"
    return response(HtmlResponse, url, site.listing_html(number), meta={LISTING_KEY: 0, PAGE_KEY: number})


def test_a_listing_gives_its_article_links_and_its_next_page(fixture_site, db):
    site = fixture_site
    spider = make_spider(ListingSpider, make_source(site, listings=f'[{{ url = "{site.url}/news/", next = "a[rel=next]" }}]'), db)
    out = list(spider.parse_listing(listing_page(site, 2, spider)))
    articles = [r for r in out if r.callback == spider.parse_article]
    pages = [r for r in out if r.callback == spider.parse_listing]
    assert sorted(urls(articles)) == linked(site, "listing-2")  # no pagination links among them
    assert urls(pages) == [f"{site.url}/news/?page=3"] and pages[0].meta[PAGE_KEY] == 3


def test_a_listings_follow_pattern_is_matched_on_the_decoded_url_too(fixture_site, db):
    site = fixture_site
    source = make_source(site, listings=f'[{{ url = "{site.url}/news/", follow = "/story/\\\\d{{4}}/.+/\\\\d+$" }}]')
    spider = make_spider(ListingSpider, source, db)
    articles = [r for r in spider.parse_listing(listing_page(site, 1, spider)) if r.callback == spider.parse_article]
    expected = sorted({canonicalize_url(site.url_for(p.path)) for p in site.pages
                       if "listing-1" in p.links and p.path.startswith("/story/")})
    assert len(expected) == 2 and sorted(urls(articles)) == expected
    # the same pattern written with the Arabic of a path (decoded) also matches
    arabic = make_source(site, listings=f'[{{ url = "{site.url}/news/", follow = "/وزير-" }}]')
    spider = make_spider(ListingSpider, arabic, db)
    articles = [r for r in spider.parse_listing(listing_page(site, 1, spider)) if r.callback == spider.parse_article]
    assert len(articles) == 1 and "4943459" in articles[0].url


def test_paging_stops_at_a_page_whose_articles_are_all_archived(fixture_site, db):
    site = fixture_site
    spider = make_spider(ListingSpider, make_source(site, listings=f'[{{ url = "{site.url}/news/" }}]'), db)
    engine = open_engine(db)
    with Session(engine) as session:
        for url in linked(site, "listing-1"):
            doc_id, _ = archive.add_document(session, url=url, raw=url.encode())
            archive.set_document_outcome(session, doc_id, "rejected")
        session.commit()
    engine.dispose()
    assert crawled(spider, spider.parse_listing, listing_page(site, 1, spider)) == []
    assert stat(spider, "skipped_seen") == len(linked(site, "listing-1"))


# --- pages, failures, pure helpers -------------------------------------------------------------


def test_an_article_response_becomes_a_page_item_with_its_warc_pointer(fixture_site, db):
    site = fixture_site
    source = make_source(site, feeds=f'["{site.url}/feed.xml"]', timezone='"Africa/Cairo"', locale='"ar-EG"')
    spider = make_spider(FeedSpider, source, db)
    pointer = WarcPointer("/w/a.warc.gz", 10, 99)
    page = response(HtmlResponse, f"{site.url}/a", "<html></html>",
                    meta={WARC_KEY: pointer, "akhbar_feed_date": "2024-05-13"}, headers={"Content-Type": "text/html; charset=windows-1256"})
    (item,) = list(spider.parse_article(page))
    assert isinstance(item, PageItem)
    doc = item.doc
    assert (doc.url, doc.source, doc.timezone, doc.locale, doc.feed_date, item.link) == (
        f"{site.url}/a", "site", "Africa/Cairo", "ar-EG", "2024-05-13", f"{site.url}/a")
    assert (doc.warc_path, doc.warc_offset, doc.warc_length) == ("/w/a.warc.gz", 10, 99)
    assert doc.headers["content-type"] == "text/html; charset=windows-1256"


def test_failures_are_counted_by_kind_and_a_failed_start_url_is_remembered(fixture_site, db):
    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    start = Request(f"{site.url}/feed.xml", meta={START_KEY: True})
    failure = Failure(DNSLookupError("no such host"))
    failure.request = start
    spider.on_error(failure)
    article = Request(f"{site.url}/a")
    gone = Failure(HttpError(Response(f"{site.url}/a", status=404, request=article)))
    gone.request = article
    spider.on_error(gone)
    assert stat(spider, "errors/dns") == 1 and stat(spider, "errors/http_404") == 1
    assert stat(spider, "start_failed") == 1
    assert spider.first_error.startswith(f"{site.url}/feed.xml: dns")
    assert error_kind(Failure(IgnoreRequest("Forbidden by robots.txt"))) == "robots_disallowed"
    assert error_kind(Failure(TimeoutError())) == "timeout"
    assert error_kind(Failure(DownloadTimeoutError())) == "timeout"
    assert error_kind(Failure(DownloadConnectionRefusedError())) == "connection_refused"
    assert error_kind(Failure(CannotResolveHostError())) == "dns"


def test_retry_delay_backs_off_and_honours_retry_after():
    assert [retry_delay(n, base=2.0, cap=10.0) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert retry_delay(1, 30.0, base=2.0) == 30.0  # the server asked for longer than the backoff
    assert retry_delay(3, 1.0, base=2.0) == 8.0  # never shorter than the backoff
    assert retry_delay(1, 86_400.0, base=2.0, retry_after_cap=600.0) == 600.0
    now = datetime(2024, 5, 13, 6, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Fri, 31 Dec 99999999999999999999 00:00:00 GMT") is None  # overflowed: a lost page
    assert parse_retry_after(header_value(Headers({"Retry-After": "7"}), "Retry-After")) == 7.0  # Scrapy's bytes
    assert parse_retry_after("Mon, 13 May 2024 06:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Mon, 13 May 2024 05:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after(" ") is None


def test_run_outcome():
    assert run_outcome("finished", start_ok=2, start_failed=1) == "ok"
    assert run_outcome("finished", start_ok=0, start_failed=2) == "failed"
    assert run_outcome("shutdown", start_ok=3, start_failed=0) == "interrupted"
    assert run_outcome("closespider_timeout", start_ok=1, start_failed=0) == "ok"


def test_replay_takes_pages_only_from_a_warc():
    html = {"content-type": "text/html; charset=utf-8"}
    assert is_page_response("http://a.example/x", 200, html)
    assert is_page_response("http://a.example/x", 200, {})
    assert is_page_response("http://a.example/x.txt", 200, {"Content-Type": "text/plain"})
    assert not is_page_response("http://a.example/robots.txt", 200, {"content-type": "text/plain"})
    assert not is_page_response("http://a.example/feed", 200, {"content-type": "application/rss+xml"})
    assert not is_page_response("http://a.example/sitemap.xml", 200, {"content-type": "text/xml"})
    assert not is_page_response("http://a.example/x", 503, html)
    assert not is_page_response("http://a.example/x", 304, {})


def test_warc_goes_beside_a_sqlite_archive(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_warc_dir(str(tmp_path / "data" / "a.db")) == str(tmp_path / "data" / "warc")
    assert default_warc_dir(f"sqlite:///{tmp_path}/b.db") == str(tmp_path / "warc")
    assert default_warc_dir("postgresql://u@h/db") == str(tmp_path / "warc")


# --- the pipeline ----------------------------------------------------------------------------

SITE_PAGES = __import__("pathlib").Path(__file__).parent / "fixtures" / "site" / "pages"


def test_the_pipeline_stores_counts_and_remembers_a_redirected_link(fixture_site, db):
    from crawler.pipelines import IngestPipeline

    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    pipeline = IngestPipeline.from_crawler(spider.crawler)
    body = (SITE_PAGES / "albayan_2020-06-03.html").read_bytes()
    html = {"content-type": "text/html; charset=utf-8"}
    def item(url, data, link=None):
        return PageItem(RawDocument(data=data, url=url, status=200, headers=html, source="site"), link=link)

    # never opened: each page is taken in right here (the crawl's pool and writer are tested in test_allcores.py)
    asyncio.run(pipeline.process_item(item("https://news.example/2020/story/", body, link="http://news.example/2020/story?utm_source=x")))
    asyncio.run(pipeline.process_item(item("https://news.example/other", body)))
    asyncio.run(pipeline.process_item(item("https://news.example/menu", b"<html><body><a href='/'>x</a></body></html>")))
    assert (stat(spider, "articles_new"), stat(spider, "articles_duplicate"), stat(spider, "articles_rejected")) == (1, 1, 1)
    engine = open_engine(db)
    with Session(engine) as session:
        remembered = ("https://news.example/2020/story", "http://news.example/2020/story", "https://news.example/menu")
        assert archive.seen_urls(session, remembered) == set(remembered)
        assert archive.stats(session)["articles"] == 1
    engine.dispose()


# --- reading pages with the right encoding; unexpected failures ---------------------------------


def test_a_listing_is_read_with_the_encoding_of_its_bytes_not_the_one_declared(fixture_site, db):
    """A UTF-8 page served as windows-1256: its Arabic links are read as UTF-8 (crawler.core.decode),
    not as the mojibake the declared charset would give."""
    site = fixture_site
    spider = make_spider(ListingSpider, make_source(site, listings=f'[{{ url = "{site.url}/news/" }}]'), db)
    url = f"{site.url}/news/"
    html = site.listing_html(1).replace('<meta charset="utf-8">', "")
    html = re.sub(r'href="([^"]+)"', lambda m: f'href="{unquote(m.group(1))}"', html)  # links as written in Arabic
    assert any(ord(c) > 0x600 for c in "".join(re.findall(r'href="([^"]+)"', html)))  # links in Arabic letters
    page = HtmlResponse(url, body=html.encode("utf-8"), headers={"Content-Type": "text/html; charset=windows-1256"},
                        request=Request(url, meta={LISTING_KEY: 0, PAGE_KEY: 1}))
    articles = [r for r in spider.parse_listing(page) if r.callback == spider.parse_article]
    assert sorted(urls(articles)) == linked(site, "listing-1")


def test_an_unexpected_exception_in_a_callback_is_one_warning_a_counted_error_and_a_debug_traceback(
        fixture_site, db, caplog):
    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    page = response(HtmlResponse, f"{site.url}/a", "<html></html>")
    try:
        spider.parse_listing(page)  # a feed spider has no listing: a defect, raised by real code
    except AttributeError as exc:
        error = exc
    middlewares = [load_object(path).from_crawler(spider.crawler) for path, order
                   in spider.crawler.settings.getwithbase("SPIDER_MIDDLEWARES").items() if order is not None]
    handlers = [m for m in middlewares if hasattr(m, "process_spider_exception")]
    caplog.set_level(logging.DEBUG)
    answers = [h.process_spider_exception(page, error) for h in handlers]
    assert [] in answers  # handled: the crawl goes on
    assert stat(spider, "errors/attributeerror") == 1
    ours = [r for r in caplog.records if r.name.startswith("crawler.")]
    warnings = [r for r in ours if r.levelno >= logging.INFO]
    assert len(warnings) == 1 and warnings[0].exc_info is None and f"{site.url}/a" in warnings[0].getMessage()
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in ours)


def test_an_unexpected_extraction_failure_keeps_the_document_and_says_error(fixture_site, db, caplog):
    """The extractor failing on a bad input (a file name that is not text) is not the page's fault:
    the raw document and its WARC pointer stay, with outcome ``error`` and the reason."""
    from crawler.pipelines import IngestPipeline
    from storage.models import Document

    site = fixture_site
    spider = make_spider(FeedSpider, make_source(site, feeds=f'["{site.url}/feed.xml"]'), db)
    body = (SITE_PAGES / "albayan_2020-06-03.html").read_bytes()
    doc = RawDocument(data=body, url="https://news.example/2020/story", status=200, source="site",
                      headers={}, name=20200603,  # type: ignore[arg-type]
                      warc_path="/w/a.warc.gz", warc_offset=10, warc_length=99)
    caplog.set_level(logging.INFO)
    asyncio.run(IngestPipeline.from_crawler(spider.crawler).process_item(PageItem(doc)))
    assert stat(spider, "errors/extraction") == 1 and stat(spider, "articles_rejected") == 0
    assert not [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]
    engine = open_engine(db)
    with Session(engine) as session:
        (row,) = session.query(Document).all()
        assert (row.url, row.outcome) == ("https://news.example/2020/story", "error")
        assert row.reason.startswith("AttributeError: ")
        assert (row.warc_path, row.warc_offset, row.warc_length) == ("/w/a.warc.gz", 10, 99)
    engine.dispose()


def test_a_crawl_without_an_archive_builds_none_of_the_archive_components(fixture_site, tmp_path):
    from scrapy.exceptions import NotConfigured

    from crawler.extensions import ArchiveExtension, RunRecorder
    from crawler.middlewares import ConditionalGetMiddleware
    from crawler.pipelines import IngestPipeline

    site = fixture_site
    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("TWISTED_REACTOR_ENABLED", False)
    settings.set("AKHBAR_ARCHIVE_ENABLED", False)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    crawler = Crawler(FeedSpider, settings)
    crawler.spider = FeedSpider.from_crawler(crawler, source=make_source(site, feeds=f'["{site.url}/feed.xml"]'), db=db)
    crawler._apply_settings()
    assert crawler.get_extension(ArchiveExtension) is None and crawler.get_extension(RunRecorder) is None
    for component in (SeenUrlMiddleware, LastRunMiddleware, ConditionalGetMiddleware, IngestPipeline, ValidatorPipeline):
        with pytest.raises(NotConfigured):
            component.from_crawler(crawler)
    assert not (tmp_path / "archive.db").exists()
