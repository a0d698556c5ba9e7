"""`ccmbot patients complex`, and `ccmbot status` and `ccmbot report` of a complex month, as a user runs them."""

from __future__ import annotations

import csv
import io
import json

from tests.bot.cli.conftest import Ccmbot  # the fixtures (ccmbot, practice, workdir) are in conftest

REASON = "new insulin regimen, 3 specialists"


def workdir_file(name: str) -> io.StringIO:
    """A file the command wrote in the test's working directory (the current one)."""
    with open(name, encoding="utf-8", newline="") as handle:
        return io.StringIO(handle.read())


def test_mark_status_report_and_unmark(practice: Ccmbot) -> None:
    r = practice("log", "--as", "Maria Santos", "--today", "2026-11-20", "70 min care coordination pt 123")
    assert r.exit_code == 0, r.output
    r = practice("patients", "complex", "123", "--month", "2026-11", "--reason", REASON, "--as", "Jordan Lee")  # an NP
    assert (r.exit_code, r.stdout) == (0, f"marked complex: patient 123 2026-11 ({REASON})\n")
    r = practice("patients", "complex", "123", "--month", "2026-11", "--reason", REASON, "--as", "Jordan Lee")
    assert r.stdout == f"unchanged: patient 123 2026-11 is already complex ({REASON})\n"
    r = practice("patients", "complex", "123", "--month", "2026-11", "--reason", "insulin pump started", "--as", "Dana Whitfield")  # an admin
    assert r.stdout == "reason updated: patient 123 2026-11 (insulin pump started)\n"

    status = practice("status", "123", "--month", "2026-11").stdout.splitlines()
    assert "  Billing practitioner: Dr. Amara Okafor" in status
    assert "  Complex CCM (moderate/high MDM, marked by Dana Whitfield: insulin pump started) \u2014 99487 at 60 min, +99489 per further 30 min" in status
    assert any(line.startswith("  Billable: 99487, $") and "(estimated)" in line for line in status)

    rows = [r for r in csv.DictReader(io.StringIO(practice("report", "--month", "2026-11").stdout)) if r["patient"] == "123"]
    assert [(r["code"], r["complex_mdm"], r["complex_reason"], r["complex_marked_by"], r["billing_practitioner"]) for r in rows] == [
        ("99487", "yes", "insulin pump started", "Dana Whitfield", "Dr. Amara Okafor")
    ]
    [entry] = [e for e in json.loads(practice("report", "--month", "2026-11", "--format", "json").stdout) if e["patient"] == "123"]
    assert (entry["complex_mdm"], entry["complex_reason"], entry["billing_practitioner"]) == (True, "insulin pump started", "Dr. Amara Okafor")

    r = practice("patients", "complex", "123", "--month", "2026-11", "--off", "--as", "Jordan Lee")
    assert r.stdout == "unmarked: patient 123 2026-11 is no longer complex\n"
    r = practice("patients", "complex", "123", "--month", "2026-11", "--off", "--as", "Jordan Lee")
    assert r.stdout == "unchanged: patient 123 2026-11 is not marked complex\n"
    rows = [r for r in csv.DictReader(io.StringIO(practice("report", "--month", "2026-11").stdout)) if r["patient"] == "123"]
    assert [(r["code"], r["complex_mdm"]) for r in rows] == [("99490", "no"), ("99439", "no")]

    r = practice("audit", "export", "--month", "2026-11", "--patient", "123", "--out", "audit.csv")
    assert r.exit_code == 0, r.output
    audit = [r for r in csv.DictReader(workdir_file("audit.csv")) if r["action"].startswith("complex")]
    assert [(r["action"], r["changed_by"], r["reason"], r["service_or_effective_date"]) for r in audit] == [
        ("complex CCM marked", "Jordan Lee", REASON, "2026-11-01"),
        ("complex CCM marked", "Dana Whitfield", "insulin pump started", "2026-11-01"),
        ("complex CCM unmarked", "Jordan Lee", "", "2026-11-01"),
    ]


def test_refusals_exit_2_with_one_line(practice: Ccmbot) -> None:
    cases = [
        (("--month", "2026-11", "--reason", REASON, "--as", "Maria Santos"), "Only practitioners (physician, NP, PA, CNS, CNM) and admins can mark a month complex"),
        (("--month", "2026-11", "--as", "Jordan Lee"), "--reason is required to mark a month complex"),
        (("--month", "2026-11", "--reason", "ok", "--as", "Jordan Lee"), "A reason is 3 to 200 characters; this one has 2."),
        (("--month", "2026-11", "--reason", REASON, "--off", "--as", "Jordan Lee"), "--off takes no --reason"),
        (("--month", "2099-01", "--reason", REASON, "--as", "Jordan Lee"), "January 2099 has not started yet"),
        (("--month", "2026-11", "--reason", REASON, "--as", "Nobody"), "No staff member 'Nobody' on the roster"),
    ]
    for args, expected in cases:
        r = practice("patients", "complex", "123", *args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.startswith(f"error: {expected}") and len(r.stderr.splitlines()) == 1, r.stderr
    r = practice("patients", "complex", "999", "--month", "2026-11", "--reason", REASON, "--as", "Jordan Lee")
    assert r.exit_code == 2 and "Patient 999 is not on the roster" in r.stderr


def test_a_closed_month_is_refused(practice: Ccmbot) -> None:
    r = practice("chat", "--as", "Dr. Amara Okafor", "--today", "2026-11-27", input="close 2026-10\n")
    assert "October 2026 is closed" in r.stdout
    r = practice("patients", "complex", "123", "--month", "2026-10", "--reason", REASON, "--as", "Dr. Amara Okafor")
    assert r.exit_code == 2 and r.stderr == "error: October 2026 is closed for billing; an admin must reopen it first.\n"
    r = practice("patients", "complex", "123", "--month", "2026-10", "--off", "--as", "Dr. Amara Okafor")
    assert r.exit_code == 2 and "closed for billing" in r.stderr
