"""The full-text index on PostgreSQL: a ``tsvector`` per article with a GIN index.

The index is ``article_search_keys`` (revision 0006): one row per article, ``keys`` built with
``to_tsvector('simple', ...)`` from the same four columns SQLite's ``articles_fts`` holds
(:func:`crawler.core.analyzer.index_columns`): the title's word keys (weight A) and stems (B),
the body's stems (C) and word keys (D).  The ``simple`` configuration only lower-cases (no
stemming, no stop words): the Arabic matching is the analyzer's, not PostgreSQL's.

:func:`match` finds the articles holding every given word key, each a quoted lexeme for
``to_tsquery('simple', ...)`` (``'key'``, or ``'key':*`` for a prefix), ranked by ``ts_rank``
with a title word weighted :data:`TITLE_WEIGHT` times a body word.  The query language of
:mod:`storage.search` is compiled to FTS5 only for now; on PostgreSQL it raises
``SearchUnavailable`` (one line) while this index is kept up to date for it.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.analyzer import index_columns

#: ts_rank weights of the {D, C, B, A} classes: body words, body stems, title stems, title words
#: (a title word five times a body word, a stem half a word, as on SQLite).
RANK_WEIGHTS = "{0.2, 0.1, 0.5, 1.0}"
TITLE_WEIGHT = 5.0

_INDEX = text(
    "INSERT INTO article_search_keys (article_id, keys) VALUES (:id, "
    "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :title_stem), 'B') || "
    "setweight(to_tsvector('simple', :body_stem), 'C') || setweight(to_tsvector('simple', :body), 'D')) "
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


def index_values(article_id: int, title: str | None, body: str) -> dict[str, object]:
    """The parameters of one article's index row."""
    title_words, title_stems = index_columns(title or "")
    body_words, body_stems = index_columns(body)
    return {"id": article_id, "title": title_words, "title_stem": title_stems, "body": body_words,
            "body_stem": body_stems}


def index_article(session: Session, article_id: int, title: str | None, body: str) -> None:
    """Write (or replace) the index row of one article, in the session's transaction."""
    session.execute(_INDEX, index_values(article_id, title, body))


def clear(session: Session) -> None:
    """Remove every index row."""
    session.execute(text("DELETE FROM article_search_keys"))


def match(session: Session, keys: list[str], limit: int, *, prefixes: Iterable[str] = ()) -> list[tuple[int, float]]:
    """Ids and scores (higher is better) of the articles holding every key, best first."""
    if not keys:
        return []
    rows = session.execute(_MATCH, {"q": tsquery(keys, prefixes), "weights": RANK_WEIGHTS, "limit": limit})
    return [(int(article_id), float(rank)) for article_id, rank in rows]
