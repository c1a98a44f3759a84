"""``akhbar export --format warc``: the raw captures of the chosen articles as a WARC file and its
CDXJ index, which pywb (or any CDXJ reader) can replay.

For every article matching the query and filters (in the export's order) every document the
archive kept for it (``documents.article_id``, and each version's ``document_id``) is written as
one ``response`` record: the stored raw bytes as the payload, at the document's URL and fetch time,
with the HTTP status and headers the archive recorded.  The bytes are kept with their transfer-
and content-encoding undone, so ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length``
are replaced by the true ``Content-Length``; a document fetched without HTTP
(a replayed file) gets status 200 and its recorded ``Content-Type``.  The file starts with a
``warcinfo`` record naming the query.

Constant memory: articles are read ``batch`` ids at a time, one document's bytes at a time, and
the index lines are sorted in bounded runs (:func:`crawler.capture.cdxj.sort_lines`).
"""
from __future__ import annotations

import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from crawler.capture.cdxj import cdxj_line, sort_lines
from crawler.capture.warc import WarcFile
from storage.archive import document_raw
from storage.models import ArticleVersion, Document
from storage.search import Filters, _require_backend, compile_query, matching_sql

__all__ = ["WarcExport", "cdxj_path", "export_warc", "export_headers"]

#: Headers that describe the bytes as sent, not as kept.
_DROPPED = ("content-encoding", "transfer-encoding", "content-length")


@dataclass
class WarcExport:
    """What an export wrote: articles, records, and documents whose bytes could not be read."""

    articles: int = 0
    records: int = 0
    unreadable: int = 0


def cdxj_path(warc: Path) -> Path:
    """``news.warc.gz`` -> ``news.cdxj`` (beside it)."""
    name = warc.name
    for suffix in (".warc.gz", ".warc", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return warc.with_name(name + ".cdxj")


def export_headers(headers: dict[str, Any] | None, content_type: str | None, length: int) -> list[tuple[str, str]]:
    """The HTTP headers written for a document of ``length`` bytes: as recorded, less those of the
    wire encoding; a ``Content-Type`` from the document when none was recorded; the true
    ``Content-Length``."""
    pairs = [(k, str(v)) for k, v in (headers or {}).items() if k.lower() not in _DROPPED]
    if content_type and not any(k.lower() == "content-type" for k, _ in pairs):
        pairs.append(("Content-Type", content_type))
    return [*pairs, ("Content-Length", str(length))]


def _article_ids(session: Session, query: str, filters: Filters, sort: str, batch: int) -> Iterator[list[int]]:
    _require_backend(session)
    sql, params = matching_sql(compile_query(query), filters, columns="a.id", sort=sort)
    result = session.execute(text(sql).execution_options(yield_per=batch), params)
    for chunk in result.partitions(batch):
        yield [row.id for row in chunk]


def _documents(session: Session, ids: list[int]) -> list[Document]:
    """The documents of these articles, in their order, each once, oldest fetch first."""
    versions = select(ArticleVersion.document_id).where(ArticleVersion.article_id.in_(ids))
    found = session.scalars(
        select(Document).where(or_(Document.article_id.in_(ids), Document.id.in_(versions)))
        .order_by(Document.fetched_at, Document.id)
    ).all()
    rank = {article_id: n for n, article_id in enumerate(ids)}
    return sorted(found, key=lambda d: rank.get(d.article_id or -1, len(ids)))


def export_warc(
    session: Session,
    query: str,
    out: Path,
    *,
    filters: Filters | None = None,
    sort: str = "oldest",
    warc_root: Path | None = None,
    batch: int = 200,
    progress: Callable[[int], None] | None = None,
) -> WarcExport:
    """Write ``out`` (a ``.warc.gz``) and its CDXJ index (:func:`cdxj_path`); what was written."""
    report = WarcExport()
    info = {"description": f"akhbar export of {query!r}" if query else "akhbar export", "isPartOf": out.name}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as lines, WarcFile(out, info) as warc:
        for ids in _article_ids(session, query, filters or Filters(), sort, batch):
            report.articles += len(ids)
            for doc in _documents(session, ids):
                try:
                    body = document_raw(session, doc.id, warc_root=warc_root)
                except (LookupError, ValueError, OSError, zlib.error):
                    report.unreadable += 1
                    continue
                written = warc.write_response(doc.url, doc.http_status or 200,
                                              export_headers(doc.headers, doc.content_type, len(body)), body,
                                              doc.fetched_at)
                lines.write(cdxj_line(written, out.name) + "\n")
                report.records += 1
            session.expunge_all()  # the documents (and their bytes) are not kept
            if progress:
                progress(report.articles)
        lines.seek(0)
        with cdxj_path(out).open("w", encoding="utf-8", newline="\n") as index:
            sort_lines((line.rstrip("\n") for line in lines), index)
    return report
