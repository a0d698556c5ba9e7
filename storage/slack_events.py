"""Slack events received: retries found by id, and the inbox of message events to handle.

A message event is stored (pending) before Slack gets its 200, so it is never lost; one
process claims it, handles it and marks it done, clearing the stored body (message text).
A claim is a conditional UPDATE, so two processes never handle the same event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import SlackEvent, utcnow

MAX_ATTEMPTS = 5


def already_seen(session: Session, event_id: str) -> bool:
    return session.scalar(select(SlackEvent.event_id).where(SlackEvent.event_id == event_id)) is not None


def mark_done(session: Session, event_id: str) -> None:
    """Record an event handled on the spot (not through the inbox)."""
    now = utcnow()
    statement = insert_for(session)(SlackEvent).values(event_id=event_id, received_at=now, status="done", attempts=1, processed_at=now)
    session.execute(statement.on_conflict_do_nothing())


def store(session: Session, event_id: str, body: str) -> bool:
    """Put a new event in the inbox; False when its id was already there (a retry).

    On the path that answers Slack: one statement on the session's connection, no ORM work.
    """
    statement = (
        insert_for(session)(SlackEvent)
        .values(event_id=event_id, received_at=utcnow(), status="pending", body=body, attempts=0)
        .on_conflict_do_nothing()
        .returning(SlackEvent.event_id)
    )
    connection = session.connection()
    stored = connection.execute(statement).first() is not None
    return stored


def _unattended(now: datetime, stale_after: timedelta) -> ColumnElement[bool]:
    """Pending, or claimed by a handler that has not finished in `stale_after` (it died)."""
    return or_(SlackEvent.status == "pending", (SlackEvent.status == "processing") & (SlackEvent.claimed_at < now - stale_after))


def claim(session: Session, event_id: str, *, stale_after: timedelta = timedelta(minutes=2)) -> tuple[str, int] | None:
    """Take a pending event (or one whose handler died long ago) for this process: (body, attempts before)."""
    now = utcnow()
    result = session.execute(
        update(SlackEvent)
        .where(SlackEvent.event_id == event_id, _unattended(now, stale_after))
        .values(status="processing", claimed_at=now, attempts=SlackEvent.attempts + 1)
        .returning(SlackEvent.body, SlackEvent.attempts)
    ).first()
    return (result[0] or "", result[1] - 1) if result else None


def finish(session: Session, event_id: str) -> None:
    session.execute(update(SlackEvent).where(SlackEvent.event_id == event_id).values(status="done", body=None, processed_at=utcnow(), error=None))


def release(session: Session, event_id: str, error: str) -> None:
    """The handler failed: leave the event for a later attempt, or stop after MAX_ATTEMPTS
    (status failed, body kept so an admin can see what never went through)."""
    row = session.get(SlackEvent, event_id)
    if row is None:
        return
    row.error = error[:200]
    row.claimed_at = None
    row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"


def waiting(session: Session, *, older_than: timedelta, stale_after: timedelta = timedelta(minutes=2), limit: int = 100) -> list[str]:
    """Events nobody is handling: pending for a while, or claimed by a handler that died."""
    now: datetime = utcnow()
    query = (
        select(SlackEvent.event_id)
        .where(_unattended(now, stale_after), SlackEvent.received_at <= now - older_than)
        .order_by(SlackEvent.received_at)
        .limit(limit)
    )
    return list(session.scalars(query))
