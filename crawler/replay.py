"""Replay: saved files, folders and WARC files -> the same path as a crawl (:mod:`crawler.ingest`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from crawler.capture.warc import iter_warc_responses
from crawler.core.decode import header_value
from crawler.core.errors import InputError, os_reason
from crawler.ingest import IngestResult, RawDocument, ingest

PAGE_SUFFIXES = (".txt", ".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz")


class ReplayInputError(InputError):
    """A path given to replay that cannot be read (missing, unreadable, not a page)."""


@dataclass
class ReplayReport:
    seen: int = 0
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, result: IngestResult) -> None:
        self.seen += 1
        if result.outcome == "stored":
            self.stored += 1
        elif result.outcome == "duplicate":
            self.duplicate += 1
        else:
            self.rejected += 1
            self.errors.append({"file": name, "reason": result.reason or "rejected"})

    def fail(self, name: str, reason: str) -> None:
        self.errors.append({"file": name, "reason": reason})

    @property
    def taken_in(self) -> int:
        return self.stored + self.duplicate

    def to_dict(self) -> dict:
        return {"seen": self.seen, "stored": self.stored, "duplicate": self.duplicate,
                "rejected": self.rejected, "errors": self.errors}


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def expand_paths(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """Yield (file, problem) for every input: folders are walked in name order for page and WARC files.

    A symbolic link in a folder that leads out of it is not followed (its problem says so): a
    folder given is all that is read, whatever links were dropped into it."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            root = path.resolve()
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                name = child.name.lower()
                if not (name.endswith(PAGE_SUFFIXES) or name.endswith(WARC_SUFFIXES)):
                    continue
                yield child, None if child.resolve().is_relative_to(root) else "a link out of the folder: not followed"
        elif path.is_file():
            yield path, None
        elif path.exists():
            yield path, "not a regular file"
        else:
            yield path, "no such file or folder"


#: Content types a recorded response may be an article in (others are feeds, sitemaps, media...).
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


def is_page_response(url: str | None, status: int | None, headers: Mapping[str, str]) -> bool:
    """Whether a response recorded in WARC is a page to extract: a 2xx answer, not robots.txt,
    and HTML or plain text (or no content type at all).  Feeds and sitemaps a crawl fetched to
    find articles, 304s, redirects and error pages are not."""
    if status is not None and not 200 <= status < 300:
        return False
    if url and urlsplit(url).path.lower() == "/robots.txt":
        return False
    content_type = header_value(headers, "Content-Type") or ""
    main = content_type.split(";", 1)[0].strip().lower()
    return not main or main in PAGE_TYPES


def _warc_date(value: str) -> datetime | None:
    """A WARC-Date (ISO 8601, ``Z`` for UTC) as an aware datetime."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def iter_documents(path: Path, *, source: str | None = None,
                   on_damage: Callable[[str], None] | None = None) -> Iterator[RawDocument]:
    """The documents in one input file: the file itself, or every HTTP response in a WARC file
    (up to a damaged record, told to ``on_damage``)."""
    if is_warc(path):
        for response in iter_warc_responses(path, on_damage):
            if not is_page_response(response.url, response.status, response.headers):
                continue
            yield RawDocument(
                data=response.body,
                url=response.url,
                headers=response.headers,
                status=response.status,
                fetched_at=_warc_date(response.date),
                source=source,
                warc_path=str(response.pointer.path),
                warc_offset=response.pointer.offset,
                warc_length=response.pointer.length,
            )
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReplayInputError(os_reason(exc)) from exc
    yield RawDocument(data=data, name=str(path), source=source)


def replay(session: Session, paths: Iterable[str | Path], *, source: str | None = None) -> ReplayReport:
    """Take every page under ``paths`` into the archive, committing after each document."""
    return replay_files(session, expand_paths(paths), source=source)


def replay_files(
    session: Session,
    files: Iterable[tuple[Path, str | None]],
    *,
    source: str | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> ReplayReport:
    """Replay the (file, problem) pairs that :func:`expand_paths` yields."""
    report = ReplayReport()
    for path, problem in files:
        if on_file:
            on_file(path)
        if problem:
            report.fail(str(path), problem)
            continue
        damage: list[str] = []
        try:
            for doc in iter_documents(path, source=source, on_damage=damage.append):
                label = doc.url if doc.url else str(path)
                result = ingest(session, doc)
                session.commit()
                report.add(label, result)
            for problem in damage:  # what came before it is in; the rest of the file could not be read
                report.fail(str(path), problem)
        except ReplayInputError as exc:
            session.rollback()
            report.fail(str(path), str(exc))
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            session.rollback()
            report.fail(str(path), f"{type(exc).__name__}: {exc}".splitlines()[0])
    return report
