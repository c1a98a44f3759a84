"""Full-text search on PostgreSQL: a ``tsvector`` per article with a GIN index.

The index is ``article_search_keys`` (revision 0003): one row per article, ``keys`` built with
``to_tsvector('simple', ...)`` from :func:`crawler.core.arabic.search_text` of the title (weight
A) and the body (weight D) -- the same normalised tokens SQLite's ``articles_fts`` holds, so both
databases match the same articles.  The ``simple`` configuration only lower-cases (no stemming,
no stop words): the Arabic matching is search_text's, not PostgreSQL's.

A query is the same tokens joined with ``&``, each a quoted lexeme (``'key'``, or ``'key':*``
for a prefix), for ``to_tsquery('simple', ...)``; the ranking is ``ts_rank`` with the title
weighted :data:`TITLE_WEIGHT` times the body.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.arabic import search_text

#: ts_rank weights of the {D, C, B, A} classes: the body is D, the title A (five times a body word,
#: as on SQLite).
RANK_WEIGHTS = "{0.2, 0.2, 0.2, 1.0}"
TITLE_WEIGHT = 5.0

_INDEX = text(
    "INSERT INTO article_search_keys (article_id, keys) VALUES (:id, "
    "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :body), 'D')) "
    "ON CONFLICT (article_id) DO UPDATE SET keys = excluded.keys"
)
_MATCH = text(
    "SELECT k.article_id, ts_rank(CAST(:weights AS real[]), k.keys, q.query) AS rank "
    "FROM article_search_keys AS k, to_tsquery('simple', :q) AS q(query) "
    "WHERE k.keys @@ q.query ORDER BY rank DESC, k.article_id LIMIT :limit"
)


def lexeme(key: str, *, prefix: bool = False) -> str:
    """One key as a quoted tsquery lexeme (quotes and backslashes escaped), ``:*`` for a prefix."""
    quoted = "'" + key.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


def tsquery(keys: Iterable[str], prefixes: Iterable[str] = ()) -> str:
    """A ``to_tsquery`` text requiring every key; keys in ``prefixes`` match as prefixes."""
    starts = set(prefixes)
    return " & ".join(lexeme(key, prefix=key in starts) for key in keys)


class TsvectorBackend:
    """The :class:`storage.search.SearchBackend` of PostgreSQL."""

    def index(self, session: Session, article_id: int, title: str | None, body: str) -> None:
        session.execute(_INDEX, {"id": article_id, "title": search_text(title or ""), "body": search_text(body)})

    def clear(self, session: Session) -> None:
        session.execute(text("DELETE FROM article_search_keys"))

    def match(self, session: Session, keys: list[str], limit: int) -> list[tuple[int, float]]:
        rows = session.execute(_MATCH, {"q": tsquery(keys), "weights": RANK_WEIGHTS, "limit": limit})
        return [(int(article_id), float(rank)) for article_id, rank in rows]
