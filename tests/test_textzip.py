"""Article texts zlib-compressed on SQLite (storage.textzip, migration 0015): every text reads back
exactly as published, raw SQL sees a zlib blob, plain rows of older archives read the same, and
search, snippets, export, show, versions and the web API answer the same from a compressed
archive as from a plain one; the migration keeps every article and does not re-index."""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.web.app import create_app
from storage import add_article, open_engine, search
from storage.archive import get_article
from storage.collapse import search_stories
from storage.db import alembic_config, current_revision, head_revision, one_at_a_time
from storage.models import ArticleRecord, ArticleVersion
from storage.search import export_rows
from storage.shapes import article_json, versions_json
from storage.textzip import MIN_BYTES, pack, unpack

SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))
QUERIES = ["الأسد", "سوريا OR لبنان", "القمح", "title:الأسد", '"وزير الخارجية"', "الأسد -لبنان", "قال*"]

TEXTS = {
    "diacritics": "إِنَّ الحُكومةَ قَرَّرَتْ رَفْعَ الأَسْعارِ، وَقالَ الوَزيرُ: «لا تَراجُعَ» ـــ ٢٠٢٤م " * 3,
    "bidi": "\u200fقال \u202bالمتحدث\u202c إن \u2066Apple Inc.\u2069 و\u200eIBM\u200e ستفتحان مكاتب\u061c في دبي. " * 4,
    "emoji": "🇱🇧 بيروت 🔥 حريق كبير 👨‍👩‍👧 عائلة نجت 🙏🏽 — شهود عيان\r\n\tفقرة ثانية\u0000بعد صفر " * 3,
    "empty": "",
    "short": "خبر",
    "huge": "\n".join(f"الفقرة {i}: " + "نص طويل جداً عن الاقتصاد والسياسة في المنطقة العربية " * 40 for i in range(600)),
    "random": "".join(chr(c) for c in range(0x600, 0x6FF)) + "".join(chr(c) for c in range(0x1F300, 0x1F3FF)),
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_pack_then_unpack_gives_the_text_back(name):
    body = TEXTS[name]
    stored = pack(body)
    assert unpack(stored) == body and type(unpack(stored)) is str
    if len(body.encode()) < MIN_BYTES:
        assert stored == body  # too short to gain: plain
    else:
        assert isinstance(stored, bytes) and len(stored) < len(body.encode())
        assert zlib.decompress(stored).decode("utf-8") == body  # the zlib format, nothing of ours around it


def test_unpack_passes_text_and_none_through():
    assert unpack("نص قديم") == "نص قديم" and unpack(None) is None
    assert unpack(memoryview(zlib.compress("نص".encode()))) == "نص"


def _store(s: Session, key: str, body: str, *, title: str | None = "عنوان") -> int:
    return add_article(s, Article(url=f"https://t.example/{key}", title=title, text=body,
                                  content_hash=content_hash(f"{key}|{body}"))).article_id


def test_every_text_round_trips_through_the_archive_and_is_a_zlib_blob_in_sql(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with Session(engine) as s:
        ids = {name: _store(s, name, body) for name, body in TEXTS.items()}
        s.commit()
    with Session(engine) as s:
        for name, body in TEXTS.items():
            assert s.get(ArticleRecord, ids[name]).text == body
            raw = s.execute(text("SELECT text FROM articles WHERE id = :i"), {"i": ids[name]}).scalar_one()
            if len(body.encode()) >= MIN_BYTES:
                assert isinstance(raw, bytes) and zlib.decompress(raw).decode("utf-8") == body
            else:
                assert raw == body
    engine.dispose()


def test_a_superseded_version_keeps_its_text_compressed_and_exact(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    first, second = TEXTS["diacritics"], TEXTS["bidi"]
    with Session(engine) as s:
        a = add_article(s, Article(url="https://t.example/v", title="أ", text=first, content_hash=content_hash(first)))
        b = add_article(s, Article(url="https://t.example/v", title="ب", text=second, content_hash=content_hash(second)))
        s.commit()
        assert a.article_id == b.article_id and b.version == 2
        raw = s.execute(text("SELECT text FROM article_versions WHERE version = 1")).scalar_one()
        assert zlib.decompress(raw).decode("utf-8") == first
        assert [v["text"] for v in versions_json(s, get_article(s, a.article_id))] == [first, second]
        assert s.scalars(select(ArticleVersion.text).order_by(ArticleVersion.version)).all() == [first, None]
    engine.dispose()


def test_a_plain_row_of_an_older_archive_reads_and_is_found(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    body = "نص قديم مخزن كنص عادي عن القمح والحكومة في الأرشيف منذ زمن بعيد قبل الضغط"
    with Session(engine) as s:
        new = _store(s, "new", body + " جديد")
        s.commit()
        s.execute(text("UPDATE articles SET text = :t WHERE id = :i"), {"t": body, "i": new})  # as old code wrote it
        s.commit()
        assert s.execute(text("SELECT typeof(text) FROM articles WHERE id = :i"), {"i": new}).scalar_one() == "text"
        s.expire_all()
        assert s.get(ArticleRecord, new).text == body
        hits = search(s, "القمح")
        assert [h.id for h in hits] == [new] and "القمح" in hits[0].snippet
        assert [r["text"] for r in export_rows(s, "القمح")] == [body]
    engine.dispose()


# --- the same answers, compressed or plain -------------------------------------------------------

def _fill(s: Session) -> list[int]:
    ids = []
    for i, seed in enumerate(SEEDS):
        ids.append(add_article(s, Article(url=f"https://seed.example/{i}", title=seed["title"], text=seed["text"],
                                          content_hash=content_hash(seed["text"]), published=f"2024-0{i % 4 + 1}-1{i % 10}"),
                               source=f"seed{i % 3}").article_id)
    edited = SEEDS[0]["text"] + "\nفقرة أضيفت لاحقاً عن القمح."
    add_article(s, Article(url="https://seed.example/0", title=SEEDS[0]["title"], text=edited,
                           content_hash=content_hash(edited)), source="seed0")  # a second version
    return ids


def _answers(engine: Engine, path: Path) -> dict[str, object]:
    """What every reader of the texts gives."""
    with Session(engine) as s:
        out: dict[str, object] = {
            "search": [[(h.id, h.title, h.snippet, round(h.score, 9)) for h in search(s, q, limit=50)] for q in QUERIES],
            "stories": [[(h.id, h.snippet) for h in search_stories(s, q, limit=50)] for q in QUERIES],
            "export": [list(export_rows(s, q)) for q in ("", "الأسد")],
            "show": [article_json(s, r) for r in s.scalars(select(ArticleRecord).order_by(ArticleRecord.id))],
        }
    app = create_app(str(path))
    with TestClient(app) as client:
        out["api"] = [client.get("/api/search", params={"q": q}).json() for q in QUERIES]
        out["api_article"] = client.get("/api/articles/1").json()
    app.state.engine.dispose()
    return out


def _migrate(engine: Engine, revision: str, *, down: bool) -> None:
    from alembic import command

    with one_at_a_time(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _kinds(s: Session) -> list[tuple[str, str]]:
    return s.execute(text("SELECT 'a', typeof(text) FROM articles UNION ALL "
                          "SELECT 'v', typeof(text) FROM article_versions WHERE text IS NOT NULL")).all()


def _index(s: Session) -> tuple[list[tuple], list[str]]:
    """The index's stored segments byte for byte, and the triggers' SQL."""
    return (s.execute(text("SELECT * FROM articles_fts_data ORDER BY id")).all(),
            s.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).scalars().all())


def test_compressed_and_plain_archives_answer_alike_and_0015_does_not_reindex(tmp_path):
    path = tmp_path / "a.db"
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        _fill(s)
        s.commit()
        assert {k for _, k in _kinds(s)} == {"blob"}
    compressed = _answers(engine, path)
    assert sum(1 for hits in compressed["search"] if hits) >= 4 and compressed["export"][0][0]["text"] == SEEDS[0]["text"] + "\nفقرة أضيفت لاحقاً عن القمح."

    _migrate(engine, "0014_sqlsize", down=True)  # the archive as main's code before 0015 kept it
    with Session(engine) as s:
        assert {k for _, k in _kinds(s)} == {"text"}
        plain_index = _index(s)
        rows = s.execute(text("SELECT id, content_hash, title, text FROM articles ORDER BY id")).all()
        # plain rows read at the head revision (the web app opens only an archive at head)
        s.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})
        s.commit()
    assert _answers(engine, path) == compressed
    with Session(engine) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0014_sqlsize'"))
        s.commit()

    _migrate(engine, "head", down=False)
    assert current_revision(engine) == head_revision()
    with Session(engine) as s:
        kinds = _kinds(s)
        assert len(kinds) == len(SEEDS) + 1 and {k for _, k in kinds} == {"blob"}
        assert _index(s) == plain_index  # the index untouched, its triggers as they were
        now = s.execute(text("SELECT id, content_hash, title, text FROM articles ORDER BY id")).all()
        assert [(*r[:3], unpack(r.text)) for r in now] == [tuple(r) for r in rows]
    assert _answers(engine, path) == compressed
    with Session(engine) as s:  # the triggers still follow an edit
        s.execute(text("DELETE FROM articles WHERE id = 2"))
        s.commit()
        assert 2 not in {h.id for q in QUERIES for h in search(s, q, limit=50)}
    engine.dispose()
