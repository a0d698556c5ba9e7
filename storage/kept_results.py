"""Kept results: reading and writing the billing engine's answer per patient-month.

A kept row is valid while its version equals the patient's `results_version` (bumped by the
triggers of migration 0009 on every change the engine reads) and its basis equals the caller's
(the policy and engine fingerprint). Every read here joins on both, so a stale row is never
used, whichever process wrote it and whenever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, delete, func, select
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import KeptResult, Patient
from storage.queries import PatientScope, _in_scope


class KeptRow(NamedTuple):
    """One patient's kept result as the questions read it."""

    patient_id: int
    key: str
    billable: bool
    total: float
    estimated: bool
    codes: str
    blockers: str


class NewKept(NamedTuple):
    """A result to keep, made from the patient's data at `version`."""

    patient_id: int
    version: int
    billable: bool
    total: float
    estimated: bool
    codes: str
    blockers: str
    report: str = ""


def _kept_for(month: date, through: date, basis: str) -> ColumnElement[bool]:
    return and_(
        KeptResult.patient_id == Patient.id,
        KeptResult.month == month,
        KeptResult.through == through,
        KeptResult.basis == basis,
        KeptResult.version == Patient.results_version,
    )


def stale_query(month: date, through: date, basis: str, scope: PatientScope = None) -> Select[int, int]:
    """(patient id, current version) of the active patients (of the scope) with no valid kept row."""
    query = (
        select(Patient.id, Patient.results_version)
        .outerjoin(KeptResult, _kept_for(month, through, basis))
        .where(Patient.active.is_(True), KeptResult.patient_id.is_(None))
        .order_by(Patient.id)
    )
    return _in_scope(query, Patient.id, scope)


def stale_patients(session: Session, month: date, through: date, basis: str, scope: PatientScope = None) -> list[tuple[int, int]]:
    """(patient id, current version) of the active patients (of the scope) with no valid kept
    result for the month through that day. The version is read here, before the caller reads
    the facts: a change committed in between bumps it again, so the row kept is stale at once
    instead of wrong."""
    return [(pid, version) for pid, version in session.execute(stale_query(month, through, basis, scope))]


def keep(session: Session, month: date, through: date, basis: str, rows: Sequence[NewKept]) -> None:
    """Insert or replace kept rows (in patient order, so two writers lock rows in one order)."""
    if not rows:
        return
    values = [{"month": month, "through": through, "basis": basis, **row._asdict()} for row in sorted(rows)]
    statement = insert_for(session)(KeptResult)
    columns = ("version", "basis", "billable", "total", "estimated", "codes", "blockers", "report")
    statement = statement.on_conflict_do_update(
        index_elements=["month", "through", "patient_id"],
        set_={c: statement.excluded[c] for c in columns},
    )
    for start in range(0, len(values), 2_000):
        session.execute(statement, values[start : start + 2_000])


def active_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Patient).where(Patient.active.is_(True))) or 0


def forget_other_days(session: Session, month: date, keep_through: Iterable[date]) -> None:
    """Drop the month's rows kept through any other day: "as it stood on a day" moves daily."""
    session.execute(delete(KeptResult).where(KeptResult.month == month, KeptResult.through.not_in(list(keep_through))))


# Asked before forget_other_days: on SQLite a DELETE takes the write lock even when it deletes nothing.
def has_other_days(session: Session, month: date, keep_through: Iterable[date]) -> bool:
    query = select(KeptResult.patient_id).where(KeptResult.month == month, KeptResult.through.not_in(list(keep_through))).limit(1)
    return session.execute(query).first() is not None


def kept_query(month: date, through: date, basis: str, where: Sequence[ColumnElement[bool]] = (), scope: PatientScope = None) -> Select[int, str, bool, float, bool, str, str]:
    """The valid kept rows of active patients (of the scope) that match `where`, in key order."""
    query = (
        select(Patient.id, Patient.key, KeptResult.billable, KeptResult.total, KeptResult.estimated, KeptResult.codes, KeptResult.blockers)
        .join(KeptResult, _kept_for(month, through, basis))
        .where(Patient.active.is_(True), *where)
        .order_by(Patient.key)
    )
    return _in_scope(query, Patient.id, scope)


def kept_rows(session: Session, month: date, through: date, basis: str, where: Sequence[ColumnElement[bool]] = (), scope: PatientScope = None) -> list[KeptRow]:
    return [KeptRow._make(row) for row in session.execute(kept_query(month, through, basis, where, scope))]


class ReportRow(NamedTuple):
    billable: bool
    total: float
    estimated: bool
    codes: str
    report: str  # the patient's rows of the CSV report


def report_rows(session: Session, month: date, through: date, basis: str) -> Iterator[ReportRow]:
    """Every active patient's valid kept row with its report rows, in key order, fetched a few
    thousand at a time: the month's report, streamed."""
    query = (
        select(KeptResult.billable, KeptResult.total, KeptResult.estimated, KeptResult.codes, KeptResult.report)
        .join(Patient, _kept_for(month, through, basis))
        .where(Patient.active.is_(True))
        .order_by(Patient.key)
        .execution_options(yield_per=2_000)
    )
    for row in session.execute(query):
        yield ReportRow._make(row)


def code_billed(code: str) -> ColumnElement[bool]:
    """Rows whose codes include this one (the words are "PROGRAM CODE UNITS;...")."""
    return KeptResult.codes.like(f"% {code} %")


BILLABLE = KeptResult.billable.is_(True)
BLOCKED = KeptResult.blockers != ""
