"""A long crawl in one process: does akhbar's memory stay flat?

Serves a generated site (bench/site.py) of ``--pages`` sitemap entries (default 20,000) on
127.0.0.1 and runs one ``akhbar crawl`` of it (politeness off, as bench/crawl.py) in a
subprocess.  The parent counts the article pages the site has served and, every ``--every``
pages (default 1,000), reads the crawl process's resident memory (VmRSS in /proc/PID/status) and
prints it.  At the end: the RSS after warm-up (the first ``--warmup`` pages; default 2,000, or a
tenth of the site if smaller), the RSS at the end, the growth between them, per 1,000 pages
(least squares over the samples after warm-up), and the crawl's own report.

    python bench/soak.py [--pages 20000] [--every 1000] [--concurrency 16] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crawl import akhbar_command, judge, run_measured, stored_urls  # noqa: E402
from bench.site import REALPAGES, GeneratedSite, SiteDataMissing  # noqa: E402


def vm_rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Sampler:
    """Called while the crawl runs: one RSS sample each time the site has served ``every`` more pages."""

    def __init__(self, site: GeneratedSite, every: int, quiet: bool) -> None:
        self.site, self.every, self.quiet = site, every, quiet
        self.samples: list[tuple[int, float, float]] = []  # pages served, RSS MB, seconds
        self.started = time.perf_counter()

    def __call__(self, pid: int) -> None:
        served = self.site.article_requests
        if served < (len(self.samples) + 1) * self.every:
            return
        rss = vm_rss_mb(pid)
        if rss is None:
            return
        sample = (served, rss, time.perf_counter() - self.started)
        self.samples.append(sample)
        if not self.quiet:
            print(f"{served:>7} pages  RSS {rss:7.1f} MB  {sample[2]:7.1f} s  {served / sample[2]:6.1f} pages/s",
                  flush=True)


def growth(samples: list[tuple[int, float, float]], warmup: int) -> dict[str, float | None]:
    """RSS after warm-up and at the end, and the growth per 1,000 pages after warm-up (least squares)."""
    after = [(n, rss) for n, rss, _ in samples if n >= warmup]
    if len(after) < 2:
        return {"rss_after_warmup_mb": after[0][1] if after else None, "rss_end_mb": after[-1][1] if after else None,
                "growth_mb": None, "growth_mb_per_1000_pages": None}
    mean_n = sum(n for n, _ in after) / len(after)
    mean_r = sum(r for _, r in after) / len(after)
    slope = sum((n - mean_n) * (r - mean_r) for n, r in after) / sum((n - mean_n) ** 2 for n, _ in after)
    return {"rss_after_warmup_mb": after[0][1], "rss_end_mb": after[-1][1], "growth_mb": after[-1][1] - after[0][1],
            "growth_mb_per_1000_pages": slope * 1000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000, help="sitemap entries of the generated site (default 20000)")
    ap.add_argument("--every", type=int, default=1000, help="print RSS every N pages served (default 1000)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="pages before growth is measured (default 2000, or a tenth of a smaller site)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--realpages", type=Path, default=REALPAGES)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        site = GeneratedSite(pages=args.pages, seed=args.seed, realpages=args.realpages)
    except SiteDataMissing as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    warmup = args.warmup if args.warmup is not None else min(2000, args.pages // 10)
    sampler = Sampler(site, args.every, args.json)
    with site, tempfile.TemporaryDirectory(prefix="akhbar-soak-") as tmp:
        cmd, db = akhbar_command(site, Path(tmp), args.concurrency)
        run = run_measured(cmd, site, Path(tmp) / "crawl.log", watch=sampler)
        stored = judge(site, stored_urls(db, "akhbar")) if db.exists() else {}
        failed = run["exit"] != 0 and (Path(tmp) / "crawl.log").read_text(errors="replace").strip()[-500:]
    report = {"site": site.counts, **run, **growth(sampler.samples, warmup), "warmup_pages": warmup,
              "samples": [{"pages": n, "rss_mb": round(r, 1), "seconds": round(s, 1)} for n, r, s in sampler.samples],
              **stored}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(_summary(report))
    if failed:
        print(f"soak: the crawl exited {run['exit']}: {failed}", file=sys.stderr)
    return 0 if run["exit"] == 0 else 1


def _summary(r: dict) -> str:
    def mb(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} MB"

    per = r["growth_mb_per_1000_pages"]
    return (f"{r['article_fetches']} article pages in {r['wall_s']:.0f} s "
            f"({r['article_fetches'] / r['wall_s']:.1f} pages/s), CPU {r['cpu_s']:.0f} s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB; stored {r.get('stored', 0)}, duplicates {r.get('duplicates', '-')}\n"
            f"RSS after warm-up ({r['warmup_pages']} pages) {mb(r['rss_after_warmup_mb'])}, at the end "
            f"{mb(r['rss_end_mb'])}: growth {mb(r['growth_mb'])}"
            + ("" if per is None else f" ({per:+.2f} MB per 1,000 pages)"))


if __name__ == "__main__":
    sys.exit(main())
