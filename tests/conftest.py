"""Shared pytest fixtures.

``sitefixture`` is imported from this folder, which pytest puts on ``sys.path`` for the
conftest of a test folder without ``__init__.py`` (its default "prepend" import mode).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sitefixture import FixtureSite


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    """A fresh copy of the Arabic fixture site on http://127.0.0.1:<ephemeral port>."""
    with FixtureSite() as site:
        yield site
