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
