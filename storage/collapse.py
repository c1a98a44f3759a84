"""Search with near-duplicate clusters folded: one hit per story, not one per copy.

An article's *story* is its near-duplicate cluster (``articles.cluster_id``, :mod:`storage.neardup`;
an article never clustered is a story of its own).  Of the articles that match a query and its
filters, the copies of one story become ONE hit:

* the hit is the story's member that comes first in the chosen order: the most relevant matching
  copy (``relevance``), the newest (``newest``) or the oldest (``oldest``).  Collapsed hits are thus
  exactly the uncollapsed list with every later copy of a story left out, in the same order;
* ``copies`` is how many matching articles the hit stands for (itself included: 1 = no other copy)
  and ``outlets`` how many distinct sources published them (articles without a source not counted).
  Copies that do not match the query or the filters are not counted (the article page lists the
  whole cluster).

:func:`count_stories` counts stories the same way, so a search page's total and paging agree with
the hits shown: each story once, in the bucket of its OLDEST matching copy (by month: when the story
first appeared; by source: the outlet that had it first).  The sum of ``copies`` over every hit is
the uncollapsed count (:func:`storage.search.count`).

How: the ranked matches (:func:`storage.search.matching_sql`, each with its cluster read from the
covering index ``ix_articles_cluster_of``, never from the large article row) are read in order
until the page's stories are found; one more query, unranked, counts the copies and outlets of
those stories.  Counting uses a window function (SQLite 3.25+).
"""
from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.errors import QueryError
from storage import search_pg
from storage.search import (
    _BY_SQL, BY, MARKS, Compiled, Filters, Hit, Marker, _filter_sql, _pg_query, _postgresql, _require_backend,
    _texts, arrange_counts, compile_query, make_snippet, matching_sql, narrowed, page_wanted, rank_window, window_sql,
)

__all__ = ["count_stories", "search_stories"]

#: The order of the matches inside a wrapped query (its column names), per sort.
_ORDER = {
    "relevance": "exact DESC, rank, id",
    "newest": "pub IS NULL, pub DESC, id DESC",
    "oldest": "pub IS NULL, pub, id",
}
#: A match's story: its cluster, from the covering index (the article row is large).
GROUP = "(SELECT coalesce(c.cluster_id, c.id) FROM articles c INDEXED BY ix_articles_cluster_of WHERE c.id = a.id)"
#: The same for a row ``w`` of the ranked window.
WINDOW_GROUP = "(SELECT coalesce(c.cluster_id, c.id) FROM articles c INDEXED BY ix_articles_cluster_of WHERE c.id = w.id)"
#: The same on PostgreSQL (its planner picks the index; ``INDEXED BY`` is SQLite's).
PG_GROUP = "coalesce(a.cluster_id, a.id)"


def _group(session: Session) -> str:
    return PG_GROUP if _postgresql(session) else GROUP


def _matching(
    session: Session, query: str, compiled: Compiled | None, filters: Filters, columns: str, sort: str
) -> tuple[str, dict[str, Any]]:
    """The matching SQL of the archive's engine (:func:`storage.search.matching_sql` or its
    PostgreSQL twin), unpaged, with ``columns``."""
    if _postgresql(session):
        return search_pg.matching_sql(_pg_query(query) if compiled else None, filters, columns=columns, sort=sort)
    return matching_sql(narrowed(session, compiled, filters), filters, columns=columns, sort=sort)


def _unordered(sql: str) -> str:
    """The matching SQL without its ORDER BY (the query text is bound, never in the SQL)."""
    return sql.rsplit(" ORDER BY ", 1)[0]


def first_of_each(rows: Any, offset: int, limit: int) -> list[Any]:
    """Of ``rows`` (in order, each with ``grp``), the first of each story: the ``limit`` stories
    after ``offset`` of them.  Stops reading once it has them."""
    seen: set[int] = set()
    page: list[Any] = []
    for row in rows:
        if row.grp in seen:
            continue
        seen.add(row.grp)
        if len(seen) > offset:
            page.append(row)
            if len(page) >= limit:
                break
    return page


