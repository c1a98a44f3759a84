"""Scheduling state in the archive: per-source leases, health, and runs whose process died.

A **lease** (``source_state.lease_owner`` / ``lease_until``) is what keeps two schedulers on one
archive from crawling one source at the same time.  It is taken with one compare-and-set UPDATE
(free, expired, or already ours), in the same transaction as the run's ``crawl_runs`` row, renewed
while the crawl lives and released when it ends.  An owner is ``"<host>:<pid>"``, so a lease held
by a process of this host that no longer exists can be recognised and taken over at once; a lease
held by another host is trusted until it runs out.

A run left ``running`` by a process that vanished (SIGKILL, power loss) is marked ``died`` when
nothing can still be working on it: no live lease on its source, and either its process is known
to be gone (same host) or its heartbeat is stale.  History has no holes.

Verbs take the caller's session and never commit (as in :mod:`storage.archive`).  Times are
naive UTC.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.core.schedule_policy import FAILED_OUTCOMES
from storage.archive import _insert, utcnow
from storage.models import CrawlRun, SourceState
from storage.runs import HEARTBEAT_SECONDS
from storage.shapes import RunHistory, source_health_json

if TYPE_CHECKING:
    from crawler.core.sources import Source

__all__ = [
    "RECENT_RUNS",
    "Outcome",
    "last_runs",
    "claim_lease",
    "ensure_states",
    "get_state",
    "host_name",
    "lease_is_live",
    "mark_dead_runs",
    "owner_id",
    "parse_owner",
    "pid_alive",
    "record_outcome",
    "release_dead_leases",
    "release_lease",
    "renew_lease",
    "running_children",
    "set_last_run",
    "set_schedule",
    "sources_health",
    "run_history",
]

#: How many runs ``source_state.recent_new`` remembers (new articles per run, newest last).
RECENT_RUNS = 10
#: A run still marked running counts as going on while its heartbeat is younger than this.
RUNNING_FRESH = timedelta(minutes=1)


# --- owners and processes ------------------------------------------------------------------------


def host_name() -> str:
    """This machine's name, as written in leases and runs."""
    return socket.gethostname()


def owner_id(pid: int | None = None, host: str | None = None) -> str:
    """The lease owner name of process ``pid`` (default: this one) on ``host`` (default: this one)."""
    return f"{host or host_name()}:{pid if pid is not None else os.getpid()}"


def parse_owner(owner: str | None) -> tuple[str, int | None]:
    """(host, pid) of an owner name; pid ``None`` when the name does not end in a number."""
    if not owner:
        return "", None
    host, _, pid = owner.rpartition(":")
    return (host, int(pid)) if pid.isdigit() else (owner, None)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


PidCheck = Callable[[int], bool]


def lease_is_live(
    state: SourceState | None, now: datetime, *, host: str | None = None, alive: PidCheck = pid_alive
) -> bool:
    """Whether ``state``'s lease is held: not run out, and not owned by a dead process of this host."""
    if state is None or state.lease_owner is None or state.lease_until is None or state.lease_until <= now:
        return False
    owner_host, pid = parse_owner(state.lease_owner)
    return not (owner_host == (host or host_name()) and pid is not None and not alive(pid))


# --- source_state rows ------------------------------------------------------------------------------


def ensure_states(session: Session, names: Iterable[str]) -> None:
    """Create the ``source_state`` row of each source that has none (safe against concurrent writers)."""
    for name in names:
        session.execute(
            _insert(session, SourceState)
            .values(source=name, consecutive_failures=0, recent_new=[])
            .on_conflict_do_nothing(index_elements=["source"])
        )


