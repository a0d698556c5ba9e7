"""Timers: a person's running clock on one patient's work, started, read and ended once.

The use case (bot/timers.py) decides what a stop logs; here a timer is stored, found, and ended
by a conditional UPDATE, so two replicas (or a Stop button pressed twice) end it once and log
its minutes once. Like the rest of storage, functions add and flush; the caller commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, joinedload

from storage.audit import audit
from storage.db import insert_for
from storage.errors import InvalidValue
from storage.models import ACTIVITIES, RUNNING_TIMER, Patient, Program, Staff, Timer
from storage.roster import require_active_staff

OUTCOMES = ("logged", "cancelled", "too_short", "too_long")


def as_utc(moment: datetime) -> datetime:
    """An instant read back from the database as an aware UTC datetime (SQLite keeps no offset)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def timer_snapshot(timer: Timer) -> dict[str, Any]:
    return {
        "staff_id": timer.staff_id,
        "patient_id": timer.patient_id,
        "activity": timer.activity,
        "program": timer.program,
        "interactive": timer.interactive,
        "started_at": as_utc(timer.started_at).isoformat(),
        "source": timer.source,
        "stopped_at": as_utc(timer.stopped_at).isoformat() if timer.stopped_at else None,
        "outcome": timer.outcome,
        "entry_id": timer.entry_id,
    }


def start_timer(
    session: Session,
    *,
    staff: Staff,
    patient: Patient,
    activity: str,
    program: str | None,
    interactive: bool | None,
    started_at: datetime,
    source: str,
) -> tuple[Timer, bool]:
    """Start `staff`'s timer on `patient`, audited: (timer, True), or (the one already running, False).

    The row is claimed with INSERT ... ON CONFLICT DO NOTHING on the running-timer index, so a
    second start by another process waits for the first and finds its timer, without failing."""
    require_active_staff(staff)
    if activity not in ACTIVITIES:
        raise InvalidValue(f"{activity!r} is not an activity; use one of: {', '.join(ACTIVITIES)}.")
    if program is not None and program not in {p.value for p in Program}:
        raise InvalidValue(f"{program!r} is not a program; use CCM, PCM, RPM or BHI.")
    if started_at.tzinfo is None:
        raise ValueError("a timer starts at an aware instant")
    claimed = session.execute(
        insert_for(session)(Timer)
        .values(
            staff_id=staff.id,
            patient_id=patient.id,
            activity=activity,
            program=program,
            interactive=interactive,
            started_at=started_at.astimezone(UTC),
            source=source,
        )
        .on_conflict_do_nothing(index_elements=["staff_id", "patient_id"], index_where=text(RUNNING_TIMER))
        .returning(Timer.id)
    ).scalar()
    if claimed is None:
        running = running_timer(session, staff, patient)
        assert running is not None, "the running-timer index said one is running"
        return running, False
    timer = session.get(Timer, claimed)
    assert timer is not None
    audit(session, staff, "timer.start", "timer", timer.id, None, timer_snapshot(timer))
    return timer, True


def running_timer(session: Session, staff: Staff, patient: Patient) -> Timer | None:
    return session.scalars(
        select(Timer).where(Timer.staff_id == staff.id, Timer.patient_id == patient.id, Timer.stopped_at.is_(None)).execution_options(populate_existing=True)
    ).first()


def running_timers(session: Session, staff_id: int) -> list[Timer]:
    """A person's running timers, oldest first, with their patients."""
    return list(
        session.scalars(
            select(Timer)
            .options(joinedload(Timer.patient))
            .where(Timer.staff_id == staff_id, Timer.stopped_at.is_(None))
            .order_by(Timer.started_at, Timer.id)
        )
    )


def timer_by_id(session: Session, timer_id: int) -> Timer | None:
    return session.scalars(select(Timer).options(joinedload(Timer.patient)).where(Timer.id == timer_id)).first()


def all_running(session: Session) -> list[tuple[Timer, str]]:
    """Every running timer whose owner has a Slack id (for the end-of-day DM), with that id."""
    rows = session.execute(
        select(Timer, Staff.slack_user_id)
        .join(Staff, Staff.id == Timer.staff_id)
        .where(Timer.stopped_at.is_(None), Staff.slack_user_id.is_not(None), Staff.active.is_(True))
        .order_by(Timer.started_at, Timer.id)
    )
    return [(timer, str(slack_id)) for timer, slack_id in rows]


def end_timer(session: Session, timer: Timer, *, outcome: str, at: datetime) -> bool:
    """End a running timer; False when another transaction ended it first. The caller audits it
    (audit_end) once it knows the entry it logged, if any.

    A conditional UPDATE, not an attribute change: of two stops of the same timer only one
    goes on to log its minutes."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown timer outcome {outcome!r}")
    changed = session.execute(
        update(Timer)
        .where(Timer.id == timer.id, Timer.stopped_at.is_(None))
        .values(stopped_at=at.astimezone(UTC), outcome=outcome)
        .execution_options(synchronize_session="fetch")
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(timer)
    return True


def audit_end(session: Session, by: Staff, timer: Timer, entry_id: int | None = None) -> None:
    """Audit an ended timer (with the entry it logged, kept on the timer too): before and after."""
    if entry_id is not None:
        timer.entry_id = entry_id
        session.flush()
    after = timer_snapshot(timer)
    before = {**after, "stopped_at": None, "outcome": None, "entry_id": None}
    audit(session, by, "timer.cancel" if timer.outcome == "cancelled" else "timer.stop", "timer", timer.id, before, after)
