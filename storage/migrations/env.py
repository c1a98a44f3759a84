"""Alembic environment for the akhbar archive.

At run time :func:`storage.db.upgrade` passes an open connection in
``config.attributes["connection"]`` and this script migrates over it.  Used from the
``alembic`` command line (for example to write a new revision with ``--autogenerate``), it
connects to ``sqlalchemy.url`` from the configuration, or else to :func:`storage.db.resolve_url`.

New tables arrive as NEW revision files in ``versions/`` (``0002_...py`` and so on), never as
edits to an applied one.  SQLite migrations run in batch mode so columns can be altered later.
"""
from __future__ import annotations

from typing import Any

from alembic import context

from storage.db import include_object, make_engine, resolve_url
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit the migration SQL (``alembic upgrade --sql``) without a database."""
    _configure(url=config.get_main_option("sqlalchemy.url") or resolve_url(None), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the caller's connection, or over a fresh one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or resolve_url(None))
    try:
        with engine.connect() as fresh:
            _configure(connection=fresh)
            with context.begin_transaction():
                context.run_migrations()
            fresh.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
