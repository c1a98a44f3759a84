"""Publication and modification dates of a news page, with provenance.

Pure: lxml for HTML, no Scrapy, no SQLAlchemy.  :func:`resolve_dates` gathers
:class:`DateCandidate` objects from every place a page states a date (JSON-LD, meta tags,
``<time>`` and microdata, the URL, the visible dateline near the headline, the feed or
sitemap entry and the HTTP ``Last-Modified``), rejects the implausible ones (in the future
beyond a small tolerance, older than the web press, the page chrome's "today"), and lets
the best supported day win.  The modified date is kept apart from the published one.

Rules an archivist would recognise:

* machine metadata (JSON-LD of an article, ``article:published_time``) beats visible text;
  a date that several independent places agree on beats a lone one;
* a date line *under* the headline is the article's; a date *above* the headline at the
  top of the page is the site's "today" stamp; a date next to "آخر تحديث"/"محدثة"/"updated"
  is a modification; a month and year in running text is not a publication date;
* a date on the fetch day that only the page's visible text gives, while the URL or the
  metadata give an earlier day, is the page's "today", not the article's;
* a time with no offset is in the site's zone: the ``timezone`` of the source, else the
  offset the page's own metadata uses; a ``Z`` time is shown in that zone too (same
  instant), and a ``Z`` time whose wall clock the visible dateline repeats is read as a
  mislabelled local time.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import lxml.html
from lxml import etree

from crawler.core import lexicon as lx
from crawler.core.arabic import normalize
from crawler.core.datetext import DateMatch, fold_text, parse_date_text, parse_timestamp
from crawler.core.jsonld import JsonLd, LdNode, read_json_ld
from crawler.core.metadata import page_metadata

_T = TypeVar("_T")

__all__ = [
    "DateCandidate",
    "Rejection",
    "ResolvedDate",
    "resolve_dates",
    "parse_date_text",
    "url_candidates",
    "html_candidates",
    "line_candidates",
    "visible_lines",
]

MIN_DATE = date(1990, 1, 1)
"""Nothing older is taken as a web page's date (site-creation stamps, birthdays in meta)."""
FUTURE_TOLERANCE = timedelta(hours=3)
"""How far past the fetch time a timestamp with an offset may lie (clock skew, mislabelled zones)."""
NAIVE_TOLERANCE = timedelta(hours=14)
"""The same for a timestamp with no offset and no known zone (any zone on Earth)."""
STRUCTURED = frozenset({"json-ld", "meta", "time", "url", "feed"})
MAX_YEAR = 2999
"""Nothing later is a date at all (``31 Dec 9999``, a "never expires" stamp): rejected before any
zone arithmetic, which would overflow at the end of the calendar."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DateCandidate:
    """One date a page states, where it states it, and how much that place is trusted."""

    value: datetime  # aware if the source gave an offset or a timezone was applied, else naive
    precision: str  # 'day' | 'minute' | 'second'
    source: str  # 'json-ld' | 'meta' | 'time' | 'url' | 'dateline' | 'feed' | 'http' | 'text'
    kind: str  # 'published' | 'modified'
    confidence: float  # 0..1
    raw: str  # the text it was read from


@dataclass(frozen=True)
class Rejection:
    """A candidate that was set aside, and why (``future``, ``too-old``, ``page-chrome``,
    ``page-today``, ``fetch-time``, ``before-published``)."""

    candidate: DateCandidate
    reason: str


@dataclass(frozen=True)
class ResolvedDate:
    """The dates the archive stores, with the evidence.

    ``published`` is ``YYYY-MM-DD`` for day precision, else a full ISO 8601 timestamp with
    the original offset (none when neither the page nor the source gave one).
    ``published_utc`` is naive UTC (for day precision: that calendar day at 00:00).
    """

    published: str | None
    published_utc: datetime | None
    offset_minutes: int | None
    date_source: str | None
    confidence: float | None
    modified: str | None
    candidates: tuple[DateCandidate, ...]
    rejected: tuple[Rejection, ...] = ()


# --------------------------------------------------------------------------- HTML helpers

_BLOCK = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol tr td th table section article header footer aside nav "
    "main br dd dt dl blockquote figure figcaption form time address hr pre label button".split())
_INVISIBLE_TAGS = frozenset(("script", "style", "noscript", "template", "svg", "head", "iframe", "select"))


def _parse_html(html: str) -> etree._Element | None:
    try:
        return lxml.html.document_fromstring(html.encode("utf-8"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return None


# The page's visible text as one string, written by libxslt: a line break before and after every
# block element, nothing from inside an invisible one (its tail is a text node of the parent, and
# stays), nothing from comments or processing instructions.  The same walk in Python cost dates
# more than any other step.
_VISIBLE_TEXT = etree.XSLT(etree.XML(f"""\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="{'|'.join(sorted(_BLOCK))}">
    <xsl:text>&#10;</xsl:text><xsl:apply-templates/><xsl:text>&#10;</xsl:text>
  </xsl:template>
  <xsl:template match="{'|'.join(sorted(_INVISIBLE_TAGS))}"/>
