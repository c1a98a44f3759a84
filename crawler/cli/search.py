"""The ``akhbar search`` command: full-text search of the archive, printed as text or JSON."""
from __future__ import annotations

import click

from crawler.cli.support import archive_session, db_option, echo_json


@click.command("search")
@click.argument("query")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
@db_option
@click.pass_context
def search_cmd(ctx: click.Context, query: str, limit: int, as_json: bool, db: str | None) -> None:
    """Full-text search; spelling variants, diacritics and a leading و/ال do not matter.

    Each hit shows its score as a share of the best hit's (1.00 for the best)."""
    from storage.search import search
    from storage.shapes import hits_json

    with archive_session(ctx, db, create=False) as session:
        hits = hits_json(search(session, query, limit=limit))
    if as_json:
        echo_json(hits)
        return
    print_hits(hits)


def print_hits(hits: list[dict]) -> None:
    """Hits as text: title, date and score; the readable URL; the snippet on one line."""
    from storage.shapes import iri

    if not hits:
        click.echo("no match")
    for h in hits:
        click.echo(f"[{h['id']}] {h['title'] or '(untitled)'}  {h['published'] or ''}  "
                   f"(score {h['score']:.2f})")
        click.echo(f"     {iri(h['url']) or '-'}")
        click.echo(f"     {h['snippet']}")
