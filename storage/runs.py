"""Crawl runs: one ``crawl_runs`` row per source crawled, filled in while the crawl goes on.

Verbs take the caller's session and never commit (as in :mod:`storage.archive`).  Counters are
absolute values (the crawl keeps the running totals and writes them), so a heartbeat can be
written any number of times and a run killed mid-way still shows what it did.
"""
from __future__ import annotations

import os
import socket
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crawler.core.errors import NotFound
from storage.archive import utcnow
from storage.models import RUN_OUTCOMES, CrawlRun
from storage.shapes import RUN_COUNTERS, run_json

#: Counter columns of a run (``errors`` is a ``{kind: count}`` mapping beside them).
COUNTERS = RUN_COUNTERS
#: Outcomes a finished run may have (``running`` is the only unfinished one).
FINISHED_OUTCOMES = tuple(o for o in RUN_OUTCOMES if o != "running")
#: How often a running crawl writes its heartbeat and counters, in seconds, unless the crawl's
#: ``AKHBAR_HEARTBEAT_SECONDS`` setting says otherwise (read by ``crawler.middlewares.RunRecorder``);
#: the scheduler's dead-run check (``scheduler.STALE_AFTER``) counts in multiples of it.
HEARTBEAT_SECONDS = 2.0


def _counter_values(counters: dict[str, Any]) -> dict[str, Any]:
    """Validate counter keyword arguments: known names, non-negative integers; ``errors`` a dict."""
    values: dict[str, Any] = {}
    for key, value in counters.items():
        if key == "errors":
            if value is not None and not isinstance(value, dict):
                raise ValueError("errors must be a mapping of kind -> count")
            values[key] = {str(k): int(v) for k, v in (value or {}).items()}
        elif key in COUNTERS:
            if int(value) < 0:
                raise ValueError(f"{key} must not be negative")
            values[key] = int(value)
        else:
            raise ValueError(f"unknown run counter {key!r}; known: {', '.join(COUNTERS)}, errors")
    return values


def start_run(
    session: Session, source: str, *, trigger: str = "manual", pid: int | None = None, host: str | None = None
) -> int:
    """Create a ``running`` row for a crawl of ``source``; return its id."""
    now = utcnow()
    run = CrawlRun(
        source=source,
        trigger=trigger,
        started_at=now,
        heartbeat_at=now,
        outcome="running",
        pid=pid if pid is not None else os.getpid(),
        host=host if host is not None else socket.gethostname(),
        pages_fetched=0,
        not_modified=0,
        bytes=0,
        articles_new=0,
        articles_duplicate=0,
        articles_rejected=0,
        skipped_seen=0,
        errors={},
    )
    session.add(run)
    session.flush()
    return run.id


def heartbeat(session: Session, run_id: int, **counters: Any) -> None:
    """Mark run ``run_id`` alive now and set the given counters (absolute values)."""
    values = _counter_values(counters)
    result = session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(heartbeat_at=utcnow(), **values))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no crawl run {run_id}")


def finish_run(
    session: Session,
    run_id: int,
    outcome: str,
    *,
    message: str | None = None,
    only_if_running: bool = False,
    alive: bool = True,
    **counters: Any,
) -> bool:
    """End run ``run_id`` with ``outcome`` (one of :data:`FINISHED_OUTCOMES`), the first line of
    ``message``, and final counters (counters not given are kept).

    The crawl ends its own run with the defaults: ``heartbeat_at`` becomes now too.  A supervisor
    closing the run of a process that has ended passes ``alive=False`` (``heartbeat_at`` stays the
    crawl's last sign of life) and ``only_if_running=True`` so that a run its process already
    finished is left as it is.  Returns whether the run changed; raises :class:`LookupError` when
    there is no run ``run_id``.
    """
    if outcome not in FINISHED_OUTCOMES:
        raise ValueError(f"outcome must be one of {FINISHED_OUTCOMES}, not {outcome!r}")
    values = _counter_values(counters)
    now = utcnow()
    if alive:
        values["heartbeat_at"] = now
    line = message.strip().splitlines()[0] if message and message.strip() else None
    query = update(CrawlRun).where(CrawlRun.id == run_id)
    if only_if_running:
        query = query.where(CrawlRun.outcome == "running")
    result = session.execute(query.values(outcome=outcome, finished_at=now, message=line, **values))
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    if session.execute(select(CrawlRun.id).where(CrawlRun.id == run_id)).first() is None:
        raise NotFound(f"no crawl run {run_id}")
    return False


def set_run_pid(session: Session, run_id: int, pid: int) -> None:
    """Record the process that does run ``run_id`` (the crawl; the dead-run check looks at it)."""
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(pid=pid))


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    """The run with this id, or ``None``."""
    return session.get(CrawlRun, run_id)


def list_runs(session: Session, *, limit: int = 50, source: str | None = None) -> list[CrawlRun]:
    """The newest runs first (optionally of one source only)."""
    query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
    if source is not None:
        query = query.where(CrawlRun.source == source)
    return list(session.execute(query).scalars())


def last_ok_start(session: Session, source: str) -> Any:
    """When the last run of ``source`` that ended ``ok`` started (naive UTC), or ``None``."""
    return session.execute(
        select(CrawlRun.started_at)
        .where(CrawlRun.source == source, CrawlRun.outcome == "ok")
        .order_by(CrawlRun.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def run_dict(run: CrawlRun) -> dict[str, Any]:
    """A run as a JSON-ready mapping: :func:`storage.shapes.run_json` (kept under its old name)."""
    return run_json(run)
