"""RPM device codes through the rooms above billing: who may start and stop an episode (the same
rule at every door), the month's results and report, the current period in a fixed number of
queries for the whole practice, and the staff nudges."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from bot.assistant import Assistant, RpmChanged
from bot.billing import Policy
from bot.config import Settings
from bot.evaluation import device_statuses, month_results
from bot.reminders import Reminders
from bot.report import as_csv, as_json
from storage.db import Database
from storage.models import AuditEvent, RpmReading
from storage.rpm import start_episode
from tests.conftest import Roster

NY = ZoneInfo("America/New_York")


def add_days(roster: Roster, patient_id: int, first: date, count: int, device: str = "") -> None:
    for n in range(count):
        roster.s.add(RpmReading(patient_id=patient_id, day=first + timedelta(days=n), device_id=device, source="test"))
    roster.s.commit()


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_non_clinical_staff_are_refused_at_every_door_and_the_shell_may_stop(db: Database, roster: Roster) -> None:
    roster.patient("456", programs="RPM")
    assistant = Assistant(db, Settings(database_url=db.url))
    today = date(2026, 11, 20)
    refused = assistant.start_rpm("UCLERK", "456", when=date(2026, 11, 2), today=today)
    assert not isinstance(refused, RpmChanged) and refused.kind.is_refusal and "Only clinical staff and practitioners" in refused.text
    started = assistant.start_rpm("UMA", "456", when=date(2026, 11, 2), device="BP cuff", today=today)
    assert isinstance(started, RpmChanged) and (started.outcome, started.start, started.device) == ("started", date(2026, 11, 2), "BP cuff")
    refused = assistant.stop_rpm("UCLERK", "456", today=today)
    assert not isinstance(refused, RpmChanged) and refused.kind.is_refusal
    stopped = assistant.stop_rpm(None, "456", when=date(2026, 11, 18), today=today)
    assert isinstance(stopped, RpmChanged) and (stopped.outcome, stopped.end) == ("stopped", date(2026, 11, 18))
    with db.session() as s:
        audit = list(s.execute(select(AuditEvent.action, AuditEvent.actor_id).where(AuditEvent.entity == "rpm_episode").order_by(AuditEvent.id)))
    assert audit == [("rpm.start", roster.ma.id), ("rpm.stop", None)]


def test_the_month_report_lists_device_codes_under_rpm_with_their_period(db: Database, roster: Roster) -> None:
    p = roster.patient("456", programs="RPM", consent=date(2026, 10, 1))
    start_episode(roster.s, p, day=date(2026, 10, 20), device=None, by=roster.nurse, today=date(2026, 11, 27))
    roster.s.commit()
    add_days(roster, p.id, date(2026, 10, 20), 18, "cuff")
    add_days(roster, p.id, date(2026, 10, 20), 18, "scale")  # a second device the same days: still 18 data days
    with db.session() as s:
        [october] = month_results(s, date(2026, 10, 1), Policy(), patient_keys=["456"])
        [november] = month_results(s, date(2026, 11, 1), Policy(), patient_keys=["456"])
    assert october.result.codes == ()  # the period Oct 20 - Nov 18 ends in November
    assert [(c.program, c.code, c.amount) for c in november.result.codes] == [("RPM", "99454", 47.06), ("RPM", "99453", 21.71)]
    rows = [r for r in csv.DictReader(io.StringIO(as_csv([november]))) if r["code"]]
    assert [(r["program"], r["code"], r["date_of_service"], r["period_start"], r["period_end"], r["data_days"]) for r in rows] == [
        ("RPM", "99454", "2026-11-18", "2026-10-20", "2026-11-18", "18"),
        ("RPM", "99453", "2026-11-18", "2026-10-20", "2026-11-18", "18"),
    ]
    entry = json.loads(json.dumps(as_json(november)))
    assert entry["codes"][0] == {"code": "99454", "units": 1, "amount": 47.06, "period_start": "2026-10-20", "period_end": "2026-11-18",
                                 "data_days": 18, "date_of_service": "2026-11-18"}  # fmt: skip
    assert entry["device_periods"] == [
        {"period_start": "2026-10-20", "period_end": "2026-11-18", "data_days": 18, "date_of_service": "2026-11-18",
         "codes": ["99454", "99453"], "setup": True, "blocker": None}
    ]  # fmt: skip


def _practice(roster: Roster, first: int, size: int) -> None:
    for n in range(first, first + size):
        p = roster.patient(f"{500 + n}", programs="RPM", consent=date(2026, 9, 1))
        start_episode(roster.s, p, day=date(2026, 10, 1) + timedelta(days=n % 20), device=None, by=roster.nurse, today=date(2026, 11, 27))
        roster.s.commit()
        add_days(roster, p.id, date(2026, 10, 25), 10 + n % 15)


def test_a_whole_practice_is_read_in_a_fixed_number_of_queries(db: Database, roster: Roster) -> None:
    def reads(first: int, size: int) -> tuple[int, int]:
        _practice(roster, first, size)
        with db.session() as s, statements(db) as month:
            month_results(s, date(2026, 11, 1), Policy())
        with db.session() as s, statements(db) as now:
            statuses = device_statuses(s, date(2026, 11, 27))
        assert len(statuses) == first + size
        return len(month), len(now)

    small = reads(0, 3)
    larger = reads(3, 12)  # 15 patients now
    assert small == larger


def test_nudges_name_rpm_patients_whose_period_ends_within_5_days_on_any_business_day(db: Database, roster: Roster) -> None:
    close = roster.patient("456", programs="RPM", consent=date(2026, 9, 1))
    far = roster.patient("789", programs="RPM", consent=date(2026, 9, 1))
    start_episode(roster.s, close, day=date(2026, 10, 13), device=None, by=roster.nurse, today=date(2026, 11, 10))  # period Oct 13 - Nov 11
    start_episode(roster.s, far, day=date(2026, 11, 1), device=None, by=roster.nurse, today=date(2026, 11, 10))
    roster.s.commit()
    add_days(roster, close.id, date(2026, 10, 20), 14)  # 14 data days, period ends Nov 11: 2 more for 99454, 2 days left
    add_days(roster, far.id, date(2026, 11, 1), 5)
    reminders = Reminders(db, Settings(database_url=db.url, reminder_channel="C0COORD01"), policy=Policy())
    # Tuesday 10 November: before the 15th, so no minute nudges; the RPM one goes out.
    outcomes = {o.due.target: o for o in reminders.preview(datetime.combine(date(2026, 11, 10), time(10, 0), tzinfo=NY)) if o.due.kind == "nudges"}
    [post] = outcomes["UNURSE"].posts
    assert post.reply.text.splitlines() == [
        "Your RPM patients whose 30-day device period ends within 5 days and can still reach the next device code:",
        "• 456: 2 data days to 99454 (14 of 16), period ends Nov 11, 2 days left",
    ]
    assert outcomes["UMA"].posts == [] and outcomes["UCLERK"].posts == []


def test_slash_ccm_rpm_start_is_the_same_use_case(db: Database, roster: Roster) -> None:
    from bot.slack.listeners import commands

    roster.patient("456", programs="RPM")
    noon = datetime.combine(date(2026, 11, 20), time(12, 0), tzinfo=NY)
    assistant = Assistant(db, Settings(database_url=db.url), now=lambda: noon)
    said: list[dict[str, object]] = []
    for user, text in (("UCLERK", "rpm start 456"), ("UNURSE", "rpm start 456 11/18")):
        command = {"text": text, "user_id": user, "trigger_id": f"t-{user}", "channel_id": "C1"}
        commands.work(command, respond=lambda **kwargs: said.append(kwargs), client=None, assistant=assistant)  # type: ignore[arg-type]
    assert str(said[0]["text"]).startswith("Only clinical staff and practitioners can start or stop RPM")
    assert str(said[1]["text"]).startswith("Started RPM for patient 456 on Wed Nov 18 2026 (Maria Santos)")
    assert all(s["response_type"] == "ephemeral" for s in said)


def test_how_rpm_commands_and_questions_are_read() -> None:
    from bot.intents import IntentName, classify

    cases = {
        "RPM set up for pt 123 today": (IntentName.RPM_START, "123", "today"),
        "rpm start 0789": (IntentName.RPM_START, "0789", None),
        "started rpm for 456 on 11/2 device: BP cuff": (IntentName.RPM_START, "456", "on 11/2 device: BP cuff"),
        "rpm stop 123 yesterday": (IntentName.RPM_STOP, "123", "yesterday"),
        "stop rpm for pt 123": (IntentName.RPM_STOP, "123", None),
        "rpm start": (IntentName.RPM_START, None, None),
        "who is short of data days?": (IntentName.DATA_DAYS, None, None),
        "rpm data days": (IntentName.DATA_DAYS, None, None),
        "data days for 123": (IntentName.STATUS, "123", None),
    }
    for text, (name, patient, rest) in cases.items():
        intent = classify(text)
        assert intent is not None and (intent.name, intent.slots.patient, intent.slots.rest) == (name, patient, rest), text
    # With minutes it is time to log, not a command; a CPT code is never a patient.
    assert classify("rpm setup pt 123 20 min") is None
    assert classify("15 min data day review pt 123") is None
    start_code = classify("rpm start 99454")
    assert start_code is None or start_code.name != IntentName.RPM_START
