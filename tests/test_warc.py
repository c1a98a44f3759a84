"""WARC capture: what is written can be read back, whole, by file or by pointer."""
from __future__ import annotations

import base64
import gzip
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.capture.warc import WarcPointer, WarcWriter, headers_dict, iter_warc_responses, read_record

PAGES = Path(__file__).parent / "fixtures" / "site" / "pages"
BASE = "http://127.0.0.1:8000"


def real_pages() -> list[tuple[str, dict[str, str], bytes]]:
    """(url, headers, body) of real pages: UTF-8 Arabic, and windows-1256 without header charset."""
    return [
        (f"{BASE}/2020/11/2338761/", {"Content-Type": "text/html; charset=utf-8"},
         (PAGES / "beirutobserver_2020-11-09.html").read_bytes()),
        (f"{BASE}/archive/gaza-statement.html", {"Content-Type": "text/html"},
         (PAGES / "gaza_windows-1256.html").read_bytes()),
        (f"{BASE}/2013/middle_east/8/3/syria.clashes/index.html?utm_source=rss",
         {"Content-Type": "text/html; charset=utf-8", "ETag": '"abc"'},
         (PAGES / "cnnarabic_2013-08-03.html").read_bytes()),
    ]


def write_all(writer: WarcWriter) -> list[WarcPointer]:
    return [writer.write(url, 200, headers, body, request_headers={"User-Agent": "akhbar/0"})
            for url, headers, body in real_pages()]


def test_round_trip_by_file_and_by_pointer(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointers = write_all(writer)
        missing = writer.write(f"{BASE}/article/825999", 404, [("Content-Type", "text/html")], b"<h1>404</h1>")
    read = list(iter_warc_responses(pointers[0].path))
    assert [r.url for r in read] == [url for url, _, _ in real_pages()] + [f"{BASE}/article/825999"]
    assert [r.status for r in read] == [200, 200, 200, 404]
    for response, (_, headers, body) in zip(read, real_pages()):
        assert response.body == body  # byte for byte: the windows-1256 page too
        assert response.headers["content-type"] == headers["Content-Type"]
    assert read[2].headers["etag"] == '"abc"'
    assert [r.pointer for r in read] == [*pointers, missing]
    for pointer, response in zip(pointers + [missing], read):
        assert read_record(pointer) == response
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r.date) for r in read)


def test_records_carry_target_uri_date_digest_and_their_request(tmp_path):
    url, headers, body = real_pages()[0]
    when = datetime(2024, 5, 13, 6, 0, 0, tzinfo=timezone.utc)
    with WarcWriter(tmp_path) as writer:
        writer.write(url, 200, headers, body, method="GET", request_headers={"User-Agent": "akhbar/0"}, date=when)
    with open(writer.paths[0], "rb") as stream:
        records = [(r.rec_type, r.rec_headers, r.http_headers) for r in ArchiveIterator(stream)]
    assert [kind for kind, _, _ in records] == ["warcinfo", "response", "request"]
    _, response, _ = records[1]
    _, request, request_http = records[2]
    assert response.get_header("WARC-Target-URI") == url
    assert response.get_header("WARC-Date").startswith("2024-05-13T06:00:00")
    digest = "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
    assert response.get_header("WARC-Payload-Digest") == digest
    assert request.get_header("WARC-Concurrent-To") == response.get_header("WARC-Record-ID")
    assert request.get_header("WARC-Target-URI") == url
    assert request_http.protocol == "GET"  # request line "GET /2020/11/2338761/ HTTP/1.1"
    assert request_http.get_header("User-Agent") == "akhbar/0"
    assert request_http.get_header("Host") == "127.0.0.1:8000"


def test_file_is_gzip_per_record_and_named_per_run(tmp_path):
    with WarcWriter(tmp_path, prefix="crawl") as writer:
        pointers = write_all(writer)
    path = Path(pointers[0].path)
    assert re.fullmatch(r"crawl-\d{20}-\d+-\d{5}\.warc\.gz", path.name)
    raw = path.read_bytes()
    # every pointer starts a gzip member that decompresses on its own into one WARC record
    for pointer in pointers:
        member = gzip.decompress(raw[pointer.offset : pointer.offset + pointer.length])
        assert member.startswith(b"WARC/1.1\r\n") and b"WARC-Type: response" in member
    with WarcWriter(tmp_path, prefix="crawl") as other:
        other.write(*real_pages()[0][:1], 200, {}, b"x")
    assert other.paths[0] != path


