"""Source and month tokens in the SQLite index (migration 0014): a filtered search asks them of
FTS5 as well as of the rows, finds exactly what the row filters alone find, and follows an
article whose source or publication date changes; one hit per story ranks the same window."""
from __future__ import annotations

import importlib
import random
from datetime import date

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import open_engine, rebuild_index
from storage.bulk import add_articles
from storage import collapse
from storage.collapse import search_stories
from storage.models import ArticleRecord

S = importlib.import_module("storage.search")  # the module (storage.search is also a function)
WORDS = ["الحكومة", "وزارة", "المعارضة", "الانتخابات", "القوات", "لبنان", "سوريا", "الفيلم"]
SOURCES = ["alpha", "beta", "gamma", "delta"]


def article(rng: random.Random, i: int) -> tuple[Article, str | None]:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) + f" رقم{i}"
    day = None if i % 17 == 0 else date(2022, 11, 1).toordinal() + rng.randrange(500)
    published = None if day is None else date.fromordinal(day).isoformat()
    source = None if i % 13 == 0 else rng.choice(SOURCES)
    return Article(url=f"https://news.example/{i}", title=rng.choice(WORDS), text=body, content_hash=content_hash(body),
                   published=published, lang="ar"), source


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    rng = random.Random(13)
    engine = open_engine(f"sqlite:///{tmp_path_factory.mktemp('facets') / 'f.db'}")
    with Session(engine) as s:
        ids = [r.article_id for r in add_articles(s, [article(rng, i) for i in range(400)])]
        s.commit()
    yield engine, ids
    engine.dispose()


FILTERS = [
    S.Filters(sources=("alpha",)),
    S.Filters(sources=("beta", "delta"), since=date(2023, 3, 15), until=date(2023, 9, 2)),
    S.Filters(since=date(2023, 12, 31)),
    S.Filters(until=date(2023, 1, 1)),
    S.Filters(since=date(2023, 5, 1), until=date(2023, 5, 1)),
    S.Filters(sources=("nowhere",)),
    S.Filters(since=date(2024, 1, 1), until=date(2023, 1, 1)),
    S.Filters(sources=("alpha", "gamma"), lang="ar", until=date(2023, 6, 30)),
]
QUERIES = ["الحكومة", "وزارة OR لبنان", "القوات -سوريا", "انتخاب*", '"الحكومة وزارة"', "title:الفيلم"]


def by_rows_only(s: Session, query: str, filters: S.Filters, sort: str) -> list[int]:
    """The matches as the row filters alone give them (no facet tokens in the MATCH)."""
    compiled = S.compile_query(query)
    ranked_from = S.rank_window(s, compiled, filters) if sort == "relevance" else 0
    sql, params = S.matching_sql(compiled, filters, columns="a.id", sort=sort, ranked_from=ranked_from)
    return [r.id for r in s.execute(text(sql), params)]


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_a_filtered_search_finds_what_the_row_filters_alone_find(archive, filters):
    engine, _ = archive
    with Session(engine) as s:
        for query in QUERIES:
            for sort in ("relevance", "newest", "oldest"):
                expected = by_rows_only(s, query, filters, sort)
                assert [h.id for h in S.search(s, query, filters=filters, sort=sort, limit=1000)] == expected, query
            assert S.count_matches(s, query, filters=filters) == len(expected)
            assert [r["id"] for r in S.export_rows(s, query, filters=filters)] == by_rows_only(s, query, filters, "oldest")


def test_the_filters_are_asked_of_the_index(archive):
    engine, _ = archive
    filters = S.Filters(sources=("beta", "delta"), since=date(2023, 3, 15), until=date(2023, 4, 2))
    with Session(engine) as s:
        ids = {r.name: r.id for r in s.execute(text("SELECT name, id FROM sources"))}
        narrowed = S.narrowed(s, S.compile_query("الحكومة"), filters)
        assert narrowed is not None and narrowed.narrowed
        for sid in (ids["beta"], ids["delta"]):
            assert f'"s{sid}m202303"' in narrowed.full and f'"s{sid}m202304"' in narrowed.full
        # FTS5 alone hands over only articles of those sources and months
        found = s.execute(text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"), {"q": narrowed.full}).scalars().all()
        rows = s.execute(text("SELECT source_id, published_utc FROM articles WHERE id IN (%s)" % ",".join(map(str, found)))).all()
        assert found and all(r.source_id in (ids["beta"], ids["delta"]) and "2023-03" <= str(r.published_utc)[:7] <= "2023-04"
                             for r in rows)
        assert S.narrowed(s, narrowed, filters) is narrowed  # asked once
        assert S.narrowed(s, S.compile_query("الحكومة"), S.Filters(lang="ar")) == S.compile_query("الحكومة")


def vocabulary(s: Session) -> list[tuple]:
    s.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, articles_fts, 'col')"))
    return s.execute(text("SELECT term, col, doc, cnt FROM temp.fts_vocab ORDER BY term, col")).all()


