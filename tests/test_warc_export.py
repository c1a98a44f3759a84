"""``akhbar export --format warc``: the raw captures of the chosen articles as WARC + a CDXJ index
(storage.warcexport, crawler.capture.cdxj), read back with warcio."""
from __future__ import annotations

import io
import json
import zlib
from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session
from surt import surt
from warcio.archiveiterator import ArchiveIterator
from warcio.indexer import Indexer

from crawler.capture.cdxj import sort_lines, surt_key, timestamp14
from crawler.capture.warc import WarcWriter
from crawler.cli import main
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine
from storage.archive import add_document, document_raw, set_document_outcome
from storage.warcexport import cdxj_path, export_headers, export_warc

PAGE = "<html><head><title>{t}</title></head><body><p>{t}</p></body></html>"


def page(text: str) -> bytes:
    return PAGE.format(t=text).encode("utf-8")


@pytest.fixture
def archive(tmp_path):
    """Articles with documents kept inline and in a WARC file, one whose WARC is gone."""
    path = tmp_path / "a.db"
    engine = open_engine(f"sqlite:///{path}")
    with WarcWriter(tmp_path / "warc") as writer:
        pointer = writer.write("https://alpha.example/news/1", 200, {"Content-Type": "text/html"},
                               page("الحكومة تعدل الخبر"))
    docs = {}
    with Session(engine) as s:
        def store(key, url, raw, text, source, fetched, **doc):
            doc_id, _ = add_document(s, url=url, raw=raw, source=source, fetched_at=fetched, **doc)
            article = Article(url=url, title=text[:20], text=text, content_hash=content_hash(text))
            result = add_article(s, article, source=source, document_id=doc_id, seen_at=fetched)
            set_document_outcome(s, doc_id, "stored", article_id=result.article_id)
            docs[key] = (doc_id, url, raw, result.article_id)

        store("x1", "https://alpha.example/news/1", page("الحكومة تقر الخبر"), "الحكومة تقر الخبر الأول", "alpha",
              datetime(2024, 1, 2, 9, 30), http_status=200, content_type="text/html",
              headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip",
                       "Content-Length": "9999", "X-Served-By": "cache-1"})
        store("x2", "https://alpha.example/news/1", page("الحكومة تعدل الخبر"), "الحكومة تعدل الخبر الأول بعد ساعة",
              "alpha", datetime(2024, 1, 2, 10, 30), http_status=200, content_type="text/html",
              headers={"Content-Type": "text/html"}, warc_path=pointer.path, warc_offset=pointer.offset,
              warc_length=pointer.length)
        store("y", "https://beta.example/%D8%AE%D8%A8%D8%B1?b=2&a=1", "نص الحكومة".encode("utf-8"),
              "نص عن الحكومة في ملف", "beta", datetime(2023, 5, 1), content_type="text/plain")
        store("z", "https://gamma.example/moon", page("القمر"), "صعد رواد إلى القمر", "gamma", datetime(2024, 2, 1),
              http_status=200, content_type="text/html")
        store("w", "https://delta.example/gone", page("الحكومة"), "الحكومة في ملف ضاع", "delta",
              datetime(2024, 3, 1), http_status=200, content_type="text/html",
              warc_path=str(tmp_path / "missing.warc.gz"), warc_offset=0, warc_length=100)
        s.commit()
    assert docs["x1"][3] == docs["x2"][3]  # two versions of one article
    yield path, engine, docs
    engine.dispose()


def responses(path):
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            yield record, record.raw_stream.read()


