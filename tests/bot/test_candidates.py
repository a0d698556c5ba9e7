"""The SQL candidates of the list questions are a superset of what the engine puts on the lists.

On random small practices (enrolments, conditions, care plans, visits, consent histories,
minutes by program, track and day, live calls, voided entries), the lists made from the
candidates equal the lists made from every patient, in both service years and both policies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.billing import Policy
from bot.evaluation import blocked_candidates, list_candidates, month_results, short_candidates
from bot.months import month_bounds
from bot.worklist import needs_time
from storage.db import Database
from storage.entries import rebuild_month_totals
from storage.models import Consent, Patient, Staff, TimeEntry
from tests.conftest import clear_tables

MONTHS = (date(2025, 11, 1), date(2026, 2, 1))
TRACKS = ("practitioner", "clinical_staff", "non_clinical")

day_offsets = st.integers(min_value=-400, max_value=40)  # days from the month's first day
# The last item: the consent was given for the billing practitioner, for another, or not said.
consent = st.tuples(st.sampled_from(("CCM", "PCM", "RPM", "BHI")), st.sampled_from(("granted", "granted", "revoked", "declined")), day_offsets, st.sampled_from(("own", "own", "other", None)))
entry = st.tuples(
    st.sampled_from(("CCM", "PCM", "RPM", "BHI")),
    st.sampled_from(TRACKS),
    st.integers(min_value=1, max_value=45),
    st.integers(min_value=0, max_value=27),  # day of the month
    st.sampled_from((None, True, False)),  # live contact
    st.booleans(),  # voided
    st.booleans(),  # performed by the other practitioner
)
patient = st.fixed_dictionaries(
    {
        "programs": st.sampled_from(("CCM", "PCM", "RPM", "CCM;RPM", "CCM;PCM", "PCM;RPM", "APCM", "CCM;APCM", "BHI", "CCM;BHI")),
        "conditions": st.integers(min_value=0, max_value=3),
        "care_plan": st.one_of(st.none(), day_offsets),
        "visit": st.one_of(st.none(), day_offsets, st.integers(min_value=-900, max_value=-300)),
        "practitioner": st.booleans(),
        "consents": st.lists(consent, max_size=3),
        "entries": st.lists(entry, max_size=6),
    }
)


def _store(db: Database, month: date, patients: list[dict]) -> None:
    clear_tables(db)
    with db.transaction() as s:
        doctor = Staff(slack_user_id="UDOC", name="Dr. A", role="physician", is_admin=True, active=True)
        other = Staff(slack_user_id="UDOCB", name="Dr. B", role="physician", is_admin=False, active=True)
        s.add_all([doctor, other])
        s.flush()
        for n, p in enumerate(patients):
            row = Patient(
                key=f"{n + 1}",
                programs=p["programs"],
                chronic_conditions=p["conditions"],
                care_plan_date=None if p["care_plan"] is None else month + timedelta(days=p["care_plan"]),
                initiating_visit_date=None if p["visit"] is None else month + timedelta(days=p["visit"]),
                billing_practitioner_id=doctor.id if p["practitioner"] else None,
                active=True,
            )
            s.add(row)
            s.flush()
            for program, status, offset, given_for in p["consents"]:
                practitioner_id = {"own": row.billing_practitioner_id, "other": other.id, None: None}[given_for]
                s.add(Consent(patient_id=row.id, program=program, status=status, method="verbal", effective_date=month + timedelta(days=offset), practitioner_id=practitioner_id))
            for i, (program, track, minutes, day, live, voided, by_other) in enumerate(p["entries"]):
                s.add(
                    TimeEntry(
                        patient_id=row.id, performed_by_id=other.id if by_other else doctor.id, logged_by_id=doctor.id, minutes=minutes,
                        service_date=month + timedelta(days=day), activity="care_plan", interactive=live, program=program,
                        track=track, source="import", source_group=f"g{n}", source_key=f"g{n}#{i}",
                        voided_at=datetime(2026, 1, 1, tzinfo=UTC) if voided else None,
                    )
                )  # fmt: skip
        s.flush()
        rebuild_month_totals(s)


def _lists(items: list, policy: Policy) -> tuple[list, set, set]:
    needs = [(n.key, n.step.program, n.step.code, n.minutes_needed) for n in needs_time(items, policy)]
    blocked = {(i.patient.key, b.program, b.reason) for i in items for b in i.result.hard_blockers()}
    no_time = {(i.patient.key, p) for i in items for p in i.patient.programs if p != "APCM" and not i.result.minutes.get(p) and not i.result.hard_blockers(p)}
    return needs, blocked, no_time


# Patients that only the billing-depth rules keep off a list or put on one: no billing
# practitioner; consent given for another practitioner; an initiating visit inside the month
# with 25 minutes before it; a practitioner's time by another practitioner.
_CLEAN = {"programs": "CCM", "conditions": 2, "care_plan": -100, "visit": -120, "practitioner": True, "consents": [("CCM", "granted", -90, "own")], "entries": []}
_DEPTH = [
    {**_CLEAN, "practitioner": False},
    {**_CLEAN, "consents": [("CCM", "granted", -90, "other")]},
    {**_CLEAN, "visit": 10, "entries": [("CCM", "clinical_staff", 25, 3, None, False, False)]},
    {**_CLEAN, "entries": [("CCM", "practitioner", 35, 3, None, False, True)]},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    month=st.sampled_from(MONTHS),
    patients=st.lists(patient, min_size=1, max_size=6),
    policy=st.sampled_from((Policy(), Policy(pool_practitioner_minutes="below_threshold", date_of_service="threshold_date"))),
)
@example(month=MONTHS[1], patients=_DEPTH, policy=Policy())
@example(month=MONTHS[0], patients=_DEPTH, policy=Policy(pool_practitioner_minutes="below_threshold", date_of_service="threshold_date"))
def test_the_candidates_keep_every_patient_the_engine_lists(db: Database, month: date, patients: list[dict], policy: Policy) -> None:
    _store(db, month, patients)
    with db.session() as s:
        every = month_results(s, month, policy)
        short = month_results(s, month, policy, scope=short_candidates(month, policy))
        blocked = month_results(s, month, policy, scope=blocked_candidates(month, policy))
        either = month_results(s, month, policy, scope=list_candidates(month, policy))
    all_needs, all_blocked, all_no_time = _lists(every, policy)
    assert _lists(short, policy)[0] == all_needs
    assert _lists(short, policy)[2] == all_no_time
    assert _lists(blocked, policy)[1] == all_blocked
    assert _lists(either, policy) == (all_needs, all_blocked, all_no_time)  # the reminders' one pass
    assert month_bounds(month)[0] == month
