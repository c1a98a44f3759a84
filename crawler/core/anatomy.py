"""The parts of an article around its body: kicker, lead, byline lines, site tags, captions.

Pure: reads the parsed page (lxml) and the body paragraphs the extractor kept, and returns the body
with every part in its place:

* the **lead** (standfirst) that the page marks above the body (``itemprop="description"`` inside the
  article, a lead / summary / standfirst block, a bold first paragraph) is the first body paragraph,
  unless it copies the headline; it is also returned on its own;
* **byline lines** at the edges of the body («كتب: ...», «حوار: ...», «بقلم ...», a block of
  "Author, ..." / "Role, ..." lines) leave the body; the name they give is the author when the page
  named none elsewhere;
* a **site tag** that opens or closes the body («<outlet> :-») is cut; a dateline that opens the first
  sentence («دمشق - وكالات:») stays, as agencies write it;
* **captions** and photo credits (``figcaption``, caption / credit blocks) are returned as a list and
  never stay in the body;
* the **kicker** is the short label the page sets above its headline.

Text is kept as published; the Arabic normalisation is only used to compare.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import lxml.html

from crawler.core import lexicon as lx
from crawler.core.byline import clean_author
from crawler.core.pagetext import clean_text, element_text, in_page_chrome, loose, marked_elements, word_count
from crawler.core.title import is_publication_name, is_site_name, segments

__all__ = [
    "Anatomy", "article_anatomy", "body_edges", "byline_line", "page_captions", "page_kicker", "page_lead", "source_title_affix",
    "strip_title_affix",
]


@dataclass
class Anatomy:
    """The body and the parts taken apart from it."""

    paragraphs: list[str]
    lead: str | None = None
    kicker: str | None = None
    author: str | None = None  # a name read from a byline line cut from the body
    captions: list[str] = field(default_factory=list)


# --- marks in class names ------------------------------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9]+")


def _words(value: str) -> set[str]:
    """The tokens of a class / id value, and each two adjacent ones joined (``stand-first``)."""
    tokens = _TOKEN.findall(value.lower())
    return set(tokens) | {a + b for a, b in zip(tokens, tokens[1:])}


_SKIP = ("meta", "link", "script", "style", "body", "html", "article", "main", "section")
_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # kind: (class / id marks, itemprops)
    "caption": (lx.CAPTION_MARKS, ("caption", "copyrightHolder")),
    "lead": (lx.LEAD_MARKS, ("description",)),
    "kicker": (lx.KICKER_MARKS, ()),
}


_MARK_WORDS = {kind: frozenset(m.replace("-", "") for m in marks) for kind, (marks, _) in _KINDS.items()}


def _kind(attr: str, value: str) -> str | None:
    if attr == "itemprop":
        return next((kind for kind, (_, itemprops) in _KINDS.items() if value in itemprops), None)
    words = _words(value)  # read once for every kind
    return next((kind for kind in _KINDS if not words.isdisjoint(_MARK_WORDS[kind])), None)


def _marked(tree: lxml.html.HtmlElement) -> dict[str, list[Any]]:
    """The elements, in page order, that the page marks as a caption, a lead or a kicker (by class,
    id or itemprop); none of the page's chrome (header bar, navigation, footer) or its big containers."""
    kinds: dict[tuple[str, str], str | None] = {}

    def test(attr: str, value: str) -> bool:
        kinds[attr, value] = _kind(attr, value)
        return kinds[attr, value] is not None

    out: dict[str, list[Any]] = {kind: [] for kind in _KINDS}
    for el in marked_elements(tree, ("class", "id", "itemprop"), test):
        if el.tag in _SKIP or in_page_chrome(el):
            continue
        for attr in ("itemprop", "class", "id"):
            kind = kinds.get((attr, el.get(attr) or ""))
            if kind is not None:
                out[kind].append(el)
                break
    return out


# --- captions ------------------------------------------------------------------------------------
_MAX_CAPTION_WORDS = 80


def page_captions(tree: lxml.html.HtmlElement, marked: dict[str, list[Any]] | None = None) -> list[str]:
    """Image captions and photo credits of the page, in page order, each once."""
    found: list[str] = []
    seen: set[str] = set()
    chosen = set((marked or _marked(tree))["caption"])
    chosen |= {el for el in tree.iter("figcaption") if not in_page_chrome(el)}
    # in page order; a credit inside a caption is read with the caption
    elements = [el for el in tree.iter() if el in chosen and not any(a in chosen for a in el.iterancestors())]
    for el in elements:
        text = element_text(el)
        key = loose(text)
        if "<" in text and ">" in text:  # markup shown as text: an embed code, not a caption
            continue
        if key and word_count(text) <= _MAX_CAPTION_WORDS and key not in seen and not _inside(key, seen):
            seen.add(key)
            found.append(text)
    return found