</xsl:stylesheet>"""))


def visible_lines(doc: etree._Element) -> list[str]:
    """The page's visible text, one line per block element, white space collapsed.

    Scripts, styles, the ``<head>`` and the like are left out; ``doc`` (an HTML parse, whose tag
    names are lower case) is only read, never changed, so a caller may share its parse with other
    readers.
    """
    text = str(_VISIBLE_TEXT(doc))
    return [" ".join(words) for line in text.split("\n") if (words := line.split())]


# --------------------------------------------------------------------------- JSON-LD

_ARTICLE_TYPE = re.compile(r"article|blogposting|report|posting", re.I)
_SKIP_TYPES = frozenset({"comment", "imageobject", "person", "organization", "rating", "review",
                         "answer", "question", "videoobject", "audioobject"})
_LD_KEYS = {"datePublished": ("published", 0.0), "dateCreated": ("published", -0.1),
            "dateModified": ("modified", -0.05)}


def _types(obj: dict[str, object]) -> list[str]:
    t = obj.get("@type", [])
    return [x.lower() for x in (t if isinstance(t, list) else [t]) if isinstance(x, str)]


def _ld_dates(node: LdNode, out: list[tuple[str, str, float]]) -> None:
    """Collect (key, value, confidence) from one JSON-LD object; items of a list count little."""
    types = _types(node.obj)
    if any(t in _SKIP_TYPES for t in types):
        return
    base = 0.95 if any(_ARTICLE_TYPE.search(t) for t in types) else 0.8
    if node.listed:
        base = 0.4
    for key, (_, delta) in _LD_KEYS.items():
        if isinstance(node.obj.get(key), str):
            out.append((key, node.obj[key], base + delta))


def json_ld_candidates(doc: etree._Element, locale: str | None = None,
                       json_ld: JsonLd | None = None) -> list[DateCandidate]:
    """Dates from ``<script type="application/ld+json">`` blocks (malformed JSON read by pattern);
    ``json_ld`` is the page's JSON-LD when the caller has read it."""
    ld = json_ld if json_ld is not None else read_json_ld(doc)
    found: list[tuple[str, str, float]] = []
    for index, (text, parsed) in enumerate(ld.blocks):
        if parsed is not None:
            for node in ld.nodes:
                if node.block == index:
                    _ld_dates(node, found)
        else:  # malformed JSON: read the dates by pattern
            for m in re.finditer(r'"(datePublished|dateCreated|dateModified)"\s*:\s*"([^"]+)"', text):
                found.append((m.group(1), m.group(2), 0.8 + _LD_KEYS[m.group(1)][1]))
    out = []
    for key, raw, conf in found:
        parsed = parse_timestamp(raw, locale=locale)
        if parsed:
            out.append(DateCandidate(parsed[0], parsed[1], "json-ld", _LD_KEYS[key][0], round(conf, 3), raw))
    return out


# --------------------------------------------------------------------------- meta, time, microdata

