"""Timers through the real Bolt app over signed HTTP, against the stand-in: `/ccm start`, the Stop
button on the bot's message, Start and Stop on the Home tab, and the end-of-day DM. The app's
clock is a test clock moved forward between the start and the stop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.reminders import Reminders
from bot.slack.client import make_web_client
from bot.slack.poster import SlackPoster
from storage.db import Database
from storage.models import AuditEvent, TimeEntry, Timer
from tests.bot.slack.conftest import BOT_TOKEN, NOW, SECRET, SlackHarness, fixture
from tests.bot.slack.standin import StandIn
from tests.conftest import Roster

NY = ZoneInfo("America/New_York")


class Clock:
    def __init__(self) -> None:
        self.at = NOW  # 10:00:30 AM in New York, Fri Nov 27 2026

    def __call__(self) -> datetime:
        return self.at

    def advance(self, minutes: float) -> None:
        self.at += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(db: Database, roster: Roster, standin: StandIn, clock: Clock) -> Iterator[SlackHarness]:
    standin.reset()
    roster.patient("123")
    roster.patient("456", consent=None)
    settings = Settings(database_url=db.url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET, slack_api_url=standin.api_url)
    harness = SlackHarness(db, standin, settings, now=clock)
    standin.reset()
    yield harness
    harness.close()


def said(slack: SlackHarness, method: str = "response_url") -> dict[str, Any]:
    params = slack.standin.wait_for(method)[0].params
    slack.standin.reset()
    return params


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in blocks if "accessory" in b]


def stop_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in buttons(blocks) if b["action_id"].startswith("stop_timer")]


def press(button: dict[str, Any], user: str = "UNURSE") -> dict[str, Any]:
    """The block_actions payload of a button pressed on a message (it has a response_url)."""
    payload = fixture("block_actions_undo", user={"id": user, "team_id": "T0CLINIC"})
    payload["actions"] = [{"action_id": button["action_id"], "block_id": "timer", "type": "button", "value": button["value"], "action_ts": "1795792600.000100"}]
    return payload


def press_on_home(button: dict[str, Any], user: str = "UNURSE") -> dict[str, Any]:
    payload = press(button, user)
    payload["container"] = {"type": "view", "view_id": "V0HOME"}
    payload["view"] = {"id": "V0HOME", "type": "home"}
    payload.pop("response_url")
    return payload


def entries(session: Session) -> list[tuple[str, int, str, date]]:
    session.expire_all()
    rows = session.scalars(select(TimeEntry).where(TimeEntry.voided_at.is_(None)).order_by(TimeEntry.id))
    return [(e.patient.key, e.minutes, e.activity, e.service_date) for e in rows]


def test_ccm_start_then_the_stop_button_logs_the_minutes_with_undo(timed: SlackHarness, clock: Clock, session: Session) -> None:
    assert timed.command("start 123 call").status == 200
    started = said(timed)
    assert started["text"].splitlines()[0] == "Timer started for patient 123: patient outreach, at 10:00 AM (Maria Santos)."
    assert started["response_type"] == "ephemeral"
    [stop] = stop_buttons(started["blocks"])
    timer = session.scalars(select(Timer)).one()
    assert stop["value"] == str(timer.id) and timer.started_at is not None
    # The message shows how long the timer has run, in Slack's own clock ("started 10:00 AM, 14 minutes ago").
    context = [e["text"] for b in started["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert context == [f"Timer for patient 123: <!date^{int(NOW.timestamp())}^started {{time}}, {{ago}}|started 2026-11-27 15:00 UTC>"]

    clock.advance(14.9)  # whole minutes: 14
    assert timed.interaction(press(stop)).status == 200
    logged = said(timed)
    assert logged["replace_original"] is True  # the timer's message becomes the confirmation
    assert logged["text"].splitlines() == [
        "Logged 14 min patient outreach for patient 123 on Fri Nov 27 (Maria Santos).",
        "From your timer, 10:00 AM to 10:15 AM.",
        "Patient 123: 14 of 20 min in November, 6 to go for 99490; consent on file.",
    ]
    assert entries(session) == [("123", 14, "patient_outreach", date(2026, 11, 27))]
    [undo] = [b for b in buttons(logged["blocks"]) if b["action_id"] == "undo_entries"]
    entry_id = session.scalar(select(TimeEntry.id))
    assert undo["value"] == str(entry_id)
    assert not stop_buttons(logged["blocks"])
    # Audited: the start, the entry, and the stop that names it.
    audited = select(AuditEvent.action, AuditEvent.after).where(AuditEvent.entity.in_(("timer", "time_entry"))).order_by(AuditEvent.id)
    events = session.execute(audited).all()
    assert [a for a, _ in events] == ["timer.start", "entry.log", "timer.stop"]
    assert events[2][1]["entry_id"] == entry_id and events[2][1]["outcome"] == "logged"

    # Pressed again (a stale message): nothing more is logged, and the answer is private.
    assert timed.interaction(press(stop)).status == 200
    again = said(timed)
    assert again["text"] == "That timer for patient 123 was already stopped at 10:15 AM; nothing more was changed."
    assert again["replace_original"] is False and again["response_type"] == "ephemeral"
    assert len(entries(session)) == 1


def test_only_the_owner_can_stop_a_timer_and_strangers_are_told_how_to_join(timed: SlackHarness, clock: Clock, session: Session) -> None:
    assert timed.command("start pt 123 med review").status == 200
    [stop] = stop_buttons(said(timed)["blocks"])
    clock.advance(20)
    assert timed.interaction(press(stop, user="UMA")).status == 200
    refused = said(timed)
    assert refused["text"] == (
        "That button is for a timer that is not yours; only the person who started a timer can stop or cancel it. Nothing was changed."
    )
    assert refused["replace_original"] is False
    assert timed.interaction(press(stop, user="USTRANGER")).status == 200
    assert said(timed)["text"].startswith("You're not on the care team's staff roster yet")
    assert timed.command("stop", user="UMA").status == 200
    assert said(timed)["text"] == 'You have no timer running. Start one like "start pt 123 call".'
    session.expire_all()
    assert session.scalar(select(Timer.stopped_at)) is None and entries(session) == []
    # A forged value naming no timer of theirs changes nothing either.
    assert timed.interaction(press({"action_id": "stop_timer:999", "value": "999"})).status == 200
    assert said(timed)["text"].startswith("That button is for a timer that is not yours")


def test_ccm_stop_with_two_timers_asks_which_and_cancel_drops_one(timed: SlackHarness, clock: Clock, session: Session) -> None:
    assert timed.command("start 123 call").status == 200
    said(timed)
    clock.advance(5)
    assert timed.command("start 456 labs").status == 200
    assert "You have 2 timers running now" in said(timed)["text"]
    clock.advance(10)
    assert timed.command("stop").status == 200
    asked = said(timed)
    assert asked["text"].splitlines() == [
        'You have 2 timers running; say which: "stop 123" or "stop 456". Nothing was changed.',
        "• patient 123: patient outreach, since 10:00 AM (15 min)",
        "• patient 456: lab review, since 10:05 AM (10 min)",
    ]
    assert [b["text"]["text"] for b in stop_buttons(asked["blocks"])] == ["Stop 123", "Stop 456"]
    assert timed.command("cancel timer 123").status == 200
    assert said(timed)["text"] == "Cancelled your timer for patient 123 (patient outreach, since 10:00 AM): nothing was logged."
    assert timed.command("stop").status == 200
    assert said(timed)["text"].startswith("Logged 10 min lab review for patient 456 on Fri Nov 27 (Maria Santos).")
    assert entries(session) == [("456", 10, "lab_review", date(2026, 11, 27))]


def test_home_tab_starts_and_stops_timers(timed: SlackHarness, clock: Clock, session: Session) -> None:
    assert timed.event(fixture("event_app_home_opened")).status == 200
    home = said(timed, "views.publish")["view"]
    [start] = [b for b in buttons(home["blocks"]) if b["action_id"] == "open_timer_modal"]
    assert not stop_buttons(home["blocks"])

    assert timed.interaction(press_on_home(start | {"value": ""})).status == 200
    form = said(timed, "views.open")["view"]
    assert form["callback_id"] == "start_timer"

    submission = fixture("view_submission")
    submission["view"] |= {"id": "V0TIMER", "callback_id": "start_timer", "private_metadata": ""}
    values: dict[str, Any] = {
        "patient": {"value": {"type": "plain_text_input", "value": "999"}},
        "activity": {"value": {"type": "static_select", "selected_option": {"value": "lab_review"}}},
    }
    submission["view"]["state"]["values"] = values
    response = timed.interaction(submission)
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"patient": "Patient 999 is not on the roster. Check the number, or ask an admin to add the patient."},
    }
    values["patient"]["value"]["value"] = "456"
    assert timed.interaction(submission).status == 200
    dm = timed.standin.wait_for("chat.postMessage")[0].params
    assert dm["channel"] == "UNURSE" and dm["text"].startswith("Timer started for patient 456: lab review, at 10:00 AM (Maria Santos).")
    home = timed.standin.wait_for("views.publish")[0].params["view"]
    timed.standin.reset()
    [stop] = stop_buttons(home["blocks"])
    assert "patient 456: lab review, since 10:00 AM (0 min)" in json.dumps(home)

    clock.advance(25)
    assert timed.interaction(press_on_home(stop)).status == 200
    confirmation = timed.standin.wait_for("chat.postMessage")[0].params
    assert confirmation["channel"] == "UNURSE"
    assert confirmation["text"].startswith("Logged 25 min lab review for patient 456 on Fri Nov 27 (Maria Santos).")
    assert [b["action_id"] for b in buttons(confirmation["blocks"])] == ["undo_entries"]
    redrawn = timed.standin.wait_for("views.publish")[0].params["view"]
    assert not stop_buttons(redrawn["blocks"]) and "25 min lab review, patient 456" in json.dumps(redrawn)
    assert entries(session) == [("456", 25, "lab_review", date(2026, 11, 27))]


def test_a_timer_running_at_the_end_of_its_day_gets_one_dm_with_stop(timed: SlackHarness, clock: Clock, db: Database, standin: StandIn) -> None:
    assert timed.command("start 123 call").status == 200
    said(timed)

    settings = replace(timed.settings, reminders=("timers",))  # the others have their own tests

    def reminders() -> Reminders:  # a new one each time: a restart, or another scheduler process
        return Reminders(db, settings, SlackPoster(make_web_client(settings)))

    def at(clock: str, day: str = "2026-11-27") -> datetime:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=NY)

    assert [o.due.kind for o in reminders().run(at("16:59"))] == []
    [outcome] = [o for o in reminders().run(at("17:00")) if o.due.kind == "timers"]
    assert (outcome.due.target, outcome.status) == ("UNURSE", "sent")
    [dm] = standin.wait_for("chat.postMessage")
    assert dm.params["channel"] == "UNURSE"
    assert dm.params["text"].startswith("Your timer for patient 123 (patient outreach) is still running, since 10:00 AM.")
    [stop] = stop_buttons(dm.params["blocks"])
    standin.reset()
    # Never twice: not at the next wake-up, not after a restart the next morning.
    assert [o.status for o in reminders().run(at("17:10")) if o.due.kind == "timers"] == []
    assert [o.status for o in reminders().run(at("08:00", "2026-11-28")) if o.due.kind == "timers"] == []
    assert standin.of("chat.postMessage") == []
    # Its Stop button works like any other: past the per-entry maximum, it asks for the minutes.
    clock.at = at("17:05")
    assert timed.interaction(press(stop)).status == 200
    assert said(timed)["text"].splitlines() == [
        "Your timer for patient 123 ran 7 h 4 min (424 min, since 10:00 AM), more than the 240 min one entry may hold, so I stopped it and logged nothing.",
        'How many minutes did the work take? Log them like any entry, e.g. "45 min patient outreach pt 123 on 11/27"; split longer work into several entries.',
    ]
