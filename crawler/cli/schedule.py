"""The ``akhbar schedule`` and ``akhbar sources`` commands (the daemon itself is :mod:`scheduler`)."""
from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from crawler.cli.support import archive_exists, archive_session, archive_url, db_option, echo_json, settle_dead_runs
from crawler.core.sources import load_sources, parse_interval

SOURCES_HELP = "The sources file."


def _duration(_ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_interval(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@click.command("schedule")
@click.option("--sources", "sources_file", default="sources.toml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help=SOURCES_HELP)
@click.option("--time-limit", default="1h", show_default=True, callback=_duration,
              help="Stop a crawl that runs longer than this (outcome 'timeout').")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64), help="Crawls at the same time.")
@click.option("--lease", default="60s", show_default=True, callback=_duration,
              help="How long a source stays claimed without renewal (renewed every quarter of it).")
@click.option("--stop-grace", default="10s", show_default=True, callback=_duration,
              help="On stop or time limit, how long a crawl has to finish after SIGTERM before SIGKILL.")
@click.option("--set", "crawl_settings", multiple=True, metavar="KEY=VALUE",
              help="A Scrapy or akhbar setting for every crawl (as `akhbar crawl --set`); repeatable.")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Hand each due crawl to `akhbar worker`s through this redis instead of running it here.")
@db_option
@click.pass_context
def schedule_cmd(ctx: click.Context, sources_file: Path, time_limit: timedelta, workers: int, lease: timedelta,
                 stop_grace: timedelta, crawl_settings: tuple[str, ...], redis_url: str | None, db: str | None) -> None:
    """Run the scheduler in the foreground: crawl every enabled source on its own adaptive schedule.

    Each run is one log line.  Ctrl-C or SIGTERM stops it cleanly (crawls in flight keep what
    they fetched).  Run one per archive; a second one on the same archive never crawls a source
    the first is crawling (leases in the database).  With --redis the crawls are the workers'
    (`akhbar worker --redis URL`); each run is recorded here from what they count."""
    from scheduler import Settings, run_daemon  # here: APScheduler loads slowly

    load_sources(sources_file)  # a broken file is one line before anything starts
    if redis_url:
        from crawler.distributed import connect

        connect(redis_url).close()  # an unreachable redis is one line too
    for pair in crawl_settings:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s akhbar: %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")
    logging.getLogger("akhbar.scheduler").setLevel(logging.INFO)
    settings = Settings(sources_file=sources_file.resolve(), db_url=archive_url(ctx, db), time_limit=time_limit,
                        lease=lease, stop_grace=stop_grace, workers=workers, crawl_settings=crawl_settings,
                        redis_url=redis_url or "")
    run_daemon(settings)


def _ago(seconds: float | None) -> str:
    """``15m``, ``1h30m``, ``7.5s``: an interval for the text listing."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.3g}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value)


def _line(entry: dict[str, Any]) -> list[str]:
    interval = _ago(entry["interval_seconds"])
    current = entry["current_interval_seconds"]
    if current and round(current) != round(entry["interval_seconds"]):
        interval += f" (now {_ago(current)})"
    status = entry["status"]
    if status == "failing":
        status = f"failing x{entry['consecutive_failures']}"
    next_run = f"next run {entry['next_run']}" if entry["next_run"] else "not scheduled yet"
    lines = [f"{entry['name']}: {status}, every {interval}, {next_run}"]
    last = entry["last_run"]
    ran = f"last run {last['id']} {last['outcome']} ({last['trigger']}) at {last['started_at']}; " if last else ""
    lines.append(f"    {ran}last success {entry['last_success'] or 'never'}; new articles in recent runs: "
                 f"{' '.join(map(str, entry['recent_new'])) or '-'}")
    if entry["last_error"]:
        lines.append(f"    last error {entry['last_error_at']}: {entry['last_error']}")
    quality = entry.get("quality")
    if quality and quality["pages"]:
        lines.append(f"    quality over {quality['pages']} pages: rejected {quality['rejected']:.0%}, "
                     f"no date {quality['no_date']:.0%}, no title {quality['no_title']:.0%}, "
                     f"short {quality['short_body']:.0%}, repeated lines {quality['repeated_lines']:.0%}, "
                     f"other language {quality['other_language']:.0%}")
    refetch = entry.get("refetch")
    if refetch:
        offsets = " ".join(_ago(seconds) for seconds in refetch["schedule_seconds"])
        schedule = f"re-fetch after {offsets}" if offsets else "no scheduled re-fetch"
        lines.append(f"    {schedule}, rejected pages retried {refetch['retry_rejected']}x: "
                     f"waiting re-fetch {refetch['waiting_refetch']}, waiting retry {refetch['waiting_retry']}, "
                     f"given up {refetch['given_up']}")
    lines += [f"    warning: {warning}" for warning in entry.get("warnings", [])]
    return lines


@click.command("sources")
@click.option("--sources", "sources_file", default="sources.toml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help=SOURCES_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per source.")
@db_option
@click.pass_context
def sources_cmd(ctx: click.Context, sources_file: Path, as_json: bool, db: str | None) -> None:
    """Each source's health: last success, last error, failures in a row, new articles in recent runs, next run.

    Health counts every crawl run, scheduled or manual.  Without an archive yet, every source is
    listed as never run (and no archive is created)."""
    from storage.scheduling import sources_health

    sources = load_sources(sources_file)
    if not archive_exists(ctx, db):
        health = sources_health(None, sources)
    else:
        with archive_session(ctx, db, create=False) as session:
            settle_dead_runs(session)
            health = sources_health(session, sources)
    if as_json:
        echo_json(health)
        return
    for entry in health:
        for line in _line(entry):
            click.echo(line)
