"""sources: the shipped file loads; every mistake is caught with a one-line message naming source and field."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.core.sources import Listing, Source, SourcesError, load_sources, parse_interval, parse_sources

SHIPPED = Path(__file__).parent.parent / "sources.toml"

LBCI = """
[[sources]]
name = "lbci"
feeds = ["https://www.lbcgroup.tv/Rss/latest-news/ar"]
sitemaps = ["https://www.lbcgroup.tv/sitemap_index.xml"]
listings = [{ url = "https://www.lbcgroup.tv/news/", follow = "/news/\\\\d+", next = "a.next" }]
allowed_domains = ["lbcgroup.tv"]
allow = []
deny = ["/video/"]
locale = "ar-LB"
timezone = "Asia/Beirut"
interval = "30m"
"""


def _one(body: str) -> str:
    return '[[sources]]\nname = "lbci"\n' + body


def _error(text: str) -> str:
    with pytest.raises(SourcesError) as err:
        parse_sources(text, "sources.toml")
    message = str(err.value)
    assert "\n" not in message
    return message


# --- the shipped file ----------------------------------------------------------------------------


def test_shipped_sources_file_loads_and_covers_the_region():
    sources = load_sources(SHIPPED)
    assert len(sources) >= 15
    assert len({s.name for s in sources}) == len(sources)
    countries = {s.locale.split("-")[1] for s in sources if "-" in s.locale}
    # Egypt, Lebanon, Gulf, Maghreb, Levant, Iraq
    assert {"EG", "LB", "SA", "AE", "MA", "DZ", "SY", "IQ"} <= countries
    for source in sources:
        assert source.start_urls
        ZoneInfo(source.timezone)
        assert source.allowed_domains
        assert all(source.url_allowed(listing.url) for listing in source.listings)


def test_shipped_file_says_its_addresses_are_unchecked():
    head = SHIPPED.read_text("utf-8")[:1000].lower()
    assert "could be checked" in head and "no network" in head


# --- a full source ------------------------------------------------------------------------------


def test_full_example():
    (source,) = parse_sources(LBCI)
    assert source == Source(
        name="lbci",
        feeds=("https://www.lbcgroup.tv/Rss/latest-news/ar",),
        sitemaps=("https://www.lbcgroup.tv/sitemap_index.xml",),
        listings=(Listing("https://www.lbcgroup.tv/news/", re.compile(r"/news/\d+"), "a.next"),),
        allowed_domains=("lbcgroup.tv",),
        allow=(),
        deny=(re.compile("/video/"),),
        locale="ar-LB",
        timezone="Asia/Beirut",
        interval=timedelta(minutes=30),
        min_interval=timedelta(minutes=7, seconds=30),
        max_interval=timedelta(hours=4),
        enabled=True,
    )


def test_defaults():
    (source,) = parse_sources(_one('feeds = ["https://feeds.example.co.uk/ar/rss.xml"]'))
    assert source.allowed_domains == ("example.co.uk",)  # registrable domain, not the feed host
    assert (source.locale, source.timezone, source.enabled) == ("ar", "UTC", True)
    assert (source.interval, source.min_interval, source.max_interval) == (
        timedelta(hours=1), timedelta(minutes=15), timedelta(hours=8))


def test_explicit_bounds_and_disabled():
    (source,) = parse_sources(_one('feeds = ["https://a.example/"]\ninterval = "1h"\nmin_interval = "5m"\n'
                                   'max_interval = "1d"\nenabled = false'))
    assert (source.min_interval, source.max_interval, source.enabled) == (timedelta(minutes=5), timedelta(days=1), False)


def test_derived_domains_keep_local_test_servers():
    (source,) = parse_sources(_one('feeds = ["http://127.0.0.1:8765/feed.xml"]'))
    assert source.allowed_domains == ("127.0.0.1",)
    assert source.url_allowed("http://127.0.0.1:8765/news/1")


def test_idn_domains_are_stored_as_punycode():
    (source,) = parse_sources(_one('feeds = ["https://مثال.مصر/rss"]\nallowed_domains = ["مثال.مصر"]'))
    assert source.allowed_domains == ("xn--mgbh0fb.xn--wgbh1c",)
    assert source.url_allowed("https://أخبار.مثال.مصر/خبر/1")


# --- url_allowed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://www.lbcgroup.tv/news/123/title", True),
        ("https://lbcgroup.tv/news/123", True),
        ("https://m.lbcgroup.tv/news/123", True),
        ("HTTPS://WWW.LBCGROUP.TV/news/1", True),
        ("https://www.lbcgroup.tv/video/123", False),
        ("https://notlbcgroup.tv/news/1", False),
        ("https://lbcgroup.tv.evil.com/news/1", False),
        ("ftp://www.lbcgroup.tv/news/1", False),
        ("mailto:news@lbcgroup.tv", False),
        ("/news/1", False),
        ("", False),
    ],
)
def test_url_allowed(url, allowed):
    (source,) = parse_sources(LBCI)
    assert source.url_allowed(url) is allowed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://WWW.lbcgroup.tv/news/123?utm_source=rss#top", "https://www.lbcgroup.tv/news/123"),
        ("https://www.lbcgroup.tv/video/123", None),  # denied
        ("https://elsewhere.example/news/1", None),  # off the source
        ("http://[lbcgroup.tv/news/1", None),  # malformed
        ("https://www.lbcgroup.tv:99999/news/1", None),  # malformed port
        ("/news/1", None),  # not absolute
    ],
)
def test_allowed_url_is_the_canonical_link_or_none(raw, expected):
    (source,) = parse_sources(LBCI)
    assert source.allowed_url(raw) == expected


def test_allow_patterns_restrict():
    (source,) = parse_sources(_one('feeds = ["https://www.example.com/rss"]\nallow = ["/ar/", "/story/"]'))
    assert source.url_allowed("https://www.example.com/ar/1")
    assert source.url_allowed("https://www.example.com/story/1")
    assert not source.url_allowed("https://www.example.com/en/1")


# --- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delta"),
    [("30s", timedelta(seconds=30)), ("5m", timedelta(minutes=5)), ("2h", timedelta(hours=2)),
     ("1d", timedelta(days=1)), ("1h30m", timedelta(minutes=90)), (" 15M ", timedelta(minutes=15))],
)
def test_parse_interval(text, delta):
    assert parse_interval(text) == delta


@pytest.mark.parametrize("text", ["30x", "", "m", "30", "1.5h", "-5m", "0m", "5 m", "h1"])
def test_parse_interval_rejects(text):
    with pytest.raises(ValueError):
        parse_interval(text)


# --- errors ------------------------------------------------------------------------------------


def test_bad_interval_message_matches_the_house_format():
    message = _error(_one('feeds = ["https://a.example/"]\ninterval = "30x"'))
    assert message == 'sources.toml: source "lbci": field "interval": "30x" is not a duration like 30s, 5m, 2h, 1d'


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ('feeds = ["https://a.example/"]\ninterval = 30', "interval", "in quotes"),
        ('feeds = ["https://a.example/"]\nmin_interval = "2h"\ninterval = "1h"', "interval", "between"),
        ('feeds = ["https://a.example/"]\nmax_interval = "0s"', "max_interval", "positive"),
        ('feeds = ["ftp://a.example/rss"]', "feeds", "http(s)"),
        ('feeds = ["a.example/rss"]', "feeds", "http(s)"),
        ('feeds = ["https:///rss"]', "feeds", "http(s)"),
        ('feeds = ["https://a.example:99999/rss"]', "feeds", "not a valid URL"),
        ('feeds = ["https://a.example/my feed"]', "feeds", "http(s)"),
        ('feeds = "https://a.example/rss"', "feeds", "list"),
        ('feeds = [1]', "feeds", "list"),
        ('sitemaps = ["http://"]', "sitemaps", "http(s)"),
        ('feeds = ["https://a.example/"]\ndeny = ["(unclosed"]', "deny", "regular expression"),
        ('feeds = ["https://a.example/"]\nallow = ["[a-"]', "allow", "regular expression"),
        ('listings = [{ url = "https://a.example/", follow = "*bad" }]', "listings.follow", "regular expression"),
        ('listings = [{ url = "https://a.example/", next = "a[[" }]', "listings.next", "CSS selector"),
        ('listings = [{ follow = "/n/" }]', "listings.url", "required"),
        ('listings = [{ url = "https://a.example/", nxt = "a" }]', "listings.nxt", "unknown field"),
        ('listings = ["https://a.example/"]', "listings", "tables"),
        ('feeds = ["https://a.example/"]\ntimezone = "Asia/Beyrouth"', "timezone", "time zone"),
        ('feeds = ["https://a.example/"]\ntimezone = "../../etc/passwd"', "timezone", "time zone"),
        ('feeds = ["https://a.example/"]\nlocale = "arabic egypt"', "locale", "locale"),
        ('feeds = ["https://a.example/"]\nenabled = "yes"', "enabled", "true or false"),
        ('feeds = ["https://a.example/"]\nallowed_domains = ["https://a.example/"]', "allowed_domains", "bare domain"),
        ('feeds = ["https://a.example/"]\nallowed_domains = ["bad_domain!.com"]', "allowed_domains", "domain"),
        ('feedz = ["https://a.example/"]', "feedz", 'did you mean "feeds"'),
        ('feeds = ["https://a.example/"]\ntimezon = "UTC"', "timezon", 'did you mean "timezone"'),
    ],
)
def test_field_errors_name_source_and_field(body, field, words):
    message = _error(_one(body))
    assert message.startswith(f'sources.toml: source "lbci": field "{field}": ')
    assert words in message


def test_no_feeds_sitemaps_or_listings():
    message = _error(_one('locale = "ar"'))
    assert message.startswith('sources.toml: source "lbci": ') and "feeds, sitemaps or listings" in message


def test_missing_and_bad_names():
    assert _error('[[sources]]\nfeeds = ["https://a.example/"]') == 'sources.toml: source #1: field "name": is required'
    assert 'field "name"' in _error('[[sources]]\nname = "al jazeera"\nfeeds = ["https://a.example/"]')
    assert 'field "name"' in _error('[[sources]]\nname = 7\nfeeds = ["https://a.example/"]')


def test_duplicate_names():
    text = LBCI + '\n[[sources]]\nname = "LBCI"\nfeeds = ["https://a.example/"]\n'
    assert _error(text) == 'sources.toml: source "LBCI": field "name": duplicate of source #1 (names are unique)'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no [[sources]]"),
        ("[sources]\nname = 'x'", "no [[sources]]"),
        ("name = 'x'\n[[sources]]\nname='y'\nfeeds=['https://a.example/']", 'unknown top-level key "name"'),
        ("[[sources]\nname = 'x'", "not valid TOML"),
        ("[[sources]]\nname = 'x'\nname = 'y'", "not valid TOML"),
    ],
)
def test_file_level_errors(text, words):
    assert words in _error(text)


def test_load_sources_reads_a_file_and_reports_its_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(LBCI, encoding="utf-8")
    assert [s.name for s in load_sources(path)] == ["lbci"]
    path.write_text(_one('feeds = ["https://a.example/"]\ninterval = "soon"'), encoding="utf-8")
    with pytest.raises(SourcesError, match=f'^{re.escape(str(path))}: source "lbci": field "interval"'):
        load_sources(path)


def test_missing_or_binary_file(tmp_path):
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "absent.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "bin.toml")


def test_sources_error_is_a_value_error():
    assert issubclass(SourcesError, ValueError)


# --- bounds: each a one-line SourcesError, never a traceback -------------------------------------


def test_a_sources_file_larger_than_the_bound_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "sources.toml"
    with path.open("w", encoding="utf-8") as file:
        file.write(_one('feeds = ["https://a.example/feed"]\n'))
        file.write("# " + "x" * 1000 + "\n")
        for _ in range(11 * 1024):  # 11 MB of comments
            file.write("#" + "x" * 1022 + "\n")
    with pytest.raises(SourcesError, match=r"too large"):
        load_sources(path)


def test_deeply_nested_toml_is_one_line_not_a_recursion_traceback():
    nested = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    message = _error(_one('feeds = ["https://a.example/feed"]\n') + nested)
    assert "nested too deeply" in message


def test_a_source_name_longer_than_the_bound_is_refused():
    message = _error('[[sources]]\nname = "' + "a" * 300 + '"\nfeeds = ["https://a.example/feed"]\n')
    assert 'field "name"' in message and "longer than 100" in message
    assert len(message) < 300


def test_a_very_long_url_is_refused():
    message = _error(_one('feeds = ["https://a.example/' + "p" * 5000 + '"]\n'))
    assert 'field "feeds"' in message and "longer than" in message


@pytest.mark.parametrize("interval", ["99999999999999999999d", "400d", "1000000h"])
def test_a_huge_interval_is_one_line_not_an_overflow(interval):
    message = _error(_one(f'feeds = ["https://a.example/feed"]\ninterval = "{interval}"\n'))
    assert 'field "interval"' in message and "longer than 366 days" in message
