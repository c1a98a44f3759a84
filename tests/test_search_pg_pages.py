"""PostgreSQL's first pages (storage.search_pg.page: the ranked pool and the date walks over the keys
table) against the general SQL (matching_sql) on the same archive: the same hits in the same
order with the same scores, for the whole query language, filters, sorts, pools of any size;
the keys table's copies of the date and source follow the article (revision 0013 and its
trigger); the loose forms of a query are what the GIN index answers without a check."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from crawler.core import query as q
from storage import open_engine, search, search_pg
from storage.db import alembic_config, make_engine, one_at_a_time, upgrade
from storage.models import ArticleRecord
from storage.search import Filters
from test_search_pg import QUERIES, fill

FILTERS = [Filters(), Filters(sources=("alpha",)), Filters(sources=("beta", "gamma")), Filters(since=date(2024, 2, 11)),
           Filters(until=date(2024, 2, 10)), Filters(lang="ar"), Filters(sources=("alpha",), since=date(2024, 1, 1))]


def filled(pg_server, fill):
    """A module's database (its engine, and what ``fill`` returns for its URL); dropped after."""
    url = pg_server.create_database()
    ids = fill(url)
    engine = open_engine(url)
    yield engine, ids
    engine.dispose()
    pg_server.drop_database(url)


@pytest.fixture(scope="module")
def pg(pg_server):
    yield from filled(pg_server, fill)


def general(session: Session, tsq, filters: Filters, sort: str, limit: int, offset: int):
    sql, params = search_pg.matching_sql(tsq, filters, columns="a.id, m.rank, s.name AS source", sort=sort,
                                         limit=limit, offset=offset)
    with search_pg.index_plans(session):
        return [(row.id, float(row.rank), row.source) for row in session.execute(text(sql), params)]


def tree(query: str):
    try:
        return search_pg.compile_tree(q.parse(query))
    except Exception:  # a query the language refuses: nothing to compare
        return None


@pytest.mark.parametrize("pool", [1, 2, 3, 200])
def test_first_pages_are_the_general_sqls_pages(pg, monkeypatch, pool):
    engine, _ = pg
    monkeypatch.setattr(search_pg, "RANK_POOL", pool)
    compared = found = 0
    with Session(engine) as s:
        for query in QUERIES + ["طرابلس -\"مؤتمر للاستثمار\"", "body:طرابلس -body:معرض", '"مؤتمر" OR body:حكومة']:
            tsq = tree(query)
            if tsq is None:
                continue
            for filters in FILTERS:
                for sort in ("relevance", "newest", "oldest"):
                    for limit, offset in ((pool, 0), (1, 0), (1, pool - 1), (10, 0)):
                        if sort == "relevance" and offset + limit > pool:
                            continue
                        fast = [(i, float(r), src) for i, r, src in search_pg.page(s, tsq, filters, sort, limit, offset)]
                        assert fast == general(s, tsq, filters, sort, limit, offset), (query, filters, sort, limit, offset)
                        compared += 1
                        found += bool(fast)
    assert compared > 500 and found > 200  # not a comparison of empty pages


def test_a_phrase_is_checked_on_its_candidates(pg):
    engine, ids = pg
    with Session(engine) as s:
        tsq = search_pg.compile_tree(q.parse('"الموازنة مشروع"'))  # both words in "budget", not in this order
        assert tsq is not None and tsq.full_loose != tsq.full
        assert search_pg.walk(s, tsq, "full", Filters(), sort="newest", limit=10) == []
        loose = search_pg.TsQuery(tsq.full_loose, tsq.full_loose)
        assert search_pg.walk(s, loose, "full", Filters(), sort="newest", limit=10) == [ids["budget"]]
        tsq = search_pg.compile_tree(q.parse('"مشروع الموازنة"'))
        assert search_pg.walk(s, tsq, "full", Filters(), sort="newest", limit=10) == [ids["budget"]]


def test_loose_forms_hold_what_the_index_answers_alone():
    phrase = search_pg.compile_tree(q.parse('"مؤتمر طرابلس"'))
    assert phrase is not None and "<->" in phrase.full and "<->" not in phrase.full_loose and "&" in phrase.full_loose
    body = search_pg.compile_tree(q.parse("body:طرابلس"))
    assert body is not None and ":D" in body.word and ":" not in body.word_loose.replace("'", "")
    word_out = search_pg.compile_tree(q.parse("طرابلس -مؤتمر"))
    assert word_out is not None and word_out.full_loose.count("!") == 1  # the index tells a word's absence
    phrase_out = search_pg.compile_tree(q.parse('طرابلس -"مؤتمر للاستثمار"'))
    assert phrase_out is not None and "!" in phrase_out.full and "!" not in phrase_out.full_loose
    plain = search_pg.compile_tree(q.parse("طرابلس OR الموازنة"))
    assert plain is not None and (plain.word_loose, plain.full_loose) == (plain.word, plain.full)


