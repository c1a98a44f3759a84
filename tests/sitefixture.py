"""A small Arabic news site served on 127.0.0.1, made from real article pages.

The site is described by ``tests/fixtures/site/site.json`` (which page lives at which path and
which feed, sitemap or listing page links to it, with which tracking variant).  Everything
around the articles is generated from that file: robots.txt, an RSS feed, an Atom feed, a
sitemap index with a Google News sitemap and a pages sitemap, a paginated listing.  Feeds and
sitemaps carry ETag / Last-Modified and answer conditional requests with 304.  One article
answers 503 (``Retry-After: 1``) before it recovers; one link is dead (404); one article lies
under a path robots.txt disallows.  Every request is logged for the tests to inspect.

Use from pytest through the ``fixture_site`` fixture (tests/conftest.py), from a script as
``with FixtureSite() as site: ...``, or by hand: ``python -m tests.sitefixture --port 8000``.
Standard library only, so that it can never share a bug with the code it tests.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

SITE_DIR = Path(__file__).resolve().parent / "fixtures" / "site"
HOST = "127.0.0.1"

#: Where a page can be linked from.  "listing-N" is page N of /news/.
CHANNELS = ("rss", "atom", "news-sitemap", "pages-sitemap", "listing")
#: Resources that support conditional GET (ETag / Last-Modified -> 304).
CONDITIONAL = ("/feed.xml", "/atom.xml", "/sitemap_index.xml", "/sitemap-news.xml", "/sitemap-pages.xml")
_CHANGED_BY_NEW_ARTICLE = ("/feed.xml", "/atom.xml", "/sitemap_index.xml", "/sitemap-news.xml")
_SAFE_PATH = "/-._~!$&'()*+,;=:@"


@dataclass(frozen=True)
class LogEntry:
    """One request the site answered."""

    method: str
    target: str  # the request target as sent: percent-encoded path and query
    path: str  # the decoded path, without query
    status: int
    headers: dict[str, str]  # request headers, names as sent


@dataclass
class Page:
    """A page the site links to.  ``body`` None means the link is dead (404)."""

    id: str
    path: str  # decoded, as published (trailing slash included when the site uses one)
    title: str
    published: str | None
    summary: str | None
    links: dict[str, str]  # channel -> suffix appended to the URL there (tracking variants)
    body: bytes | None
    content_type: str = "text/html; charset=utf-8"
    fail_first: int = 0  # answer 503 this many times before 200
    modified: datetime | None = None  # sitemap lastmod when it differs from ``published``
    origin: str | None = None
    failures: int = field(default=0, compare=False)


def _key(path: str) -> str:
    """Lookup key of a decoded path: trailing slashes do not make another page."""
    return path.rstrip("/") or "/"


def _moment(value: str | None) -> datetime | None:
    """ISO 8601 date or datetime -> aware datetime (a bare date is midnight UTC)."""
    if not value:
        return None
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _w3c(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


class FixtureSite:
    """The site.  ``start()`` (or ``with``) serves it on an ephemeral port of 127.0.0.1."""

    def __init__(self, root: Path = SITE_DIR, port: int = 0) -> None:
        self.root = Path(root)
        manifest = json.loads((self.root / "site.json").read_text(encoding="utf-8"))
        self.name: str = manifest["name"]
        self.disallow: list[str] = manifest["robots_disallow"]
        self.pages: list[Page] = [self._page(entry) for entry in manifest["articles"]]
        self._reserve: list[Page] = [self._page(entry) for entry in manifest["reserve"]]
        initial = _moment(manifest["updated"])
        assert initial is not None
        self._modified = dict.fromkeys(CONDITIONAL, initial)
        self._log: list[LogEntry] = []
        self._lock = threading.RLock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _page(self, entry: dict) -> Page:
        file = entry.get("file")
        return Page(
            id=entry["id"],
            path=entry["path"],
            title=entry["title"],
            published=entry.get("published"),
            summary=entry.get("summary"),
            links=dict(entry.get("links", {})),
            body=(self.root / file).read_bytes() if file else None,
            content_type=entry.get("content_type", "text/html; charset=utf-8"),
            fail_first=entry.get("fail_first", 0),
            origin=entry.get("origin"),
        )

    def write_sources(self, path: Path, name: str = "fixture", **fields: str) -> Path:
        """A sources file with one outlet, this site (started): its two feeds, its sitemap index and its
        news listing, plus ``fields`` (``timezone="Africa/Cairo"``, ``interval="5s"`` ...)."""
        extra = "".join(f'{key} = "{value}"\n' for key, value in fields.items())
        path.write_text(f"""[[sources]]
