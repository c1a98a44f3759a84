"""What every ``akhbar`` command module shares: the --db option, an archive session, JSON output,
and the group that turns every error into one line ``akhbar: <message>``.

An :class:`~crawler.core.errors.AkhbarError` (and click's own usage errors) is something to tell
the user; any other exception is a bug, shown as ``akhbar: internal error: ...`` with exit code 1,
its traceback only under ``akhbar --debug`` or ``AKHBAR_DEBUG=1``.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from crawler.core.errors import AkhbarError, os_reason

DB_HELP = "Archive database URL or SQLite file (default: $AKHBAR_DB, else archive.db)."
DEBUG_ENV = "AKHBAR_DEBUG"
PREFIX = "akhbar: "
#: Exit code after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def say_error(message: str) -> None:
    """Print one error line on stderr, with akhbar's one prefix."""
    lines = str(message).strip().splitlines()
    click.echo(PREFIX + (lines[0] if lines else "error"), err=True)


def debugging(ctx: click.Context | None) -> bool:
    """Whether ``--debug`` was given to the group or ``AKHBAR_DEBUG`` is set (to anything but 0/empty)."""
    if ctx is not None and ctx.find_root().params.get("debug"):
        return True
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def _usage_line(exc: click.UsageError) -> str:
    where = exc.ctx.command_path if exc.ctx is not None else "akhbar"
    return f"{exc.format_message()} (see '{where} --help')"


class AkhbarGroup(click.Group):
    """The ``akhbar`` group: every failure ends as one line on stderr and a non-zero exit code."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            say_error(_usage_line(exc))
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            say_error(exc.format_message())
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            say_error("interrupted")
            sys.exit(INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`akhbar runs | head`): stop quietly, as Unix tools do.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
            ctx.exit(0)
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None
        except Exception as exc:
            if debugging(ctx):
                raise
            raise click.ClickException(error_line(exc)) from None


def error_line(exc: Exception) -> str:
    """The one line a user sees for ``exc``: its own message when akhbar raised it on purpose (or
    the system refused a file), else an internal error."""
    if isinstance(exc, AkhbarError):
        return exc.one_line()
    if isinstance(exc, OSError) and exc.errno is not None:
        name = exc.filename if exc.filename is not None else None
        return f"{name}: {os_reason(exc)}" if name else os_reason(exc)
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return f"internal error: {detail} (run with --debug for the traceback)"


def db_option(fn: Any) -> Any:
    return click.option("--db", "db", default=None, metavar="URL", help=DB_HELP)(fn)


def archive_url(ctx: click.Context, db: str | None) -> str:
    """The archive's URL: the command's ``--db``, else the group's, else ``$AKHBAR_DB``, else the default."""
    from storage.db import resolve_url  # here: storage loads slowly (Alembic)

    return resolve_url(db or ctx.find_root().params.get("db"))


def archive_exists(ctx: click.Context, db: str | None) -> bool:
    """Whether there is an archive to read: a SQLite file that exists (other databases: assumed)."""
    from storage.db import sqlite_file

    path = sqlite_file(archive_url(ctx, db))
    return path is None or path.is_file()


def settle_dead_runs(session: Session) -> None:
    """:func:`storage.scheduling.settle_dead_runs`: the next command that opens the archive closes the
    runs of killed crawls."""
    from storage.scheduling import settle_dead_runs as settle

    settle(session)


@contextmanager
def archive_session(ctx: click.Context, db: str | None, *, create: bool = True) -> Iterator[Session]:
    """A session on the chosen archive; the schema is created or upgraded on first use.

    Read-only commands pass ``create=False``: where there is no archive they say so and create
    nothing.  Database errors inside the block are one-line :class:`ArchiveError` messages."""
    from storage.db import archive_errors, open_engine

    url = archive_url(ctx, db)
    engine = open_engine(url, create=create)
    try:
        with archive_errors(url), Session(engine) as session:
            yield session
    finally:
        engine.dispose()
