"""Normalisation is for keys only; these properties are what dedup and search rely on."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.core.arabic import arabic_share, content_hash, normalize, search_text, search_token

HARAKAT = [chr(c) for c in range(0x064B, 0x0653)]  # fathatan .. sukun, shadda included
INVISIBLE = ["\u200e", "\u200f", "\u200b", "\u200c", "\u200d", "\u061c", "\u202b", "\u202c", "\u2067", "\u2069", "\ufeff"]
ARABIC_WORDS = ["الأسد", "إلى", "مدرسة", "قال", "سوريا", "الحكومة", "مستشفى", "آذار", "وزير", "الإمارات", "٢٠٢١", "أعلن"]

arabic_text = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF) | st.sampled_from(" \n\t.,،؟"))
any_text = st.text()


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(any_text)
@settings(max_examples=400)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(arabic_text)
@settings(max_examples=400)
def test_normalize_is_idempotent_on_arabic(text):
    once = normalize(text)
    assert normalize(once) == once


def _disguise(text: str, rnd: random.Random) -> str:
    """Rewrite text in the ways the normaliser must see through."""
    swaps = {"ا": ["أ", "إ", "آ", "ا"], "ي": ["ى", "ي"], "ه": ["ة", "ه"]}
    digits = {str(i): [str(i), chr(0x0660 + i), chr(0x06F0 + i)] for i in range(10)}
    out = []
    for ch in text:
        base = normalize(ch) if ch.strip() else ch
        if base in swaps and rnd.random() < 0.5:
            ch = rnd.choice(swaps[base])
        elif base in digits:
            ch = rnd.choice(digits[base])
        out.append(ch)
        if "\u0621" <= ch <= "\u064a" and rnd.random() < 0.3:
            out.append(rnd.choice(HARAKAT))
        if ch.isalpha() and rnd.random() < 0.1:
            out.append("\u0640")  # tatweel
        if rnd.random() < 0.05:
            out.append(rnd.choice(INVISIBLE))
        if ch == " " and rnd.random() < 0.3:
            out.append(rnd.choice(["  ", "\n", "\t"]))
    return "".join(out)


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(st.lists(st.sampled_from(ARABIC_WORDS + ["2024", "كانون", "الثاني"]), min_size=1, max_size=30), st.integers(0, 2**32))
@settings(max_examples=300)
def test_texts_differing_only_in_spelling_marks_digits_hash_the_same(words, seed):
    text = " ".join(words)
    disguised = _disguise(text, random.Random(seed))
    assert content_hash(disguised) == content_hash(text)


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(st.lists(st.sampled_from(ARABIC_WORDS), min_size=1, max_size=20), st.data())
@settings(max_examples=300)
def test_texts_differing_in_words_hash_differently(words, data):
    text = " ".join(words)
    i = data.draw(st.integers(0, len(words) - 1))
    replacement = data.draw(st.sampled_from([w for w in ARABIC_WORDS + ["بيروت", "القاهرة"] if normalize(w) != normalize(words[i])]))
    changed = words[:i] + [replacement] + words[i + 1:]
    assert content_hash(" ".join(changed)) != content_hash(text)


def test_known_forms():
    assert normalize("الأَسَـــد") == normalize("الاسد") == "الاسد"
    assert normalize("إلى") == normalize("الى") == "الي"
    assert normalize("مدرسة") == "مدرسه"
    assert normalize("٢٠٢١ و ۲۰۲۱") == "2021 و 2021"
    assert normalize("\u200fقال\u200e  \n  الوزير") == "قال الوزير"
    assert normalize("ﻻ") == "لا"  # presentation form, via NFKC


def test_stored_text_is_not_the_key():
    text = "قالَ الوزيرُ ٣ مرات"
    assert normalize(text) != text  # a key, not a replacement for the published text


def test_search_tokens_strip_article_and_waw():
    assert search_token("والاسد") == search_token("الاسد") == search_token("اسد") == "اسد"
    assert search_token("للحكومه") == "حكومه"
    assert search_token("الي") == "الي"  # too short to be an article + word
    assert search_token("وزير") == "زير"  # light stemming is symmetric between index and query
    assert search_text("والأسد قال") == search_text("الاسد قال")


def test_arabic_share():
    assert arabic_share("مرحبا بالعالم") == 1.0
    assert arabic_share("hello") == 0.0
    assert arabic_share("") == 0.0
    assert 0.4 < arabic_share("abcd مرحب") < 0.6
