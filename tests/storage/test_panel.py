"""The panel: every active patient with the month's minutes, consent as of the month's end and
eligibility facts, in a fixed number of queries whatever the number of patients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from storage.consents import record_consent
from storage.entries import EntryDraft, log_entries, void_entries
from storage.models import TOTAL_COLUMNS
from storage.queries import month_minutes, panel
from storage.records import NO_MINUTES, TOTAL_KEYS, PatientRecord
from tests.conftest import TODAY, Roster

OCT = (date(2026, 10, 1), date(2026, 10, 31))
NOV = (date(2026, 11, 1), date(2026, 11, 30))


def log(s: Session, staff, key: str, minutes: int, day: date, group: str, program: str | None = None) -> list[int]:
    result = log_entries(
        s, [EntryDraft(key, minutes, day, "care_plan", program)], performed_by=staff, logged_by=staff,
        source="cli", source_group=group, today=TODAY, max_minutes=240,
    )
    return [e.id for e in result.entries]


@contextmanager
def counted_statements(s: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = s.get_bind()

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_rows_carry_the_months_minutes_by_program_and_track(session: Session, roster: Roster) -> None:
    roster.patient("0042", programs="CCM;RPM")
    roster.patient("0007")
    roster.patient("0100", consent=None)
    log(session, roster.nurse, "0042", 15, date(2026, 11, 3), "a")
    log(session, roster.doctor, "0042", 10, date(2026, 11, 4), "b")
    log(session, roster.ma, "0042", 12, date(2026, 11, 5), "c", program="RPM")
    log(session, roster.clerk, "0042", 5, date(2026, 11, 6), "d")
    log(session, roster.nurse, "0042", 30, date(2026, 10, 31), "e")  # last month: not in November's row
    voided = log(session, roster.nurse, "0007", 40, date(2026, 11, 7), "f")
    log(session, roster.nurse, "0007", 20, date(2026, 11, 8), "g")
    void_entries(session, voided, by=roster.nurse, reason="typo")

    rows = {r.key: r for r in panel(session, *NOV)}

    assert list(rows) == ["0007", "0042", "0100"]  # ordered by key, leading zeros kept
    assert rows["0042"].minutes == {"CCM": {"clinical_staff": 15, "practitioner": 10, "non_clinical": 5}, "RPM": {"clinical_staff": 12}}
    assert rows["0042"].total_minutes() == 42 and rows["0042"].total_minutes("CCM") == 30
    assert rows["0042"].programs == ("CCM", "RPM")
    assert rows["0042"].billing_practitioner == "Dr. Okafor"
    assert rows["0042"].care_plan_date == date(2026, 1, 5) and rows["0042"].initiating_visit_date == date(2026, 1, 2)
    assert rows["0007"].minutes == {"CCM": {"clinical_staff": 20}}  # the voided 40 minutes are gone
    assert rows["0100"].totals == NO_MINUTES and rows["0100"].minutes == {} and rows["0100"].consents == {}
    by_id = month_minutes(session, *NOV)
    assert all(row.minutes == by_id.get(row.patient_id, {}) for row in rows.values())


def test_inactive_patients_are_left_out(session: Session, roster: Roster) -> None:
    roster.patient("1")
    gone = roster.patient("2")
    gone.active = False
    session.commit()
    assert [r.key for r in panel(session, *NOV)] == ["1"]


def test_consent_is_the_latest_dated_on_or_before_the_months_last_day(session: Session, roster: Roster) -> None:
    patient = roster.patient("55", consent=date(2026, 9, 2))
    record_consent(session, patient, program="CCM", status="revoked", effective_date=date(2026, 11, 10), by=roster.doctor, today=TODAY)

    october = panel(session, *OCT)[0].consents["CCM"]
    november = panel(session, *NOV)[0].consents["CCM"]
    assert (october.status, october.method, october.effective_date) == ("granted", "verbal", date(2026, 9, 2))
    assert (november.status, november.effective_date) == ("revoked", date(2026, 11, 10))
    assert panel(session, date(2026, 8, 1), date(2026, 8, 31))[0].consents == {}  # nothing on file yet in August


def test_named_patients_only(session: Session, roster: Roster) -> None:
    for key in ("1", "2", "3"):
        roster.patient(key)
        log(session, roster.nurse, key, int(key) * 5, date(2026, 11, 2), f"m{key}")
    rows = panel(session, *NOV, patient_keys=["3", "1", "404"])
    assert [(r.key, r.total_minutes(), set(r.consents)) for r in rows] == [("1", 5, {"CCM"}), ("3", 15, {"CCM"})]
    assert panel(session, *NOV, patient_keys=[]) == []


def test_the_number_of_queries_does_not_grow_with_the_panel(session: Session, roster: Roster) -> None:
    def statements(n: int) -> int:
        for i in range(n):
            key = f"P{n}-{i}"
            roster.patient(key)
            log(session, roster.nurse, key, 10 + i, date(2026, 11, 2), f"q{n}-{i}")
        session.expire_all()
        with counted_statements(session) as seen:
            rows = panel(session, *NOV)
        assert {r.key for r in rows} >= {f"P{n}-{i}" for i in range(n)}
        return len(seen)

    assert statements(2) == statements(25) == 4  # staff names, patients, month totals, consents


def test_without_consents_one_query_fewer(session: Session, roster: Roster) -> None:
    roster.patient("1")
    with counted_statements(session) as seen:
        rows = panel(session, *NOV, with_consents=False)
    assert len(seen) == 3 and rows[0].consents == {}


@given(st.lists(st.integers(0, 500), min_size=len(TOTAL_KEYS), max_size=len(TOTAL_KEYS)))
def test_flat_totals_and_nested_minutes_agree(values: list[int]) -> None:
    row = PatientRecord(1, "k", None, ("CCM",), 2, None, None, None, None, tuple(values))
    # Built here from the model's column map, apart from the code under test.
    nested: dict[str, dict[str, int]] = {}
    for ((program, track), _column), minutes in zip(TOTAL_COLUMNS.items(), values, strict=True):
        if minutes:
            nested.setdefault(program, {})[track] = minutes
    assert row.minutes == nested
    assert sorted(row.logged()) == sorted((p, t, m) for p, tracks in nested.items() for t, m in tracks.items())
    assert row.total_minutes() == sum(values)
    for program in ("CCM", "PCM", "RPM"):
        assert row.total_minutes(program) == sum(nested.get(program, {}).values())
    assert all(m > 0 for _, _, m in row.logged())
