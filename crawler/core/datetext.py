"""Arabic (and Persian) date expressions in running text, and machine timestamps.

Pure: no I/O, no Scrapy, no SQLAlchemy.  The text is matched on a *folded* copy made
with :func:`crawler.core.arabic.normalize` one character at a time (Eastern Arabic and
Persian digits to ASCII, alef/yaa/taa-marbuta spellings unified, diacritics and
tatweel dropped, Latin lower-cased), and every match is mapped back to its span in
the original text, which is never changed.

Families understood:

* month names: standard (يناير ... ديسمبر), Levantine/Iraqi (كانون الثاني ... كانون الأول,
  also ``كانون 2``), Maghrebi (جانفي، فيفري، أفريل، ماي، جوان، جويلية، أوت; يوليوز، غشت،
  شتنبر، نونبر، دجنبر), English, Hijri (محرم ... ذو الحجة) and Persian solar months;
  double names such as ``آب/أغسطس`` or ``نيسان (أبريل)`` count as one month;
* day names (Arabic and Persian), checked against the date they stand beside;
* numeric dates ``Y-M-D`` and ``D/M/Y`` (``M/D/Y`` only for a US-English locale), with
  years 1300-1500 read as Hijri (Arabic) or Solar Hijri (Persian locale or digits);
* the markers ``هـ`` (Hijri), ``م`` (Gregorian), ``ه.ش`` (Solar Hijri);
* times ``HH:MM[:SS]`` with ص/م, صباحاً/مساءً, am/pm, ق.ظ/ب.ظ and an optional offset
  (``GMT+3``, ``+03:00``, ``بتوقيت مكة``) next to a date;
* relative times against a base: ``منذ 3 ساعات``, ``قبل يومين``, ``أمس``, ``أول أمس``,
  ``اليوم السابق``, and bare durations (``4 عام``) when they are the whole text.

Hijri dates are converted with the Umm al-Qura calendar (``hijridate``) inside its range
(1343-1500 AH) and with the arithmetic (tabular) Islamic calendar outside it.
"""
from __future__ import annotations

import calendar
import email.utils
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from hijridate import Hijri

from crawler.core import lexicon as lx
from crawler.core.arabic import normalize

__all__ = [
    "CALENDAR_WORDS",
    "DateMatch",
    "fold",
    "fold_text",
    "hijri_to_gregorian",
    "jalali_to_gregorian",
    "parse_date_text",
    "parse_timestamp",
    "parse_offset",
]


@dataclass(frozen=True)
class DateMatch:
    """One date expression found in a text.

    ``value`` is naive unless the text gave an offset next to the time.  ``precision`` is
    ``'month'`` (month and year only), ``'day'``, ``'minute'`` or ``'second'``.
    ``calendar`` is the calendar the text was written in (the value is always Gregorian).
    ``beside_gregorian`` marks a Hijri or Solar Hijri date that stands next to a Gregorian
    one (it then only repeats it).  ``weekday_ok`` is ``None`` when no day name was given.
    """

    start: int
    end: int
    text: str
    value: datetime
    precision: str
    calendar: str = "gregorian"
    relative: bool = False
    year_inferred: bool = False
    weekday_ok: bool | None = None
    beside_gregorian: bool = False


# --------------------------------------------------------------------------- folding


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch.isspace():
        return " "
    return normalize(ch)


_FOLD_TABLE: dict[int, str] = {}  # code point -> _fold_char, for str.translate
_FOLD_MULTI: set[int] = set()  # code points that fold to no character or to several


