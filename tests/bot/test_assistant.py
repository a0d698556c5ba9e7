"""The assistant beyond transcripts: clocks and time zones, retries, the Undo button, audit rows,
and that replies carry the billing engine's numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.assistant import Assistant, Message
from bot.config import Settings
from bot.evaluation import month_results, policy_from
from storage.db import Database
from storage.models import AuditEvent, TimeEntry
from tests.conftest import Roster


def make(db: Database, now: datetime | None = None) -> Assistant:
    return Assistant(db, Settings(database_url=db.url), now=(lambda: now) if now else None)


def test_late_evening_on_the_last_day_belongs_to_that_month_in_the_practice_time_zone(db: Database, roster: Roster) -> None:
    roster.patient("123")
    # 03:30 UTC on 1 December is 22:30 on 30 November in New York.
    assistant = make(db, now=datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
    reply = assistant.handle(Message("UNURSE", "15 min call pt 123"))
    assert reply.text.splitlines() == [
        "Logged 15 min patient outreach for patient 123 on Mon Nov 30 (Maria Santos).",
        "Patient 123: 15 of 20 min in November, 5 to go for 99490; consent on file.",
    ]
    # An hour and a half later it is December there.
    later = assistant.handle(Message("UNURSE", "5 min call pt 123", when=datetime(2026, 12, 1, 5, 0, tzinfo=UTC)))
    assert "on Tue Dec 1" in later.text and "5 of 20 min in December" in later.text


def test_the_same_message_twice_logs_once_and_says_so(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    first = assistant.handle(Message("UNURSE", "15 min call pt 123", today=date(2026, 11, 27), source="slack", source_id="C1:1.0"))
    again = assistant.handle(Message("UNURSE", "15 min call pt 123", today=date(2026, 11, 27), source="slack", source_id="C1:1.0"))
    assert not first.duplicate and again.duplicate
    assert again.entry_ids == first.entry_ids
    assert again.text.startswith("Already logged (this message was received before) 15 min patient outreach")
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 1


def test_undo_button_voids_exactly_its_entries_once_and_only_for_author_or_admin(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    day = date(2026, 11, 27)
    kept = assistant.handle(Message("UNURSE", "10 min call pt 123", today=day))
    logged = assistant.handle(Message("UNURSE", "5 min labs pt 123, 7 min meds pt 123", today=day))
    assert len(logged.entry_ids) == 2

    refused = assistant.undo("UMA", logged.entry_ids, today=day)
    assert refused.kind == "refused" and "Only the person who logged this time, or an admin" in refused.text

    done = assistant.undo("UNURSE", logged.entry_ids, today=day)
    assert done.text.splitlines()[0] == "Undone 2 entries:"
    assert done.text.splitlines()[-1] == "Patient 123: 10 of 20 min in November, 10 to go for 99490; consent on file."
    assert assistant.undo("UNURSE", logged.entry_ids, today=day).text == "Already undone: those entries were taken back before."

    active = session.scalars(select(TimeEntry.id).where(TimeEntry.voided_at.is_(None))).all()
    assert list(active) == list(kept.entry_ids)
    voids = session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.void")).all()
    assert sorted(int(v.entity_id) for v in voids) == sorted(logged.entry_ids)
    assert {v.actor_id for v in voids} == {roster.nurse.id}


def test_an_admin_may_press_someone_elses_undo(db: Database, roster: Roster) -> None:
    roster.patient("123")
    assistant = make(db)
    logged = assistant.handle(Message("UNURSE", "10 min call pt 123", today=date(2026, 11, 27)))
    assert assistant.undo("UDOC", logged.entry_ids, today=date(2026, 11, 27)).kind == "undo"


def test_chat_undo_writes_an_audit_row(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    assistant.handle(Message("UNURSE", "10 min call pt 123", today=date(2026, 11, 27)))
    assistant.handle(Message("UNURSE", "undo", today=date(2026, 11, 27)))
    row = session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.void")).one()
    assert row.actor_id == roster.nurse.id and row.after["void_reason"] == "undo"


def test_who_needs_time_follows_the_engine_for_every_patient(db: Database, roster: Roster, session: Session) -> None:
    """The list is the engine's next thresholds of patients who bill nothing yet in the program,
    not a second calculation: compare them one by one."""
    for key in ("1", "2", "3", "4"):
        roster.patient(key)
    roster.patient("5", consent=None)
    assistant = make(db)
    day = date(2026, 11, 20)
    for text in ("19 min call pt 1", "45 min care plan pt 2", "7 min labs pt 3", "30 min meds pt 5"):
        assistant.handle(Message("UNURSE", text, today=day))
    assistant.handle(Message("UDOC", "31 min care plan pt 4", today=day))
    reply = assistant.handle(Message("UNURSE", "who still needs time?", today=day))
    listed = [line for line in reply.text.splitlines() if line.startswith("• ")]
    expected = []
    for item in month_results(session, day, policy_from(Settings())):
        for step in item.result.next:
            if not [b for b in item.result.blockers_for(step.program) if b.reason != "below_threshold"] and not item.result.codes_for(step.program):
                expected.append((step.minutes_needed, item.patient.key, step.code))
    assert [(int(line.split(": ")[1].split(" min")[0]), line[2:].split(":")[0], line.split(" to ")[1].split(" ")[0]) for line in listed] == sorted(expected)
    assert not any(line.startswith("• 5:") for line in listed)  # no consent: not on the list
    assert not any(line.startswith(("• 2:", "• 4:")) for line in listed)  # billing already: their add-ons are in their status


def test_a_long_list_is_cut_with_a_count_of_the_rest(db: Database, roster: Roster) -> None:
    for n in range(20):
        roster.patient(str(100 + n))
    reply = make(db).handle(Message("UNURSE", "who still needs time this month?", today=date(2026, 11, 27)))
    lines = reply.text.splitlines()
    assert lines[0].startswith("20 patients need time in November")
    assert len([line for line in lines if line.startswith("• ")]) == 15
    assert lines[-1] == "…and 5 more."


def test_an_unexpected_failure_is_answered_and_changes_nothing(db: Database, roster: Roster, session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    roster.patient("123")
    assistant = make(db)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom with pt 123 inside")

    monkeypatch.setattr("bot.questions.month_results", broken)  # where the needs-time answer reads results
    reply = assistant.handle(Message("UNURSE", "who still needs time?", today=date(2026, 11, 27)))
    assert reply.kind == "error" and reply.text.startswith("Sorry, something went wrong on my side")


def test_an_edit_holding_too_many_entries_is_refused_and_the_old_entries_stand(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    day = date(2026, 11, 27)
    assistant.handle(Message("UNURSE", "15 min call pt 123", today=day, source="slack", source_id="C1:9.0"))
    pasted = "\n".join(f"5 min call pt {n}" for n in range(51))
    reply = assistant.edit(Message("UNURSE", pasted, today=day, source="slack", source_id="C1:9.0"), revision="r1")
    assert reply.text == (
        "Your edit was not applied, the entries from before it stand. That message holds 51 entries; "
        "I take at most 50 in one message. Split it into several messages, or back-fill with `ccmbot log`."
    )
    active = session.scalars(select(TimeEntry.minutes).where(TimeEntry.voided_at.is_(None))).all()
    assert active == [15]


def test_someone_off_the_roster_gets_the_same_answer_from_every_entry_point_and_changes_nothing(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    day = date(2026, 11, 27)
    logged = assistant.handle(Message("UNURSE", "10 min call pt 123", today=day))
    roster.ma.active = False
    session.commit()

    for user, says in (("USTRANGER", "You're not on the care team's staff roster yet"), ("UMA", "Tyler Brooks is marked inactive")):
        replies = [
            assistant.handle(Message(user, "15 min call pt 123", today=day)),
            assistant.handle(Message(user, "who still needs time this month?", today=day)),
            assistant.undo(user, logged.entry_ids, today=day),
            assistant.home(user, today=day),
            assistant.report(user, "2026-10", today=day)[0],
        ]
        for reply in replies:
            assert reply.kind == "unknown_user" and reply.text.startswith(says), (user, reply)
    assert "--slack-id USTRANGER" in assistant.home("USTRANGER", today=day).text
    assert session.scalars(select(TimeEntry.id).where(TimeEntry.voided_at.is_(None))).all() == list(logged.entry_ids)


def test_the_consent_gap_count_reads_right_past_ten(db: Database, roster: Roster) -> None:
    assistant = make(db)
    day = date(2026, 11, 27)
    for n in range(11):
        roster.patient(str(300 + n), consent=None)
        assistant.handle(Message("UNURSE", f"5 min call pt {300 + n}", today=day))
    reply = assistant.handle(Message("UNURSE", "who has no consent?", today=day))
    assert reply.text.splitlines()[0] == "11 patients with time in November but no consent (that time can't be billed until it is recorded):"


def test_a_slack_key_reused_for_another_text_logs_nothing_and_says_nothing(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    day = date(2026, 11, 27)
    first = assistant.handle(Message("UNURSE", "15 min call pt 123", today=day, source="slack", source_id="C1:9.0"))
    assert first.kind == "logged"
    other = assistant.handle(Message("UNURSE", "25 min care plan pt 123", today=day, source="slack", source_id="C1:9.0"))
    assert other.silent
    assert session.scalars(select(TimeEntry.minutes)).all() == [15]
    # The same text again is the retry it looks like.
    assert assistant.handle(Message("UNURSE", "15 min call pt 123", today=day, source="slack", source_id="C1:9.0")).duplicate


def test_chat_refuses_time_before_last_month_and_names_the_back_fill_door(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    reply = make(db).handle(Message("UNURSE", "pt 123 20 min care plan 9/30", today=date(2026, 11, 27)))
    assert reply.kind == "error" and "before October 2026" in reply.text and "ccmbot log" in reply.text
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 0


def test_an_entry_remembers_whether_it_was_a_live_call(db: Database, roster: Roster, session: Session) -> None:
    roster.patient("123")
    assistant = make(db)
    day = date(2026, 11, 27)
    assistant.handle(Message("UNURSE", "pt 123 10 min call about refills", today=day))
    assistant.handle(Message("UNURSE", "pt 123 5 min called, left voicemail", today=day))
    assistant.handle(Message("UNURSE", "pt 123 5 min lab review", today=day))
    assert session.scalars(select(TimeEntry.interactive).order_by(TimeEntry.id)).all() == [True, False, None]


def test_a_report_question_with_a_word_it_cannot_use_names_the_word_and_keeps_the_file(db: Database, roster: Roster) -> None:
    reply = make(db).handle(Message("UDOC", "send me the report for October for the east side team", today=date(2026, 11, 27)))
    assert reply.text.startswith('I did not use "east", "side": I have no filter for those words')
    assert reply.file is not None and reply.file[0] == "ccm-report-2026-10.csv"


def test_the_pure_rooms_load_no_database_layer() -> None:
    import subprocess
    import sys

    rooms = "bot.parsing, bot.intents, bot.billing, bot.patient_month, bot.replies, bot.report, bot.worklist, bot.slack.render"
    code = f"import sys, {rooms}; print('sqlalchemy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
