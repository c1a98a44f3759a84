"""The Scrapy spider a user would write instead of akhbar: the baseline of bench/crawl.py.

A SitemapSpider over a sitemap (index); each page goes through ``trafilatura.extract`` (text, title
and date, as JSON) and, when that gives a text, into a SQLite table whose URL is UNIQUE (``INSERT OR IGNORE``, one commit per
page, as akhbar commits each document).  No canonicalisation, no content dedup, no raw capture.

    python bench/plain_spider.py SITEMAP_URL DB_PATH [--concurrency 16]
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys

import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

SCHEMA = """CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, title TEXT, published TEXT, text TEXT NOT NULL)"""


class PlainSpider(SitemapSpider):
    name = "plain"

    def __init__(self, sitemap: str, db: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [sitemap]
        self.conn = sqlite3.connect(db)
        self.conn.execute(SCHEMA)

    def parse(self, response):
        found = trafilatura.extract(response.text, url=response.url, with_metadata=True, output_format="json")
        if found:
            doc = json.loads(found)
            self.conn.execute("INSERT OR IGNORE INTO articles (url, title, published, text) VALUES (?, ?, ?, ?)",
                              (response.url, doc.get("title"), doc.get("date"), doc["text"]))
            self.conn.commit()
        yield from ()

    def closed(self, reason: str) -> None:
        self.conn.close()


def settings(concurrency: int) -> dict[str, object]:
    """Politeness off, the same concurrency as the akhbar run."""
    return {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
            "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sitemap")
    ap.add_argument("db")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args(argv)
    process = CrawlerProcess(settings(args.concurrency))
    process.crawl(PlainSpider, sitemap=args.sitemap, db=args.db)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
