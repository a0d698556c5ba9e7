"""Table-driven tests of the billing engine: ladders, exclusivity, gates, years, policies."""

from __future__ import annotations

from datetime import date

import pytest

from bot.billing import ConsentEvent, Minutes, MonthFacts, Policy, evaluate
from bot.billing.rules import AMOUNTS_2025

MAR25 = date(2025, 3, 1)
MAR26 = date(2026, 3, 1)


def facts(month=MAR25, staff=0, prac=0, nonclin=0, program="CCM", complex_mdm=False, consents=None, **kw) -> MonthFacts:
    minutes = []
    for track, m in (("clinical_staff", staff), ("practitioner", prac), ("non_clinical", nonclin)):
        if m:
            minutes.append(Minutes(program, track, m, month.replace(day=10)))
    enrolments = kw.pop("enrolments", (program,))
    return MonthFacts(
        month=month,
        minutes=tuple(minutes) + tuple(kw.pop("extra", ())),
        consents=tuple(consents if consents is not None else [ConsentEvent(p, "granted", date(2024, 6, 1)) for p in ("CCM", "PCM", "RPM")]),
        chronic_conditions=kw.pop("conditions", 2),
        care_plan_date=kw.pop("care_plan", date(2024, 6, 1)),
        initiating_visit_date=kw.pop("visit", date(2024, 5, 20)),
        complex_mdm=complex_mdm,
        enrolments=enrolments,
        rpm_last_contact=month.replace(day=kw.pop("contact_day", 5)) if kw.pop("interactive", True) else None,
        has_billing_practitioner=kw.pop("practitioner", True),
    )


def codes(result) -> list[tuple[str, int]]:
    return [(c.code, c.units) for c in result.codes]


@pytest.mark.parametrize(
    "staff, expected",
    [(19, []), (20, [("99490", 1)]), (39, [("99490", 1)]), (40, [("99490", 1), ("99439", 1)]), (59, [("99490", 1), ("99439", 1)]),
     (60, [("99490", 1), ("99439", 2)]), (85, [("99490", 1), ("99439", 2)]), (200, [("99490", 1), ("99439", 2)])],
)  # fmt: skip
def test_ccm_staff_ladder(staff, expected):
    assert codes(evaluate(facts(staff=staff))) == expected


CONSERVATIVE = Policy(pool_practitioner_minutes="below_threshold")


@pytest.mark.parametrize(
    "prac, expected",
    [(19, []), (29, [("99490", 1)]), (30, [("99491", 1)]), (59, [("99491", 1)]), (60, [("99491", 1), ("99437", 1)]),
     (89, [("99491", 1), ("99437", 1)]), (90, [("99491", 1), ("99437", 1)])],
)  # fmt: skip
def test_ccm_practitioner_ladder_with_default_cap(prac, expected):
    # Below 30 practitioner minutes count toward 99490 (T1); from 30, with pooling forbidden, only the 99491 family.
    assert codes(evaluate(facts(prac=prac), CONSERVATIVE)) == expected


@pytest.mark.parametrize(
    "prac, expected",
    [(29, [("99490", 1)]), (30, [("99491", 1)]), (39, [("99491", 1)]), (40, [("99490", 1), ("99439", 1)]), (60, [("99490", 1), ("99439", 2)])],
)  # fmt: skip
def test_default_policy_takes_the_family_that_pays_most(prac, expected):
    # 30-39: 99491 ($82.16) beats 99490 ($60.49); from 40 pooled 99490+99439 ($106.42) beats 99491 alone.
    assert codes(evaluate(facts(prac=prac))) == expected


@pytest.mark.parametrize("prac, units", [(89, 1), (90, 2), (119, 2), (120, 3)])
def test_99437_cap_is_a_setting(prac, units):
    result = evaluate(facts(prac=prac), Policy(pool_practitioner_minutes="below_threshold", cap_99437=5))
    assert codes(result) == [("99491", 1), ("99437", units)]


