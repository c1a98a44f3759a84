"""Full-text search over the archive, behind one interface.

Indexed and queried text both go through :func:`crawler.core.arabic.search_text`, so a query finds
the same articles with or without diacritics, with any alef spelling, and with or without a
leading و / ال (and the other article clitics).  The only backend today is SQLite FTS5
(``articles_fts``, rowid = ``articles.id``, columns ``title`` and ``body``); a PostgreSQL
``tsvector`` backend can be added to :data:`BACKENDS` without changing callers.

Snippets are cut from the STORED text (as published, diacritics and all), about
:data:`SNIPPET_WORDS` words around the first matching word, and every matching word in the
snippet is wrapped in square brackets: ``[word]`` (see :data:`MARKS`).  Square brackets were
chosen over « » because Arabic news uses « » as its quotation marks.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crawler.core.arabic import search_text
from storage.models import ArticleRecord
from crawler.core.errors import SearchUnavailable

#: Opening and closing marks put around matching words in snippets.
MARKS: tuple[str, str] = ("[", "]")
#: About how many words a snippet holds.
SNIPPET_WORDS = 20
#: Words of context kept before the first match in a snippet.
SNIPPET_LEAD = 6
#: bm25 weights of the FTS columns: a word in the title counts this many times a body word.
TITLE_WEIGHT = 5.0
BODY_WEIGHT = 1.0


@dataclass(frozen=True)
class Hit:
    """One search result; higher ``score`` is a better match."""

    id: int
    url: str | None
    title: str | None
    published: str | None
    snippet: str
    score: float


class SearchBackend(Protocol):
    """What a full-text backend provides: keep an article's index row, and rank matches."""

    def index(self, session: Session, article_id: int, title: str | None, body: str) -> None:
        """Write (or replace) the index row of one article, in the session's transaction."""

    def clear(self, session: Session) -> None:
        """Remove every index row."""

    def match(self, session: Session, keys: list[str], limit: int) -> list[tuple[int, float]]:
        """Ids and scores (higher is better) of articles holding every key, best first."""


class Fts5Backend:
    """SQLite FTS5: bm25 ranking with the title weighted above the body."""

    def index(self, session: Session, article_id: int, title: str | None, body: str) -> None:
        session.execute(text("DELETE FROM articles_fts WHERE rowid = :id"), {"id": article_id})
        session.execute(
            text("INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)"),
            {"id": article_id, "title": search_text(title or ""), "body": search_text(body)},
        )

    def clear(self, session: Session) -> None:
        session.execute(text("DELETE FROM articles_fts"))

    def match(self, session: Session, keys: list[str], limit: int) -> list[tuple[int, float]]:
        rows = session.execute(
            text(
                "SELECT rowid, bm25(articles_fts, :tw, :bw) AS rank FROM articles_fts "
                "WHERE articles_fts MATCH :q ORDER BY rank, rowid LIMIT :limit"
            ),
            {"q": fts5_query(keys), "tw": TITLE_WEIGHT, "bw": BODY_WEIGHT, "limit": limit},
        )
        return [(int(row_id), -float(rank)) for row_id, rank in rows]


#: Full-text backends by SQLAlchemy dialect name.
BACKENDS: dict[str, SearchBackend] = {"sqlite": Fts5Backend()}


def backend_for(session: Session) -> SearchBackend | None:
    """The backend for the session's database, or ``None`` when there is none."""
    return BACKENDS.get(session.get_bind().dialect.name)


def index_article(session: Session, article_id: int, title: str | None, body: str) -> None:
    """Index one article in the caller's transaction.

    On a database without a backend this does nothing (a future backend may index in the
    database itself, e.g. a generated ``tsvector`` column); :func:`search` then raises.
    """
    backend = backend_for(session)
    if backend is not None:
        backend.index(session, article_id, title, body)


