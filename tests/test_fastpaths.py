"""The extraction core's fast paths give the very answers of the slow ones they replace.

The archive's output must not depend on how fast it was computed: langdetect's probabilities,
the dates read from a shared parse, the folded text the date rules match, and trafilatura's
text from the shared parse handed over, the parse itself, the junk count, are each compared with the
straightforward computation.
"""
from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pytest
import trafilatura
from hypothesis import example, given, settings
from hypothesis import strategies as st
from langdetect.detector import Detector
from langdetect.lang_detect_exception import LangDetectException
from lxml import etree

from crawler.core.arabic import _INVISIBLE, _LETTERS, _MARKS, normalize
from crawler.core.datetext import _fold_char, fold, fold_text
from crawler.core.decode import _MOJIBAKE, _bad_chars, decode_html
from crawler.core.dates import line_candidates, resolve_dates, visible_lines
from crawler.core.extract import _TRAFILATURA_OPTIONS, extract
from crawler.core.htmltree import load_html
from crawler.core.language import _FastDetector, _profiles

LANG = Path(__file__).parent / "fixtures" / "lang"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)

TEXTS = [
    "The quick brown fox jumps over the lazy dog. THE END of the STORY, said NASA.",
    "Le gouvernement a annoncé mardi de nouvelles mesures pour l'économie française.",
    "Die Regierung hat am Dienstag neue Maßnahmen für die Wirtschaft angekündigt.",
    "قال وزير الخارجية إن المحادثات ستستأنف الأسبوع المقبل في القاهرة",
    "Visit https://example.com/a?b=c or mail news@example.com for more: ÀÉÎ ĳ ABC def",
    "x",
]


def _probabilities(cls: type[Detector], text: str) -> tuple[list[tuple[str, float]], list[float]] | str:
    """The languages langdetect reports and its probability for every language, to the last bit."""
    detector = cls(_profiles())
    detector.set_max_text_length(3000)
    detector.append(text)
    try:
        return [(p.lang, p.prob) for p in detector.get_probabilities()], list(detector.langprob)
    except LangDetectException as exc:
        return str(exc)


@pytest.mark.parametrize("text", [pytest.param(t, id=f"text{n}") for n, t in enumerate(TEXTS)]
                         + [pytest.param(p.read_text("utf-8")[:4000], id=p.name) for p in sorted(LANG.glob("*.txt"))])
def test_fast_detector_gives_langdetects_exact_probabilities(text):
    assert _probabilities(_FastDetector, text) == _probabilities(Detector, text)


_WORDS = "the of and news la le de que el en der die und zu في على من إلى از در که را".split()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=40))
def test_fast_detector_matches_langdetect_on_mixed_short_text(words):
    """Short mixed text takes langdetect many draws to settle: the trial loop is exercised long."""
    text = " ".join(words)
    assert _probabilities(_FastDetector, text) == _probabilities(Detector, text)


PAGE = """<!DOCTYPE html>
<html><head><title>عنوان الخبر - الموقع</title>
<meta property="og:title" content="عنوان الخبر">
<meta property="article:published_time" content="2024-05-20T09:30:00+03:00">
<script type="application/ld+json">{"@type": "NewsArticle", "dateModified": "2024-05-21T10:00:00+03:00"}</script>
</head><body><div class="top">السبت 1 يونيو 2024</div>
<h1>عنوان الخبر</h1><div class="date">نشر في 20 مايو 2024<!-- stamp --> الساعة 9:30</div>
<p>قال المتحدث <b>إن</b> الاجتماع<!-- x -->سيعقد غدا.</p><script>var d = "2020-01-01";</script>
<p>تم النشر في 3 مارس 2021</p></body></html>"""


def test_resolve_dates_reads_a_shared_parse_without_changing_it():
    doc = lxml.html.fromstring(PAGE)
    before = etree.tostring(doc)
    shared = resolve_dates(html=PAGE, doc=doc, fetched_at=FETCHED)
    own = resolve_dates(html=PAGE, fetched_at=FETCHED)
    assert shared == own
    assert shared.published == "2024-05-20T09:30:00+03:00"
    assert etree.tostring(doc) == before


def test_visible_lines_leave_out_head_scripts_and_comments_but_keep_their_tails():
    doc = lxml.html.fromstring(PAGE)
    lines = visible_lines(doc)
    assert lines[0] == "السبت 1 يونيو 2024"
    assert "نشر في 20 مايو 2024 الساعة 9:30" in lines
    assert "قال المتحدث إن الاجتماعسيعقد غدا." in lines  # the comment is not text; its tail is
    assert not any("2020-01-01" in line or "الموقع" in line for line in lines)


def test_a_labelled_date_far_below_counts_only_when_no_dateline_was_found():
    title = "عنوان الخبر"
    filler = [f"فقرة رقم {n} من النص" for n in range(40)]
    far = ["تم النشر في 3 مارس 2021"]
    with_dateline = [title, "20 مايو 2024"] + filler + far
    found, _ = line_candidates(with_dateline, title, base=FETCHED)
    assert [(c.source, c.value.date().isoformat()) for c in found] == [("dateline", "2024-05-20")]
    without = [title] + filler + far
    found, _ = line_candidates(without, title, base=FETCHED)
    assert [(c.source, c.value.date().isoformat()) for c in found] == [("text", "2021-03-03")]


@pytest.mark.parametrize("text", ["", "السبت 1 يونيو 2024", "صلى الله عليه وسلم ﷺ ١٢ ـ", "Ｆｕｌｌ ﬁ\u200fx\tY"])
def test_fold_maps_every_folded_character_to_its_source(text):
    folded, index = fold(text)
    assert folded == "".join(_fold_char(ch) for ch in text)
    assert index == [i for i, ch in enumerate(text) for _ in _fold_char(ch)]
    assert fold_text(text) == folded


