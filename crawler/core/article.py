"""The Article record that flows from extraction to the archive.

Pure data: no Scrapy, no SQLAlchemy.  Every stage after the fetch speaks this type.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Article:
    """One extracted news article, text kept exactly as published.

    ``published`` is an ISO 8601 string: ``YYYY-MM-DD`` when the page gives only a day,
    otherwise a full timestamp with the page's own UTC offset (``2024-05-20T14:03:00+03:00``).
    ``date_source`` says where it came from (``json-ld``, ``meta``, ``time``, ``url``,
    ``dateline``, ``feed``, ``http``), or is ``None`` when no date was found.
    ``content_hash`` is the SHA-256 of the normalised body (see :mod:`crawler.core.arabic`).
    ``replaced_chars`` is how many U+FFFD characters decoding put in for stray bytes the page's
    encoding could not read (0 for a clean page; see :mod:`crawler.core.decode`).
    ``kicker`` is the label above the headline, ``lead`` the standfirst (also the first paragraph
    of ``text``), ``captions`` the image captions and credits (never in ``text``); see
    :mod:`crawler.core.anatomy`.
    """

    url: str | None
    title: str | None
    text: str
    content_hash: str
    published: str | None = None
    date_source: str | None = None
    modified: str | None = None
    section: str | None = None
    author: str | None = None
    lang: str | None = None
    lang_confidence: float | None = None
    arabic_share: float | None = None
    canonical_url: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    encoding: str | None = None
    replaced_chars: int = 0
    kicker: str | None = None
    lead: str | None = None
    captions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def paragraphs(self) -> list[str]:
        return [line for line in self.text.split("\n") if line.strip()]
