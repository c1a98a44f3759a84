"""URL canonicalisation for the "already seen?" check of incremental crawling.

:func:`canonicalize_url` maps every spelling of one article's address to one string:

* scheme and host lower-case; an internationalised host in punycode (``xn--``), a trailing dot
  on the host dropped; the default port (``:80`` for http, ``:443`` for https) dropped;
* the fragment dropped (it never selects a different document on a news site);
* tracking parameters dropped (see :data:`TRACKING_PARAMS` and :data:`TRACKING_PREFIXES`), the
  remaining query parameters sorted (stable for repeated keys), an empty query removed;
* the path's dot segments resolved, and its percent-encoding normalised the way
  ``w3lib.url.canonicalize_url`` does it: UTF-8, upper-case hex, unreserved characters decoded,
  so ``/ar/أخبار``, ``/ar/%D8%A3...`` and ``/ar/%d8%a3...`` are one URL;
* a trailing slash on a non-root path removed: news sites serve ``/a/`` and ``/a`` as the same
  article (one usually redirects to the other), and counting them twice would archive it twice.

``www.`` is kept: ``www.example.com`` and ``example.com`` are different hosts in general, and a site
that serves both redirects one to the other anyway.

:func:`page_canonical` reads a page's own ``<link rel="canonical">`` (then ``og:url``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml.etree import ParserError
from w3lib.url import canonicalize_url as _w3lib_canonicalize

__all__ = ["canonicalize_url", "page_canonical", "is_tracking_param", "TRACKING_PARAMS", "TRACKING_PREFIXES"]

TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # ad-click identifiers: Facebook, Google Ads, DoubleClick, Microsoft, Yandex, TikTok, Twitter/X,
        # LinkedIn, Instagram, Google search result ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ttclid", "twclid",
        "li_fat_id", "igshid", "igsh", "srsltid",
        # Mailchimp, HubSpot, Marketo, Vero, Oracle Eloqua, Adobe
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "vero_id", "vero_conv", "elqtrackid",
        "elqtrack", "s_kwcid", "ef_id", "cmpid",
        # Google Analytics linker, AT Internet (used by many French-owned outlets)
        "_ga", "_gl", "xtor", "at_medium", "at_campaign", "at_creation", "at_format", "at_platform",
        "at_send_date", "at_link", "at_variant",
        # share/referral markers added by social buttons and aggregators
        "ref_src", "ref_url", "__twitter_impression", "share_source", "wt_mc", "wt.mc_id", "ncid", "ocid",
        "smid", "sr_share", "rss_source",
    }
)
"""Query parameters that only say how a reader arrived (compared case-insensitively)."""

TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_", "matomo_")
"""Families of tracking parameters: Google/Urchin (utm_), Piwik/Matomo (pk_, mtm_, matomo_), HubSpot ads."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    """True if the query parameter ``name`` is a known tracking parameter."""
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _strip_tracking(query: str) -> str:
    """Drop tracking parameters from a raw query string, leaving the others untouched."""
    kept = [part for part in query.split("&") if part and not is_tracking_param(part.split("=", 1)[0])]
    return "&".join(kept)


def _netloc(scheme: str, netloc: str) -> str:
    """Drop the default port and a trailing dot on the host (userinfo kept as is)."""
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    match = re.fullmatch(r"(.*?)(?::(\d*))?", hostport)
    if match and not hostport.endswith("]"):
        host, port = match.group(1), match.group(2) or ""
    host = host.rstrip(".")
    if port and int(port) == _DEFAULT_PORTS.get(scheme):
        port = ""
    hostport = f"{host}:{port}" if port else host
    return f"{userinfo}@{hostport}" if userinfo else hostport


@lru_cache(maxsize=4096)  # a page's URL is asked for several times (fetched, announced, seen-URL check)
def canonicalize_url(url: str) -> str:
    """The canonical form of an http(s) URL (idempotent); raises ``ValueError`` for anything else."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    cleaned = urlunsplit((scheme, parts.netloc, parts.path or "/", _strip_tracking(parts.query), ""))
    canon = urlsplit(_w3lib_canonicalize(cleaned, keep_fragments=False))  # also resolves dot segments
    path = canon.path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit((canon.scheme, _netloc(canon.scheme, canon.netloc.lower()), path, canon.query, ""))


# --- the page's own claim ---------------------------------------------------------------------

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def _tree(html: object) -> lxml.html.HtmlElement | None:
    """Parse ``html`` (an lxml tree or element, str or bytes) into an element, or ``None``."""
    if hasattr(html, "xpath"):
        return html
    if hasattr(html, "getroot"):
        return html.getroot()
    if isinstance(html, str):
        html = _XML_DECLARATION.sub("", html, count=1)
    if not html or not str(html).strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return None


def _is_root(url: str) -> bool:
    """True for a site's home page (after canonicalisation: tracking parameters do not count)."""
    try:
        parts = urlsplit(canonicalize_url(url))
    except ValueError:
        return False
    return parts.path == "/" and not parts.query


def _accept(value: str | None, base_url: str) -> str | None:
    """Resolve and canonicalise a claimed canonical URL; ``None`` if empty, not http(s), or a site root
    claimed by a page that is not itself a root (a CMS default that would merge every article)."""
    if not value or not value.strip():
        return None
    try:
        url = canonicalize_url(urljoin(base_url, value.strip()))
    except ValueError:
        return None
    if _is_root(url) and not _is_root(base_url):
        return None
    return url


def page_canonical(html: object, base_url: str) -> str | None:
    """The page's canonical URL from ``<link rel="canonical">``, else ``og:url``; resolved against
    ``base_url`` and canonicalised.  ``html`` is an lxml tree/element or the page source."""
    tree = _tree(html)
    if tree is None:
        return None
    links = tree.xpath("//link[@href][contains(concat(' ', translate(normalize-space(@rel),"
                       " 'CANONICAL', 'canonical'), ' '), ' canonical ')]/@href")
    metas = tree.xpath("//meta[@property='og:url' or @name='og:url'][@content]/@content")
    for value in [*links, *metas]:
        url = _accept(str(value), base_url)
        if url is not None:
            return url
    return None
