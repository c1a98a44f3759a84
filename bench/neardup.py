"""Near-duplicates: precision/recall on the labelled pairs, and the archive index at scale.

    python bench/neardup.py [--n 100000] [--db PATH]

1. The labelled pairs (tests/fixtures/neardup/pairs.json.gz): precision and recall of "same
   story" through the LSH index, at the chosen threshold and around it.
2. N synthetic Arabic articles (words drawn from the shared set's Arabic texts, 5 % of them
   retellings of an earlier one) go through storage.neardup.cluster_article in a SQLite archive,
   committed every 1,000: articles per second (signature + query + index), memory growth, and disk
   per article of the index tables.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crawler.core.neardup import BANDS, ROWS, THRESHOLD, MemoryIndex, signature, similarity, words  # noqa: E402
from storage import open_engine  # noqa: E402
from storage.models import ArticleRecord  # noqa: E402
from storage.neardup import cluster_article  # noqa: E402

PAIRS = ROOT / "tests" / "fixtures" / "neardup" / "pairs.json.gz"


def labelled() -> None:
    pairs = json.loads(gzip.decompress(PAIRS.read_bytes()))
    scored = []
    for pair in pairs:
        a, b = signature(pair["a"]), signature(pair["b"])
        index = MemoryIndex(threshold=0.0)
        index.add(1, a)
        scored.append((bool(index.query(b)), similarity(a, b), pair["same"], pair["kind"]))
    print(f"labelled pairs: {len(pairs)} ({sum(p['same'] for p in pairs)} same story); "
          f"LSH {BANDS} bands x {ROWS} rows")
    for t in (0.2, 0.3, THRESHOLD, 0.5, 0.6):
        tp = sum(c and s >= t and y for c, s, y, _ in scored)
        fp = sum(c and s >= t and not y for c, s, y, _ in scored)
        fn = sum(y and not (c and s >= t) for c, s, y, _ in scored)
        mark = "  <- chosen" if t == THRESHOLD else ""
        print(f"  threshold {t:.2f}: precision {tp / ((tp + fp) or 1):.3f}  recall {tp / ((tp + fn) or 1):.3f}{mark}")
    missed = Counter(k for c, s, y, k in scored if y and not (c and s >= THRESHOLD))
    worst = max((s for c, s, y, _ in scored if not y), default=0)
    print(f"  missed by kind: {dict(missed) or 'none'}; most similar different stories: {worst:.2f}")


def synthetic(n: int, rng: random.Random) -> list[str]:
    pairs = json.loads(gzip.decompress(PAIRS.read_bytes()))
    vocab = sorted({w for p in pairs for w in words(p["a"])})
    weights = [1 / (i + 1) for i in range(len(vocab))]  # Zipf-like
    rng.shuffle(vocab)
    out: list[str] = []
    for i in range(n):
        if out and rng.random() < 0.05:  # a retelling: an earlier story with a sentence more
            base = rng.choice(out[-5000:])
            out.append(base + " " + " ".join(rng.choices(vocab, weights, k=25)))
        else:
            out.append(" ".join(rng.choices(vocab, weights, k=rng.randint(150, 450))))
    return out


def rss_mb() -> float:
    """The resident set now (Linux), else the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def index_size(engine) -> int | None:
    names = ("neardup_bands", "neardup_signatures")
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
        except Exception:  # SQLite built without dbstat
            return None
    return sum(size for name, size in rows if name in names or name.startswith("sqlite_autoindex_neardup"))


def at_scale(n: int, db: Path, cache_mb: int = 0) -> None:
    rng = random.Random(3)
    texts = synthetic(n, rng)
    engine = open_engine(f"sqlite:///{db}")
    seen = datetime(2024, 1, 1)
    with Session(engine) as s:  # the articles themselves (not timed; empty text keeps the file small)
        s.execute(insert(ArticleRecord), [
            {"id": i + 1, "content_hash": f"{i:064x}", "text": "", "first_seen": seen, "last_seen": seen,
             "times_seen": 1, "tags": []} for i in range(n)])
        s.commit()
    before = rss_mb()
    sig_time = total = 0.0
    clustered = 0
    with Session(engine) as s:
        if cache_mb:  # SQLite's page cache (default 2 MB): the band table is written at random places
            s.connection().exec_driver_sql(f"PRAGMA cache_size = -{cache_mb * 1024}")
        start, cpu = time.perf_counter(), time.process_time()
        for i, body in enumerate(texts, 1):
            t0 = time.perf_counter()
            sig = signature(body)
            sig_time += time.perf_counter() - t0
            clustered += cluster_article(s, i, sig=sig).cluster_id != i
            if i % 1000 == 0:
                s.commit()
            if i % 20000 == 0:
                print(f"  {i:>7} articles: {i / (time.perf_counter() - start):,.0f}/s", flush=True)
        s.commit()
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = index_size(engine)
    engine.dispose()
    print(f"at scale ({'SQLite page cache ' + str(cache_mb) + ' MB' if cache_mb else 'default SQLite page cache'}): "
          f"{n:,} synthetic articles, {total:.1f} s: {n / total:,.0f} articles/s "
          f"(signature {1e6 * sig_time / n:.0f} us, query + index {1e6 * (total - sig_time) / n:.0f} us per article)")
    print(f"  CPU time of this process: {cpu:.1f} s: {n / cpu:,.0f} articles per CPU-second "
          "(the wall-clock figure counts the machine's other load too)")
    print(f"  joined a cluster: {clustered:,} (about 5 % are retellings)")
    after = rss_mb()
    print(f"  memory: resident {before:.0f} MB before indexing (the synthetic texts), {after:.0f} MB after: "
          f"{1024 * (after - before) / n:.2f} KB per article (the index lives in the archive)")
    if size is not None:
        print(f"  disk: index tables {size / 2**20:.1f} MB, {size / n:,.0f} bytes per article "
              f"({BANDS} band rows + a {4 * 128}-byte signature)")
    print(f"  archive file: {db.stat().st_size / 2**20:.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--cache-mb", type=int, default=0, help="SQLite page cache for the indexing session")
    args = ap.parse_args()
    labelled()
    with tempfile.TemporaryDirectory() as tmp:
        at_scale(args.n, args.db or Path(tmp) / "bench.db", args.cache_mb)


if __name__ == "__main__":
    main()
