"""HTTP validators for conditional GET of feeds and sitemaps (``http_validators``).

The crawl keeps the ``ETag`` / ``Last-Modified`` of the last good answer per URL and sends them
back as ``If-None-Match`` / ``If-Modified-Since``; an unchanged feed then costs a 304.
Verbs take the caller's session and never commit.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.archive import utcnow
from storage.models import HttpValidator


def get_validator(session: Session, url: str) -> HttpValidator | None:
    """The validators stored for ``url``, or ``None``."""
    return session.get(HttpValidator, url)


#: The ``status`` kept with stored validators: they are only taken from a 200 answer.
GOOD_STATUS = 200


def save_validator(session: Session, url: str, *, etag: str | None, last_modified: str | None) -> None:
    """Store (replace) the validators of ``url`` from a good (200) answer; nothing is kept when both are missing."""
    existing = session.get(HttpValidator, url)
    if etag is None and last_modified is None:
        if existing is not None:
            session.delete(existing)
        return
    if existing is None:
        existing = HttpValidator(url=url)
        session.add(existing)
    existing.etag = etag
    existing.last_modified = last_modified
    existing.status = GOOD_STATUS
    existing.checked_at = utcnow()


def conditional_headers(validator: Any) -> dict[str, str]:
    """The request headers that make a GET conditional on ``validator``: anything with ``etag``
    and ``last_modified`` (a feed's :class:`HttpValidator`, an article URL's ``url_state`` row), or ``None``."""
    if validator is None:
        return {}
    headers: dict[str, str] = {}
    if validator.etag:
        headers["If-None-Match"] = validator.etag
    if validator.last_modified:
        headers["If-Modified-Since"] = validator.last_modified
    return headers