def fold(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` for matching; return the folded string and, per folded character,
    the index of the original character it came from."""
    folded, index = _fold(text)
    return folded, list(range(len(text))) if index is None else index


def _fold(text: str) -> tuple[str, list[int] | None]:
    """:func:`fold`, with ``None`` for the index when every character folds to exactly one."""
    chars = set(text)
    if len(_FOLD_TABLE) > 65536:  # keep the memo bounded (a page uses a few hundred characters)
        _FOLD_TABLE.clear()
        _FOLD_MULTI.clear()
    for ch in chars:
        code = ord(ch)
        if code not in _FOLD_TABLE:
            folded = _fold_char(ch)
            _FOLD_TABLE[code] = folded
            if len(folded) != 1:
                _FOLD_MULTI.add(code)
    if _FOLD_MULTI.isdisjoint(map(ord, chars)):  # one character for one: translate, indexes unchanged
        return text.translate(_FOLD_TABLE), None
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        f = _fold_char(ch)
        if f:
            out.append(f)
            index.extend([i] * len(f))
    return "".join(out), index


def fold_text(text: str) -> str:
    """The folded string of :func:`fold`, for a caller that needs no index."""
    return _fold(text)[0]


_f = fold_text


def _alt(words: list[str]) -> str:
    """Regex alternation of folded words, longest first, spaces matching any white space."""
    uniq = sorted({w for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s*") for w in uniq)


# --------------------------------------------------------------------------- tables

# (calendar, month) -> spellings (crawler.core.lexicon).  Weak names are ordinary words too (آب
# "father", ماي "my", صفر "zero", مهر "dowry" ...): they count only in a full day-month-year date.
_GREGORIAN = lx.GREGORIAN_MONTHS
_ENGLISH_SHORT = lx.ENGLISH_SHORT_MONTHS
# Levantine months with an ordinal: كانون الثاني / كانون ثاني / كانون 2 ...
_LEVANT_ORDINAL = lx.LEVANT_ORDINAL_MONTHS
_FIRST = lx.ORDINAL_FIRST
_SECOND = lx.ORDINAL_SECOND
_WEAK_GREGORIAN = lx.WEAK_GREGORIAN
_HIJRI = lx.HIJRI_MONTHS
_JALALI = lx.JALALI_MONTHS

_MONTHS: dict[str, tuple[str, int, bool]] = {}  # folded name -> (calendar, month, weak)


def _key(name: str) -> str:
    """Lookup key of a matched name: folded, without white space (كانون 2 == كانون2)."""
    return re.sub(r"\s+", "", name)


def _add_month(name: str, cal: str, month: int, weak: bool) -> None:
    _MONTHS.setdefault(_f(name), (cal, month, weak))
    _MONTH_KEYS.setdefault(_key(_f(name)), (cal, month, weak))


_MONTH_KEYS: dict[str, tuple[str, int, bool]] = {}


for _m, _names in _GREGORIAN.items():
    for _n in _names:
        _add_month(_n, "gregorian", _m, _n in _WEAK_GREGORIAN)
for _m, _n in _ENGLISH_SHORT.items():
    _add_month(_n, "gregorian", _m, True)
for (_base, _ordinal), _m in _LEVANT_ORDINAL.items():
    for _o in _FIRST if _ordinal == 1 else _SECOND:
        _add_month(f"{_base} {_o}", "gregorian", _m, False)
for _m, _names in _HIJRI.items():
    for _n in _names:
        _add_month(_n, "hijri", _m, _m in lx.WEAK_HIJRI_MONTHS)
for _m, _names in _JALALI.items():
    for _n in _names:
        _add_month(_n, "jalali", _m, True)

# Levantine double names are standard in the press: which family a name belongs to
# decides a disagreement between the two halves of a double name (rare typo).
_LEVANT_NAMES = {_f(n) for n in lx.LEVANT_MONTHS} | {
    k for k in _MONTH_KEYS if k.startswith(tuple({base for base, _ in _LEVANT_ORDINAL}))}

_DAYS: dict[str, int] = {}  # folded day name -> Python weekday (Monday 0)
for _names, _wd in lx.WEEKDAYS:
    for _n in _names:
        _DAYS[_f(_n)] = _wd

_DAY_KEYS = {_key(k): v for k, v in _DAYS.items()}

_NUMBER_WORDS: dict[str, int] = {}
for _names, _v in lx.NUMBER_WORDS:
    for _n in _names:
        _NUMBER_WORDS[_f(_n)] = _v

# unit spelling -> (unit, count implied by the word, None when a number must be given)
_UNITS: dict[str, tuple[str, int | None]] = {}
for _unit, _single, _plural, _dual in lx.TIME_UNITS:
    for _n in _single:
        _UNITS[_f(_n)] = (_unit, 1)
    for _n in _plural:
        _UNITS[_f(_n)] = (_unit, None)  # a plural needs its number: قبل أيام is vague
    for _n in _dual:
        _UNITS[_f(_n)] = (_unit, 2)

_CITY_ZONES = lx.CITY_ZONES
_CITY_FOLDED = {_f(k): v for k, v in _CITY_ZONES.items()}

CALENDAR_WORDS = frozenset(
    word for name in (*_MONTHS, *_DAYS) for word in name.split() if not word.isdecimal()
)
"""Every word of the month and weekday names read here (Gregorian in its Arabic, Levantine, Maghrebi
and English spellings, Hijri, Solar Hijri), folded as :func:`crawler.core.arabic.normalize` folds them:
what tells a line that is only a date from a line of text."""

# --------------------------------------------------------------------------- regexes

_MONTH_ALT = _alt(list(_MONTHS))
_M = rf"(?<!\w)(?:{_MONTH_ALT})(?!\w)"
_MONTH_EXPR = rf"{_M}(?:\s*[/(\-–|]\s*{_M}\s*\)?)?"
_STRONG_ALT = _alt([k for k, (cal, _, weak) in _MONTHS.items() if cal == "gregorian" and not weak])
_DAYNAME = rf"(?<!\w)(?:{_f('يوم')}\s+)?(?:{_alt(list(_DAYS))})(?!\w)"
_MARKER = r"(?:ه\s*\.?\s*ش|ه\s*\.?\s*ق|ميلاديه|ميلادي|هجريه|هجري|للميلاد|للهجره|م|ه|ش)(?!\w)"
_YEAR_WORD = rf"(?:{_f('سنة')}|{_f('عام')})"

_DMY = re.compile(
    rf"(?:(?P<wd>{_DAYNAME})[\s,،\-]*)?(?<![0-9])(?P<d>[0-9]{{1,2}})(?![0-9])\s*(?:{_f('من')}\s+)?"
    rf"(?:[/\-.]\s*)?(?P<m>{_MONTH_EXPR})"
    rf"(?:[\s,،\-/.]*(?:{_YEAR_WORD}\s+)?(?P<y>[0-9]{{4}})(?![0-9])(?:\s*(?P<mk>{_MARKER}))?)?"
)
_MDY = re.compile(
    rf"(?:(?P<wd>{_DAYNAME})[\s,،\-]*)?(?P<m>{_MONTH_EXPR})\s*(?<![0-9])(?P<d>[0-9]{{1,2}})(?![0-9])"
    rf"(?:st|nd|rd|th)?(?:\s*[,،]\s*|\s+)(?P<y>[0-9]{{4}})(?![0-9])(?:\s*(?P<mk>{_MARKER}))?"
)
_MY = re.compile(
    rf"(?<!\w)(?P<m>{_STRONG_ALT})(?!\w)[\s,،]*(?:{_YEAR_WORD}\s+)?(?P<y>[0-9]{{4}})(?![0-9])"
)
_NUM = re.compile(
    rf"(?:(?P<wd>{_DAYNAME})[\s,،\-]*)?(?<![0-9/.\-])(?P<a>[0-9]{{1,4}})\s*(?P<s>[/\-.])\s*(?P<b>[0-9]{{1,2}})"
    rf"\s*(?P=s)\s*(?P<c>[0-9]{{1,4}})(?![0-9]|\s*[/\-][0-9]|\.[0-9])(?:\s*(?P<mk>{_MARKER}))?"
)
_AMPM = (r"(?:صباحا|صباح|مساءا|مساء|ظهرا|الظهر|عصرا|ليلا|فجرا|ق\s*\.\s*ظ|ب\s*\.\s*ظ|"
         r"a\.?\s*m\.?|p\.?\s*m\.?|ص|م)(?!\w)")
_TZ = (rf"(?:\(?\s*(?:gmt|utc)\s*(?:[+-]\s*[0-9]{{1,2}}(?::?[0-9]{{2}})?)?\s*\)?"
       rf"|[+-][0-9]{{2}}:?[0-9]{{2}}(?![0-9])|z(?!\w)|ت\s*\.\s*غ"
       rf"|\(?\s*بتوقيت\s+(?:{_alt(list(_CITY_FOLDED))})(?!\w)\s*\)?)")
_TIME = (rf"(?<![0-9:])(?P<H>[0-9]{{1,2}})\s*:\s*(?P<M>[0-5][0-9])(?:\s*:\s*(?P<S>[0-5][0-9])(?:[.,][0-9]+)?)?(?![0-9])"
         rf"(?:\s*(?P<ap>{_AMPM}))?(?:\s*(?P<tz>{_TZ}))?")
_GAP = rf"(?:[\s,،\-–—|@/]|t(?=[0-9])|{_f('الساعة')}|{_f('في')}|{_f('على')}|{_f('عند')}|at(?!\w))*"
_TIME_AFTER = re.compile(rf"{_GAP}(?:(?P<tz0>{_TZ}){_GAP})?{_TIME}")
_TIME_BEFORE = re.compile(rf"(?:(?P<tz0>{_TZ})\s*)?{_TIME}{_GAP}$")

_NUMWORD_ALT = _alt(list(_NUMBER_WORDS))
_UNIT_ALT = _alt(list(_UNITS))
_REL_ONE = rf"(?:(?:[0-9]+|(?:{_NUMWORD_ALT})(?!\w))\s*)?(?<!\w)(?:{_UNIT_ALT})(?!\w)"
_REL_ONE_RE = re.compile(rf"(?:(?P<n>[0-9]+|{_NUMWORD_ALT})(?!\w)\s*)?(?<!\w)(?P<u>{_UNIT_ALT})(?!\w)")
_REL_SEQ = rf"{_REL_ONE}(?:\s*(?:[,،]|و)\s*{_REL_ONE})*"
# not "منذ عام 1987" (since the year 1987) nor "قبل يومين من الانتخابات" (two days before)
_REL_AGO = re.compile(rf"(?<!\w)(?:{_f('منذ')}|{_f('قبل')})\s*(?P<seq>{_REL_SEQ})(?!\s*[0-9])(?!\s*{_f('من')}(?!\w))")
_REL_BARE = re.compile(rf"^\s*(?P<seq>{_REL_SEQ})\s*$")
_WORD_START = r"(?:(?<!\w)|(?<=(?<!\w)[وف]))"  # a word start, or after the conjunction و/ف
_REL_WORDS: list[tuple[re.Pattern[str], int, bool]] = [
    # (pattern, days ago, only when it is the whole text or stands beside a time)
    (re.compile(rf"{_WORD_START}{_f('أول')}\s+(?:{_f('من')}\s+)?{_f('أمس')}(?!\w)"), 2, False),
    (re.compile(rf"{_WORD_START}(?:{_f('يوم')}\s+)?{_f('أمس')}(?!\w)"), 1, False),
    (re.compile(rf"{_WORD_START}{_f('البارحة')}(?!\w)"), 1, False),
    (re.compile(rf"(?<!\w){_f('اليوم السابق')}(?!\w)"), 1, False),
    (re.compile(rf"(?<!\w){_f('اليوم')}(?!\w)"), 0, True),
]
_PERSIAN_LETTERS = re.compile("[\u067e\u0686\u0698\u06af\u06cc\u06a9]")
# What each family of expressions cannot do without (see parse_date_text): a month name as _M
# matches it, an ASCII digit (the folded form of every digit), the words of _REL_AGO and _REL_WORDS.
_ANY_MONTH = re.compile(_M)
_ANY_DIGIT = re.compile("[0-9]")
_RELATIVE_WORD = re.compile("|".join(map(re.escape, (_f("منذ"), _f("قبل"), _f("أمس"), _f("البارحة"), _f("اليوم")))))


# --------------------------------------------------------------------------- calendars


def _tabular_hijri(year: int, month: int, day: int) -> date | None:
    """Arithmetic (civil, epoch 16 July 622) Islamic calendar to Gregorian."""
    if not (1 <= month <= 12 and 1 <= day <= 30):
        return None
    month_len = 30 if month % 2 == 1 else 29
    if month == 12 and (14 + 11 * year) % 30 < 11:
        month_len = 30
    if day > month_len:
        return None
    jdn = day + math.ceil(29.5 * (month - 1)) + (year - 1) * 354 + (3 + 11 * year) // 30 + 1948439
    return date.fromordinal(jdn - 1721425)


def hijri_to_gregorian(year: int, month: int, day: int) -> date | None:
    """Hijri date to Gregorian: Umm al-Qura inside 1343-1500 AH, tabular outside; None if invalid."""
    try:
        g = Hijri(year, month, day).to_gregorian()
        return date(g.year, g.month, g.day)
    except OverflowError:
        return _tabular_hijri(year, month, day)
    except ValueError:
        return None


def jalali_to_gregorian(year: int, month: int, day: int) -> date | None:
    """Solar Hijri (Persian) date to Gregorian (33-year arithmetic cycle); None if invalid."""
    if not (1 <= month <= 12 and 1 <= day <= (31 if month <= 6 else 30)):
        return None
    jy = year + 1595
    days = (-355668 + 365 * jy + (jy // 33) * 8 + ((jy % 33) + 3) // 4 + day
            + ((month - 1) * 31 if month < 7 else (month - 7) * 30 + 186))
    gy = 400 * (days // 146097)
    days %= 146097
    if days > 36524:
        days -= 1
        gy += 100 * (days // 36524)
        days %= 36524
        if days >= 365:
            days += 1
    gy += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        gy += (days - 1) // 365
        days = (days - 1) % 365
    return date(gy, 1, 1) + timedelta(days=days)


def _to_gregorian(cal: str, y: int, m: int, d: int) -> date | None:
    if cal == "hijri":
        return hijri_to_gregorian(y, m, d)
    if cal == "jalali":
        return jalali_to_gregorian(y, m, d)
    try:
        return date(y, m, d)
    except ValueError:
        return None


# --------------------------------------------------------------------------- pieces


_UTC_AR = re.compile(r"ت\s*\.\s*غ")
_NUMERIC_OFFSET = re.compile(r"([+-])\s*([0-9]{1,2})(?::?([0-9]{2}))?$")


def parse_offset(tz: str) -> tzinfo | None:
    """A folded offset expression (``gmt+0400``, ``+03:00``, ``z``, ``بتوقيت مكه``) as a tzinfo."""
    tz = tz.strip().strip("()").strip()
    if tz in ("z", "gmt", "utc") or _UTC_AR.fullmatch(tz):
        return timezone.utc
    m = _NUMERIC_OFFSET.search(tz)  # the common case first: a city name never ends in a digit
    if not m:
        for city, zone in _CITY_FOLDED.items():
            if tz.endswith(city):
                return ZoneInfo(zone)
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))


def _hour24(hour: int, ampm: str | None) -> int | None:
    if ampm:
        a = ampm.replace(" ", "").replace(".", "")
        pm = a in ("م", "مساء", "مساءا", "ظهرا", "الظهر", "عصرا", "pm", "بظ") or (a == "ليلا" and hour >= 6)
        if pm and hour < 12:
            hour += 12
        elif not pm and hour == 12 and a not in ("ظهرا", "الظهر"):
            hour = 0
    return hour if 0 <= hour <= 23 else None


def _month_of(expr: str, locale: str | None) -> tuple[str, int, bool] | None:
    """The month named by a (possibly double) month expression."""
    names = [m.group(0) for m in re.finditer(_M, expr)]
    found = [(_key(n), _MONTH_KEYS[_key(n)]) for n in names if _key(n) in _MONTH_KEYS]
    if not found:
        return None
    if len(found) == 1:
        return found[0][1]
    (n1, a), (_, b) = found[0], found[1]
    if a[:2] == b[:2]:
        return a[0], a[1], a[2] and b[2]
    levant = _levantine(locale)
    # Disagreeing halves: trust the family the source's locale writes.
    if (n1 in _LEVANT_NAMES) == levant:
        return a
    return b


def _levantine(locale: str | None) -> bool:
    return bool(locale and re.search(r"(lb|sy|iq|jo|ps)$", locale.lower()))


def _calendar_for_year(year: int, marker: str | None, digits: str, locale: str | None) -> str | None:
    """Which calendar a numeric year belongs to, or None when it fits none."""
    mk = (marker or "").replace(" ", "").replace(".", "")
    if mk in ("م", "ميلادي", "ميلاديه", "للميلاد"):
        return "gregorian" if 1600 <= year <= 2999 else None
    if mk in ("هش", "ش"):
        return "jalali" if 1200 <= year <= 1600 else None
    if mk in ("ه", "هق", "هجري", "هجريه", "للهجره"):
        return "hijri" if 1200 <= year <= 1600 else None
    if 1300 <= year <= 1500:
        persian = (locale or "").lower().startswith("fa") or bool(re.search("[\u06f0-\u06f9]", digits))
        return "jalali" if persian else "hijri"
    return "gregorian" if 1600 <= year <= 2999 else None


# --------------------------------------------------------------------------- matching


@dataclass
class _Raw:
    start: int
    end: int
    value: datetime
    precision: str
    calendar: str
    relative: bool = False
    year_inferred: bool = False
    weekday_ok: bool | None = None


def _weekday_check(wd: str | None, cal: str, day: date) -> tuple[date, bool | None]:
    """Check a named weekday; a Hijri day one off from its weekday follows the weekday
    (local moon sighting differs from Umm al-Qura by a day)."""
    if not wd:
        return day, None
    name = re.sub(rf"^{_f('يوم')}\s+", "", wd).strip()
    want = _DAY_KEYS.get(_key(name))
    if want is None:
        return day, None
    if day.weekday() == want:
        return day, True
    if cal == "hijri":
        for shift in (-1, 1):
            if (day + timedelta(days=shift)).weekday() == want:
                return day + timedelta(days=shift), True
    return day, False


def _infer_year(month: int, day: int, base: datetime) -> int | None:
    """The year that puts day/month on or before ``base`` (plus a day), most recent first."""
    for y in (base.year, base.year - 1):
        try:
            if date(y, month, day) <= base.date() + timedelta(days=1):
                return y
        except ValueError:
            continue
    return None


def _named(folded: str, src: str, locale: str | None, base: datetime) -> list[_Raw]:
    out: list[_Raw] = []
    for rx in (_DMY, _MDY):
        for m in rx.finditer(folded):
            month = _month_of(m.group("m"), locale)
            if month is None:
                continue
            cal, mon, weak = month
            d = int(m.group("d"))
            year_inferred = m.group("y") is None
            if year_inferred:
                if weak or cal != "gregorian":
                    continue
                y = _infer_year(mon, d, base)
                if y is None:
                    continue
            else:
                y = int(m.group("y"))
                ycal = _calendar_for_year(y, m.group("mk"), src[m.start("y"):m.end("y")], locale)
                if ycal is None or (cal == "gregorian") != (ycal == "gregorian"):
                    continue
            day = _to_gregorian(cal, y, mon, d)
            if day is None:
                continue
            day, wok = _weekday_check(m.group("wd"), cal, day)
            out.append(_Raw(m.start(), m.end(), datetime.combine(day, time()), "day", cal,
                            year_inferred=year_inferred, weekday_ok=wok))
    for m in _MY.finditer(folded):
        cal, mon, _ = _MONTH_KEYS[_key(m.group("m"))]
        y = int(m.group("y"))
        if 1600 <= y <= 2999:
            out.append(_Raw(m.start(), m.end(), datetime(y, mon, 1), "month", cal))
    return out


def _numeric(folded: str, src: str, locale: str | None) -> list[_Raw]:
    out: list[_Raw] = []
    us = (locale or "").lower().replace("_", "-") in ("en-us", "us")
    for m in _NUM.finditer(folded):
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        if len(a) == 4 and len(c) <= 2:
            y, mo, d, yspan = int(a), int(b), int(c), m.span("a")
        elif len(c) == 4 and len(a) <= 2:
            y, yspan = int(c), m.span("c")
            x, z = int(a), int(b)
            if z > 12 >= x or (us and x <= 12 and z <= 31):
                mo, d = x, z
            else:
                d, mo = x, z
        else:
            continue
        if m.group("s") == "." and len(a) == 4:
            continue  # 2020.1.2 is more often a version number than a date
        cal = _calendar_for_year(y, m.group("mk"), src[yspan[0]:yspan[1]], locale)
        if cal is None:
            continue
        day = _to_gregorian(cal, y, mo, d)
        if day is None:
            continue
        day, wok = _weekday_check(m.group("wd"), cal, day)
        out.append(_Raw(m.start(), m.end(), datetime.combine(day, time()), "day", cal, weekday_ok=wok))
    return out


def _subtract(base: datetime, amounts: dict[str, int]) -> datetime:
    months = amounts.get("months", 0) + 12 * amounts.get("years", 0)
    y, mo = divmod(base.year * 12 + base.month - 1 - months, 12)
    mo += 1
    d = min(base.day, calendar.monthrange(y, mo)[1])
    moved = base.replace(year=y, month=mo, day=d)
    return moved - timedelta(weeks=amounts.get("weeks", 0), days=amounts.get("days", 0),
                             hours=amounts.get("hours", 0), minutes=amounts.get("minutes", 0),
                             seconds=amounts.get("seconds", 0))


def _durations(seq: str) -> dict[str, int] | None:
    """Units and counts of a duration; None when a plural stands without its number."""
    amounts: dict[str, int] = {}
    for m in _REL_ONE_RE.finditer(seq):
        unit, implied = _UNITS[m.group("u")]
        n = m.group("n")
        count = int(n) if n and n.isdigit() else _NUMBER_WORDS[n] if n else implied
        if count is None:
            return None
        amounts[unit] = amounts.get(unit, 0) + count
    return amounts


def _relative_value(base: datetime, amounts: dict[str, int]) -> tuple[datetime, str] | None:
    """``base`` moved back by ``amounts``; None when that leaves the calendar (``منذ 9999 سنة``)."""
    try:
        value = _subtract(base, amounts)
    except (ValueError, OverflowError):
        return None
    if any(amounts.get(u) for u in ("hours", "minutes", "seconds")):
        return value.replace(second=0, microsecond=0), "minute"
    return value.replace(hour=0, minute=0, second=0, microsecond=0), "day"


def _relative(folded: str, src: str, index: list[int], base: datetime) -> list[_Raw]:
    out: list[_Raw] = []
    worded = _RELATIVE_WORD.search(folded) is not None  # else neither _REL_AGO nor _REL_WORDS can match
    spans = [(m.start(), m.end(), m.group("seq")) for m in _REL_AGO.finditer(folded)] if worded else []
    bare = _REL_BARE.match(folded)
    if bare and not spans:
        spans.append((bare.start("seq"), bare.end("seq"), bare.group("seq")))
    for s, e, seq in spans:
        if _PERSIAN_LETTERS.search(src[index[s]:index[e - 1] + 1]):
            continue  # Persian wording (دقیقه): not an Arabic expression
        amounts = _durations(seq)
        if amounts is None:
            continue
        moved = _relative_value(base, amounts)
        if moved is None:
            continue
        out.append(_Raw(s, e, *moved, "gregorian", relative=True))
    whole = folded.strip()
    for rx, days, restricted in _REL_WORDS if worded else ():
        for m in rx.finditer(folded):
            if restricted and m.group(0) != whole and not _TIME_AFTER.match(folded, m.end()):
                continue
            moved = _relative_value(base, {"days": days})
            if moved is not None:
                out.append(_Raw(m.start(), m.end(), *moved, "gregorian", relative=True))
    return out


def _attach_time(raw: _Raw, folded: str) -> _Raw:
    """Extend a day-precision match with a time (and offset) written right after or before it."""
    if raw.precision != "day":
        return raw
    after = _TIME_AFTER.match(folded, raw.end)
    before = None if after else _TIME_BEFORE.search(folded[max(0, raw.start - 48):raw.start])
    m = after or before
    if m is None:
        return raw
    hour = _hour24(int(m.group("H")), m.group("ap"))
    if hour is None:
        return raw
    tzs = m.group("tz") or m.group("tz0")
    tz = parse_offset(tzs) if tzs else None
    value = raw.value.replace(hour=hour, minute=int(m.group("M")), second=int(m.group("S") or 0))
    if tz is not None:
        value = value.replace(tzinfo=tz)
    precision = "second" if m.group("S") else "minute"
    if after:
        return _Raw(raw.start, m.end(), value, precision, raw.calendar, raw.relative,
                    raw.year_inferred, raw.weekday_ok)
    start = raw.start - (len(folded[max(0, raw.start - 48):raw.start]) - m.start())
    return _Raw(start, raw.end, value, precision, raw.calendar, raw.relative, raw.year_inferred, raw.weekday_ok)


_RANK = {"second": 4, "minute": 3, "day": 2, "month": 1}


def _select(raws: list[_Raw], length: int) -> list[_Raw]:
    """Drop matches overlapping a longer (then more precise, absolute) one.

    The characters already taken are marked in one array, so a line of thousands of dates costs
    the length of its matches, not their number squared."""
    order = sorted(raws, key=lambda r: (-(r.end - r.start), -_RANK[r.precision], r.relative, r.start))
    taken = bytearray(length)
    kept: list[_Raw] = []
    for r in order:
        if taken.find(1, r.start, r.end) == -1:
            taken[r.start:r.end] = b"\x01" * (r.end - r.start)
            kept.append(r)
    return sorted(kept, key=lambda r: r.start)


def _beside_gregorian(folded: str, kept: list[_Raw]) -> list[bool]:
    """Per match (in text order): a Hijri or Solar Hijri date standing beside a Gregorian one.

    Only the nearest Gregorian date on either side can be close enough (what lies between a
    farther one and the match includes what lies between the nearest one and it)."""
    def gregorian(k: _Raw) -> bool:
        return k.calendar == "gregorian" and not k.relative and k.precision != "month"

    before: list[_Raw | None] = []
    last = None
    for k in kept:
        before.append(last)
        last = k if gregorian(k) else last
    after: list[_Raw | None] = [None] * len(kept)
    last = None
    for i in range(len(kept) - 1, -1, -1):
        after[i] = last
        last = kept[i] if gregorian(kept[i]) else last
    return [r.calendar != "gregorian" and any(k is not None and _same_stretch(folded, r, k) for k in (b, a))
            for r, b, a in zip(kept, before, after)]


def parse_date_text(text: str, *, base: datetime | None = None, locale: str | None = None) -> list[DateMatch]:
    """Every date expression in ``text``, in order, with its span in the original text.

    ``base`` anchors relative expressions and years left out (default: now; naive local
    clock if ``base`` is naive).  ``locale`` (``ar-LB``, ``ar-MA``, ``fa-IR``, ``en-US`` ...)
    settles ambiguous cases: M/D/Y only for US English, Solar Hijri for Persian, the
    month family trusted when the two halves of a double month name disagree.
    """
    if base is None:
        base = datetime.now()
    folded, index = _fold(text)
    if not folded:
        return []
    if index is None:  # one character for one: the text itself is aligned
        aligned, index = text, list(range(len(text)))
    else:
        aligned = text_at(text, index)
    # Each family of expressions is looked for only where the words it cannot do without appear:
    # a month name for the named dates, a digit for the numeric ones, an ago / yesterday / today
    # word for the relative ones (a bare duration must fill the whole text, and is tried always).
    raws = _named(folded, aligned, locale, base) if _ANY_MONTH.search(folded) else []
    if _ANY_DIGIT.search(folded):
        raws += _numeric(folded, aligned, locale)
    raws += _relative(folded, text, index, base)
    raws = [_attach_time(r, folded) for r in raws]
    matches: list[DateMatch] = []
    kept = _select(raws, len(folded))
    for r, beside in zip(kept, _beside_gregorian(folded, kept)):
        start, end = _original_span(text, index, r.start, r.end)
        matches.append(DateMatch(start, end, text[start:end], r.value, r.precision, r.calendar,
                                 r.relative, r.year_inferred, r.weekday_ok, beside))
    return matches


def _original_span(text: str, index: list[int], start: int, end: int) -> tuple[int, int]:
    """Span in the original text: trailing marks (tanween of صباحاً) kept, spaces trimmed."""
    s, e = index[start], index[end - 1] + 1
    while e < len(text) and not text[e].isspace() and _fold_char(text[e]) == "":
        e += 1
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def text_at(text: str, index: list[int]) -> str:
    """The original characters behind each folded character (for digit-script checks)."""
    return "".join(text[i] for i in index)


def _same_stretch(folded: str, a: _Raw, b: _Raw) -> bool:
    """Two matches stand beside each other: close, and no sentence or line break between."""
    lo, hi = (a, b) if a.start < b.start else (b, a)
    between = folded[lo.end:hi.start]
    return len(between) <= 40 and not re.search(r"[\n.!؟?]\s", between + " ")


# --------------------------------------------------------------------------- machine values

_ISO = re.compile(
    r"^(?P<y>[0-9]{4})(?P<s>[-/.]?)(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})"
    r"(?:\s*[t\s]\s*(?P<H>[0-9]{1,2}):?(?P<M>[0-9]{2})(?::?(?P<S>[0-9]{2})(?:[.,][0-9]+)?)?)?"
    r"\s*(?P<tz>z|utc|gmt|[+-][0-9]{2}:?[0-9]{2}|[+-][0-9]{1,2})?(?:\s*[a-z]{2,5})?\s*$"
)


def parse_timestamp(value: str, *, locale: str | None = None,
                    base: datetime | None = None) -> tuple[datetime, str] | None:
    """Read a machine timestamp (meta tag, JSON-LD, feed, HTTP header) as (datetime, precision).

    ISO 8601 and its common variants, RFC 2822 / HTTP dates, then any Arabic or Persian
    date expression (``الأربعاء، 07 أكتوبر 2020 - 12:09 م``, ``۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹``).
    """
    if not value or not value.strip():
        return None
    folded = fold_text(value).strip()
    m = _ISO.match(folded)
    if m and 1600 <= int(m.group("y")) <= 2999 and (m.group("s") or len(folded) >= 8):
        try:
            day = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        except ValueError:
            return None
        if m.group("H") is None:
            return datetime.combine(day, time()), "day"
        hour, minute = int(m.group("H")), int(m.group("M"))
        if hour > 23 or minute > 59:
            return None
        tz = parse_offset(m.group("tz")) if m.group("tz") else None
        dt = datetime(day.year, day.month, day.day, hour, minute, int(m.group("S") or 0), tzinfo=tz)
        return dt, "second" if m.group("S") else "minute"
    if re.match(r"^[a-z]{3},?\s+[0-9]{1,2}\s+[a-z]{3}", folded):
        stamp: datetime | None
        try:
            stamp = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            stamp = None
        if stamp is not None and 1600 <= stamp.year <= 2999:  # the range the ISO form accepts
            return stamp, "second"
    for match in parse_date_text(value, base=base, locale=locale):
        if not match.relative and not match.year_inferred and match.precision != "month" \
                and not match.beside_gregorian:
            return match.value, match.precision
    return None
