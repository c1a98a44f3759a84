"""``scrapy crawl``, checking the spider's arguments before the crawl starts.

Scrapy creates the spider inside the running reactor, where a bad argument becomes a traceback
and exit code 0.  Here an akhbar spider's ``-a source=`` is checked first
(:meth:`spiders.base.AkhbarSpider.source_argument`): a missing or unknown source is one error line
and exit code 2, as for any other usage error.
"""
from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1 and self.crawler_process is not None:
            try:
                spidercls = self.crawler_process.spider_loader.load(args[0])
            except KeyError as exc:
                raise UsageError(f"no spider named {args[0]!r}", print_help=False) from exc
            check = getattr(spidercls, "source_argument", None)
            if check is not None:
                check(opts.spargs.get("source"), opts.spargs.get("sources"))
        super().run(args, opts)
