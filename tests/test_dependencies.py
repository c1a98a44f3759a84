"""pyproject.toml states ranges (so akhbar installs beside other tools); requirements.lock pins one
tested version of everything, trafilatura's own dependencies included (their versions change
extraction output); and `make install` / `make test` install from the lock."""
from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _declared() -> list[Requirement]:
    extras = PROJECT.get("optional-dependencies", {}).values()
    return [Requirement(line) for line in [*PROJECT["dependencies"], *(d for extra in extras for d in extra)]]


def _lock() -> dict[str, str]:
    """name -> pinned version, from requirements.lock; every requirement line must be an exact pin."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)(?:\s*;\s*\S.*)?", line)  # a marker may follow
        assert match, f"requirements.lock: not an exact pin: {line!r}"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_pyproject_gives_ranges_not_pins():
    for requirement in _declared():
        operators = {spec.operator for spec in requirement.specifier}
        assert ">=" in operators and "==" not in operators, f"{requirement}: give a lower bound, not a pin"


def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range():
    pins = _lock()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock (run `make lock`)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement} (run `make lock`)")


def test_the_lock_is_closed_over_the_dependencies_of_what_it_pins():
    """What a locked package needs (trafilatura's courlan, htmldate, justext, ...) is locked too.
    Read from the installed distributions that have the locked version (all of them after `make test`)."""
    pins = _lock()
    assert {"courlan", "htmldate", "justext", "lxml"} <= set(pins)
    checked = 0
    for name, version in pins.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != version:
            continue
        checked += 1
        for line in dist.requires or []:
            needed = Requirement(line)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                assert canonicalize_name(needed.name) in pins, f"{name} needs {needed.name}, not in requirements.lock"
    assert checked >= len(pins) // 2, "most locked versions should be the installed ones (install from the lock)"


def test_make_install_and_test_install_from_the_lock():
    for target in ("install", "test"):
        plan = subprocess.run(["make", "--no-print-directory", "-n", target, "PYTHON=python3"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
        assert "pip install" in plan and "-r requirements.lock" in plan, plan
        assert "--no-deps -e ." in plan, plan
