"""The ``akhbar migrate-archive`` command: copy an archive into another database (SQLite to
PostgreSQL, typically), in batches, resumably, checking the row counts at the end."""
from __future__ import annotations

import sys

import click

from crawler.cli.support import echo_json


@click.command("migrate-archive")
@click.option("--from", "source_url", required=True, metavar="URL",
              help="The archive to copy (a database URL or a SQLite file); it is only read.")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="Where to copy it, e.g. postgresql+psycopg://user@host/akhbar (created or upgraded; "
                   "a new database, or the target of an earlier, interrupted copy of the same archive).")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per batch (each batch is committed on its own).")
@click.option("--json", "as_json", is_flag=True, help="Print the row counts per table as JSON.")
def migrate_archive_cmd(source_url: str, target_url: str, batch: int, as_json: bool) -> None:
    """Copy every article, URL, document, run, validator and source state into another database.

    Running it again after an interruption copies only what is missing.  Ends with an error when
    the row counts of the two archives differ."""
    from crawler.core.errors import InputError
    from storage.db import archive_errors, display_url, open_engine, resolve_url
    from storage.transfer import check_counts, copy_archive, count_rows, tables

    source_url, target_url = resolve_url(source_url), resolve_url(target_url)
    if display_url(source_url) == display_url(target_url):
        raise InputError("--from and --to name the same archive")
    source = open_engine(source_url, create=False)
    try:
        target = open_engine(target_url)
        try:
            with archive_errors(source_url):
                total = sum(count_rows(source, table) for table in tables())
            with archive_errors(target_url), click.progressbar(
                    length=total, label="copying", file=sys.stderr, show_pos=True) as bar:
                counts = copy_archive(source, target, batch=batch, progress=lambda _table, n: bar.update(n))
        finally:
            target.dispose()
    finally:
        source.dispose()
    if as_json:
        echo_json([{"table": c.table, "source": c.source, "target": c.target, "copied": c.copied} for c in counts])
    else:
        for c in counts:
            click.echo(f"{c.table:<16} {c.target:>9} of {c.source:<9} ({c.copied} copied now)")
    check_counts(counts)