def test_a_new_source_or_date_moves_the_article_in_filtered_searches(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'm.db'}")
    body = "الحكومة تعلن خطة جديدة"
    with Session(engine) as s:
        (first,) = [r.article_id for r in add_articles(s, [(Article(url="https://a.example/1", title="خبر", text=body,
                    content_hash=content_hash(body), published="2023-02-10"), "alpha")])]
        list(add_articles(s, [(Article(url="https://b.example/1", title="خبر", text=body + " أخرى",
                                  content_hash=content_hash(body + " أخرى"), published="2024-01-01"), "beta")]))
        s.commit()
        feb = S.Filters(since=date(2023, 2, 1), until=date(2023, 2, 28))
        assert [h.id for h in S.search(s, "الحكومة", filters=feb)] == [first]
        beta = s.execute(text("SELECT id FROM sources WHERE name = 'beta'")).scalar_one()
        s.execute(text("UPDATE articles SET source_id = :b, published_utc = '2023-07-04 00:00:00.000000' WHERE id = :i"),
                  {"b": beta, "i": first})
        s.commit()
        assert S.search(s, "الحكومة", filters=feb) == []
        july = S.Filters(sources=("beta",), since=date(2023, 7, 1), until=date(2023, 7, 31))
        assert [h.id for h in S.search(s, "الحكومة", filters=july)] == [first]
        assert S.search(s, "الحكومة", filters=S.Filters(sources=("alpha",))) == []
        after_trigger = vocabulary(s)
        rebuild_index(s)
        s.commit()
        assert vocabulary(s) == after_trigger  # the trigger removed exactly the old tokens
    engine.dispose()


@pytest.mark.parametrize("lookups", [8, 0], ids=["one by one", "one pass"])
def test_stories_by_relevance_come_from_the_same_window_as_search(archive, monkeypatch, lookups):
    """With a window smaller than the matches, one hit per story is the uncollapsed list (every article
    a story of its own here, but for two copies of an old one) without its later copies; the copy in
    the window leads its story and counts the copy older than the window (looked up in the index)."""
    engine, ids = archive
    query = "الحكومة"
    with Session(engine) as s:
        old, copies = ids[5], [ids[-3], ids[-300]]
        for one in (old, *copies):  # through the model: the text is a zlib blob in SQL (storage.textzip)
            body = s.get(ArticleRecord, one).text
            s.execute(update(ArticleRecord).where(ArticleRecord.id == one).values(
                cluster_id=old, title="الحكومة الحكومة", text=body + " الحكومة"))
        s.commit()
        monkeypatch.setattr(S, "RANK_WINDOW", 30)
        monkeypatch.setattr(collapse, "LOOKUPS", lookups)  # copies older than the window: how they are found
        every = [h.id for h in S.search(s, query, limit=400)]
        assert len(every) > 90 and every[0] == copies[0] and every.index(copies[1]) > 30
        group = {i: (old if i in (old, *copies) else i) for i in every}
        expected, seen = [], set()
        for i in every:
            if group[i] not in seen:
                seen.add(group[i])
                expected.append(i)
        compiled = S.compile_query(query)
        assert compiled is not None
        first = collapse.windowed_page(s, compiled, S.Filters(), 0, 20)
        outlets = set(s.execute(text("SELECT source_id FROM articles WHERE id IN (:o, :a, :b) AND source_id IS NOT NULL"),
                                {"o": old, "a": copies[0], "b": copies[1]}).scalars())
        assert first is not None and first[0][0].id == copies[0] and first[1][old] == (3, len(outlets))
        assert collapse.windowed_page(s, compiled, S.Filters(), 20, 20) is None  # beyond the window's stories
        pages = [h for p in range(3) for h in search_stories(s, query, limit=20, offset=20 * p)]
        assert [h.id for h in pages] == expected[:60] == [h.id for h in search_stories(s, query, limit=60)]
        assert [h.copies for h in pages] == [3 if group[h.id] == old else 1 for h in pages]


@pytest.mark.parametrize("lookups", [0, 8, 10**9], ids=["one pass", "some one by one", "one by one"])
def test_older_matches_are_the_matches_among_the_ids_asked(archive, monkeypatch, lookups):
    """Which of a set of ids match the query and the filters (the copies older than the ranked
    window) is the plain search's answer, whether the ids are looked up one by one or read in one
    pass; an id that matches nothing, or is no article, is left out."""
    engine, ids = archive
    monkeypatch.setattr(collapse, "LOOKUPS", lookups)
    with Session(engine) as s:
        for query, filters in (("الحكومة", S.Filters()), ("الحكومة -القوات", S.Filters()),
                               ("الحكومة OR لبنان", S.Filters(sources=("alpha", "beta"), until=date(2023, 6, 30)))):
            expected = {h.id for h in S.search(s, query, limit=1000, filters=filters)}
            asked = ids[1::3] + [max(ids) + 50]
            compiled = S.narrowed(s, S.compile_query(query), filters)
            assert compiled is not None
            found = collapse._older_matches(s, compiled, filters, asked)
            assert found == expected & set(asked) and 0 < len(found) < len(asked)
