"""Billing depth rules end to end: facts read from a real database, through bot.evaluation.

The engine's own tables are in test_engine.py; these hold that storage hands it the right facts:
who performed practitioner time, which practitioner a consent was given for, the initiating
visit inside the month, the day of the last live RPM call, and BHI minutes kept apart."""

from __future__ import annotations

from datetime import date

import pytest

from bot.billing import ConsentEvent, Minutes, MonthFacts, Policy, evaluate
from bot.evaluation import _as_clinical_staff, month_results
from storage.consents import record_consent
from storage.roster import PatientFields, upsert_patient
from tests.bot.test_report import NOV, log
from tests.conftest import TODAY, Roster


def month(session, key: str, as_of: date | None = None):
    (item,) = month_results(session, NOV, Policy(), patient_keys=[key], as_of=as_of)
    return item.result


def codes(result) -> list[tuple[str, int]]:
    return [(c.code, c.units) for c in result.codes]


def reasons(result, program: str = "CCM") -> list[str]:
    return [b.reason for b in result.hard_blockers(program)]


def test_only_the_billing_practitioners_own_time_counts_toward_99491(session, roster: Roster):
    other = roster.staff("Dr. Chen", "physician", "UCHEN")
    roster.patient("123")  # billed by Dr. Okafor
    log(session, other, "123", 35, date(2026, 11, 3))
    session.commit()
    # Dr. Chen's 35 minutes are clinical staff time here: 99490, not 99491.
    assert codes(month(session, "123")) == [("99490", 1)]
    log(session, roster.doctor, "123", 30, date(2026, 11, 4))
    session.commit()
    # Dr. Okafor's own 30 reach 99491, but all 65 minutes on the staff ladder pay more.
    result = month(session, "123")
    assert codes(result) == [("99490", 1), ("99439", 2)]
    assert result.minutes["CCM"] == {"clinical_staff": 35, "practitioner": 30}
    assert result.counted["CCM"] == 65


def test_a_patient_without_a_billing_practitioner_is_blocked(session, roster: Roster):
    upsert_patient(
        session,
        PatientFields(key="900", billing_practitioner=None, chronic_conditions=2, care_plan_date=date(2026, 1, 5),
                      initiating_visit_date=date(2026, 1, 2), programs="CCM", consents=[("CCM", date(2026, 1, 5), "verbal")]),
        actor=None, today=TODAY,
    )  # fmt: skip
    log(session, roster.nurse, "900", 25, date(2026, 11, 3))
    session.commit()
    result = month(session, "900")
    assert codes(result) == [] and reasons(result) == ["no_billing_practitioner"]


def test_a_new_billing_practitioner_needs_new_consent(session, roster: Roster):
    patient = roster.patient("123")
    log(session, roster.nurse, "123", 25, date(2026, 11, 3))
    session.commit()
    assert codes(month(session, "123")) == [("99490", 1)]
    other = roster.staff("Dr. Chen", "physician", "UCHEN")
    upsert_patient(
        session,
        PatientFields(key="123", billing_practitioner=other.name, chronic_conditions=2, care_plan_date=date(2026, 1, 5),
                      initiating_visit_date=date(2026, 1, 2), programs="CCM"),
        actor=roster.doctor, today=TODAY,
    )  # fmt: skip
    session.commit()
    result = month(session, "123")
    assert codes(result) == [] and reasons(result) == ["consent_other_practitioner"]
    record_consent(session, patient, program="CCM", status="granted", effective_date=date(2026, 11, 2), by=roster.nurse, method="verbal", today=TODAY)
    session.commit()
    assert codes(month(session, "123")) == [("99490", 1)]


