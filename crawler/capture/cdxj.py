"""CDXJ: the index beside a WARC file that replay tools (pywb) read.

One line per record: ``<SURT key> <14-digit timestamp> <JSON>``, the JSON holding ``url``,
``mime``, ``status``, ``digest`` (the payload's SHA-1, base 32, as in WARC-Payload-Digest without
its ``sha1:``), ``length`` and ``offset`` (of the record's gzip member) and ``filename`` (the
WARC file's name, relative to the index).  The keys are made by the ``surt`` package (pywb's own
canonicaliser), and the lines are sorted bytewise (``LC_ALL=C sort``), which pywb's binary
search needs; :func:`sort_lines` sorts any number of them in bounded memory (sorted runs in
temporary files, merged).
"""
from __future__ import annotations

import heapq
import json
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import IO

from surt import surt

from crawler.capture.warc import WrittenRecord

__all__ = ["RUN_LINES", "cdxj_line", "surt_key", "sort_lines", "timestamp14"]

#: Lines sorted in memory at a time by :func:`sort_lines` (about 30 MB of index lines).
RUN_LINES = 100_000


def surt_key(url: str) -> str:
    """The SURT form of ``url`` (``https://www.example.com/a?b=1`` -> ``com,example)/a?b=1``)."""
    try:
        return str(surt(url))
    except Exception:  # surt raises on what it cannot parse; the URL itself then sorts as the key
        return url


def timestamp14(warc_date: str) -> str:
    """``2024-05-20T09:00:00.123456Z`` -> ``20240520090000``."""
    digits = "".join(ch for ch in warc_date.split(".", 1)[0] if ch.isdigit())
    return digits[:14].ljust(14, "0")


def cdxj_line(record: WrittenRecord, filename: str) -> str:
    """The index line of one record written in ``filename`` (no newline)."""
    fields: dict[str, str] = {"url": record.url}
    if record.mime:
        fields["mime"] = record.mime
    fields["status"] = str(record.status)
    if record.payload_digest:
        fields["digest"] = record.payload_digest.split(":", 1)[-1]
    fields.update(length=str(record.length), offset=str(record.offset), filename=filename)
    return f"{surt_key(record.url)} {timestamp14(record.date)} {json.dumps(fields, ensure_ascii=True)}"


def sort_lines(lines: Iterable[str], out: IO[str], *, run: int = RUN_LINES) -> int:
    """Write ``lines`` (no newlines in them) to ``out`` sorted bytewise, one a line; how many.

    At most ``run`` lines are held at once: longer input is sorted in runs kept in temporary
    files, then merged."""
    with ExitStack() as stack:
        runs: list[IO[str]] = []
        chunk: list[str] = []
        count = 0
        for line in lines:
            chunk.append(line)
            count += 1
            if len(chunk) >= run:
                runs.append(_spill(stack, chunk))
                chunk = []
        if not runs:
            merged: Iterable[str] = sorted(chunk, key=_bytewise)
        else:
            if chunk:
                runs.append(_spill(stack, chunk))
            merged = heapq.merge(*(_read(r) for r in runs), key=_bytewise)
        for line in merged:
            out.write(line + "\n")
    return count


def _bytewise(line: str) -> bytes:
    return line.encode("utf-8")


def _spill(stack: ExitStack, chunk: list[str]) -> IO[str]:
    handle = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
    handle.writelines(line + "\n" for line in sorted(chunk, key=_bytewise))
    handle.seek(0)
    return handle


def _read(handle: IO[str]) -> Iterator[str]:
    for line in handle:
        yield line.rstrip("\n")