_META_PUBLISHED = {
    "article:published_time": 0.9, "og:published_time": 0.9, "og:article:published_time": 0.9,
    "article:published": 0.85, "datepublished": 0.9, "pubdate": 0.85, "publishdate": 0.85,
    "publish-date": 0.85, "publish_date": 0.85, "published_time": 0.85, "parsely-pub-date": 0.85,
    "sailthru.date": 0.8, "dc.date.issued": 0.8, "dcterms.issued": 0.8, "citation_publication_date": 0.8,
    "datecreated": 0.8, "dc.date": 0.75, "dcterms.date": 0.75, "dcterms.created": 0.75,
    "dc.date.created": 0.75, "date": 0.7, "citation_date": 0.7,
}
_META_MODIFIED = {
    "article:modified_time": 0.85, "og:updated_time": 0.8, "og:modified_time": 0.8, "datemodified": 0.85,
    "article:modified": 0.8, "lastmod": 0.75, "last-modified": 0.6, "dcterms.modified": 0.75,
    "dc.date.modified": 0.75, "revised": 0.6, "updated_time": 0.75,
}


@lru_cache(maxsize=4096)  # pages repeat the same few hundred meta names
def _meta_kind(key: str) -> tuple[str, float] | None:
    """Which date a meta key names: the known keys, then any '*publish*date/time*' or
    '*modif*/updat*' key."""
    if key in _META_PUBLISHED:
        return "published", _META_PUBLISHED[key]
    if key in _META_MODIFIED:
        return "modified", _META_MODIFIED[key]
    if re.search(r"publi(sh|cation)", key) and re.search(r"date|time", key):
        return "published", 0.75
    if re.search(r"modif|updat", key) and re.search(r"date|time", key):
        return "modified", 0.7
    return None


def meta_candidates(doc: etree._Element, locale: str | None = None) -> list[DateCandidate]:
    """Dates from ``<meta>`` tags (property, name, itemprop or http-equiv)."""
    out = []
    for meta in doc.iter("meta"):
        content = meta.get("content")
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            found = _meta_kind((meta.get(attr) or "").strip().lower())
            if found:
                parsed = parse_timestamp(content, locale=locale)
                if parsed:
                    out.append(DateCandidate(parsed[0], parsed[1], "meta", found[0], found[1], content))
                break
    return out


_TIME_CLASS_MODIFIED = re.compile(r"modif|updat", re.I)
_TIME_CLASS_PUBLISHED = re.compile(r"publish|created|post-?date|entry-date|pubdate", re.I)
_ITEMPROPS = {"datepublished": ("published", 0.85), "datecreated": ("published", 0.8),
              "datemodified": ("modified", 0.8)}


_TIME_OR_ITEMPROP = etree.XPath(
    "descendant-or-self::*[self::time or @itemprop] | (descendant-or-self::h1)[1]")


def time_candidates(doc: etree._Element, locale: str | None = None,
                    base: datetime | None = None) -> list[DateCandidate]:
    """Dates from ``<time>`` elements and microdata (``itemprop="datePublished"``) outside meta.

    A ``<time>`` with no itemprop and no telling class counts only once: the first one after
    the headline (sidebars are full of other articles' times).
    """
    out = []
    h1 = next(iter(doc.iter("h1")), None)
    after_h1 = h1 is None
    plain_taken = False
    for el in _TIME_OR_ITEMPROP(doc):  # the elements that can carry a date, and the first h1, in page order
        if el is h1:
            after_h1 = True
        if el.tag == "meta":
            continue
        prop = (el.get("itemprop") or "").lower()
        if el.tag != "time" and prop not in _ITEMPROPS:
            continue
        raw = el.get("datetime") or el.get("content") or el.text_content().strip()
        if not raw:
            continue
        classes = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if prop in _ITEMPROPS:
            kind, conf = _ITEMPROPS[prop]
        elif _TIME_CLASS_MODIFIED.search(classes):
            kind, conf = "modified", 0.6
        elif _TIME_CLASS_PUBLISHED.search(classes) or el.get("pubdate") is not None:
            kind, conf = "published", 0.8
        elif after_h1 and not plain_taken:
            kind, conf = "published", 0.5
        else:
            continue
        parsed = parse_timestamp(raw, locale=locale, base=base)
        if parsed is None:
            continue
        plain_taken = plain_taken or conf == 0.5
        source = "time" if el.tag == "time" else "meta"
        out.append(DateCandidate(parsed[0], parsed[1], source, kind, conf, raw))
    return out


