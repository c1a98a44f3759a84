"""What names the extractor and bounds its input: light constants, importable without the
extractor itself (trafilatura, lxml, numpy), so that a crawl's reactor process, which only
fetches and stores, does not load it.  :mod:`crawler.core.extract` re-exports both."""
from __future__ import annotations

from importlib import metadata as _metadata

__all__ = ["EXTRACTOR_VERSION", "MAX_PAGE_BYTES"]


def _version(package: str) -> str:
    try:
        return _metadata.version(package)
    except _metadata.PackageNotFoundError:
        return "unknown"


EXTRACTOR_VERSION = f"akhbar-{_version('akhbar')}+trafilatura-{_version('trafilatura')}"
"""The extractor that produced an article's stored text (recorded on every version, read by
``akhbar reprocess`` to know what is due); a change of extraction output should bump akhbar's version."""

MAX_PAGE_BYTES = 5 * 1024 * 1024
"""The largest page (bytes as served, or characters of a decoded page) extracted: a news article
is a few hundred kilobytes; past this the page is rejected (:class:`ExtractionError`), so the time
one page may take stays bounded."""
