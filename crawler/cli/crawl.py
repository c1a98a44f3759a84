"""The ``akhbar crawl`` and ``akhbar runs`` commands (registered in :mod:`crawler.cli`)."""
from __future__ import annotations

import sys
from typing import Any

import click

from crawler.cli.support import archive_session, archive_url, db_option, echo_json, say_error, settle_dead_runs
from crawler.core.errors import SourcesError
from crawler.core.sources import load_sources


def _overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        values[key.strip()] = value
    return values


def _pick_sources(path: str, names: tuple[str, ...]) -> list[Any]:
    sources = load_sources(path)
    if not names:
        return [s for s in sources if s.enabled]
    by_name = {s.name: s for s in sources}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SourcesError(f"{path}: no source named {missing[0]!r}")
    return [by_name[n] for n in dict.fromkeys(names)]


@click.command("crawl")
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--sources", "sources_file", default="sources.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The sources file.")
@click.option("--warc-dir", default=None, help="Where WARC files go (default: warc/ beside the SQLite archive).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source crawled.")
@click.option("--run-id", type=int, default=None, help="Fill in this crawl_runs row (one SOURCE only).")
@click.option("--trigger", type=click.Choice(["manual", "schedule"]), default="manual", show_default=True)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a Scrapy or akhbar setting (e.g. DOWNLOAD_DELAY=0); repeatable.")
@click.option("-v", "--verbose", count=True, help="Show Scrapy's log (-v info, -vv debug).")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Distributed: queue the sources' start requests in this redis (redis://host:port/db) for "
                   "`akhbar worker`s to fetch, and follow the runs to their end.")
@db_option
@click.pass_context
def crawl_cmd(ctx: click.Context, names: tuple[str, ...], sources_file: str, warc_dir: str | None, as_json: bool,
              run_id: int | None, trigger: str, overrides: tuple[str, ...], verbose: int, redis_url: str | None,
              db: str | None) -> None:
    """Crawl the named sources (default: every enabled one) and print what each run did.

    Exit code 0 when every run is ok, 1 when one failed, 128+N after signal N (SIGTERM: 143).
    With --redis the fetching is the workers' (`akhbar worker --redis URL`); this command queues the
    start requests and records each run from what the workers count.
    """
    from crawler.crawl import REPORT_FIELDS, crawl  # here: Scrapy and the extractor load slowly

    if run_id is not None and len(names) != 1:
        raise click.UsageError("--run-id needs exactly one SOURCE")
    sources = _pick_sources(sources_file, names)
    if not sources:
        raise SourcesError(f"{sources_file}: no enabled source to crawl")
    url = archive_url(ctx, db)
    level = ("WARNING", "INFO", "DEBUG")[min(verbose, 2)]
    settings = _overrides(overrides)
    run_ids = {sources[0].name: run_id} if run_id is not None else None
    if redis_url:
        from crawler.dispatch import crawl_shared
        from storage.runs import HEARTBEAT_SECONDS

        interval = float(settings.get("AKHBAR_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
        report = crawl_shared(sources, redis_url, db_url=url, trigger=trigger, run_ids=run_ids, interval=interval)
    else:
        report = crawl(sources, db_url=url, warc_dir=warc_dir, settings=settings, run_ids=run_ids,
                       trigger=trigger, log_level=level)
    if as_json:
        echo_json([{key: run[key] for key in REPORT_FIELDS} for run in report.runs])
    else:
        for run in report.runs:
            errors = sum(run["errors"].values())
            click.echo(f"{run['source']}: {run['outcome']} (run {run['run_id']}) - fetched {run['pages_fetched']}, "
                       f"not modified {run['not_modified']}, new {run['articles_new']}, "
                       f"duplicate {run['articles_duplicate']}, rejected {run['articles_rejected']}, "
                       f"already archived {run['skipped_seen']}, errors {errors}, bytes {run['bytes']}")
    for run in report.runs:
        if run["outcome"] != "ok" and run.get("message"):
            say_error(f"{run['source']}: {run['message']}")
    sys.stdout.flush()
    ctx.exit(report.exit_code)


@click.command("runs")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of runs.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--source", default=None, help="Only the runs of this source.")
@db_option
@click.pass_context
def runs_cmd(ctx: click.Context, as_json: bool, limit: int, source: str | None, db: str | None) -> None:
    """List crawl runs, newest first: when, how they ended, and what they did."""
    from storage.runs import list_runs
    from storage.shapes import run_json

    with archive_session(ctx, db, create=False) as session:
        settle_dead_runs(session)
        runs = [run_json(r) for r in list_runs(session, limit=limit, source=source)]
    if as_json:
        echo_json(runs)
        return
    if not runs:
        click.echo("no crawl runs")
    for r in runs:
        errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
        click.echo(f"[{r['id']}] {r['source']} {r['outcome']} ({r['trigger']}) {r['started_at']} -> "
                   f"{r['finished_at'] or '...'}")
        click.echo(f"     fetched {r['pages_fetched']}, not modified {r['not_modified']}, new {r['articles_new']}, "
                   f"duplicate {r['articles_duplicate']}, rejected {r['articles_rejected']}, "
                   f"already archived {r['skipped_seen']}, bytes {r['bytes']}; errors: {errors}")
        if r["message"]:
            click.echo(f"     {r['message']}")