@pytest.mark.parametrize(
    "staff, expected",
    [(59, [("99490", 1), ("99439", 1)]),
     # From 60 minutes a month marked complex bills the complex ladder, the code that describes the
     # month's service, even where 99490 + 2 x 99439 ($152.35) would pay more than 99487 ($131.65).
     (60, [("99487", 1)]), (89, [("99487", 1)]),
     (90, [("99487", 1), ("99489", 1)]), (119, [("99487", 1), ("99489", 1)]), (120, [("99487", 1), ("99489", 2)])],
)  # fmt: skip
def test_complex_ladder_when_mdm_flagged(staff, expected):
    assert codes(evaluate(facts(staff=staff, complex_mdm=True))) == expected


def test_complex_needs_the_flag():
    assert codes(evaluate(facts(staff=90))) == [("99490", 1), ("99439", 2)]


@pytest.mark.parametrize(
    "staff, prac, expected",
    [(29, 0, []), (30, 0, [("99426", 1)]), (59, 0, [("99426", 1)]), (60, 0, [("99426", 1), ("99427", 1)]), (90, 0, [("99426", 1), ("99427", 2)]),
     (0, 29, []), (0, 30, [("99424", 1)]), (0, 60, [("99424", 1), ("99425", 1)]), (0, 89, [("99424", 1), ("99425", 1)]),
     (10, 20, [("99426", 1)]), (15, 30, [("99424", 1)]), (30, 30, [("99426", 1), ("99427", 1)])],
)  # fmt: skip
def test_pcm_ladders_one_track_only(staff, prac, expected):
    assert codes(evaluate(facts(staff=staff, prac=prac, program="PCM", conditions=1))) == expected


@pytest.mark.parametrize(
    "month, minutes, expected",
    [(MAR25, 9, []), (MAR25, 10, []), (MAR25, 19, []), (MAR25, 20, [("99457", 1)]), (MAR25, 39, [("99457", 1)]),
     (MAR25, 40, [("99457", 1), ("99458", 1)]), (MAR25, 60, [("99457", 1), ("99458", 2)]),
     (MAR26, 9, []), (MAR26, 10, [("99470", 1)]), (MAR26, 19, [("99470", 1)]), (MAR26, 20, [("99457", 1)]), (MAR26, 40, [("99457", 1), ("99458", 1)])],
)  # fmt: skip
def test_rpm_ladders_by_year(month, minutes, expected):
    assert codes(evaluate(facts(month=month, staff=minutes, program="RPM", conditions=0, care_plan=None, visit=None))) == expected


def test_rpm_needs_interactive_communication():
    result = evaluate(facts(staff=25, program="RPM", interactive=False))
    assert codes(result) == [] and "no_interactive_communication" in [b.reason for b in result.blockers]


def test_rpm_and_ccm_minutes_never_mix():
    rpm = [Minutes("RPM", "clinical_staff", 15, date(2025, 3, 3))]
    result = evaluate(facts(staff=15, extra=rpm, enrolments=("CCM", "RPM")))
    assert codes(result) == []
    assert result.counted == {"CCM": 15, "RPM": 15}


def test_ccm_pcm_conflict_winner_is_the_higher_payment():
    pcm = [Minutes("PCM", "clinical_staff", 30, date(2025, 3, 4))]
    result = evaluate(facts(staff=40, extra=pcm, enrolments=("CCM", "PCM")))
    assert codes(result) == [("99490", 1), ("99439", 1)]
    assert [(b.program, b.reason) for b in result.blockers] == [("PCM", "program_conflict")]
    result = evaluate(facts(staff=20, extra=pcm, enrolments=("CCM", "PCM")))
    assert codes(result) == [("99426", 1)]
    assert ("CCM", "program_conflict") in [(b.program, b.reason) for b in result.blockers]


def test_apcm_blocks_ccm_and_pcm():
    result = evaluate(facts(staff=40, enrolments=("CCM", "APCM")))
    assert codes(result) == []
    assert ("CCM", "program_conflict") in [(b.program, b.reason) for b in result.blockers]


