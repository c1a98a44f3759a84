"""Storing many articles at once: :func:`add_articles`, the batch form of ``add_article``.

A bulk load (an import, the search benchmark's 200,000 articles) spends most of its time in
per-statement overhead when every article goes through :func:`storage.archive.add_article`
(a dozen statements each).  :func:`add_articles` takes the articles in chunks and, for the ones
that are plainly new (neither their text nor their URLs known to the archive or to an earlier
article of the chunk), writes the article rows, their version 1, their URLs and their search index
rows with one multi-row statement per table; near-duplicate clustering runs per article in order, as
it must see the articles before it.  Anything else (a duplicate, a new version of a known URL)
goes through ``add_article`` at its place in the sequence, so the outcome is the one a loop over
``add_article`` would give.  If a concurrent writer stores one of the texts meanwhile (the unique
content hash refuses the chunk), the chunk is written again article by article.

Like every verb of :mod:`storage.archive`, it never commits: the caller decides where a
transaction ends (one commit per few thousand articles is what makes a bulk load fast).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.core.analyzer import article_columns
from crawler.core.article import Article
from storage.archive import (
    AddResult,
    _extractor_version,
    _metadata_fields,
    add_article,
    as_utc,
    get_or_create_source,
    utcnow,
)
from storage.models import ArticleRecord, ArticleUrl, ArticleVersion
from storage.search import index_analysed

__all__ = ["add_articles", "analyse", "CHUNK"]

#: Articles looked up and written together.
CHUNK = 500


def add_articles(
    session: Session,
    items: Iterable[tuple[Article, str | None]],
    *,
    seen_at: datetime | None = None,
    chunk: int = CHUNK,
    map: Callable[..., Iterable[Any]] = map,
) -> Iterator[AddResult]:
    """Store each ``(article, source name)`` of ``items`` as :func:`storage.archive.add_article`
    would, in order, yielding one :class:`~storage.archive.AddResult` per article (consume the
    iterator: nothing is written ahead of it).  Articles are reached at their own ``url``.

    ``map`` runs :func:`analyse` over the new articles of a chunk: give a process pool's
    (``functools.partial(pool.map, chunksize=25)``) to analyse them on several cores."""
    seen = as_utc(seen_at)
    sources: dict[str, int] = {}
    it = iter(items)
    while batch := list(islice(it, max(1, chunk))):
        yield from _add_chunk(session, batch, seen, sources, map)


def analyse(title_and_text: tuple[str | None, str]) -> tuple[tuple[str, str, str, str], bytes]:
    """The pure work of storing a new article: its search index columns and its near-duplicate
    signature (as bytes, to cross a process boundary)."""
    from crawler.core.neardup import signature

    title, body = title_and_text
    return article_columns(title, body), signature(body).to_bytes()


def _add_chunk(
    session: Session, batch: list[tuple[Article, str | None]], seen: datetime, sources: dict[str, int],
    mapper: Callable[..., Iterable[Any]],
) -> list[AddResult]:
    known_hashes, known_urls = _known(session, batch)
    results: list[AddResult] = []
    pending: list[tuple[Article, str | None]] = []
    for article, source in batch:
        urls = _urls(article)
        if article.content_hash in known_hashes or known_urls & urls:
            results += _write_new(session, pending, seen, sources, mapper)
            pending = []
            results.append(add_article(session, article, source=source, seen_at=seen))
        else:
            pending.append((article, source))
        known_hashes.add(article.content_hash)
        known_urls |= urls
    return results + _write_new(session, pending, seen, sources, mapper)


def _urls(article: Article) -> set[str]:
    return {u for u in (article.url, article.canonical_url) if u}


def _known(session: Session, batch: list[tuple[Article, str | None]]) -> tuple[set[str], set[str]]:
    """The content hashes (of any version) and URLs of the chunk that the archive already holds."""
    hashes = list({a.content_hash for a, _ in batch})
    urls = list({u for a, _ in batch for u in _urls(a)})
    found = set(session.execute(select(ArticleRecord.content_hash).where(ArticleRecord.content_hash.in_(hashes))).scalars())
    found |= set(session.execute(
        select(ArticleVersion.content_hash).where(ArticleVersion.content_hash.in_(hashes))).scalars())
    taken = set(session.execute(select(ArticleUrl.url).where(ArticleUrl.url.in_(urls))).scalars()) if urls else set()
    return found, taken


def _write_new(
    session: Session, pending: list[tuple[Article, str | None]], seen: datetime, sources: dict[str, int],
    mapper: Callable[..., Iterable[Any]],
) -> list[AddResult]:
    """Insert articles known to be new, all of a table at once; one by one if a writer interfered."""
    if not pending:
        return []
    analysed = list(mapper(analyse, [(a.title, a.text) for a, _ in pending]))
    for _, name in pending:
        if name and name not in sources:
            sources[name] = get_or_create_source(session, name)
    try:
        with session.begin_nested():
            ids = _insert_rows(session, pending, seen, sources, [columns for columns, _ in analysed])
    except IntegrityError:
        return [add_article(session, article, source=source, seen_at=seen) for article, source in pending]
    from crawler.core.neardup import Signature
    from storage.neardup import cluster_article  # numpy and datasketch: only for a command that stores

    for (_, sig), new_id in zip(analysed, ids):
        cluster_article(session, new_id, sig=Signature.from_bytes(sig))
    return [AddResult(status="stored", article_id=i, new_url=bool(_urls(a))) for (a, _), i in zip(pending, ids)]


def _insert_rows(
    session: Session, pending: list[tuple[Article, str | None]], seen: datetime, sources: dict[str, int],
    index_columns: list[tuple[str, str, str, str]],
) -> list[int]:
    rows: list[dict[str, Any]] = []
    for article, name in pending:
        rows.append(dict(
            _metadata_fields(article, sources[name] if name else None),
            content_hash=article.content_hash, url=article.canonical_url or article.url, title=article.title,
            text=article.text, tags=list(article.tags), captions=list(article.captions),
            first_seen=seen, last_seen=seen, times_seen=1,
        ))
    returned = session.execute(
        insert(ArticleRecord).returning(ArticleRecord.id, sort_by_parameter_order=True), rows
    ).scalars().all()
    ids = [int(i) for i in returned]
    made, extractor = utcnow(), _extractor_version()
    session.execute(insert(ArticleVersion), [
        dict(article_id=i, version=1, content_hash=a.content_hash, modified=a.modified, fetched_at=seen,
             document_id=None, extractor_version=extractor, extracted_at=made, reextractions=0)
        for (a, _), i in zip(pending, ids)
    ])
    url_rows = [dict(url=u, article_id=i, first_seen=seen, last_seen=seen)
                for (a, _), i in zip(pending, ids) for u in dict.fromkeys(x for x in (a.url, a.canonical_url) if x)]
    if url_rows:
        session.execute(insert(ArticleUrl), url_rows)
    index_analysed(session, [(i, *columns) for i, columns in zip(ids, index_columns)])
    return ids