def test_the_export_holds_every_capture_of_the_matching_articles_as_stored(archive, tmp_path):
    path, engine, docs = archive
    out = tmp_path / "out" / "news.warc.gz"
    out.parent.mkdir()
    with Session(engine) as s:
        report = export_warc(s, "الحكومة", out)
        stored = {docs[k][1] + "|" + k: document_raw(s, docs[k][0]) for k in ("x1", "x2", "y")}
    assert (report.articles, report.records, report.unreadable) == (3, 3, 1)
    records = list(responses(out))
    assert records[0][0].rec_type == "warcinfo"
    got = [(r.rec_headers.get_header("WARC-Target-URI"), body) for r, body in records[1:]]
    assert all(r.rec_type == "response" for r, _ in records[1:])
    assert sorted(body for _, body in got) == sorted(stored.values())
    assert {url for url, _ in got} == {docs["x1"][1], docs["y"][1]}
    by_body = {body: r for r, body in records[1:]}
    first = by_body[docs["x1"][2]]
    assert first.http_headers.get_statuscode() == "200"
    assert first.http_headers.get_header("X-Served-By") == "cache-1"
    assert first.http_headers.get_header("Content-Encoding") is None
    assert first.http_headers.get_header("Content-Length") == str(len(docs["x1"][2]))
    assert first.rec_headers.get_header("WARC-Date").startswith("2024-01-02T09:30:00")
    plain = by_body[docs["y"][2]]  # no HTTP recorded: 200 and the document's type
    assert plain.http_headers.get_statuscode() == "200"
    assert plain.http_headers.get_header("Content-Type") == "text/plain"