def test_minutes_before_an_initiating_visit_inside_the_month_do_not_count(session, roster: Roster):
    roster.patient("123")
    upsert_patient(
        session,
        PatientFields(key="123", billing_practitioner=roster.doctor.name, chronic_conditions=2, care_plan_date=date(2026, 1, 5),
                      initiating_visit_date=date(2026, 11, 10), programs="CCM"),
        actor=roster.doctor, today=TODAY,
    )  # fmt: skip
    log(session, roster.nurse, "123", 15, date(2026, 11, 3))
    log(session, roster.nurse, "123", 15, date(2026, 11, 12))
    session.commit()
    result = month(session, "123")
    assert result.counted["CCM"] == 15 and codes(result) == []
    assert result.next_for("CCM").minutes_needed == 5
    # The whole practice's month reads the same facts (the report's path).
    everyone = {item.patient.key: item.result for item in month_results(session, NOV, Policy())}
    assert everyone["123"].counted["CCM"] == 15
    assert month(session, "123", as_of=date(2026, 11, 12)).counted["CCM"] == 15


def test_rpm_needs_a_live_call_on_or_after_its_consent(session, roster: Roster):
    patient = roster.patient("456", programs="RPM", consent=None)
    log(session, roster.nurse, "456", 10, date(2026, 11, 2), program="RPM", interactive=True)  # a call before consent
    record_consent(session, patient, program="RPM", status="granted", effective_date=date(2026, 11, 5), by=roster.nurse, method="verbal", today=TODAY)
    log(session, roster.nurse, "456", 25, date(2026, 11, 9), program="RPM", activity="device_data_review")
    log(session, roster.nurse, "456", 3, date(2026, 11, 10), program="RPM", interactive=False)  # a voicemail
    session.commit()
    result = month(session, "456")
    assert codes(result) == [] and "no_interactive_communication" in reasons(result, "RPM")
    log(session, roster.nurse, "456", 5, date(2026, 11, 12), program="RPM", interactive=True)
    session.commit()
    result = month(session, "456")
    assert codes(result) == [("99457", 1)] and result.counted["RPM"] == 33  # the call before consent does not count


def test_bhi_minutes_count_only_toward_99484(session, roster: Roster):
    roster.patient("123", programs="CCM;BHI")
    log(session, roster.nurse, "123", 20, date(2026, 11, 3), program="BHI")
    log(session, roster.nurse, "123", 15, date(2026, 11, 4), program="CCM")
    session.commit()
    result = month(session, "123")
    assert codes(result) == [("99484", 1)]
    assert result.counted == {"CCM": 15, "BHI": 20}
    assert result.next_for("CCM").code == "99490" and result.next_for("CCM").minutes_needed == 5


@pytest.mark.parametrize("month_start", [date(2025, 3, 1), date(2026, 3, 1)])
@pytest.mark.parametrize(
    "own, others, expected",
    [
        (0, 35, [("99490", 1)]),  # another practitioner's 35: staff time, never 99491
        (30, 0, [("99491", 1)]),  # the billing practitioner's own 30
        (30, 10, [("99490", 1), ("99439", 1)]),  # 40 pooled on the staff ladder pay more than 99491
        (60, 0, [("99490", 1), ("99439", 2)]),
    ],
)  # fmt: skip
def test_99491_counts_only_the_billing_practitioners_own_minutes_in_both_years(month_start, own, others, expected):
    """The move bot.evaluation makes before the engine: another practitioner's minutes become
    clinical staff minutes, dated or month totals alike."""
    day = month_start.replace(day=10)
    logged = tuple(m for m in (Minutes("CCM", "practitioner", own + others, day),) if m.minutes)
    moved = _as_clinical_staff(logged, [("CCM", day, others)] if others else [])
    assert sum(m.minutes for m in moved if m.track == "practitioner") == own
    facts = MonthFacts(month=month_start, minutes=moved, consents=(ConsentEvent("CCM", "granted", date(2024, 6, 1)),), chronic_conditions=2,
                       care_plan_date=date(2024, 6, 1), initiating_visit_date=date(2024, 5, 20))  # fmt: skip
    assert codes(evaluate(facts)) == expected
    undated = _as_clinical_staff(tuple(m._replace(day=None) for m in logged), [("CCM", day, others)] if others else [])
    assert codes(evaluate(facts._replace(minutes=undated))) == expected
