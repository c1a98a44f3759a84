"""Versions of an article: new text at a known URL is a new version, the same text a sighting;
migration 0007 turns every article of an archive made before it into its version 1."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.extract import EXTRACTOR_VERSION
from storage.textzip import unpack
from storage import add_article, get_article, open_engine, search
from storage.archive import current_version
from storage.db import current_revision, head_revision, make_engine
from storage.models import ArticleRecord, ArticleVersion

FIXTURES = Path(__file__).parent / "fixtures" / "storage"
SEEDS = json.loads((FIXTURES / "seed_articles.json").read_text("utf-8"))
T0 = datetime(2024, 5, 20, 12, 0)
URL = "https://news.example/2024/05/20/story"


def article(body: str, url: str = URL, *, title: str | None = "عنوان", canonical: str | None = None) -> Article:
    return Article(url=url, title=title, text=body, content_hash=content_hash(body), lang="ar", canonical_url=canonical)


@pytest.fixture
def engine(tmp_path):
    eng = open_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    yield eng
    eng.dispose()


def versions(s: Session, article_id: int) -> list[ArticleVersion]:
    return list(s.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                          .order_by(ArticleVersion.version)))


def test_changed_text_at_the_same_url_is_a_second_version_of_one_article(engine):
    first, second = SEEDS[0]["text"], SEEDS[0]["text"] + "\nفقرة أضيفت بعد النشر."
    with Session(engine) as s:
        a = add_article(s, article(first), seen_at=T0)
        b = add_article(s, article(second, title="عنوان محدث"), seen_at=T0 + timedelta(hours=6))
        s.commit()
        assert (a.status, a.version) == ("stored", 1)
        assert (b.status, b.article_id, b.version) == ("stored", a.article_id, 2)
        assert s.scalar(select(func.count()).select_from(ArticleRecord)) == 1
        record = get_article(s, a.article_id)
        assert record.text == second and record.title == "عنوان محدث" and record.content_hash == content_hash(second)
        v1, v2 = versions(s, a.article_id)
        # The first text is kept as published; the current one lives on the article row.
        assert (v1.version, v1.text, v1.title, v1.content_hash) == (1, first, "عنوان", content_hash(first))
        assert (v2.version, v2.text, v2.content_hash) == (2, None, content_hash(second))
        assert v2.fetched_at == T0 + timedelta(hours=6) and v2.extractor_version == EXTRACTOR_VERSION


def test_the_canonical_url_links_a_new_text_reached_by_another_path(engine):
    with Session(engine) as s:
        a = add_article(s, article(SEEDS[0]["text"], canonical=URL))
        b = add_article(s, article(SEEDS[1]["text"], url="https://news.example/amp/story?id=7", canonical=URL))
        s.commit()
        assert (b.article_id, b.version) == (a.article_id, 2)


def test_the_same_text_again_is_a_sighting_not_a_version(engine):
    body = SEEDS[0]["text"]
    with Session(engine) as s:
        a = add_article(s, article(body), seen_at=T0)
        again = add_article(s, article(body), seen_at=T0 + timedelta(days=1))
        elsewhere = add_article(s, article(body, url="https://other.example/copy"), seen_at=T0 + timedelta(days=2))
        s.commit()
        assert [r.status for r in (again, elsewhere)] == ["duplicate", "duplicate"]
        assert {r.article_id for r in (a, again, elsewhere)} == {a.article_id}
        assert len(versions(s, a.article_id)) == 1
        assert get_article(s, a.article_id).times_seen == 3


def test_an_earlier_text_seen_again_is_a_sighting_of_its_article(engine):
    first, second = SEEDS[0]["text"], SEEDS[1]["text"]
    with Session(engine) as s:
        a = add_article(s, article(first))
        add_article(s, article(second))
        back = add_article(s, article(first, url="https://mirror.example/x"))
        s.commit()
        assert (back.status, back.article_id, back.version) == ("duplicate", a.article_id, 2)
        assert len(versions(s, a.article_id)) == 2


def test_search_finds_the_current_version_only(engine):
    with Session(engine) as s:
        add_article(s, article(SEEDS[0]["text"] + "\nكلمةقديمةفريدة"))
        add_article(s, article(SEEDS[0]["text"] + "\nكلمةجديدةفريدة"))
        s.commit()
        assert len(search(s, "كلمةجديدةفريدة")) == 1
        assert search(s, "كلمةقديمةفريدة") == []


def test_migration_0007_makes_every_article_of_an_old_archive_its_version_1(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "archive_main_0005.db", path)
    raw = make_engine(f"sqlite:///{path}")
    with raw.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0005"
        before = c.execute(text("SELECT id, content_hash, title, text, first_seen FROM articles ORDER BY id")).all()
        stored_docs = dict(c.execute(text("SELECT article_id, min(id) FROM documents WHERE outcome = 'stored' "
                                          "GROUP BY article_id")).all())
    raw.dispose()
    assert len(before) == 5

    engine = open_engine(f"sqlite:///{path}")
    try:
        assert current_revision(engine) == head_revision()
        with Session(engine) as s:
            after = s.execute(text("SELECT id, content_hash, title, text, first_seen FROM articles ORDER BY id")).all()
            assert [(*r[:3], unpack(r.text), r.first_seen) for r in after] == before  # texts zlib-compressed since 0015
            rows = s.execute(select(ArticleVersion).order_by(ArticleVersion.article_id)).scalars().all()
            assert [(v.article_id, v.version, v.content_hash) for v in rows] == [(r.id, 1, r.content_hash) for r in before]
            assert all(v.document_id == stored_docs[v.article_id] for v in rows)
            assert all(current_version(s, r.id) == 1 for r in before)
            # The migrated archive takes new versions like a new one.
            first = get_article(s, before[2].id)
            result = add_article(s, article(first.text + "\nتحديث.", url=first.url))
            s.commit()
            assert (result.article_id, result.version) == (first.id, 2)
            assert versions(s, first.id)[0].text == before[2].text
    finally:
        engine.dispose()


def test_show_gives_the_versions_with_a_word_diff_and_the_copies(tmp_path):
    from click.testing import CliRunner

    from crawler.cli import main

    path = tmp_path / "archive.db"
    engine = open_engine(f"sqlite:///{path}")
    body = SEEDS[0]["text"]
    with Session(engine) as s:
        a = add_article(s, article(body), source="first-outlet")
        add_article(s, article(body.replace("\n", "\nعاجل ", 1)), source="first-outlet")
        copy = add_article(s, article(body + "\nالمصدر: وكالة", url="https://other.example/wire"), source="second-outlet")
        s.commit()
    engine.dispose()
    runner = CliRunner()
    out = runner.invoke(main, ["show", str(a.article_id), "--db", str(path), "--versions", "--copies"])
    assert out.exit_code == 0, out.output
    assert "version 1:" in out.output and "version 2 (current)" in out.output and "{+عاجل+}" in out.output
    assert f"[{copy.article_id}] second-outlet" in out.output
    data = json.loads(runner.invoke(main, ["show", str(a.article_id), "--db", str(path), "--json"]).output)
    assert [(v["version"], v["current"], v["text"]) for v in data["versions"]] == [
        (1, False, body), (2, True, body.replace("\n", "\nعاجل ", 1))]
    assert data["cluster"]["id"] == a.article_id and data["cluster"]["size"] == 2
    assert [(c["id"], c["source"]) for c in data["copies"]] == [(copy.article_id, "second-outlet")]
