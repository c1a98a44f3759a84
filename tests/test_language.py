"""language: Arabic is told from Persian and Urdu, answers are stable, short text is 'und'."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from langdetect import DetectorFactory

from crawler.core.language import MIN_LETTERS, LanguageDetector, LanguageResult, detect_language

FIX = Path(__file__).parent / "fixtures" / "lang"
PERSIAN = sorted(FIX.glob("*_fa_*.visible.txt"))
ARABIC = sorted(p for p in FIX.glob("*.visible.txt") if "_fa_" not in p.name)
ENGLISH = [FIX / f"aeb_{key}.gold.txt" for key in ("042bb7b5feda", "04a6711caa7c", "05844573ca7e", "06e5123e4ef7")]


def _lines(path: Path, min_words: int = 6) -> list[str]:
    return [line for line in path.read_text("utf-8").splitlines() if len(line.split()) >= min_words]


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.name)
def test_persian_pages_are_not_arabic(path):
    result = detect_language(path.read_text("utf-8"))
    assert result.lang == "fa"
    assert result.arabic_share > 0.9  # the script is Arabic; the language is not


@pytest.mark.parametrize("path", ARABIC, ids=lambda p: p.name)
def test_arabic_pages(path):
    result = detect_language(path.read_text("utf-8"))
    assert result.lang == "ar"
    assert result.confidence > 0.9
    assert result.arabic_share > 0.9


@pytest.mark.parametrize(("paths", "lang"), [(PERSIAN, "fa"), (ARABIC, "ar")], ids=["fa", "ar"])
def test_every_sentence_sized_line_of_the_pages(paths, lang):
    """Line by line (menus, headlines, captions): Arabic-script lines are never given the wrong one of
    ar/fa/ur; lines that are only dates/numbers may be 'und'."""
    wrong = []
    for path in paths:
        for line in _lines(path):
            result = detect_language(line)
            if result.arabic_share >= 0.5 and result.lang not in (lang, "und"):
                wrong.append((result.lang, line))
    assert wrong == []


def test_persian_headlines_typed_with_arabic_keyboard_forms():
    # aryanews writes ي/ك (Arabic yeh/kaf); the Persian-only گ and the word به still tell.
    assert detect_language("ورود 50 هزار ميليارد تومان نقدينگي به بازار سرمايه").lang == "fa"
    assert detect_language("تور كيش و خوشگذراني در آبهاي خليج فارس").lang == "fa"


@pytest.mark.parametrize(
    "snippet",
    ["علیه انتخابات، نوعی تحت فشار", "حالا هم تکرار میکنیم؛ ممکن", "انتخاباتی درون جناح اصولگرا تعریف"],
)
def test_persian_spelling_rules_out_arabic_and_urdu(snippet):
    """Five-word Persian snippets from khabaronline that langdetect alone calls ar or ur: Persian ی/ک
    with no Arabic form rules Arabic out, and no Urdu-only letter rules Urdu out."""
    assert detect_language(snippet).lang == "fa"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("وزیر اعظم نے کہا کہ حکومت ملک میں مہنگائی کو کم کرنے کے لیے اقدامات کر رہی ہے", "ur"),
        ("شہر لاہور میں شدید بارش سے نظام زندگی متاثر", "ur"),
        ("رئیس جمهور به تهران بازگشت", "fa"),
        ("وزير الخارجية يصل إلى بيروت", "ar"),
        ("قال المتحدث باسم الحكومة إن الاجتماع سيعقد غدا", "ar"),
    ],
)
def test_short_arabic_script_sentences(text, lang):
    assert detect_language(text).lang == lang


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.name)
def test_english_benchmark_pages(path):
    result = detect_language(path.read_text("utf-8"))
    assert result.lang == "en"
    assert result.arabic_share == 0.0


@pytest.mark.parametrize(("key", "lang"), [("0ec95c7261d1", "ko"), ("20b2b64916b0", "it")])
def test_other_languages_pass_through_langdetect(key, lang):
    assert detect_language((FIX / f"aeb_{key}.gold.txt").read_text("utf-8")).lang == lang


@pytest.mark.parametrize("text", ["", "   \n", "abc", "الخبر", "١٢٣٤ ٥٦٧٨ 2024-05-01", "!!! ???"])
def test_short_or_empty_text_is_undetermined(text):
    result = detect_language(text)
    assert result == LanguageResult("und", 0.0, result.arabic_share)


def test_min_letters_boundary():
    word = "كتاب"
    few = " ".join([word] * ((MIN_LETTERS - 1) // len(word)))
    assert sum(c.isalpha() for c in few) < MIN_LETTERS
    assert detect_language(few).lang == "und"
    assert detect_language(few + " " + word + " " + word).lang == "ar"


# --- determinism --------------------------------------------------------------------------------

AMBIGUOUS = [
    "درب منزل مالباخته مراجعه و",  # 5 Persian words langdetect splits between ar and fa
    "نشر موقع Middle East Eye",
    "Il black Friday incombe su di noi",
    (FIX / "aeb_042bb7b5feda.gold.txt").read_text("utf-8"),
]


def test_same_answer_twenty_times_in_a_row():
    for text in AMBIGUOUS:
        answers = {detect_language(text) for _ in range(20)}
        assert len(answers) == 1, text


@pytest.mark.e2e  # slow: a fresh Python process
def test_same_answer_in_a_fresh_process():
    here = [detect_language(t) for t in AMBIGUOUS]
    code = (
        "import json, sys\n"
        "from crawler.core.language import detect_language\n"
        "texts = json.load(sys.stdin)\n"
        "print(json.dumps([list(detect_language(t).__dict__.values()) for t in texts]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(AMBIGUOUS), capture_output=True, text=True,
        check=True, cwd=Path(__file__).parent.parent,
    )
    there = [LanguageResult(*row) for row in json.loads(out.stdout)]
    assert there == here


def test_no_global_state_is_touched():
    state = random.getstate()
    seed = DetectorFactory.seed
    LanguageDetector().detect("Il black Friday incombe su di noi: per chi non lo sapesse")
    assert random.getstate() == state
    assert DetectorFactory.seed == seed
