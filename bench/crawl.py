"""akhbar's crawl against a plain Scrapy + trafilatura spider, on the same generated site, side by side.

Serves a generated Arabic news site (bench/site.py) on 127.0.0.1 and crawls it from its sitemap
index twice, each crawler in its own subprocess, politeness off (no robots.txt, no delay, no
AutoThrottle) and the same concurrency:

  * akhbar: ``akhbar crawl`` on a sources file naming the sitemap index, into a temporary archive
    (with its WARC capture, as it always runs);
  * plain:  bench/plain_spider.py, a SitemapSpider that calls ``trafilatura.extract`` and inserts
    into a SQLite table with a UNIQUE URL.

For each: wall time, site entries covered per second (the same sitemap for both), article pages
fetched, CPU seconds and peak RSS of the crawl process (``os.wait4``'s rusage of that child) and of
all its processes (sampled from ``/proc``: akhbar's extraction workers), and
what it stored against the site's truth: articles stored, distinct texts among them, duplicates
let through (stored - distinct), near-duplicates and English pages stored, texts missed.

    python bench/crawl.py [--pages 1000] [--concurrency 16] [--delay 0] [--rounds 1] [--json]

With ``--rounds N`` both crawl N times, the first alternating, and each round's ratio is printed with
their median: on a shared machine one pair of runs moves by a tenth or more from the next.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.site import REALPAGES, GeneratedSite, SiteDataMissing  # noqa: E402


def politeness_off(concurrency: int) -> dict[str, object]:
    """The Scrapy settings both crawlers run with."""
    return {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False}


def child_env() -> dict[str, str]:
    """The environment of a crawl subprocess: this checkout's code first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class TreeSampler:
    """The processes under a crawl (akhbar's extraction workers are children of a forkserver, which
    the crawl never waits for, so ``wait4`` misses them): the last CPU seconds seen of each, and
    the peak of their summed RSS (an upper bound: pages a forkserver shares are counted per process)."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.peak_rss_mb = 0.0
        self.tick = os.sysconf("SC_CLK_TCK")
        self.page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20

    def __call__(self, root: int) -> None:
        stats = _proc_stats()
        children: dict[int, list[int]] = {}
        for pid, fields in stats.items():
            children.setdefault(int(fields[1]), []).append(pid)
        rss, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, []))
            if pid in stats:
                rss += int(stats[pid][21]) * self.page_mb
                if pid != root:
                    self.cpu[pid] = (int(stats[pid][11]) + int(stats[pid][12])) / self.tick
        self.peak_rss_mb = max(self.peak_rss_mb, rss)


def _proc_stats() -> dict[int, list[str]]:
    """``/proc/<pid>/stat`` of every process, the fields after the command name (state first)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            stats[int(entry)] = text[text.rindex(")") + 2:].split()
    return stats


def run_measured(cmd: list[str], site: GeneratedSite, log: Path, *, watch=None) -> dict[str, float]:
    """Run ``cmd`` to the end; its wall time, CPU seconds, peak RSS (MB) and the site's counters;
    the same two for all its processes (:class:`TreeSampler`, where ``/proc`` exists).
    ``watch(pid)`` is called every 0.2 s while it runs (the soak's memory sampler)."""
    site.requests = site.article_requests = 0
    tree = TreeSampler() if Path("/proc/self/stat").exists() else None
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), stdout=out, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if watch is not None:
                watch(proc.pid)
            if tree is not None:
                tree(proc.pid)
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    result = {"exit": proc.returncode, "wall_s": wall, "cpu_s": cpu,
              "peak_rss_mb": usage.ru_maxrss / 1024, "requests": site.requests,
              "article_fetches": site.article_requests}
    if tree is not None:
        result["cpu_all_s"] = cpu + sum(tree.cpu.values())
        result["rss_all_mb"] = max(tree.peak_rss_mb, result["peak_rss_mb"])
    return result


