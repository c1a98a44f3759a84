"""The headline of a page, and the site's own name (to strip it from titles and credits).

Candidates come from ``og:title``, ``twitter:title``, the JSON-LD ``headline`` of an article
object, microdata ``headline`` and ``<title>``.  Each is cleaned by :func:`clean_title`: a segment
at either end behind a separator (`` - `` `` – `` `` — `` ``|`` ``::`` `` » `` `` « `` `` · ``) is
dropped when it is the site's name, a segment repeated across differing candidates, or not part
of the article's own heading.  The article heading (the ``<h1>`` that matches the candidates, not
the logo ``<h1>``) wins when it equals a cleaned candidate; otherwise the candidates vote.

Site names come from ``og:site_name``, the JSON-LD publisher, WebSite and Organization objects,
microdata, the Twitter handle and the host name; :func:`is_site_name` matches their forms.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import lxml.html
from lxml import etree

from crawler.core import lexicon as lx
from crawler.core.arabic import normalize
from crawler.core.jsonld import ld_names, ld_types
from crawler.core.pagetext import (
    ELLIPSIS, clean_text, contains_words, element_text, in_page_chrome, is_urlish, loose, url_host, word_count,
)

__all__ = [
    "clean_title", "segments", "is_publication_name", "is_site_name", "site_names", "title_candidates", "article_heading", "repeated_ends",
    "choose_title", "title_leftovers",
]


_TLD_PARTS = {"com", "net", "org", "gov", "edu", "co", "ac", "info", "news", "tv", "me", "int"}
_HOST_NOISE = {"www", "ar", "arabic", "m", "amp", "news"}


def _domain_label(url: str | None) -> str | None:
    """The name part of a host: ``arabic.cnn.com`` -> ``cnn``, ``assabah.com.tn`` -> ``assabah``."""
    if not url:
        return None
    host = url_host(url)
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2 or all(label.isdigit() for label in labels):
        return None
    labels.pop()  # top-level domain
    while len(labels) > 1 and labels[-1] in _TLD_PARTS:
        labels.pop()
    labels = [label for label in labels if label not in _HOST_NOISE] or labels
    return labels[-1] if labels else None


_PUBLICATION = {normalize(w).lower() for w in lx.PUBLICATION_WORDS}
_PUBLICATION_END = {normalize(w).lower() for w in lx.PUBLICATION_SUFFIXES}


def is_publication_name(text: str) -> bool:
    """A name of two to four words that a publication noun opens («جريدة الرياض») or a loanword
    closes («المدينة نيوز», "Gulf News")."""
    words = normalize(clean_text(text)).lower().split()
    return 2 <= len(words) <= 4 and (words[0] in _PUBLICATION or words[-1] in _PUBLICATION_END)


_DOMAIN = re.compile(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+/?")


def is_site_name(segment: str, names: Iterable[str]) -> bool:
    """Whether ``segment`` is (a form of) one of the site ``names`` (loose keys)."""
    seg = loose(segment)
    if not seg:
        return False
    variants = {seg, seg.replace(" ", "")}
    if _DOMAIN.fullmatch(segment.strip()):  # "CNNArabic.com"
        host = loose(segment.rsplit(".", 1)[0] if "/" not in segment else segment)
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
        if contains_words(name, seg):
            return True
        if contains_words(seg, name) and word_count(seg) - word_count(name) <= 1:
            return True
    return False


def site_names(
    tree: lxml.html.HtmlElement,
    meta: dict[str, list[str]], objects: list[dict[str, Any]], articles: list[dict[str, Any]], url: str | None,
    canonical: str | None,
) -> tuple[str | None, list[str]]:
    """The site's name to show, and every form of it for matching (loose keys)."""
    shown: list[str] = []
    for value in meta.get("og:site_name", []):
        shown.append(value if not is_urlish(value) else "")
    for obj in articles:
        shown += ld_names(obj.get("publisher"))
    shown += meta.get("application-name", []) + meta.get("apple-mobile-web-app-title", [])
    for obj in objects:
        if any(t in ("WebSite", "Organization", "NewsMediaOrganization") for t in ld_types(obj)):
            shown += ld_names(obj.get("name")) + ld_names(obj.get("alternateName"))
    for el in tree.xpath("//*[contains(@itemprop, 'publisher')]//*[@itemprop='name']"):
        shown.append(clean_text(el.get("content")) or element_text(el))
    shown = [s for s in shown if any(c.isalpha() for c in s) and not is_urlish(s)]
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
        key = loose(form)
        if key and key not in keys:
            keys.append(key)
    return (shown[0] if shown else None), keys


