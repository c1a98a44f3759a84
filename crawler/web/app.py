"""The web application: search, article and chart pages, and the JSON API under ``/api``.

``create_app(db_url)`` opens the archive read-only (:func:`crawler.web.readonly.open_readonly`;
a missing archive raises ArchiveError before anything is served).  The API answers in the shapes
of the CLI's ``--json`` (:mod:`storage.shapes`); every error is ``{"error": "<one line>"}``.
Every stored text reaches the pages through Jinja2 with autoescape on.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from crawler.core.errors import AkhbarError, ArchiveError, NotFound, QueryError
from crawler.web import views
from crawler.web.readonly import open_readonly
from storage.db import archive_errors
from storage.models import ArticleRecord
from storage.collapse import count_stories, search_stories
from storage.search import BY, SORTS, Filters, count, parse_day, search
from storage.shapes import article_json, hits_json, iri

HERE = Path(__file__).resolve().parent
#: Bounds on what one request may ask: the query's length, hits per page, how deep to page.
MAX_QUERY = 500
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000
PAGE_SIZE = 20
#: Most copies (near-duplicates) listed on an article page.
MAX_COPIES = 50


@dataclass(frozen=True)
class Ask:
    """One search as asked in the URL (the page's form and ``/api/search`` take the same)."""

    q: str = ""
    source: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    lang: str | None = None
    section: str | None = None
    author: str | None = None
    sort: str = "relevance"
    page: int = 1
    limit: int = PAGE_SIZE
    collapse: bool = True

    def filters(self) -> Filters:
        return Filters(sources=tuple(self.source), since=parse_day(self.since, "since"),
                       until=parse_day(self.until, "until"), lang=self.lang, section=self.section, author=self.author)

    def checked(self) -> Ask:
        if len(self.q) > MAX_QUERY:
            raise QueryError(f"the query is longer than {MAX_QUERY} characters")
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        return self


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def ask(
    q: str = Query("", max_length=MAX_QUERY * 4, description="The query (akhbar search's language)."),
    source: list[str] = Query([], description="Only these sources (repeat)."),
    since: str | None = Query(None, description="Published on or after (YYYY-MM-DD)."),
    until: str | None = Query(None, description="Published on or before (YYYY-MM-DD)."),
    lang: str | None = Query(None), section: str | None = Query(None), author: str | None = Query(None),
    sort: str = Query("relevance", description="relevance, newest or oldest."),
    page: int = Query(1, ge=1, le=MAX_PAGE), limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    collapse: bool = Query(True, description="One hit per story (near-duplicate copies folded); false: every article."),
) -> Ask:
    """The search parameters of a request, blanks (an empty form field) as absent."""
    return Ask(q=q.strip(), source=[s.strip() for s in source if s.strip()], since=_blank(since), until=_blank(until),
               lang=_blank(lang), section=_blank(section), author=_blank(author), sort=sort, page=page,
               limit=limit, collapse=collapse).checked()


def finder(a: Ask) -> Any:
    """The search function for ``a``: one hit per story, or every article."""
    return search_stories if a.collapse else search


def counter(a: Ask) -> Any:
    """The count function for ``a``: stories, or articles (as the hits the search shows)."""
    return count_stories if a.collapse else count


STATUS = {QueryError: 400, NotFound: 404, ArchiveError: 503}


def status_of(exc: AkhbarError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)


def create_app(db_url: str, *, warc_root: Path | None = None) -> FastAPI:
    """The application serving the archive at ``db_url``, read-only (relative WARC paths of raw
    captures are read under ``warc_root``, default the current folder)."""
    engine = open_readonly(db_url)
    app = FastAPI(title="akhbar", summary="Search and read an archive of Arabic news (read-only).",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)  # no CDN-loaded doc pages
    app.state.engine = engine
    app.state.url = db_url
    app.state.warc_root = warc_root
    app.state.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                      autoescape=select_autoescape(default=True, default_for_string=True))
    app.state.templates.filters["iri"] = iri
    app.state.templates.filters["marked"] = views.marked
    app.state.templates.filters["href"] = views.href
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _errors(app)
    _api(app)
    _pages(app)
    return app


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A session on the app's archive; database errors as one ArchiveError line."""
    with archive_errors(request.app.state.url), Session(request.app.state.engine) as session:
        yield session


def _reply(request: Request, exc: AkhbarError) -> Any:
    """An error as ``{"error": ...}`` under /api, else as a page; its status by its kind."""
    if request.url.path.startswith("/api"):
        return JSONResponse({"error": exc.one_line()}, status_code=status_of(exc))
    return render(request, "error.html", {"message": exc.one_line()}, status_of(exc))