@pytest.mark.parametrize(
    "kw, reason",
    [
        ({"consents": []}, "no_consent"),
        ({"consents": [ConsentEvent("CCM", "granted", date(2024, 1, 1)), ConsentEvent("CCM", "revoked", date(2025, 2, 10))]}, "consent_revoked"),
        ({"consents": [ConsentEvent("CCM", "declined", date(2025, 2, 10))]}, "no_consent"),
        ({"consents": [ConsentEvent("CCM", "granted", date(2025, 4, 1))]}, "no_consent"),
        ({"conditions": 1}, "too_few_conditions"),
        ({"care_plan": None}, "no_care_plan"),
        ({"care_plan": date(2025, 4, 1)}, "no_care_plan"),
        ({"visit": None}, "no_initiating_visit"),
        ({"visit": date(2023, 5, 1)}, "no_initiating_visit"),
        ({"visit": date(2025, 4, 2)}, "no_initiating_visit"),
    ],
)
def test_gates_block_billing_with_a_reason(kw, reason):
    result = evaluate(facts(staff=45, **kw))
    assert codes(result) == []
    assert reason in [b.reason for b in result.blockers]


def test_revocation_inside_the_month_still_bills_that_month():
    consents = [ConsentEvent("CCM", "granted", date(2024, 1, 1)), ConsentEvent("CCM", "revoked", date(2025, 3, 15))]
    assert codes(evaluate(facts(staff=25, consents=consents))) == [("99490", 1)]


def test_minutes_before_the_consent_date_do_not_count():
    consents = [ConsentEvent("CCM", "granted", date(2025, 3, 12))]
    early = [Minutes("CCM", "clinical_staff", 15, date(2025, 3, 5))]
    late = [Minutes("CCM", "clinical_staff", 15, date(2025, 3, 20))]
    result = evaluate(facts(consents=consents, extra=early + late))
    assert codes(result) == [] and result.counted["CCM"] == 15
    assert result.next_for("CCM").minutes_needed == 5


def test_visit_after_program_start_and_by_month_end_is_fine_for_minutes_from_that_day():
    consents = [ConsentEvent("CCM", "granted", date(2025, 1, 10))]
    on_the_day = [Minutes("CCM", "clinical_staff", 20, date(2025, 3, 31))]
    assert codes(evaluate(facts(consents=consents, visit=date(2025, 3, 31), extra=on_the_day))) == [("99490", 1)]


def test_non_clinical_minutes_never_count():
    result = evaluate(facts(staff=10, nonclin=30))
    assert codes(result) == [] and result.counted["CCM"] == 10
    assert result.minutes["CCM"]["non_clinical"] == 30


def test_conservative_policy_forbids_pooling_practitioner_minutes_that_reach_30():
    default = evaluate(facts(staff=15, prac=30))
    assert codes(default) == [("99490", 1), ("99439", 1)]  # 45 pooled pays 106.42 > 99491's 82.16
    conservative = evaluate(facts(staff=15, prac=30), Policy(pool_practitioner_minutes="below_threshold"))
    assert codes(conservative) == [("99491", 1)]
    assert codes(evaluate(facts(staff=15, prac=29), Policy(pool_practitioner_minutes="below_threshold"))) == [("99490", 1), ("99439", 1)]


def test_2025_amounts_match_the_rules_reference_to_the_cent():
    expected = {"99490": 60.49, "99439": 45.93, "99491": 82.16, "99437": 57.58, "99487": 131.65, "99489": 70.52,
                "99424": 80.87, "99425": 58.87, "99426": 61.78, "99427": 50.46, "99457": 47.87, "99458": 38.49,
                "99484": 53.05}  # fmt: skip
    assert expected == AMOUNTS_2025
    result = evaluate(facts(staff=60))
    assert result.total == round(60.49 + 2 * 45.93, 2) and not result.amounts_are_estimates
    assert [c.amount for c in result.codes] == [60.49, 91.86]


def test_2026_amounts_are_estimates_and_overridable():
    result = evaluate(facts(month=MAR26, staff=20))
    assert result.total == 66.13 and result.amounts_are_estimates
    overridden = evaluate(facts(month=MAR26, staff=20), Policy(amounts={2026: {"99490": 70.00}}))
    assert overridden.total == 70.00


def test_date_of_service_month_end_or_threshold_day():
    extra = [Minutes("CCM", "clinical_staff", 12, date(2025, 3, 4)), Minutes("CCM", "clinical_staff", 10, date(2025, 3, 18)),
             Minutes("CCM", "clinical_staff", 10, date(2025, 3, 25))]  # fmt: skip
    assert evaluate(facts(extra=extra)).date_of_service == date(2025, 3, 31)
    assert evaluate(facts(extra=extra), Policy(date_of_service="threshold_date")).date_of_service == date(2025, 3, 18)
    assert evaluate(facts(staff=5)).date_of_service is None


