"""The ``akhbar reprocess`` command: today's extractor over the stored raw documents."""
from __future__ import annotations

import sys
from typing import Any

import click

from crawler.cli.support import archive_session, db_option, echo_json


@click.command("reprocess")
@click.option("--source", default=None, help="Only the articles of this outlet.")
@click.option("--since", default=None, help="Only versions fetched on or after this day (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Show what would change (with a sample word diff); write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
@click.pass_context
def reprocess_cmd(ctx: click.Context, source: str | None, since: str | None, dry_run: bool, as_json: bool,
                  db: str | None) -> None:
    """Extract the stored articles again from their raw documents with today's extractor.

    An extraction revision updates the version in place (its extractor version is recorded); it
    is not a new version.  Versions already made by today's extractor are skipped, so a run that
    was stopped goes on where it stopped."""
    from crawler.reprocess import due_versions, reprocess
    from storage.search import parse_day

    day = parse_day(since, "--since")
    with archive_session(ctx, db, create=False) as session:
        ids = due_versions(session, source=source, since=day)
        if not as_json and sys.stderr.isatty() and ids:
            with click.progressbar(length=len(ids), label="reprocessing", file=sys.stderr) as bar:
                report = reprocess(session, ids=ids, dry_run=dry_run, progress=bar.update)
        else:
            report = reprocess(session, ids=ids, dry_run=dry_run)
    data = report.as_dict()
    if as_json:
        echo_json(data)
        return
    for line in report_lines(data):
        click.echo(line)


def report_lines(data: dict[str, Any]) -> list[str]:
    """The report as readable lines; the sample diffs after a dry run."""
    verb = "would change" if data["dry_run"] else "changed"
    lines = [
        f"extractor {data['extractor_version']}: examined {data['examined']}, {verb} {data['changed']}, "
        f"unchanged {data['unchanged']}, rejected now {data['rejected']}, no raw document {data['missing']}, "
        f"text of another article {data['conflicts']}, errors {data['errors']}",
        f"words removed {data['words_removed']}, added {data['words_added']}",
    ]
    if data["dry_run"]:
        for sample in data["samples"]:
            lines.append(f"article {sample['article_id']} version {sample['version']}: {sample['diff']}")
    return lines
