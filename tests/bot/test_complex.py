"""Complex CCM end to end through the assistant: who may mark a month, what a complex month bills,
and what status, the report and the reminders' lines say about it (the chat transcript is
tests/transcripts/complex.txt)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.assistant import Assistant, ComplexMarked, Message
from bot.billing import ConsentEvent, Minutes, MonthFacts, Policy, evaluate
from bot.config import Settings
from bot.evaluation import month_results
from bot.patient_month import PatientMonth
from bot.replies import ReplyKind, need_line
from bot.report import describe, write_json
from bot.worklist import needs_time
from storage.db import Database
from storage.models import AuditEvent, PatientMonthFact
from storage.months import complex_marks
from storage.records import ComplexMark, PatientRecord
from tests.conftest import TODAY, Roster

NOV = date(2026, 11, 1)
REASON = "new insulin regimen, 3 specialists"


def make(db: Database) -> Assistant:
    return Assistant(db, Settings(database_url=db.url))


def say(assistant: Assistant, user: str, text: str) -> str:
    return assistant.handle(Message(user, text, today=TODAY)).text


def codes(assistant: Assistant, session: Session, key: str = "123") -> list[tuple[str, int]]:
    session.expire_all()
    [item] = month_results(session, NOV, assistant.policy, patient_keys=[key])
    return [(c.code, c.units) for c in item.result.codes]


def fact_rows(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(PatientMonthFact)) or 0)


def test_seventy_staff_minutes_bill_99487_when_complex_and_99490_99439_when_not(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    say(assistant, "UNURSE", "70 min care coordination pt 123")
    assert codes(assistant, session) == [("99490", 1), ("99439", 2)]

    done = assistant.mark_complex("UDOC", "123", reason=REASON, today=TODAY)
    assert isinstance(done, ComplexMarked) and (done.outcome, done.month, done.reason) == ("marked", NOV, REASON)
    assert codes(assistant, session) == [("99487", 1)]  # no 99489 before 90 minutes
    say(assistant, "UNURSE", "19 min care coordination pt 123")
    assert codes(assistant, session) == [("99487", 1)]
    say(assistant, "UNURSE", "1 min call pt 123")
    assert codes(assistant, session) == [("99487", 1), ("99489", 1)]
    say(assistant, "UNURSE", "undo")
    say(assistant, "UNURSE", "undo")

    status = say(assistant, "UNURSE", "status 123").splitlines()
    assert status[:3] == [
        "Patient 123, November 2026 so far:",
        "Billing practitioner: Dr. Okafor",
        f"Complex CCM (moderate/high MDM, marked by Dr. Okafor: {REASON}) \u2014 99487 at 60 min, +99489 per further 30 min",
    ]
    assert "Billable: 99487, $144.29 (estimated), date of service 2026-11-30" in status
    assert "Next: 20 more min for 99489 (CCM)" in status

    reply, text = assistant.report("UDOC", "2026-11", today=TODAY)
    assert reply.kind == ReplyKind.REPORT and text is not None
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["code"], row["billing_practitioner"], row["complex_mdm"], row["complex_reason"], row["complex_marked_by"], row["amount_is_estimate"]) == (
        "99487", "Dr. Okafor", "yes", REASON, "Dr. Okafor", "yes",
    )  # fmt: skip
    items = month_results(session, NOV, assistant.policy)
    buffer = io.StringIO()
    write_json(items, buffer, complex_marks(session, NOV))
    [entry] = json.loads(buffer.getvalue())
    assert {k: entry[k] for k in ("billing_practitioner", "complex_mdm", "complex_reason", "complex_marked_by", "estimate")} == {
        "billing_practitioner": "Dr. Okafor", "complex_mdm": True, "complex_reason": REASON, "complex_marked_by": "Dr. Okafor", "estimate": True,
    }  # fmt: skip

    off = assistant.mark_complex("UDOC", "123", reason=None, today=TODAY)
    assert isinstance(off, ComplexMarked) and off.outcome == "unmarked" and off.reason is None
    assert codes(assistant, session) == [("99490", 1), ("99439", 2)]
    status = say(assistant, "UNURSE", "status 123").splitlines()
    assert "Complex CCM: not marked (the standard 99490/99491 ladders)" in status
    _, text = assistant.report("UDOC", "2026-11", today=TODAY)
    assert {(r["code"], r["complex_mdm"], r["complex_reason"]) for r in csv.DictReader(io.StringIO(text or ""))} == {("99490", "no", ""), ("99439", "no", "")}


def test_clinical_staff_are_refused_and_nothing_is_written(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    for user in ("UNURSE", "UMA", "UCLERK"):
        refused = assistant.mark_complex(user, "123", reason=REASON, today=TODAY)
        assert not isinstance(refused, ComplexMarked) and refused.kind == ReplyKind.REFUSED
        assert refused.text.startswith("Only practitioners (physician, NP, PA, CNS, CNM) and admins can mark a month complex")
        chat = assistant.handle(Message(user, f"complex 123: {REASON}", today=TODAY))
        assert chat.kind == ReplyKind.REFUSED
        assert assistant.handle(Message(user, "not complex 123", today=TODAY)).kind == ReplyKind.REFUSED
    assert fact_rows(session) == 0


def test_a_practitioner_who_is_not_an_admin_may_mark_it(db: Database, roster: Roster) -> None:
    roster.staff("Jordan Lee", "np", "UNP")
    roster.s.commit()
    roster.patient("123")
    done = make(db).mark_complex("Jordan Lee", "123", reason=REASON, today=TODAY)
    assert isinstance(done, ComplexMarked) and done.outcome == "marked"


@pytest.mark.parametrize(
    ("key", "reason", "month", "expected"),
    [
        ("999", REASON, None, "Patient 999 is not on the roster"),
        ("123", "", None, "A month marked complex needs a reason"),
        ("123", "ok", None, "A reason is 3 to 200 characters; this one has 2."),
        ("123", "a\x00b c", None, "control character"),
        ("123", REASON, date(2026, 10, 1), "October 2026 is closed for billing"),
        ("123", REASON, date(2026, 12, 1), "December 2026 has not started yet"),
    ],
)
def test_refusals_change_nothing(db: Database, roster: Roster, session: Session, key: str, reason: str, month: date | None, expected: str) -> None:
    roster.patient("123")
    assistant = make(db)
    say(assistant, "UDOC", "close 2026-10")
    audits = session.scalar(select(func.count()).select_from(AuditEvent))
    refused = assistant.mark_complex("UDOC", key, reason=reason, month=month, today=TODAY)
    assert not isinstance(refused, ComplexMarked) and refused.kind.is_refusal and expected in refused.text
    assert fact_rows(session) == 0
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audits


def test_chat_without_a_reason_asks_for_one_and_a_closed_month_is_refused(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    asked = assistant.handle(Message("UDOC", "complex 123 for October", today=TODAY))
    assert asked.kind == ReplyKind.ERROR
    assert asked.text == 'Say why in a few words: "complex 123 for October: new insulin regimen, 3 specialists". Nothing was changed.'
    say(assistant, "UDOC", "close 2026-10")
    assert say(assistant, "UDOC", f"complex 123 for October: {REASON}") == "October 2026 is closed for billing; an admin must reopen it first."
    assert say(assistant, "UDOC", "not complex 123 for october") == "October 2026 is closed for billing; an admin must reopen it first."
    assert fact_rows(session) == 0
    # Last month, once reopened: marked for October, not November.
    say(assistant, "UDOC", "reopen 2026-10")
    marked = assistant.handle(Message("UDOC", f"complex 123 last month - {REASON}", today=TODAY))
    assert marked.kind == ReplyKind.COMPLEX and marked.text.startswith(f"Marked patient 123's October as complex CCM (moderate/high MDM): {REASON}.")
    assert list(complex_marks(session, date(2026, 10, 1))) and not complex_marks(session, NOV)
    assert say(assistant, "UDOC", "not complex 123 for october for a mistake").startswith("Nothing was changed. Say it like")


def test_a_complex_confirmation_is_private_in_a_channel() -> None:
    assert ReplyKind.COMPLEX.private_in_channel and not ReplyKind.COMPLEX.is_refusal


def _item(month: date, minutes: int, *, complex_mdm: bool, practitioner: str | None = "Dr. Lee") -> PatientMonth:
    facts = MonthFacts(
        month=month,
        minutes=(Minutes("CCM", "clinical_staff", minutes),),
        consents=(ConsentEvent("CCM", "granted", date(2024, 1, 2)),),
        chronic_conditions=3,
        care_plan_date=date(2024, 1, 2),
        initiating_visit_date=date(2024, 1, 2),
        complex_mdm=complex_mdm,
    )
    record = PatientRecord(1, "123", None, ("CCM",), 3, date(2024, 1, 2), date(2024, 1, 2), 7 if practitioner else None, practitioner)
    return PatientMonth(record, facts, evaluate(facts))


def test_status_says_whether_amounts_are_official_or_estimated() -> None:
    official = describe(_item(date(2025, 11, 1), 70, complex_mdm=True), mark=ComplexMark(1, date(2025, 11, 1), "new insulin regimen", "Dr. Lee"))
    assert "  Billable: 99487, $131.65 (official), date of service 2025-11-30" in official.splitlines()
    assert "Complex CCM (moderate/high MDM, marked by Dr. Lee: new insulin regimen)" in official
    estimated = describe(_item(NOV, 70, complex_mdm=False, practitioner=None))
    assert "  Billing practitioner: none on file" in estimated.splitlines()
    assert "Billable: 99490, 99439 x2, $167.01 (estimated)" in estimated


def test_the_reminders_speak_of_99487_for_a_complex_month() -> None:
    """Below 20 minutes the engine names 99490 as the next code even in a complex month; the line
    says what the month aims at. From 20 minutes the engine's next step is 99487 itself, "of 60"."""
    [short] = needs_time([_item(NOV, 12, complex_mdm=True)], Policy())
    assert need_line(short) == "• 123: 8 min to 99490 (12 of 20); complex month: 99487 at 60 min"
    [plain] = needs_time([_item(NOV, 12, complex_mdm=False)], Policy())
    assert need_line(plain) == "• 123: 8 min to 99490 (12 of 20)"
    step = _item(NOV, 45, complex_mdm=True).result.next_for("CCM")
    assert step is not None and (step.code, step.at, step.minutes_needed) == ("99487", 60, 15)