@pytest.mark.parametrize(
    "staff, code, needed",
    [(0, "99490", 20), (17, "99490", 3), (20, "99439", 20), (45, "99439", 15), (60, None, None)],
)
def test_next_threshold(staff, code, needed):
    step = evaluate(facts(staff=staff)).next_for("CCM")
    assert (step.code, step.minutes_needed) == (code, needed) if code else step is None


def test_february_in_a_leap_year_is_one_month():
    extra = [Minutes("CCM", "clinical_staff", 10, date(2028, 2, 1)), Minutes("CCM", "clinical_staff", 10, date(2028, 2, 29))]
    result = evaluate(facts(month=date(2028, 2, 1), extra=extra))
    assert codes(result) == [("99490", 1)] and result.date_of_service == date(2028, 2, 29)


# --- Billing depth (issue 16): each rule in both service years ---------------------------------

YEARS = pytest.mark.parametrize("month", [MAR25, MAR26])


@YEARS
@pytest.mark.parametrize(
    "contact_day, consent_day, billed",
    [(None, 1, False), (12, 1, True), (3, 10, False), (10, 10, True), (25, 10, True)],
)  # fmt: skip
def test_rpm_needs_a_live_call_on_or_after_its_consent(month, contact_day, consent_day, billed):
    consents = [ConsentEvent("RPM", "granted", month.replace(day=consent_day))]
    minutes = [Minutes("RPM", "clinical_staff", 25, month.replace(day=20))]
    result = evaluate(facts(month, program="RPM", consents=consents, extra=minutes, interactive=contact_day is not None, contact_day=contact_day or 1))
    assert bool(result.codes) is billed
    assert ("no_interactive_communication" in [b.reason for b in result.blockers]) is not billed


@pytest.mark.parametrize(
    "minutes, billed, next_code, needed",
    [(5, [], "99470", 5), (10, [("99470", 1)], "99457", 10), (15, [("99470", 1)], "99457", 5), (19, [("99470", 1)], "99457", 1),
     (20, [("99457", 1)], "99458", 20), (40, [("99457", 1), ("99458", 1)], "99458", 20)],
)  # fmt: skip
def test_rpm_2026_advice_points_at_99457_from_99470(minutes, billed, next_code, needed):
    result = evaluate(facts(MAR26, staff=minutes, program="RPM"))
    assert codes(result) == billed
    step = result.next_for("RPM")
    assert (step.code, step.minutes_needed) == (next_code, needed)


@pytest.mark.parametrize("minutes, next_code, needed", [(5, "99457", 15), (15, "99457", 5), (20, "99458", 20)])
def test_rpm_2025_advice_has_no_99470(minutes, next_code, needed):
    step = evaluate(facts(MAR25, staff=minutes, program="RPM")).next_for("RPM")
    assert (step.code, step.minutes_needed) == (next_code, needed)


@YEARS
@pytest.mark.parametrize("program, minutes", [("CCM", 25), ("PCM", 35), ("RPM", 25), ("BHI", 25)])
def test_no_billing_practitioner_blocks_every_program(month, program, minutes):
    consents = [ConsentEvent(program, "granted", date(2024, 6, 1))]
    result = evaluate(facts(month, staff=minutes, program=program, consents=consents, practitioner=False))
    assert codes(result) == []
    assert "no_billing_practitioner" in [b.reason for b in result.hard_blockers(program)]


@YEARS
@pytest.mark.parametrize(
    "events, reason",
    [
        ([("granted", False)], "consent_other_practitioner"),
        ([("granted", False), ("granted", True)], None),
        ([("granted", True), ("revoked", False)], "consent_revoked"),
    ],
)  # fmt: skip
def test_consent_is_to_the_billing_practitioner(month, events, reason):
    consents = [ConsentEvent("CCM", status, date(2024, 6 + n, 1), mine) for n, (status, mine) in enumerate(events)]
    result = evaluate(facts(month, staff=25, consents=consents))
    assert [b.reason for b in result.hard_blockers("CCM")] == ([reason] if reason else [])
    assert bool(result.codes) is (reason is None)


