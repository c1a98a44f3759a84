"""What the spiders hand to the pipelines: one fetched page and how it was announced."""
from __future__ import annotations

from dataclasses import dataclass

from crawler.ingest import RawDocument


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
