"""Reminder deliveries: claimed in the database before anything is posted.

The key (kind, period, target) is unique, so of two processes (or a re-run) only one claims a
reminder and posts it. A failed post is marked and may be claimed again later; a claim whose
process died mid-post is never taken again, because it may have been posted: twice is worse
than once missed, and the row says what happened.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import ReminderDelivery, utcnow

MAX_ATTEMPTS = 5


def delivery_key(kind: str, period: str, target: str) -> str:
    return f"{kind}:{period}:{target}"


def settled(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The status of the keys that no longer need work (sent, empty, claimed, failed for good)."""
    keys = list(keys)
    if not keys:
        return {}
    rows = session.execute(select(ReminderDelivery.key, ReminderDelivery.status, ReminderDelivery.attempts).where(ReminderDelivery.key.in_(keys)))
    return {key: status for key, status, attempts in rows if status != "failed" or attempts >= MAX_ATTEMPTS}


def claim(session: Session, *, kind: str, period: str, target: str) -> bool:
    """Take a reminder for this process; False when another has it or it went out already."""
    key = delivery_key(kind, period, target)
    inserted = session.execute(
        insert_for(session)(ReminderDelivery)
        .values(key=key, kind=kind, period=period, target=target, status="claimed", attempts=1, claimed_at=utcnow())
        .on_conflict_do_nothing()
        .returning(ReminderDelivery.id)
    ).first()
    if inserted is None:
        # A failed post may be tried again, by whoever claims it first.
        retried = session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.key == key, ReminderDelivery.status == "failed", ReminderDelivery.attempts < MAX_ATTEMPTS)
            .values(status="claimed", attempts=ReminderDelivery.attempts + 1, claimed_at=utcnow())
        )
        return retried.rowcount == 1  # type: ignore[attr-defined,no-any-return]
    return True


def finish(session: Session, key: str, status: str, error: str | None = None) -> None:
    """status: sent, empty (nothing to say) or failed."""
    values: dict[str, object] = {"status": status, "error": error[:400] if error else None}
    if status != "failed":
        values["sent_at"] = utcnow()
    session.execute(update(ReminderDelivery).where(ReminderDelivery.key == key).values(**values))