def akhbar_command(site: GeneratedSite, tmp: Path, concurrency: int) -> tuple[list[str], Path]:
    sources = tmp / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "bench"\nsitemaps = ["{site.base_url}/sitemap_index.xml"]\n',
                       encoding="utf-8")
    db = tmp / "akhbar.db"
    sets = [arg for key, value in politeness_off(concurrency).items() for arg in ("--set", f"{key}={value}")]
    cmd = [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources),
           "--db", f"sqlite:///{db}", "--warc-dir", str(tmp / "warc"), "--json", *sets]
    return cmd, db


def plain_command(site: GeneratedSite, tmp: Path, concurrency: int) -> tuple[list[str], Path]:
    db = tmp / "plain.db"
    return [sys.executable, str(ROOT / "bench" / "plain_spider.py"), f"{site.base_url}/sitemap_index.xml", str(db),
            "--concurrency", str(concurrency)], db


def stored_urls(db: Path, crawler: str) -> list[list[str]]:
    """Per stored article, the URLs it was stored under (akhbar: all it was seen at)."""
    with sqlite3.connect(db) as conn:
        if crawler == "plain":
            return [[url] for (url,) in conn.execute("SELECT url FROM articles")]
        urls: dict[int, list[str]] = {}
        for article, url in conn.execute("SELECT article_id, url FROM article_urls ORDER BY id"):
            urls.setdefault(article, []).append(url)
        for article, url in conn.execute("SELECT id, url FROM articles"):
            urls.setdefault(article, []).insert(0, url)
        return list(urls.values())


def judge(site: GeneratedSite, articles: list[list[str]]) -> dict[str, int]:
    """What was stored, against the site's truth."""
    texts: list[int] = []
    unknown = 0
    for urls in articles:
        pages = [p for p in map(site.truth, urls) if p is not None]
        if pages:
            texts.append(pages[0].text)
        else:
            unknown += 1
    kinds = {t: site.model.pages[t].kind for t in set(texts)}
    return {"stored": len(articles), "distinct_texts": len(set(texts)),
            "duplicates": len(texts) - len(set(texts)), "near_stored": sum(k == "near" for k in kinds.values()),
            "english_stored": sum(k == "english" for k in kinds.values()),
            "missed": site.counts["distinct_texts"] - len(set(texts)), "not_on_site": unknown}


def measure(crawler: str, site: GeneratedSite, tmp: Path, concurrency: int) -> dict[str, object]:
    build = akhbar_command if crawler == "akhbar" else plain_command
    cmd, db = build(site, tmp, concurrency)
    log = tmp / f"{crawler}.log"
    measured = run_measured(cmd, site, log)
    result: dict[str, object] = dict(measured)
    result["pages_per_s"] = site.counts["entries"] / measured["wall_s"]
    result["fetches_per_s"] = measured["article_fetches"] / measured["wall_s"]
    result.update(judge(site, stored_urls(db, crawler)) if db.exists() else {"stored": 0})
    if result["exit"] != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        result["log_tail"] = tail
    return result


ROWS = (("wall_s", "wall seconds", "{:.1f}"), ("pages_per_s", "site entries/s", "{:.1f}"),
        ("fetches_per_s", "article fetches/s", "{:.1f}"), ("article_fetches", "article pages fetched", "{}"),
        ("requests", "requests served", "{}"), ("cpu_s", "CPU seconds", "{:.1f}"),
        ("peak_rss_mb", "peak RSS (MB)", "{:.0f}"), ("cpu_all_s", "CPU s, all processes", "{:.1f}"),
        ("rss_all_mb", "peak RSS, all proc. (MB)", "{:.0f}"), ("stored", "articles stored", "{}"),
        ("distinct_texts", "distinct texts stored", "{}"), ("duplicates", "duplicates let through", "{}"),
        ("near_stored", "near-duplicates stored", "{}"), ("english_stored", "English pages stored", "{}"),
        ("missed", "texts missed", "{}"))


