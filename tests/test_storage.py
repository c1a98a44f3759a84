"""The archive: schema on first use, dedup in the database, URLs, documents, concurrency."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import zlib
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import (
    ArticleRecord,
    Document,
    add_article,
    add_document,
    article_urls,
    document_raw,
    get_article,
    open_engine,
    resolve_url,
    set_document_outcome,
    stats,
)
from storage.archive import SEEN_CHUNK, published_utc, seen_urls
from storage.db import current_revision, head_revision, include_object
from storage.models import Base

REPO = Path(__file__).resolve().parents[1]
SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))
T0 = datetime(2024, 5, 20, 12, 0)


def make_article(seed: dict, url: str = "https://news.example/a", **extra) -> Article:
    return Article(
        url=url,
        title=seed["title"],
        text=seed["text"],
        content_hash=content_hash(seed["text"]),
        published=seed["published"],
        lang="ar",
        **extra,
    )


@pytest.fixture
def engine(db_url):
    """A new archive, on SQLite and on PostgreSQL (``db_url``)."""
    eng = open_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    eng = open_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    yield eng
    eng.dispose()


# --- schema -------------------------------------------------------------------------------


def test_schema_is_created_on_first_open_and_reopening_keeps_it(db_url):
    url = db_url
    first = open_engine(url)
    assert head_revision() is not None
    assert current_revision(first) == head_revision()
    tables = set(inspect(first).get_table_names())
    index = "articles_fts" if first.dialect.name == "sqlite" else "article_search_keys"
    assert {"sources", "articles", "article_urls", "documents", index, "alembic_version",
            "crawl_runs", "http_validators", "source_state"} <= tables
    with Session(first) as s:
        add_article(s, make_article(SEEDS[0]))
        s.commit()
    first.dispose()

    second = open_engine(url)
    assert current_revision(second) == head_revision()
    with Session(second) as s:
        assert stats(s)["articles"] == 1
        assert s.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    second.dispose()


def test_open_needs_no_alembic_ini_or_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    eng = open_engine("relative.db")  # a bare path is a SQLite file
    assert (tmp_path / "relative.db").exists()
    assert current_revision(eng) == head_revision()
    eng.dispose()


def test_models_agree_with_the_migrations(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []


def test_timestamps_have_time_zones_on_postgresql_and_come_back_naive_utc(engine):
    art = make_article(SEEDS[0])
    aware = datetime(2024, 5, 20, 15, 0, tzinfo=timezone(timedelta(hours=3)))
    with Session(engine) as s:
        add_article(s, art, seen_at=aware)
        s.commit()
        record = s.execute(select(ArticleRecord)).scalar_one()
        assert record.first_seen == T0 and record.first_seen.tzinfo is None
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("articles")}
    assert getattr(columns["first_seen"], "timezone", False) is (engine.dialect.name == "postgresql")
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:  # the database holds the instant, whatever the session's zone
            conn.exec_driver_sql("SET TIME ZONE 'Asia/Beirut'")
            stored = conn.exec_driver_sql("SELECT first_seen FROM articles").scalar_one()
            assert stored == aware


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_engine):
    engine = sqlite_engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    with Session(engine) as s, pytest.raises(IntegrityError):
        s.execute(
            text("INSERT INTO article_urls (url, article_id, first_seen, last_seen) VALUES ('u', 999, :t, :t)"),
            {"t": T0},
        )


def test_resolve_url(monkeypatch):
    monkeypatch.delenv("AKHBAR_DB", raising=False)
    assert resolve_url(None) == "sqlite:///archive.db"
    monkeypatch.setenv("AKHBAR_DB", "postgresql://u@h/akhbar")
    assert resolve_url(None) == "postgresql://u@h/akhbar"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_url("/data/akhbar.db") == "sqlite:////data/akhbar.db"
    assert resolve_url("rel/akhbar.db") == "sqlite:///rel/akhbar.db"


# --- articles -----------------------------------------------------------------------------


def test_same_article_twice_is_one_row_seen_twice(engine):
    art = make_article(SEEDS[0])
    with Session(engine) as s:
        first = add_article(s, art, seen_at=T0)
        second = add_article(s, art, seen_at=T0 + timedelta(hours=3))
        s.commit()
        assert (first.status, first.new_url) == ("stored", True)
        assert (second.status, second.new_url) == ("duplicate", False)
        assert first.article_id == second.article_id
        rows = s.execute(select(ArticleRecord)).scalars().all()
        assert len(rows) == 1
        assert rows[0].times_seen == 2
        assert rows[0].first_seen == T0 and rows[0].last_seen == T0 + timedelta(hours=3)
        assert rows[0].text == SEEDS[0]["text"]  # stored exactly as published


def test_an_older_sighting_widens_first_seen_without_moving_last_seen(engine):
    art = make_article(SEEDS[1])
    with Session(engine) as s:
        add_article(s, art, seen_at=T0)
        add_article(s, art, seen_at=datetime(2024, 5, 20, 9, 0, tzinfo=timezone(timedelta(hours=3))))
        s.commit()
        row = get_article(s, art.url)
        assert row.first_seen == datetime(2024, 5, 20, 6, 0) and row.last_seen == T0


def test_same_content_under_two_urls_is_one_article_with_both_urls(engine):
    seed = SEEDS[1]
    with Session(engine) as s:
        a = add_article(s, make_article(seed, url="https://site-a.example/news/1"))
        # Republished elsewhere with an extra bidi mark and tatweel: same normalised content.
        variant = seed["text"].replace("الأسد", "الأســد\u200f", 1)
        b = add_article(
            s,
            Article(url="https://site-b.example/2", title=seed["title"], text=variant, content_hash=content_hash(variant)),
        )
        s.commit()
        assert b.status == "duplicate" and b.new_url and b.article_id == a.article_id
        assert stats(s)["articles"] == 1
        assert article_urls(s, a.article_id) == ["https://site-a.example/news/1", "https://site-b.example/2"]
        record = get_article(s, "https://site-b.example/2")
        assert record.id == a.article_id
        assert record.url == "https://site-a.example/news/1"  # the first URL seen stays canonical
        assert [u.url for u in record.urls] == article_urls(s, a.article_id)


def test_rel_canonical_becomes_the_article_url_and_both_urls_are_kept(engine):
    art = make_article(SEEDS[2], url="https://m.news.example/a?utm_source=x", canonical_url="https://news.example/a")
    with Session(engine) as s:
        result = add_article(s, art)
        s.commit()
        record = get_article(s, result.article_id)
        assert record.url == "https://news.example/a"
        assert set(article_urls(s, result.article_id)) == {art.url, art.canonical_url}
        assert get_article(s, "https://news.example/a").id == result.article_id


def test_get_article_by_id_and_url_and_missing(engine):
    with Session(engine) as s:
        ids = [add_article(s, make_article(seed, url=f"https://news.example/{i}")).article_id for i, seed in enumerate(SEEDS)]
        s.commit()
        assert len(set(ids)) == 3
        for i, article_id in enumerate(ids):
            assert get_article(s, article_id).title == SEEDS[i]["title"]
            assert get_article(s, f"https://news.example/{i}").id == article_id
        assert get_article(s, 10_000) is None
        assert get_article(s, "https://news.example/none") is None


def test_duplicate_fills_metadata_the_first_copy_lacked_but_keeps_what_it_had(engine):
    seed = SEEDS[1]
    bare = make_article(seed, url="https://a.example/1")
    dated = make_article(
        seed, url="https://b.example/1", author="مراسل الموقع", section="سياسة",
    )
    dated.published, dated.date_source = "2024-12-06T18:30:00+02:00", "json-ld"
    redated = make_article(seed, url="https://c.example/1")
    redated.published, redated.date_source = "2024-12-01", "url"
    with Session(engine) as s:
        article_id = add_article(s, bare).article_id
        add_article(s, dated)
        add_article(s, redated)
        s.commit()
        row = get_article(s, article_id)
        assert (row.published, row.date_source) == ("2024-12-06T18:30:00+02:00", "json-ld")
        assert row.published_utc == datetime(2024, 12, 6, 16, 30)
        assert (row.author, row.section, row.times_seen) == ("مراسل الموقع", "سياسة", 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-20T14:03:00+03:00", datetime(2024, 5, 20, 11, 3)),
        ("2021-01-31", datetime(2021, 1, 31)),
        ("2024-05-20T14:03:00Z", datetime(2024, 5, 20, 14, 3)),
        ("not a date", None),
        (None, None),
    ],
)
def test_published_utc(value, expected):
    assert published_utc(value) == expected


def test_source_is_created_once_and_linked(engine):
    with Session(engine) as s:
        a = add_article(s, make_article(SEEDS[0], url="https://x.example/1"), source="alanba")
        b = add_article(s, make_article(SEEDS[1], url="https://x.example/2"), source="alanba")
        s.commit()
        assert get_article(s, a.article_id).source.name == "alanba"
        assert get_article(s, a.article_id).source_id == get_article(s, b.article_id).source_id
        assert stats(s)["sources"] == 1


# --- documents ----------------------------------------------------------------------------


def test_documents_dedup_on_sha256_and_url_and_raw_round_trips(engine):
    page = ("<html lang='ar'><body><p>" + SEEDS[0]["text"] + "</p></body></html>").encode("utf-8")
    with Session(engine) as s:
        doc_id, new = add_document(
            s, url="https://news.example/a", raw=page, content_type="text/html", http_status=200,
            headers={b"Content-Type": [b"text/html; charset=utf-8"]},
        )
        again, again_new = add_document(s, url="https://news.example/a", raw=page)
        other_url, other_url_new = add_document(s, url="https://news.example/b", raw=page)
        changed, changed_new = add_document(s, url="https://news.example/a", raw=page + b"<!-- -->")
        s.commit()
        assert new and not again_new and again == doc_id
        assert other_url_new and changed_new and len({doc_id, other_url, changed}) == 3
        assert s.execute(select(Document).where(Document.url == "https://news.example/a")).scalars().all().__len__() == 2
        assert document_raw(s, doc_id) == page
        stored = s.get(Document, doc_id)
        assert stored.size == len(page) and len(stored.raw) < len(page)
        assert zlib.decompress(stored.raw) == page
        assert stored.headers == {"content-type": "text/html; charset=utf-8"}


def test_a_document_in_a_warc_keeps_only_the_pointer(engine, tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    body = SEEDS[2]["text"].encode("utf-8")
    warc = tmp_path / "crawl.warc.gz"
    with warc.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        # lengths given: without one, warcio buffers the payload in a temporary file it never closes
        writer.write_record(writer.create_warc_record("https://news.example/first", "response",
            payload=BytesIO(b"x"), length=1, http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")))
        offset = stream.tell()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://news.example/a", "response", payload=BytesIO(body),
                                                    length=len(body), http_headers=headers))
        length = stream.tell() - offset
    with Session(engine) as s:
        doc_id, _ = add_document(s, url="https://news.example/a", raw=body, warc_path="crawl.warc.gz",
                                 warc_offset=offset, warc_length=length)
        lying_id, _ = add_document(s, url="https://news.example/b", raw=b"other bytes", warc_path=str(warc),
                                   warc_offset=offset, warc_length=length)
        s.commit()
        assert s.get(Document, doc_id).raw is None
        assert document_raw(s, doc_id, warc_root=tmp_path) == body
        with pytest.raises(ValueError):
            document_raw(s, lying_id)


def test_document_outcomes_and_seen_urls(engine):
    with Session(engine) as s:
        ok, _ = add_document(s, url="https://news.example/ok", raw=b"<html>1</html>")
        failed, _ = add_document(s, url="https://news.example/failed", raw=b"<html>2</html>")
        pending, _ = add_document(s, url="https://news.example/pending", raw=b"<html>3</html>")
        stored = add_article(s, make_article(SEEDS[0], url="https://news.example/ok"))
        set_document_outcome(s, ok, "stored", article_id=stored.article_id)
        set_document_outcome(s, failed, "error", reason="timeout")
        with pytest.raises(ValueError):
            set_document_outcome(s, ok, "maybe")
        with pytest.raises(LookupError):
            set_document_outcome(s, 10_000, "stored")
        s.commit()
        assert s.get(Document, ok).article_id == stored.article_id
        asked = [f"https://news.example/{name}" for name in ("ok", "failed", "pending", "never")]
        assert seen_urls(s, asked) == {"https://news.example/ok"}  # errors and unprocessed are retried
        set_document_outcome(s, pending, "rejected", reason="not an article")
        assert seen_urls(s, asked) == {"https://news.example/ok", "https://news.example/pending"}
    with Session(engine) as s, pytest.raises(IntegrityError):
        s.execute(text("UPDATE documents SET outcome = 'maybe' WHERE id = :id"), {"id": ok})


def test_seen_urls_of_nothing_asks_nothing(engine):
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as s:
        assert seen_urls(s, []) == set()
        assert seen_urls(s, iter(())) == set()
    assert statements == []


@pytest.mark.e2e  # slow: many generated cases or a big input
def test_seen_urls_answers_a_big_batch_in_chunks_within_old_sqlites_variable_limit(sqlite_engine):
    engine = sqlite_engine
    # SQLite before 3.32 allowed 999 variables per statement: hold this connection to that.
    event.listen(engine, "connect", lambda conn, _: conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999))
    engine.dispose()
    urls = [f"https://news.example/{i}" for i in range(2 * SEEN_CHUNK + 7)]
    with Session(engine) as s:
        for i, url in enumerate(urls[::3]):  # a third known, spread over every chunk
            if i % 2:
                add_article(s, make_article({**SEEDS[0], "text": f"{SEEDS[0]['text']} {i}"}, url=url))
            else:
                doc_id, _ = add_document(s, url=url, raw=url.encode())
                set_document_outcome(s, doc_id, "duplicate")
        pending, _ = add_document(s, url=urls[1], raw=b"unprocessed")
        s.commit()
        statements = []
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        found = seen_urls(s, urls + urls[:50])  # repeats are asked once
    assert found == set(urls[::3])
    assert len(statements) == 3  # one query per chunk of distinct URLs, not one per URL


def test_stats(engine):
    with Session(engine) as s:
        add_article(s, make_article(SEEDS[0], url="https://a.example/1"), source="a")
        add_article(s, make_article(SEEDS[1], url="https://a.example/2", canonical_url="https://a.example/c2"))
        english = Article(url="https://b.example/en", title="Hello", text="An English story.",
                          content_hash=content_hash("An English story."), lang="en")
        add_article(s, english)
        add_article(s, Article(url=None, title=None, text="نص", content_hash=content_hash("نص")))
        doc, _ = add_document(s, url="https://a.example/1", raw=b"x")
        set_document_outcome(s, doc, "stored")
        add_document(s, url="https://a.example/2", raw=b"y")
        s.commit()
        assert stats(s) == {
            "articles": 4, "urls": 4, "documents": 2, "sources": 1,
            "by_lang": {"ar": 2, "en": 1, "und": 1},
            "documents_by_outcome": {"stored": 1, "pending": 1},
        }


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.e2e  # slow: many generated cases or a big input
def test_two_threads_adding_the_same_articles_end_with_one_row_each(db_url):
    url = db_url
    articles = [
        Article(url=f"https://news.example/{i}", title=f"خبر {i}", text=f"{SEEDS[i % 3]['text']}\nالتحديث رقم {i}",
                content_hash=content_hash(f"{SEEDS[i % 3]['text']}\nالتحديث رقم {i}"))
        for i in range(30)
    ]
    workers = 4
    opened, ready = threading.Barrier(workers, timeout=60), threading.Barrier(workers, timeout=60)
    errors: list[BaseException] = []
    statuses: list[str] = []

    def work() -> None:
        try:
            opened.wait()
            eng = open_engine(url)  # all create the schema of the new file at once
            for art in articles:
                ready.wait()  # all add the same article at the same moment
                with Session(eng) as s:
                    statuses.append(add_article(s, art).status)
                    s.commit()
            eng.dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            opened.abort()  # release the other threads instead of leaving them waiting
            ready.abort()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] == []
    assert errors == []
    assert statuses.count("stored") == len(articles)
    eng = open_engine(url)
    with Session(eng) as s:
        assert stats(s)["articles"] == len(articles)
        assert set(s.execute(select(ArticleRecord.times_seen)).scalars()) == {workers}
    eng.dispose()


CHILD = """
import json, sys
from sqlalchemy.orm import Session
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine
engine = open_engine(sys.argv[1])
texts = json.loads(sys.stdin.read())
for i, body in enumerate(texts):
    with Session(engine) as s:
        add_article(s, Article(url=f"https://p.example/{i}", title=None, text=body, content_hash=content_hash(body)))
        s.commit()
