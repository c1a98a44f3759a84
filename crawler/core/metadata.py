"""Title, section, author and the other head-of-page facts of an Arabic news page.

Pure: lxml and the standard library only.  Text is returned as published (HTML entities decoded,
white space collapsed, invisible marks trimmed at the ends); Arabic normalisation
(:func:`crawler.core.arabic.normalize`) is used only to *compare* strings.

Title
    Candidates come from ``og:title``, ``twitter:title``, the JSON-LD ``headline`` of an article
    object, microdata ``headline`` and ``<title>``.  Each is cleaned by :func:`clean_title`: a segment
    at either end behind a separator (`` - `` `` – `` `` — `` ``|`` ``::`` `` » `` `` « `` `` · ``) is
    dropped when it is the site's name, a segment repeated across differing candidates, or not part
    of the article's own heading.  The article heading (the ``<h1>`` that matches the candidates, not
    the logo ``<h1>``) wins when it equals a cleaned candidate; otherwise the candidates vote.

Section
    The last crumb of a breadcrumb trail (JSON-LD ``BreadcrumbList``, microdata, or an element whose
    class or id names a breadcrumb) that is neither home nor the headline; then ``article:section``,
    JSON-LD / microdata ``articleSection``; then a category link shown beside the headline; then a
    word in the URL path, but only when the page links that path and so shows its name.

Author
    A person or a named organisation that the page credits, as a news archivist would catalogue the
    creator.  JSON-LD ``author``, ``<meta name=author>`` / ``article:author``, ``rel=author``,
    ``itemprop=author``, elements whose class names an author or byline, and Arabic bylines
    («كتب فلان», «بقلم: فلان», «حوار: فلان») near the top of the article.  Placeholders that name nobody
    («وكالات», «المحرر», «فريق التحرير», "admin") and the site's own name give *no* author: they say
    who published the page, which ``site_name`` already records, not who wrote the story.  A named
    wire agency («رويترز», «وكالة الأنباء الفرنسية») is kept: it is a citable creator.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.core.arabic import normalize
from crawler.core.canonical import page_canonical

__all__ = ["PageMeta", "page_metadata", "clean_title", "clean_author", "json_ld_blocks"]


@dataclass(frozen=True)
class PageMeta:
    """What the page says about itself; every field is ``None`` (or empty) when the page is silent."""

    title: str | None
    title_source: str | None  # 'h1' | 'og:title' | 'twitter:title' | 'json-ld' | 'microdata' | 'title'
    site_name: str | None
    section: str | None
    section_source: str | None  # 'breadcrumb' | 'article:section' | 'json-ld' | 'microdata' | 'category' | 'url'
    author: str | None
    description: str | None
    tags: tuple[str, ...]
    canonical_url: str | None


# --------------------------------------------------------------------------- text helpers

_EDGE_MARKS = "\u200b\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_INVISIBLE_TAGS = {"script", "style", "noscript", "template"}
_NON_WORD = re.compile(r"[\W_]+")
_URLISH = re.compile(r"^(?:https?:)?//|^www\.|^[\w.-]+\.(?:com|net|org|info|tv|news)(?:/|$)", re.IGNORECASE)
_ELLIPSIS = re.compile(r"(?:\.{2,}|…)$")


def _text(value: Any) -> str:
    """Decode HTML entities once, collapse white space and trim invisible marks at both ends."""
    if not isinstance(value, str):
        return ""
    return " ".join(html.unescape(value).split()).strip(" " + _EDGE_MARKS)


def _loose(text: str) -> str:
    """Comparison key that also ignores punctuation and quote marks."""
    return " ".join(_NON_WORD.sub(" ", normalize(text)).split())


def _words(text: str) -> int:
    return len(text.split())


def _contains(haystack: str, needle: str) -> bool:
    """Word-aligned containment of loose keys."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def _element_text(el: lxml.html.HtmlElement, sep: str = " ", memo: dict | None = None) -> str:
    """Visible text of an element: scripts, styles and comments left out, pieces joined by ``sep``.

    ``memo`` keeps the joined pieces of every element read, for a caller that reads many nested
    elements (always with the same ``sep``): each subtree is then walked once, not once per ancestor.
    """
    return _text(_raw_text(el, sep, {} if memo is None else memo))


def _raw_text(el: lxml.html.HtmlElement, sep: str, memo: dict) -> str:
    """The visible pieces of ``el`` joined by ``sep`` (what :func:`_element_text` cleans), built
    from its children's, which are kept in ``memo`` too."""
    found = memo.get(el)
    if found is not None:
        return found
    pieces: list[str] = []
    if isinstance(el.tag, str) and el.tag not in _INVISIBLE_TAGS:
        if el.text:
            pieces.append(el.text)
        for child in el:
            inner = _raw_text(child, sep, memo)
            if inner:
                pieces.append(inner)
            if child.tail:
                pieces.append(child.tail)
    memo[el] = text = sep.join(pieces)
    return text


def _marked_elements(
    root: lxml.html.HtmlElement, attrs: tuple[str, ...], test: Callable[[str, str], bool]
) -> list[lxml.html.HtmlElement]:
    """The elements, in page order, at or under ``root`` that carry one of ``attrs`` with a value
    for which ``test(name, value)`` holds.

    The attribute values are read as plain strings first (no element is touched for them), each
    distinct value is tested once, and one query then fetches the elements that carry a value
    that passed: much faster than visiting every element of the page.
    """
    wanted: list[tuple[str, str]] = []
    for attr in attrs:
        for value in set(_ATTR_VALUES[attr](root)):
            if test(attr, value):
                wanted.append((attr, value))
    if not wanted:
        return []
    condition = " or ".join(f"@{attr}=$v{n}" for n, (attr, _) in enumerate(wanted))
    values = {f"v{n}": value for n, (_, value) in enumerate(wanted)}
    return root.xpath(f"descendant-or-self::*[{condition}]", **values)