@YEARS
@pytest.mark.parametrize("visit_day, counted", [(1, 30), (10, 30), (11, 15), (21, 0)])
def test_minutes_before_the_initiating_visit_do_not_count(month, visit_day, counted):
    minutes = [Minutes("CCM", "clinical_staff", 15, month.replace(day=10)), Minutes("CCM", "clinical_staff", 15, month.replace(day=20))]
    consents = [ConsentEvent("CCM", "granted", date(2024, 6, 1))]
    result = evaluate(facts(month, consents=consents, visit=month.replace(day=visit_day), extra=minutes))
    assert result.counted["CCM"] == counted


@YEARS
def test_bhi_bills_99484_beside_ccm_with_separate_minutes(month):
    consents = [ConsentEvent(p, "granted", date(2024, 6, 1)) for p in ("CCM", "BHI")]
    minutes = [Minutes("BHI", "clinical_staff", 20, month.replace(day=8))]
    result = evaluate(facts(month, staff=20, consents=consents, enrolments=("CCM", "BHI"), extra=minutes))
    assert codes(result) == [("99490", 1), ("99484", 1)]
    assert result.counted == {"CCM": 20, "BHI": 20}
    amount = {MAR25: 53.05, MAR26: 57.45}[month]
    assert result.codes_for("BHI")[0].amount == amount


@YEARS
@pytest.mark.parametrize("bhi_minutes, billed", [(19, []), (20, [("99484", 1)]), (75, [("99484", 1)])])
def test_bhi_99484_threshold_and_gates(month, bhi_minutes, billed):
    consents = [ConsentEvent("BHI", "granted", date(2024, 6, 1))]
    result = evaluate(facts(month, staff=bhi_minutes, program="BHI", consents=consents))
    assert codes(result) == billed
    without_consent = evaluate(facts(month, staff=bhi_minutes, program="BHI", consents=[]))
    assert codes(without_consent) == [] and "no_consent" in [b.reason for b in without_consent.blockers]
    with_apcm = evaluate(facts(month, staff=bhi_minutes, program="BHI", consents=consents, enrolments=("BHI", "APCM")))
    assert codes(with_apcm) == billed  # APCM bundles CCM and PCM, not general BHI


@YEARS
def test_complex_ccm_ladder_when_the_month_is_marked(month):
    assert codes(evaluate(facts(month, staff=70))) == [("99490", 1), ("99439", 2)]
    assert codes(evaluate(facts(month, staff=70, complex_mdm=True))) == [("99487", 1)]
    assert codes(evaluate(facts(month, staff=90, complex_mdm=True))) == [("99487", 1), ("99489", 1)]
    # Below 60 a complex month still bills 99490, and the advice aims at 99487.
    short = evaluate(facts(month, staff=45, complex_mdm=True))
    assert codes(short) == [("99490", 1), ("99439", 1)]
    assert (short.next_for("CCM").code, short.next_for("CCM").minutes_needed) == ("99487", 15)



def test_a_year_after_the_newest_table_is_priced_as_its_own_and_estimated():
    later = evaluate(facts(date(2027, 3, 1), staff=25))
    assert codes(later) == [("99490", 1)] and later.amounts_are_estimates
    official = Policy(amounts={2027: {"99490": 70.00}}, official={2027: frozenset({"99490"})})
    priced = evaluate(facts(date(2027, 3, 1), staff=25), official)
    assert priced.total == 70.00 and not priced.amounts_are_estimates
    # 2026's import does not price 2027.
    assert evaluate(facts(date(2027, 3, 1), staff=25), Policy(amounts={2026: {"99490": 1.0}})).total != 1.0


def test_facility_rates_without_an_import_are_estimates_even_in_2025():
    assert not evaluate(facts(MAR25, staff=25)).amounts_are_estimates
    assert evaluate(facts(MAR25, staff=25), Policy(facility=True)).amounts_are_estimates
    imported = Policy(facility=True, amounts={2025: {"99490": 40.0}}, official={2025: frozenset({"99490"})})
    result = evaluate(facts(MAR25, staff=25), imported)
    assert result.total == 40.0 and not result.amounts_are_estimates
