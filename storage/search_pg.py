"""Search on PostgreSQL: the analyzer's keys in a ``tsvector`` per article, with a GIN index.

**Index.**  ``article_search_keys`` (revisions 0006, 0009) holds one row per article; ``keys`` is
written by :func:`index_vector` as a ``tsvector`` *literal* (not through ``to_tsvector``: the
words are the analyzer's, :mod:`crawler.core.analyzer`, and PostgreSQL's parser never cuts them):

* each word key of the title at its position, weight A; of the body, weight D (the body's
  positions start two after the title's last, so no phrase runs from the title into the body);
* each light stem that differs from its word key as the lexeme ``~stem`` at the same position,
  weight B in the title, C in the body;
* the title's lexemes once more with ``^`` before them (``^key``, ``^~stem``), for ``title:``.
The marks keep stems and title words apart from the word keys, so the exact-word tier, the stem
tier and ``title:`` need no weight test (a weight or a phrase makes PostgreSQL read the vector of
every candidate row the GIN index gives): only ``body:`` terms carry weights (D, C).

**Queries** are the tree of :mod:`crawler.core.query`, compiled by :func:`compile_tree` to two
``tsquery`` literals, as on SQLite: *word* (word keys only) and *full* (word keys or stems).  A
phrase is ``'a' <-> 'b'``, a prefix ``'a':*``, OR ``|``, NOT ``!``, AND ``&``; every key is a
quoted lexeme, so nothing a user types is tsquery syntax.  Matches of *full* are selected with
the filters.  Sorted by relevance, exact-word matches come first (a set from the GIN index); in
that order, newest first, the first :data:`RANK_POOL` matches are ranked by ``ts_rank`` (a title
word weighted above a body word, a stem below a word) and any further ones follow newest first.
Sorted by date nothing is ranked.  Statements run under :func:`index_plans`.

**First pages** (:func:`page`) come from the keys table alone: each row holds a copy of its
article's publication time and source (revision 0013), so a word's matches are taken from the GIN
index, filtered and sorted on those small rows (:func:`walk`) without a join, and only the pool's
vectors are read, for ``ts_rank``.  Each vector also holds its article's month and source as
marks (``@d202408``, ``@s7``: revision 0016, :func:`marks`); a walk asks the newest (or oldest)
month first, then as many more as the matches so far say it needs (:func:`next_size`), with
their month marks (and a source filter's source marks) ANDed to the query, and stops once the
page is full: the GIN index skips through a common word's
posting list to the rows of those months, so a word in a third of the archive costs the rows of
one month, not all of its matches.  A phrase, a ``body:`` weight or a negated phrase is checked
on the sorted candidates of its *loose* form one by one until the page is full, instead of on
every candidate.  Deeper pages, counts and exports take :func:`matching_sql`; both give the
same hits in the same order (``tests/test_search_pg_pages.py``).

Pure SQL building here; :mod:`storage.search` keeps the public functions and dispatches.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core import query as q
from crawler.core.analyzer import query_word_keys, stem, tokens, word_key


class Filters(Protocol):
    """What :class:`storage.search.Filters` holds (named here: search imports this module)."""

    @property
    def sources(self) -> tuple[str, ...]: ...
    @property
    def since(self) -> date | None: ...
    @property
    def until(self) -> date | None: ...
    @property
    def lang(self) -> str | None: ...
    @property
    def section(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...


#: ts_rank weights of the {D, C, B, A} classes: body words, body stems, title stems, title words
#: (a title word five times a body word, a stem half a word, as on SQLite).
RANK_WEIGHTS = "{0.2, 0.1, 0.5, 1.0}"
TITLE_WEIGHT = 5.0
#: Relevance ranks at most this many matches (exact ones first, the newest first); the rest follow
#: in that order.  ts_rank reads each ranked article's vector: this bounds the work of a common word.
RANK_POOL = 200
#: PostgreSQL keeps positions 1-16383 (larger ones become 16383) and 256 positions of a lexeme.
MAX_POSITION = 16383
MAX_POSITIONS = 256
#: What starts a stem lexeme, and a title's own copy of a lexeme (never a word key: those are \w runs).
STEM_MARK = "~"
TITLE_MARK = "^"
#: Each field's mark and the weights of its word and stem lexemes (None: title and body).
_FIELD_MARKS = {None: "", "title": TITLE_MARK, "body": ""}
_WORD_WEIGHTS = {None: "", "title": "", "body": "D"}
_STEM_WEIGHTS = {None: "", "title": "", "body": "C"}


# --- the index ---------------------------------------------------------------------------------

@lru_cache(maxsize=1 << 18)
def _quote(lexeme: str) -> str:
    """A lexeme quoted for a tsvector or tsquery literal."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@lru_cache(maxsize=1 << 18)
