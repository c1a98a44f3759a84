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

Everything is one SQL statement over the ranked matches (:func:`storage.search.matching_sql`) with
window functions (SQLite 3.25+, PostgreSQL), no article rows held in Python beyond the page shown.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.errors import QueryError
from storage.search import (
    _BY_SQL, BY, MARKS, MAX_LIMIT, Filters, Hit, Marker, _require_backend, _texts, arrange_counts, compile_query,
    make_snippet, matching_sql,
)

__all__ = ["count_stories", "search_stories", "stories_sql"]

#: The order of the matches inside the wrapped query (its column names), per sort.
_ORDER = {
    "relevance": "exact DESC, rank, id",
    "newest": "pub IS NULL, pub DESC, id DESC",
    "oldest": "pub IS NULL, pub, id",
}
_COLUMNS = "a.id AS id, m.rank AS rank, a.published_utc AS pub, a.source_id AS sid, s.name AS source, " \
           "coalesce(a.cluster_id, a.id) AS grp"


def _unordered(sql: str) -> str:
    """The matching SQL without its ORDER BY (the query text is bound, never in the SQL)."""
    return sql.rsplit(" ORDER BY ", 1)[0]


def stories_sql(inner: str, order: str) -> str:
    """One row per story of the matches ``inner`` selects (columns ``id``, ``grp``, ``sid`` and
    those ``order`` names): the first member in ``order`` with ``copies`` and ``outlets``, in
    ``order``."""
    return (
        "SELECT id, rank, source, copies, outlets FROM ("
        " SELECT r.*, sum(first_of_outlet) OVER (PARTITION BY grp) AS outlets FROM ("
        f"  SELECT h.*, row_number() OVER (PARTITION BY grp ORDER BY {order}) AS pos,"
        "   count(*) OVER (PARTITION BY grp) AS copies,"
        "   CASE WHEN sid IS NOT NULL AND row_number() OVER (PARTITION BY grp, sid ORDER BY id) = 1"
        "   THEN 1 ELSE 0 END AS first_of_outlet"
        f"  FROM ({inner}) AS h) AS r) AS t "
        f"WHERE pos = 1 ORDER BY {order}"
    )


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
    if (compiled is None and not filters) or limit <= 0:
        return []
    if limit > MAX_LIMIT or offset < 0:
        raise QueryError(f"limit must be 1-{MAX_LIMIT} and offset not negative")
    _require_backend(session)
    inner, params = matching_sql(compiled, filters, columns=_COLUMNS, sort=sort)
    order = _ORDER["newest" if compiled is None and sort == "relevance" else sort]
    sql = stories_sql(_unordered(inner), order) + " LIMIT :limit OFFSET :offset"
    ranked = list(session.execute(text(sql), {**params, "limit": limit, "offset": offset}))
    rows = _texts(session, [r.id for r in ranked])
    marker = compiled.marker if compiled else Marker()
    return [_hit(r, rows[r.id], marker, marks) for r in ranked if r.id in rows]


def _hit(ranked: Any, row: Any, marker: Marker, marks: tuple[str, str]) -> Hit:
    return Hit(
        id=ranked.id,
        url=row.url,
        title=row.title,
        published=row.published,
        snippet=make_snippet(row.text, marker, marks=marks),
        score=-float(ranked.rank),
        source=ranked.source,
        copies=int(ranked.copies),
        outlets=int(ranked.outlets or 0),
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
    columns = f"{_BY_SQL[by]} AS k, a.id AS id, a.published_utc AS pub, coalesce(a.cluster_id, a.id) AS grp"
    inner, params = matching_sql(compiled, filters or Filters(), columns=columns, sort="oldest")
    grouped = (
        f"SELECT k, count(*) AS n FROM (SELECT k, row_number() OVER (PARTITION BY grp ORDER BY {_ORDER['oldest']}) "
        f"AS pos FROM ({_unordered(inner)}) AS h) AS r WHERE pos = 1 GROUP BY k"
    )
    rows = [(row.k, int(row.n)) for row in session.execute(text(grouped), params)]
    return arrange_counts(rows, by)
