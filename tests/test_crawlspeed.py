"""What keeps a crawl's own process light: it fetches, hands pages to the extraction workers and
stores their results, so the extractor (trafilatura, numpy, the page rules) is never loaded in it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawler.core import extract, extractor

REPO = Path(__file__).resolve().parents[1]

#: What a crawl's process imports to fetch, hand over and store (crawler/cli/crawl.py's path).
CRAWL_MODULES = ("crawler.cli", "crawler.cli.crawl", "crawler.crawl", "crawler.pipelines", "crawler.middlewares",
                 "crawler.extensions", "crawler.ingest", "crawler.extractpool", "spiders.sitemap", "spiders.feed",
                 "storage.archive")
EXTRACTOR = ("trafilatura", "crawler.core.extract", "crawler.core.language", "crawler.core.pagetype")


def test_crawl_process_does_not_load_the_extractor() -> None:
    code = (f"import importlib, json, sys\nfor m in {CRAWL_MODULES!r}: importlib.import_module(m)\n"
            f"print(json.dumps([m for m in {EXTRACTOR!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_extractor_constants_are_the_extractors() -> None:
    assert extract.EXTRACTOR_VERSION == extractor.EXTRACTOR_VERSION
    assert extract.MAX_PAGE_BYTES == extractor.MAX_PAGE_BYTES == 5 * 1024 * 1024


# --- normalize remembers the keys of short texts -------------------------------------------------

def test_a_remembered_key_is_the_computed_key() -> None:
    from crawler.core.arabic import _key, _remembered_key, normalize

    texts = ["الأخبار", "أخبار اليوم ـ القاهرة", "  News  TODAY ", "إ" * 400, "ة" * 401, "x"]
    for text in texts + texts:  # the second time from the cache
        assert normalize(text) == _key(text)
    assert _remembered_key.cache_info().hits >= 4


def test_normalize_keeps_no_reference_to_an_lxml_string() -> None:
    """A string read from a tree holds its element (and so the whole page): the cache must keep a
    plain copy of it, not the string."""
    import gc
    import weakref

    import lxml.html

    from crawler.core.arabic import normalize

    root = lxml.html.fromstring("<html><body><p class='x'>خبر عاجل من الموقع</p></body></html>")
    para = root.find(".//p")
    text = para.xpath("text()")[0]
    assert text.getparent() is para  # a "smart" string, tied to its element
    gone = weakref.ref(para)
    assert normalize(text) == "خبر عاجل من الموقع"
    del root, para, text
    gc.collect()
    assert gone() is None


def test_a_remembered_loose_key_is_the_computed_one_and_holds_no_page() -> None:
    import gc
    import weakref

    import lxml.html

    from crawler.core.pagetext import _loose, loose

    for text in ["«الأخبار» - اليوم!", "Home | News", "،؛" * 150, "ب" * 401] * 2:
        assert loose(text) == _loose(text)
    root = lxml.html.fromstring("<html><body><h1>عاجل: «خبر» اليوم</h1></body></html>")
    heading = root.find(".//h1")
    gone = weakref.ref(heading)
    assert loose(heading.xpath("text()")[0]) == "عاجل خبر اليوم"
    del root, heading
    gc.collect()
    assert gone() is None
