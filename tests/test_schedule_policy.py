"""Adaptive intervals, failure backoff and jitter (crawler.core.schedule_policy)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from crawler.core.schedule_policy import Limits, Policy, adapt_interval, failure_delay, first_delay, jitter, next_delay

S = timedelta(seconds=1)
LIMITS = Limits(interval=60 * S, floor=15 * S, cap=480 * S)  # the defaults: a quarter and eight times


def test_nothing_new_backs_off_step_by_step_up_to_the_cap():
    seen = [LIMITS.interval]
    for _ in range(10):
        seen.append(adapt_interval(seen[-1], 0, LIMITS))
    assert seen[1] == 90 * S  # one step, not a jump to the cap
    assert all(b >= a for a, b in zip(seen, seen[1:]))
    assert seen[-1] == LIMITS.cap and max(seen) == LIMITS.cap


def test_many_new_articles_speed_up_down_to_the_floor():
    seen = [LIMITS.interval]
    for _ in range(10):
        seen.append(adapt_interval(seen[-1], 25, LIMITS))
    assert seen[1] == 40 * S
    assert all(b <= a for a, b in zip(seen, seen[1:]))
    assert seen[-1] == LIMITS.floor and min(seen) == LIMITS.floor


def test_some_new_articles_return_towards_the_configured_interval():
    assert adapt_interval(300 * S, 3, LIMITS) == 200 * S
    assert adapt_interval(80 * S, 3, LIMITS) == LIMITS.interval  # never overshoots
    assert adapt_interval(20 * S, 3, LIMITS) == 30 * S
    assert adapt_interval(LIMITS.interval, 3, LIMITS) == LIMITS.interval


def test_the_threshold_of_many_is_a_policy_setting():
    assert adapt_interval(60 * S, 5, LIMITS, Policy(many=5)) == 40 * S
    assert adapt_interval(60 * S, 5, LIMITS, Policy(many=10)) == 60 * S


def test_failures_back_off_exponentially_within_floor_and_cap():
    delays = [failure_delay(n, LIMITS) for n in range(1, 7)]
    assert delays[:3] == [120 * S, 240 * S, 480 * S]
    assert delays[3:] == [LIMITS.cap] * 3
    assert failure_delay(1000, LIMITS) == LIMITS.cap  # no overflow after a long outage


def test_intervals_of_a_few_seconds_work():
    small = Limits(interval=4 * S, floor=1 * S, cap=32 * S)
    assert adapt_interval(4 * S, 0, small) == 6 * S
    assert adapt_interval(1 * S, 50, small) == 1 * S
    assert failure_delay(2, small) == 16 * S


def test_next_delay_keeps_the_interval_on_failure_and_resumes_it_after():
    rng = random.Random(7)
    interval, delay = next_delay("failed", current=90 * S, new_articles=0, consecutive_failures=2, limits=LIMITS, rng=rng)
    assert interval == 90 * S  # the adaptive interval is not touched by failures
    assert 216 * S <= delay <= 264 * S  # 240 s +- 10 %
    interval, delay = next_delay("ok", current=90 * S, new_articles=0, consecutive_failures=0, limits=LIMITS, rng=rng)
    assert interval == 135 * S and 121.5 * S <= delay <= 148.5 * S


@pytest.mark.parametrize("outcome", ["timeout", "killed", "died"])
def test_timeouts_kills_and_deaths_count_as_failures(outcome):
    _, delay = next_delay(outcome, current=60 * S, new_articles=0, consecutive_failures=1, limits=LIMITS,
                          rng=random.Random(1))
    assert delay >= 108 * S


def test_an_interrupted_run_changes_nothing():
    interval, delay = next_delay("interrupted", current=90 * S, new_articles=0, consecutive_failures=0, limits=LIMITS,
                                 rng=random.Random(3))
    assert interval == 90 * S and 81 * S <= delay <= 99 * S


def test_jitter_spreads_sources_alike_and_stays_within_ten_percent_and_five_minutes():
    rng = random.Random(42)
    values = [jitter(100 * S, rng) for _ in range(200)]
    assert all(90 * S <= v <= 110 * S for v in values)
    assert len({round(v.total_seconds(), 3) for v in values}) > 150
    long = [jitter(timedelta(days=1), rng) for _ in range(50)]
    assert all(abs(v - timedelta(days=1)) <= timedelta(minutes=5) for v in long)


def test_first_runs_are_spread_over_at_most_a_minute_or_the_interval():
    rng = random.Random(5)
    hourly = Limits(interval=timedelta(hours=1), floor=timedelta(minutes=15), cap=timedelta(hours=8))
    firsts = [first_delay(hourly, rng) for _ in range(100)]
    assert all(timedelta(0) <= d <= timedelta(minutes=1) for d in firsts)
    assert max(firsts) - min(firsts) > timedelta(seconds=30)
    quick = Limits(interval=5 * S, floor=2 * S, cap=40 * S)
    assert all(first_delay(quick, rng) <= 5 * S for _ in range(50))
