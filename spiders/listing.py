"""The ``listing`` spider: section fronts, their article links and their pagination."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.http import Response

from crawler.core.canonical import canonicalize_url
from crawler.core.sources import Listing
from crawler.items import PAGING_KEY, START_KEY
from spiders.base import AkhbarSpider

#: Pagination when a listing names no ``next`` selector: the standard rel="next" link.
DEFAULT_NEXT = "a[rel~=next], link[rel~=next]"
LISTING_KEY = "akhbar_listing"
PAGE_KEY = "akhbar_listing_page"


def _canonical(url: str) -> str | None:
    try:
        return canonicalize_url(url)
    except ValueError:
        return None


def next_pages(response: Response, listing: Listing) -> list[str]:
    """Absolute URLs of the next page(s) selected by the listing's ``next`` CSS selector."""
    urls = []
    for element in response.css(listing.next or DEFAULT_NEXT):
        href = element.attrib.get("href") or element.css("a::attr(href)").get()
        if href and href.strip():
            urls.append(response.urljoin(href.strip()))
    return urls


def _place(url: str | None) -> tuple[str, str] | None:
    """(host, path) of a canonical URL: every page of one listing shares it."""
    if not url:
        return None
    parts = urlsplit(url)
    return parts.netloc, parts.path


def article_links(response: Response, listing: Listing, exclude: set[str]) -> list[str]:
    """Links on a listing page that are articles: matching ``follow`` (as written or canonical -
    no fragment, no tracking parameters - percent-encoded or decoded),
    or, without ``follow``, every link that is not pagination (``exclude``, rel=prev/next) or
    a page of the listing itself (same host and path)."""
    places = {_place(u) for u in exclude}
    paging = response.css("a[rel~=prev]::attr(href), a[rel~=next]::attr(href)").getall()
    exclude = exclude | {c for c in (_canonical(response.urljoin(h.strip())) for h in paging) if c}
    links = []
    for href in response.css("a::attr(href)").getall():
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = response.urljoin(href)
        canon = _canonical(url)
        if listing.follow is not None:
            forms = (url, unquote(url), *((canon, unquote(canon)) if canon else ()))
            if any(listing.follow.search(form) for form in forms):
                links.append(url)
        elif canon not in exclude and _place(canon) not in places:
            links.append(url)
    return list(dict.fromkeys(links))


class ListingMixin:
    """Reads a listing page: article links become article requests, ``next`` leads on.

    Paging stops after ``AKHBAR_LISTING_MAX_PAGES`` pages, or at a page whose article links
    are all off the source, or all in the archive already (older pages hold older articles: the
    next-page request is marked ``meta[PAGING_KEY]`` for the seen-URL middleware).
    The page is read with the encoding :func:`crawler.core.decode.decode_html` finds.
    """

    def listing_request(self: Any, url: str, index: int, page: int, *, start: bool = False) -> scrapy.Request:
        stop_when_seen = not start and self.crawler.settings.getbool("AKHBAR_LISTING_STOP_WHEN_SEEN", True)
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.on_error,
            dont_filter=start,
            meta={LISTING_KEY: index, PAGE_KEY: page, START_KEY: start, PAGING_KEY: stop_when_seen},
        )

    def parse_listing(self: Any, response: Response) -> Iterator[Any]:
        response = self.decoded(response)
        if response is None:
            return
        self.started(response)
        index = response.meta[LISTING_KEY]
        page = response.meta[PAGE_KEY]
        listing: Listing = self.source.listings[index]
        pages = next_pages(response, listing)
        exclude = {c for c in (_canonical(u) for u in [*pages, listing.url, response.url]) if c}
        links = article_links(response, listing, exclude)
        requests = list(self.article_requests((u, None, None) for u in links))
        yield from requests
        limit = self.crawler.settings.getint("AKHBAR_LISTING_MAX_PAGES", 50)
        if links and not requests and self.crawler.settings.getbool("AKHBAR_LISTING_STOP_WHEN_SEEN", True):
            return  # nothing of this source here: the pages after it hold none either
        if page >= limit:
            return
        for url in pages:
            if self.source.allowed_url(url) is not None:
                yield self.listing_request(url, index, page + 1)


class ListingSpider(ListingMixin, AkhbarSpider):
    """``scrapy crawl listing -a source=NAME``: the source's listing pages only."""

    name = "listing"
    ways = ("listings",)
