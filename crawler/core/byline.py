"""The author of a news page.

A person or a named organisation that the page credits, as a news archivist would catalogue the
creator.  JSON-LD ``author``, ``<meta name=author>`` / ``article:author``, ``rel=author``,
``itemprop=author``, elements whose class names an author or byline, and Arabic bylines
(«كتب فلان», «بقلم: فلان», «حوار: فلان») near the top of the article.  Placeholders that name nobody
(«وكالات», «المحرر», «فريق التحرير», "admin") and the site's own name give *no* author: they say
who published the page, which ``site_name`` already records, not who wrote the story.  A named
wire agency («رويترز», «وكالة الأنباء الفرنسية») is kept: it is a citable creator.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import lxml.html

from crawler.core import lexicon as lx
from crawler.core.arabic import normalize
from crawler.core.jsonld import ld_names
from crawler.core.pagetext import (
    INVISIBLE_TAGS, clean_text, element_text, enclosing, in_page_chrome, is_urlish, loose, marked_elements,
    url_path, word_count,
)
from crawler.core.title import is_site_name

__all__ = ["clean_author", "page_author"]


_GENERIC_AUTHORS = {normalize(w) for w in lx.GENERIC_AUTHORS}
# Any mix of these words names nobody either: «متابعات ووكالات», «وكالات - خاص».
_GENERIC_WORDS = {word for phrase in _GENERIC_AUTHORS for word in phrase.split()}


def _is_generic_author(text: str) -> bool:
    waw = lx.CONJUNCTION_WAW
    words = [w[1:] if w.startswith(waw) and w[1:] in _GENERIC_WORDS else w for w in normalize(text).split()]
    return normalize(text) in _GENERIC_AUTHORS or (bool(words) and all(w in _GENERIC_WORDS for w in words))


_BYLINE_WORD = re.compile(
    rf"^(?:(?:{'|'.join(lx.BYLINE_VERBS)})\b\s*[:：\-–—]?\s*|(?:{'|'.join(lx.BYLINE_LABELS)})\s*[:：]\s*"
    r"|(?:written\s+by|posted\s+by|by)\s*:?\s+)",
    re.IGNORECASE,
)
_SITE_CREDIT = re.compile(  # who built the web site, not who wrote the story
    rf"^(?:developed|designed|powered|hosted|created)\s+by\b|^(?:{'|'.join(lx.SITE_CREDIT_WORDS)})\b", re.IGNORECASE
)
_AUTHOR_SPLIT = re.compile(r"\s+[-–—|/]\s+|\s*[|/]\s*")
_BRACKETS = "()[]{}«»\"'“”„ :：,،.-–—|"


def clean_author(value: str, *, site_names: Iterable[str] = ()) -> str | None:
    """The credited creator in a byline string, or ``None`` when it names nobody in particular.

    Drops the byline verb («كتب», «بقلم:», «حوار:», "By"), the site's own name and placeholders
    («وكالات», «المحرر»...), and a one-word place set beside them («حسام أبو العلا - القاهرة» ->
    «حسام أبو العلا»; «(أبوظبي - البيان)» -> ``None``).  URLs, dates and long sentences are not names.
    """
    text = clean_text(value).strip(_BRACKETS)
    text = _BYLINE_WORD.sub("", text).strip(_BRACKETS)
    if not text or is_urlish(text) or any(c.isdigit() for c in text) or _SITE_CREDIT.match(text):
        return None
    names = [loose(n) for n in site_names if n and loose(n)]
    pieces = [p for p in _AUTHOR_SPLIT.split(text) if p.strip(_BRACKETS)]
    kept = [p.strip(_BRACKETS) for p in pieces]
    kept = [p for p in kept if not _is_generic_author(p) and not is_site_name(p, names)]
    dropped = len(kept) < len(pieces)
    if not kept:
        return None
    if len(kept) > 1 and any(word_count(p) >= 2 for p in kept):
        kept = [p for p in kept if word_count(p) >= 2]  # "name - city": the place is the single word
    elif dropped and len(kept) == 1 and word_count(kept[0]) == 1 and len(pieces) > 1:
        return None  # "(place - outlet)": a desk credit, not a person
    author = "; ".join(kept) if len(kept) > 1 else kept[0]
    if word_count(author) > 8 or len(author) > 80:
        return None
    return author


def _profile_name(url: str) -> str | None:
    """A name from a profile URL such as ``/author/ahmad-ali/``, when nothing else names the author."""
    parts = [unquote(p) for p in url_path(url).split("/") if p]
    for i, part in enumerate(parts[:-1]):
        if part.lower() in ("author", "authors", "writer", "writers", "kottab", "kuttab", "columnist", "columnists"):
            name = clean_text(re.sub(r"[-_+.]", " ", parts[i + 1]))
            if name and not any(c.isdigit() for c in name):
                return name
    return None


def _jsonld_author(articles: list[dict[str, Any]], names: list[str]) -> str | None:
    for obj in articles:
        value = obj.get("author") or obj.get("creator")
        people = value if isinstance(value, list) else [value]
        found: list[str] = []
        for person in people:
            for name in ld_names(person):
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
    scopes = list(enclosing(heading))
    return scopes[-1] if scopes else heading


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
        el for el in marked_elements(scope, _AUTHOR_ATTRS, _names_author)
        if el.tag not in ("meta", "link", "script", "style", "body", "html")
    ]
    marked = _after(marked, heading, scope)
    for el in marked:
        if in_page_chrome(el) or "Organization" in (el.get("itemtype") or ""):
            continue
        named = el.xpath(".//*[@itemprop='name']")
        text = clean_text(named[0].get("content")) or element_text(named[0]) if named else element_text(el)
        if not text or word_count(text) > 10:
            continue
        author = clean_author(text, site_names=names)
        if author and normalize(author) not in reject:
            return author
    return None


_BYLINE_REACH = 1500
_BYLINE_AT_START = re.compile(rf"^(?:{'|'.join(lx.BYLINE_OPENING_VERBS)})\s*[:\-–—]?\s*([^:\n]{{3,40}}?)\s*:")


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
    texts: dict[Any, str] = {}  # raw visible text of the elements read so far (each subtree walked once)
    for el in elements:
        if el.tag in INVISIBLE_TAGS or el is scope:
            continue
        read += len((el.text or "").strip())
        if read > _BYLINE_REACH:
            break
        text = element_text(el, memo=texts)
        if not text:
            continue
        credit = word_count(text) <= 8 and _BYLINE_WORD.match(text) and not re.match(r"^by\b", text, re.IGNORECASE)
        opening = _BYLINE_AT_START.match(text) if el.tag == "p" else None
        if not (credit or opening) or in_page_chrome(el):
            continue
        if credit:
            author = clean_author(text, site_names=names)
            if author and 2 <= word_count(author) <= 6 and normalize(author) not in reject:
                return author
        if opening:
            author = clean_author(opening.group(1), site_names=names)
            if author and normalize(author) not in reject:
                return author
    return None


def page_author(
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
            if is_urlish(value):
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
        if name and not is_site_name(name, names):
            return name
    return None
