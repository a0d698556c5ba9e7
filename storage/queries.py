"""The read path. Aggregates are computed in SQL, never by loading every entry.

Each function runs a fixed, small number of queries whatever the panel size.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, and_, bindparam, func, literal_column, or_, select, text
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from storage.models import (
    LIVE_RPM_CALL,
    PRACTITIONER_ENTRY,
    TOTAL_COLUMNS,
    Consent,
    MonthTotal,
    Patient,
    PatientMonthFact,
    Staff,
    StaffMonthMinutes,
    TimeEntry,
    program_tuple,
)
from storage.records import NO_MINUTES, ConsentState, MinutesByProgram, PatientRecord, minutes_from_totals

# Which patients a read covers: a SELECT of patient ids (run inside the database, so a scope of
# 60,000 candidates costs no bound parameters), or None for every patient.
PatientScope = Select[Any] | None
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")  # any SELECT keeps its row type through a scope


def fixed_scope(session: Session, scope: PatientScope) -> PatientScope:
    """Run a scope's SELECT once and hand back its ids as one bound array, so the reads that
    follow do not each re-run the candidate query. One parameter whatever the number of ids:
    a JSON array on SQLite (whose statements take at most 32,766 parameters), an integer array
    on PostgreSQL."""
    if scope is None:
        return None
    return ids_scope(session, list(session.scalars(scope)))


def ids_scope(session: Session, ids: list[int]) -> Select[Any]:
    """A scope of patient ids known in Python, as one bound parameter (see fixed_scope)."""
    if session.get_bind().dialect.name == "postgresql":
        return select(func.unnest(bindparam("scope_ids", ids, type_=ARRAY(Integer))))
    return select(literal_column("value", Integer)).select_from(func.json_each(bindparam("scope_ids", json.dumps(ids))))


def key_ranges(session: Session, size: int, scope: PatientScope = None) -> list[tuple[str, str]]:
    """The active patients (of the scope) cut into ranges of `size` keys in key order: (first, last) keys."""
    keys = list(session.scalars(_in_scope(select(Patient.key).where(Patient.active.is_(True)).order_by(Patient.key), Patient.id, scope)))
    return [(keys[i], keys[min(i + size, len(keys)) - 1]) for i in range(0, len(keys), size)]


def patients_between(low: str, high: str, scope: PatientScope = None) -> Select[Any]:
    """The active patients (of the scope) whose keys sort from low to high: a range of the key index."""
    return _in_scope(select(Patient.id).where(Patient.active.is_(True), Patient.key >= low, Patient.key <= high), Patient.id, scope)


def keys_scope(keys: Iterable[str]) -> Select[Any]:
    """The patients with these keys (the one-patient reads: status, a log confirmation)."""
    return select(Patient.id).where(Patient.key.in_(list(keys)))


def _in_scope(query: Q, column: ColumnElement[int] | QueryableAttribute[int], scope: PatientScope) -> Q:
    return query if scope is None else query.where(column.in_(scope))


def _active_in(start: date, end: date) -> list[ColumnElement[bool]]:
    return [TimeEntry.service_date >= start, TimeEntry.service_date <= end, TimeEntry.voided_at.is_(None)]


def _own(staff_id: int) -> ColumnElement[bool]:
    """Entries a staff member performed, or logged for someone else."""
    return (TimeEntry.performed_by_id == staff_id) | (TimeEntry.logged_by_id == staff_id)


_TOTAL_COLUMNS = [getattr(MonthTotal, column) for column in TOTAL_COLUMNS.values()]


def _month_total_rows(session: Session, month_start: date, scope: PatientScope) -> dict[int, tuple[int, ...]]:
    """The ledger's month totals per patient, as flat tuples in TOTAL_KEYS order."""
    query = _in_scope(select(MonthTotal.patient_id, *_TOTAL_COLUMNS).where(MonthTotal.month == month_start), MonthTotal.patient_id, scope)
    return {row[0]: tuple(row[1:]) for row in session.connection().execute(query).all()}


def month_totals(session: Session, month_start: date, patient_ids: Iterable[int] | None = None) -> dict[int, MinutesByProgram]:
    """Active minutes per patient, program and track for one calendar month, from the ledger's totals."""
    scope = None if patient_ids is None else select(Patient.id).where(Patient.id.in_(list(patient_ids)))
    rows = ((patient_id, minutes_from_totals(values)) for patient_id, values in _month_total_rows(session, month_start, scope).items())
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


