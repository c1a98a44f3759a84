"""Publication dates, measured side by side: akhbar's resolver vs htmldate vs trafilatura.

Exact-day accuracy, in one run, on
  * the 12 dated Arabic pages of ../shared/realpages (htmldate's gold set: 8; CNN Arabic, LBCI, Youm7 x2),
  * the 3 Persian pages of htmldate's gold set (reported apart),
  * dateparser's Arabic date strings (every case that names a date, a Hijri date or an offset from now),
  * the seed pages (seeds/*.txt; a page without a date must come out without one).

htmldate is called as ``find_date(html, original_date=True, outputformat='%Y-%m-%d')`` and trafilatura as
``extract_metadata(html).date``; akhbar gets what the crawler knows too: the page URL (from MANIFEST.tsv)
and, for the seeds, the headline.  Strings and seed text are given to htmldate and trafilatura as a
minimal HTML page (one ``<p>`` per line, the headline as ``<h1>``).  Relative strings are measured
against the time of the run (htmldate and trafilatura take no base).

    python bench/dates.py [--realpages ../shared/realpages] [--seeds seeds] [--json]
"""
from __future__ import annotations

import argparse
import html as htmllib
import json
import logging
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import htmldate
import trafilatura

from crawler.core.dates import resolve_dates
from crawler.core.extract import extract
from crawler.core.datetext import _subtract, parse_date_text

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("akhbar", "htmldate", "trafilatura")


def manifest_urls(rp: Path) -> dict[str, str]:
    urls = {}
    for line in (rp / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) > 5 and cols[5]:
            urls[cols[0]] = cols[5]
    return urls


def dated_pages(rp: Path) -> list[tuple[str, str, str, str]]:
    """(set, file, gold day, lang) for every dated Arabic-script page."""
    gold = json.loads((rp / "htmldate_mediacloud_arabic_script.gold_dates.json").read_text(encoding="utf-8"))
    pages = [("htmldate gold (ar)" if v["lang"] == "ar" else "htmldate gold (fa)", name, v["date"], v["lang"])
             for name, v in gold.items()]
    lbci = json.loads((rp / "fundus_lbcgroup_2026_01_08.gold.json").read_text(encoding="utf-8"))["V1"]
    pages += [
        ("CNN/LBCI/Youm7", "newspaper4k_cnnarabic_syria_clashes.html", "2013-08-03", "ar"),
        ("CNN/LBCI/Youm7", "fundus_lbcgroup_2026_01_08.html", lbci["publishing_date"][:10], "ar"),
        ("CNN/LBCI/Youm7", "magichtml_youm7_6573469.html", "2024-05-13", "ar"),
        ("CNN/LBCI/Youm7", "magichtml_youm7_6574622.html", "2024-05-20", "ar"),
    ]
    return pages


