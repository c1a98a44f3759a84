"""Near-duplicates: shingles of the normalised text, MinHash, LSH bands, and the index in the archive.
The labelled pairs are tests/fixtures/neardup/pairs.json.gz (see make_pairs.py there)."""
from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.neardup import (
    BANDS, NUM_PERM, ROWS, THRESHOLD, MemoryIndex, Signature, band_keys, lsh_params, shingle_hashes, shingles, signature,
    similarity,
)
from storage import add_article, open_engine
from storage.models import ArticleRecord, NeardupBand, NeardupSignature
from storage.neardup import cluster_article, near_duplicates

PAIRS = json.loads(gzip.decompress((Path(__file__).parent / "fixtures" / "neardup" / "pairs.json.gz").read_bytes()))
STORY = ("قال المتحدث باسم وزارة الخارجية إن الاجتماع سيعقد غداً في العاصمة بحضور الوزراء والسفراء "
         "وممثلي المنظمات الدولية، لبحث الأوضاع الإنسانية في المنطقة وسبل إيصال المساعدات إلى المتضررين.")


def test_the_labelled_set_has_200_pairs_of_each_kind():
    kinds = {p["kind"] for p in PAIRS}
    assert len(PAIRS) >= 200 and sum(p["same"] for p in PAIRS) >= 100 and sum(not p["same"] for p in PAIRS) >= 100
    assert {"paragraph_added", "paragraph_removed", "boilerplate", "spelling", "punctuation", "lead_rewritten",
            "same_topic_outlet", "same_template", "same_dateline"} <= kinds


def test_recall_at_least_0_95_at_precision_at_least_0_99_through_the_lsh_index():
    """A pair is found when the LSH bands make the second a candidate of the first (as the index
    does) and the estimated similarity reaches the threshold."""
    tp = fp = fn = 0
    for pair in PAIRS:
        index = MemoryIndex()
        index.add(1, signature(pair["a"]))
        found = bool(index.query(signature(pair["b"])))
        tp += found and pair["same"]
        fp += found and not pair["same"]
        fn += (not found) and pair["same"]
    assert tp / (tp + fp) >= 0.99 and tp / (tp + fn) >= 0.95, (tp, fp, fn)


def test_bands_and_rows_are_the_ones_chosen_for_the_threshold():
    assert lsh_params(THRESHOLD) == (BANDS, ROWS) and BANDS * ROWS <= NUM_PERM


@pytest.mark.parametrize("variant", [
    STORY.replace("أ", "ا").replace("إ", "ا").replace("ة", "ه"),  # alef, hamza, taa marbuta
    STORY.replace("غداً", "غدًا").replace("الاجتماع", "الاجْتِمَاع").replace("الوزراء", "الوزراء"),  # diacritics, tatweel
    STORY.replace("،", ",").replace(".", ""),  # Latin punctuation
    "«" + STORY.replace("قال", "قال:") + "»",  # quotes and a colon
])
def test_spelling_diacritics_and_punctuation_do_not_change_the_shingles(variant):
    assert shingles(variant) == shingles(STORY)
    assert similarity(signature(variant), signature(STORY)) == 1.0


def test_signature_round_trips_as_bytes_and_is_stable():
    sig = signature(STORY)
    assert len(sig.to_bytes()) == 4 * NUM_PERM
    assert (Signature.from_bytes(sig.to_bytes()).values == sig.values).all()
    assert band_keys(signature(STORY)) == band_keys(sig) and len(band_keys(sig)) == BANDS


def _store(session, text, n):
    return add_article(session, Article(url=None, title="t", text=text, content_hash=content_hash(text)),
                       url=f"https://news.example/{n}", seen_at=datetime(2024, 5, 1)).article_id


