"""The ``source`` spider: every way a source announces articles, in one crawl."""
from __future__ import annotations

from spiders.base import AkhbarSpider
from spiders.feed import FeedMixin, FeedSpider
from spiders.listing import ListingMixin, ListingSpider
from spiders.sitemap import SitemapMixin, SitemapSpider


class SourceSpider(FeedMixin, SitemapMixin, ListingMixin, AkhbarSpider):
    """``scrapy crawl source -a source=NAME``: feeds, sitemaps and listings together, so an
    article announced in several of them is fetched once (one dupefilter, one archive check)."""

    name = "source"
    ways = ("feeds", "sitemaps", "listings")


def spider_for(source: object) -> type[AkhbarSpider]:
    """The spider for a source: the one for its only way of announcing articles, else ``source``."""
    ways = [w for w in ("feeds", "sitemaps", "listings") if getattr(source, w)]
    if len(ways) == 1:
        return {"feeds": FeedSpider, "sitemaps": SitemapSpider, "listings": ListingSpider}[ways[0]]
    return SourceSpider
