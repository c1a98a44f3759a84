"""Text and element helpers shared by the page-metadata readers (title, section, byline, metadata).

Text is returned as published (HTML entities decoded, white space collapsed, invisible marks trimmed
at the ends); Arabic normalisation (:func:`crawler.core.arabic.normalize`) is used only to *compare*
strings (:func:`loose`).  Pure: lxml and the standard library only.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.core.arabic import normalize

__all__ = [
    "INVISIBLE_TAGS", "ELLIPSIS", "clean_text", "loose", "word_count", "contains_words", "element_text",
    "marked_elements", "join_url", "url_path", "url_host", "is_urlish", "meta_map", "in_page_chrome", "enclosing",
]


_EDGE_MARKS = "\u200b\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
INVISIBLE_TAGS = {"script", "style", "noscript", "template"}
_NON_WORD = re.compile(r"[\W_]+")
_URLISH = re.compile(r"^(?:https?:)?//|^www\.|^[\w.-]+\.(?:com|net|org|info|tv|news)(?:/|$)", re.IGNORECASE)
ELLIPSIS = re.compile(r"(?:\.{2,}|…)$")


def clean_text(value: Any) -> str:
    """Decode HTML entities once, collapse white space and trim invisible marks at both ends."""
    if not isinstance(value, str):
        return ""
    return " ".join(html.unescape(value).split()).strip(" " + _EDGE_MARKS)


def loose(text: str) -> str:
    """Comparison key that also ignores punctuation and quote marks."""
    if len(text) <= _REMEMBERED_CHARS:  # the same few texts are compared again and again on a page
        return _remembered_loose(str(text))  # str(): never keep an lxml string (it holds its page)
    return _loose(text)


_REMEMBERED_CHARS = 400


@lru_cache(maxsize=8192)
def _remembered_loose(text: str) -> str:
    return _loose(text)


def _loose(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", normalize(text)).split())


def word_count(text: str) -> int:
    return len(text.split())


def contains_words(haystack: str, needle: str) -> bool:
    """Word-aligned containment of loose keys."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def element_text(el: lxml.html.HtmlElement, sep: str = " ", memo: dict[Any, str] | None = None) -> str:
    """Visible text of an element: scripts, styles and comments left out, pieces joined by ``sep``.

    ``memo`` keeps the joined pieces of every element read, for a caller that reads many nested
    elements (always with the same ``sep``): each subtree is then walked once, not once per ancestor.
    """
    return clean_text(_raw_text(el, sep, {} if memo is None else memo))


def _raw_text(el: lxml.html.HtmlElement, sep: str, memo: dict[Any, str]) -> str:
    """The visible pieces of ``el`` joined by ``sep`` (what :func:`element_text` cleans), built
    from its children's, which are kept in ``memo`` too."""
    found = memo.get(el)
    if found is not None:
        return found
    pieces: list[str] = []
    if isinstance(el.tag, str) and el.tag not in INVISIBLE_TAGS:
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


def marked_elements(
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
    found: list[lxml.html.HtmlElement] = root.xpath(f"descendant-or-self::*[{condition}]", **values)
    return found


_ATTR_VALUES = {  # every value of one attribute at or under the context element, as plain strings
    attr: etree.XPath(f"descendant-or-self::*/@{attr}", smart_strings=False)
    for attr in ("class", "id", "aria-label", "itemtype", "rel", "itemprop")
}


def join_url(url: str, base: str | None = None) -> str:
    """``url`` resolved against ``base``; empty for a malformed URL."""
    try:
        return urljoin(base or "", url.strip())
    except ValueError:
        return ""


def url_path(url: str, base: str | None = None) -> str:
    """The path of ``url`` (resolved against ``base``); empty for a malformed URL."""
    try:
        return urlsplit(join_url(url, base)).path
    except ValueError:
        return ""


def url_host(url: str) -> str:
    try:
        return (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    except ValueError:
        return ""


def is_urlish(text: str) -> bool:
    return bool(_URLISH.search(text.strip()))


def meta_map(tree: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` values by lower-cased property / name / itemprop, in page order, empty ones left out."""
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        value = clean_text(meta.get("content"))
        if not value:
            continue
        for attr in ("property", "name", "itemprop"):
            key = (meta.get(attr) or "").strip().lower()
            if key:
                found.setdefault(key, []).append(value)
    return found


_CHROME_MARK = re.compile(r"footer|comment|navbar|menu|logo|sidebar")
_ARTICLE_MARK = re.compile(r"article|entry|post|story|content|details?")


def in_page_chrome(el: lxml.html.HtmlElement) -> bool:
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


def enclosing(el: lxml.html.HtmlElement, levels: int = 4) -> Iterator[lxml.html.HtmlElement]:
    """Up to ``levels`` ancestors of ``el``, nearest first, stopping below the page's body."""
    for n, anc in enumerate(el.iterancestors()):
        if n >= levels or anc.tag in ("body", "html", "form"):
            return
        yield anc
