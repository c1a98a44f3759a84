"""What the pages show, computed from the library's answers: snippets with <mark>, the chart's
bars, the paging links.  Escaping happens here (markupsafe) or in the templates (autoescape)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from markupsafe import Markup, escape

#: Marks the library puts around matching words in the page's snippets: private-use characters,
#: turned into <mark> only after the snippet is escaped (a stored "[" or "<" stays text).
OPEN, CLOSE = "\ue000", "\ue001"
_MARKED = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]*){CLOSE}")


def marked(snippet: str) -> Markup:
    """The snippet escaped, its marked words in <mark> (stray marks dropped)."""
    safe = str(escape(snippet))
    safe = _MARKED.sub(r"<mark>\1</mark>", safe)
    return Markup(safe.replace(OPEN, "").replace(CLOSE, ""))


@dataclass(frozen=True)
class Bar:
    key: str
    count: int
    x: float
    y: float
    height: float
    width: float


CHART_WIDTH = 720
CHART_HEIGHT = 120
#: Widest a bar is drawn (a few months should not fill the chart with blocks).
MAX_BAR = 40.0


def bars(rows: list[tuple[str | None, int]], *, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> list[Bar]:
    """Bars of an SVG chart of ``count(..., by="month")`` (undated articles left out), oldest at
    the right (the page reads right to left)."""
    dated = [(k, n) for k, n in rows if k is not None]
    if not dated:
        return []
    top = max(n for _, n in dated) or 1
    step = width / len(dated)
    bar = min(step * 0.8, MAX_BAR)
    out = []
    for i, (key, n) in enumerate(dated):
        h = max(1.0, n * height / top) if n else 0.0
        x = width - i * step - (step + bar) / 2
        out.append(Bar(key=key, count=n, x=round(x, 2), y=round(height - h, 2), height=round(h, 2), width=round(bar, 2)))
    return out


def page_link(params: dict[str, object], page: int) -> str:
    """The search page's query string for another page of the same search."""
    items = [(k, v) for k, v in params.items() if v not in (None, "", ()) and k != "page"]
    flat: list[tuple[str, object]] = []
    for k, v in items:
        flat.extend((k, x) for x in v) if isinstance(v, (list, tuple)) else flat.append((k, v))
    return "?" + urlencode([*flat, ("page", page)])


def href(url: str | None) -> str | None:
    """``url`` when it is safe to link to (http or https), else ``None`` (shown as text only:
    a stored ``javascript:`` or ``data:`` URL must not become a link)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def version_changes(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The versions (oldest first), each after the first with its word diff from the one before:
    ``title_diff`` (when the title changed) and ``text_diff``, lists of (kind, words) pieces
    (:func:`crawler.core.worddiff.diff_pieces`), escaped by the template."""
    from crawler.core.worddiff import diff_pieces

    out: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for v in versions:
        item = {**v, "title_diff": [], "text_diff": None}
        if previous is not None:
            if (v["title"] or "") != (previous["title"] or ""):
                item["title_diff"] = diff_pieces(previous["title"] or "", v["title"] or "")
            item["text_diff"] = diff_pieces(previous["text"] or "", v["text"] or "")
        out.append(item)
        previous = v
    return out


_EXTENSIONS = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "txt", "application/xml": "xml",
               "text/xml": "xml", "application/rss+xml": "xml", "application/atom+xml": "xml", "application/json": "json"}


def capture_name(article_id: int, version: int | None, content_type: str | None) -> str:
    """The download's file name: ``akhbar-12-v2.html`` (ASCII only; the type picks the extension)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    suffix = f"-v{version}" if version is not None else ""
    return f"akhbar-{article_id}{suffix}.{_EXTENSIONS.get(mime, 'bin')}"
