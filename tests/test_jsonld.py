"""jsonld: a page's JSON-LD is parsed and walked once, and every reader gets what it needs from it."""
from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import lxml.html

import crawler.core.jsonld as jsonld
from crawler.core.extract import extract
from crawler.core.jsonld import read_json_ld

PAGES = Path(__file__).parent / "fixtures" / "pages"

GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "الموقع", "publisher": {"@type": "Organization", "name": "الناشر"}},
        {"@type": "NewsArticle", "headline": "خبر", "datePublished": "2024-03-05",
         "hasPart": [{"@type": "WebPage", "datePublished": "2020-01-01"}]},
    ],
}


def _page(*blocks: str) -> lxml.html.HtmlElement:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return lxml.html.fromstring(f"<html><head>{scripts}</head><body><p>x</p></body></html>")


def test_nodes_say_which_objects_describe_the_page_and_which_are_list_items():
    ld = read_json_ld(_page(json.dumps(GRAPH), "{broken"))
    assert [b[1] is None for b in ld.blocks] == [False, True]
    top = [obj.get("@type") for obj in ld.objects]
    assert top == [None, "WebSite", "NewsArticle"]  # the graph holder, then its members; not the publisher
    listed = [node.obj["@type"] for node in ld.nodes if node.listed]
    assert listed == ["WebPage"]
    assert [obj["headline"] for obj in ld.articles] == ["خبر"]
    assert {node.obj.get("name") for node in ld.nodes if not node.top} == {"الناشر", None}


def test_extract_parses_each_json_ld_block_once(monkeypatch):
    data = gzip.decompress((PAGES / "fundus_lbcgroup_2026_01_08.html.gz").read_bytes())
    page = lxml.html.fromstring(data)
    raws = {raw for raw, _ in read_json_ld(page).blocks}
    assert raws
    parsed: list[str] = []
    real_loads = json.loads

    def counting_loads(text, *args, **kwargs):
        parsed.append(text)
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr(jsonld.json, "loads", counting_loads)
    extract(data, "https://www.lbcgroup.tv/news/x", fetched_at=datetime(2026, 1, 10))
    from_blocks = [text for text in parsed if text in raws]  # (langdetect loads its profiles by json too)
    assert sorted(from_blocks) == sorted(raws)  # every block once, not once per reader
