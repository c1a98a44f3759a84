"""The sources file: one ``[[sources]]`` table per outlet, loaded into typed, validated records.

Example (every field but ``name`` and one of feeds/sitemaps/listings is optional)::

    [[sources]]
    name = "lbci"                                        # unique; letters, digits, . _ - (100 at most)
    feeds = ["https://www.lbcgroup.tv/Rss/latest-news/ar"]  # RSS / Atom / JSON Feed
    sitemaps = ["https://www.lbcgroup.tv/sitemap_index.xml"]  # sitemaps, indexes, Google News sitemaps
    listings = [{ url = "https://example.com/news/", follow = "/news/\\\\d+", next = "a.next" }]
    allowed_domains = ["lbcgroup.tv"]                    # default: the hosts of the URLs above
    allow = []                                           # URL regexes an article must match (any)
    deny = ["/video/"]                                   # URL regexes that exclude
    locale = "ar-LB"                                     # default "ar"
    timezone = "Asia/Beirut"                             # IANA name; default "UTC"
    interval = "30m"                                     # polling interval; default "1h", at most 366d
    min_interval = "10m"                                 # default interval / 4
    max_interval = "4h"                                  # default interval * 8
    enabled = true
    refetch = ["1h", "6h", "1d", "3d"]                   # re-fetch articles this long after first sight
                                                         # (the default); false: never on a schedule
    retry_rejected = 4                                   # retries of a rejected page (default 4; 0: none)

Every problem raises :class:`SourcesError` with one line naming the file, the source and the field;
so do a file over 10 MB, nesting too deep for the parser and strings over 4096 characters.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tldextract
from cssselect import GenericTranslator, SelectorError

from crawler.core.canonical import canonicalize_url
from crawler.core.errors import SourcesError, os_reason
from crawler.core.refetch import DEFAULT_RETRIES, DEFAULT_SCHEDULE, MAX_RETRIES, MAX_SCHEDULE, RefetchPolicy

__all__ = ["Listing", "Source", "SourcesError", "load_sources", "parse_sources", "parse_interval"]


# --- durations ---------------------------------------------------------------------------------

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
#: The longest interval a source may ask for (a year): longer is a typo, and overflows date arithmetic.
MAX_DURATION = timedelta(days=366)
_DURATION = re.compile(r"(?:\d+[smhd])+")
_DURATION_PART = re.compile(r"(\d+)([smhd])")


def parse_interval(text: str) -> timedelta:
    """Parse a duration such as ``30s``, ``5m``, ``2h``, ``1d`` or ``1h30m`` into a positive timedelta."""
    compact = text.strip().lower() if isinstance(text, str) else ""
    if not _DURATION.fullmatch(compact):
        raise ValueError(f"{_show(text)} is not a duration like 30s, 5m, 2h, 1d")
    delta = timedelta()
    for amount, unit in _DURATION_PART.findall(compact):
        if len(amount) > 9:  # beyond any sensible interval; and timedelta overflows
            raise ValueError(f"{_show(text)} is longer than {MAX_DURATION.days} days")
        delta += timedelta(**{_UNITS[unit]: int(amount)})
    if delta <= timedelta(0):
        raise ValueError(f"{_show(text)} is not a positive duration")
    if delta > MAX_DURATION:
        raise ValueError(f"{_show(text)} is longer than {MAX_DURATION.days} days")
    return delta


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A section front to crawl: links matching ``follow`` are articles; ``next`` selects the next page."""

    url: str
    follow: re.Pattern[str] | None = None
    next: str | None = None


