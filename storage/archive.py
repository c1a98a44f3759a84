"""The archive's verbs.  Every verb takes the caller's :class:`~sqlalchemy.orm.Session` first
and never commits: the caller decides where a transaction ends.

What is new is decided by the database, never by looking first: unique constraints plus
``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL), so two writers adding the same
article end with one row and no error.
"""
from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from crawler.core.article import Article
from crawler.core.errors import NotFound
from crawler.capture.warc import WarcPointer, headers_dict, read_record
from storage.models import OUTCOMES, ArticleRecord, ArticleUrl, ArticleVersion, Document, Source
from storage.search import index_article, reindex_article

#: zlib level for raw documents (6: the usual speed/size balance).
RAW_COMPRESSION_LEVEL = 6


@dataclass(frozen=True)
class AddResult:
    """What :func:`add_article` did: stored a new article (or a new version of one: ``version``
    above 1) or counted a duplicate (``version`` is then the current one).

    ``new_url`` is true when at least one URL given for the article was new to the archive.
    """

    status: Literal["stored", "duplicate"]
    article_id: int
    new_url: bool
    version: int = 1


def utcnow() -> datetime:
    """The current time as naive UTC, the archive's timestamp form."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(moment: datetime | None) -> datetime:
    """``moment`` as naive UTC (a naive value is taken to be UTC already); now when ``None``."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def published_utc(published: str | None) -> datetime | None:
    """Naive UTC instant of an ISO 8601 publication date, for sorting and filtering.

    A bare day (``2024-05-20``) becomes midnight; a timestamp without offset is taken as
    given.  Returns ``None`` when there is no date or it does not parse.
    """
    if not published:
        return None
    try:
        return as_utc(datetime.fromisoformat(published.strip()))
    except ValueError:
        return None


def _insert(session: Session, model: type[Any] | Table) -> Any:
    """The dialect's INSERT construct, which knows ``on_conflict_do_nothing``."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.insert(model)
    if name == "postgresql":
        return postgresql.insert(model)
    raise NotImplementedError(f"the archive needs INSERT ... ON CONFLICT; {name!r} is not supported")


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(session: Session, name: str) -> Any:
    """The archive's statement ``name`` for the session's dialect, built once.  The hot verbs run
    prepared statements on the tables with bound parameters: building a statement per call (its
    columns coerced, its cache key worked out) costs more than SQLite takes to run it."""
    dialect = session.get_bind().dialect.name
    found = _STATEMENTS.get((dialect, name))
    if found is None:
        found = _STATEMENTS[(dialect, name)] = _BUILDERS[name](lambda table: _insert_into(dialect, table))
    return found


def _insert_into(dialect: str, table: Table) -> Any:
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"the archive needs INSERT ... ON CONFLICT; {dialect!r} is not supported")


def _later(column: Any, moment: Any) -> ColumnElement[Any]:
    return case((column < moment, moment), else_=column)


def _earlier(column: Any, moment: Any) -> ColumnElement[Any]:
    return case((column > moment, moment), else_=column)


def get_or_create_source(session: Session, name: str) -> int:
    """Id of the source called ``name``, created if missing (safe against concurrent writers).

    Remembered for the rest of the session's transaction (a crawl's writer asks for every page of
    a batch): a row seen or made in a transaction stays until it ends, and a rollback ends it."""
    known = _transaction_memo(session, "source_ids")
    found = known.get(name)
    if found is not None:
        return found
    session.execute(
        _insert(session, Source)
        .values(name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    source_id: int = session.execute(select(Source.id).where(Source.name == name)).scalar_one()
    _transaction_memo(session, "source_ids")[name] = source_id  # the transaction begun by the statements
    return source_id


def _transaction_memo(session: Session, key: str) -> dict[Any, Any]:
    """A dict kept in ``session.info`` for the session's current transaction only: a new
    transaction (after a commit or a rollback) gets an empty one."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    held = session.info.get(key)
    if held is None or held[0] is not transaction or transaction is None:
        held = session.info[key] = (transaction, {})
    memo: dict[Any, Any] = held[1]
    return memo


RECENT_TITLES = 20
"""Titles of a source looked at to find the segment it sets on all of them."""


