"""The parts of an article, measured: title, lead, author and body, akhbar beside trafilatura.

One run over the pages of ../shared/realpages that have gold for a part:

* **title**: CNN Arabic (newspaper4k metadata), LBCI (fundus), Assabah and the 10 pages of
  trafilatura's own eval sample: exact match after loose normalisation (case, punctuation,
  Arabic spelling variants);
* **author**: the eval-sample pages whose gold names an author: the gold name equals, or is
  contained in, the answer (loosely);
* **lead**: no page has lead gold, so what is measured is whether a lead given is article text:
  among the pages with body gold, a lead counts as right when 90% of its tokens are in the gold
  body, wrong otherwise; pages without a lead are counted apart.  trafilatura's nearest field is
  its ``description``;
* **body**: token precision/recall/F1 against full body gold (CNN Arabic, LBCI, Youm7 x2 and the
  20 English Zyte pages), and the share of "with" / "without" snippets right on the snippet-gold
  pages (Assabah and the eval sample).

trafilatura runs bare (``trafilatura.extract`` and ``extract_metadata`` with their defaults).

    python bench/anatomy.py [--realpages ../shared/realpages] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extraction import arabic_pages, english_pages  # type: ignore[import-not-found]  # noqa: E402 - the sibling bench's page list

from crawler.core.evaluate import token_prf  # noqa: E402
from crawler.core.extract import extract  # noqa: E402
from crawler.core.pagetext import loose  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Answer:
    title: str | None = None
    author: str | None = None
    lead: str | None = None
    body: str = ""


@dataclass
class Gold:
    label: str
    path: Path
    url: str | None = None
    title: str | None = None
    author: str | None = None
    body: str | None = None
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)


def ours(data: bytes, url: str | None) -> Answer:
    try:
        a = extract(data, url, kind="html")
    except ValueError:
        return Answer()
    return Answer(title=a.title, author=a.author, lead=a.lead, body=a.text)


def theirs(data: bytes, url: str | None) -> Answer:
    html = data.decode("utf-8", errors="replace")
    meta = trafilatura.extract_metadata(html, default_url=url)
    body = trafilatura.extract(html, url=url) or ""
    if meta is None:
        return Answer(body=body)
    return Answer(title=meta.title, author=meta.author, lead=meta.description, body=body)


def golds(rp: Path) -> list[Gold]:
    out = [Gold(label, path, url, body=text) for label, path, text, url in arabic_pages(rp) + english_pages(rp)]
    by_label = {g.label: g for g in out}
    by_label["cnn-arabic"].title = json.loads((rp / "newspaper4k_cnnarabic_syria_clashes.meta.json").read_text("utf-8"))["title"]
    by_label["lbci"].title = json.loads((rp / "fundus_lbcgroup_2026_01_08.gold.json").read_text("utf-8"))["V1"]["title"]
    assabah = next(iter(json.loads((rp / "trafilatura_assabah_tn_article.gold.json").read_text("utf-8")).items()))
    snippet_pages = [(assabah[0], assabah[1], rp / "trafilatura_assabah_tn_article.html")]
    sample = json.loads((rp / "trafilatura_eval_sample" / "evaldata.subset.json").read_text("utf-8"))
    snippet_pages += [(url, item, rp / "trafilatura_eval_sample" / item["file"]) for url, item in sample.items()]
    for url, item, path in snippet_pages:
        if path.exists():
            out.append(Gold(path.stem, path, url if url.startswith("http") else None, title=item.get("title") or None,
                            author=item.get("author") or None, with_=item.get("with", []),
                            without=item.get("without", [])))
    return out


def _title_ok(answer: str | None, gold: str) -> bool:
    return bool(answer) and loose(answer or "") == loose(gold)


def _author_ok(answer: str | None, gold: str) -> bool:
    return bool(answer) and loose(gold) in loose(answer or "")


def _lead_verdict(lead: str | None, body: str) -> str:
    if not lead:
        return "none"
    tokens = token_prf(lead, body)
    return "right" if tokens[0] >= 0.9 else "wrong"


def _snippets(answer: str, gold: Gold) -> tuple[int, int]:
    text = loose(answer)
    right = sum(loose(s) in text for s in gold.with_) + sum(loose(s) not in text for s in gold.without)
    return right, len(gold.with_) + len(gold.without)


def measure(rp: Path) -> dict[str, Any]:
    tally: dict[str, dict[str, Any]] = {}
    pages: list[dict[str, Any]] = []
    for gold in golds(rp):
        data = gold.path.read_bytes()
        row: dict[str, Any] = {"page": gold.label}
        for name, fn in (("akhbar", ours), ("trafilatura", theirs)):
            answer = fn(data, gold.url)
            t = tally.setdefault(name, {"title": [0, 0], "author": [0, 0], "lead": {"right": 0, "wrong": 0, "none": 0},
                                        "body_f1": [], "snippets": [0, 0]})
            if gold.title:
                t["title"][0] += _title_ok(answer.title, gold.title)
                t["title"][1] += 1
                row[f"{name}_title"] = _title_ok(answer.title, gold.title)
            if gold.author:
                t["author"][0] += _author_ok(answer.author, gold.author)
                t["author"][1] += 1
                row[f"{name}_author"] = answer.author
            if gold.body is not None:
                t["lead"][_lead_verdict(answer.lead, gold.body)] += 1
                f1 = token_prf(answer.body, gold.body)[2]
                t["body_f1"].append(f1)
                row[f"{name}_body_f1"] = round(f1, 3)
            if gold.with_ or gold.without:
                right, total = _snippets(answer.body, gold)
                t["snippets"][0] += right
                t["snippets"][1] += total
        pages.append(row)
    summary = {
        name: {
            "title": f"{t['title'][0]}/{t['title'][1]}",
            "author": f"{t['author'][0]}/{t['author'][1]}",
            "lead (is article text)": t["lead"],
            "body F1 (mean)": round(sum(t["body_f1"]) / len(t["body_f1"]), 3) if t["body_f1"] else None,
            "snippets right": f"{t['snippets'][0]}/{t['snippets'][1]}",
        }
        for name, t in tally.items()
    }
    return {"summary": summary, "pages": pages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--realpages", type=Path, default=ROOT.parent / "shared" / "realpages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.realpages)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    for row in result["pages"]:
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    print()
    for name, s in result["summary"].items():
        print(f"{name:12} " + "  ".join(f"{k}: {v}" for k, v in s.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