def latest_consents(session: Session, as_of: date, scope: PatientScope = None) -> dict[int, dict[str, ConsentState]]:
    """The newest consent row per patient and program dated on or before as_of.

    Consent rows are few (a handful per patient), so one ordered scan keeping the last row
    per key is cheaper than a window function over the whole history.
    """
    query = (
        select(Consent.patient_id, Consent.program, Consent.status, Consent.method, Consent.effective_date, Consent.practitioner_id)
        .where(Consent.effective_date <= as_of)
        .order_by(Consent.patient_id, Consent.program, Consent.effective_date, Consent.id)
    )
    query = _in_scope(query, Consent.patient_id, scope)
    out: dict[int, dict[str, ConsentState]] = {}
    make = ConsentState._make  # runs once per consent row on the panel's path: no unpacking, no setdefault
    for row in session.connection().execute(query).all():
        states = out.get(row[0])
        if states is None:
            states = out[row[0]] = {}
        states[row[1]] = make(row[1:])
    return out


def consent_history(session: Session, until: date, scope: PatientScope = None) -> dict[int, list[ConsentState]]:
    """Every consent row dated on or before `until`, oldest first, per patient."""
    query = (
        select(Consent.patient_id, Consent.program, Consent.status, Consent.method, Consent.effective_date, Consent.practitioner_id)
        .where(Consent.effective_date <= until)
        .order_by(Consent.patient_id, Consent.effective_date, Consent.id)
    )
    query = _in_scope(query, Consent.patient_id, scope)
    out: dict[int, list[ConsentState]] = {}
    for patient_id, program, status, method, when, practitioner_id in session.connection().execute(query).all():
        out.setdefault(patient_id, []).append(ConsentState(program, status, method, when, practitioner_id))
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
    session: Session, start: date, end: date, *, patient_keys: Iterable[str] | None = None, scope: PatientScope = None, with_consents: bool = True
) -> list[PatientRecord]:
    """Every active patient (or those of the scope, or with the keys) with month totals, consent
    status and eligibility facts: four queries whatever the number of patients.

    with_consents=False skips the consent query for a caller that reads the whole history anyway.
    """
    if patient_keys is not None:
        scope = keys_scope(patient_keys)
    with bulk_objects():
        return _panel(session, start, end, scope=scope, with_consents=with_consents)