def _inside(key: str, seen: set[str]) -> bool:
    return any(key in other for other in seen)


# --- lead ----------------------------------------------------------------------------------------
_LEAD_WORDS = (8, 150)


def _first_match(tree: lxml.html.HtmlElement, key: str) -> lxml.html.HtmlElement | None:
    """The innermost element whose visible text is ``key`` (loose): where a body paragraph sits."""
    for el in tree.iter("p", "li", "h2", "h3", "blockquote"):
        if loose(element_text(el)) == key:
            return el
    return None


def _before(a: lxml.html.HtmlElement, b: lxml.html.HtmlElement) -> bool:
    """Whether ``a`` comes before ``b`` in page order (and does not hold it)."""
    if a in b.iterancestors():
        return False
    for el in b.itersiblings(preceding=True):
        if el is a or a in el.iterdescendants():
            return True
    for anc in b.iterancestors():
        for el in anc.itersiblings(preceding=True):
            if el is a or a in el.iterdescendants():
                return True
    return False


def _is_bold(el: lxml.html.HtmlElement) -> bool:
    """A paragraph set wholly in bold."""
    strong = [c for c in el if c.tag in ("strong", "b")]
    return bool(strong) and loose(" ".join(element_text(c) for c in strong)) == loose(element_text(el))


def page_lead(
    tree: lxml.html.HtmlElement, paragraphs: Sequence[str], title: str | None,
    marked: dict[str, list[Any]] | None = None,
) -> str | None:
    """The lead the page marks above its body, as published; ``None`` when it marks none."""
    if not paragraphs:
        return None
    first = _first_match(tree, loose(paragraphs[0]))
    title_key = loose(title or "")
    for el in (marked or _marked(tree))["lead"]:
        text = element_text(el)
        key = loose(text)
        if not (_LEAD_WORDS[0] <= word_count(text) <= _LEAD_WORDS[1]) or key == title_key:
            continue
        if any(loose(p) == key for p in paragraphs[:1]):
            return paragraphs[0]  # the body already opens with it
        if first is not None and _before(el, first) and not any(key in loose(p) for p in paragraphs):
            return text
    if first is not None and first.tag == "p" and _is_bold(first) and loose(paragraphs[0]) != title_key:
        return paragraphs[0] if len(paragraphs) > 1 else None
    return None


# --- kicker --------------------------------------------------------------------------------------
def page_kicker(
    tree: lxml.html.HtmlElement, dropped: Sequence[tuple[str, str]] = (), marked: dict[str, list[Any]] | None = None,
) -> str | None:
    """The label above the headline: a kicker-marked element, else a line the body cleaner took for one."""
    for el in (marked or _marked(tree))["kicker"]:
        text = element_text(el)
        if text and word_count(text) <= 8:
            return text
    kickers = [line for line, reason in dropped if reason == "kicker"]
    return kickers[-1] if kickers else None


# --- byline lines and site tags at the edges of the body -----------------------------------------
_FIELD = re.compile(rf"^[-–—•*·]?\s*({'|'.join(lx.BYLINE_FIELDS)})\s*[,،:]\s*(\S.*)$", re.IGNORECASE)
_NAME_FIELDS = {f.lower() for f in lx.BYLINE_NAME_FIELDS}
_CREDIT = re.compile(
    rf"^(?:{'|'.join(lx.BYLINE_VERBS)})\b\s*[:：\-–—]?\s*\S|^(?:{'|'.join(lx.BYLINE_LABELS)})\s*[:：]\s*\S"
)
_TAG = re.compile(r"^\s*(?P<name>[^\s:：\-–—.،,][^:：\-–—.،,]{0,40}?)\s*(?P<mark>:-|-:|:\s*-|:|[-–—])\s*")
_BYLINE_EDGE = 3


def byline_line(line: str) -> tuple[bool, str | None]:
    """Whether ``line`` is a byline line, and the name it gives (or ``None``)."""
    if word_count(line) > 12:
        return False, None
    match = _FIELD.match(line.strip())
    if match:
        name = match.group(2) if match.group(1).lower() in _NAME_FIELDS else None
        return True, clean_author(name) if name else None
    if _CREDIT.match(line.strip()) and word_count(line) <= 8:
        return True, clean_author(line)
    return False, None