"""


@pytest.mark.e2e  # slow: several processes, each opening the archive
def test_two_processes_adding_the_same_articles_end_with_one_row_each(db_url):
    url = db_url
    texts = [f"{seed['text']}\n{n}" for n in range(10) for seed in SEEDS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, url], stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    outputs = [p.communicate(json.dumps(texts).encode(), timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    eng = open_engine(url)
    with Session(eng) as s:
        assert stats(s)["articles"] == len(texts)
        assert set(s.execute(select(ArticleRecord.times_seen)).scalars()) == {2}
    eng.dispose()


def test_a_source_id_is_looked_up_once_per_transaction_and_forgotten_with_a_rollback(tmp_path):
    """The writer asks for the source of every page of a batch: one lookup per transaction; but a
    rolled-back transaction took the new source row with it, and its id must not be handed out."""
    from storage.archive import get_or_create_source
    from storage.models import Source

    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as session:
        first = get_or_create_source(session, "wire")
        before = len(statements)
        assert get_or_create_source(session, "wire") == first and len(statements) == before
        session.rollback()
        again = get_or_create_source(session, "wire")
        assert session.get(Source, again) is not None and len(statements) > before
        session.commit()
        assert get_or_create_source(session, "wire") == again
    with Session(engine) as session:
        assert session.scalars(select(Source.name)).all() == ["wire"]
    engine.dispose()


def test_a_sources_title_affix_is_found_over_its_recent_titles_and_remembered(tmp_path):
    from storage.archive import source_title_affix
    from storage.models import Source

    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    titles = ["الشروق | خبر أول عن الطقس", "الشروق | خبر ثان عن الاقتصاد"]
    with Session(engine) as session:
        assert source_title_affix(session, "shorouk", titles[0]) is None  # no such source yet
        for n, title in enumerate(titles):
            body = f"نص الخبر رقم {n}"
            add_article(session, Article(url=None, title=title, text=body, content_hash=content_hash(body)),
                        url=f"https://shorouk.example/{n}", source="shorouk")
        loaded = session.scalars(select(Source)).one()
        assert loaded.title_affix is None
        assert source_title_affix(session, "shorouk", "الشروق | خبر ثالث") == ("prefix", "الشروق")
        assert loaded.title_affix == "prefix:الشروق"  # a loaded row shows what was written in SQL
        session.commit()
    with Session(engine) as session:  # remembered: no titles needed any more
        assert source_title_affix(session, "shorouk", None) == ("prefix", "الشروق")
    engine.dispose()
