"""Arabic recall and precision on the labelled set (tests/fixtures/search: real article texts from
../shared and (query, article) pairs labelled by rules about Arabic words, see make_labels.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from crawler.core.analyzer import query_word_keys, tokens, word_key
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine, search

pytestmark = pytest.mark.e2e  # slow: the whole labelled search set, indexed and queried

HERE = Path(__file__).parent / "fixtures" / "search"
ARTICLES = json.loads((HERE / "articles.json").read_text("utf-8"))
PAIRS = json.loads((HERE / "labelled.json").read_text("utf-8"))


def build(url: str):
    engine = open_engine(url)
    ids = {}
    with Session(engine) as s:
        for art in ARTICLES:
            article = Article(url=f"https://x.example/{art['key']}", title=art["title"], text=art["text"], content_hash=content_hash(art["text"]))
            ids[art["key"]] = add_article(s, article).article_id
        s.commit()
    return engine, ids


@pytest.fixture(scope="module")
def archive(module_db_url):
    engine, ids = build(module_db_url)
    yield engine, ids
    engine.dispose()


def outcome(engine, ids, pair) -> bool:
    """Whether the pair's query finds the pair's article."""
    with Session(engine) as s:
        return ids[pair["article"]] in {h.id for h in search(s, pair["query"], limit=len(ids))}


def test_the_set_is_big_enough():
    kinds = [p["kind"] for p in PAIRS]
    assert len(PAIRS) >= 200 and kinds.count("clitic") >= 150 and kinds.count("lookalike") >= 50


@pytest.mark.parametrize("pair", [p for p in PAIRS if p["kind"] == "clitic"], ids=lambda p: p["query"])
def test_every_cliticised_form_finds_its_article(archive, pair):
    engine, ids = archive
    assert outcome(engine, ids, pair), f'{pair["query"]} should find {pair["article"]} (writes {pair["written"]})'


def test_cliticised_forms_match_as_words_not_stems():
    """The exact tier: the query's word keys include the key of the form the article writes."""
    for pair in (p for p in PAIRS if p["kind"] == "clitic"):
        query_keys = {k for t in tokens(pair["query"]) for k in query_word_keys(t)}
        assert word_key(tokens(pair["written"])[0]) in query_keys, pair


def test_inflected_forms_are_found(archive):
    engine, ids = archive
    pairs = [p for p in PAIRS if p["kind"] == "inflection"]
    missed = [p["query"] + " / " + p["written"] for p in pairs if not outcome(engine, ids, p)]
    assert len(missed) <= len(pairs) * 0.1, missed


def test_lookalikes_are_not_found(archive):
    engine, ids = archive
    pairs = [p for p in PAIRS if p["kind"] == "lookalike"]
    wrong = [p["query"] + " / " + p["written"] + " " + p["article"] for p in pairs if outcome(engine, ids, p)]
    assert len(wrong) <= len(pairs) * 0.05, wrong


def test_precision_over_the_whole_set(archive):
    """Of the labelled pairs the search says match, how many truly do."""
    engine, ids = archive
    said = [(p, outcome(engine, ids, p)) for p in PAIRS]
    true_pos = sum(1 for p, f in said if f and p["match"])
    false_pos = sum(1 for p, f in said if f and not p["match"])
    assert true_pos / (true_pos + false_pos) >= 0.97


def shares(found: list[bool]) -> dict[str, float]:
    """Recall per kind and precision of the outcomes of every pair."""
    out = {}
    for kind in ("clitic", "inflection"):
        chosen = [f for f, p in zip(found, PAIRS) if p["kind"] == kind]
        out[f"recall {kind}"] = sum(chosen) / len(chosen)
    true_pos = sum(1 for f, p in zip(found, PAIRS) if f and p["match"])
    false_pos = sum(1 for f, p in zip(found, PAIRS) if f and not p["match"])
    out["precision"] = true_pos / (true_pos + false_pos)
    return out


def test_postgresql_finds_exactly_the_pairs_sqlite_finds(tmp_path, pg_url):
    lite, lite_ids = build(f"sqlite:///{tmp_path / 'r.db'}")
    pg, pg_ids = build(pg_url)
    try:
        on_sqlite = [outcome(lite, lite_ids, p) for p in PAIRS]
        on_pg = [outcome(pg, pg_ids, p) for p in PAIRS]
    finally:
        lite.dispose()
        pg.dispose()
    differ = [p["query"] + " / " + p["article"] for p, a, b in zip(PAIRS, on_sqlite, on_pg) if a != b]
    assert differ == []
    assert shares(on_pg) == shares(on_sqlite) and shares(on_pg)["precision"] >= 0.97
