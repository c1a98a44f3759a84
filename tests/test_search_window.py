"""Relevance over huge result sets: the newest RANK_WINDOW matches are ranked, older ones follow.

The window is made small here (monkeypatched) so a few articles stand for a broad query; every
match is still found exactly once, counts stay exact, and a rare word ranks every match.
"""
from __future__ import annotations

import importlib

import pytest
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import open_engine
from storage.bulk import add_articles

S = importlib.import_module("storage.search")  # the module (storage.search is also a function)
WINDOW = 4
FILLER = "قالت مصادر مطلعة إن الاجتماع تناول ملفات عديدة دون الإعلان عن نتائج محددة"


def story(i: int, title: str, body: str, source: str) -> tuple[Article, str]:
    text = f"{body} ({i})"
    return Article(url=f"https://news.example/{i}", title=title, text=text, content_hash=content_hash(text),
                   published=f"2024-05-{i % 28 + 1:02d}", lang="ar"), source


@pytest.fixture()
def archive(tmp_path, monkeypatch):
    """Article 1 (the oldest) is the strongest match of «مؤتمر» (title and body, three times) and
    the only one holding «الزعفران»; articles 2-10 mention «مؤتمر» once, in a long body."""
    monkeypatch.setattr(S, "RANK_WINDOW", WINDOW)
    items = [story(1, "مؤتمر المؤتمرات", "مؤتمر عن الزعفران ومؤتمر ثان وثالث للمؤتمر", "a")]
    items += [story(i, "أخبار اليوم", f"{FILLER} {FILLER} وعقد مؤتمر صحفي {FILLER}", "a" if i % 2 else "b")
              for i in range(2, 11)]
    engine = open_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with Session(engine) as s:
        ids = [r.article_id for r in add_articles(s, items)]
        s.commit()
    yield engine, ids
    engine.dispose()


def test_a_broad_query_ranks_its_newest_matches_and_lists_the_older_ones_after_them(archive):
    engine, ids = archive
    with Session(engine) as s:
        first = [h.id for h in S.search(s, "مؤتمر", limit=WINDOW)]
        everything = [h.id for h in S.search(s, "مؤتمر", limit=50)]
        paged = [h.id for p in range(4) for h in S.search(s, "مؤتمر", limit=3, offset=3 * p)]
        assert S.count_matches(s, "مؤتمر") == 10
        without_window = S.matching_sql(S.compile_query("مؤتمر"), S.Filters(), columns="a.id")
    assert sorted(first) == sorted(ids[-WINDOW:])  # the newest four, in relevance order
    assert everything[WINDOW:] == sorted(ids[:-WINDOW], reverse=True)  # then the rest, newest first
    assert paged == everything and sorted(everything) == sorted(ids)  # every match once, pages agree
    assert ":ranked_from" not in without_window[0]


def test_a_rare_word_ranks_every_match_so_an_old_relevant_article_wins(archive):
    engine, ids = archive
    with Session(engine) as s:
        assert [h.id for h in S.search(s, "الزعفران")] == [ids[0]]
        S.RANK_WINDOW = 100  # a window wider than the matches: the oldest article wins on relevance
        assert S.search(s, "مؤتمر")[0].id == ids[0]


def test_the_window_counts_matches_after_the_filters(archive):
    engine, ids = archive
    only_a = S.Filters(sources=("a",))
    in_a = [ids[0]] + [ids[i - 1] for i in range(3, 11, 2)]  # articles 1, 3, 5, 7, 9
    with Session(engine) as s:
        hits = [h.id for h in S.search(s, "مؤتمر", filters=only_a, limit=50)]
        compiled = S.compile_query("مؤتمر")
        assert compiled is not None
        assert S.rank_window(s, compiled, only_a) == in_a[-WINDOW]
        assert S.rank_window(s, compiled, only_a, window=len(in_a) + 1) == 0
    assert sorted(hits[:WINDOW]) == sorted(in_a[-WINDOW:]) and hits[WINDOW:] == [ids[0]]


def test_export_in_relevance_order_follows_the_same_order_as_search(archive):
    engine, _ = archive
    with Session(engine) as s:
        exported = [row["id"] for row in S.export_rows(s, "مؤتمر", sort="relevance")]
        assert exported == [h.id for h in S.search(s, "مؤتمر", limit=50)]
