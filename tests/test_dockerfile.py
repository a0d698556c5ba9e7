"""No Docker engine runs here, so the Dockerfile's steps run as they are written in a fresh
virtualenv: copy what it copies, install what it installs, start through its entrypoint."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.bot.slack.conftest import BOT_TOKEN, SECRET
from tests.bot.slack.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /app and its Python, built by the Dockerfile's COPY and RUN pip steps."""
    root = tmp_path_factory.mktemp("image")
    app = root / "app"
    app.mkdir()
    for copy in instructions("COPY"):
        parts = [p for p in copy.split() if not p.startswith("--")]
        *sources, target = parts
        if target.startswith("/usr/local/bin"):
            continue
        for source in sources:
            src = ROOT / source
            dest = app / (source if target.startswith("./") and target != "./" else Path(source).name)
            if src.is_dir():
                shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, dest)
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    [run] = [r for r in instructions("RUN") if "pip install" in r]
    pip_args = shlex.split(re.search(r"pip install (.+?)(?:\s*\\|\s*&&|$)", run).group(1))
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([str(root / "venv" / "bin" / "pip"), "install", "--quiet", *pip_args], cwd=app, check=True, env=env, timeout=600)
    shutil.rmtree(app / "bot")  # the image removes its sources too: it runs from the installed package
    shutil.rmtree(app / "storage")
    return root


def run_env(image: Path, data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_", "PYTHON"))}
    env["PATH"] = f"{image / 'venv' / 'bin'}:{env['PATH']}"
    env["CCMBOT_DATABASE_URL"] = f"sqlite:///{data / 'ccmbot.db'}"  # the image's /data volume
    env.update(extra)
    return env


def test_the_image_runs_as_a_user_not_root_with_a_healthcheck() -> None:
    assert DOCKERFILE.startswith("#") and re.search(r"^FROM python:3\.1[1-9]-slim$", DOCKERFILE, re.M)
    assert instructions("USER") == ["ccmbot"]
    assert instructions("HEALTHCHECK")[0].endswith('CMD ["ccmbot", "health"]')
    assert instructions("ENTRYPOINT") == ['["docker-entrypoint.sh"]'] and instructions("CMD") == ['["ccmbot", "run"]']


def test_entrypoint_migrates_then_runs_the_command(image: Path, tmp_path: Path) -> None:
    entry = str(ROOT / "docker-entrypoint.sh")
    r = subprocess.run([entry, "ccmbot", "health"], env=run_env(image, tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "healthy: database ok, migrations at head" in r.stdout + r.stderr
    assert (tmp_path / "ccmbot.db").stat().st_mode & 0o077 == 0
    # The default command without tokens stops at once with one line saying what is missing.
    r = subprocess.run([entry, "ccmbot", "run"], env=run_env(image, tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("error: SLACK_BOT_TOKEN is not set")


def test_the_http_command_serves_healthz_from_the_installed_package(image: Path, tmp_path: Path) -> None:
    standin = StandIn()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = run_env(image, tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, CCMBOT_SLACK_API_URL=standin.api_url)
    server = subprocess.Popen(
        [str(ROOT / "docker-entrypoint.sh"), "ccmbot", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert json.loads(response.read()) == {"ok": True, "database": "ok", "migrations": "at head"}
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read() if server.stdout else ""
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
        standin.close()


def test_the_dockerfile_builds_with_the_classic_builder_too() -> None:
    """BuildKit-only syntax (COPY --chmod/--link, RUN --mount, heredocs) fails `docker build`
    without BuildKit; the Dockerfile uses none of it."""
    for line in DOCKERFILE.splitlines():
        assert not re.match(r"^(COPY|ADD)\s+--(chmod|link)", line), line
        assert not re.match(r"^RUN\s+--", line), line
        assert "<<" not in line, line
    assert not DOCKERFILE.startswith("# syntax=")


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "*.db", "*.db-wal", ".env", "**/__pycache__"} <= ignored


def test_the_demo_runs_from_the_installed_package(image: Path, tmp_path: Path) -> None:
    """The image keeps no sources: the demo's example roster ships inside the package."""
    r = subprocess.run(
        ["ccmbot", "chat", "--demo", "--as", "Maria Santos"], input="status 2016\n",
        cwd=tmp_path, env=run_env(image, tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Patient 2016" in r.stdout


def test_compose_migrates_once_before_web_and_scheduler_start() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "examples" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["migrate"]["command"] == ["ccmbot", "db", "upgrade"] and services["migrate"]["restart"] == "no"
    for name in ("web", "scheduler"):
        service = services[name]
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert service["restart"] == "unless-stopped"
        assert service["environment"]["CCMBOT_MIGRATE"] == "no"  # the entrypoint leaves it to `migrate`
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["db"]["restart"] == "unless-stopped"


def test_the_entrypoint_can_leave_migrations_to_a_one_shot_service(image: Path, tmp_path: Path) -> None:
    r = subprocess.run(
        [str(ROOT / "docker-entrypoint.sh"), "ccmbot", "health"], env=run_env(image, tmp_path, CCMBOT_MIGRATE="no"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode != 0 and not (tmp_path / "ccmbot.db").exists()  # nothing migrated, nothing created


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker command on this machine: the image is built where a Docker daemon runs")
def test_the_image_builds_and_answers(tmp_path: Path) -> None:
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        pytest.skip(f"no Docker daemon reachable: {info.stderr.strip().splitlines()[-1] if info.stderr.strip() else 'docker info failed'}")
    tag = "ccmbot-test:latest"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1200)
    assert subprocess.run(["docker", "run", "--rm", tag, "ccmbot", "--help"], capture_output=True, timeout=120).returncode == 0
    health = subprocess.run(["docker", "run", "--rm", tag, "ccmbot", "health"], capture_output=True, text=True, timeout=120)
    assert health.returncode == 0 and "healthy" in health.stdout + health.stderr
