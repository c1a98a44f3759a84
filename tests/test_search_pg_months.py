"""PostgreSQL's month and source marks (revision 0016, storage.search_pg.marks): every vector
holds the marks of its article's month and source, written alike by Python and SQL, moved by the
trigger when the article's date or source changes; the first pages walk the months a few at a
time (newest or oldest first) and give the same hits as the general SQL, and a common word
stops after its first month; the migration adds the marks to an archive's rows and takes them
away again, keeping every article and every answer."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from crawler.core import query as q
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine, search, search_pg
from storage.db import alembic_config, make_engine, one_at_a_time, upgrade
from storage.models import ArticleRecord
from storage.search import Filters
from test_search_pg_pages import filled, general  # the page the general SQL gives

WORDS = {  # a word and the share of articles holding it
    "الحكومة": 0.9, "طرابلس": 0.3, "معرض": 0.05,
}
FILLER = ["قال", "مصدر", "رسمي", "اليوم", "إن", "الاجتماع", "انتهى", "بعد", "ساعات", "من", "النقاش"]
QUERIES = ["الحكومة", "طرابلس", "معرض", "الحكومة -طرابلس", '"وكالة الأنباء"', "طرابلس OR معرض", "title:طرابلس",
           "حكوم*", "body:معرض", 'الحكومة -"وكالة الأنباء"']
FILTERS = [Filters(), Filters(sources=("alpha",)), Filters(sources=("beta", "gamma")), Filters(since=date(2022, 7, 15)),
           Filters(until=date(2022, 3, 31)), Filters(sources=("alpha",), since=date(2023, 1, 1), until=date(2023, 6, 30)),
           Filters(sources=("nowhere",)), Filters(since=date(2030, 1, 1)), Filters(lang="ar")]


def stories(n: int = 90) -> list[tuple[str, str, str | None, str]]:
    """(title, body, published, source) of ``n`` articles over 24 months of 2022-2023, a few undated."""
    rng = random.Random(15)
    made = []
    for i in range(n):
        words = [w for w, share in WORDS.items() if rng.random() < share]
        body = " ".join(rng.sample(FILLER, 6) + words + (["وكالة", "الأنباء"] if i % 7 == 0 else ["الأنباء", "وكالة"]))
        title = " ".join(rng.sample(FILLER, 2) + words[:1])
        day = date(2022, 1, 1) + timedelta(days=rng.randrange(730))
        published = None if i % 15 == 4 else day.isoformat()
        made.append((title, f"{body} {i}", published, ("alpha", "beta", "gamma")[i % 3]))
    # the first and last months hold the common word; a time whose UTC month is the month before its own
    made.append(("قال الحكومة", "الحكومة في الاجتماع", "2022-01-02", "alpha"))
    made.append(("قال الحكومة", "الحكومة بعد الاجتماع", "2023-12-30", "gamma"))
    made.append(("قال الحكومة", "الحكومة في طرابلس ليلا", "2023-03-01T01:00:00+03:00", "beta"))
    return made


def fill(url: str) -> list[int]:
    engine = open_engine(url)
    ids = []
    with Session(engine) as s:
        for i, (title, body, published, source) in enumerate(stories()):
            art = Article(url=f"https://news.example/{i}", title=title, text=body, content_hash=content_hash(body),
                          published=published, lang="ar")
            ids.append(add_article(s, art, source=source).article_id)
        s.commit()
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def pg(pg_server):
    yield from filled(pg_server, fill)


def marks_held(session: Session) -> list[tuple[list[str], str]]:
    """(the @ lexemes of each vector, the marks Python makes of its row)."""
    rows = session.execute(text(
        "SELECT ARRAY(SELECT u.lexeme FROM unnest(k.keys) u WHERE left(u.lexeme, 1) = '@' ORDER BY 1) AS held, "
        "k.published_utc, k.source_id FROM article_search_keys k")).all()
    return [(list(r.held), search_pg.marks(r.published_utc, r.source_id)) for r in rows]


def as_literal(lexemes: list[str]) -> str:
    return " ".join(search_pg.lexeme(x) for x in sorted(lexemes))


def test_python_and_sql_make_the_same_marks(pg):
    engine, _ = pg
    cases = [(datetime(2023, 2, 28, 22, tzinfo=timezone.utc), 7), (datetime(2023, 3, 1, 1, tzinfo=timezone(timedelta(hours=3))), 1),
             (datetime(1999, 12, 31, 23, 59, tzinfo=timezone.utc), None), (None, 12), (None, None)]
    with Session(engine) as s:
        for published, source in cases:
            made = s.execute(text("SELECT CAST(akhbar_search_marks(:p, :s) AS text)"), {"p": published, "s": source}).scalar_one()
            assert made == as_literal(search_pg.marks(published, source).replace("'", "").split()), (published, source)
    assert search_pg.marks(datetime(2023, 3, 1, 1, tzinfo=timezone(timedelta(hours=3))), 4) == "'@d202302' '@s4'"
    assert search_pg.marks(None, None) == "'@d'"


def test_every_vector_holds_the_marks_of_its_row(pg):
    engine, ids = pg
    with Session(engine) as s:
        held = marks_held(s)
    assert len(held) == len(ids)
    assert all(as_literal(lexemes) == as_literal(made.replace("'", "").split()) for lexemes, made in held)
    months = {x for lexemes, _ in held for x in lexemes if x.startswith("@d")}
    assert "@d" in months and len(months) > 20  # undated ones, and the months of two years


def test_no_query_matches_a_mark(pg):
    engine, ids = pg
    with Session(engine) as s:
        for query in ("@d", "d202302", "@s1", "s1", "@*", "d2023*"):
            assert [h.id for h in search(s, query, limit=200)] == [], query


@pytest.mark.parametrize("first, margin", [(search_pg.FIRST_MONTHS, search_pg.MONTH_MARGIN), (1, 0.01), (3, 1.0), (100, 1.5)])
def test_first_pages_walking_the_months_are_the_general_sqls_pages(pg, monkeypatch, first, margin):
    engine, _ = pg
    monkeypatch.setattr(search_pg, "FIRST_MONTHS", first)
    monkeypatch.setattr(search_pg, "MONTH_MARGIN", margin)  # 0.01: one month a step
    compared = found = 0
    with Session(engine) as s:
        for query in QUERIES:
            tsq = search_pg.compile_tree(q.parse(query))
            for filters in FILTERS:
                for sort in ("relevance", "newest", "oldest"):
                    for limit, offset in ((1, 0), (3, 2), (10, 0), (200, 0)):
                        fast = [(i, float(r), src) for i, r, src in search_pg.page(s, tsq, filters, sort, limit, offset)]
                        assert fast == general(s, tsq, filters, sort, limit, offset), (query, filters, sort, limit, offset)
                        compared += 1
                        found += len(fast)
    assert compared > 1000 and found > 5000


def test_a_common_word_stops_after_its_first_month(pg, monkeypatch):
    engine, _ = pg
    asked: list[search_pg.Batch] = []
    real = search_pg._walk_batch

    def recording(*args, **kwargs):
        asked.append(args[4])
        return real(*args, **kwargs)

    monkeypatch.setattr(search_pg, "_walk_batch", recording)
    tsq = search_pg.compile_tree(q.parse("الحكومة"))
    with Session(engine) as s:
        for sort, month in (("newest", "@d202312"), ("oldest", "@d202201")):
            held = s.execute(text("SELECT count(*) FROM article_search_keys WHERE keys @@ CAST(:q AS tsquery)"),
                             {"q": f"{tsq.full} & '{month}'"}).scalar_one()
            assert held >= 1  # the data as meant: the word in the first month
            assert len(search_pg.walk(s, tsq, "full", Filters(), sort=sort, limit=held)) == held
            assert asked == [search_pg.Batch((month,))]
            asked.clear()
        everything = search_pg.walk(s, tsq, "full", Filters(), sort="newest", limit=1000)
        # the first month's rate says the page needs more than all the months: the rest at once
        assert asked == [search_pg.Batch(("@d202312",)),
                         search_pg.Batch(edge=datetime(2023, 12, 1, tzinfo=timezone.utc), last=True)]
        assert len(everything) == len(set(everything)) > 70
        asked.clear()
        rare = search_pg.compile_tree(q.parse("معرض"))
        search_pg.walk(s, rare, "full", Filters(), sort="oldest", limit=20)
        assert asked[0] == search_pg.Batch(("@d202201",))
        assert len(asked) <= 2 and asked[-1].last  # nothing in the first month: the rest at once, or a step sized by it


def test_the_next_step_is_sized_by_the_rate_so_far():
    assert search_pg.next_size(0, 0, 20) == search_pg.FIRST_MONTHS
    assert search_pg.next_size(1, 0, 20) is None
    assert search_pg.next_size(1, 10, 20) == 2  # 10 a month, 10 to go, times 1.5
    assert search_pg.next_size(2, 1, 200) == 597
    months = [datetime(2024, m, 1, tzinfo=timezone.utc) for m in range(1, 7)]
    newest = list(reversed(months))
    assert search_pg.next_batch(newest, 0, 1, "newest", True) == search_pg.Batch(("@d202406",))
    assert search_pg.next_batch(newest, 1, 2, "newest", True) == search_pg.Batch(("@d202405", "@d202404"))
    assert search_pg.next_batch(newest, 3, 3, "newest", True) == search_pg.Batch(edge=months[3], last=True)
    assert search_pg.next_batch(months, 3, None, "oldest", True) == search_pg.Batch(edge=months[3], last=True)
    assert search_pg.next_batch(months, 0, None, "oldest", False) == search_pg.Batch(last=True)
    assert search_pg.next_batch(months, 6, 1, "oldest", True) == search_pg.Batch(("@d",), last=True)
    assert search_pg.next_batch(months, 6, 1, "oldest", False) is None


def test_the_trigger_moves_the_marks(pg_url):
    ids = fill(pg_url)
    engine = open_engine(pg_url)
    try:
        moved = ids[0]
        with Session(engine) as s:
            s.execute(update(ArticleRecord).where(ArticleRecord.id == moved).values(
                published_utc=datetime(2031, 5, 5, tzinfo=timezone.utc), source_id=None))
            s.commit()
        with Session(engine) as s:
            held = dict(zip([moved], [r for r in marks_held(s)]))
            lexemes = s.execute(text("SELECT ARRAY(SELECT u.lexeme FROM unnest(keys) u WHERE left(u.lexeme, 1) = '@') "
                                     "FROM article_search_keys WHERE article_id = :id"), {"id": moved}).scalar_one()
            assert lexemes == ["@d203105"], held
            assert all(as_literal(x) == as_literal(m.replace("'", "").split()) for x, m in marks_held(s))
            word = search(s, "قال OR الحكومة OR طرابلس OR معرض OR مصدر", limit=1, sort="newest")
            assert [h.id for h in word] == [moved]
            in_2031 = search(s, "قال OR الحكومة OR طرابلس OR معرض OR مصدر", filters=Filters(since=date(2031, 5, 1)))
            assert [h.id for h in in_2031] == [moved]
    finally:
        engine.dispose()


def test_migration_0016_adds_the_marks_and_takes_them_away(pg_url):
    ids = fill(pg_url)
    engine = make_engine(pg_url)
    try:
        with Session(engine) as s:
            before = {query: [h.id for h in search(s, query, limit=200)] for query in QUERIES}
        with one_at_a_time(engine) as connection:  # down to the revision before
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0015_textzip")
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM article_search_keys")).scalar_one() == len(ids)
            assert c.execute(text("SELECT count(*) FROM article_search_keys k, unnest(k.keys) u "
                                  "WHERE left(u.lexeme, 1) = '@'")).scalar_one() == 0
            assert c.execute(text("SELECT to_regclass('article_search_keys_month')")).scalar_one() is None
        upgrade(engine, "head")
        with Session(engine) as s:
            assert s.execute(text("SELECT count(*) FROM articles")).scalar_one() == len(ids)
            held = marks_held(s)
            assert len(held) == len(ids)
            assert all(as_literal(x) == as_literal(m.replace("'", "").split()) for x, m in held)
            assert {query: [h.id for h in search(s, query, limit=200)] for query in QUERIES} == before
            compression = s.execute(text("SELECT attcompression FROM pg_attribute WHERE attname = 'keys' "
                                         "AND attrelid = 'article_search_keys'::regclass")).scalar_one()
            lz4 = s.execute(text("SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' "
                                 "AND 'lz4' = ANY(enumvals)")).scalar_one()
            assert compression == ("l" if lz4 else "")
            indexes = s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'article_search_keys'")).scalars()
            assert {"article_search_keys_gin", "article_search_keys_month"} <= set(indexes)
    finally:
        engine.dispose()


def test_a_search_puts_the_plan_setting_back(pg):
    engine, _ = pg
    tsq = search_pg.compile_tree(q.parse("الحكومة"))
    with Session(engine) as s:
        with search_pg.index_plans(s):
            assert s.execute(text("SHOW enable_seqscan")).scalar_one() == "off"
            search_pg.page(s, tsq, Filters(), "relevance", 5, 0)  # nested: put back to off, not on
            assert s.execute(text("SHOW enable_seqscan")).scalar_one() == "off"
        assert s.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
