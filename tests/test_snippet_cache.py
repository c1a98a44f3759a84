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
