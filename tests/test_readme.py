"""The README is the front door: its two set-up commands are the ones that exist, CI runs its test
command, and every `akhbar` command it shows is one the CLI has."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import site
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from waiting import wait_until

from crawler.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_set_up_section_gives_the_two_make_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make (\w+)", setup, re.MULTILINE)
    assert commands == ["run", "test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert ci[-1] == "make test" and ci.count("make test") == 1
    # before it, only the installation of what the tests start (PostgreSQL, redis-server, chromium)
    installs = [line for line in ci[:-1] if "apt-get install" in line]
    assert len(installs) == 1 and {"postgresql", "redis-server", "chromium"} <= set(installs[0].split())
    assert all(line.startswith(("if ", "fi", "apt-get ")) for line in ci[:-1]), ci


def test_every_akhbar_command_the_readme_shows_exists():
    shown = set(re.findall(r"^akhbar (\w+)", README, re.MULTILINE))
    assert {"replay", "search", "show", "extract", "crawl", "schedule"} <= shown
    listing = CliRunner().invoke(main, ["--help"]).output
    for command in shown:
        assert re.search(rf"^\s+{command}\b", listing, re.MULTILINE), command


def test_each_section_appears_once():
    headings = re.findall(r"^#{1,3} .+$", README, re.MULTILINE)
    assert len(headings) == len(set(headings)) and len(headings) >= 8


def _path_without(command: str) -> str:
    """$PATH less every folder that holds ``command``."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not os.access(os.path.join(f, command), os.X_OK))


def _unreachable_sources(path: Path) -> None:
    """A sources file whose one feed is on a port of 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path.write_text(f'[[sources]]\nname = "nowhere"\nfeeds = ["http://127.0.0.1:{port}/feed.xml"]\ninterval = "1h"\n',
                    encoding="utf-8")


@pytest.mark.e2e
def test_make_run_works_with_a_venv_python_and_no_akhbar_on_path(tmp_path):
    """`make run PYTHON=.venv/bin/python` (the README's variant) in a folder with the seeds and a
    sources file: every step runs through that Python, none needs an `akhbar` on PATH.  The install
    steps are only checked (they need the package index); replay, search and schedule really run
    (the schedule on one unreachable source of 127.0.0.1, stopped by SIGINT once it has started)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The new venv sees what this interpreter has installed (a venv's --system-site-packages would
    # give the base Python's packages instead, when this interpreter is itself a venv's).
    (site_packages,) = venv.glob("lib/python3*/site-packages")
    (site_packages / "installed.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    python = str(venv / "bin" / "python")
    work = tmp_path / "work"
    shutil.copytree(ROOT / "seeds", work / "seeds")
    _unreachable_sources(work / "sources.toml")
    env = {**os.environ, "PATH": _path_without("akhbar"), "PYTHONPATH": str(ROOT)}
    assert shutil.which("akhbar", path=env["PATH"]) is None
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-f", str(ROOT / "Makefile"), "run", f"PYTHON={python}"],
                          cwd=work, env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    installs = [line for line in plan if " pip install " in line]
    replay, search, schedule = [line for line in plan if line not in installs]

    done = subprocess.run(replay + " --json", shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"stored": 3' in done.stdout and (work / "archive.db").exists()
    found = subprocess.run(search + " --json", shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0 and found.stdout.startswith("[") and '"url"' in found.stdout, found.stderr

    log = tmp_path / "schedule.log"
    with log.open("w") as err:
        daemon = subprocess.Popen(shlex.split(schedule), cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_until(lambda: "started: 1 source" in log.read_text() or daemon.poll() is not None, 60,
                   "the scheduler to start", report=log.read_text)
        daemon.send_signal(signal.SIGINT)
        assert daemon.wait(30) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert "stopped" in log.read_text()
    assert installs and all(shlex.split(line)[0] == python for line in plan), plan
    assert any("requirements.lock" in line for line in installs), installs
