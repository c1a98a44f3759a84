"""The README is the front door: its two set-up commands are the ones that exist, CI runs its test
command, and every `akhbar` command it shows is one the CLI has."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from crawler.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_set_up_section_gives_the_two_make_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make (\w+)", setup, re.MULTILINE)
    assert commands == ["run", "test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert ci == ["make test"]


def test_every_akhbar_command_the_readme_shows_exists():
    shown = set(re.findall(r"^akhbar (\w+)", README, re.MULTILINE))
    assert {"replay", "search", "show", "extract", "crawl", "schedule"} <= shown
    listing = CliRunner().invoke(main, ["--help"]).output
    for command in shown:
        assert re.search(rf"^\s+{command}\b", listing, re.MULTILINE), command


def test_each_section_appears_once():
    headings = re.findall(r"^#{1,3} .+$", README, re.MULTILINE)
    assert len(headings) == len(set(headings)) and len(headings) >= 8
