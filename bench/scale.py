"""Crawl throughput with 1, 2 and 4 `akhbar worker`s on one redis and one PostgreSQL archive.

Serves a generated Arabic news site (bench/site.py) on 127.0.0.1 with a per-request delay (so that
the workers, each with a bounded number of requests at a time, are the limit rather than the CPU),
starts a throw-away redis-server and PostgreSQL (tests/redisserver.py, tests/pgserver.py; or
``--pg-url``), and for each number of workers: a fresh database, the workers, then ``akhbar crawl
--redis`` (which queues the sitemap index and returns when the workers are done).  Politeness is
lifted for the bench host (no delay, no per-host limit; robots.txt still read) so that the per-worker
concurrency is the bound.

Throughput is measured at the site: pages answered between the first and the last article page,
per second (worker start-up and the end-of-crawl wait are outside it); the wall time of the
``crawl --redis`` command is printed beside it.  The issue's target: 4 workers >= 3.5 x 1 worker.

``--search-n N`` (default 200000; 0: none) then runs bench/scale_search.py's ``run(N, pg_url)``
(PostgreSQL against SQLite search latency) on the same server, when that file is present.

    python bench/scale.py [--pages 2000] [--delay 200] [--workers 1,2,4] [--per-worker 4] [--json]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bench.site import REALPAGES, GeneratedSite, SiteDataMissing  # noqa: E402

AKHBAR = [sys.executable, "-c", "from crawler.cli import main; main()"]


def worker_settings(per_worker: int) -> list[str]:
    """The workers' settings: ``per_worker`` requests at a time each; the bench host's politeness lifted."""
    values = {"CONCURRENT_REQUESTS": per_worker, "CONCURRENT_REQUESTS_PER_DOMAIN": 10_000, "DOWNLOAD_DELAY": 0,
              "AKHBAR_EXTRACT_WORKERS": 1, "AKHBAR_HEARTBEAT_SECONDS": 1}
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class Clock:
    """Times of the article pages the site answered (wraps :meth:`GeneratedSite.answer`)."""

    def __init__(self, site: GeneratedSite) -> None:
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.requests = 0
        answer = site.answer

        def timed(target: str) -> tuple[int, str, bytes]:
            result = answer(target)
            with self.lock:
                self.requests += 1
                if result[0] == 200 and "text/html" in result[1] and "/news/page/" not in target:
                    self.times.append(time.monotonic())
            return result

        site.answer = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        with self.lock:
            self.times.clear()
            self.requests = 0

    def rate(self) -> tuple[int, float]:
        """(article pages, seconds from the first to the last)."""
        with self.lock:
            times = sorted(self.times)
        return len(times), (times[-1] - times[0]) if len(times) > 1 else 0.0


@contextmanager
def servers(pg_url: str | None) -> Iterator[tuple[Any, Any]]:
    """A redis-server, and a PostgreSQL server unless ``pg_url`` names one (then ``None``)."""
    pgserver = importlib.import_module("pgserver")  # tests/ (on sys.path above): the tests' throw-away servers
    redisserver = importlib.import_module("redisserver")
    PgServer, find_bindir = pgserver.PgServer, pgserver.find_bindir
    RedisServer, find_redis = redisserver.RedisServer, redisserver.find_redis

    binary = find_redis()
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with RedisServer(binary) as redis:
        if pg_url:
            yield redis, None
            return
        bindir = find_bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql), or give --pg-url")
        with PgServer(bindir) as pg:
            yield redis, pg


def one_round(site: GeneratedSite, clock: Clock, redis_url: str, db: str, workers: int, per_worker: int,
              tmp: Path) -> dict[str, Any]:
    """Crawl the site with ``workers`` workers into ``db``; what the site saw and what was stored."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    sources = tmp / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "bench"\nsitemaps = ["{site.base_url}/sitemap_index.xml"]\n',
                       encoding="utf-8")
    procs = []
    for number in range(workers):
        log = open(tmp / f"worker-{workers}-{number}.log", "wb")
        procs.append(subprocess.Popen([*AKHBAR, "worker", "--redis", redis_url, "--sources", str(sources), "--db", db,
                                       "--warc-dir", str(tmp / f"warc-{workers}"), *worker_settings(per_worker)],
                                      stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=child_env()))
        log.close()
    # each worker holds four connections once its crawler is open (scheduler, politeness, counts, validators)
    deadline = time.monotonic() + 120
    while len(client.client_list()) < 4 * workers + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    clock.reset()
    started = time.monotonic()
    done = subprocess.run([*AKHBAR, "crawl", "--redis", redis_url, "--sources", str(sources), "--db", db, "--json",
                           "--set", "AKHBAR_HEARTBEAT_SECONDS=1"],
                          capture_output=True, text=True, env=child_env(), timeout=7200)
    wall = time.monotonic() - started
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    client.close()
    if done.returncode != 0:
        raise SystemExit(f"crawl --redis with {workers} workers failed: {done.stderr.strip()[-500:]}")
    run = json.loads(done.stdout)[0]
    pages, seconds = clock.rate()
    return {"workers": workers, "article_pages": pages, "requests": clock.requests, "seconds": round(seconds, 2),
            "pages_per_s": round(pages / seconds, 2) if seconds else 0.0, "wall_s": round(wall, 2),
            "articles_new": run["articles_new"], "outcome": run["outcome"]}


