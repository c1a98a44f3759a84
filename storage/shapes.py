"""The JSON shapes of what the archive holds: one article, one search hit, one crawl run, one
source's health.  The command line's ``--json`` prints them and the web API serves them, so they
are built here and only here.

Times are ISO 8601 with their zone (``2024-05-20T09:00:00+00:00``): the archive keeps naive UTC.
URLs are given as stored (percent-encoded); :func:`iri` is the readable form for text output.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ArticleRecord, ArticleVersion, CrawlRun, SourceState

if TYPE_CHECKING:
    from crawler.core.sources import Source
    from storage.search import Hit

#: The counter columns of a run, in the order they are shown.
RUN_COUNTERS = ("pages_fetched", "not_modified", "bytes", "articles_new", "articles_duplicate",
                "articles_rejected", "skipped_seen")


def utc_iso(moment: datetime | None) -> str | None:
    """An archive time (naive UTC) as ISO 8601 with ``+00:00``, to the second; ``None`` stays ``None``."""
    if moment is None:
        return None
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return aware.isoformat(timespec="seconds")


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def iri(url: str | None) -> str | None:
    """``url`` with its percent-encoded non-ASCII text decoded (``/%D8%A8`` -> ``/ب``), for reading.

    Escapes of ASCII characters (``%20``, ``%2F``, ``%3F``...) and bytes that are not UTF-8 stay
    encoded, so the result names the same resource."""
    if not url or "%" not in url:
        return url

    def decode(match: re.Match[str]) -> str:
        raw = match.group(0)
        text = unquote(raw, errors="strict") if _utf8(raw) else None
        if text is None:
            return raw
        return "".join(ch if ord(ch) > 127 else f"%{ord(ch):02X}" for ch in text)

    return _ESCAPES.sub(decode, url)


def _utf8(escaped: str) -> bool:
    try:
        bytes.fromhex(escaped.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def one_line(text: str | None) -> str:
    """``text`` with every run of white space (newlines included) made one space."""
    return " ".join((text or "").split())


# --- articles and hits ------------------------------------------------------------------------------


def article_json(session: Session, record: ArticleRecord) -> dict[str, Any]:
    """One stored article, with every URL it was seen at (``akhbar show --json``)."""
    from storage.archive import article_urls

    return {
        "id": record.id,
        "url": record.url,
        "title": record.title,
        "text": record.text,
        "published": record.published,
        "date_source": record.date_source,
        "modified": record.modified,
        "section": record.section,
        "author": record.author,
        "lang": record.lang,
        "description": record.description,
        "tags": list(record.tags or []),
        "kicker": record.kicker,
        "lead": record.lead,
        "captions": list(record.captions or []),
        "content_hash": record.content_hash,
        "source": record.source.name if record.source is not None else None,
        "first_seen": utc_iso(record.first_seen),
        "last_seen": utc_iso(record.last_seen),
        "times_seen": record.times_seen,
        "urls": article_urls(session, record.id),
        "versions": versions_json(session, record),
        "cluster": cluster_json(session, record),
        "copies": copies_json(session, record),
    }


def versions_json(session: Session, record: ArticleRecord) -> list[dict[str, Any]]:
    """The publisher's versions of an article, oldest first, each with its title and text as
    stored (the current one's are the article's) and the extractor that produced it."""
    rows = session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id == record.id).order_by(ArticleVersion.version)
    ).all()
    last = rows[-1].version if rows else None
    return [
        {
            "version": v.version,
            "current": v.version == last,
            "title": record.title if v.version == last else v.title,
            "text": record.text if v.version == last else v.text,
            "content_hash": v.content_hash,
            "modified": v.modified,
            "fetched_at": utc_iso(v.fetched_at),
            "document_id": v.document_id,
            "extractor_version": v.extractor_version,
            "extracted_at": utc_iso(v.extracted_at),
            "reextractions": v.reextractions,
        }
        for v in rows
    ]


def _cluster_members(session: Session, record: ArticleRecord) -> list[ArticleRecord]:
    if record.cluster_id is None:
        return []
    return list(session.scalars(
        select(ArticleRecord).where(ArticleRecord.cluster_id == record.cluster_id).order_by(ArticleRecord.id)
    ))


def cluster_json(session: Session, record: ArticleRecord) -> dict[str, Any] | None:
    """The article's near-duplicate cluster: its first article, the similarity to it, its size."""
    if record.cluster_id is None:
        return None
    size = session.scalar(select(func.count()).select_from(ArticleRecord).where(ArticleRecord.cluster_id == record.cluster_id))
    return {"id": record.cluster_id, "similarity": record.cluster_similarity, "size": size}