def test_records_are_compressed_at_a_middle_level_not_the_slowest_nor_the_fastest(tmp_path):
    """Level 9 (warcio's own) costs about four times the CPU of level 4 for files about 6 % smaller;
    a gzip header's XFL byte says 2 when a member was compressed at the maximum level, 4 at the
    fastest (level 1, which makes files another 14 % larger)."""
    with WarcWriter(tmp_path) as writer:
        pointers = write_all(writer)
    raw = Path(pointers[0].path).read_bytes()
    for pointer in pointers:
        header = raw[pointer.offset: pointer.offset + 10]
        assert header[:3] == b"\x1f\x8b\x08" and header[8] == 0, header


def test_content_encoding_is_decoded_on_read_and_transfer_encoding_not_stored(tmp_path):
    url, _, body = real_pages()[0]
    headers = {b"Content-Type": [b"text/html; charset=utf-8"], b"Content-Encoding": [b"gzip"],
               b"Transfer-Encoding": [b"chunked"], b"Set-Cookie": [b"a=1", b"b=2"]}
    with WarcWriter(tmp_path) as writer:
        pointer = writer.write(url, 200, headers, gzip.compress(body))
    response = read_record(pointer)
    assert response.body == body
    assert "transfer-encoding" not in response.headers
    assert response.headers["set-cookie"] == "a=1, b=2"


def test_non_ascii_headers_are_stored_percent_encoded_and_read_as_utf8(tmp_path):
    url, _, body = real_pages()[0]
    link = '<https://www.albayan.ae/خبر/1>; rel="canonical"'  # raw UTF-8 bytes, as some sites send it
    fetched = {b"Content-Type": [b"text/html; charset=utf-8"], b"Link": [link.encode("utf-8")],
               b"Vary": [b"Accept", b"Cookie"]}
    assert headers_dict(fetched) == {"content-type": "text/html; charset=utf-8", "link": link, "vary": "Accept, Cookie"}
    with WarcWriter(tmp_path) as writer:
        pointer = writer.write(url, 200, fetched, body)
    stored = read_record(pointer).headers
    assert stored["link"] == '<https://www.albayan.ae/%D8%AE%D8%A8%D8%B1/1>; rel="canonical"'
    assert unquote(stored["link"]) == link and stored["vary"] == "Accept, Cookie"


def test_rotation_by_size_keeps_pairs_whole(tmp_path):
    bound = 8_000
    with WarcWriter(tmp_path, max_bytes=bound) as writer:
        pointers = write_all(writer) + write_all(writer)
    assert len(writer.paths) >= 3
    assert len(set(writer.paths)) == len(writer.paths)
    for path in writer.paths[:-1]:  # each closed file passed the bound with its last pair only
        last = max(p.offset for p in pointers if p.path == str(path))
        assert path.stat().st_size >= bound > last
    for path in writer.paths:
        with open(path, "rb") as stream:
            kinds = [r.rec_type for r in ArchiveIterator(stream)]
        assert kinds[0] == "warcinfo"
        assert kinds[1:] == ["response", "request"] * ((len(kinds) - 1) // 2)
    every = [r for path in writer.paths for r in iter_warc_responses(path)]
    assert [r.pointer for r in every] == pointers
    assert [r.body for r in every] == [body for _, _, body in real_pages()] * 2


def test_open_file_is_readable_before_close(tmp_path):
    writer = WarcWriter(tmp_path)
    pointers = write_all(writer)
    assert writer.current_path is not None
    assert [r.pointer for r in iter_warc_responses(writer.current_path)] == pointers
    writer.close()
    assert writer.current_path is None


def test_file_cut_mid_record_reads_up_to_last_complete_record(tmp_path, caplog):
    with WarcWriter(tmp_path) as writer:
        pointers = write_all(writer)
    path = Path(pointers[0].path)
    last = pointers[-1]
    path.write_bytes(path.read_bytes()[: last.offset + last.length // 2])
    read = list(iter_warc_responses(path))
    assert [r.pointer for r in read] == pointers[:-1]
    assert [r.body for r in read] == [body for _, _, body in real_pages()[:-1]]
    assert "incomplete" in caplog.text or "damaged" in caplog.text
    with pytest.raises(ValueError):
        read_record(last)


def test_pointer_to_a_request_record_is_refused(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointer = write_all(writer)[0]
    request_offset = pointer.offset + pointer.length
    with pytest.raises(ValueError):
        read_record(WarcPointer(pointer.path, request_offset, 400))