def _panel(session: Session, start: date, end: date, *, scope: PatientScope, with_consents: bool) -> list[PatientRecord]:
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
    patients = conn.execute(_in_scope(query, Patient.id, scope)).all()  # one fetch, not a round of fetchone per row
    totals = _month_total_rows(session, start, scope)
    rows = [
        PatientRecord(
            p[0], p[1], p[2], program_tuple(p[3]), p[4], p[5], p[6], p[7], names.get(p[7]) if p[7] is not None else None, totals.get(p[0], NO_MINUTES)
        )
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


def staff_time_totals(session: Session, staff_id: int, start: date, end: date) -> tuple[int, int, int]:
    """(minutes, entries, patients) of a staff member's own active entries between two dates, in
    one aggregate: a physician's week at a large practice is tens of thousands of entries."""
    query = select(func.coalesce(func.sum(TimeEntry.minutes), 0), func.count(), func.count(func.distinct(TimeEntry.patient_id)))
    minutes, entries, patients = session.execute(query.where(*_active_in(start, end)).where(_own(staff_id))).one()
    return int(minutes), int(entries), int(patients)


def staff_entries(session: Session, staff_id: int, start: date, end: date, *, limit: int | None = None) -> list[StaffEntry]:
    """A staff member's own active entries (performed or logged by them) between two local dates
    (the first `limit` of them, oldest first, when given)."""
    performer = aliased(Staff)
    # Columns, not entities: a physician's week at a large practice is tens of thousands of rows.
    query = (
        select(TimeEntry.id, Patient.key, TimeEntry.minutes, TimeEntry.service_date, TimeEntry.activity, TimeEntry.program, performer.name, TimeEntry.source_group)
        .join(Patient, Patient.id == TimeEntry.patient_id)
        .join(performer, performer.id == TimeEntry.performed_by_id)
        .where(*_active_in(start, end))
        .where(_own(staff_id))
        .order_by(TimeEntry.service_date, TimeEntry.id)
        .limit(limit)
    )
    return [StaffEntry(*row) for row in session.execute(query)]


def patients_of(session: Session, staff_id: int, start: date, end: date) -> set[int]:
    """A staff member's own patients: those they logged or performed active time for between two
    dates, and those they are the billing practitioner of."""
    touched = select(TimeEntry.patient_id).where(*_active_in(start, end)).where(_own(staff_id))
    billed = select(Patient.id).where(Patient.billing_practitioner_id == staff_id)
    return set(session.scalars(touched.union(billed)))


def staff_patients(session: Session, start: date, end: date, scope: PatientScope) -> dict[int, set[int]]:
    """patients_of for every staff member at once, limited to the scope: one read whatever the
    number of staff (the nudges ask it once per run, not once per person)."""
    performed = _in_scope(select(TimeEntry.performed_by_id, TimeEntry.patient_id).where(*_active_in(start, end)), TimeEntry.patient_id, scope)
    logged = _in_scope(select(TimeEntry.logged_by_id, TimeEntry.patient_id).where(*_active_in(start, end)), TimeEntry.patient_id, scope)
    billed = _in_scope(select(Patient.billing_practitioner_id, Patient.id).where(Patient.billing_practitioner_id.is_not(None)), Patient.id, scope)
    out: dict[int, set[int]] = {}
    for staff_id, patient_id in session.execute(performed.union(logged, billed)):
        out.setdefault(staff_id, set()).add(patient_id)
    return out


def patient_counts(session: Session, as_of: date) -> tuple[int, int]:
    """(active patients, those whose newest consent row for some program, as of the day, is a grant)."""
    newest = (
        select(
            Consent.patient_id,
            Consent.status,
            func.row_number().over(partition_by=(Consent.patient_id, Consent.program), order_by=(Consent.effective_date.desc(), Consent.id.desc())).label("n"),
        )
        .where(Consent.effective_date <= as_of)
        .subquery()
    )
    granted = select(newest.c.patient_id).where(newest.c.n == 1, newest.c.status == "granted")
    active = select(func.count()).select_from(Patient).where(Patient.active.is_(True))
    consented = active.where(Patient.id.in_(granted))
    return int(session.scalar(active) or 0), int(session.scalar(consented) or 0)


def complex_mdm_patients(session: Session, month_start: date, scope: PatientScope = None) -> set[int]:
    query = select(PatientMonthFact.patient_id).where(and_(PatientMonthFact.month == month_start, PatientMonthFact.complex_mdm.is_(True)))
    return set(session.scalars(_in_scope(query, PatientMonthFact.patient_id, scope)))


def consent_changed_in(start: date, end: date, scope: PatientScope = None) -> Select[Any]:
    """Patients (of the scope) with a consent row dated between two days: their minutes need their dates."""
    query = select(Consent.patient_id).where(Consent.effective_date >= start, Consent.effective_date <= end)
    return _in_scope(query, Consent.patient_id, scope)


def dated_minutes(session: Session, start: date, end: date, *scopes: PatientScope) -> dict[int, list[tuple[str, str, date, int]]]:
    """Active minutes per day of the patients in every scope given: (program, track, day, minutes)."""
    out: dict[int, list[tuple[str, str, date, int]]] = {}
    query = (
        select(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, TimeEntry.service_date, func.sum(TimeEntry.minutes))
        .where(*_active_in(start, end))
        .group_by(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, TimeEntry.service_date)
    )
    for scope in scopes:
        query = _in_scope(query, TimeEntry.patient_id, scope)
    for patient_id, program, track, day, minutes in session.connection().execute(query):
        out.setdefault(patient_id, []).append((program, track, day, int(minutes)))
    return out


def minutes_between(session: Session, start: date, end: date, scope: PatientScope = None) -> dict[int, list[tuple[str, str, int]]]:
    """Active minutes per patient, program and track between two days: (program, track, minutes)."""
    query = (
        select(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, func.sum(TimeEntry.minutes))
        .where(*_active_in(start, end))
        .group_by(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track)
    )
    out: dict[int, list[tuple[str, str, int]]] = {}
    for patient_id, program, track, minutes in session.connection().execute(_in_scope(query, TimeEntry.patient_id, scope)):
        out.setdefault(patient_id, []).append((program, track, int(minutes)))
    return out


def last_live_rpm_contact(session: Session, start: date, end: date, scope: PatientScope = None) -> dict[int, date]:
    """Per patient, the last day in the dates of an active RPM entry that was real-time contact
    with the patient or a caregiver (a call or visit, not a voicemail or a text). Read through
    the partial index of those entries, which holds a few rows of the month's thousands."""
    query = (
        select(TimeEntry.patient_id, func.max(TimeEntry.service_date))
        .where(text(LIVE_RPM_CALL), TimeEntry.service_date >= start, TimeEntry.service_date <= end)
        .group_by(TimeEntry.patient_id)
    )
    return {patient_id: day for patient_id, day in session.connection().execute(_in_scope(query, TimeEntry.patient_id, scope))}


def other_practitioner_minutes(session: Session, start: date, end: date, scope: PatientScope = None) -> dict[int, list[tuple[str, date, int]]]:
    """Per patient, (program, day, minutes) of active practitioner time in the dates performed
    by a practitioner who is not the patient's billing practitioner. 99491/99437 count only the
    billing practitioner's own time (cms-rules T2); this time counts as clinical staff time."""
    query = (
        select(TimeEntry.patient_id, TimeEntry.program, TimeEntry.service_date, func.sum(TimeEntry.minutes))
        .join(Patient, Patient.id == TimeEntry.patient_id)
        .where(
            text(PRACTITIONER_ENTRY),
            TimeEntry.service_date >= start,
            TimeEntry.service_date <= end,
            or_(Patient.billing_practitioner_id.is_(None), Patient.billing_practitioner_id != TimeEntry.performed_by_id),
        )
        .group_by(TimeEntry.patient_id, TimeEntry.program, TimeEntry.service_date)
    )
    out: dict[int, list[tuple[str, date, int]]] = {}
    for patient_id, program, day, minutes in session.connection().execute(_in_scope(query, TimeEntry.patient_id, scope)):
        out.setdefault(patient_id, []).append((program, day, int(minutes)))
    return out


def visit_in(start: date, end: date, scope: PatientScope = None) -> Select[Any]:
    """Patients (of the scope) whose initiating visit falls between two days: minutes before it
    do not count, so their minutes need their dates."""
    query = select(Patient.id).where(Patient.initiating_visit_date >= start, Patient.initiating_visit_date <= end)
    return _in_scope(query, Patient.id, scope)


def minutes_by_staff(session: Session, start: date, end: date) -> list[tuple[str, int, int]]:
    """(name, minutes, patients) per staff member who performed active time in the dates, most minutes first.

    From the month's kept staff minutes (staff_month_minutes, one row per performer and patient)
    when the dates are a whole month so far: from its first day, with no active entry after
    `end` in it. Otherwise from the entries themselves."""
    first = start.replace(day=1)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    if start == first and end <= last and not _entries_after(session, end, last):
        query = (
            select(StaffMonthMinutes.staff_id, func.sum(StaffMonthMinutes.minutes), func.count())
            .where(StaffMonthMinutes.month == first, StaffMonthMinutes.minutes > 0)
            .group_by(StaffMonthMinutes.staff_id)
        )
        return _named(session, session.execute(query).all())
    return minutes_by_staff_from_entries(session, start, end)


def _entries_after(session: Session, end: date, last: date) -> bool:
    later = select(TimeEntry.id).where(*_active_in(end + timedelta(days=1), last)).limit(1)
    return end < last and session.execute(later).first() is not None


def minutes_by_staff_from_entries(session: Session, start: date, end: date) -> list[tuple[str, int, int]]:
    """minutes_by_staff for any dates, from the entries.

    Grouped by performer id alone, so the database reads ix_time_entries_month_staff and nothing
    else; the few names are looked up apart. The key is `performed_by_id + 0` because SQLite would
    otherwise walk ix_time_entries_performer_date for its order and fetch every row (2x slower)."""
    performer = (TimeEntry.performed_by_id + 0).label("performer")
    query = select(performer, func.sum(TimeEntry.minutes), func.count(func.distinct(TimeEntry.patient_id))).where(*_active_in(start, end)).group_by(performer)
    return _named(session, session.execute(query).all())


def _named(session: Session, rows: Sequence[Any]) -> list[tuple[str, int, int]]:
    names = dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_([r[0] for r in rows]))).all()) if rows else {}
    out = [(names[staff_id], int(minutes), int(patients)) for staff_id, minutes, patients in rows]
    return sorted(out, key=lambda row: (-row[1], row[0]))


