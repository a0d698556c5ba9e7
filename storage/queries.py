"""The read path. Aggregates are computed in SQL, never by loading every entry.

Each function runs a fixed, small number of queries whatever the panel size.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from storage.models import TOTAL_COLUMNS, Consent, MonthTotal, Patient, PatientMonthFact, Staff, TimeEntry

# minutes[program][track] -> total minutes
MinutesByProgram = dict[str, dict[str, int]]


class ConsentState(NamedTuple):
    """A consent row as read (a tuple: made by the tens of thousands for the panel, cheaply)."""

    program: str
    status: str  # granted | declined | revoked
    method: str | None
    effective_date: date


@dataclass(slots=True)
class PanelRow:
    patient_id: int
    key: str
    label: str | None
    programs: list[str]
    chronic_conditions: int
    care_plan_date: date | None
    initiating_visit_date: date | None
    billing_practitioner_id: int | None
    billing_practitioner: str | None
    minutes: MinutesByProgram = field(default_factory=dict)
    consents: dict[str, ConsentState] = field(default_factory=dict)  # latest as of the month's last day

    def total_minutes(self, program: str | None = None) -> int:
        programs = [program] if program else list(self.minutes)
        return sum(sum(self.minutes.get(p, {}).values()) for p in programs)


def _active_in(start: date, end: date) -> list:
    return [TimeEntry.service_date >= start, TimeEntry.service_date <= end, TimeEntry.voided_at.is_(None)]


TOTAL_FIELDS = [(program, track, getattr(MonthTotal, column)) for (program, track), column in TOTAL_COLUMNS.items()]


_TOTAL_KEYS = [(program, track) for program, track, _ in TOTAL_FIELDS]


def _minutes_from_row(values: Sequence[int | None]) -> MinutesByProgram:
    # Called once per patient on the panel's path: a plain loop, no zip of tuples, no setdefault.
    out: MinutesByProgram = {}
    # compress() and filter() walk the nine columns in C and hand over only the non-zero ones.
    for (program, track), minutes in zip(compress(_TOTAL_KEYS, values), filter(None, values)):
        tracks = out.get(program)
        if tracks is None:
            tracks = out[program] = {}
        tracks[track] = minutes
    return out


def month_totals(session: Session, month_start: date, patient_ids: Iterable[int] | None = None) -> dict[int, MinutesByProgram]:
    """Active minutes per patient, program and track for one calendar month, from the ledger's totals."""
    query = select(MonthTotal.patient_id, *(f for _, _, f in TOTAL_FIELDS)).where(MonthTotal.month == month_start)
    if patient_ids is not None:
        query = query.where(MonthTotal.patient_id.in_(list(patient_ids)))
    rows = ((row[0], _minutes_from_row(row[1:])) for row in session.connection().execute(query).all())
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
    for patient_id, program, status, method, when in session.connection().execute(query).all():
        out.setdefault(patient_id, {})[program] = ConsentState(program, status, method, when)
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
) -> list[PanelRow]:
    """Every active patient with month totals, consent status and eligibility facts: two queries.

    with_consents=False skips the consent query for a caller that reads the whole history anyway.
    """
    with bulk_objects():
        return _panel(session, start, end, patient_keys=patient_keys, with_consents=with_consents)


def _panel(session: Session, start: date, end: date, *, patient_keys: Iterable[str] | None, with_consents: bool) -> list[PanelRow]:
    practitioner = aliased(Staff)
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
            practitioner.name,
            *(f for _, _, f in TOTAL_FIELDS),
        )
        .outerjoin(practitioner, practitioner.id == Patient.billing_practitioner_id)
        .outerjoin(MonthTotal, and_(MonthTotal.patient_id == Patient.id, MonthTotal.month == start))
        .where(Patient.active.is_(True))
        .order_by(Patient.key)
    )
    if patient_keys is not None:
        query = query.where(Patient.key.in_(list(patient_keys)))
    rows = [
        PanelRow(
            patient_id=r[0],
            key=r[1],
            label=r[2],
            programs=[p for p in r[3].split(";") if p],
            chronic_conditions=r[4],
            care_plan_date=r[5],
            initiating_visit_date=r[6],
            billing_practitioner_id=r[7],
            billing_practitioner=r[8],
            minutes=_minutes_from_row(r[9:]),
        )
        for r in session.connection().execute(query).all()  # one fetch, not a round of fetchone per row
    ]
    if with_consents:
        consents = latest_consents(session, end, [r.patient_id for r in rows] if patient_keys is not None else None)
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
        .where((TimeEntry.performed_by_id == staff_id) | (TimeEntry.logged_by_id == staff_id))
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
        .where((TimeEntry.performed_by_id == staff_id) | (TimeEntry.logged_by_id == staff_id))
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


def patients_with_activity(session: Session, start: date, end: date, program: str, activities: Iterable[str]) -> set[int]:
    """Patients with at least one active entry of the program and one of the activities in the dates."""
    query = (
        select(TimeEntry.patient_id)
        .where(*_active_in(start, end), TimeEntry.program == program, TimeEntry.activity.in_(list(activities)))
        .distinct()
    )
    return set(session.scalars(query))
