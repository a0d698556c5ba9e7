from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.months import local_today, month_bounds
from storage.consents import current_consent, record_consent
from storage.db import Database
from storage.entries import EntryDraft, log_entries, replace_source, void_last, void_source
from storage.errors import ClosedMonth, FutureDate, InactivePatient, MinutesOutOfRange, NotAllowed, UnknownPatient
from storage.models import AuditEvent, Consent, TimeEntry
from storage.months import close_month, reopen_month
from storage.queries import month_minutes
from tests.conftest import TODAY, Roster

NOV = date(2026, 11, 1)


def log(session, roster: Roster, key: str, minutes: int, *, group: str, day: date = TODAY, by=None, program=None):
    by = by or roster.nurse
    return log_entries(
        session,
        [EntryDraft(key, minutes, day, "medication_review", program)],
        performed_by=by,
        logged_by=by,
        source="cli",
        source_group=group,
        today=TODAY,
        max_minutes=240,
    )


def active_minutes(session, patient_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(TimeEntry.patient_id == patient_id, TimeEntry.voided_at.is_(None))
    )


def test_same_source_key_stores_once_and_reports_duplicate(session, roster):
    p = roster.patient("123")
    first = log(session, roster, "123", 15, group="slack:C1:1.1")
    again = log(session, roster, "123", 15, group="slack:C1:1.1")
    assert not first.duplicate and again.duplicate
    assert [e.id for e in again.entries] == [e.id for e in first.entries]
    assert active_minutes(session, p.id) == 15
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "entry.log")) == 1


def test_two_threads_same_source_key_store_once(db: Database, session, roster):
    p = roster.patient("123")
    nurse_id = roster.nurse.id
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            with db.transaction() as s:
                from storage.models import Staff

                nurse = s.get(Staff, nurse_id)
                barrier.wait()
                r = log_entries(
                    s,
                    [EntryDraft("123", 20, TODAY, "care_plan"), EntryDraft("123", 5, TODAY, "lab_review")],
                    performed_by=nurse,
                    logged_by=nurse,
                    source="slack",
                    source_group="slack:C1:race",
                    today=TODAY,
                    max_minutes=240,
                )
                results.append(r.duplicate)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(results) == [False] + [True] * 7
    session.expire_all()
    assert active_minutes(session, p.id) == 25
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 2


def test_all_or_nothing_when_one_entry_is_bad(session, roster):
    roster.patient("123")
    with pytest.raises(UnknownPatient, match="999"):
        log_entries(
            session,
            [EntryDraft("123", 10, TODAY), EntryDraft("999", 10, TODAY)],
            performed_by=roster.nurse,
            logged_by=roster.nurse,
            source="cli",
            source_group="g",
            today=TODAY,
            max_minutes=240,
        )
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "entry.log")) == 0


@pytest.mark.parametrize("minutes", [0, -5, 241])
def test_minutes_out_of_range_refused(session, roster, minutes):
    roster.patient("123")
    with pytest.raises(MinutesOutOfRange, match="1 to 240"):
        log(session, roster, "123", minutes, group="g")


def test_future_date_refused(session, roster):
    roster.patient("123")
    with pytest.raises(FutureDate):
        log(session, roster, "123", 10, group="g", day=date(2026, 11, 28))


def test_inactive_patient_refused(session, roster):
    p = roster.patient("123")
    p.active = False
    session.commit()
    with pytest.raises(InactivePatient):
        log(session, roster, "123", 10, group="g")


def test_leading_zeros_are_a_different_patient(session, roster):
    roster.patient("0123")
    with pytest.raises(UnknownPatient):
        log(session, roster, "123", 10, group="g")
    assert not log(session, roster, "0123", 10, group="g2").duplicate


def test_void_keeps_the_row_and_writes_audit(session, roster):
    p = roster.patient("123")
    log(session, roster, "123", 15, group="m1")
    log(session, roster, "123", 10, group="m2")
    voided = void_last(session, by=roster.nurse)
    assert [e.minutes for e in voided] == [10]
    assert active_minutes(session, p.id) == 15
    row = session.get(TimeEntry, voided[0].id)
    assert row.voided_at is not None and row.voided_by_id == roster.nurse.id and row.void_reason == "undo"
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.void")).one()
    assert audit.before["voided_at"] is None and audit.after["void_reason"] == "undo"
    # voiding the same message again changes nothing
    assert void_source(session, "m2", by=roster.nurse, reason="deleted") == []


