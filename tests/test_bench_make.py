"""`make bench` runs every benchmark of bench/ (the helpers it imports are not benchmarks)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: bench/ modules that are parts of benchmarks or tools, not benchmarks of their own.
# scale_search.py is run by scale.py (its search half, `--search-n`).
NOT_BENCHMARKS = {"site.py", "plain_spider.py", "snapshot.py", "__init__.py", "scale_search.py"}


def _bench_recipe() -> str:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^bench:.*\n((?:\t.*\n)+)", text, re.M)
    assert match, "no bench target in the Makefile"
    return match.group(1)


def test_make_bench_runs_every_benchmark():
    recipe = _bench_recipe()
    run = set(re.findall(r"bench/(\w+\.py)", recipe))
    benchmarks = {p.name for p in (ROOT / "bench").glob("*.py")} - NOT_BENCHMARKS
    assert benchmarks <= run, f"not run by make bench: {sorted(benchmarks - run)}"
    assert run <= benchmarks | NOT_BENCHMARKS, f"make bench runs what is not in bench/: {sorted(run - benchmarks)}"


def test_make_bench_gives_the_big_benchmarks_sizes_that_finish():
    recipe = _bench_recipe()
    for script in ("neardup.py", "search.py"):  # their defaults (100,000 and 200,000 articles) take hours here
        (line,) = [line for line in recipe.splitlines() if f"bench/{script}" in line]
        assert "--n " in line, line
