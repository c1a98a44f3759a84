"""Feeds and sitemaps that are broken or hostile: read what can be read, report the rest
(``DiscoveryError`` or ``truncated``), never lose a document silently, never crash, never blow up."""
from __future__ import annotations

import gzip
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.core.discovery import DiscoveryError, parse_feed, parse_sitemap

BASE = "https://example.org/"
RSS = ('<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel><title>أخبار</title>'
       '<item><title>الخبر الأول {junk}</title><link>https://example.org/1</link>'
       '<pubDate>Tue, 30 Apr 2024 10:00:00 +0300</pubDate></item>'
       '<item><title>الخبر الثاني</title><link>https://example.org/2</link></item></channel></rss>')
URLSET = ('<?xml version="1.0" encoding="{enc}"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
          '<url><loc>https://example.org/1{junk}</loc></url><url><loc>https://example.org/2</loc></url></urlset>')


def sitemap_of(n: int) -> bytes:
    urls = "".join(f"<url><loc>https://example.org/a/{i}</loc><lastmod>2024-04-30</lastmod></url>" for i in range(n))
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


@pytest.mark.parametrize("ref", ["&#xD800;", "&#xdfff;", "&#55296;", "&#0;", "&#x1;", "&#xFFFF;", "&#x110000;",
                                 "&#99999999999999999999;"])
def test_a_bad_character_reference_is_replaced_not_fatal(ref):
    entries = parse_feed(RSS.format(enc="utf-8", junk=ref).encode(), BASE)
    assert [e.url for e in entries] == ["https://example.org/1", "https://example.org/2"]
    assert entries[0].title == "الخبر الأول \ufffd"
    sitemap = parse_sitemap(URLSET.format(enc="utf-8", junk=ref).encode(), BASE)
    assert len(sitemap.entries) == 2 and not sitemap.truncated


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_is_read(codec):
    entries = parse_feed(RSS.format(enc="utf-16", junk="").encode(codec), BASE)
    assert [e.title for e in entries] == ["الخبر الأول", "الخبر الثاني"]
    sitemap = parse_sitemap(URLSET.format(enc="utf-16", junk="").encode(codec), BASE)
    assert [e.url for e in sitemap.entries] == ["https://example.org/1", "https://example.org/2"]


@pytest.mark.parametrize("data", [b"<rss><channel>", b"<rss><channel><item><title>x",
                                  b'<rss><channel><item a="' + b"x" * 12_000_000 + b'"></item></channel></rss>'],
                         ids=["unclosed", "cut-in-an-item", "huge-attribute"])
def test_an_unreadable_feed_is_an_error_not_an_empty_feed(data):
    with pytest.raises(DiscoveryError):
        parse_feed(data, BASE)


def test_a_well_formed_feed_without_items_is_empty_not_an_error():
    assert parse_feed(b'<rss version="2.0"><channel><title>t</title></channel></rss>', BASE) == []


