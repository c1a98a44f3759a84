"""Search at scale on SQLite and PostgreSQL, side by side.

    python bench/scale_search.py --n 200000 [--json] [--pg-url postgresql+psycopg://...] [--rounds 5]

Builds the same N synthetic Arabic articles (bench/search.py's generator: 8-24 real sentences of
tests/fixtures/search, one of 12 sources, a day in 2023-2024, a section, an author) into a SQLite
file and into a PostgreSQL database: a throw-away server it starts on 127.0.0.1 from the Debian
packages (tests/pgserver.py), or ``--pg-url``.  The build is a bulk load, not a crawl: the rows go
in batches of :data:`BATCH` per transaction, and the search index rows are written by the same
library function a bulk load uses (:func:`storage.search.index_articles`); then PostgreSQL is
``VACUUM ANALYZE``d (which also empties the GIN index's pending list).  Then it runs bench/search.py's
query set (12 queries, 20 hits with snippets, through :func:`storage.search.search`) ``rounds``
times each, without filters and with a source + date-range filter, on both, and prints the
median and p95 latency side by side.

:func:`run` is what other benchmarks call (bench/scale.py): ``run(n, pg_url)`` returns the figures.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import search as search_bench  # noqa: E402  (the generator, the queries, the filter)
from storage import open_engine  # noqa: E402
from storage.models import ArticleRecord, Source  # noqa: E402
from storage.search import Filters, index_articles, search  # noqa: E402

#: Articles per transaction of the bulk load.
BATCH = 5000
CASES: tuple[tuple[str, Filters | None], ...] = (("no filters", None), ("source+dates", search_bench.FILTERS))


def articles(n: int) -> Iterator[list[dict[str, Any]]]:
    """The N synthetic articles as rows of ``articles`` (ids 1..N), :data:`BATCH` at a time."""
    rng = random.Random(14)
    pool = search_bench.sentences()
    sources = {name: i + 1 for i, name in enumerate(search_bench.SOURCES)}
    seen = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        article, source = search_bench.synthetic(rng, pool, i)
        day = date.fromisoformat(article.published or "2023-01-01")
        rows.append({
            "id": i + 1, "content_hash": article.content_hash, "url": article.url, "title": article.title,
            "text": article.text, "published": article.published,
            "published_utc": datetime(day.year, day.month, day.day, tzinfo=timezone.utc), "section": article.section,
            "author": article.author, "lang": article.lang, "tags": [], "source_id": sources[source],
            "first_seen": seen, "last_seen": seen, "times_seen": 1,
        })
        if len(rows) == BATCH:
            yield rows
            rows = []
    if rows:
        yield rows


def build(engines: dict[str, Engine], n: int) -> dict[str, float]:
    """Load the N articles into every engine; seconds spent writing to each."""
    spent = dict.fromkeys(engines, 0.0)
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for name, engine in engines.items():
        with Session(engine) as s:
            s.execute(insert(Source), [{"id": i + 1, "name": src, "created_at": now} for i, src in enumerate(search_bench.SOURCES)])
            s.commit()
    done = 0
    started = time.perf_counter()
    for rows in articles(n):
        for name, engine in engines.items():
            t = time.perf_counter()
            with Session(engine) as s:
                s.execute(insert(ArticleRecord), rows)
                index_articles(s, [(r["id"], r["title"], r["text"]) for r in rows])
                s.commit()
            spent[name] += time.perf_counter() - t
        done += len(rows)
        print(f"\r  built {done}/{n} ({done / (time.perf_counter() - started):.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    return spent


def settle(engines: dict[str, Engine]) -> float:
    """After the load: VACUUM ANALYZE on PostgreSQL, ANALYZE + optimize on SQLite; seconds."""
    t = time.perf_counter()
    for engine in engines.values():
        with engine.connect() as c:
            if engine.dialect.name == "postgresql":
                c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
                # the sequences after the explicit ids
                c.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), max(id)) FROM articles"))
                c.execute(text("SELECT setval(pg_get_serial_sequence('sources', 'id'), max(id)) FROM sources"))
            else:
                c.execute(text("ANALYZE"))
                c.execute(text("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')"))
            c.commit()
    return time.perf_counter() - t


def latencies(engine: Engine, filters: Filters | None, rounds: int) -> dict[str, list[float]]:
    """Milliseconds of each query of the set, ``rounds`` times (after one warm-up run)."""
    times: dict[str, list[float]] = {}
    with Session(engine) as s:
        for query in search_bench.QUERIES:
            search(s, query, filters=filters)
            times[query] = []
            for _ in range(rounds):
                t = time.perf_counter()
                search(s, query, filters=filters)
                times[query].append((time.perf_counter() - t) * 1000)
    return times


def figures(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(statistics.quantiles(times, n=20)[-1], 1),
            "max_ms": round(max(times), 1)}


@contextmanager
def postgresql(pg_url: str | None) -> Iterator[str]:
    """``pg_url``, or a fresh database on a throw-away server on 127.0.0.1 (stopped afterwards)."""
    if pg_url:
        yield pg_url
        return
    from tests.pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql, or set PG_BINDIR), or give --pg-url")
    with PgServer(bindir) as server:
        yield server.create_database()


def run(n: int, pg_url: str | None = None, *, rounds: int = 5, folder: Path | None = None) -> dict[str, Any]:
    """Build N articles into SQLite and PostgreSQL and time the query set on both; the figures:
    ``{"articles", "build_s": {engine: s}, "settle_s", "latency": {case: {engine: figures}},
    "per_query_p95_ms": {case: {engine: {query: ms}}}}``."""
    with tempfile.TemporaryDirectory(prefix="akhbar-scale-", dir=folder) as tmp, postgresql(pg_url) as pg:
        engines = {"sqlite": open_engine(f"sqlite:///{Path(tmp) / 'scale.db'}"), "postgresql": open_engine(pg)}
        try:
            report: dict[str, Any] = {"articles": n, "build_s": {k: round(v, 1) for k, v in build(engines, n).items()}}
            report["settle_s"] = round(settle(engines), 1)
            report["latency"], report["per_query_p95_ms"] = {}, {}
            for label, filters in CASES:
                report["latency"][label], report["per_query_p95_ms"][label] = {}, {}
                for name, engine in engines.items():
                    times = latencies(engine, filters, rounds)
                    report["latency"][label][name] = figures([t for ts in times.values() for t in ts])
                    report["per_query_p95_ms"][label][name] = {q: figures(ts)["p95_ms"] for q, ts in times.items()}
            return report
        finally:
            for engine in engines.values():
                engine.dispose()


def table(report: dict[str, Any]) -> str:
    """The figures side by side, as text."""
    lines = [f"articles: {report['articles']}; build s: "
             + ", ".join(f"{k} {v}" for k, v in report["build_s"].items()) + f"; settle s: {report['settle_s']}",
             f"{'case':<14}{'engine':<12}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}"]
    for label, engines in report["latency"].items():
        for name, fig in engines.items():
            lines.append(f"{label:<14}{name:<12}{fig['median_ms']:>10}{fig['p95_ms']:>10}{fig['max_ms']:>10}")
    lines.append("p95 per query (ms): sqlite / postgresql")
    for label, engines in report["per_query_p95_ms"].items():
        for query in engines["sqlite"]:
            lines.append(f"  {label:<14}{engines['sqlite'][query]:>8} / {engines['postgresql'][query]:<8} {query}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="synthetic articles (default 200,000)")
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL database to fill (default: a throw-away server)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each query")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout (the table on stderr)")
    args = parser.parse_args()
    report = run(args.n, args.pg_url, rounds=args.rounds)
    print(table(report), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
