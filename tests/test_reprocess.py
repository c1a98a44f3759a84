"""akhbar reprocess: today's extractor over stored raw documents, an extraction revision kept
apart from a publisher's version."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.core.extract import EXTRACTOR_VERSION, extract
from crawler.ingest import RawDocument, ingest
from crawler.reprocess import due_versions, reprocess
from storage import get_article, open_engine
from storage.models import ArticleRecord, ArticleVersion

PAGES = Path(__file__).parent / "fixtures" / "pages"
NAMES = ("magichtml_youm7_6573469", "newspaper4k_cnnarabic_syria_clashes", "htmldate_albayan_ae_1623715966")
T0 = datetime(2024, 5, 20, 12, 0)


def page(name: str) -> bytes:
    return gzip.decompress((PAGES / f"{name}.html.gz").read_bytes())


def words_in_body(text: str, html: bytes) -> bytes:
    """Three words of the article's text as they stand in the page's body (to edit the page)."""
    body = html[html.find(b"<body"):]
    for line in text.split("\n"):
        words = line.split()
        for i in range(len(words) - 2):
            found = " ".join(words[i:i + 3]).encode()
            if found in body:
                return found
    raise AssertionError("no three words of the text stand together in the page")


def later_extractor(data, url=None, headers=None, **kw):
    """A 'newer extractor' for the test: today's output without its last paragraph."""
    article = extract(data, url, headers, **kw)
    paragraphs = article.text.split("\n")
    article.text = "\n".join(paragraphs[:-1])
    from crawler.core.arabic import content_hash

    article.content_hash = content_hash(article.text)
    return article


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "archive.db"
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        for i, name in enumerate(NAMES):
            result = ingest(s, RawDocument(data=page(name), url=f"https://news.example/{name}", source="outlet",
                                           headers={"Content-Type": "text/html"}, fetched_at=T0 + timedelta(days=i)))
            assert result.outcome == "stored", result.reason
        s.commit()
    yield engine, path
    engine.dispose()


def snapshot(s: Session) -> list[tuple]:
    articles = s.execute(select(ArticleRecord.id, ArticleRecord.title, ArticleRecord.text, ArticleRecord.content_hash)
                         .order_by(ArticleRecord.id)).all()
    versions = s.execute(select(ArticleVersion.id, ArticleVersion.version, ArticleVersion.text,
                                ArticleVersion.content_hash, ArticleVersion.extractor_version,
                                ArticleVersion.reextractions).order_by(ArticleVersion.id)).all()
    return [*articles, *versions]


def test_every_article_records_the_extractor_that_made_it(db):
    engine, _ = db
    with Session(engine) as s:
        assert set(s.scalars(select(ArticleVersion.extractor_version))) == {EXTRACTOR_VERSION}
        assert due_versions(s) == []
        assert reprocess(s).examined == 0


def test_a_changed_extractor_updates_the_text_in_place_and_adds_no_version(db):
    engine, _ = db
    with Session(engine) as s:
        before = {a.id: a.text for a in s.scalars(select(ArticleRecord))}
        report = reprocess(s, extractor=later_extractor, extractor_version="test-2")
        assert (report.examined, report.changed, report.errors) == (3, 3, 0)
        assert report.words_removed > 0 and report.words_added == 0
        assert s.scalar(select(func.count()).select_from(ArticleVersion)) == 3  # no publisher's version
        for article_id, text in before.items():
            record = get_article(s, article_id)
            assert record.text == "\n".join(text.split("\n")[:-1])
            (version,) = s.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id))
            assert (version.version, version.extractor_version, version.reextractions) == (1, "test-2", 1)
            assert version.text is None and version.content_hash == record.content_hash
        assert due_versions(s, extractor_version="test-2") == []
        assert reprocess(s, extractor=later_extractor, extractor_version="test-2").examined == 0


def test_reprocess_of_a_superseded_version_rewrites_that_version_only(db):
    engine, _ = db
    with Session(engine) as s:
        first = s.scalars(select(ArticleRecord).order_by(ArticleRecord.id)).first()
        article_id, url = first.id, f"https://news.example/{NAMES[0]}"
        edited = words_in_body(first.text, page(NAMES[0]))
        changed = page(NAMES[0]).replace(edited, edited + " (تحديث)".encode())
        result = ingest(s, RawDocument(data=changed, url=url, source="outlet", headers={"Content-Type": "text/html"},
                                       fetched_at=T0 + timedelta(days=5)))
        s.commit()
        assert (result.outcome, result.article_id) == ("stored", article_id)
        v1, v2 = s.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                           .order_by(ArticleVersion.version)).all()
        old_v1 = v1.text
        report = reprocess(s, extractor=later_extractor, extractor_version="test-2")
        assert report.changed == 4
        s.expire_all()
        assert v1.text == "\n".join(old_v1.split("\n")[:-1]) and v1.reextractions == 1
        assert v2.text is None and v2.reextractions == 1
        assert s.scalar(select(func.count()).select_from(ArticleVersion).where(ArticleVersion.article_id == article_id)) == 2


def test_dry_run_changes_nothing_and_shows_a_word_diff(db):
    engine, _ = db
    with Session(engine) as s:
        before = snapshot(s)
        report = reprocess(s, dry_run=True, extractor=later_extractor, extractor_version="test-2")
        assert report.changed == 3 and report.samples and "[-" in report.samples[0]["diff"]
        s.expire_all()
        assert snapshot(s) == before


def test_the_command_runs_over_an_archive_and_is_resumable(db):
    engine, path = db
    runner = CliRunner()
    out = runner.invoke(main, ["reprocess", "--db", str(path), "--json", "--source", "outlet"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["examined"] == 0  # all made by today's extractor already
    with Session(engine) as s:  # mark two as made by an older extractor, as after an upgrade
        s.execute(ArticleVersion.__table__.update().where(ArticleVersion.id <= 2).values(extractor_version="old"))
        s.commit()
    dry = runner.invoke(main, ["reprocess", "--db", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "examined 2, would change 0" in dry.output
    out = runner.invoke(main, ["reprocess", "--db", str(path), "--json", "--since", "2024-05-21"])
    assert json.loads(out.output)["examined"] == 1  # fetched on the 21st; the 20th is before --since
    out = runner.invoke(main, ["reprocess", "--db", str(path), "--json"])
    assert json.loads(out.output)["examined"] == 1
    assert runner.invoke(main, ["reprocess", "--db", str(path), "--source", "nowhere", "--json"]).exit_code == 0
