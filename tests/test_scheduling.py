"""Leases, health and dead-run marking in the archive (storage.scheduling)."""
from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from storage import scheduling
from storage.archive import utcnow
from storage.db import make_engine, open_engine
from storage.models import CrawlRun
from storage.runs import finish_run, heartbeat, start_run

LEASE = timedelta(seconds=30)
HOST = "this-host"
DEAD_PID = 4_000_000  # above the kernel's pid_max: never a live process


def alive(pid: int) -> bool:
    return pid != DEAD_PID


@pytest.fixture
def url(db_url):
    """A new archive on SQLite, then on PostgreSQL."""
    url = db_url
    open_engine(url).dispose()
    return url


@pytest.fixture
def session(url):
    engine = make_engine(url)
    with Session(engine) as s:
        scheduling.ensure_states(s, ["a", "b"])
        s.commit()
        yield s
    engine.dispose()


def test_a_lease_is_exclusive_until_released_or_run_out(session):
    now = utcnow()
    assert scheduling.claim_lease(session, "a", "h:1", lease=LEASE, now=now)
    assert not scheduling.claim_lease(session, "a", "h:2", lease=LEASE, now=now + timedelta(seconds=29))
    assert scheduling.claim_lease(session, "a", "h:1", lease=LEASE, now=now)  # ours already: renewed
    assert scheduling.claim_lease(session, "b", "h:2", lease=LEASE, now=now)  # other sources are independent
    assert scheduling.claim_lease(session, "a", "h:2", lease=LEASE, now=now + timedelta(seconds=31))  # run out
    assert not scheduling.renew_lease(session, "a", "h:1", lease=LEASE)
    scheduling.release_lease(session, "a", "h:1")  # not the holder: nothing happens
    assert scheduling.get_state(session, "a").lease_owner == "h:2"
    scheduling.release_lease(session, "a", "h:2")
    assert scheduling.claim_lease(session, "a", "h:3", lease=LEASE)


def test_a_source_not_yet_due_is_not_claimed(session):
    now = utcnow()
    scheduling.set_schedule(session, "a", next_run_at=now + timedelta(minutes=5))
    assert not scheduling.claim_lease(session, "a", "h:1", lease=LEASE, now=now, due_by=now + timedelta(seconds=1))
    assert scheduling.claim_lease(session, "a", "h:1", lease=LEASE, now=now, due_by=now + timedelta(minutes=6))


def test_concurrent_claims_from_separate_connections_have_one_winner(url):
    engines = [make_engine(url) for _ in range(6)]
    barrier = threading.Barrier(len(engines))
    results: list[bool] = []

    def claim(i: int) -> None:
        with Session(engines[i]) as s:
            barrier.wait()
            won = scheduling.claim_lease(s, "a", f"h:{i}", lease=LEASE)
            s.commit()
            results.append(won)

    with Session(engines[0]) as s:
        scheduling.ensure_states(s, ["a"])
        s.commit()
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert sorted(results) == [False] * 5 + [True]


def test_the_lease_of_a_dead_process_of_this_host_is_not_live_and_is_freed(session):
    now = utcnow()
    assert scheduling.claim_lease(session, "a", f"{HOST}:{DEAD_PID}", lease=LEASE, now=now)
    assert scheduling.claim_lease(session, "b", f"elsewhere:{DEAD_PID}", lease=LEASE, now=now)
    assert not scheduling.lease_is_live(scheduling.get_state(session, "a"), now, host=HOST, alive=alive)
    assert scheduling.lease_is_live(scheduling.get_state(session, "b"), now, host=HOST, alive=alive)  # trusted
    assert scheduling.release_dead_leases(session, host=HOST, alive=alive) == ["a"]
    assert scheduling.get_state(session, "a").lease_owner is None
    assert scheduling.get_state(session, "b").lease_owner == f"elsewhere:{DEAD_PID}"


def test_a_dead_owner_lease_is_kept_while_its_orphaned_crawl_still_runs(session):
    scheduling.claim_lease(session, "a", f"{HOST}:{DEAD_PID}", lease=LEASE)
    run_id = start_run(session, "a", trigger="schedule", pid=os.getpid(), host=HOST)  # a live process
    scheduling.set_last_run(session, "a", run_id)
    assert scheduling.release_dead_leases(session, host=HOST, alive=alive) == []


