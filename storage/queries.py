"""The read path. Aggregates are computed in SQL, never by loading every entry.

Each function runs a fixed, small number of queries whatever the panel size.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, aliased

from storage.models import TOTAL_COLUMNS, Consent, MonthTotal, Patient, PatientMonthFact, Staff, TimeEntry, program_tuple
from storage.records import NO_MINUTES, ConsentState, MinutesByProgram, PatientRecord, minutes_from_totals


def _active_in(start: date, end: date) -> list[ColumnElement[bool]]:
    return [TimeEntry.service_date >= start, TimeEntry.service_date <= end, TimeEntry.voided_at.is_(None)]


def _own(staff_id: int) -> ColumnElement[bool]:
    """Entries a staff member performed, or logged for someone else."""
    return (TimeEntry.performed_by_id == staff_id) | (TimeEntry.logged_by_id == staff_id)


_TOTAL_COLUMNS = [getattr(MonthTotal, column) for column in TOTAL_COLUMNS.values()]


def _month_total_rows(session: Session, month_start: date, patient_ids: Iterable[int] | None) -> dict[int, tuple[int, ...]]:
    """The ledger's month totals per patient, as flat tuples in TOTAL_KEYS order."""
    query = select(MonthTotal.patient_id, *_TOTAL_COLUMNS).where(MonthTotal.month == month_start)
    if patient_ids is not None:
        query = query.where(MonthTotal.patient_id.in_(list(patient_ids)))
    return {row[0]: tuple(row[1:]) for row in session.connection().execute(query).all()}


def month_totals(session: Session, month_start: date, patient_ids: Iterable[int] | None = None) -> dict[int, MinutesByProgram]:
    """Active minutes per patient, program and track for one calendar month, from the ledger's totals."""
    rows = ((patient_id, minutes_from_totals(values)) for patient_id, values in _month_total_rows(session, month_start, patient_ids).items())
    return {patient_id: minutes for patient_id, minutes in rows if minutes}


def month_minutes(session: Session, start: date, end: date, patient_ids: Iterable[int] | None = None) -> dict[int, MinutesByProgram]:
    """Active minutes per patient, program and track between two local dates (inclusive)."""
    query = (
        select(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, func.sum(TimeEntry.minutes))
        .where(*_active_in(start, end))
        .group_by(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track)
    )
    if patient_ids is not None:
        query = query.where(TimeEntry.patient_id.in_(list(patient_ids)))
    out: dict[int, MinutesByProgram] = {}
    for patient_id, program, track, minutes in session.connection().execute(query):
        out.setdefault(patient_id, {}).setdefault(program, {})[track] = int(minutes)
    return out


def latest_consents(session: Session, as_of: date, patient_ids: Iterable[int] | None = None) -> dict[int, dict[str, ConsentState]]:
    """The newest consent row per patient and program dated on or before as_of.

    Consent rows are few (a handful per patient), so one ordered scan keeping the last row
    per key is cheaper than a window function over the whole history.
    """
    query = (
        select(Consent.patient_id, Consent.program, Consent.status, Consent.method, Consent.effective_date)
        .where(Consent.effective_date <= as_of)
        .order_by(Consent.patient_id, Consent.program, Consent.effective_date, Consent.id)
    )
    if patient_ids is not None:
        query = query.where(Consent.patient_id.in_(list(patient_ids)))
    out: dict[int, dict[str, ConsentState]] = {}
    make = ConsentState._make  # runs once per consent row on the panel's path: no unpacking, no setdefault
    for row in session.connection().execute(query).all():
        states = out.get(row[0])
        if states is None:
            states = out[row[0]] = {}
        states[row[1]] = make(row[1:])
    return out


def consent_history(session: Session, until: date, patient_ids: Iterable[int] | None = None) -> dict[int, list[ConsentState]]:
    """Every consent row dated on or before `until`, oldest first, per patient."""
    query = (
        select(Consent.patient_id, Consent.program, Consent.status, Consent.method, Consent.effective_date)
        .where(Consent.effective_date <= until)
        .order_by(Consent.patient_id, Consent.effective_date, Consent.id)
    )
    if patient_ids is not None:
        query = query.where(Consent.patient_id.in_(list(patient_ids)))
    out: dict[int, list[ConsentState]] = {}
    for patient_id, program, status, method, when in session.connection().execute(query).all():
        out.setdefault(patient_id, []).append(ConsentState(program, status, method, when))
    return out


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of small objects are made:
    they hold no cycles, and its passes over them cost more than the rows themselves."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def panel(
    session: Session, start: date, end: date, *, patient_keys: Iterable[str] | None = None, with_consents: bool = True
) -> list[PatientRecord]:
    """Every active patient with month totals, consent status and eligibility facts: two queries.

    with_consents=False skips the consent query for a caller that reads the whole history anyway.
    """
    with bulk_objects():
        return _panel(session, start, end, patient_keys=patient_keys, with_consents=with_consents)


