"""Feeds and sitemaps as Arabic news sites publish them, broken ones included."""
from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.core.discovery import (
    DiscoveryError,
    FeedEntry,
    SitemapEntry,
    entries_since,
    parse_date_loose,
    parse_feed,
    parse_sitemap,
)

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
BASE = "http://127.0.0.1:8000/feed.xml"
UTC = timezone.utc


def feed(name: str) -> list[FeedEntry]:
    return parse_feed((FEEDS / name).read_bytes(), BASE)


# ------------------------------------------------------------------------------ feeds


def test_rss2_keeps_every_item_in_order_with_raw_dates_and_arabic_titles():
    entries = feed("rss2_arabic_outlets.xml")
    assert len(entries) == 10
    first = entries[0]
    assert first.url.startswith("http://www.alarabiya.net/ar/culture-and-art/2018/02/18/هكذا-تحالفت")
    assert first.title == 'هكذا تحالفت أحلام وإليسا ضد عاصي وحماقي بـ"ذا فويس"'
    assert first.published == "Sun, 18 Feb 2018 21:35:43 +0400"  # exactly as the feed wrote it
    assert first.summary.startswith("<p>يبدو أن الصراع")  # CDATA HTML kept as published
    hosts = [e.url.split("/")[2] for e in entries]
    assert hosts == ["www.alarabiya.net"] * 2 + ["www.bbc.co.uk"] * 2 + ["arabic.cnn.com"] * 2 + [
        "www.france24.com"
    ] * 2 + ["www.skynewsarabia.com"] * 2
    # guid isPermaLink="false" is an id, never taken for the link
    assert all(e.url.startswith("http") for e in entries)
    assert all(parse_date_loose(e.published) is not None for e in entries)


def test_atom_resolves_relative_links_against_xml_base_and_skips_enclosures():
    entries = feed("atom_bbc_france24.xml")
    assert [e.url for e in entries[:2]] == [
        "http://www.bbc.co.uk/arabic/art-and-culture-43105759",
        "http://www.bbc.co.uk/arabic/world-43255618",
    ]
    assert entries[2].url.startswith("http://www.france24.com/ar/20180218-")
    assert entries[1].title == 'موجة الثلوج في بريطانيا: استدعاء الجيش لمواجهة "الوحش القادم من الشرق"'
    assert entries[0].published == "2018-02-18T17:21:49+00:00"
    assert entries[0].updated == "2018-02-18T17:21:49+00:00"
    assert entries[0].summary.startswith("<p>كتاب غير مسبوق")


def test_rss1_rdf_items_and_dublin_core_dates():
    entries = feed("rss1_rdf_skynews_cnn.xml")
    assert len(entries) == 4
    assert entries[0].url == "https://www.skynewsarabia.com/web/article/1022914"
    assert entries[0].title == 'أدنوك تبرم اتفاقية امتياز جديدة مع "سيبسا" الإسبانية'
    assert parse_date_loose(entries[0].published) == datetime(2018, 2, 18, 12, 26, 59, tzinfo=UTC)


def test_json_feed():
    entries = feed("jsonfeed_alarabiya_cnn.json")
    assert [e.url.split("/")[2] for e in entries] == ["www.alarabiya.net"] * 2 + ["arabic.cnn.com"] * 2
    assert entries[2].title == 'شركة "Vue" تخطط لافتتاح 30 صالة سينما في السعودية'
    assert parse_date_loose(entries[0].published) == datetime(2018, 2, 18, 17, 35, 43, tzinfo=UTC)


def test_broken_feed_bom_junk_bare_ampersand_html_entity_and_cut_off_end():
    entries = feed("rss2_broken_truncated.xml")
    # the third item is cut inside its <link>: a half URL must not come out
    assert len(entries) == 2
    assert entries[0].url.endswith(".html?utm_source=rss&utm_medium=feed")
    assert entries[0].title.endswith('"ذا فويس"')  # &nbsp; read as a space, then trimmed
    assert entries[1].summary is None


def test_feedburner_origlink_guid_permalink_and_relative_links():
    data = """<?xml version="1.0"?>
<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel>
<item><title>خلل يضرب بطاقات Visa الائتمانية</title>
  <link>http://feedproxy.google.com/~r/skynews/~3/abc/</link>
  <feedburner:origLink>https://www.skynewsarabia.com/business/1052896</feedburner:origLink></item>
<item><title>أدنوك تبرم اتفاقية امتياز جديدة</title><guid>https://www.skynewsarabia.com/web/article/1022914</guid></item>
<item><title>بلا رابط</title><guid isPermaLink="false">1022915</guid></item>
<item><title>رابط نسبي</title><link>/web/article/1022916</link></item>
</channel></rss>""".encode()
    entries = parse_feed(data, "https://www.skynewsarabia.com/rss.xml")
    assert [e.url for e in entries] == [
        "https://www.skynewsarabia.com/business/1052896",
        "https://www.skynewsarabia.com/web/article/1022914",
        "https://www.skynewsarabia.com/web/article/1022916",
    ]