def test_a_truncated_gzip_sitemap_is_reported():
    packed = gzip.compress(sitemap_of(20_000))
    sitemap = parse_sitemap(packed[: len(packed) // 2], BASE)
    assert sitemap.truncated and 0 < len(sitemap.entries) < 20_000


def test_a_corrupt_gzip_sitemap_keeps_what_precedes_the_damage_and_is_reported():
    packed = bytearray(gzip.compress(sitemap_of(20_000)))
    middle = len(packed) // 2
    packed[middle:middle + 64] = bytes(64)
    sitemap = parse_sitemap(bytes(packed), BASE)
    assert sitemap.truncated and len(sitemap.entries) > 5_000


def test_a_gzip_sitemap_corrupt_from_the_start_is_an_error():
    packed = bytearray(gzip.compress(sitemap_of(100)))
    packed[12:80] = bytes(68)
    with pytest.raises(DiscoveryError):
        parse_sitemap(bytes(packed), BASE)


def test_a_sitemap_over_the_entry_cap_is_reported():
    sitemap = parse_sitemap(sitemap_of(50), BASE, max_entries=20)
    assert sitemap.truncated and len(sitemap.entries) == 20


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "ha">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
                  + "]>")


def test_entity_bombs_do_not_expand():
    started = time.perf_counter()
    feed = parse_feed((BILLION_LAUGHS + '<rss><channel><item><title>&j;</title>'
                       '<link>https://example.org/1</link></item></channel></rss>').encode(), BASE)
    sitemap = parse_sitemap((BILLION_LAUGHS + '<urlset><url><loc>https://example.org/&j;</loc></url></urlset>')
                            .encode(), BASE)
    assert time.perf_counter() - started < 5
    assert len(feed[0].title or "") < 100 and len(sitemap.entries[0].url) < 100


# --------------------------------------------------------------------------- property tests

def _read(parse, data: bytes) -> None:
    """Either a result or DiscoveryError, in bounded time."""
    started = time.perf_counter()
    try:
        parse(data, BASE)
    except DiscoveryError:
        pass
    assert time.perf_counter() - started < 5


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WELL_FORMED = [RSS.format(enc="utf-8", junk="").encode(), URLSET.format(enc="utf-8", junk="").encode(),
               gzip.compress(sitemap_of(30)), b'{"version": "https://jsonfeed.org/version/1.1", "items": '
               b'[{"url": "https://example.org/1"}]}']


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data):
    _read(parse_feed, data)
    _read(parse_sitemap, data)


@FUZZ
@given(st.sampled_from(WELL_FORMED), st.data())
def test_cut_and_damaged_documents_never_crash(doc, data):
    cut = data.draw(st.integers(0, len(doc)))
    spot = data.draw(st.integers(0, max(0, cut - 1)))
    noise = data.draw(st.binary(max_size=16))
    damaged = doc[:spot] + noise + doc[spot + len(noise):cut]
    _read(parse_feed, damaged)
    _read(parse_sitemap, damaged)


_XMLISH = st.lists(st.sampled_from(["<rss>", "<channel>", "<item>", "</item>", "<link>", "</link>", "<urlset>",
                                    "<url>", "<loc>", "</loc>", "</url>", "https://example.org/x", "&#xD800;",
                                    "&amp;", "&nbsp;", "&", "<![CDATA[", "]]>", "<!--", "-->", '<a b="',
                                    '"', ">", "<?xml version='1.0' encoding='utf-16'?>", "\x00", "عربي",
                                    "<!DOCTYPE r [<!ENTITY e 'x'>]>", "&e;", "<feed>", "<entry>"]), max_size=60)


@FUZZ
@given(_XMLISH, st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "latin-1"]))
def test_xml_shaped_junk_never_crashes(pieces, codec):
    data = "".join(pieces).encode(codec, errors="replace")
    _read(parse_feed, data)
    _read(parse_sitemap, data)


@pytest.mark.parametrize("broken", ["https://ex[ample.org/a", "https://example.org]/a", "//[::1/a"])
def test_a_link_with_a_broken_host_is_skipped_not_the_whole_document(broken):
    """One link whose host urllib cannot split (an unmatched bracket: "Invalid IPv6 URL") costs
    that entry only: the feed's and the sitemap's other entries are still read."""
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>أخبار</title>'
            f'<item><title>أ</title><link>{broken}</link></item>'
            '<item><title>ب</title><link>https://example.org/2</link></item></channel></rss>').encode()
    assert [e.url for e in parse_feed(feed, BASE)] == ["https://example.org/2"]
    urlset = ('<?xml version="1.0" encoding="utf-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              f'<url><loc>{broken}</loc></url><url><loc>https://example.org/3</loc></url></urlset>').encode()
    assert [e.url for e in parse_sitemap(urlset, BASE).entries] == ["https://example.org/3"]
