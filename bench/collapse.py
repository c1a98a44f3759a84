"""What folding near-duplicates costs a search: storage.collapse against storage.search.

    python bench/collapse.py --n 20000 [--db /tmp/collapse.db --keep] [--rounds 5] [--json]

The archive is bench/search.py's synthetic one (real Arabic sentences, 12 sources), plus a
near-copy of every tenth article at another source (one word changed), so clusters exist.  Prints
the median and 95th percentile latency of bench/search.py's query set (20 hits with snippets,
without and with its source + date filter) for search (every article) and search_stories (one
hit per story), their ratio, and the same for counting per month.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crawler.core.arabic import content_hash  # noqa: E402
from crawler.core.article import Article  # noqa: E402
from search import FILTERS, QUERIES, SOURCES, build  # type: ignore[import-not-found]  # noqa: E402
from storage import add_article, open_engine  # noqa: E402
from storage.collapse import count_stories, search_stories  # noqa: E402
from storage.models import ArticleRecord  # noqa: E402
from storage.search import count, search  # noqa: E402


def add_copies(path: Path, every: int = 10) -> int:
    """A near-copy (one word changed, another source) of every ``every``-th article."""
    engine = open_engine(f"sqlite:///{path}")
    rng = random.Random(13)
    added = 0
    with Session(engine) as s:
        originals = s.query(ArticleRecord).filter(ArticleRecord.id % every == 0).all()
        for record in originals:
            words = record.text.split()
            words[rng.randrange(len(words))] = "منقول"
            body = " ".join(words)
            copy = Article(url=f"https://copy.example/{record.id}", title=record.title, text=body,
                           content_hash=content_hash(body), published=record.published, lang="ar")
            add_article(s, copy, source=rng.choice(SOURCES))
            added += 1
        s.commit()
    engine.dispose()
    return added


def timed(fn, rounds: int) -> list[float]:
    fn()  # warm the page cache
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def figures(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2)}


def measure(path: Path, rounds: int) -> dict[str, dict[str, float]]:
    engine = open_engine(f"sqlite:///{path}", create=False)
    result: dict[str, dict[str, float]] = {}
    with Session(engine) as s:
        for label, filters in (("plain", None), ("filtered", FILTERS)):
            finders: list[tuple[str, Any]] = [("search", search), ("stories", search_stories), ("count", count),
                                              ("count_stories", count_stories)]
            for name, fn in finders:
                times = [t for q in QUERIES for t in timed(lambda q=q: fn(s, q, filters=filters), rounds)]
                result[f"{name}_{label}"] = figures(times)
            for ratio, (base, other) in (("search", ("search", "stories")), ("count", ("count", "count_stories"))):
                slow, fast = result[f"{other}_{label}"]["median_ms"], result[f"{base}_{label}"]["median_ms"]
                result[f"{ratio}_ratio_{label}"] = {"median": round(slow / fast, 2) if fast else float("nan")}
        folded = s.execute(text("SELECT count(*) FROM (SELECT cluster_id FROM articles GROUP BY cluster_id "
                                "HAVING count(*) > 1)")).scalar()
        result["clusters_with_copies"] = {"count": float(folded or 0)}
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="reuse --db if it exists, and keep it")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.TemporaryDirectory() if args.db is None else None
    path = args.db or Path(workdir.name) / "collapse.db"  # type: ignore[union-attr]
    if not (args.keep and path.exists()):
        build(path, args.n)
        print(f"  added {add_copies(path)} near-copies", file=sys.stderr)
    result = {"n": args.n, **measure(path, args.rounds)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")
    if workdir is not None:
        workdir.cleanup()


if __name__ == "__main__":
    main()
