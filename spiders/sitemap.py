"""The ``sitemap`` spider: sitemaps, sitemap indexes and Google News sitemaps, with a lastmod filter."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.core.discovery import entries_since, parse_sitemap
from crawler.counters import count
from crawler.items import LASTMOD_KEY
from spiders.base import AkhbarSpider

log = logging.getLogger(__name__)


class SitemapMixin:
    """Reads a sitemap: an index leads to its (changed) sitemaps, a urlset to its new articles.

    Child sitemaps whose ``lastmod`` is older than ``since`` are not fetched; without ``since``,
    each child request carries its index entry (``meta[LASTMOD_KEY]``) and the crawl drops those
    older than the source's last good run.  Every sitemap is fetched conditionally (ETag / Last-Modified).  A Google News publication date
    is passed on as the article's feed date.
    """

    def parse_sitemap(self: Any, response: Response) -> Iterator[Any]:
        sitemap = self.read_document(response, parse_sitemap, "sitemap")
        if sitemap is None:
            return
        if sitemap.truncated:  # cut at a bound, or a broken download: read again next time, whole
            count(self.crawler, "errors/truncated")
            log.warning("sitemap %s cut short: %d entries read, the rest left for the next crawl",
                        response.url, len(sitemap.entries))
        else:
            yield from self.validators(response)
        if sitemap.kind == "index":
            entries = sitemap.entries
            if self.since is not None:
                kept = entries_since(entries, self.since)
                count(self.crawler, "skipped_sitemaps", len(entries) - len(kept))
                entries = kept
            for entry in entries:
                url = self.source.allowed_url(entry.url)
                if url is not None:
                    request = self.discovery_request(url, self.parse_sitemap)
                    if self.since is None:
                        request.meta[LASTMOD_KEY] = entry
                    yield request
            return
        entries = sitemap.entries
        if self.since is not None:  # an explicit ``since`` also filters the pages themselves
            entries = entries_since(entries, self.since)
        yield from self.article_requests(
            (e.url, e.news_publication_date, e.lastmod or e.news_publication_date) for e in entries)


class SitemapSpider(SitemapMixin, AkhbarSpider):
    """``scrapy crawl sitemap -a source=NAME``: the source's sitemaps only."""

    name = "sitemap"
    ways = ("sitemaps",)
