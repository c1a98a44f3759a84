"""A pool of worker processes for the extract step (:mod:`crawler.extraction`), so that a crawl's
reactor only fetches while the pages are extracted on the other cores.

Each worker is a process of its own, fed by a thread of this process that sends it one page at a
time (:func:`crawler.extraction.job_of`) and waits for the :class:`~crawler.extraction.Extraction`
at most ``timeout`` seconds: a page over it is ``rejected`` with :data:`~crawler.extraction.TIMED_OUT`
and its worker is killed and replaced; a worker that dies on a page gives an ``error``.

Workers come from a ``forkserver`` (a clean process that imported the extractor once): the
crawl's own process, with its reactor and threads, is never forked.  The queue of pages waiting
for a worker is bounded (:attr:`ExtractPool.capacity`); :meth:`ExtractPool.submit` never blocks.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from crawler.extraction import EXTRACTOR_MODULES, TIMED_OUT, Extraction, extract_job

__all__ = ["ExtractPool", "configured_workers", "default_workers", "start_server"]

log = logging.getLogger(__name__)

#: How long a new worker may take to be ready (import the extractor) before it counts as dead.
STARTUP_SECONDS = 120.0
_READY = "ready"
#: Imported last by the forkserver: loads the rest of what the extractor needs (language profiles).
WARM_MODULE = "crawler.extractwarm"
#: What the forkserver imports, in order, before it forks the first worker.
PRELOAD = ("crawler.extraction", *EXTRACTOR_MODULES, WARM_MODULE)
_STOP = None


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def configured_workers(setting: Any) -> int:
    """The number of workers ``AKHBAR_EXTRACT_WORKERS`` asks for: one per core when it is unset
    (0: extraction in the crawl's own process); ``ValueError`` when it is no number."""
    return default_workers() if setting is None else int(setting)


def _context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def start_server() -> None:
    """Start the forkserver the workers will come from, now: it imports the extractor in a process
    of its own while the caller goes on (a crawl sets up Scrapy and its archive meanwhile), so the
    first workers are ready sooner.  Nothing to do where workers are spawned instead."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _serve(conn: Connection) -> None:
    """A worker: extract each job received until told to stop or the pool goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the crawl stops the pool
    conn.send(_READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is _STOP:
            return
        conn.send(extract_job(*job))


class _Worker:
    """One worker process and the thread of this process that feeds it."""

    def __init__(self, pool: ExtractPool, number: int) -> None:
        self.pool = pool
        self.process: Any = None
        self.conn: Connection | None = None
        self.thread = threading.Thread(target=self.run, name=f"akhbar-extract-{number}", daemon=True)

    def start_process(self) -> None:
        mine, theirs = self.pool.context.Pipe()
        self.conn = mine
        self.process = self.pool.context.Process(target=_serve, args=(theirs,), daemon=True)  # type: ignore[attr-defined]
        try:
            self.process.start()
        finally:
            theirs.close()
        if not (mine.poll(STARTUP_SECONDS) and mine.recv() == _READY):
            raise EOFError("the extraction worker did not start")

    def run(self) -> None:
        self.try_start()
        while True:
            job = self.pool.jobs.get()
            if job is _STOP:
                break
            args, future = job
            if future.set_running_or_notify_cancel():
                future.set_result(self.extract(args))
        self.stop()

    def try_start(self) -> bool:
        """Start the worker process; False (and a warning) when it could not start."""
        try:
            self.start_process()
        except (EOFError, OSError) as exc:
            log.warning("could not start an extraction worker (%s: %s); extracting in the crawl's process meanwhile",
                        type(exc).__name__, exc)
            self.kill()
            return False
        return True

    def extract(self, args: tuple[Any, ...]) -> Extraction:
        if self.conn is None and not self.try_start():
            return extract_job(*args)  # slower, but the page is taken in all the same
        assert self.conn is not None
        try:
            self.conn.send(args)
            if self.conn.poll(self.pool.timeout):
                result: Extraction = self.conn.recv()
                return result
            self.kill()
            return Extraction("rejected", reason=TIMED_OUT)
        except (EOFError, OSError) as exc:
            code = None
            if self.process is not None:
                self.process.join(1)
                code = self.process.exitcode
            self.kill()
            return Extraction("error", reason=f"extraction worker died (exit code {code}): {type(exc).__name__}")

    def kill(self) -> None:
        """End the worker process now (the next page starts a new one)."""
        if self.process is not None and self.process.pid is not None:  # None: it never started
            self.process.kill()
            self.process.join()
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = None

    def stop(self) -> None:
        """Ask the worker process to finish; kill it if it does not."""
        if self.conn is not None:
            try:
                self.conn.send(_STOP)
            except OSError:
                pass
        if self.process is not None and self.process.pid is not None:
            self.process.join(5)
        self.kill()


class ExtractPool:
    """``workers`` extraction processes; :meth:`submit` a page, get a future of its :class:`Extraction`."""

    def __init__(self, workers: int, timeout: float) -> None:
        if workers < 1:
            raise ValueError("an extraction pool needs at least one worker")
        self.timeout = timeout
        self.capacity = 2 * workers  # one page being extracted and one waiting, per worker
        self.context = _context()
        self.jobs: queue.Queue[Any] = queue.Queue(maxsize=self.capacity)
        self.workers = [_Worker(self, n) for n in range(workers)]
        for worker in self.workers:
            worker.thread.start()

    def submit(self, args: tuple[Any, ...]) -> Future[Extraction]:
        """Queue one page (:func:`crawler.extraction.job_of`); raises ``queue.Full`` past :attr:`capacity`."""
        future: Future[Extraction] = Future()
        self.jobs.put_nowait((args, future))
        return future

    def close(self) -> None:
        """Finish the pages queued, then stop every worker."""
        for _ in self.workers:
            self.jobs.put(_STOP)
        for worker in self.workers:
            worker.thread.join()
