"""Arabic news-page boilerplate rules, pure.

Two entry points share one line classifier:

* :func:`clean_paragraphs` filters the paragraphs a main-content extractor (trafilatura) kept
  from an HTML page: what is left of the page chrome inside the article container.
* :func:`segment_text_page` reads a saved page *text* (one line per page element: header widgets,
  kicker, headline, metadata, body, widgets, footer) into title, section, tags and body.

The rules are the ones a news archivist would name: related-news and read-also lines together
with the headline they carry, share/copy-link notices, follow-us lines, comment prompts and
comment policies, copyright lines, weather widgets, lines that are only a date, a time or a
counter, menus and previous/next navigation with their headlines, short lines repeated around
the article.  Phrases are matched on the normalised form (:func:`crawler.core.arabic.normalize`),
so alef/yaa/taa-marbuta spellings and diacritics do not matter.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.core import lexicon as lx
from crawler.core.arabic import arabic_share, normalize
from crawler.core.datetext import CALENDAR_WORDS

# A line is normalised by several rules in turn (classify_line, is_date_line, the title and link
# checks); remembering the last few hundred keys makes that one pass per line.
_line_key = lru_cache(maxsize=512)(normalize)

# --- phrase families (normalised spelling: ا for أإآ, ي for ى, ه for ة, no diacritics) ----------

def _alt(words: tuple[str, ...]) -> str:
    """A regex group matching any of ``words`` (plain words, tried in order)."""
    return "(?:" + "|".join(words) + ")"


_ALSO = _alt(lx.READ_ALSO_WORDS)
# A "read also" / "see also" lead-in: the line carries a headline (or introduces the next lines).
_READ_ALSO = re.compile(rf"^(?:[-–—•*»«>]\s*)?{_alt(lx.READ_ALSO_VERBS)}\s*(?:{_ALSO}\b|[:：])")
_RELATED_HEAD = re.compile(
    rf"^(?:{_alt(lx.RELATED_LEADS)} )?(?:ال)?{_alt(lx.RELATED_NOUNS)}\s+{_alt(lx.RELATED_QUALIFIERS)}\b"
    rf"|^{_alt(lx.RELATED_LINES)}$"
    rf"|^(?:ال)?{_alt(lx.MOST_WORDS)} {_alt(lx.MOST_WHAT)}"
    rf"|^{_alt(lx.LATEST_WORDS)} {_alt(lx.LATEST_WHAT)}$"
    rf"|^{_alt(lx.RELATED_ENGLISH)}\b"
)
_SHARE = re.compile(
    rf"{_alt(lx.SHARE_PHRASES)}|"
    rf"^{_alt(lx.SHARE_WORDS)}(?:\s|$|:)|"
    rf"^{_alt(lx.PRINT_WORDS)}(?:\s|$)|"
    rf"^{_alt(lx.SHARE_ENGLISH)}\b"
)
_SOCIAL = _alt(lx.SOCIAL_PLACES)
_FOLLOW = re.compile(
    rf"^{_alt(lx.FOLLOW_VERBS)}\b.*{_alt(lx.FOLLOW_PREPOSITIONS)}\s+{_SOCIAL}|^{_alt(lx.FOLLOW_US)}\b|"
    rf"^{_alt(lx.SUBSCRIBE_VERBS)} .*{_alt(lx.SUBSCRIBE_WHAT)}|"
    r"ليصلك(?:م)? (?:كل|اخر|المزيد)|لمتابعه (?:اخر|اهم|اخبار)|^follow us\b|^subscribe\b"
)
_COMMENTS = re.compile(
    rf"^{_alt(lx.COMMENT_VERBS)} ?{_alt(lx.COMMENT_WHAT)}|"
    rf"^(?:ال)?تعليقات?(?:\s*\(?\d*\)?)?$|^{'|^'.join(lx.COMMENT_LINE_STARTS)}|"
    r"الاراء الوارده .*تعبر عن|التعليقات (?:المنشوره )?(?:لا )?تعبر عن|(?:لا )?تعبر عن (?:راي|وجهه نظر) (?:الموقع|الصحيفه|الجريده|اصحابها)|"
    rf"^ترحب .*(?:بالنقاش|بتعليقات|بالتعليقات|بمشاركات|بارائكم)|{'|'.join(lx.SITE_POLICY_PHRASES)}|"
    r"^(?:leave a (?:comment|reply)|add (?:a )?comment|comments?)\b"
)
_COPYRIGHT = re.compile(rf"{_alt(lx.COPYRIGHT_PHRASES)}|©|\(c\) ?\d{{4}}|copyright|all rights reserved")
_WEATHER = re.compile(rf"°|{_alt(lx.WEATHER_WORDS)}|\bweather\b")
_ADS = re.compile(rf"^(?:{_alt(lx.AD_LABELS)}|ads?)$")
_NAV_WORDS = lx.NAV_WORDS
_MENU_WORDS = lx.MENU_WORDS
_PREVIOUS_NEXT = re.compile(rf"(?:[«»<>‹›]+\s*)?{_alt(lx.PREVIOUS_NEXT)}(?:\s*[«»<>‹›]+)?")
_TAGS_HEAD = re.compile(
    rf"^(?:ال)?(?:كلمات (?:ال)?{_alt(lx.TAG_HEAD_KEYWORDS)}|{'|'.join(lx.TAG_HEADS)})\s*[:：]?"
)
_COUNTER_WORDS = rf"(?:{'|'.join(lx.COUNTER_WORDS)}|views?|comments?|shares?|likes?|reads?)"
_COUNTER = re.compile(rf"^(?:{_COUNTER_WORDS}\s*[:：]?\s*)?[\d.,]+\s*[kmكم]?(?:\s*{_COUNTER_WORDS})?$")

# --- date/time-only lines ----------------------------------------------------------------------
_DATE_LABELS = lx.DATE_LABELS  # single words that go with a date in a dateline or a publication stamp
_DATE_SPLIT = re.compile(r"[\s/\\\-–—,،:|.()\[\]]+")


def is_date_line(line: str) -> bool:
    """True when ``line`` is only a date and/or a time (with labels such as «نشر في» or «آخر تحديث»)."""
    norm = _line_key(line)
    tokens = [t for t in _DATE_SPLIT.split(norm) if t]
    if not tokens or len(tokens) > 14:
        return False
    digits = sum(t.isdecimal() for t in tokens)
    named = any(t in CALENDAR_WORDS for t in tokens)  # month and day names: the date module's own
    if digits == 0 or (digits == 1 and not named):
        return False  # a lone number is a counter, not a date
    return all(t.isdecimal() or t in CALENDAR_WORDS or t in _DATE_LABELS for t in tokens)


# --- shapes --------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+")
_CLOSERS = "\"'”’»)]}›> \t"
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")


@lru_cache(maxsize=8192)
def word_count(line: str) -> int:
    """Words in ``line`` (remembered: the filter asks several times about the same line)."""
    return len(_WORD.findall(line))


def ends_sentence(line: str) -> bool:
    """True when the line ends like running prose (a full stop, possibly inside closing quotes)."""
    stripped = line.rstrip(_CLOSERS)
    return stripped.endswith((".", "…", "...", "。"))


def is_paragraph(line: str) -> bool:
    """A line of running prose: the stuff of a body, not a headline, label or widget."""
    words = word_count(line)
    return (words >= 6 and ends_sentence(line)) or words >= 45


def is_headline_like(line: str) -> bool:
    """A line that could be a headline: a few words, not ending like prose."""
    return 3 <= word_count(line) <= 40 and not ends_sentence(line)


def _is_latin_chrome(line: str) -> bool:
    """A short line with no Arabic letter in it: UI labels such as «Time», «View», «logo-icon»."""
    return not _ARABIC_LETTER.search(_line_key(line)) and word_count(line) <= 3


# --- the classifier ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Why a line is boilerplate; ``carries_next`` means it introduces a headline on the next line(s)."""

    reason: str
    carries_next: bool = False


