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


# --- the page-type walk, written out, reads what the straightforward walk read --------------------

class _ReferenceWalk:
    """The page-type walk as first written (crawler.core.pagetype._Walk before it was inlined)."""

    def __init__(self) -> None:
        from crawler.core.pagetype import _Walk

        self.headlines: dict = {}
        self.blocks: list = []
        self._headline = lambda a: _Walk._headline(self, a)  # type: ignore[arg-type]

    def run(self, root) -> None:
        from lxml import etree

        from crawler.core.pagetype import _BLOCKS, _SKIP

        stack: list = []
        link_depth = 0
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, el in walker:
            tag = el.tag if isinstance(el.tag, str) else None
            if event == "start":
                if tag is None or tag.lower() in _SKIP:
                    walker.skip_subtree()
                    self._add(stack, el.tail, link_depth)
                    continue
                tag = tag.lower()
                if tag in _BLOCKS or not stack:
                    stack.append([el, [], 0])
                if tag == "a":
                    link_depth += 1
                self._add(stack, el.text, link_depth)
                continue
            tag = tag.lower() if tag else ""
            if tag == "a":
                link_depth -= 1
                self._headline(el)
            if stack and stack[-1][0] is el:
                block, parts, links = stack.pop()
                text = " ".join("".join(parts).split())
                if text:
                    self.blocks.append((block, text, links))
            self._add(stack, el.tail, link_depth)

    @staticmethod
    def _add(stack, text, link_depth) -> None:
        if text and stack:
            stack[-1][1].append(text)
            if link_depth:
                stack[-1][2] += len(" ".join(text.split()))


WALK_PAGES = sorted((REPO / "tests" / "fixtures").rglob("*.htm*"))

WALK_SNIPPETS = [
    "<html><body><div>a <a href='/x'>one two three four five</a> tail<script>x</script>after"
    "<p>para <b>bold</b> end</p><svg><text>no</text></svg>svg tail</div></body></html>",
    "<html><body>bare text<a>l</a><!-- gone -->t<ul><li>i <a>x y</a></li></ul></body></html>",
    "<body><A HREF='/'>UPPER CASE LINK WITH WORDS</A><SELECT><OPTION>o</OPTION></SELECT>s</body>",
]


def test_the_page_type_walk_reads_what_the_reference_walk_read() -> None:
    import lxml.html

    from crawler.core.htmltree import load_html
    from crawler.core.pagetype import _Walk

    assert len(WALK_PAGES) > 10
    trees = [load_html(p.read_bytes().decode("utf-8", "replace")) for p in WALK_PAGES]
    trees += [lxml.html.fromstring(s) for s in WALK_SNIPPETS]
    for tree in trees:
        if tree is None:
            continue
        fast, slow = _Walk(), _ReferenceWalk()
        fast.run(tree)
        slow.run(tree)
        assert fast.blocks == slow.blocks
        assert fast.headlines == slow.headlines
