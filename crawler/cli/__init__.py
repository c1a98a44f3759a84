"""The ``akhbar`` command line: the group, its global options, and the registration of every command.

Every command that reports takes ``--json``.  The archive is chosen with ``--db URL`` (on the
group or on the command) or ``AKHBAR_DB``; the default is the SQLite file ``archive.db``.
Errors are one line on stderr (``akhbar: <message>``), never a traceback unless ``--debug``.

The commands live by job: :mod:`crawler.cli.ingest` (extract, replay), :mod:`crawler.cli.search`,
:mod:`crawler.cli.archive` (show, stats), :mod:`crawler.cli.crawl` (crawl, runs),
:mod:`crawler.cli.schedule` (schedule, sources), :mod:`crawler.cli.migrate` (migrate-archive).
"""
from __future__ import annotations

import click

from crawler.cli.archive import show_cmd, stats_cmd
from crawler.cli.crawl import crawl_cmd, runs_cmd
from crawler.cli.ingest import extract_cmd, replay_cmd
from crawler.cli.migrate import migrate_archive_cmd
from crawler.cli.reprocess import reprocess_cmd
from crawler.cli.schedule import schedule_cmd, sources_cmd
from crawler.cli.query import count_cmd, export_cmd, search_cmd
from crawler.cli.serve import serve_cmd
from crawler.cli.worker import worker_cmd
from crawler.cli.support import DEBUG_ENV, AkhbarGroup, db_option


@click.group(cls=AkhbarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.option("--debug", is_flag=True, help=f"Show the traceback of an internal error (also: {DEBUG_ENV}=1).")
@click.version_option(package_name="akhbar")
def main(db: str | None, debug: bool) -> None:
    """akhbar: an archive of Arabic news that runs itself."""


for command in (extract_cmd, replay_cmd, search_cmd, count_cmd, export_cmd, show_cmd, stats_cmd, crawl_cmd, runs_cmd,
                schedule_cmd, sources_cmd, migrate_archive_cmd, reprocess_cmd, serve_cmd,
                worker_cmd):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()
