"""The command line as real processes: only what an in-process run cannot show (tests/test_cli.py has the rest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The installed `ccmbot` script (pyproject's `ccmbot = "bot.cli:main"`), next to this Python when the project is installed.
SCRIPT = Path(sys.executable).with_name("ccmbot")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    full_env.update(env or {})
    return subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120, input=input)


def ccmbot(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "bot.cli", *args], cwd, input=input)


def test_python_m_bot_cli_help_starts_without_slack_or_the_scheduler(tmp_path: Path) -> None:
    # A real process: `python -m bot.cli` goes through bot/cli/__main__.py, and only a fresh
    # interpreter shows which modules --help imports (-X importtime lists them on stderr).
    r = run([sys.executable, "-X", "importtime", "-m", "bot.cli", "--help"], tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("Usage: ccmbot [OPTIONS] COMMAND [ARGS]...")
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "bot.cli.slack" in imported  # the listing is real
    heavy = {m for m in imported if m.split(".")[0] in ("slack_bolt", "slack_sdk", "apscheduler", "gunicorn") or m.startswith(("bot.slack", "bot.scheduler"))}
    assert heavy == set()


def test_log_round_trip_across_processes(tmp_path: Path) -> None:
    # A real process per command: what one command writes is committed to the file the next process reads.
    assert ccmbot("staff", "import", str(ROOT / "bot" / "examples" / "staff.csv"), cwd=tmp_path).returncode == 0
    assert ccmbot("patients", "import", str(ROOT / "bot" / "examples" / "patients.csv"), cwd=tmp_path).returncode == 0
    r = ccmbot("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "k1", "15 min med review for patient 123", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Logged 15 min medication review for patient 123 on Fri Nov 27 (Maria Santos).",
        "Patient 123: 15 of 20 min in November, 5 to go for 99490; consent on file.",
    ]
    r = ccmbot("status", "123", "--month", "2026-11", cwd=tmp_path)
    assert r.returncode == 0 and "15 min clinical staff" in r.stdout


def test_make_demo_starts_the_main_job_which_is_the_demo_chat_without_tokens(tmp_path: Path) -> None:
    # A real process, as `make demo` runs it: the installed script (when there is one), stdin a real pipe.
    assert "$(BIN)/ccmbot start" in (ROOT / "Makefile").read_text()
    command = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "bot.cli"]
    r = run([*command, "start"], tmp_path, input="who still needs time this month?\n")
    assert r.returncode == 0, r.stderr
    assert "No Slack tokens set: starting the demo chat" in r.stderr
    assert "patients need time in" in r.stdout.splitlines()[0]
