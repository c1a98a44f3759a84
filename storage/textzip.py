"""Article texts stored zlib-compressed on SQLite, read back exactly as published.

On SQLite an article's ``text`` (and a superseded version's) is kept as a BLOB holding the
zlib stream (RFC 1950, what ``zlib.compress`` writes) of its UTF-8 bytes, the way PostgreSQL's
TOAST already compresses long text on the server.  A text whose stream would not be shorter (a
few words) stays plain TEXT, as do rows written before migration 0015: :func:`unpack` passes a
``str`` through unchanged, so every reader gets the same ``str`` whichever way a row is held.

The sqlite3 shell reads a text with its ``sqlar_uncompress`` function::

    SELECT CASE typeof(text) WHEN 'blob' THEN CAST(sqlar_uncompress(text, 100000000) AS TEXT)
           ELSE text END FROM articles WHERE id = 1;

Typed reads go through :class:`storage.models.ZippedText`; raw SQL that reads ``articles.text``
or ``article_versions.text`` must call :func:`unpack` on what it gets (as the index's SQL
functions and the export do).
"""
from __future__ import annotations

import zlib

__all__ = ["LEVEL", "pack", "unpack"]

#: zlib's level: 6, its default.  On the 65 real Arabic texts of tests/fixtures/search (5.1 KB
#: each) it keeps 0.34 of the UTF-8 bytes at 0.19 ms a text; 9 is no smaller, 1 keeps 0.40.
LEVEL = 6
#: Texts of fewer UTF-8 bytes stay plain: their stream would hardly be shorter.
MIN_BYTES = 64


def pack(text: str) -> str | bytes:
    """What is stored for ``text`` on SQLite: its zlib stream, or ``text`` itself when the
    stream would not be shorter."""
    raw = text.encode("utf-8")
    if len(raw) < MIN_BYTES:
        return text
    packed = zlib.compress(raw, LEVEL)
    return packed if len(packed) < len(raw) else text


def unpack(value: str | bytes | memoryview | None) -> str | None:
    """The text of a stored value: a blob is decompressed, a ``str`` (or ``None``) is returned as it is."""
    if value is None or isinstance(value, str):
        return value
    return zlib.decompress(value).decode("utf-8")
