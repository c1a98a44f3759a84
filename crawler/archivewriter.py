"""One writer of a crawl's archive: a thread with its own sessions that commits in small batches.

Work is a function of a session (``work(session) -> result``); :meth:`ArchiveWriter.submit` queues
it and returns a future of its result.  The thread takes what is queued, up to ``batch`` pieces or
what arrives within ``wait`` seconds of the first, runs them in one session and commits once.  A
crawl killed at any moment loses at most the uncommitted batch and what is still queued: those
documents are not in the archive, so the next crawl's seen-URL check lets them through again.

A piece of work that raises does not cost the others: the batch is rolled back and each of its
pieces is run again alone, with a commit each; the one that fails again gets the exception.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

__all__ = ["ArchiveWriter"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], Any]
_STOP = None


class ArchiveWriter:
    """Commits work on ``engine`` from one thread, ``batch`` pieces or ``wait`` seconds at a time."""

    def __init__(self, engine: Engine, *, batch: int = 50, wait: float = 0.25) -> None:
        self.engine = engine
        self.batch = max(1, batch)
        self.wait = wait
        self.queue: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self.run, name="akhbar-archive-writer", daemon=True)
        self.thread.start()

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work``; the future has its result once it is committed (or its exception)."""
        future: Future[T] = Future()
        self.queue.put((work, future))
        return future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self.queue.put(_STOP)
        self.thread.join()

    def run(self) -> None:
        stopping = False
        while not stopping:
            first = self.queue.get()
            if first is _STOP:
                return
            pieces, stopping = self.gather(first)
            self.write([(w, f) for w, f in pieces if f.set_running_or_notify_cancel()])

    def gather(self, first: tuple[Work, Future[Any]]) -> tuple[list[tuple[Work, Future[Any]]], bool]:
        """The batch that begins with ``first``; and whether the writer was told to stop meanwhile."""
        pieces = [first]
        deadline = time.monotonic() + self.wait
        while len(pieces) < self.batch:
            try:
                piece = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if piece is _STOP:
                return pieces, True
            pieces.append(piece)
        return pieces, False

    def write(self, pieces: list[tuple[Work, Future[Any]]]) -> None:
        """All ``pieces`` in one transaction; if that fails, each alone."""
        if not pieces:
            return
        try:
            with Session(self.engine) as session:
                results = [work(session) for work, _ in pieces]
                session.commit()
        except Exception:  # noqa: BLE001 - find the piece that fails, keep the others
            log.debug("a batch of %d archive writes failed; writing them one by one", len(pieces), exc_info=True)
            for piece in pieces:
                self.write_alone(*piece)
            return
        for (_, future), result in zip(pieces, results):
            future.set_result(result)

    def write_alone(self, work: Work, future: Future[Any]) -> None:
        try:
            with Session(self.engine) as session:
                result = work(session)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - the caller decides what a failed write means
            future.set_exception(exc)
        else:
            future.set_result(result)
