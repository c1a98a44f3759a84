"""``akhbar serve``: the archive in a browser and as a JSON API (read-only; :mod:`crawler.web`)."""
from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.support import archive_url, db_option


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (only this machine by default; 0.0.0.0 opens it to the network).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--warc-root", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where relative WARC paths of raw captures lie (default: the current folder).")
@db_option
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, warc_root: Path | None, db: str | None) -> None:
    """Serve the archive read-only: search and article pages at /, a JSON API at /api
    (described at /api/openapi.json)."""
    import uvicorn

    from crawler.web.app import create_app
    from storage.db import display_url

    url = archive_url(ctx, db)
    app = create_app(url, warc_root=warc_root)
    click.echo(f"akhbar: serving {display_url(url)} (read-only) at http://{host}:{port}/  (Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
