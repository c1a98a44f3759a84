"""What every ``akhbar`` command module shares: the --db option, an archive session, JSON output,
and the group that turns library errors into one-line messages."""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

DB_HELP = "Archive database URL (default: $AKHBAR_DB, else sqlite:///archive.db)."


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=1, default=str))


class AkhbarGroup(click.Group):
    """Turns any library error into a one-line message and a non-zero exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # The reader went away (`akhbar runs | head`): stop quietly, as Unix tools do.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
            ctx.exit(0)
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"archive error: {str(exc.orig if getattr(exc, 'orig', None) else exc).splitlines()[0]}") from None
        except (OSError, ValueError) as exc:
            raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def db_option(fn):
    return click.option("--db", "db", default=None, help=DB_HELP)(fn)


def archive_url(ctx: click.Context, db: str | None) -> str:
    """The archive's URL: the command's ``--db``, else the group's, else ``$AKHBAR_DB``, else the default."""
    from storage.db import resolve_url  # here: storage loads slowly (Alembic)

    return resolve_url(db or ctx.find_root().params.get("db"))


@contextmanager
def archive_session(ctx: click.Context, db: str | None):
    """A session on the chosen archive; the schema is created or upgraded on first use."""
    from storage.db import open_engine  # here: storage loads slowly (Alembic)

    engine = open_engine(archive_url(ctx, db))
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