def copies_of(
    session: Session, query: str, compiled: Compiled | None, filters: Filters, groups: list[int]
) -> dict[int, tuple[int, int]]:
    """(copies, outlets) of each of these stories among the matches."""
    if not groups:
        return {}
    columns = f"a.source_id AS sid, {_group(session)} AS grp"
    inner, params = _matching(session, query, compiled, filters, columns, "oldest")
    marks = []
    for i, group in enumerate(groups):
        params[f"g{i}"] = group
        marks.append(f":g{i}")
    sql = (f"SELECT grp, count(*) AS copies, count(DISTINCT sid) AS outlets FROM ({_unordered(inner)}) AS h "
           f"WHERE grp IN ({', '.join(marks)}) GROUP BY grp")
    return {int(r.grp): (int(r.copies), int(r.outlets)) for r in session.execute(text(sql), params)}


def search_stories(
    session: Session,
    query: str,
    limit: int = 20,
    *,
    offset: int = 0,
    filters: Filters | None = None,
    sort: str = "relevance",
    marks: tuple[str, str] = MARKS,
) -> list[Hit]:
    """As :func:`storage.search.search`, one hit per story (see the module's doc), each with its
    ``copies`` and ``outlets``; ``limit`` and ``offset`` count stories."""
    filters = filters or Filters()
    compiled = compile_query(query)
    if not page_wanted(session, compiled, filters, limit, offset):
        return []
    windowed = None
    compiled = narrowed(session, compiled, filters)  # SQLite: the filters also asked of the index
    if compiled is not None and sort == "relevance" and not _postgresql(session):
        windowed = windowed_page(session, compiled, filters, offset, limit)
    if windowed is not None:
        page, counts = windowed
    else:
        page, counts = _page(session, query, compiled, filters, sort, offset, limit)
    rows = _texts(session, [r.id for r in page])
    marker = compiled.marker if compiled else Marker()
    return [_hit(r, rows[r.id], counts.get(int(r.grp), (1, 1)), marker, marks) for r in page if r.id in rows]


def _page(
    session: Session, query: str, compiled: Compiled | None, filters: Filters, sort: str, offset: int, limit: int
) -> tuple[list[Any], dict[int, tuple[int, int]]]:
    """A page of stories read from every match in ``sort`` order, and their (copies, outlets)."""
    columns = f"a.id AS id, m.rank AS rank, s.name AS source, {_group(session)} AS grp"
    ranked_from = 0
    if compiled is not None and sort == "relevance" and not _postgresql(session):
        ranked_from = rank_window(session, compiled, filters)  # as search() ranks
    if _postgresql(session):
        sql, params = _matching(session, query, compiled, filters, columns, sort)
    else:
        sql, params = matching_sql(compiled, filters, columns=columns, sort=sort, ranked_from=ranked_from)
    with search_pg.index_plans(session) if _postgresql(session) else nullcontext():
        result = session.execute(text(sql), params)
        try:
            page = first_of_each(result, offset, limit)
        finally:
            result.close()
        counts = copies_of(session, query, compiled, filters, [int(r.grp) for r in page])
    return page, counts


def windowed_page(
    session: Session, compiled: Compiled, filters: Filters, offset: int, limit: int
) -> tuple[list[Any], dict[int, tuple[int, int]]] | None:
    """A page of stories by relevance from the ranked window alone (SQLite, :func:`storage.search.window_sql`),
    and their (copies, outlets); ``None`` when the window holds fewer stories than the page needs
    and older matches exist.

    Every match newer than the window's oldest is in the window, so a story's copies are counted
    from the window's rows; only copies older than the window are looked up in the index, one by one."""
    sql, params = window_sql(compiled, filters)
    wrapped = (f"SELECT id, rank, source, exact, {WINDOW_GROUP} AS grp FROM ({sql}) w "
               "ORDER BY exact DESC, rank, id")
    rows = session.execute(text(wrapped), params).all()
    full = len(rows) >= params["window"]
    page = first_of_each(rows, offset, limit)
    if full and len(page) < limit:
        return None
    oldest = min((r.id for r in rows), default=0) if full else None
    return page, _window_copies(session, compiled, filters, {r.id for r in rows}, oldest, [int(r.grp) for r in page])


