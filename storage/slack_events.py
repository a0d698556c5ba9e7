"""Slack event ids already handled, shared by every process through the database.

An id is recorded after its event was handled, so a retry of an event whose handling
failed is handled again (the ledger's source keys keep that from counting twice).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ProcessedSlackEvent, utcnow


def already_processed(session: Session, event_id: str) -> bool:
    return session.scalar(select(ProcessedSlackEvent.event_id).where(ProcessedSlackEvent.event_id == event_id)) is not None


def mark_processed(session: Session, event_id: str) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(ProcessedSlackEvent).values(event_id=event_id, received_at=utcnow()).on_conflict_do_nothing())
    session.commit()
