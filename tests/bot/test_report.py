"""The month report from a real database through the engine: JSON, CSV, status text."""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.billing import Policy
from bot.evaluation import month_results
from bot.report import as_csv, as_json, describe
from storage.consents import record_consent
from storage.entries import EntryDraft, log_entries
from storage.months import set_complex_month
from tests.conftest import TODAY

NOV = date(2026, 11, 1)


def log(s, staff, key, minutes, day, activity="care_plan", program=None, group=None, interactive=None):
    log_entries(
        s,
        [EntryDraft(key, minutes, day, activity, program, interactive=interactive)],
        performed_by=staff,
        logged_by=staff,
        source="cli",
        source_group=group or f"{key}-{day}-{minutes}-{staff.id}-{program}-{activity}",
        today=TODAY,
        max_minutes=240,
    )


def test_report_json_csv_and_status(session, roster):
    roster.patient("123", consent=date(2026, 2, 1))
    roster.patient("0456", consent=date(2026, 2, 1), programs="CCM;RPM")
    late = roster.patient("789", consent=None)
    record_consent(session, late, program="CCM", status="granted", method="verbal", effective_date=date(2026, 11, 15), by=roster.doctor, today=TODAY)
    roster.patient("900", consent=date(2026, 2, 1))
    log(session, roster.nurse, "123", 15, date(2026, 11, 3))
    log(session, roster.ma, "123", 10, date(2026, 11, 27))
    log(session, roster.clerk, "123", 30, date(2026, 11, 20))  # non-clinical: never counted
    log(session, roster.nurse, "123", 40, date(2026, 10, 30))  # October: not in November
    log(session, roster.nurse, "0456", 45, date(2026, 11, 5))
    log(session, roster.nurse, "0456", 22, date(2026, 11, 6), activity="patient_outreach", program="RPM", interactive=True)
    log(session, roster.nurse, "789", 15, date(2026, 11, 10))  # before consent: does not count
    log(session, roster.nurse, "789", 10, date(2026, 11, 20))
    log(session, roster.nurse, "900", 95, date(2026, 11, 20), group="900a")
    set_complex_month(session, roster.patient("900", consent=date(2026, 2, 1)), NOV, reason="new insulin regimen", by=roster.doctor, today=TODAY)

    items = {i.patient.key: i for i in month_results(session, NOV, Policy())}
    j = as_json(items["123"])
    assert j == {
        "patient": "123",
        "month": "2026-11",
        "billing_practitioner": "Dr. Okafor",
        "codes": [{"code": "99490", "units": 1, "amount": 66.13}],
        "minutes": {"CCM": {"practitioner": 0, "clinical_staff": 25, "non_clinical": 30}},
        "blockers": [],
        "date_of_service": "2026-11-30",
        "next": [{"program": "CCM", "code": "99439", "minutes_needed": 15}],
        "estimate": True,
        "complex_mdm": False,
        "complex_reason": None,
        "complex_marked_by": None,
    }
    assert [(c["code"], c["units"]) for c in as_json(items["0456"])["codes"]] == [("99490", 1), ("99439", 1), ("99457", 1)]
    late_json = as_json(items["789"])
    assert late_json["codes"] == [] and late_json["next"] == [{"program": "CCM", "code": "99490", "minutes_needed": 10}]
    assert [(c["code"], c["units"]) for c in as_json(items["900"])["codes"]] == [("99487", 1), ("99489", 1)]
    rows = list(csv.DictReader(io.StringIO(as_csv(items.values()))))
    assert [(r["patient"], r["code"], r["units"]) for r in rows if r["patient"] == "0456"] == [
        ("0456", "99490", "1"),
        ("0456", "99439", "1"),
        ("0456", "99457", "1"),
    ]
    assert [r["blockers"] for r in rows if r["patient"] == "789"] == ["CCM: below the first threshold [below_threshold]"]
    text = describe(items["123"])
    assert "25 countable" in text and "99490" in text and "15 more min for 99439" in text


def test_the_streamed_report_equals_the_whole_month(session, roster):
    """The report makes each patient's result as it writes the row; the rows and totals equal
    those of the whole month evaluated at once, and a stream is made lazily (nothing is
    evaluated before the first row is taken)."""
    from bot.evaluation import stream_month_results
    from bot.patient_month import Tally, summarize

    for n in range(7):
        roster.patient(f"{n:04d}", consent=date(2026, 2, 1), programs="CCM;RPM" if n % 3 == 0 else "CCM")
        log(session, roster.nurse, f"{n:04d}", 5 + 7 * n, date(2026, 11, 3 + n))
    whole = month_results(session, NOV, Policy())
    for chunk in (1, 2, 3, 7, 50):  # ranges of keys: none lost or repeated at a range's edge
        tally = Tally()
        stream = tally.counting(stream_month_results(session, NOV, Policy(), chunk=chunk))
        assert tally.patients == 0
        streamed = list(stream)
        assert [i.patient.key for i in streamed] == [i.patient.key for i in whole]
        assert as_csv(streamed) == as_csv(whole)
        assert tally.summary() == summarize(whole)
