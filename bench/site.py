"""A generated Arabic news site of any size, served on 127.0.0.1, for the crawl benchmarks.

The site is made from real article pages (a few outlets' templates: their body text is taken out
and a generated text put in its place; headline, description, dates and URL go into the page's own
metadata slots: <title>, <h1>, Open Graph / Twitter / article: meta tags, <time>, JSON-LD) and from
real Arabic news text (RSS-derived ANT corpus articles, Arabic TimeML news texts), recombined
sentence by sentence, seeded, so that every article has a distinct text of 2-6 KB.

Around the articles: robots.txt (allows all), an RSS feed, a sitemap index with sitemaps of at most
1,000 URLs, a paginated listing (/news/page/N/).  Among the sitemap entries, besides the articles:
exact duplicates under tracking-parameter URLs (?utm_source=...), exact duplicates at a second
path (/a/ID), near-duplicates (another article's text with one paragraph changed), English pages
and dead links (404).  The site knows the truth about each URL (:meth:`GeneratedSite.truth`).

Pages are rendered on request from a compact description (template, sentence numbers, date), so
a site of 1,000 entries is generated in under a second, one of 20,000 in a few seconds.

    with GeneratedSite(pages=1000, delay=0) as site:
        print(site.base_url, site.counts)

    python bench/site.py --pages 1000 --delay 0 --port 8000

Standard library only (plus lxml to turn the real pages into templates, once at start).
"""
from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
REALPAGES = ROOT.parent / "shared" / "realpages"
#: The real pages used as templates (four Arabic outlets, two English sites) and the text corpora.
ARABIC_TEMPLATES = ("magichtml_youm7_6573469.html", "newspaper4k_cnnarabic_syria_clashes.html",
                    "htmldate_albayan_ae_1623715966.html", "htmldate_alyaum_1784190729.html")
ENGLISH_TEMPLATES = ("scrapinghub_aeb/14cc2a0ca59c.html", "scrapinghub_aeb/0ec95c7261d1.html")
ARABIC_TEXTS = ("antcorpus_rss_derived/*.xml", "arabic_timeml/*.tml")
ENGLISH_TEXTS = ("scrapinghub_aeb/*.gold.txt",)

#: Share of sitemap entries of each kind besides plain articles (exact counts: rounded shares).
MIX = {"tracking": 0.05, "alias": 0.02, "near": 0.03, "english": 0.02, "broken": 0.01}
SITEMAP_SIZE = 1000
LISTING_SIZE = 20
FEED_SIZE = 50
BODY_BYTES = (2000, 6000)
TZ = timezone(timedelta(hours=3))
NEWEST = datetime(2024, 3, 1, 14, 0, tzinfo=TZ)
SECTIONS = ("politics", "economy", "culture", "world", "sports")
#: Tracking parameters of the copies ({n}: the entry's number, so that no two copies share a URL).
TRACKING = ("utm_source=facebook&utm_medium=social&utm_campaign=share{n}",
            "utm_source=twitter&utm_medium=social&utm_content={n}", "fbclid=IwAR{n}x",
            "utm_source=newsletter&utm_campaign=daily{n}")

_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")
_AR_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
              "ديسمبر")
_AR_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")


class SiteDataMissing(RuntimeError):
    """The real pages or texts the site is made from are not where they should be."""


# -- the material: templates and sentences -----------------------------------------------------

def make_template(page: str) -> str:
    """A real article page with its headline, description, dates, URL and body replaced by
    ``@@NAME@@`` placeholders (TITLE, DESC, DATE, DATE_TEXT, URL, BODY and the JSON-LD forms
    TITLE_JSON, DESC_JSON, BODY_JSON)."""
    import lxml.html

    doctype = re.match(r"\s*(<!DOCTYPE[^>]*>)", page, re.I)
    root = lxml.html.document_fromstring(page)
    body = _body_container(root)
    headline = _headline(root, body)
    old_title = headline.text_content().strip() if headline is not None else ""
    for el in list(body):
        body.remove(el)
    body.text = "@@BODY@@"
    if headline is None:
        headline = body.makeelement("h1", {})
        body.addprevious(headline)
    _set_text(headline, "@@TITLE@@")
    _fill_head(root, old_title)
    _fill_dates(root)
    _fill_json_ld(root)
    text = lxml.html.tostring(root, encoding="unicode", method="html")
    return (doctype.group(1) + "\n" if doctype else "<!DOCTYPE html>\n") + text


