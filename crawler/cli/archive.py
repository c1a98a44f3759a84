"""The ``akhbar show`` and ``akhbar stats`` commands: read what the archive holds (they create nothing)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from crawler.cli.support import archive_session, db_option, echo_json
from crawler.core.errors import NotFound


@click.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.option("--versions", "show_versions", is_flag=True, help="Show its versions, with a word diff between each and the next.")
@click.option("--copies", "show_copies", is_flag=True, help="Show the other articles of its near-duplicate cluster.")
@db_option
@click.pass_context
def show_cmd(ctx: click.Context, ref: str, as_json: bool, show_versions: bool, show_copies: bool,
             db: str | None) -> None:
    """Show one stored article, by id or by any URL it was seen at (tracking parameters and
    other variants of the URL the crawler ignores do not matter)."""
    from storage.archive import get_article
    from storage.shapes import article_json

    key: int | str = int(ref) if ref.isascii() and ref.isdigit() else ref
    with archive_session(ctx, db, create=False) as session:
        record = get_article(session, key)
        if record is None:
            raise NotFound(f"no article {ref!r} in the archive")
        data = article_json(session, record)
    if as_json:
        echo_json(data)
        return
    if show_versions or show_copies:
        click.echo(f"[{data['id']}] {data['title'] or '(untitled)'}")
        for line in (version_lines(data) if show_versions else []) + (copy_lines(data) if show_copies else []):
            click.echo(line)
        return
    print_article(data)


def version_lines(data: dict[str, Any]) -> list[str]:
    """The chain of versions, each after the first with its word diff from the one before."""
    from crawler.core.worddiff import word_diff

    lines: list[str] = []
    previous: dict[str, Any] | None = None
    for v in data["versions"]:
        mark = " (current)" if v["current"] else ""
        lines.append(f"version {v['version']}{mark}: fetched {v['fetched_at']}, modified {v['modified'] or '-'}, "
                     f"extractor {v['extractor_version'] or 'unknown'}, re-extracted {v['reextractions']}x")
        if previous is not None:
            if v["title"] != previous["title"]:
                lines.append(f"  title: {word_diff(previous['title'] or '', v['title'] or '')}")
            lines.append(f"  {word_diff(previous['text'] or '', v['text'] or '') or '(same words)'}")
        previous = v
    return lines


def copy_lines(data: dict[str, Any]) -> list[str]:
    """The cluster and its other articles: outlet, date, similarity."""
    from storage.shapes import iri

    cluster = data["cluster"]
    if cluster is None:
        return ["cluster: none"]
    lines = [f"cluster {cluster['id']}: {cluster['size']} article(s); this one {cluster['similarity']:.2f} "
             "similar to the first"]
    for c in data["copies"]:
        similarity = f"{c['similarity']:.2f}" if c["similarity"] is not None else "-"
        lines.append(f"  [{c['id']}] {c['source'] or '-'}  {c['published'] or c['first_seen']}  {similarity}  {iri(c['url'])}")
    return lines


def print_article(data: dict[str, Any]) -> None:
    """An article as text: its header lines, readable URLs, then the text as stored."""
    from storage.shapes import iri

    click.echo(f"[{data['id']}] {data['title'] or '(untitled)'}")
    click.echo(f"published: {data['published'] or '-'} ({data['date_source'] or 'no date found'})")
    for label in ("section", "author", "lang", "source"):
        if data[label]:
            click.echo(f"{label + ':':<11}{data[label]}")
    click.echo(f"seen {data['times_seen']}x, first {data['first_seen']}, last {data['last_seen']}")
    for u in data["urls"]:
        click.echo(f"url:       {iri(u)}")
    click.echo("")
    click.echo(data["text"])


@click.command("stats")
@click.option("--sources", "sources_file", default="sources.toml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The sources file whose sources are counted as configured (skipped if the default is absent).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@db_option
@click.pass_context
def stats_cmd(ctx: click.Context, sources_file: Path, as_json: bool, db: str | None) -> None:
    """Counts of what the archive holds, and of the sources configured."""
    from storage.archive import stats

    configured = _configured(ctx, sources_file)
    with archive_session(ctx, db, create=False) as session:
        data = stats(session)
    data["sources_configured"] = configured
    data["sources_file"] = str(sources_file) if configured is not None else None
    if as_json:
        echo_json(data)
        return
    for line in stats_lines(data):
        click.echo(line)


def _configured(ctx: click.Context, sources_file: Path) -> int | None:
    """How many sources the file configures; ``None`` when the default file is not there."""
    from crawler.core.sources import load_sources

    if ctx.get_parameter_source("sources_file") == ParameterSource.DEFAULT and not sources_file.exists():
        return None
    return len(load_sources(sources_file))


def _breakdown(counts: dict[str, int]) -> str:
    return f"  ({', '.join(f'{key} {n}' for key, n in counts.items())})" if counts else ""


def stats_lines(data: dict[str, Any]) -> list[str]:
    """The counts as readable lines (``by_lang`` and ``documents_by_outcome`` inline)."""
    sources = f"{data['sources']} with pages in the archive"
    if data.get("sources_configured") is not None:
        sources += f"; {data['sources_configured']} configured in {data['sources_file']}"
    return [
        f"articles:   {data['articles']}{_breakdown(data['by_lang'])}",
        f"urls:       {data['urls']}",
        f"documents:  {data['documents']}{_breakdown(data['documents_by_outcome'])}",
        f"sources:    {sources}",
    ]
