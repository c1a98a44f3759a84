"""Raw capture: every fetched response kept in WARC files, and read back.

:class:`WarcWriter` appends gzip-compressed (one gzip member per record) ``response`` +
``request`` record pairs with warcio, rotates to a new file past ``max_bytes`` and returns a
:class:`WarcPointer` (file, offset, length) the archive can store next to the article.
:func:`iter_warc_responses` replays a file; :func:`read_record` fetches one response by
pointer.  Each record pair is flushed as soon as it is written, so a file cut short by a
crash is still readable up to its last complete record.

No Scrapy here: the capture middleware hands plain URLs, headers and bytes to the writer.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Mapping, Union
from urllib.parse import quote, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter as _WarcioWriter

__all__ = [
    "DEFAULT_MAX_BYTES",
    "WarcFile",
    "WarcPointer",
    "WarcResponse",
    "WarcWriter",
    "WrittenRecord",
    "headers_dict",
    "iter_warc_responses",
    "read_record",
    "response_record",
    "warc_date",
]

log = logging.getLogger(__name__)

#: Rotate after about 1 GB, the customary size of a WARC file.
DEFAULT_MAX_BYTES = 1_000_000_000
#: Every printable ASCII character but "%": what a header value keeps as is when written.
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
#: The WARC format version written (1.1: WARC-Date with microseconds).
WARC_VERSION = "1.1"
#: zlib level of each record's gzip member.  On news pages level 4 takes about half the CPU of
#: zlib's default 6 for files about 5 % larger (0.85 instead of 1.6 ms a 86 KB page, 22.6 instead of
#: 21.5 % of the page); warcio's 9 takes twice the CPU of 6 for files 1 % smaller.  The crawl's
#: process pays it for every page it fetches, beside the reactor.
GZIP_LEVEL = 4

_HeaderValue = Union[str, bytes, Iterable[Union[str, bytes]]]
#: Headers as a mapping (``str``/``bytes`` names; a value or a list of values, as Scrapy's
#: ``Headers`` has them) or as a sequence of (name, value) pairs.
Headers = Union[Mapping[Union[str, bytes], _HeaderValue], Iterable[tuple[Union[str, bytes], Union[str, bytes]]]]

# Errors a cut-off or damaged record raises somewhere inside warcio / zlib (warcio 1.8.1
# raises AttributeError on a record whose WARC header block is cut before its target URI).
_DAMAGED = (
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
    zlib.error,
    EOFError,
    ValueError,
    OSError,
    AttributeError,
)


@dataclass(frozen=True)
class WarcPointer:
    """Where one response record lies: its file, byte offset and (compressed) length."""

    path: str
    offset: int
    length: int


@dataclass(frozen=True)
class WarcResponse:
    """A response read back from WARC.

    ``headers`` has lower-case names (repeated headers joined with ", "); ``body`` is the
    payload with transfer- and content-encoding undone, as warcio decodes it; ``date`` is
    the record's WARC-Date (ISO 8601, UTC).
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    date: str
    pointer: WarcPointer


def _text(value: str | bytes) -> str:
    """Header text: UTF-8 when it decodes, else ISO-8859-1 (as warcio reads headers)."""
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("iso-8859-1")


def _header_pairs(headers: Headers | None) -> list[tuple[str, str]]:
    """Flatten any accepted header shape into (name, value) text pairs, order kept."""
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        values = [value] if isinstance(value, (str, bytes)) else list(value)
        pairs.extend((_text(name), _text(v)) for v in values)
    return pairs


def _wire_pairs(headers: Headers | None) -> list[tuple[str, str]]:
    """(name, value) pairs as a WARC header block must be: ASCII, any other character
    percent-encoded as UTF-8 (warcio's own RFC 8187 rewrite fails on e.g. a raw Arabic URL
    in a ``Link`` header, and the page would be lost)."""
    return [(_ascii(name), _ascii(value)) for name, value in _header_pairs(headers)]


def _ascii(text: str) -> str:
    return text if text.isascii() else quote(text, safe=_PRINTABLE_ASCII)


def headers_dict(headers: Headers | None) -> dict[str, str]:
    """Headers of any accepted shape (Scrapy's bytes ``Headers``, a mapping, (name, value)
    pairs) as ``{lower-case name: value}``; a repeated header's values are joined with ", ".

    Bytes are read as UTF-8 when they decode, else ISO-8859-1, as warcio reads WARC headers.
    """
    out: dict[str, str] = {}
    for name, value in _header_pairs(headers):
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _software() -> str:
    try:
        return f"akhbar/{metadata.version('akhbar')} (warcio/{metadata.version('warcio')})"
    except metadata.PackageNotFoundError:
        return "akhbar"


