"""The ``akhbar`` command line: parses, calls the library, prints text or ``--json``.

Every command that reports takes ``--json``.  The archive is chosen with ``--db URL`` (on the
group or on the command) or ``AKHBAR_DB``; the default is the SQLite file ``archive.db``.
Errors are one line on stderr, never a traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from crawler.cli.support import AkhbarGroup, archive_session, db_option, echo_json
from crawler.cli.crawl import crawl_cmd, runs_cmd
from crawler.cli.schedule import schedule_cmd, sources_cmd
from crawler.cli.query import count_cmd, export_cmd, search_cmd


@click.group(cls=AkhbarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.version_option(package_name="akhbar")
def main(db: str | None) -> None:
    """akhbar: an archive of Arabic news that runs itself."""


@main.command("extract")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="The page's URL (for relative links, dates in the URL, the record).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def extract_cmd(path: Path, url: str | None, as_json: bool) -> None:
    """Extract the article from one saved page (.html or .txt) and print it; stores nothing."""
    from crawler.core.extract import ExtractionError, extract  # here: the archive's commands need no extractor

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror or exc}") from None
    try:
        article = extract(data, url, name=str(path))
    except ExtractionError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
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


@main.command("replay")
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
        click.echo(f"akhbar: {error['file']}: {error['reason']}", err=True)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(
            f"seen {report.seen}, stored {report.stored}, duplicate {report.duplicate}, "
            f"rejected {report.rejected}, errors {len(report.errors) - report.rejected}"
        )
    if report.taken_in == 0:
        ctx.exit(1)


def _article_dict(session: Session, record: Any) -> dict[str, Any]:
    from storage.archive import article_urls

    return {
        "id": record.id,
        "url": record.url,
        "title": record.title,
        "text": record.text,
        "published": record.published,
        "date_source": record.date_source,
        "modified": record.modified,
        "section": record.section,
        "author": record.author,
        "lang": record.lang,
        "description": record.description,
        "tags": record.tags or [],
        "content_hash": record.content_hash,
        "source": record.source.name if getattr(record, "source", None) else None,
        "first_seen": record.first_seen.isoformat() if record.first_seen else None,
        "last_seen": record.last_seen.isoformat() if record.last_seen else None,
        "times_seen": record.times_seen,
        "urls": article_urls(session, record.id),
    }


@main.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@db_option
@click.pass_context
def show_cmd(ctx: click.Context, ref: str, as_json: bool, db: str | None) -> None:
    """Show one stored article, by id or by any URL it was seen at."""
    from storage.archive import get_article

    key: int | str = int(ref) if ref.isdigit() else ref
    with archive_session(ctx, db) as session:
        record = get_article(session, key)
        if record is None:
            raise click.ClickException(f"no article {ref!r} in the archive")
        data = _article_dict(session, record)
    if as_json:
        echo_json(data)
        return
    click.echo(f"[{data['id']}] {data['title'] or '(untitled)'}")
    click.echo(f"published: {data['published'] or '-'} ({data['date_source'] or 'no date found'})")
    for label in ("section", "author", "lang", "source"):
        if data[label]:
            click.echo(f"{label + ':':<11}{data[label]}")
    click.echo(f"seen {data['times_seen']}x, first {data['first_seen']}, last {data['last_seen']}")
    for u in data["urls"]:
        click.echo(f"url:       {u}")
    click.echo("")
    click.echo(data["text"])


@main.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@db_option
@click.pass_context
def stats_cmd(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """Counts of what the archive holds."""
    from storage.archive import stats

    with archive_session(ctx, db) as session:
        data = stats(session)
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


for command in (crawl_cmd, runs_cmd, schedule_cmd, sources_cmd, search_cmd, count_cmd, export_cmd):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()