def html_candidates(doc: etree._Element, *, locale: str | None = None,
                    base: datetime | None = None, json_ld: JsonLd | None = None) -> list[DateCandidate]:
    """All machine-readable dates of a parsed page: JSON-LD, meta tags, time and microdata."""
    return (json_ld_candidates(doc, locale, json_ld) + meta_candidates(doc, locale)
            + time_candidates(doc, locale, base))


# --------------------------------------------------------------------------- URL

_URL_YMD = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})[/_.-]([0-9]{1,2})[/_.-]([0-9]{1,2})(?![0-9])")
_URL_COMPACT = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])([0-9]*)")


def url_candidates(url: str | None) -> list[DateCandidate]:
    """Dates in a URL's path: ``/2020/8/24/``, ``/2013/middle_east/8/3/``, ``2020-06-03``,
    ``/20200317...`` (a date opening a numeric id counts less)."""
    if not url:
        return []
    path = unquote(urlsplit(url).path)
    found: list[tuple[int, int, int, float]] = []
    for m in _URL_YMD.finditer(path):
        found.append((int(m.group(1)), int(m.group(2)), int(m.group(3)), 0.7))
    segments = [s for s in path.split("/") if s]
    for i, seg in enumerate(segments):
        if not re.fullmatch(r"(?:19|20)[0-9]{2}", seg):
            continue
        rest = segments[i + 1:i + 4]
        if rest and not rest[0].isdigit():
            rest = rest[1:]  # /2013/middle_east/8/3/: one section name may sit after the year
        if len(rest) >= 2 and all(re.fullmatch(r"[0-9]{1,2}", s) for s in rest[:2]):
            found.append((int(seg), int(rest[0]), int(rest[1]), 0.7))
    for m in _URL_COMPACT.finditer(path):
        found.append((int(m.group(1)), int(m.group(2)), int(m.group(3)), 0.4 if m.group(4) else 0.6))
    out, seen = [], set()
    for y, mo, d, conf in found:
        try:
            day = date(y, mo, d)
        except ValueError:
            continue
        if day not in seen:
            seen.add(day)
            out.append(DateCandidate(datetime.combine(day, time()), "day", "url", "published", conf, url))
    return out


# --------------------------------------------------------------------------- visible lines

_LABEL_MODIFIED = re.compile(
    rf"(?<!\w)(?:[وب]?ال)?(?:{'|'.join(lx.MODIFIED_LABELS)}|updated?|modified|last\s+update)(?!\w)")
_PUBLISHED_ALT = "|".join(w.replace(" ", r"\s+") for w in lx.PUBLISHED_LABELS)
_PUBLISHED_WORDS = rf"(?:تم\s+)?(?:{_PUBLISHED_ALT}|published|posted|pub\s+date)"
_LABEL_PUBLISHED = re.compile(rf"(?<!\w){_PUBLISHED_WORDS}(?!\w)")
# The same words anywhere in a line (no word boundaries): a line without them cannot hold a date
# labelled as published, so it need not be parsed where only those count.
_SAYS_PUBLISHED = re.compile(_PUBLISHED_WORDS)


def _label(line: str, match: DateMatch, following: DateMatch | None, previous_end: int) -> str | None:
    """'published' / 'modified' when the line says so: the label before the date, or after
    it when no other date follows."""
    before = fold_text(line[previous_end:match.start])
    hits = [(m.start(), "modified") for m in _LABEL_MODIFIED.finditer(before)]
    hits += [(m.start(), "published") for m in _LABEL_PUBLISHED.finditer(before)]
    if hits:
        return max(hits)[1]
    if following is None:
        after = fold_text(line[match.end:])
        if _LABEL_MODIFIED.search(after):
            return "modified"
        if _LABEL_PUBLISHED.search(after):
            return "published"
    return None


def _line_key(line: str) -> str:
    """:func:`normalize` of a line; for plain ASCII that is lower case with white space collapsed
    (normalisation only touches non-ASCII characters otherwise), so skip the Unicode passes."""
    return " ".join(line.lower().split()) if line.isascii() else normalize(line)


