"""``akhbar search``, ``count`` and ``export``: the archive read like a researcher reads it.

Thin: options become a :class:`storage.search.Filters`, the library does the work.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from crawler.cli.support import archive_session, db_option, echo_json

SYNTAX = """\b
Query syntax:
  حكومة موازنة          both words (AND is implied)
  "مجلس الأمن"          the exact phrase
  لبنان OR سوريا        either word
  -سوريا, NOT سوريا     without the word (beside a word that must match)
  انتخاب*               words beginning so
  (لبنان OR سوريا) قمة  grouping
  title:قمة             in the title (body: in the text); title:"..." too
Operators are written in capitals. Spelling (hamza, alef, taa marbuta, yaa), diacritics and
tatweel do not matter; a word matches with any proclitics (و ف ب ك ل ال: والحكومة, بالحكومة,
للحكومة) and, ranked below, in other light forms (الحكومات for الحكومة)."""


def filter_options(fn):
    """The filters every reading command shares."""
    for option in reversed(
        [
            click.option("--source", "sources", multiple=True, help="Only this source (repeat for several)."),
            click.option("--since", default=None, metavar="YYYY-MM-DD", help="Published on or after this day."),
            click.option("--until", default=None, metavar="YYYY-MM-DD", help="Published on or before this day."),
            click.option("--lang", default=None, help="Only articles in this language (ar, fa, en...)."),
            click.option("--section", default=None, help="Only articles in this section (exact)."),
            click.option("--author", default=None, help="Only articles whose author contains this text."),
        ]
    ):
        fn = option(fn)
    return fn


def make_filters(sources: tuple[str, ...], since: str | None, until: str | None, lang: str | None,
                 section: str | None, author: str | None):
    from storage.search import Filters, parse_day

    return Filters(
        sources=tuple(sources),
        since=parse_day(since, "--since"),
        until=parse_day(until, "--until"),
        lang=lang,
        section=section,
        author=author,
    )


def collapse_option(fn):
    """``--no-collapse``: every article, not one hit (or count) per story."""
    return click.option("--collapse/--no-collapse", default=True, show_default=True,
                        help="One hit per story: near-duplicate copies folded into the first.")(fn)


@click.command("search", epilog=SYNTAX)
@click.argument("query", default="")
@filter_options
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1), help="Which page of hits.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one JSON hit per line.")
@collapse_option
@db_option
@click.pass_context
def search_cmd(ctx: click.Context, query: str, sort: str, limit: int, page: int, as_json: bool, as_jsonl: bool,
               collapse: bool, db: str | None, **filters: Any) -> None:
    """Full-text search of the archive (see the query syntax below).  The copies of one story
    (near-duplicates, from any outlet) are one hit, with how many copies and outlets it has."""
    from storage.collapse import search_stories
    from storage.search import search  # here (as every storage import): SQLAlchemy and Alembic load slowly
    from storage.shapes import hits_json

    with archive_session(ctx, db, create=False) as session:
        find = search_stories if collapse else search
        found = find(session, query, limit=limit, offset=(page - 1) * limit, sort=sort, filters=make_filters(**filters))
        hits = hits_json(found)
    if as_json:
        echo_json(hits)
        return
    if as_jsonl:
        for h in hits:
            click.echo(json.dumps(h, ensure_ascii=False, default=str))
        return
    print_hits(hits, scored=sort == "relevance")


def print_hits(hits: list[dict[str, Any]], *, scored: bool = True) -> None:
    """Hits as text: title, date, outlet and score; the readable URL; the snippet on one line."""
    from storage.shapes import iri

    if not hits:
        click.echo("no match")
    for h in hits:
        score = f"  (score {h['score']:.2f})" if scored and h["score"] is not None else ""
        click.echo(f"[{h['id']}] {h['title'] or '(untitled)'}  {h['published'] or ''}  {h['source'] or ''}{score}"
                   f"{copies_note(h)}")
        click.echo(f"     {iri(h['url']) or '-'}")
        click.echo(f"     {h['snippet']}")


def copies_note(hit: dict[str, Any]) -> str:
    """``  +2 copies, 3 outlets`` for a hit standing for several articles; nothing for one."""
    others = hit["copies"] - 1
    if others < 1:
        return ""
    outlets = hit["outlets"]
    return f"  +{others} cop{'y' if others == 1 else 'ies'}, {outlets} outlet{'' if outlets == 1 else 's'}"


@click.command("count", epilog=SYNTAX)
@click.argument("query", default="")
@filter_options
@click.option("--by", type=click.Choice(["day", "week", "month", "source", "section"]), default="month", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {key, count}.")
@collapse_option
@db_option
@click.pass_context
def count_cmd(ctx: click.Context, query: str, by: str, as_json: bool, collapse: bool, db: str | None,
              **filters: Any) -> None:
    """How many stories match (the hits `search` shows; --no-collapse: articles), per day, week,
    month, source or section; a story counts once, where its oldest matching copy falls.  An empty
    query counts all."""
    from storage.collapse import count_stories
    from storage.search import count

    with archive_session(ctx, db, create=False) as session:
        rows = (count_stories if collapse else count)(session, query, by=by, filters=make_filters(**filters))
    if as_json:
        echo_json([{"key": key, "count": n} for key, n in rows])
        return
    click.echo(count_table(rows, bars=sys.stdout.isatty()), nl=False)


#: Width of the longest bar of ``count`` on a terminal.
BAR_WIDTH = 40


def count_table(rows: list[tuple[str | None, int]], *, bars: bool, width: int | None = None) -> str:
    """``key  count`` lines (``-`` for no key), with a bar scaled to the largest count when ``bars``."""
    if not rows:
        return "no match\n"
    labels = [key if key is not None else "-" for key, _ in rows]
    pad = max(map(len, labels))
    digits = max(len(str(n)) for _, n in rows)
    top = max(n for _, n in rows) or 1
    if width is None:
        width = max(10, min(BAR_WIDTH, shutil.get_terminal_size().columns - pad - digits - 4))
    out = io.StringIO()
    for label, (_, n) in zip(labels, rows):
        line = f"{label:<{pad}}  {n:>{digits}}"
        if bars:
            line += " " + "█" * max(1 if n else 0, round(n * width / top))
        out.write(line + "\n")
    out.write(f"{'total':<{pad}}  {sum(n for _, n in rows):>{digits}}\n")
    return out.getvalue()


@click.command("export", epilog=SYNTAX)
@click.argument("query", default="")
@filter_options
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "warc"]), default="jsonl", show_default=True,
              help="warc: the raw captures as FILE.warc.gz, with a CDXJ index FILE.cdxj beside it (needs --out).")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--bom", is_flag=True, help="Start a CSV with a UTF-8 byte order mark (for Excel).")
@click.option("--json", "as_json", is_flag=True, help="With --out: print the export's summary as JSON on stdout.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="oldest", show_default=True)
@click.option("--warc-root", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where relative WARC paths of the archive lie (default: the current folder).")
@db_option
@click.pass_context
def export_cmd(ctx: click.Context, query: str, fmt: str, out: Path | None, bom: bool, as_json: bool, sort: str,
               warc_root: Path | None, db: str | None, **filters: Any) -> None:
    """Write every matching article (an empty query: every article) as JSONL or CSV, streaming;
    or their raw captures as WARC with a CDXJ index (--format warc)."""
    from crawler.core.errors import InputError
    from storage.search import export_rows

    if as_json and out is None:
        raise InputError("--json reports an export written with --out (without it, stdout carries the data)")
    if fmt == "warc":
        _export_warc(ctx, query, out, sort, warc_root, db, filters, as_json)
        return
    with archive_session(ctx, db, create=False) as session:
        rows = export_rows(session, query, filters=make_filters(**filters), sort=sort)
        if out is None:
            written = write_export(rows, click.get_text_stream("stdout", encoding="utf-8"), fmt, bom=bom)
        else:
            try:
                handle = out.open("w", encoding="utf-8", newline="")
            except OSError as exc:
                raise click.ClickException(f"{out}: {exc.strerror or exc}") from None
            with handle:
                progress = _progress if sys.stderr.isatty() else None
                written = write_export(rows, handle, fmt, bom=bom, progress=progress)
    if as_json:
        click.echo(json.dumps({"format": fmt, "out": str(out), "articles": written}, ensure_ascii=False))
    elif out is not None:
        click.echo(f"exported {written} articles to {out}", err=True)


def _export_warc(ctx: click.Context, query: str, out: Path | None, sort: str, warc_root: Path | None,
                 db: str | None, filters: dict[str, Any], as_json: bool = False) -> None:
    from crawler.core.errors import InputError
    from storage.warcexport import cdxj_path, export_warc

    if out is None or not out.name.endswith(".warc.gz"):
        raise InputError("--format warc needs --out FILE.warc.gz (the CDXJ index is written beside it)")
    with archive_session(ctx, db, create=False) as session:
        try:
            report = export_warc(session, query, out, filters=make_filters(**filters), sort=sort, warc_root=warc_root,
                                 progress=_progress if sys.stderr.isatty() else None)
        except OSError as exc:
            raise InputError(f"{exc.filename or out}: {exc.strerror or exc}") from None
    if sys.stderr.isatty():
        click.echo("", err=True)
    if as_json:
        click.echo(json.dumps({"format": "warc", "out": str(out), "index": str(cdxj_path(out)),
                               "articles": report.articles, "records": report.records,
                               "unreadable": report.unreadable}, ensure_ascii=False))
        return
    skipped = f" ({report.unreadable} unreadable, left out)" if report.unreadable else ""
    click.echo(f"exported {report.records} captures of {report.articles} articles to {out} "
               f"(index {cdxj_path(out)}){skipped}", err=True)


def _progress(n: int) -> None:
    click.echo(f"\rexported {n}", nl=False, err=True)


def write_export(rows, stream: TextIO, fmt: str, *, bom: bool = False, progress=None, every: int = 1000) -> int:
    """Write ``rows`` (dicts of :data:`storage.search.EXPORT_FIELDS`) to ``stream``; returns how many."""
    from storage.search import EXPORT_FIELDS

    written = 0
    writer = None
    if fmt == "csv":
        if bom:
            stream.write("\ufeff")
        writer = csv.DictWriter(stream, fieldnames=EXPORT_FIELDS, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writeheader()
    for row in rows:
        if writer is not None:
            writer.writerow({**row, "tags": "; ".join(row["tags"])})
        else:
            stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        written += 1
        if progress and written % every == 0:
            progress(written)
    if progress:
        progress(written)
        click.echo("", err=True)
    stream.flush()
    return written
