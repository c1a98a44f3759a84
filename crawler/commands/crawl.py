"""``scrapy crawl``, checking the spider's arguments before the crawl starts.

Scrapy creates the spider inside the running reactor, where a bad argument becomes a traceback
and exit code 0.  Here an akhbar spider's ``-a source=`` is checked first
(:meth:`spiders.base.AkhbarSpider.source_argument`): a missing or unknown source is one error line
and exit code 2, as for any other usage error.

With ``-s REDIS_URL=redis://...`` the crawl is a worker of the distributed crawl
(:mod:`crawler.distributed`): its requests come from, and go to, the source's queue in redis, as
``akhbar worker SOURCE --redis URL`` (queue the start requests with ``akhbar crawl --redis``).
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
        if self.crawler_process is not None and self.crawler_process.settings.get("REDIS_URL"):
            from crawler.distributed import connect, worker_overrides  # only a worker needs scrapy-redis

            settings = self.crawler_process.settings
            url = str(settings["REDIS_URL"])
            try:
                connect(url).close()
            except Exception as exc:  # an AkhbarError's one line, as a usage error's
                raise UsageError(str(exc), print_help=False) from exc
            for key, value in worker_overrides(settings, url).items():
                settings.set(key, value, priority="cmdline")
        super().run(args, opts)
