"""decode: real legacy Arabic bytes must come out as the same Arabic text, junk must be refused."""
from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from crawler.core.arabic import arabic_share
from crawler.core.decode import DecodeError, decode_html, decode_text, lookup_label

FIX = Path(__file__).parent / "fixtures" / "encodings"

PAGE = (
    "<!DOCTYPE html><html dir=\"rtl\"><head>{meta}<title>أخبار اليوم</title></head><body>"
    "<h1>وزير الخارجية يصل إلى بيروت</h1>"
    "<p>قال المتحدث باسم الوزارة إن الزيارة تأتي في إطار المشاورات بين البلدين حول الأوضاع في المنطقة، "
    "وإن الوزير سيلتقي رئيس الحكومة على أن يعود إلى القاهرة مساء الغد.</p></body></html>"
)


def page(meta: str = "") -> str:
    return PAGE.format(meta=meta)


def _read(name: str) -> bytes:
    return (FIX / name).read_bytes()


# --- real legacy bytes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("chardet_chromium_arabic_windows-1256_nocharset.html", "windows-1256"),
        ("chardet_chromium_arabic_iso-8859-6_nocharset.html", "iso-8859-6"),
    ],
)
def test_arabic_pages_without_any_charset_decode_right(name, encoding):
    data = _read(name)
    result = decode_html(data)
    assert result.encoding == encoding
    assert result.source == "detected"
    assert result.text == data.decode(encoding)
    assert "كتائب الشهيد عز الدين القسام" in result.text


def test_both_chromium_pages_give_the_same_paragraph():
    texts = [
        decode_html(_read(f"chardet_chromium_arabic_{enc}_nocharset.html")).text.split("<body", 1)[1]
        for enc in ("windows-1256", "iso-8859-6")
    ]
    # the pages differ only in the <title>, which names the encoding
    assert texts[0] == texts[1]


def test_alriyadh_text_in_three_code_pages_decodes_to_one_text():
    results = {
        enc: decode_text(_read(f"chardet_culturax_alriyadh_98641.{enc}.txt"))
        for enc in ("windows-1256", "iso-8859-6", "cp720")
    }
    assert {enc: r.encoding for enc, r in results.items()} == {
        "windows-1256": "windows-1256",
        "iso-8859-6": "iso-8859-6",
        "cp720": "cp720",
    }
    # chardet's ISO-8859-6 and cp720 copies write the Arabic comma as an ASCII comma
    texts = {r.text.replace("\u060c", ",") for r in results.values()}
    assert len(texts) == 1
    text = texts.pop()
    assert text.startswith("جريدة الرياض | يا واسع المغفرة")
    assert "السبت 15 رجب 1442هـ 27 فبراير 2021م" in text


def test_anwalpress_windows_1256_matches_its_utf8_copy():
    legacy = decode_text(_read("chardet_culturax_anwalpress_98635.windows-1256.txt"))
    utf8 = decode_text(_read("chardet_culturax_anwalpress_98635.utf-8.txt"))
    assert (legacy.encoding, utf8.encoding) == ("windows-1256", "utf-8")
    assert legacy.text == utf8.text
    assert utf8.text == _read("chardet_culturax_anwalpress_98635.utf-8.txt").decode("utf-8")


def test_charset_normalizer_arabic_sample_matches_its_utf8_copy():
    legacy = decode_text(_read("charset_normalizer_sample-arabic-1.cp1256.txt"))
    assert legacy.encoding == "windows-1256"
    assert legacy.text == decode_text(_read("charset_normalizer_sample-arabic.utf8.txt")).text


# --- short Arabic text, where statistical detectors stumble ------------------------------------

SHORT_ARABIC = [
    "الرئيس يزور القاهرة",
    "أعلنت وزارة الصحة في مصر عن تسجيل إصابات جديدة",
    "قال المتحدث باسم الحكومة إن الاجتماع سيعقد غدا في بيروت",
]


@pytest.mark.parametrize("text", SHORT_ARABIC)
@pytest.mark.parametrize("encoding", ["windows-1256", "iso-8859-6", "cp720"])
def test_short_arabic_in_legacy_code_pages(text, encoding):
    result = decode_text(text.encode(encoding))
    assert (result.text, result.encoding) == (text, encoding)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Президент России заявил, что переговоры продолжатся на следующей неделе в Москве.", "windows-1251"),
        ("ПРЕЗИДЕНТ РОССИИ ЗАЯВИЛ О ПЕРЕГОВОРАХ", "windows-1251"),
        ("Le président égyptien a annoncé une réforme économique. Élections prévues en été.", "windows-1252"),
        ("Ο πρωθυπουργός της Ελλάδας ανακοίνωσε νέα μέτρα για την οικονομία.", "windows-1253"),
        ("ראש הממשלה הודיע על צעדים חדשים בכלכלה ובביטחון.", "windows-1255"),
    ],
)
def test_arabic_check_does_not_hijack_other_legacy_text(text, encoding):
    """Cyrillic capitals and Greek/Hebrew letters sit where cp1256 has Arabic letters."""
    assert decode_text(text.encode(encoding)).text == text


