"""Corrections beyond the transcripts (tests/transcripts/corrections*.txt, repeats.txt): no message
of the parser corpora reads as a correction, how each form is read, and the ledger's side (the
same correction twice changes once, the audit trail, an edited correction message)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.assistant import Assistant, Message
from bot.config import Settings
from bot.correction_grammar import Change, Pick, looks_like_correction, read_correction
from bot.intents import IntentName, classify
from storage.db import Database
from storage.models import AuditEvent, TimeEntry
from tests.conftest import Roster

TODAY = date(2026, 11, 27)
DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = [
    json.loads(line)["text"]
    for name in ("parser_corpus.jsonl", "parser_corpus_staff.jsonl", "questions.jsonl")
    for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def test_no_message_of_the_corpora_reads_as_a_correction() -> None:
    assert [text for text in CORPUS if looks_like_correction(text)] == []


@pytest.mark.parametrize(
    "text",
    [
        "change pharmacy for pt 123, 10 min",
        "cancel this appt pt 123 5 min",
        "update care plan pt 123 20 min",
        "set up rpm for pt 123 20 min",
        "that was a 20 min call with pt 123",
        "moved pt 123 to new pharmacy 15 min",
        "change my last entry to 25 min?",
    ],
)
def test_entries_and_questions_that_start_like_a_correction_are_not_one(text: str) -> None:
    assert not looks_like_correction(text)


@pytest.mark.parametrize(
    ("text", "pick", "change"),
    [
        ("change my last entry to 25 min", Pick(last=True), Change(minutes=25, said="25 min")),
        ("Fix my last entry: 1h 5m", Pick(last=True), Change(minutes=65, said="1h 5m")),
        ("that was pt 124 not 123", Pick(last=True, patient="123"), Change(patient="124", said="pt 124")),
        ("oops, it was 25 min, not 15", Pick(last=True, minutes=15), Change(minutes=25, said="25 min")),
        ("move my 15 min for pt 123 to yesterday", Pick(patient="123", minutes=15), Change(day=date(2026, 11, 26), said="yesterday")),
        ("delete my 10 min for pt 456 today", Pick(patient="456", minutes=10, day=TODAY), Change(delete=True)),
        ("change Maria Santos's last entry to 25 min", Pick(owner="Maria Santos", last=True), Change(minutes=25, said="25 min")),
        ("change entry 14 to pt 0789 on 11/25", Pick(number=14), Change(patient="0789", day=date(2026, 11, 25), said="pt 0789 on 11/25")),
        ("remove my 20 min call for pt 123", Pick(patient="123", minutes=20, activity="patient_outreach"), Change(delete=True)),
        ("delete that", Pick(last=True), Change(delete=True)),
    ],
)
def test_each_form_is_read_as_which_entry_and_what_it_becomes(text: str, pick: Pick, change: Change) -> None:
    assert looks_like_correction(text)
    assert classify(text) is not None and classify(text).name is IntentName.CORRECT  # type: ignore[union-attr]
    said = read_correction(text, TODAY)
    assert (said.problem, said.pick, said.change) == (None, pick, change)


def test_my_entries_is_its_own_question_and_my_time_is_unchanged() -> None:
    assert classify("my entries today").name is IntentName.MY_ENTRIES  # type: ignore[union-attr]
    assert classify("show my entries this week").slots.period == "this week"  # type: ignore[union-attr]
    assert classify("my time today").name is IntentName.STAFF_TIME  # type: ignore[union-attr]


def say(assistant: Assistant, text: str, key: str, user: str = "UNURSE") -> str:
    return assistant.handle(Message(user=user, text=text, today=TODAY, source="slack", source_id=key)).text


def active(db: Database) -> list[tuple[int, str | None]]:
    with db.session() as s:
        return [(e.minutes, e.void_reason) for e in s.scalars(select(TimeEntry).order_by(TimeEntry.id))]


def test_the_same_correction_message_twice_changes_once(db: Database, roster: Roster) -> None:
    roster.patient("123")
    assistant = Assistant(db, Settings(database_url=db.url))
    for n in range(3):
        say(assistant, "15 min med review pt 123", f"slack:C1:{n}")
    assert say(assistant, "change my last entry to 25 min", "slack:C1:10").startswith("Corrected your entry:")
    assert say(assistant, "change my last entry to 25 min", "slack:C1:10") == "Already corrected (this message was received before)."
    assert say(assistant, "delete my last entry", "slack:C1:11").startswith("Deleted your entry 4")
    # A delete said once and handled twice (a retry after a lost confirmation) must not take a second entry.
    assert say(assistant, "delete my last entry", "slack:C1:11") == "Already corrected (this message was received before)."
    assert active(db) == [(15, None), (15, None), (15, "corrected"), (25, "corrected")]


def test_a_correction_is_audited_as_a_void_a_log_and_the_link_between_them(db: Database, roster: Roster) -> None:
    roster.patient("123")
    roster.patient("124")
    assistant = Assistant(db, Settings(database_url=db.url))
    say(assistant, "15 min med review pt 123", "slack:C1:1")
    say(assistant, "that was pt 124 not 123", "slack:C1:2")
    with db.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        void, logged, link = rows[-3:]
        old, new = s.scalars(select(TimeEntry).order_by(TimeEntry.id)).all()
        assert (void.action, void.entity_id, void.after["void_reason"]) == ("entry.void", str(old.id), "corrected")
        assert (logged.action, logged.entity_id) == ("entry.log", str(new.id))
        assert (link.action, link.entity, link.entity_id) == ("entry.correct", "correction", "slack:C1:2")
        assert link.after == {"entry_id": old.id, "replaced_by": new.id, "key": "slack:C1:2"}
        assert {void.actor_id, logged.actor_id, link.actor_id} == {roster.nurse.id}
        assert (new.performed_by_id, new.logged_by_id, new.activity, new.service_date) == (old.performed_by_id, roster.nurse.id, old.activity, old.service_date)


def test_an_edited_correction_message_is_not_applied_again_nor_logged(db: Database, roster: Roster) -> None:
    roster.patient("123")
    assistant = Assistant(db, Settings(database_url=db.url))
    say(assistant, "15 min med review pt 123", "slack:C1:1")
    say(assistant, "move my 15 min for pt 123 to yesterday", "slack:C1:2")
    edited = assistant.edit(Message(user="UNURSE", text="move my 15 min for pt 123 to Wednesday", today=TODAY, source="slack", source_id="slack:C1:2"), revision="r1")
    assert edited.text == "Your edit was not applied: a correction is done once. Say the new correction in a new message."
    assert active(db) == [(15, "corrected"), (15, None)]
