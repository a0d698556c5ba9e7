"""Finding the entry a person means: by its number, the last one, by what it says; and the
identical entry logged just before a new one (a likely repeat).

An entry's number is its place among all the entries of the person whose work it is (the
performer), voided ones included, in the order they were stored: it never changes once shown,
so "delete entry 14" is self-contained and means the same after a restart or a new entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Patient, TimeEntry


@dataclass(frozen=True)
class EntryFilter:
    """What a correction says about the entry it means (None: not said)."""

    patient_key: str | None = None
    minutes: int | None = None
    day: date | None = None
    activity: str | None = None


def entry_numbers(session: Session, performer_id: int, entry_ids: Sequence[int]) -> dict[int, int]:
    """{entry id: its number} for some of one performer's entries."""
    if not entry_ids:
        return {}
    numbered = (
        select(TimeEntry.id, func.row_number().over(order_by=TimeEntry.id).label("n")).where(TimeEntry.performed_by_id == performer_id).subquery()
    )
    rows = session.execute(select(numbered.c.id, numbered.c.n).where(numbered.c.id.in_(list(entry_ids))))
    return {cast(int, entry_id): cast(int, n) for entry_id, n in rows}


def entry_by_number(session: Session, performer_id: int, number: int) -> TimeEntry | None:
    """The performer's entry with that number, voided or not; None when there is no such entry."""
    if number < 1:
        return None
    query = select(TimeEntry).where(TimeEntry.performed_by_id == performer_id).order_by(TimeEntry.id).offset(number - 1).limit(1)
    return session.scalars(query).first()


def own_entries(session: Session, performer_id: int, start: date, end: date, wanted: EntryFilter = EntryFilter()) -> list[TimeEntry]:
    """The performer's active entries dated between two local days that match `wanted`, oldest stored first."""
    query = select(TimeEntry).where(
        TimeEntry.performed_by_id == performer_id,
        TimeEntry.voided_at.is_(None),
        TimeEntry.service_date >= start,
        TimeEntry.service_date <= end,
    )
    if wanted.patient_key is not None:
        query = query.join(Patient, Patient.id == TimeEntry.patient_id).where(Patient.key == wanted.patient_key)
    if wanted.minutes is not None:
        query = query.where(TimeEntry.minutes == wanted.minutes)
    if wanted.day is not None:
        query = query.where(TimeEntry.service_date == wanted.day)
    if wanted.activity is not None:
        query = query.where(TimeEntry.activity == wanted.activity)
    return list(session.scalars(query.order_by(TimeEntry.created_at, TimeEntry.id)))


def earlier_twin(session: Session, entry: TimeEntry, within: timedelta) -> TimeEntry | None:
    """The same person's active entry from another message, stored at most `within` before this
    one, for the same patient, day, minutes and activity: the newest such, or None."""
    logged = _aware(entry.created_at)
    query = (
        select(TimeEntry)
        .where(
            TimeEntry.performed_by_id == entry.performed_by_id,
            TimeEntry.patient_id == entry.patient_id,
            TimeEntry.service_date == entry.service_date,
            TimeEntry.minutes == entry.minutes,
            TimeEntry.activity == entry.activity,
            TimeEntry.voided_at.is_(None),
            TimeEntry.id != entry.id,
            TimeEntry.source_group != entry.source_group,
            TimeEntry.created_at >= logged - within,
            TimeEntry.created_at <= logged,
        )
        .order_by(TimeEntry.created_at.desc(), TimeEntry.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives them back without their zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def logged_at(entry: TimeEntry) -> datetime:
    """When the entry was stored, aware (UTC)."""
    return _aware(entry.created_at)
