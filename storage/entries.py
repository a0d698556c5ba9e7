"""Time entries: logged, voided, replaced by an edit, and the month totals kept beside them.

Functions here add and flush; the door's unit of work (`with db.transaction() as s:`) commits,
so a change and its audit row land together or not at all. Logging is idempotent on a source
key: the same message (a Slack retry, a re-run import) stores once and says it was a duplicate.
Refusals are typed so that every door can explain them in its own words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.audit import audit
from storage.db import insert_for
from storage.errors import ClosedMonth, FutureDate, InvalidValue, KeyReused, MinutesOutOfRange, NotAllowed
from storage.models import ACTIVITIES, TOTAL_COLUMNS, AuditEvent, MonthTotal, Patient, Program, Staff, StaffMonthMinutes, TimeEntry, utcnow
from storage.months import first_of_month, is_month_closed
from storage.roster import require_active_patient, require_active_staff


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
    by_staff = insert_for(session)(StaffMonthMinutes).values(
        month=first_of_month(entry.service_date), staff_id=entry.performed_by_id, patient_id=entry.patient_id, minutes=sign * entry.minutes
    )
    session.execute(
        by_staff.on_conflict_do_update(
            index_elements=["month", "staff_id", "patient_id"], set_={"minutes": StaffMonthMinutes.minutes + by_staff.excluded.minutes}
        )
    )


def rebuild_month_totals(session: Session) -> None:
    """Recompute every month total and every staff member's month minutes from the active
    entries (after a bulk load, or as a repair)."""
    month = month_of_entry(session)
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
    session.execute(delete(StaffMonthMinutes))
    session.execute(insert(StaffMonthMinutes).from_select(["month", "staff_id", "patient_id", "minutes"], staff_minutes_select(session)))


def month_of_entry(session: Session) -> ColumnElement[Any]:
    """The first day of an entry's month, in the database's own SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.cast(func.date_trunc("month", TimeEntry.service_date), Date)
    return func.date(TimeEntry.service_date, "start of month")


def staff_minutes_select(session: Session) -> Select[Any]:
    """(month, performer, patient, minutes) of the active entries: staff_month_minutes from scratch."""
    month = month_of_entry(session)
    performer = TimeEntry.performed_by_id
    return (
        select(month, performer, TimeEntry.patient_id, func.sum(TimeEntry.minutes))
        .where(TimeEntry.voided_at.is_(None))
        .group_by(month, performer, TimeEntry.patient_id)
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
        raise InvalidValue(f"{draft.program!r} is not a program; use CCM, PCM, RPM or BHI.")
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
    created_at: datetime | None = None,
) -> list[TimeEntry] | None:
    """The drafts as entries, or None when another transaction already holds `key_prefix#0`.

    audited=False leaves the "entry.log" audit rows to the caller (an edit writes its voids first).
    created_at: when the message was said (UTC), so a repeat within minutes is found by message time."""
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
            created_at=created_at or utcnow(),
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
    created_at: datetime | None = None,
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
        created_at=created_at,
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


EDITED = "message edited"


def current_entries(session: Session, entry_ids: Sequence[int]) -> list[int]:
    """What a confirmation's entries became: the active entries of the same messages when the
    named ones were replaced by an edit, so an Undo button acts on what the message now holds."""
    groups = set(session.scalars(select(TimeEntry.source_group).where(TimeEntry.id.in_(entry_ids), TimeEntry.void_reason == EDITED)))
    if not groups:
        return []
    return [e.id for group in sorted(groups) for e in _active_group_entries(session, group)]


def void_source(session: Session, source_group: str, *, by: Staff, reason: str) -> list[TimeEntry]:
    """Void every active entry of one message (the message was deleted)."""
    ids = [e.id for e in _active_group_entries(session, source_group)]
    return void_entries(session, ids, by=by, reason=reason) if ids else []


def newest_logged(session: Session, by: Staff) -> TimeEntry | None:
    """The speaker's most recently logged entry that is still active."""
    query = select(TimeEntry).where(TimeEntry.logged_by_id == by.id, TimeEntry.voided_at.is_(None))
    return session.scalars(query.order_by(TimeEntry.created_at.desc(), TimeEntry.id.desc()).limit(1)).first()


def void_last(session: Session, *, by: Staff, reason: str = "undo") -> list[TimeEntry]:
    """Undo: void the entries of the speaker's most recent message that still has active entries."""
    require_active_staff(by)
    last = newest_logged(session, by)
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
    if old and source_digest is not None and all(entry.source_digest == source_digest for entry in old):
        return [], [], False  # the same words as the entries came from (a link preview was added): nothing to change
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
    voided = [entry for entry in old if _void(session, entry, logged_by, EDITED)]
    for entry in added:
        _audit_logged(session, logged_by, entry)
    session.flush()
    return voided, added, False


CORRECTED = "corrected"


@dataclass(frozen=True)
class Corrected:
    old: TimeEntry
    new: TimeEntry | None  # None: the entry was deleted, nothing replaces it
    duplicate: bool = False  # the same correction again (a retry): it was applied the first time


