"""Search at scale on SQLite and PostgreSQL, side by side.

    python bench/scale_search.py --n 200000 [--json] [--pg-url postgresql+psycopg://...] [--keep PATH] [--rounds 5]

Builds the same N synthetic Arabic articles (bench/search.py's generator: 8-24 real sentences of
tests/fixtures/search, one of 12 sources, a day in 2023-2024, a section, an author) into a SQLite
file (``--keep PATH``, or a temporary one) and into a PostgreSQL database: a throw-away server it
starts on 127.0.0.1 from the Debian packages (tests/pgserver.py), or ``--pg-url``.  The build is a
bulk load, not a crawl, each engine filled by a process of its own (:func:`fill`; the generator is
seeded, so both get the same articles): SQLite by multi-row inserts, :data:`BATCH` per transaction,
with the index columns of :func:`storage.search.index_rows`; PostgreSQL by ``COPY`` in one
transaction, with the vectors of :func:`storage.search_pg.index_vector` (and their
:func:`storage.search_pg.marks`) and the GIN index built
after the rows; then PostgreSQL is ``VACUUM ANALYZE``d and SQLite's index optimised.  A database
that already holds the N articles is reused as it is (one holding another number is refused).
Then it runs bench/search.py's query set (12 queries, 20 hits with snippets, through
:func:`storage.search.search`) ``rounds`` times each, without filters and with a source +
date-range filter, on both, and prints the median and p95 latency side by side.

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
from concurrent.futures import ProcessPoolExecutor
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
from storage.search import Filters, index_analysed, index_rows, search  # noqa: E402
from storage.search_pg import GIN_INDEX, index_vector, marks  # noqa: E402

#: Articles per transaction of the bulk load, and per task of the analysing processes.
BATCH = 5000
CHUNK = 500
CASES: tuple[tuple[str, Filters | None], ...] = (("no filters", None), ("source+dates", search_bench.FILTERS))
#: The columns of ``articles`` the load writes, in COPY order.
ARTICLE_COLUMNS = ("id", "content_hash", "url", "title", "text", "published", "published_utc", "section", "author",
                   "lang", "tags", "source_id", "first_seen", "last_seen", "times_seen")


def articles(n: int) -> Iterator[list[dict[str, Any]]]:
    """The N synthetic articles as rows of ``articles`` (ids 1..N), :data:`CHUNK` at a time."""
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
        if len(rows) == CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def analysed(rows: list[dict[str, Any]], dialect: str) -> tuple[list[tuple[Any, ...]], list[str]]:
    """The search index entries of the rows on one engine: SQLite's index columns ``(id, title
    words, body words, title stems, body stems)``, or PostgreSQL's tsvector literals."""
    triples = [(r["id"], r["title"], r["text"]) for r in rows]
    if dialect == "postgresql":
        return [], [index_vector(title, body) for _, title, body in triples]
    return [(c["id"], c["title"], c["body"], c["title_stem"], c["body_stem"]) for c in index_rows(triples)], []


def held(engine: Engine) -> int:
    """How many articles a database holds."""
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM articles")).scalar_one())


def to_build(engines: dict[str, Engine], n: int) -> dict[str, Engine]:
    """The engines that still need the N articles: an empty database is filled, one holding N is
    reused, one holding anything else is refused."""
    empty: dict[str, Engine] = {}
    for name, engine in engines.items():
        count = held(engine)
        if count == 0:
            empty[name] = engine
        elif count == n:
            print(f"  {name}: reusing its {n} articles", file=sys.stderr)
        else:
            raise SystemExit(f"the {name} database holds {count} articles, not --n {n}: empty it or give another")
    return empty


class SqliteLoad:
    """Rows into SQLite: multi-row inserts of the articles and their index rows, a commit per :data:`BATCH`."""

    def __init__(self, engine: Engine) -> None:
        self.session = Session(engine)
        self.pending = 0

    def sources(self, rows: list[dict[str, Any]]) -> None:
        self.session.execute(insert(Source), rows)
        self.session.commit()

    def add(self, rows: list[dict[str, Any]], columns: list[tuple[Any, ...]], vectors: list[str]) -> None:
        self.session.execute(insert(ArticleRecord), rows)
        index_analysed(self.session, columns)
        self.pending += len(rows)
        if self.pending >= BATCH:
            self.session.commit()
            self.pending = 0

    def finish(self) -> None:
        self.session.commit()
        self.session.close()


