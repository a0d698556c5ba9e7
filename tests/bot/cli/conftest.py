"""The CLI driven in-process with click's runner, in a fresh working directory per test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli

ROOT = Path(__file__).resolve().parents[3]
STAFF_CSV = str(ROOT / "bot" / "examples" / "staff.csv")
PATIENTS_CSV = str(ROOT / "bot" / "examples" / "patients.csv")


class Ccmbot(Protocol):
    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result: ...


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory (so the default sqlite:///ccmbot.db and the demo file are this test's own),
    with no CCMBOT_ or SLACK_ variables from the environment the tests were started in."""
    for name in list(os.environ):
        if name.startswith(("CCMBOT_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def ccmbot(workdir: Path) -> Ccmbot:
    """Run `ccmbot ARGS...`; env= adds variables for this invocation only, input= is stdin."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        # An unexpected exception propagates with its traceback instead of becoming exit code 1.
        return runner.invoke(cli, list(args), env=env, input=input, prog_name="ccmbot", catch_exceptions=False)

    return run


@pytest.fixture
def practice(ccmbot: Ccmbot) -> Ccmbot:
    """The example staff and patients imported."""
    assert ccmbot("staff", "import", STAFF_CSV).exit_code == 0
    assert ccmbot("patients", "import", PATIENTS_CSV).exit_code == 0
    return ccmbot