def _errors(app: FastAPI) -> None:
    @app.exception_handler(AkhbarError)
    async def akhbar_error(request: Request, exc: AkhbarError) -> Any:
        return _reply(request, exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return _reply(request, QueryError(f"{where}: {first.get('msg', 'invalid')}"))


#: The pages run no script at all and load nothing from elsewhere: a second wall behind the escaping.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    template = request.app.state.templates.get_template(name)
    return HTMLResponse(template.render(request=request, **context), status_code=status, headers=PAGE_HEADERS)


# --- the API ------------------------------------------------------------------------------------

def _api(app: FastAPI) -> None:
    @app.get("/api/search", summary="Search: a list of hits, as `akhbar search --json`")
    def api_search(request: Request, a: Ask = Depends(ask)) -> list[dict[str, Any]]:
        with reading(request) as session:
            found = finder(a)(session, a.q, limit=a.limit, offset=(a.page - 1) * a.limit, sort=a.sort,
                              filters=a.filters())
            return hits_json(found)

    @app.get("/api/count", summary="Counts per period, source or section, as `akhbar count --json`")
    def api_count(request: Request, a: Ask = Depends(ask), by: str = Query("month", description=", ".join(BY))) -> list[dict[str, Any]]:
        with reading(request) as session:
            return [{"key": key, "count": n} for key, n in counter(a)(session, a.q, by=by, filters=a.filters())]

    @app.get("/api/articles/{article_id}", summary="One article, as `akhbar show --json`")
    def api_article(request: Request, article_id: int) -> dict[str, Any]:
        with reading(request) as session:
            return article_json(session, _article(session, article_id))

    @app.get("/api/articles/{article_id}/raw", summary="The raw capture of an article (a download)",
             response_class=Response)
    def api_raw(request: Request, article_id: int, version: int | None = Query(None, ge=1)) -> Response:
        return raw_capture(request, article_id, version)


def _article(session: Session, article_id: int) -> ArticleRecord:
    from storage.archive import get_article

    record = get_article(session, article_id)
    if record is None:
        raise NotFound(f"no article {article_id} in the archive")
    return record


#: What a raw capture is served with: a download, never a page of the archive's origin.
RAW_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def raw_capture(request: Request, article_id: int, version: int | None) -> Response:
    """The stored bytes of the article's document, as ``application/octet-stream`` attachment."""
    from storage.rawcapture import read_capture

    with reading(request) as session:
        _article(session, article_id)
        capture = read_capture(session, article_id, version, warc_root=request.app.state.warc_root)
    name = views.capture_name(article_id, version, capture.content_type)
    headers = {**RAW_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(capture.data, media_type="application/octet-stream", headers=headers)


# --- the pages ------------------------------------------------------------------------------------

def _pages(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, a: Ask = Depends(ask)) -> HTMLResponse:
        context: dict[str, Any] = {"ask": a, "sorts": SORTS}
        try:
            context.update(_results(request, a))
        except QueryError as exc:  # said on the page, under the search box
            return render(request, "search.html", {**context, "error": exc.one_line(), "total": None}, 400)
        return render(request, "search.html", context)

    @app.get("/articles/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, article_id: int) -> HTMLResponse:
        with reading(request) as session:
            data = article_json(session, _article(session, article_id))
        context = {"a": data, "copies": data["copies"][:MAX_COPIES], "versions": views.version_changes(data["versions"])}
        return render(request, "article.html", context)

    @app.get("/articles/{article_id}/raw", include_in_schema=False)
    def raw_page(request: Request, article_id: int, version: int | None = Query(None, ge=1)) -> Response:
        return raw_capture(request, article_id, version)


def _results(request: Request, a: Ask) -> dict[str, Any]:
    """Hits, total, chart bars and paging links of one search (nothing for an empty search)."""
    filters = a.filters()
    if not a.q and not filters:
        return {"hits": [], "total": None, "bars": [], "pages": {}}
    with reading(request) as session:
        found = finder(a)(session, a.q, limit=a.limit, offset=(a.page - 1) * a.limit, sort=a.sort, filters=filters,
                          marks=(views.OPEN, views.CLOSE))
        months = counter(a)(session, a.q, by="month", filters=filters)
    total = sum(n for _, n in months)
    params: dict[str, Any] = {**vars(a), "collapse": None if a.collapse else "false"}
    pages = {}
    if a.page > 1:
        pages["prev"] = views.page_link(params, a.page - 1)
    if a.page * a.limit < total and a.page < MAX_PAGE:
        pages["next"] = views.page_link(params, a.page + 1)
    return {"hits": found, "total": total, "bars": views.bars(months), "pages": pages}
