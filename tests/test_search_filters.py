"""Filters, sorting and paging of search; counts per period/source/section; streaming export; the CLI;
on SQLite and on PostgreSQL alike."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.cli.query import count_table, write_export
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.errors import QueryError
from storage import add_article, open_engine
from storage.search import EXPORT_FIELDS, Filters, count, export_rows, search
from storage.shapes import hit_json

# (source, published, section, author, lang, title, text); every text holds the word «الميناء».
ROWS = [
    ("alpha", "2024-01-03", "اقتصاد", "سارة علي", "ar", "الميناء يستقبل السفن", "وصلت إلى الميناء ثلاث سفن محملة بالقمح."),
    ("alpha", "2024-01-04T23:30:00+03:00", "اقتصاد", "أحمد حسن", "ar", "أسعار", "ارتفعت حركة الميناء في الأسبوع الأول.\nوقال مسؤول: \"الحركة جيدة\"، ثم غادر."),
    ("beta", "2024-01-10", "سياسة", "سارة علي", "ar", "زيارة", "زار الوزير الميناء صباح الأربعاء."),
    ("beta", "2024-02-01", "سياسة", None, "ar", "قرار", "قررت الحكومة توسعة الميناء الجنوبي."),
    ("gamma", "2024-02-15", None, "Jane Roe", "en", "Port", "الميناء port news in English with an Arabic word."),
    ("gamma", None, "اقتصاد", None, "ar", "بلا تاريخ", "خبر بلا تاريخ عن الميناء."),
]


@pytest.fixture(scope="module")
def archive(module_db_url):
    engine = open_engine(module_db_url)
    ids = []
    with Session(engine) as s:
        for i, (source, published, section, author, lang, title, body) in enumerate(ROWS):
            article = Article(url=f"https://{source}.example/{i}", title=title, text=body, content_hash=content_hash(body),
                              published=published, section=section, author=author, lang=lang, tags=["t1", "t2"])
            ids.append(add_article(s, article, source=source).article_id)
        s.commit()
    yield engine, ids, module_db_url
    engine.dispose()


def found(engine, query="الميناء", **kwargs):
    with Session(engine) as s:
        return [h.id for h in search(s, query, **kwargs)]


def test_each_filter(archive):
    engine, ids, _ = archive
    assert found(engine, filters=Filters(sources=("beta",))) and set(found(engine, filters=Filters(sources=("beta",)))) == {ids[2], ids[3]}
    assert set(found(engine, filters=Filters(sources=("alpha", "gamma")))) == {ids[0], ids[1], ids[4], ids[5]}
    assert set(found(engine, filters=Filters(since=date(2024, 1, 10)))) == {ids[2], ids[3], ids[4]}
    # until is a whole day; 23:30+03:00 on the 4th is 20:30 UTC that day
    assert set(found(engine, filters=Filters(until=date(2024, 1, 4)))) == {ids[0], ids[1]}
    assert set(found(engine, filters=Filters(since=date(2024, 1, 4), until=date(2024, 1, 10)))) == {ids[1], ids[2]}
    assert set(found(engine, filters=Filters(lang="EN"))) == {ids[4]}
    assert set(found(engine, filters=Filters(section="سياسة"))) == {ids[2], ids[3]}
    assert set(found(engine, filters=Filters(author="سارة"))) == {ids[0], ids[2]}
    assert found(engine, filters=Filters(author="%")) == []  # LIKE wildcards are plain text
    assert set(found(engine, filters=Filters(sources=("beta",), author="سارة"))) == {ids[2]}


def test_sort_and_paging(archive):
    engine, ids, _ = archive
    newest = found(engine, sort="newest", limit=10)
    assert newest == [ids[4], ids[3], ids[2], ids[1], ids[0], ids[5]]  # undated last
    assert found(engine, sort="oldest", limit=10) == [ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]]
    pages = [found(engine, sort="newest", limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert sum(pages, []) == newest and pages[-1] == []
    relevance = found(engine, limit=10)
    assert sorted(relevance) == sorted(ids)
    assert sum((found(engine, limit=4, offset=o) for o in (0, 4)), []) == relevance


def test_an_empty_query_with_filters_lists_articles_newest_first(archive):
    engine, ids, _ = archive
    assert found(engine, "", filters=Filters(sources=("beta",))) == [ids[3], ids[2]]
    assert found(engine, "") == []


def test_hits_carry_their_source(archive):
    engine, ids, _ = archive
    with Session(engine) as s:
        hit = search(s, "السفن")[0]
    assert hit_json(hit) == {"id": ids[0], "url": "https://alpha.example/0", "title": ROWS[0][5], "published": "2024-01-03",
                             "snippet": hit.snippet, "score": 1.0, "raw_score": hit.score, "source": "alpha",
                             "copies": 1, "outlets": 1}


def test_bad_filters_and_sorts_are_query_errors(archive):
    engine, _, _ = archive
    with Session(engine) as s:
        with pytest.raises(QueryError):
            search(s, "الميناء", sort="sideways")
        with pytest.raises(QueryError):
            count(s, "الميناء", by="year")
        with pytest.raises(QueryError):
            search(s, "الميناء", limit=5000)


def test_count_by_period_source_and_section(archive):
    engine, _, _ = archive
    with Session(engine) as s:
        assert count(s, "الميناء", by="month") == [("2024-01", 3), ("2024-02", 2), (None, 1)]
        assert count(s, "الميناء", by="day")[:2] == [("2024-01-03", 1), ("2024-01-04", 1)]
        assert count(s, "الميناء", by="week") == [("2024-W01", 2), ("2024-W02", 1), ("2024-W05", 1), ("2024-W07", 1), (None, 1)]
        assert count(s, "الميناء", by="source") == [("alpha", 2), ("beta", 2), ("gamma", 2)]
        assert count(s, "الميناء", by="section") == [("اقتصاد", 3), ("سياسة", 2), (None, 1)]
        assert count(s, "السفن OR الوزير", by="source") == [("alpha", 1), ("beta", 1)]
        assert count(s, "", by="source", filters=Filters(lang="ar")) == [("alpha", 2), ("beta", 2), ("gamma", 1)]
        assert count(s, "غائب", by="month") == []


def test_count_table_draws_bars_scaled_to_the_largest():
    table = count_table([("2024-01", 4), ("2024-02", 2), (None, 1)], bars=True, width=8)
    assert table.splitlines() == ["2024-01  4 ████████", "2024-02  2 ████", "-        1 ██", "total    7"]
    assert "█" not in count_table([("a", 1)], bars=False)


def test_export_streams_every_match_with_the_documented_fields(archive):
    engine, ids, _ = archive
    with Session(engine) as s:
        rows = export_rows(s, "الميناء", batch=2)
        first = next(rows)  # a generator: nothing is read before it is asked for
        rest = list(rows)
    assert tuple(first) == EXPORT_FIELDS
    assert [first["id"]] + [r["id"] for r in rest] == [ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]]
    assert first["tags"] == ["t1", "t2"] and first["source"] == "alpha" and first["text"] == ROWS[0][6]


def test_csv_export_round_trips_newlines_quotes_and_arabic_with_a_bom():
    rows = [{**dict.fromkeys(EXPORT_FIELDS, None), "id": 1, "tags": ["a", "b"], "text": ROWS[1][6], "title": 'x, "y"'}]
    out = io.StringIO()
    assert write_export(iter(rows), out, "csv", bom=True) == 1
    data = out.getvalue()
    assert data.startswith("\ufeffid,url,")
    back = list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"))))
    assert back[0]["text"] == ROWS[1][6] and back[0]["title"] == 'x, "y"' and back[0]["tags"] == "a; b"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_search_filters_paging_and_jsonl(archive):
    _, ids, url = archive
    out = cli("search", "الميناء", "--db", url, "--source", "alpha", "--source", "beta", "--sort", "oldest",
              "--limit", "2", "--page", "2", "--jsonl")
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [h["id"] for h in lines] == [ids[2], ids[3]] and lines[0]["source"] == "beta"
    out = cli("search", "الميناء", "--db", url, "--since", "2024-02-01", "--lang", "ar", "--json")
    assert [h["id"] for h in json.loads(out.stdout)] == [ids[3]]


def test_cli_bad_queries_are_one_line_errors(archive):
    _, _, url = archive
    for args in (["search", "(الميناء"], ["count", "NOT"], ["export", '"x'], ["search", "x", "--since", "yesterday"]):
        out = cli(*args, "--db", url)
        assert out.exit_code != 0
        assert len(out.output.strip().splitlines()) == 1 and "Traceback" not in out.output


def test_cli_count_and_export(archive, tmp_path):
    _, ids, url = archive
    out = cli("count", "الميناء", "--by", "source", "--json", "--db", url)
    assert json.loads(out.stdout) == [{"key": "alpha", "count": 2}, {"key": "beta", "count": 2}, {"key": "gamma", "count": 2}]
    table = cli("count", "الميناء", "--by", "month", "--db", url).stdout
    assert table.splitlines()[-1].split() == ["total", "6"]
    target = tmp_path / "out.csv"
    out = cli("export", "الميناء", "--section", "اقتصاد", "--format", "csv", "--bom", "--out", target, "--db", url)
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [ids[0], ids[1], ids[5]]
    out = cli("export", "--source", "gamma", "--db", url)
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == [ids[4], ids[5]]


def test_search_help_documents_the_query_syntax():
    out = cli("search", "--help").output
    for piece in ('"مجلس الأمن"', "OR", "NOT", "-سوريا", "انتخاب*", "title:", "(لبنان OR سوريا)"):
        assert piece in out, piece