def test_gzipped_feed_is_read():
    data = gzip.compress((FEEDS / "rss2_arabic_outlets.xml").read_bytes())
    assert parse_feed(data, BASE) == feed("rss2_arabic_outlets.xml")


@pytest.mark.parametrize(
    "body",
    [b"<!DOCTYPE html><html><head><title>503</title></head><body>Service Unavailable</body></html>", b"", b"{}"],
)
def test_a_page_that_is_not_a_feed_is_an_error_not_an_empty_feed(body):
    with pytest.raises(DiscoveryError):
        parse_feed(body, BASE)


# ------------------------------------------------------------------------------ sitemaps


def test_real_google_news_sitemap():
    sitemap = parse_sitemap((FEEDS / "nytimes_news_sitemap.xml").read_bytes(), "https://www.nytimes.com/sitemap.xml")
    assert sitemap.kind == "urlset" and not sitemap.truncated
    assert len(sitemap.entries) == 6
    first = sitemap.entries[0]
    # the <loc> of the real file ends with a space; image:loc must not be taken for a page
    assert first == SitemapEntry(
        url="https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html",
        lastmod="2020-05-19T21:57:45Z",
        news_publication_date="2020-05-11T09:00:01Z",
        news_title="Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose",
        language="en-US",
    )
    assert not any("static01" in e.url for e in sitemap.entries)


def test_gzipped_sitemap_equals_plain_one():
    plain = parse_sitemap((FEEDS / "nytimes_news_sitemap.xml").read_bytes(), BASE)
    packed = parse_sitemap((FEEDS / "nytimes_news_sitemap.xml.gz").read_bytes(), BASE)
    assert packed == plain


