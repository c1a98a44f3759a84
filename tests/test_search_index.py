"""The contentless index: no second copy of the text, rows removed exactly on delete/update, and
migration 0004 rebuilding the index of an archive made by the code before it."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash, search_text
from crawler.core.article import Article
from storage import add_article, open_engine, rebuild_index, search
from storage.db import current_revision, make_engine, upgrade
from storage.models import ArticleRecord

SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))


def vocabulary(session: Session) -> list[tuple]:
    """Every (term, column, documents, occurrences) the index holds."""
    session.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, articles_fts, 'col')"))
    return session.execute(text("SELECT term, col, doc, cnt FROM temp.fts_vocab ORDER BY term, col")).all()


def fill(session: Session) -> list[int]:
    ids = []
    for i, seed in enumerate(SEEDS):
        article = Article(url=f"https://seed.example/{i}", title=seed["title"], text=seed["text"], content_hash=content_hash(seed["text"]))
        ids.append(add_article(session, article).article_id)
    return ids


def test_the_index_keeps_no_copy_of_the_text(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with Session(engine) as s:
        fill(s)
        s.commit()
        tables = set(s.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%'")).scalars())
        assert "articles_fts_content" not in tables
        assert "content=''" in s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")).scalar_one()
    engine.dispose()


def test_deleting_and_editing_articles_leaves_the_index_as_a_rebuild_would(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with Session(engine) as s:
        ids = fill(s)
        s.commit()
        s.execute(text("DELETE FROM articles WHERE id = :id"), {"id": ids[0]})
        edited = s.get(ArticleRecord, ids[1])  # through the model: the text is a zlib blob in SQL (storage.textzip)
        s.execute(update(ArticleRecord).where(ArticleRecord.id == ids[1]).values(
            title="عنوان جديد عن القمح", text=edited.text + " والقمح"))
        s.commit()
        after_triggers = vocabulary(s)
        rebuild_index(s)
        s.commit()
        assert vocabulary(s) == after_triggers  # the 'delete' commands removed exactly what was indexed
        assert [h.id for h in search(s, "title:قمح")] == [ids[1]]
        assert ids[0] not in [h.id for h in search(s, "الأسد")]
    engine.dispose()


OLD_FTS_ROW = "INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)"
OLD_ARTICLE = (
    "INSERT INTO articles (content_hash, url, title, text, tags, first_seen, last_seen, times_seen) "
    "VALUES (:h, :url, :title, :text, '[]', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 1)"
)


def make_old_archive(path: Path) -> None:
    """An archive at revision 0002 filled the way the code before 0004 did (index of search_text)."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "0002")
    with Session(engine) as s:
        for i, seed in enumerate(SEEDS):
            row_id = s.execute(text(OLD_ARTICLE + " RETURNING id"), {"h": content_hash(seed["text"]), "url": f"u{i}",
                                                                    "title": seed["title"], "text": seed["text"]}).scalar_one()
            s.execute(text(OLD_FTS_ROW), {"id": row_id, "title": search_text(seed["title"] or ""), "body": search_text(seed["text"])})
        s.commit()
        assert "content=" not in s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")).scalar_one()
    engine.dispose()


def test_migration_0004_rebuilds_an_old_archive_index(tmp_path):
    path = tmp_path / "old.db"
    make_old_archive(path)
    engine = open_engine(f"sqlite:///{path}")  # upgrades to the newest revision
    with Session(engine) as s:
        assert current_revision(engine) >= "0004"
        indexed = vocabulary(s)
        assert s.execute(text("SELECT count(*) FROM articles_fts_docsize")).scalar_one() == len(SEEDS)
        hits = search(s, "والأسد")
        assert len(hits) >= 2 and all(h.snippet for h in hits)
        rebuild_index(s)
        assert vocabulary(s) == indexed
    engine.dispose()


def test_migration_0004_downgrades_to_the_old_index(tmp_path):
    path = tmp_path / "old.db"
    make_old_archive(path)
    engine = open_engine(f"sqlite:///{path}")
    upgrade_down(engine)
    with Session(engine) as s:
        assert current_revision(engine) == "0002"
        rows = s.execute(text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"), {"q": '"' + search_text("الأسد") + '"'}).all()
        assert len(rows) >= 2
        s.execute(text("DELETE FROM articles"))  # the old trigger is back
        s.commit()
        assert s.execute(text("SELECT count(*) FROM articles_fts")).scalar_one() == 0
    engine.dispose()


def upgrade_down(engine) -> None:
    from alembic import command

    from storage.db import alembic_config, one_at_a_time

    with one_at_a_time(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
