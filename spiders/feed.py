"""The ``feed`` spider: articles announced in RSS / Atom / JSON feeds."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.core.discovery import parse_feed
from spiders.base import AkhbarSpider


class FeedMixin:
    """Reads a feed (a 304 means unchanged: nothing to do) and requests its new articles."""

    def parse_feed(self: Any, response: Response) -> Iterator[Any]:
        entries = self.read_document(response, parse_feed, "feed")
        if entries is None:
            return
        yield from self.validators(response)
        yield from self.article_requests((e.url, e.published or e.updated, e.updated or e.published) for e in entries)


class FeedSpider(FeedMixin, AkhbarSpider):
    """``scrapy crawl feed -a source=NAME``: the source's feeds only."""

    name = "feed"
    ways = ("feeds",)
