"""`ccmbot audit export` answers an auditor's "prove it"; `ccmbot backup` copies a live SQLite file."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from datetime import date
from pathlib import Path

from bot.assistant import Assistant, Message
from bot.config import Settings
from storage.audit_export import month_audit_csv
from storage.backup import backup_sqlite
from storage.db import Database
from storage.entries import EntryDraft, replace_source
from tests.conftest import Roster

DAY = date(2026, 11, 27)


def test_audit_export_lists_entries_voids_edits_and_consent_with_who_and_source(db: Database, roster: Roster) -> None:
    roster.patient("123")
    roster.patient("456", consent=None)
    assistant = Assistant(db, Settings(database_url=db.url))
    link = "https://slack.com/archives/C0CARE/p1795791600000100"
    assistant.handle(Message("UNURSE", "15 min med review pt 123", today=DAY, source="slack", source_id="slack:C0CARE:1.0", link=link))
    assistant.handle(Message("UMA", "10 min call pt 456", today=DAY))
    assistant.handle(Message("UMA", "undo", today=DAY))
    with db.transaction() as s:
        nurse = s.merge(roster.nurse)
        replace_source(s, "slack:C0CARE:1.0", [EntryDraft("123", 20, DAY, "medication_review")], revision="2.0", performed_by=nurse,
                       logged_by=nurse, source="slack", today=DAY, max_minutes=240, source_link=link)  # fmt: skip
    assistant.handle(Message("UDOC", "consent 456 written 11/20", today=DAY))
    assistant.handle(Message("UNURSE", "5 min call pt 123 on 10/30", today=DAY))  # October: not in November's export
    with db.session() as s:
        rows = list(csv.DictReader(io.StringIO(month_audit_csv(s, date(2026, 11, 1), date(2026, 11, 30)))))
    got = [(r["action"], r["patient"], r["minutes"], r["performed_by"], r["changed_by"], r["reason"], r["source_link"]) for r in rows]
    assert got == [
        ("logged", "123", "15", "Maria Santos", "Maria Santos", "", link),
        ("logged", "456", "10", "Tyler Brooks", "Tyler Brooks", "", ""),
        ("voided", "456", "10", "Tyler Brooks", "Tyler Brooks", "undo", ""),
        ("edited: old entry voided", "123", "15", "Maria Santos", "Maria Santos", "message edited", link),
        ("edited: new entry", "123", "20", "Maria Santos", "Maria Santos", "", link),
        ("consent recorded", "456", "", "", "Dr. Okafor", "", ""),
    ]
    assert rows[-1]["consent_status"] == "granted" and rows[-1]["consent_method"] == "written"
    with db.session() as s:
        only = list(csv.DictReader(io.StringIO(month_audit_csv(s, date(2026, 11, 1), date(2026, 11, 30), "456"))))
    assert {r["patient"] for r in only} == {"456"} and len(only) == 3


def test_backup_is_a_consistent_owner_only_copy(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'live.db'}")
    roster_session = database.session().__enter__()
    Roster(roster_session).patient("123")
    # A second connection holds an open write transaction during the backup.
    writer = sqlite3.connect(tmp_path / "live.db")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE patients SET label = 'in flight' WHERE key = '123'")
    pages = backup_sqlite(database, tmp_path / "backups" / "copy.db")
    writer.rollback()
    writer.close()
    copy = tmp_path / "backups" / "copy.db"
    assert pages > 0 and os.stat(copy).st_mode & 0o077 == 0
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT key, label FROM patients").fetchall() == [("123", None)]
    roster_session.close()
    database.dispose()