def _panel(session: Session, start: date, end: date, *, patient_keys: Iterable[str] | None, with_consents: bool) -> list[PatientRecord]:
    conn = session.connection()
    # Patients, their month totals and staff names are fetched apart and joined here: the
    # joined query cost SQLite more than the three scans and two dict lookups per patient.
    names = dict(conn.execute(select(Staff.id, Staff.name)).all())
    query = (
        select(
            Patient.id,
            Patient.key,
            Patient.label,
            Patient.programs,
            Patient.chronic_conditions,
            Patient.care_plan_date,
            Patient.initiating_visit_date,
            Patient.billing_practitioner_id,
        )
        .where(Patient.active.is_(True))
        .order_by(Patient.key)
    )
    if patient_keys is not None:
        query = query.where(Patient.key.in_(list(patient_keys)))
    patients = conn.execute(query).all()  # one fetch, not a round of fetchone per row
    scope = [p[0] for p in patients] if patient_keys is not None else None
    totals = _month_total_rows(session, start, scope)
    rows = [
        PatientRecord(p[0], p[1], p[2], program_tuple(p[3]), p[4], p[5], p[6], p[7], names.get(p[7]) if p[7] is not None else None, totals.get(p[0], NO_MINUTES))
        for p in patients
    ]
    if with_consents:
        consents = latest_consents(session, end, scope)
        for row in rows:
            row.consents = consents.get(row.patient_id, {})
    return rows


@dataclass(frozen=True)
class StaffEntry:
    id: int
    patient_key: str
    minutes: int
    service_date: date
    activity: str
    program: str
    performed_by: str
    source_group: str


def staff_entries(session: Session, staff_id: int, start: date, end: date) -> list[StaffEntry]:
    """A staff member's own active entries (performed or logged by them) between two local dates."""
    performer = aliased(Staff)
    query = (
        select(TimeEntry, Patient.key, performer.name)
        .join(Patient, Patient.id == TimeEntry.patient_id)
        .join(performer, performer.id == TimeEntry.performed_by_id)
        .where(*_active_in(start, end))
        .where(_own(staff_id))
        .order_by(TimeEntry.service_date, TimeEntry.id)
    )
    return [
        StaffEntry(e.id, key, e.minutes, e.service_date, e.activity, e.program, name, e.source_group)
        for e, key, name in session.execute(query)
    ]


def patients_of(session: Session, staff_id: int, start: date, end: date) -> set[int]:
    """A staff member's own patients: those they logged or performed active time for between two
    dates, and those they are the billing practitioner of."""
    touched = (
        select(TimeEntry.patient_id)
        .where(*_active_in(start, end))
        .where(_own(staff_id))
    )
    billed = select(Patient.id).where(Patient.billing_practitioner_id == staff_id)
    return set(session.scalars(touched.union(billed)))


def complex_mdm_patients(session: Session, month_start: date, patient_ids: Iterable[int] | None = None) -> set[int]:
    query = select(PatientMonthFact.patient_id).where(and_(PatientMonthFact.month == month_start, PatientMonthFact.complex_mdm.is_(True)))
    if patient_ids is not None:
        query = query.where(PatientMonthFact.patient_id.in_(list(patient_ids)))
    return set(session.scalars(query))


def dated_minutes(session: Session, start: date, end: date, patient_ids: Iterable[int]) -> dict[int, list[tuple[str, str, date, int]]]:
    """Active minutes per day for the named patients: (program, track, day, minutes)."""
    ids = list(patient_ids)
    out: dict[int, list[tuple[str, str, date, int]]] = {}
    if not ids:
        return out
    query = (
        select(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, TimeEntry.service_date, func.sum(TimeEntry.minutes))
        .where(*_active_in(start, end), TimeEntry.patient_id.in_(ids))
        .group_by(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, TimeEntry.service_date)
    )
    for patient_id, program, track, day, minutes in session.connection().execute(query):
        out.setdefault(patient_id, []).append((program, track, day, int(minutes)))
    return out


def patients_with_interactive_contact(session: Session, start: date, end: date, program: str) -> set[int]:
    """Patients with at least one active entry of the program in the dates that was real-time contact
    with the patient or a caregiver (a call or visit, not a voicemail or a text)."""
    query = (
        select(TimeEntry.patient_id)
        .where(*_active_in(start, end), TimeEntry.program == program, TimeEntry.interactive.is_(True))
        .distinct()
    )
    return set(session.scalars(query))


def minutes_by_staff(session: Session, start: date, end: date) -> list[tuple[str, int, int]]:
    """(name, minutes, patients) per staff member who performed active time in the dates, most minutes first."""
    query = (
        select(Staff.name, func.sum(TimeEntry.minutes), func.count(func.distinct(TimeEntry.patient_id)))
        .join(Staff, Staff.id == TimeEntry.performed_by_id)
        .where(*_active_in(start, end))
        .group_by(Staff.name)
        .order_by(func.sum(TimeEntry.minutes).desc(), Staff.name)
    )
    return [(name, int(minutes), int(patients)) for name, minutes, patients in session.execute(query)]
