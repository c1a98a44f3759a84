"""The section of a news page.

The last crumb of a breadcrumb trail (JSON-LD ``BreadcrumbList``, microdata, or an element whose
class or id names a breadcrumb) that is neither home nor the headline; then ``article:section``,
JSON-LD / microdata ``articleSection``; then a category link shown beside the headline; then a
word in the URL path, but only when the page links that path and so shows its name.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import lxml.html

from crawler.core import lexicon as lx
from crawler.core.arabic import normalize
from crawler.core.jsonld import ld_types
from crawler.core.pagetext import (
    ELLIPSIS, clean_text, contains_words, element_text, enclosing, in_page_chrome, is_urlish, join_url, loose,
    marked_elements, url_path, word_count,
)
from crawler.core.title import is_site_name

__all__ = ["page_section"]


_HOME = {normalize(w) for w in lx.HOME_WORDS}
_GENERIC_SECTIONS = {normalize(w) for w in lx.GENERIC_SECTIONS}
_CRUMB_EDGE = "›‹»«>/\\|·•-–—:، "


def _clean_section(value: str) -> str | None:
    text = clean_text(value).strip(_CRUMB_EDGE)
    key = normalize(text)
    if not text or key in _HOME or key in _GENERIC_SECTIONS or word_count(text) > 8 or is_urlish(text):
        return None
    if not any(c.isalpha() for c in text):
        return None
    return text


def _is_home_link(a: lxml.html.HtmlElement | None, base: str | None) -> bool:
    if a is None or not a.get("href"):
        return False
    path = url_path(a.get("href", ""), base)
    return path in ("", "/") or re.fullmatch(r"/(?:ar|en|arabic)/?", path) is not None


def _pick_crumb(crumbs: list[tuple[str, bool]], title: str | None, names: list[str]) -> str | None:
    """The last crumb that is not home, the site, or the article title itself."""
    title_key = loose(title or "")
    for text, is_home in reversed(crumbs):
        section = _clean_section(text)
        if not section or is_home or is_site_name(section, names):
            continue
        key = loose(ELLIPSIS.sub("", section))
        if title_key and (key == title_key or (title_key.startswith(key) and len(key) > len(title_key) / 2)
                          or (contains_words(key, title_key) and len(title_key) > len(key) / 2)):
            continue
        return section
    return None


def _jsonld_breadcrumbs(objects: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    for obj in objects:
        if "BreadcrumbList" not in ld_types(obj):
            continue
        items = obj.get("itemListElement")
        items = items if isinstance(items, list) else [items]
        ranked: list[tuple[float, str, bool]] = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            name = clean_text(item.get("name"))
            target = item.get("item")
            if not name and isinstance(target, dict):
                name = clean_text(target.get("name"))
            link = target.get("@id") if isinstance(target, dict) else target
            home = isinstance(link, str) and url_path(link) in ("", "/")
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
    containers = marked_elements(tree, _CRUMB_ATTRS, _names_breadcrumb)
    chosen = [c for c in containers if not any(a in containers for a in c.iterancestors())]
    for box in chosen:
        crumbs: list[tuple[str, bool]] = []
        named = box.xpath(".//*[@itemprop='name']")
        if named:
            for el in named:
                link = next((a for a in el.iterancestors() if a.tag == "a"), el if el.tag == "a" else None)
                crumbs.append((clean_text(el.get("content")) or element_text(el), _is_home_link(link, base)))
        elif box.xpath(".//li"):
            for li in box.xpath(".//li[not(.//li)]"):
                links = li.xpath(".//a")
                crumbs.append((element_text(li), _is_home_link(links[0] if links else None, base)))
        elif box.xpath(".//a"):
            for a in box.xpath(".//a"):
                crumbs.append((element_text(a), _is_home_link(a, base)))
            tail = box.xpath(".//*[contains(@class, 'active') or contains(@class, 'current') or @aria-current]")
            crumbs += [(element_text(el), False) for el in tail if el.tag != "a" and not el.xpath(".//a")]
        else:
            crumbs = [(piece, False) for piece in re.split(r"\s*[›‹»«>/|]\s*", element_text(box))]
        crumbs = [(t, h) for t, h in crumbs if t]
        if crumbs:
            return crumbs
    return []


_CATEGORY_PATH = re.compile(r"/(?:category|categories|section|sections|cat|qism|topics?)/", re.IGNORECASE)


def _category_near(heading: lxml.html.HtmlElement | None, base: str | None) -> str | None:
    """A category link shown beside the headline (within four levels of its ancestors)."""
    if heading is None:
        return None
    for scope in enclosing(heading):
        for a in scope.iter("a"):
            href = unquote(join_url(a.get("href") or "", base))
            marks = f"{a.get('class') or ''} {a.getparent().get('class') or ''}".lower()
            if not (_CATEGORY_PATH.search(href) or "categ" in marks) or in_page_chrome(a):
                continue
            section = _clean_section(element_text(a))
            if section and word_count(section) <= 4:
                return section
    return None


def _wordpress_category(tree: lxml.html.HtmlElement) -> str | None:
    """WordPress marks the menu entry of the post's own category with ``current-post-parent``."""
    for li in tree.xpath("//li[contains(@class, 'current-post-parent')]"):
        links = li.xpath("./a")
        section = _clean_section(element_text(links[0])) if links else None
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
    parts = [unquote(p) for p in url_path(url).split("/") if p]
    if parts:
        parts = parts[:-1] if len(parts) > 1 else []  # the last piece is the article's own slug or id
    words: list[tuple[str, str]] = []  # (path prefix, part) for the parts that could name a section
    prefix = ""
    for part in parts:
        prefix += "/" + part
        word = part.lower()
        if not (word in _URL_GENERIC or any(c.isdigit() for c in word) or "." in word
                or word_count(part.replace("-", " ")) > 4 or not any(c.isalpha() for c in word)):
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
        spoken = clean_text(re.sub(r"[-_+]", " ", part))
        if any("\u0600" <= c <= "\u06ff" for c in spoken):
            if page_text is None:
                body = tree.find(".//body")
                page_text = loose(element_text(body if body is not None else tree))
            if not contains_words(page_text, loose(spoken)):
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
        path = unquote(url_path(href, base)).rstrip("/")
        if path in paths and path not in found:
            text = element_text(a)
            if text:
                found[path] = text
    return found


def page_section(
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
        if _clean_section(value) and not is_site_name(value, names):
            return _clean_section(value), "article:section"
    for obj in articles:
        declared = obj.get("articleSection")
        for item in declared if isinstance(declared, list) else [declared]:
            if isinstance(item, str) and _clean_section(item):
                return _clean_section(item), "json-ld"
    for el in tree.xpath("//*[@itemprop='articleSection']"):
        shown = _clean_section(clean_text(el.get("content")) or element_text(el))
        if shown:
            return shown, "microdata"
    category = _category_near(heading, base) or _wordpress_category(tree)
    if category:
        return category, "category"
    found = _url_section(tree, base)
    return (found, "url") if found else (None, None)
