"""The one parse of an HTML page that every extraction stage reads.

:func:`load_html` reads a decoded page the way ``trafilatura.load_html`` does (the same parser
settings: comments and processing instructions dropped, no ids collected, no default doctype; the
same repairs of faulty markup; the same fallback to bytes; the same refusal of a string that is
not HTML), so trafilatura gives the same text for this tree as for the page source.

One thing differs: which Python class stands for an element is decided in C.  ``lxml.html``
decides it with a Python method called for every element proxy lxml creates, and trafilatura,
the metadata and the dates create hundreds of thousands of them on a large page.  The classes
are the same (``HtmlElement``, and ``FormElement``, ``InputElement`` ... for form tags), so
nothing that reads the tree can tell.
"""
from __future__ import annotations

import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlElementClassLookup, HtmlEntity, HtmlProcessingInstruction
from trafilatura.utils import is_dubious_html, repair_faulty_html

__all__ = ["load_html", "PARSER"]


def _class_lookup() -> etree.ElementNamespaceClassLookup:
    """lxml.html's element classes, found by tag name in a C table instead of a Python call."""
    lookup = etree.ElementNamespaceClassLookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
        )
    )
    by_tag = lookup.get_namespace(None)  # the HTML parser puts no element in a namespace
    for tag, cls in HtmlElementClassLookup._default_element_classes.items():  # form, input, select ...
        by_tag[tag] = cls
    return lookup


PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
PARSER.set_element_class_lookup(_class_lookup())


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        return lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=PARSER)
    except (etree.LxmlError, ValueError, UnicodeError):
        return None


def load_html(html: str) -> HtmlElement | None:
    """The parse of a decoded page, or ``None`` when it is not HTML (as ``trafilatura.load_html``)."""
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tried_bytes = False
    try:
        tree = lxml.html.fromstring(html, parser=PARSER)
    except ValueError:  # a string that declares its own encoding: lxml wants bytes
        tree, tried_bytes = _from_bytes(html), True
    except etree.LxmlError:
        tree = None
    if (tree is None or len(tree) < 1) and not tried_bytes:
        tree = _from_bytes(html)
    if tree is not None and dubious and len(tree) < 2:  # a bare fragment, not an HTML page
        return None
    return tree
