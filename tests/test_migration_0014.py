"""Migration 0014 rebuilds the SQLite index with the facets column, keeping every article of an
existing archive and every search answer; downgrading gives the four-column index back."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine, rebuild_index, search
from storage.db import alembic_config, current_revision, head_revision, make_engine, one_at_a_time, upgrade
from storage.search import Filters, compile_query, matching_sql
from storage.textzip import unpack

SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))
QUERIES = ["الأسد", "سوريا OR لبنان", "انتخاب*", "title:القمح", '"وزير الخارجية"']
FILTERED = Filters(sources=("seed1",), since=date(2024, 2, 1), until=date(2024, 3, 31))


def downgrade(engine, revision: str) -> None:
    from alembic import command

    with one_at_a_time(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def columns(s: Session) -> str:
    return s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")).scalar_one()


def vocabulary(s: Session) -> list[tuple]:
    s.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, articles_fts, 'col')"))
    return s.execute(text("SELECT term, col, doc, cnt FROM temp.fts_vocab ORDER BY term, col")).all()


def answers(s: Session) -> list[list[int]]:
    return [[h.id for h in search(s, q, limit=100)] for q in QUERIES]


def test_0014_keeps_every_article_and_every_answer(tmp_path):
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as s:
        for i, seed in enumerate(SEEDS):
            add_article(s, Article(url=f"https://seed.example/{i}", title=seed["title"], text=seed["text"],
                                   content_hash=content_hash(seed["text"]), published=f"2024-{i % 4 + 1:02d}-1{i % 10}"),
                        source=f"seed{i % 3}")
        s.commit()
    downgrade(engine, "0013_pgsearch")  # the archive as the code before the facets column left it
    with Session(engine) as s:
        assert "facets" not in columns(s)
        rows = s.execute(text("SELECT * FROM articles ORDER BY id")).all()
        before = answers(s)
        sql, params = matching_sql(compile_query("الأسد OR سوريا"), FILTERED, columns="a.id", sort="newest")
        filtered = s.execute(text(sql), params).scalars().all()  # by the row filters (no facets yet)
    engine.dispose()
    assert any(before) and filtered

    engine = open_engine(f"sqlite:///{path}")  # upgrades to the newest revision
    with Session(engine) as s:
        assert current_revision(engine) == head_revision() and "facets" in columns(s)
        # every row as it was (the head revision keeps the texts zlib-compressed: storage.textzip)
        now = [tuple(unpack(v) if k == "text" else v for k, v in r._mapping.items())
               for r in s.execute(text("SELECT * FROM articles ORDER BY id"))]
        assert now == [tuple(r) for r in rows] and len(rows) == len(SEEDS)
        assert answers(s) == before
        assert [h.id for h in search(s, "الأسد OR سوريا", filters=FILTERED, limit=100, sort="newest")] == filtered
        migrated = vocabulary(s)
        rebuild_index(s)
        s.commit()
        assert vocabulary(s) == migrated  # the migration indexed every article as a new one is indexed
        assert any(col == "facets" for _, col, _, _ in migrated)
    downgrade(engine, "0013_pgsearch")
    with Session(engine) as s:
        assert "facets" not in columns(s) and answers(s) == before
    engine.dispose()