@dataclass(frozen=True)
class Source:
    """One outlet, validated.  Domains are lower-case ASCII (IDNA); patterns are compiled."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[Listing, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()
    locale: str = "ar"
    timezone: str = "UTC"
    interval: timedelta = timedelta(hours=1)
    min_interval: timedelta = field(default=timedelta(minutes=15))
    max_interval: timedelta = field(default=timedelta(hours=8))
    enabled: bool = True
    refetch: tuple[timedelta, ...] = DEFAULT_SCHEDULE
    retry_rejected: int = DEFAULT_RETRIES

    @property
    def refetch_policy(self) -> RefetchPolicy:
        """When this source's seen articles are fetched again (:mod:`crawler.core.refetch`)."""
        return RefetchPolicy(self.refetch, self.retry_rejected)

    @property
    def start_urls(self) -> tuple[str, ...]:
        """Every URL the source names: feeds, sitemaps, then listing pages."""
        return (*self.feeds, *self.sitemaps, *(listing.url for listing in self.listings))

    def url_allowed(self, url: str) -> bool:
        """True if ``url`` is http(s) on an allowed domain (or a subdomain of one), matches an
        ``allow`` pattern when there are any, and matches no ``deny`` pattern."""
        try:
            parts = urlsplit(url.strip())
            host = _ascii_host(parts.hostname or "")
        except ValueError:
            return False
        if parts.scheme.lower() not in ("http", "https") or not host:
            return False
        if not any(host == d or host.endswith("." + d) for d in self.allowed_domains):
            return False
        if any(p.search(url) for p in self.deny):
            return False
        return not self.allow or any(p.search(url) for p in self.allow)

    def allowed_url(self, raw: str) -> str | None:
        """The canonical form of link ``raw`` (:func:`crawler.core.canonical.canonicalize_url`) when
        the source allows it (:meth:`url_allowed`); ``None`` when it is malformed or not allowed."""
        try:
            url = canonicalize_url(raw)
        except ValueError:
            return None
        return url if self.url_allowed(url) else None


# --- validation helpers ------------------------------------------------------------------------

