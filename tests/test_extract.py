"""The extraction core end to end: bytes in, Article out, on the seeds and on real Arabic pages."""
import gzip
import json
from pathlib import Path

import pytest
import trafilatura

from crawler.core.arabic import content_hash
from crawler.core.evaluate import token_prf, without_video_player
from crawler.core.extract import ExtractionError, extract, sniff_kind

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = json.loads((SEEDS / "gold.json").read_text(encoding="utf-8"))
FIX = Path(__file__).resolve().parent / "fixtures"


def page(name: str) -> bytes:
    return gzip.decompress((FIX / "pages" / f"{name}.html.gz").read_bytes())


def lbci_gold() -> str:
    gold = json.loads((FIX / "dates" / "fundus_lbcgroup_2026_01_08.gold.json").read_text(encoding="utf-8"))["V1"]
    return "\n".join(p for s in gold["body"]["sections"] for p in s["headline"] + s["paragraphs"])


ARABIC_GOLD = {
    "newspaper4k_cnnarabic_syria_clashes": lambda: (FIX / "extract" / "newspaper4k_cnnarabic_syria_clashes.gold.txt").read_text(encoding="utf-8"),
    "fundus_lbcgroup_2026_01_08": lbci_gold,
    "magichtml_youm7_6573469": lambda: without_video_player((FIX / "extract" / "magichtml_youm7_6573469.gold.txt").read_text(encoding="utf-8")),
    "magichtml_youm7_6574622": lambda: without_video_player((FIX / "extract" / "magichtml_youm7_6574622.gold.txt").read_text(encoding="utf-8")),
}


@pytest.mark.parametrize("name", sorted(GOLD))
def test_seed_comes_out_exactly_as_gold(name):
    gold = GOLD[name]
    lines = (SEEDS / name).read_text(encoding="utf-8").split("\n")
    article = extract((SEEDS / name).read_bytes(), name=name)
    assert article.text == "\n".join(lines[i - 1].strip() for i in gold["body_lines"])
    assert article.title == gold["title"]
    assert article.published == gold["published"]
    assert article.published not in gold.get("not_published", [])
    assert article.section == gold.get("section")
    assert article.lang == gold["language"]
    assert article.content_hash == content_hash(article.text)
    assert (article.date_source is None) == (article.published is None)


def test_arabic_pages_beat_bare_trafilatura_and_reach_097_on_average():
    scores = []
    for name, gold_text in ARABIC_GOLD.items():
        data = page(name)
        gold = gold_text()
        ours = token_prf(extract(data, kind="html").text, gold)[2]
        bare = token_prf(trafilatura.extract(data.decode("utf-8")) or "", gold)[2]
        assert ours >= bare - 1e-9, (name, ours, bare)
        scores.append(ours)
    assert sum(scores) / len(scores) >= 0.97


def test_assabah_keeps_the_article_and_drops_the_comment_prompt_and_widgets():
    entry = next(iter(json.loads((FIX / "extract" / "trafilatura_assabah_tn_article.gold.json").read_text(encoding="utf-8")).values()))
    article = extract(gzip.decompress((FIX / "pages" / "trafilatura_assabah_tn_article.html.gz").read_bytes()), kind="html")
    for snippet in entry["with"]:
        assert snippet in article.text
    for snippet in entry["without"]:
        assert snippet not in article.text
    assert article.lang == "ar"


def test_stored_text_is_as_published():
    # Every extracted paragraph is a piece of the page's own text: nothing normalised away.
    data = page("magichtml_youm7_6574622")
    article = extract(data, kind="html")
    import lxml.html

    visible = " ".join(lxml.html.fromstring(data.decode("utf-8")).text_content().split())
    for paragraph in article.paragraphs:
        assert " ".join(paragraph.split()) in visible


@pytest.mark.parametrize("name", ["chardet_chromium_arabic_windows-1256_nocharset.html", "chardet_chromium_arabic_iso-8859-6_nocharset.html"])
def test_legacy_encoded_pages_without_charset_decode_to_arabic(name):
    article = extract((FIX / "encodings" / name).read_bytes(), kind="html")
    assert article.lang == "ar"
    assert article.arabic_share > 0.9
    assert article.encoding in ("windows-1256", "iso-8859-6")


def test_persian_page_is_kept_with_its_language():
    article = extract(page("htmldate_khabaronline_fa_1523806243"), kind="html")
    assert article.lang == "fa"
    assert article.text


@pytest.mark.parametrize("data", [b"", b"   \n\t ", bytes(range(256)) * 20, b"\x00\x01\x02\x03" * 500])
def test_empty_and_junk_input_raise_one_line_errors(data):
    with pytest.raises(ExtractionError) as info:
        extract(data)
    assert "\n" not in str(info.value) and str(info.value)


def test_page_without_article_text_is_rejected():
    with pytest.raises(ExtractionError):
        extract(b"<html><head><title>x</title></head><body><nav><a href='/'>Home</a></nav></body></html>", kind="html")


def test_sniff_kind():
    assert sniff_kind(b"<!DOCTYPE html><html>", None) == "html"
    assert sniff_kind("نص عربي".encode(), "a.txt") == "text"
    assert sniff_kind(b"anything", "https://x.test/a.html") == "html"
    assert sniff_kind(b"plain", None, "text/html; charset=utf-8") == "html"
