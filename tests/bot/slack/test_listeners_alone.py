"""Listener callbacks are module-level functions: each can be called alone, without Bolt or HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.assistant import Assistant, Message
from bot.config import Settings
from bot.slack.listeners import actions
from storage.db import Database
from storage.models import TimeEntry
from tests.conftest import Roster


def test_the_undo_button_callback_alone_voids_its_entries_and_replaces_the_confirmation(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = Assistant(db, Settings(database_url=db.url))
    logged = assistant.handle(Message("UNURSE", "15 min call pt 123", today=date(2026, 11, 27)))
    acked: list[bool] = []
    said: list[dict[str, Any]] = []
    actions.acknowledge(ack=lambda: acked.append(True))
    actions.undo(
        body={"user": {"id": "UNURSE"}},
        action={"value": ",".join(str(i) for i in logged.entry_ids)},
        respond=lambda **kwargs: said.append(kwargs),
        assistant=assistant,
    )
    assert acked == [True]
    assert said[0]["replace_original"] is True and said[0]["text"].startswith("Undone: 15 min patient outreach for patient 123")
    session.expire_all()
    assert session.scalars(select(TimeEntry.voided_at)).one() is not None
