"""Migration 0012 drops two indexes that repeat others, keeping every article of an existing archive."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine, search
from storage.db import alembic_config, current_revision, head_revision, make_engine, one_at_a_time, upgrade
from storage.textzip import unpack

SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))
DROPPED = {"ix_neardup_bands_article_id", "ix_article_versions_article_id"}


def downgrade(engine, revision: str) -> None:
    from alembic import command

    with one_at_a_time(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def indexes(session: Session) -> set[str]:
    return set(session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())


def table_rows(session: Session) -> dict[str, list[tuple]]:
    # a text as it reads: the head revision keeps it zlib-compressed (storage.textzip)
    return {name: [tuple(unpack(v) if k == "text" else v for k, v in r._mapping.items())
                   for r in session.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2"))]
            for name in ("articles", "article_versions", "article_urls", "neardup_bands", "neardup_signatures")}


def test_0012_keeps_every_article_and_drops_the_repeated_indexes(tmp_path):
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as s:
        for i, seed in enumerate(SEEDS):
            add_article(s, Article(url=f"https://seed.example/{i}", title=seed["title"], text=seed["text"],
                                   content_hash=content_hash(seed["text"])), source="seed")
        s.commit()
    downgrade(engine, "0011_refetch")  # the archive as the code of 0011 left it (its index included)
    with Session(engine) as s:
        before, hits = table_rows(s), [h.id for h in search(s, "الأسد")]
        assert DROPPED <= indexes(s)
    engine.dispose()
    engine = open_engine(f"sqlite:///{path}")  # upgrades to the newest revision
    with Session(engine) as s:
        assert current_revision(engine) == head_revision()
        assert not DROPPED & indexes(s)
        assert table_rows(s) == before and len(before["articles"]) == len(SEEDS)
        assert [h.id for h in search(s, "الأسد")] == hits and hits
        plan = " ".join(str(r) for r in s.execute(text(
            "EXPLAIN QUERY PLAN SELECT version FROM article_versions WHERE article_id = 1")))
        assert "INDEX sqlite_autoindex_article_versions_1 (article_id=?)" in plan  # the unique (article_id, version)
    downgrade(engine, "0011_refetch")
    with Session(engine) as s:
        assert DROPPED <= indexes(s) and table_rows(s) == before
    engine.dispose()
