"""`akhbar migrate-archive`: a SQLite archive copied into PostgreSQL keeps every row, resumes after
an interruption, and says so when the counts do not agree."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.refetch import RefetchPolicy
from storage import add_article, add_document, open_engine, search
from storage.archive import utcnow
from storage.refetch import record_fetch
from storage.runs import finish_run, start_run
from storage.scheduling import Outcome, claim_lease, ensure_states, record_outcome
from storage.transfer import copy_archive, tables
from storage.textzip import unpack
from storage.validators import save_validator

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

pytestmark = pytest.mark.e2e  # starts PostgreSQL and copies whole archives


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _fill(url: str) -> None:
    """An archive with every kind of row: replayed seeds (articles, URLs, raw documents), one more
    URL of an article, a document kept as a WARC pointer, runs, validators, source state and a URL's
    fetch state."""
    assert run("--db", url, "replay", SEEDS, "--json").exit_code == 0
    engine = open_engine(url)
    with Session(engine) as s:
        body = "نص خبر قصير عن الاقتصاد في بيروت.\nالفقرة الثانية من الخبر."
        art = Article(url="https://news.example/x", title="خبر الاقتصاد", text=body, content_hash=content_hash(body))
        add_article(s, art, source="example")
        add_article(s, art, url="https://news.example/x?amp=1", source="example")
        add_document(s, url="https://news.example/w", raw=b"<html>w</html>", warc_path="crawl/a.warc.gz",
                     warc_offset=1234, warc_length=567, headers={"Content-Type": "text/html"}, http_status=200)
        ok = start_run(s, "example", trigger="schedule", pid=42, host="box")
        finish_run(s, ok, "ok", pages_fetched=7, articles_new=1, errors={"timeout": 1})
        start_run(s, "other")
        save_validator(s, "https://news.example/feed.xml", etag='"v1"', last_modified="Mon, 13 May 2024 06:00:00 GMT")
        record_fetch(s, "https://news.example/x", source="example", event="article", at=utcnow(), policy=RefetchPolicy(),
                     announced=utcnow() - timedelta(hours=1), etag='"x1"')
        ensure_states(s, ["example", "other"])
        claim_lease(s, "other", "box:1", lease=timedelta(minutes=5))
        record_outcome(s, "example", ok, Outcome("ok", 1, None, timedelta(minutes=10), utcnow()), failed=False)
        s.commit()
    engine.dispose()


def _rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every copied table, by primary key."""
    out = {}
    with engine.connect() as connection:
        for table in tables():
            key = list(table.primary_key.columns)
            out[table.name] = [tuple(row) for row in connection.execute(select(table).order_by(*key))]
    return out


@pytest.fixture
def source_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    _fill(url)
    return url


def test_the_copy_from_sqlite_to_postgresql_keeps_every_row(source_url, pg_url):
    result = run("migrate-archive", "--from", source_url, "--to", pg_url, "--batch", "2", "--json")
    assert result.exit_code == 0, result.output
    counts = {c["table"]: c for c in json.loads(result.stdout)}
    assert counts["articles"]["source"] == 4 and counts["documents"]["source"] == 4
    assert all(c["source"] == c["target"] == c["copied"] for c in counts.values()), counts
    assert "copying" in result.stderr  # the progress bar
    source, target = open_engine(source_url), open_engine(pg_url)
    try:
        rows = _rows(source)
        assert all(rows.values()), {name: len(r) for name, r in rows.items()}  # every kind of row was there
        assert _rows(target) == rows
        with source.connect() as c, target.connect() as t:  # SQLite's zlib blobs arrive as plain text
            raw = c.execute(text("SELECT id, text FROM articles ORDER BY id")).all()
            plain = t.execute(text("SELECT id, text FROM articles ORDER BY id")).all()
        assert any(isinstance(v, bytes) for _, v in raw) and all(isinstance(v, str) for _, v in plain)
        assert plain == [(i, unpack(v)) for i, v in raw]
        with Session(source) as s, Session(target) as t:  # indexed for search at once
            assert t.execute(text("SELECT count(*) FROM article_search_keys")).scalar_one() == len(rows["articles"])
            economy = [h.id for h in search(s, "الاقتصاد")]
            assert sorted(h.id for h in search(t, "الاقتصاد")) == sorted(economy) != []
            body = "خبر جديد بعد النقل"  # new rows take new ids: the sequences moved past the copied ones
            new = add_article(t, Article(url="https://n.example/1", title=None, text=body, content_hash=content_hash(body)))
            t.commit()
            assert new.status == "stored" and new.article_id == max(r[0] for r in rows["articles"]) + 1
    finally:
        source.dispose()
        target.dispose()
    shown = run("show", "https://news.example/x?amp=1", "--db", pg_url, "--json")
    assert json.loads(shown.stdout)["title"] == "خبر الاقتصاد"


class Interrupted(Exception):
    pass


def test_an_interrupted_copy_is_finished_by_running_it_again(source_url, pg_url):
    source, target = open_engine(source_url), open_engine(pg_url)
    batches = []

    def stop_after_three(table: str, n: int) -> None:
        batches.append(table)
        if len(batches) == 3:
            raise Interrupted

    try:
        with pytest.raises(Interrupted):
            copy_archive(source, target, batch=1, progress=stop_after_three)
        assert 0 < sum(len(r) for r in _rows(target).values()) < sum(len(r) for r in _rows(source).values())
    finally:
        source.dispose()
        target.dispose()
    result = run("migrate-archive", "--from", source_url, "--to", pg_url, "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert sum(c["copied"] for c in counts) == sum(c["source"] for c in counts) - 3  # the 3 rows copied before
    again = run("migrate-archive", "--from", source_url, "--to", pg_url, "--json")
    assert again.exit_code == 0 and all(c["copied"] == 0 for c in json.loads(again.stdout))
    source, target = open_engine(source_url), open_engine(pg_url)
    try:
        assert _rows(target) == _rows(source)
    finally:
        source.dispose()
        target.dispose()


def test_a_target_holding_another_archive_ends_in_one_line_naming_the_tables(source_url, pg_url):
    engine = open_engine(pg_url)
    with Session(engine) as s:
        body = "خبر آخر في أرشيف آخر"
        add_article(s, Article(url="https://other.example/1", title=None, text=body, content_hash=content_hash(body)))
        s.commit()
    engine.dispose()
    result = run("migrate-archive", "--from", source_url, "--to", pg_url)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == ("akhbar: the target's articles row 1 is not the source's: the target holds another "
                         "archive (copy into a new database)")
    assert "Traceback" not in result.output


def test_copying_an_archive_onto_itself_or_from_nowhere_is_one_line(source_url, tmp_path):
    same = run("migrate-archive", "--from", source_url, "--to", source_url)
    assert same.exit_code != 0 and same.stderr.strip() == "akhbar: --from and --to name the same archive"
    missing = run("migrate-archive", "--from", tmp_path / "none.db", "--to", tmp_path / "copy.db")
    assert missing.exit_code != 0 and "no archive at" in missing.stderr and not (tmp_path / "copy.db").exists()
