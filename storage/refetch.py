"""Per-URL fetch state (``url_state``): what decides whether a seen article URL is fetched again.

The policy (what is due when) is :mod:`crawler.core.refetch`'s; here it is read and written.
Verbs take the caller's session and never commit.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, insert, select, update
from sqlalchemy.orm import Session

from crawler.core.refetch import FetchState, RefetchPolicy, after_fetch, naive_utc
from storage.archive import SEEN_CHUNK, _chunks
from storage.models import UrlState

__all__ = ["UrlRow", "fetch_state", "record_fetch", "refetch_counts", "url_states"]


#: A ``url_state`` row as read by :func:`url_states`: plain values, attribute access (no ORM object).
UrlRow = Any


def url_states(session: Session, urls: Iterable[str]) -> dict[str, UrlRow]:
    """The stored state of those of ``urls`` that have one, by URL (one query per chunk of URLs),
    as read-only rows (a crawl asks for thousands per sitemap: no ORM objects are built)."""
    found: dict[str, UrlRow] = {}
    columns = UrlState.__table__.columns
    for chunk in _chunks(dict.fromkeys(urls), SEEN_CHUNK):
        for row in session.execute(select(*columns).where(UrlState.url.in_(chunk))):
            found[row.url] = row
    return found


def fetch_state(row: UrlRow) -> FetchState:
    """The policy's view of a stored row."""
    return FetchState(first_seen=row.first_seen, last_fetched=row.last_fetched, fetches=row.fetches,
                      next_due=row.next_due, rejected_tries=row.rejected_tries, given_up=row.given_up,
                      announced=row.announced)


_URL_STATE: Table = UrlState.__table__  # type: ignore[assignment]


def record_fetch(
    session: Session,
    url: str,
    *,
    source: str | None,
    event: str,
    at: datetime,
    policy: RefetchPolicy,
    announced: datetime | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchState:
    """Record that ``url`` was fetched at ``at`` and came to ``event`` (``article``,
    ``not_modified`` or ``rejected``), and when it is due next; returns that state.  An article
    answer's validators replace the stored ones; a 304 keeps them; a rejected page keeps none (its
    retry asks afresh).  One read and one write in SQL, no ORM object: a crawl's archive writer
    does this for every page."""
    at = naive_utc(at)
    table = _URL_STATE
    row = session.execute(select(*table.columns).where(table.c.url == url)).first()
    new = after_fetch(fetch_state(row) if row is not None else None, event, at, policy,
                      naive_utc(announced) if announced is not None else None)
    values: dict[str, Any] = {
        "source": source or (row.source if row is not None else None), "first_seen": new.first_seen,
        "last_fetched": new.last_fetched, "fetches": new.fetches, "next_due": new.next_due,
        "rejected_tries": new.rejected_tries, "given_up": new.given_up, "announced": new.announced,
    }
    if event == "article":
        values.update(etag=etag or None, last_modified=last_modified or None)
    elif event == "rejected":
        values.update(etag=None, last_modified=None)
    if row is None:
        session.execute(insert(table).values(url=url, **values))
    else:
        session.execute(update(table).where(table.c.url == url).values(**values))
    return new


def refetch_counts(session: Session, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per source: URLs waiting for a scheduled re-fetch, rejected pages waiting for a retry, URLs
    given up.  Sources without any are absent."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    waiting = UrlState.next_due.is_not(None) & ~UrlState.given_up
    query = (
        select(
            UrlState.source,
            func.sum(case((waiting & (UrlState.rejected_tries == 0), 1), else_=0)),
            func.sum(case((waiting & (UrlState.rejected_tries > 0), 1), else_=0)),
            func.sum(case((UrlState.given_up, 1), else_=0)),
        )
        .where(UrlState.source.in_(wanted))
        .group_by(UrlState.source)
    )
    out: dict[str, dict[str, Any]] = {}
    for source, refetch, retry, given_up in session.execute(query):
        out[source] = {"waiting_refetch": int(refetch or 0), "waiting_retry": int(retry or 0),
                       "given_up": int(given_up or 0)}
    return out


def empty_counts() -> Mapping[str, int]:
    """The counts of a source with no URL state yet."""
    return {"waiting_refetch": 0, "waiting_retry": 0, "given_up": 0}
