"""The CLI starts in a blink: `ccmbot --help` and `ccmbot parse` load no database, Slack or
migration layer (each command imports what it needs when it runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

HEAVY = ("sqlalchemy", "slack_bolt", "slack_sdk", "alembic", "mako", "pygments")

PROBE = """
import json, sys
from bot.cli import cli
args = sys.argv[1:]
if args:
    try:
        cli(args, standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


def _loaded(tmp_path: Path, *args: str, stdin: str = "") -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    env.update(PYTHONPATH=str(ROOT), CCMBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'probe.db'}")
    run = subprocess.run([sys.executable, "-c", PROBE, *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stderr.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_database_or_slack_layer(tmp_path: Path) -> None:
    assert _loaded(tmp_path) == []


def test_help_loads_no_database_or_slack_layer(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "--help") == []


def test_parse_reads_a_message_without_the_database_layer(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "parse", "--today", "2026-11-20", stdin="15 min med review for patient 123\n") == []
    assert not (tmp_path / "probe.db").exists()


def test_a_command_that_needs_the_database_still_loads_it(tmp_path: Path) -> None:
    """The probe can see a layer load: `panel` opens the database."""
    assert "sqlalchemy" in _loaded(tmp_path, "panel", "--month", "2026-11")
    assert (tmp_path / "probe.db").exists()
