"""Reminders with an injected clock: each kind on its day and time, daylight-saving weeks, leap
February, a month ending on a Saturday, nothing due, catch-up after downtime, exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.reminders import Post, Reminders, first_business_day, last_business_day, scheduled
from bot.scheduler import build_scheduler
from storage.db import Database
from storage.entries import EntryDraft, log_entries
from tests.conftest import Roster

NY = ZoneInfo("America/New_York")
SETTINGS = Settings(reminder_channel="C0COORD01")


def at(day: str, clock: str) -> datetime:
    """A local moment in New York."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=NY)


class Recorder:
    def __init__(self) -> None:
        self.posts: list[Post] = []

    def post(self, post: Post) -> None:
        self.posts.append(post)


def kinds_due(reminders: Reminders, moment: datetime) -> list[tuple[str, str]]:
    return [(d.kind, d.period) for d in reminders.due(moment) if d.kind != "nudges"]


@pytest.fixture
def reminders(db: Database, roster: Roster) -> Reminders:
    return Reminders(db, replace(SETTINGS, database_url=db.url), Recorder())


def test_each_kind_on_its_day_and_time(reminders: Reminders) -> None:
    # Monday 16 November 2026: a business day after the 15th, a Monday (consent gaps).
    assert kinds_due(reminders, at("2026-11-16", "08:59")) == []
    assert kinds_due(reminders, at("2026-11-16", "09:00")) == [("digest", "2026-11-16"), ("consent_gaps", "2026-W47")]
    assert [d.target for d in reminders.due(at("2026-11-16", "10:00")) if d.kind == "nudges"] == ["UCLERK", "UDOC", "UMA", "UNURSE"]
    # Before the 15th: no digest; Saturday: no digest.
    assert kinds_due(reminders, at("2026-11-13", "09:30")) == []
    assert kinds_due(reminders, at("2026-11-21", "09:30")) == []
    # The last business day: the final call at noon. The first business day: last month's summary.
    assert ("final_call", "2026-11") not in kinds_due(reminders, at("2026-11-30", "11:59"))
    assert ("final_call", "2026-11") in kinds_due(reminders, at("2026-11-30", "12:00"))
    assert ("summary", "2026-11") in kinds_due(reminders, at("2026-12-01", "09:00"))


def test_a_month_ending_on_saturday_and_a_leap_february() -> None:
    assert date(2026, 10, 31).weekday() == 5
    assert last_business_day(date(2026, 10, 1)) == date(2026, 10, 30)
    assert scheduled("final_call", date(2026, 10, 30), SETTINGS) == time(12, 0)
    assert scheduled("final_call", date(2026, 10, 31), SETTINGS) is None
    assert last_business_day(date(2027, 2, 1)) == date(2027, 2, 26)  # 28 days, ending on a Sunday
    assert last_business_day(date(2028, 2, 1)) == date(2028, 2, 29)  # a Tuesday
    assert first_business_day(date(2028, 3, 1)) == date(2028, 3, 1)
    assert scheduled("summary", date(2028, 3, 1), SETTINGS) == time(9, 0)
    # A month starting on a weekend: the summary waits for Monday; holidays are skipped too.
    assert first_business_day(date(2026, 8, 1)) == date(2026, 8, 3)
    holiday = replace(SETTINGS, holidays=(date(2026, 11, 30),))
    assert last_business_day(date(2026, 11, 1), holiday.holidays) == date(2026, 11, 27)
    assert scheduled("final_call", date(2026, 11, 27), holiday) == time(12, 0)


