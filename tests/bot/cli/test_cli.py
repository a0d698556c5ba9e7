"""The command line as a user runs it, driven in-process with click's CliRunner: real database files
in a fresh working directory per test, the real environment variables, stdout and stderr apart.

tests/test_cli_smoke.py runs the few things only a real process can show."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.bot.cli.conftest import Ccmbot

ROOT = Path(__file__).resolve().parents[3]
STAFF_CSV = str(ROOT / "bot" / "examples" / "staff.csv")
PATIENTS_CSV = str(ROOT / "bot" / "examples" / "patients.csv")


def test_roster_commands_round_trip(ccmbot: Ccmbot, workdir: Path) -> None:
    assert ccmbot("db", "upgrade").exit_code == 0
    assert (workdir / "ccmbot.db").exists()
    r = ccmbot("staff", "import", STAFF_CSV)
    assert r.exit_code == 0 and "6 rows, 6 changed" in r.stdout
    r = ccmbot("patients", "import", PATIENTS_CSV)
    assert r.exit_code == 0 and "5 rows, 5 changed" in r.stdout
    r = ccmbot("patients", "add", "0042", "--practitioner", "U01PHYS001", "--conditions", "2")
    assert r.exit_code == 0 and "patient 0042" in r.stdout
    r = ccmbot("consent", "record", "0042", "--method", "written", "--date", "2026-01-02", "--by", "Dana Whitfield")
    assert r.exit_code == 0 and "CCM consent granted on 2026-01-02" in r.stdout
    r = ccmbot("consent", "revoke", "0042", "--date", "2026-02-01")
    assert "CCM consent revoked on 2026-02-01" in r.stdout
    # The revocation was committed: saying it again changes nothing.
    r = ccmbot("consent", "revoke", "0042", "--date", "2026-02-01")
    assert r.exit_code == 0 and r.stdout == "unchanged: patient 0042 CCM consent is already revoked\n"
    listing = ccmbot("patients", "list").stdout
    assert "0042" in listing and "0789" in listing


def test_consent_by_a_nurse_is_refused_and_records_nothing(ccmbot: Ccmbot) -> None:
    ccmbot("staff", "import", STAFF_CSV)
    ccmbot("patients", "add", "0042", "--practitioner", "U01PHYS001", "--conditions", "2")
    r = ccmbot("consent", "record", "0042", "--method", "verbal", "--by", "Maria Santos")  # an RN, not an admin
    assert r.exit_code == 2
    assert r.stderr.startswith("error: Only practitioners") and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""
    r = ccmbot("consent", "record", "0042", "--method", "verbal", "--date", "2026-01-02")
    assert r.stdout == "recorded: patient 0042 CCM consent granted on 2026-01-02\n"


def test_an_import_with_one_bad_row_imports_nothing(ccmbot: Ccmbot, workdir: Path) -> None:
    (workdir / "staff.csv").write_text("slack_user_id,name,role,admin\nU01RN00003,Maria Santos,rn,no\nU0BAD,Ann,surgeon,no\n")
    r = ccmbot("staff", "import", "staff.csv")
    assert r.exit_code == 2 and "'surgeon' is not a role" in r.stderr
    assert ccmbot("staff", "list").stdout == ""


@pytest.mark.parametrize(
    "args, env, expected",
    [
        (("consent", "record", "999", "--method", "verbal"), {}, "Patient 999 is not on the roster"),
        (("patients", "import", "missing.csv"), {}, "cannot read missing.csv"),
        (("staff", "add", "Ann", "--role", "surgeon"), {}, "'surgeon' is not a role"),
        (("patients", "add", "5", "--practitioner", "Nobody"), {}, "No staff member 'Nobody'"),
        (("staff", "list"), {"CCMBOT_MAX_MINUTES_PER_ENTRY": "x"}, "CCMBOT_MAX_MINUTES_PER_ENTRY='x'"),
    ],
)
def test_user_errors_exit_2_with_one_line(ccmbot: Ccmbot, args: tuple[str, ...], env: dict[str, str], expected: str) -> None:
    r = ccmbot(*args, env=env)
    assert r.exit_code == 2, r.stderr
    assert expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_settings_are_read_again_for_every_invocation(ccmbot: Ccmbot, workdir: Path) -> None:
    # One process, several commands: nothing from one invocation's environment is kept for the next.
    assert ccmbot("staff", "list", env={"CCMBOT_MAX_MINUTES_PER_ENTRY": "x"}).exit_code == 2
    assert ccmbot("staff", "list").exit_code == 0
    r = ccmbot("db", "upgrade", env={"CCMBOT_DATABASE_URL": "sqlite:///other.db"})
    assert r.stdout == "database at sqlite:///other.db is at the newest schema\n"
    assert ccmbot("db", "upgrade").stdout == "database at sqlite:///ccmbot.db is at the newest schema\n"
    assert (workdir / "other.db").exists() and (workdir / "ccmbot.db").exists()


def test_every_command_has_help(ccmbot: Ccmbot) -> None:
    for args in (("--help",), ("staff", "--help"), ("patients", "import", "--help"), ("consent", "record", "--help"), ("db", "upgrade", "--help")):
        r = ccmbot(*args)
        assert r.exit_code == 0 and "Usage:" in r.stdout


def test_demo_chat_in_a_pipe_answers_from_a_seeded_practice(ccmbot: Ccmbot, workdir: Path) -> None:
    r = ccmbot("chat", "--demo", "--today", "2026-11-27", input="who still needs time this month?\n")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("14 patients need time in November, closest first; 4 days (2 business days) left")
    assert len([line for line in lines if line.startswith("• ")]) == 14
    # Starting again adds nothing twice: the seed is idempotent, and what was logged stays.
    r = ccmbot("chat", "--demo", "--today", "2026-11-27", input="15 min med review for patient 123\nstatus 123\n")
    assert "Patient 123: 32 of 40 min in November, 8 to go for 99439; 99490 reached; consent on file." in r.stdout
    r = ccmbot("chat", "--demo", "--today", "2026-11-27", input="undo\nwho has no consent?\n")
    assert "Patient 123: 17 of 20 min in November, 3 to go for 99490; consent on file." in r.stdout
    assert "patients with time in November but no consent" in r.stdout
    assert not (workdir / "ccmbot.db").exists()  # the demo never touches the real database


def test_start_with_half_the_slack_tokens_says_which_one_is_missing(ccmbot: Ccmbot) -> None:
    # Tokens half set: the Slack bot was meant, so say which one is missing instead of a demo.
    # (Without tokens `start` is the demo chat: tests/test_cli_smoke.py runs that as `make demo` does.)
    half = ccmbot("start", env={"SLACK_BOT_TOKEN": "xoxb-1-2-3"})
    assert half.exit_code == 2 and half.stderr.startswith("error: SLACK_SIGNING_SECRET is not set")


def test_chat_needs_to_know_who_is_speaking(ccmbot: Ccmbot) -> None:
    r = ccmbot("chat", input="help\n")
    assert r.exit_code == 2 and r.stderr.startswith("error: say who you are with --as")


def test_log_command_goes_through_the_assistant(practice: Ccmbot) -> None:
    args = ("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "backfill-1", "15 min med review for patient 123")
    r = practice(*args)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Logged 15 min medication review for patient 123 on Fri Nov 27 (Maria Santos).",
        "Patient 123: 15 of 20 min in November, 5 to go for 99490; consent on file.",
    ]
    again = practice(*args)
    assert again.stdout.startswith("Already logged (this message was received before) 15 min")
    bad = practice("log", "--as", "U01RN00003", "--today", "2026-11-27", "pt 123 med review")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: Nothing was logged. How many minutes was that?")
    stranger = practice("log", "--as", "Nobody Here", "10 min call pt 123")
    assert stranger.exit_code == 2 and "'Nobody Here' is not on the staff roster" in stranger.stderr


def test_parse_command_prints_one_json_object_per_line(ccmbot: Ccmbot) -> None:
    lines = "15 min med review for patient 123\nthanks!\npt 1 1:30 call\n"
    r = ccmbot("parse", "--today", "2026-11-27", input=lines)
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0]["entries"] == [
        {"patient": "123", "minutes": 15, "date": "2026-11-27", "activity": "medication_review", "program": None, "interactive": None, "bare_key": False}
    ]
    assert out[1] == {"text": "thanks!", "entries": [], "error": None}
    assert out[2]["error"]["code"] == "ambiguous_minutes" and out[2]["entries"] == []
    r = ccmbot("parse", "--jsonl", input='{"text": "pt 1 20 min yesterday", "today": "2027-01-01"}\n')
    assert json.loads(r.stdout)["entries"][0]["date"] == "2026-12-31"


def test_slack_commands_stop_with_one_line_naming_the_missing_token(ccmbot: Ccmbot) -> None:
    # In-process is enough: the tokens are read from the environment at each invocation, and the
    # commands stop before anything connects or forks.
    r = ccmbot("run")
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "error: SLACK_BOT_TOKEN is not set; it is the Bot User OAuth Token on your app's OAuth & Permissions page (api.slack.com/apps)"
    ]
    r = ccmbot("run", env={"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xoxb-wrong-kind"})
    assert r.exit_code == 2 and r.stderr.startswith("error: SLACK_APP_TOKEN does not start with 'xapp-'")
    r = ccmbot("serve", env={"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "not-a-secret"})
    assert r.exit_code == 2 and r.stderr.startswith("error: SLACK_SIGNING_SECRET is not a hex string")


def test_a_token_with_a_line_break_is_refused_at_start_and_never_printed(ccmbot: Ccmbot) -> None:
    """A token pasted with a CR/LF would travel into an HTTP header and a traceback: every command
    refuses it in one line that names the variable, never the value or a part of it."""
    token = "xoxb-1111-SECRETPART-2222\r\nX-Injected: 1"
    for args in (("run",), ("serve",), ("remind", "--send"), ("start",)):
        r = ccmbot(*args, env={"SLACK_BOT_TOKEN": token, "SLACK_APP_TOKEN": "xapp-1-A-1-abc", "SLACK_SIGNING_SECRET": "0123456789abcdef"})
        assert r.exit_code == 2, (args, r.stderr)
        assert r.stderr.startswith("error: SLACK_BOT_TOKEN holds characters a Slack credential never has"), r.stderr
        assert "SECRETPART" not in r.stderr + r.stdout and "xoxb-1111" not in r.stderr + r.stdout and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_remind_dry_run_prints_what_would_be_sent_and_to_whom(practice: Ccmbot) -> None:
    practice("log", "--as", "Maria Santos", "--today", "2026-11-16", "17 min call pt 123")
    env = {"CCMBOT_REMINDER_CHANNEL": "C0COORD01"}
    r = practice("remind", "--dry-run", "--today", "2026-11-16", "--at", "10:00", env=env)
    assert r.exit_code == 0, r.stderr
    assert "== digest to C0COORD01 (due 09:00):" in r.stdout
    assert "• 123: 3 min to 99490 (17 of 20)" in r.stdout
    assert "== nudges to Maria Santos (U01RN00003) (due 10:00):" in r.stdout
    quiet = practice("remind", "--today", "2026-11-14", "--at", "10:00", env=env)
    assert quiet.stdout.startswith("nothing due at 2026-11-14 10:00")
    assert practice("remind", "--send").exit_code == 2
    late = practice("remind", "--at", "9am")
    assert late.exit_code == 2 and late.stderr.strip() == "error: --at '9am' is not a time of day; write it as HH:MM, e.g. 09:00"


def test_audit_export_and_backup_commands(practice: Ccmbot, workdir: Path) -> None:
    practice("log", "--as", "Maria Santos", "--today", "2026-11-16", "17 min call pt 123")
    r = practice("audit", "export", "--month", "2026-11", "--patient", "123")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("at_utc,action,patient") and ",logged,123,2026-11-16,17," in r.stdout
    assert practice("audit", "export", "--month", "2026-11", "--patient", "999").exit_code == 2
    r = practice("backup", "backup/ccmbot.db")
    assert r.exit_code == 0 and (workdir / "backup" / "ccmbot.db").stat().st_mode & 0o077 == 0
    r = practice("backup", "x.db", env={"CCMBOT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"})
    assert r.exit_code == 2


def test_log_refuses_a_key_reused_for_another_text_and_back_fills_old_months(practice: Ccmbot) -> None:
    first = practice("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "k1", "15 min med review for patient 123")
    assert first.exit_code == 0, first.stderr
    reused = practice("log", "--as", "Maria Santos", "--today", "2026-11-27", "--key", "k1", "25 min care plan for patient 123")
    assert reused.exit_code == 2
    assert reused.stderr.startswith("error: That idempotency key was already used for a different message; nothing was logged.")
    # Chat refuses a date before last month; the CLI is the admin's back-fill door and takes it, with the year said.
    old = practice("log", "--as", "Maria Santos", "--today", "2027-01-04", "--key", "k2", "20 min care plan pt 123 on 10/15/2026")
    assert old.exit_code == 0, old.stderr
    assert old.stdout.startswith("Logged 20 min care plan for patient 123 on Thu Oct 15, 2026 (Maria Santos).")


def test_report_as_someone_follows_the_chat_rule(practice: Ccmbot) -> None:
    refused = practice("report", "--month", "2026-10", "--as", "Maria Santos")  # an RN, not an admin
    assert refused.exit_code == 2 and refused.stderr.startswith("error: Only admins can pull the billing report")
    assert refused.stdout == ""
    allowed = practice("report", "--month", "2026-10", "--as", "Dana Whitfield")  # the practice admin
    assert allowed.exit_code == 0 and allowed.stdout.startswith("patient,month,program,code")


def test_report_and_audit_exports_are_readable_by_their_owner_only(practice: Ccmbot, workdir: Path) -> None:
    """An export holds PHI: like the database and its backups it is created 0600, and an
    existing file that was world-readable is narrowed when it is written again."""
    practice("log", "--as", "Maria Santos", "--today", "2026-11-16", "17 min call pt 123")
    loose = workdir / "audit.csv"
    loose.write_text("old\n")
    loose.chmod(0o644)
    for args, path in (
        (("report", "--month", "2026-11", "--out", "report.csv"), workdir / "report.csv"),
        (("report", "--month", "2026-11", "--format", "json", "--out", "report.json"), workdir / "report.json"),
        (("audit", "export", "--month", "2026-11", "--out", "audit.csv"), loose),
    ):
        r = practice(*args)
        assert r.exit_code == 0, r.stderr
        assert path.stat().st_mode & 0o777 == 0o600, args
        assert path.read_text().strip() and path.read_text() != "old\n"


def test_health_pointed_at_a_missing_file_says_so_and_creates_nothing(ccmbot: Ccmbot, workdir: Path) -> None:
    missing = workdir / "nowhere" / "clinic.db"
    r = ccmbot("health", env={"CCMBOT_DATABASE_URL": f"sqlite:///{missing}"})
    assert r.exit_code == 1 and r.stderr.strip() == f"unhealthy: no database file at {missing}"
    assert not missing.exists() and not missing.parent.exists()


def test_over_long_or_control_character_roster_fields_get_one_line_without_the_value(ccmbot: Ccmbot) -> None:
    """PostgreSQL refused these with a 100-line traceback that printed the key or the name; now
    every database gets the same one-line refusal before anything is written, and the value
    (a patient's key or label) is never repeated."""
    secret = "SECRETKEY"
    cases = [
        (("staff", "add", "N" * 300, "--role", "rn"), "the name is 300 characters long; at most 120 fit"),
        (("staff", "add", "Ann\x00Lee", "--role", "rn"), "the name holds a control character"),
        (("staff", "add", "Ann Lee", "--role", "rn", "--slack-id", "U" * 40), "the Slack user id is 40 characters long; at most 32 fit"),
        (("patients", "add", secret + "1" * 80), "the patient key is 89 characters long; at most 64 fit"),
        (("patients", "add", "123", "--label", secret + "x" * 250), "the label is 259 characters long; at most 200 fit"),
        (("patients", "add", "123", "--label", secret + "\x00"), "the label holds a control character"),
    ]
    for args, message in cases:
        r = ccmbot(*args)
        assert r.exit_code == 2, (args, r.stderr)
        assert r.stderr.startswith(f"error: {message}"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and secret not in r.stderr and "NNNNNNNNNN" not in r.stderr
    assert "N" * 300 not in ccmbot("staff", "list").stdout


def test_usage_errors_are_one_line_and_exit_2(ccmbot: Ccmbot) -> None:
    for args, words in [
        (("report", "--bogus"), "error: ccmbot report: No such option '--bogus'"),
        (("log", "--as", "Maria Santos", "--today", "2026-13-01", "5 min pt 1"), "'2026-13-01' is not a date; write it YYYY-MM-DD"),
        (("consent", "record"), "error: ccmbot consent record: Missing argument"),
        (("consent", "record", "123", "--program", "CCM"), "Missing option '--method'. Choose from: verbal, written"),
    ]:
        r = ccmbot(*args)
        assert r.exit_code == 2, (args, r.output)
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], (args, r.output)


def test_files_that_cannot_be_written_or_read_are_one_line(practice: Ccmbot, workdir: Path) -> None:
    for args in (("report", "--month", "2026-11", "--out", "/no/such/dir/report.csv"), ("audit", "export", "--month", "2026-11", "--out", "/no/such/dir/audit.csv")):
        r = practice(*args)
        assert r.exit_code == 2 and r.output.strip().splitlines() == [r.output.strip()], r.output
        assert "/no/such/dir/" in r.output and "No such file or directory" in r.output
    r = practice("patients", "import", str(workdir / "missing.csv"))
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "missing.csv" in r.output


def test_version_and_dates_in_help(ccmbot: Ccmbot) -> None:
    r = ccmbot("--version")
    assert r.exit_code == 0 and r.output.startswith("ccmbot ")
    helps = ccmbot("log", "--help").output + ccmbot("remind", "--help").output
    assert "YYYY-MM-DD" in helps and "%Y" not in helps


def test_log_as_someone_not_on_the_roster_says_so_in_cli_terms(practice: Ccmbot) -> None:
    r = practice("log", "--as", "Nobody Here", "5 min call pt 123")
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    assert "'Nobody Here' is not on the staff roster" in r.output and "--slack-id" not in r.output


def test_remind_dry_run_names_people_and_says_when_channel_reminders_go_nowhere(practice: Ccmbot) -> None:
    r = practice("remind", "--dry-run", "--today", "2026-11-27", "--at", "10:00")
    assert r.exit_code == 0, r.output
    assert "CCMBOT_REMINDER_CHANNEL is not set" in r.output
    assert "nudges to Maria Santos (U01RN00003)" in r.output


def test_a_csv_saved_by_excel_on_windows_is_read_with_a_note(ccmbot: Ccmbot, workdir: Path) -> None:
    (workdir / "staff.csv").write_bytes("slack_user_id,name,role,admin\nU01RN00009,Zoë Müller,rn,no\n".encode("cp1252"))
    r = ccmbot("staff", "import", "staff.csv")
    assert r.exit_code == 0, r.output
    assert "read it as Windows-1252" in r.stderr
    assert "Zoë Müller" in ccmbot("staff", "list").stdout
    (workdir / "bom.csv").write_bytes("\ufeffslack_user_id,name,role,admin\nU01RN00010,Ana Lía,rn,no\n".encode())
    r = ccmbot("staff", "import", "bom.csv")
    assert r.exit_code == 0 and "note:" not in r.stderr


def test_a_missing_amounts_file_is_refused_at_start(ccmbot: Ccmbot, workdir: Path) -> None:
    r = ccmbot("status", "123", env={"CCMBOT_AMOUNTS_CSV": str(workdir / "nope.csv")})
    assert r.exit_code == 2 and "CCMBOT_AMOUNTS_CSV" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_db_upgrade_brings_the_kept_billing_results_up_to_date(practice: Ccmbot) -> None:
    """An upgrade may change the billing code, which makes every kept result stale: `db upgrade`
    re-evaluates them before the bot answers anyone, and then has nothing left to do."""
    first = practice("db", "upgrade")
    assert first.exit_code == 0 and re.search(r"kept billing results: \d+ patient-months re-evaluated", first.stderr), first.stderr
    again = practice("db", "upgrade")
    assert again.exit_code == 0 and "kept billing results" not in again.stderr
    assert "kept billing results" not in practice("db", "upgrade", "--no-warm").stderr