def _stem_lexeme(key: str) -> str | None:
    """The stem lexeme of a word key (``~stem``), ``None`` when the stem is the key itself."""
    key_stem = stem(key)
    return None if key_stem == key else STEM_MARK + key_stem


@lru_cache(maxsize=8)
def _labels(weight: str) -> list[str]:
    """``"1A"``, ``"2A"``...: every position with a weight, made once."""
    return [f"{p}{weight}" for p in range(MAX_POSITION + 1)]


def _place(text_: str, start: int, weight: str, stem_weight: str, into: dict[str, list[str]], mark: str = "") -> int:
    """Add the word keys of ``text_`` from position ``start`` (and their stems at the same
    positions) to ``into`` (lexeme: weighted positions), each with ``mark`` before it; the
    position after the last word.  PostgreSQL sorts the positions, merges repeats and keeps 256
    of a lexeme."""
    labels, stem_labels = _labels(weight), _labels(stem_weight)
    position = start
    for token in tokens(text_):
        key = word_key(token)
        at = position if position < MAX_POSITION else MAX_POSITION
        into.setdefault(mark + key, []).append(labels[at])
        stem_lexeme = _stem_lexeme(key)
        if stem_lexeme is not None:
            into.setdefault(mark + stem_lexeme, []).append(stem_labels[at])
        position += 1
    return position


def index_vector(title: str | None, body: str) -> str:
    """The ``tsvector`` literal of one article (see the module's docstring)."""
    lexemes: dict[str, list[str]] = {}
    _place(title or "", 1, "A", "B", lexemes, TITLE_MARK)
    after_title = _place(title or "", 1, "A", "B", lexemes)
    _place(body, after_title + 1, "D", "C", lexemes)
    return " ".join(_quote(lexeme_) + ":" + ",".join(marks[:MAX_POSITIONS]) for lexeme_, marks in lexemes.items())


#: What starts a mark: an article's month (``@d202408``, ``@d`` undated) and source (``@s7``).
MARK = "@"


def month_mark(published: datetime | date | None) -> str:
    """The month mark of a publication time (its UTC month), ``@d`` when there is none."""
    if published is None:
        return MARK + "d"
    if isinstance(published, datetime) and published.tzinfo is not None:
        published = published.astimezone(timezone.utc)
    return f"{MARK}d{published.year:04d}{published.month:02d}"


def source_mark(source_id: int) -> str:
    return f"{MARK}s{source_id}"


def marks(published: datetime | None, source_id: int | None) -> str:
    """The marks of an article as a tsvector literal, lexemes without positions (revision 0016:
    SQL's ``akhbar_search_marks`` makes the same; a bulk load appends this to :func:`index_vector`)."""
    lexemes = [month_mark(published)] + ([] if source_id is None else [source_mark(source_id)])
    return " ".join(map(_quote, lexemes))


#: The row takes the article's publication time and source, and their marks (revisions 0013,
#: 0016; a trigger on ``articles`` follows later changes of either).
_INDEX = text(
    "INSERT INTO article_search_keys (article_id, keys, published_utc, source_id) "
    "SELECT a.id, CAST(:keys AS tsvector) || akhbar_search_marks(a.published_utc, a.source_id), a.published_utc, "
    "a.source_id FROM articles a WHERE a.id = :id "
    "ON CONFLICT (article_id) DO UPDATE SET keys = excluded.keys, published_utc = excluded.published_utc, "
    "source_id = excluded.source_id"
)
#: The GIN index of the keys (revision 0006): a bulk load drops it and builds it after the rows.
GIN_INDEX = "CREATE INDEX article_search_keys_gin ON article_search_keys USING GIN (keys)"


