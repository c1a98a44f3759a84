"""The crawl's archive writer alone: CPU per page of ``crawler.pipelines.take_in`` on pre-extracted pages.

    python bench/writer.py [--pages 600] [--realpages ../shared/realpages]

The shared set's pages are extracted once (not timed); each of N pages is then one of them with a
sentence of its own added to the text (so every page is a new article), a URL of its own and a WARC
pointer (as a crawl stores them), with the near-duplicate signature and search index columns the
extraction workers make, taken into a fresh SQLite archive with the default re-fetch policy (each
page's fetch state recorded) and committed every 50, as :mod:`crawler.archivewriter` does.  Prints the CPU time per page of that process: the writer shares
the crawl's process, and its GIL, with the reactor.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from bench.extraction import arabic_pages, english_pages  # noqa: E402
from crawler.capture.document import RawDocument  # noqa: E402
from crawler.core.arabic import content_hash  # noqa: E402
from crawler.core.neardup import signature  # noqa: E402
from crawler.core.refetch import RefetchPolicy  # noqa: E402
from crawler.core.analyzer import article_columns  # noqa: E402
from crawler.extraction import Extraction, extract_document  # noqa: E402
from crawler.items import PageItem  # noqa: E402
from crawler.pipelines import take_in  # noqa: E402
from storage import open_engine  # noqa: E402

FETCHED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def pages(realpages: Path, n: int) -> list[tuple[PageItem, Extraction]]:
    extracted = []
    for i, (_, path, _, _) in enumerate(arabic_pages(realpages) + english_pages(realpages)):
        doc = RawDocument(data=path.read_bytes(), url=f"http://127.0.0.1:9/p{i}.html",
                          headers={"Content-Type": "text/html"}, source="bench", fetched_at=FETCHED)
        done = extract_document(doc, FETCHED)
        if done.article is not None:
            extracted.append((doc, done.article))
    out = []
    for k in range(n):
        doc, base = extracted[k % len(extracted)]
        text = base.text + f"\nجملة رقم {k} في النص."
        article = dataclasses.replace(base, text=text, content_hash=content_hash(text), canonical_url=None,
                                      tags=list(base.tags), captions=list(base.captions))
        url = f"http://127.0.0.1:9/a/{k}.html"
        page = dataclasses.replace(doc, url=url, data=doc.data + f"<!-- {k} -->".encode(),
                                   warc_path="/nonexistent/bench.warc.gz", warc_offset=1000 * k, warc_length=1000)
        out.append((PageItem(doc=page, link=url),
                    Extraction("article", article=article, signature=signature(text).to_bytes(),
                               index=article_columns(article.title, text))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--realpages", type=Path, default=ROOT.parent / "shared" / "realpages")
    args = ap.parse_args()
    if not args.realpages.is_dir():
        print(f"bench: no realpages folder at {args.realpages} (use --realpages)", file=sys.stderr)
        return 2
    work = pages(args.realpages, args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        cpu = time.process_time()
        outcomes: dict[str, int] = {}
        for start in range(0, len(work), 50):
            with Session(engine) as session:
                for item, extraction in work[start:start + 50]:
                    outcome = take_in(session, item, extraction, policy=RefetchPolicy()).outcome
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                session.commit()
        cpu = time.process_time() - cpu
        engine.dispose()
    print(f"{len(work)} pages taken in ({outcomes}): {1000 * cpu / len(work):.2f} ms of CPU a page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