def run_htmldate(html: str) -> str | None:
    try:
        return htmldate.find_date(html, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # noqa: BLE001 - a tool that fails on a page scores a miss
        return None


def run_trafilatura(html: str) -> str | None:
    try:
        meta = trafilatura.extract_metadata(html)
    except Exception:  # noqa: BLE001
        return None
    return meta.date if meta is not None else None


def as_page(lines: list[str], title: str | None = None) -> str:
    body = "".join(f"<h1>{htmllib.escape(l)}</h1>" if title and l.strip() == title else f"<p>{htmllib.escape(l)}</p>"
                   for l in lines)
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>"


def day(value: str | None) -> str | None:
    return value[:10] if value else None


def string_cases(rp: Path, now: datetime) -> list[tuple[str, str, str | None, datetime]]:
    """(kind, text, expected day or None, base) for dateparser's Arabic cases."""
    data = json.loads((rp / "dateparser_arabic_date_strings.json").read_text(encoding="utf-8"))
    freshness = {"2 day": {"days": 2}, "1 day ago": {"days": 1}, "4 year": {"years": 4},
                 "ago 2 hour": {"hours": 2}, "0 day ago": {"days": 0}}
    names = {"datetime": datetime}
    out: list[tuple[str, str, str | None, datetime]] = []
    for c in data["cases"]:
        fn, a, k = c["test_function"], c["args"], c["kwargs"]
        if fn == "test_translation":
            out.append(("absolute", a[1], datetime.strptime(a[2], "%d %B %Y %I:%M %p").date().isoformat(), now))
        elif fn in ("test_split", "test_search_date_string"):
            d = int(a[1].split()[0])
            out.append(("absolute", a[1], date(2015, 1, d).isoformat(), now))
        elif fn == "test_freshness_translation":
            out.append(("relative", a[1], _subtract(now, freshness[a[2]]).date().isoformat(), now))
        elif fn == "test_applicable_languages":
            out.append(("relative", a[1], (now - timedelta(hours=2)).date().isoformat(), now))
        elif fn == "test_not_applicable_languages":
            out.append(("not Arabic", a[1], None, now))
        elif fn in ("test_relative_past_dates", "test_normalized_relative_dates"):
            out.append(("relative", a[0], _subtract(now, k["ago"]).date().isoformat(), now))
        elif fn == "test_datetime_parsing":
            out.append(("hijri", k["dt_string"], eval(k["dt_obj"], names).date().isoformat(), now))  # noqa: S307
        elif fn == "test_search_and_parse":
            base = eval(k["settings"]["RELATIVE_BASE"], names)  # noqa: S307 - literal from the JSON
            for sub, when in a[2]:
                out.append(("in running text", sub, eval(when, names).date().isoformat(), base))  # noqa: S307
    return out


def akhbar_string(text: str, base: datetime) -> str | None:
    found = parse_date_text(text, base=base)
    return found[0].value.date().isoformat() if found else None


def tally(rows: list[dict]) -> dict[str, int]:
    return {t: sum(1 for r in rows if r[t] == r["gold"]) for t in TOOLS}


def title_cases(rp: Path, seeds: Path) -> list[tuple[str, bytes, str, str | None]]:
    """(item, page bytes, gold title, kind) for every page whose gold names a title."""
    cases: list[tuple[str, bytes, str, str | None]] = []
    cnn = json.loads((rp / "newspaper4k_cnnarabic_syria_clashes.meta.json").read_text(encoding="utf-8"))
    cases.append(("newspaper4k_cnnarabic_syria_clashes.html", (rp / "newspaper4k_cnnarabic_syria_clashes.html").read_bytes(), cnn["title"], "html"))
    lbci = json.loads((rp / "fundus_lbcgroup_2026_01_08.gold.json").read_text(encoding="utf-8"))["V1"]
    cases.append(("fundus_lbcgroup_2026_01_08.html", (rp / "fundus_lbcgroup_2026_01_08.html").read_bytes(), lbci["title"], "html"))
    assabah = next(iter(json.loads((rp / "trafilatura_assabah_tn_article.gold.json").read_text(encoding="utf-8")).values()))
    cases.append(("trafilatura_assabah_tn_article.html", (rp / "trafilatura_assabah_tn_article.html").read_bytes(), assabah["title"], "html"))
    for name, gold in sorted(json.loads((seeds / "gold.json").read_text(encoding="utf-8")).items()):
        if gold.get("title"):
            cases.append((name, (seeds / name).read_bytes(), gold["title"], "text"))
    return cases


def title_rows(rp: Path, seeds: Path) -> list[dict]:
    """Title exact match: akhbar's whole extraction vs trafilatura's metadata (htmldate has no titles)."""
    rows = []
    for item, data, gold, kind in title_cases(rp, seeds):
        ours = extract(data, kind=kind).title
        theirs = None
        if kind == "html":
            meta = trafilatura.extract_metadata(data.decode("utf-8"))
            theirs = meta.title if meta else None
        else:
            theirs = trafilatura.extract_metadata(as_page(data.decode("utf-8").split("\n"))).title
        squash = lambda t: " ".join(t.split()) if t else t  # noqa: E731
        rows.append({"item": item, "gold": gold, "akhbar": ours, "trafilatura": theirs,
                     "akhbar_exact": ours == gold, "trafilatura_exact": theirs == gold,
                     "akhbar_spaces": squash(ours) == squash(gold), "trafilatura_spaces": squash(theirs) == squash(gold)})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--realpages", type=Path, default=ROOT.parent / "shared" / "realpages")
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    rp, now = args.realpages, datetime.now().replace(microsecond=0)
    urls = manifest_urls(rp)
    sets: dict[str, list[dict]] = {}

    for group, name, gold, lang in dated_pages(rp):
        html = (rp / name).read_text(encoding="utf-8")
        ours = resolve_dates(html=html, url=urls.get(name), locale="fa-IR" if lang == "fa" else None)
        sets.setdefault(group, []).append({"item": name, "gold": gold, "akhbar": day(ours.published),
                                           "source": ours.date_source, "htmldate": day(run_htmldate(html)),
                                           "trafilatura": day(run_trafilatura(html))})

    for kind, text, expected, base in string_cases(rp, now):
        page = as_page([text])
        sets.setdefault(f"dateparser strings: {kind}", []).append(
            {"item": text, "gold": expected, "akhbar": akhbar_string(text, base),
             "htmldate": day(run_htmldate(page)), "trafilatura": day(run_trafilatura(page))})

    seed_gold = json.loads((args.seeds / "gold.json").read_text(encoding="utf-8"))
    for name, gold in sorted(seed_gold.items()):
        lines = (args.seeds / name).read_text(encoding="utf-8").split("\n")
        ours = resolve_dates(lines=lines, title=gold["title"])
        page = as_page(lines, gold["title"])
        sets.setdefault("seeds", []).append({"item": name, "gold": gold["published"], "akhbar": day(ours.published),
                                             "source": ours.date_source, "htmldate": day(run_htmldate(page)),
                                             "trafilatura": day(run_trafilatura(page))})

    arabic = sets["htmldate gold (ar)"] + sets["CNN/LBCI/Youm7"]
    strings = [r for k, v in sets.items() if k.startswith("dateparser") for r in v]
    summary = {"12 dated Arabic pages": (tally(arabic), len(arabic))}
    summary.update({k: (tally(v), len(v)) for k, v in sets.items()})
    summary["all dateparser strings"] = (tally(strings), len(strings))

    titles = title_rows(rp, args.seeds)
    if args.json:
        json.dump({"run": now.isoformat(), "sets": sets, "titles": titles,
                   "summary": {k: {"n": n, **t} for k, (t, n) in summary.items()}},
                  sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"run at {now.isoformat()} (relative strings measured against it)\n")
    for group in [k for k in sets if not k.startswith("dateparser")]:
        print(f"== {group}")
        print(f"   {'item':44} {'gold':10}  {'akhbar':10} {'(source)':10} {'htmldate':10} {'trafilatura':10}")
        for r in sets[group]:
            marks = {t: ("" if r[t] == r["gold"] else "*") for t in TOOLS}
            print(f"   {r['item'][:44]:44} {str(r['gold']):10}  {str(r['akhbar']) + marks['akhbar']:10} "
                  f"{'(' + str(r.get('source')) + ')':10} {str(r['htmldate']) + marks['htmldate']:10} "
                  f"{str(r['trafilatura']) + marks['trafilatura']:10}")
    print("   (* = not the gold day)\n")
    print(f"{'set':40} {'n':>3}  " + "  ".join(f"{t:>11}" for t in TOOLS))
    for k, (t, n) in summary.items():
        print(f"{k:40} {n:3d}  " + "  ".join(f"{t[x]:>5}/{n:<5}" for x in TOOLS))
    print(f"\n== titles (gold where it names one; exact, and with white space collapsed)")
    for r in titles:
        print(f"   {r['item'][:44]:44} akhbar {'=' if r['akhbar_exact'] else ('~' if r['akhbar_spaces'] else 'x')}"
              f"  trafilatura {'=' if r['trafilatura_exact'] else ('~' if r['trafilatura_spaces'] else 'x')}")
    n = len(titles)
    for tool in ("akhbar", "trafilatura"):
        exact = sum(r[f"{tool}_exact"] for r in titles)
        spaces = sum(r[f"{tool}_spaces"] for r in titles)
        print(f"   {tool:12} exact {exact}/{n}, white space collapsed {spaces}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
