"""The write path: every change and its audit row, in the caller's transaction.

Functions here add and flush; the door's unit of work (`with db.transaction() as s:`) commits,
so a change and its audit row land together or not at all. Logging is idempotent on a source
key: the same message (a Slack retry, a re-run import) stores once and says it was a duplicate.
Refusals are typed so that every door can explain them in its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import (
    ACTIVITIES,
    TOTAL_COLUMNS,
    AuditEvent,
    Consent,
    ConsentStatus,
    MonthClose,
    MonthTotal,
    Patient,
    PatientMonthFact,
    Program,
    Staff,
    TimeEntry,
    utcnow,
)


class LedgerError(Exception):
    """A refused change. `reason` is a stable code; str() is a sentence for a person."""

    reason = "refused"


class ClosedMonth(LedgerError):
    reason = "closed_month"


class FutureDate(LedgerError):
    reason = "future_date"


class UnknownPatient(LedgerError):
    reason = "unknown_patient"


class InactivePatient(LedgerError):
    reason = "inactive_patient"


class UnknownStaff(LedgerError):
    reason = "unknown_staff"


class InactiveStaff(LedgerError):
    reason = "inactive_staff"


class MinutesOutOfRange(LedgerError):
    reason = "minutes_out_of_range"


class InvalidValue(LedgerError):
    reason = "invalid_value"


class NotAllowed(LedgerError):
    reason = "not_allowed"


class KeyReused(LedgerError):
    """The idempotency key of a stored message came with a different text."""

    reason = "key_reused"


@dataclass(frozen=True)
class EntryDraft:
    """One entry as understood from a message or a form, before it is stored."""

    patient_key: str
    minutes: int
    service_date: date
    activity: str = "other"
    program: str | None = None  # None: the patient's enrolment decides
    note: str | None = None
    interactive: bool | None = None  # real-time contact with the patient or caregiver (None: not said)


@dataclass(frozen=True)
class LogResult:
    entries: list[TimeEntry]
    duplicate: bool


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def audit(session: Session, actor: Staff | None, action: str, entity: str, entity_id: Any, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Add an audit row to the caller's transaction."""
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
        )
    )


