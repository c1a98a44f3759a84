"""A raw document: the bytes as captured (fetched, read from a file or a WARC record) and where they came from.

What the crawl hands to :func:`crawler.ingest.ingest`, and what a replay builds from a WARC record.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class RawDocument:
    """A document as fetched or read: bytes plus what is known about where they came from."""

    data: bytes
    url: str | None = None
    name: str | None = None  # a file name, for telling .txt from .html
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None
    fetched_at: datetime | None = None
    source: str | None = None
    timezone: str | None = None
    locale: str | None = None
    feed_date: str | None = None
    warc_path: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    kind: str | None = None
