"""Word keys (proclitics off) and light stems of Arabic words."""
from __future__ import annotations

import pytest

from crawler.core.analyzer import index_columns, index_stems, index_words, query_word_keys, stem, tokens, word_key


def key(word: str) -> str:
    return word_key(tokens(word)[0])


@pytest.mark.parametrize("form", ["حكومة", "الحكومة", "والحكومة", "فالحكومة", "بالحكومة", "كالحكومة", "للحكومة",
                                  "وللحكومة", "فللحكومة", "وبالحكومة", "ولحكومة", "بحكومة", "وحكومة", "الحُكومةُ"])
def test_every_proclitic_combination_has_one_word_key(form):
    assert key(form) == "حكومه"


@pytest.mark.parametrize(("word", "expected"), [
    ("فكرة", "فكره"),      # not ف + كرة
    ("لجنة", "لجنه"),      # not ل + جنة
    ("وزير", "وزير"),
    ("الله", "الله"),
    ("التي", "التي"),
    ("وطن", "وطن"),        # two letters would remain
    ("بلد", "بلد"),
    ("لبنان", "لبنان"), ("ولبنان", "لبنان"), ("للبنان", "لبنان"),
    ("وفكرة", "فكره"),     # a conjunction before a kept word comes off, the word stays whole
    ("بمشاركة", "مشاركه"),
])
def test_words_that_only_look_prefixed_keep_their_letters(word, expected):
    assert key(word) == expected


def test_a_query_word_with_a_proclitic_letter_also_stands_for_the_unprefixed_reading():
    assert set(query_word_keys("فريد")) == {"ريد", "فريد"}  # ف + ريد, or فريد (which a text writes وفريد)
    assert key("فلسطيني") in query_word_keys("الفلسطيني")  # a text writing the word bare
    assert key("وفريد") in query_word_keys("فريد")
    assert "بنان" not in query_word_keys("ولبنان") and "لبنان" in query_word_keys("ولبنان")


@pytest.mark.parametrize(("a", "b"), [("انتخابات", "انتخاب"), ("الحكومات", "حكومة"), ("المسؤولين", "مسؤول"),
                                      ("الفلسطينيين", "فلسطيني"), ("إعلانات", "إعلان"), ("السيارات", "سيارة")])
def test_light_stems_join_inflected_forms(a, b):
    assert stem(key(a)) in {stem(k) for t in tokens(b) for k in query_word_keys(t)}


@pytest.mark.parametrize(("a", "b"), [("وزير", "وزراء"), ("إعلان", "إعلام"), ("كرة", "فكرة")])
def test_light_stems_keep_different_words_apart(a, b):
    assert stem(key(a)) != stem(key(b))


def test_index_columns_hold_one_key_per_token_and_the_stems_that_differ():
    text = "قالت الحكومةُ إنّ الانتخابات ستجري في ٢٠٢٥ (co-op)"
    assert index_words(text).split() == [word_key(t) for t in tokens(text)]
    assert index_stems(text).split() == ["حكوم", "انتخاب", "ستجر"]
    assert index_columns(text) == (index_words(text), index_stems(text))