def index_values(article_id: int, title: str | None, body: str) -> dict[str, object]:
    """The parameters of one article's index row."""
    return {"id": article_id, "keys": index_vector(title, body)}


def index_article(session: Session, article_id: int, title: str | None, body: str) -> None:
    """Write (or replace) the index row of one article, in the session's transaction."""
    session.execute(_INDEX, index_values(article_id, title, body))


def index_many(session: Session, rows: Iterable[tuple[int, str | None, str]]) -> int:
    """Write the index rows of many articles (id, title, text) in one statement; how many."""
    values = [index_values(*row) for row in rows]
    if values:
        session.execute(_INDEX, values)
    return len(values)


def clear(session: Session) -> None:
    """Remove every index row."""
    session.execute(text("DELETE FROM article_search_keys"))


# --- compiling a query -------------------------------------------------------------------------

def lexeme(key: str, *, prefix: bool = False, weights: str = "") -> str:
    """One key as a quoted tsquery lexeme, ``:*`` for a prefix, weights (``A``...) when given."""
    label = ("*" if prefix else "") + weights
    return _quote(key) + (":" + label if label else "")


def _any(lexemes: Sequence[str]) -> str:
    return lexemes[0] if len(lexemes) == 1 else "(" + " | ".join(lexemes) + ")"


@dataclass(frozen=True)
class TsQuery:
    """A query as two tsquery literals: ``word`` (exact word keys) and ``full`` (or stems); and
    each one's *loose* form (``word_loose``, ``full_loose``): the same lexemes without phrase
    order or weights (a phrase's words ANDed, a negated phrase or weighted term left out), which
    matches a superset of the articles and which the GIN index answers without reading a vector.
    When a loose form differs from its query, matches are its candidates checked one by one."""

    word: str
    full: str
    word_loose: str = ""
    full_loose: str = ""

    def loose(self, tier: str) -> str:
        """The loose form of ``word`` or ``full`` (the query itself when none was given)."""
        strict, loose = (self.word, self.word_loose) if tier == "word" else (self.full, self.full_loose)
        return loose or strict


def _leaf(node: q.Term | q.Phrase) -> TsQuery | None:
    toks = tokens(node.text)
    if not toks:
        return None
    mark, weights = _FIELD_MARKS[node.field], _WORD_WEIGHTS[node.field]
    prefix = isinstance(node, q.Term) and node.prefix
    if len(toks) > 1 or prefix:  # a phrase (or a prefix) matches word keys, in order
        keys = [mark + word_key(t) for t in toks]
        parts = [lexeme(k, weights=weights) for k in keys[:-1]] + [lexeme(keys[-1], prefix=prefix, weights=weights)]
        loose_parts = [lexeme(k) for k in keys[:-1]] + [lexeme(keys[-1], prefix=prefix)]
        expr = parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"
        loose = loose_parts[0] if len(parts) == 1 else "(" + " & ".join(loose_parts) + ")"
        return TsQuery(expr, expr, loose, loose)
    keys = list(query_word_keys(toks[0]))
    stems = list(dict.fromkeys(stem(k) for k in keys))
    word = _any([lexeme(mark + k, weights=weights) for k in keys])
    # a stem is a stem lexeme, or a word key where it is a word's own key
    full = [lexeme(mark + k, weights=weights) for k in dict.fromkeys(keys + stems)]
    full += [lexeme(mark + STEM_MARK + s, weights=_STEM_WEIGHTS[node.field]) for s in stems]
    full_loose = [lexeme(mark + k) for k in dict.fromkeys(keys + stems)] + [lexeme(mark + STEM_MARK + s) for s in stems]
    return TsQuery(word, _any(full), _any([lexeme(mark + k) for k in keys]), _any(full_loose))


def _join(parts: Sequence[TsQuery], operator: str) -> TsQuery:
    return TsQuery(*("(" + f" {operator} ".join(getattr(p, f) for p in parts) + ")"
                     for f in ("word", "full", "word_loose", "full_loose")))