def _set_text(el, text: str) -> None:
    for child in list(el):
        el.remove(child)
    el.text = text


def _body_container(root):
    """The element holding the article's paragraphs: most paragraph text directly under it."""
    best, best_score = None, 0
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "head"):
            continue
        score = len((el.text or "").strip())
        for child in el:
            if child.tag == "p":
                score += len(child.text_content().strip())
            elif child.tag == "br":
                score += len((child.tail or "").strip())
        if score > best_score:
            best, best_score = el, score
    if best is None:
        raise ValueError("no article body found in the template page")
    return best


def _headline(root, body):
    """The <h1> that is the headline (the og:title's), else the last <h1> before the body."""
    og = root.xpath('//meta[@property="og:title"]/@content')
    heads = [h for h in root.iter("h1") if h.text_content().strip()]
    for h in heads:
        if og and h.text_content().strip() and h.text_content().strip() in og[0]:
            return h
    before = [h for h in heads if _precedes(h, body)]
    return before[-1] if before else (heads[0] if heads else None)


def _precedes(a, b) -> bool:
    for el in a.getroottree().iter():
        if el is a:
            return True
        if el is b:
            return False
    return False


_META_SLOTS = {
    "TITLE": ("og:title", "twitter:title", "title", "headline"),
    "DESC": ("description", "og:description", "twitter:description", "abstract"),
    "URL": ("og:url", "twitter:url", "url"),
}


def _fill_head(root, old_title: str) -> None:
    for title in root.iter("title"):
        text = title.text_content()
        _set_text(title, text.replace(old_title, "@@TITLE@@") if old_title and old_title in text else "@@TITLE@@")
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if meta.get("content") is None:
            continue
        for slot, keys in _META_SLOTS.items():
            if key in keys:
                meta.set("content", f"@@{slot}@@")
        if "published" in key or "modified" in key or key in ("pubdate", "lastmod", "datecreated", "date",
                                                             "og:updated_time", "last-modified", "creation_date"):
            meta.set("content", "@@DATE@@")
    for link in root.xpath("//link[@rel]"):
        rel = link.get("rel").lower()
        if rel == "canonical":
            link.set("href", "@@URL@@")
        elif rel in ("amphtml", "shortlink", "alternate") and link.get("type") is None:
            link.drop_tree()
    for base in root.iter("base"):
        base.drop_tree()


def _fill_dates(root) -> None:
    for el in root.iter("time"):
        el.set("datetime", "@@DATE@@")
        _set_text(el, "@@DATE_TEXT@@")
    for el in root.xpath('//*[@itemprop="datePublished" or @itemprop="dateModified"][not(self::meta)]'):
        if el.get("content") is not None:
            el.set("content", "@@DATE@@")
        else:
            _set_text(el, "@@DATE_TEXT@@")


_LD_SLOTS = {"headline": "@@TITLE_JSON@@", "alternativeHeadline": "@@TITLE_JSON@@",
             "description": "@@DESC_JSON@@", "articleBody": "@@BODY_JSON@@", "datePublished": "@@DATE@@",
             "dateModified": "@@DATE@@", "dateCreated": "@@DATE@@", "url": "@@URL@@"}


def _fill_json_ld(root) -> None:
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            script.drop_tree()
            continue
        script.text = json.dumps(_ld_replace(data), ensure_ascii=False)


def _ld_replace(node):
    if isinstance(node, list):
        return [_ld_replace(n) for n in node]
    if not isinstance(node, dict):
        return node
    article = any(t in str(node.get("@type", "")) for t in ("Article", "Posting", "WebPage"))
    out = {}
    for key, value in node.items():
        if key in _LD_SLOTS and isinstance(value, str) and (article or key != "url"):
            out[key] = _LD_SLOTS[key]
        elif key == "mainEntityOfPage" and isinstance(value, str):
            out[key] = "@@URL@@"
        else:
            out[key] = _ld_replace(value)
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|\n+")


