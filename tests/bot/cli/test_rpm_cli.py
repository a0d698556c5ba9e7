"""`ccmbot rpm` as a user runs it: start an episode, import a vendor's export (again: nothing
changes), ask the status, pull the report, stop; refusals exit 2 and list every bad row."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

from tests.bot.cli.conftest import Ccmbot  # the fixtures (ccmbot, practice, workdir) are in conftest

TODAY = "2026-11-27"


def export(path: Path, first: date, count: int) -> Path:
    """A vendor's export: two readings a day (one with an offset), a column ccmbot does not use."""
    lines = ["patient_key,taken_at,device_id,systolic"]
    for n in range(count):
        day = first + timedelta(days=n)
        lines += [f"456,{day.isoformat()}T07:45:00,cuff-9,128", f"456,{day.isoformat()}T19:30:00-05:00,cuff-9,131"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_start_import_status_report_and_stop(practice: Ccmbot, workdir: Path) -> None:
    r = practice("rpm", "start", "456", "--date", "2026-10-20", "--device", "BP cuff", "--as", "Maria Santos", "--today", TODAY)
    assert (r.exit_code, r.stdout) == (0, "started: patient 456 RPM episode from 2026-10-20 (BP cuff)\n")
    r = practice("rpm", "start", "456", "--date", "2026-10-20", "--as", "Maria Santos", "--today", TODAY)
    assert r.stdout == "unchanged: patient 456 RPM episode from 2026-10-20 (BP cuff)\n"

    file = export(workdir / "vendor.csv", date(2026, 10, 20), 35)  # Oct 20 .. Nov 23
    r = practice("rpm", "readings", "import", str(file), "--today", TODAY)
    assert (r.exit_code, r.stdout) == (0, "imported vendor.csv: 70 rows, 35 patient-days with data, 35 new (patient, day, device) rows\n")
    r = practice("rpm", "readings", "import", str(file), "--today", TODAY)
    assert r.stdout == "imported vendor.csv: 70 rows, 35 patient-days with data, 0 new (patient, day, device) rows\n"

    status = practice("status", "456", "--today", TODAY).stdout.splitlines()
    assert "  RPM devices, Oct 20 - Nov 18: 30 data days: 99454 + 99453, date of service 2026-11-18" in status
    assert (
        "  RPM devices (episode from 2026-10-20, BP cuff): 5 data days in the period ending Dec 18 (from Nov 19; billed in December); "
        "99445 reached; 11 more for 99454, 22 days left"
    ) in status

    rows = [r for r in csv.DictReader(io.StringIO(practice("report", "--month", "2026-11").stdout)) if r["patient"] == "456"]
    assert [(r["program"], r["code"], r["amount"], r["date_of_service"], r["period_start"], r["period_end"], r["data_days"]) for r in rows] == [
        ("RPM", "99454", "47.06", "2026-11-18", "2026-10-20", "2026-11-18", "30"),
        ("RPM", "99453", "21.71", "2026-11-18", "2026-10-20", "2026-11-18", "30"),
    ]
    [entry] = [e for e in json.loads(practice("report", "--month", "2026-11", "--format", "json").stdout) if e["patient"] == "456"]
    assert [(c["code"], c["period_end"], c["data_days"]) for c in entry["codes"]] == [("99454", "2026-11-18", 30), ("99453", "2026-11-18", 30)]
    october = [r for r in csv.DictReader(io.StringIO(practice("report", "--month", "2026-10").stdout)) if r["patient"] == "456"]
    assert [r["code"] for r in october] == [""]  # the period ends in November: nothing in October

    r = practice("rpm", "stop", "456", "--date", "2026-11-25", "--as", "Tyler Brooks", "--today", TODAY)
    assert (r.exit_code, r.stdout) == (0, "stopped: patient 456 RPM episode from 2026-10-20 to 2026-11-25 (BP cuff)\n")
    rows = [r for r in csv.DictReader(io.StringIO(practice("report", "--month", "2026-11").stdout)) if r["patient"] == "456"]
    # The last period now ends with the episode, Nov 25: Nov 19..23 are 5 data days, 99445 (2026) in November.
    assert [(r["code"], r["date_of_service"], r["data_days"]) for r in rows] == [("99454", "2026-11-18", "30"), ("99453", "2026-11-18", "30"), ("99445", "2026-11-25", "5")]

    audit = [r for r in csv.DictReader(io.StringIO(practice("audit", "export", "--month", "2026-11", "--patient", "456").stdout)) if r["program"] == "RPM"]
    assert [(r["action"], r["service_or_effective_date"], r["changed_by"]) for r in audit] == [
        ("RPM started", "2026-10-20", "Maria Santos"),
        ("RPM stopped", "2026-11-25", "Tyler Brooks"),
    ]


def test_refusals_exit_2_and_a_bad_file_lists_every_row(practice: Ccmbot, workdir: Path) -> None:
    r = practice("rpm", "start", "456", "--as", "Dana Whitfield", "--today", TODAY)  # an admin, but non-clinical
    assert r.exit_code == 2 and "Only clinical staff and practitioners can start or stop RPM" in r.stderr
    r = practice("rpm", "start", "456", "--date", "2026-11-28", "--as", "Maria Santos", "--today", TODAY)
    assert (r.exit_code, r.stderr) == (2, "error: 2026-11-28 is in the future; RPM can be started for today or earlier.\n")
    r = practice("rpm", "stop", "456", "--today", TODAY)
    assert r.exit_code == 2 and "has no RPM episode running" in r.stderr
    bad = workdir / "bad.csv"
    bad.write_text("patient_key,taken_at\n456,2026-11-03\n999,2026-11-03\n456,11/03/2026\n456,2026-12-01\n", encoding="utf-8")
    r = practice("rpm", "readings", "import", str(bad), "--today", TODAY)
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        "error: bad.csv line 3, column patient_key: no patient with this key is on the roster",
        "error: bad.csv line 4, column taken_at: '11/03/2026' is not a date or an ISO 8601 timestamp; write 2026-11-03 or 2026-11-03T08:15:00-05:00",
        "error: bad.csv line 5, column taken_at: 2026-12-01 is in the future",
        "error: 3 problem(s) in bad.csv; nothing was imported.",
    ]
    r = practice("rpm", "readings", "import", str(export(workdir / "ok.csv", date(2026, 11, 1), 3)), "--today", TODAY)
    assert r.stdout.endswith("3 new (patient, day, device) rows\n")