def rebuild_index(session: Session, *, batch: int = 500) -> int:
    """Re-index every article from its stored text (after ``search_text`` changed); returns the count."""
    backend = _require_backend(session)
    backend.clear(session)
    count = 0
    for row in session.execute(
        select(ArticleRecord.id, ArticleRecord.title, ArticleRecord.text).execution_options(
            yield_per=batch
        )
    ):
        backend.index(session, row.id, row.title, row.text)
        count += 1
    return count


def query_keys(query: str) -> list[str]:
    """The index keys of a user query, in order and without repeats."""
    return list(dict.fromkeys(search_text(query).split()))


def fts5_query(keys: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every key; each is quoted, so no key is syntax."""
    return " ".join('"' + key.replace('"', '""') + '"' for key in keys)


def search(
    session: Session, query: str, limit: int = 20, *, marks: tuple[str, str] = MARKS
) -> list[Hit]:
    """Articles matching every word of ``query``, best first, with snippets from the stored text."""
    keys = query_keys(query)
    if not keys or limit <= 0:
        return []
    ranked = _require_backend(session).match(session, keys, limit)
    if not ranked:
        return []
    rows = session.execute(
        select(
            ArticleRecord.id,
            ArticleRecord.url,
            ArticleRecord.title,
            ArticleRecord.published,
            ArticleRecord.text,
        ).where(ArticleRecord.id.in_([article_id for article_id, _ in ranked]))
    )
    by_id = {row.id: row for row in rows}
    wanted = set(keys)
    return [
        Hit(
            id=article_id,
            url=by_id[article_id].url,
            title=by_id[article_id].title,
            published=by_id[article_id].published,
            snippet=make_snippet(by_id[article_id].text, wanted, marks=marks),
            score=score,
        )
        for article_id, score in ranked
        if article_id in by_id
    ]


def _require_backend(session: Session) -> SearchBackend:
    backend = backend_for(session)
    if backend is None:
        name = session.get_bind().dialect.name
        raise SearchUnavailable(f"full-text search is not available on {name!r} (SQLite only for now)")
    return backend


_WORD = re.compile(r"\w+")
# Characters that belong to the word they sit in without being \w: combining marks
# (harakat, shadda, superscript alef...) and format characters (ZWNJ, ZWJ, bidi marks).
_JOINER_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf"})


def _is_joiner(char: str) -> bool:
    return unicodedata.category(char) in _JOINER_CATEGORIES


def stored_words(stored: str) -> list[tuple[int, int]]:
    r"""Spans of the words of stored text: \w runs together with the marks inside and after them.

    Plain \w+ would cut a word with harakat into pieces, because the marks are not \w.
    """
    spans: list[tuple[int, int]] = []
    for match in _WORD.finditer(stored):
        a, b = match.span()
        while b < len(stored) and _is_joiner(stored[b]):
            b += 1
        if spans and spans[-1][1] == a:  # the marks ended where the next letters begin
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


@lru_cache(maxsize=1 << 16)
def _word_keys(word: str) -> frozenset[str]:
    """Index keys of one stored word (usually one; NFKC can expand a ligature into several)."""
    return frozenset(search_text(word).split())


def make_snippet(
    stored: str,
    keys: set[str],
    *,
    words: int = SNIPPET_WORDS,
    lead: int = SNIPPET_LEAD,
    marks: tuple[str, str] = MARKS,
) -> str:
    """About ``words`` words of ``stored`` around the first word whose key is in ``keys``.

    Removing the marks gives back an exact substring of ``stored``.  When no word matches
    (a title-only hit), the opening words are returned unmarked.
    """
    spans = stored_words(stored)
    if not spans:
        return ""
    hits = [bool(_word_keys(stored[a:b]) & keys) for a, b in spans]
    first = hits.index(True) if True in hits else 0
    start = max(0, first - lead)
    end = min(len(spans), start + words)
    start = max(0, end - words)
    opening, closing = marks
    pieces: list[str] = []
    cursor = spans[start][0]
    for (a, b), hit in zip(spans[start:end], hits[start:end]):
        if hit:
            pieces.append(stored[cursor:a] + opening + stored[a:b] + closing)
            cursor = b
    pieces.append(stored[cursor : spans[end - 1][1]])
    return "".join(pieces)
