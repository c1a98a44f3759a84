"""Search benchmark: latency, export speed, archive size, and recall/precision on the labelled set.

    python bench/search.py                 # 200,000 synthetic articles
    python bench/search.py --n 20000 --keep /tmp/bench20k.db [--json]
    python bench/search.py --keep /tmp/bench200k.db --only library,stories,http   # latency alone

``--keep PATH`` builds the archive at PATH once and reuses it on later runs (it must hold --n
articles); without it the archive is built in a temporary directory and removed afterwards.

The archive is built from the real Arabic texts of tests/fixtures/search/articles.json (copied from
../shared): each synthetic article is 8-24 sentences drawn from them, with a title, one of 12
sources, a day in 2023-2024, a section and an author, stored through storage.bulk.add_articles
(the batch form of storage.archive.add_article: the same rows, index rows and near-duplicate
clusters a crawl writes, a few thousand articles a transaction).  Then it prints:

* median and 95th percentile latency of a fixed query set (search, 20 hits with snippets), without
  filters and with a source + date-range filter, through the library (``library``: storage.search.search,
  every article; ``stories``: storage.collapse.search_stories, one hit per story, the work /api/search
  does by default) and through the HTTP API (``akhbar serve`` started on 127.0.0.1 on the same
  archive, ``GET /api/search`` with urllib): ``http`` minus ``stories`` is the web layer's cost;
* export rows per second (export_rows of every article of one source, written as JSONL);
* archive bytes per article against the stored text's bytes as published (title + text, UTF-8,
  whatever SQLite holds: the text is zlib-compressed there, storage.textzip), and each table's
  and index's bytes per article (dbstat);
* recall and precision on the labelled set (tests/fixtures/search/labelled.json) in its own archive.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crawler.cli.query import write_export  # noqa: E402
from crawler.core.arabic import content_hash  # noqa: E402
from crawler.core.article import Article  # noqa: E402
from storage import add_article, open_engine  # noqa: E402
from storage.bulk import add_articles  # noqa: E402
from storage.collapse import search_stories  # noqa: E402
from storage.models import ArticleRecord  # noqa: E402
from storage.search import Filters, export_rows, search  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "search"
SOURCES = [f"source{i:02d}" for i in range(12)]
SECTIONS = ["سياسة", "اقتصاد", "ثقافة", "رياضة", "منوعات", "دولي"]
AUTHORS = ["سارة علي", "أحمد حسن", "محمد سالم", "ليلى يوسف", None]
QUERIES = [
    "الحكومة",
    "وزارة",
    "بالمعارضة",
    "الانتخابات",
    '"وكالة الأنباء"',
    "سوريا OR لبنان",
    "الفيلم -مصر",
    "انتخاب*",
    "title:الحكومة",
    "معرض الفنون",
    "(الأسد OR النظام) القوات",
    "للاستثمار",
]
FILTERS = Filters(sources=("source03", "source07"), since=date(2024, 3, 1), until=date(2024, 8, 31))
#: The same filter as /api/search's parameters (crawler/web/app.py's Ask).
HTTP_FILTERS = [("source", "source03"), ("source", "source07"), ("since", "2024-03-01"), ("until", "2024-08-31")]
#: The parts of a run (--only).
PARTS = ("size", "library", "stories", "http", "export", "labelled")
#: urllib without any proxy from the environment: the bench talks to 127.0.0.1 only.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sentences() -> list[str]:
    pool: list[str] = []
    for art in json.loads((FIXTURES / "articles.json").read_text("utf-8")):
        for piece in re.split(r"(?<=[.!؟?])\s+|\n+", art["text"]):
            if len(piece.split()) >= 5:
                pool.append(piece.strip())
    return pool


def synthetic(rng: random.Random, pool: list[str], i: int) -> tuple[Article, str]:
    body = "\n".join(" ".join(rng.sample(pool, 2)) for _ in range(rng.randint(4, 12)))
    title = " ".join(rng.choice(pool).split()[:8])
    day = date(2023, 1, 1) + timedelta(days=rng.randrange(730))
    source = rng.choice(SOURCES)
    body = f"{body}\n({i})"  # every article distinct
    article = Article(url=f"https://{source}.example/{i}", title=title, text=body, content_hash=content_hash(body),
                      published=day.isoformat(), section=rng.choice(SECTIONS), author=rng.choice(AUTHORS), lang="ar")
    return article, source


def build(path: Path, n: int, batch: int = 5000, workers: int = 2) -> int:
    rng = random.Random(14)
    pool = sentences()
    engine = open_engine(f"sqlite:///{path}")
    text_bytes = 0
    started = time.perf_counter()

    def articles() -> Iterator[tuple[Article, str]]:
        nonlocal text_bytes
        for i in range(n):
            article, source = synthetic(rng, pool, i)
            text_bytes += len(article.text.encode()) + len((article.title or "").encode())
            yield article, source

    with Session(engine) as s, ProcessPoolExecutor(max(1, workers)) as workers_pool:
        analyse = partial(workers_pool.map, chunksize=25) if workers > 1 else map
        for done, _ in enumerate(add_articles(s, articles(), map=analyse), 1):
            if done % batch == 0:
                s.commit()
                print(f"\r  built {done}/{n} ({done / (time.perf_counter() - started):.0f}/s)", end="", file=sys.stderr)
        s.commit()
        s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    print(file=sys.stderr)
    engine.dispose()
    return text_bytes


#: CPU milliseconds of each timed library search, by (way, case), filled by :func:`latencies`:
#: on a shared machine the wall clock measures the load as well, the process's CPU time less so.
CPU: dict[tuple[str, str], list[float]] = {}


def latencies(engine, filters: Filters | None, rounds: int, find=search, cpu: list[float] | None = None) -> list[float]:
    """Milliseconds of each run of each query through ``find`` (``search``: every article;
    ``search_stories``: one hit per story, what /api/search answers by default); the CPU time of
    each run is appended to ``cpu``."""
    times = []
    with Session(engine) as s:
        for query in QUERIES:
            find(s, query, filters=filters)  # warm the page cache
            for _ in range(rounds):
                t, c = time.perf_counter(), time.process_time()
                find(s, query, filters=filters)
                times.append((time.perf_counter() - t) * 1000)
                if cpu is not None:
                    cpu.append((time.process_time() - c) * 1000)
    return times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(base: str, params: list[tuple[str, str]]) -> bytes:
    with LOCAL.open(f"{base}/api/search?{urllib.parse.urlencode(params)}", timeout=60) as reply:
        return bytes(reply.read())


@contextmanager
def served(path: Path, wait: float = 60.0) -> Iterator[str]:
    """`akhbar serve` on 127.0.0.1 on the archive at ``path``; yields its base URL, stops it on the way out."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", "serve", "--db", f"sqlite:///{path}",
                             "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"akhbar serve stopped: {(proc.stderr.read() if proc.stderr else '').strip()}")
            try:
                get(base, [("q", "")])
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"akhbar serve did not answer on {base} within {wait:.0f} s") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def http_latencies(base: str, filters: list[tuple[str, str]], rounds: int) -> list[float]:
    times = []
    for query in QUERIES:
        params = [("q", query), *filters]
        get(base, params)  # warm the page cache
        for _ in range(rounds):
            t = time.perf_counter()
            get(base, params)
            times.append((time.perf_counter() - t) * 1000)
    return times


