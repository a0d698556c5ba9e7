"""Which question or command a message is; entries must never be taken for questions."""

from __future__ import annotations

from datetime import date

import pytest

from bot.intents import classify, period_bounds

CASES = [
    ("help", "help", {}),
    ("<@U0BOT> help", "help", {}),
    ("what can you do?", "help", {}),
    ("undo", "undo", {}),
    ("Undo that", "undo", {}),
    ("status 123", "status", {"patient": "123", "focus": "all"}),
    ("status for pt 0789", "status", {"patient": "0789", "focus": "all"}),
    ("how is pt 123 doing this month?", "status", {"patient": "123", "focus": "all"}),
    ("is 123 consented?", "status", {"patient": "123", "focus": "consent"}),
    ("what's missing for 123?", "status", {"patient": "123", "focus": "missing"}),
    ("who still needs time this month?", "due", {}),
    ("who's close?", "due", {"close": "yes"}),
    ("who needs time before the 30th?", "due", {"before_day": "30"}),
    ("which patients are short this month", "due", {}),
    ("my time today", "my_time", {"period": "today"}),
    ("what did I log this week?", "my_time", {"period": "this week"}),
    ("my time last month", "my_time", {"period": "last month"}),
    ("who has no consent?", "no_consent", {}),
    ("which patients are missing consent?", "no_consent", {}),
    ("consent 123 verbal today", "consent", {"rest": "123 verbal today"}),
    ("record consent for pt 123 written 11/2", "consent", {"rest": "pt 123 written 11/2"}),
    ("status A12", "status", {"patient": "A12", "focus": "all"}),  # keys keep their letters as typed
    ("consent AB12 Verbal today", "consent", {"rest": "AB12 Verbal today"}),
    ("close 2026-10", "close_month", {"month": "2026-10"}),
    ("reopen october", "reopen_month", {"month": "october"}),
]


@pytest.mark.parametrize("text,name,args", CASES)
def test_questions_and_commands(text: str, name: str, args: dict[str, str]) -> None:
    intent = classify(text)
    assert intent is not None and (intent.name, intent.args) == (name, args)


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
