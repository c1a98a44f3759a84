"""When to crawl a source next: adaptive intervals, failure backoff and jitter.  Pure.

The rules, per source, with ``floor`` and ``cap`` its ``min_interval`` and ``max_interval``
(by default a quarter and eight times its ``interval``):

- a run that brought **nothing new** lengthens the interval one step (x1.5), up to the cap;
- a run that brought **many** new articles (``Policy.many``, default 10) shortens it one step
  (/1.5), down to the floor;
- a run that brought **some** new articles moves it one step back towards the configured
  ``interval`` (a source returns to its normal pace once it is neither idle nor flooding);
- a **failed** run (``failed``, ``timeout``, ``killed``, ``died``) leaves that interval alone and
  delays the next try exponentially: ``interval * 2 ** consecutive_failures``, within floor and
  cap; the first success after failures resumes the adaptive interval;
- an **interrupted** run (the scheduler was stopped) changes nothing.

Every delay gets a random jitter of up to 10 % (at most five minutes) either way so that sources
configured alike do not fire together.  Functions take the random generator as a parameter, so
tests are deterministic.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

__all__ = [
    "FAILED_OUTCOMES",
    "Policy",
    "Limits",
    "adapt_interval",
    "failure_delay",
    "jitter",
    "first_delay",
    "next_delay",
]

#: Run outcomes that count as a failure of the source (back off, count consecutive failures).
FAILED_OUTCOMES = frozenset({"failed", "timeout", "killed", "died"})


@dataclass(frozen=True)
class Limits:
    """A source's configured pace: its ``interval`` and the floor and cap adaptation keeps to."""

    interval: timedelta
    floor: timedelta
    cap: timedelta

    def clamp(self, value: timedelta) -> timedelta:
        """``value`` brought within [floor, cap]."""
        return max(self.floor, min(self.cap, value))


@dataclass(frozen=True)
class Policy:
    """The tunable constants of the rules above."""

    step: float = 1.5  # factor by which one run lengthens or shortens the interval
    many: int = 10  # new articles in one run that make a source "busy"
    jitter_share: float = 0.1  # jitter: up to this share of the delay, either way
    jitter_max: timedelta = timedelta(minutes=5)
    spread_max: timedelta = timedelta(minutes=1)  # first runs of new sources are spread over this


DEFAULT_POLICY = Policy()


def adapt_interval(current: timedelta, new_articles: int, limits: Limits, policy: Policy = DEFAULT_POLICY) -> timedelta:
    """The interval after a successful run that stored ``new_articles`` new articles."""
    current = limits.clamp(current)
    if new_articles <= 0:
        return limits.clamp(current * policy.step)
    if new_articles >= policy.many:
        return limits.clamp(current / policy.step)
    if current > limits.interval:  # some news: one step back towards the configured pace
        return max(limits.interval, current / policy.step)
    if current < limits.interval:
        return min(limits.interval, current * policy.step)
    return current


def failure_delay(consecutive_failures: int, limits: Limits) -> timedelta:
    """Delay before retrying a source that failed ``consecutive_failures`` times in a row (>= 1)."""
    exponent = max(1, consecutive_failures)
    if exponent > 62:  # beyond any cap; avoid overflowing timedelta
        return limits.cap
    return limits.clamp(limits.interval * (2**exponent))


def jitter(delay: timedelta, rng: random.Random, policy: Policy = DEFAULT_POLICY) -> timedelta:
    """``delay`` moved randomly by up to ``jitter_share`` of itself (at most ``jitter_max``) either way."""
    spread = min(delay * policy.jitter_share, policy.jitter_max).total_seconds()
    return delay + timedelta(seconds=rng.uniform(-spread, spread))


def first_delay(limits: Limits, rng: random.Random, policy: Policy = DEFAULT_POLICY) -> timedelta:
    """Delay before the first run of a newly scheduled source: random within ``min(interval, spread_max)``,
    so a scheduler starting with many sources does not crawl them all at the same second."""
    window = min(limits.interval, policy.spread_max).total_seconds()
    return timedelta(seconds=rng.uniform(0, window))


def next_delay(
    outcome: str,
    *,
    current: timedelta,
    new_articles: int,
    consecutive_failures: int,
    limits: Limits,
    rng: random.Random,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[timedelta, timedelta]:
    """(the source's interval after a run that ended with ``outcome``, the delay before its next run).

    ``consecutive_failures`` counts this run when it failed.  The delay is jittered.
    """
    if outcome == "ok":
        interval = adapt_interval(current, new_articles, limits, policy)
        return interval, jitter(interval, rng, policy)
    interval = limits.clamp(current)
    if outcome in FAILED_OUTCOMES:
        return interval, jitter(failure_delay(consecutive_failures, limits), rng, policy)
    return interval, jitter(interval, rng, policy)  # interrupted: unchanged
