"""The parts of an article kept apart: headline, kicker, lead, byline, site tag, captions."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawler.core.anatomy import body_edges, source_title_affix, strip_title_affix
from crawler.core.extract import extract

FIX = Path(__file__).parent / "fixtures"


def real(name: str):
    return extract(gzip.decompress((FIX / "pages" / f"{name}.html.gz").read_bytes()), name=f"{name}.html")


PROSE = "وأضاف المتحدث أن الاجتماعات ستستمر خلال الأيام المقبلة لبحث كل الملفات العالقة بين الطرفين بشكل مفصل."
PROSE3 = "وأكد المسؤول أن الوزارة ستنشر تقريرا مفصلا عن نتائج المرحلة الأولى من الخطة قبل نهاية الشهر المقبل."
PROSE2 = "وأشار إلى أن الحكومة تعمل على إعداد خطة شاملة لمعالجة الأزمة الاقتصادية في أقرب وقت ممكن هذا العام."


def page(body: str, head: str = "<title>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي</title>") -> bytes:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


# --- the known cases (real pages) ----------------------------------------------------------------
def test_marked_lead_opens_the_body_and_is_kept_as_lead():
    article = real("htmldate_sputnik_arabic_1550981615")
    assert article.lead and article.lead.startswith("أعلنت وزارة الصحة والسكان المصرية")
    assert article.text.split("\n")[0] == article.lead
    assert article.text.split("\n")[1].startswith("وأوضح الدكتور خالد مجاهد")


def test_site_tag_that_opens_the_body_is_cut():
    article = real("htmldate_almadenahnews_1588107198")
    assert article.text.startswith("بلغت حصيلة الوفيات")
    assert "المدينة نيوز" not in article.text


def test_byline_line_leaves_the_body_for_the_author():
    article = real("trafilatura_assabah_tn_article")
    assert article.author == "آسيا العتروس"
    assert "حوار" not in article.text.split("\n")[0]
    assert article.text.startswith("مالذي يحدث في السودان")


def test_site_name_prefix_leaves_a_text_page_title():
    data = (FIX / "encodings" / "chardet_culturax_alriyadh_98641.windows-1256.txt").read_bytes()
    article = extract(data, name="riyadh.txt")
    assert article.title == "يا واسع المغفرة"


def test_author_role_byline_block_leaves_the_body():
    body = (
        "<article><h1>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي</h1>"
        "<ul><li>Author, سامر الأحمد</li><li>Role, بي بي سي نيوز عربي</li></ul>"
        f"<p>{PROSE}</p><p>{PROSE2}</p></article>"
    )
    article = extract(page(body), name="a.html")
    assert article.author == "سامر الأحمد"
    assert "Author" not in article.text and "Role" not in article.text
    assert article.text.startswith("وأضاف المتحدث")


# --- general rules -------------------------------------------------------------------------------
def test_agency_dateline_opening_the_first_sentence_stays():
    body, author = body_edges([f"دمشق - وكالات: {PROSE}", PROSE2])
    assert body[0].startswith("دمشق - وكالات:")
    assert author is None


@pytest.mark.parametrize("tag", ["الخبر نيوز :-", "صحيفة الأيام -", "جريدة الغد:"])
def test_site_tags_of_any_outlet_are_cut(tag):
    body, _ = body_edges([f"{tag} {PROSE}", PROSE2])
    assert body[0] == PROSE


@pytest.mark.parametrize("line", ["كتب: محمود سالم", "بقلم: هدى يوسف", "حوار: سلمى العلي"])
def test_byline_lines_at_the_top_go_to_the_author(line):
    body, author = body_edges([line, PROSE, PROSE2])
    assert body == [PROSE, PROSE2]
    assert author is not None and author in line


def test_captions_go_to_captions_never_to_the_body():
    body = (
        "<article><h1>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي</h1>"
        f"<p>{PROSE}</p><figure><img src='a.jpg'><figcaption>رئيس الوزراء خلال المؤتمر الصحفي (أرشيف)"
        f"</figcaption></figure><p class='photo-credit'>تصوير: أحمد سمير</p><p>{PROSE2}</p></article>"
    )
    article = extract(page(body), name="a.html")
    assert "رئيس الوزراء خلال المؤتمر الصحفي (أرشيف)" in article.captions
    assert "تصوير: أحمد سمير" in article.captions
    assert "أرشيف" not in article.text and "تصوير" not in article.text


def test_kicker_above_the_headline():
    body = (
        "<article><div class='article-kicker'>اقتصاد</div><h1>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي</h1>"
        f"<p>{PROSE}</p><p>{PROSE2}</p></article>"
    )
    assert extract(page(body), name="a.html").kicker == "اقتصاد"


def test_lead_that_copies_the_headline_is_not_a_lead():
    body = (
        "<article><h1>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي اليوم في العاصمة</h1>"
        "<div class='lead'>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي اليوم في العاصمة</div>"
        f"<p>{PROSE}</p><p>{PROSE2}</p></article>"
    )
    article = extract(page(body, "<title>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي اليوم في العاصمة</title>"),
                      name="a.html")
    assert article.lead is None
    assert article.text.startswith("وأضاف المتحدث")


def test_publication_name_prefix_leaves_an_html_title():
    body = f"<article><p>{PROSE}</p><p>{PROSE2}</p></article>"
    article = extract(page(body, "<title>صحيفة النهار | خطة جديدة للإصلاح الاقتصادي</title>"), name="a.html")
    assert article.title == "خطة جديدة للإصلاح الاقتصادي"


def test_a_place_named_like_a_channel_is_not_a_site_name():
    body = f"<article><p>{PROSE}</p><p>{PROSE2}</p></article>"
    article = extract(page(body, "<title>قناة السويس - حركة الملاحة تعود إلى طبيعتها</title>"), name="a.html")
    assert article.title == "قناة السويس - حركة الملاحة تعود إلى طبيعتها"


# --- the same prefix on every title of a source --------------------------------------------------
def test_source_title_affix_from_recent_titles():
    titles = ["الشروق | خبر أول عن الطقس", "الشروق | خبر ثان عن الاقتصاد", "الشروق | خبر ثالث", "عنوان بلا فاصل"]
    affix = source_title_affix(titles)
    assert affix == ("prefix", "الشروق")
    assert strip_title_affix("الشروق | خبر رابع عن الرياضة", affix) == "خبر رابع عن الرياضة"
    assert strip_title_affix("خبر بلا اسم الموقع", affix) == "خبر بلا اسم الموقع"


def test_no_affix_when_titles_differ():
    assert source_title_affix(["أ | خبر أول", "ب | خبر ثان", "ج | خبر ثالث"]) is None
    assert source_title_affix(["الشروق | خبر"]) is None


def test_bold_first_paragraph_is_the_lead():
    body = (
        "<article><h1>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي</h1>"
        f"<p><strong>{PROSE2}</strong></p><p>{PROSE}</p></article>"
    )
    article = extract(page(body), name="a.html")
    assert article.lead == PROSE2 and article.text.split("\n")[0] == PROSE2


def test_byline_line_leaves_a_text_page_body():
    text = "\n".join(["الحكومة تعلن خطة جديدة للإصلاح الاقتصادي", "كتب: محمود سالم", PROSE, PROSE2])
    article = extract(text.encode("utf-8"), name="a.txt")
    assert article.text == f"{PROSE}\n{PROSE2}"
    assert article.author == "محمود سالم"


def test_the_parts_are_stored_and_shown(tmp_path):
    from click.testing import CliRunner

    from crawler.cli import main

    body = (
        "<article><div class='kicker'>اقتصاد</div><h1>الحكومة تعلن خطة جديدة للإصلاح الاقتصادي</h1>"
        f"<div class='lead'>{PROSE2}</div><figure><img src='a.jpg'><figcaption>وزير المالية في مؤتمر صحفي"
        f"</figcaption></figure><p>{PROSE}</p><p>{PROSE3}</p></article>"
    )
    path = tmp_path / "a.html"
    path.write_bytes(page(body))
    db = f"sqlite:///{tmp_path / 'a.db'}"
    runner = CliRunner()
    extracted = json.loads(runner.invoke(main, ["extract", "--json", str(path)]).output)
    assert runner.invoke(main, ["replay", str(path), "--db", db]).exit_code == 0
    shown = json.loads(runner.invoke(main, ["show", "1", "--db", db, "--json"]).output)
    for got in (extracted, shown):
        assert got["kicker"] == "اقتصاد"
        assert got["lead"] == PROSE2 and got["text"].startswith(PROSE2)
        assert got["captions"] == ["وزير المالية في مؤتمر صحفي"]


def test_a_sources_own_title_prefix_is_learnt_from_its_titles(tmp_path):
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session

    from crawler.capture.document import RawDocument
    from crawler.ingest import ingest
    from storage.db import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    headlines = ["الحكومة تعلن خطة جديدة للإصلاح", "افتتاح معرض الكتاب في العاصمة", "ارتفاع أسعار الذهب اليوم",
                 "انطلاق امتحانات الثانوية العامة", "حملة وطنية للتشجير في المحافظات"]
    stored = []
    with Session(engine) as session:
        for n, headline in enumerate(headlines):
            html = page(f"<article><p>{headline}. {PROSE}</p><p>{PROSE2} {n}</p></article>",
                        f"<title>الشروق | {headline}</title>")
            result = ingest(session, RawDocument(data=html, url=f"https://outlet.test/{n}.html", source="outlet",
                                                 fetched_at=datetime.now(timezone.utc),
                                                 headers={"Content-Type": "text/html"}))
            session.commit()
            stored.append(result.article.title)
    engine.dispose()
    assert stored[:2] == [f"الشروق | {h}" for h in headlines[:2]]  # not known yet
    assert stored[2:] == headlines[2:]  # learnt from three titles: cut from then on
