"""The extraction core: bytes (+ URL and HTTP headers) in, an :class:`Article` out.

Pure: no Scrapy, no database.  A crawl and a replay of a saved file both end up here, so a fix
made for one is a fix for both.

    decode -> (HTML) trafilatura main text + Arabic boilerplate filter + page metadata
           -> (saved text) the same line rules over the page's lines
           -> dates with provenance -> language -> content hash
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from crawler.core.anatomy import article_anatomy, body_edges, byline_line
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.boilerplate import clean_paragraphs, segment_text_page
from crawler.core.dates import resolve_dates
from crawler.core.decode import DecodeError, decode_html, decode_text, header_value
from crawler.core.htmltree import load_html
from crawler.core.jsonld import read_json_ld
from crawler.core.language import detect_language
from crawler.core.metadata import page_metadata
from crawler.core.errors import ExtractionError, NotAnArticle
from crawler.core.extractor import EXTRACTOR_VERSION, MAX_PAGE_BYTES
from crawler.core.pagetype import classify_html, classify_text
from crawler.core.title import clean_title

__all__ = ["EXTRACTOR_VERSION", "ExtractionError", "MAX_PAGE_BYTES", "NotAnArticle", "extract", "extract_html", "extract_text", "sniff_kind"]



def _check_size(size: int, unit: str) -> None:
    if size > MAX_PAGE_BYTES:
        raise ExtractionError(f"page too large: {size} {unit} > {MAX_PAGE_BYTES}")


_TEXT_SUFFIXES = (".txt", ".text")
_HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx")


def sniff_kind(data: bytes, name: str | None = None, content_type: str | None = None) -> str:
    """``'html'`` or ``'text'``, from the content type, the file or URL name, then the bytes."""
    if content_type:
        ct = content_type.lower()
        if "html" in ct or "xml" in ct:
            return "html"
        if ct.startswith("text/plain"):
            return "text"
    if name:
        lowered = name.lower().split("?", 1)[0]
        if lowered.endswith(_TEXT_SUFFIXES):
            return "text"
        if lowered.endswith(_HTML_SUFFIXES):
            return "html"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    head = head.replace(b"\x00", b"")  # UTF-16 pages
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<meta", b"<!--")) or b"<p" in head or b"<div" in head:
        return "html"
    return "text"


def extract(
    data: bytes,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    kind: str | None = None,
    name: str | None = None,
    fetched_at: datetime | None = None,
    timezone: str | None = None,
    locale: str | None = None,
    feed_date: str | datetime | None = None,
) -> Article:
    """Extract the article from raw bytes.

    ``kind`` forces ``'html'`` or ``'text'``; otherwise it is sniffed from the Content-Type header,
    ``name`` (a file name) or ``url``, then the bytes.  Raises :class:`ExtractionError` (a
    ``ValueError`` with a one-line message) for empty, undecodable or article-less input.
    """
    if not data or not data.strip():
        raise ExtractionError("empty document")
    _check_size(len(data), "bytes")
    content_type = header_value(headers, "Content-Type")
    kind = kind or sniff_kind(data, name or url, content_type)
    try:
        decoded = decode_text(data) if kind == "text" else decode_html(data, headers)
    except DecodeError as exc:
        raise ExtractionError(str(exc)) from exc
    read = extract_text if kind == "text" else extract_html
    article = read(
        decoded.text,
        url=url,
        fetched_at=fetched_at,
        timezone=timezone,
        locale=locale,
        feed_date=feed_date,
        http_last_modified=header_value(headers, "Last-Modified"),
    )
    article.encoding = decoded.encoding
    article.replaced_chars = decoded.replaced
    return article


def _finish(
    *,
    url: str | None,
    title: str | None,
    paragraphs: list[str],
    **fields: Any,
) -> Article:
    text = "\n".join(paragraphs)
    if not text.strip():
        raise ExtractionError("no article text found")
    language = detect_language(f"{title or ''}\n{text}")
    return Article(
        url=url,
        title=title,
        text=text,
        content_hash=content_hash(text),
        lang=language.lang,
        lang_confidence=language.confidence,
        arabic_share=language.arabic_share,
        **fields,
    )


_TRAFILATURA_OPTIONS: dict[str, Any] = dict(  # how akhbar calls trafilatura.extract on a page
    include_comments=False, include_tables=True, favor_precision=True, deduplicate=False, with_metadata=False,
)


def extract_html(
    html: str,
    *,
    url: str | None = None,
    fetched_at: datetime | None = None,
    timezone: str | None = None,
    locale: str | None = None,
    feed_date: str | datetime | None = None,
    http_last_modified: str | None = None,
) -> Article:
    """Extract the article from a decoded HTML page."""
    _check_size(len(html), "characters")
    # One parse, by trafilatura's loader rules (crawler.core.htmltree), read by every stage below and
    # then handed to trafilatura, which copies it rather than parsing the page a second time.
    tree = load_html(html)
    readable = tree is not None  # else trafilatura takes it for no HTML page and finds no text in it
    if tree is None:  # lxml may still read its metadata and dates
        try:
            tree = lxml.html.fromstring(html)
        except (etree.ParserError, ValueError) as exc:
            raise ExtractionError(f"not an HTML page ({exc})") from exc
    json_ld = read_json_ld(tree)  # read once, for the page type, the metadata and the dates
    verdict = classify_html(tree, url, json_ld=json_ld)
    if not verdict.is_article:
        raise NotAnArticle(verdict.kind, verdict.reason)
    meta = page_metadata(tree, url, json_ld)
    link_texts = [a.text_content() for a in tree.iter("a")]
    dates = resolve_dates(
        html=html,
        # share the parse when it is the whole document (a fragment comes back re-rooted by lxml)
        doc=tree if tree.getparent() is None else None,
        json_ld=json_ld if tree.getparent() is None else None,
        title=meta.title,
        url=url,
        fetched_at=fetched_at,
        feed_date=feed_date,
        http_last_modified=http_last_modified,
        timezone=timezone,
        locale=locale,
    )
    main: str | None = trafilatura.extract(tree, url=url, **_TRAFILATURA_OPTIONS) if readable else None
    paragraphs, dropped = clean_paragraphs((main or "").split("\n"), title=meta.title, link_texts=link_texts)
    parts = article_anatomy(tree, paragraphs, title=meta.title, site_names=meta.furniture, dropped=dropped)
    return _finish(
        url=url,
        title=meta.title,
        paragraphs=parts.paragraphs,
        kicker=parts.kicker,
        lead=parts.lead,
        captions=parts.captions,
        published=dates.published,
        date_source=dates.date_source,
        modified=dates.modified,
        section=meta.section,
        author=meta.author or parts.author,
        canonical_url=meta.canonical_url,
        description=meta.description,
        tags=list(meta.tags),
    )


def extract_text(
    text: str,
    *,
    url: str | None = None,
    fetched_at: datetime | None = None,
    timezone: str | None = None,
    locale: str | None = None,
    feed_date: str | datetime | None = None,
    http_last_modified: str | None = None,
) -> Article:
    """Extract the article from a saved page text (one page element per line)."""
    _check_size(len(text), "characters")
    lines = text.splitlines()
    verdict = classify_text(lines, url)
    if not verdict.is_article:
        raise NotAnArticle(verdict.kind, verdict.reason)
    page = segment_text_page(lines)
    # Dates are looked for where a page shows them: in the header around the headline and in
    # the dateline that opens the body; never in a month named inside the running text.
    date_lines = page.header + page.body[:1]
    dates = resolve_dates(
        lines=date_lines,
        title=page.title,
        url=url,
        fetched_at=fetched_at,
        feed_date=feed_date,
        http_last_modified=http_last_modified,
        timezone=timezone,
        locale=locale,
    )
    body, author = body_edges(page.body)
    # A byline among the lines above the body («كتب: ...») names the author; it is no tag.
    bylines = {line: byline_line(line) for line in page.header}
    author = author or next((name for is_byline, name in bylines.values() if is_byline and name), None)
    tags = [tag for tag in page.tags if not bylines.get(tag, (False, None))[0]]
    return _finish(
        url=url,
        title=clean_title(page.title) if page.title else None,
        paragraphs=body,
        author=author,
        kicker=page.section,
        published=dates.published,
        date_source=dates.date_source,
        modified=dates.modified,
        section=page.section,
        tags=tags,
        description=page.description,
    )