def source_title_affix(session: Session, name: str, title: str | None) -> tuple[str, str] | None:
    """The segment the source ``name`` sets at one end of its titles (its own name), as
    ``(side, loose key)``: remembered once found over its recent titles (``title`` among them)."""
    from crawler.core.anatomy import source_title_affix as find_affix

    row = session.execute(_statement(session, "source_affix"), {"name": name}).one_or_none()
    if row is not None and row.title_affix:
        side, _, key = row.title_affix.partition(":")
        return side, key
    if row is None or not title:
        return None
    recent = session.execute(_statement(session, "recent_titles"), {"source": row.id}).scalars().all()
    affix = find_affix([t for t in recent if t] + [title])
    if affix is not None:
        session.execute(_statement(session, "set_affix"), {"source": row.id, "affix": f"{affix[0]}:{affix[1]}"})
        _expire_loaded(session, Source, lambda loaded: loaded.__dict__.get("id") == row.id)
    return affix


def add_article(
    session: Session,
    article: Article,
    *,
    url: str | None = None,
    source: str | None = None,
    seen_at: datetime | None = None,
    document_id: int | None = None,
    extractor_version: str | None = None,
    signature: bytes | None = None,
    index: Sequence[str] | None = None,
) -> AddResult:
    """Store ``article``: a sighting when its text is known, a new version when its URL is, else new.

    ``url`` is where it was reached (default ``article.url``).  The article's ``url`` column
    takes the page's rel=canonical when known, else that URL.  Both are recorded among its URLs.

    * Text already in the archive (the hash of any version of any article): a duplicate, which
      bumps ``times_seen``, widens ``first_seen``/``last_seen``, fills metadata the stored copy
      lacked and records any new URL.  Stored titles and texts are never changed.
    * New text at a URL (or canonical URL) an article was seen at: a new version of that article
      (:func:`add_version`), the earlier text kept as its version.
    * Otherwise a new article, version 1.  The search index row is written in the same transaction.

    ``document_id`` (the document it was extracted from) and ``extractor_version`` (default
    :data:`crawler.core.extract.EXTRACTOR_VERSION`) are recorded on the version.  ``signature`` is
    the text's near-duplicate signature when it was made already (:class:`crawler.extraction.Extraction`),
    ``index`` its search index columns (:func:`crawler.core.analyzer.article_columns`, for the title and text
    as stored); both are computed here when not given.
    """
    seen = as_utc(seen_at)
    reached = url or article.url
    canonical = article.canonical_url or reached
    source_id = get_or_create_source(session, source) if source else None
    fields = _metadata_fields(article, source_id)
    origin = _Origin(document_id, extractor_version or _extractor_version(), seen)
    known = _article_with_text(session, article.content_hash)
    earlier = _article_at_urls(session, (reached, canonical)) if known is None else None
    if earlier is not None:
        # Take the write lock, then look again: another writer may have stored this text since.
        _claim(session, earlier)
        known = _article_with_text(session, article.content_hash)
        if known is None:
            version = add_version(session, earlier, article, fields, origin)
            new_url = _record_urls(session, earlier, (reached, canonical), seen)
            return AddResult(status="stored", article_id=earlier, new_url=new_url, version=version)
    if known is None:
        known = _insert_article(session, article, canonical, fields, origin, signature, index)
        if known is not None:
            new_url = _record_urls(session, known, (reached, canonical), seen)
            return AddResult(status="stored", article_id=known, new_url=new_url)
        known = _article_with_text(session, article.content_hash)  # another writer stored it just now
        assert known is not None
    _count_sighting(session, known, canonical, fields, seen)
    new_url = _record_urls(session, known, (reached, canonical), seen)
    return AddResult(status="duplicate", article_id=known, new_url=new_url, version=current_version(session, known))


@dataclass(frozen=True)
class _Origin:
    """Where a version's text came from: the document, the extractor, the moment of the fetch."""

    document_id: int | None
    extractor_version: str
    seen: datetime


def _claim(session: Session, article_id: int) -> None:
    """A write that changes nothing, so the transaction holds the write lock (SQLite) or the
    article's version rows (PostgreSQL) before deciding that a text is a new version."""
    session.execute(
        update(ArticleVersion).where(ArticleVersion.article_id == article_id)
        .values(version=ArticleVersion.version).execution_options(synchronize_session=False)
    )


def _extractor_version() -> str:
    from crawler.core.extractor import EXTRACTOR_VERSION

    return EXTRACTOR_VERSION


