"""The deployment files in deploy/ are real: systemd accepts the units, the compose file has the
services it promises, and every command they run is an akhbar subcommand with options the CLI accepts."""
from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import click
import pytest

from crawler.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
VENV_BIN = "/opt/akhbar/venv/bin/"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def _akhbar_argv(command: list[str]) -> list[str]:
    """The arguments after the akhbar program (``akhbar`` or ``python -m crawler.cli``)."""
    if command[1:3] == ["-m", "crawler.cli"]:
        return command[3:]
    assert Path(command[0]).name == "akhbar", command
    return command[1:]


def _parse(argv: list[str]) -> dict[str, object]:
    """Parse ``argv`` as the CLI would (no usage error allowed) and give the subcommand's values."""
    root = click.Context(main, info_name="akhbar")
    command = main.get_command(root, argv[0])
    assert command is not None, f"no akhbar subcommand {argv[0]!r}"
    try:
        return command.make_context(argv[0], argv[1:], parent=root).params
    except click.UsageError as error:
        pytest.fail(f"akhbar {shlex.join(argv)}: {error.format_message()}")


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", text.strip())
    assert match, text
    return int(match[1]) * (60 if match[2] == "min" else 1)


REDIS = "redis://127.0.0.1:6379/0"


def test_the_units_run_the_scheduler_the_workers_and_the_web():
    assert [p.name for p in UNITS] == ["akhbar-scheduler.service", "akhbar-web.service", "akhbar-worker@.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_an_akhbar_subcommand_the_cli_accepts(path):
    service = _unit(path)["Service"]
    argv = _akhbar_argv(shlex.split(service["ExecStart"]))
    params = _parse(argv)
    assert service["User"] not in ("", "root") and service["WorkingDirectory"].startswith("/")
    assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    text = path.read_text(encoding="utf-8")
    assert "Environment=AKHBAR_DB=postgresql+psycopg://akhbar@127.0.0.1/akhbar" in text
    if argv[0] == "schedule":
        assert params["sources_file"] == Path("/etc/akhbar/sources.toml")
        assert re.search(r"^Environment=AKHBAR_CONTACT=\S+", text, re.MULTILINE)
        # the README's rule: allow --stop-grace + 5 s after SIGTERM before systemd kills it
        assert timedelta(seconds=_seconds(service["TimeoutStopSec"])) >= params["stop_grace"] + timedelta(seconds=5)
        assert params["redis_url"] == REDIS  # it hands the crawls to the workers
        assert "redis-server.service" in _unit(path)["Unit"]["After"]
    elif argv[0] == "worker":
        assert params["redis_url"] == REDIS and params["sources_file"] == "/etc/akhbar/sources.toml"
        assert re.search(r"^Environment=AKHBAR_CONTACT=\S+", text, re.MULTILINE)
        assert "redis-server.service" in _unit(path)["Unit"]["After"] and "%i" in _unit(path)["Unit"]["Description"]
        # a stopping worker finishes what it fetches (DOWNLOAD_TIMEOUT is 30 s) before systemd kills it
        assert _seconds(service["TimeoutStopSec"]) >= 30
    else:
        assert argv[0] == "serve" and params["host"] == "127.0.0.1" and params["port"] == 8000


def _verify(units: list[Path], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` of copies whose ExecStart points at executables that exist here."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("python", "akhbar"):
        if not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(sys.executable)
    copies = []
    for unit in units:  # a template is verified as one of its instances
        copy = tmp_path / unit.name.replace("@.", "@1.")
        copy.write_text(unit.read_text(encoding="utf-8").replace(VENV_BIN, f"{bin_dir}/"), encoding="utf-8")
        copies.append(str(copy))
    return subprocess.run(["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60)


def test_systemd_accepts_the_units(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed: the units are checked only by the other tests")
    assert all(VENV_BIN in unit.read_text(encoding="utf-8") for unit in UNITS)
    result = _verify(UNITS, tmp_path)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    # and the check can fail: a misspelt directive is refused
    broken = tmp_path / "src" / "akhbar-broken.service"
    broken.parent.mkdir()
    broken.write_text(UNITS[0].read_text(encoding="utf-8").replace("KillSignal=", "KillSignall="), encoding="utf-8")
    assert "KillSignall" in _verify([broken], tmp_path / "src").stderr


@pytest.fixture(scope="module")
def compose():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: docker-compose.yml is not parsed")
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_postgres_with_a_volume_and_healthcheck_then_scheduler_and_web(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "scheduler", "worker", "web"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:") and postgres["healthcheck"]["test"]
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    for name in ("scheduler", "worker", "web"):
        service = services[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["AKHBAR_DB"].startswith("postgresql+psycopg://")
        assert "@postgres/" in service["environment"]["AKHBAR_DB"]


def test_compose_commands_are_akhbar_subcommands_the_cli_accepts(compose):
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["akhbar"\]$', dockerfile, re.MULTILINE)
    scheduler = compose["services"]["scheduler"]
    params = _parse(scheduler["command"])
    assert scheduler["command"][0] == "schedule"
    mounted = {volume.split(":")[1] for volume in scheduler["volumes"]}
    assert str(params["sources_file"]) in mounted
    assert timedelta(seconds=_seconds(scheduler["stop_grace_period"])) >= params["stop_grace"] + timedelta(seconds=5)
    web = compose["services"]["web"]
    assert web["command"][0] == "serve" and _parse(web["command"])["host"] == "0.0.0.0"


def test_compose_runs_redis_and_n_workers_on_the_schedulers_queue(compose):
    services = compose["services"]
    redis = services["redis"]
    assert redis["image"].startswith("redis:") and redis["healthcheck"]["test"]
    assert redis["volumes"][0].split(":")[0] in compose["volumes"] and "--appendonly" in redis["command"]
    worker, scheduler = services["worker"], services["scheduler"]
    params = _parse(worker["command"])
    assert worker["command"][0] == "worker" and worker["deploy"]["replicas"] >= 2
    assert params["redis_url"] == _parse(scheduler["command"])["redis_url"] == "redis://redis:6379/0"
    assert params["sources_file"] in {volume.split(":")[1] for volume in worker["volumes"]}
    for name in ("scheduler", "worker"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "redis" not in services["web"]["depends_on"]
    assert _seconds(worker["stop_grace_period"].removesuffix("s")) >= 30


def test_the_web_is_published_on_loopback_only(compose):
    services = compose["services"]
    port = _parse(services["web"]["command"])["port"]
    assert services["web"]["ports"] == [f"127.0.0.1:8000:{port}"]
    assert all("ports" not in services[name] for name in ("postgres", "redis", "scheduler", "worker"))


def test_the_dockerfile_installs_the_lock_then_akhbar_without_dependencies():
    runs = re.findall(r"^RUN (.+)$", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert "-r requirements.lock" in runs[0] and "--no-deps ." in runs[1]
