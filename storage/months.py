"""Month close and reopen (admins), and per-patient month facts (complex medical decision making)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import audit
from storage.errors import ClosedMonth, FutureDate, InvalidValue, NotAllowed
from storage.models import MonthClose, Patient, PatientMonthFact, Staff, utcnow
from storage.records import ComplexMark


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def is_month_closed(session: Session, day: date) -> bool:
    row = session.get(MonthClose, first_of_month(day))
    return bool(row and row.is_closed)


# A complex month's reason is shown in status replies and the report: a short line of plain text.
COMPLEX_REASON_MIN, COMPLEX_REASON_MAX = 3, 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ComplexOutcome = Literal["marked", "updated", "unchanged", "unmarked", "not_marked"]


def complex_reason(raw: str | None) -> str:
    """Why a month is complex, as stored; InvalidValue in one line when it is missing, too short,
    too long or holds a control character (the value itself is never repeated: it is clinical)."""
    value = (raw or "").strip()
    if not value:
        raise InvalidValue("A month marked complex needs a reason: the moderate or high complexity decision making, in a few words.")
    if _CONTROL.search(value):
        raise InvalidValue("The reason holds a character that is not text (a control character such as a line break or a tab); type it again on one line.")
    if not COMPLEX_REASON_MIN <= len(value) <= COMPLEX_REASON_MAX:
        raise InvalidValue(f"A reason is {COMPLEX_REASON_MIN} to {COMPLEX_REASON_MAX} characters; this one has {len(value)}.")
    return value


def _fact(session: Session, patient: Patient, month: date) -> PatientMonthFact | None:
    return session.scalars(select(PatientMonthFact).where(PatientMonthFact.patient_id == patient.id, PatientMonthFact.month == month)).one_or_none()


def _complex_snapshot(fact: PatientMonthFact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {"complex_mdm": fact.complex_mdm, "reason": fact.complex_reason, "marked_by_id": fact.marked_by_id}


def set_complex_month(session: Session, patient: Patient, month: date, *, reason: str | None, by: Staff | None, today: date) -> ComplexOutcome:
    """Mark a patient-month as complex CCM with a reason, or unmark it (reason=None), audited with
    before and after. Everything is checked before anything is written: the reason, a month that
    has not started, a closed month. Marking again with the same reason changes nothing; with
    another reason it updates the reason; unmarking a month that is not marked changes nothing.

    by: who marked it (None: the roster import or the shell). Who may do it is the use case's
    rule (bot.assistant), not this function's."""
    month = first_of_month(month)
    text = None if reason is None else complex_reason(reason)
    if month > first_of_month(today):
        raise FutureDate(f"{month:%B %Y} has not started yet; a month can be marked complex once it has begun.")
    if is_month_closed(session, month):
        raise ClosedMonth(f"{month:%B %Y} is closed for billing; an admin must reopen it first.")
    fact = _fact(session, patient, month)
    before = _complex_snapshot(fact)
    if text is None:
        if fact is None or not fact.complex_mdm:
            return "not_marked"
        fact.complex_mdm, fact.complex_reason, fact.marked_by_id, fact.marked_at = False, None, None, None
        outcome: ComplexOutcome = "unmarked"
    else:
        if fact is not None and fact.complex_mdm and fact.complex_reason == text:
            return "unchanged"
        outcome = "updated" if fact is not None and fact.complex_mdm else "marked"
        if fact is None:
            fact = PatientMonthFact(patient_id=patient.id, month=month)
            session.add(fact)
        fact.complex_mdm, fact.complex_reason, fact.marked_by_id, fact.marked_at = True, text, by.id if by else None, utcnow()
    session.flush()
    after = {**(_complex_snapshot(fact) or {}), "patient_id": patient.id, "month": month.isoformat()}
    audit(session, by, "complex.mark" if text is not None else "complex.unmark", "patient_month_fact", fact.id, before, after)
    session.flush()
    return outcome


def complex_marks(session: Session, month: date, patient_ids: Iterable[int] | None = None) -> dict[int, ComplexMark]:
    """The month's complex marks by patient id (of those patients, or all): a handful of rows."""
    month = first_of_month(month)
    query = (
        select(PatientMonthFact.patient_id, PatientMonthFact.complex_reason, Staff.name)
        .outerjoin(Staff, Staff.id == PatientMonthFact.marked_by_id)
        .where(PatientMonthFact.month == month, PatientMonthFact.complex_mdm.is_(True))
    )
    if patient_ids is not None:
        query = query.where(PatientMonthFact.patient_id.in_(list(patient_ids)))
    return {pid: ComplexMark(pid, month, reason or "", name) for pid, reason, name in session.execute(query)}


def _require_admin(by: Staff) -> None:
    from storage.roster import require_active_staff  # here, not above: the roster's import applies complex marks

    require_active_staff(by)
    if not by.is_admin:
        raise NotAllowed("Only an admin can close or reopen a month.")


def close_month(session: Session, month: date, *, by: Staff) -> MonthClose:
    _require_admin(by)
    month = first_of_month(month)
    row = session.get(MonthClose, month)
    before = None if row is None else {"is_closed": row.is_closed}
    if row is None:
        row = MonthClose(month=month)
        session.add(row)
    row.is_closed, row.closed_at, row.closed_by_id = True, utcnow(), by.id
    audit(session, by, "month.close", "month", month.isoformat(), before, {"is_closed": True})
    session.flush()
    return row


def reopen_month(session: Session, month: date, *, by: Staff) -> MonthClose:
    _require_admin(by)
    month = first_of_month(month)
    row = session.get(MonthClose, month)
    if row is None or not row.is_closed:
        raise InvalidValue(f"{month:%B %Y} is not closed.")
    row.is_closed, row.reopened_at, row.reopened_by_id = False, utcnow(), by.id
    audit(session, by, "month.reopen", "month", month.isoformat(), {"is_closed": True}, {"is_closed": False})
    session.flush()
    return row