def figures(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(p95(times), 2),
            "max_ms": round(max(times), 2)}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def export_speed(engine) -> tuple[int, float]:
    with Session(engine) as s, open(os.devnull, "w", encoding="utf-8") as sink:
        t = time.perf_counter()
        rows = write_export(export_rows(s, "", filters=Filters(sources=("source05",))), sink, "jsonl")
        return rows, rows / (time.perf_counter() - t)


def index_bytes(engine) -> int | None:
    with engine.connect() as c:
        try:
            return int(c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'")).scalar_one())
        except Exception:  # dbstat not compiled in
            return None


def published_bytes(engine) -> int:
    """UTF-8 bytes of every article's title and text as published (read through the model, so a
    text held zlib-compressed counts at its own length: storage.textzip)."""
    total = 0
    with Session(engine) as s:
        rows = s.execute(select(ArticleRecord.title, ArticleRecord.text).execution_options(yield_per=5000))
        for chunk in rows.partitions():
            total += sum(len(body.encode()) + len((title or "").encode()) for title, body in chunk)
    return total


def table_bytes(engine) -> dict[str, int]:
    """Bytes of each table and index of the file, largest first (SQLite's dbstat; {} without it);
    the index's shadow tables summed as ``articles_fts*``."""
    with engine.connect() as c:
        try:
            rows = c.execute(text("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")).all()
        except Exception:  # dbstat not compiled in
            return {}
    sizes: dict[str, int] = {}
    for name, size in rows:
        key = "articles_fts*" if name.startswith("articles_fts") else name
        sizes[key] = sizes.get(key, 0) + int(size)
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def articles_in(path: Path) -> int:
    engine = open_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM articles")).scalar_one())
    finally:
        engine.dispose()


def labelled(path: Path) -> dict[str, float]:
    articles = json.loads((FIXTURES / "articles.json").read_text("utf-8"))
    pairs = json.loads((FIXTURES / "labelled.json").read_text("utf-8"))
    engine = open_engine(f"sqlite:///{path}")
    ids = {}
    with Session(engine) as s:
        for art in articles:
            ids[art["key"]] = add_article(s, Article(url=art["key"], title=art["title"], text=art["text"],
                                                    content_hash=content_hash(art["text"]))).article_id
        s.commit()
        found = {i: ids[p["article"]] in {h.id for h in search(s, p["query"], limit=len(ids))} for i, p in enumerate(pairs)}
    engine.dispose()
    share = {}
    for kind in ("clitic", "inflection"):
        chosen = [i for i, p in enumerate(pairs) if p["kind"] == kind]
        share[f"recall {kind}"] = sum(found[i] for i in chosen) / len(chosen)
    negatives = [i for i, p in enumerate(pairs) if not p["match"]]
    false_pos = sum(found[i] for i in negatives)
    true_pos = sum(found[i] for i, p in enumerate(pairs) if p["match"])
    share["look-alikes found"] = false_pos / len(negatives)
    share["precision"] = true_pos / (true_pos + false_pos)
    return share


def sizes(engine, path: Path, out) -> dict[str, object]:
    """Archive bytes per article against the text as published (title + text, UTF-8, decompressed),
    the bytes the text is held in, and dbstat's bytes per table: printed and returned."""
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM articles")).scalar_one()
        held = c.execute(text("SELECT sum(length(CAST(text AS BLOB))) FROM articles")).scalar_one()
    stored = published_bytes(engine)
    size = path.stat().st_size
    fts = index_bytes(engine)
    report: dict[str, object] = {
        "articles": n, "archive_bytes_per_article": round(size / n), "stored_bytes_per_article": round(stored / n),
        "held_text_bytes_per_article": round(held / n), "archive_ratio": round(size / stored, 3),
        "index_bytes_per_article": round(fts / n) if fts else None}
    print(f"articles: {n}", file=out)
    print(f"archive: {size / n:.0f} bytes/article; stored text {stored / n:.0f} bytes/article as published "
          f"(title + text, UTF-8; the text held in {held / n:.0f}); ratio {size / stored:.2f}x"
          + (f"; index {fts / n:.0f} bytes/article" if fts else ""), file=out)
    tables = table_bytes(engine)
    if tables:
        report["table_bytes_per_article"] = {name: round(b / n) for name, b in tables.items()}
        print("dbstat, bytes/article: " + ", ".join(f"{name} {b / n:.0f}" for name, b in tables.items() if b >= n),
              file=out)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="synthetic articles (default 200,000)")
    parser.add_argument("--keep", type=Path, default=None, metavar="PATH",
                        help="build the archive at PATH once and reuse it on later runs (default: a temporary one)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each query")
    parser.add_argument("--workers", type=int, default=2, help="processes analysing articles while building")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout (the text on stderr)")
    parser.add_argument("--only", default=",".join(PARTS), metavar="PARTS",
                        help=f"run only these parts, comma-separated, of: {', '.join(PARTS)} (default: all)")
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    if not parts <= set(PARTS):
        parser.error(f"--only takes {', '.join(PARTS)}, not {', '.join(sorted(parts - set(PARTS)))}")
    out = sys.stderr if args.json else sys.stdout
    report: dict[str, object] = {}
    tmp = Path(tempfile.mkdtemp(prefix="akhbar-bench-"))
    path = args.keep or tmp / "bench.db"
    if path.exists() and path.stat().st_size > 0:
        held = articles_in(path)
        if held != args.n:
            raise SystemExit(f"{path} holds {held} articles, not --n {args.n}: remove it or give another PATH")
        print(f"reusing {path}", file=out)
    else:
        t = time.perf_counter()
        build(path, args.n, workers=args.workers)
        report["build_s"] = round(time.perf_counter() - t, 1)
        print(f"built {args.n} articles in {time.perf_counter() - t:.0f} s", file=out)
    engine = open_engine(f"sqlite:///{path}")
    if "size" in parts:
        report.update(sizes(engine, path, out))
    cases: tuple[tuple[str, Filters | None, list[tuple[str, str]]], ...] = (("no filters", None, []), ("source+dates", FILTERS, HTTP_FILTERS))
    ways: dict[str, dict[str, list[float]]] = {}
    if "library" in parts:
        ways["library"] = {label: latencies(engine, filters, args.rounds, search, CPU.setdefault(("library", label), []))
                           for label, filters, _ in cases}
    if "stories" in parts:
        ways["stories"] = {label: latencies(engine, filters, args.rounds, search_stories,
                                            CPU.setdefault(("stories", label), []))
                           for label, filters, _ in cases}
    if "http" in parts:
        with served(path) as base:
            ways["http"] = {label: http_latencies(base, params, args.rounds) for label, _, params in cases}
    names = {"library": "library", "stories": "library_stories", "http": "http"}
    if ways:
        report["latency"] = {label: {names[way]: figures(times[label]) for way, times in ways.items()}
                             for label, _, _ in cases}
        report["cpu"] = {label: {names[way]: figures(CPU[(way, label)]) for way in ways if (way, label) in CPU}
                         for label, _, _ in cases}
    for label, _, _ in cases:
        for way, times in ways.items():
            cpu = CPU.get((way, label))
            print(f"latency {label:<13} {way:<8} median {statistics.median(times[label]):6.1f} ms"
                  f"  p95 {p95(times[label]):6.1f} ms  max {max(times[label]):6.1f} ms"
                  + (f"  (CPU median {statistics.median(cpu):5.1f} ms, p95 {p95(cpu):5.1f} ms)" if cpu else ""), file=out)
    if "export" in parts:
        rows, speed = export_speed(engine)
        report["export"] = {"rows": rows, "rows_per_s": round(speed)}
        print(f"export: {rows} rows at {speed:.0f} rows/s", file=out)
    engine.dispose()
    if "labelled" in parts:
        report["labelled"] = shares = labelled(tmp / "labelled.db")
        for key, value in shares.items():
            print(f"labelled set: {key} {value:.3f}", file=out)
    if args.keep is None:
        path.unlink()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
