"""Is this page an article?  A verdict, with its kind and the reason, before a page is stored.

Homepages, section and tag pages, author pages, video-only pages, search results, link
directories, cookie-consent walls and short error pages are not articles.  The verdict weighs two
kinds of evidence, never a rule keyed to one outlet:

- what the page says of itself: ``og:type``, the JSON-LD ``@type`` (``NewsArticle`` ... against
  ``CollectionPage``, ``ItemList``, ``SearchResultsPage``, ``ProfilePage``, ``VideoObject``), the
  shape of its URL (``/``, ``/tag/``, ``/section/``, ``/author/``, ``/search?q=`` ...);
- what it is: how much running prose it holds (paragraphs of sentences, not links), how many
  teaser rows (a linked headline with a short text beside it), how much of its text sits in links.

A page with little evidence either way is given the benefit of the doubt (an article): the
extractor still refuses a page with no text.  Pure: an lxml tree (or a saved page's lines) in.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lxml import etree

from crawler.core.decode import decode_html, decode_text
from crawler.core.htmltree import load_html
from crawler.core.jsonld import JsonLd, read_json_ld

__all__ = ["PageType", "PageFeatures", "classify_bytes", "classify_html", "classify_text", "page_features", "url_kind", "KINDS"]

KINDS = ("article", "listing", "home", "author", "tag", "video", "search", "directory", "consent", "error")


@dataclass(frozen=True)
class PageType:
    """The verdict on one page: ``kind`` is one of :data:`KINDS`; ``reason`` says why, in a line."""

    is_article: bool
    kind: str
    reason: str


# ---------------------------------------------------------------- what the page is (structure)

_SKIP = {"script", "style", "noscript", "template", "svg", "select", "option", "button", "head", "title"}
_BLOCKS = {
    "p", "div", "li", "td", "th", "tr", "table", "tbody", "ul", "ol", "dl", "dd", "dt",
    "h1", "h2", "h3", "h4", "h5", "h6", "article", "section", "main", "header", "footer", "nav",
    "aside", "blockquote", "figure", "figcaption", "form", "pre", "body", "html", "center", "address",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SENTENCE_END = re.compile(r"[.!?؟。!]|[\u061f\u06d4]")
_CONSENT = re.compile(
    r"cookie|consent|gdpr|ملفات\s*(?:تعريف\s*)?(?:ال)?ارتباط|الكوكيز|كوكيز|ملفات تعريف|موافقت[كه]|"
    r"témoins|datenschutz",
    re.IGNORECASE,
)
_PROSE_WORDS = 12  # a paragraph of running text has at least this many words ...
_PROSE_LINK_SHARE = 0.3  # ... and at most this share of its text in links
_HEADLINE_WORDS = 4  # a link this long reads as a headline, not a menu item
_TEASER_MIN = 3  # fewer teaser rows than this make no listing
_TEASER_CHARS = 500  # a teaser's text is short: longer is running text, wherever it sits


@dataclass
class PageFeatures:
    """What a page is made of, measured once; every count is of visible text."""

    text_chars: int = 0
    link_chars: int = 0
    prose_chars: int = 0  # running text outside teasers and consent notices
    prose_blocks: int = 0
    longest_prose: int = 0
    teaser_rows: int = 0  # a linked headline with a short text beside it
    teaser_chars: int = 0
    headline_links: int = 0
    consent_chars: int = 0
    players: int = 0  # <video>, <audio> or an embedded player
    hosts: int = 0  # distinct hosts the page links to
    headings: list[str] = field(default_factory=list)

    @property
    def link_share(self) -> float:
        return self.link_chars / self.text_chars if self.text_chars else 0.0


class _Walk:
    """One pass over the tree: per-element text and link counts, and the text blocks."""

    def __init__(self) -> None:
        self.headlines: dict[etree._Element, int] = {}
        self.blocks: list[tuple[etree._Element, str, int]] = []  # (element, text, link chars)

    def run(self, root: etree._Element) -> None:
        # The hot loop of the page-type check: every element passes here twice, so its text
        # bookkeeping is written out in place rather than called.
        stack: list[list[Any]] = []  # open blocks: [element, text parts, link chars]
        link_depth = 0
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, el in walker:
            tag = el.tag
            tag = tag.lower() if isinstance(tag, str) else None
            if event == "start":
                if tag is None or tag in _SKIP:
                    walker.skip_subtree()
                    text = el.tail
                else:
                    if tag in _BLOCKS or not stack:
                        stack.append([el, [], 0])
                    if tag == "a":
                        link_depth += 1
                    text = el.text
            else:
                if tag == "a":
                    link_depth -= 1
                    self._headline(el)
                if stack and stack[-1][0] is el:
                    block, parts, links = stack.pop()
                    joined = " ".join("".join(parts).split())
                    if joined:
                        self.blocks.append((block, joined, links))
                text = el.tail
            if text and stack:  # the text goes to the innermost open block
                top = stack[-1]
                top[1].append(text)
                if link_depth:
                    top[2] += len(" ".join(text.split()))

    def _headline(self, a: etree._Element) -> None:
        words = len(a.text_content().split())
        if words >= _HEADLINE_WORDS:
            self.headlines[a] = words


def _ancestors(el: etree._Element, levels: int) -> Iterator[etree._Element]:
    for _ in range(levels):
        el = el.getparent()
        if el is None:
            return
        yield el


def _is_headline_link(el: etree._Element) -> bool:
    return el.tag == "a" and len(el.text_content().split()) >= _HEADLINE_WORDS


def _is_teaser(block: etree._Element, text: str, headline_owner: dict[etree._Element, int],
               size: dict[etree._Element, int]) -> bool:
    """A short text whose small container also holds a linked headline: a teaser row."""
    if headline_owner.get(block):
        return True
    before = block.getprevious()
    if before is not None and (headline_owner.get(before) or _is_headline_link(before)):
        return True  # a heading run: linked headline, then its text, then the next headline
    for up in _ancestors(block, 3):
        if headline_owner.get(up):
            return size.get(up, 0) <= 2 * len(text) + 300
    return False


def page_features(root: etree._Element, base_url: str | None = None) -> PageFeatures:
    """Measure a parsed page (see :class:`PageFeatures`)."""
    body = root.find(".//body") if root.tag != "body" else root
    walk = _Walk()
    walk.run(body if body is not None else root)
    feats = PageFeatures()
    size: dict[etree._Element, int] = {}
    for el, text, links in walk.blocks:
        feats.text_chars += len(text)
        feats.link_chars += links
        for up in [el, *_ancestors(el, 4)]:
            size[up] = size.get(up, 0) + len(text)
    owner: dict[etree._Element, int] = {}
    for a in walk.headlines:
        feats.headline_links += 1
        for up in _ancestors(a, 5):
            owner[up] = owner.get(up, 0) + 1
    _measure_blocks(walk.blocks, owner, size, feats)
    if feats.teaser_rows < _TEASER_MIN:  # one or two rows make no listing: read them as prose
        feats.prose_blocks += feats.teaser_rows
        feats.prose_chars += feats.teaser_chars
        feats.teaser_rows = feats.teaser_chars = 0
    _measure_page(body if body is not None else root, base_url, feats)
    return feats


def _measure_blocks(blocks: Any, owner: Any, size: Any, feats: PageFeatures) -> None:
    for el, text, links in blocks:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _HEADINGS and len(feats.headings) < 12:
            feats.headings.append(text)
        words = len(text.split())
        if words < _PROSE_WORDS or links > _PROSE_LINK_SHARE * len(text):
            continue
        if _CONSENT.search(text):
            feats.consent_chars += len(text)
        elif len(text) <= _TEASER_CHARS and _is_teaser(el, text, owner, size):
            feats.teaser_rows += 1
            feats.teaser_chars += len(text)
        elif words >= 25 or _SENTENCE_END.search(text):
            feats.prose_blocks += 1
            feats.prose_chars += len(text)
            feats.longest_prose = max(feats.longest_prose, len(text))


_PLAYER = re.compile(r"youtube|vimeo|dailymotion|jwplayer|brightcove|player|embed", re.IGNORECASE)


def _measure_page(body: etree._Element, base_url: str | None, feats: PageFeatures) -> None:
    hosts = set()
    for el in body.iter("a", "video", "audio", "iframe"):
        tag = el.tag
        if tag == "a":
            host = urlsplit(el.get("href") or "").netloc.lower().removeprefix("www.")
            if host:
                hosts.add(host)
        elif tag in ("video", "audio"):
            feats.players += 1
        elif tag == "iframe" and _PLAYER.search(el.get("src") or el.get("data-src") or ""):
            feats.players += 1
    if base_url:
        hosts.discard(urlsplit(base_url).netloc.lower().removeprefix("www."))
    feats.hosts = len(hosts)


# ---------------------------------------------------------------- what the page says of itself

_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "reviewnewsarticle", "backgroundnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle", "socialmediaposting",
}
_LISTING_TYPES = {"collectionpage": "listing", "itemlist": "listing", "searchresultspage": "search",
                  "profilepage": "author", "videoobject": "video", "videogallery": "video",
                  "mediagallery": "listing", "imagegallery": "listing"}
_LD_TYPE = re.compile(r'"@type"\s*:\s*(\[[^\]]*\]|"[^"]*")')


def _ld_types(json_ld: JsonLd) -> set[str]:
    """Every ``@type`` named in the page's JSON-LD blocks, at any depth, read from their text (so a
    block that is not valid JSON still says what it describes)."""
    found: set[str] = set()
    for raw, _ in json_ld.blocks:
        for value in _LD_TYPE.findall(raw):
            found.update(t.lower().rsplit("/", 1)[-1] for t in re.findall(r'"([^"]+)"', value))
    return found


def _og_type(root: etree._Element) -> str:
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:type":
            return (meta.get("content") or "").strip().lower()
    return ""


_URL_KINDS = (  # (kind, path pattern) in order; matched against the lower-cased, decoded path
    ("search", re.compile(r"/(?:search|find|recherche|buscar|بحث)(?:/|$|\.)")),
    ("author", re.compile(r"/(?:authors?|writers?|columnists?|kuttab|profile|byline|كتاب|الكاتب)/[^/]+/?$")),
    ("tag", re.compile(r"/(?:tags?|topics?|keywords?|hashtag|وسم|الوسم)/[^/]+/?$")),
    ("video", re.compile(r"/(?:videos?|watch|tv/video|فيديو)(?:/|$)")),
    ("listing", re.compile(r"/(?:category|categories|section|sections|cat|news-list|latest|most-read|قسم)"
                           r"(?:/[^/]*)?/?$|/page/\d+/?$")),
)
_HOME_KEYS = {"lang", "hl", "ref", "from", "amp"}
_SEARCH_KEYS = {"q", "s", "query", "search", "keyword", "keywords", "text", "term", "k"}
_ARTICLE_PATH = re.compile(r"/(?:19|20)\d\d/\d{1,2}/|\d{5,}|[^/]+-[^/]+-[^/]+-[^/]+|\.html?$|\.s?html$")


def url_kind(url: str | None) -> str | None:
    """What the URL's shape says: ``'home'``, ``'search'``, ``'author'``, ``'tag'``, ``'video'``,
    ``'listing'``, ``'article'`` or ``None`` (it says nothing)."""
    if not url:
        return None
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    keys = {k.lower() for k, v in parse_qsl(parts.query, keep_blank_values=True) if v and not k.startswith("utm_")}
    if keys & _SEARCH_KEYS and not _ARTICLE_PATH.search(path):
        return "search"
    stripped = re.sub(r"/(?:index\.\w+)?$", "", re.sub(r"^/(?:[a-z]{2}(?:-[a-z]{2})?)(?=/|$)", "", path))
    if not stripped:
        return None if keys - _HOME_KEYS else "home"  # /?p=123 is a post
    for kind, pattern in _URL_KINDS:
        if pattern.search(path):
            return kind
    if _ARTICLE_PATH.search(path):
        return "article"
    return None


# ---------------------------------------------------------------- the verdict

_ERROR_WORDS = re.compile(
    r"\b(?:404|403|410|500|502|503|504)\b|not found|unavailable|error|maintenance|"
    r"غير\s+(?:موجود|متاح|متوفر)|لم\s+يتم\s+العثور|غير\s+موجوده|عذرا|صيانة|خطأ|الخدمة\s+متوقفة",
    re.IGNORECASE,
)


@dataclass
class _Evidence:
    score: float = 0.0
    hints: list[tuple[str, str]] = field(default_factory=list)  # (kind, why) against an article
    fors: list[str] = field(default_factory=list)

    def against(self, weight: float, kind: str, why: str) -> None:
        self.score -= weight
        self.hints.append((kind, why))

    def supports(self, weight: float, why: str) -> None:
        self.score += weight
        self.fors.append(why)


def _self_description(og: str, ld: set[str], url: str | None, ev: _Evidence) -> None:
    if ld & _ARTICLE_TYPES:
        ev.supports(2, "JSON-LD " + "/".join(sorted(ld & _ARTICLE_TYPES)))
    else:
        for t, kind in _LISTING_TYPES.items():
            if t in ld:
                ev.against(2, kind, f"JSON-LD {t}")
    if og == "article":
        ev.supports(1, "og:type article")
    elif og.startswith("video"):
        ev.against(2, "video", f"og:type {og}")
    elif og == "profile":
        ev.against(2, "author", "og:type profile")
    shape = url_kind(url)
    if shape == "article":
        ev.supports(1, "article-shaped URL")
    elif shape:
        ev.against(2, shape, f"{shape} URL")


_SOME_PROSE = 200  # chars of running text: below this a page has no text of its own to speak of


def _structure(f: PageFeatures, ev: _Evidence) -> None:
    if f.prose_chars >= 1500 or f.longest_prose >= 700:
        ev.supports(4, f"{f.prose_blocks} prose paragraphs ({f.prose_chars} chars)")
    elif f.prose_chars >= 700:
        ev.supports(2.5, f"{f.prose_blocks} prose paragraphs ({f.prose_chars} chars)")
    elif f.prose_chars >= _SOME_PROSE:
        ev.supports(1, f"{f.prose_blocks} prose paragraphs ({f.prose_chars} chars)")
    rows = f.teaser_rows
    if rows >= 4 and f.teaser_chars > f.prose_chars:
        ev.against(2 + min(rows, 20) / 5, "listing", f"{rows} teaser rows")
    share = f.link_share
    if f.text_chars > 150 and share > 0.45 and f.prose_chars < 500:
        kind = "directory" if f.hosts >= 10 and not rows else "listing"
        ev.against(1 + 4 * (share - 0.45), kind, f"{share:.0%} of the text in links")
    if f.prose_chars < _SOME_PROSE and f.hosts >= 15 and not rows:
        ev.against(1.5, "directory", f"links to {f.hosts} sites and no prose")
    if f.prose_chars < _SOME_PROSE and f.headline_links >= 8:
        ev.against(1.5, "listing", f"{f.headline_links} headline links and no prose")


def _special(f: PageFeatures, title: str, ev: _Evidence) -> PageType | None:
    """The pages that say what they are in so many words: error pages, consent walls, players."""
    small = f.prose_chars < 300 and f.longest_prose < 300
    if small and _ERROR_WORDS.search(" ".join([title, *f.headings[:3]])):
        return PageType(False, "error", f"error page: {' '.join(title.split())[:60]!r} and no prose")
    if f.consent_chars and f.prose_chars + f.teaser_chars < f.consent_chars:
        return PageType(False, "consent", f"consent wall: {f.consent_chars} chars of cookie notice, no prose")
    if f.players and small and any(k == "video" for k, _ in ev.hints):
        return PageType(False, "video", "video page: a player and no prose")
    return None


_KIND_ORDER = ("search", "author", "tag", "home", "video", "directory", "listing")


def _verdict(ev: _Evidence) -> PageType:
    if ev.score >= 0 or not ev.hints:
        return PageType(True, "article", "; ".join(ev.fors) or "nothing says otherwise")
    kinds = [k for k, _ in ev.hints]
    kind = next(k for k in _KIND_ORDER if k in kinds)
    reason = "; ".join(why for _, why in ev.hints)
    if ev.fors:
        reason += " (outweighing " + "; ".join(ev.fors) + ")"
    return PageType(False, kind, reason)


def classify_html(root: etree._Element, url: str | None = None, title: str | None = None,
                  json_ld: JsonLd | None = None) -> PageType:
    """The verdict on a parsed HTML page (``root`` as :func:`crawler.core.htmltree.load_html` gives it).
    ``json_ld`` is the page's JSON-LD when the caller has read it (:func:`read_json_ld`), so it is read once."""
    feats = page_features(root, url)
    if title is None:
        found = root.find(".//title")
        title = found.text_content() if found is not None else ""
    ev = _Evidence()
    _self_description(_og_type(root), _ld_types(json_ld if json_ld is not None else read_json_ld(root)), url, ev)
    special = _special(feats, title or "", ev)
    if special is not None:
        return special
    _structure(feats, ev)
    return _verdict(ev)


def classify_text(lines: list[str], url: str | None = None, title: str | None = None) -> PageType:
    """The verdict on a saved page text (one page element a line): prose and the URL only."""
    feats = PageFeatures()
    for line in lines:
        text = " ".join(line.split())
        feats.text_chars += len(text)
        if len(text.split()) >= _PROSE_WORDS and (_SENTENCE_END.search(text) or len(text.split()) >= 25):
            if _CONSENT.search(text):
                feats.consent_chars += len(text)
                continue
            feats.prose_blocks += 1
            feats.prose_chars += len(text)
            feats.longest_prose = max(feats.longest_prose, len(text))
    ev = _Evidence()
    _self_description("", set(), url, ev)
    special = _special(feats, title or "", ev)
    if special is not None:
        return special
    _structure(feats, ev)
    return _verdict(ev)


def classify_bytes(data: bytes, url: str | None = None, *, text: bool = False) -> PageType:
    """The verdict on raw page bytes (decoded and parsed as the extractor does); ``text`` for a
    saved page text."""
    if text:
        return classify_text(decode_text(data).text.splitlines(), url)
    root = load_html(decode_html(data).text)
    if root is None:
        return PageType(True, "article", "not HTML: nothing to judge by")
    return classify_html(root, url)