def _title_index(lines: list[str], title: str | None) -> int | None:
    if not title:
        return None
    key = normalize(title)
    if not key:
        return None
    keys: list[str] = []
    for i, line in enumerate(lines):  # the headline's own line, usually near the top: stop there
        keys.append(_line_key(line))
        if keys[i] == key:
            return i
    for i, k in enumerate(keys):
        if key in k and len(k) <= 2 * len(key) + 20:
            return i
    for i, k in enumerate(keys):  # the page title carries the site name: «headline - Site»
        if len(k) >= 0.6 * len(key) and k in key:
            return i
    return None


def _letters(text: str) -> int:
    """How many letters ``text`` has once folded (folding is character by character, so the
    count of a whole is the sum of the counts of its parts)."""
    return len(_NOT_LETTERS.sub("", fold_text(text)))


_NOT_LETTERS = re.compile(r"[\W\d_]+")


def _lone(line: str, match: DateMatch, line_letters: int | None = None) -> bool:
    """The line is essentially this date (a stamp), not a sentence that mentions it.
    ``line_letters`` is :func:`_letters` of the line, when the caller has it."""
    if line_letters is None:
        line_letters = _letters(line)
    return line_letters - _letters(line[match.start:match.end]) <= 12


def _usable(m: DateMatch) -> bool:
    return m.precision != "month" and not m.year_inferred and not m.beside_gregorian


# A cheap pre-check: absolute dates have digits (any script); relative ones one of these words.
_MAYBE_DATE = re.compile("[0-9\u0660-\u0669\u06f0-\u06f9]|[اأإ]مس|" + "|".join(lx.RELATIVE_STEMS))


def line_candidates(lines: list[str], title: str | None = None, *, base: datetime | None = None,
                    locale: str | None = None) -> tuple[list[DateCandidate], list[Rejection]]:
    """Dates in the visible text: the date line under the headline (source ``dateline``),
    a labelled publication date elsewhere (``text``); dates above the headline are rejected
    as the page chrome's "today"."""
    ti = _title_index(lines, title)
    out: list[DateCandidate] = []
    rejected: list[Rejection] = []
    have = {"published": False, "modified": False}
    # Past the dateline's reach only a labelled publication date counts, and only the first one:
    # once a publication date is taken there, nothing further down can change the result.
    reach = 30 if ti is None else ti + 26  # see _line_confidence
    for i, line in enumerate(lines):
        if i >= reach and have["published"]:
            break
        if not _MAYBE_DATE.search(line):
            continue  # every date expression has a digit or a relative-time word
        if i >= reach and not _SAYS_PUBLISHED.search(fold_text(line)):
            continue  # out there only a date labelled as the publication date can count
        matches = [m for m in parse_date_text(line, base=base, locale=locale) if _usable(m)]
        letters = _letters(line) if matches else 0
        for j, m in enumerate(matches):
            following = matches[j + 1] if j + 1 < len(matches) else None
            kind = _label(line, m, following, matches[j - 1].end if j else 0) or "unlabelled"
            lone = _lone(line, m, letters)
            # a stamp, or a date opening a short line; a relative time only as a stamp
            # («منذ 3 ساعات»), never inside a sentence («عقد أمس»)
            dateline_like = (lone or kind != "unlabelled") if m.relative else (m.start <= 40 or len(line) <= 100)
            value, precision = m.value, m.precision
            cand_kind = "modified" if kind == "modified" else "published"
            conf, source = _line_confidence(i, ti, len(lines), kind, dateline_like, lone)
            if conf < 0:
                rejected.append(Rejection(DateCandidate(value, precision, "dateline", cand_kind, 0.0, line),
                                          "page-chrome"))
                continue
            if conf == 0 or have[cand_kind]:
                continue
            if m.relative:
                conf *= 0.8
            if m.weekday_ok is False:
                conf *= 0.8
            have[cand_kind] = True
            out.append(DateCandidate(value, precision, source, cand_kind, round(conf, 3), line))
    return out, rejected