def correct_entry(
    session: Session,
    entry: TimeEntry,
    draft: EntryDraft | None,
    *,
    by: Staff,
    key: str | None,
    source: str,
    today: date,
    max_minutes: int,
    created_at: datetime | None = None,
) -> Corrected:
    """One entry corrected: voided (reason "corrected") and, unless draft is None (a delete), replaced
    by the draft, logged as the same person's work. The new entry passes every check a new one
    does (patient, minutes, date, its month open); the old one those of an undo (who may change
    it, its month open). An "entry.correct" audit row ties the two together under `key`, the
    correction's idempotency key: the same key again changes nothing and says it was a duplicate."""
    require_active_staff(by)
    if key is not None and correction_applied(session, key):
        return Corrected(entry, None, duplicate=True)
    if not can_change_entry(entry, by):
        raise NotAllowed("Only the person who logged this time, or an admin, can correct it.")
    if entry.voided_at is not None:
        raise InvalidValue("That entry was already taken back or corrected, so nothing was changed.")
    if is_month_closed(session, entry.service_date):
        raise ClosedMonth(f"{entry.service_date:%B %Y} is closed for billing; an admin must reopen it first.")
    new = None
    if draft is not None:
        # Its own group, not the correcting message's: editing or deleting that message must not
        # be read as an edit or a delete of the corrected entry.
        group = f"correction:{key}" if key is not None else f"correction:{entry.id}"
        added = _new_entries(
            session,
            [draft],
            performed_by=entry.performed_by,
            logged_by=by,
            source=source,
            source_group=group,
            key_prefix=group,
            today=today,
            max_minutes=max_minutes,
            source_link=None,
            source_digest=None,
            audited=False,
            created_at=created_at,
        )
        if added is None:  # another process applied this correction a moment ago
            return Corrected(entry, None, duplicate=True)
        new = added[0]
    if not _void(session, entry, by, CORRECTED):
        # Another transaction voided it between our read and our update: roll this one back.
        raise InvalidValue("That entry was changed a moment ago by someone else, so nothing was changed; look at it again.")
    if new is not None:
        _audit_logged(session, by, new)
    audit(session, by, "entry.correct", "correction", _correction_key(key or f"entry:{entry.id}"), entry_snapshot(entry), {
        "entry_id": entry.id, "replaced_by": new.id if new is not None else None, "key": key,
    })  # fmt: skip
    session.flush()
    return Corrected(entry, new)


def _correction_key(key: str) -> str:
    """The key as the audit row's entity id (64 characters at most: a long key by its digest)."""
    return key if len(key) <= 64 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:57]


def correction_applied(session: Session, key: str) -> bool:
    """Whether the correction with this idempotency key was applied (the same message again is a retry)."""
    found = select(AuditEvent.id).where(AuditEvent.entity == "correction", AuditEvent.entity_id == _correction_key(key))
    return session.scalars(found.limit(1)).first() is not None


@dataclass(frozen=True)
class CorrectionUndone:
    restored: TimeEntry  # a copy of the entry the correction replaced or deleted, active again
    voided: TimeEntry | None  # the correction's replacement, taken back (None: it was a delete)


def newest_correction(session: Session, by: Staff) -> AuditEvent | None:
    """The speaker's newest correction, unless it was undone already."""
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == by.id, AuditEvent.action == "entry.correct").order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if event is None:
        return None
    undone = select(AuditEvent.id).where(AuditEvent.entity == "correction-undo", AuditEvent.entity_id == event.entity_id)
    return None if session.scalars(undone.limit(1)).first() is not None else event


def undo_correction(session: Session, event: AuditEvent, *, by: Staff, today: date, max_minutes: int) -> CorrectionUndone | None:
    """Undo a correction: its replacement (if any) is voided and the entry it replaced comes back
    as a copy (same patient, minutes, day, activity and performer; the ledger never un-voids).
    None when there is nothing to undo any more: the replacement was changed since."""
    after = event.after or {}
    old = session.get(TimeEntry, after.get("entry_id"))
    new = session.get(TimeEntry, after["replaced_by"]) if after.get("replaced_by") else None
    if old is None or (new is not None and new.voided_at is not None):
        return None
    if new is not None and not _void(session, new, by, "undo"):
        raise InvalidValue("That entry was changed a moment ago by someone else, so nothing was changed; look at it again.")
    draft = EntryDraft(old.patient.key, old.minutes, old.service_date, old.activity, old.program, old.note, old.interactive)
    group = f"undo-correction:{event.id}"
    added = _new_entries(
        session, [draft], performed_by=old.performed_by, logged_by=by, source=old.source, source_group=group, key_prefix=group,
        today=today, max_minutes=max_minutes, source_link=old.source_link, source_digest=None,
    )  # fmt: skip
    if added is None:  # another process undid it a moment ago
        return None
    audit(session, by, "entry.correct.undo", "correction-undo", event.entity_id, None, {"restored": added[0].id, "voided": new.id if new else None})
    session.flush()
    return CorrectionUndone(added[0], new)
