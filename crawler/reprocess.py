"""Re-extraction: run today's extractor over the stored raw bytes of article versions.

An extraction revision is not a publisher's version: the version row (and, for the current
version, the article row) is updated in place, with ``extractor_version``/``extracted_at`` and
one more ``reextractions``; no version is added.  Versions already produced by the current
extractor are skipped, work goes in id order and is committed in batches, so a run that is
killed resumes where it stopped.  With ``dry_run`` nothing is written.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crawler.core.article import Article
from crawler.core.extract import EXTRACTOR_VERSION, ExtractionError, extract
from crawler.core.worddiff import word_changes, word_diff
from storage.archive import current_version, document_raw, utcnow
from storage.models import ArticleRecord, ArticleVersion, Document, Source

__all__ = ["ReprocessReport", "due_versions", "reprocess"]

log = logging.getLogger(__name__)

#: Versions per transaction.
BATCH = 100
#: Changed versions whose diff the report keeps.
SAMPLES = 3

Extractor = Callable[..., Article]


@dataclass
class ReprocessReport:
    """What a run did (or, with ``dry_run``, would do)."""

    extractor_version: str
    dry_run: bool
    examined: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    missing: int = 0
    conflicts: int = 0
    errors: int = 0
    words_removed: int = 0
    words_added: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def due_versions(
    session: Session, *, source: str | None = None, since: date | None = None,
    extractor_version: str = EXTRACTOR_VERSION,
) -> list[int]:
    """Ids (ascending) of the versions not yet produced by ``extractor_version``, of ``source``'s
    articles and fetched on or after ``since``."""
    v = ArticleVersion
    query = select(v.id).where(or_(v.extractor_version.is_(None), v.extractor_version != extractor_version))
    if source is not None:
        query = query.join(ArticleRecord, ArticleRecord.id == v.article_id).join(
            Source, Source.id == ArticleRecord.source_id).where(Source.name == source)
    if since is not None:
        query = query.where(v.fetched_at >= datetime(since.year, since.month, since.day))
    return list(session.scalars(query.order_by(v.id)))


def reprocess(
    session: Session,
    *,
    source: str | None = None,
    since: date | None = None,
    dry_run: bool = False,
    extractor: Extractor = extract,
    extractor_version: str = EXTRACTOR_VERSION,
    warc_root: Path | None = None,
    ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReprocessReport:
    """Re-extract every due version (:func:`due_versions`, or the versions ``ids`` when given);
    commits every :data:`BATCH` unless ``dry_run``."""
    report = ReprocessReport(extractor_version=extractor_version, dry_run=dry_run)
    if ids is None:
        ids = due_versions(session, source=source, since=since, extractor_version=extractor_version)
    for n, version_id in enumerate(ids, 1):
        _one(session, version_id, report, extractor, warc_root)
        if progress is not None:
            progress(1)
        if not dry_run and n % BATCH == 0:
            session.commit()
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def _read(session: Session, version: ArticleVersion, extractor: Extractor, warc_root: Path | None) -> Article | None:
    """The version's document extracted again; ``None`` when it has no document to read."""
    if version.document_id is None:
        return None
    doc = session.get(Document, version.document_id)
    if doc is None:
        return None
    data = document_raw(session, doc.id, warc_root=warc_root)
    saved_file = doc.url.startswith("file:")
    return extractor(data, None if saved_file else doc.url, doc.headers or {},
                     name=doc.url if saved_file else None, fetched_at=doc.fetched_at)


def _one(session: Session, version_id: int, report: ReprocessReport, extractor: Extractor,
         warc_root: Path | None) -> None:
    version = session.get(ArticleVersion, version_id)
    if version is None:
        return
    report.examined += 1
    try:
        fresh = _read(session, version, extractor, warc_root)
    except ExtractionError:
        report.rejected += 1  # today's extractor finds no article there: the stored text stays
        return
    except (LookupError, ValueError, OSError) as exc:
        log.debug("version %s: raw document unreadable: %s", version_id, exc)
        report.missing += 1
        return
    except Exception:  # noqa: BLE001 - a defect of the extractor: count it, go on
        log.debug("re-extraction of version %s failed", version_id, exc_info=True)
        report.errors += 1
        return
    if fresh is None:
        report.missing += 1
        return
    _apply(session, version, fresh, report)


def _apply(session: Session, version: ArticleVersion, fresh: Article, report: ReprocessReport) -> None:
    record = session.get(ArticleRecord, version.article_id)
    assert record is not None
    is_current = version.version == current_version(session, version.article_id)
    old_title, old_text = (record.title, record.text) if is_current else (version.title, version.text or "")
    stamp = {"extractor_version": report.extractor_version, "extracted_at": utcnow()}
    if (fresh.title, fresh.text) == (old_title, old_text):
        report.unchanged += 1
        _update_version(session, version.id, stamp)
        return
    if fresh.content_hash != version.content_hash and _hash_taken(session, fresh.content_hash, version.article_id):
        report.conflicts += 1  # the new text is another article's: leave both as they are
        return
    removed, added = word_changes(old_text, fresh.text)
    report.changed += 1
    report.words_removed += removed
    report.words_added += added
    if len(report.samples) < SAMPLES:
        report.samples.append({"article_id": version.article_id, "version": version.version,
                               "title": [old_title, fresh.title], "diff": word_diff(old_text, fresh.text)})
    changes = {"content_hash": fresh.content_hash, "reextractions": ArticleVersion.reextractions + 1, **stamp}
    if is_current:
        session.execute(update(ArticleRecord).where(ArticleRecord.id == record.id).values(
            title=fresh.title, text=fresh.text, content_hash=fresh.content_hash).execution_options(synchronize_session=False))
        session.expire(record)
    else:
        changes.update(title=fresh.title, text=fresh.text)
    _update_version(session, version.id, changes)


def _update_version(session: Session, version_id: int, values: dict[str, Any]) -> None:
    session.execute(update(ArticleVersion).where(ArticleVersion.id == version_id).values(values)
                    .execution_options(synchronize_session=False))
    loaded = session.get(ArticleVersion, version_id)
    if loaded is not None:
        session.expire(loaded)


def _hash_taken(session: Session, text_hash: str, article_id: int) -> bool:
    """Whether another article holds this text (as its current text or as one of its versions)."""
    on_article = select(ArticleRecord.id).where(ArticleRecord.content_hash == text_hash, ArticleRecord.id != article_id)
    on_version = select(ArticleVersion.id).where(ArticleVersion.content_hash == text_hash,
                                                 ArticleVersion.article_id != article_id)
    return session.execute(on_article.limit(1)).first() is not None or session.execute(on_version.limit(1)).first() is not None
