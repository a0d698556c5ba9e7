"""Kept results (bot/kept.py) are the engine's answer on today's data, whatever changed since.

On random small practices: after a refresh every kept row equals the engine's result made from
scratch; after one change to one patient (an entry logged or voided, a consent, the patient's
own facts, a complex mark, an RPM episode or reading) a refresh evaluates that patient alone and
the rows equal the engine's again. The triggers of migration 0009 are checked table by table.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.billing import Policy
from bot.evaluation import month_results, stream_month_results
from bot.kept import basis, blockers_of, code_units, kept_of, kept_report, refresh, summary_of, warm
from bot.months import month_bounds
from bot.patient_month import summarize
from bot.report import as_csv
from storage.db import Database
from storage.entries import rebuild_month_totals
from storage.kept_results import NewKept, keep, kept_rows
from storage.models import Consent, KeptResult, Patient, PatientMonthFact, RpmEpisode, RpmReading, Staff, TimeEntry
from storage.months import complex_marks
from tests.bot.test_candidates import MONTHS, _store, patient

POLICIES = (Policy(), Policy(pool_practitioner_minutes="below_threshold", date_of_service="threshold_date"))


def _engine_rows(s, month: date, policy: Policy, through: date | None = None) -> dict[int, NewKept]:
    last = month_bounds(month)[1]
    items = month_results(s, month, policy, as_of=through if through not in (None, last) else None)
    return {i.patient.patient_id: kept_of(i, 0, with_report=False) for i in items}  # the report: test below


def _kept(s, month: date, policy: Policy, through: date | None = None) -> dict[int, NewKept]:
    first, last = month_bounds(month)
    rows = kept_rows(s, first, through or last, basis(policy))
    return {r.patient_id: NewKept(r.patient_id, 0, r.billable, r.total, r.estimated, r.codes, r.blockers) for r in rows}


def _change(s, patient_id: int, kind: str, month: date) -> None:
    """One change of the kind a door makes, to one patient."""
    doctor = s.scalar(select(Staff.id).where(Staff.slack_user_id == "UDOC"))
    if kind == "entry":
        s.add(
            TimeEntry(
                patient_id=patient_id, performed_by_id=doctor, logged_by_id=doctor, minutes=25, service_date=month + timedelta(days=5),
                activity="care_plan", program="CCM", track="clinical_staff", source="import", source_group="x", source_key=f"x{patient_id}",
            )
        )  # fmt: skip
        s.flush()
        rebuild_month_totals(s)
    elif kind == "void":
        s.execute(update(TimeEntry).where(TimeEntry.patient_id == patient_id).values(voided_at=datetime(2026, 1, 2, tzinfo=UTC)))
        rebuild_month_totals(s)
    elif kind == "consent":
        s.add(Consent(patient_id=patient_id, program="CCM", status="granted", method="verbal", effective_date=month - timedelta(days=40)))
    elif kind == "conditions":
        s.execute(update(Patient).where(Patient.id == patient_id).values(chronic_conditions=Patient.chronic_conditions + 2))
    elif kind == "practitioner":
        s.execute(update(Patient).where(Patient.id == patient_id).values(billing_practitioner_id=None))
    elif kind == "complex":
        s.add(PatientMonthFact(patient_id=patient_id, month=month, complex_mdm=True, complex_reason="new insulin", marked_by_id=doctor))
    elif kind == "rename":  # the kept report rows name the billing practitioner
        s.execute(update(Staff).where(Staff.id == doctor).values(name="Dr. A. Okafor"))
    elif kind == "rpm":
        s.add(RpmEpisode(patient_id=patient_id, start_date=month - timedelta(days=20), started_at=datetime(2026, 1, 1, tzinfo=UTC)))
        s.add(RpmReading(patient_id=patient_id, day=month + timedelta(days=2), device_id="d1", source="t", imported_at=datetime(2026, 1, 1, tzinfo=UTC)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    month=st.sampled_from(MONTHS),
    patients=st.lists(patient, min_size=1, max_size=5),
    policy=st.sampled_from(POLICIES),
    change=st.sampled_from(("entry", "void", "consent", "conditions", "practitioner", "complex", "rpm", "rename")),
    who=st.integers(min_value=0, max_value=4),
    through_day=st.one_of(st.none(), st.integers(min_value=1, max_value=27)),
)
def test_kept_rows_equal_the_engine_before_and_after_a_change(
    db: Database, month: date, patients: list[dict], policy: Policy, change: str, who: int, through_day: int | None
) -> None:
    _store(db, month, patients)
    through = None if through_day is None else month.replace(day=through_day)
    with db.transaction() as s:
        assert refresh(s, month, policy, through=through) == len(patients)
        assert refresh(s, month, policy, through=through) == 0  # nothing changed: nothing evaluated
        assert _kept(s, month, policy, through) == _engine_rows(s, month, policy, through)
    with db.transaction() as s:
        versions = dict(s.execute(select(Patient.id, Patient.results_version)).all())
        _change(s, sorted(versions)[who % len(versions)], change, month)
    with db.transaction() as s:
        changed = {pid for pid, v in s.execute(select(Patient.id, Patient.results_version)) if v != versions[pid]}
        assert len(changed) <= 1 or change == "rename"  # a void of a patient with no entries changes nothing
        assert refresh(s, month, policy, through=through) == len(changed)  # the changed patients alone
        assert _kept(s, month, policy, through) == _engine_rows(s, month, policy, through)
        items = month_results(s, month, policy)
        if through is None:  # the whole month was kept: its summary is the engine's
            assert summary_of(kept_rows(s, month, month_bounds(month)[1], basis(policy))) == summarize(items)
        # The report from kept rows is the streamed report, byte for byte, with the same summary.
        buffer = io.StringIO()
        assert kept_report(s, month, policy, buffer) == summarize(items)
        assert buffer.getvalue() == as_csv(stream_month_results(s, month, policy), complex_marks(s, month))


def test_every_table_the_engine_reads_marks_the_patient_stale(db: Database) -> None:
    month = MONTHS[1]
    _store(db, month, [{"programs": "CCM;RPM", "conditions": 2, "care_plan": -30, "visit": -60, "practitioner": True, "consents": [], "entries": []}] * 2)
    kinds = ("entry", "void", "consent", "conditions", "practitioner", "complex", "rpm")
    for kind in kinds:
        with db.transaction() as s:
            first, second = sorted(s.scalars(select(Patient.id)))
            before = dict(s.execute(select(Patient.id, Patient.results_version)).all())
            _change(s, first, kind, month)
            s.flush()
            after = dict(s.execute(select(Patient.id, Patient.results_version)).all())
        assert after[first] > before[first], kind
        assert after[second] == before[second], kind


def test_a_new_name_marks_stale_the_patients_whose_report_rows_name_it(db: Database) -> None:
    month = MONTHS[1]
    base = {"programs": "CCM", "conditions": 2, "care_plan": -30, "visit": -60, "consents": [], "entries": []}
    _store(db, month, [{**base, "practitioner": True}, {**base, "practitioner": False}, {**base, "practitioner": False}])
    with db.transaction() as s:
        first, second, third = sorted(s.scalars(select(Patient.id)))
        other = s.scalar(select(Staff.id).where(Staff.slack_user_id == "UDOCB"))
        s.add(PatientMonthFact(patient_id=second, month=month, complex_mdm=True, complex_reason="new insulin", marked_by_id=other))
    for doctor, bumped in (("UDOC", {first}), ("UDOCB", {second})):
        with db.transaction() as s:
            before = dict(s.execute(select(Patient.id, Patient.results_version)).all())
            s.execute(update(Staff).where(Staff.slack_user_id == doctor).values(name=f"{doctor} renamed"))
            s.flush()
            after = dict(s.execute(select(Patient.id, Patient.results_version)).all())
        assert {pid for pid in after if after[pid] != before[pid]} == bumped
    assert third not in bumped


def test_a_report_of_a_month_mostly_stale_streams_the_evaluation_instead(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.kept

    month = MONTHS[1]
    clean = {"programs": "CCM", "conditions": 2, "care_plan": -30, "visit": -60, "practitioner": True, "consents": [("CCM", "granted", -90, "own")]}
    _store(db, month, [{**clean, "entries": [("CCM", "clinical_staff", 25, 3, None, False, False)]}] * 4)
    monkeypatch.setattr(bot.kept, "REPORT_STALE_FEW", 1)
    with db.transaction() as s:
        assert kept_report(s, month, Policy(), io.StringIO()) is None  # 4 of 4 stale: nothing written
        assert not s.scalars(select(KeptResult.patient_id)).all()
        refresh(s, month, Policy())
        buffer = io.StringIO()
        assert kept_report(s, month, Policy(), buffer) is not None
    assert buffer.getvalue().count("99490") == 4


def test_a_stale_row_is_never_read_and_a_new_policy_reevaluates_everyone(db: Database) -> None:
    month = MONTHS[1]
    clean = {"programs": "CCM", "conditions": 2, "care_plan": -30, "visit": -60, "practitioner": True, "consents": [("CCM", "granted", -90, "own")]}
    _store(db, month, [{**clean, "entries": [("CCM", "clinical_staff", 25, 3, None, False, False)]}, {**clean, "entries": []}])
    policy = Policy()
    last = month_bounds(month)[1]
    with db.transaction() as s:
        refresh(s, month, policy)
        first = min(s.scalars(select(Patient.id)))
        # A row kept by a process that read the patient before a change it did not see.
        keep(s, month, last, basis(policy), [NewKept(first, -1, True, 999.0, False, "CCM 99487 1", "")])
        assert {r.patient_id for r in kept_rows(s, month, last, basis(policy))} == {first + 1}
        assert refresh(s, month, policy) == 1
        (row,) = [r for r in kept_rows(s, month, last, basis(policy)) if r.patient_id == first]
        assert code_units(row, "99490") == 1 and row.total != 999.0
    priced = Policy(amounts={2026: {"99490": 70.0}})
    with db.transaction() as s:
        assert basis(priced) != basis(policy)
        assert refresh(s, month, priced) == 2
        (row,) = [r for r in kept_rows(s, month, last, basis(priced)) if r.billable]
        assert row.total == 70.0


def test_the_month_as_it_stood_keeps_one_day(db: Database) -> None:
    month = MONTHS[1]
    _store(db, month, [{"programs": "CCM", "conditions": 2, "care_plan": -30, "visit": -60, "practitioner": True, "consents": [], "entries": []}])
    with db.transaction() as s:
        refresh(s, month, Policy(), through=month.replace(day=10))
        refresh(s, month, Policy(), through=month.replace(day=11))
        refresh(s, month, Policy())
        days = set(s.scalars(select(KeptResult.through)))
    assert days == {month.replace(day=11), month_bounds(month)[1]}


@pytest.mark.parametrize("reason", ["no_consent", "conditions"])
def test_kept_blockers_carry_the_engines_words(db: Database, reason: str) -> None:
    month = MONTHS[1]
    base = {"programs": "CCM", "conditions": 2, "care_plan": -30, "visit": -60, "practitioner": True, "consents": [("CCM", "granted", -90, "own")]}
    p = {**base, "entries": [("CCM", "clinical_staff", 25, 3, None, False, False)]}
    if reason == "no_consent":
        p["consents"] = []
    else:
        p["conditions"] = 1
    _store(db, month, [p])
    with db.transaction() as s:
        refresh(s, month, Policy())
        (row,) = kept_rows(s, month, month_bounds(month)[1], basis(Policy()))
        (item,) = month_results(s, month, Policy())
    assert [(b.program, b.reason, b.detail) for b in blockers_of(row)] == [(b.program, b.reason, " ".join(b.detail.split())) for b in item.result.hard_blockers()]
    assert all(b.logged == 25 for b in blockers_of(row))


def test_the_morning_warm_up_keeps_this_month_and_last_months_same_day(db: Database) -> None:
    month = MONTHS[1]  # February 2026; "today" is March 20
    clean = {"programs": "CCM", "conditions": 2, "care_plan": -30, "visit": -60, "practitioner": True, "consents": [("CCM", "granted", -90, "own")]}
    _store(db, month, [{**clean, "entries": [("CCM", "clinical_staff", 25, 3, None, False, False)]}, {**clean, "entries": []}])
    today = date(2026, 3, 20)
    # Two patients this month and last month whole; as it stood on its 20th, the one with time.
    assert warm(db, Policy(), today) == 5
    assert warm(db, Policy(), today) == 0
    with db.session() as s:
        kept = set(s.execute(select(KeptResult.month, KeptResult.through)).all())
    assert kept == {(date(2026, 3, 1), date(2026, 3, 31)), (month, date(2026, 2, 28)), (month, date(2026, 2, 20))}


def test_the_scheduler_warms_the_kept_results_at_start_and_at_five(db: Database) -> None:
    from bot.config import Settings
    from bot.reminders import Reminders
    from bot.scheduler import build_scheduler

    settings = Settings(database_url="sqlite://")
    scheduler = build_scheduler(Reminders(db, settings), settings)
    assert scheduler.get_job("kept-results-at-start") is not None
    assert str(scheduler.get_job("kept-results").trigger.fields[5]) == "5"  # the hour field