def _metadata_fields(article: Article, source_id: int | None) -> dict[str, Any]:
    return {
        "published": article.published,
        "published_utc": published_utc(article.published),
        "date_source": article.date_source,
        "modified": article.modified,
        "section": article.section,
        "author": article.author,
        "lang": article.lang,
        "lang_confidence": article.lang_confidence,
        "description": article.description,
        "kicker": article.kicker,
        "lead": article.lead,
        "source_id": source_id,
    }


def _article_with_text(session: Session, text_hash: str) -> int | None:
    """The article one of whose versions has this content hash (the current one first)."""
    current = session.execute(_statement(session, "article_with_hash"), {"h": text_hash}).scalar()
    if current is not None:
        return int(current)
    earlier = session.execute(_statement(session, "version_with_hash"), {"h": text_hash}).scalar()
    return None if earlier is None else int(earlier)


def _article_at_urls(session: Session, urls: Iterable[str | None]) -> int | None:
    """The article seen at the first of ``urls`` an article was seen at."""
    for u in dict.fromkeys(u for u in urls if u):
        found = session.execute(_statement(session, "article_at_url"), {"u": u}).scalar()
        if found is not None:
            return int(found)
    return None


def _insert_article(
    session: Session, article: Article, canonical: str | None, fields: Mapping[str, Any], origin: _Origin,
    signature: bytes | None = None, index: Sequence[str] | None = None,
) -> int | None:
    """Insert a new article and its version 1; ``None`` when its hash was taken meanwhile."""
    new_id = session.execute(_statement(session, "insert_article"), {
        "content_hash": article.content_hash,
        "url": canonical,
        "title": article.title,
        "text": article.text,
        "tags": list(article.tags),
        "captions": list(article.captions),
        "first_seen": origin.seen,
        "last_seen": origin.seen,
        "times_seen": 1,
        **fields,
    }).scalar_one_or_none()
    if new_id is None:
        return None
    _insert_version(session, new_id, 1, article, origin)
    index_article(session, new_id, article.title, article.text, columns=index)
    from storage.neardup import Signature, cluster_article  # numpy: only for a command that stores

    cluster_article(session, new_id, article.text, None if signature is None else Signature.from_bytes(signature))
    return int(new_id)


def _insert_version(session: Session, article_id: int, number: int, article: Article, origin: _Origin) -> None:
    session.execute(_statement(session, "insert_version"), {
        "article_id": article_id, "version": number, "content_hash": article.content_hash,
        "modified": article.modified, "fetched_at": origin.seen, "document_id": origin.document_id,
        "extractor_version": origin.extractor_version, "extracted_at": utcnow(), "reextractions": 0,
    })


def current_version(session: Session, article_id: int) -> int:
    """The number of the article's current version (1 for an article without version rows)."""
    number = session.execute(
        select(func.max(ArticleVersion.version)).where(ArticleVersion.article_id == article_id)
    ).scalar()
    return int(number or 1)


def add_version(
    session: Session, article_id: int, article: Article, fields: Mapping[str, Any], origin: _Origin
) -> int:
    """Make ``article`` the new current version of the stored article ``article_id``; returns its number.

    The current text is first frozen into its version row (as stored, untouched); then the article
    row takes the new title, text and hash (the search index follows: SQLite's update trigger, PostgreSQL's row rewritten),
    the new ``modified`` date, and metadata it lacked.  The near-duplicate cluster stays the one
    found for the first version.
    """
    a = ArticleRecord
    number = current_version(session, article_id)
    old = session.execute(select(a.title, a.text).where(a.id == article_id)).one()
    session.execute(
        update(ArticleVersion)
        .where(ArticleVersion.article_id == article_id, ArticleVersion.version == number)
        .values(title=old.title, text=old.text)
    )
    _insert_version(session, article_id, number + 1, article, origin)
    values: dict[str, Any] = {
        "content_hash": article.content_hash,
        "title": article.title,
        "text": article.text,
        "times_seen": a.times_seen + 1,
        "first_seen": _earlier(a.first_seen, origin.seen),
        "last_seen": _later(a.last_seen, origin.seen),
        "modified": func.coalesce(fields["modified"], a.modified),
    }
    for key in ("section", "author", "description", "source_id"):
        values[key] = func.coalesce(getattr(a, key), fields[key])
    session.execute(update(a).where(a.id == article_id).values(values).execution_options(synchronize_session=False))
    reindex_article(session, article_id, article.title, article.text)
    loaded = session.identity_map.get(identity_key(ArticleRecord, article_id))
    if loaded is not None:
        session.expire(loaded)
    return number + 1


