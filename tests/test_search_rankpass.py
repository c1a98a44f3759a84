"""bm25 over a query's words without the ones it excludes (storage.search.window_sql's ranking
pass) gives the very scores, hits and order of bm25 over the whole expression."""
from __future__ import annotations

import dataclasses
import importlib
import random

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import open_engine
from storage.bulk import add_articles

S = importlib.import_module("storage.search")  # the module (storage.search is also a function)
WORDS = ["مؤتمر", "صحفي", "الزعفران", "اجتماع", "الحكومة", "وزارة", "المؤتمرات", "سوريا", "لبنان", "قالت",
         "مصادر", "مطلعة", "الملفات", "للمؤتمر", "والحكومة", "بالمؤتمر"]
EXCLUDING = ["مؤتمر -الزعفران", "مؤتمر صحفي -اجتماع", "الحكومة -وزارة -سوريا", "title:مؤتمر -لبنان",
             "مؤتمر -\"مصادر مطلعة\"", "(سوريا OR لبنان) -الحكومة"]
NESTED = ["(مؤتمر -الزعفران) OR صحفي", "مؤتمر OR (الحكومة -وزارة)", "مؤتمر -الزعفران OR لبنان"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    rng = random.Random(7)
    items = []
    for i in range(120):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))) + f" ({i})"
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
        items.append((Article(url=f"https://news.example/{i}", title=title, text=body, content_hash=content_hash(body),
                              published=f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}", lang="ar"), "ab"[i % 2]))
    eng = open_engine(f"sqlite:///{tmp_path_factory.mktemp('rank') / 'r.db'}")
    with Session(eng) as s:
        assert len(list(add_articles(s, items))) == len(items)
        s.commit()
    yield eng
    eng.dispose()


def rows(s: Session, compiled: S.Compiled) -> list[tuple]:
    sql, params = S.window_sql(compiled, S.Filters())
    return [tuple(r) for r in s.execute(text(sql), params)]


@pytest.mark.parametrize("window", [5, 2000])
@pytest.mark.parametrize("query", EXCLUDING)
def test_ranking_without_the_excluded_words_gives_the_same_scores(engine, monkeypatch, window, query):
    monkeypatch.setattr(S, "RANK_WINDOW", window)
    compiled = S.compile_query(query)
    assert compiled is not None and compiled.rank != compiled.full  # the separate pass is taken
    with Session(engine) as s:
        found = rows(s, compiled)
        one_pass = rows(s, dataclasses.replace(compiled, positive=""))
    assert found == one_pass and found  # ids, bm25 scores (to the bit), exact flags, order


@pytest.mark.parametrize("query", NESTED)
def test_words_excluded_under_an_or_stay_in_the_ranking(engine, query):
    """A row matching ``(a -b) OR c`` by ``c`` may hold ``b``, and bm25 counts it there."""
    compiled = S.compile_query(query)
    assert compiled is not None and compiled.rank == compiled.full


def test_excluded_words_leave_the_ranked_expression_only(engine):
    compiled = S.compile_query("مؤتمر -الزعفران")
    assert compiled is not None and "زعفران" in compiled.full and "زعفران" not in compiled.rank
    with Session(engine) as s:
        hits = S.search(s, "مؤتمر -الزعفران", limit=50)
        filtered = S.search(s, "مؤتمر -الزعفران", limit=50, filters=S.Filters(sources=("a",)))
        assert S.count_matches(s, "مؤتمر -الزعفران") == len(hits) > 0
    assert all("الزعفران" not in h.snippet for h in hits)
    assert {h.id for h in filtered} <= {h.id for h in hits}
