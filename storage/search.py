"""Full-text search over the archive: the query language compiled to SQLite FTS5, filters, paging.

On PostgreSQL the same public functions run the SQL of :mod:`storage.search_pg` (a ``tsvector``
per article with a GIN index, the same analyzer keys, the same two tiers); snippets, the query's
reading and its errors are shared.  What follows describes SQLite.

**Index.**  ``articles_fts`` (rowid = ``articles.id``) is a *contentless* FTS5 table (``content=''``):
it keeps the inverted index only, never a second copy of the text.  Its four columns hold the word
keys (proclitics off) of the title and of the text, one per token, and the light stems of those
tokens whose stem differs from their key (:mod:`crawler.core.analyzer`); a fifth, ``facets``, holds
the article's source and publication month as tokens (:func:`facets_sql`), which a search filtered
by source or dates adds to its MATCH expressions (:func:`narrowed`).  A quoted phrase matches
word keys in order; a single word matches its keys, or (second tier) its stems.  Rows are
written by :func:`index_article` in the article's transaction; deleting an article (or changing
its title or text) removes its row through triggers that recompute the old values with the SQL
functions ``akhbar_words`` / ``akhbar_stems`` (:func:`register_functions`, installed on every
connection by :mod:`storage.db`), as a contentless table needs.

**Queries** (:mod:`crawler.core.query`) compile to two MATCH expressions: the *word* one (word keys
only) and the *full* one (word keys or stems).  Hits of the full one that the word one also finds
come first (exact word forms rank above stem-only matches), each tier by bm25 with the title
weighted above the body.  Every key is quoted, so nothing the user types is FTS5 syntax.
Relevance ranks the newest :data:`RANK_WINDOW` matches (after the filters); older matches of a
broader query follow them, newest first (:func:`window_sql`, :func:`rank_window`).

**Snippets** are cut from the STORED text (as published, diacritics and all), about
:data:`SNIPPET_WORDS` words around the first matching word; every matching word in the snippet is
wrapped in square brackets ``[word]`` (:data:`MARKS`; « » are Arabic quotation marks).
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crawler.core import query as q
from crawler.core.analyzer import article_columns, index_stems, index_words, query_word_keys, stem, tokens, word_key
from crawler.core.errors import QueryError, SearchUnavailable
from storage import search_pg
from storage.models import ArticleRecord
from storage.textzip import unpack

#: Opening and closing marks put around matching words in snippets.
MARKS: tuple[str, str] = ("[", "]")
#: About how many words a snippet holds.
SNIPPET_WORDS = 20
#: Words of context kept before the first match in a snippet.
SNIPPET_LEAD = 6
#: bm25 weights of the FTS columns: a word in the title counts this many times a body word;
#: a stem match counts :data:`STEM_WEIGHT` of a word match.
TITLE_WEIGHT = 5.0
BODY_WEIGHT = 1.0
STEM_WEIGHT = 0.5
#: Most hits one page may ask for.
MAX_LIMIT = 1000
SORTS = ("relevance", "newest", "oldest")
_COLUMNS = {None: ("title", "body"), "title": ("title",), "body": ("body",)}
_STEM_COLUMNS = {None: ("title_stem", "body_stem"), "title": ("title_stem",), "body": ("body_stem",)}


@dataclass(frozen=True)
class Hit:
    """One search result.  Hits come exact-word matches first, then stem-only ones; ``score``
    (bm25, higher is better) orders the hits within each of the two.  Matches older than the
    newest :data:`RANK_WINDOW` of a broad query are not ranked (SQLite): they follow, newest first,
    with ``score`` 0.  ``copies`` and ``outlets``: the matching articles the hit stands for and
    their distinct sources (one article here; a whole story when near-duplicates are folded,
    :mod:`storage.collapse`)."""

    id: int
    url: str | None
    title: str | None
    published: str | None
    snippet: str
    score: float
    source: str | None = None
    copies: int = 1
    outlets: int | None = None


@dataclass(frozen=True)
class Filters:
    """What an article must be besides matching: any of ``sources`` (names), published on or
    after ``since`` and on or before ``until`` (days, inclusive), in language ``lang``, in
    ``section`` (exact), by an ``author`` containing the given text."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    lang: str | None = None
    section: str | None = None
    author: str | None = None

    def __bool__(self) -> bool:
        return any(v not in (None, ()) for v in asdict(self).values())