def _run(session, source, *, pid, host, beat_ago=0.0, **counters):
    run_id = start_run(session, source, trigger="schedule", pid=pid, host=host)
    if counters:
        heartbeat(session, run_id, **counters)
    run = session.get(CrawlRun, run_id)
    run.heartbeat_at = utcnow() - timedelta(seconds=beat_ago)
    session.flush()
    return run_id


def test_runs_whose_process_vanished_are_marked_died_and_keep_their_counts(session):
    gone_here = _run(session, "a", pid=DEAD_PID, host=HOST, beat_ago=2, pages_fetched=7, articles_new=4)
    alive_here = _run(session, "b", pid=os.getpid(), host=HOST, beat_ago=100)
    fresh_elsewhere = _run(session, "b", pid=123, host="other", beat_ago=3)
    stale_elsewhere = _run(session, "b", pid=123, host="other", beat_ago=100)
    dead = scheduling.mark_dead_runs(session, stale_after=timedelta(seconds=30), host=HOST, alive=alive)
    assert sorted(dead) == sorted([gone_here, stale_elsewhere])
    run = session.get(CrawlRun, gone_here)
    session.refresh(run)
    assert run.outcome == "died" and run.pages_fetched == 7 and run.articles_new == 4
    assert run.finished_at == run.heartbeat_at and "vanished" in run.message
    for run_id in (alive_here, fresh_elsewhere):
        assert session.get(CrawlRun, run_id).outcome == "running"
    state = scheduling.get_state(session, "a")
    assert state.consecutive_failures == 1 and state.last_error.startswith("died")
    assert scheduling.mark_dead_runs(session, stale_after=timedelta(seconds=30), host=HOST, alive=alive) == []


def test_a_run_under_a_live_lease_is_never_marked_died(session):
    scheduling.claim_lease(session, "a", "other:55", lease=LEASE)
    run_id = _run(session, "a", pid=55, host="other", beat_ago=600)
    assert scheduling.mark_dead_runs(session, stale_after=timedelta(seconds=30), host=HOST, alive=alive) == []
    assert session.get(CrawlRun, run_id).outcome == "running"


def test_record_outcome_keeps_health_and_releases_only_its_own_lease(session):
    now = utcnow()
    scheduling.claim_lease(session, "a", "h:1", lease=LEASE)
    for n in range(12):
        outcome = scheduling.Outcome("ok", n, None, timedelta(minutes=5), now + timedelta(minutes=5))
        scheduling.record_outcome(session, "a", n + 1, outcome, owner="h:2", failed=False)
    state = scheduling.get_state(session, "a")
    assert state.recent_new == list(range(2, 12))  # the last ten runs
    assert state.lease_owner == "h:1"  # h:2 did not hold it
    failure = scheduling.Outcome("failed", 0, "DNS lookup failed", timedelta(minutes=5), now + timedelta(minutes=10))
    scheduling.record_outcome(session, "a", 13, failure, owner="h:1", failed=True)
    scheduling.record_outcome(session, "a", 14, failure, owner="h:1", failed=True)
    state = scheduling.get_state(session, "a")
    assert state.lease_owner is None and state.consecutive_failures == 2
    assert state.last_error == "failed: DNS lookup failed" and state.last_success is not None
    assert state.next_run_at == now + timedelta(minutes=10) and state.interval_seconds == 300
    scheduling.record_outcome(session, "a", 15, scheduling.Outcome("ok", 1, None, timedelta(minutes=5), now),
                              failed=False)
    assert scheduling.get_state(session, "a").consecutive_failures == 0


def test_running_children_lists_the_runs_under_an_owners_leases(session):
    scheduling.claim_lease(session, "a", f"{HOST}:1", lease=LEASE)
    run_id = _run(session, "a", pid=4242, host=HOST)
    scheduling.set_last_run(session, "a", run_id)
    assert scheduling.running_children(session, f"{HOST}:1") == [(run_id, 4242)]
    assert scheduling.running_children(session, f"{HOST}:2") == []
    finish_run(session, run_id, "ok")
    assert scheduling.running_children(session, f"{HOST}:1") == []


def test_pid_alive_and_owner_names():
    assert scheduling.pid_alive(os.getpid())
    assert not scheduling.pid_alive(DEAD_PID)
    assert scheduling.parse_owner(scheduling.owner_id(12, "box:a")) == ("box:a", 12)
    assert scheduling.parse_owner(None) == ("", None)