def _line_confidence(i: int, ti: int | None, n: int, label: str, dateline_like: bool,
                     lone: bool) -> tuple[float, str]:
    """Trust in a date on line ``i`` given the headline's line ``ti``: negative = page chrome,
    zero = not a publication date."""
    bonus = 0.05 if label == "published" else 0.0
    if not dateline_like:
        return 0.0, "text"
    if ti is None:
        if i < 3 and lone and n > i + 1:
            return -1.0, "dateline"
        if i < 30:
            return 0.45 + bonus, "dateline"
    elif i > ti:
        distance = i - ti
        if distance <= 25:
            return (0.75 if distance <= 3 else 0.65 if distance <= 10 else 0.55) + bonus, "dateline"
    elif i < ti:
        if ti - i <= 2 and i >= 3:
            return 0.5 + bonus, "dateline"
        return -1.0, "dateline"
    if label == "published":
        return 0.45, "text"
    return 0.0, "text"


# --------------------------------------------------------------------------- resolving


def _utc_zone() -> tzinfo:
    """UTC (inside :func:`resolve_dates` the name ``timezone`` is its parameter)."""
    return timezone.utc


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _site_zone(cands: list[DateCandidate], tz: tzinfo | None) -> tzinfo | None:
    """The source's zone, else the most common non-zero offset in the page's own metadata."""
    if tz is not None:
        return tz
    offsets = Counter(offset for offset in (c.value.utcoffset() for c in cands
                                            if c.value.tzinfo is not None and c.source in STRUCTURED) if offset)
    if offsets:
        return timezone(offsets.most_common(1)[0][0])
    return None


def _localise(c: DateCandidate, zone: tzinfo | None, wall_clocks: set[datetime]) -> DateCandidate:
    """Apply the site's zone: naive times are local; UTC times are shown in the local zone,
    unless the visible dateline repeats their wall clock (a local time mislabelled ``Z``)."""
    v = c.value
    if zone is None or c.precision == "day":
        return c
    if v.tzinfo is None:
        return replace(c, value=v.replace(tzinfo=zone))
    if v.utcoffset() == timedelta(0):
        if v.replace(tzinfo=None, second=0) in wall_clocks:
            return replace(c, value=v.replace(tzinfo=zone))
        return replace(c, value=v.astimezone(zone))
    return c


def _day(c: DateCandidate) -> date:
    return c.value.date()


def _utc(c: DateCandidate) -> datetime:
    v = c.value
    return v.astimezone(timezone.utc).replace(tzinfo=None) if v.tzinfo else v


def _reject_reason(c: DateCandidate, fetched: datetime, fetch_day: date, zone_known: bool) -> str | None:
    if _day(c) < MIN_DATE:
        return "too-old"
    if c.precision == "day":
        limit = fetch_day if zone_known else fetch_day + timedelta(days=1)
        return "future" if _day(c) > limit else None
    tolerance = FUTURE_TOLERANCE if c.value.tzinfo else NAIVE_TOLERANCE
    return "future" if _utc(c) > fetched + tolerance else None


def _score_days(cands: list[DateCandidate]) -> list[tuple[float, date, list[DateCandidate]]]:
    groups: dict[date, list[DateCandidate]] = {}
    for c in cands:
        groups.setdefault(_day(c), []).append(c)
    scored = []
    for day, members in groups.items():
        sources = {c.source for c in members}
        score = min(0.99, max(c.confidence for c in members) + 0.05 * (len(sources) - 1))
        scored.append((round(score, 3), day, members))
    scored.sort(key=lambda s: (s[0], max(c.confidence for c in s[2])), reverse=True)
    return scored


_PRECISION_RANK = {"second": 3, "minute": 2, "day": 1}


def _representative(members: list[DateCandidate]) -> DateCandidate:
    """The most precise among the well-trusted candidates of the winning day."""
    best = max(c.confidence for c in members)
    close = [c for c in members if c.confidence >= best - 0.25]
    return max(close, key=lambda c: (_PRECISION_RANK[c.precision],
                                     bool(c.value.tzinfo and c.value.utcoffset()), c.confidence))


def _iso(c: DateCandidate) -> str:
    if c.precision == "day":
        return _day(c).isoformat()
    return c.value.isoformat(timespec="seconds" if c.precision == "second" else "minutes")


def _offset_minutes(c: DateCandidate) -> int | None:
    if c.precision == "day" or c.value.tzinfo is None:
        return None
    offset = c.value.utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