def _compile(node: q.Node) -> TsQuery | None:
    """The tsquery texts of a node; ``None`` when it holds no word.  The caller has refused the
    trees SQLite refuses (a NOT with nothing beside it) through storage.search."""
    if isinstance(node, (q.Term, q.Phrase)):
        return _leaf(node)
    if isinstance(node, q.Not):
        return None
    if isinstance(node, q.Or):
        parts = [p for p in map(_compile, node.items) if p]
        return _join(parts, "|") if parts else None
    positive = [p for p in (_compile(i) for i in node.items if not isinstance(i, q.Not)) if p]
    negative = [p for p in (_compile(i.item) for i in node.items if isinstance(i, q.Not)) if p]
    if not positive:
        return None
    joined = _join(positive, "&")
    if not negative:
        return joined
    # a negated word is left out in its exact forms, in both tiers; the loose forms leave out
    # only what the index tells without a check (no phrase, no weight), else they would miss
    excluded = "!(" + " | ".join(n.word for n in negative) + ")"
    sure = [n.word for n in negative if n.word == n.word_loose]
    loose_excluded = " & !(" + " | ".join(sure) + ")" if sure else ""
    return TsQuery(f"({joined.word} & {excluded})", f"({joined.full} & {excluded})",
                   f"({joined.word_loose}{loose_excluded})", f"({joined.full_loose}{loose_excluded})")


def compile_tree(tree: q.Node | None) -> TsQuery | None:
    """The tsquery literals of a parsed query; ``None`` when it holds no word."""
    return _compile(tree) if tree is not None else None


# --- selecting articles ------------------------------------------------------------------------

def _day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def filter_sql(filters: Filters, params: dict[str, Any]) -> list[str]:
    """WHERE conditions (over ``a`` = articles, ``s`` = sources) of the filters; fills ``params``."""
    return _source_and_dates(filters, params, source="s.name = ANY(:sources)", published="a.published_utc") \
        + field_filters(filters, params)


def _source_and_dates(filters: Filters, params: dict[str, Any], *, source: str, published: str) -> list[str]:
    """The source and publication-date conditions: ``source`` (a condition on ``:sources``) and
    ``published`` (the column compared with the days); fills ``params``."""
    where: list[str] = []
    if filters.sources:
        params["sources"] = list(dict.fromkeys(filters.sources))
        where.append(source)
    if filters.since is not None:
        params["since"] = _day(filters.since)
        where.append(f"{published} >= :since")
    if filters.until is not None:
        params["until"] = _day(filters.until + timedelta(days=1))
        where.append(f"{published} < :until")
    return where


def field_filters(filters: Filters, params: dict[str, Any]) -> list[str]:
    """The conditions of the language, section and author filters, the same SQL on both engines
    (:func:`storage.search.filter_sql` uses them too); fills ``params``."""
    where: list[str] = []
    if filters.lang:
        params["lang"] = filters.lang.strip().lower()
        where.append("lower(a.lang) = :lang")
    if filters.section:
        params["section"] = filters.section.strip()
        where.append("a.section = :section")
    if filters.author:
        params["author"] = "%" + filters.author.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("a.author LIKE :author ESCAPE '\\'")
    return where


_ORDER = {
    "newest": "a.published_utc DESC NULLS LAST, a.id DESC",
    "oldest": "a.published_utc ASC NULLS LAST, a.id",
}
_MATCHED = "FROM article_search_keys k JOIN articles a ON a.id = k.article_id LEFT JOIN sources s ON s.id = a.source_id"
_ALL = "FROM articles a LEFT JOIN sources s ON s.id = a.source_id"


def matching_sql(
    tsq: TsQuery | None, filters: Filters, *, columns: str, sort: str, limit: int | None = None, offset: int = 0
) -> tuple[str, dict[str, Any]]:
    """SQL selecting ``columns`` (over ``a`` = articles, ``s`` = sources, ``m.rank``) of the
    articles matching the query and filters in ``sort`` order (relevance, newest, oldest), a page
    of them when ``limit`` is given; and its parameters."""
    params: dict[str, Any] = {}
    where = filter_sql(filters, params)
    page = ""
    if limit is not None:
        params.update(limit=limit, offset=offset)
        page = " LIMIT :limit OFFSET :offset"
    if tsq is not None and sort == "relevance":
        return _ranked_sql(tsq, where, params, columns, page), params
    source = _ALL
    if tsq is not None:
        params["full"] = tsq.full
        source = _MATCHED
        where.insert(0, "k.keys @@ CAST(:full AS tsquery)")
    sql = f"SELECT {columns} FROM (SELECT 0.0 AS rank) AS m, " + source.removeprefix("FROM ")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY " + _ORDER["newest" if sort == "relevance" else sort] + page, params


