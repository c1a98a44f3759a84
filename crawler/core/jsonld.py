"""The JSON-LD of a page, read and walked once, for every reader (metadata, dates).

:func:`read_json_ld` parses each ``<script type="application/ld+json">`` block (forgiving the
comment and CDATA wrappers and trailing commas publishers leave) and walks every object in it once;
:class:`JsonLd` keeps the blocks and the objects with where they stand, and the readers pick what
they need from it.  Pure: lxml and the standard library only.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from crawler.core.pagetext import clean_text

__all__ = ["JsonLd", "LdNode", "read_json_ld", "json_ld_blocks", "ld_types", "is_article", "ld_names"]

_JSON_JUNK = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
# An object under one of these keys is an item of a list (a related story, a comment, a part).
_LIST_KEYS = frozenset({"itemListElement", "hasPart", "relatedLink", "comment"})


def json_ld_blocks(tree: etree._Element) -> Iterator[tuple[str, Any]]:
    """Each ``<script type="application/ld+json">`` block of the page as (its text, its parse).

    Comment and CDATA wrappers and trailing commas are forgiven; the parse is ``None`` for a
    block that is still not JSON (a reader may then look for what it needs by pattern).
    """
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        raw = _JSON_JUNK.sub("", script.text.strip())
        parsed = None
        for attempt in (raw, _TRAILING_COMMA.sub(r"\1", raw)):
            try:
                parsed = json.loads(attempt, strict=False)
                break
            except ValueError:
                continue
        yield raw, parsed


@dataclass(frozen=True)
class LdNode:
    """One JSON-LD object, at any depth, and where it stands.

    ``block`` is the index of its script block; ``top`` marks an object that describes the page
    itself (a block's own object, an item of a top-level list or of ``@graph``); ``listed`` one that
    stands in a list of other things (``itemListElement``, ``hasPart``, ``relatedLink``, ``comment``).
    """

    obj: dict[str, Any]
    block: int
    top: bool
    listed: bool


@dataclass(frozen=True)
class JsonLd:
    """The page's JSON-LD blocks as (text, parse or ``None``) and all their objects, in page order."""

    blocks: tuple[tuple[str, Any], ...]
    nodes: tuple[LdNode, ...]

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The objects that describe the page itself (top level and inside ``@graph`` / lists)."""
        return [node.obj for node in self.nodes if node.top]

    @property
    def articles(self) -> list[dict[str, Any]]:
        """The top-level objects typed as an article."""
        return [obj for obj in self.objects if is_article(obj)]


def _walk(node: Any, block: int, top: bool, listed: bool, out: list[LdNode]) -> None:
    """Every object under ``node``, depth first in document order (an object before its members)."""
    if isinstance(node, list):
        for item in node:
            _walk(item, block, top, listed, out)
    elif isinstance(node, dict):
        out.append(LdNode(node, block, top, listed))
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                _walk(value, block, top and key == "@graph", listed or key in _LIST_KEYS, out)


def read_json_ld(tree: etree._Element) -> JsonLd:
    """Parse and walk the JSON-LD of the page once."""
    blocks = tuple(json_ld_blocks(tree))
    nodes: list[LdNode] = []
    for index, (_, parsed) in enumerate(blocks):
        _walk(parsed, index, True, False, nodes)
    return JsonLd(blocks, tuple(nodes))


def ld_types(obj: dict[str, Any]) -> list[str]:
    """The ``@type`` values of an object, without a vocabulary URL (``https://schema.org/NewsArticle``)."""
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return [v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)]


def is_article(obj: dict[str, Any]) -> bool:
    return any(t.endswith("Article") or t in ("BlogPosting", "LiveBlogPosting", "Report") for t in ld_types(obj))


def ld_names(value: Any) -> list[str]:
    """Names in a JSON-LD person / organisation value (string, object or list), as displayed text."""
    if isinstance(value, str):
        return [clean_text(value)] if clean_text(value) else []
    if isinstance(value, list):
        return [n for item in value for n in ld_names(item)]
    if isinstance(value, dict):
        return ld_names(value.get("name"))
    return []