def _count_sighting(
    session: Session, article_id: int, url: str | None, fields: Mapping[str, Any], seen: datetime
) -> int:
    """Update the stored copy of a duplicate in one statement; return its id."""
    a = ArticleRecord
    values: dict[str, Any] = {
        "times_seen": a.times_seen + 1,
        "first_seen": _earlier(a.first_seen, seen),
        "last_seen": _later(a.last_seen, seen),
        "url": func.coalesce(a.url, url),
    }
    # A date travels with its provenance, a language with its confidence.
    for key in ("published", "published_utc", "date_source"):
        values[key] = case((a.published.is_(None), fields[key]), else_=getattr(a, key))
    for key in ("lang", "lang_confidence"):
        values[key] = case((a.lang.is_(None), fields[key]), else_=getattr(a, key))
    for key in ("modified", "section", "author", "description", "kicker", "lead", "source_id"):
        values[key] = func.coalesce(getattr(a, key), fields[key])
    statement = (
        update(a)
        .where(a.id == article_id)
        .values(values)
        .returning(a.id)
    )
    return session.execute(statement).scalar_one()


def _record_urls(session: Session, article_id: int, urls: Iterable[str | None], seen: datetime) -> bool:
    """Attach each URL to the article unless it is known; widen the seen window of known ones.

    A URL already attached to another article stays with it.  Returns whether any URL was new.
    """
    new = False
    for u in dict.fromkeys(u for u in urls if u):
        inserted = session.execute(
            _statement(session, "insert_url"), {"url": u, "article_id": article_id, "first_seen": seen, "last_seen": seen}
        ).scalar_one_or_none()
        if inserted is not None:
            new = True
            _expire_urls(session, article_id)
            continue
        session.execute(_statement(session, "widen_url"), {"u": u, "article": article_id, "seen": seen})
        _expire_loaded(session, ArticleUrl, lambda row, u=u: row.__dict__.get("url") == u)  # loaded, not reloaded
    return new


