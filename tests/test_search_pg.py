"""Search on PostgreSQL (storage.search_pg) against search on SQLite: the same archive on both
engines gives the same matches, counts and date orders for the whole query language, hostile
queries included; the tsvector rows follow the article's transaction, its deletion, its new
versions, rebuilds and migration 0009; the CLI and /api/search work on a PostgreSQL archive."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.errors import QueryError
from crawler.web.app import create_app
from storage import add_article, open_engine, rebuild_index, search
from storage.db import make_engine, upgrade
from storage.models import ArticleRecord
from storage.search import Filters, count, export_rows
from storage import search_pg
from storage.search_pg import index_vector, lexeme

STORIES = {
    "budget": ("الحكومة تقر الموازنة", "أقرّت الحكومةُ اللبنانية مشروعَ الموازنة العامة لعام ٢٠٢٥ بعد جلسة استمرت ساعات.", "2024-01-05", "alpha"),
    "elections": ("إعلان نتائج الانتخابات", "أعلنت الهيئة العليا المستقلة للانتخابات النتائج الأولية، وقالت إن نسبة المشاركة بلغت ٤٥ بالمئة.", "2024-02-10", "beta"),
    "tripoli": ("مؤتمر في طرابلس", "افتُتح في طرابلس مؤتمرٌ للاستثمار بمشاركة وزراء الاقتصاد من دول المغرب العربي.", "2024-02-11", "alpha"),
    "body_only": ("أخبار متفرقة", "وفي طرابلس أيضا افتتح معرض للكتاب، وقال المنظمون إن الموازنة لم تكف.", None, "gamma"),
    "plural": ("الحكومات العربية", "اجتمعت الحكومات العربية في طرابلس، وقالت الحكومات إن الانتخابات ستجري.", "2024-03-01", "beta"),
    "latin": ("Café_news O'Brien", "The café_bar of O'Brien & co. opened (again) in Beirut; prices: 5:30 a\\b.", "2024-03-02", "gamma"),
}

#: The query language, Arabic variants, and text that is tsquery/FTS5/SQL syntax.
QUERIES = [
    "الموازنة", "الموازنه", "والموازنة", "المُوازَنة", "طرابلس", "بطرابلس", "مؤتمر طرابلس", "الانتخابات", "انتخاب",
    "حكومة", "الحكومات", "إعلان", "اعلان", "٢٠٢٥", "2025", "cafe", "CAFÉ_BAR", "o'brien", "brien", "co",
    "a\\b", "5:30", "طرابلس OR الموازنة", "(طرابلس OR الموازنة) الحكومة", "طرابلس -الموازنة",
    "طرابلس NOT مؤتمر", '"مشروع الموازنة"', '"الموازنة مشروع"', '"طرابلس افتتح"', "title:طرابلس",
    "body:طرابلس", 'title:"مؤتمر في طرابلس"', "title:(حكومة OR طرابلس)", "انتخاب*", "الاستث*", "حكوم*",
    "title:حكوم*", "متفرقه طرابلس", "طرابلس:*", "'", "''", "&", "|", "!", ":*", "<->", "\\",
    "طرابلس & !الموازنة", "طرابلس | الموازنة", "x'); DROP TABLE articles; --", "'a' | 'b'", "غائبة",
]


def fill(url: str) -> dict[str, int]:
    engine = open_engine(url)
    ids = {}
    with Session(engine) as s:
        for key, (title, body, published, source) in STORIES.items():
            art = Article(url=f"https://news.example/{key}", title=title, text=body, content_hash=content_hash(body),
                          published=published, lang="ar")
            ids[key] = add_article(s, art, source=source).article_id
        s.commit()
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_server):
    """The same archive on SQLite and on PostgreSQL (the same ids on both)."""
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('same') / 'same.db'}"
    pg = pg_server.create_database()
    ids = fill(sqlite_url)
    assert fill(pg) == ids
    engines = open_engine(sqlite_url), open_engine(pg)
    yield engines, ids
    for engine in engines:
        engine.dispose()
    pg_server.drop_database(pg)


@pytest.fixture
def pg_archive(pg_url):
    ids = fill(pg_url)
    engine = open_engine(pg_url)
    yield engine, ids
    engine.dispose()


def ids_of(engine, query: str, **kwargs) -> list[int]:
    with Session(engine) as s:
        return [hit.id for hit in search(s, query, limit=100, **kwargs)]


def outcome(engine, query: str, **kwargs):
    try:
        return ids_of(engine, query, **kwargs)
    except QueryError as exc:
        return str(exc)


def test_both_engines_find_the_same_articles_for_every_query(both):
    (lite, pg), _ = both
    found = 0
    for query in QUERIES:
        on_sqlite, on_pg = outcome(lite, query), outcome(pg, query)
        if isinstance(on_sqlite, list) and isinstance(on_pg, list):
            assert sorted(on_pg) == sorted(on_sqlite), query
            found += bool(on_sqlite)
        else:
            assert on_pg == on_sqlite, query
    assert found >= 30  # most queries find something: the comparison is not of empty lists


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_orders_and_pages_are_the_same_on_both(both, sort):
    (lite, pg), _ = both
    for query in ("طرابلس", "الحكومة OR طرابلس OR انتخاب*", ""):
        filters = Filters(lang="ar")
        assert ids_of(pg, query, sort=sort, filters=filters) == ids_of(lite, query, sort=sort, filters=filters), query
        with Session(pg) as s:
            pages = [h.id for o in (0, 2, 4) for h in search(s, query, limit=2, offset=o, sort=sort, filters=filters)]
        assert pages == ids_of(lite, query, sort=sort, filters=filters)


def test_counts_and_exports_are_the_same_on_both(both):
    (lite, pg), _ = both
    for query in ("طرابلس", "الحكومة OR الموازنة", "", "انتخاب*"):
        for by in ("day", "week", "month", "source", "section"):
            with Session(lite) as a, Session(pg) as b:
                assert count(b, query, by=by, filters=Filters(lang="ar")) == count(a, query, by=by, filters=Filters(lang="ar"))
        with Session(lite) as a, Session(pg) as b:
            left = [(r["id"], r["title"], r["text"], r["tags"], r["source"]) for r in export_rows(a, query, filters=Filters(lang="ar"))]
            right = [(r["id"], r["title"], r["text"], r["tags"], r["source"]) for r in export_rows(b, query, filters=Filters(lang="ar"))]
        assert right == left, query
        with Session(lite) as a, Session(pg) as b:
            left_ids = sorted(r["id"] for r in export_rows(a, query, sort="relevance"))
            assert sorted(r["id"] for r in export_rows(b, query, sort="relevance")) == left_ids, query


def test_filters_are_the_same_on_both(both):
    (lite, pg), _ = both
    cases = [Filters(sources=("alpha",)), Filters(sources=("beta", "gamma")), Filters(since=date(2024, 2, 11)),
             Filters(until=date(2024, 2, 10)), Filters(since=date(2024, 2, 10), until=date(2024, 2, 11)),
             Filters(author="%"), Filters(section="x")]
    for filters in cases:
        for query in ("طرابلس", "الحكومة OR طرابلس OR انتخاب*"):
            assert ids_of(pg, query, filters=filters, sort="newest") == ids_of(lite, query, filters=filters, sort="newest")


def test_exact_words_rank_above_stems_and_the_title_above_the_body(both):
    (_, pg), ids = both
    hits = ids_of(pg, "حكومة")
    assert hits == [ids["budget"], ids["plural"]]  # الحكومة (exact) before الحكومات (stem only)
    hits = ids_of(pg, "طرابلس")
    assert hits[0] == ids["tripoli"]  # in its title, and in its body


def test_a_phrase_does_not_run_from_the_title_into_the_body(both):
    (lite, pg), ids = both
    # "body_only": its title ends with متفرقة and its body starts with وفي
    assert ids_of(pg, '"متفرقه وفي"') == ids_of(lite, '"متفرقه وفي"') == []
    assert ids_of(pg, '"اخبار متفرقه"') == [ids["body_only"]]


def test_hostile_queries_are_text_or_one_query_error_and_the_archive_stays(pg_archive):
    engine, ids = pg_archive
    hostile = ["'; DROP TABLE articles; --", "طرابلس') | ('", "طرابلس:* | !", "\\' OR 1=1 --", "$$", "%s %(x)s",
               ":full", "title:'", "body:\\", "(((", "\x00", "طرابلس\x00"]
    for query in hostile:
        try:
            assert isinstance(ids_of(engine, query), list)
        except QueryError as exc:
            assert "\n" not in str(exc)
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM articles")).scalar_one() == len(STORIES)
    assert ids_of(engine, "title:طرابلس") == [ids["tripoli"]]


def test_the_index_row_is_part_of_the_article_transaction_and_goes_with_the_article(pg_archive):
    engine, ids = pg_archive
    with Session(engine) as s:
        body = "خبر عن الزلزال في المدينة"
        add_article(s, Article(url="https://news.example/q", title=None, text=body, content_hash=content_hash(body)))
        s.rollback()
    assert ids_of(engine, "الزلزال") == []
    with Session(engine) as s:
        s.execute(delete(ArticleRecord).where(ArticleRecord.id == ids["tripoli"]))
        s.commit()
    assert ids_of(engine, "مؤتمر") == []


def test_a_new_version_is_searched_by_its_new_text(pg_archive):
    engine, ids = pg_archive
    title, body, _, _ = STORIES["budget"]
    with Session(engine) as s:
        add_article(s, Article(url="https://news.example/budget", title=title, text=body + " كلمةجديدةفريدة",
                               content_hash=content_hash(body + " كلمةجديدةفريدة")))
        add_article(s, Article(url="https://news.example/budget", title="عنوان محدث", text="نص بديل تماما",
                               content_hash=content_hash("نص بديل تماما")))
        s.commit()
    assert ids_of(engine, "بديل") == [ids["budget"]]
    assert ids_of(engine, "محدث") == [ids["budget"]]
    assert ids_of(engine, "كلمةجديدةفريدة") == [] and ids_of(engine, "الموازنة") == [ids["body_only"]]


def test_rebuild_index_restores_every_article(pg_archive):
    engine, ids = pg_archive
    with Session(engine) as s:
        s.execute(text("DELETE FROM article_search_keys"))
        s.commit()
    assert ids_of(engine, "طرابلس") == []
    with Session(engine) as s:
        assert rebuild_index(s, batch=4) == len(STORIES)
        s.commit()
    assert sorted(ids_of(engine, "طرابلس")) == sorted([ids["tripoli"], ids["body_only"], ids["plural"]])


def test_migration_0009_rewrites_the_rows_of_revision_0006(pg_url):
    engine = make_engine(pg_url)
    upgrade(engine, "0008")
    engine.dispose()
    ids = fill_at_0008(pg_url)
    with make_engine(pg_url).connect() as c:  # the 0006 rows: to_tsvector, stems without their mark
        assert "~" not in c.execute(text("SELECT keys::text FROM article_search_keys LIMIT 1")).scalar_one()
    engine = open_engine(pg_url)  # upgrades to the head
    try:
        assert ids_of(engine, "حكومة") == [ids["budget"], ids["plural"]]
        assert ids_of(engine, '"اخبار متفرقه"') == [ids["body_only"]]
    finally:
        engine.dispose()


def fill_at_0008(url: str) -> dict[str, int]:
    """Articles and their index rows as revision 0006 wrote them (to_tsvector of the four columns)."""
    from crawler.core.analyzer import index_columns

    engine = make_engine(url)
    ids = {}
    with engine.begin() as c:
        for i, (key, (title, body, _, _)) in enumerate(STORIES.items(), start=1):
            c.execute(text("INSERT INTO articles (id, url, title, text, content_hash, tags, times_seen, first_seen, "
                           "last_seen) VALUES (:id, :url, :title, :text, :hash, '[]', 1, now(), now())"),
                      {"id": i, "url": f"https://news.example/{key}", "title": title, "text": body, "hash": content_hash(body)})
            (tw, ts), (bw, bs) = index_columns(title), index_columns(body)
            c.execute(text("INSERT INTO article_search_keys (article_id, keys) VALUES (:id, "
                           "setweight(to_tsvector('simple', :tw), 'A') || setweight(to_tsvector('simple', :ts), 'B') || "
                           "setweight(to_tsvector('simple', :bs), 'C') || setweight(to_tsvector('simple', :bw), 'D'))"),
                      {"id": i, "tw": tw, "ts": ts, "bw": bw, "bs": bs})
            ids[key] = i
    engine.dispose()
    return ids


def test_cli_search_count_and_export_on_postgresql(pg_archive, pg_url):
    _, ids = pg_archive
    runner = CliRunner()
    out = runner.invoke(main, ["search", "طرابلس -مؤتمر", "--db", pg_url, "--json"])
    assert out.exit_code == 0, out.output
    assert sorted(h["id"] for h in json.loads(out.stdout)) == sorted([ids["body_only"], ids["plural"]])
    out = runner.invoke(main, ["count", "طرابلس", "--by", "source", "--json", "--db", pg_url])
    assert json.loads(out.stdout) == [{"key": "alpha", "count": 1}, {"key": "beta", "count": 1}, {"key": "gamma", "count": 1}]
    out = runner.invoke(main, ["search", "(طرابلس", "--db", pg_url])
    assert out.exit_code != 0 and len(out.output.strip().splitlines()) == 1 and "Traceback" not in out.output


def test_the_api_searches_a_postgresql_archive(pg_archive, pg_url):
    _, ids = pg_archive
    app = create_app(pg_url)
    try:
        with TestClient(app) as client:
            reply = client.get("/api/search", params={"q": "الموازنة", "source": "alpha"})
            assert reply.status_code == 200, reply.text
            (hit,) = reply.json()
            assert hit["id"] == ids["budget"] and hit["source"] == "alpha" and "[الموازنة]" in hit["snippet"]
            reply = client.get("/api/search", params={"q": "طرابلس", "sort": "newest", "until": "2024-02-28"})
            assert [h["id"] for h in reply.json()] == [ids["tripoli"]]
            assert client.get("/api/count", params={"q": "طرابلس", "by": "month"}).json() == [
                {"key": "2024-02", "count": 1}, {"key": "2024-03", "count": 1}, {"key": None, "count": 1}]
            bad = client.get("/api/search", params={"q": "x'); DROP TABLE articles; --("})
            assert bad.status_code == 400 and "\n" not in bad.json()["error"]
    finally:
        app.state.engine.dispose()


def test_the_tsvector_literal_holds_keys_stems_and_a_gap_between_title_and_body():
    vector = index_vector("الحكومات", "والحكومة قالت")
    parts = dict(part.rsplit(":", 1) for part in vector.split(" "))
    assert parts == {"'حكومات'": "1A", "'~حكوم'": "1B,3C", "'حكومه'": "3D", "'قالت'": "4D",
                     "'^حكومات'": "1A", "'^~حكوم'": "1B"}  # the title's own copy, for title:
    assert index_vector(None, "o'brien a\\b") == "'o':2D 'brien':3D 'a':4D 'b':5D"


def test_lexemes_are_quoted():
    assert lexeme("كتاب") == "'كتاب'"
    assert lexeme("o'brien") == "'o''brien'"
    assert lexeme("a\\b", prefix=True, weights="A") == "'a\\\\b':*A"


def test_relevance_ranks_a_bounded_pool_and_the_rest_follow_newest_first(both, monkeypatch):
    (_, pg), ids = both
    monkeypatch.setattr(search_pg, "RANK_POOL", 2)
    # طرابلس: three exact matches; the two newest are ranked (the title hit first), the undated one follows
    expected = [ids["tripoli"], ids["plural"], ids["body_only"]]
    assert ids_of(pg, "طرابلس") == expected
    with Session(pg) as s:
        assert [h.id for o in range(3) for h in search(s, "طرابلس", limit=1, offset=o)] == expected
    monkeypatch.setattr(search_pg, "RANK_POOL", 1)
    assert ids_of(pg, "طرابلس") == [ids["plural"], ids["tripoli"], ids["body_only"]]  # newest first past the pool
    assert ids_of(pg, "حكومة") == [ids["budget"], ids["plural"]]  # exact words first, whatever the pool
