"""What the spiders hand on: the items they yield, and the request meta keys that say what a request is for.

Spiders import nothing of the archive: they mark their requests (:data:`ARTICLE_KEY`,
:data:`PAGING_KEY`, :data:`LASTMOD_KEY`, :data:`CONDITIONAL_KEY`) and yield items
(:class:`PageItem`, :class:`NotModifiedItem`, :class:`RefusedPage`, :class:`ValidatorItem`); the crawl's components (crawler/middlewares.py,
crawler/pipelines.py, crawler/extensions.py) act on those marks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.capture.document import RawDocument

#: Request meta keys.
#: An article page: skipped when the archive has its URL already (the seen-URL spider middleware).
ARTICLE_KEY = "akhbar_article"
#: The date a feed or news sitemap gave the article.
FEED_DATE_KEY = "akhbar_feed_date"
#: A start URL (feed, sitemap, listing): its failure counts towards a failed run.
START_KEY = "akhbar_start"
#: The next page of a listing: dropped when every article request of its page was already archived.
PAGING_KEY = "akhbar_paging"
#: A child sitemap's index entry: dropped when it is older than the source's last good run.
LASTMOD_KEY = "akhbar_lastmod"
#: The feed/sitemap URL whose stored validators make this request conditional.
CONDITIONAL_KEY = "akhbar_conditional"
#: Where the WARC capture middleware leaves the WARC pointer of the response.
WARC_KEY = "akhbar_warc"
#: What an article was announced with: its sitemap ``lastmod`` / feed ``updated`` (newest known
#: date of the entry); a seen URL announced later than the archive knows is fetched again.
ANNOUNCED_KEY = "akhbar_announced"
#: Set on an article request that fetches a seen URL again (why: announced, due, retry).
REFETCH_KEY = "akhbar_refetch"
#: A retry's wall-clock time (``time.time()``) before which it must not go out: the crawl's
#: scheduler (crawler/retrywait.py) holds it until then, outside the downloader's slots.
NOT_BEFORE_KEY = "akhbar_not_before"


@dataclass
class PageItem:
    """An article candidate as fetched.

    ``doc`` is what :func:`crawler.ingest.ingest` takes: the bytes, the URL they were fetched
    from (after redirects), headers, the source's zone and locale, the feed date and the WARC
    pointer of the response record.  ``link`` is the URL the article was announced under
    (before any redirect).
    """

    doc: RawDocument
    link: str | None = None
    announced: str | None = None


@dataclass
class NotModifiedItem:
    """A seen article URL fetched again conditionally that answered 304: nothing to extract, its
    re-fetch schedule moves on."""

    url: str
    source: str
    announced: str | None = None


@dataclass
class ValidatorItem:
    """The ``ETag`` / ``Last-Modified`` of a feed or sitemap that was read: stored for the next
    crawl's conditional GET, if this crawl finishes cleanly."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class RefusedPage:
    """An article page the crawl would not take whole (over the page-size bound): recorded in the
    archive as a ``rejected`` document with ``reason`` and without its body, so it is settled
    (the seen-URL check does not fetch it again) and counted ``articles_rejected``.

    ``url`` is the URL it was fetched from (after redirects), ``link`` the one it was announced under.
    """

    url: str
    reason: str
    source: str | None
    fetched_at: datetime
    link: str | None = None