def search_hook(n: int, pg_url: str) -> dict[str, Any] | str:
    """bench/scale_search.py's ``run(n, pg_url)``, or why it did not run."""
    try:
        module = importlib.import_module("bench.scale_search")
    except ModuleNotFoundError as exc:
        if exc.name in ("bench.scale_search",):
            return "bench/scale_search.py not present"
        raise
    result: dict[str, Any] = module.run(n, pg_url)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="sitemap entries of the site (default 2000)")
    parser.add_argument("--delay", type=float, default=200, help="the site's delay per request, ms (default 200)")
    parser.add_argument("--workers", default="1,2,4", help="numbers of workers to try (default 1,2,4)")
    parser.add_argument("--per-worker", type=int, default=4, help="requests at a time per worker (default 4)")
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL server to use (default: a throw-away one)")
    parser.add_argument("--search-n", type=int, default=200_000,
                        help="articles for bench/scale_search.py (default 200000; 0: skip)")
    parser.add_argument("--realpages", type=Path, default=REALPAGES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    try:
        site = GeneratedSite(pages=args.pages, delay=args.delay, realpages=args.realpages)
    except SiteDataMissing as exc:
        print(f"scale: {exc}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    rounds: list[dict[str, Any]] = []
    search: dict[str, Any] | str | None = None
    with site, servers(args.pg_url) as (redis, pg), tempfile.TemporaryDirectory(prefix="akhbar-scale-") as tmp:
        clock = Clock(site)
        for workers in counts:
            db = pg.create_database() if pg is not None else args.pg_url
            try:
                rounds.append(one_round(site, clock, redis.url, db, workers, args.per_worker, Path(tmp)))
            finally:
                if pg is not None:
                    pg.drop_database(db)
            if not args.json:
                print(f"{workers} worker(s): {rounds[-1]}", file=sys.stderr)
        if args.search_n:
            search = search_hook(args.search_n, pg.url() if pg is not None else args.pg_url)
    base = rounds[0]["pages_per_s"] if rounds else 0
    for entry in rounds:
        entry["ratio"] = round(entry["pages_per_s"] / base, 2) if base else None
    load = (load_before, os.getloadavg()[0])
    result = {"pages": args.pages, "delay_ms": args.delay, "per_worker": args.per_worker,
              "load_before_after": [round(x, 2) for x in load], "crawl": rounds, "search": search}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"site: {args.pages} entries, {args.delay:.0f} ms per request; {args.per_worker} requests at a time "
              f"per worker; PostgreSQL archive; load average {load[0]:.2f} before, {load[1]:.2f} after")
        print(f"{'workers':>7} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'ratio':>6} {'wall s':>7} {'stored':>7}")
        for entry in rounds:
            print(f"{entry['workers']:>7} {entry['article_pages']:>6} {entry['seconds']:>8} {entry['pages_per_s']:>8} "
                  f"{entry['ratio']:>6} {entry['wall_s']:>7} {entry['articles_new']:>7}")
        if search is not None:
            print(f"search: {search if isinstance(search, str) else json.dumps(search, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