class _GzipMember:
    """A writable that compresses what it is given into one gzip member of ``out``, finished by
    :meth:`flush` (which warcio calls once at the end of each record)."""

    def __init__(self, out: BinaryIO, level: int) -> None:
        self.out = out
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


class _RecordWriter(_WarcioWriter):
    """warcio's WARC writer, each record a gzip member of its own at :data:`GZIP_LEVEL`."""

    def __init__(self, out: BinaryIO, level: int = GZIP_LEVEL) -> None:
        super().__init__(out, gzip=False, warc_version=WARC_VERSION)
        self.level = level

    def write_record(self, record: ArcWarcRecord, params: object = None) -> None:
        self._write_warc_record(_GzipMember(self.out, self.level), record)


class WarcWriter:
    """Append request/response pairs to size-rotated ``.warc.gz`` files in ``directory``.

    File names are ``{prefix}-{UTC timestamp}-{pid}-{serial}.warc.gz``: unique per process
    and run.  A file is opened at the first write and closed when it passes ``max_bytes``
    (the pair that crosses the bound stays whole in it).  Use as a context manager, or call
    :meth:`close`.  Safe to share between threads.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        prefix: str = "akhbar",
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.paths: list[Path] = []  # every file this writer opened, oldest first
        self._serial = 0
        self._file: BinaryIO | None = None
        self._writer: _RecordWriter | None = None
        self._lock = threading.Lock()

    # -- files -------------------------------------------------------------------------
    @property
    def current_path(self) -> Path | None:
        """The file being written, or None between files."""
        return self.paths[-1] if self._file is not None else None

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
        while True:
            self._serial += 1
            path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}-{self._serial:05d}.warc.gz"
            try:
                self._file = open(path, "xb")  # never clobber another run's file
                break
            except FileExistsError:
                continue
        self.paths.append(path)
        self._writer = _RecordWriter(self._file)
        info = {"software": _software(), "format": f"WARC File Format {WARC_VERSION}"}
        self._writer.write_record(self._writer.create_warcinfo_record(path.name, info))
        self._file.flush()

    def close(self) -> None:
        """Close the current file (a later write opens a new one)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- records -------------------------------------------------------------------------
    def write(
        self,
        url: str,
        status: int,
        headers: Headers | None,
        body: bytes,
        *,
        method: str = "GET",
        request_headers: Headers | None = None,
        date: datetime | None = None,
    ) -> WarcPointer:
        """Write one response and the request that fetched it; return the response's pointer.

        ``body`` is the payload as received (content-encoding intact if ``headers`` still
        declare it).  Its transfer-encoding must already be undone, as HTTP clients do, so a
        ``Transfer-Encoding`` header is dropped from the stored headers.
        """
        with self._lock:
            if self._writer is None:
                self._open()
            assert self._writer is not None and self._file is not None
            warc_date = datetime_to_iso_date(
                (date or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None),
                use_micros=True,
            )
            response = self._response_record(url, status, headers, body, warc_date)
            request = self._request_record(url, method, request_headers, warc_date)
            request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
            offset = self._file.tell()
            self._writer.write_record(response)
            length = self._file.tell() - offset
            self._writer.write_record(request)
            self._file.flush()
            pointer = WarcPointer(str(self.paths[-1]), offset, length)
            if self._file.tell() >= self.max_bytes:
                self._close()
            return pointer

    def _response_record(
        self, url: str, status: int, headers: Headers | None, body: bytes, warc_date: str
    ) -> ArcWarcRecord:
        assert self._writer is not None
        return response_record(self._writer, url, status, headers, body, warc_date)

    def _request_record(self, url: str, method: str, headers: Headers | None, warc_date: str) -> ArcWarcRecord:
        assert self._writer is not None
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        pairs = _wire_pairs(headers)
        if not any(name.lower() == "host" for name, _ in pairs):
            pairs.insert(0, ("Host", parts.netloc))
        http_headers = StatusAndHeaders(f"{method.upper()} {target} HTTP/1.1", pairs, is_http_request=True)
        return self._writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": warc_date},
        )


def response_record(
    writer: _WarcioWriter, url: str, status: int, headers: Headers | None, body: bytes, warc_date: str
) -> ArcWarcRecord:
    """A WARC ``response`` record of ``body`` with its HTTP status line and headers (made ASCII,
    ``Transfer-Encoding`` dropped: the body is stored de-chunked)."""
    pairs = [(k, v) for k, v in _wire_pairs(headers) if k.lower() != "transfer-encoding"]
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    http_headers = StatusAndHeaders(f"{status} {reason}".strip(), pairs, protocol="HTTP/1.1")
    return writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": warc_date},
    )


