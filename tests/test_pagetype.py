"""Page type: articles are stored, listings, home, tag, author, search, video, directory, consent and
error pages are not.  The labelled set is tests/fixtures/pagetype/ (see make_pages.py there)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from crawler.core.errors import ExtractionError, NotAnArticle
from crawler.core.extract import extract
from crawler.core.pagetype import classify_bytes, classify_text, url_kind
from crawler.ingest import RawDocument, ingest
from storage import open_engine
from storage.models import Document

SET = Path(__file__).parent / "fixtures" / "pagetype"
LABELS = json.loads((SET / "labels.json").read_text("utf-8"))


def page(name: str) -> bytes:
    data = (SET / "pages" / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def verdicts():
    for item in LABELS:
        yield item, classify_bytes(page(item["file"]), item["url"], text=item["file"].endswith(".txt"))


def test_the_labelled_set_is_big_enough_and_has_every_kind():
    kinds = {item["kind"] for item in LABELS}
    assert len(LABELS) >= 60
    assert kinds == {"article", "listing", "home", "tag", "author", "search", "video", "directory", "consent", "error"}
    assert sum(item["kind"] == "article" for item in LABELS) >= 30


def test_precision_and_recall_of_article_at_least_0_98():
    results = list(verdicts())
    tp = sum(item["kind"] == "article" and v.is_article for item, v in results)
    fp = sum(item["kind"] != "article" and v.is_article for item, v in results)
    fn = sum(item["kind"] == "article" and not v.is_article for item, v in results)
    assert tp / (tp + fp) >= 0.98, [(i["file"], v.reason) for i, v in results if i["kind"] != "article" and v.is_article]
    assert tp / (tp + fn) >= 0.98, [(i["file"], v.reason) for i, v in results if i["kind"] == "article" and not v.is_article]


def test_most_non_articles_get_their_own_kind():
    wrong = [(i["file"], v.kind) for i, v in verdicts() if i["kind"] != "article" and v.kind != i["kind"]]
    assert len(wrong) <= 4, wrong


@pytest.mark.parametrize("name, kind", [
    ("listing_02__newspaper4k_cnnarabic_syria_clashes.page.gz", "listing"),
    ("search_01__htmldate_albayan_ae_1623715966.page.gz", "search"),
    ("consent_00__htmldate_elbaladtv_1806793639.page.gz", "consent"),
    ("error_03__05844573ca7e.page.gz", "error"),
    ("video_01__magichtml_youm7_6573469.page.gz", "video"),
])
def test_representative_non_articles(name, kind):
    item = next(i for i in LABELS if i["file"] == name)
    verdict = classify_bytes(page(name), item["url"])
    assert (verdict.is_article, verdict.kind) == (False, kind), verdict.reason


def test_an_article_stripped_of_og_type_json_ld_headline_and_url_is_still_an_article():
    bare = [i for i in LABELS if i["file"].startswith("bare__")]
    assert bare and all(classify_bytes(page(i["file"])).is_article for i in bare)


def test_a_listing_that_claims_og_type_article_is_still_a_listing():
    lying = [i for i in LABELS if i["kind"] in ("listing", "tag", "search") and i.get("og") == "article"]
    assert lying
    for item in lying:
        assert not classify_bytes(page(item["file"]), item["url"]).is_article, item["file"]


def test_a_page_with_little_to_judge_by_gets_the_benefit_of_the_doubt():
    html = "<html><body><p>قال المتحدث باسم الوزارة إن الاجتماع سيعقد غدا في العاصمة بحضور الوزراء.</p></body></html>"
    assert classify_bytes(html.encode()).is_article


@pytest.mark.parametrize("url, kind", [
    ("https://news.example/", "home"), ("https://news.example/ar/", "home"), ("https://news.example/?p=123", None),
    ("https://news.example/tag/كورونا", "tag"), ("https://news.example/author/ali", "author"),
    ("https://news.example/search?q=غزة", "search"), ("https://news.example/category/politics", "listing"),
    ("https://news.example/category/politics/a-long-story-slug-here", "article"),
    ("https://news.example/news/2024/05/20/x", "article"), ("https://news.example/video/123", "video"),
])
def test_url_shapes(url, kind):
    assert url_kind(url) == kind


def test_saved_text_pages_are_judged_by_their_prose():
    assert classify_text((Path(__file__).parents[1] / "seeds").glob("*.txt").__next__().read_text("utf-8").splitlines()).is_article
    short = ["الرئيسية", "سياسة", "اقتصاد", "عذرا، الصفحة غير موجودة"]
    verdict = classify_text(short, "https://news.example/tag/x")
    assert not verdict.is_article and verdict.kind == "tag"


def test_extract_refuses_a_listing_with_a_one_line_reason():
    item = next(i for i in LABELS if i["kind"] == "listing")
    with pytest.raises(NotAnArticle) as info:
        extract(page(item["file"]), item["url"], kind="html")
    assert isinstance(info.value, ExtractionError)
    assert str(info.value) == "not an article: listing page"


def test_ingest_records_a_non_article_as_a_rejected_document_never_an_article(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    item = next(i for i in LABELS if i["kind"] == "home")
    with Session(engine) as session:
        result = ingest(session, RawDocument(data=page(item["file"]), url="https://news.example/", kind="html"))
        session.commit()
        assert (result.outcome, result.article_id, result.reason) == ("rejected", None, "not an article: home page")
        doc = session.get(Document, result.document_id)
        assert (doc.outcome, doc.article_id) == ("rejected", None)
    engine.dispose()