name = "{name}"
feeds = ["{self.url}/feed.xml", "{self.url}/atom.xml"]
sitemaps = ["{self.url}/sitemap_index.xml"]
listings = [{{ url = "{self.url}/news/", next = "a[rel=next]" }}]
{extra}""", encoding="utf-8")
        return path

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FixtureSite:
        handler = type("FixtureHandler", (_Handler,), {"site": self})
        self._server = ThreadingHTTPServer((HOST, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fixture-site", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "the site is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{HOST}:{self.port}"

    def url_for(self, path: str, suffix: str = "") -> str:
        """Absolute URL of a decoded ``path`` (percent-encoded as the site publishes it)."""
        return self.url + quote(path, safe=_SAFE_PATH) + suffix

    # -- what tests read ----------------------------------------------------------------------
    @property
    def log(self) -> list[LogEntry]:
        """Every request answered since start or the last :meth:`reset_log`, in order."""
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def hits(self, path: str) -> list[LogEntry]:
        """Requests for the decoded ``path`` (any query, with or without trailing slash)."""
        return [entry for entry in self.log if _key(entry.path) == _key(path)]

    def disallowed(self, page: Page) -> bool:
        return any(page.path.startswith(prefix) for prefix in self.disallow)

    def article_urls(self, channel: str | None = None) -> list[str]:
        """Canonical URLs of the articles a polite crawler can store (optionally: those linked
        from ``channel``, e.g. "rss", "listing").  Dead links and disallowed pages excluded."""
        return [
            self.url_for(page.path)
            for page in self._linked(channel)
            if page.body is not None and not self.disallowed(page)
        ]

    def disallowed_urls(self) -> list[str]:
        return [self.url_for(page.path) for page in self._linked(None) if self.disallowed(page)]

    def missing_urls(self) -> list[str]:
        return [self.url_for(page.path) for page in self._linked(None) if page.body is None]

    def _linked(self, channel: str | None) -> list[Page]:
        """Pages linked from ``channel`` ("listing" means any listing page), or all pages."""
        with self._lock:
            pages = list(self.pages)
        if channel is None:
            return pages
        return [page for page in pages if any(name == channel or name.startswith(f"{channel}-") for name in page.links)]

    # -- changing the site between crawls ---------------------------------------------------
    def add_article(
        self,
        title: str | None = None,
        *,
        path: str | None = None,
        html: bytes | None = None,
        published: str | None = None,
        summary: str | None = None,
        listing: bool = False,
    ) -> str:
        """Publish a new article in the RSS and Atom feeds and the news sitemap; return its URL.

        Without ``html`` the next unused real page of the manifest's reserve is published.
        ``listing=True`` also puts it at the top of listing page 1.  Feeds and sitemaps get a
        new ETag and a later Last-Modified.
        """
        now = datetime.now(timezone.utc).replace(microsecond=0)
        with self._lock:
            if html is None:
                if not self._reserve:
                    raise LookupError("no reserve page left: pass html=")
                page = self._reserve.pop(0)
            else:
                serial = len(self.pages) + 1
                page = Page(id=f"added-{serial}", path=path or f"/news/added-{serial}.html",
                            title=title or f"خبر جديد {serial}", published=None, summary=None,
                            links={}, body=html)
            page.path = path or page.path
            page.title = title or page.title
            page.published = published or page.published or now.isoformat()
            page.summary = summary or page.summary
            page.modified = now
            page.links = {"rss": "", "atom": "", "news-sitemap": ""}
            if listing:
                page.links["listing-1"] = ""
            self.pages.insert(0, page)
            for resource in _CHANGED_BY_NEW_ARTICLE:
                self._modified[resource] = max(now, self._modified[resource] + timedelta(seconds=1))
        return self.url_for(page.path)

    # -- documents ----------------------------------------------------------------------------
    def _in(self, channel: str) -> list[tuple[Page, str]]:
        """(page, absolute URL as linked there) for every page linked from ``channel``."""
        with self._lock:
            return [(page, self.url_for(page.path, page.links[channel])) for page in self.pages if channel in page.links]

    def listing_pages(self) -> int:
        with self._lock:
            numbers = [int(name.split("-")[1]) for page in self.pages for name in page.links if name.startswith("listing-")]
        return max(numbers, default=1)

    def robots_txt(self) -> str:
        rules = "".join(f"Disallow: {prefix}\n" for prefix in self.disallow)
        return f"User-agent: *\n{rules}\nSitemap: {self.url}/sitemap_index.xml\n"

    def home_html(self) -> str:
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{escape(self.name)}</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="{self.url}/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Atom" href="{self.url}/atom.xml">
</head><body><h1>{escape(self.name)}</h1><p><a href="{self.url}/news/">آخر الأخبار</a></p></body></html>
"""

    def listing_html(self, number: int) -> str:
        items = "\n".join(
            f'<li><a href={quoteattr(url)}>{escape(page.title)}</a></li>' for page, url in self._in(f"listing-{number}")
        )
        nav = []
        if number > 1:
            nav.append(f'<a rel="prev" href="{self.url}/news/?page={number - 1}">السابق</a>')
        if number < self.listing_pages():
            nav.append(f'<a rel="next" href="{self.url}/news/?page={number + 1}">التالي</a>')
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>آخر الأخبار - صفحة {number} - {escape(self.name)}</title></head>
<body><h1>آخر الأخبار</h1>
<ul class="news-list">
{items}
</ul>
<nav class="pagination">{" ".join(nav)}</nav>
</body></html>
"""

    def rss(self) -> str:
        items = []
        for page, url in self._in("rss"):
            moment = _moment(page.published)
            pub = f"\n    <pubDate>{format_datetime(moment)}</pubDate>" if moment else ""
            desc = f"\n    <description><![CDATA[{page.summary}]]></description>" if page.summary else ""
            items.append(f"""  <item>
    <title>{escape(page.title)}</title>
    <link>{escape(url)}</link>
    <guid isPermaLink="false">{escape(page.id)}</guid>{pub}{desc}
  </item>""")
        items_xml = "\n".join(items)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>{escape(self.name)}</title>
  <link>{self.url}/</link>
  <description>آخر الأخبار</description>
  <language>ar</language>
  <atom:link href="{self.url}/feed.xml" rel="self" type="application/rss+xml"/>
  <lastBuildDate>{format_datetime(self._modified["/feed.xml"])}</lastBuildDate>
{items_xml}
</channel>
</rss>
"""

    def atom(self) -> str:
        entries = []
        for page, url in self._in("atom"):
            moment = _moment(page.published) or self._modified["/atom.xml"]
            updated = page.modified or moment
            summary = f"\n    <summary>{escape(page.summary)}</summary>" if page.summary else ""
            entries.append(f"""  <entry>
    <id>tag:{HOST},2024:{escape(page.id)}</id>
    <title>{escape(page.title)}</title>
    <link rel="alternate" type="text/html" href={quoteattr(url)}/>
    <published>{_w3c(moment)}</published>
    <updated>{_w3c(updated)}</updated>{summary}
  </entry>""")
        entries_xml = "\n".join(entries)
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">
  <id>{self.url}/atom.xml</id>
  <title>{escape(self.name)}</title>
  <updated>{_w3c(self._modified["/atom.xml"])}</updated>
  <link rel="self" href="{self.url}/atom.xml"/>
  <link rel="alternate" type="text/html" href="{self.url}/"/>
{entries_xml}
</feed>
"""

    def sitemap_index(self) -> str:
        parts = "\n".join(
            f"""  <sitemap>
    <loc>{self.url}{name}</loc>
    <lastmod>{_w3c(self._modified[name])}</lastmod>
  </sitemap>"""
            for name in ("/sitemap-news.xml", "/sitemap-pages.xml")
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{parts}
</sitemapindex>
"""

    def sitemap_news(self) -> str:
        urls = []
        for page, url in self._in("news-sitemap"):
            moment = _moment(page.published)
            lastmod = page.modified or moment
            last = f"\n    <lastmod>{_w3c(lastmod)}</lastmod>" if lastmod else ""
            urls.append(f"""  <url>
    <loc>{escape(url)}</loc>{last}
    <news:news>
      <news:publication><news:name>{escape(self.name)}</news:name><news:language>ar</news:language></news:publication>
      <news:publication_date>{_w3c(moment) if moment else ""}</news:publication_date>
      <news:title>{escape(page.title)}</news:title>
    </news:news>
  </url>""")
        urls_xml = "\n".join(urls)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls_xml}