# --- declarations ----------------------------------------------------------------------------


def test_charset_only_in_meta_http_equiv():
    html = page('<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">')
    result = decode_html(html.encode("windows-1256"), {"Content-Type": "text/html"})
    assert (result.text, result.encoding, result.source) == (html, "windows-1256", "meta")


def test_meta_charset_attribute_and_label_mapping():
    html = page('<meta charset="x-cp1256">')
    result = decode_html(html.encode("windows-1256"))
    assert (result.text, result.encoding, result.source) == (html, "windows-1256", "meta")


def test_commented_out_meta_is_ignored():
    html = page('<!-- <meta charset="iso-8859-6"> --><meta charset="windows-1256">')
    assert decode_html(html.encode("windows-1256")).source == "meta"
    assert decode_html(html.encode("windows-1256")).text == html


def test_http_charset_wins_when_true():
    html = page('<meta charset="iso-8859-6">')  # a stale meta; the server is right
    result = decode_html(html.encode("windows-1256"), {"content-type": "text/html; charset=WINDOWS-1256"})
    assert (result.text, result.source) == (html, "http")


def test_content_type_argument_is_used_like_the_header():
    html = page()
    result = decode_html(html.encode("windows-1256"), content_type='text/html; charset="cp1256"')
    assert (result.text, result.encoding, result.source) == (html, "windows-1256", "http")


@pytest.mark.parametrize("label", ["ISO-8859-1", "windows-1256", "iso-8859-6", "us-ascii"])
def test_legacy_http_charset_on_utf8_bytes_is_a_lie(label):
    html = page(f'<meta charset="{label}">')
    result = decode_html(html.encode("utf-8"), {"Content-Type": f"text/html; charset={label}"})
    assert (result.text, result.encoding) == (html, "utf-8")


def test_utf8_http_charset_on_windows_1256_bytes_falls_back_to_meta():
    html = page('<meta http-equiv="content-type" content="text/html;charset=windows-1256">')
    result = decode_html(html.encode("windows-1256"), {"Content-Type": "text/html; charset=utf-8"})
    assert (result.text, result.source) == (html, "meta")


def test_latin1_server_default_over_arabic_page_without_meta():
    html = page()
    result = decode_html(html.encode("windows-1256"), {"Content-Type": "text/html; charset=iso-8859-1"})
    assert (result.text, result.encoding) == (html, "windows-1256")


def test_unknown_label_falls_through_to_the_next_evidence():
    html = page('<meta charset="windows-1256">')
    result = decode_html(html.encode("windows-1256"), {"Content-Type": "text/html; charset=no-such-charset"})
    assert (result.text, result.source) == (html, "meta")


def test_utf8_bom_wins_and_is_stripped():
    html = page('<meta charset="windows-1256">')
    result = decode_html(codecs.BOM_UTF8 + html.encode("utf-8"), {"Content-Type": "text/html; charset=windows-1256"})
    assert (result.text, result.encoding, result.source) == (html, "utf-8", "bom")


