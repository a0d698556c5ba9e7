"""Month close and reopen (admins), and per-patient month facts (complex medical decision making)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import audit
from storage.errors import ClosedMonth, InvalidValue, NotAllowed
from storage.models import MonthClose, Patient, PatientMonthFact, Staff, utcnow
from storage.roster import require_active_staff


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def is_month_closed(session: Session, day: date) -> bool:
    row = session.get(MonthClose, first_of_month(day))
    return bool(row and row.is_closed)


def set_complex_mdm(session: Session, patient: Patient, month: date, flag: bool, *, by: Staff) -> None:
    month = first_of_month(month)
    if is_month_closed(session, month):
        raise ClosedMonth(f"{month:%B %Y} is closed for billing; an admin must reopen it first.")
    fact = session.scalars(
        select(PatientMonthFact).where(PatientMonthFact.patient_id == patient.id, PatientMonthFact.month == month)
    ).one_or_none()
    before = None if fact is None else {"complex_mdm": fact.complex_mdm}
    if fact is None:
        fact = PatientMonthFact(patient_id=patient.id, month=month, complex_mdm=flag)
        session.add(fact)
    else:
        fact.complex_mdm = flag
    session.flush()
    audit(session, by, "month_fact.set", "patient_month_fact", fact.id, before, {"complex_mdm": flag, "month": month.isoformat()})
    session.flush()


def _require_admin(by: Staff) -> None:
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