def _ranked_sql(tsq: TsQuery, where: list[str], params: dict[str, Any], columns: str, page: str) -> str:
    """Relevance: exact-word matches before stem-only ones (found with the GIN index, as a set);
    in that order, newest first, the first :data:`RANK_POOL` matches are ranked by ts_rank (the
    only rows whose vectors are read) and the rest follow newest first."""
    params.update(full=tsq.full, weights=RANK_WEIGHTS, pool=RANK_POOL)
    exact = "1"
    if tsq.word != tsq.full:
        params["word"] = tsq.word
        exact = ("CASE WHEN a.id IN (SELECT w.article_id FROM article_search_keys w "
                 "WHERE w.keys @@ CAST(:word AS tsquery)) THEN 1 ELSE 0 END")
    conditions = " AND ".join(["k.keys @@ CAST(:full AS tsquery)", *where])
    order = ("m.exact DESC, m.pooled DESC, m.rank, CASE WHEN m.pooled THEN m.fid END, "
             "m.pub DESC NULLS LAST, m.fid DESC")
    return (
        f"WITH e AS MATERIALIZED (SELECT a.id AS fid, a.published_utc AS pub, {exact} AS exact {_MATCHED} "
        f"WHERE {conditions}), "
        "top AS MATERIALIZED (SELECT fid FROM e ORDER BY exact DESC, pub DESC NULLS LAST, fid DESC LIMIT :pool), "
        "r AS (SELECT top.fid, -ts_rank(CAST(:weights AS real[]), k.keys, CAST(:full AS tsquery)) AS rank "
        "FROM top JOIN article_search_keys k ON k.article_id = top.fid), "
        "m AS (SELECT e.fid, e.pub, e.exact, r.fid IS NOT NULL AS pooled, COALESCE(r.rank, 0.0) AS rank "
        f"FROM e LEFT JOIN r ON r.fid = e.fid ORDER BY "
        "e.exact DESC, r.fid IS NOT NULL DESC, COALESCE(r.rank, 0.0), CASE WHEN r.fid IS NOT NULL THEN e.fid END, "
        f"e.pub DESC NULLS LAST, e.fid DESC{page}) "
        f"SELECT {columns} FROM m JOIN articles a ON a.id = m.fid LEFT JOIN sources s ON s.id = a.source_id "
        f"ORDER BY {order}"
    )


# --- a page of hits, from the keys table --------------------------------------------------------

#: A date-sorted page is taken by the newest-first walk below while its end is within this many
#: matches; deeper pages (and exports, counts) use :func:`matching_sql`.
WALK_LIMIT = 5000
_NEWEST = "k.published_utc DESC NULLS LAST, k.article_id DESC"
_OLDEST = "k.published_utc ASC NULLS LAST, k.article_id ASC"


def key_filters(filters: Filters, params: dict[str, Any]) -> tuple[list[str], bool]:
    """WHERE conditions over ``k`` = article_search_keys (its copies of the source and the
    publication time, revision 0013) and, for the language, section and author, ``a`` = articles;
    whether they need ``a``.  Fills ``params``."""
    where = _source_and_dates(filters, params, published="k.published_utc",
                              source="k.source_id IN (SELECT id FROM sources WHERE name = ANY(:sources))")
    fields = field_filters(filters, params)
    return where + fields, bool(fields)


#: A date-ordered walk asks the newest (or oldest) :data:`FIRST_MONTHS` months first (their month
#: marks ANDed to the query, revision 0016); then as many more as the rate of matches so far says
#: the page needs, times :data:`MONTH_MARGIN`; all the rest at once when that is all of them or
#: when nothing matched yet.
FIRST_MONTHS = 1
MONTH_MARGIN = 1.5
_MONTH = "date_trunc('month', k.published_utc AT TIME ZONE 'UTC')"  # article_search_keys_month's expression