def test_a_nine_oclock_trigger_stays_at_nine_local_across_daylight_saving(reminders: Reminders) -> None:
    scheduler = build_scheduler(reminders, SETTINGS)
    trigger = scheduler.get_job("reminders-0900").trigger
    assert isinstance(trigger, CronTrigger)
    # US daylight saving starts Sunday 8 March 2026 and ends Sunday 1 November 2026.
    for start in (at("2026-03-06", "10:00"), at("2026-10-30", "10:00")):
        fires, previous = [], None
        now = start
        for _ in range(4):
            nxt = trigger.get_next_fire_time(previous, now)
            fires.append(nxt)
            previous, now = nxt, nxt + timedelta(seconds=1)
        assert [f.astimezone(NY).hour for f in fires] == [9, 9, 9, 9]
        assert len({f.utcoffset() for f in fires}) == 2  # the UTC hour moved, the local one did not
    # And the reminders themselves compare local times: 09:00 on the Monday after the change is due.
    assert ("digest", "2026-11-16") in kinds_due(reminders, at("2026-11-16", "09:00"))


def test_nothing_due_posts_nothing_and_empty_reminders_stay_quiet(reminders: Reminders) -> None:
    assert reminders.run(at("2026-11-14", "09:30")) == []  # a Saturday before the 15th
    outcomes = reminders.run(at("2026-11-16", "09:00"))  # due, but no patient and no gap
    assert {o.status for o in outcomes} == {"empty"} and reminders.poster.posts == []  # type: ignore[union-attr]


def test_catch_up_after_downtime_sends_today_only(db: Database, roster: Roster, reminders: Reminders) -> None:
    roster.patient("123")
    log_entries(
        roster.s, [EntryDraft("123", 15, date(2026, 11, 16), "patient_outreach")], performed_by=roster.nurse, logged_by=roster.nurse,
        source="cli", source_group="g1", today=date(2026, 11, 17), max_minutes=240,
    )  # fmt: skip
    roster.s.commit()  # the test is the door: its unit of work commits
    # Down all of Monday the 16th; up on Tuesday at 15:00: Tuesday's digest goes, Monday's does not.
    outcomes = reminders.run(at("2026-11-17", "15:00"))
    assert [(o.due.kind, o.due.period, o.status) for o in outcomes if o.due.kind == "digest"] == [("digest", "2026-11-17", "sent")]
    assert all(o.due.period != "2026-11-16" for o in outcomes)
    # The bot restarts again the same afternoon: nothing is posted twice.
    posted = len(reminders.poster.posts)  # type: ignore[union-attr]
    assert reminders.run(at("2026-11-17", "16:00")) == []
    assert len(reminders.poster.posts) == posted  # type: ignore[union-attr]


def test_digest_groups_by_closeness_with_money_and_days_left(db: Database, roster: Roster, reminders: Reminders) -> None:
    for key, minutes in (("101", 17), ("102", 12), ("103", 2)):
        roster.patient(key)
        log_entries(
            roster.s, [EntryDraft(key, minutes, date(2026, 11, 20), "patient_outreach")], performed_by=roster.nurse,
            logged_by=roster.nurse, source="cli", source_group=f"g{key}", today=date(2026, 11, 20), max_minutes=240,
        )  # fmt: skip
        roster.s.commit()  # the test is the door: its unit of work commits
    roster.patient("104", consent=None)
    [outcome] = [o for o in reminders.preview(at("2026-11-25", "09:00")) if o.due.kind == "digest"]
    [post] = outcome.posts
    assert post.channel == "C0COORD01" and post.log_button
    assert post.reply.text.splitlines() == [
        "Who still needs time in November: 3 patients, $198.39 at stake (estimated). 6 days (4 business days) left in November, today included.",
        "Within 5 minutes (1, $66.13):",
        "• 101: 3 min to 99490 (17 of 20)",
        "Within 10 minutes (1, $66.13):",
        "• 102: 8 min to 99490 (12 of 20)",
        "Further (1, $66.13):",
        "• 103: 18 min to 99490 (2 of 20)",
    ]