def test_the_archive_clusters_a_story_told_again_and_keeps_the_index_across_sessions(db_url):
    same = [p for p in PAIRS if p["same"] and p["kind"] == "boilerplate"][0]
    other = [p for p in PAIRS if not p["same"]][0]["b"]
    db = db_url  # SQLite, then PostgreSQL
    engine = open_engine(db)
    with Session(engine) as s:
        first = _store(s, same["a"], 1)
        s.commit()
    engine.dispose()
    engine = open_engine(db)  # a new process would see the same: nothing is held in memory
    with Session(engine) as s:
        again, unrelated = _store(s, same["b"], 2), _store(s, other, 3)
        s.commit()
        rows = {a.id: (a.cluster_id, a.cluster_similarity) for a in s.scalars(select(ArticleRecord))}
        assert rows[first] == (first, 1.0)
        assert rows[again][0] == first and THRESHOLD <= rows[again][1] < 1.0
        assert rows[unrelated] == (unrelated, 1.0)
        assert [i for i, _ in near_duplicates(s, signature(same["b"]))] == [again, first]  # itself first
        assert s.scalar(select(func.count()).select_from(NeardupBand)) == 3 * BANDS
        s.execute(delete(ArticleRecord).where(ArticleRecord.id == again))  # the database cascades
        s.commit()
        assert s.scalar(select(func.count()).select_from(NeardupBand).where(NeardupBand.article_id == again)) == 0
        assert s.get(NeardupSignature, again) is None
    engine.dispose()


def test_a_third_telling_joins_the_first_articles_cluster(db_url):
    engine = open_engine(db_url)
    second = STORY + " وأضاف أن النتائج ستعلن في مؤتمر صحفي مساء الغد."
    third = second.replace("الأوضاع الإنسانية", "الأوضاع الانسانية والأمنية")
    with Session(engine) as s:
        ids = [_store(s, t, n) for n, t in enumerate((STORY, second, third))]
        clusters = [s.get(ArticleRecord, i).cluster_id for i in ids]
        assert clusters == [ids[0]] * 3
        again = cluster_article(s, ids[2], third)  # indexing twice writes no second set of rows
        assert again.cluster_id == ids[0]
        assert s.scalar(select(func.count()).select_from(NeardupBand)) == 3 * BANDS
    engine.dispose()


def _datasketch_signature(text: str):
    """The signature as datasketch computes it: the straightforward way, one call per shingle."""
    from datasketch import MinHash

    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=int)
    hashes = shingle_hashes(text)
    if len(hashes):
        mh.update_batch(hashes.tolist())
    return mh.hashvalues


@pytest.mark.parametrize("pair", PAIRS[::7])
def test_the_numpy_signature_is_datasketchs_minhash_value_for_value(pair):
    """Signatures already in archives stay comparable: the same 128 values datasketch gives."""
    for text in (pair["a"], pair["b"]):
        assert signature(text).values.tolist() == _datasketch_signature(text).tolist()


@given(st.lists(st.sampled_from(STORY.split() + ["x", "،", "1", "ABC"]), max_size=40).map(" ".join))
@settings(max_examples=60, deadline=None)
def test_the_numpy_signature_matches_datasketch_on_any_text(text):
    assert signature(text).values.tolist() == _datasketch_signature(text).tolist()


def test_the_extract_step_makes_the_signature_and_the_archive_stores_the_one_it_is_given(tmp_path):
    """A crawl's worker process makes the signature with the article (the archive writer then
    only reads it): it is the text's own, and the archive indexes what it is handed."""
    from crawler.extraction import extract_document
    from crawler.ingest import RawDocument, ingest

    page = f"<html><head><title>خبر</title></head><body><article><h1>خبر</h1><p>{STORY}</p><p>{STORY[::-1]}</p></article></body></html>"
    doc = RawDocument(data=page.encode(), url="https://news.example/a/1.html", kind="html")
    done = extract_document(doc, datetime(2024, 5, 1))
    assert done.article is not None and done.signature == signature(done.article.text).to_bytes()
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with Session(engine) as s:
        handed = signature(STORY).to_bytes()  # not the article's: shows which one is stored
        result = ingest(s, doc, done.__class__("article", article=done.article, signature=handed))
        s.commit()
        assert s.get(NeardupSignature, result.article_id).signature == handed
    engine.dispose()