</urlset>
"""

    def sitemap_pages(self) -> str:
        urls = []
        for page, url in self._in("pages-sitemap"):
            last = f"\n    <lastmod>{page.published[:10]}</lastmod>" if page.published else ""
            urls.append(f"  <url>\n    <loc>{escape(url)}</loc>{last}\n  </url>")
        urls_xml = "\n".join(urls)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls_xml}
</urlset>
"""

    def page_at(self, path: str) -> Page | None:
        with self._lock:
            return next((page for page in self.pages if _key(page.path) == _key(path)), None)

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._log.append(entry)

    def take_failure(self, page: Page) -> bool:
        """Whether this request to ``page`` must fail (503) on its way to recovering."""
        with self._lock:
            if page.failures < page.fail_first:
                page.failures += 1
                return True
            return False

    def modified(self, resource: str) -> datetime:
        with self._lock:
            return self._modified[resource]


_XML_TYPES = {
    "/feed.xml": "application/rss+xml; charset=utf-8",
    "/atom.xml": "application/atom+xml; charset=utf-8",
}
_NOT_FOUND = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>404</title></head>
<body><h1>الصفحة غير موجودة</h1></body></html>
""".encode()
_UNAVAILABLE = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>503</title></head>
<body><h1>الخدمة غير متاحة مؤقتا، يرجى المحاولة لاحقا</h1></body></html>
""".encode()