def test_cut_gzip_sitemap_gives_only_whole_entries_and_says_truncated():
    full = parse_sitemap((FEEDS / "nytimes_news_sitemap.xml").read_bytes(), BASE).entries
    packed = (FEEDS / "nytimes_news_sitemap.xml.gz").read_bytes()
    cut = parse_sitemap(packed[: len(packed) * 2 // 3], BASE)
    assert cut.truncated
    assert 0 < len(cut.entries) < len(full)
    assert cut.entries == full[: len(cut.entries)]


def test_arabic_news_sitemap_and_index():
    news = parse_sitemap((FEEDS / "news_sitemap_arabic.xml").read_bytes(), BASE)
    assert len(news.entries) == 10
    assert {e.language for e in news.entries} == {"ar"}
    assert news.entries[3].news_title == 'موجة الثلوج في بريطانيا: استدعاء الجيش لمواجهة "الوحش القادم من الشرق"'
    index = parse_sitemap((FEEDS / "sitemap_index.xml").read_bytes(), "http://127.0.0.1:8000/sitemap_index.xml")
    assert index.kind == "index"
    assert [e.url for e in index.entries] == [
        "http://127.0.0.1/news_sitemap_arabic.xml",
        "http://127.0.0.1:8000/nytimes_news_sitemap.xml.gz",  # relative <loc> made absolute
    ]
    assert index.entries[1].lastmod == "2020-05-19"


def test_sitemap_behind_php_warning_bom_with_bare_ampersand_and_html_entity():
    data = (
        b"\xef\xbb\xbf\n<br />\n<b>Warning</b>: Cannot modify header information in <b>/var/www/sitemap.php</b>\n"
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://www.alyaum.com/articles/6291787?ref=home&amp;x=1&y=2</loc></url>"
        b"<url><loc>https://www.alyaum.com/articles/6291788</loc><lastmod>2020-12-01&nbsp;</lastmod></url>"
        b"</urlset>\n<!-- generated in 0.2 s -->\n"
    )
    sitemap = parse_sitemap(data, BASE)
    assert not sitemap.truncated
    assert [e.url for e in sitemap.entries] == [
        "https://www.alyaum.com/articles/6291787?ref=home&x=1&y=2",
        "https://www.alyaum.com/articles/6291788",
    ]
    assert sitemap.entries[1].lastmod == "2020-12-01"


def test_text_sitemap():
    data = "https://www.youm7.com/story/2024/5/13/وزارة-النقل/6573469\nhttps://www.youm7.com/story/2024/5/20/a?b=1&c=2\n\n"
    sitemap = parse_sitemap(data.encode(), BASE)
    assert [e.url for e in sitemap.entries] == [
        "https://www.youm7.com/story/2024/5/13/وزارة-النقل/6573469",
        "https://www.youm7.com/story/2024/5/20/a?b=1&c=2",
    ]


def test_html_page_is_not_a_sitemap():
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"<!DOCTYPE html><html><body><h1>404</h1></body></html>", BASE)


@pytest.mark.e2e  # slow: many generated cases or a big input
def test_huge_sitemap_is_bounded():
    count = 60_000
    body = "".join(
        f"<url><loc>https://www.albayan.ae/across-the-uae/news-and-reports/{i}</loc><lastmod>2020-06-03</lastmod></url>"
        for i in range(count)
    )
    data = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
    sitemap = parse_sitemap(gzip.compress(data.encode()), BASE)
    assert sitemap.truncated
    assert len(sitemap.entries) == 50_000
    assert sitemap.entries[-1].url.endswith("/49999")
    assert len(parse_sitemap(data.encode(), BASE, max_entries=10).entries) == 10


# ------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sun, 18 Feb 2018 21:35:43 +0400", datetime(2018, 2, 18, 17, 35, 43, tzinfo=UTC)),
        ("Fri, 02 Mar 2018 10:04:21 GMT", datetime(2018, 3, 2, 10, 4, 21, tzinfo=UTC)),
        ("Sun,18 Feb 2018 21:35:43 +0400 (GST)", datetime(2018, 2, 18, 17, 35, 43, tzinfo=UTC)),
        ("18 Feb 18 21:35 EST", datetime(2018, 2, 19, 2, 35, tzinfo=UTC)),
        ("Mon, 19 Feb 2018", datetime(2018, 2, 19, tzinfo=UTC)),
        ("2020-05-19T21:57:45Z", datetime(2020, 5, 19, 21, 57, 45, tzinfo=UTC)),
        ("2020-06-03T03:01+0400", datetime(2020, 6, 2, 23, 1, tzinfo=UTC)),
        ("2020-12-25T01:59:50+02:00", datetime(2020, 12, 24, 23, 59, 50, tzinfo=UTC)),
        ("2020-12-01 02:00:00", datetime(2020, 12, 1, 2, tzinfo=UTC)),
        ("2024-05-13T06:00:00.123456789+03:00", datetime(2024, 5, 13, 3, 0, 0, 123456, tzinfo=UTC)),
        ("2020-05-19", datetime(2020, 5, 19, tzinfo=UTC)),
        ("2020-05", datetime(2020, 5, 1, tzinfo=UTC)),
        ("٢٠٢٠-١٢-٠١", datetime(2020, 12, 1, tzinfo=UTC)),
        ("  2020-05-19T21:57:45z \n", datetime(2020, 5, 19, 21, 57, 45, tzinfo=UTC)),
    ],
)
def test_parse_date_loose(text, expected):
    parsed = parse_date_loose(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("text", [None, "", "   ", "أمس", "2020-13-01", "Sun, 32 Feb 2018 21:35:43 GMT", "soon"])
def test_parse_date_loose_refuses_what_it_cannot_read(text):
    assert parse_date_loose(text) is None


def test_entries_since_is_the_lastmod_filter():
    sitemap = parse_sitemap((FEEDS / "nytimes_news_sitemap.xml").read_bytes(), BASE)
    since = datetime(2020, 5, 19, 21, 57, 36, tzinfo=UTC)
    kept = entries_since(sitemap.entries, since)
    assert [e.lastmod for e in kept] == ["2020-05-19T21:57:45Z", "2020-05-19T21:57:39Z"]
    assert entries_since(sitemap.entries, since.replace(tzinfo=None)) == kept  # naive = UTC
    assert entries_since(sitemap.entries, since + timedelta(days=1)) == []


def test_entries_since_keeps_what_it_cannot_rule_out():
    undated = SitemapEntry(url="https://www.beirutobserver.com/2020/11/2338761/")
    unreadable = SitemapEntry(url="https://a.example/1", lastmod="منذ ساعتين")
    day_only = SitemapEntry(url="https://a.example/2", lastmod="2020-11-09")
    old_day = SitemapEntry(url="https://a.example/3", lastmod="2020-11-07")
    news_only = SitemapEntry(url="https://a.example/4", news_publication_date="2020-11-09T18:34:47+00:00")
    since = datetime(2020, 11, 9, 20, 0, tzinfo=UTC)
    # a day-only lastmod may be any moment of that day in any time zone
    assert entries_since([undated, unreadable, day_only, old_day, news_only], since) == [undated, unreadable, day_only]


def test_entries_since_on_feed_entries_uses_the_newest_date():
    entries = feed("atom_bbc_france24.xml") + feed("rss2_arabic_outlets.xml")
    since = datetime(2018, 4, 1, tzinfo=UTC)
    kept = entries_since(entries, since)
    assert {e.url for e in kept} == {
        "http://www.france24.com/ar/20180411-محمد-بن-سلمان-السعودية-إسبانيا-دبلوماسية",
        "https://arabic.cnn.com/world/2018/04/12/wd-120415-suspects-surrender-miami-beating-gay-couple",
        "https://www.skynewsarabia.com/business/1052896-%D8%AE%D9%84%D9%84-%D9%8A%D8%B6%D8%B1%D8%A8-"
        "%D8%A8%D8%B7%D8%A7%D9%82%D8%A7%D8%AA-visa-%D8%A7%D9%84%D8%A7%D9%8A%D9%94%D8%AA%D9%85%D8%A7%D9%86%D9%8A%D8%A9",
    }
    assert len(kept) == 4  # France24's April item is in both feeds