@dataclass(frozen=True)
class Batch:
    """One step of a walk: the articles of ``months`` (month marks), or with ``months`` empty, all
    those on the far side of ``edge`` and the undated (every article when ``edge`` is None);
    ``last``: nothing is left after it."""

    months: tuple[str, ...] = ()
    edge: datetime | None = None
    last: bool = False


def _month_starts(session: Session, filters: Filters) -> list[datetime]:
    """The first instants (UTC) of the months from the oldest dated article's to the newest's,
    within the date filters, oldest first (from the month index: two index probes)."""
    lo, hi = session.execute(text(f"SELECT min({_MONTH}), max({_MONTH}) FROM article_search_keys k")).one()
    if lo is None or hi is None:
        return []
    first, last = date(lo.year, lo.month, 1), date(hi.year, hi.month, 1)
    if filters.since is not None:
        first = max(first, date(filters.since.year, filters.since.month, 1))
    if filters.until is not None:
        last = min(last, date(filters.until.year, filters.until.month, 1))
    starts: list[datetime] = []
    while first <= last:
        starts.append(_day(first))
        first = _next_month(starts[-1]).date()
    return starts


def next_size(months_asked: int, found: int, limit: int) -> int | None:
    """How many months the next step of a walk asks, from the matches found so far in the months
    asked; ``None``: all the rest."""
    if months_asked == 0:
        return FIRST_MONTHS
    if found == 0:
        return None
    return max(1, math.ceil((limit - found) * months_asked / found * MONTH_MARGIN))


def next_batch(order: Sequence[datetime], taken: int, size: int | None, sort: str, undated: bool) -> Batch | None:
    """The step after the first ``taken`` of the months beginning at ``order`` (in ``sort``
    order): ``size`` more months, or the rest (``None``, or when that is all that is left), or the
    undated articles; ``None`` when nothing is left.  ``undated``: whether undated articles can
    match (they come last in both orders)."""
    if taken >= len(order):
        return Batch((month_mark(None),), last=True) if undated else None
    if size is not None and taken + size < len(order):
        return Batch(tuple(month_mark(m) for m in order[taken:taken + size]))
    if taken == 0:
        return Batch(last=True)
    return Batch(edge=_next_month(order[taken - 1]) if sort == "oldest" else order[taken - 1], last=True)


