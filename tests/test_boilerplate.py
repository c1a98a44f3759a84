"""The Arabic boilerplate rules: seeds against their gold, and the rule families on lines of
other outlets' shapes (none of these strings are in the seeds)."""
import json
from pathlib import Path

import pytest

from crawler.core.boilerplate import classify_line, clean_paragraphs, is_date_line, segment_text_page

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
GOLD = json.loads((SEEDS / "gold.json").read_text(encoding="utf-8"))

PARA = ("وقال المتحدث باسم الوزارة في مؤتمر صحفي عقده في العاصمة إن الحكومة ستواصل العمل على "
        "تنفيذ الخطة خلال الأشهر المقبلة رغم الصعوبات الاقتصادية التي تواجه البلاد.")


@pytest.mark.parametrize("name", sorted(GOLD))
def test_seed_segments_exactly_as_gold(name):
    gold = GOLD[name]
    lines = (SEEDS / name).read_text(encoding="utf-8").split("\n")
    page = segment_text_page(lines)
    assert page.body == [lines[i - 1].strip() for i in gold["body_lines"]]
    assert page.title == gold["title"]
    assert page.section == gold.get("section")
    for i in gold["boilerplate_lines"] + gold["metadata_lines"] + gold["title_lines"]:
        assert lines[i - 1].strip() not in page.body


@pytest.mark.parametrize(
    "line,reason",
    [
        ("اقرأ أيضاً: الحكومة تعلن موعد صرف الرواتب", "read-also"),
        ("إقرأ ايضا", "read-also"),
        ("طالع أيضًا:", "read-also"),
        ("أخبار ذات صلة", "related"),
        ("موضوعات متعلقة", "related"),
        ("الأكثر قراءة", "related"),
        ("تم نسخ الرابط", "share"),
        ("انسخ الرابط المختصر", "share"),
        ("شارك الخبر", "share"),
        ("تابعونا على فيسبوك وتويتر", "follow-us"),
        ("تابعوا آخر الأخبار عبر قناتنا على تيليجرام", "follow-us"),
        ("أضف تعليقك", "comments"),
        ("إضافة تعليق جديد", "comments"),
        ("التعليقات المنشورة لا تعبر عن رأي الموقع وإنما تعبر عن رأي أصحابها", "comments"),
        ("جميع الحقوق محفوظة © 2024", "copyright"),
        ("32°C", "weather"),
        ("الرياض 41° مشمس", "weather"),
        ("الأحد 31 يناير 2021", "date"),
        ("آخر تحديث: 10:45 ص", "date"),
        ("نشر في: 12/3/2023 - 14:05", "date"),
        ("1250 مشاهدة", "counter"),
        ("12", "counter"),
        ("المقال التالي", "navigation"),
        ("« السابق", "navigation"),
        ("إعلان", "advertisement"),
        ("Share", "share"),
        ("logo-icon", "menu"),
        ("Time", "ui-label"),
        ("الكلمات المفتاحية: سوريا، الأسد", "tags"),
    ],
)
def test_boilerplate_families(line, reason):
    verdict = classify_line(line)
    assert verdict is not None and verdict.reason == reason


@pytest.mark.parametrize(
    "line",
    [
        PARA,
        "القامشلي تغلي",  # a subheading
        "تابع الوزير حديثه قائلاً إن المفاوضات ستستأنف الأسبوع المقبل في جنيف.",
        "وأضاف أن 5 أشخاص قتلوا في الهجوم.",
        "ارتفعت درجات الحرارة إلى 45 درجة مئوية في عدة مدن عراقية أمس، ما أدى إلى انقطاع الكهرباء.",
        "وشارك في الاجتماع ممثلون عن عشر دول عربية وأجنبية.",
        "التعليم في زمن الحرب",
    ],
)
def test_content_is_not_boilerplate(line):
    assert classify_line(line) is None