def classify_line(line: str, *, arabic_page: bool = True) -> Verdict | None:
    """Return a :class:`Verdict` when ``line`` is page chrome, ``None`` when it may be content."""
    norm = _line_key(line)
    if not norm:
        return None
    words = word_count(line)
    bare = norm.strip(" :：-–—|•*»«>")
    if bare in _NAV_WORDS or _PREVIOUS_NEXT.fullmatch(norm):
        return Verdict("navigation", carries_next=True)
    if words <= 40 and _READ_ALSO.search(norm):
        # «اقرأ أيضاً: <headline>» carries its headline on the same line; a bare lead-in carries the next.
        return Verdict("read-also", carries_next=word_count(re.sub(_READ_ALSO, "", norm)) == 0)
    if words <= 8 and _RELATED_HEAD.search(norm):
        return Verdict("related", carries_next=True)
    if words <= 30 and _TAGS_HEAD.match(norm):
        return Verdict("tags", carries_next=not _TAGS_HEAD.sub("", norm).strip())
    if words <= 12 and _SHARE.search(norm):
        return Verdict("share")
    if words <= 25 and _FOLLOW.search(norm):
        return Verdict("follow-us")
    if words <= 60 and _COMMENTS.search(norm):
        return Verdict("comments")
    if words <= 25 and _COPYRIGHT.search(norm):
        return Verdict("copyright")
    if words <= 6 and _WEATHER.search(norm) and (re.search(r"\d", norm) or _is_latin_chrome(line)):
        return Verdict("weather")
    if _ADS.match(bare):
        return Verdict("advertisement")
    if is_date_line(line):
        return Verdict("date")
    if _COUNTER.match(norm):
        return Verdict("counter")
    if bare in _MENU_WORDS:
        return Verdict("menu")
    if arabic_page and _is_latin_chrome(line) and not re.search(r"\d", line):
        return Verdict("ui-label")
    return None