def test_extract_gives_the_same_article_twice():
    data = PAGE.replace("<p>قال", "<p>" + "قال المتحدث باسم الوزارة إن الاجتماع سيعقد غدا في العاصمة. " * 6 + "قال").encode()
    first = extract(data, "https://example.com/news/2024/05/20/x", kind="html", fetched_at=FETCHED)
    second = extract(data, "https://example.com/news/2024/05/20/x", kind="html", fetched_at=FETCHED)
    assert first == second
    assert first.published == "2024-05-20T09:30:00+03:00"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\n\r\x0b\x0c\x00\x07\x1f\x7f\x80\x9fé\ufffd\u2500\ue000ع"))))
def test_junk_count_on_bytes_equals_the_pattern_count(text):
    """The byte-level count of control characters used for ASCII text is the pattern's count."""
    assert _bad_chars(text) == len(_MOJIBAKE.findall(text))


@pytest.mark.parametrize("name", ["fundus_lbcgroup_2026_01_08", "htmldate_albayan_ae_1623715966",
                                  "htmldate_aryanews_fa_1641304459"])
def test_the_shared_parse_gives_trafilatura_the_text_of_its_own_parse(name):
    """extract_html parses once, by trafilatura's loader rules, and hands that tree on: trafilatura
    must answer as it does for the page source, and leave the shared tree as it was."""
    html = _page(name)
    tree = load_html(html)
    before = etree.tostring(tree)
    from_tree = trafilatura.extract(tree, **_TRAFILATURA_OPTIONS)
    assert from_tree and from_tree == trafilatura.extract(html, **_TRAFILATURA_OPTIONS)
    assert etree.tostring(tree) == before


def _page(name: str) -> str:
    return decode_html(gzip.decompress((Path(__file__).parent / "fixtures" / "pages" / f"{name}.html.gz").read_bytes())).text


PAGES = sorted(p.name.removesuffix(".html.gz") for p in (Path(__file__).parent / "fixtures" / "pages").glob("*.html.gz"))
ODD_MARKUP = [
    "", "   ", "plain text, no markup at all", "<p>a lone fragment</p>", "<div><p>one</p><p>two</p></div>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\">\n<html><body><p>x</p></body></html>",
    "<html/>\n<body><p>self-closed html</p></body>", "<html><body><p>control\x01\x0bchars\ud800</p></body></html>",
    "<html><body><form action=/s><input name=q><select><option>a</option></select><textarea>t</textarea>"
    "<label>l</label></form><!-- gone --><?pi gone?></body></html>",
]


@pytest.mark.parametrize("html", [pytest.param(n, id=n) for n in PAGES] + ODD_MARKUP)
def test_the_page_parse_is_trafilaturas_parse(html):
    """crawler.core.htmltree reads a page as trafilatura.load_html does: the same tree (or the same
    refusal), with the same element classes, only looked up faster."""
    if html in PAGES:
        html = _page(html)
    ours, theirs = load_html(html), trafilatura.load_html(html)
    if theirs is None:
        assert ours is None
        return
    assert etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode")
    assert [type(el) for el in ours.iter()] == [type(el) for el in theirs.iter()]


def test_visible_lines_break_at_blocks_and_only_there():
    doc = lxml.html.fromstring(
        "<html><body><div>one<span> two</span><br>three<o:p>four</o:p></div><fb:like>five</fb:like>"
        "<table><tr><td>six</td><td>seven</td></tr></table><select><option>hidden</option></select>tail"
        "<noscript>hidden</noscript><p>a&nbsp;b\t c</p></body></html>")
    assert visible_lines(doc) == ["one two", "threefour", "five", "six", "seven", "tail", "a b c"]


def _reference_normalize(text: str) -> str:
    """The normalisation spelled out step by step, as the archive's hashes were first made."""
    import re
    import unicodedata

    s = unicodedata.normalize("NFKC", text).casefold()
    s = _MARKS.sub("", _INVISIBLE.sub("", s)).translate(_LETTERS)
    s = unicodedata.normalize("NFKC", s)
    s = _MARKS.sub("", _INVISIBLE.sub("", s)).translate(_LETTERS)
    return re.sub(r"\s+", " ", s).strip()


_NORMALIZE_ALPHABET = list(
    "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئىةٱکیۀے٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹0123456789aeZéÉ.,«»؟\u0301\u0308"
    "\u064b\u064c\u064e\u0650\u0651\u0652\u0653\u0654\u0655\u0670\u0640\u200b\u200c\u200d\u200e\u200f"
    "\u061c\u202b\u2067\ufeff\u00ad\ufdf2\ufefb\ufe8d\u0627\u0653\u0627\u0654"
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u00a0\u1680\u2003\u2028\u202f\u3000"
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_NORMALIZE_ALPHABET), max_size=60))
@example("e\u200d\u0301")  # the removed joiner no longer blocks the accent: NFKC recomposes é
@example("\ufefb\u0640\u0651 \u00a0\u0661\u06f2")
def test_normalize_equals_the_step_by_step_normalisation(text):
    """The content hash depends on every bit of the key: the fast normalisation must be the
    step-by-step one on Arabic letters, marks, ligatures, digits, bidi marks and white space."""
    assert normalize(text) == _reference_normalize(text)


@pytest.mark.parametrize("name", sorted(p.name for p in LANG.glob("*.txt")))
def test_normalize_equals_the_step_by_step_normalisation_on_real_text(name):
    text = (LANG / name).read_text("utf-8")
    assert normalize(text) == _reference_normalize(text)