def sentences(text: str, script: str) -> list[str]:
    """The sentences of a text (tags dropped) that are mostly in ``script`` ("arabic" or "latin")."""
    inner = re.search(r"<TEXT>(.*?)</TEXT>", text, re.S)
    text = re.sub(r"<[^>]+>", " ", inner.group(1) if inner else text)
    out = []
    for raw in _SENTENCE_END.split(text.replace("\ufeff", "")):
        sent = " ".join(raw.split())
        letters = [c for c in sent if c.isalpha()]
        if not 40 <= len(sent) <= 600 or not letters:
            continue
        share = sum(("\u0600" <= c <= "\u06ff") == (script == "arabic") for c in letters) / len(letters)
        if share >= 0.8:
            out.append(sent)
    return out


@dataclass(frozen=True)
class Template:
    name: str
    lang: str  # "ar" or "en"
    parts: tuple[str, ...]  # text, placeholder name, text, placeholder name, ..., text


@dataclass(frozen=True)
class Material:
    """What pages are made of: templates per language and a sentence pool per language."""

    templates: dict[str, tuple[Template, ...]]
    sentences: dict[str, tuple[str, ...]]

    @classmethod
    def from_files(cls, templates: dict[str, list[Path]], texts: dict[str, list[Path]]) -> Material:
        tpls, pools = {}, {}
        for lang, paths in templates.items():
            tpls[lang] = tuple(Template(p.stem, lang, tuple(_PLACEHOLDER.split(make_template(_read(p)))))
                               for p in paths)
        for lang, paths in texts.items():
            seen: dict[str, None] = {}
            for path in paths:
                seen.update(dict.fromkeys(sentences(_read(path), "arabic" if lang == "ar" else "latin")))
            pools[lang] = tuple(seen)
            if len(pools[lang]) < 20:
                raise SiteDataMissing(f"too few {lang} sentences in {[str(p) for p in paths]}")
        return cls(tpls, pools)

    @classmethod
    def shared(cls, root: Path = REALPAGES) -> Material:
        """The material in ../shared/realpages (a clear error if it is not there)."""
        if not root.is_dir():
            raise SiteDataMissing(f"{root}: the real pages the bench site is made from are missing "
                                  f"(expected the shared data set at ../shared/realpages)")

        def files(names: tuple[str, ...]) -> list[Path]:
            found = [p for name in names for p in (sorted(root.glob(name)) if "*" in name else [root / name])]
            missing = [str(p) for p in found if not p.is_file()]
            if missing or not found:
                raise SiteDataMissing(f"bench site data missing: {', '.join(missing) or names}")
            return found

        return cls.from_files({"ar": files(ARABIC_TEMPLATES), "en": files(ENGLISH_TEMPLATES)},
                              {"ar": files(ARABIC_TEXTS), "en": files(ENGLISH_TEXTS)})


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


