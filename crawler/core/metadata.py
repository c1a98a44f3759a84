"""Title, section, author and the other head-of-page facts of an Arabic news page: the assembler.

Each fact has its module: :mod:`crawler.core.title` (headline, site names), :mod:`crawler.core.section`,
:mod:`crawler.core.byline` (author), :mod:`crawler.core.jsonld` (the JSON-LD, read once and shared with
:mod:`crawler.core.dates`), :mod:`crawler.core.canonical`; tags and description are read here.
Text is returned as published; Arabic normalisation is used only to *compare* strings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import lxml.html

from crawler.core import lexicon as lx
from crawler.core.arabic import normalize
from crawler.core.byline import page_author
from crawler.core.canonical import page_canonical
from crawler.core.jsonld import JsonLd, read_json_ld
from crawler.core.pagetext import clean_text, element_text, loose, meta_map
from crawler.core.section import page_section
from crawler.core.title import (
    article_heading, choose_title, is_site_name, repeated_ends, segments, site_names, title_candidates, title_leftovers,
)

__all__ = ["PageMeta", "page_metadata"]


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
    furniture: tuple[str, ...] = ()  # loose keys of the site's names and the title's furniture


_GENERIC_TAGS = {normalize(w) for w in lx.GENERIC_TAGS}


def _tags(
    meta: dict[str, list[str]], articles: list[dict[str, Any]], title: str | None, names: list[str]
) -> tuple[str, ...]:
    """Article tags (``article:tag``, JSON-LD keywords, news_keywords, keywords), site-wide words left out."""
    sources: list[list[str]] = [meta.get("article:tag", [])]
    for obj in articles:
        keywords = obj.get("keywords")
        sources.append([clean_text(k) for k in keywords] if isinstance(keywords, list) else [clean_text(keywords)])
    sources += [meta.get("news_keywords", []), meta.get("keywords", [])]
    title_key = loose(title or "")
    for values in sources:
        tags: list[str] = []
        keys: set[str] = set()
        for value in values:
            for piece in re.split(r"\s*[,،;]\s*", value):
                tag = clean_text(piece)
                if (not tag or normalize(tag) in keys or loose(tag) == title_key or normalize(tag) in _GENERIC_TAGS
                        or is_site_name(tag, names)):
                    continue
                keys.add(normalize(tag))
                tags.append(tag)
        if tags and not (title_key and loose(" ".join(tags)) == title_key):
            return tuple(tags)
    return ()


def _description(meta: dict[str, list[str]], articles: list[dict[str, Any]], names: list[str]) -> str | None:
    values = meta.get("og:description", []) + meta.get("description", []) + meta.get("twitter:description", [])
    values += [clean_text(obj.get("description")) for obj in articles]
    for value in values:
        pieces = [value[a:b] for a, b in segments(value)]
        if value and not all(is_site_name(p, names) for p in pieces):
            return value
    return None


def page_metadata(tree: lxml.html.HtmlElement, url: str | None = None, json_ld: JsonLd | None = None) -> PageMeta:
    """Read the title, site name, section, author, description, tags and canonical URL of a page.

    ``json_ld`` is the page's JSON-LD when the caller has read it (:func:`crawler.core.jsonld.read_json_ld`).
    """
    meta = meta_map(tree)
    ld = json_ld if json_ld is not None else read_json_ld(tree)
    objects, articles = ld.objects, ld.articles
    canonical = page_canonical(tree, url or "")
    site_name, names = site_names(tree, meta, objects, articles, url, canonical)

    candidates = title_candidates(tree, meta, articles)
    heading_el = article_heading(tree, candidates, names)
    heading = element_text(heading_el, sep="") if heading_el is not None else None
    whole = {loose(text) for _, text in candidates} | ({loose(heading)} if heading else set())
    repeated = repeated_ends(candidates, whole)
    names += [r for r in repeated if r not in names]
    title, title_source = choose_title(candidates, heading, names)
    if site_name is None and repeated:
        site_name = next(
            (clean_text(text)[a:b].strip() for _, text in candidates for a, b in segments(clean_text(text))
             if loose(clean_text(text)[a:b]) == repeated[0]), None)
    section, section_source = page_section(tree, meta, objects, articles, heading_el, title, names, url or canonical)
    # What the title left beside the headline (site name, desk, section) is the page's furniture:
    # not an author, not a description, not a tag.
    furniture = names + [key for key in title_leftovers(candidates, title) if key not in names]
    reject = {normalize(v) for v in (section, title) if v}
    return PageMeta(
        title=title,
        title_source=title_source,
        site_name=site_name,
        section=section,
        section_source=section_source,
        author=page_author(tree, meta, articles, heading_el, furniture, reject),
        description=_description(meta, articles, furniture),
        tags=_tags(meta, articles, title, furniture),
        canonical_url=canonical,
        furniture=tuple(furniture),
    )