def test_the_cdxj_lines_are_sorted_and_point_at_their_records(archive, tmp_path):
    path, engine, docs = archive
    out = tmp_path / "news.warc.gz"
    with Session(engine) as s:
        export_warc(s, "الحكومة", out)
    index = cdxj_path(out)
    assert index == tmp_path / "news.cdxj"
    lines = index.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and lines == sorted(lines, key=lambda x: x.encode())
    data = out.read_bytes()
    spans = []
    for line in lines:
        key, stamp, fields = line.split(" ", 2)
        fields = json.loads(fields)
        assert set(fields) == {"url", "mime", "status", "digest", "length", "offset", "filename"}
        assert fields["filename"] == "news.warc.gz" and key == surt(fields["url"])
        offset, length = int(fields["offset"]), int(fields["length"])
        chunk = data[offset : offset + length]
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        inflate.decompress(chunk)
        assert inflate.eof and not inflate.unused_data  # exactly one whole gzip member
        record = next(ArchiveIterator(io.BytesIO(chunk)))
        assert record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == fields["url"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == "sha1:" + fields["digest"]
        assert stamp == timestamp14(record.rec_headers.get_header("WARC-Date"))
        assert fields["status"] == record.http_headers.get_statuscode()
        spans.append((offset, length))
    # warcio's own indexer finds the same records at the same places
    found = io.StringIO()
    Indexer(["WARC-Type", "offset", "length"], [str(out)], found).process_all()
    theirs = {(int(r["offset"]), int(r["length"])) for r in map(json.loads, found.getvalue().splitlines())
              if r["WARC-Type"] == "response"}
    assert theirs == set(spans)
    keys = [line.split(" ", 1)[0] for line in lines]
    assert "example,beta)/%d8%ae%d8%a8%d8%b1?a=1&b=2" in keys  # SURT: host reversed, query sorted


def test_an_export_of_nothing_is_a_warcinfo_and_an_empty_index(archive, tmp_path):
    path, engine, _ = archive
    out = tmp_path / "none.warc.gz"
    with Session(engine) as s:
        report = export_warc(s, "كلمةغائبة", out)
    assert report.records == 0 and [r.rec_type for r, _ in responses(out)] == ["warcinfo"]
    assert cdxj_path(out).read_text() == ""


def test_sorting_in_runs_gives_the_same_order_as_sorting_at_once():
    lines = [f"com,example)/{n % 97:03d}{'ب' if n % 5 else ''} 2024 {{\"n\": {n}}}" for n in range(1000)]
    out = io.StringIO()
    assert sort_lines(iter(lines), out, run=7) == 1000
    assert out.getvalue().splitlines() == sorted(lines, key=lambda x: x.encode())


def test_headers_lose_the_wire_encoding_and_gain_a_type():
    assert export_headers({"content-encoding": "br", "content-length": "5", "etag": "x"}, "text/html", 12) == [
        ("etag", "x"), ("Content-Type", "text/html"), ("Content-Length", "12")]
    assert export_headers(None, None, 0) == [("Content-Length", "0")]
    assert surt_key("https://www.Example.com/A?b=1&a=2") == "com,example)/a?a=2&b=1"


def test_cli_export_warc(archive, tmp_path):
    path, _, _ = archive
    out = tmp_path / "cli.warc.gz"
    runner = CliRunner()
    result = runner.invoke(main, ["export", "الحكومة", "--format", "warc", "--out", str(out), "--db", str(path),
                                  "--source", "alpha"])
    assert result.exit_code == 0, result.output
    assert "exported 2 captures of 1 articles" in result.output
    assert len(cdxj_path(out).read_text().splitlines()) == 2
    bad = runner.invoke(main, ["export", "الحكومة", "--format", "warc", "--db", str(path)])
    assert bad.exit_code != 0 and bad.output.startswith("akhbar: --format warc needs --out")
    assert len(bad.output.strip().splitlines()) == 1


PYWB_CHECK = """
import sys
from pywb.apps.frontendapp import FrontEndApp
from werkzeug.test import Client
client = Client(FrontEndApp())
for url in sys.argv[1:]:
    r = client.get("/news/20240102093000id_/" + url)
    sys.stdout.buffer.write(b"REPLY|" + r.status.encode() + b"|" + r.get_data().hex().encode() + b"\\n")
"""


@pytest.mark.e2e
def test_pywb_replays_the_export_from_its_cdxj(archive, tmp_path):
    """pywb (in its own environment: AKHBAR_PYWB_PYTHON=/path/to/venv/bin/python, with
    `pip install pywb`) replays every exported capture from the CDXJ written beside the WARC."""
    import os
    import subprocess

    python = os.environ.get("AKHBAR_PYWB_PYTHON")
    if not python:
        pytest.skip("set AKHBAR_PYWB_PYTHON to a Python with pywb installed to run the replay check")
    _, engine, docs = archive
    collection = tmp_path / "collections" / "news"
    (collection / "archive").mkdir(parents=True)
    (collection / "indexes").mkdir()
    out = collection / "archive" / "news.warc.gz"
    with Session(engine) as s:
        export_warc(s, "الحكومة", out)
    cdxj_path(out).rename(collection / "indexes" / "index.cdxj")
    urls = [docs["x1"][1], docs["y"][1]]
    done = subprocess.run([python, "-c", PYWB_CHECK, *urls], cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    replies = [line.split(b"|")[1:] for line in done.stdout.splitlines() if line.startswith(b"REPLY|")]
    assert [status for status, _ in replies] == [b"200 OK", b"200 OK"]
    assert bytes.fromhex(replies[0][1].decode()) in (docs["x1"][2], docs["x2"][2])
    assert bytes.fromhex(replies[1][1].decode()) == docs["y"][2]


def test_cli_export_json_reports_what_was_written(archive, tmp_path):
    path, _, _ = archive
    out = tmp_path / "json.warc.gz"
    runner = CliRunner()
    result = runner.invoke(main, ["export", "الحكومة", "--format", "warc", "--out", str(out), "--db", str(path),
                                  "--source", "alpha", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {"format": "warc", "out": str(out), "index": str(cdxj_path(out)), "articles": 1, "records": 2,
                      "unreadable": 0}
    rows = tmp_path / "rows.jsonl"
    result = runner.invoke(main, ["export", "--out", str(rows), "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["articles"] == len(rows.read_text(encoding="utf-8").splitlines()) > 0
    bad = runner.invoke(main, ["export", "--db", str(path), "--json"])
    assert bad.exit_code != 0 and bad.output.count("\n") == 1 and "--out" in bad.output
