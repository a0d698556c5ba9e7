"""Timers beyond the transcript (tests/transcripts/timers.txt): the grammar beside the RPM commands,
two replicas on one database, the end-of-day DM's timing and idempotency, and the terminal's /now."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.assistant import Assistant, Message
from bot.config import Settings, load_settings
from bot.intents import IntentName, classify
from bot.reminders import Post, Reminders
from bot.terminal import run_chat
from bot.timers import first_reminder
from storage.db import Database
from storage.models import TimeEntry, Timer
from storage.timers import as_utc
from tests.conftest import Roster

NY = ZoneInfo("America/New_York")


def at(clock: str, day: str = "2026-11-27") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=NY)


def say(assistant: Assistant, text: str, when: datetime, user: str = "UNURSE") -> str:
    return assistant.handle(Message(user=user, text=text, when=when, source="terminal")).text


@pytest.mark.parametrize(
    ("text", "name", "patient"),
    [
        ("start pt 123 call", IntentName.TIMER_START, "123"),
        ("/ccm start 123 call", IntentName.TIMER_START, "123"),
        ("start a timer for #0789 med review", IntentName.TIMER_START, "0789"),
        ("stop", IntentName.TIMER_STOP, None),
        ("stop pt 123", IntentName.TIMER_STOP, "123"),
        ("cancel timer", IntentName.TIMER_CANCEL, None),
        ("cancel my timer for 456", IntentName.TIMER_CANCEL, "456"),
        ("my timers", IntentName.TIMERS, None),
        # RPM episodes keep their words.
        ("start rpm 123", IntentName.RPM_START, "123"),
        ("rpm start 123", IntentName.RPM_START, "123"),
        ("stop rpm 123", IntentName.RPM_STOP, "123"),
        ("rpm stop 123 yesterday", IntentName.RPM_STOP, "123"),
    ],
)
def test_timer_words_beside_rpm_words(text: str, name: IntentName, patient: str | None) -> None:
    intent = classify(text)
    assert intent is not None and (intent.name, intent.slots.patient) == (name, patient)


def test_minutes_said_make_an_entry_not_a_timer_and_past_tenses_are_not_commands() -> None:
    assert classify("start 123 call 15 min") is None
    assert classify("started pt 123 on insulin") is None
    assert classify("stopped by pt 123 house") is None


def test_two_replicas_start_and_stop_a_timer_once(db: Database, roster: Roster) -> None:
    roster.patient("123")
    settings = Settings(database_url=db.url)
    one, two = Assistant(db, settings), Assistant(db, settings)
    assert say(one, "start pt 123 call", at("10:00")).startswith("Timer started for patient 123")
    assert say(two, "start pt 123 call", at("10:01")).startswith("You already have a timer running for patient 123: patient outreach, since 10:00 AM (1 min).")
    [timer] = roster.s.scalars(select(Timer)).all()
    assert say(two, "stop", at("10:20")).startswith("Logged 20 min patient outreach for patient 123 on Fri Nov 27 (Maria Santos).")
    # The first replica's Stop button, pressed after: the timer ended once and logged once.
    assert one.timers.stop_button("UNURSE", timer.id, at("10:21")).text == (
        "That timer for patient 123 was already stopped at 10:20 AM; nothing more was changed."
    )
    roster.s.expire_all()
    assert roster.s.scalars(select(TimeEntry.minutes)).all() == [20]
    assert roster.s.scalar(select(Timer.entry_id)) == roster.s.scalar(select(TimeEntry.id))


def test_a_stopped_entry_is_checked_like_any_other(db: Database, roster: Roster) -> None:
    """The patient made inactive while the timer ran: refused like a new entry, and the timer keeps running."""
    patient = roster.patient("123")
    assistant = Assistant(db, Settings(database_url=db.url, max_minutes_per_entry=60))
    say(assistant, "start 123 call", at("10:00"))
    patient.active = False
    roster.s.commit()
    assert say(assistant, "stop", at("10:30")) == (
        "Nothing was logged. Patient 123 is inactive; time can't be logged for an inactive patient. "
        'Your timer for patient 123 is still running: "stop 123" tries again, "cancel timer 123" drops it.'
    )
    patient.active = True
    roster.s.commit()
    assert say(assistant, "stop 123", at("11:00")).startswith("Logged 60 min patient outreach")  # the maximum is the setting's


class Recorder:
    def __init__(self) -> None:
        self.posts: list[Post] = []

    def post(self, post: Post) -> None:
        self.posts.append(post)


def test_the_end_of_day_dm_is_not_skipped_after_downtime_and_waits_for_a_late_timer(db: Database, roster: Roster) -> None:
    roster.patient("123")
    roster.patient("456")
    settings = Settings(database_url=db.url, reminders=("timers",))
    assistant = Assistant(db, settings)
    say(assistant, "start 123 call", at("10:00"))
    say(assistant, "start 456 care plan", at("18:00"))  # after the day's 17:00: its DM is tomorrow's
    # The bot was down at 17:00; the first run after it, the next morning, sends the 10:00 timer's DM.
    recorder = Recorder()
    first = Reminders(db, settings, recorder).run(at("08:00", "2026-11-28"))
    assert [(o.due.target, o.status) for o in first] == [("UNURSE", "sent")]
    [post] = recorder.posts
    assert post.channel == "UNURSE"
    assert post.reply.text.startswith("Your timer for patient 123 (patient outreach) is still running, since 10:00 AM Fri Nov 27.")
    assert [t.patient for t in post.reply.timers] == ["123"]
    # Another process (or a restart) at 17:00: the 123 DM is not sent again; the 456 one is due now.
    again = Recorder()
    second = Reminders(db, settings, again).run(at("17:00", "2026-11-28"))
    assert [(o.due.period.startswith("timer-"), o.status) for o in second] == [(True, "sent")]
    assert [p.reply.timers[0].patient for p in again.posts] == ["456"]
    assert Reminders(db, settings, Recorder()).run(at("17:10", "2026-11-28")) == []


def test_a_stopped_timer_gets_no_dm(db: Database, roster: Roster) -> None:
    roster.patient("123")
    settings = Settings(database_url=db.url, reminders=("timers",))
    assistant = Assistant(db, settings)
    say(assistant, "start 123 call", at("10:00"))
    say(assistant, "cancel timer", at("10:05"))
    assert Reminders(db, settings, Recorder()).run(at("17:00")) == []


def test_when_the_dm_is_due_and_its_setting() -> None:
    five = time(17, 0)
    assert first_reminder(at("16:59"), five, NY) == at("17:00")
    assert first_reminder(at("17:00"), five, NY) == at("17:00", "2026-11-28")
    assert load_settings({"CCMBOT_TIMERS_TIME": "18:30"}, dotenv_path=None).timers_time == time(18, 30)
    assert "timers" in load_settings({}, dotenv_path=None).reminders


def test_the_terminal_sets_the_clock_with_now(db: Database, roster: Roster) -> None:
    roster.patient("123")
    assistant = Assistant(db, Settings(database_url=db.url))
    lines = io.StringIO("/now 10:00\nstart pt 123 call\n/now 10:25\nstop\n/now 25:00\n/now\n")
    out = io.StringIO()
    run_chat(assistant, "Maria Santos", date(2026, 11, 27), lines, out, interactive=False)
    assert out.getvalue().splitlines() == [
        "The time is now 10:00.",
        "Timer started for patient 123: patient outreach, at 10:00 AM (Maria Santos).",
        'Say "stop" when you are done and I log the whole minutes, like any entry; "cancel timer" drops it.',
        "The time is now 10:25.",
        "Logged 25 min patient outreach for patient 123 on Fri Nov 27 (Maria Santos).",
        "From your timer, 10:00 AM to 10:25 AM.",
        "Patient 123: 25 of 40 min in November, 15 to go for 99439; 99490 reached; consent on file.",
        "Write the time as HH:MM, e.g. /now 10:15.",
        "The time is the real clock's again.",
    ]


def test_without_now_a_given_day_keeps_the_real_time_of_day(db: Database, roster: Roster) -> None:
    """The demo's /today alone: the timer starts on that day, at the clock's time of day."""
    roster.patient("123")
    assistant = Assistant(db, Settings(database_url=db.url), now=lambda: at("10:00", "2027-03-02"))
    reply = assistant.handle(Message(user="UNURSE", text="start 123", today=date(2026, 11, 27)))
    assert reply.text.startswith("Timer started for patient 123: other care management, at 10:00 AM (Maria Santos).")
    started = roster.s.scalar(select(Timer.started_at))
    assert started is not None and as_utc(started) == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