_SEPARATOR = re.compile(r"\s+(?:-{1,2}|[–—»«·•])\s+|\s*(?:\|{1,2}|::)\s*")

_MAX_SEGMENTS = 16
"""A title cut into more pieces than this has no site name at an end to find: it is one piece (and
every reader of the pieces stays linear in the title's length)."""
_MAX_TITLE_CHARS = 2000
"""A title candidate or heading longer than this is no headline; it is not looked at."""
_MAX_PER_SOURCE = 3
"""Title candidates taken from each place (og:title, JSON-LD, ...): the comparisons are pairwise."""


def segments(text: str) -> list[tuple[int, int]]:
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
    text = clean_text(title)
    spans = segments(text)
    if len(spans) < 2:
        return text
    pieces = [text[a:b].strip() for a, b in spans]
    core = max(range(len(pieces)), key=lambda n: len(pieces[n]))
    references = {loose(r) for r in ([h1] if h1 else []) + list(others)} - {"", loose(text)}
    runs = sorted(  # proper runs that hold the longest segment, longest run first
        ((i, j) for i in range(core + 1) for j in range(core, len(spans)) if (i, j) != (0, len(spans) - 1)),
        key=lambda ij: ij[0] - ij[1],
    )
    for i, j in runs:
        if loose(text[spans[i][0]:spans[j][1]]) in references:
            return text[spans[i][0]:spans[j][1]].strip()

    names = [loose(n) for n in site_names if n and loose(n)]
    heading = loose(h1) if h1 else ""
    related = bool(heading) and any(
        len(loose(p)) >= 8 and (contains_words(heading, loose(p)) or contains_words(loose(p), heading)) for p in pieces
    )

    def removable(piece: str) -> bool:
        if is_site_name(piece, names) or is_publication_name(piece):
            return True
        return related and not contains_words(heading, loose(piece))

    first, last = 0, len(spans) - 1
    # A site name standing as a segment of its own ends the headline: what lies beyond it, on the side
    # away from the longest segment, is furniture too ("headline - site - section").
    for n, piece in enumerate(pieces):
        if n != core and is_site_name(piece, names):
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