_FIELDS = frozenset(
    {"name", "feeds", "sitemaps", "listings", "allowed_domains", "allow", "deny", "locale", "timezone",
     "interval", "min_interval", "max_interval", "enabled", "refetch", "retry_rejected"}
)
_LISTING_FIELDS = frozenset({"url", "follow", "next"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: Longest source name: it names WARC files and log lines.
MAX_NAME = 100
#: Longest string in any other field (URLs, patterns, selectors...).
MAX_STRING = 4096
#: Largest sources file read.
MAX_FILE_BYTES = 10 * 1024 * 1024
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _ascii_host(host: str) -> str:
    """Lower-case, IDNA-encoded host without a trailing dot (raises ValueError if not encodable)."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{host!r} is not a valid host name") from exc


@lru_cache(maxsize=1)
def _suffixes() -> tldextract.TLDExtract:
    """Public Suffix List from tldextract's bundled snapshot: no network, no cache files."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _site_domain(host: str) -> str:
    """The registrable domain of ``host`` (``feeds.bbci.co.uk`` -> ``bbci.co.uk``); the host itself
    for IP addresses, ``localhost`` and the like."""
    return _suffixes()(host).top_domain_under_public_suffix or host


class _Checker:
    """Builds one-line error messages for one source of one file."""

    def __init__(self, path: str, label: str) -> None:
        self.path = path
        self.label = label

    def fail(self, fieldname: str | None, message: str) -> SourcesError:
        where = f"{self.path}: {self.label}"
        if fieldname:
            where += f': field "{fieldname}"'
        return SourcesError(f"{where}: {message}")

    def string(self, table: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
        value = table.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail(key, f"must be a non-empty string, not {_show(value)}")
        if isinstance(value, str):
            self.short(key, value)
        return value.strip() if isinstance(value, str) else None

    def short(self, key: str, value: str, limit: int = MAX_STRING) -> None:
        if len(value) > limit:
            raise self.fail(key, f"{_show(value)} is longer than {limit} characters")

    def strings(self, table: Mapping[str, Any], key: str) -> list[str]:
        value = table.get(key, [])
        if isinstance(value, str):
            raise self.fail(key, f"must be a list of strings: write [{_show(value)}]")
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of strings, not {_show(value)}")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise self.fail(key, f"must be a list of non-empty strings; found {_show(item)}")
            self.short(key, item)
        return [item.strip() for item in value]

    def url(self, key: str, value: str) -> str:
        try:
            parts = urlsplit(value)
            host, _ = parts.hostname, parts.port  # .port raises ValueError for a bad port
        except ValueError as exc:
            raise self.fail(key, f"{_show(value)} is not a valid URL ({exc})") from None
        if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in value):
            raise self.fail(key, f"{_show(value)} is not an http(s) URL with a host")
        try:
            _ascii_host(host)
        except ValueError as exc:
            raise self.fail(key, f"{_show(value)} is not a valid URL ({exc})") from None
        return value

    def pattern(self, key: str, value: str) -> re.Pattern[str]:
        try:
            return re.compile(value)
        except re.error as exc:
            raise self.fail(key, f"{_show(value)} is not a valid regular expression ({exc})") from None

    def duration(self, table: Mapping[str, Any], key: str, default: timedelta) -> timedelta:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(key, f"{_show(value)} is not a duration like 30s, 5m, 2h, 1d (write it in quotes)")
        try:
            return parse_interval(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def unknown(self, table: Mapping[str, Any], known: frozenset[str], prefix: str = "") -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                raise self.fail(prefix + key, f"unknown field{hint}")


def _show(value: object) -> str:
    """A short, one-line rendering of a value for messages."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= 80 else text[:77] + "..."


# --- one source --------------------------------------------------------------------------------


def _listings(check: _Checker, table: Mapping[str, Any]) -> tuple[Listing, ...]:
    value = table.get("listings", [])
    if not isinstance(value, list):
        raise check.fail("listings", f"must be a list of tables like {{ url = ... }}, not {_show(value)}")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise check.fail("listings", f"must be a list of tables like {{ url = ... }}; found {_show(item)}")
        check.unknown(item, _LISTING_FIELDS, prefix="listings.")
        url = check.string(item, "url")
        if url is None:
            raise check.fail("listings.url", "is required for every listing")
        follow = check.string(item, "follow")
        nxt = check.string(item, "next")
        if nxt is not None:
            try:
                GenericTranslator().css_to_xpath(nxt)
            except SelectorError as exc:
                raise check.fail("listings.next", f"{_show(nxt)} is not a valid CSS selector ({exc})") from None
        out.append(Listing(check.url("listings.url", url), check.pattern("listings.follow", follow) if follow else None, nxt))
    return tuple(out)


def _domains(check: _Checker, table: Mapping[str, Any], urls: tuple[str, ...]) -> tuple[str, ...]:
    given = check.strings(table, "allowed_domains")
    domains: list[str] = []
    for raw in given:
        if "/" in raw or ":" in raw:
            raise check.fail("allowed_domains", f"{_show(raw)} must be a bare domain like \"example.com\"")
        try:
            domain = _ascii_host(raw)
        except ValueError as exc:
            raise check.fail("allowed_domains", str(exc)) from None
        if not _DOMAIN.fullmatch(domain):
            raise check.fail("allowed_domains", f"{_show(raw)} is not a domain name")
        domains.append(domain)
    if not domains:  # derive from the URLs: the site's registrable domain (subdomains are allowed)
        domains = [_site_domain(_ascii_host(urlsplit(u).hostname or "")) for u in urls]
    return tuple(dict.fromkeys(domains))


def _timezone(check: _Checker, table: Mapping[str, Any]) -> str:
    tz = check.string(table, "timezone", "UTC") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise check.fail("timezone", f"{_show(tz)} is not a known IANA time zone like \"Asia/Beirut\"") from None
    return tz


def _refetch(check: _Checker, table: Mapping[str, Any]) -> tuple[timedelta, ...]:
    """``refetch``: a list of increasing durations after first sight; ``false`` (or ``[]``) for none;
    ``true`` or absent for :data:`crawler.core.refetch.DEFAULT_SCHEDULE`."""
    value = table.get("refetch", True)
    if isinstance(value, bool):
        return DEFAULT_SCHEDULE if value else ()
    if not isinstance(value, list):
        raise check.fail("refetch", f'must be false or a list of durations like ["1h", "6h", "1d"], not {_show(value)}')
    if len(value) > MAX_SCHEDULE:
        raise check.fail("refetch", f"has {len(value)} durations; at most {MAX_SCHEDULE}")
    offsets: list[timedelta] = []
    for item in value:
        if not isinstance(item, str):
            raise check.fail("refetch", f"{_show(item)} is not a duration like 30s, 5m, 2h, 1d (write it in quotes)")
        try:
            offset = parse_interval(item)
        except ValueError as exc:
            raise check.fail("refetch", str(exc)) from None
        if offsets and offset <= offsets[-1]:
            raise check.fail("refetch", f"{_show(item)} is not later than the duration before it (list them in increasing order)")
        offsets.append(offset)
    return tuple(offsets)


def _retries(check: _Checker, table: Mapping[str, Any]) -> int:
    value = table.get("retry_rejected", DEFAULT_RETRIES)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise check.fail("retry_rejected", f"must be a whole number from 0 to {MAX_RETRIES}, not {_show(value)}")
    return value


def _source(path: str, index: int, table: object) -> Source:
    """Validate one ``[[sources]]`` table (``index`` counts from 1)."""
    check = _Checker(path, f"source #{index}")
    if not isinstance(table, dict):
        raise check.fail(None, "must be a table ([[sources]])")
    name = check.string(table, "name")
    if name is None:
        raise check.fail("name", "is required")
    check.short("name", name, MAX_NAME)
    if not _NAME.fullmatch(name):
        raise check.fail("name", f"{_show(name)} may hold only letters, digits, '.', '_' and '-'")
    check = _Checker(path, f'source "{name}"')
    check.unknown(table, _FIELDS)
    feeds = tuple(check.url("feeds", u) for u in check.strings(table, "feeds"))
    sitemaps = tuple(check.url("sitemaps", u) for u in check.strings(table, "sitemaps"))
    listings = _listings(check, table)
    if not (feeds or sitemaps or listings):
        raise check.fail(None, "needs at least one of feeds, sitemaps or listings")
    urls = (*feeds, *sitemaps, *(listing.url for listing in listings))
    locale = check.string(table, "locale", "ar") or "ar"
    if not _LOCALE.fullmatch(locale):
        raise check.fail("locale", f"{_show(locale)} is not a locale like \"ar\" or \"ar-EG\"")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise check.fail("enabled", f"must be true or false, not {_show(enabled)}")
    interval = check.duration(table, "interval", timedelta(hours=1))
    low = check.duration(table, "min_interval", interval / 4)
    high = check.duration(table, "max_interval", interval * 8)
    if not low <= interval <= high:
        raise check.fail("interval", "must lie between min_interval and max_interval")
    return Source(
        name=name,
        feeds=feeds,
        sitemaps=sitemaps,
        listings=listings,
        allowed_domains=_domains(check, table, urls),
        allow=tuple(check.pattern("allow", p) for p in check.strings(table, "allow")),
        deny=tuple(check.pattern("deny", p) for p in check.strings(table, "deny")),
        locale=locale,
        timezone=_timezone(check, table),
        interval=interval,
        min_interval=low,
        max_interval=high,
        enabled=enabled,
        refetch=_refetch(check, table),
        retry_rejected=_retries(check, table),
    )


# --- the file ----------------------------------------------------------------------------------


def parse_sources(text: str, path: str = "sources.toml") -> list[Source]:
    """Parse and validate the TOML text of a sources file (``path`` is used in messages)."""
    if len(text) > MAX_FILE_BYTES:
        raise SourcesError(f"{path}: too large (more than {MAX_FILE_BYTES // 1024 // 1024} MB)")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise SourcesError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    extra = sorted(set(data) - {"sources"})
    if extra:
        raise SourcesError(f'{path}: unknown top-level key "{extra[0]}" (only [[sources]] tables belong here)')
    tables = data.get("sources")
    if not isinstance(tables, list) or not tables:
        raise SourcesError(f"{path}: no [[sources]] tables")
    sources = [_source(path, i, table) for i, table in enumerate(tables, start=1)]
    seen: dict[str, int] = {}
    for i, source in enumerate(sources, start=1):
        key = source.name.lower()
        if key in seen:
            raise SourcesError(
                f'{path}: source "{source.name}": field "name": duplicate of source #{seen[key]} (names are unique)'
            )
        seen[key] = i
    return sources


def load_sources(path: str | Path) -> list[Source]:
    """Read, parse and validate a sources file; raise :class:`SourcesError` on any problem."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SourcesError(f"{path}: too large (more than {MAX_FILE_BYTES // 1024 // 1024} MB)")
        text = data.decode("utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read: {os_reason(exc)}") from None
    except UnicodeDecodeError:
        raise SourcesError(f"{path}: cannot read: not UTF-8 text") from None
    return parse_sources(text, str(path))
