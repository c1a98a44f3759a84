"""Waiting in tests by polling state, never by sleeping a fixed time and hoping.

``wait_until(predicate, timeout, what)`` calls ``predicate`` every ``interval`` seconds until it
returns something true, and returns that; past ``timeout`` seconds it fails the test, naming
``what`` it waited for and, when given, what ``report()`` says of the state at that moment.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str = "the condition", *,
               interval: float = 0.05, report: Callable[[], object] | None = None) -> T:
    """Poll ``predicate`` until it returns a true value (returned) or ``timeout`` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"; {report()}" if report is not None else ""
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}{detail}")
        time.sleep(interval)