def _today_traps(cands: list[DateCandidate], fetch_day: date) -> set[int]:
    """Indexes of visible-text candidates on the fetch day while URL/metadata say earlier."""
    earlier = any(c.source in STRUCTURED and c.kind == "published" and _day(c) < fetch_day for c in cands)
    if not earlier:
        return set()
    return {i for i, c in enumerate(cands)
            if c.source in ("dateline", "text", "http") and _day(c) == fetch_day}


def _safely(what: str, read: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | None:
    """``read(*args, **kwargs)``, or None when it fails: a date parser that trips over a page
    drops that page's dates from that place, never the page."""
    try:
        return read(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure of one reader loses only its dates
        log.warning("dates: %s failed (%s: %s); its dates are left out", what, type(exc).__name__, exc)
        return None


def _stamp_candidate(value: str | datetime, source: str, conf: float, locale: str | None) -> list[DateCandidate]:
    """The feed's or the HTTP header's date as a candidate (none when it cannot be read)."""
    parsed = (value, "second") if isinstance(value, datetime) else parse_timestamp(value, locale=locale)
    if not parsed:
        return []
    return [DateCandidate(parsed[0], parsed[1], source, "published", conf, str(value))]


def _gather(html: str | None, doc: etree._Element | None, lines: list[str] | None, title: str | None,
            url: str | None, feed_date: str | datetime | None, http_last_modified: str | None, base: datetime,
            locale: str | None, json_ld: JsonLd | None = None) -> tuple[list[DateCandidate], list[Rejection]]:
    cands: list[DateCandidate] = []
    rejected: list[Rejection] = []
    if doc is None and html:
        doc = _safely("parsing the page", _parse_html, html)
    if doc is not None:
        ld = json_ld if json_ld is not None else _safely("the JSON-LD", read_json_ld, doc)
        cands += _safely("metadata", html_candidates, doc, locale=locale, base=base, json_ld=ld) or []
        if not title:  # the headline, by the same rules as the article's
            meta = _safely("the headline", page_metadata, doc, json_ld=ld)
            title = meta.title if meta is not None else None
        if lines is None:
            lines = _safely("the visible text", visible_lines, doc)
    if lines:
        found, rejected = _safely("the visible text", line_candidates, lines, title, base=base,
                                  locale=locale) or ([], [])
        cands += found
    cands += _safely("the URL", url_candidates, url) or []
    if feed_date is not None:
        cands += _safely("the feed date", _stamp_candidate, feed_date, "feed", 0.85, locale) or []
    if http_last_modified:
        cands += _safely("Last-Modified", _stamp_candidate, http_last_modified, "http", 0.25, locale) or []
    return cands, rejected


def _out_of_calendar(cands: list[DateCandidate]) -> tuple[list[DateCandidate], list[Rejection]]:
    """Set aside the candidates no page can mean (before :data:`MIN_DATE`'s year, after
    :data:`MAX_YEAR`) before any zone arithmetic, which overflows at the ends of the calendar."""
    keep: list[DateCandidate] = []
    rejected: list[Rejection] = []
    for c in cands:
        if c.value.year > MAX_YEAR:
            rejected.append(Rejection(c, "future"))
        elif c.value.year < MIN_DATE.year:
            rejected.append(Rejection(c, "too-old"))
        else:
            keep.append(c)
    return keep, rejected


def resolve_dates(*, html: str | None = None, doc: etree._Element | None = None,
                  lines: list[str] | None = None, title: str | None = None,
                  url: str | None = None, fetched_at: datetime | None = None,
                  feed_date: str | datetime | None = None, http_last_modified: str | None = None,
                  timezone: str | None = None, locale: str | None = None,
                  json_ld: JsonLd | None = None) -> ResolvedDate:
    """Resolve a page's publication and modification dates, with provenance.

    ``html`` is the decoded page, ``doc`` its parse when the caller has one (the document root of an
    ``lxml.html`` parse; only read, never changed; ``html`` is then not parsed again), ``lines`` its visible text (one line per element; derived
    from ``html`` when not given), ``title`` the headline.  ``fetched_at`` (naive = UTC;
    default now) anchors relative dates and the future check.  ``timezone`` is the source's
    IANA zone, ``locale`` its locale (``ar-EG``, ``ar-LB``, ``fa-IR`` ...).  ``json_ld`` is the JSON-LD
    of ``doc`` when the caller has read it (:func:`crawler.core.jsonld.read_json_ld`), so it is walked once.
    No date found: ``published`` is None (a date is never invented).  Dates that cannot be read
    are left out, never raised: a page is not lost for its dates.
    """
    args = dict(html=html, doc=doc, lines=lines, title=title, url=url, fetched_at=fetched_at,
                feed_date=feed_date, http_last_modified=http_last_modified, timezone=timezone, locale=locale,
                json_ld=json_ld)
    resolved = _safely("resolving the dates", _resolve, **args)
    return resolved if resolved is not None else ResolvedDate(None, None, None, None, None, None, ())


def _resolve(*, html: str | None, doc: etree._Element | None, lines: list[str] | None, title: str | None,
             url: str | None, fetched_at: datetime | None, feed_date: str | datetime | None,
             http_last_modified: str | None, timezone: str | None, locale: str | None,
             json_ld: JsonLd | None) -> ResolvedDate:
    tz = _zone(timezone)
    fetched = (fetched_at or datetime.now(tz=_utc_zone()))
    fetched_utc = fetched.astimezone(_utc_zone()).replace(tzinfo=None) if fetched.tzinfo else fetched
    base = fetched_utc.replace(tzinfo=_utc_zone()).astimezone(tz) if tz else fetched_utc.replace(tzinfo=_utc_zone())
    raw, rejected = _gather(html, doc, lines, title, url, feed_date, http_last_modified, base, locale, json_ld)
    raw, unusable = _out_of_calendar(raw)
    rejected += unusable

    zone = _site_zone(raw, tz)
    wall_clocks = {c.value.replace(second=0) for c in raw
                   if c.source in ("dateline", "text") and c.precision != "day" and c.value.tzinfo is None}
    cands = [_localise(c, zone, wall_clocks) for c in raw]
    fetch_day = (base.astimezone(zone) if zone else base).date()

    keep: list[DateCandidate] = []
    traps = _today_traps(cands, fetch_day)
    for i, c in enumerate(cands):
        reason = _reject_reason(c, fetched_utc, fetch_day, zone is not None)
        if reason is None and i in traps:
            reason = "page-today"
        if reason is None and c.source == "http" and abs(_utc(c) - fetched_utc) < timedelta(hours=1):
            reason = "fetch-time"
        if reason:
            rejected.append(Rejection(c, reason))
        else:
            keep.append(c)

    published = [c for c in keep if c.kind == "published"]
    if not published:  # only a modification date in the metadata: the best remaining evidence
        published = [replace(c, confidence=round(c.confidence * 0.5, 3)) for c in keep
                     if c.kind == "modified" and c.source in ("json-ld", "meta", "time")]
    if not published:
        return ResolvedDate(None, None, None, None, None, _modified(keep, None, rejected),
                            tuple(cands), tuple(rejected))
    score, _, members = _score_days(published)[0]
    chosen = _representative(members)
    return ResolvedDate(
        published=_iso(chosen),
        published_utc=datetime.combine(_day(chosen), time()) if chosen.precision == "day" else _utc(chosen),
        offset_minutes=_offset_minutes(chosen),
        date_source=chosen.source,
        confidence=score,
        modified=_modified(keep, chosen, rejected),
        candidates=tuple(cands),
        rejected=tuple(rejected),
    )


def _modified(keep: list[DateCandidate], published: DateCandidate | None,
              rejected: list[Rejection]) -> str | None:
    """The best modification date that is not before the publication."""
    mods = [c for c in keep if c.kind == "modified"]
    for c in sorted(mods, key=lambda c: (c.confidence, _PRECISION_RANK[c.precision]), reverse=True):
        if published is not None and _before(c, published):
            rejected.append(Rejection(c, "before-published"))
            continue
        return _iso(c)
    return None


def _before(a: DateCandidate, b: DateCandidate) -> bool:
    if a.precision == "day" or b.precision == "day":
        return _day(a) < _day(b)
    return _utc(a) < _utc(b)
