"""Search and count with near-duplicate clusters folded into one hit per story (storage.collapse),
the CLI's --collapse/--no-collapse and the API's collapse=false."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.web.app import create_app
from storage import add_article, open_engine
from storage.collapse import count_stories, search_stories
from storage.models import ArticleRecord
from storage.search import Filters, count, search
from storage.shapes import hits_json

WORDS = [f"كلمة{i}" for i in range(80)]


def story(words: list[str], change: int, topic: str) -> str:
    """A story's text with one word changed (a near-duplicate of the others made from ``words``)."""
    changed = list(words)
    changed[change] = f"تغيير{change}"
    return f"{topic} " + " ".join(changed)


OTHER = [f"لفظ{i}" for i in range(80)]
# (source, published, text): story A in three outlets (one of them twice), story B twice in one
# outlet, C alone, D alone and never clustered (cluster_id NULL, as in an archive older than clustering).
ROWS = [
    ("alpha", "2024-01-05", story(WORDS, 10, "الحكومة")),   # A, the oldest copy
    ("beta", "2024-01-07", story(WORDS, 20, "الحكومة")),    # A
    ("gamma", "2024-01-06", story(WORDS, 30, "الحكومة الحكومة الحكومة")),  # A, the most relevant
    ("beta", "2024-02-01", story(WORDS, 40, "الحكومة")),    # A, beta again
    ("alpha", "2024-03-01", story(OTHER, 5, "الحكومة")),    # B
    ("alpha", "2024-03-02", story(OTHER, 6, "الحكومة")),    # B
    ("delta", "2024-04-01", "الحكومة تعلن خبرا لا يشبه غيره عن الطقس والمطر في الجبال"),  # C
    ("delta", "2024-05-01", "الحكومة وخبر آخر وحيد عن القطارات والموانئ البعيدة جدا"),  # D
]
A, B, C, D = [0, 1, 2, 3], [4, 5], [6], [7]


@pytest.fixture(scope="module")
def archive(module_db_url):
    """The stories above, on SQLite and on PostgreSQL (collapse runs on both)."""
    path = module_db_url
    engine = open_engine(path)
    with Session(engine) as s:
        ids = [add_article(s, Article(url=f"https://{src}.example/{i}", title=f"عنوان {i}", text=body,
                                      content_hash=content_hash(body), published=day), source=src).article_id
               for i, (src, day, body) in enumerate(ROWS)]
        s.execute(update(ArticleRecord).where(ArticleRecord.id == ids[7]).values(cluster_id=None, cluster_similarity=None))
        s.commit()
    yield path, engine, ids
    engine.dispose()


def story_of(ids: list[int], article_id: int) -> int:
    return next(n for n, members in enumerate((A, B, C, D)) if ids.index(article_id) in members)


def test_the_fixture_has_the_clusters_it_says(archive):
    _, engine, ids = archive
    with Session(engine) as s:
        clusters = [s.get(ArticleRecord, i).cluster_id for i in ids]
    assert len({clusters[i] for i in A}) == 1 and len({clusters[i] for i in B}) == 1
    assert len({clusters[0], clusters[4], clusters[6]}) == 3 and clusters[7] is None


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_collapsed_hits_are_the_uncollapsed_ones_without_later_copies(archive, sort):
    _, engine, ids = archive
    with Session(engine) as s:
        every = search(s, "الحكومة", limit=100, sort=sort)
        stories = search_stories(s, "الحكومة", limit=100, sort=sort)
    assert len(every) == 8
    seen, expected = set(), []
    for hit in every:
        if story_of(ids, hit.id) not in seen:
            seen.add(story_of(ids, hit.id))
            expected.append(hit.id)
    assert [h.id for h in stories] == expected and len(stories) == 4
    assert sum(h.copies for h in stories) == len(every)


def test_the_hit_is_the_best_ranked_copy_with_its_copies_and_outlets(archive):
    _, engine, ids = archive
    with Session(engine) as s:
        relevant = {h.id: h for h in search_stories(s, "الحكومة", limit=10)}
        oldest = {h.id: h for h in search_stories(s, "الحكومة", limit=10, sort="oldest")}
        newest = {h.id: h for h in search_stories(s, "الحكومة", limit=10, sort="newest")}
    assert ids[2] in relevant and (relevant[ids[2]].copies, relevant[ids[2]].outlets) == (4, 3)
    assert ids[0] in oldest and (oldest[ids[0]].copies, oldest[ids[0]].outlets) == (4, 3)
    assert ids[3] in newest and ids[5] in newest
    assert (newest[ids[5]].copies, newest[ids[5]].outlets) == (2, 1)
    assert (newest[ids[7]].copies, newest[ids[7]].outlets) == (1, 1)


