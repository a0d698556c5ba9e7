"""Consent events: history is never overwritten; a change adds a row, audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import audit
from storage.errors import FutureDate, InvalidValue
from storage.models import Consent, ConsentStatus, Patient, Program, Staff, utcnow

CONSENT_METHODS = ("verbal", "written")


def current_consent(session: Session, patient: Patient, program: str, as_of: date | None = None) -> Consent | None:
    query = select(Consent).where(Consent.patient_id == patient.id, Consent.program == program)
    if as_of is not None:
        query = query.where(Consent.effective_date <= as_of)
    return session.scalars(query.order_by(Consent.effective_date.desc(), Consent.id.desc()).limit(1)).first()


def record_consent(
    session: Session,
    patient: Patient,
    *,
    program: str,
    status: str,
    effective_date: date,
    by: Staff | None,
    method: str | None = None,
    today: date,
) -> Consent | None:
    """Add a consent row (history is never overwritten). Returns None when it would change nothing."""
    if program not in {p.value for p in Program}:
        raise InvalidValue(f"{program!r} is not a program; use CCM, PCM, RPM or BHI.")
    if status not in {s.value for s in ConsentStatus}:
        raise InvalidValue(f"{status!r} is not a consent status; use granted, declined or revoked.")
    if method is not None and method not in CONSENT_METHODS:
        raise InvalidValue(f"{method!r} is not a consent method; use verbal or written.")
    if effective_date > today:
        raise FutureDate(f"{effective_date.isoformat()} is in the future; consent can only be recorded for today or earlier.")
    latest = current_consent(session, patient, program)
    # A grant is given for the billing practitioner of the day: after a change of practitioner
    # the same grant again is new consent, not a repeat.
    practitioner_id = patient.billing_practitioner_id
    if latest and (latest.status, latest.method, latest.effective_date, latest.practitioner_id) == (status, method, effective_date, practitioner_id):
        return None
    consent = Consent(
        patient_id=patient.id,
        program=program,
        status=status,
        method=method,
        effective_date=effective_date,
        recorded_by_id=by.id if by else None,
        recorded_at=utcnow(),
        practitioner_id=practitioner_id,
    )
    session.add(consent)
    session.flush()
    audit(
        session,
        by,
        "consent.record",
        "consent",
        consent.id,
        None if latest is None else {"status": latest.status, "method": latest.method, "date": latest.effective_date.isoformat()},
        {"patient_id": patient.id, "program": program, "status": status, "method": method, "date": effective_date.isoformat(), "practitioner_id": practitioner_id},
    )
    return consent