def _site_tag(line: str, names: Sequence[str]) -> int:
    """Length of a site tag opening ``line`` («<outlet> :-»), 0 when none."""
    match = _TAG.match(line)
    if not match or match.end() >= len(line.rstrip()):
        return 0
    name, mark = match.group("name"), match.group("mark").replace(" ", "")
    if mark in (":-", "-:") and word_count(name) <= 4:
        return match.end()
    if is_site_name(name, names) or is_publication_name(name):
        return match.end()
    return 0


def body_edges(paragraphs: Sequence[str], site_names: Sequence[str] = ()) -> tuple[list[str], str | None]:
    """The body without byline lines at its edges and site tags that open or close it; and the byline's name."""
    body = list(paragraphs)
    author: str | None = None
    for edge in (0, -1):
        for _ in range(_BYLINE_EDGE):
            if not body:
                break
            line = body[edge]
            is_byline, name = byline_line(line)
            if is_byline:
                author = author or name
                body.pop(edge)
                continue
            if is_site_name(line, site_names) or is_publication_name(line.strip(" :-–—")):
                body.pop(edge)
                continue
            break
    if body:
        cut = _site_tag(body[0], site_names)
        if cut:
            body[0] = body[0][cut:].lstrip()
    return body, author


def _drop_captions(paragraphs: Sequence[str], captions: Sequence[str]) -> list[str]:
    keys = {loose(c) for c in captions}
    return [p for p in paragraphs if loose(p) not in keys]


def article_anatomy(
    tree: lxml.html.HtmlElement,
    paragraphs: Sequence[str],
    *,
    title: str | None,
    site_names: Sequence[str] = (),
    dropped: Sequence[tuple[str, str]] = (),
) -> Anatomy:
    """Take the parts of the article apart from the body ``paragraphs`` the extractor kept."""
    marked = _marked(tree)
    captions = page_captions(tree, marked)
    body = _drop_captions(paragraphs, captions)
    body, author = body_edges(body, site_names)
    lead = page_lead(tree, body, title, marked) if body else None
    if lead and (not body or loose(body[0]) != loose(lead)):
        body.insert(0, lead)
    kicker = page_kicker(tree, dropped, marked)
    return Anatomy(paragraphs=body, lead=lead, kicker=kicker, author=author, captions=captions)


# --- a source's own title furniture ---------------------------------------------------------------
_MIN_TITLES = 3
_AFFIX_SHARE = 0.6


@lru_cache(maxsize=256)  # a source's recent titles are read again for each new article of it
def _ends(title: str) -> tuple[str | None, str | None]:
    """The loose keys of the first and last title segments, when the title has more than one."""
    spans = segments(clean_text(title))
    if len(spans) < 2:
        return None, None
    text = clean_text(title)
    return loose(text[spans[0][0]:spans[0][1]]), loose(text[spans[-1][0]:spans[-1][1]])


def source_title_affix(titles: Sequence[str]) -> tuple[str, str] | None:
    """The segment a source sets at the same end of most of its titles (its name), as
    ``("prefix" | "suffix", loose key)``; ``None`` when its recent ``titles`` share none."""
    usable = [t for t in titles if t]
    if len(usable) < _MIN_TITLES:
        return None
    ends = [_ends(title) for title in usable]
    for side, index in (("prefix", 0), ("suffix", 1)):
        counts: dict[str, int] = {}
        for pair in ends:
            key = pair[index]
            if key:
                counts[key] = counts.get(key, 0) + 1
        if counts:
            key, count = max(counts.items(), key=lambda kv: kv[1])
            if count >= max(_MIN_TITLES, _AFFIX_SHARE * len(usable)) and word_count(key) <= 6:
                return side, key
    return None


def strip_title_affix(title: str, affix: tuple[str, str] | None) -> str:
    """``title`` without the source's own segment at the end ``affix`` names (as published otherwise)."""
    if not affix or not title:
        return title
    text = clean_text(title)
    spans = segments(text)
    if len(spans) < 2:
        return title
    side, key = affix
    if side == "prefix" and loose(text[spans[0][0]:spans[0][1]]) == key:
        return text[spans[1][0]:].strip()
    if side == "suffix" and loose(text[spans[-1][0]:spans[-1][1]]) == key:
        return text[:spans[-2][1]].strip()
    return title
