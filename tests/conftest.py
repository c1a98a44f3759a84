"""Shared pytest fixtures.

``sitefixture`` and ``pgserver`` are imported from this folder, which pytest puts on ``sys.path``
for the conftest of a test folder without ``__init__.py`` (its default "prepend" import mode).

``redis_server`` is a throw-away redis-server (:mod:`redisserver`) for the distributed crawl's tests,
skipped with the reason when redis-server cannot be started (failed under CI).

``db_url`` runs a test on both archives: a fresh SQLite file and a fresh PostgreSQL database
(on the session's throw-away server, :mod:`pgserver`).  Without PostgreSQL installed the
PostgreSQL cases are skipped with the reason, except under CI (``CI=true``), where they fail.
"""
from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from pgserver import PgServer, find_bindir
from redisserver import RedisServer, find_redis
from sitefixture import FixtureSite


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    """A fresh copy of the Arabic fixture site on http://127.0.0.1:<ephemeral port>."""
    with FixtureSite() as site:
        yield site


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole test session (skipped when PostgreSQL is not installed)."""
    bindir = find_bindir()
    if bindir is None:
        _unavailable("PostgreSQL is not installed (apt-get install postgresql, or set PG_BINDIR)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    assert bindir is not None
    server = PgServer(bindir)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        _unavailable(f"PostgreSQL could not be started: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = pg_server.create_database()
    engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    def remember(connection: object) -> None:
        engines.add(connection.engine)  # type: ignore[attr-defined]

    event.listen(Engine, "engine_connect", remember)
    try:
        yield url
    finally:
        event.remove(Engine, "engine_connect", remember)
        for engine in list(engines):  # a test's engines left open would hold the database
            engine.dispose()
        pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty archive database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """As ``db_url``, one archive for a whole test module (for the tests that only read it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('archive') / 'archive.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)  # WITH (FORCE): engines a test left open do not hold it


#: The fixtures whose "postgresql" case runs on the PostgreSQL server.
_ENGINE_FIXTURES = ("db_url", "module_db_url")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that runs on the PostgreSQL server is end to end (a real server, a database made and
    dropped per test): ``pytest -m "not e2e"`` stays the fast loop on SQLite."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgresql = callspec is not None and any(callspec.params.get(f) == "postgresql" for f in _ENGINE_FIXTURES)
        if on_postgresql or "pg_url" in getattr(item, "fixturenames", ()) or "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)



@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server for the whole test session (skipped when it is not installed or cannot start)."""
    binary = find_redis()
    if binary is None:
        _unavailable("redis-server is not installed (apt-get install redis-server)")
    try:
        import redis  # noqa: F401
        import scrapy_redis  # noqa: F401
    except ImportError:
        _unavailable("the redis driver or scrapy-redis is not installed (pip install redis scrapy-redis)")
    assert binary is not None
    server = RedisServer(binary)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        _unavailable(f"redis-server could not be started: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The URL of an empty redis database (the server's is flushed after the test)."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    try:
        yield redis_server.url
    finally:
        client.flushall()
        client.close()
