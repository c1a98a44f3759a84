"""When an article URL is fetched again: the decaying schedule, retries of rejected pages, announcements.

A URL the archive has seen is not fetched again unless one of these says so (pure functions; the
archive keeps one :class:`FetchState` per URL, :mod:`storage.refetch`):

* its announcement is newer: the sitemap ``lastmod`` / feed ``updated`` the crawl read for it is
  later than the newest one recorded (or, with none recorded, than its last fetch)
  (:func:`announced_newer`), unless the page that announced it says every seen URL changed
  (:func:`announcements_credible`: a sitemap stamping each entry with the time it was made);
* it is due on the source's decaying schedule: offsets after the URL's first sight, e.g. 1h, 6h,
  1d, 3d (:data:`DEFAULT_SCHEDULE`); after each fetch the next due time is the first offset not yet
  passed (:func:`scheduled_after`), so a source crawled rarely skips the offsets it missed;
* its page was rejected (a consent wall, a "service unavailable" page, not an article): it is tried
  again on the next crawl, then after growing gaps (:func:`retry_gap`), ``retries`` times in all,
  and then given up (:func:`after_rejection`).

Every time here is a naive UTC ``datetime`` (as the archive keeps them); "now" is always passed
in, so the schedule can be tested without waiting.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from crawler.core.discovery import parse_date_loose

__all__ = [
    "DEFAULT_RETRIES", "DEFAULT_SCHEDULE", "EVENTS", "MAX_RETRIES", "MAX_SCHEDULE", "FetchState", "RefetchPolicy",
    "after_fetch", "after_rejection", "announced_newer", "announcements_credible", "naive_utc", "parse_announced", "refetch_reason",
    "retry_gap", "scheduled_after",
]

#: When an article is fetched again after its first sight, unless the sources file says otherwise.
DEFAULT_SCHEDULE: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=6), timedelta(days=1),
                                           timedelta(days=3))
#: How many times a rejected page is tried again before it is given up, unless the sources file says otherwise.
DEFAULT_RETRIES = 4
#: Bounds of what a sources file may ask for.
MAX_SCHEDULE = 20
MAX_RETRIES = 20
#: The gap before the second retry of a rejected page; each later gap is :data:`RETRY_GROWTH` times longer.
RETRY_BASE_GAP = timedelta(hours=1)
RETRY_GROWTH = 4
#: The longest gap between two retries.
RETRY_MAX_GAP = timedelta(days=7)
#: What a fetch of a known URL can come to: an article (stored, or the same text again), a 304, a rejection.
EVENTS = ("article", "not_modified", "rejected")


@dataclass(frozen=True)
class RefetchPolicy:
    """One source's re-fetch settings: the schedule (offsets after first sight, increasing; empty:
    no scheduled re-fetch) and how many retries a rejected page gets (0: none)."""

    schedule: tuple[timedelta, ...] = DEFAULT_SCHEDULE
    retries: int = DEFAULT_RETRIES


@dataclass(frozen=True)
class FetchState:
    """What the archive knows of one URL's fetches (naive UTC times)."""

    first_seen: datetime
    last_fetched: datetime
    fetches: int = 1
    next_due: datetime | None = None
    rejected_tries: int = 0
    given_up: bool = False
    announced: datetime | None = None


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC datetime (an aware one is converted; a naive one is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_announced(text: str | None) -> datetime | None:
    """A sitemap ``lastmod`` / feed ``updated`` value as naive UTC; ``None`` when absent or unreadable."""
    if not text:
        return None
    try:  # the common case, quickly: a W3C / ISO 8601 date-time
        return naive_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        pass
    parsed = parse_date_loose(text)
    return naive_utc(parsed) if parsed is not None else None


def scheduled_after(first_seen: datetime, fetched_at: datetime, schedule: tuple[timedelta, ...]) -> datetime | None:
    """When a URL first seen at ``first_seen`` and fetched at ``fetched_at`` is due again: the first
    ``first_seen + offset`` later than ``fetched_at``; ``None`` when the schedule is over (or empty)."""
    for offset in schedule:
        due = first_seen + offset
        if due > fetched_at:
            return due
    return None


def retry_gap(tries: int) -> timedelta:
    """How long after its ``tries``-th rejection a page is tried again: at once (the next crawl)
    after the first, then 1h, 4h, 16h ... up to :data:`RETRY_MAX_GAP`."""
    if tries <= 1:
        return timedelta(0)
    exponent = min(tries - 2, 16)  # beyond it the cap holds anyway; keeps the arithmetic small
    factor: int = RETRY_GROWTH ** exponent
    return min(RETRY_BASE_GAP * factor, RETRY_MAX_GAP)


def after_rejection(tries: int, at: datetime, retries: int) -> tuple[datetime | None, bool]:
    """(next due, given up) after the ``tries``-th rejection in a row at ``at``: tried again while
    fewer than ``retries`` retries were spent (the first try is not a retry), else given up."""
    if tries - 1 >= retries:
        return None, True
    return at + retry_gap(tries), False


def announced_newer(announced: datetime | None, state: FetchState) -> bool:
    """Whether an announcement (sitemap lastmod, feed updated) says the page changed since the
    archive last knew it: later than the newest announcement recorded, or with none recorded, than
    the last fetch."""
    if announced is None:
        return False
    known = state.announced if state.announced is not None else state.last_fetched
    return announced > known


#: A feed or sitemap page with at least this many seen URLs, every one of them announced as changed,
#: is taken to stamp its entries with the time it was made: its announcements are not believed.
STAMPED_AT_LEAST = 10


def announcements_credible(seen: int, newer: int) -> bool:
    """Whether the announcements of one feed/sitemap page are believed: not when all of its ``seen``
    URLs (at least :data:`STAMPED_AT_LEAST`) are ``newer`` than the archive knows (a sitemap whose
    lastmod is always "now" would otherwise have every article fetched again on every crawl)."""
    return seen < STAMPED_AT_LEAST or newer < seen


def refetch_reason(state: FetchState, announced: datetime | None, now: datetime) -> str | None:
    """Why a seen URL is fetched again now: ``"announced"``, ``"due"`` (schedule) or ``"retry"``
    (a rejected page); ``None`` when it is not.  A given-up URL is never fetched again.  Pass
    ``announced=None`` when the announcements are not believed (:func:`announcements_credible`)."""
    if state.given_up:
        return None
    if announced_newer(announced, state):
        return "announced"
    if state.next_due is not None and state.next_due <= now:
        return "retry" if state.rejected_tries else "due"
    return None


def _newest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def after_fetch(
    state: FetchState | None, event: str, at: datetime, policy: RefetchPolicy, announced: datetime | None = None
) -> FetchState:
    """The state of a URL after a fetch at ``at`` came to ``event`` (one of :data:`EVENTS`);
    ``state`` is ``None`` on its first fetch.  ``announced`` is what the fetch was announced with."""
    if event not in EVENTS:
        raise ValueError(f"unknown fetch event {event!r}")
    if state is None:
        state = FetchState(first_seen=at, last_fetched=at, fetches=0)
    moved = replace(state, last_fetched=at, fetches=state.fetches + 1, announced=_newest(state.announced, announced))
    if event == "rejected":
        tries = state.rejected_tries + 1
        due, given_up = after_rejection(tries, at, policy.retries)
        return replace(moved, rejected_tries=tries, next_due=due, given_up=given_up)
    return replace(moved, rejected_tries=0, given_up=False, next_due=scheduled_after(state.first_seen, at, policy.schedule))