class PgLoad:
    """Rows into PostgreSQL with COPY (psycopg's ``cursor.copy``), in one transaction, the GIN
    index dropped during the load and built after it."""

    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        self.conn: Any = self.raw.driver_connection  # psycopg's own connection
        assert self.conn is not None
        self.conn.execute("DROP INDEX IF EXISTS article_search_keys_gin")

    def sources(self, rows: list[dict[str, Any]]) -> None:
        with self.conn.cursor().copy("COPY sources (id, name, created_at) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row["id"], row["name"], row["created_at"]))

    def add(self, rows: list[dict[str, Any]], columns: list[tuple[Any, ...]], vectors: list[str]) -> None:
        with self.conn.cursor().copy(f"COPY articles ({', '.join(ARTICLE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(json.dumps(row[c]) if c == "tags" else row[c] for c in ARTICLE_COLUMNS))
        with self.conn.cursor().copy(
            "COPY article_search_keys (article_id, keys, published_utc, source_id) FROM STDIN"
        ) as copy:
            for row, vector in zip(rows, vectors):
                keys = vector + " " + marks(row["published_utc"], row["source_id"])  # as revision 0016's rows
                copy.write_row((row["id"], keys, row["published_utc"], row["source_id"]))

    def finish(self) -> None:
        self.conn.execute("SET maintenance_work_mem = '512MB'")
        self.conn.execute(GIN_INDEX)
        self.conn.commit()
        self.raw.close()


def fill(url: str, n: int) -> float:
    """Load the N articles into one database (in a process of its own: the generator is seeded, so
    every engine gets the same articles); seconds."""
    started = time.perf_counter()
    engine = open_engine(url)
    load = (PgLoad if engine.dialect.name == "postgresql" else SqliteLoad)(engine)
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    load.sources([{"id": i + 1, "name": src, "created_at": now} for i, src in enumerate(search_bench.SOURCES)])
    done = 0
    for rows in articles(n):
        load.add(rows, *analysed(rows, engine.dialect.name))
        done += len(rows)
        if done % BATCH == 0:
            print(f"  {engine.dialect.name}: {done}/{n} ({done / (time.perf_counter() - started):.0f}/s)", file=sys.stderr)
    load.finish()
    engine.dispose()
    return time.perf_counter() - started


def build(engines: dict[str, Engine], n: int) -> dict[str, float]:
    """Load the N articles into every engine, each by a process of its own, side by side; seconds
    each took (analysis included)."""
    urls = {name: e.url.render_as_string(hide_password=False) for name, e in engines.items()}
    with ProcessPoolExecutor(max(1, len(urls))) as pool:
        futures = {name: pool.submit(fill, url, n) for name, url in urls.items()}
        return {name: future.result() for name, future in futures.items()}


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


def run(n: int, pg_url: str | None = None, *, rounds: int = 5, folder: Path | None = None,
        keep: Path | None = None) -> dict[str, Any]:
    """Build N articles into SQLite and PostgreSQL and time the query set on both; the figures:
    ``{"articles", "build_s": {engine: s}, "settle_s", "latency": {case: {engine: figures}},
    "per_query_p95_ms": {case: {engine: {query: ms}}}}``.  ``keep``: the SQLite file to fill once
    and reuse (with ``pg_url``, a PostgreSQL database that holds the N articles is reused too)."""
    with tempfile.TemporaryDirectory(prefix="akhbar-scale-", dir=folder) as tmp, postgresql(pg_url) as pg:
        path = keep or Path(tmp) / "scale.db"
        engines = {"sqlite": open_engine(f"sqlite:///{path}"), "postgresql": open_engine(pg)}
        try:
            empty = to_build(engines, n)
            report: dict[str, Any] = {"articles": n,
                                      "build_s": {k: round(v, 1) for k, v in build(empty, n).items()}}
            report["settle_s"] = round(settle(empty), 1)
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
    lines = [f"articles: {report['articles']}; build s (writes): "
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
    parser.add_argument("--rounds", type=int, default=5, help="runs of each query (at least 2)")
    parser.add_argument("--keep", type=Path, default=None, metavar="PATH",
                        help="the SQLite file to fill once and reuse on later runs (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout (the table on stderr)")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (a p95 needs two runs)")
    report = run(args.n, args.pg_url, rounds=args.rounds, keep=args.keep)
    print(table(report), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
