"""Quality signals of a source, from what the archive records over its recent runs.

For every page a run of the source took in (a row of ``documents``, and the article it became):

* ``rejected``: the share of pages the extractor rejected, with the ``reasons``;
* ``no_date`` / ``no_title``: the share of articles with no publication date / no title;
* ``short_body``: the share of articles whose body is very short (a teaser, a consent wall);
* ``repeated_lines``: the share of body lines found on many of the source's recent pages (template
  chrome leaking into the text);
* ``other_language``: the share of articles in another language than the source's own (the
  language of most of its recent articles).

:func:`source_quality` gives the signals over the recent runs; :func:`quality_warnings` compares the
latest run against the runs before it and names each signal that jumped (a template change, a
consent wall, an app shell), one line each.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.core.arabic import normalize
from storage.models import ArticleRecord, CrawlRun, Document, Source

__all__ = ["PageSignals", "quality_warnings", "signals", "source_quality"]

RECENT_RUNS = 10
"""Runs looked at: the latest and the history it is compared with."""
MAX_PAGES = 2000
"""Pages read at most (the newest first), whatever the runs."""
SHORT_BODY_WORDS = 40
"""A body of fewer words is very short for a news article."""
MIN_PAGES = 3
"""Fewer pages than this in the latest run or in its history say nothing either way."""
JUMP = 0.3
"""A signal that rose by this much (a share, 0-1) against the source's history ..."""
LEVEL = 0.4
"""... to at least this much, is a warning."""
_REPEAT_SHARE = 0.3
_REPEAT_MIN_PAGES = 3
_LINE_WORDS = 3
BAD_SIGNALS = ("rejected", "no_date", "no_title", "short_body", "repeated_lines", "other_language")


@dataclass(frozen=True)
class PageSignals:
    """What one taken-in page looked like."""

    run_id: int
    rejected: bool
    reason: str | None = None
    dated: bool = True
    titled: bool = True
    words: int = 0
    lines: tuple[str, ...] = ()  # normalised body lines of a few words or more
    lang: str | None = None


def _runs(session: Session, name: str) -> list[CrawlRun]:
    """The source's recent runs, oldest first."""
    runs = session.execute(
        select(CrawlRun).where(CrawlRun.source == name).order_by(CrawlRun.id.desc()).limit(RECENT_RUNS)
    ).scalars().all()
    return list(reversed(runs))


def _run_of(fetched: datetime, runs: list[CrawlRun]) -> int | None:
    """The run whose time span holds ``fetched`` (the latest that started before it)."""
    found = None
    for run in runs:
        if run.started_at <= fetched and (run.finished_at is None or fetched <= run.finished_at):
            found = run.id
    return found


def _page(run_id: int, doc: Document, article: ArticleRecord | None) -> PageSignals:
    if doc.outcome in ("rejected", "error") or article is None:
        return PageSignals(run_id=run_id, rejected=True, reason=_reason(doc.reason))
    lines = tuple(
        normalize(line) for line in article.text.split("\n") if len(line.split()) >= _LINE_WORDS
    )
    return PageSignals(
        run_id=run_id, rejected=False, dated=article.published is not None, titled=bool(article.title),
        words=len(article.text.split()), lines=lines, lang=article.lang,
    )


def _reason(reason: str | None) -> str:
    """The kind of a rejection: its message up to the first detail."""
    text = (reason or "unknown").split("(")[0].split(":")[0].strip()
    return text or "unknown"


def page_signals(session: Session, name: str) -> list[PageSignals]:
    """Every page the source's recent runs took in, oldest first."""
    runs = _runs(session, name)
    if not runs:
        return []
    rows = session.execute(
        select(Document, ArticleRecord)
        .join(Source, Document.source_id == Source.id)
        .outerjoin(ArticleRecord, Document.article_id == ArticleRecord.id)
        .where(Source.name == name, Document.fetched_at >= runs[0].started_at, Document.outcome.is_not(None))
        .order_by(Document.fetched_at.desc(), Document.id.desc())
        .limit(MAX_PAGES)
    ).all()
    pages = []
    for doc, article in reversed(rows):
        run_id = _run_of(doc.fetched_at, runs)
        if run_id is not None:
            pages.append(_page(run_id, doc, article))
    return pages


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def signals(pages: list[PageSignals], *, context: list[PageSignals] | None = None) -> dict[str, Any]:
    """The signals over ``pages``; lines repeat, and the language is the source's, over ``context``
    (the source's recent pages; ``pages`` themselves by default)."""
    context = pages if context is None else context
    articles = [p for p in pages if not p.rejected]
    known = [p for p in context if not p.rejected]
    per_page = Counter(line for p in known for line in set(p.lines))
    repeat_at = max(_REPEAT_MIN_PAGES, _REPEAT_SHARE * len(known))
    lines = [line for p in articles for line in p.lines]
    langs = Counter(p.lang for p in known if p.lang)
    own = langs.most_common(1)[0][0] if langs else None
    return {
        "pages": len(pages),
        "rejected": _share(len(pages) - len(articles), len(pages)),
        "reasons": dict(Counter(p.reason or "unknown" for p in pages if p.rejected).most_common()),
        "no_date": _share(sum(not p.dated for p in articles), len(articles)),
        "no_title": _share(sum(not p.titled for p in articles), len(articles)),
        "short_body": _share(sum(p.words < SHORT_BODY_WORDS for p in articles), len(articles)),
        "repeated_lines": _share(sum(per_page[line] >= repeat_at for line in lines), len(lines)),
        "other_language": _share(sum(bool(p.lang) and p.lang != own for p in articles), len(articles)),
        "language": own,
    }


def _split(pages: list[PageSignals]) -> tuple[list[PageSignals], list[PageSignals]]:
    """The history and the latest run; a source with one run is cut at its middle page."""
    latest = pages[-1].run_id if pages else None
    history = [p for p in pages if p.run_id != latest]
    if history:
        return history, [p for p in pages if p.run_id == latest]
    middle = len(pages) // 2
    return pages[:middle], pages[middle:]


def jumps(history: list[PageSignals], latest: list[PageSignals], context: list[PageSignals]) -> list[str]:
    """One line for each signal that rose sharply in ``latest`` against ``history``."""
    if len(history) < MIN_PAGES or len(latest) < MIN_PAGES:
        return []
    before, now = signals(history, context=context), signals(latest, context=context)
    found = []
    for key in BAD_SIGNALS:
        if now[key] >= LEVEL and now[key] - before[key] >= JUMP:
            found.append(f"{key.replace('_', ' ')} {now[key]:.0%} of the last run's {now['pages']} pages "
                         f"(was {before[key]:.0%})")
    return found


def source_quality(session: Session, name: str) -> dict[str, Any]:
    """The source's signals over its recent runs, and the ``warnings`` of its latest run."""
    pages = page_signals(session, name)
    history, latest = _split(pages)
    out = signals(pages)
    out["runs"] = len({p.run_id for p in pages})
    out["warnings"] = jumps(history, latest, pages)
    return out


def quality_warnings(session: Session, name: str) -> list[str]:
    """The signals of the source's latest run that jumped against its history (empty when none)."""
    return list(source_quality(session, name)["warnings"])
