"""The search index columns made in the extract step (a crawl's workers), so that the archive
writer only inserts them: the rows stored are the ones the writer would have computed itself."""
from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.capture.document import RawDocument
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.analyzer import article_columns
from crawler.extraction import Extraction, extract_document
from crawler.ingest import ingest
from storage import add_article, open_engine
from storage.search import index_rows

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = json.loads((FIXTURES / "storage" / "seed_articles.json").read_text("utf-8"))
FETCHED = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
SITE = "جريدة المساء"


def instances(session: Session) -> list[tuple]:
    """Every (term, article, column, position) the index holds."""
    session.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_inst USING fts5vocab(main, articles_fts, 'instance')"))
    return session.execute(text("SELECT term, doc, col, offset FROM temp.fts_inst ORDER BY doc, col, offset, term")).all()


def page(title: str, body: str) -> bytes:
    """A plain article page whose <title> and headline carry the outlet's name, as many do."""
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n") if line.strip())
    return (f"<html lang='ar' dir='rtl'><head><meta charset='utf-8'><title>{SITE} | {title}</title></head><body>"
            f"<article><h1>{SITE} | {title}</h1>{paragraphs}</article></body></html>").encode()


def documents() -> list[RawDocument]:
    docs = [RawDocument(data=page(seed["title"], seed["text"]), url=f"https://masaa.example/news/{n}",
                        headers={"Content-Type": "text/html; charset=utf-8"}, status=200, fetched_at=FETCHED,
                        source="masaa") for n, seed in enumerate(SEEDS)]
    for name in ("newspaper4k_cnnarabic_syria_clashes", "magichtml_youm7_6573469", "fundus_lbcgroup_2026_01_08"):
        data = gzip.decompress((FIXTURES / "pages" / f"{name}.html.gz").read_bytes())
        docs.append(RawDocument(data=data, url=f"https://pages.example/{name}", status=200, fetched_at=FETCHED,
                                source="pages"))
    return docs


def store(path: Path, extractions: list[Extraction]) -> list[tuple]:
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        for doc, extraction in zip(documents(), extractions):
            assert ingest(session, doc, extraction).outcome == "stored"
            session.commit()
        rows = instances(session)
    engine.dispose()
    return rows


def test_the_extract_step_gives_the_columns_the_archive_would_compute() -> None:
    for doc in documents():
        extraction = extract_document(doc, FETCHED)
        assert extraction.article is not None
        row = index_rows([(0, extraction.article.title, extraction.article.text)])[0]
        assert extraction.index == (row["title"], row["body"], row["title_stem"], row["body_stem"])
        assert extraction.index == article_columns(extraction.article.title, extraction.article.text)


def test_ingest_stores_the_same_index_rows_with_and_without_precomputed_columns(tmp_path: Path) -> None:
    made = [extract_document(doc, FETCHED) for doc in documents()]
    assert all(e.index is not None for e in made)
    with_columns = store(tmp_path / "given.db", made)
    without = store(tmp_path / "computed.db", [dataclasses.replace(e, index=None) for e in made])
    assert with_columns == without
    assert len({doc for _, doc, _, _ in with_columns}) == len(made)


def shortened(path: Path, keys_given: bool) -> tuple[str, list[tuple]]:
    """An archive where two titles of a source showed its name, then a third article comes in with
    the name in its title: the stored title (without it) and the index."""
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        for n, seed in enumerate(SEEDS[:2]):
            article = Article(url=None, title=f"{SITE} | {seed['title']}", text=seed["text"],
                              content_hash=content_hash(seed["text"]))
            add_article(session, article, url=f"https://masaa.example/{n}", source="masaa")
        body = SEEDS[2]["text"]
        article = Article(url=None, title=f"{SITE} | {SEEDS[2]['title']}", text=body, content_hash=content_hash(body))
        keys = article_columns(article.title, body) if keys_given else None
        doc = RawDocument(data=b"<html></html>", url="https://masaa.example/2", fetched_at=FETCHED, source="masaa")
        result = ingest(session, doc, Extraction("article", article=article, index=keys))
        session.commit()
        title = session.execute(text("SELECT title FROM articles WHERE id = :id"), {"id": result.article_id}).scalar_one()
        rows = instances(session)
    engine.dispose()
    return title, rows


def test_a_title_shortened_in_the_archive_is_indexed_as_stored(tmp_path: Path) -> None:
    """The outlet's name comes off a title once its recent titles show it (the extract step
    cannot know): the title's columns are then made again from the stored title."""
    title, given = shortened(tmp_path / "given.db", True)
    assert title == SEEDS[2]["title"]
    assert given == shortened(tmp_path / "computed.db", False)[1]


def test_given_columns_are_inserted_as_they_are(tmp_path: Path) -> None:
    """The writer does not analyse again what it is given."""
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    body = SEEDS[0]["text"]
    article = Article(url="https://x.example/1", title="عنوان", text=body, content_hash=content_hash(body))
    with Session(engine) as session:
        new = add_article(session, article, index=("given", "keys", "", "")).article_id
        assert {(term, col) for term, doc, col, _ in instances(session) if doc == new} == {
            ("given", "title"), ("keys", "body")}
    engine.dispose()