def _drop_carried(lines: Sequence[str], start: int, limit: int = 8) -> int:
    """Index after the headline lines that a lead-in at ``start - 1`` carries (headline-like, not prose)."""
    i = start
    while i < len(lines) and i - start < limit:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if is_paragraph(line) or not is_headline_like(line):
            break
        i += 1
    return i


def _page_is_arabic(lines: Iterable[str]) -> bool:
    return arabic_share(" ".join(lines)) >= 0.5


_BARE_URL = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)


def _short_link_keys(lines: Sequence[str], link_texts: Iterable[str]) -> set[str]:
    """Normalised anchor texts that could equal one of the short lines (only those are compared)."""
    short = [line for line in lines if word_count(line) <= 6 and not is_paragraph(line)]
    if not short:
        return set()
    longest = max(len(line) for line in short) + 8  # room for diacritics and tatweel
    return {normalize(t) for t in link_texts if t and len(t.strip()) <= longest}


# --- HTML path: clean what the extractor kept ------------------------------------------------------
_KICKER_LINES = 2
_KICKER_WORDS = 12


def _only_kickers(lines: Sequence[str]) -> bool:
    """At most two short lines that are not prose: what may stand above a headline."""
    return len(lines) <= _KICKER_LINES and all(
        word_count(line) <= _KICKER_WORDS and not ends_sentence(line) for line in lines)


def clean_paragraphs(
    paragraphs: Sequence[str],
    *,
    title: str | None = None,
    link_texts: Iterable[str] = (),
) -> tuple[list[str], list[tuple[str, str]]]:
    """Drop boilerplate paragraphs from extractor output.

    ``title`` lets a repeated headline at the top be dropped; ``link_texts`` (anchor texts of the
    page) mark short lines that are menu or related-link items elsewhere on the page.
    Returns the kept paragraphs (as published) and the dropped ones with their reasons.
    """
    lines = [p.strip() for p in paragraphs if p and p.strip()]
    arabic_page = _page_is_arabic(lines)
    links = _short_link_keys(lines, link_texts)
    title_key = normalize(title) if title else None
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        verdict = classify_line(line, arabic_page=arabic_page)
        if verdict is None and title_key and _line_key(line) == title_key and _only_kickers(kept):
            # The headline repeated at the top of the text: it and the short lines above it (a
            # kicker, a section label) are the page's header, not the article's body.
            dropped.extend((k, "kicker") for k in kept)
            kept.clear()
            verdict = Verdict("title")
        if (verdict is None and word_count(line) <= 6 and not is_paragraph(line)
                and not _BARE_URL.match(line) and _line_key(line) in links):
            # A short line that is also a link elsewhere on the page: a menu or related-link item.
            # Subheadings are not links; an article's own subheading rarely is.  An address
            # written out in the text is the author's (a source, a shop link): it stays.
            verdict = Verdict("link-item")
        if verdict is None:
            kept.append(line)
            i += 1
            continue
        dropped.append((line, verdict.reason))
        i += 1
        if verdict.carries_next:
            end = _drop_carried(lines, i)
            dropped.extend((lines[j], verdict.reason + "-headline") for j in range(i, end))
            i = end
    # Trailing chrome: labels and widget headings left after the last paragraph of prose.
    while kept and not is_paragraph(kept[-1]) and word_count(kept[-1]) <= 3 and not ends_sentence(kept[-1]):
        dropped.append((kept.pop(), "trailing-label"))
    return kept, dropped


