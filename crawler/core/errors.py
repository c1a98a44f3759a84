"""akhbar's one exception hierarchy.

Every error that akhbar means to tell a user about is an :class:`AkhbarError`.  The command line
(and the web page) catch this class, and only this class, and turn it into one line
(``akhbar: <message>``) and a non-zero exit; anything else is a bug, shown as one line too, with
the traceback only under ``--debug`` or ``AKHBAR_DEBUG=1``.

::

    AkhbarError                      base; str(exc) is the one line a user sees
    +-- InputError                   bad input from the user: a path, an argument, a query
    |   +-- SourcesError             the sources file (TOML) or one of its entries
    |   +-- QueryError               a search query or filter that cannot be read
    +-- DecodeError                  bytes that are not text in any encoding we can tell
    +-- ExtractionError              a page from which no article text can be taken
    +-- DiscoveryError               a feed or sitemap that cannot be read
    +-- ArchiveError                 the archive database: cannot open, locked, wrong schema
    |   +-- DriverMissing            the database URL needs a driver that is not installed
    |   +-- NotFound                 no such article, run or source in the archive
    |   +-- SearchUnavailable        the archive has no search index for this dialect
    +-- CaptureError                 a WARC file that cannot be written or read
    +-- QueueError                   the shared crawl queue (redis): no driver, cannot be reached

The classes that used to derive from ``ValueError`` still do (through :class:`InputError` or
directly), so ``except ValueError`` in older callers keeps working.
"""
from __future__ import annotations


class AkhbarError(Exception):
    """Base of every error akhbar reports to a user; ``str()`` is a one-line message."""

    def one_line(self) -> str:
        text = str(self).strip()
        return text.splitlines()[0] if text else type(self).__name__


class InputError(AkhbarError, ValueError):
    """Bad input: a missing path, a bad argument, a malformed file."""


class SourcesError(InputError):
    """The sources file, or one entry of it, is invalid."""


class QueryError(InputError):
    """A search query or filter that cannot be read."""


class DecodeError(AkhbarError, ValueError):
    """Bytes that are not text in any encoding akhbar can tell."""


class ExtractionError(AkhbarError, ValueError):
    """A page from which no article text can be taken."""


class NotAnArticle(ExtractionError):
    """A page that is something other than an article (a listing, a home page, a consent wall ...).

    ``kind`` names what it is (see :mod:`crawler.core.pagetype`), ``reason`` the evidence."""

    def __init__(self, kind: str, reason: str = "") -> None:
        super().__init__(f"not an article: {kind} page")
        self.kind, self.reason = kind, reason


class DiscoveryError(AkhbarError, ValueError):
    """A feed or sitemap that cannot be read."""


class ArchiveError(AkhbarError):
    """The archive database cannot be opened, read or written."""


class DriverMissing(ArchiveError):
    """The database URL needs a driver (a Python package) that is not installed."""


class NotFound(ArchiveError, LookupError):
    """No such article, run or source in the archive."""


class SearchUnavailable(ArchiveError, RuntimeError):
    """The archive has no search index for its database."""


class CaptureError(AkhbarError, OSError):
    """A WARC file that cannot be written or read."""


def os_reason(exc: OSError) -> str:
    """An operating-system error in akhbar's words, the same everywhere: a missing path is
    "no such file or folder"; any other reason is the system's text, lower-case."""
    import errno

    if exc.errno == errno.ENOENT or isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


class QueueError(AkhbarError):
    """The shared crawl queue (redis) of a distributed crawl: its driver is missing or it cannot be reached."""
