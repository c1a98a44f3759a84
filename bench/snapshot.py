"""Snapshot of what the extraction core answers, to show that a change (a speed-up) changed nothing.

Runs ``extract()`` over every HTML page of ../shared/realpages, tests/fixtures and the seeds, each
without a URL and with one news-like URL, at a fixed fetch time, and writes every field of every
answer (or the one-line error) as JSON.  Compare two snapshots to list the cases that differ.

    python bench/snapshot.py write before.json      # on the old code
    python bench/snapshot.py write after.json       # on the new code
    python bench/snapshot.py compare before.json after.json
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
from datetime import datetime
from pathlib import Path

from crawler.core.extract import extract

ROOT = Path(__file__).resolve().parent.parent
FETCHED = datetime(2026, 1, 10, 12)
URLS = (None, "https://www.example.com/news/2024/05/20/story-123.html")


def inputs(realpages: Path) -> list[Path]:
    found = set(realpages.rglob("*.htm*")) | set((ROOT / "tests" / "fixtures").rglob("*.htm*"))
    found |= set((ROOT / "seeds").glob("*.txt"))
    return sorted(found)


def snapshot(realpages: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in inputs(realpages):
        data = path.read_bytes()
        name = path.name
        if name.endswith(".gz"):
            data, name = gzip.decompress(data), name.removesuffix(".gz")
        for url in URLS:
            key = f"{path.relative_to(path.anchor)}|{url}"
            try:
                article = extract(data, url, name=name, fetched_at=FETCHED)
            except ValueError as exc:
                out[key] = f"error: {exc}"
                continue
            out[key] = {k: str(v) for k, v in dataclasses.asdict(article).items()}
    return out


def compare(before: dict, after: dict) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        lines.append(key)
        if isinstance(a, dict) and isinstance(b, dict):
            lines += [f"    {f}: {a.get(f)!r:.120} -> {b.get(f)!r:.120}" for f in sorted(set(a) | set(b))
                      if a.get(f) != b.get(f)]
        else:
            lines.append(f"    {a!r:.120} -> {b!r:.120}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--realpages", type=Path, default=ROOT.parent / "shared" / "realpages")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "write":
        snap = snapshot(args.realpages)
        try:
            args.out.write_text(json.dumps(snap, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
        except OSError as exc:
            print(f"snapshot: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"{len(snap)} cases written to {args.out}")
        return 0
    try:
        before, after = (json.loads(path.read_text(encoding="utf-8")) for path in (args.before, args.after))
    except (OSError, ValueError) as exc:
        print(f"snapshot: cannot read a snapshot: {exc}", file=sys.stderr)
        return 2
    diff = compare(before, after)
    print("\n".join(diff) if diff else f"{len(before)} cases, none differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