# --- saved page text path --------------------------------------------------------------------------
@dataclass
class TextPage:
    """A saved page text split into its parts (line indexes are 0-based)."""

    title: str | None = None
    title_index: int | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    body: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # every non-empty line above the body, as published
    dropped: list[tuple[int, str]] = field(default_factory=list)


def segment_text_page(lines: Sequence[str]) -> TextPage:
    """Split a saved page text into title, section, tags and body.

    The body runs from the first paragraph of prose to the last; above it is the header (chrome
    widgets, the kicker/section, the headline, metadata such as dates, counters and tags), below it
    the footer (latest-news widgets, previous/next navigation).  Inside the body, boilerplate
    lines are dropped by :func:`classify_line`, together with the headlines they carry, and short
    lines that are repeated around the article.
    """
    page = TextPage()
    stripped = [line.strip() for line in lines]
    arabic_page = _page_is_arabic(stripped)
    counts = Counter(normalize(s) for s in stripped if s)
    prose = [i for i, s in enumerate(stripped) if s and is_paragraph(s) and classify_line(s, arabic_page=arabic_page) is None]
    if not prose:
        # No running prose at all: treat every content line as body (a very short item).
        prose = [i for i, s in enumerate(stripped) if s and classify_line(s, arabic_page=arabic_page) is None]
        if not prose:
            return page
    first, last = prose[0], prose[-1]

    # Header: headline, kicker (section) above it, tags/metadata below it.
    header = [(i, stripped[i]) for i in range(first) if stripped[i]]
    page.header = [s for _, s in header]
    candidates = []
    for i, s in header:
        verdict = classify_line(s, arabic_page=arabic_page)
        if verdict is not None:
            page.dropped.append((i, verdict.reason))
            continue
        candidates.append((i, s))
    for i, s in candidates:
        if is_headline_like(s) and counts[normalize(s)] == 1:
            page.title, page.title_index = s, i
            break
    for i, s in candidates:
        if i == page.title_index:
            continue
        if page.title_index is not None and i < page.title_index:
            # The nearest short line above the headline is its kicker: the section.
            if word_count(s) <= 3 and page.title_index - i <= 3:
                page.section = s
            continue
        if word_count(s) <= 4:
            page.tags.append(s)
        elif page.description is None and page.title_index is not None:
            page.description = s

    # Body: from the first paragraph to the last, minus boilerplate and repeated short lines.
    i = first
    while i <= last:
        s = stripped[i]
        if not s:
            i += 1
            continue
        verdict = classify_line(s, arabic_page=arabic_page)
        if verdict is None and word_count(s) <= 6 and counts[normalize(s)] > 1:
            verdict = Verdict("repeated")
        if verdict is None:
            page.body.append(s)
            i += 1
            continue
        page.dropped.append((i, verdict.reason))
        i += 1
        if verdict.carries_next:
            end = _drop_carried(stripped, i)
            page.dropped.extend((j, verdict.reason + "-headline") for j in range(i, end) if stripped[j])
            i = end
    page.dropped.extend((j, "footer") for j in range(last + 1, len(stripped)) if stripped[j])
    return page