def table(results: dict[str, dict], counts: dict[str, int], concurrency: int) -> str:
    lines = [f"site: {counts['entries']} sitemap entries: {counts['article']} articles, {counts['near']} near-duplicates, "
             f"{counts['english']} English, {counts['tracking']} tracking-URL copies, {counts['alias']} second-path "
             f"copies, {counts['broken']} dead links; {counts['distinct_texts']} distinct texts. "
             f"Concurrency {concurrency}, politeness off.",
             f"{'':26}{'akhbar':>12}{'plain':>12}{'akhbar/plain':>14}"]
    a, p = results["akhbar"], results["plain"]
    for key, label, fmt in ROWS:
        ratio = f"{a[key] / p[key]:.2f}" if isinstance(a.get(key), (int, float)) and p.get(key) else "-"
        lines.append(f"{label:26}{_cell(a, key, fmt):>12}{_cell(p, key, fmt):>12}{ratio:>14}")
    for name, res in results.items():
        if res.get("exit"):
            lines.append(f"{name} exited {res['exit']}: " + " / ".join(res.get("log_tail", [])))
    return "\n".join(lines)


def _cell(result: dict, key: str, fmt: str) -> str:
    return fmt.format(result[key]) if key in result else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000, help="sitemap entries of the generated site (default 1000)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--delay", type=float, default=0, help="the site's delay per request, in milliseconds")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--order", default="akhbar,plain", help="which crawler runs first (default akhbar,plain)")
    ap.add_argument("--realpages", type=Path, default=REALPAGES)
    ap.add_argument("--rounds", type=int, default=1,
                    help="run both crawlers this many times, the first one alternating from round to round, and "
                         "give each round's ratio and their median (default 1)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    order = args.order.split(",")
    if sorted(order) != ["akhbar", "plain"]:
        ap.error("--order takes akhbar,plain or plain,akhbar")
    if args.rounds < 1:
        ap.error("--rounds takes a number of rounds, 1 or more")
    try:
        site = GeneratedSite(pages=args.pages, delay=args.delay, seed=args.seed, realpages=args.realpages)
    except SiteDataMissing as exc:
        print(f"crawl bench: {exc}", file=sys.stderr)
        return 2
    rounds: list[dict[str, Any]] = []  # each: which crawler went first, and each crawler's results
    with site, tempfile.TemporaryDirectory(prefix="akhbar-bench-") as tmp:
        for number in range(args.rounds):
            turn = order if number % 2 == 0 else order[::-1]
            results: dict[str, Any] = {"first": turn[0]}
            for name in turn:
                folder = Path(tmp) / f"{number}-{name}"
                folder.mkdir()
                results[name] = measure(name, site, folder, args.concurrency)
            rounds.append(results)
    ratios = [r["akhbar"]["pages_per_s"] / r["plain"]["pages_per_s"] for r in rounds]
    last = {"akhbar": rounds[-1]["akhbar"], "plain": rounds[-1]["plain"]}
    if args.json:
        extra = {"rounds": rounds, "ratios": ratios, "median_ratio": statistics.median(ratios)} if args.rounds > 1 else {}
        print(json.dumps({"site": site.counts, "concurrency": args.concurrency, **last, **extra}, indent=1))
    else:
        print(table(last, site.counts, args.concurrency))
        if args.rounds > 1:
            print(rounds_table(rounds, ratios))
    return 0 if all(r[name]["exit"] == 0 for r in rounds for name in ("akhbar", "plain")) else 1


def rounds_table(rounds: list[dict[str, Any]], ratios: list[float]) -> str:
    """One line per round (which crawler went first, entries/s of each, the ratio), then the median;
    the table above is the last round's."""
    lines = ["", f"{'round':<7}{'first':<8}{'akhbar/s':>10}{'plain/s':>10}{'akhbar/plain':>14}"]
    for number, (result, ratio) in enumerate(zip(rounds, ratios), 1):
        lines.append(f"{number:<7}{result['first']:<8}{result['akhbar']['pages_per_s']:>10.1f}"
                     f"{result['plain']['pages_per_s']:>10.1f}{ratio:>13.2f}x")
    lines.append(f"median of {len(ratios)} rounds: {statistics.median(ratios):.2f}x "
                 f"(lowest {min(ratios):.2f}x, highest {max(ratios):.2f}x)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
