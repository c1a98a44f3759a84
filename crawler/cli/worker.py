"""The ``akhbar worker`` command (registered in :mod:`crawler.cli`): one crawl process of a distributed crawl."""
from __future__ import annotations

import logging
import sys

import click

from crawler.cli.crawl import _overrides, _pick_sources
from crawler.cli.support import archive_url, db_option
from crawler.core.errors import SourcesError


@click.command("worker")
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--redis", "redis_url", required=True, metavar="URL",
              help="The redis of the shared queue (redis://host:port/db).")
@click.option("--sources", "sources_file", default="sources.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The sources file.")
@click.option("--warc-dir", default=None, help="Where WARC files go (default: warc/ beside the SQLite archive).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a Scrapy or akhbar setting (e.g. DOWNLOAD_DELAY=2); repeatable.")
@click.option("-v", "--verbose", count=True, help="Show Scrapy's log (-v info, -vv debug).")
@db_option
@click.pass_context
def worker_cmd(ctx: click.Context, names: tuple[str, ...], redis_url: str, sources_file: str, warc_dir: str | None,
               overrides: tuple[str, ...], verbose: int, db: str | None) -> None:
    """Fetch the named sources' queued requests (default: every enabled source's) until SIGTERM or Ctrl-C.

    Run any number, on any machines, on one redis and one archive; `akhbar crawl --redis` or
    `akhbar schedule --redis` queue the crawls.  robots.txt, DOWNLOAD_DELAY and
    CONCURRENT_REQUESTS_PER_DOMAIN hold for all workers together.  Requests in flight when a worker
    stops go back to the queue; those of a worker killed outright, once their lease (AKHBAR_REDIS_LEASE,
    60 s) runs out.
    """
    from crawler.dispatch import work  # here: Scrapy and the extractor load slowly

    sources = _pick_sources(sources_file, names)
    if not sources:
        raise SourcesError(f"{sources_file}: no enabled source to fetch")
    level = ("WARNING", "INFO", "DEBUG")[min(verbose, 2)]
    if verbose:
        logging.basicConfig(level=level, stream=sys.stderr)
    work(sources, redis_url, db_url=archive_url(ctx, db), warc_dir=warc_dir,
                    settings=_overrides(overrides), log_level=level)
    # a signal is how a worker is meant to stop: exit code 0 (systemd and compose restart only failures)
