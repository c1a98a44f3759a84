"""Arabic date expressions in text: what an archivist relies on to date a page."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.core.datetext import (
    hijri_to_gregorian,
    jalali_to_gregorian,
    parse_date_text,
    parse_timestamp,
)

FIXTURES = Path(__file__).parent / "fixtures" / "dates"
BASE = datetime(2025, 6, 15, 12, 0)


def days(text: str, **kw) -> list[date]:
    return [m.value.date() for m in parse_date_text(text, **kw)]


def only(text: str, **kw):
    found = parse_date_text(text, **kw)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- month families

@pytest.mark.parametrize("text, expected", [
    # standard (Egypt, Gulf)
    ("24 يناير 2021", date(2021, 1, 24)), ("3 فبراير 2020", date(2020, 2, 3)),
    ("1 أبريل 2019", date(2019, 4, 1)), ("1 إبريل 2019", date(2019, 4, 1)),
    ("9 يونيه 2018", date(2018, 6, 9)), ("9 يوليه 2018", date(2018, 7, 9)),
    ("31 أغسطس 2020", date(2020, 8, 31)), ("31 ديسمبر 1999", date(1999, 12, 31)),
    # Levantine / Iraqi, with the ordinal written out or as a digit
    ("3 كانون الثاني 2019", date(2019, 1, 3)), ("3 كانون 2 2019", date(2019, 1, 3)),
    ("3 كانون ثاني 2019", date(2019, 1, 3)), ("14 شباط 2005", date(2005, 2, 14)),
    ("8 آذار 2011", date(2011, 3, 8)), ("13 نيسان 1975", date(1975, 4, 13)),
    ("6 أيار 2016", date(2016, 5, 6)), ("5 حزيران 1967", date(1967, 6, 5)),
    ("17 تموز 1968", date(1968, 7, 17)), ("4 آب 2020", date(2020, 8, 4)),
    ("11 أيلول 2001", date(2001, 9, 11)), ("6 تشرين الأول 1973", date(1973, 10, 6)),
    ("22 تشرين الثاني 1943", date(1943, 11, 22)), ("2 تشرين 2 2019", date(2019, 11, 2)),
    ("25 كانون الأول 2020", date(2020, 12, 25)), ("25 كانون 1 2020", date(2020, 12, 25)),
    ("1 مايس 2003", date(2003, 5, 1)),
    # Maghreb: Algeria / Tunisia
    ("1 جانفي 2021", date(2021, 1, 1)), ("8 فيفري 2019", date(2019, 2, 8)),
    ("7 أفريل 2022", date(2022, 4, 7)), ("1 ماي 2023", date(2023, 5, 1)),
    ("10 جوان 2021", date(2021, 6, 10)), ("5 جويلية 1962", date(1962, 7, 5)),
    ("20 أوت 1955", date(1955, 8, 20)),
    # Morocco
    ("30 يوليوز 2019", date(2019, 7, 30)), ("5 غشت 2020", date(2020, 8, 5)),
    ("12 شتنبر 2019", date(2019, 9, 12)), ("6 نونبر 1975", date(1975, 11, 6)),
    ("18 دجنبر 2020", date(2020, 12, 18)),
    # English on Arabic sites, month first
    ("November 9, 2020", date(2020, 11, 9)), ("ديسمبر 25, 2020", date(2020, 12, 25)),
])
def test_month_families(text, expected):
    assert days(text) == [expected]


@pytest.mark.parametrize("text, expected", [
    ("28 آب/اغسطس 2013", date(2013, 8, 28)),
    ("24 نيسان / أبريل 2020", date(2020, 4, 24)),
    ("17 مارس/ آذار 2020", date(2020, 3, 17)),
    ("27 تشرين الثاني/نوفمبر 2024", date(2024, 11, 27)),
    ("4 آب (أغسطس) 2020", date(2020, 8, 4)),
])
def test_double_month_names_are_one_month(text, expected):
    m = only(text)
    assert m.value.date() == expected
    assert m.text == text


def test_locale_decides_a_double_name_whose_halves_disagree():
    # Levantine outlets trust the Levantine name, others the standard one.
    assert days("4 آب/يوليو 2020", locale="ar-LB") == [date(2020, 8, 4)]
    assert days("4 آب/يوليو 2020", locale="ar-EG") == [date(2020, 7, 4)]


def test_eastern_arabic_and_persian_digits():
    assert days("٢٤ نيسان ٢٠٢٠") == [date(2020, 4, 24)]
    assert days("۲۴ آوریل ۲۰۲۰ و ۲۴/۰۴/۲۰۲۰") == [date(2020, 4, 24)]
    assert days("الثلاثاء ١ / ١٢ / ٢٠٢٠") == [date(2020, 12, 1)]


def test_day_names_are_checked_against_the_date():
    assert only("الأربعاء، 28 آب/اغسطس 2013").weekday_ok is True
    assert only("الخميس 28 آب 2013").weekday_ok is False
    assert only("يوم الجمعة 8 فيفري 2019").weekday_ok is True
    assert only("28 آب 2013").weekday_ok is None


def test_weak_month_words_need_a_full_date():
    # آب "father", ماي "my", صفر "zero", رجب and رمضان are names too.
    assert parse_date_text("قال الآب 2020 مرة") == []
    assert parse_date_text("ماي 2020") == []
    assert parse_date_text("رمضان 1445 شهر الخير") == []
    assert days("9 رمضان 1445 هـ") == [date(2024, 3, 19)]


def test_month_and_year_alone_is_month_precision():
    m = only("عادوا من لبنان في سبتمبر 2024 على خلفية")
    assert (m.precision, m.value.date()) == ("month", date(2024, 9, 1))


def test_day_and_month_without_year_is_flagged_as_inferred():
    m = only("منذ 27 تشرين الثاني/نوفمبر الماضي", base=BASE)
    assert m.year_inferred and m.value.date() == date(2024, 11, 27)


# --------------------------------------------------------------------------- numeric dates

def test_numeric_dates_are_day_first_for_arabic_outlets():
    assert days("05/04/2020") == [date(2020, 4, 5)]
    assert days("17.03.2020") == [date(2020, 3, 17)]
    assert days("2020/12/25") == [date(2020, 12, 25)]
    assert days("2020-06-03") == [date(2020, 6, 3)]
    assert days("12/31/2020") == [date(2020, 12, 31)]  # the only reading that exists


def test_us_locale_reads_month_first():
    assert days("05/04/2020", locale="en-US") == [date(2020, 5, 4)]


def test_numeric_year_1300_to_1500_is_hijri_or_solar_hijri():
    hijri = only("12/05/1445")
    assert (hijri.calendar, hijri.value.date()) == ("hijri", hijri_to_gregorian(1445, 5, 12))
    solar = only("1399/02/21", locale="fa-IR")
    assert (solar.calendar, solar.value.date()) == ("jalali", date(2020, 5, 10))
    assert only("۱۳۹۹/۰۲/۲۱").calendar == "jalali"  # Persian digits say Persian
    assert parse_date_text("1445 مارس 12") == []  # never a Gregorian year 1445


def test_not_dates():
    for text in ("الهاتف 010-1234-5678", "النسخة 2020.1.2", "فاز 3-1 على", "بين 17 و45 عاما",
                 "© الحقوق محفوظة 1944 - 2018"):
        assert parse_date_text(text, base=BASE) == [], text


# --------------------------------------------------------------------------- Hijri and Solar Hijri

def test_hijri_month_names_stand_alone_converted():
    m = only("الجمعة 12 رمضان 1445 هـ")
    assert (m.calendar, m.value.date(), m.beside_gregorian, m.weekday_ok) == ("hijri", date(2024, 3, 22), False, True)


def test_hijri_beside_gregorian_is_set_aside():
    text = FIXTURES.joinpath("chardet_culturax_alriyadh_98641.windows-1256.txt").read_bytes().decode("cp1256")
    line = text.splitlines()[1]  # «السبت 15 رجب 1442هـ 27 فبراير 2021م GMT+3 03:47:01am»
    hijri, greg = parse_date_text(line)
    assert hijri.calendar == "hijri" and hijri.beside_gregorian
    assert hijri.value.date() == greg.value.date() == date(2021, 2, 27)
    assert greg.value == datetime(2021, 2, 27, 3, 47, 1, tzinfo=timezone(timedelta(hours=3)))
    assert greg.precision == "second" and not greg.beside_gregorian


def test_hijri_day_follows_the_named_weekday_when_one_off():
    # Umm al-Qura puts 1 Ramadan 1445 on Monday 11 March 2024; a country that saw the moon
    # a day later writes «الثلاثاء 1 رمضان»: the weekday settles it.
    assert days("الاثنين 1 رمضان 1445") == [date(2024, 3, 11)]
    assert days("الثلاثاء 1 رمضان 1445") == [date(2024, 3, 12)]


def test_tabular_hijri_outside_umm_al_qura_range():
    assert hijri_to_gregorian(1, 1, 1) == date(622, 7, 19)  # the Hijri epoch, proleptic Gregorian
    inside = hijri_to_gregorian(1343, 1, 1)
    assert inside == date(1924, 8, 1)
    assert abs((hijri_to_gregorian(1342, 12, 29) - inside).days) <= 3
    assert hijri_to_gregorian(1445, 2, 31) is None
    assert hijri_to_gregorian(1200, 2, 30) is None  # tabular: Safar always has 29 days


@pytest.mark.parametrize("year, gregorian", [
    (1375, date(1996, 3, 20)), (1396, date(2017, 3, 21)), (1399, date(2020, 3, 20)),
    (1400, date(2021, 3, 21)), (1403, date(2024, 3, 20)), (1404, date(2025, 3, 21)),
])
def test_nowruz(year, gregorian):
    assert jalali_to_gregorian(year, 1, 1) == gregorian


def test_persian_dates():
    m = only("2 تير 1399 - 12:09:08 ب.ظ")
    assert m.value == datetime(2020, 6, 22, 12, 9, 8) and m.calendar == "jalali"
    assert only("دوشنبه ۲ تیر ۱۳۹۹").weekday_ok is True
    assert days("سه‌شنبه ۲۹ بهمن ۱۳۹۸") == [date(2020, 2, 18)]


# --------------------------------------------------------------------------- times and offsets

@pytest.mark.parametrize("text, expected", [
    ("24 نيسان 2020 09:22 مساءً", datetime(2020, 4, 24, 21, 22)),
    ("24 نيسان 2020 09:22 م", datetime(2020, 4, 24, 21, 22)),
    ("24 نيسان 2020 12:09 م", datetime(2020, 4, 24, 12, 9)),
    ("24 نيسان 2020 12:30 ص", datetime(2020, 4, 24, 0, 30)),
    ("2020/12/25 - 1:59 صباحًا", datetime(2020, 12, 25, 1, 59)),
    ("الإثنين، 24 أغسطس 2020 09:23 ص", datetime(2020, 8, 24, 9, 23)),
    ("2026-01-08 | 12:42", datetime(2026, 1, 8, 12, 42)),
    ("٠٢:٠٠ الثلاثاء ١ / ١٢ / ٢٠٢٠", datetime(2020, 12, 1, 2, 0)),
])
def test_times_beside_dates(text, expected):
    m = only(text)
    assert m.value == expected and m.precision == "minute"


def test_offsets_next_to_times():
    assert only("GMT 17:27 17.03.2020").value == datetime(2020, 3, 17, 17, 27, tzinfo=timezone.utc)
    m = only("5 مايو 2024 الساعة 10:30 بتوقيت مكة")
    assert m.value.utcoffset() == timedelta(hours=3) and m.value.hour == 10
    assert only("5 مايو 2024 10:30 +02:00").value.utcoffset() == timedelta(hours=2)


# --------------------------------------------------------------------------- relative times

@pytest.mark.parametrize("text, ago", [
    ("منذ 3 ساعات", timedelta(hours=3)), ("منذ ساعتين", timedelta(hours=2)),
    ("منذ ساعة", timedelta(hours=1)), ("منذ 5 دقائق", timedelta(minutes=5)),
    ("منذ ثلاث ساعات", timedelta(hours=3)), ("منذ ساعة و 20 دقيقة", timedelta(hours=1, minutes=20)),
])
def test_relative_hours(text, ago):
    m = only(text, base=BASE)
    assert m.relative and m.precision == "minute" and m.value == BASE - ago


@pytest.mark.parametrize("text, ago", [
    ("أمس", 1), ("يوم أمس", 1), ("البارحة", 1), ("أول أمس", 2), ("أول من أمس", 2),
    ("قبل يومين", 2), ("منذ 3 أيام", 3), ("قبل أسبوع", 7), ("منذ أسبوعين", 14),
])
def test_relative_days(text, ago):
    m = only(text, base=BASE)
    assert m.relative and m.precision == "day" and m.value.date() == BASE.date() - timedelta(days=ago)


def test_relative_day_with_time():
    assert only("أمس 10:30 م", base=BASE).value == datetime(2025, 6, 14, 22, 30)


def test_relative_months_and_years_are_calendar_steps():
    assert days("منذ شهر", base=datetime(2024, 3, 31)) == [date(2024, 2, 29)]
    assert days("قبل 3 سنوات", base=datetime(2024, 2, 29)) == [date(2021, 2, 28)]


def test_relative_base_keeps_its_zone():
    base = datetime(2025, 6, 15, 1, 0, tzinfo=timezone(timedelta(hours=3)))
    m = only("منذ 2 ساعات", base=base)
    assert m.value == base - timedelta(hours=2) and m.value.utcoffset() == timedelta(hours=3)


def test_words_that_only_look_relative():
    for text in ("منذ عام 1987", "قبل يومين من الانتخابات", "قبل أيام", "منذ ساعات الصباح",
                 "اليوم السابع", "أكد الوزير اليوم أن", "أمسية شعرية"):
        assert [m for m in parse_date_text(text, base=BASE) if m.relative] == [], text


# --------------------------------------------------------------------------- spans

def test_spans_point_into_the_original_text():
    text = "أعلنت الوزارة في 7 يناير، 2015، الساعة 11:00 صباحاً وأمس عن خطة جديدة"
    found = parse_date_text(text, base=BASE)
    assert [m.text for m in found] == ["7 يناير، 2015، الساعة 11:00 صباحاً", "أمس"]
    for m in found:
        assert text[m.start:m.end] == m.text


DIGITS = {"ascii": "0123456789", "eastern": "٠١٢٣٤٥٦٧٨٩", "persian": "۰۱۲۳۴۵۶۷۸۹"}
STANDARD = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
            "نوفمبر", "ديسمبر"]
LEVANT = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
          "تشرين الثاني", "كانون الأول"]
MAGHREB = ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر", "أكتوبر", "نوفمبر",
           "ديسمبر"]


@given(day=st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31)),
       family=st.sampled_from([STANDARD, LEVANT, MAGHREB]), digits=st.sampled_from(sorted(DIGITS)),
       prefix=st.sampled_from(["", "نشر في ", "القاهرة - ", "بتاريخ: "]),
       suffix=st.sampled_from(["", " - وكالات", "م", "، آخر تحديث"]))
@settings(max_examples=300, derandomize=True)
def test_any_written_date_reads_back(day, family, digits, prefix, suffix):
    def num(n: int) -> str:
        return str(n).translate(str.maketrans("0123456789", DIGITS[digits]))

    text = f"{prefix}{num(day.day)} {family[day.month - 1]} {num(day.year)}{suffix}"
    assert days(text) == [day]


# --------------------------------------------------------------------------- machine timestamps

@pytest.mark.parametrize("raw, expected, precision", [
    ("2020-06-03T03:01+0400", datetime(2020, 6, 3, 3, 1, tzinfo=timezone(timedelta(hours=4))), "minute"),
    ("2020-02-18 T 07:20:50 +0330", datetime(2020, 2, 18, 7, 20, 50, tzinfo=timezone(timedelta(hours=3, minutes=30))),
     "second"),
    ("2026-01-08T11:42:50Z", datetime(2026, 1, 8, 11, 42, 50, tzinfo=timezone.utc), "second"),
    ("2020-12-01 02:00:00", datetime(2020, 12, 1, 2, 0), "second"),
    ("2020-11-09", datetime(2020, 11, 9), "day"),
    ("Sun, 18 Feb 2018 21:35:43 +0400", datetime(2018, 2, 18, 21, 35, 43, tzinfo=timezone(timedelta(hours=4))),
     "second"),
    ("Wed, 21 Oct 2015 07:28:00 GMT", datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc), "second"),
    ("الأربعاء، 07 أكتوبر 2020 - 12:09 م", datetime(2020, 10, 7, 12, 9), "minute"),
    ("۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹", datetime(2020, 5, 10, 18, 59), "minute"),
])
def test_parse_timestamp(raw, expected, precision):
    assert parse_timestamp(raw) == (expected, precision)


def test_parse_timestamp_rejects_non_dates():
    for raw in ("", "1588107198", "غير معروف", "2020-13-45"):
        assert parse_timestamp(raw) is None, raw


# --------------------------------------------------------------------------- dateparser's Arabic cases

DATEPARSER = json.loads((FIXTURES / "dateparser_arabic_date_strings.json").read_text(encoding="utf-8"))["cases"]
_NAMES = {"datetime": datetime}


def _case_id(case: dict) -> str:
    return f"{case['test_function']}:{case['line']}"


def _ago(base: datetime, ago: dict) -> datetime:
    from crawler.core.datetext import _subtract
    return _subtract(base, ago)


_FRESHNESS = {"2 day": {"days": 2}, "1 day ago": {"days": 1}, "4 year": {"years": 4}, "ago 2 hour": {"hours": 2},
              "0 day ago": {"days": 0}}


@pytest.mark.parametrize("case", DATEPARSER, ids=_case_id)
def test_dateparser_arabic_cases(case):
    fn, args, kwargs = case["test_function"], case["args"], case["kwargs"]
    if fn == "test_translation":  # args[2] is dateparser's English translation
        assert only(args[1]).value == datetime.strptime(args[2], "%d %B %Y %I:%M %p")
    elif fn in ("test_split", "test_search_date_string"):
        m = only(args[1])
        assert m.text == args[1].strip()
        day, hour, minute = map(int, re.findall(r"\d+", args[1].replace("2015", ""))[:3])
        hour = hour % 12 + (12 if "مساء" in args[1] else 0)
        assert m.value == datetime(2015, 1, day, hour, minute)  # every such case is January 2015
    elif fn == "test_freshness_translation":
        m = only(args[1], base=BASE)
        expected = _ago(BASE, _FRESHNESS[args[2]])
        assert m.relative and m.value.date() == expected.date()
        if "hour" in args[2]:
            assert m.value == expected
    elif fn == "test_applicable_languages":
        assert only(args[1], base=BASE).value == BASE - timedelta(hours=2)
    elif fn == "test_not_applicable_languages":
        assert parse_date_text(args[1], base=BASE) == []  # Persian wording, not Arabic
    elif fn in ("test_relative_past_dates", "test_normalized_relative_dates"):
        m = only(args[0], base=BASE)
        expected = _ago(BASE, kwargs["ago"])
        assert m.value.date() == expected.date()
        if m.precision == "minute":
            assert m.value == expected
    elif fn == "test_datetime_parsing":
        m = only(kwargs["dt_string"])
        assert m.calendar == "hijri" and m.value == eval(kwargs["dt_obj"], _NAMES)  # literal from the JSON
    elif fn == "test_search_and_parse":
        base = eval(kwargs["settings"]["RELATIVE_BASE"], _NAMES)
        found = parse_date_text(args[1], base=base)
        assert [(m.value, m.text) for m in found] == [
            (eval(when, _NAMES), m.text) for (sub, when), m in zip(args[2], found) if m.text in sub]
        assert len(found) == len(args[2])
    elif fn == "test_detection":
        assert [m.value.year for m in parse_date_text(args[1])] == [1938, 1939]
    else:
        pytest.fail(f"unknown case kind {fn}")