def test_a_failed_post_is_retried_later_and_sent_once(db: Database, roster: Roster) -> None:
    roster.patient("123", consent=None)
    log_entries(
        roster.s, [EntryDraft("123", 15, date(2026, 11, 16), "patient_outreach")], performed_by=roster.nurse, logged_by=roster.nurse,
        source="cli", source_group="g1", today=date(2026, 11, 16), max_minutes=240,
    )  # fmt: skip
    roster.s.commit()  # the test is the door: its unit of work commits

    class Flaky(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.fail = True

        def post(self, post: Post) -> None:
            if self.fail:
                self.fail = False
                raise ConnectionError("slack down")
            super().post(post)

    poster = Flaky()
    reminders = Reminders(db, replace(SETTINGS, database_url=db.url, reminders=("consent_gaps",)), poster)
    assert [o.status for o in reminders.run(at("2026-11-16", "09:00"))] == ["failed"]
    assert [o.status for o in reminders.run(at("2026-11-16", "09:10"))] == ["sent"]
    assert reminders.run(at("2026-11-16", "09:20")) == []
    assert [p.reply.text.splitlines()[1] for p in poster.posts] == ["• 123 (CCM): 15 min logged, no consent on file"]


def test_the_summary_attaches_last_months_report(db: Database, roster: Roster, reminders: Reminders) -> None:
    roster.patient("123")
    roster.patient("456")
    for key, minutes in (("123", 25), ("456", 17)):
        log_entries(
            roster.s, [EntryDraft(key, minutes, date(2026, 11, 20), "care_plan")], performed_by=roster.nurse, logged_by=roster.nurse,
            source="cli", source_group=f"g{key}", today=date(2026, 11, 20), max_minutes=240,
        )  # fmt: skip
        roster.s.commit()  # the test is the door: its unit of work commits
    [outcome] = [o for o in reminders.preview(at("2026-12-01", "09:00")) if o.due.kind == "summary"]
    [post] = outcome.posts
    assert post.reply.text.splitlines() == [
        "November 2026: 1 billable patient of 2, $66.13 (estimated). Codes: 99490 x1.",
        "Missed by 5 min or less (1):",
        "• 456: 3 min to 99490 (17 of 20)",
        "Billable:",
        "• 123: 99490, $66.13",
    ]
    assert post.file is not None and post.file[0] == "ccm-report-2026-11.csv"
    assert post.file[1].splitlines()[0].startswith("patient,month,program,code")


def test_a_nudge_names_the_closest_fifteen_of_the_persons_own_patients(db: Database, roster: Roster, reminders: Reminders) -> None:
    """A nurse with 30 patients close to a code gets the 15 closest and the count of the rest;
    a colleague's patients are not in it, and someone with none close gets no nudge."""
    for n in range(30):
        key = f"{200 + n}"
        roster.patient(key)
        log_entries(
            roster.s, [EntryDraft(key, 19 - n % 9, date(2026, 11, 16), "patient_outreach")], performed_by=roster.nurse,
            logged_by=roster.nurse, source="cli", source_group=f"n{key}", today=date(2026, 11, 16), max_minutes=240,
        )  # fmt: skip
    roster.patient("300")
    log_entries(
        roster.s, [EntryDraft("300", 19, date(2026, 11, 16), "patient_outreach")], performed_by=roster.ma,
        logged_by=roster.ma, source="cli", source_group="m300", today=date(2026, 11, 16), max_minutes=240,
    )  # fmt: skip
    roster.s.commit()
    outcomes = {o.due.target: o for o in reminders.preview(at("2026-11-16", "10:00")) if o.due.kind == "nudges"}
    [nurse] = outcomes["UNURSE"].posts
    lines = nurse.reply.text.splitlines()
    listed = [line for line in lines if line.startswith("• ")]
    needed = [int(line.split(": ")[1].split(" min")[0]) for line in listed]
    assert len(listed) == 15 and needed == sorted(needed) and max(needed) == 4  # 4 + 4 + 4 patients need 1-3 min, 3 need 4
    assert lines[-1] == '…and 15 more within 10 min: ask me "who still needs time for my patients?".'
    assert not any(line.startswith("• 300") for line in lines)
    [ma] = outcomes["UMA"].posts
    assert [line for line in ma.reply.text.splitlines() if line.startswith("• ")] == ["• 300: 1 min to 99490 (19 of 20)"]
    assert outcomes["UCLERK"].posts == []
