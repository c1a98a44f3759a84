"""Where articles are announced: RSS / Atom / JSON feeds and XML sitemaps.

Pure: bytes in, typed records out; no Scrapy, no I/O.  Dates are returned exactly as the
publisher wrote them (``published``, ``lastmod``...) and parsed only on demand with
:func:`parse_date_loose`, so nothing is lost when a site writes a date no parser knows.

Real feeds and sitemaps are often broken, so the parsers repair what can be repaired:
junk or a byte-order mark before the XML, bare ``&`` in URLs, HTML entities such as
``&nbsp;`` that XML does not define, a document cut off mid-way (libxml2 recover mode),
gzip-compressed bodies (``.xml.gz``).  Namespaces are matched on local names because
sites use wrong or missing ones.  Sitemaps are read incrementally and bounded.
"""
from __future__ import annotations

import io
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from html.entities import name2codepoint
from typing import Iterable, Iterator, Literal, TypeVar
from urllib.parse import urljoin

from lxml import etree

from crawler.core.datetext import parse_timestamp
from crawler.core.errors import DiscoveryError

__all__ = [
    "DiscoveryError",
    "FeedEntry",
    "MAX_DOCUMENT_BYTES",
    "MAX_SITEMAP_ENTRIES",
    "Sitemap",
    "SitemapEntry",
    "entries_since",
    "parse_date_loose",
    "parse_feed",
    "parse_sitemap",
]