# -- the site's description ------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One sitemap entry.  ``kind``: article, near, english, alias, tracking, broken.

    ``text`` is the id of the page whose text this URL serves (itself for article, near and
    english pages; the original for alias and tracking); ``story`` the original article for near
    duplicates too.  ``paras`` are sentence numbers, paragraph by paragraph (None for a copy)."""

    id: int
    kind: str
    path: str  # decoded, with the query for tracking URLs
    lang: str
    template: int
    published: datetime
    title: tuple[int, int]  # sentence number, word count
    paras: tuple[tuple[int, ...], ...] | None
    text: int
    story: int


@dataclass
class SiteModel:
    """The whole site as data: pages by id, by path, and the order of the sitemaps."""

    material: Material
    pages: list[Page] = field(default_factory=list)
    by_path: dict[str, Page] = field(default_factory=dict)

    def add(self, page: Page) -> None:
        self.pages.append(page)
        if page.kind != "tracking":
            self.by_path[page.path] = page

    def original(self, page: Page) -> Page:
        return self.pages[page.text]


def build(material: Material, pages: int, seed: int = 16) -> SiteModel:
    """The description of a site of ``pages`` sitemap entries (newest first), seeded."""
    rng = random.Random(seed)
    model = SiteModel(material)
    when = NEWEST
    originals: list[int] = []
    bodies: set[tuple[tuple[int, ...], ...]] = set()
    for i, kind in enumerate(_kinds(rng, pages)):
        when -= timedelta(minutes=rng.randint(3, 45))
        model.add(_page(model, rng, i, kind, when, originals, bodies))
        if kind == "article":
            originals.append(i)
    return model


def _kinds(rng: random.Random, pages: int) -> list[str]:
    """The kind of each entry: :data:`MIX`'s shares (at least one of each on a site of 50 entries or
    more), in a seeded order, the first few being articles (copies need an original before them)."""
    head = min(pages, 3)
    rest = [kind for kind, share in MIX.items()
            for _ in range(max(int(pages >= 50), round(share * pages)))][:pages - head]
    rest += ["article"] * (pages - head - len(rest))
    rng.shuffle(rest)
    return ["article"] * head + rest


def _page(model: SiteModel, rng: random.Random, i: int, kind: str, when: datetime, originals: list[int],
          bodies: set) -> Page:
    mat = model.material
    if kind in ("tracking", "alias", "near"):
        orig = model.pages[rng.choice(originals[-200:])]
        if kind == "near":
            paras = _changed_paragraph(rng, orig.paras, len(mat.sentences["ar"]), bodies)
            return Page(i, kind, _article_path(mat, orig, i, when), "ar", orig.template, when, orig.title, paras,
                        i, orig.id)
        path = f"/a/{i}" if kind == "alias" else orig.path + "?" + rng.choice(TRACKING).format(n=i)
        return Page(i, kind, path, "ar", orig.template, orig.published, orig.title, None, orig.id, orig.id)
    lang = "en" if kind == "english" else "ar"
    pool = len(mat.sentences[lang])
    paras = _body(rng, mat.sentences[lang], bodies)
    used = {s for p in paras for s in p}
    title_sentence = rng.choice([s for s in rng.sample(range(pool), min(pool, 8)) if s not in used] or [0])
    title = (title_sentence, rng.randint(6, 10))
    template = rng.randrange(len(mat.templates[lang]))
    page = Page(i, kind, "", lang, template, when, title, paras, i, i)
    path = _article_path(mat, page, i, when) if kind != "broken" else _article_path(mat, page, i, when) + "-x"
    return Page(i, kind, path, lang, template, when, title, None if kind == "broken" else paras, i, i)


def _body(rng: random.Random, pool: tuple[str, ...], bodies: set) -> tuple[tuple[int, ...], ...]:
    """Paragraphs of 1-4 sentences until the body has 2-6 KB (UTF-8), never a body already used."""
    while True:
        target, size, paras = rng.randint(*BODY_BYTES), 0, []
        for _ in range(200):
            para = tuple(rng.randrange(len(pool)) for _ in range(rng.randint(1, 4)))
            grown = size + sum(len(pool[s].encode()) + 1 for s in para)
            if grown > BODY_BYTES[1]:
                continue
            paras.append(para)
            size = grown
            if size >= target:
                break
        body = tuple(paras)
        if body not in bodies:
            bodies.add(body)
            return body


def _changed_paragraph(rng: random.Random, paras, pool: int, bodies: set):
    while True:
        k = rng.randrange(len(paras))
        changed = tuple(tuple(rng.randrange(pool) for _ in range(len(p))) if j == k else p
                        for j, p in enumerate(paras))
        if changed not in bodies:
            bodies.add(changed)
            return changed


def _article_path(mat: Material, page: Page, i: int, when: datetime) -> str:
    words = re.findall(r"\w+", mat.sentences[page.lang][page.title[0]])[:4]
    slug = "-".join(words).lower() or "article"
    if page.lang == "en":
        return f"/en/{when:%Y/%m/%d}/{i}-{slug}"
    return f"/news/{SECTIONS[i % len(SECTIONS)]}/{when:%Y/%m/%d}/{i}-{slug}"


# -- rendering -------------------------------------------------------------------------------

class GeneratedSite:
    """The generated site, served on 127.0.0.1 (a thread per request) while in a ``with`` block."""

    def __init__(self, pages: int = 1000, delay: float = 0, port: int = 0, seed: int = 16,
                 material: Material | None = None, realpages: Path = REALPAGES) -> None:
        self.material = material or Material.shared(realpages)
        self.model = build(self.material, pages, seed)
        self.delay = delay / 1000.0
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self.requests = 0
        self.article_requests = 0

    # -- truth ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the site is not started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def url(self, page: Page) -> str:
        return self.base_url + quote(page.path, safe="/-._~?=&")

    @cached_property
    def counts(self) -> dict[str, int]:
        """How many sitemap entries of each kind, how many answer 200, and how many distinct texts
        and stories they carry (the most a deduplicating archive should store)."""
        pages = self.model.pages
        live = [p for p in pages if p.kind != "broken"]
        out = {kind: sum(p.kind == kind for p in pages) for kind in ("article", *MIX)}
        out.update(entries=len(pages), live=len(live), distinct_texts=len({p.text for p in live}),
                   distinct_stories=len({p.story for p in live}))
        return out

    def truth(self, url: str) -> Page | None:
        """The page a URL of this site (any host, tracking parameters or not) serves; None for a 404."""
        parts = urlsplit(url)
        page = self.model.by_path.get(unquote(parts.path))
        return None if page is None or page.kind == "broken" else page

    # -- pages ---------------------------------------------------------------------------------
    def render(self, page: Page) -> bytes:
        orig = self.model.original(page)
        source = page if page.kind == "near" else orig
        pool = self.material.sentences[source.lang]
        assert source.paras is not None, "a dead link has no page to render"
        paras = [" ".join(pool[s] for s in para) for para in source.paras]
        title = self.title(source)
        desc = paras[0][:160]
        values = {
            "TITLE": html.escape(title), "DESC": html.escape(desc),
            "TITLE_JSON": _json_inner(title), "DESC_JSON": _json_inner(desc),
            "BODY_JSON": _json_inner("\n".join(paras)),
            "BODY": "\n" + "".join(f"<p>{html.escape(p)}</p>\n" for p in paras),
            "DATE": source.published.isoformat(), "DATE_TEXT": _date_text(source.published, source.lang),
            "URL": html.escape(self.url(source)),
        }
        parts = self.material.templates[source.lang][source.template].parts
        return "".join(values[p] if i % 2 else p for i, p in enumerate(parts)).encode("utf-8")

    def feed(self) -> bytes:
        items = []
        for page in self.model.pages[:FEED_SIZE]:  # the newest entries
            title = self.title(page)
            items.append(f"<item><title>{html.escape(title)}</title><link>{html.escape(self.url(page))}</link>"
                         f"<guid>{html.escape(self.url(page))}</guid>"
                         f"<pubDate>{format_datetime(page.published)}</pubDate></item>")
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>أخبار اليوم المولدة</title>'
                f"<link>{self.base_url}/</link><description>موقع أخبار للقياس</description><language>ar</language>"
                + "\n".join(items) + "</channel></rss>\n").encode("utf-8")

    def sitemap_index(self) -> bytes:
        chunks = range(0, len(self.model.pages), SITEMAP_SIZE)
        entries = "".join(f"<sitemap><loc>{self.base_url}/sitemaps/sitemap-{k // SITEMAP_SIZE + 1}.xml</loc>"
                          f"<lastmod>{self.model.pages[k].published.isoformat()}</lastmod></sitemap>\n"
                          for k in chunks)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{entries}</sitemapindex>\n").encode("utf-8")

    def sitemap(self, number: int) -> bytes | None:
        chunk = self.model.pages[(number - 1) * SITEMAP_SIZE:number * SITEMAP_SIZE]
        if number < 1 or not chunk:
            return None
        entries = "".join(f"<url><loc>{html.escape(self.url(p))}</loc>"
                          f"<lastmod>{p.published.isoformat()}</lastmod></url>\n" for p in chunk)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{entries}</urlset>\n").encode("utf-8")

    def listing(self, number: int) -> bytes | None:
        chunk = self.model.pages[(number - 1) * LISTING_SIZE:number * LISTING_SIZE]
        if number < 1 or not chunk:
            return None
        links = "".join(f'<li><a href="{html.escape(self.url(p))}">{html.escape(self.title(p))}</a></li>\n'
                        for p in chunk)
        more = len(self.model.pages) > number * LISTING_SIZE
        nav = f'<a rel="next" class="next" href="/news/page/{number + 1}/">التالي</a>' if more else ""
        return (f'<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>آخر الأخبار - صفحة '
                f"{number}</title></head><body><h1>آخر الأخبار</h1><ul>\n{links}</ul>{nav}</body></html>\n"
                ).encode("utf-8")

    def title(self, page: Page) -> str:
        """The headline of a page: the first words of a sentence not in its body."""
        words = self.material.sentences[page.lang][page.title[0]].split()[:page.title[1]]
        return " ".join(words).rstrip("،,.:؛")

    def robots(self) -> bytes:
        return f"User-agent: *\nAllow: /\n\nSitemap: {self.base_url}/sitemap_index.xml\n".encode()

    def answer(self, target: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a request target."""
        path = unquote(urlsplit(target).path)
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", self.robots()
        if path == "/rss.xml":
            return 200, "application/rss+xml; charset=utf-8", self.feed()
        if path == "/sitemap_index.xml":
            return 200, "application/xml; charset=utf-8", self.sitemap_index()
        if path in ("/", "/news/"):
            path = "/news/page/1/"
        number = re.fullmatch(r"/sitemaps/sitemap-(\d+)\.xml|/news/page/(\d+)/?", path)
        if number:
            body = self.sitemap(int(number.group(1))) if number.group(1) else self.listing(int(number.group(2)))
            if body is not None:
                kind = "application/xml" if number.group(1) else "text/html"
                return 200, kind + "; charset=utf-8", body
        page = self.model.by_path.get(path)
        if page is not None and page.kind != "broken":
            with self._lock:
                self.article_requests += 1
            return 200, "text/html; charset=utf-8", self.render(page)
        return 404, "text/html; charset=utf-8", "<html><body><h1>404 الصفحة غير موجودة</h1></body></html>".encode()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> GeneratedSite:
        handler = type("SiteHandler", (_Handler,), {"site": self})
        self._server = ThreadingHTTPServer((HOST, self._port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="bench-site", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GeneratedSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _json_inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1].replace("</", "<\\/")


def _date_text(when: datetime, lang: str) -> str:
    if lang == "en":
        return when.strftime("%B %d, %Y %H:%M")
    return f"{_AR_DAYS[when.weekday()]} {when.day} {_AR_MONTHS[when.month - 1]} {when.year} - {when:%H:%M}"


class _Handler(BaseHTTPRequestHandler):
    site: GeneratedSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        site = self.site
        with site._lock:
            site.requests += 1
        if site.delay:
            time.sleep(site.delay)
        status, ctype, body = site.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a generated Arabic news site on 127.0.0.1.")
    parser.add_argument("--pages", type=int, default=1000, help="sitemap entries (default 1000)")
    parser.add_argument("--delay", type=float, default=0, help="delay per request in milliseconds")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--realpages", type=Path, default=REALPAGES, help="the shared real pages (../shared/realpages)")
    args = parser.parse_args(argv)
    try:
        started = time.perf_counter()
        site = GeneratedSite(pages=args.pages, delay=args.delay, port=args.port, seed=args.seed, realpages=args.realpages)
    except SiteDataMissing as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 2
    with site:
        print(f"{site.base_url}/sitemap_index.xml  ({time.perf_counter() - started:.1f} s to generate) "
              f"{json.dumps(site.counts)}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