def copies_json(session: Session, record: ArticleRecord) -> list[dict[str, Any]]:
    """The other articles of its cluster: outlet, date, similarity to the cluster's first article."""
    return [
        {
            "id": other.id,
            "source": other.source.name if other.source is not None else None,
            "published": other.published,
            "first_seen": utc_iso(other.first_seen),
            "similarity": other.cluster_similarity,
            "title": other.title,
            "url": other.url,
        }
        for other in _cluster_members(session, record)
        if other.id != record.id
    ]


def relative_score(score: float, best: float | None) -> float:
    """``score`` as a share of the best hit's (1.0 for the best), to three decimals: a readable
    number, where raw bm25 values are tiny or huge depending on the archive's size."""
    if not best or best <= 0:
        return 1.0
    return round(max(0.0, score) / best, 3)


def hit_json(hit: Hit, *, best: float | None = None) -> dict[str, Any]:
    """One search hit: the snippet on one line; ``score`` relative to ``best`` (the top hit's raw
    score; 1.0 for the top hit itself) and the backend's ``raw_score``; ``copies`` (the matching
    articles the hit stands for, itself included) and ``outlets`` (their distinct sources)."""
    return {
        "id": hit.id,
        "url": hit.url,
        "title": hit.title,
        "published": hit.published,
        "snippet": one_line(hit.snippet),
        "score": relative_score(hit.score, best),
        "raw_score": hit.score,
        "source": hit.source,
        "copies": hit.copies,
        "outlets": hit.outlets if hit.outlets is not None else int(hit.source is not None),
    }


def hits_json(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """A list of hits, best first, each scored next to the best one."""
    best = max((h.score for h in hits), default=None)
    return [hit_json(h, best=best) for h in hits]


# --- runs and sources -------------------------------------------------------------------------------


def run_json(run: CrawlRun) -> dict[str, Any]:
    """One crawl run (``akhbar runs --json``)."""
    return {
        "id": run.id,
        "source": run.source,
        "trigger": run.trigger,
        "started_at": utc_iso(run.started_at),
        "finished_at": utc_iso(run.finished_at),
        "heartbeat_at": utc_iso(run.heartbeat_at),
        "outcome": run.outcome,
        "pid": run.pid,
        "host": run.host,
        **{key: getattr(run, key) for key in RUN_COUNTERS},
        "errors": dict(run.errors or {}),
        "message": run.message,
    }


@dataclass(frozen=True)
class RunHistory:
    """What a source's crawl runs say about it, whatever started them (the scheduler or a person)."""

    last_run: CrawlRun | None = None
    last_ok: CrawlRun | None = None
    last_failure: CrawlRun | None = None
    failures_since_ok: int = 0
    recent_new: tuple[int, ...] = ()
    running: bool = False


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def health_status(source: Source, history: RunHistory, last_success: datetime | None) -> str:
    """One word for a source's state: disabled, crawling, failing, ok or never run."""
    if not source.enabled:
        return "disabled"
    if history.running:
        return "crawling"
    if history.failures_since_ok:
        return "failing"
    return "ok" if last_success is not None or history.last_run is not None else "never run"


def source_health_json(source: Source, state: SourceState | None, history: RunHistory) -> dict[str, Any]:
    """One source's configuration and health (``akhbar sources --json``).

    Health comes from the source's crawl runs (:class:`RunHistory`); the schedule (next run,
    current interval) from the scheduler's state, when it has any."""
    last, failure = history.last_run, history.last_failure
    succeeded = _latest(history.last_ok.finished_at if history.last_ok else None, state.last_success if state else None)
    last_error = None
    if failure is not None:
        last_error = f"{failure.outcome}: {failure.message}" if failure.message else failure.outcome
    return {
        "name": source.name,
        "enabled": source.enabled,
        "status": health_status(source, history, succeeded),
        "interval_seconds": source.interval.total_seconds(),
        "min_interval_seconds": source.min_interval.total_seconds(),
        "max_interval_seconds": source.max_interval.total_seconds(),
        "current_interval_seconds": state.interval_seconds if state else None,
        "next_run": utc_iso(state.next_run_at) if state else None,
        "last_success": utc_iso(succeeded),
        "last_error": last_error if failure is not None else (state.last_error if state else None),
        "last_error_at": utc_iso(failure.finished_at if failure is not None else (state.last_error_at if state else None)),
        "consecutive_failures": history.failures_since_ok,
        "recent_new": list(history.recent_new),
        "running": history.running,
        "lease_owner": state.lease_owner if state and history.running else None,
        "last_run": None if last is None else {
            "id": last.id,
            "outcome": last.outcome,
            "trigger": last.trigger,
            "started_at": utc_iso(last.started_at),
            "finished_at": utc_iso(last.finished_at),
            "articles_new": last.articles_new,
            "message": last.message,
        },
    }