def test_the_keys_row_follows_the_articles_date_and_source(pg_url):
    engine = open_engine(pg_url)
    try:
        ids = fill(pg_url)
        tripoli = ids["tripoli"]
        with Session(engine) as s:
            same = s.execute(text("SELECT bool_and(k.published_utc IS NOT DISTINCT FROM a.published_utc AND "
                                  "k.source_id IS NOT DISTINCT FROM a.source_id) FROM article_search_keys k "
                                  "JOIN articles a ON a.id = k.article_id")).scalar_one()
            assert same is True  # written with the article
            beta = s.execute(text("SELECT id FROM sources WHERE name = 'beta'")).scalar_one()
            s.execute(update(ArticleRecord).where(ArticleRecord.id == tripoli).values(
                source_id=beta, published_utc=datetime(2020, 5, 5, tzinfo=timezone.utc)))
            s.commit()
        with Session(engine) as s:
            hits = [h.id for h in search(s, "مؤتمر", filters=Filters(sources=("beta",), until=date(2020, 5, 5)))]
            assert hits == [tripoli]
            assert [h.source for h in search(s, "مؤتمر")] == ["beta"]
            assert search(s, "مؤتمر", filters=Filters(sources=("alpha",))) == []
    finally:
        engine.dispose()


def test_migration_0013_fills_the_rows_already_there(pg_url):
    ids = fill(pg_url)
    engine = make_engine(pg_url)
    with engine.begin() as c:
        c.execute(text("UPDATE article_search_keys SET published_utc = NULL, source_id = NULL"))
    with one_at_a_time(engine) as connection:  # down to the revision before
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0012_searchperf")
    with engine.connect() as c:
        columns = c.execute(text("SELECT column_name FROM information_schema.columns "
                                 "WHERE table_name = 'article_search_keys'")).scalars().all()
        assert sorted(columns) == ["article_id", "keys"]
    upgrade(engine, "head")
    with engine.connect() as c:
        rows = c.execute(text("SELECT k.published_utc, k.source_id, a.published_utc AS p, a.source_id AS s "
                              "FROM article_search_keys k JOIN articles a ON a.id = k.article_id")).all()
    assert len(rows) == len(ids) and all((r.published_utc, r.source_id) == (r.p, r.s) for r in rows)
    assert sum(r.source_id is not None for r in rows) == len(ids)
    engine.dispose()
    engine = open_engine(pg_url)
    with Session(engine) as s:
        alpha = [h.id for h in search(s, "طرابلس OR الموازنة", filters=Filters(sources=("alpha",)))]
        assert sorted(alpha) == sorted([ids["budget"], ids["tripoli"]])
    engine.dispose()


def _scale_search():
    import importlib
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("bench.scale_search")


def test_the_scale_benchmark_loads_both_engines_alike_and_reuses_them(pg_url, tmp_path):
    scale = _scale_search()
    path = tmp_path / "scale.db"
    report = scale.run(300, pg_url, rounds=2, keep=path)
    assert set(report["build_s"]) == {"sqlite", "postgresql"}
    assert set(report["latency"]["no filters"]) == {"sqlite", "postgresql"}
    lite, pg = open_engine(f"sqlite:///{path}"), open_engine(pg_url)
    try:
        found = 0
        with Session(lite) as a, Session(pg) as b:
            for query in scale.search_bench.QUERIES:
                for filters in (None, scale.search_bench.FILTERS):
                    on_lite = [h.id for h in search(a, query, limit=300, sort="newest", filters=filters)]
                    on_pg = [h.id for h in search(b, query, limit=300, sort="newest", filters=filters)]
                    assert on_pg == on_lite, query
                    found += len(on_lite)
            assert b.execute(text("SELECT count(*) FROM article_search_keys WHERE published_utc IS NULL")).scalar_one() == 0
        assert found > 300
    finally:
        lite.dispose()
        pg.dispose()
    again = scale.run(300, pg_url, rounds=2, keep=path)
    assert again["build_s"] == {}  # both reused
    with pytest.raises(SystemExit, match="holds 300 articles"):
        scale.run(299, pg_url, rounds=2, keep=path)