_ATTR_VALUES = {  # every value of one attribute at or under the context element, as plain strings
    attr: etree.XPath(f"descendant-or-self::*/@{attr}", smart_strings=False)
    for attr in ("class", "id", "aria-label", "itemtype", "rel", "itemprop")
}


def _join(url: str, base: str | None = None) -> str:
    """``url`` resolved against ``base``; empty for a malformed URL."""
    try:
        return urljoin(base or "", url.strip())
    except ValueError:
        return ""


def _path(url: str, base: str | None = None) -> str:
    """The path of ``url`` (resolved against ``base``); empty for a malformed URL."""
    try:
        return urlsplit(_join(url, base)).path
    except ValueError:
        return ""


def _host(url: str) -> str:
    try:
        return (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    except ValueError:
        return ""


def _is_urlish(text: str) -> bool:
    return bool(_URLISH.search(text.strip()))


# --------------------------------------------------------------------------- page inputs

def _meta_map(tree: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` values by lower-cased property / name / itemprop, in page order, empty ones left out."""
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        value = _text(meta.get("content"))
        if not value:
            continue
        for attr in ("property", "name", "itemprop"):
            key = (meta.get(attr) or "").strip().lower()
            if key:
                found.setdefault(key, []).append(value)
    return found


def _first(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        for value in meta.get(key, ()):
            return value
    return None


_JSON_JUNK = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def json_ld_blocks(tree: lxml.html.HtmlElement) -> Iterator[tuple[str, Any]]:
    """Each ``<script type="application/ld+json">`` block of the page as (its text, its parse).

    Comment and CDATA wrappers and trailing commas are forgiven; the parse is ``None`` for a
    block that is still not JSON (a reader may then look for what it needs by pattern).
    """
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        raw = _JSON_JUNK.sub("", script.text.strip())
        parsed = None
        for attempt in (raw, _TRAILING_COMMA.sub(r"\1", raw)):
            try:
                parsed = json.loads(attempt, strict=False)
                break
            except ValueError:
                continue
        yield raw, parsed


def _json_objects(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, top level and inside ``@graph`` / lists."""
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            out.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    for _, doc in json_ld_blocks(tree):
        walk(doc)
    return out


def _types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return [v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)]


def _is_article(obj: dict[str, Any]) -> bool:
    return any(t.endswith("Article") or t in ("BlogPosting", "LiveBlogPosting", "Report") for t in _types(obj))


def _names(value: Any) -> list[str]:
    """Names in a JSON-LD person / organisation value (string, object or list)."""
    if isinstance(value, str):
        return [_text(value)] if _text(value) else []
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    return []


# --------------------------------------------------------------------------- site names

_TLD_PARTS = {"com", "net", "org", "gov", "edu", "co", "ac", "info", "news", "tv", "me", "int"}
_HOST_NOISE = {"www", "ar", "arabic", "m", "amp", "news"}


def _domain_label(url: str | None) -> str | None:
    """The name part of a host: ``arabic.cnn.com`` -> ``cnn``, ``assabah.com.tn`` -> ``assabah``."""
    if not url:
        return None
    host = _host(url)
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2 or all(label.isdigit() for label in labels):
        return None
    labels.pop()  # top-level domain
    while len(labels) > 1 and labels[-1] in _TLD_PARTS:
        labels.pop()
    labels = [label for label in labels if label not in _HOST_NOISE] or labels
    return labels[-1] if labels else None


_DOMAIN = re.compile(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+/?")


def _is_site_name(segment: str, names: Iterable[str]) -> bool:
    """Whether ``segment`` is (a form of) one of the site ``names`` (loose keys)."""
    seg = _loose(segment)
    if not seg:
        return False
    variants = {seg, seg.replace(" ", "")}
    if _DOMAIN.fullmatch(segment.strip()):  # "CNNArabic.com"
        host = _loose(segment.rsplit(".", 1)[0] if "/" not in segment else segment)
        variants |= {host, host.replace(" ", "")}
        label = _domain_label(segment.strip())
        if label:
            variants.add(label)
    for name in names:
        if not name:
            continue
        if name in variants or name.replace(" ", "") in variants:
            return True
        # "Assabah" inside "Assabah News"; "صحيفة البيان" around "البيان" (one extra word at most).
        if _contains(name, seg):
            return True
        if _contains(seg, name) and _words(seg) - _words(name) <= 1:
            return True
    return False


# --------------------------------------------------------------------------- titles

_SEPARATOR = re.compile(r"\s+(?:-{1,2}|[–—»«·•])\s+|\s*(?:\|{1,2}|::)\s*")


_MAX_SEGMENTS = 16
"""A title cut into more pieces than this has no site name at an end to find: it is one piece (and
every reader of the pieces stays linear in the title's length)."""
_MAX_TITLE_CHARS = 2000
"""A title candidate or heading longer than this is no headline; it is not looked at."""
_MAX_PER_SOURCE = 3
"""Title candidates taken from each place (og:title, JSON-LD, ...): the comparisons are pairwise."""


def _segments(text: str) -> list[tuple[int, int]]:
    """Spans of the non-empty pieces of ``text`` between title separators (one span for all of
    it when there are more than :data:`_MAX_SEGMENTS`)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for n, match in enumerate(_SEPARATOR.finditer(text)):
        if n >= _MAX_SEGMENTS:
            return [(0, len(text))] if text.strip() else []
        if text[start:match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def clean_title(
    title: str,
    *,
    site_names: Iterable[str] = (),
    h1: str | None = None,
    others: Iterable[str] = (),
) -> str:
    """Strip site-name segments from the ends of a page title; keep the headline as published.

    A run of segments equal to the article heading ``h1`` or to one of ``others`` (the page's other
    title candidates) is the headline.  Otherwise a segment at either end is dropped when it is one of
    ``site_names``, or when ``h1`` is the heading of this title and the segment is not part of it.
    A title with no separator, or one whose ends are not identified, is returned whole.
    """
    text = _text(title)
    spans = _segments(text)
    if len(spans) < 2:
        return text
    pieces = [text[a:b].strip() for a, b in spans]
    core = max(range(len(pieces)), key=lambda n: len(pieces[n]))
    references = {_loose(r) for r in ([h1] if h1 else []) + list(others)} - {"", _loose(text)}
    runs = sorted(  # proper runs that hold the longest segment, longest run first
        ((i, j) for i in range(core + 1) for j in range(core, len(spans)) if (i, j) != (0, len(spans) - 1)),
        key=lambda ij: ij[0] - ij[1],
    )
    for i, j in runs:
        if _loose(text[spans[i][0]:spans[j][1]]) in references:
            return text[spans[i][0]:spans[j][1]].strip()

    names = [_loose(n) for n in site_names if n and _loose(n)]
    heading = _loose(h1) if h1 else ""
    related = bool(heading) and any(
        len(_loose(p)) >= 8 and (_contains(heading, _loose(p)) or _contains(_loose(p), heading)) for p in pieces
    )

    def removable(piece: str) -> bool:
        if _is_site_name(piece, names):
            return True
        return related and not _contains(heading, _loose(piece))

    first, last = 0, len(spans) - 1
    # A site name standing as a segment of its own ends the headline: what lies beyond it, on the side
    # away from the longest segment, is furniture too ("headline - site - section").
    for n, piece in enumerate(pieces):
        if n != core and _is_site_name(piece, names):
            if n > core:
                last = min(last, n - 1)
            else:
                first = max(first, n + 1)
    while first < last:
        if removable(pieces[last]):
            last -= 1
        elif removable(pieces[first]):
            first += 1
        else:
            break
    return text[spans[first][0]:spans[last][1]].strip()


def _title_candidates(
    tree: lxml.html.HtmlElement, meta: dict[str, list[str]], articles: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """(source, raw text) pairs in order of trust: at most :data:`_MAX_PER_SOURCE` from each place,
    none longer than :data:`_MAX_TITLE_CHARS`."""
    found: list[tuple[str, str]] = [("og:title", v) for v in _some(meta.get("og:title", []))]
    headlines = (_text(obj.get("headline")) for obj in articles)
    found += [("json-ld", h) for h in _some(h for h in headlines if h)]
    found += [("twitter:title", v) for v in _some(meta.get("twitter:title", []))]
    found += [("microdata", v) for v in _some(meta.get("headline", []))]
    for el in tree.xpath("//title[not(ancestor::svg)]")[:1]:
        if _element_text(el):
            found.append(("title", _element_text(el)))
    return [(source, text) for source, text in found if text and len(text) <= _MAX_TITLE_CHARS]


def _some(values: Iterable[str]) -> list[str]:
    """The first :data:`_MAX_PER_SOURCE` usable values (a title's length bounded)."""
    return [v for v in values if v and len(v) <= _MAX_TITLE_CHARS][:_MAX_PER_SOURCE]


_CHROME_MARK = re.compile(r"footer|comment|navbar|menu|logo|sidebar")
_ARTICLE_MARK = re.compile(r"article|entry|post|story|content|details?")


def _in_page_chrome(el: lxml.html.HtmlElement) -> bool:
    """Inside the site's header bar, navigation, footer or a comment form."""
    for anc in el.iterancestors():
        if anc.tag in ("nav", "footer", "aside"):
            return True
        marks = f"{anc.get('class') or ''} {anc.get('id') or ''}".lower()
        if _CHROME_MARK.search(marks):
            return True
        if anc.tag == "header" and not _ARTICLE_MARK.search(marks):
            if not any(a.tag == "article" for a in anc.iterancestors()):
                return True
    return False


_HEADINGS = etree.XPath(  # one pass; the same nodes, in the same order, as "//h1 | //*[...]"
    "//*[self::h1 or (@itemprop and not(self::meta) and contains(concat(' ', @itemprop, ' '), ' headline '))]"
)


def _article_heading(
    tree: lxml.html.HtmlElement, candidates: list[tuple[str, str]], names: list[str]
) -> lxml.html.HtmlElement | None:
    """The heading of the article: the ``<h1>`` (or microdata headline) that the page's titles contain."""
    headings = [
        el for el in _HEADINGS(tree)
        if 0 < len(_element_text(el)) <= _MAX_TITLE_CHARS and not _is_site_name(_element_text(el), names)
    ]
    cores = []  # the longest segment of each title candidate: the part that carries the headline
    for _, text in candidates:
        clean = _text(text)
        cores.append(max((_loose(clean[a:b]) for a, b in _segments(clean)), key=len, default=""))
    best, best_score = None, 0.0
    for el in headings:
        key = _loose(_element_text(el))
        for core in cores:
            if not key or not core:
                continue
            if _contains(key, core):
                score = len(core) / len(key)
            elif _contains(core, key) and len(key) >= len(core) / 2:
                score = len(key) / len(core)
            else:
                continue
            if score > best_score:
                best, best_score = el, score
    if best is not None:
        return best
    for el in headings:
        if el.tag == "h1" and _words(_element_text(el)) >= 3 and not _in_page_chrome(el):
            return el
    return None


def _repeated_ends(candidates: list[tuple[str, str]], keep: set[str]) -> list[str]:
    """Segments found at an end of two differing title candidates (a site name, usually)."""
    ends: list[tuple[str, set[str]]] = []
    for _, text in candidates:
        spans = _segments(_text(text))
        if len(spans) > 1:
            pieces = [_text(text)[a:b].strip() for a, b in spans]
            longest = max(pieces, key=len)
            edge = {p for p in (pieces[0], pieces[-1]) if p != longest and _words(p) <= 6}
            ends.append((_loose(_text(text)), {_loose(p) for p in edge}))
    repeated: list[str] = []
    # a whole candidate that is only another candidate's short end ("og:title" = the site's name)
    for _, text in candidates:
        key = _loose(_text(text))
        if len(_segments(_text(text))) == 1 and any(key in ends_b for _, ends_b in ends) and key not in repeated:
            repeated.append(key)
    for i, (key_a, ends_a) in enumerate(ends):
        for key_b, ends_b in ends[i + 1:]:
            if key_a != key_b:
                repeated += [e for e in ends_a & ends_b if e and e not in keep and e not in repeated]
    return repeated


def _choose_title(
    candidates: list[tuple[str, str]], heading: str | None, names: list[str]
) -> tuple[str | None, str | None]:
    raw_texts = [text for _, text in candidates]
    cleaned: list[tuple[str, str]] = []
    for source, text in candidates:
        others = [t for t in raw_texts if t != text]
        value = clean_title(text, site_names=names, h1=heading, others=others)
        if value and not _is_site_name(value, names):
            cleaned.append((source, value))
    if heading and any(normalize(value) == normalize(heading) for _, value in cleaned):
        return heading, "h1"
    # A candidate cut short ("...") loses to the full one it begins.
    full = [
        (source, value) for source, value in cleaned
        if not (_ELLIPSIS.search(value) and any(
            other != value and _loose(other).startswith(_loose(_ELLIPSIS.sub("", value))) for _, other in cleaned))
    ]
    if not full:
        return (heading, "h1") if heading else (None, None)
    votes: dict[str, int] = {}
    for _, value in full:
        votes[normalize(value)] = votes.get(normalize(value), 0) + 1
    top = max(votes.values())
    for source, value in full:
        if votes[normalize(value)] == top:
            return value, source
    return None, None  # pragma: no cover - the loop always returns


# --------------------------------------------------------------------------- sections

_HOME = {normalize(w) for w in ("الرئيسية", "الصفحة الرئيسية", "رئيسية", "home", "homepage", "home page", "accueil")}
_GENERIC_SECTIONS = {
    normalize(w)
    for w in ("featured", "uncategorized", "uncategorised", "غير مصنف", "غير مصنفة", "slider", "main", "post")
}
_CRUMB_EDGE = "›‹»«>/\\|·•-–—:، "


def _clean_section(value: str) -> str | None:
    text = _text(value).strip(_CRUMB_EDGE)
    key = normalize(text)
    if not text or key in _HOME or key in _GENERIC_SECTIONS or _words(text) > 8 or _is_urlish(text):
        return None
    if not any(c.isalpha() for c in text):
        return None
    return text


def _is_home_link(a: lxml.html.HtmlElement | None, base: str | None) -> bool:
    if a is None or not a.get("href"):
        return False
    path = _path(a.get("href", ""), base)
    return path in ("", "/") or re.fullmatch(r"/(?:ar|en|arabic)/?", path) is not None


def _pick_crumb(crumbs: list[tuple[str, bool]], title: str | None, names: list[str]) -> str | None:
    """The last crumb that is not home, the site, or the article title itself."""
    title_key = _loose(title or "")
    for text, is_home in reversed(crumbs):
        section = _clean_section(text)
        if not section or is_home or _is_site_name(section, names):
            continue
        key = _loose(_ELLIPSIS.sub("", section))
        if title_key and (key == title_key or (title_key.startswith(key) and len(key) > len(title_key) / 2)
                          or (_contains(key, title_key) and len(title_key) > len(key) / 2)):
            continue
        return section
    return None


def _jsonld_breadcrumbs(objects: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    for obj in objects:
        if "BreadcrumbList" not in _types(obj):
            continue
        items = obj.get("itemListElement")
        items = items if isinstance(items, list) else [items]
        ranked: list[tuple[float, str, bool]] = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            name = _text(item.get("name"))
            target = item.get("item")
            if not name and isinstance(target, dict):
                name = _text(target.get("name"))
            link = target.get("@id") if isinstance(target, dict) else target
            home = isinstance(link, str) and _path(link) in ("", "/")
            try:
                position = float(item.get("position", n))
            except (TypeError, ValueError):
                position = float(n)
            if name:
                ranked.append((position, name, home))
        if ranked:
            return [(name, home) for _, name, home in sorted(ranked, key=lambda r: r[0])]
    return []


_CRUMB_ATTRS = ("class", "id", "aria-label", "itemtype")
_CRUMB_CASE = str.maketrans("BREADCUM", "breadcum")


def _names_breadcrumb(attr: str, value: str) -> bool:
    """A microdata BreadcrumbList, or a class / id / label that says "breadcrumb" ("bread-crumbs",
    "BreadCrumb" and the common misspelling "breadcumb" too)."""
    if attr == "itemtype":
        return "BreadcrumbList" in value
    value = value.translate(_CRUMB_CASE)
    return "crumb" in value or "breadc" in value


def _html_breadcrumbs(tree: lxml.html.HtmlElement, base: str | None) -> list[tuple[str, bool]]:
    """Crumbs of a microdata BreadcrumbList or of an element whose class / id / label says breadcrumb."""
    containers = _marked_elements(tree, _CRUMB_ATTRS, _names_breadcrumb)
    chosen = [c for c in containers if not any(a in containers for a in c.iterancestors())]
    for box in chosen:
        crumbs: list[tuple[str, bool]] = []
        named = box.xpath(".//*[@itemprop='name']")
        if named:
            for el in named:
                link = next((a for a in el.iterancestors() if a.tag == "a"), el if el.tag == "a" else None)
                crumbs.append((_text(el.get("content")) or _element_text(el), _is_home_link(link, base)))
        elif box.xpath(".//li"):
            for li in box.xpath(".//li[not(.//li)]"):
                links = li.xpath(".//a")
                crumbs.append((_element_text(li), _is_home_link(links[0] if links else None, base)))
        elif box.xpath(".//a"):
            for a in box.xpath(".//a"):
                crumbs.append((_element_text(a), _is_home_link(a, base)))
            tail = box.xpath(".//*[contains(@class, 'active') or contains(@class, 'current') or @aria-current]")
            crumbs += [(_element_text(el), False) for el in tail if el.tag != "a" and not el.xpath(".//a")]
        else:
            crumbs = [(piece, False) for piece in re.split(r"\s*[›‹»«>/|]\s*", _element_text(box))]
        crumbs = [(t, h) for t, h in crumbs if t]
        if crumbs:
            return crumbs
    return []


_CATEGORY_PATH = re.compile(r"/(?:category|categories|section|sections|cat|qism|topics?)/", re.IGNORECASE)


def _category_near(heading: lxml.html.HtmlElement | None, base: str | None) -> str | None:
    """A category link shown beside the headline (within four levels of its ancestors)."""
    if heading is None:
        return None
    for scope in _enclosing(heading):
        for a in scope.iter("a"):
            href = unquote(_join(a.get("href") or "", base))
            marks = f"{a.get('class') or ''} {a.getparent().get('class') or ''}".lower()
            if not (_CATEGORY_PATH.search(href) or "categ" in marks) or _in_page_chrome(a):
                continue
            section = _clean_section(_element_text(a))
            if section and _words(section) <= 4:
                return section
    return None


def _wordpress_category(tree: lxml.html.HtmlElement) -> str | None:
    """WordPress marks the menu entry of the post's own category with ``current-post-parent``."""
    for li in tree.xpath("//li[contains(@class, 'current-post-parent')]"):
        links = li.xpath("./a")
        section = _clean_section(_element_text(links[0])) if links else None
        if section:
            return section
    return None


_URL_GENERIC = {
    "story", "stories", "news", "article", "articles", "ar", "arabic", "en", "amp", "index", "details", "detail",
    "newdetails", "post", "posts", "p", "item", "items", "content", "node", "html", "www", "view", "page", "pages",
    "read", "print", "category", "section", "sections", "tag", "tags", "author", "authors", "a", "id",
}


def _url_section(tree: lxml.html.HtmlElement, url: str | None) -> str | None:
    """A word of the URL path, named the way the page names it (a link to that path, or its text)."""
    if not url:
        return None
    parts = [unquote(p) for p in _path(url).split("/") if p]
    if parts:
        parts = parts[:-1] if len(parts) > 1 else []  # the last piece is the article's own slug or id
    words: list[tuple[str, str]] = []  # (path prefix, part) for the parts that could name a section
    prefix = ""
    for part in parts:
        prefix += "/" + part
        word = part.lower()
        if not (word in _URL_GENERIC or any(c.isdigit() for c in word) or "." in word
                or _words(part.replace("-", " ")) > 4 or not any(c.isalpha() for c in word)):
            words.append((prefix, part))
    if not words:
        return None
    links = _link_texts(tree, url, {p for prefix, part in words for p in (prefix, "/" + part)})
    found: str | None = None
    page_text: str | None = None  # the page's text (loose key), read only when a word needs it
    for prefix, part in words:
        shown = _clean_section(links.get(prefix, "") or links.get("/" + part, ""))
        if shown:
            found = shown
            continue
        spoken = _text(re.sub(r"[-_+]", " ", part))
        if any("\u0600" <= c <= "\u06ff" for c in spoken):
            if page_text is None:
                body = tree.find(".//body")
                page_text = _loose(_element_text(body if body is not None else tree))
            if not _contains(page_text, _loose(spoken)):
                continue
            found = _clean_section(spoken)
    return found


def _link_texts(tree: lxml.html.HtmlElement, base: str, paths: set[str]) -> dict[str, str]:
    """For each of ``paths`` that the page links to, the text of the first such link that has one."""
    ends = {path.rsplit("/", 1)[-1] for path in paths}
    found: dict[str, str] = {}
    for a in tree.iter("a"):
        href = a.get("href")
        if not href:
            continue
        plain = unquote(href.strip()).split("#", 1)[0].split("?", 1)[0].rstrip("/")
        # a link reaches one of the paths only if its own path ends in that word, or it climbs
        # to a parent folder ("." / ".." / an empty path): skip the rest without resolving them
        if not (plain.endswith(".") or plain.rsplit("/", 1)[-1] in ends or not plain):
            continue
        path = unquote(_path(href, base)).rstrip("/")
        if path in paths and path not in found:
            text = _element_text(a)
            if text:
                found[path] = text
    return found


# --------------------------------------------------------------------------- authors

_GENERIC_AUTHORS = {
    normalize(w) for w in (
        "وكالات", "وكالة", "الوكالات", "وكالات الأنباء", "المحرر", "محرر", "محرر الموقع", "التحرير", "فريق التحرير",
        "هيئة التحرير", "أسرة التحرير", "قسم التحرير", "غرفة الأخبار", "مراسلنا", "مراسلون", "متابعات", "خاص",
        "فريق العمل", "الموقع", "المصدر", "مصادر", "admin", "administrator", "editor", "editors", "staff",
        "newsroom", "web desk", "desk", "unknown", "anonymous",
    )
}
# Any mix of these words names nobody either: «متابعات ووكالات», «وكالات - خاص».
_GENERIC_WORDS = {word for phrase in _GENERIC_AUTHORS for word in phrase.split()}


def _is_generic_author(text: str) -> bool:
    words = [w[1:] if w.startswith("و") and w[1:] in _GENERIC_WORDS else w for w in normalize(text).split()]
    return normalize(text) in _GENERIC_AUTHORS or (bool(words) and all(w in _GENERIC_WORDS for w in words))
_BYLINE_WORD = re.compile(
    r"^(?:(?:كتبت|كتبه|كتب|بقلم)\b\s*[:：\-–—]?\s*|(?:حوار|تقرير|إعداد|اعداد|تحرير|متابعة|ترجمة)\s*[:：]\s*"
    r"|(?:written\s+by|posted\s+by|by)\s*:?\s+)",
    re.IGNORECASE,
)
_SITE_CREDIT = re.compile(  # who built the web site, not who wrote the story
    r"^(?:developed|designed|powered|hosted|created)\s+by\b|^(?:تصميم|برمجة|تطوير|استضافة)\b", re.IGNORECASE
)
_AUTHOR_SPLIT = re.compile(r"\s+[-–—|/]\s+|\s*[|/]\s*")
_BRACKETS = "()[]{}«»\"'“”„ :：,،.-–—|"


def clean_author(value: str, *, site_names: Iterable[str] = ()) -> str | None:
    """The credited creator in a byline string, or ``None`` when it names nobody in particular.

    Drops the byline verb («كتب», «بقلم:», «حوار:», "By"), the site's own name and placeholders
    («وكالات», «المحرر»...), and a one-word place set beside them («حسام أبو العلا - القاهرة» ->
    «حسام أبو العلا»; «(أبوظبي - البيان)» -> ``None``).  URLs, dates and long sentences are not names.
    """
    text = _text(value).strip(_BRACKETS)
    text = _BYLINE_WORD.sub("", text).strip(_BRACKETS)
    if not text or _is_urlish(text) or any(c.isdigit() for c in text) or _SITE_CREDIT.match(text):
        return None
    names = [_loose(n) for n in site_names if n and _loose(n)]
    pieces = [p for p in _AUTHOR_SPLIT.split(text) if p.strip(_BRACKETS)]
    kept = [p.strip(_BRACKETS) for p in pieces]
    kept = [p for p in kept if not _is_generic_author(p) and not _is_site_name(p, names)]
    dropped = len(kept) < len(pieces)
    if not kept:
        return None
    if len(kept) > 1 and any(_words(p) >= 2 for p in kept):
        kept = [p for p in kept if _words(p) >= 2]  # "name - city": the place is the single word
    elif dropped and len(kept) == 1 and _words(kept[0]) == 1 and len(pieces) > 1:
        return None  # "(place - outlet)": a desk credit, not a person
    author = "; ".join(kept) if len(kept) > 1 else kept[0]
    if _words(author) > 8 or len(author) > 80:
        return None
    return author


def _profile_name(url: str) -> str | None:
    """A name from a profile URL such as ``/author/ahmad-ali/``, when nothing else names the author."""
    parts = [unquote(p) for p in _path(url).split("/") if p]
    for i, part in enumerate(parts[:-1]):
        if part.lower() in ("author", "authors", "writer", "writers", "kottab", "kuttab", "columnist", "columnists"):
            name = _text(re.sub(r"[-_+.]", " ", parts[i + 1]))
            if name and not any(c.isdigit() for c in name):
                return name
    return None


def _jsonld_author(articles: list[dict[str, Any]], names: list[str]) -> str | None:
    for obj in articles:
        value = obj.get("author") or obj.get("creator")
        people = value if isinstance(value, list) else [value]
        found: list[str] = []
        for person in people:
            for name in _names(person):
                author = clean_author(name, site_names=names)
                if author and author not in found:
                    found.append(author)
        if found:
            return "; ".join(found)
    return None


_AUTHOR_WORDS = ("author", "byline", "by-line", "writer", "writeby", "reporter", "kateb", "katib")
_AUTHOR_MARK = re.compile("|".join(_AUTHOR_WORDS), re.IGNORECASE)


def _scope(heading: lxml.html.HtmlElement | None, tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The article around the heading: its ``<article>`` / Article-typed ancestor, else a few levels up."""
    if heading is None:
        body = tree.find(".//body")
        return body if body is not None else tree
    for anc in heading.iterancestors():
        if anc.tag == "article" or "Article" in (anc.get("itemtype") or ""):
            return anc
    scopes = list(_enclosing(heading))
    return scopes[-1] if scopes else heading


def _enclosing(el: lxml.html.HtmlElement, levels: int = 4) -> Iterator[lxml.html.HtmlElement]:
    """Up to ``levels`` ancestors of ``el``, nearest first, stopping below the page's body."""
    for n, anc in enumerate(el.iterancestors()):
        if n >= levels or anc.tag in ("body", "html", "form"):
            return
        yield anc


def _after(
    elements: list[lxml.html.HtmlElement], heading: lxml.html.HtmlElement | None, within: lxml.html.HtmlElement
) -> list[lxml.html.HtmlElement]:
    """``elements`` (under ``within``, as is the heading) reordered: those after the heading in page
    order first, then those before it."""
    if heading is None:
        return elements
    order = {el: n for n, el in enumerate(within.iter())}
    mark = order.get(heading, 0)
    return [e for e in elements if order.get(e, 0) > mark] + [e for e in elements if order.get(e, 0) <= mark]


_AUTHOR_ATTRS = ("rel", "itemprop", "class", "id")


def _names_author(attr: str, value: str) -> bool:
    """``rel=author``, ``itemprop=author``, or a class / id that names an author or byline."""
    if attr == "rel":
        return "author" in value.lower().split()
    if attr == "itemprop":
        return "author" in value.split()
    if value.isascii():  # the common case, without the regex: same answer for ASCII text
        value = value.lower()
        return any(word in value for word in _AUTHOR_WORDS)
    return _AUTHOR_MARK.search(value) is not None


def _marked_author(
    tree: lxml.html.HtmlElement, heading: lxml.html.HtmlElement | None, names: list[str], reject: set[str]
) -> str | None:
    """Author from ``rel=author`` / ``itemprop=author`` / an element whose class or id names a byline."""
    # Beside a known article, a credit elsewhere on the page is another story's: look in its scope.
    scope = _scope(heading, tree) if heading is not None else tree
    marked = [
        el for el in _marked_elements(scope, _AUTHOR_ATTRS, _names_author)
        if el.tag not in ("meta", "link", "script", "style", "body", "html")
    ]
    marked = _after(marked, heading, scope)
    for el in marked:
        if _in_page_chrome(el) or "Organization" in (el.get("itemtype") or ""):
            continue
        named = el.xpath(".//*[@itemprop='name']")
        text = _text(named[0].get("content")) or _element_text(named[0]) if named else _element_text(el)
        if not text or _words(text) > 10:
            continue
        author = clean_author(text, site_names=names)
        if author and normalize(author) not in reject:
            return author
    return None


_BYLINE_REACH = 1500
_BYLINE_AT_START = re.compile(r"^(?:كتبت|كتب|بقلم)\s*[:\-–—]?\s*([^:\n]{3,40}?)\s*:")


def _arabic_byline(
    tree: lxml.html.HtmlElement, heading: lxml.html.HtmlElement | None, names: list[str], reject: set[str]
) -> str | None:
    """A byline in the first blocks of the article: «كتب فلان», «بقلم: فلان», «حوار: فلان», «تقرير: ...»."""
    scope = _scope(heading, tree)
    elements = [e for e in scope.iter() if isinstance(e.tag, str)]  # page order; the heading among them
    if heading is not None:  # what follows the heading first, then what comes before it
        mark = elements.index(heading) + 1
        elements = elements[mark:] + elements[:mark]
    read = 0  # characters of article text passed so far: a byline stands before the story gets going
    texts: dict = {}  # raw visible text of the elements read so far (each subtree walked once)
    for el in elements:
        if el.tag in _INVISIBLE_TAGS or el is scope:
            continue
        read += len((el.text or "").strip())
        if read > _BYLINE_REACH:
            break
        text = _element_text(el, memo=texts)
        if not text:
            continue
        credit = _words(text) <= 8 and _BYLINE_WORD.match(text) and not re.match(r"^by\b", text, re.IGNORECASE)
        opening = _BYLINE_AT_START.match(text) if el.tag == "p" else None
        if not (credit or opening) or _in_page_chrome(el):
            continue
        if credit:
            author = clean_author(text, site_names=names)
            if author and 2 <= _words(author) <= 6 and normalize(author) not in reject:
                return author
        if opening:
            author = clean_author(opening.group(1), site_names=names)
            if author and normalize(author) not in reject:
                return author
    return None


def _author(
    tree: lxml.html.HtmlElement,
    meta: dict[str, list[str]],
    articles: list[dict[str, Any]],
    heading: lxml.html.HtmlElement | None,
    names: list[str],
    reject: set[str],
) -> str | None:
    author = _jsonld_author(articles, names)
    if author:
        return author
    profiles: list[str] = []
    for key in ("author", "article:author", "byl", "parsely-author", "sailthru.author"):
        for value in meta.get(key, []):
            if _is_urlish(value):
                profiles.append(value)
                continue
            author = clean_author(value, site_names=names)
            if author and normalize(author) not in reject:
                return author
    author = _marked_author(tree, heading, names, reject) or _arabic_byline(tree, heading, names, reject)
    if author:
        return author
    profiles += [a.get("href", "") for a in tree.xpath("//a[contains(@rel, 'author')]")]
    for link in profiles:
        name = _profile_name(link)
        if name and not _is_site_name(name, names):
            return name
    return None


# --------------------------------------------------------------------------- tags, description, canonical

_GENERIC_TAGS = {normalize(w) for w in ("news", "أخبار", "الأخبار", "خبر", "home", "الرئيسية", "عاجل")}


def _tags(
    meta: dict[str, list[str]], articles: list[dict[str, Any]], title: str | None, names: list[str]
) -> tuple[str, ...]:
    """Article tags (``article:tag``, JSON-LD keywords, news_keywords, keywords), site-wide words left out."""
    sources: list[list[str]] = [meta.get("article:tag", [])]
    for obj in articles:
        keywords = obj.get("keywords")
        sources.append([_text(k) for k in keywords] if isinstance(keywords, list) else [_text(keywords)])
    sources += [meta.get("news_keywords", []), meta.get("keywords", [])]
    title_key = _loose(title or "")
    for values in sources:
        tags: list[str] = []
        keys: set[str] = set()
        for value in values:
            for piece in re.split(r"\s*[,،;]\s*", value):
                tag = _text(piece)
                if (not tag or normalize(tag) in keys or _loose(tag) == title_key or normalize(tag) in _GENERIC_TAGS
                        or _is_site_name(tag, names)):
                    continue
                keys.add(normalize(tag))
                tags.append(tag)
        if tags and not (title_key and _loose(" ".join(tags)) == title_key):
            return tuple(tags)
    return ()


def _description(meta: dict[str, list[str]], articles: list[dict[str, Any]], names: list[str]) -> str | None:
    values = meta.get("og:description", []) + meta.get("description", []) + meta.get("twitter:description", [])
    values += [_text(obj.get("description")) for obj in articles]
    for value in values:
        pieces = [value[a:b] for a, b in _segments(value)]
        if value and not all(_is_site_name(p, names) for p in pieces):
            return value
    return None


# --------------------------------------------------------------------------- the page

def _site_names(
    tree: lxml.html.HtmlElement,
    meta: dict[str, list[str]], objects: list[dict[str, Any]], articles: list[dict[str, Any]], url: str | None,
    canonical: str | None,
) -> tuple[str | None, list[str]]:
    """The site's name to show, and every form of it for matching (loose keys)."""
    shown: list[str] = []
    for value in meta.get("og:site_name", []):
        shown.append(value if not _is_urlish(value) else "")
    for obj in articles:
        shown += _names(obj.get("publisher"))
    shown += meta.get("application-name", []) + meta.get("apple-mobile-web-app-title", [])
    for obj in objects:
        if any(t in ("WebSite", "Organization", "NewsMediaOrganization") for t in _types(obj)):
            shown += _names(obj.get("name")) + _names(obj.get("alternateName"))
    for el in tree.xpath("//*[contains(@itemprop, 'publisher')]//*[@itemprop='name']"):
        shown.append(_text(el.get("content")) or _element_text(el))
    shown = [s for s in shown if any(c.isalpha() for c in s) and not _is_urlish(s)]
    forms = list(shown) + meta.get("publisher", [])
    for handle in meta.get("twitter:site", []):
        if re.fullmatch(r"@?\w+", handle):
            forms.append(handle.lstrip("@").replace("_", " "))
    for link in [url, canonical] + meta.get("og:site_name", []) + meta.get("og:url", []):
        label = _domain_label(link) if link and ("/" in link or "." in link) else None
        if label:
            forms.append(label)
    keys: list[str] = []
    for form in forms:
        key = _loose(form)
        if key and key not in keys:
            keys.append(key)
    return (shown[0] if shown else None), keys


def page_metadata(tree: lxml.html.HtmlElement, url: str | None = None) -> PageMeta:
    """Read the title, site name, section, author, description, tags and canonical URL of a page."""
    meta = _meta_map(tree)
    objects = _json_objects(tree)
    articles = [obj for obj in objects if _is_article(obj)]
    canonical = page_canonical(tree, url or "")
    site_name, names = _site_names(tree, meta, objects, articles, url, canonical)

    candidates = _title_candidates(tree, meta, articles)
    heading_el = _article_heading(tree, candidates, names)
    heading = _element_text(heading_el, sep="") if heading_el is not None else None
    whole = {_loose(text) for _, text in candidates} | ({_loose(heading)} if heading else set())
    repeated = _repeated_ends(candidates, whole)
    names += [r for r in repeated if r not in names]
    title, title_source = _choose_title(candidates, heading, names)
    if site_name is None and repeated:
        site_name = next(
            (_text(text)[a:b].strip() for _, text in candidates for a, b in _segments(_text(text))
             if _loose(_text(text)[a:b]) == repeated[0]), None)
    section, section_source = _section(tree, meta, objects, articles, heading_el, title, names, url or canonical)
    # What the title left beside the headline (site name, desk, section) is the page's furniture:
    # not an author, not a description, not a tag.
    furniture = names + [key for key in _title_leftovers(candidates, title) if key not in names]
    reject = {normalize(v) for v in (section, title) if v}
    return PageMeta(
        title=title,
        title_source=title_source,
        site_name=site_name,
        section=section,
        section_source=section_source,
        author=_author(tree, meta, articles, heading_el, furniture, reject),
        description=_description(meta, articles, furniture),
        tags=_tags(meta, articles, title, furniture),
        canonical_url=canonical,
    )


def _title_leftovers(candidates: list[tuple[str, str]], title: str | None) -> list[str]:
    """Loose keys of the short title segments that are not part of the chosen title."""
    if not title:
        return []
    keys: list[str] = []
    title_key = _loose(title)
    for _, text in candidates:
        clean = _text(text)
        for a, b in _segments(clean):
            key = _loose(clean[a:b])
            if key and not _contains(title_key, key) and _words(key) <= 6 and key not in keys:
                keys.append(key)
    return keys


def _section(
    tree: lxml.html.HtmlElement,
    meta: dict[str, list[str]],
    objects: list[dict[str, Any]],
    articles: list[dict[str, Any]],
    heading: lxml.html.HtmlElement | None,
    title: str | None,
    names: list[str],
    base: str | None,
) -> tuple[str | None, str | None]:
    """The page's section and where it was read; ``base`` is the page's URL (or its canonical one)."""
    crumb = _pick_crumb(_jsonld_breadcrumbs(objects), title, names) or _pick_crumb(
        _html_breadcrumbs(tree, base), title, names)
    if crumb:
        return crumb, "breadcrumb"
    for value in meta.get("article:section", []):
        if _clean_section(value) and not _is_site_name(value, names):
            return _clean_section(value), "article:section"
    for obj in articles:
        value = obj.get("articleSection")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and _clean_section(item):
                return _clean_section(item), "json-ld"
    for el in tree.xpath("//*[@itemprop='articleSection']"):
        value = _clean_section(_text(el.get("content")) or _element_text(el))
        if value:
            return value, "microdata"
    category = _category_near(heading, base) or _wordpress_category(tree)
    if category:
        return category, "category"
    found = _url_section(tree, base)
    return (found, "url") if found else (None, None)