def _bump_total(session: Session, entry: TimeEntry, sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) an entry's minutes in its month total, in the caller's transaction."""
    column = TOTAL_COLUMNS[(entry.program, entry.track)]
    stmt = insert_for(session)(MonthTotal).values(month=first_of_month(entry.service_date), patient_id=entry.patient_id, **{column: sign * entry.minutes})
    # An atomic upsert: two processes logging for one patient at once both land in the total.
    stmt = stmt.on_conflict_do_update(
        index_elements=["month", "patient_id"],
        set_={column: getattr(MonthTotal, column) + getattr(stmt.excluded, column)},
    )
    session.execute(stmt)


def rebuild_month_totals(session: Session) -> None:
    """Recompute every month total from the active entries (after a bulk load, or as a repair)."""
    dialect = session.get_bind().dialect.name
    month = (
        func.cast(func.date_trunc("month", TimeEntry.service_date), Date)
        if dialect == "postgresql"
        else func.date(TimeEntry.service_date, "start of month")
    )
    sums = [
        func.coalesce(func.sum(case(((TimeEntry.program == program) & (TimeEntry.track == track), TimeEntry.minutes), else_=0)), 0)
        for (program, track) in TOTAL_COLUMNS
    ]
    session.execute(delete(MonthTotal))
    session.execute(
        insert(MonthTotal).from_select(
            ["month", "patient_id", *TOTAL_COLUMNS.values()],
            select(month, TimeEntry.patient_id, *sums).where(TimeEntry.voided_at.is_(None)).group_by(month, TimeEntry.patient_id),
        )
    )


def entry_snapshot(entry: TimeEntry) -> dict[str, Any]:
    return {
        "patient_id": entry.patient_id,
        "performed_by_id": entry.performed_by_id,
        "logged_by_id": entry.logged_by_id,
        "minutes": entry.minutes,
        "service_date": entry.service_date.isoformat(),
        "activity": entry.activity,
        "interactive": entry.interactive,
        "program": entry.program,
        "track": entry.track,
        "source": entry.source,
        "source_key": entry.source_key,
        "voided_at": entry.voided_at.isoformat() if entry.voided_at else None,
        "void_reason": entry.void_reason,
    }


def is_month_closed(session: Session, day: date) -> bool:
    row = session.get(MonthClose, first_of_month(day))
    return bool(row and row.is_closed)


def require_active_staff(staff: Staff | None, what: str = "staff member") -> Staff:
    if staff is None:
        raise UnknownStaff(f"That {what} is not on the staff roster.")
    if not staff.active:
        raise InactiveStaff(f"{staff.name} is no longer active on the staff roster.")
    return staff


def find_patient(session: Session, key: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.key == key)).one_or_none()


def require_active_patient(session: Session, key: str) -> Patient:
    patient = find_patient(session, key)
    if patient is None:
        raise UnknownPatient(f"Patient {key} is not on the roster. Check the number, or ask an admin to add the patient.")
    if not patient.active:
        raise InactivePatient(f"Patient {key} is inactive; time can't be logged for an inactive patient.")
    return patient


def default_program(patient: Patient) -> str:
    for program in patient.program_list:
        if program in (Program.CCM.value, Program.PCM.value, Program.RPM.value):
            return program
    return Program.CCM.value


def check_entry(session: Session, draft: EntryDraft, *, today: date, max_minutes: int) -> Patient:
    """Validate one draft against the roster and the calendar; return its patient."""
    if not 1 <= draft.minutes <= max_minutes:
        raise MinutesOutOfRange(f"{draft.minutes} minutes is out of range: an entry must be 1 to {max_minutes} minutes.")
    if draft.service_date > today:
        raise FutureDate(f"{draft.service_date.isoformat()} is in the future; time can only be logged for today or earlier.")
    if is_month_closed(session, draft.service_date):
        raise ClosedMonth(
            f"{draft.service_date:%B %Y} is closed for billing; ask an admin to reopen it before logging time in it."
        )
    if draft.activity not in ACTIVITIES:
        raise InvalidValue(f"{draft.activity!r} is not an activity; use one of: {', '.join(ACTIVITIES)}.")
    if draft.program is not None and draft.program not in {p.value for p in Program}:
        raise InvalidValue(f"{draft.program!r} is not a program; use CCM, PCM or RPM.")
    return require_active_patient(session, draft.patient_key)


def _active_group_entries(session: Session, source_group: str) -> list[TimeEntry]:
    return list(
        session.scalars(
            select(TimeEntry).where(TimeEntry.source_group == source_group, TimeEntry.voided_at.is_(None)).order_by(TimeEntry.id)
        )
    )


def _new_entries(
    session: Session,
    drafts: Sequence[EntryDraft],
    *,
    performed_by: Staff,
    logged_by: Staff,
    source: str,
    source_group: str,
    key_prefix: str,
    today: date,
    max_minutes: int,
    source_link: str | None,
    source_digest: str | None,
    audited: bool = True,
) -> list[TimeEntry] | None:
    """The drafts as entries, or None when another transaction already holds `key_prefix#0`.

    audited=False leaves the "entry.log" audit rows to the caller (an edit writes its voids first)."""
    patients = [check_entry(session, d, today=today, max_minutes=max_minutes) for d in drafts]
    rows = []
    for index, (draft, patient) in enumerate(zip(drafts, patients, strict=True)):
        rows.append(dict(
            patient_id=patient.id,
            performed_by_id=performed_by.id,
            logged_by_id=logged_by.id,
            minutes=draft.minutes,
            service_date=draft.service_date,
            activity=draft.activity,
            interactive=draft.interactive,
            program=draft.program or default_program(patient),
            track=performed_by.track.value,
            note=draft.note,
            source=source,
            source_group=source_group,
            source_key=f"{key_prefix}#{index}",
            source_link=source_link,
            source_digest=source_digest,
            created_at=utcnow(),
        ))
    # The first key is claimed with ON CONFLICT DO NOTHING: a second process logging the same
    # message waits for the first to commit and then inserts nothing, without failing its transaction.
    claimed = session.execute(
        insert_for(session)(TimeEntry).values(**rows[0]).on_conflict_do_nothing(index_elements=["source_key"]).returning(TimeEntry.id)
    ).scalar()
    if claimed is None:
        return None
    first = session.get(TimeEntry, claimed)
    assert first is not None
    entries = [first]
    for row in rows[1:]:
        entry = TimeEntry(**row)
        session.add(entry)
        entries.append(entry)
    session.flush()
    for entry in entries:
        _bump_total(session, entry, +1)
        if audited:
            _audit_logged(session, logged_by, entry)
    return entries


def _audit_logged(session: Session, by: Staff, entry: TimeEntry) -> None:
    audit(session, by, "entry.log", "time_entry", entry.id, None, entry_snapshot(entry))


def log_entries(
    session: Session,
    drafts: Sequence[EntryDraft],
    *,
    performed_by: Staff,
    logged_by: Staff,
    source: str,
    source_group: str,
    today: date,
    max_minutes: int,
    source_link: str | None = None,
    source_digest: str | None = None,
) -> LogResult:
    """Store the entries of one message, all or nothing, once per source_group.

    source_digest: the message text's digest; the same source_group with another digest raises KeyReused
    instead of answering with the first message's entries as if they were this one's."""
    require_active_staff(performed_by)
    require_active_staff(logged_by)
    if not drafts:
        raise InvalidValue("There is nothing to log.")
    first_key = f"{source_group}#0"
    if _seen_source(session, first_key, source_digest):
        return LogResult(_active_group_entries(session, source_group), duplicate=True)
    entries = _new_entries(
        session,
        drafts,
        performed_by=performed_by,
        logged_by=logged_by,
        source=source,
        source_group=source_group,
        key_prefix=source_group,
        today=today,
        max_minutes=max_minutes,
        source_link=source_link,
        source_digest=source_digest,
    )
    if entries is None:
        # Another process stored the same message between our check and our insert.
        _seen_source(session, first_key, source_digest)
        return LogResult(_active_group_entries(session, source_group), duplicate=True)
    return LogResult(entries, duplicate=False)


def _seen_source(session: Session, source_key: str, digest: str | None) -> bool:
    """Whether an entry with this source key is stored; raises KeyReused when it came from another text."""
    stored = session.execute(select(TimeEntry.id, TimeEntry.source_digest).where(TimeEntry.source_key == source_key)).first()
    if stored is None:
        return False
    if digest is not None and stored.source_digest is not None and stored.source_digest != digest:
        raise KeyReused("That idempotency key was already used for a different message; nothing was logged. Use a new key for a new message.")
    return True


def _void(session: Session, entry: TimeEntry, by: Staff, reason: str) -> bool:
    """Void one entry if it is still active; False when another transaction voided it first.

    A conditional UPDATE, not an attribute change: two processes voiding the same entry (a
    deleted message handled twice) take its minutes off the month total once."""
    before = entry_snapshot(entry)
    changed = session.execute(
        update(TimeEntry)
        .where(TimeEntry.id == entry.id, TimeEntry.voided_at.is_(None))
        .values(voided_at=utcnow(), voided_by_id=by.id, void_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _bump_total(session, entry, -1)
    audit(session, by, "entry.void", "time_entry", entry.id, before, entry_snapshot(entry))
    return True


def can_change_entry(entry: TimeEntry, by: Staff) -> bool:
    return by.is_admin or by.id in (entry.logged_by_id, entry.performed_by_id)


def void_entries(session: Session, entry_ids: Sequence[int], *, by: Staff, reason: str) -> list[TimeEntry]:
    """Void the named entries that are still active. Voiding twice is harmless: it returns nothing."""
    require_active_staff(by)
    entries = list(session.scalars(select(TimeEntry).where(TimeEntry.id.in_(entry_ids)).order_by(TimeEntry.id)))
    for entry in entries:
        if not can_change_entry(entry, by):
            raise NotAllowed("Only the person who logged this time, or an admin, can undo it.")
        if entry.voided_at is None and is_month_closed(session, entry.service_date):
            raise ClosedMonth(f"{entry.service_date:%B %Y} is closed for billing; an admin must reopen it first.")
    voided = [e for e in entries if e.voided_at is None and _void(session, e, by, reason)]
    session.flush()
    return voided


def void_source(session: Session, source_group: str, *, by: Staff, reason: str) -> list[TimeEntry]:
    """Void every active entry of one message (the message was deleted)."""
    ids = [e.id for e in _active_group_entries(session, source_group)]
    return void_entries(session, ids, by=by, reason=reason) if ids else []


def void_last(session: Session, *, by: Staff, reason: str = "undo") -> list[TimeEntry]:
    """Undo: void the entries of the speaker's most recent message that still has active entries."""
    require_active_staff(by)
    last = session.scalars(
        select(TimeEntry)
        .where(TimeEntry.logged_by_id == by.id, TimeEntry.voided_at.is_(None))
        .order_by(TimeEntry.created_at.desc(), TimeEntry.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return []
    return void_source(session, last.source_group, by=by, reason=reason)


def replace_source(
    session: Session,
    source_group: str,
    drafts: Sequence[EntryDraft],
    *,
    revision: str,
    performed_by: Staff,
    logged_by: Staff,
    source: str,
    today: date,
    max_minutes: int,
    source_link: str | None = None,
    source_digest: str | None = None,
) -> tuple[list[TimeEntry], list[TimeEntry], bool]:
    """A message was edited: void its entries and log the new ones, once per revision.

    Returns (voided, added, duplicate).
    """
    require_active_staff(logged_by)
    key_prefix = f"{source_group}@{revision}"
    if session.scalars(select(TimeEntry.id).where(TimeEntry.source_key.startswith(key_prefix + "#"))).first() is not None:
        return [], _active_group_entries(session, source_group), True
    old = _active_group_entries(session, source_group)
    for entry in old:
        if not can_change_entry(entry, logged_by):
            raise NotAllowed("Only the person who logged this time, or an admin, can change it.")
        if is_month_closed(session, entry.service_date):
            raise ClosedMonth(f"{entry.service_date:%B %Y} is closed for billing; an admin must reopen it first.")
    added: list[TimeEntry] = []
    if drafts:
        # The new entries claim the revision's key first: a second handler of the same edit stops
        # here, before it voids anything.
        claimed = _new_entries(
            session,
            drafts,
            performed_by=performed_by,
            logged_by=logged_by,
            source=source,
            source_group=source_group,
            key_prefix=key_prefix,
            today=today,
            max_minutes=max_minutes,
            source_link=source_link,
            source_digest=source_digest,
            audited=False,
        )
        if claimed is None:
            return [], _active_group_entries(session, source_group), True
        added = claimed
    voided = [entry for entry in old if _void(session, entry, logged_by, "message edited")]
    for entry in added:
        _audit_logged(session, logged_by, entry)
    session.flush()
    return voided, added, False


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
        raise InvalidValue(f"{program!r} is not a program; use CCM, PCM or RPM.")
    if status not in {s.value for s in ConsentStatus}:
        raise InvalidValue(f"{status!r} is not a consent status; use granted, declined or revoked.")
    if method is not None and method not in CONSENT_METHODS:
        raise InvalidValue(f"{method!r} is not a consent method; use verbal or written.")
    if effective_date > today:
        raise FutureDate(f"{effective_date.isoformat()} is in the future; consent can only be recorded for today or earlier.")
    latest = current_consent(session, patient, program)
    if latest and (latest.status, latest.method, latest.effective_date) == (status, method, effective_date):
        return None
    consent = Consent(
        patient_id=patient.id,
        program=program,
        status=status,
        method=method,
        effective_date=effective_date,
        recorded_by_id=by.id if by else None,
        recorded_at=utcnow(),
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
        {"patient_id": patient.id, "program": program, "status": status, "method": method, "date": effective_date.isoformat()},
    )
    return consent


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
