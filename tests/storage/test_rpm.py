"""RPM episodes and device readings in storage: starts and stops (audited, checked), the vendor
export imported all or nothing and idempotently, and the reads the device codes need."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import ClosedMonth, FutureDate, InvalidValue
from storage.models import AuditEvent, RpmEpisode, RpmReading
from storage.months import close_month
from storage.roster import ImportRejected
from storage.rpm import episode_reading_days, episodes_between, import_readings_csv, reading_day, running_episodes, start_episode, stop_episode
from tests.conftest import Roster

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 27)


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "rpm_episode").order_by(AuditEvent.id)))


def test_start_again_restart_and_stop_each_audited(session: Session, roster: Roster) -> None:
    p = roster.patient("456", programs="RPM")
    first = start_episode(session, p, day=date(2026, 11, 2), device="BP cuff", by=roster.nurse, today=TODAY)
    assert (first.outcome, first.episode.start_date, first.episode.end_date, first.episode.device) == ("started", date(2026, 11, 2), None, "BP cuff")
    assert start_episode(session, p, day=date(2026, 11, 2), device=None, by=roster.nurse, today=TODAY).outcome == "unchanged"
    assert start_episode(session, p, day=date(2026, 11, 2), device="scale", by=roster.nurse, today=TODAY).outcome == "updated"
    again = start_episode(session, p, day=date(2026, 11, 10), device=None, by=roster.ma, today=TODAY)
    assert again.outcome == "restarted" and again.ended is not None and again.ended.end_date == date(2026, 11, 9)
    stopped = stop_episode(session, p, day=date(2026, 11, 20), by=roster.nurse, today=TODAY)
    assert (stopped.outcome, stopped.episode.start_date, stopped.episode.end_date) == ("stopped", date(2026, 11, 10), date(2026, 11, 20))
    assert actions(session) == ["rpm.start", "rpm.update", "rpm.stop", "rpm.start", "rpm.stop"]
    stop_audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "rpm.stop").order_by(AuditEvent.id)).first()
    assert stop_audit is not None and stop_audit.actor_id == roster.ma.id and (stop_audit.after or {})["why"] == "restarted"


def test_refusals_change_nothing(session: Session, roster: Roster) -> None:
    p = roster.patient("456", programs="RPM")
    with pytest.raises(FutureDate):
        start_episode(session, p, day=date(2026, 11, 28), device=None, by=roster.nurse, today=TODAY)
    with pytest.raises(InvalidValue, match="no RPM episode running"):
        stop_episode(session, p, day=TODAY, by=roster.nurse, today=TODAY)
    start_episode(session, p, day=date(2026, 11, 10), device=None, by=roster.nurse, today=TODAY)
    with pytest.raises(InvalidValue, match="must start after that day"):
        start_episode(session, p, day=date(2026, 11, 9), device=None, by=roster.nurse, today=TODAY)
    with pytest.raises(InvalidValue, match="cannot end before"):
        stop_episode(session, p, day=date(2026, 11, 9), by=roster.nurse, today=TODAY)
    with pytest.raises(FutureDate):
        stop_episode(session, p, day=date(2026, 11, 28), by=roster.nurse, today=TODAY)
    stop_episode(session, p, day=date(2026, 11, 15), by=roster.nurse, today=TODAY)
    with pytest.raises(InvalidValue, match="ran until 2026-11-15"):
        start_episode(session, p, day=date(2026, 11, 15), device=None, by=roster.nurse, today=TODAY)
    assert count(session, RpmEpisode) == 1


def test_a_closed_month_is_refused_from_the_day_to_today(session: Session, roster: Roster) -> None:
    p = roster.patient("456", programs="RPM")
    start_episode(session, p, day=date(2026, 9, 20), device=None, by=roster.nurse, today=TODAY)
    close_month(session, date(2026, 10, 1), by=roster.doctor)
    with pytest.raises(ClosedMonth, match="October 2026 is closed"):
        stop_episode(session, p, day=date(2026, 9, 30), by=roster.nurse, today=TODAY)  # October's periods would change
    with pytest.raises(ClosedMonth, match="would end on 2026-10-31"):
        start_episode(session, p, day=date(2026, 11, 1), device=None, by=roster.nurse, today=TODAY)  # the old episode would end in October
    assert start_episode(session, p, day=date(2026, 11, 2), device=None, by=roster.nurse, today=TODAY).outcome == "restarted"


@pytest.mark.parametrize(
    "raw, day",
    [
        ("2026-11-03", date(2026, 11, 3)),
        ("2026-11-03T23:30:00", date(2026, 11, 3)),  # no offset: the practice's local time already
        ("2026-11-04T03:30:00Z", date(2026, 11, 3)),  # 22:30 in New York
        ("2026-11-04T03:30:00+00:00", date(2026, 11, 3)),
        ("2026-11-03T23:30:00-08:00", date(2026, 11, 4)),  # 02:30 in New York
        ("2026-11-03 08:15", date(2026, 11, 3)),
    ],
)
def test_reading_day_is_the_practice_local_date(raw: str, day: date) -> None:
    assert reading_day(raw, NY) == day


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_counts_a_day_once_ignores_other_columns_and_a_reimport_changes_nothing(session: Session, roster: Roster, tmp_path: Path) -> None:
    roster.patient("456", programs="RPM")
    roster.patient("0789", programs="RPM")
    export = write(
        tmp_path,
        "vendor.csv",
        "patient_key,taken_at,device_id,systolic,diastolic\n"
        "456,2026-11-03T08:00:00,cuff-1,128,82\n"
        "456,2026-11-03T20:00:00,cuff-1,131,85\n"  # the same day and device: one row
        "456,2026-11-03T09:00:00,scale-1,,\n"  # another device the same day: its own row, the same data day
        "456,2026-11-04T03:30:00Z,cuff-1,125,80\n"  # Nov 3 in New York
        "0789,2026-11-05,,,\n",
    )
    result = import_readings_csv(session, export, tz=NY, today=TODAY)
    assert (result.rows, result.days, result.new) == (5, 2, 3)
    stored = sorted((r.day, r.device_id) for r in session.scalars(select(RpmReading)))
    assert stored == [(date(2026, 11, 3), "cuff-1"), (date(2026, 11, 3), "scale-1"), (date(2026, 11, 5), "")]
    audits, readings = count(session, AuditEvent), count(session, RpmReading)
    again = import_readings_csv(session, export, tz=NY, today=TODAY)
    assert (again.rows, again.days, again.new) == (5, 2, 0)
    assert (count(session, AuditEvent), count(session, RpmReading)) == (audits, readings)


def test_every_bad_row_is_listed_by_line_and_nothing_is_written(session: Session, roster: Roster, tmp_path: Path) -> None:
    roster.patient("456", programs="RPM")
    close_month(session, date(2026, 9, 1), by=roster.doctor)
    bad = write(
        tmp_path,
        "bad.csv",
        "patient_key,taken_at,device_id\n"
        "456,2026-11-03,cuff-1\n"  # fine, yet not stored: all or nothing
        "999,2026-11-03,cuff-1\n"
        "456,yesterday,cuff-1\n"
        "456,2026-11-30,cuff-1\n"
        ",2026-11-03,\n"
        "456,2026-09-15,\n",
    )
    with pytest.raises(ImportRejected) as refused:
        import_readings_csv(session, bad, tz=NY, today=TODAY)
    assert [(p.line, p.column) for p in refused.value.problems] == [(3, "patient_key"), (4, "taken_at"), (5, "taken_at"), (6, "patient_key"), (7, "taken_at")]
    assert "no patient with this key" in refused.value.problems[0].reason
    assert "is in the future" in refused.value.problems[2].reason
    assert "September 2026 is closed" in refused.value.problems[4].reason
    assert count(session, RpmReading) == 0
    with pytest.raises(ImportRejected, match="required column is missing"):
        import_readings_csv(session, write(tmp_path, "cols.csv", "patient,taken_at\n456,2026-11-03\n"), tz=NY, today=TODAY)


def test_the_reads_find_the_month_episodes_and_their_days(session: Session, roster: Roster) -> None:
    p = roster.patient("456", programs="RPM")
    q = roster.patient("789", programs="RPM")
    start_episode(session, p, day=date(2026, 10, 20), device=None, by=roster.nurse, today=TODAY)
    start_episode(session, q, day=date(2026, 9, 1), device=None, by=roster.nurse, today=TODAY)
    stop_episode(session, q, day=date(2026, 10, 15), by=roster.nurse, today=TODAY)
    for pid, day, device in [(p.id, date(2026, 10, 19), ""), (p.id, date(2026, 10, 21), "a"), (p.id, date(2026, 10, 21), "b"), (q.id, date(2026, 10, 1), "")]:
        session.add(RpmReading(patient_id=pid, day=day, device_id=device, source="test"))
    session.flush()
    assert episodes_between(session, date(2026, 11, 1), date(2026, 11, 30)) == {p.id: [(date(2026, 10, 20), None)]}
    assert episode_reading_days(session, date(2026, 11, 1), date(2026, 11, 30)) == {p.id: [date(2026, 10, 21)]}  # before the start: not read
    assert episode_reading_days(session, date(2026, 10, 1), date(2026, 10, 31))[q.id] == [date(2026, 10, 1)]
    [running] = running_episodes(session, TODAY)
    assert (running.patient_key, running.start, running.started_by, running.billing_practitioner) == ("456", date(2026, 10, 20), "Maria Santos", "Dr. Okafor")


def test_a_reading_whose_period_is_billed_in_a_closed_month_is_refused(session: Session, roster: Roster, tmp_path: Path) -> None:
    p = roster.patient("456", programs="RPM")
    today = date(2026, 12, 5)
    start_episode(session, p, day=date(2026, 10, 20), device=None, by=roster.nurse, today=today)
    close_month(session, date(2026, 11, 1), by=roster.doctor)  # October is open, November closed
    file = write(tmp_path, "late.csv", "patient_key,taken_at\n456,2026-10-25\n456,2026-11-25\n456,2026-12-01\n")
    with pytest.raises(ImportRejected) as refused:
        import_readings_csv(session, file, tz=NY, today=today)
    assert [(p.line, p.reason) for p in refused.value.problems] == [
        (2, "the RPM device period of 2026-10-25 ends on 2026-11-18, in November 2026, which is closed for billing"),
        (3, "November 2026 is closed for billing; an admin must reopen it first"),
    ]
