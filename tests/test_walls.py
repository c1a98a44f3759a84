"""The walls between akhbar's layers (pyproject.toml, [tool.importlinter]) hold, and they bite.

import-linter reads every import, those inside functions too: a wall cannot be got round by
hiding an import in a function.  The second test breaks a copy of the code on purpose and
checks that the contracts notice.
"""
from __future__ import annotations

import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import crawler

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "spiders", "storage")
CONTRACTS = {"core", "capture", "storage", "web", "spiders", "layers", "acyclic"}


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the code at ``root`` (its own copies of the packages importable first)."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "400", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root, env=env, capture_output=True, text=True, timeout=240)


def verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT / BROKEN, from lint-imports' report."""
    return dict(re.findall(r"^(.+?) (KEPT|BROKEN)$", output, re.MULTILINE))


def contract_names() -> dict[str, str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c["name"] for c in config["tool"]["importlinter"]["contracts"]}


def test_the_walls_hold():
    assert set(contract_names()) == CONTRACTS
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    found = verdicts(result.stdout)
    assert set(found) == set(contract_names().values()) and set(found.values()) == {"KEPT"}


def test_every_crawler_module_has_its_place_in_the_layers():
    """A new module of crawler/ must be put in a layer, or the walls would not see it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    placed = {name.strip() for layer in layers["layers"] for name in re.split(r"[:|]", layer)}
    modules = {f"crawler.{m.name}" for m in pkgutil.iter_modules(crawler.__path__)}
    assert modules <= placed, sorted(modules - placed)


def test_a_forbidden_import_breaks_the_walls(tmp_path):
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    names = contract_names()
    clean = lint_imports(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr  # the copy itself keeps them

    core = tmp_path / "crawler" / "core" / "arabic.py"
    core.write_text(core.read_text(encoding="utf-8") + "\n\ndef _hidden():\n    import sqlalchemy\n", encoding="utf-8")
    spider = tmp_path / "spiders" / "feed.py"
    spider.write_text(spider.read_text(encoding="utf-8") + "\nfrom storage import archive\n", encoding="utf-8")
    web = tmp_path / "crawler" / "web" / "views.py"  # the web app must not reach the crawl
    web.write_text(web.read_text(encoding="utf-8") + "\n\ndef _crawl():\n    import crawler.ingest\n", encoding="utf-8")
    archive = tmp_path / "storage" / "archive.py"  # storage.runs imports storage.archive: a cycle
    archive.write_text(archive.read_text(encoding="utf-8") + "\n\ndef _late():\n    import storage.runs\n", encoding="utf-8")
    broken = lint_imports(tmp_path)
    assert broken.returncode != 0
    found = verdicts(broken.stdout)
    assert {k for k, v in names.items() if found[v] == "BROKEN"} == {"core", "spiders", "web", "acyclic"}, broken.stdout
    assert "crawler.core.arabic -> sqlalchemy" in broken.stdout