def _expire_loaded(session: Session, model: type[Any], test: Any) -> None:
    """Expire the loaded ``model`` objects for which ``test(obj)`` holds, after an UPDATE in SQL."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and test(obj):
            session.expire(obj)


def _expire_urls(session: Session, article_id: int) -> None:
    """Make a loaded article reload its URL list after a URL was attached through SQL."""
    loaded = session.identity_map.get(identity_key(ArticleRecord, article_id))
    if loaded is not None:
        session.expire(loaded, ["urls"])


def headers_json(headers: Mapping[Any, Any] | None) -> dict[str, str] | None:
    """HTTP headers as a JSON-ready ``{lower-case name: value}`` (:func:`crawler.capture.warc.headers_dict`)."""
    return None if headers is None else headers_dict(headers)


def add_document(
    session: Session,
    *,
    url: str,
    raw: bytes,
    source: str | None = None,
    fetched_at: datetime | None = None,
    content_type: str | None = None,
    encoding: str | None = None,
    http_status: int | None = None,
    headers: Mapping[Any, Any] | None = None,
    warc_path: str | None = None,
    warc_offset: int | None = None,
    warc_length: int | None = None,
) -> tuple[int, bool]:
    """Keep one fetched document; returns ``(document id, is_new)``.

    The same bytes at the same URL are one document (replaying a file twice adds nothing).
    The bytes are stored zlib-compressed, unless ``warc_path``, ``warc_offset`` and
    ``warc_length`` say where the WARC record holding them is: then only that pointer is kept.
    """
    if warc_path is not None and (warc_offset is None or warc_length is None):
        raise ValueError("warc_path needs warc_offset and warc_length")
    digest = hashlib.sha256(raw).hexdigest()
    in_warc = warc_path is not None
    new_id = session.execute(_statement(session, "insert_document"), {
        "url": url,
        "source_id": get_or_create_source(session, source) if source else None,
        "fetched_at": as_utc(fetched_at),
        "sha256": digest,
        "size": len(raw),
        "content_type": content_type,
        "encoding": encoding,
        "http_status": http_status,
        "headers": headers_json(headers),
        "raw": None if in_warc else zlib.compress(raw, RAW_COMPRESSION_LEVEL),
        "warc_path": warc_path,
        "warc_offset": warc_offset,
        "warc_length": warc_length,
    }).scalar_one_or_none()
    if new_id is not None:
        return int(new_id), True
    existing = session.execute(_statement(session, "document_at"), {"digest": digest, "at": url}).scalar_one()
    return int(existing), False


def set_document_outcome(
    session: Session,
    doc_id: int,
    outcome: str,
    *,
    article_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Record what became of a document: one of :data:`storage.models.OUTCOMES`."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    result = session.execute(
        _statement(session, "set_outcome"), {"doc_id": doc_id, "outcome": outcome, "article": article_id, "why": reason}
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no document {doc_id}")
    loaded = session.identity_map.get(identity_key(Document, doc_id))
    if loaded is not None:  # a Document read earlier in the session shows the new outcome
        session.expire(loaded)


#: The largest id a database integer column holds (SQLite and PostgreSQL BIGINT: signed 64-bit).
MAX_ID = 2**63 - 1


def get_article(session: Session, id_or_url: int | str) -> ArticleRecord | None:
    """The article with this id, or seen at this URL (its ``urls`` are loaded with it).

    A URL is looked up as given, then in the form the crawler stores
    (:func:`crawler.core.canonical.canonicalize_url`: tracking parameters dropped, non-ASCII
    percent-encoded...).  An id no database integer can hold finds nothing.
    """
    if isinstance(id_or_url, int) and not isinstance(id_or_url, bool):
        return session.get(ArticleRecord, id_or_url) if 0 < id_or_url <= MAX_ID else None
    for url in _url_forms(str(id_or_url)):
        found = _article_at(session, url)
        if found is not None:
            return found
    return None


def _url_forms(url: str) -> list[str]:
    """``url`` as given, then canonicalised (when it is an http(s) URL)."""
    from crawler.core.canonical import canonicalize_url

    try:
        return list(dict.fromkeys([url, canonicalize_url(url)]))
    except ValueError:
        return [url]


def _article_at(session: Session, url: str) -> ArticleRecord | None:
    found = session.execute(
        select(ArticleRecord).join(ArticleUrl).where(ArticleUrl.url == url)
    ).scalar_one_or_none()
    if found is not None:
        return found
    return session.execute(
        select(ArticleRecord).where(ArticleRecord.url == url).order_by(ArticleRecord.id).limit(1)
    ).scalar_one_or_none()


def article_urls(session: Session, article_id: int) -> list[str]:
    """Every URL the article was seen at, in the order they were first recorded."""
    return list(
        session.execute(
            select(ArticleUrl.url).where(ArticleUrl.article_id == article_id).order_by(ArticleUrl.id)
        ).scalars()
    )


def document_raw(session: Session, doc_id: int, *, warc_root: Path | None = None) -> bytes:
    """The raw bytes of a document, from the database or from its WARC record.

    A relative ``warc_path`` is resolved against ``warc_root`` (default: the working folder).
    Bytes read from a WARC (:func:`crawler.capture.warc.read_record`) are checked against the stored SHA-256.
    """
    doc = session.get(Document, doc_id)
    if doc is None:
        raise NotFound(f"no document {doc_id}")
    if doc.raw is not None:
        return zlib.decompress(doc.raw)
    if doc.warc_path is None or doc.warc_offset is None or doc.warc_length is None:
        raise LookupError(f"document {doc_id} has neither raw bytes nor a WARC pointer")
    path = Path(doc.warc_path)
    if warc_root is not None and not path.is_absolute():
        path = warc_root / path
    pointer = WarcPointer(str(path), doc.warc_offset, doc.warc_length)
    data = read_record(pointer).body
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise ValueError(f"document {doc_id}: WARC record at {path}:{doc.warc_offset} does not match its SHA-256")
    return data


#: Outcomes after which a URL need not be fetched again.
SETTLED_OUTCOMES = ("stored", "duplicate", "rejected")


#: URLs per query of :func:`seen_urls`: each is bound twice, and 2 x 450 stays under SQLite's
#: oldest variable limit (999) as well as PostgreSQL's (32767).
SEEN_CHUNK = 450


def seen_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Those of ``urls`` that need no new fetch: an article was seen there, or a document fetched
    there was stored, found duplicate or rejected (errors and unprocessed ones do not count).

    One query per :data:`SEEN_CHUNK` distinct URLs, however many are given.
    """
    seen: set[str] = set()
    for chunk in _chunks(dict.fromkeys(urls), SEEN_CHUNK):
        as_article = select(ArticleUrl.url).where(ArticleUrl.url.in_(chunk))
        as_document = select(Document.url).where(Document.url.in_(chunk), Document.outcome.in_(SETTLED_OUTCOMES))
        seen.update(session.execute(as_article.union(as_document)).scalars())
    return seen


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of at most ``size``."""
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stats(session: Session) -> dict[str, Any]:
    """Counts of articles, urls, documents and sources; articles by language (``und`` when
    unknown) and documents by outcome (``pending`` when unprocessed)."""

    def count(model: type[Any]) -> int:
        return session.execute(select(func.count()).select_from(model)).scalar_one()

    by_lang = session.execute(
        select(ArticleRecord.lang, func.count()).group_by(ArticleRecord.lang).order_by(func.count().desc())
    )
    by_outcome = session.execute(select(Document.outcome, func.count()).group_by(Document.outcome))
    return {
        "articles": count(ArticleRecord),
        "urls": count(ArticleUrl),
        "documents": count(Document),
        "sources": count(Source),
        "by_lang": {lang or "und": n for lang, n in by_lang},
        "documents_by_outcome": {outcome or "pending": n for outcome, n in by_outcome},
    }


# -- the prepared statements of the hot verbs (see _statement) ------------------------------

_ARTICLES: Table = ArticleRecord.__table__  # type: ignore[assignment]
_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
_URLS: Table = ArticleUrl.__table__  # type: ignore[assignment]
_VERSIONS: Table = ArticleVersion.__table__  # type: ignore[assignment]

_SOURCES: Table = Source.__table__  # type: ignore[assignment]

_BUILDERS: dict[str, Any] = {
    "source_affix": lambda ins: select(_SOURCES.c.id, _SOURCES.c.title_affix).where(_SOURCES.c.name == bindparam("name")),
    "recent_titles": lambda ins: select(_ARTICLES.c.title).where(_ARTICLES.c.source_id == bindparam("source"))
    .order_by(_ARTICLES.c.id.desc()).limit(RECENT_TITLES),
    "set_affix": lambda ins: update(_SOURCES).where(_SOURCES.c.id == bindparam("source"))
    .values(title_affix=bindparam("affix")),
    "insert_document": lambda ins: ins(_DOCUMENTS).on_conflict_do_nothing(index_elements=["sha256", "url"])
    .returning(_DOCUMENTS.c.id),
    "document_at": lambda ins: select(_DOCUMENTS.c.id).where(
        _DOCUMENTS.c.sha256 == bindparam("digest"), _DOCUMENTS.c.url == bindparam("at")),
    "set_outcome": lambda ins: update(_DOCUMENTS).where(_DOCUMENTS.c.id == bindparam("doc_id")).values(
        outcome=bindparam("outcome"), article_id=bindparam("article"), reason=bindparam("why")),
    "insert_article": lambda ins: ins(_ARTICLES).on_conflict_do_nothing(index_elements=["content_hash"])
    .returning(_ARTICLES.c.id),
    "insert_version": lambda ins: ins(_VERSIONS),
    "article_with_hash": lambda ins: select(_ARTICLES.c.id).where(_ARTICLES.c.content_hash == bindparam("h")),
    "version_with_hash": lambda ins: select(_VERSIONS.c.article_id).where(
        _VERSIONS.c.content_hash == bindparam("h")).limit(1),
    "article_at_url": lambda ins: select(_URLS.c.article_id).where(_URLS.c.url == bindparam("u")),
    "insert_url": lambda ins: ins(_URLS).on_conflict_do_nothing(index_elements=["url"]).returning(_URLS.c.id),
    "widen_url": lambda ins: update(_URLS).where(
        _URLS.c.url == bindparam("u"), _URLS.c.article_id == bindparam("article")).values(
        first_seen=_earlier(_URLS.c.first_seen, bindparam("seen", type_=_URLS.c.first_seen.type)),
        last_seen=_later(_URLS.c.last_seen, bindparam("seen", type_=_URLS.c.last_seen.type))),
}