def title_candidates(
    tree: lxml.html.HtmlElement, meta: dict[str, list[str]], articles: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """(source, raw text) pairs in order of trust: at most :data:`_MAX_PER_SOURCE` from each place,
    none longer than :data:`_MAX_TITLE_CHARS`."""
    found: list[tuple[str, str]] = [("og:title", v) for v in _some(meta.get("og:title", []))]
    headlines = (clean_text(obj.get("headline")) for obj in articles)
    found += [("json-ld", h) for h in _some(h for h in headlines if h)]
    found += [("twitter:title", v) for v in _some(meta.get("twitter:title", []))]
    found += [("microdata", v) for v in _some(meta.get("headline", []))]
    for el in tree.xpath("//title[not(ancestor::svg)]")[:1]:
        if element_text(el):
            found.append(("title", element_text(el)))
    return [(source, text) for source, text in found if text and len(text) <= _MAX_TITLE_CHARS]


def _some(values: Iterable[str]) -> list[str]:
    """The first :data:`_MAX_PER_SOURCE` usable values (a title's length bounded)."""
    return [v for v in values if v and len(v) <= _MAX_TITLE_CHARS][:_MAX_PER_SOURCE]


_HEADINGS = etree.XPath(  # one pass; the same nodes, in the same order, as "//h1 | //*[...]"
    "//*[self::h1 or (@itemprop and not(self::meta) and contains(concat(' ', @itemprop, ' '), ' headline '))]"
)


def article_heading(
    tree: lxml.html.HtmlElement, candidates: list[tuple[str, str]], names: list[str]
) -> lxml.html.HtmlElement | None:
    """The heading of the article: the ``<h1>`` (or microdata headline) that the page's titles contain."""
    headings = [
        el for el in _HEADINGS(tree)
        if 0 < len(element_text(el)) <= _MAX_TITLE_CHARS and not is_site_name(element_text(el), names)
    ]
    cores = []  # the longest segment of each title candidate: the part that carries the headline
    for _, text in candidates:
        clean = clean_text(text)
        cores.append(max((loose(clean[a:b]) for a, b in segments(clean)), key=len, default=""))
    best, best_score = None, 0.0
    for el in headings:
        key = loose(element_text(el))
        for core in cores:
            if not key or not core:
                continue
            if contains_words(key, core):
                score = len(core) / len(key)
            elif contains_words(core, key) and len(key) >= len(core) / 2:
                score = len(key) / len(core)
            else:
                continue
            if score > best_score:
                best, best_score = el, score
    if best is not None:
        return best
    for el in headings:
        if el.tag == "h1" and word_count(element_text(el)) >= 3 and not in_page_chrome(el):
            return el
    return None


def repeated_ends(candidates: list[tuple[str, str]], keep: set[str]) -> list[str]:
    """Segments found at an end of two differing title candidates (a site name, usually)."""
    ends: list[tuple[str, set[str]]] = []
    for _, text in candidates:
        spans = segments(clean_text(text))
        if len(spans) > 1:
            pieces = [clean_text(text)[a:b].strip() for a, b in spans]
            longest = max(pieces, key=len)
            edge = {p for p in (pieces[0], pieces[-1]) if p != longest and word_count(p) <= 6}
            ends.append((loose(clean_text(text)), {loose(p) for p in edge}))
    repeated: list[str] = []
    # a whole candidate that is only another candidate's short end ("og:title" = the site's name)
    for _, text in candidates:
        key = loose(clean_text(text))
        if len(segments(clean_text(text))) == 1 and any(key in ends_b for _, ends_b in ends) and key not in repeated:
            repeated.append(key)
    for i, (key_a, ends_a) in enumerate(ends):
        for key_b, ends_b in ends[i + 1:]:
            if key_a != key_b:
                repeated += [e for e in ends_a & ends_b if e and e not in keep and e not in repeated]
    return repeated


def choose_title(
    candidates: list[tuple[str, str]], heading: str | None, names: list[str]
) -> tuple[str | None, str | None]:
    raw_texts = [text for _, text in candidates]
    cleaned: list[tuple[str, str]] = []
    for source, text in candidates:
        others = [t for t in raw_texts if t != text]
        value = clean_title(text, site_names=names, h1=heading, others=others)
        if value and not is_site_name(value, names):
            cleaned.append((source, value))
    if heading and any(normalize(value) == normalize(heading) for _, value in cleaned):
        return heading, "h1"
    # A candidate cut short ("...") loses to the full one it begins.
    full = [
        (source, value) for source, value in cleaned
        if not (ELLIPSIS.search(value) and any(
            other != value and loose(other).startswith(loose(ELLIPSIS.sub("", value))) for _, other in cleaned))
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


def title_leftovers(candidates: list[tuple[str, str]], title: str | None) -> list[str]:
    """Loose keys of the short title segments that are not part of the chosen title."""
    if not title:
        return []
    keys: list[str] = []
    title_key = loose(title)
    for _, text in candidates:
        clean = clean_text(text)
        for a, b in segments(clean):
            key = loose(clean[a:b])
            if key and not contains_words(title_key, key) and word_count(key) <= 6 and key not in keys:
                keys.append(key)
    return keys