def _next_month(start: datetime) -> datetime:
    return _day(date(start.year + start.month // 12, start.month % 12 + 1, 1))


def _source_ids(session: Session, names: Sequence[str]) -> list[int]:
    sql = text("SELECT id FROM sources WHERE name = ANY(:names) ORDER BY id")
    return [int(i) for i in session.execute(sql, {"names": list(dict.fromkeys(names))}).scalars()]


@dataclass(frozen=True)
class Scope:
    """What a walk asks of the filters once: the source marks ANDed to its queries (``""``
    without a source filter, ``None`` when no source has the names) and :func:`_month_starts`."""

    sources: str | None
    starts: tuple[datetime, ...]

    @classmethod
    def of(cls, session: Session, filters: Filters) -> Scope:
        sources: str | None = ""
        if filters.sources:
            ids = _source_ids(session, filters.sources)
            sources = " & " + _any([lexeme(source_mark(i)) for i in ids]) if ids else None
        return cls(sources, tuple(_month_starts(session, filters)) if sources is not None else ())


def walk(session: Session, tsq: TsQuery, tier: str, filters: Filters, *, sort: str, limit: int,
         exclude: Sequence[int] = (), scope: Scope | None = None) -> list[int]:
    """The ids of the first ``limit`` articles matching ``tsq``'s ``tier`` (``word`` or ``full``)
    and the filters in ``sort`` order (newest, oldest), leaving out ``exclude``.

    The months are asked in that order, a few at a time (:func:`next_batch`): their month marks
    (and a source filter's source marks) are ANDed to the query, so the GIN index gives only the
    matches of those months and sources, and the walk stops once it holds ``limit`` matches.
    Within a batch, the matches of the loose form come from the GIN index with their dates (no
    vector read) and are sorted; when the loose form is the query, that is all.  Otherwise (a
    phrase, a ``body:`` weight, a negated phrase) the sorted candidates are checked against the
    query in that order until the page is full: a vector is read for each candidate checked,
    not for every candidate.  ``scope``: the filters' :class:`Scope` when the caller has it."""
    scope = scope or Scope.of(session, filters)
    if scope.sources is None:
        return []
    undated = filters.since is None and filters.until is None
    order = list(scope.starts) if sort == "oldest" else list(reversed(scope.starts))
    found: list[tuple[int, Any]] = []
    taken = 0
    while len(found) < limit:
        batch = next_batch(order, taken, next_size(taken, len(found), limit), sort, undated)
        if batch is None:
            break
        found += _walk_batch(session, tsq, tier, filters, batch, scope.sources, sort=sort, limit=limit - len(found),
                             exclude=exclude)
        if batch.last:
            break
        taken += len(batch.months)
    return [fid for fid, _ in sorted(found, key=_date_key(sort))][:limit]


def _walk_batch(session: Session, tsq: TsQuery, tier: str, filters: Filters, batch: Batch, sources: str, *,
                sort: str, limit: int, exclude: Sequence[int]) -> list[tuple[int, Any]]:
    """(id, published) of the first ``limit`` matches within one batch, in ``sort`` order."""
    query = tsq.word if tier == "word" else tsq.full
    loose = tsq.loose(tier)
    restricted = f"({loose}){sources}" + (" & " + _any([lexeme(m) for m in batch.months]) if batch.months else "")
    params: dict[str, Any] = {"loose": restricted, "limit": limit}
    where, joined = key_filters(filters, params)
    where.insert(0, "k.keys @@ CAST(:loose AS tsquery)")
    if batch.edge is not None:
        params["edge"] = batch.edge
        side = ">=" if sort == "oldest" else "<"
        where.append(f"(k.published_utc {side} :edge OR k.published_utc IS NULL)")
    if exclude:
        params["exclude"] = list(exclude)
        where.append("k.article_id <> ALL(:exclude)")
    order = _OLDEST if sort == "oldest" else _NEWEST
    select = (
        "SELECT k.article_id AS fid, k.published_utc AS pub FROM article_search_keys k "
        + ("JOIN articles a ON a.id = k.article_id " if joined else "")
        + "WHERE " + " AND ".join(where) + f" ORDER BY {order}"
    )
    if loose == query:
        sql = select + " LIMIT :limit"
    else:
        params["query"] = query
        # a scalar subquery, checked row by row in the CTE's order (an EXISTS would become a join
        # that checks every candidate and loses the order)
        sql = (f"WITH c AS MATERIALIZED ({select}) SELECT c.fid, c.pub FROM c WHERE (SELECT x.keys @@ "
               "CAST(:query AS tsquery) FROM article_search_keys x WHERE x.article_id = c.fid) LIMIT :limit")
    return [(fid, pub) for fid, pub in session.execute(text(sql), params).all()]


def _date_key(sort: str) -> Any:
    """The sort key of (id, published) rows in ``sort`` order, undated last in both."""
    if sort == "oldest":
        return lambda row: (row[1] is None, row[1] or _EPOCH, row[0])
    return lambda row: (row[1] is None, -(row[1] or _EPOCH).timestamp(), -row[0])


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _described(session: Session, ids: Sequence[int], tsq: TsQuery | None) -> dict[int, tuple[float, str | None]]:
    """(rank, source name) of each indexed id: rank is ``-ts_rank`` of the full query (``tsq``), or 0."""
    if not ids:
        return {}
    params: dict[str, Any] = {"ids": list(ids)}
    rank = "0.0"
    if tsq is not None:
        params.update(full=tsq.full, weights=RANK_WEIGHTS)
        rank = "-ts_rank(CAST(:weights AS real[]), k.keys, CAST(:full AS tsquery))"
    # the source from the keys row's copy (revision 0013): no join to articles, whose whole index
    # the planner would rather merge-join than look the few ids up
    sql = (f"SELECT k.article_id AS fid, {rank} AS rank, s.name AS source FROM article_search_keys k "
           "LEFT JOIN sources s ON s.id = k.source_id WHERE k.article_id = ANY(:ids)")
    return {row.fid: (float(row.rank), row.source) for row in session.execute(text(sql), params)}


def pool_page(session: Session, tsq: TsQuery, filters: Filters, limit: int, offset: int) -> list[tuple[int, float, str | None]]:
    """A relevance page that lies within the ranked pool: (id, rank, source) of each hit.

    The pool is what :func:`matching_sql` ranks: the newest :data:`RANK_POOL` exact-word matches,
    and when there are fewer, the newest stem-only matches after them up to the pool's size.  It
    is ordered exact ones first, then by ``ts_rank``, then by id, as there."""
    scope = Scope.of(session, filters)
    exact = walk(session, tsq, "word", filters, sort="newest", limit=RANK_POOL, scope=scope)
    pool = [(fid, True) for fid in exact]
    if len(exact) < RANK_POOL and tsq.word != tsq.full:
        # every exact match is in hand: the rest of the pool is stem-only
        more = walk(session, tsq, "full", filters, sort="newest", limit=RANK_POOL - len(exact), exclude=exact,
                    scope=scope)
        pool += [(fid, False) for fid in more]
    described = _described(session, [fid for fid, _ in pool], tsq)
    ordered = sorted(((fid, is_exact) for fid, is_exact in pool if fid in described),
                     key=lambda item: (not item[1], described[item[0]][0], item[0]))
    return [(fid, described[fid][0], described[fid][1]) for fid, _ in ordered[offset:offset + limit]]


def page(session: Session, tsq: TsQuery | None, filters: Filters, sort: str, limit: int,
         offset: int) -> list[tuple[int, float, str | None]]:
    """(id, rank, source) of one page of matches of ``tsq`` and the filters in ``sort`` order:
    first pages from the keys table (:func:`pool_page`, :func:`walk`), any other through
    :func:`matching_sql`; the same hits either way."""
    with index_plans(session):
        if tsq is not None and sort == "relevance" and offset + limit <= RANK_POOL:
            return pool_page(session, tsq, filters, limit, offset)
        if tsq is not None and sort in ("newest", "oldest") and offset + limit <= WALK_LIMIT:
            ids = walk(session, tsq, "full", filters, sort=sort, limit=offset + limit)[offset:]
            described = _described(session, ids, None)
            return [(fid, 0.0, described[fid][1]) for fid in ids if fid in described]
        sql, params = matching_sql(tsq, filters, columns="a.id, m.rank, s.name AS source", sort=sort,
                                   limit=limit, offset=offset)
        return [(row.id, row.rank, row.source) for row in session.execute(text(sql), params)]


#: The key of each ``count --by`` (days and months in UTC, as SQLite stores them).
BY_SQL = {
    "day": "to_char(a.published_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "week": "to_char(a.published_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "month": "to_char(a.published_utc AT TIME ZONE 'UTC', 'YYYY-MM')",
    "source": "s.name",
    "section": "a.section",
}


@contextmanager
def index_plans(session: Session) -> Iterator[None]:
    """Search statements run with sequential scans disfavoured (``enable_seqscan`` off in the
    transaction, put back afterwards).  The planner does not count what ``@@`` costs on a row (its
    vector read and decompressed): for a common word it would read every vector of the table
    rather than take the matching ids from the GIN index."""
    previous = session.execute(text("SELECT current_setting('enable_seqscan') AS was, "
                                    "set_config('enable_seqscan', 'off', true)")).one()[0]  # one round trip
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('enable_seqscan', :previous, true)"), {"previous": previous})


def count_rows(session: Session, tsq: TsQuery | None, filters: Filters, by: str) -> list[tuple[str | None, int]]:
    """(key, articles) of the matches per ``by`` key, in no particular order."""
    sql, params = matching_sql(tsq, filters, columns=f"{BY_SQL[by]} AS k", sort="oldest")
    grouped = f"SELECT k, count(*) AS n FROM ({sql.split(' ORDER BY ')[0]}) AS g GROUP BY k"
    with index_plans(session):
        return [(row.k, int(row.n)) for row in session.execute(text(grouped), params)]