def parse_day(value: str | date | None, name: str) -> date | None:
    """A filter's day from ``YYYY-MM-DD`` (or a date); ``QueryError`` otherwise."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(f"{name} must be a day written YYYY-MM-DD, not {value!r}") from None


# --- the index ---------------------------------------------------------------------------------

def register_functions(dbapi_connection: Any) -> None:
    """Install ``akhbar_words`` and ``akhbar_stems`` (the index columns' values) on a SQLite
    connection; the index triggers call them to remove an article's row."""
    # a text column's value is a zlib blob or plain text (storage.textzip)
    dbapi_connection.create_function("akhbar_words", 1, lambda s: index_words(unpack(s) or ""), deterministic=True)
    dbapi_connection.create_function("akhbar_stems", 1, lambda s: index_stems(unpack(s) or ""), deterministic=True)


def facets_sql(row: str) -> str:
    """SQL of the facet tokens of the article row ``row``: ``s<source id>``, ``m<YYYYMM>`` (its
    publication month) and both in one, ``s<source id>m<YYYYMM>``: what the index's ``facets``
    column holds (:func:`facet_clause`)."""
    month = f"substr({row}.published_utc, 1, 4) || substr({row}.published_utc, 6, 2)"
    return (f"trim(coalesce('s' || {row}.source_id, '') || ' ' || coalesce('m' || {month}, '') || ' ' || "
            f"coalesce('s' || {row}.source_id || 'm' || {month}, ''))")


# the facets come from the article's row, which is written before its index row
_INSERT = text(
    "INSERT INTO articles_fts (rowid, title, body, title_stem, body_stem, facets) "
    f"SELECT a.id, :title, :body, :title_stem, :body_stem, {facets_sql('a')} FROM articles a WHERE a.id = :id"
)


#: The index columns, in :func:`crawler.core.analyzer.article_columns` order.
_KEYS = ("title", "body", "title_stem", "body_stem")


def index_values(article_id: int, title: str | None, body: str,
                 columns: Sequence[str] | None = None) -> dict[str, Any]:
    """The index row of one article; ``columns``: its :func:`crawler.core.analyzer.article_columns`
    when they were made already."""
    return {"id": article_id, **dict(zip(_KEYS, columns or article_columns(title, body)))}


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def index_article(
    session: Session, article_id: int, title: str | None, body: str, *, columns: Sequence[str] | None = None
) -> None:
    """Index one NEW article in the caller's transaction (PostgreSQL: :mod:`storage.search_pg`).
    ``columns``: its index columns made already (:func:`crawler.core.analyzer.article_columns`; a
    crawl's extraction workers make them), which SQLite then only inserts."""
    if _sqlite(session):
        session.execute(_INSERT, index_values(article_id, title, body, columns))
    elif _postgresql(session):
        search_pg.index_article(session, article_id, title, body)


def index_articles(session: Session, rows: Sequence[tuple[int, str | None, str]]) -> int:
    """Index many NEW articles (id, title, text) in one statement (bulk loads); how many."""
    if _postgresql(session):
        return search_pg.index_many(session, rows)
    _require_backend(session)
    if rows:
        session.execute(_INSERT, [index_values(*row) for row in rows])
    return len(rows)


def reindex_article(session: Session, article_id: int, title: str | None, body: str) -> None:
    """Follow a change of a stored article's title or text (a new version): SQLite's update trigger
    does it there; PostgreSQL's row is rewritten here, in the caller's transaction."""
    if _postgresql(session):
        search_pg.index_article(session, article_id, title, body)


def index_rows(articles: Sequence[tuple[int, str | None, str]]) -> list[dict[str, Any]]:
    """The index rows of ``(id, title, text)`` articles (pure: no database)."""
    return [index_values(*a) for a in articles]


def index_analysed(session: Session, rows: Sequence[tuple[int, str, str, str, str]]) -> None:
    """Index NEW articles, given as ``(id, title words, body words, title stems, body stems)``
    (:func:`index_rows`' columns), with one statement (SQLite); PostgreSQL indexes each article
    from its stored text."""
    if _sqlite(session):
        if rows:
            session.execute(_INSERT, [dict(zip(("id", *_KEYS), row)) for row in rows])
        return
    for row in rows:
        stored = session.execute(select(ArticleRecord.title, ArticleRecord.text).where(ArticleRecord.id == row[0])).one()
        index_article(session, row[0], stored.title, stored.text)


def rebuild_index(session: Session, *, batch: int = 500) -> int:
    """Re-index every article from its stored text (after the analysis changed); returns the count."""
    if _postgresql(session):
        return _rebuild_pg(session, batch)
    _require_backend(session)
    session.execute(text("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')"))
    count = 0
    rows = session.execute(
        select(ArticleRecord.id, ArticleRecord.title, ArticleRecord.text).execution_options(yield_per=batch)
    )
    for chunk in rows.partitions(batch):
        count += index_articles(session, [(r.id, r.title, r.text) for r in chunk])
    return count


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _rebuild_pg(session: Session, batch: int) -> int:
    search_pg.clear(session)
    count = 0
    rows = session.execute(
        select(ArticleRecord.id, ArticleRecord.title, ArticleRecord.text).execution_options(yield_per=batch)
    )
    for chunk in rows.partitions(batch):
        count += index_articles(session, [(r.id, r.title, r.text) for r in chunk])
    return count


def _require_backend(session: Session) -> None:
    if not (_sqlite(session) or _postgresql(session)):
        name = session.get_bind().dialect.name
        raise SearchUnavailable(f"search is not available on {name!r} (SQLite and PostgreSQL only)")


def _pg_query(query: str) -> search_pg.TsQuery | None:
    """The PostgreSQL form of a query (already read, and refused if need be, by compile_query)."""
    return search_pg.compile_tree(q.parse(query))


# --- compiling a query -------------------------------------------------------------------------

@dataclass
class Marker:
    """What makes a stored word a match, for snippets: its word key, stem or a prefix."""

    words: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    seen: dict[str, tuple[bool, bool]] = field(default_factory=dict, repr=False, compare=False)
    checked: set[str] = field(default_factory=set, repr=False, compare=False)
    word_hits: set[str] = field(default_factory=set, repr=False, compare=False)

    def test(self, word: str) -> tuple[bool, bool]:
        """(matches by word key or prefix, matches by stem), remembered per stored spelling."""
        known = self.seen.get(word)
        if known is None:
            keys, stems = _word_keys(word)
            by_word = bool(keys & self.words) or bool(self.prefixes) and any(
                k.startswith(p) for k in keys for p in self.prefixes
            )
            known = self.seen[word] = (by_word, bool(stems & self.stems))
        return known

    def matching(self, spellings: set[str], by_stem: bool = False) -> set[str]:
        """The stored spellings among ``spellings`` that match by word key or prefix (or by stem).

        Words and stems are looked up in :class:`_Spellings` (set operations, no loop over the
        text's words); only a prefix query tests each spelling it has not seen yet."""
        _SPELLINGS.learn(spellings)
        if by_stem:
            return spellings & _SPELLINGS.with_stems(self.stems)
        found = spellings & _SPELLINGS.with_keys(self.words)
        if self.prefixes:
            fresh = spellings - self.checked - found
            self.word_hits.update(w for w in fresh if self.test(w)[0])
            self.checked |= fresh
            found |= spellings & self.word_hits
        return found


class _Spellings:
    """Stored spellings seen in snippets, by word key and by stem (a process-wide cache of
    :func:`_word_keys`, inverted; emptied when it holds :data:`LIMIT` spellings)."""

    LIMIT = 1_000_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.known: set[str] = set()
        self.by_key: dict[str, set[str]] = {}
        self.by_stem: dict[str, set[str]] = {}

    def learn(self, spellings: set[str]) -> None:
        fresh = spellings - self.known
        if not fresh:
            return
        with self.lock:
            if len(self.known) + len(fresh) > self.LIMIT:  # start again with this text's spellings
                self.known, self.by_key, self.by_stem = set(), {}, {}
                fresh = set(spellings)
            for word in fresh:
                keys, stems = _word_keys(word)
                for key in keys:
                    self.by_key.setdefault(key, set()).add(word)
                for st in stems:
                    self.by_stem.setdefault(st, set()).add(word)
            self.known |= fresh

    def with_keys(self, keys: set[str]) -> set[str]:
        return set().union(*(self.by_key.get(k, ()) for k in keys))

    def with_stems(self, stems: set[str]) -> set[str]:
        return set().union(*(self.by_stem.get(st, ()) for st in stems))


_SPELLINGS = _Spellings()


@dataclass(frozen=True)
class Compiled:
    """A query as FTS5 MATCH expressions: ``word`` (exact word keys) and ``full`` (or stems)."""

    word: str
    full: str
    marker: Marker
    #: Whether the source and date filters are in the expressions already (:func:`narrowed`).
    narrowed: bool = False
    #: ``full`` without the words it excludes at the top (empty: the same as ``full``), for bm25
    #: (:func:`window_sql`; :func:`_positive`).
    positive: str = ""

    @property
    def rank(self) -> str:
        """The expression bm25 is computed over: ``full``'s phrases but the excluded ones.

        bm25 sums over the expression's phrases, and a phrase excluded at the top is never in a
        matching row, so it adds exactly 0 to every score; but bm25 counts each phrase's rows over
        the whole index before it scores one, and an excluded word is often a common one."""
        return self.positive or self.full


def _quote(key: str) -> str:
    return '"' + key.replace('"', '""') + '"'


def _cols(columns: Sequence[str]) -> str:
    return "{" + " ".join(columns) + "}"


def _any(keys: Sequence[str]) -> str:
    return _quote(keys[0]) if len(keys) == 1 else "(" + " OR ".join(map(_quote, keys)) + ")"


def _leaf(node: q.Term | q.Phrase, marker: Marker) -> tuple[str, str] | None:
    toks = tokens(node.text)
    if not toks:
        return None
    cols, stem_cols = _cols(_COLUMNS[node.field]), _cols(_STEM_COLUMNS[node.field])
    if len(toks) > 1 or (isinstance(node, q.Term) and node.prefix):
        # a phrase (or a prefix) matches the word keys, in order: quoted words are not stemmed
        keys = [word_key(t) for t in toks]
        prefix = isinstance(node, q.Term) and node.prefix
        (marker.prefixes if prefix else marker.words).add(keys[-1])
        marker.words.update(keys[:-1])
        expr = f"{cols} : {_quote(' '.join(keys))}" + (" *" if prefix else "")
        return expr, expr
    keys = list(query_word_keys(toks[0]))
    stems = list(dict.fromkeys(stem(k) for k in keys))
    marker.words.update(keys)
    marker.stems.update(stems)
    word = f"{cols} : {_any(keys)}"
    # a stem is in the stem columns, or in the word columns where it is a word's own key
    return word, f"({cols} : {_any(list(dict.fromkeys(keys + stems)))} OR {stem_cols} : {_any(stems)})"


def _compile(node: q.Node, marker: Marker) -> tuple[str, str] | None:
    """(word, full) expressions of a node; ``None`` when it holds no word at all."""
    if isinstance(node, (q.Term, q.Phrase)):
        return _leaf(node, marker)
    if isinstance(node, q.Not):
        raise QueryError("NOT (or -) needs a word the articles must have beside it")
    if isinstance(node, q.Or):
        parts = [p for p in (_compile(item, marker) for item in node.items) if p]
        if not parts:
            return None
        return tuple("(" + " OR ".join(p[i] for p in parts) + ")" for i in (0, 1))  # type: ignore[return-value]
    positive = [p for p in (_compile(i, marker) for i in node.items if not isinstance(i, q.Not)) if p]
    negative = [p for p in (_compile(i.item, Marker()) for i in node.items if isinstance(i, q.Not)) if p]
    if not positive:
        if negative:
            raise QueryError("NOT (or -) needs a word the articles must have beside it")
        return None
    word = "(" + " AND ".join(p[0] for p in positive) + ")"
    full = "(" + " AND ".join(p[1] for p in positive) + ")"
    if negative:  # a negated word is left out in its exact forms, in both tiers
        excluded = " OR ".join(n[0] for n in negative)
        word, full = f"({word} NOT ({excluded}))", f"({full} NOT ({excluded}))"
    return word, full


def _positive(tree: q.Node) -> str:
    """The full expression of ``tree`` without its excluded words when they are excluded at the top
    (``a b -c``): no row that matches then holds them; "" otherwise.  (Under an OR, ``(a -b) OR c``,
    a row matching by ``c`` may hold ``b``, and bm25 counts it there.)"""
    if not isinstance(tree, q.And) or not any(isinstance(i, q.Not) for i in tree.items):
        return ""
    kept = [p for p in (_compile(i, Marker()) for i in tree.items if not isinstance(i, q.Not)) if p]
    return "(" + " AND ".join(p[1] for p in kept) + ")"


def compile_query(query: str) -> Compiled | None:
    """The MATCH expressions of a user query; ``None`` when it holds no word."""
    tree = q.parse(query)
    if tree is None:
        return None
    marker = Marker()
    if isinstance(tree, q.Not):
        raise QueryError("NOT (or -) needs a word the articles must have beside it")
    compiled = _compile(tree, marker)
    if compiled is None:
        return None
    return Compiled(compiled[0], compiled[1], marker, positive=_positive(tree))


# --- selecting articles ------------------------------------------------------------------------

def _filter_sql(filters: Filters, params: dict[str, Any]) -> list[str]:
    where: list[str] = []
    if filters.sources:
        names = []
        for i, name in enumerate(dict.fromkeys(filters.sources)):
            params[f"src{i}"] = name
            names.append(f":src{i}")
        where.append(f"s.name IN ({', '.join(names)})")
    if filters.since is not None:
        params["since"] = datetime.combine(filters.since, datetime.min.time()).isoformat(" ")
        where.append("a.published_utc >= :since")
    if filters.until is not None:
        params["until"] = datetime.combine(filters.until + timedelta(days=1), datetime.min.time()).isoformat(" ")
        where.append("a.published_utc < :until")
    return where + search_pg.field_filters(filters, params)


#: Most month tokens a date filter is narrowed by in the index; a longer range is checked on the rows only.
MAX_MONTHS = 240


def _months(first: date, last: date) -> list[str]:
    """``YYYYMM`` of every month from ``first`` to ``last`` (none when ``first`` is after ``last``)."""
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month) and len(months) <= MAX_MONTHS:
        months.append(f"{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _dated_span(session: Session) -> tuple[date, date] | None:
    """The first and last publication days of the archive (``None`` when no article is dated);
    two look-ups in the date index (one ``min`` and one ``max`` per SELECT)."""
    first, last = session.execute(text(
        "SELECT (SELECT min(published_utc) FROM articles), (SELECT max(published_utc) FROM articles)")).one()
    if first is None or last is None:
        return None
    return date.fromisoformat(str(first)[:10]), date.fromisoformat(str(last)[:10])


def facet_clause(session: Session, filters: Filters) -> str | None:
    """An FTS5 expression over the index's ``facets`` column that every article passing the source
    and date filters matches (a superset: months, not days); ``None`` when those filters are absent.

    The filters themselves are still checked on the rows: this only lets FTS5 intersect its
    posting lists with the filters' instead of handing every match of a common word over."""
    parts: list[list[str]] = []
    if filters.sources:
        marks = ", ".join(f":n{i}" for i in range(len(filters.sources)))
        ids = session.execute(text(f"SELECT id FROM sources WHERE name IN ({marks})"),
                              {f"n{i}": name for i, name in enumerate(filters.sources)}).scalars()
        parts.append([f"s{i}" for i in ids] or ["s0"])  # no such source: nothing matches
    if filters.since is not None or filters.until is not None:
        span = (filters.since, filters.until) if filters.since and filters.until else _dated_span(session)
        months = _months(filters.since or span[0], filters.until or span[1]) if span else []
        if len(months) <= MAX_MONTHS:
            parts.append([f"m{m}" for m in months] or ["m0"])
    if len(parts) == 2 and len(parts[0]) * len(parts[1]) <= MAX_MONTHS:  # each source's months
        parts = [[s + m for s in parts[0] for m in parts[1]]]
    if not parts:
        return None
    return " AND ".join("{facets} : " + _any(tokens) for tokens in parts)


def narrowed(session: Session, compiled: Compiled | None, filters: Filters) -> Compiled | None:
    """``compiled`` with the source and date filters also asked of the index (SQLite;
    :func:`facet_clause`); as it is otherwise."""
    if compiled is None or compiled.narrowed or not _sqlite(session):
        return compiled
    clause = facet_clause(session, filters)
    if clause is None:
        return compiled
    # no separate ranking pass here: over the wide id range a filtered window spans, a second pass
    # costs more than counting the excluded words' rows once
    return Compiled(f"({compiled.word}) AND {clause}", f"({compiled.full}) AND {clause}", compiled.marker, True)


_ORDER = {
    "relevance": "exact DESC, rank, a.id",
    "newest": "a.published_utc IS NULL, a.published_utc DESC, a.id DESC",
    "oldest": "a.published_utc IS NULL, a.published_utc, a.id",
}
#: Relevance ranks the newest this many matches (filters applied) of a query; older matches of a
#: query that has more follow them, newest first (see :func:`rank_window`).
RANK_WINDOW = 2000
_WINDOWED = "m.fid < :ranked_from, exact DESC, rank, CASE WHEN m.fid < :ranked_from THEN -a.id ELSE a.id END"


def _bm25() -> str:
    """bm25 with the columns' weights; the facets (filters) weigh nothing."""
    return (f"bm25(articles_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, {TITLE_WEIGHT * STEM_WEIGHT}, "
            f"{BODY_WEIGHT * STEM_WEIGHT}, 0.0)")


def matching_sql(
    compiled: Compiled | None, filters: Filters, *, columns: str, sort: str = "relevance",
    ranked_from: int = 0,
) -> tuple[str, dict[str, Any]]:
    """SQL selecting ``columns`` (over ``a`` = articles, ``s`` = sources, ``rank``, ``exact``) of
    the articles matching the query and filters, in ``sort`` order; and its parameters.

    ``ranked_from`` (relevance only; :func:`rank_window`): matches with an id below it are not
    ranked but follow the ranked ones, newest first."""
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    params: dict[str, Any] = {}
    where = _filter_sql(filters, params)
    if compiled is None:
        sql = f"SELECT {columns} FROM (SELECT 0.0 AS rank, 1 AS exact) AS m, articles a LEFT JOIN sources s ON s.id = a.source_id"
        order = _ORDER["newest" if sort == "relevance" else sort]
    else:
        params["full"] = compiled.full
        ranked = sort == "relevance"
        windowed = ranked and ranked_from > 0
        bound = ""
        if windowed:
            params["ranked_from"] = ranked_from
            bound = " AND rowid >= :ranked_from"
        rank = f"CASE WHEN rowid >= :ranked_from THEN {_bm25()} END" if windowed else _bm25() if ranked else "0.0"
        if ranked and compiled.word != compiled.full:
            params["word"] = compiled.word
            exact = f"m.fid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :word{bound})"
        else:
            exact = "1"
        # the matches join a covering index, not the (large) article rows, for filters and dates
        sql = (
            f"SELECT {columns}, {exact} AS exact "
            f"FROM (SELECT rowid AS fid, {rank} AS rank FROM articles_fts WHERE articles_fts MATCH :full) m "
            "JOIN articles a INDEXED BY ix_articles_search ON a.id = m.fid LEFT JOIN sources s ON s.id = a.source_id"
        )
        order = _WINDOWED if windowed else _ORDER[sort]
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY " + order, params


def window_sql(compiled: Compiled, filters: Filters) -> tuple[str, dict[str, Any]]:
    """SQL of ``id, rank, source`` of the newest :data:`RANK_WINDOW` matches (filters applied) in
    relevance order, in one pass: FTS5 hands the matches over newest first, the filters are checked
    on the covering index, and bm25 (and the exact-form test) runs on the window's rows only.
    The order is the one :func:`matching_sql` gives those rows with :func:`rank_window`'s bound."""
    params: dict[str, Any] = {"full": compiled.full, "window": RANK_WINDOW}
    where = _filter_sql(filters, params)
    exact = "1"
    if compiled.word != compiled.full:
        params["word"] = compiled.word
        exact = ("w.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :word "
                 "AND rowid >= (SELECT min(id) FROM w))")
    separate = compiled.rank != compiled.full
    rank = "NULL" if separate else _bm25()
    sql = (
        "WITH w AS MATERIALIZED (SELECT a.id AS id, m.rank AS rank, s.name AS source "
        f"FROM (SELECT rowid AS fid, {rank} AS rank FROM articles_fts WHERE articles_fts MATCH :full) m "
        "JOIN articles a INDEXED BY ix_articles_search ON a.id = m.fid LEFT JOIN sources s ON s.id = a.source_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY m.fid DESC LIMIT :window)"
    )
    if separate:  # bm25 from a second pass over the window's id range, without the excluded phrases
        params["rank"] = compiled.rank
        sql += (
            f", r AS MATERIALIZED (SELECT rowid AS id, {_bm25()} AS rank FROM articles_fts WHERE articles_fts "
            "MATCH :rank AND rowid >= (SELECT min(id) FROM w) AND rowid <= (SELECT max(id) FROM w) "
            "AND +rowid IN (SELECT id FROM w))"
            f" SELECT w.id AS id, r.rank AS rank, w.source AS source, {exact} AS exact FROM w JOIN r ON r.id = w.id"
        )
    else:
        sql += f" SELECT w.id AS id, w.rank AS rank, w.source AS source, {exact} AS exact FROM w"
    return sql + " ORDER BY exact DESC, rank, id", params


def rank_window(session: Session, compiled: Compiled, filters: Filters, window: int | None = None) -> int:
    """The smallest id among the newest ``window`` (:data:`RANK_WINDOW`) articles that match (filters applied), when
    more match: relevance ranks those and puts the older matches after them; else 0 (rank all).

    FTS5 hands its matches over in id order, so this reads ``window`` matches, not all of them;
    ranking every match of a word that a quarter of the archive holds would cost bm25 on each."""
    params: dict[str, Any] = {"full": compiled.full, "skip": (window or RANK_WINDOW) - 1}
    where = _filter_sql(filters, params)
    sql = ("SELECT m.rowid FROM articles_fts m "
           + ("JOIN articles a INDEXED BY ix_articles_search ON a.id = m.rowid LEFT JOIN sources s ON s.id = a.source_id "
              if where else "")
           + "WHERE articles_fts MATCH :full" + "".join(" AND " + w for w in where)
           + " ORDER BY m.rowid DESC LIMIT 1 OFFSET :skip")
    found = session.execute(text(sql), params).scalar()
    return int(found) if found is not None else 0


def page_wanted(session: Session, compiled: Compiled | None, filters: Filters, limit: int, offset: int) -> bool:
    """Whether a search page has anything to look for (a query or filters, ``limit`` > 0); raises
    ``QueryError`` for a limit over :data:`MAX_LIMIT` or a negative offset, and when the archive's
    engine cannot search."""
    if (compiled is None and not filters) or limit <= 0:
        return False
    if limit > MAX_LIMIT or offset < 0:
        raise QueryError(f"limit must be 1-{MAX_LIMIT} and offset not negative")
    _require_backend(session)
    return True


def search(
    session: Session,
    query: str,
    limit: int = 20,
    *,
    offset: int = 0,
    filters: Filters | None = None,
    sort: str = "relevance",
    marks: tuple[str, str] = MARKS,
) -> list[Hit]:
    """Articles matching ``query`` (see :mod:`crawler.core.query`) and ``filters``, in ``sort``
    order (``relevance``, ``newest``, ``oldest``), ``limit`` of them after skipping ``offset``,
    with snippets from the stored text.  An empty query lists the filtered articles, newest first
    (and nothing without filters).  A query that cannot be read raises ``QueryError``."""
    filters = filters or Filters()
    compiled = compile_query(query)
    if not page_wanted(session, compiled, filters, limit, offset):
        return []
    if _postgresql(session):
        ranked = search_pg.page(session, _pg_query(query) if compiled else None, filters, _sort(sort), limit, offset)
    else:
        compiled = narrowed(session, compiled, filters)
        if compiled is not None and sort == "relevance" and offset + limit <= RANK_WINDOW:
            sql, params = window_sql(compiled, filters)  # the page lies in the ranked window: one pass
        else:
            ranked_from = rank_window(session, compiled, filters) if compiled is not None and sort == "relevance" else 0
            sql, params = matching_sql(compiled, filters, columns="a.id, m.rank, s.name AS source", sort=sort,
                                       ranked_from=ranked_from)
        params.update(limit=limit, offset=offset)
        ranked = [(r.id, r.rank, r.source) for r in session.execute(text(sql + " LIMIT :limit OFFSET :offset"), params)]
    rows = _texts(session, [i for i, _, _ in ranked])
    marker = compiled.marker if compiled else Marker()
    return [
        Hit(
            id=i,
            url=rows[i].url,
            title=rows[i].title,
            published=rows[i].published,
            snippet=make_snippet(rows[i].text, marker, marks=marks),
            score=-float(rank) if rank is not None else 0.0,
            source=source,
        )
        for i, rank, source in ranked
        if i in rows
    ]


def _sort(sort: str) -> str:
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    return sort


def _texts(session: Session, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    a = ArticleRecord
    rows = session.execute(select(a.id, a.url, a.title, a.published, a.text).where(a.id.in_(ids)))
    return {row.id: row for row in rows}


def query_keys(query: str) -> Marker:
    """What marks a stored word as a match of ``query`` in snippets."""
    compiled = compile_query(query)
    return compiled.marker if compiled else Marker()


# --- snippets ----------------------------------------------------------------------------------

def _joiner_class() -> str:
    """A regex class of the characters that belong to the word they sit in without being \\w:
    combining marks (harakat, shadda, superscript alef...) and format characters (ZWNJ, ZWJ, bidi)."""
    ranges: list[list[int]] = []
    for code in range(0x10000):  # the Basic Multilingual Plane: every script news is written in
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me", "Cf") and not chr(code).isalnum():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


@lru_cache(maxsize=1)
def _stored_word() -> re.Pattern[str]:
    """A word of stored text: a \\w, then \\w and joiners (\\w+ would cut a word with harakat apart)."""
    return re.compile(r"\w[\w" + _joiner_class() + "]*")


@lru_cache(maxsize=1)
def _word_splitter() -> re.Pattern[str]:
    """:func:`_stored_word` as one group, for ``split``: the words at the odd places."""
    return re.compile("(" + _stored_word().pattern + ")")


def stored_words(stored: str) -> list[tuple[int, int]]:
    r"""Spans of the words of stored text: \w runs together with the marks inside and after them."""
    return [m.span() for m in _stored_word().finditer(stored)]


@lru_cache(maxsize=1 << 16)
def _word_keys(word: str) -> tuple[frozenset[str], frozenset[str]]:
    """Word keys and stems of one stored word (usually one; NFKC can expand a ligature)."""
    keys = [word_key(t) for t in tokens(word)]
    return frozenset(keys), frozenset(stem(k) for k in keys)


def _first(words: list[str], matching: set[str]) -> int | None:
    """Index of the first of ``words`` in ``matching``."""
    return next((i for i, w in enumerate(words) if w in matching), None)


#: Characters of a text a snippet is first looked for in (a match is usually near the top); the
#: whole text is read only when that opening holds no matching word or ends before the snippet.
SNIPPET_OPENING = 1500


def make_snippet(
    stored: str,
    marker: Marker,
    *,
    words: int = SNIPPET_WORDS,
    lead: int = SNIPPET_LEAD,
    marks: tuple[str, str] = MARKS,
) -> str:
    """About ``words`` words of ``stored`` around the first matching word.

    Words match by word key (or prefix); only when none does (a stem-only hit) are words marked
    by stem.  Removing the marks gives back an exact substring of ``stored``.  When no word
    matches (a title-only hit), the opening words are returned unmarked.  Each distinct spelling
    is tested once (a text of 600 words has about 400).  The text's opening
    (:data:`SNIPPET_OPENING` characters) is split first: when it holds a word-key match and the
    whole snippet, the rest is never split (the snippet is the one the whole text gives).
    """
    parts, cut = _split_opening(stored)
    if cut < len(stored):
        found = _snippet(parts, marker, words, lead, marks, whole=False)
        if found is not None:
            return found
        rest = _word_splitter().split(stored[cut:])  # starts with "": the cut is at a word's start
        parts = parts[:-1] + [parts[-1] + rest[0]] + rest[1:]
    return _snippet(parts, marker, words, lead, marks, whole=True) or ""


def _split_opening(stored: str) -> tuple[list[str], int]:
    """The split (:func:`_word_splitter`) of the opening :data:`SNIPPET_OPENING` characters of
    ``stored`` without their last word (it may be cut off), and where that word starts; the whole
    text's split and its length when it is not longer than that."""
    if len(stored) <= SNIPPET_OPENING:
        return _word_splitter().split(stored), len(stored)
    parts = _word_splitter().split(stored[:SNIPPET_OPENING])
    if len(parts) < 3:  # no word in the opening
        return _word_splitter().split(stored), len(stored)
    parts = parts[:-2]  # between, word, ..., between: the last word and what follows it dropped
    return parts, sum(map(len, parts))


def _snippet(parts: list[str], marker: Marker, words: int, lead: int, marks: tuple[str, str], *,
             whole: bool) -> str | None:
    """The snippet of the text split into ``parts``; of a text's opening (``whole`` false): ``None``
    unless it holds a word-key match and the whole snippet."""
    texts = parts[1::2]
    if not texts:
        return "" if whole else None
    spellings = set(texts)
    matching = marker.matching(spellings)
    found = _first(texts, matching)
    if found is None:
        if not whole:  # a match further on, or a stem-only hit: the whole text decides
            return None
        matching = marker.matching(spellings, by_stem=True)  # a stem-only hit: mark the words by stem
        found = _first(texts, matching)
    first = found or 0
    start = max(0, first - lead)
    end = min(len(texts), start + words)
    if not whole and start + words > len(texts):
        return None  # the snippet runs past the opening
    start = max(0, end - words)
    chosen = parts[2 * start + 1 : 2 * end]  # word, between, ..., word
    opening, closing = marks
    for i in range(0, len(chosen), 2):
        if chosen[i] in matching:
            chosen[i] = opening + chosen[i] + closing
    return "".join(chosen)


# --- counting and exporting --------------------------------------------------------------------

BY = ("day", "week", "month", "source", "section")
_BY_SQL = {
    "day": "substr(a.published_utc, 1, 10)",
    "week": "substr(a.published_utc, 1, 10)",  # days, folded into ISO weeks in Python
    "month": "substr(a.published_utc, 1, 7)",
    "source": "s.name",
    "section": "a.section",
}


def count(session: Session, query: str, *, by: str = "month", filters: Filters | None = None) -> list[tuple[str | None, int]]:
    """How many articles match ``query`` and ``filters``, per ``by`` (day, week, month: in time
    order; source, section: most first).  ``None`` counts the articles without a date/source/section."""
    if by not in BY:
        raise QueryError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    _require_backend(session)
    compiled = compile_query(query)
    if _postgresql(session):
        rows = search_pg.count_rows(session, _pg_query(query) if compiled else None, filters or Filters(), by)
    else:
        key = _BY_SQL[by]
        filters = filters or Filters()
        sql, params = matching_sql(narrowed(session, compiled, filters), filters, columns=f"{key} AS k", sort="oldest")
        sql = sql.split(" ORDER BY ")[0]
        grouped = f"SELECT k, count(*) AS n FROM ({sql}) GROUP BY k"
        rows = [(row.k, int(row.n)) for row in session.execute(text(grouped), params)]
    return arrange_counts(rows, by)


def arrange_counts(rows: list[tuple[str | None, int]], by: str) -> list[tuple[str | None, int]]:
    """Counts per key in the order :func:`count` gives them (days folded into ISO weeks for ``week``)."""
    if by == "week":
        weeks: dict[str | None, int] = {}
        for day, n in rows:
            week = None if day is None else "{}-W{:02d}".format(*date.fromisoformat(day).isocalendar()[:2])
            weeks[week] = weeks.get(week, 0) + n
        rows = list(weeks.items())
    if by in ("day", "week", "month"):
        return sorted(rows, key=lambda kv: (kv[0] is None, kv[0] or ""))
    return sorted(rows, key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))


#: The fields of an exported article, in order (JSONL keys and CSV columns).
EXPORT_FIELDS = (
    "id", "url", "title", "published", "source", "section", "author", "lang",
    "description", "tags", "content_hash", "first_seen", "last_seen", "times_seen", "text",
)
_EXPORT_COLUMNS = (
    "a.id, a.url, a.title, a.published, s.name AS source, a.section, a.author, a.lang, a.description, "
    "a.tags, a.content_hash, a.first_seen, a.last_seen, a.times_seen, a.text"
)


def export_rows(
    session: Session, query: str, *, filters: Filters | None = None, sort: str = "oldest", batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Every article matching ``query`` and ``filters`` as a dict of :data:`EXPORT_FIELDS`,
    read from the database ``batch`` rows at a time (constant memory).  An empty query exports
    every article the filters let through."""
    _require_backend(session)
    compiled = compile_query(query)
    filters = filters or Filters()
    if _postgresql(session):
        tsq = _pg_query(query) if compiled else None
        sql, params = search_pg.matching_sql(tsq, filters, columns=_EXPORT_COLUMNS, sort=_sort(sort))
        with search_pg.index_plans(session):  # the plan is made here
            result = session.execute(text(sql).execution_options(yield_per=batch), params)
    else:
        compiled = narrowed(session, compiled, filters)
        ranked_from = rank_window(session, compiled, filters) if compiled is not None and sort == "relevance" else 0
        sql, params = matching_sql(compiled, filters, columns=_EXPORT_COLUMNS, sort=sort, ranked_from=ranked_from)
        result = session.execute(text(sql).execution_options(yield_per=batch), params)
    yield from _exported(result, batch)


def _exported(result: Any, batch: int) -> Iterator[dict[str, Any]]:
    import json

    for chunk in result.partitions(batch):
        for row in chunk:
            item = {name: getattr(row, name) for name in EXPORT_FIELDS}
            item["text"] = unpack(item["text"])  # raw SQL: the stored blob on SQLite
            tags = item["tags"]
            item["tags"] = json.loads(tags) if isinstance(tags, str) else (tags or [])
            for stamp in ("first_seen", "last_seen"):
                if item[stamp] is not None:
                    item[stamp] = str(item[stamp]).replace(" ", "T")
            yield item


def count_matches(session: Session, query: str, *, filters: Filters | None = None) -> int:
    """How many articles match ``query`` and ``filters``."""
    return sum(n for _, n in count(session, query, by="month", filters=filters))