def test_read_also_lead_in_takes_its_headline_but_not_the_next_paragraph():
    paragraphs = [PARA, "اقرأ أيضا", "وزير الخارجية يصل إلى القاهرة في زيارة رسمية", PARA + " ثم عاد.", "ذات صلة", PARA + " وانتهى."]
    kept, dropped = clean_paragraphs(paragraphs)
    assert kept == [PARA, PARA + " ثم عاد.", PARA + " وانتهى."]
    assert ("وزير الخارجية يصل إلى القاهرة في زيارة رسمية", "read-also-headline") in dropped


def test_prev_next_navigation_with_headlines_is_dropped():
    paragraphs = [PARA, "السابق", "انفجار في مرفأ بيروت يخلف عشرات الضحايا", "التالي", "الليرة تواصل الانهيار أمام الدولار"]
    kept, _ = clean_paragraphs(paragraphs)
    assert kept == [PARA]


def test_repeated_title_and_menu_links_dropped_subheadings_kept():
    title = "الحكومة تقر الموازنة العامة"
    paragraphs = ["الحكومةُ تُقر الموازنة العامة", PARA, "تفاصيل الموازنة", PARA + " ثانية.", "رياضة", PARA + " ثالثة."]
    kept, dropped = clean_paragraphs(paragraphs, title=title, link_texts=["رياضة", "اقتصاد", "الرئيسية"])
    assert kept == [PARA, "تفاصيل الموازنة", PARA + " ثانية.", PARA + " ثالثة."]
    assert {reason for _, reason in dropped} == {"title", "link-item"}


def test_page_today_date_above_headline_is_not_body_and_headline_found():
    lines = ["السبت 2 مارس 2024", "الرئيسية", "اقتصاد", "", "البنك المركزي يرفع أسعار الفائدة", "منذ ساعتين", "", PARA, PARA, "آخر الأخبار", "عنوان خبر آخر في الشريط"]
    page = segment_text_page(lines)
    assert page.title == "البنك المركزي يرفع أسعار الفائدة"
    assert page.section == "اقتصاد"
    assert page.body == [PARA, PARA]


def test_short_lines_repeated_around_the_article_are_dropped():
    lines = ["عاجل الآن", "عنوان الخبر الرئيسي اليوم هنا", PARA, "عاجل الآن", PARA + " ثانية.", "عاجل الآن"]
    page = segment_text_page(lines)
    assert page.body == [PARA, PARA + " ثانية."]


def test_date_lines():
    assert is_date_line("الخميس 17 يوليو 2025")
    assert is_date_line("14 كانون الثاني 2024 | 10:30")
    assert is_date_line("الأحد 12 ربيع الأول 1445 هـ - 10:30 ص")  # Hijri
    assert is_date_line("السبت 5 جويلية 2025")  # Maghrebi month name
    assert is_date_line("2 تیر 1399 - 12:09:08 ب.ظ")  # Solar Hijri, with the Persian afternoon mark
    assert not is_date_line("5")
    assert not is_date_line("قتل 5 أشخاص في 3 أيام")
    assert not is_date_line("رمضان 2024 شهر الخير والبركة")


def test_a_kicker_and_the_repeated_headline_at_the_top_are_header_not_body():
    title = "الحكومة تقر الموازنة العامة"
    kept, dropped = clean_paragraphs(["وزير المالية:", "الحكومة تقر الموازنة العامة", "12 مايو 2024", PARA], title=title)
    assert kept == [PARA]
    assert [reason for _, reason in dropped] == ["kicker", "title", "date"]


def test_lines_above_a_headline_repeated_further_down_stay():
    title = "الحكومة تقر الموازنة العامة"
    paragraphs = [PARA, "تفاصيل الموازنة", "الحكومة تقر الموازنة العامة", PARA + " ثانية."]
    kept, _ = clean_paragraphs(paragraphs, title=title)
    assert kept == paragraphs  # prose came first: the headline quoted later is the article's own


def test_addresses_written_out_in_the_text_are_kept_even_when_linked():
    paragraphs = [PARA, "المصدر:", "https://www.example.org/report-2024", PARA + " ثانية."]
    kept, _ = clean_paragraphs(paragraphs, link_texts=["https://www.example.org/report-2024", "الرئيسية"])
    assert "https://www.example.org/report-2024" in kept
