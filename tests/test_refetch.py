"""Re-fetching: the pure policy (crawler/core/refetch.py), the sources file's settings, the archive's
fetch state (storage/refetch.py, on SQLite and PostgreSQL) and the seen-URL middleware's decision."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.core.refetch import (
    DEFAULT_RETRIES,
    DEFAULT_SCHEDULE,
    FetchState,
    RefetchPolicy,
    after_fetch,
    after_rejection,
    announced_newer,
    announcements_credible,
    parse_announced,
    refetch_reason,
    retry_gap,
    scheduled_after,
)
from crawler.core.sources import SourcesError, parse_sources
from crawler.extensions import crawl_now
from crawler.items import ANNOUNCED_KEY, ARTICLE_KEY, REFETCH_KEY
from storage import archive
from storage.db import open_engine
from storage.models import UrlState
from storage.refetch import record_fetch, refetch_counts, url_states
from storage.validators import conditional_headers

T0 = datetime(2026, 11, 30, 12, 0)
H = timedelta(hours=1)
POLICY = RefetchPolicy(schedule=(H, 6 * H, 24 * H), retries=3)


# --- the policy --------------------------------------------------------------------------------


def test_the_schedule_counts_from_first_sight_and_skips_offsets_already_past():
    assert scheduled_after(T0, T0, POLICY.schedule) == T0 + H
    assert scheduled_after(T0, T0 + 2 * H, POLICY.schedule) == T0 + 6 * H
    assert scheduled_after(T0, T0 + 10 * H, POLICY.schedule) == T0 + 24 * H  # a rare crawl missed 6h
    assert scheduled_after(T0, T0 + 24 * H, POLICY.schedule) is None  # over
    assert scheduled_after(T0, T0, ()) is None  # switched off


def test_a_rejected_page_is_retried_at_once_then_after_growing_gaps_then_given_up():
    assert retry_gap(1) == timedelta(0)
    gaps = [retry_gap(n) for n in range(2, 8)]
    assert gaps == sorted(gaps) and gaps[0] == H and gaps[1] > gaps[0]
    assert retry_gap(10_000) == timedelta(days=7)  # capped, no overflow
    assert after_rejection(1, T0, 3) == (T0, False)
    assert after_rejection(3, T0, 3) == (T0 + retry_gap(3), False)
    assert after_rejection(4, T0, 3) == (None, True)  # the first try and three retries spent
    assert after_rejection(1, T0, 0) == (None, True)


def test_after_fetch_moves_the_schedule_and_counts_rejections_in_a_row():
    first = after_fetch(None, "article", T0, POLICY)
    assert (first.first_seen, first.fetches, first.next_due, first.rejected_tries) == (T0, 1, T0 + H, 0)
    later = after_fetch(first, "not_modified", T0 + 2 * H, POLICY)
    assert (later.first_seen, later.fetches, later.next_due) == (T0, 2, T0 + 6 * H)
    wall = after_fetch(None, "rejected", T0, POLICY)
    assert (wall.rejected_tries, wall.next_due, wall.given_up) == (1, T0, False)
    for n in range(3):
        wall = after_fetch(wall, "rejected", T0 + n * H, POLICY)
    assert (wall.rejected_tries, wall.next_due, wall.given_up) == (4, None, True)
    healed = after_fetch(after_fetch(None, "rejected", T0, POLICY), "article", T0 + H, POLICY)
    assert (healed.rejected_tries, healed.given_up, healed.next_due) == (0, False, T0 + 6 * H)
    with pytest.raises(ValueError):
        after_fetch(None, "stored", T0, POLICY)


def test_the_newest_announcement_is_kept():
    state = after_fetch(None, "article", T0, POLICY, announced=T0 - H)
    assert after_fetch(state, "article", T0 + H, POLICY, announced=T0 - 2 * H).announced == T0 - H
    assert after_fetch(state, "article", T0 + H, POLICY, announced=T0).announced == T0


def test_why_a_seen_url_is_fetched_again():
    state = FetchState(first_seen=T0, last_fetched=T0, next_due=T0 + H, announced=T0 - H)
    assert refetch_reason(state, None, T0 + timedelta(minutes=5)) is None
    assert refetch_reason(state, T0 - H, T0 + timedelta(minutes=5)) is None  # the same lastmod
    assert refetch_reason(state, T0, T0 + timedelta(minutes=5)) == "announced"
    assert refetch_reason(state, None, T0 + H) == "due"
    rejected = FetchState(first_seen=T0, last_fetched=T0, next_due=T0, rejected_tries=1)
    assert refetch_reason(rejected, None, T0 + timedelta(seconds=1)) == "retry"
    gone = FetchState(first_seen=T0, last_fetched=T0, given_up=True)
    assert refetch_reason(gone, T0 + 100 * H, T0 + 100 * H) is None
    unannounced = FetchState(first_seen=T0, last_fetched=T0)  # no lastmod recorded: the last fetch counts
    assert not announced_newer(T0 - H, unannounced) and announced_newer(T0 + H, unannounced)


def test_a_page_announcing_every_seen_url_as_changed_is_not_believed():
    assert announcements_credible(seen=3, newer=3)  # a few: believed
    assert announcements_credible(seen=40, newer=39)
    assert not announcements_credible(seen=40, newer=40)  # a sitemap whose lastmod is always "now"
    assert announcements_credible(seen=0, newer=0)


def test_announcements_are_read_as_naive_utc():
    assert parse_announced("2026-11-30T14:00:00+02:00") == T0
    assert parse_announced("Mon, 30 Nov 2026 12:00:00 GMT") == T0
    assert parse_announced("2026-11-30") == datetime(2026, 11, 30)
    assert parse_announced("soon") is None and parse_announced(None) is None


# --- the sources file ----------------------------------------------------------------------------


def _source(extra: str):
    (source,) = parse_sources(f'[[sources]]\nname = "s"\nfeeds = ["https://s.example/feed"]\n{extra}')
    return source


def test_the_sources_file_sets_the_schedule_and_the_retries():
    assert _source("").refetch_policy == RefetchPolicy(DEFAULT_SCHEDULE, DEFAULT_RETRIES)
    assert _source('refetch = ["30m", "2h", "2d"]\nretry_rejected = 0').refetch_policy == RefetchPolicy(
        (timedelta(minutes=30), 2 * H, timedelta(days=2)), 0)
    assert _source("refetch = false").refetch == () and _source("refetch = []").refetch == ()
    assert _source("refetch = true").refetch == DEFAULT_SCHEDULE


@pytest.mark.parametrize(("extra", "words"), [
    ('refetch = "1h"', 'field "refetch": must be false or a list'),
    ('refetch = ["1h", "1h"]', "is not later than the duration before it"),
    ('refetch = ["6h", "1h"]', "increasing order"),
    ('refetch = ["soon"]', '"soon" is not a duration'),
    ("refetch = [1]", "write it in quotes"),
    ("refetch = [" + ", ".join(f'"{n}h"' for n in range(1, 30)) + "]", "at most 20"),
    ("retry_rejected = -1", 'field "retry_rejected": must be a whole number from 0 to 20'),
    ("retry_rejected = true", "must be a whole number"),
    ('retry_rejected = "4"', "must be a whole number"),
    ("retry_rejected = 21", "from 0 to 20"),
    ("retries = 3", 'field "retries": unknown field'),
])
def test_a_bad_refetch_setting_is_one_line_naming_the_field(extra, words):
    with pytest.raises(SourcesError) as err:
        _source(extra)
    assert words in str(err.value) and "\n" not in str(err.value) and 'source "s"' in str(err.value)


# --- the archive ---------------------------------------------------------------------------------


def test_fetch_state_is_recorded_and_counted_per_source(db_url):
    engine = open_engine(db_url)
    with Session(engine) as s:
        record_fetch(s, "https://a.example/1", source="a", event="article", at=T0, policy=POLICY,
                     announced=T0 - H, etag='"x"', last_modified="Mon, 30 Nov 2026 10:00:00 GMT")
        record_fetch(s, "https://a.example/2", source="a", event="rejected", at=T0, policy=POLICY, etag='"w"')
        record_fetch(s, "https://a.example/3", source="a", event="rejected", at=T0, policy=RefetchPolicy((), 0))
        record_fetch(s, "https://b.example/1", source="b", event="article", at=T0, policy=RefetchPolicy((), 4))
        s.commit()
    with Session(engine) as s:
        states = url_states(s, ["https://a.example/1", "https://a.example/2", "https://nowhere.example/"])
        assert set(states) == {"https://a.example/1", "https://a.example/2"}
        one = states["https://a.example/1"]
        assert (one.first_seen, one.next_due, one.announced, one.fetches) == (T0, T0 + H, T0 - H, 1)
        assert conditional_headers(one) == {"If-None-Match": '"x"', "If-Modified-Since": "Mon, 30 Nov 2026 10:00:00 GMT"}
        assert conditional_headers(states["https://a.example/2"]) == {}  # a rejected page is asked afresh
        assert refetch_counts(s, ["a", "b", "c"]) == {
            "a": {"waiting_refetch": 1, "waiting_retry": 1, "given_up": 1},
            "b": {"waiting_refetch": 0, "waiting_retry": 0, "given_up": 0},
        }
        # a 304 keeps the validators and moves the schedule on
        record_fetch(s, "https://a.example/1", source="a", event="not_modified", at=T0 + 2 * H, policy=POLICY)
        s.commit()
        row = s.get(UrlState, "https://a.example/1")
        assert (row.etag, row.fetches, row.next_due, row.last_fetched) == ('"x"', 2, T0 + 6 * H, T0 + 2 * H)
    engine.dispose()


def test_many_urls_are_read_in_chunks(db_url):
    engine = open_engine(db_url)
    urls = [f"https://a.example/{n}" for n in range(archive.SEEN_CHUNK * 2 + 7)]
    with Session(engine) as s:
        for url in urls[::3]:
            record_fetch(s, url, source="a", event="article", at=T0, policy=POLICY)
        s.commit()
        assert set(url_states(s, urls)) == set(urls[::3])
        assert s.execute(select(UrlState.url)).scalars().all()
    engine.dispose()


# --- the seen-URL middleware's decision ----------------------------------------------------------


def _seen(s: Session, url: str, outcome: str) -> None:
    doc_id, _ = archive.add_document(s, url=url, raw=b"<html></html>", source="s", fetched_at=T0, content_type="text/html",
                                     http_status=200, headers=None)
    archive.set_document_outcome(s, doc_id, outcome)


def _middleware(db: str, now: datetime):
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from crawler.middlewares import SeenUrlMiddleware
    from spiders.sitemap import SitemapSpider

    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("TWISTED_REACTOR_ENABLED", False)
    settings.set("AKHBAR_NOW", now.isoformat())
    crawler = Crawler(SitemapSpider, settings)
    source = _source('refetch = ["1h", "6h"]')
    crawler.spider = SitemapSpider.from_crawler(crawler, source=source, db=db)
    crawler._apply_settings()
    return crawler, SeenUrlMiddleware.from_crawler(crawler)


def test_the_seen_url_middleware_lets_through_what_is_due_conditionally(tmp_path):
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = open_engine(db)
    base = "https://s.example/news/"
    with Session(engine) as s:
        for n, outcome in ((1, "stored"), (2, "stored"), (3, "rejected"), (4, "stored"), (5, "error")):
            _seen(s, f"{base}{n}", outcome)
        record_fetch(s, f"{base}1", source="s", event="article", at=T0, policy=POLICY, announced=T0 - H, etag='"e1"')
        record_fetch(s, f"{base}2", source="s", event="article", at=T0 - 2 * H, policy=POLICY)
        record_fetch(s, f"{base}3", source="s", event="rejected", at=T0, policy=POLICY)
        s.commit()  # 4: seen before the archive kept fetch states; 5: an error, fetched again as always
    engine.dispose()
    crawler, middleware = _middleware(db, T0 + timedelta(minutes=5))
    announced = {1: "2026-11-30T11:30:00Z", 2: None, 3: None, 4: "2026-11-30T11:30:00Z", 5: None, 6: None}
    out = middleware.unseen([Request(f"{base}{n}", meta={ARTICLE_KEY: True, ANNOUNCED_KEY: when})
                             for n, when in announced.items()])
    kept = {r.url.rsplit("/", 1)[1]: r for r in out}
    assert sorted(kept) == ["1", "2", "3", "5", "6"]
    assert (kept["1"].meta[REFETCH_KEY], kept["2"].meta[REFETCH_KEY], kept["3"].meta[REFETCH_KEY]) == (
        "announced", "due", "retry")
    assert kept["1"].headers.get("If-None-Match") == b'"e1"' and 304 in kept["1"].meta["handle_httpstatus_list"]
    assert "If-None-Match" not in kept["3"].headers and "handle_httpstatus_list" not in kept["3"].meta
    assert REFETCH_KEY not in kept["5"].meta and REFETCH_KEY not in kept["6"].meta
    assert crawler.stats.get_value("akhbar/skipped_seen") == 1
    assert crawler.stats.get_value("akhbar/refetch/announced") == 1

    _, later = _middleware(db, T0 + timedelta(minutes=5))  # the same lastmod again: nothing to do
    assert [r.url for r in later.unseen([Request(f"{base}1", meta={ARTICLE_KEY: True,
                                                                  ANNOUNCED_KEY: "2026-11-30T11:00:00Z"})])] == []


def test_a_sitemap_stamping_every_entry_now_does_not_make_every_article_fetched_again(tmp_path):
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = open_engine(db)
    urls = [f"https://s.example/news/{n}" for n in range(12)]
    with Session(engine) as s:
        for url in urls:
            _seen(s, url, "stored")
            record_fetch(s, url, source="s", event="article", at=T0, policy=POLICY, announced=T0 - H)
        s.commit()
    engine.dispose()
    stamp = "2026-11-30T12:10:00Z"  # the time the sitemap was made, on every entry
    crawler, middleware = _middleware(db, T0 + timedelta(minutes=10))
    assert middleware.unseen([Request(u, meta={ARTICLE_KEY: True, ANNOUNCED_KEY: stamp}) for u in urls]) == []
    assert crawler.stats.get_value("akhbar/refetch/stamped") == 1
    crawler, middleware = _middleware(db, T0 + timedelta(minutes=10))  # one of them really changed
    dates = [stamp if n == 3 else "2026-11-30T11:00:00Z" for n in range(12)]
    out = middleware.unseen([Request(u, meta={ARTICLE_KEY: True, ANNOUNCED_KEY: d}) for u, d in zip(urls, dates)])
    assert [r.url for r in out] == [urls[3]]


def test_the_clock_of_a_crawl_is_akhbar_now_when_set():
    crawler = get_crawler(settings_dict={"AKHBAR_NOW": "2026-11-30T14:00:00+02:00"})
    assert crawl_now(crawler) == T0
    assert abs(crawl_now(get_crawler()) - datetime.utcnow()) < timedelta(minutes=1)  # noqa: DTZ003 - naive UTC wanted


def test_sources_health_shows_the_schedule_and_what_waits(tmp_path):
    from crawler.cli.schedule import _line
    from storage.scheduling import sources_health

    engine = open_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    source = _source('refetch = ["1h", "1d"]\nretry_rejected = 2')
    with Session(engine) as s:
        record_fetch(s, "https://s.example/1", source="s", event="article", at=T0, policy=source.refetch_policy)
        record_fetch(s, "https://s.example/2", source="s", event="rejected", at=T0, policy=source.refetch_policy)
        s.commit()
        (entry,) = sources_health(s, [source])
    engine.dispose()
    assert entry["refetch"] == {"schedule_seconds": [3600.0, 86400.0], "retry_rejected": 2, "waiting_refetch": 1,
                                "waiting_retry": 1, "given_up": 0}
    assert "    re-fetch after 1h 24h, rejected pages retried 2x: waiting re-fetch 1, waiting retry 1, given up 0" in _line(entry)
    (fresh,) = sources_health(None, [_source("refetch = false")])
    assert fresh["refetch"]["schedule_seconds"] == [] and fresh["refetch"]["waiting_refetch"] == 0
    assert "    no scheduled re-fetch, rejected pages retried 4x" in " ".join(_line(fresh))


def test_migration_gives_an_old_archives_urls_a_fetch_state(tmp_path):
    """An archive made before re-fetching: its article URLs get a state (fetched once, at their
    first sighting, so a newer announcement fetches them again), and a URL that was only ever
    rejected is due again at the next crawl as a first retry; nothing else is touched."""
    import shutil
    from pathlib import Path

    from sqlalchemy import text

    from storage.db import make_engine, upgrade
    from storage.models import UrlState

    path = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "storage" / "archive_main_0005.db", path)
    raw = make_engine(f"sqlite:///{path}")
    upgrade(raw, "0010_pgquery")
    with raw.begin() as c:
        urls = dict(c.execute(text("SELECT url, first_seen FROM article_urls")).all())
        c.execute(text("INSERT INTO documents (url, fetched_at, sha256, size, outcome, reason) VALUES "
                       "('https://example.org/wall', '2024-01-02 03:04:05', 'ab', 2, 'rejected', 'consent'), "
                       "('https://example.org/wall', '2024-01-03 03:04:05', 'cd', 2, 'rejected', 'consent'), "
                       "('https://example.org/err', '2024-01-03 03:04:05', 'ef', 2, 'error', 'boom')"))
    upgrade(raw, "head")
    raw.dispose()
    engine = open_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as s:
            rows = {r.url: r for r in s.execute(select(UrlState)).scalars()}
        assert urls and set(urls) <= set(rows)
        for url in urls:
            row = rows[url]
            assert (row.fetches, row.next_due, row.rejected_tries, row.given_up) == (1, None, 0, False)
            assert str(row.first_seen)[:19] == str(urls[url])[:19]
        wall = rows["https://example.org/wall"]
        assert (wall.fetches, wall.rejected_tries, wall.given_up) == (2, 1, False)
        assert str(wall.next_due)[:19] == "2024-01-03 03:04:05"
        assert "https://example.org/err" not in rows  # errors are fetched again anyway
        assert len(rows) == len(urls) + 1
    finally:
        engine.dispose()


def test_recording_a_fetch_builds_no_orm_object_and_reads_what_it_wrote(db_url):
    """A crawl's archive writer records every page's fetch: in SQL, without ORM objects for the
    session to track and flush; a second fetch in the same transaction sees the first."""
    engine = open_engine(db_url)
    url = "https://a.example/orm"
    with Session(engine) as s:
        state = record_fetch(s, url, source="a", event="article", at=T0, policy=POLICY, etag='"1"')
        assert not s.new and not s.identity_map
        again = record_fetch(s, url, source=None, event="rejected", at=T0 + H, policy=POLICY)
        assert (state.fetches, again.fetches, again.first_seen, again.rejected_tries) == (1, 2, T0, 1)
        s.commit()
        row = url_states(s, [url])[url]
        assert (row.source, row.fetches, row.etag, row.last_fetched, row.rejected_tries) == ("a", 2, None, T0 + H, 1)
    engine.dispose()