class _Handler(BaseHTTPRequestHandler):
    site: FixtureSite  # set on the subclass made by FixtureSite.start
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "akhbar-fixture/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet server
        pass

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    # -- routing --------------------------------------------------------------------------
    def _answer(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        status, headers, body = self._route(path, parse_qs(parts.query))
        self.site.record(LogEntry(self.command, self.path, path, status, dict(self.headers.items())))
        self._send(status, headers, body, send_body)

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        site = self.site
        generated = {
            "/feed.xml": site.rss,
            "/atom.xml": site.atom,
            "/sitemap_index.xml": site.sitemap_index,
            "/sitemap-news.xml": site.sitemap_news,
            "/sitemap-pages.xml": site.sitemap_pages,
        }
        if path in generated:
            content_type = _XML_TYPES.get(path, "application/xml; charset=utf-8")
            return self._conditional(path, generated[path]().encode("utf-8"), content_type)
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, site.robots_txt().encode()
        if path == "/":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, site.home_html().encode()
        if _key(path) == "/news":
            number = query.get("page", ["1"])[0]
            if number.isdigit() and 1 <= int(number) <= site.listing_pages():
                return 200, {"Content-Type": "text/html; charset=utf-8"}, site.listing_html(int(number)).encode()
            return self._not_found()
        page = site.page_at(path)
        if page is None or page.body is None:
            return self._not_found()
        if site.take_failure(page):
            return 503, {"Content-Type": "text/html; charset=utf-8", "Retry-After": "1"}, _UNAVAILABLE
        return 200, {"Content-Type": page.content_type}, page.body

    @staticmethod
    def _not_found() -> tuple[int, dict[str, str], bytes]:
        return 404, {"Content-Type": "text/html; charset=utf-8"}, _NOT_FOUND

    def _conditional(self, resource: str, body: bytes, content_type: str) -> tuple[int, dict[str, str], bytes]:
        """200 with validators, or 304 when the client's copy is current (RFC 9110 s13)."""
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        modified = self.site.modified(resource)
        headers = {"Content-Type": content_type, "ETag": etag, "Last-Modified": _http_date(modified)}
        if_none_match = self.headers.get("If-None-Match")
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            if "*" in tags or etag in tags:
                return 304, headers, b""
        elif if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                since = None
            if since is not None and since.tzinfo is not None and modified <= since:
                return 304, headers, b""
        return 200, headers, body

    def _send(self, status: int, headers: dict[str, str], body: bytes, send_body: bool) -> None:
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "").lower()
        if body and status == 200 and accepts_gzip:
            body = gzip.compress(body, mtime=0)
            headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
            if "ETag" in headers:
                headers["ETag"] = "W/" + headers["ETag"]  # as nginx does for compressed variants
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:  # a 304 has no body, and no length to announce
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    """Serve the site on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.sitefixture", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    with FixtureSite(port=args.port) as site:
        print(f"serving {site.url}/ (articles: {len(site.article_urls())}); Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
