"""Extraction, measured side by side: akhbar's core vs bare ``trafilatura.extract``.

Runs both over the Arabic pages of ../shared/realpages that have body gold (CNN Arabic, LBCI,
Youm7 x2), the Assabah snippet gold, and the 20 English Zyte benchmark pages; prints token
precision/recall/F1 (over \\w+ tokens) per page and on average, and pages per second, in one run.

Scoring note: magic-html's Youm7 gold text includes the UI of an embedded video player (from
«Error loading media» to «advertisement»). That is boilerplate, so those gold lines are removed
before scoring, for both extractors alike.

    python bench/extraction.py [--realpages ../shared/realpages] [--repeat 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import trafilatura

from crawler.core.evaluate import token_prf as prf
from crawler.core.evaluate import without_video_player
from crawler.core.extract import extract

ROOT = Path(__file__).resolve().parent.parent


def arabic_pages(rp: Path) -> list[tuple[str, Path, str, str | None]]:
    lbci = json.loads((rp / "fundus_lbcgroup_2026_01_08.gold.json").read_text(encoding="utf-8"))["V1"]
    lbci_text = "\n".join(p for s in lbci["body"]["sections"] for p in s["headline"] + s["paragraphs"])
    def url_of(name: str) -> str | None:
        for line in (rp / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            if cols[0] == name:
                return cols[5] or None
        return None
    pages = [
        ("cnn-arabic", "newspaper4k_cnnarabic_syria_clashes.html", (rp / "newspaper4k_cnnarabic_syria_clashes.gold.txt").read_text(encoding="utf-8")),
        ("lbci", "fundus_lbcgroup_2026_01_08.html", lbci_text),
        ("youm7-6573469", "magichtml_youm7_6573469.html", without_video_player((rp / "magichtml_youm7_6573469.gold.txt").read_text(encoding="utf-8"))),
        ("youm7-6574622", "magichtml_youm7_6574622.html", without_video_player((rp / "magichtml_youm7_6574622.gold.txt").read_text(encoding="utf-8"))),
    ]
    return [(label, rp / name, gold, url_of(name)) for label, name, gold in pages]


def english_pages(rp: Path) -> list[tuple[str, Path, str, str | None]]:
    out: list[tuple[str, Path, str, str | None]] = []
    for html in sorted((rp / "scrapinghub_aeb").glob("*.html")):
        out.append((html.stem, html, html.with_suffix("").with_suffix(".gold.txt").read_text(encoding="utf-8"), None))
    return out


def ours(data: bytes, url: str | None) -> str:
    try:
        return extract(data, url, kind="html").text
    except ValueError:
        return ""


def bare(data: bytes, url: str | None) -> str:
    return trafilatura.extract(data.decode("utf-8", errors="replace"), url=url) or ""


def score(pages, fn) -> list[tuple[str, tuple[float, float, float]]]:
    return [(label, prf(fn(path.read_bytes(), url), gold)) for label, path, gold, url in pages]


def speed(pages, fns, repeat: int) -> dict[str, float]:
    """Pages per second for each extractor, measured fairly on a noisy machine: the extractors
    run back to back on the same page, ``repeat`` times, and each page counts its best time."""
    blobs = [(path.read_bytes(), url) for _, path, _, url in pages]
    best = {name: [float("inf")] * len(blobs) for name in fns}
    for name, fn in fns.items():
        fn(*blobs[0])  # warm-up (imports, caches)
    for _ in range(repeat):
        for i, (data, url) in enumerate(blobs):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn(data, url)
                best[name][i] = min(best[name][i], time.perf_counter() - start)
    return {name: round(len(blobs) / sum(times), 1) for name, times in best.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--realpages", type=Path, default=ROOT.parent / "shared" / "realpages")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rp = args.realpages
    if not rp.is_dir():
        print(f"bench: no realpages folder at {rp} (use --realpages)", file=sys.stderr)
        return 2
    report: dict = {"trafilatura": trafilatura.__version__}
    for group, pages in (("arabic", arabic_pages(rp)), ("english", english_pages(rp))):
        rows = {"akhbar": score(pages, ours), "trafilatura": score(pages, bare)}
        report[group] = {
            "pages": [
                {"page": label, "akhbar": [round(x, 3) for x in a], "trafilatura": [round(x, 3) for x in b]}
                for (label, a), (_, b) in zip(rows["akhbar"], rows["trafilatura"])
            ],
            "mean_f1": {k: round(sum(r[1][2] for r in v) / len(v), 3) for k, v in rows.items()},
        }
    assabah = json.loads((rp / "trafilatura_assabah_tn_article.gold.json").read_text(encoding="utf-8"))
    entry = next(iter(assabah.values()))
    data = (rp / "trafilatura_assabah_tn_article.html").read_bytes()
    url = next(iter(assabah))
    report["assabah"] = {}
    for name, fn in (("akhbar", ours), ("trafilatura", bare)):
        text = fn(data, url)
        report["assabah"][name] = {
            "with_kept": f"{sum(s in text for s in entry['with'])}/{len(entry['with'])}",
            "without_kept": f"{sum(s in text for s in entry['without'])}/{len(entry['without'])}",
        }
    all_pages = arabic_pages(rp) + english_pages(rp)
    report["pages_per_second"] = speed(all_pages, {"akhbar": ours, "trafilatura": bare}, args.repeat)
    report["speed_ratio"] = round(report["pages_per_second"]["akhbar"] / report["pages_per_second"]["trafilatura"], 2)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(f"trafilatura {report['trafilatura']}; token P/R/F1 over \\w+ tokens")
    for group in ("arabic", "english"):
        print(f"\n{group:<16} {'akhbar P/R/F1':>22} {'trafilatura P/R/F1':>22}")
        for row in report[group]["pages"]:
            a, b = row["akhbar"], row["trafilatura"]
            print(f"{row['page']:<16} {a[0]:>7.3f}{a[1]:>7.3f}{a[2]:>7.3f}   {b[0]:>7.3f}{b[1]:>7.3f}{b[2]:>7.3f}")
        m = report[group]["mean_f1"]
        print(f"{'mean F1':<16} {m['akhbar']:>22.3f} {m['trafilatura']:>22.3f}")
    print("\nassabah snippets (with kept / without kept):",
          {k: f"{v['with_kept']} / {v['without_kept']}" for k, v in report["assabah"].items()})
    pps = report["pages_per_second"]
    print(f"pages/second over {len(all_pages)} pages, best of {args.repeat} runs each: akhbar {pps['akhbar']}, "
          f"trafilatura {pps['trafilatura']} (ratio {report['speed_ratio']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
