"""The ``akhbar extract`` and ``akhbar replay`` commands: pages from files, into the output or the archive."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from crawler.cli.support import archive_session, db_option, echo_json, say_error
from crawler.core.errors import InputError, os_reason


@click.command("extract")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="The page's URL (for relative links, dates in the URL, the record).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def extract_cmd(path: Path, url: str | None, as_json: bool) -> None:
    """Extract the article from one saved page (.html or .txt) and print it; stores nothing."""
    from crawler.core.extract import ExtractionError, extract  # here: the archive's commands need no extractor

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {os_reason(exc)}") from None
    try:
        article = extract(data, url, name=str(path))
    except ExtractionError as exc:
        raise ExtractionError(f"{path}: {exc}") from None
    if as_json:
        echo_json(article.to_dict())
        return
    click.echo(f"title:     {article.title or '-'}")
    click.echo(f"published: {article.published or '-'} ({article.date_source or 'no date found'})")
    click.echo(f"section:   {article.section or '-'}")
    click.echo(f"lang:      {article.lang}")
    click.echo(f"hash:      {article.content_hash}")
    click.echo("")
    click.echo(article.text)


@click.command("replay")
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", default=None, help="Name of the outlet these pages come from.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_option
@click.pass_context
def replay_cmd(ctx: click.Context, paths: tuple[str, ...], source: str | None, as_json: bool, db: str | None) -> None:
    """Take saved pages (.txt/.html/.htm files, folders of them, WARC files) into the archive."""
    from crawler.replay import expand_paths, replay_files

    files = list(expand_paths(paths))
    with archive_session(ctx, db) as session:
        show_bar = not as_json and sys.stderr.isatty()
        if show_bar:
            with click.progressbar(length=len(files), label="replaying", file=sys.stderr) as bar:
                report = replay_files(session, files, source=source, on_file=lambda _p: bar.update(1))
        else:
            report = replay_files(session, files, source=source)
    for error in report.errors:
        say_error(f"{error['file']}: {error['reason']}")
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(
            f"seen {report.seen}, stored {report.stored}, duplicate {report.duplicate}, "
            f"rejected {report.rejected}, errors {len(report.errors) - report.rejected}"
        )
    if report.taken_in == 0:
        ctx.exit(1)