def test_only_author_or_admin_may_void(session, roster):
    roster.patient("123")
    log(session, roster, "123", 15, group="m1")
    with pytest.raises(NotAllowed):
        void_source(session, "m1", by=roster.ma, reason="undo")
    assert len(void_source(session, "m1", by=roster.doctor, reason="admin fix")) == 1


def test_replace_voids_old_and_adds_new_once_per_revision(session, roster):
    p = roster.patient("123")
    log(session, roster, "123", 15, group="m1")
    kwargs = dict(revision="r2", performed_by=roster.nurse, logged_by=roster.nurse, source="slack", today=TODAY, max_minutes=240)
    voided, added, dup = replace_source(session, "m1", [EntryDraft("123", 25, TODAY, "care_plan")], **kwargs)
    assert ([e.minutes for e in voided], [e.minutes for e in added], dup) == ([15], [25], False)
    voided, added, dup = replace_source(session, "m1", [EntryDraft("123", 25, TODAY, "care_plan")], **kwargs)
    assert dup and voided == []
    assert active_minutes(session, p.id) == 25
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["entry.void", "entry.log"]


def test_closed_month_refuses_until_reopened(session, roster):
    roster.patient("123")
    close_month(session, date(2026, 10, 1), by=roster.doctor)
    with pytest.raises(ClosedMonth, match="October 2026"):
        log(session, roster, "123", 10, group="g", day=date(2026, 10, 31))
    log(session, roster, "123", 10, group="g-nov", day=date(2026, 11, 1))  # November is open
    with pytest.raises(NotAllowed):
        reopen_month(session, date(2026, 10, 1), by=roster.nurse)
    reopen_month(session, date(2026, 10, 1), by=roster.doctor)
    assert not log(session, roster, "123", 10, group="g", day=date(2026, 10, 31)).duplicate
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "month").order_by(AuditEvent.id)).all()
    assert actions == ["month.close", "month.reopen"]


def test_month_boundary_in_practice_time_zone(session, roster):
    ny = ZoneInfo("America/New_York")
    late_evening = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)  # 23:30 on 31 October in New York
    day = local_today(ny, late_evening)
    assert day == date(2026, 10, 31)
    p = roster.patient("123")
    log(session, roster, "123", 20, group="late", day=day)
    october = month_minutes(session, *month_bounds(date(2026, 10, 1)))
    november = month_minutes(session, *month_bounds(NOV))
    assert october[p.id] == {"CCM": {"clinical_staff": 20}}
    assert p.id not in november


def test_consent_history_is_kept(session, roster):
    p = roster.patient("123", consent=None)
    record_consent(session, p, program="CCM", status="granted", method="verbal", effective_date=date(2026, 3, 1), by=roster.doctor, today=TODAY)
    record_consent(session, p, program="CCM", status="revoked", effective_date=date(2026, 6, 15), by=roster.doctor, today=TODAY)
    record_consent(session, p, program="CCM", status="granted", method="written", effective_date=date(2026, 9, 1), by=roster.doctor, today=TODAY)
    # the same state again adds nothing
    assert record_consent(session, p, program="CCM", status="granted", method="written", effective_date=date(2026, 9, 1), by=roster.doctor, today=TODAY) is None
    rows = session.scalars(select(Consent).where(Consent.patient_id == p.id).order_by(Consent.id)).all()
    assert [(r.status, r.method) for r in rows] == [("granted", "verbal"), ("revoked", None), ("granted", "written")]
    assert current_consent(session, p, "CCM", as_of=date(2026, 7, 31)).status == "revoked"
    assert current_consent(session, p, "CCM").method == "written"
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "consent.record")) == 3


def test_program_defaults_to_enrolment(session, roster):
    roster.patient("77", programs="PCM")
    result = log(session, roster, "77", 10, group="g")
    assert result.entries[0].program == "PCM"
    result = log(session, roster, "77", 10, group="g2", program="RPM")
    assert result.entries[0].program == "RPM"


def test_track_is_the_performers_role_and_logger_is_kept(session, roster):
    roster.patient("123")
    r = log_entries(
        session,
        [EntryDraft("123", 30, TODAY)],
        performed_by=roster.doctor,
        logged_by=roster.ma,
        source="cli",
        source_group="g",
        today=TODAY,
        max_minutes=240,
    )
    e = r.entries[0]
    assert (e.track, e.performed_by_id, e.logged_by_id) == ("practitioner", roster.doctor.id, roster.ma.id)