def warc_date(moment: datetime | None) -> str:
    """A WARC-Date (ISO 8601 UTC, microseconds) of an aware or naive-UTC time; now when ``None``."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime_to_iso_date(moment, use_micros=True)


@dataclass(frozen=True)
class WrittenRecord:
    """Where a record went in a file (its gzip member) and what a CDX index says of it."""

    url: str
    date: str
    status: int
    mime: str | None
    payload_digest: str | None
    offset: int
    length: int


class WarcFile:
    """One named ``.warc.gz`` file of ``response`` records, opened with a ``warcinfo`` record
    (an export: no request records, no rotation).  Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], info: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self._file: BinaryIO = open(self.path, "wb")
        self._writer = _WarcioWriter(self._file, gzip=True, warc_version=WARC_VERSION)
        fields = {"software": _software(), "format": f"WARC File Format {WARC_VERSION}", **(info or {})}
        self._writer.write_record(self._writer.create_warcinfo_record(self.path.name, fields))

    def write_response(self, url: str, status: int, headers: Headers | None, body: bytes,
                       date: datetime | None = None) -> WrittenRecord:
        """Append one response; where it went."""
        record = response_record(self._writer, url, status, headers, body, warc_date(date))
        offset = self._file.tell()
        self._writer.write_record(record)
        mime = record.http_headers.get_header("Content-Type")
        return WrittenRecord(
            url=url,
            date=record.rec_headers.get_header("WARC-Date"),
            status=status,
            mime=mime.split(";", 1)[0].strip().lower() if mime else None,
            payload_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
            offset=offset,
            length=self._file.tell() - offset,
        )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> WarcFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- reading ----------------------------------------------------------------------------


def _decoded_body(record: ArcWarcRecord, raw: bytes) -> bytes:
    """The payload with chunking / content-encoding undone (warcio's rules); raw if that fails."""
    record.raw_stream = io.BytesIO(raw)
    try:
        return record.content_stream().read()
    except _DAMAGED:
        return raw


def _response(record: ArcWarcRecord, raw: bytes, pointer: WarcPointer) -> WarcResponse:
    http_headers = record.http_headers
    status = int(http_headers.get_statuscode() or 0)
    return WarcResponse(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        status=status,
        headers=headers_dict(http_headers.headers),
        body=_decoded_body(record, raw),
        date=record.rec_headers.get_header("WARC-Date") or "",
        pointer=pointer,
    )


def _is_http_response(record: ArcWarcRecord) -> bool:
    return record.rec_type == "response" and record.http_headers is not None


def _complete(record: ArcWarcRecord) -> bool:
    """Whether the payload just read was whole (a file cut mid-record leaves bytes owing)."""
    return getattr(record.raw_stream, "limit", 0) == 0


def iter_warc_responses(
    path: str | os.PathLike[str], on_damage: Callable[[str], None] | None = None
) -> Iterator[WarcResponse]:
    """Every HTTP response in a WARC file, in order (request/metadata records skipped).

    A damaged or cut-off tail (a crash mid-write, bytes changed in a gzip member) ends the
    iteration: everything before it is still returned, and the damage is told in one line to
    ``on_damage`` (logged as a warning without it).  What warcio itself would print on stderr
    about the damage is taken in instead (the command line prints nothing but its own lines).
    """
    path = str(path)
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream, check_digests=False)
        offset = 0
        while True:
            noise = io.StringIO()
            try:
                with contextlib.redirect_stderr(noise):  # warcio writes decompression errors there
                    record = next(records)
                    if not _is_http_response(record):
                        continue
                    raw = record.raw_stream.read()
                offset, length = records.get_record_offset(), records.get_record_length()
            except StopIteration:
                return
            except _DAMAGED as exc:
                _damage(on_damage, f"stopped at a damaged or incomplete record after offset {offset}: "
                                   f"{_first_line(str(exc))}")
                return
            if noise.getvalue().strip() or not _complete(record):
                detail = f" ({_first_line(noise.getvalue())})" if noise.getvalue().strip() else ""
                _damage(on_damage, f"the record at offset {offset} is damaged or incomplete{detail}: "
                                   "the rest of the file was not read")
                return
            yield _response(record, raw, WarcPointer(path, offset, length))


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else ""


def _damage(on_damage: Callable[[str], None] | None, message: str) -> None:
    if on_damage is not None:
        on_damage(message)
    else:
        log.warning("WARC: %s", message)


def read_record(pointer: WarcPointer) -> WarcResponse:
    """The response record at ``pointer`` (random access; reads ``length`` bytes only)."""
    with open(pointer.path, "rb") as stream:
        stream.seek(pointer.offset)
        chunk = stream.read(pointer.length)
    try:
        record = next(ArchiveIterator(io.BytesIO(chunk)))
        raw = record.raw_stream.read()
    except (StopIteration, *_DAMAGED) as exc:
        raise ValueError(f"no readable WARC record at {pointer}") from exc
    if not _is_http_response(record) or not _complete(record):
        raise ValueError(f"no complete HTTP response record at {pointer}")
    return _response(record, raw, pointer)