def get_state(session: Session, source: str) -> SourceState | None:
    """The scheduling state of ``source`` (fresh from the database), or ``None``."""
    return session.execute(
        select(SourceState).where(SourceState.source == source).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def set_schedule(
    session: Session, source: str, *, next_run_at: datetime | None, interval: timedelta | None = None
) -> None:
    """Set when ``source`` runs next (and its current interval, when given)."""
    values: dict[str, Any] = {"next_run_at": next_run_at}
    if interval is not None:
        values["interval_seconds"] = interval.total_seconds()
    session.execute(update(SourceState).where(SourceState.source == source).values(**values))


# --- leases ---------------------------------------------------------------------------------------------


def claim_lease(
    session: Session,
    source: str,
    owner: str,
    *,
    lease: timedelta,
    now: datetime | None = None,
    due_by: datetime | None = None,
) -> bool:
    """Take the lease of ``source`` for ``lease`` if it is free, run out, or ``owner``'s already.

    One atomic compare-and-set UPDATE (never check-then-set).  With ``due_by``, the lease is
    only taken if the source's ``next_run_at`` is not later than ``due_by`` (so a scheduler
    firing on a stale schedule does not re-run a source another one has just crawled).
    The ``source_state`` row must exist (:func:`ensure_states`).
    """
    now = now or utcnow()
    conditions = [
        SourceState.source == source,
        or_(SourceState.lease_until.is_(None), SourceState.lease_until < now, SourceState.lease_owner == owner),
    ]
    if due_by is not None:
        conditions.append(or_(SourceState.next_run_at.is_(None), SourceState.next_run_at <= due_by))
    result = session.execute(
        update(SourceState).where(and_(*conditions)).values(lease_owner=owner, lease_until=now + lease)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def renew_lease(session: Session, source: str, owner: str, *, lease: timedelta, now: datetime | None = None) -> bool:
    """Extend ``owner``'s lease of ``source`` to ``now + lease``; False if ``owner`` no longer holds it."""
    now = now or utcnow()
    result = session.execute(
        update(SourceState)
        .where(SourceState.source == source, SourceState.lease_owner == owner)
        .values(lease_until=now + lease)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release_lease(session: Session, source: str, owner: str) -> None:
    """Give up ``owner``'s lease of ``source`` (nothing happens if someone else holds it)."""
    session.execute(
        update(SourceState)
        .where(SourceState.source == source, SourceState.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def release_dead_leases(
    session: Session, *, host: str | None = None, alive: PidCheck = pid_alive, now: datetime | None = None
) -> list[str]:
    """Free the leases held by processes of this host that no longer exist; return their sources.

    A lease is kept while a crawl of its source is still running in a live process of this
    host (the orphaned child of a killed scheduler finishing its work)."""
    host = host or host_name()
    now = now or utcnow()
    freed = []
    states = session.execute(select(SourceState).where(SourceState.lease_owner.is_not(None))).scalars().all()
    for state in states:
        owner_host, pid = parse_owner(state.lease_owner)
        if owner_host != host or pid is None or alive(pid):
            continue
        if any(alive(run.pid) for run in _running(session, state.source) if run.host == host and run.pid):
            continue
        result = session.execute(
            update(SourceState)
            .where(SourceState.source == state.source, SourceState.lease_owner == state.lease_owner)
            .values(lease_owner=None, lease_until=None)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            freed.append(state.source)
    return freed


# --- runs -------------------------------------------------------------------------------------------------


def _running(session: Session, source: str | None = None) -> list[CrawlRun]:
    query = select(CrawlRun).where(CrawlRun.outcome == "running").execution_options(populate_existing=True)
    if source is not None:
        query = query.where(CrawlRun.source == source)
    return list(session.execute(query).scalars())


def set_last_run(session: Session, source: str, run_id: int) -> None:
    """Record ``run_id`` as the latest run of ``source`` (the one its lease covers)."""
    session.execute(update(SourceState).where(SourceState.source == source).values(last_run_id=run_id))


def mark_dead_runs(
    session: Session,
    *,
    stale_after: timedelta,
    host: str | None = None,
    alive: PidCheck = pid_alive,
    now: datetime | None = None,
) -> list[int]:
    """Mark ``died`` every ``running`` run that nothing can still be working on; return their ids.

    A run is dead when no live lease covers its source and either its process is on this host
    and gone, or (another host, or no pid) its last heartbeat is older than ``stale_after``.
    A dead run ends at its last heartbeat, keeps its counters, and counts as a failure of its
    source (``source_state`` health)."""
    host = host or host_name()
    now = now or utcnow()
    dead = []
    for run in _running(session):
        if lease_is_live(get_state(session, run.source), now, host=host, alive=alive):
            continue
        last_sign = run.heartbeat_at or run.started_at
        if run.host == host and run.pid:
            gone = not alive(run.pid)
            why = f"its process {run.pid} vanished"
        else:
            gone = last_sign < now - stale_after
            why = f"no heartbeat since {last_sign.isoformat(timespec='seconds')}"
        if not gone:
            continue
        message = f"died: {why} (killed, or the machine stopped)"
        result = session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run.id, CrawlRun.outcome == "running")
            .values(outcome="died", finished_at=last_sign, message=message)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            dead.append(run.id)
            session.execute(
                update(SourceState)
                .where(SourceState.source == run.source)
                .values(
                    last_error=message,
                    last_error_at=last_sign,
                    consecutive_failures=SourceState.consecutive_failures + 1,
                )
            )
    return dead


#: A run of another host (or with no pid) is dead when its heartbeat is this many heartbeats old.
STALE_BEATS = 15


def settle_dead_runs(session: Session) -> list[int]:
    """:func:`mark_dead_runs` with the usual staleness, and commit; best effort: an archive that
    cannot be written now (read-only, locked) is left as it is.  Any command that opens the archive
    may call it, so that a killed manual crawl does not stay ``running`` for ever."""
    try:
        dead = mark_dead_runs(session, stale_after=timedelta(seconds=HEARTBEAT_SECONDS * STALE_BEATS))
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        return []
    return dead


def running_children(session: Session, owner: str) -> list[tuple[int, int]]:
    """(run id, pid) of the runs still going under ``owner``'s leases on this host."""
    host, _ = parse_owner(owner)
    rows = session.execute(
        select(CrawlRun.id, CrawlRun.pid)
        .join(SourceState, SourceState.last_run_id == CrawlRun.id)
        .where(SourceState.lease_owner == owner, CrawlRun.outcome == "running", CrawlRun.host == host)
    ).all()
    return [(run_id, pid) for run_id, pid in rows if pid]


# --- health -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one run changes in its source's health."""

    outcome: str
    new_articles: int
    message: str | None
    interval: timedelta
    next_run_at: datetime


def record_outcome(
    session: Session,
    source: str,
    run_id: int,
    result: Outcome,
    *,
    owner: str | None = None,
    failed: bool,
    now: datetime | None = None,
) -> None:
    """Write a finished run into ``source``'s health and schedule, releasing ``owner``'s lease."""
    now = now or utcnow()
    state = get_state(session, source)
    recent = list((state.recent_new if state else None) or [])
    values: dict[str, Any] = {
        "last_run_id": run_id,
        "interval_seconds": result.interval.total_seconds(),
        "next_run_at": result.next_run_at,
    }
    if result.outcome == "ok":
        values.update(last_success=now, consecutive_failures=0, recent_new=(recent + [result.new_articles])[-RECENT_RUNS:])
    elif failed:
        values.update(
            last_error=f"{result.outcome}: {result.message}" if result.message else result.outcome,
            last_error_at=now,
            consecutive_failures=SourceState.consecutive_failures + 1,
        )
    if owner is not None:
        mine = SourceState.lease_owner == owner
        values.update(
            lease_owner=case((mine, None), else_=SourceState.lease_owner),
            lease_until=case((mine, None), else_=SourceState.lease_until),
        )
    session.execute(update(SourceState).where(SourceState.source == source).values(**values))


def run_history(session: Session, source: str, *, now: datetime | None = None) -> RunHistory:
    """What the crawl runs of ``source`` say, whatever started them: the newest run, the newest ok
    one, failures since it, the newest failure, new articles in the recent ok runs, and whether a
    run is going on (a live lease, or a running run whose heartbeat is fresh)."""
    now = now or utcnow()
    runs = select(CrawlRun).where(CrawlRun.source == source).order_by(CrawlRun.id.desc())
    last = session.execute(runs.limit(1)).scalar_one_or_none()
    if last is None:
        return RunHistory(running=lease_is_live(get_state(session, source), now))
    oks = list(session.execute(runs.where(CrawlRun.outcome == "ok").limit(RECENT_RUNS)).scalars())
    failed = runs.where(CrawlRun.outcome.in_(sorted(FAILED_OUTCOMES)))
    if oks:
        failed = failed.where(CrawlRun.id > oks[0].id)
    failures = session.execute(select(func.count()).select_from(failed.subquery())).scalar_one()
    last_failure = session.execute(
        select(CrawlRun).where(CrawlRun.source == source, CrawlRun.outcome.in_(sorted(FAILED_OUTCOMES)))
        .order_by(CrawlRun.id.desc()).limit(1)
    ).scalar_one_or_none()
    going = last.outcome == "running" and (last.heartbeat_at or last.started_at) > now - RUNNING_FRESH
    return RunHistory(
        last_run=last,
        last_ok=oks[0] if oks else None,
        last_failure=last_failure,
        failures_since_ok=failures,
        recent_new=tuple(run.articles_new for run in reversed(oks)),
        running=going or lease_is_live(get_state(session, source), now),
    )


def last_runs(session: Session, names: Iterable[str]) -> dict[str, CrawlRun]:
    """The newest run of each of ``names`` (sources never run are absent)."""
    out: dict[str, CrawlRun] = {}
    for name in names:
        run = session.execute(
            select(CrawlRun).where(CrawlRun.source == name).order_by(CrawlRun.id.desc()).limit(1)
        ).scalar_one_or_none()
        if run is not None:
            out[name] = run
    return out


def sources_health(session: Session | None, sources: Iterable[Source]) -> list[dict[str, Any]]:
    """Each source's configuration and health, as ``akhbar sources --json`` prints it
    (:func:`storage.shapes.source_health_json`).  Without a session (no archive yet) every source
    is shown as never run."""
    from storage.quality import source_quality
    from storage.refetch import empty_counts, refetch_counts

    now = utcnow()
    out = []
    sources = list(sources)
    waiting = refetch_counts(session, (s.name for s in sources)) if session else {}
    for s in sources:
        entry = source_health_json(s, get_state(session, s.name) if session else None,
                                   run_history(session, s.name, now=now) if session else RunHistory())
        quality = source_quality(session, s.name) if session else None
        entry["warnings"] = quality.pop("warnings") if quality else []
        entry["quality"] = quality
        entry["refetch"] = {"schedule_seconds": [offset.total_seconds() for offset in s.refetch],
                            "retry_rejected": s.retry_rejected, **(waiting.get(s.name) or empty_counts())}
        out.append(entry)
    return out