#: Largest decompressed document read (the sitemap protocol allows 50 MB; feeds are smaller).
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
#: Most entries taken from one sitemap (the protocol's limit); the rest set ``truncated``.
MAX_SITEMAP_ENTRIES = 50_000


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed.  Dates are the raw strings of the feed; ``summary`` may hold HTML."""

    url: str
    title: str | None = None
    published: str | None = None
    updated: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` (or, in an index, one ``<sitemap>``).  Dates are raw strings."""

    url: str
    lastmod: str | None = None
    news_publication_date: str | None = None
    news_title: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: an index of other sitemaps, or a set of page URLs."""

    kind: Literal["index", "urlset"]
    entries: list[SitemapEntry] = field(default_factory=list)
    truncated: bool = False  # True when the document was cut at a size or entry bound


# --------------------------------------------------------------------------- bytes -> XML

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Where the XML really starts: the declaration, else the root of a known document type.
_XML_START = re.compile(
    rb"<\?xml\b|<(?:[A-Za-z_][\w.-]*:)?(?:urlset|sitemapindex|rss|feed|RDF|channel)\b"
)
# CDATA sections are copied untouched; any other "&" that does not start an entity is repaired.
_AMP_OR_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>|&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)?", re.S)
# How far into a document leading junk (PHP warnings, blank lines...) is looked past.
_JUNK_WINDOW = 64 * 1024
_GZIP_STEP = 4 * 1024  # compressed bytes fed to zlib at a time (what precedes a corrupt block is kept)
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_ENCODING_DECL = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def _gunzip_bounded(data: bytes, limit: int) -> tuple[bytes, bool]:
    """Decompress (possibly multi-member) gzip ``data``; stop at ``limit`` bytes.

    A truncated stream yields what could be decompressed.  Returns (bytes, incomplete).
    """
    out: list[bytes] = []
    size = 0
    rest = data
    while rest[:2] == _GZIP_MAGIC and size < limit:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        for start in range(0, len(rest), _GZIP_STEP):  # step by step: what precedes a corrupt block is kept
            try:
                chunk = inflater.decompress(rest[start:start + _GZIP_STEP], limit - size)
            except zlib.error:
                return _gunzipped(out, incomplete=True)
            out.append(chunk)
            size += len(chunk)
            if inflater.eof or size >= limit:
                break
        if not inflater.eof:
            return _gunzipped(out, incomplete=True)  # cut at the bound, or the stream itself is cut
        rest = inflater.unused_data
    return _gunzipped(out, incomplete=False)


def _gunzipped(parts: list[bytes], incomplete: bool) -> tuple[bytes, bool]:
    """The decompressed bytes; a stream that gives none at all is no document."""
    data = b"".join(parts)
    if not data and incomplete:
        raise DiscoveryError("corrupt gzip: nothing could be decompressed")
    return data, incomplete


def _xml_char(reference: bytes) -> bool:
    """Whether a numeric reference (``#1234;`` / ``#x4D2;``) names a character XML allows: a lone
    surrogate (``&#xD800;``) or a control character would make the whole document unreadable."""
    digits = reference[1:-1]
    try:
        code = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    except ValueError:
        return False
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _repair_entities(data: bytes) -> bytes:
    """Escape bare ``&`` and turn HTML-only named entities into numeric references."""

    def fix(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        if text.startswith(b"<![CDATA["):
            return text
        entity = match.group(1)
        if entity is None:
            return b"&amp;"
        if entity.startswith(b"#"):
            return text if _xml_char(entity) else b"&#xFFFD;"
        name = entity[:-1]
        if name in _XML_ENTITIES:
            return text
        codepoint = name2codepoint.get(name.decode("ascii"))
        if codepoint is None:
            return b"&amp;" + entity
        return b"&#%d;" % codepoint

    return _AMP_OR_CDATA.sub(fix, data)


def _prepare(data: bytes, limit: int = MAX_DOCUMENT_BYTES) -> tuple[bytes, bool]:
    """Bytes as served -> the document itself (gunzipped, BOM and leading junk removed).

    Also says whether the document was cut at ``limit`` bytes.
    """
    cut = False
    if data[:2] == _GZIP_MAGIC:
        data, cut = _gunzip_bounded(data, limit)
    elif len(data) > limit:
        data, cut = data[:limit], True
    utf16 = "utf-16" if data[:2] in _UTF16_BOMS else _utf16_without_bom(data)
    if utf16:
        text = data.decode(utf16, errors="replace").removeprefix("\ufeff")
        data = _ENCODING_DECL.sub(r"\1\2utf-8\2", text).encode("utf-8")
    data = data.lstrip().removeprefix(_UTF8_BOM).lstrip()
    if data[:1] in (b"{", b"["):
        return data, cut  # JSON
    start = _XML_START.search(data, 0, _JUNK_WINDOW)
    if start is not None:
        data = data[start.start():]
    return data, cut


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when the document opens with ASCII written in two bytes
    (``<\0?\0x\0m\0l\0`` ...: every other byte NUL), else None."""
    head = data[:64]
    if len(head) < 16:
        return None
    even, odd = head[0::2], head[1::2]
    if not odd.strip(b"\0") and even.isascii() and 0 not in even:
        return "utf-16-le"
    if not even.strip(b"\0") and odd.isascii() and 0 not in odd:
        return "utf-16-be"
    return None


def _local(tag: object) -> str:
    """Local name of an lxml tag (``{ns}name`` -> ``name``); '' for comments and PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _complete_records(data: bytes, root: str, records: tuple[str, ...]) -> int | None:
    """How many records (``<item>``...) are closed in a document cut off before its root closes.

    None when the root element is closed, i.e. the document is whole.  Recover mode closes
    elements itself at end of input, so without this the last, half-read record of a cut
    document would come out with a cut URL.
    """
    closing = rb"</(?:[A-Za-z_][\w.-]*:)?%s\s*>"
    if re.search(closing % re.escape(root.encode()), data[-_JUNK_WINDOW:]):
        return None
    names = b"|".join(re.escape(name.encode()) for name in records)
    return len(re.findall(closing % (b"(?:" + names + b")"), data))


def _text(element: etree._Element | None) -> str | None:
    """All text inside ``element``, stripped; None when empty."""
    if element is None:
        return None
    value = "".join(element.itertext()).strip()
    return value or None


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Direct children whose local name is ``name``."""
    return (child for child in element if _local(child.tag) == name)


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next(_children(element, name), None)


def _child_text(element: etree._Element, *names: str) -> str | None:
    """Text of the first non-empty direct child named like one of ``names`` (in that order)."""
    for name in names:
        for child in _children(element, name):
            value = _text(child)
            if value:
                return value
    return None


def _absolute(url: str | None, base: str | None) -> str | None:
    """Strip and resolve ``url`` against ``base``; None for empty or non-web URLs."""
    if not url:
        return None
    url = url.strip()
    if not url:
        return None
    try:
        resolved = urljoin(base, url) if base else url
    except ValueError:  # a broken host ("https://ex[ample.org/"): this link is skipped, not the document
        return None
    return resolved if resolved.split(":", 1)[0].lower() in ("http", "https") else None


# --------------------------------------------------------------------------- feeds

_FEED_ROOTS = {"rss", "RDF", "feed", "channel"}


def parse_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    """Entries of an RSS 2.0, RSS 1.0 (RDF), Atom (1.0 / 0.3) or JSON Feed document.

    Links are made absolute against ``xml:base`` and ``base_url``; entries without a web
    URL are dropped; order is kept.  Raises :class:`DiscoveryError` when ``data`` is not
    a feed (an HTML page, an empty body...).
    """
    prepared, _ = _prepare(data)
    if prepared[:1] in (b"{", b"["):
        return _parse_json_feed(prepared, base_url)
    prepared = _repair_entities(prepared)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(prepared, parser, base_url=base_url)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"not a feed: {exc}") from exc
    if root is None or _local(root.tag) not in _FEED_ROOTS:
        raise DiscoveryError(f"not a feed: root element {getattr(root, 'tag', None)!r}")
    complete = _complete_records(prepared, _local(root.tag), ("item", "entry"))
    entries = _feed_entries(root, complete, base_url)
    if not entries and _fatal(parser):
        raise DiscoveryError(f"unreadable feed: {_fatal(parser)}")
    return entries


def _fatal(parser: etree.XMLParser) -> str | None:
    """The first fatal error the (recovering) parser met, if any."""
    errors = [e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL]
    return f"{errors[0].message} (line {errors[0].line})" if errors else None


def _feed_entries(root: etree._Element, complete: int | None, base_url: str) -> list[FeedEntry]:
    """The entries of a parsed feed, in order; ``complete`` records at most (None: all)."""
    entries: list[FeedEntry] = []
    records = 0
    for element in root.iter():
        name = _local(element.tag)
        if name not in ("item", "entry"):
            continue
        records += 1
        if complete is not None and records > complete:
            break  # the half-read last record of a cut-off feed
        entry = _rss_item(element, base_url) if name == "item" else _atom_entry(element, base_url)
        if entry is not None:
            entries.append(entry)
    return entries


def _rss_item(item: etree._Element, base_url: str) -> FeedEntry | None:
    """An RSS 2.0 / 1.0 ``<item>``; FeedBurner's origLink wins over its redirecting link."""
    base = item.base or base_url
    url = _absolute(_child_text(item, "origLink"), base)
    if url is None:
        url = _absolute(_child_text(item, "link"), base)
    if url is None:
        url = _atom_link(item, base)
    if url is None:
        about = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        url = _absolute(about, base)
    if url is None:
        guid = _child(item, "guid")
        if guid is not None and guid.get("isPermaLink", "true").strip().lower() != "false":
            url = _absolute(_text(guid), base)
    if url is None:
        return None
    return FeedEntry(
        url=url,
        title=_child_text(item, "title"),
        published=_child_text(item, "pubDate", "date", "published", "issued"),
        updated=_child_text(item, "updated", "modified"),
        summary=_child_text(item, "description", "summary"),
    )


def _atom_link(element: etree._Element, base: str) -> str | None:
    """The entry's HTML alternate link (``rel`` missing or ``alternate``)."""
    candidates: list[tuple[int, str]] = []
    for child in element:
        if _local(child.tag) != "link" or child.get("href") is None:
            continue
        rel = (child.get("rel") or "alternate").strip().lower()
        if rel != "alternate":
            continue
        href = _absolute(child.get("href"), child.base or base)
        if href is None:
            continue
        kind = (child.get("type") or "text/html").lower()
        rank = 0 if "html" in kind else 1
        candidates.append((rank, href))
    return min(candidates, key=lambda pair: pair[0])[1] if candidates else None


def _atom_entry(entry: etree._Element, base_url: str) -> FeedEntry | None:
    base = entry.base or base_url
    url = _absolute(_child_text(entry, "origLink"), base) or _atom_link(entry, base)
    if url is None:
        url = _absolute(_child_text(entry, "id"), base)
    if url is None:
        return None
    return FeedEntry(
        url=url,
        title=_child_text(entry, "title"),
        published=_child_text(entry, "published", "issued", "created"),
        updated=_child_text(entry, "updated", "modified"),
        summary=_child_text(entry, "summary"),
    )


def _parse_json_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        document = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise DiscoveryError(f"not a JSON feed: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise DiscoveryError("not a JSON feed: no 'items' list")
    entries: list[FeedEntry] = []
    for item in document["items"]:
        if not isinstance(item, dict):
            continue
        url = None
        for key in ("url", "external_url", "id"):
            value = item.get(key)
            url = _absolute(value, base_url) if isinstance(value, str) else None
            if url:
                break
        if url is None:
            continue
        entries.append(
            FeedEntry(
                url=url,
                title=_json_str(item, "title"),
                published=_json_str(item, "date_published"),
                updated=_json_str(item, "date_modified"),
                summary=_json_str(item, "summary"),
            )
        )
    return entries


def _json_str(item: dict[str, object], key: str) -> str | None:
    value = item.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


# --------------------------------------------------------------------------- sitemaps


def parse_sitemap(data: bytes, base_url: str, *, max_entries: int = MAX_SITEMAP_ENTRIES) -> Sitemap:
    """A sitemap index, a ``urlset`` (with Google News fields) or a plain-text URL list.

    Reads incrementally (memory stays flat on 50 MB files), takes at most ``max_entries``
    entries and ``MAX_DOCUMENT_BYTES`` of decompressed input, then sets ``truncated``.
    Raises :class:`DiscoveryError` when ``data`` is neither XML sitemap nor URL list.
    """
    prepared, cut = _prepare(data)
    if not prepared.startswith(b"<"):
        return _parse_text_sitemap(prepared, base_url, max_entries, cut)
    repaired = _repair_entities(prepared)
    kind: Literal["index", "urlset"] | None = None
    complete: int | None = None
    entries: list[SitemapEntry] = []
    records = 0
    truncated = cut
    events = etree.iterparse(
        io.BytesIO(repaired), events=("start", "end"), recover=True, resolve_entities=False, no_network=True
    )
    try:
        for event, element in events:
            name = _local(element.tag)
            if kind is None and event == "start":
                kind = _sitemap_kind(name)
                complete = _complete_records(repaired, name, ("url", "sitemap"))
                truncated = truncated or complete is not None
                continue
            if event != "end" or name not in ("url", "sitemap") or not _is_record(element):
                continue
            records += 1
            if (complete is not None and records > complete) or len(entries) >= max_entries:
                truncated = True
                break
            entry = _sitemap_entry(element, base_url)
            if entry is not None:
                entries.append(entry)
            _forget(element)
    except etree.XMLSyntaxError as exc:
        if kind is None:
            raise DiscoveryError(f"not a sitemap: {exc}") from exc
        truncated = True  # the parser gave up mid-document: keep what was read
    return Sitemap(kind=kind or "urlset", entries=entries, truncated=truncated)


def _is_record(element: etree._Element) -> bool:
    """A ``<url>`` / ``<sitemap>`` that is a direct child of the root (not e.g. image:loc's)."""
    parent = element.getparent()
    return parent is not None and parent.getparent() is None


def _sitemap_kind(root_name: str) -> Literal["index", "urlset"]:
    if root_name == "sitemapindex":
        return "index"
    if root_name == "urlset":
        return "urlset"
    raise DiscoveryError(f"not a sitemap: root element {root_name!r}")


def _forget(element: etree._Element) -> None:
    """Free an element already read, and its read siblings (flat memory on big files)."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _sitemap_entry(element: etree._Element, base_url: str) -> SitemapEntry | None:
    url = _absolute(_child_text(element, "loc"), base_url)
    if url is None:
        return None
    news = _child(element, "news")
    publication = _child(news, "publication") if news is not None else None
    return SitemapEntry(
        url=url,
        lastmod=_child_text(element, "lastmod"),
        news_publication_date=_child_text(news, "publication_date") if news is not None else None,
        news_title=_child_text(news, "title") if news is not None else None,
        language=_child_text(publication, "language") if publication is not None else None,
    )


def _parse_text_sitemap(data: bytes, base_url: str, max_entries: int, cut: bool) -> Sitemap:
    """The protocol's text form: one URL per line, UTF-8."""
    entries: list[SitemapEntry] = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        url = _absolute(line, None) if "://" in line else None
        if url is None or " " in url:
            continue
        if len(entries) >= max_entries:
            return Sitemap("urlset", entries, truncated=True)
        entries.append(SitemapEntry(url=url))
    if not entries and data.strip():
        raise DiscoveryError("not a sitemap: neither XML nor a list of URLs")
    return Sitemap("urlset", entries, truncated=cut)


# --------------------------------------------------------------------------- dates

# Forms :func:`crawler.core.datetext.parse_timestamp` leaves to us: the W3C datetime profile's year
# and year-month (``2020``, ``2020-05``), and fractions of a second (it drops them).
_REDUCED_W3C = re.compile(r"(\d{4})(?:-(\d{1,2}))?")
_FRACTION = re.compile(r"[T\s]\d{1,2}:\d{2}:\d{2}[.,](\d+)", re.I)
_COMMENT = re.compile(r"\([^)]*\)")
_FIRST_YEAR, _LAST_YEAR = 1600, 2999  # the years parse_timestamp reads as a date


def _parse_rfc822(text: str) -> tuple[datetime, bool] | None:
    """RFC 822 forms with no weekday, a two-digit year or an obsolete zone name
    (``18 Feb 18 21:35 EST``), by the standard library; a missing time is midnight."""
    text = _COMMENT.sub(" ", text).strip()
    for candidate, has_time in ((text, True), (text + " 00:00:00 +0000", False)):
        try:
            return parsedate_to_datetime(candidate), has_time
        except (TypeError, ValueError, IndexError, OverflowError):  # a year past C's long, say
            continue
    return None


@lru_cache(maxsize=4096)  # a sitemap repeats its dates (all entries of one day, often)
def _parse_with_precision(text: str | None) -> tuple[datetime, bool] | None:
    """Parse ``text`` (:func:`crawler.core.datetext.parse_timestamp`, then the forms it leaves);
    the flag says whether it carried a time of day (False: date only).  Naive means UTC."""
    text = text.strip() if text else ""
    if not text:
        return None
    parsed: tuple[datetime, bool] | None = None
    if (reduced := _REDUCED_W3C.fullmatch(text)) is not None:
        year, month = int(reduced.group(1)), int(reduced.group(2) or 1)
        in_range = 1 <= month <= 12 and _FIRST_YEAR <= year <= _LAST_YEAR
        parsed = (datetime(year, month, 1), False) if in_range else None
    elif (found := parse_timestamp(text)) is not None:
        value, precision = found
        fraction = _FRACTION.search(text) if precision == "second" else None
        if fraction:
            value = value.replace(microsecond=int(fraction.group(1)[:6].ljust(6, "0")))
        parsed = value, precision in ("minute", "second")
    else:
        parsed = _parse_rfc822(text)
    if parsed is None or not _FIRST_YEAR <= parsed[0].year <= _LAST_YEAR:
        return None  # no page's date (31 Dec 9999 = "never"), and too near the calendar's ends to compute with
    if parsed[0].tzinfo is not None:
        return parsed
    return parsed[0].replace(tzinfo=timezone.utc), parsed[1]


def parse_date_loose(text: str | None) -> datetime | None:
    """A timezone-aware datetime from a feed or sitemap date, or None.

    Reads what :func:`crawler.core.datetext.parse_timestamp` reads (ISO 8601, RFC 2822 / HTTP
    dates, Arabic and Persian date expressions; Eastern Arabic digits as digits), plus the
    W3C datetime profile's ``2020`` and ``2020-05``, fractions of seconds, and RFC 822 with
    no weekday, two-digit years or obsolete zone names (``18 Feb 18 21:35 EST``).
    A date without zone is taken as UTC; a date without time as midnight UTC.
    """
    parsed = _parse_with_precision(text)
    return parsed[0] if parsed else None


_DatedEntry = TypeVar("_DatedEntry", FeedEntry, SitemapEntry)
# A date-only value may stand for any moment of that day in any time zone (UTC-12..UTC+14).
_LAST_MOMENT_OF_DAY = timedelta(days=1, hours=12)


def _entry_dates(entry: FeedEntry | SitemapEntry) -> Iterator[str | None]:
    if isinstance(entry, SitemapEntry):
        yield entry.lastmod
        yield entry.news_publication_date
    else:
        yield entry.updated
        yield entry.published


def entries_since(entries: Iterable[_DatedEntry], since: datetime) -> list[_DatedEntry]:
    """Entries that may have changed at or after ``since`` (the lastmod filter).

    An entry is dropped only when it is known to be older: its newest readable date
    (``lastmod`` / news publication date, or ``updated`` / ``published``) is before
    ``since``.  Entries without a readable date are kept.  A date-only value counts as
    the last moment of that day anywhere on earth.  A naive ``since`` is taken as UTC.
    """
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    kept: list[_DatedEntry] = []
    for entry in entries:
        moments = []
        for raw in _entry_dates(entry):
            parsed = _parse_with_precision(raw)
            if parsed is not None:
                value, has_time = parsed
                moments.append(value if has_time else value + _LAST_MOMENT_OF_DAY)
        if not moments or max(moments) >= since:
            kept.append(entry)
    return kept
