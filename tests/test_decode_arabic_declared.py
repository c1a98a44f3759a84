"""A page in one Arabic code page served as another (ISO-8859-6 declared windows-1256 and back) is
read in the code page that gives Arabic text, not stored as mojibake; a right declaration stands."""
from __future__ import annotations

from pathlib import Path

import pytest

from crawler.core.decode import _read_arabic, decode_html

ENCODINGS = Path(__file__).parent / "fixtures" / "encodings"
PAGES = [  # (fixture, the code page it is really written in)
    ("chardet_chromium_arabic_iso-8859-6_nocharset.html", "iso-8859-6"),
    ("chardet_chromium_arabic_windows-1256_nocharset.html", "windows-1256"),
    ("chardet_culturax_alriyadh_98641.iso-8859-6.txt", "iso-8859-6"),
    ("chardet_culturax_alriyadh_98641.windows-1256.txt", "windows-1256"),
    ("chardet_culturax_alriyadh_98641.cp720.txt", "cp720"),
]
ARABIC_PAGES = ("windows-1256", "iso-8859-6", "cp720", "cp864")


@pytest.mark.parametrize("name,real", PAGES)
@pytest.mark.parametrize("declared", ARABIC_PAGES)
def test_a_wrong_arabic_code_page_declaration_is_corrected(name, real, declared):
    data = (ENCODINGS / name).read_bytes()
    decoded = decode_html(data, {"Content-Type": f"text/html; charset={declared}"})
    assert decoded.encoding == real
    assert decoded.source == ("http" if declared == real else "detected")
    assert decoded.text == data.decode(real)
    assert _read_arabic(data, decoded.encoding).strong


@pytest.mark.parametrize("name,real", PAGES)
def test_the_meta_declaration_is_checked_the_same_way(name, real):
    data = (ENCODINGS / name).read_bytes()
    wrong = "windows-1256" if real != "windows-1256" else "iso-8859-6"
    page = f'<html><head><meta charset="{wrong}"></head><body>'.encode() + data
    assert decode_html(page).encoding == real
