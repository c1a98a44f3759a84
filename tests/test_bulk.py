"""storage.bulk.add_articles: the same archive as a loop of add_article, new and known articles mixed."""
from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine, search
from storage.bulk import add_articles

SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))


def stream() -> list[tuple[Article, str | None]]:
    """New articles, then a repeat of an earlier text, a new text at a known URL (a new version),
    a near-copy (a near-duplicate cluster) and a repeat of a text given earlier in the same stream."""
    items: list[tuple[Article, str | None]] = []
    for i, seed in enumerate(SEEDS):
        body = seed["text"]
        items.append((Article(url=f"https://seed.example/{i}", title=seed["title"], text=body,
                              content_hash=content_hash(body), published="2024-03-0%d" % (i % 9 + 1),
                              section="سياسة", lang="ar"), f"src{i % 3}"))
    first, second = items[0][0], items[1][0]
    again = Article(url="https://mirror.example/0", title=first.title, text=first.text, content_hash=first.content_hash)
    changed = second.text + " وأضاف المتحدث أن الاجتماع سيعقد غدا."
    version = Article(url=second.url, title=second.title, text=changed, content_hash=content_hash(changed))
    near = first.text.replace(".", "،", 1)
    copy = Article(url="https://copy.example/0", title=first.title, text=near, content_hash=content_hash(near))
    return [*items[:3], (again, "src9"), *items[3:], (version, "src1"), (copy, None), (again, "src9")]


TABLES = {
    "articles": "SELECT id, content_hash, url, title, text, published, published_utc, section, lang, source_id, "
                "times_seen, cluster_id, round(cluster_similarity, 6) FROM articles ORDER BY id",
    "versions": "SELECT article_id, version, content_hash, title, text FROM article_versions ORDER BY article_id, version",
    "urls": "SELECT url, article_id FROM article_urls ORDER BY url",
    "sources": "SELECT id, name FROM sources ORDER BY id",
    "bands": "SELECT band, hash, article_id FROM neardup_bands ORDER BY band, hash, article_id",
    "signatures": "SELECT article_id, signature FROM neardup_signatures ORDER BY article_id",
}


def archive(session: Session) -> dict[str, list[tuple]]:
    return {name: [tuple(r) for r in session.execute(text(sql))] for name, sql in TABLES.items()}


def test_add_articles_writes_what_a_loop_of_add_article_writes(tmp_path):
    one, many = (open_engine(f"sqlite:///{tmp_path / name}") for name in ("one.db", "many.db"))
    items = stream()
    with Session(one) as s:
        looped = [add_article(s, a, source=src, seen_at=None) for a, src in items]
        s.commit()
        expected = archive(s)
    with Session(many) as s:
        bulk = list(add_articles(s, items, chunk=4))
        s.commit()
        got = archive(s)
        hits = {q: [h.id for h in search(s, q, limit=50)] for q in ("الحكومة", '"وزير الخارجية"', "title:قمح")}
    with Session(one) as s:
        assert hits == {q: [h.id for h in search(s, q, limit=50)] for q in hits}
    assert [(r.status, r.article_id, r.version) for r in bulk] == [(r.status, r.article_id, r.version) for r in looped]
    assert got == expected
    assert {r.status for r in bulk} == {"stored", "duplicate"} and max(r.version for r in bulk) == 2
    assert len({row[11] for row in got["articles"]}) < len(got["articles"])  # the near-copy joined a cluster
    one.dispose()
    many.dispose()


@pytest.mark.e2e
def test_add_articles_analysing_in_a_process_pool_writes_the_same_archive(tmp_path):
    one, pooled = (open_engine(f"sqlite:///{tmp_path / name}") for name in ("one.db", "pool.db"))
    items = stream()
    with Session(one) as s:
        list(add_articles(s, items, chunk=5))
        s.commit()
        expected = archive(s)
    with Session(pooled) as s, ProcessPoolExecutor(2) as pool:
        list(add_articles(s, items, chunk=5, map=partial(pool.map, chunksize=3)))
        s.commit()
        assert archive(s) == expected
    one.dispose()
    pooled.dispose()