@pytest.mark.parametrize(("bom", "encoding"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_with_bom(bom, encoding):
    html = page()
    result = decode_html(bom + html.encode(encoding))
    assert (result.text, result.encoding, result.source) == (html, encoding, "bom")
    assert decode_text(bom + html.encode(encoding)).text == html


def test_utf16_meta_on_byte_readable_page_means_utf8():
    html = page('<meta charset="utf-16">')
    assert decode_html(html.encode("utf-8")).encoding == "utf-8"


def test_pure_ascii_without_declaration_is_default_utf8():
    result = decode_html(b"<html><body><p>Hello</p></body></html>")
    assert (result.encoding, result.source) == ("utf-8", "default")


def test_a_few_broken_utf8_bytes_keep_utf8():
    html = page('<meta charset="utf-8">')
    data = html.encode("utf-8")
    broken = data[:200] + b"\xd8" + data[200:]  # one truncated character, as CMS truncation leaves
    result = decode_html(broken)
    assert result.encoding == "utf-8"
    assert result.text.count("\ufffd") == 1


@pytest.mark.parametrize(
    ("label", "name"),
    [("latin1", "windows-1252"), ("ISO-8859-1", "windows-1252"), ("ascii", "windows-1252"),
     (" Windows-1256 ", "windows-1256"), ("arabic", "iso-8859-6"), ("ASMO-708", "iso-8859-6"),
     ("utf8", "utf-8"), ("dos-720", "cp720"), ("gbk", "gb18030"), ("no-such-thing", None),
     ("iso-2022-kr", None)],
)
def test_whatwg_labels(label, name):
    assert lookup_label(label) == name


# --- junk ------------------------------------------------------------------------------------


def _junk() -> list[bytes]:
    rnd = random.Random(7)
    return [
        bytes(rnd.getrandbits(8) for _ in range(4000)),  # compressed/encrypted-looking
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rnd.getrandbits(8) for _ in range(2000)),
        b"\x00" * 500 + b"<html></html>",
        bytes(range(256)) * 8,
    ]


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_empty_input_raises(data):
    for call in (decode_html, decode_text):
        with pytest.raises(DecodeError) as err:
            call(data)
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("content_type", [None, "text/html; charset=windows-1256", "text/html; charset=utf-8"])
def test_binary_junk_raises_a_one_line_error(index, content_type):
    data = _junk()[index]
    with pytest.raises(DecodeError) as err:
        decode_html(data, content_type=content_type)
    message = str(err.value)
    assert message and "\n" not in message
    with pytest.raises(DecodeError):
        decode_text(data)


def test_decode_error_is_a_value_error():
    assert issubclass(DecodeError, ValueError)


@pytest.mark.parametrize("encoding", ["windows-1256", "iso-8859-6", "cp720"])
def test_decoded_text_is_never_mostly_replacement(encoding):
    result = decode_text(_read(f"chardet_culturax_alriyadh_98641.{encoding}.txt"))
    assert "\ufffd" not in result.text
    assert arabic_share(result.text) > 0.9


# --- UTF-8 with a few stray bytes ------------------------------------------------------------

PAGES = Path(__file__).parent / "fixtures" / "pages"


def _with_strays(data: bytes, count: int, stray: bytes = b"\xff") -> bytes:
    """``data`` with ``count`` invalid bytes put in at spread places between ASCII bytes."""
    ascii_at = [i for i, byte in enumerate(data) if byte < 0x80]
    places = [ascii_at[len(ascii_at) * k // (count + 1)] for k in range(1, count + 1)]
    out = bytearray(data)
    for place in reversed(places):
        out[place:place] = stray
    return bytes(out)


def _undeclared_page() -> bytes:
    """A real Arabic news page, its UTF-8 declarations taken out (so detection must decide)."""
    import gzip
    import re

    data = gzip.decompress((PAGES / "htmldate_akhbarelyom_1731695567.html.gz").read_bytes())
    return re.sub(rb"charset\s*=\s*[\"']?utf-?8[\"']?", b"", data, flags=re.I)


@pytest.mark.parametrize("call", [decode_html, decode_text])
def test_utf8_arabic_page_with_stray_bytes_is_utf8_with_replacements(call):
    data = _undeclared_page()
    clean = call(data)
    assert (clean.encoding, clean.replaced) == ("utf-8", 0)
    result = call(_with_strays(data, 8))
    assert result.encoding == "utf-8"
    assert result.replaced == 8
    assert result.text.replace("\ufffd", "") == clean.text


def test_stray_bytes_under_a_legacy_declaration_still_mean_utf8():
    data = _undeclared_page().replace(b"<head>", b'<head><meta charset="windows-1256">', 1)
    result = decode_html(_with_strays(data, 8))
    assert (result.encoding, result.replaced) == ("utf-8", 8)


def test_declared_utf8_with_a_stray_byte_counts_it():
    result = decode_html(page('<meta charset="utf-8">').encode("utf-8")[:300] + b"\xd8 x")
    assert (result.encoding, result.replaced) == ("utf-8", 1)


def test_too_many_stray_bytes_are_not_utf8():
    data = _undeclared_page()
    with pytest.raises(DecodeError):
        decode_html(_with_strays(data, 1 + len(data) // 500))


def test_legacy_page_is_not_taken_for_utf8_with_strays():
    result = decode_html(_read("chardet_chromium_arabic_windows-1256_nocharset.html"))
    assert (result.encoding, result.replaced) == ("windows-1256", 0)


@pytest.mark.parametrize("index", range(4))
def test_binary_junk_is_still_refused_with_stray_utf8_reading(index):
    data = _junk()[index] + _undeclared_page()[:2000]  # binary with some real UTF-8 after it
    with pytest.raises(DecodeError):
        decode_html(data)


def test_extract_reports_the_replaced_characters():
    from crawler.core.extract import extract

    clean = extract(_undeclared_page(), name="page.html")
    article = extract(_with_strays(_undeclared_page(), 8), name="page.html")
    assert (clean.replaced_chars, article.replaced_chars) == (0, 8)
    assert article.to_dict()["replaced_chars"] == 8
    assert article.title == clean.title
