"""The command line as a user runs it: real processes, real database files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ccmbot(*args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CCMBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120, input=input
    )


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


def test_demo_chat_in_a_pipe_answers_from_a_seeded_practice(workdir):
    r = ccmbot("chat", "--demo", "--today", "2026-11-27", cwd=workdir, input="who still needs time this month?\n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("29 patients need time in November, closest first; 4 days (2 business days) left")
    assert len([line for line in lines if line.startswith("• ")]) == 15 and lines[-1] == "…and 14 more."
    # Starting again adds nothing twice: the seed is idempotent, and what was logged stays.
    r = ccmbot("chat", "--demo", "--today", "2026-11-27", cwd=workdir, input="15 min med review for patient 123\nstatus 123\n")
    assert "Patient 123: 32 of 40 min in November, 8 to go for 99439; 99490 reached; consent on file." in r.stdout
    r = ccmbot("chat", "--demo", "--today", "2026-11-27", cwd=workdir, input="undo\nwho has no consent?\n")
    assert "Patient 123: 17 of 20 min in November, 3 to go for 99490; consent on file." in r.stdout
    assert "patients with time in November but no consent" in r.stdout
    assert not (workdir / "ccmbot.db").exists()  # the demo never touches the real database


def test_make_demo_starts_the_main_job_which_is_the_demo_chat_without_tokens(workdir):
    assert "$(BIN)/ccmbot start" in (ROOT / "Makefile").read_text()
    r = ccmbot("start", cwd=workdir, input="who still needs time this month?\n")
    assert r.returncode == 0, r.stderr
    assert "No Slack tokens set: starting the demo chat" in r.stderr
    assert "patients need time in" in r.stdout.splitlines()[0]
    # Tokens half set: the Slack bot was meant, so say which one is missing instead of a demo.
    half = ccmbot("start", cwd=workdir, env={"SLACK_BOT_TOKEN": "xoxb-1-2-3"})
    assert half.returncode == 2 and half.stderr.startswith("error: SLACK_SIGNING_SECRET is not set")


def test_chat_needs_to_know_who_is_speaking(workdir):
    r = ccmbot("chat", cwd=workdir, input="help\n")
    assert r.returncode == 2 and r.stderr.startswith("error: say who you are with --as")


def test_log_command_goes_through_the_assistant(workdir):
    ccmbot("staff", "import", str(ROOT / "examples" / "staff.csv"), cwd=workdir)
    ccmbot("patients", "import", str(ROOT / "examples" / "patients.csv"), cwd=workdir)
    args = ("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "backfill-1", "15 min med review for patient 123")
    r = ccmbot(*args, cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Logged 15 min medication review for patient 123 on Fri Nov 27 (Maria Santos).",
        "Patient 123: 15 of 20 min in November, 5 to go for 99490; consent on file.",
    ]
    again = ccmbot(*args, cwd=workdir)
    assert again.stdout.startswith("Already logged (this message was received before) 15 min")
    bad = ccmbot("log", "--as", "U01RN00003", "--today", "2026-11-27", "pt 123 med review", cwd=workdir)
    assert bad.returncode == 2 and bad.stderr.startswith("error: Nothing was logged. How many minutes was that?")
    stranger = ccmbot("log", "--as", "Nobody Here", "10 min call pt 123", cwd=workdir)
    assert stranger.returncode == 2 and "not on the care team's staff roster" in stranger.stderr


def test_parse_command_prints_one_json_object_per_line(workdir):
    import json

    lines = "15 min med review for patient 123\nthanks!\npt 1 1:30 call\n"
    r = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--today", "2026-11-27"], input=lines, cwd=workdir, capture_output=True, text=True, timeout=60
    )
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0]["entries"] == [
        {"patient": "123", "minutes": 15, "date": "2026-11-27", "activity": "medication_review", "program": None, "interactive": None, "bare_key": False}
    ]
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


def test_slack_commands_stop_with_one_line_naming_the_missing_token(workdir):
    r = ccmbot("run", cwd=workdir)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: SLACK_BOT_TOKEN is not set; it is the Bot User OAuth Token on your app's OAuth & Permissions page (api.slack.com/apps)"]
    r = ccmbot("run", cwd=workdir, env={"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xoxb-wrong-kind"})
    assert r.returncode == 2 and r.stderr.startswith("error: SLACK_APP_TOKEN does not start with 'xapp-'")
    r = ccmbot("serve", cwd=workdir, env={"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "not-a-secret"})
    assert r.returncode == 2 and r.stderr.startswith("error: SLACK_SIGNING_SECRET is not a hex string")


def test_remind_dry_run_prints_what_would_be_sent_and_to_whom(workdir):
    ccmbot("staff", "import", str(ROOT / "examples" / "staff.csv"), cwd=workdir)
    ccmbot("patients", "import", str(ROOT / "examples" / "patients.csv"), cwd=workdir)
    ccmbot("log", "--as", "Maria Santos", "--today", "2026-11-16", "17 min call pt 123", cwd=workdir)
    env = {"CCMBOT_REMINDER_CHANNEL": "C0COORD01"}
    r = ccmbot("remind", "--dry-run", "--today", "2026-11-16", "--at", "10:00", cwd=workdir, env=env)
    assert r.returncode == 0, r.stderr
    assert "== digest to C0COORD01 (due 09:00):" in r.stdout
    assert "• 123: 3 min to 99490 (17 of 20)" in r.stdout
    assert "== nudges to U01RN00003 (due 10:00):" in r.stdout
    quiet = ccmbot("remind", "--today", "2026-11-14", "--at", "10:00", cwd=workdir, env=env)
    assert quiet.stdout.startswith("nothing due at 2026-11-14 10:00")
    assert ccmbot("remind", "--send", cwd=workdir).returncode == 2
    late = ccmbot("remind", "--at", "9am", cwd=workdir)
    assert late.returncode == 2 and late.stderr.strip() == "error: --at '9am' is not a time of day; write it as HH:MM, e.g. 09:00"


def test_audit_export_and_backup_commands(workdir):
    ccmbot("staff", "import", str(ROOT / "examples" / "staff.csv"), cwd=workdir)
    ccmbot("patients", "import", str(ROOT / "examples" / "patients.csv"), cwd=workdir)
    ccmbot("log", "--as", "Maria Santos", "--today", "2026-11-16", "17 min call pt 123", cwd=workdir)
    r = ccmbot("audit", "export", "--month", "2026-11", "--patient", "123", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("at_utc,action,patient") and ",logged,123,2026-11-16,17," in r.stdout
    assert ccmbot("audit", "export", "--month", "2026-11", "--patient", "999", cwd=workdir).returncode == 2
    r = ccmbot("backup", "backup/ccmbot.db", cwd=workdir)
    assert r.returncode == 0 and (workdir / "backup" / "ccmbot.db").stat().st_mode & 0o077 == 0
    r = ccmbot("backup", "x.db", cwd=workdir, env={"CCMBOT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"})
    assert r.returncode == 2


def test_log_refuses_a_key_reused_for_another_text_and_back_fills_old_months(workdir):
    ccmbot("staff", "import", str(ROOT / "examples" / "staff.csv"), cwd=workdir)
    ccmbot("patients", "import", str(ROOT / "examples" / "patients.csv"), cwd=workdir)
    first = ccmbot("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "k1", "15 min med review for patient 123", cwd=workdir)
    assert first.returncode == 0, first.stderr
    reused = ccmbot("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "k1", "25 min care plan for patient 123", cwd=workdir)
    assert reused.returncode == 2
    assert reused.stderr.startswith("error: That idempotency key was already used for a different message; nothing was logged.")
    # Chat refuses a date before last month; the CLI is the admin's back-fill door and takes it, with the year said.
    old = ccmbot("log", "--as", "Maria Santos", "--today", "2027-01-04", "--key", "k2", "20 min care plan pt 123 on 10/15/2026", cwd=workdir)
    assert old.returncode == 0, old.stderr
    assert old.stdout.startswith("Logged 20 min care plan for patient 123 on Thu Oct 15, 2026 (Maria Santos).")