def test_filters_narrow_the_copies_counted(archive):
    _, engine, ids = archive
    with Session(engine) as s:
        hits = search_stories(s, "الحكومة", limit=10, sort="oldest", filters=Filters(sources=("beta", "gamma")))
    assert [(h.id, h.copies, h.outlets) for h in hits] == [(ids[2], 3, 2)]


def test_pages_of_stories_join_up_and_count_agrees(archive):
    _, engine, ids = archive
    with Session(engine) as s:
        for sort in ("relevance", "newest", "oldest"):
            whole = [h.id for h in search_stories(s, "الحكومة", limit=10, sort=sort)]
            paged = [h.id for p in range(4) for h in search_stories(s, "الحكومة", limit=1, offset=p, sort=sort)]
            assert paged == whole
        assert sum(n for _, n in count_stories(s, "الحكومة")) == 4
        assert sum(n for _, n in count(s, "الحكومة")) == 8
        # a story counts once, in the month and at the outlet of its oldest matching copy
        assert count_stories(s, "الحكومة", by="month") == [("2024-01", 1), ("2024-03", 1), ("2024-04", 1),
                                                           ("2024-05", 1)]
        assert count_stories(s, "الحكومة", by="source") == [("alpha", 2), ("delta", 2)]
        assert count_stories(s, "الحكومة", by="source", filters=Filters(sources=("beta",))) == [("beta", 1)]
        assert count_stories(s, "", by="week", filters=Filters(sources=("alpha",)))[0] == ("2024-W01", 1)


def test_an_empty_query_with_filters_lists_stories_newest_first(archive):
    _, engine, ids = archive
    with Session(engine) as s:
        assert [h.id for h in search_stories(s, "", filters=Filters(sources=("alpha",)))] == [ids[5], ids[0]]
        assert search_stories(s, "") == []


def test_cli_search_and_count_collapse_unless_told_not_to(archive):
    path, _, ids = archive
    runner = CliRunner()
    folded = json.loads(runner.invoke(main, ["search", "الحكومة", "--db", str(path), "--json"]).output)
    every = json.loads(runner.invoke(main, ["search", "الحكومة", "--db", str(path), "--json", "--no-collapse"]).output)
    assert len(folded) == 4 and len(every) == 8
    assert {h["copies"] for h in every} == {1} and folded[0]["copies"] == 4 and folded[0]["outlets"] == 3
    text = runner.invoke(main, ["search", "الحكومة", "--db", str(path)]).output
    assert f"[{ids[2]}]" in text and "+3 copies, 3 outlets" in text and "+1 copy, 1 outlet" in text
    assert f"[{ids[0]}]" not in text
    counted = json.loads(runner.invoke(main, ["count", "الحكومة", "--db", str(path), "--json", "--by", "source"]).output)
    assert sum(r["count"] for r in counted) == 4
    counted = json.loads(runner.invoke(main, ["count", "الحكومة", "--db", str(path), "--json", "--no-collapse"]).output)
    assert sum(r["count"] for r in counted) == 8


def test_api_and_page_collapse_unless_told_not_to(archive):
    path, _, ids = archive
    app = create_app(str(path))
    with TestClient(app) as c:
        folded = c.get("/api/search", params={"q": "الحكومة"}).json()
        every = c.get("/api/search", params={"q": "الحكومة", "collapse": "false"}).json()
        total = c.get("/api/count", params={"q": "الحكومة"}).json()
        all_total = c.get("/api/count", params={"q": "الحكومة", "collapse": "false"}).json()
        page = c.get("/", params={"q": "الحكومة", "limit": 3})
        page_all = c.get("/", params={"q": "الحكومة", "limit": 3, "collapse": "false"})
    app.state.engine.dispose()
    assert len(folded) == 4 and len(every) == 8
    assert sum(r["count"] for r in total) == 4 and sum(r["count"] for r in all_total) == 8
    assert page.status_code == 200 and '<p class="total" id="total">4 ' in page.text
    assert 'class="copies"' in page.text and "collapse=false" not in page.text.split('rel="next"')[1].split(">")[0]
    assert '<p class="total" id="total">8 ' in page_all.text
    assert "collapse=false" in page_all.text.split('rel="next"')[1].split(">")[0]


def test_hits_json_carries_copies_and_outlets(archive):
    _, engine, _ = archive
    with Session(engine) as s:
        got = hits_json(search_stories(s, "الحكومة", limit=1))[0]
    assert (got["copies"], got["outlets"]) == (4, 3)
