"""The audit trail: one row per change, added to the caller's transaction with the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.models import AuditEvent, Staff


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
