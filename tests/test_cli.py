"""The command line as a user runs it: real processes, real database files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ccmbot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CCMBOT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_roster_commands_round_trip(workdir):
    assert ccmbot("db", "upgrade", cwd=workdir).returncode == 0
    assert (workdir / "ccmbot.db").exists()
    r = ccmbot("staff", "import", str(ROOT / "examples" / "staff.csv"), cwd=workdir)
    assert r.returncode == 0 and "6 rows, 6 changed" in r.stdout
    r = ccmbot("patients", "import", str(ROOT / "examples" / "patients.csv"), cwd=workdir)
    assert r.returncode == 0 and "5 rows, 5 changed" in r.stdout
    r = ccmbot("patients", "add", "0042", "--practitioner", "U01PHYS001", "--conditions", "2", cwd=workdir)
    assert r.returncode == 0 and "patient 0042" in r.stdout
    r = ccmbot("consent", "record", "0042", "--method", "written", "--date", "2026-01-02", "--by", "Dana Whitfield", cwd=workdir)
    assert r.returncode == 0 and "CCM consent granted on 2026-01-02" in r.stdout
    r = ccmbot("consent", "revoke", "0042", "--date", "2026-02-01", cwd=workdir)
    assert "CCM consent revoked on 2026-02-01" in r.stdout
    listing = ccmbot("patients", "list", cwd=workdir).stdout
    assert "0042" in listing and "0789" in listing


@pytest.mark.parametrize(
    "args, env, expected",
    [
        (("consent", "record", "999", "--method", "verbal"), {}, "Patient 999 is not on the roster"),
        (("patients", "import", "missing.csv"), {}, "cannot read missing.csv"),
        (("staff", "add", "Ann", "--role", "surgeon"), {}, "'surgeon' is not a role"),
        (("patients", "add", "5", "--practitioner", "Nobody"), {}, "No staff member 'Nobody'"),
        (("staff", "list",), {"CCMBOT_MAX_MINUTES_PER_ENTRY": "x"}, "CCMBOT_MAX_MINUTES_PER_ENTRY='x'"),
    ],
)
def test_user_errors_exit_2_with_one_line(workdir, args, env, expected):
    r = ccmbot(*args, cwd=workdir, env=env)
    assert r.returncode == 2, r.stderr
    assert expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_every_command_has_help(workdir):
    for args in (("--help",), ("staff", "--help"), ("patients", "import", "--help"), ("consent", "record", "--help"), ("db", "upgrade", "--help")):
        r = ccmbot(*args, cwd=workdir)
        assert r.returncode == 0 and "Usage:" in r.stdout


def test_demo_works_in_an_empty_directory(workdir):
    r = ccmbot("demo", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "active patients" in r.stdout


def test_parse_command_prints_one_json_object_per_line(workdir):
    import json

    lines = "15 min med review for patient 123\nthanks!\npt 1 1:30 call\n"
    r = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--today", "2026-11-27"], input=lines, cwd=workdir, capture_output=True, text=True, timeout=60
    )
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0]["entries"] == [{"patient": "123", "minutes": 15, "date": "2026-11-27", "activity": "medication_review", "program": None}]
    assert out[1] == {"text": "thanks!", "entries": [], "error": None}
    assert out[2]["error"]["code"] == "ambiguous_minutes" and out[2]["entries"] == []
    r = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--jsonl"],
        input='{"text": "pt 1 20 min yesterday", "today": "2027-01-01"}\n',
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(r.stdout)["entries"][0]["date"] == "2026-12-31"
