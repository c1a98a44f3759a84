"""Page type (article or not) on the labelled set in tests/fixtures/pagetype/.

    python bench/pagetype.py [--show-errors]

Prints precision and recall of "is an article" (positives: articles), the confusion of labelled
kind against the verdict's kind, and the time per page.
"""
from __future__ import annotations

import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.core.pagetype import PageType, classify_bytes  # noqa: E402

SET = ROOT / "tests" / "fixtures" / "pagetype"


def labelled() -> list[tuple[dict, bytes]]:
    items = []
    for item in json.loads((SET / "labels.json").read_text("utf-8")):
        data = (SET / "pages" / item["file"]).read_bytes()
        items.append((item, gzip.decompress(data) if item["file"].endswith(".gz") else data))
    return items


def run() -> tuple[list[tuple[dict, PageType]], float]:
    results, spent = [], 0.0
    for item, data in labelled():
        start = time.perf_counter()
        verdict = classify_bytes(data, item["url"], text=item["file"].endswith(".txt"))
        spent += time.perf_counter() - start
        results.append((item, verdict))
    return results, spent


def scores(results) -> tuple[float, float]:
    tp = sum(1 for item, v in results if item["kind"] == "article" and v.is_article)
    fp = sum(1 for item, v in results if item["kind"] != "article" and v.is_article)
    fn = sum(1 for item, v in results if item["kind"] == "article" and not v.is_article)
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1)


def main() -> None:
    results, spent = run()
    precision, recall = scores(results)
    articles = sum(1 for item, _ in results if item["kind"] == "article")
    print(f"{len(results)} pages ({articles} articles, {len(results) - articles} not): "
          f"precision {precision:.3f}  recall {recall:.3f}  ({1000 * spent / len(results):.1f} ms/page)")
    confusion = Counter((item["kind"], v.kind) for item, v in results)
    kinds = sorted({k for pair in confusion for k in pair})
    print("labelled \\ verdict  " + " ".join(f"{k[:8]:>8}" for k in kinds))
    for row in kinds:
        print(f"{row:18} " + " ".join(f"{confusion.get((row, col), 0) or '.':>8}" for col in kinds))
    if "--show-errors" in sys.argv:
        for item, v in results:
            if (item["kind"] == "article") != v.is_article or item["kind"] != v.kind:
                print(f"  {item['file']}: labelled {item['kind']}, got {v.kind}: {v.reason}")


if __name__ == "__main__":
    main()
