"""Snippets through the spelling cache (storage.search._Spellings) equal the word-by-word definition."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

S = importlib.import_module("storage.search")
SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))
QUERIES = ["الحكومة", "حكومات", "انتخاب*", "الأسد OR النظام", '"وزير الخارجية"', "للاستثمار", "title:قمح", "xyz", "حكوم*"]


def reference(stored: str, marker: S.Marker, words: int = S.SNIPPET_WORDS, lead: int = S.SNIPPET_LEAD) -> str:
    """The snippet by definition: test every word in order (no cache), first by word key, else by stem."""
    spans = S.stored_words(stored)
    if not spans:
        return ""
    texts = [stored[a:b] for a, b in spans]
    which = 0
    found = next((i for i, w in enumerate(texts) if marker.test(w)[0]), None)
    if found is None:
        which, found = 1, next((i for i, w in enumerate(texts) if marker.test(w)[1]), None)
    start = max(0, (found or 0) - lead)
    end = min(len(spans), start + words)
    start = max(0, end - words)
    out, cursor = [], spans[start][0]
    for (a, b), w in zip(spans[start:end], texts[start:end]):
        if marker.test(w)[which]:
            out.append(stored[cursor:a] + S.MARKS[0] + w + S.MARKS[1])
            cursor = b
    return "".join(out) + stored[cursor : spans[end - 1][1]]


@pytest.mark.parametrize("limit", [S._Spellings.LIMIT, 50])
def test_cached_snippets_equal_the_definition(monkeypatch, limit):
    monkeypatch.setattr(S, "_SPELLINGS", S._Spellings())
    monkeypatch.setattr(S._Spellings, "LIMIT", limit)  # 50: the cache empties itself again and again
    texts = [seed["text"] for seed in SEEDS] + ["", "الْحُكُومَةُ قالت", "الحكومه والحكومات وحكومتها"]
    for query in QUERIES:
        shared = S.query_keys(query)  # one marker over many texts, as one search uses it
        for stored in texts:
            expected = reference(stored, S.query_keys(query))
            assert S.make_snippet(stored, shared) == expected
            assert S.make_snippet(stored, S.query_keys(query)) == expected
    assert any(S.MARKS[0] in S.make_snippet(t, S.query_keys("حكومات")) for t in texts)


LONG = [
    "مقدمة طويلة بلا كلمة مطلوبة " * 40 + "ثم قالت الحكومة إنها ستنظر في الأمر. " + "خاتمة " * 30,  # a match far in
    "قالت الحكومة اليوم " + "كلام آخر " * 400 + "والحكومات",  # a match at the top
    "كلام " * 200 + "الحكومات " + "كلام " * 5,  # a stem-only hit near the end
    "الْحُكُومَةُ " * 3 + "نص " * 400,  # harakat
    "…" * 2000 + " الحكومة",  # no word in the opening at all
]


@pytest.mark.parametrize("opening", [1, 2, 5, 17, 40, 120, 333, S.SNIPPET_OPENING])
def test_snippets_from_the_opening_equal_the_whole_texts(monkeypatch, opening):
    """Looking in a text's opening first gives the snippet of the whole text, wherever the opening
    ends (inside a word, inside the marks after one, before the match or after it)."""
    monkeypatch.setattr(S, "SNIPPET_OPENING", opening)
    texts = [seed["text"] for seed in SEEDS] + LONG
    for query in QUERIES:
        marker = S.query_keys(query)
        for stored in texts:
            assert S.make_snippet(stored, marker) == reference(stored, S.query_keys(query)), (query, opening)


def test_an_early_match_is_found_without_splitting_the_rest(monkeypatch):
    """With a match in the opening, the text after the opening is never split."""
    split_lengths: list[int] = []
    splitter = S._word_splitter()

    class Counting:
        pattern = splitter.pattern

        def split(self, text: str) -> list[str]:
            split_lengths.append(len(text))
            return splitter.split(text)

    monkeypatch.setattr(S, "_word_splitter", lambda: Counting())
    stored = LONG[1]
    assert S.make_snippet(stored, S.query_keys("الحكومة")).startswith("قالت [الحكومة]")
    assert split_lengths == [S.SNIPPET_OPENING] and len(stored) > 2 * S.SNIPPET_OPENING