def _window_copies(
    session: Session, compiled: Compiled, filters: Filters, matched: set[int], oldest: int | None, groups: list[int]
) -> dict[int, tuple[int, int]]:
    """(copies, outlets) of each story of ``groups``: its members that match, known from the window's
    ids (``matched``) down to ``oldest`` (``None``: the window holds every match), looked up below."""
    if not groups:
        return {}
    marks = ", ".join(f":g{i}" for i in range(len(groups)))
    params: dict[str, Any] = {f"g{i}": g for i, g in enumerate(groups)}
    members = session.execute(text(
        f"SELECT id, source_id AS sid, cluster_id AS grp FROM articles INDEXED BY ix_articles_cluster_id "
        f"WHERE cluster_id IN ({marks}) UNION "
        f"SELECT id, source_id, id FROM articles WHERE id IN ({marks}) AND cluster_id IS NULL"), params).all()
    older = [m.id for m in members if oldest is not None and m.id < oldest]
    matching = matched | _older_matches(session, compiled, filters, older)
    found: dict[int, list[int | None]] = {}
    for member in members:
        if member.id in matching:
            found.setdefault(int(member.grp), []).append(member.sid)
    return {g: (len(sids), len({x for x in sids if x is not None})) for g, sids in found.items()}


#: Up to this many copies older than the window are looked up one by one; more (a story copied
#: hundreds of times) are found in one pass over the older matches.
LOOKUPS = 8


def _older_matches(session: Session, compiled: Compiled, filters: Filters, ids: list[int]) -> set[int]:
    """Those of ``ids`` that match the query and the filters."""
    if not ids:
        return set()
    if len(ids) <= LOOKUPS:
        return {i for i in ids if _matches(session, compiled, filters, i)}
    # only the asked ids leave SQLite: ``+rowid`` makes the list a test on each match (FTS5 would
    # otherwise take it as one lookup per id), and a broad query's older matches are many
    in_index = set(session.execute(text(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :full AND rowid BETWEEN :lo AND :hi "
        "AND +rowid IN (SELECT value FROM json_each(:ids))"),
        {"full": compiled.full, "lo": min(ids), "hi": max(ids), "ids": json.dumps(sorted(set(ids)))}).scalars())
    if not in_index or not filters:
        return in_index  # without filters, a match in the index is a match
    params: dict[str, Any] = {f"i{n}": i for n, i in enumerate(sorted(in_index))}
    where = [f"a.id IN ({', '.join(':' + k for k in params)})", *_filter_sql(filters, params)]
    return set(session.execute(text("SELECT a.id FROM articles a INDEXED BY ix_articles_search LEFT JOIN sources s "
                                    "ON s.id = a.source_id WHERE " + " AND ".join(where)), params).scalars())


def _matches(session: Session, compiled: Compiled, filters: Filters, article_id: int) -> bool:
    """Whether one article matches the query and the filters (an index lookup by rowid)."""
    params: dict[str, Any] = {"full": compiled.full, "one": article_id}
    where = ["articles_fts MATCH :full", "m.rowid = :one", *_filter_sql(filters, params)]
    sql = ("SELECT 1 FROM articles_fts m JOIN articles a INDEXED BY ix_articles_search ON a.id = m.rowid "
           "LEFT JOIN sources s ON s.id = a.source_id WHERE " + " AND ".join(where))
    return session.execute(text(sql), params).first() is not None


def _hit(ranked: Any, row: Any, counts: tuple[int, int], marker: Marker, marks: tuple[str, str]) -> Hit:
    return Hit(
        id=ranked.id,
        url=row.url,
        title=row.title,
        published=row.published,
        snippet=make_snippet(row.text, marker, marks=marks),
        score=-float(ranked.rank) if ranked.rank is not None else 0.0,
        source=ranked.source,
        copies=counts[0],
        outlets=counts[1],
    )


def count_stories(
    session: Session, query: str, *, by: str = "month", filters: Filters | None = None
) -> list[tuple[str | None, int]]:
    """How many stories match, per ``by``: each story once, in the bucket of its oldest matching
    copy (its publication month/day/week, its source, its section)."""
    if by not in BY:
        raise QueryError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    _require_backend(session)
    compiled = compile_query(query)
    key = search_pg.BY_SQL[by] if _postgresql(session) else _BY_SQL[by]
    columns = f"{key} AS k, a.id AS id, a.published_utc AS pub, {_group(session)} AS grp"
    inner, params = _matching(session, query, compiled, filters or Filters(), columns, "oldest")
    grouped = (
        f"SELECT k, count(*) AS n FROM (SELECT k, row_number() OVER (PARTITION BY grp ORDER BY {_ORDER['oldest']}) "
        f"AS pos FROM ({_unordered(inner)}) AS h) AS r WHERE pos = 1 GROUP BY k"
    )
    with search_pg.index_plans(session) if _postgresql(session) else nullcontext():
        rows = [(row.k, int(row.n)) for row in session.execute(text(grouped), params)]
    return arrange_counts(rows, by)
