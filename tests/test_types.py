"""The pure core (crawler/core) type-checks under mypy's strict mode, as pyproject.toml configures it."""
from __future__ import annotations

import pytest

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e  # slow: a mypy run (make test runs mypy on everything anyway)
def test_the_core_passes_mypy_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), "crawler/core"],
        cwd=ROOT, capture_output=True, text=True, timeout=280,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
