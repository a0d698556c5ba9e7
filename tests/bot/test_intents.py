"""Which question or command a message is; entries must never be taken for questions."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from bot.intents import IntentName, classify, period_bounds

CASES = [
    ("help", "help", {}),
    ("<@U0BOT> help", "help", {}),
    ("what can you do?", "help", {}),
    ("undo", "undo", {}),
    ("Undo that", "undo", {}),
    ("status 123", "status", {"patient": "123"}),
    ("status for pt 0789", "status", {"patient": "0789"}),
    ("how is pt 123 doing this month?", "status", {"patient": "123", "month": "this"}),
    ("is 123 consented?", "status", {"patient": "123", "focus": "consent"}),
    ("what's missing for 123?", "status", {"patient": "123", "focus": "missing"}),
    ("who still needs time this month?", "needs_time", {"month": "this"}),
    ("who's close?", "needs_time", {"within": 10}),
    ("who needs time before the 30th?", "needs_time", {"before_day": 30}),
    ("which patients are short this month", "needs_time", {"month": "this"}),
    ("my time today", "staff_time", {"staff": "me", "period": "today"}),
    ("what did I log this week?", "staff_time", {"staff": "me", "period": "this week"}),
    ("my time last month", "staff_time", {"staff": "me", "period": "last month"}),
    ("who has no consent?", "blocked", {"reason": "no_consent"}),
    ("which patients are missing consent?", "blocked", {"reason": "no_consent"}),
    ("consent 123 verbal today", "consent", {"rest": "123 verbal today"}),
    ("record consent for pt 123 written 11/2", "consent", {"rest": "pt 123 written 11/2"}),
    ("status A12", "status", {"patient": "A12"}),  # keys keep their letters as typed
    ("consent AB12 Verbal today", "consent", {"rest": "AB12 Verbal today"}),
    ("close 2026-10", "close_month", {"month": "2026-10"}),
    ("reopen october", "reopen_month", {"month": "october"}),
]

# Questions written blind to the grammar, with the intent and slots each one must read (tests/data/questions.jsonl).
TABLE = [json.loads(line) for line in (Path(__file__).resolve().parents[1] / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("text,name,slots", CASES)
def test_questions_and_commands(text: str, name: str, slots: dict[str, object]) -> None:
    intent = classify(text)
    assert intent is not None and (intent.name.value, intent.slots.given()) == (name, slots)


def test_the_table_of_phrasings_is_large_enough() -> None:
    assert len(TABLE) >= 150
    assert len({row["intent"] for row in TABLE}) >= 12


@pytest.mark.parametrize("row", TABLE, ids=[f"{i}:{r['text'][:40]}" for i, r in enumerate(TABLE)])
def test_phrasings_read_as_their_intent_and_slots(row: dict[str, object]) -> None:
    intent = classify(str(row["text"]))
    assert intent is not None, row
    assert (intent.name.value, intent.slots.given()) == (row["intent"], row["slots"])
    # A filter the grammar has no slot for is reported, never silently dropped; nothing else is.
    assert bool(intent.unread) == bool(row.get("unread")), intent.unread


@pytest.mark.parametrize(
    "text",
    [
        "15 min med review for patient 123",
        "pt 456: 1h15m care plan yesterday",
        "20 min call with pt 123 about consent",
        "10 min closing the loop with cardiology for pt 5",
        "spent 15 min on med review",
        "lunch is in the break room",
    ],
)
def test_entries_and_chatter_go_to_the_parser(text: str) -> None:
    assert classify(text) is None


def test_weeks_start_on_monday_and_months_are_calendar_months() -> None:
    friday = date(2026, 11, 27)
    assert period_bounds("this week", friday)[:2] == (date(2026, 11, 23), friday)
    assert period_bounds("last week", friday)[:2] == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_bounds("last month", date(2026, 1, 5))[:2] == (date(2025, 12, 1), date(2025, 12, 31))


def test_every_question_in_help_is_understood() -> None:
    from bot.replies import HELP_LINES

    examples = [q for line in HELP_LINES[2:] if not line.startswith(("Filters", "Consent")) for q in re.findall(r'"([^"]+)"', line)]
    assert len(examples) >= 15
    for example in examples:
        assert classify(example) is not None, example


def test_a_number_the_grammar_did_not_use_is_named_not_dropped() -> None:
    """"who's close to 20 min" is read as close (within 10 min of a code); the 20 it did not use
    is named in the answer instead of vanishing."""
    intent = classify("whos close to 20 min")
    assert intent is not None and intent.name == IntentName.NEEDS_TIME and intent.slots.within == 10
    assert intent.unread == ("20",)
    assert classify("who is within 5 min for Dr. Okafor?").unread == ()
