"""The akhbar archive: typed models, migrations, deduplicating verbs and full-text search.

Library only (no Scrapy, no CLI).  Every verb takes a caller-owned SQLAlchemy ``Session``.
"""
from storage.archive import (
    AddResult,
    add_article,
    add_document,
    article_urls,
    document_raw,
    get_article,
    get_or_create_source,
    seen_urls,
    set_document_outcome,
    stats,
)
from storage.db import open_engine, resolve_url
from storage.models import ArticleRecord, ArticleUrl, Document, Source
from storage.search import Filters, Hit, SearchUnavailable, rebuild_index, search

__all__ = [
    "AddResult",
    "ArticleRecord",
    "ArticleUrl",
    "Document",
    "Filters",
    "Hit",
    "SearchUnavailable",
    "Source",
    "add_article",
    "add_document",
    "article_urls",
    "document_raw",
    "get_article",
    "get_or_create_source",
    "open_engine",
    "rebuild_index",
    "resolve_url",
    "search",
    "seen_urls",
    "set_document_outcome",
    "stats",
]
