"""RPM device codes, pure: the ladder per year, 30-day periods from the start of monitoring, data
days (a day counts once, only inside the episode and with RPM consent on file), 99453 once per
episode, and how a month's result carries the periods that end in it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.billing import (
    ConsentEvent,
    DevicePeriod,
    Minutes,
    MonthFacts,
    Policy,
    episode_periods,
    evaluate,
    evaluate_devices,
    outlook,
    period_bounds,
)
from bot.billing.devices import consented_days

GRANTED = (ConsentEvent("RPM", "granted", date(2024, 6, 1)),)


def days(first: date, count: int, step: int = 1) -> list[date]:
    return [first + timedelta(days=n * step) for n in range(count)]


def codes_of(period: DevicePeriod, policy: Policy | None = None) -> list[tuple[str, float]]:
    [line] = evaluate_devices([period], policy=policy or Policy())
    return [(c.code, c.amount) for c in line.codes]


# --- the ladder, per year ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data_days, expected",
    [(0, []), (1, []), (2, []), (15, []), (16, [("99454", 43.02)]), (30, [("99454", 43.02)])],
)  # fmt: skip
def test_2025_ladder_99454_from_16_days(data_days, expected):
    assert codes_of(DevicePeriod(date(2025, 3, 1), date(2025, 3, 30), data_days)) == expected


@pytest.mark.parametrize(
    "data_days, expected",
    [(0, []), (1, []), (2, [("99445", 47.06)]), (9, [("99445", 47.06)]), (15, [("99445", 47.06)]), (16, [("99454", 47.06)]),
     (30, [("99454", 47.06)])],
)  # fmt: skip
def test_2026_ladder_99445_for_2_to_15_days_99454_from_16_never_both(data_days, expected):
    assert codes_of(DevicePeriod(date(2026, 3, 1), date(2026, 3, 30), data_days)) == expected


@pytest.mark.parametrize(
    "end, data_days, expected",
    [
        (date(2025, 3, 30), 16, [("99454", 43.02), ("99453", 19.73)]),
        (date(2026, 3, 30), 2, [("99445", 47.06), ("99453", 21.71)]),
        (date(2026, 3, 30), 20, [("99454", 47.06), ("99453", 21.71)]),
    ],
)
def test_setup_99453_rides_with_the_period_that_includes_it(end, data_days, expected):
    assert codes_of(DevicePeriod(end - timedelta(days=29), end, data_days, includes_setup=True)) == expected


def test_amounts_2025_official_2026_estimated_and_the_policy_overrides_them():
    month25 = MonthFacts(month=date(2025, 3, 1), enrolments=("RPM",), consents=GRANTED, device_periods=(DevicePeriod(date(2025, 2, 20), date(2025, 3, 21), 20),))
    assert not evaluate(month25).amounts_are_estimates
    month26 = month25._replace(month=date(2026, 3, 1), device_periods=(DevicePeriod(date(2026, 2, 20), date(2026, 3, 21), 20),))
    assert evaluate(month26).amounts_are_estimates
    assert codes_of(DevicePeriod(date(2026, 2, 20), date(2026, 3, 21), 20), Policy(amounts={2026: {"99454": 50.15}})) == [("99454", 50.15)]
    official = evaluate(month26, Policy(amounts={2026: {"99454": 50.15}}, official={2026: frozenset({"99454"})}))
    assert not official.amounts_are_estimates and official.total == 50.15


def test_no_billing_practitioner_bills_no_device_code():
    [line] = evaluate_devices([DevicePeriod(date(2026, 3, 1), date(2026, 3, 30), 20, includes_setup=True)], has_billing_practitioner=False)
    assert line.codes == () and line.blocker is not None and line.blocker.reason == "no_billing_practitioner"


def test_a_short_period_says_why():
    [line] = evaluate_devices([DevicePeriod(date(2025, 3, 1), date(2025, 3, 30), 10)])
    assert line.codes == () and line.blocker is not None
    assert (line.blocker.reason, line.blocker.detail) == ("too_few_data_days", "10 data day(s), 16 needed for 99454")
    [line] = evaluate_devices([DevicePeriod(date(2025, 3, 1), date(2025, 3, 30), 10, uncounted_days=8)])
    assert line.blocker is not None and line.blocker.reason == "no_consent"


# --- periods -------------------------------------------------------------------------------


def test_periods_are_30_days_from_the_start_and_one_spans_two_months():
    start = date(2026, 11, 20)
    assert period_bounds(start, start) == (date(2026, 11, 20), date(2026, 12, 19))
    assert period_bounds(start, date(2026, 12, 19)) == (date(2026, 11, 20), date(2026, 12, 19))
    assert period_bounds(start, date(2026, 12, 20)) == (date(2026, 12, 20), date(2027, 1, 18))
    periods = episode_periods(start, None, days(start, 20), GRANTED, through=date(2026, 12, 31))
    assert [(p.start, p.end, p.data_days, p.includes_setup) for p in periods] == [
        (date(2026, 11, 20), date(2026, 12, 19), 20, True),
        (date(2026, 12, 20), date(2027, 1, 18), 0, False),
    ]
    # Its codes belong to December, the month it ends in, dated on its last day; November has none.
    base = MonthFacts(month=date(2026, 11, 1), enrolments=("RPM",), consents=GRANTED)
    november = evaluate(base)
    december = evaluate(base._replace(month=date(2026, 12, 1), device_periods=periods[:1]))
    assert november.codes == () and november.devices == ()
    assert [(c.code, c.amount) for c in december.codes] == [("99454", 47.06), ("99453", 21.71)]
    assert december.devices[0].period.end == date(2026, 12, 19)


def test_a_leap_day_is_one_of_the_30():
    start = date(2028, 2, 10)
    assert period_bounds(start, start) == (date(2028, 2, 10), date(2028, 3, 10))  # Feb 29 is day 20
    assert period_bounds(start, date(2028, 3, 11)) == (date(2028, 3, 11), date(2028, 4, 9))
    periods = episode_periods(start, None, days(date(2028, 2, 20), 16), GRANTED, through=date(2028, 3, 31))
    assert (periods[0].end, periods[0].data_days) == (date(2028, 3, 10), 16)  # Feb 20..Mar 6, Feb 29 included
    [line] = evaluate_devices(periods[:1])
    assert [c.code for c in line.codes] == ["99454", "99453"]  # a year after the newest table: its rules


def test_an_episode_restarted_mid_period_cuts_the_old_period_and_starts_new_ones():
    readings = days(date(2026, 3, 1), 40)
    first = episode_periods(date(2026, 3, 1), date(2026, 3, 14), readings, GRANTED, through=date(2026, 4, 30))
    second = episode_periods(date(2026, 3, 15), None, readings, GRANTED, through=date(2026, 4, 30))
    assert [(p.start, p.end, p.data_days, p.includes_setup) for p in first] == [(date(2026, 3, 1), date(2026, 3, 14), 14, True)]
    assert [(p.start, p.end, p.data_days, p.includes_setup) for p in second] == [
        (date(2026, 3, 15), date(2026, 4, 13), 26, True),
        (date(2026, 4, 14), date(2026, 5, 13), 0, False),
    ]
    assert [c.code for line in evaluate_devices(first + second[:1]) for c in line.codes] == ["99445", "99453", "99454", "99453"]


def test_readings_on_one_day_count_once_whatever_the_number_of_devices():
    day = date(2026, 3, 5)
    periods = episode_periods(date(2026, 3, 1), None, [day, day, day, day + timedelta(days=1)], GRANTED, through=date(2026, 3, 30))
    assert periods[0].data_days == 2


def test_readings_before_the_start_after_the_end_or_without_consent_do_not_count():
    readings = days(date(2026, 2, 20), 40)  # Feb 20 .. Mar 31
    consents = (ConsentEvent("RPM", "granted", date(2026, 3, 10)), ConsentEvent("RPM", "revoked", date(2026, 3, 20)))
    [period] = episode_periods(date(2026, 3, 1), date(2026, 3, 25), readings, consents, through=date(2026, 3, 31))
    # Inside the episode: Mar 1..25 (25 days); with consent on file: Mar 10..19.
    assert (period.end, period.data_days, period.uncounted_days, period.last_data_day) == (date(2026, 3, 25), 10, 15, date(2026, 3, 19))


def test_consent_for_another_billing_practitioner_does_not_count():
    other = (ConsentEvent("RPM", "granted", date(2026, 1, 1), for_billing_practitioner=False),)
    counted, uncounted = consented_days(days(date(2026, 3, 1), 3), other)
    assert (counted, len(uncounted)) == ([], 3)
    assert consented_days(days(date(2026, 3, 1), 3), (ConsentEvent("CCM", "granted", date(2026, 1, 1)),))[0] == []


def test_99453_goes_with_the_first_period_that_has_enough_days_2025():
    start = date(2025, 1, 1)
    readings = days(start, 10) + days(date(2025, 1, 31), 20) + days(date(2025, 3, 2), 20)
    periods = episode_periods(start, None, readings, GRANTED, through=date(2025, 3, 31))
    assert [(p.data_days, p.includes_setup) for p in periods] == [(10, False), (20, True), (20, False)]
    assert [[c.code for c in line.codes] for line in evaluate_devices(periods)] == [[], ["99454", "99453"], ["99454"]]


def test_2026_99453_needs_only_2_days():
    start = date(2026, 1, 1)
    periods = episode_periods(start, None, days(start, 2) + days(date(2026, 1, 31), 20), GRANTED, through=date(2026, 2, 28))
    assert [[c.code for c in line.codes] for line in evaluate_devices(periods)] == [["99445", "99453"], ["99454"]]


def test_a_period_ending_in_2026_follows_2026_rules():
    start = date(2025, 12, 20)
    [period] = episode_periods(start, None, days(start, 3), GRANTED, through=date(2026, 1, 18))
    assert period.end == date(2026, 1, 18) and period.includes_setup
    assert [c.code for c in evaluate_devices([period])[0].codes] == ["99445", "99453"]


# --- the month result --------------------------------------------------------------------


def test_device_codes_join_the_month_and_leave_management_minutes_as_they_were():
    month = date(2026, 3, 1)
    base = MonthFacts(
        month=month, enrolments=("RPM",), consents=GRANTED, rpm_last_contact=date(2026, 3, 5),
        minutes=(Minutes("RPM", "clinical_staff", 12, date(2026, 3, 5)),),
    )  # fmt: skip
    without = evaluate(base)
    period = DevicePeriod(date(2026, 2, 10), date(2026, 3, 11), 18, includes_setup=True)
    result = evaluate(base._replace(device_periods=(period,)))
    assert [c.code for c in without.codes] == ["99470"]
    assert [c.code for c in result.codes] == ["99470", "99454", "99453"]
    assert (result.blockers, result.next, result.counted, result.date_of_service) == (without.blockers, without.next, without.counted, without.date_of_service)
    assert [c.code for c in result.codes_for("RPM")] == ["99470"]  # the minutes' codes: the lists and advice read these
    assert result.total == round(26.00 + 47.06 + 21.71, 2)


def test_only_device_codes_leave_the_minutes_date_of_service_unset():
    result = evaluate(MonthFacts(month=date(2026, 3, 1), enrolments=("RPM",), consents=GRANTED, device_periods=(DevicePeriod(date(2026, 2, 10), date(2026, 3, 11), 18),)))
    assert [c.code for c in result.codes] == ["99454"] and result.date_of_service is None


# --- what the remaining days can reach ------------------------------------------------------


@pytest.mark.parametrize(
    "end, data_days, last_day, today, expected",
    [
        # 2026: 9 days, 10 days left (Dec 5..14): 99445 reached, 7 more for 99454.
        (date(2026, 12, 14), 9, date(2026, 12, 4), date(2026, 12, 5), (10, "99445", "99454", 7, None)),
        # Today already counts: 9 days left.
        (date(2026, 12, 14), 9, date(2026, 12, 5), date(2026, 12, 5), (9, "99445", "99454", 7, None)),
        # Too few days left for 99454.
        (date(2026, 12, 14), 9, date(2026, 12, 4), date(2026, 12, 10), (5, "99445", None, 0, "99454")),
        # 2025: no 99445; 99454 is the first rung.
        (date(2025, 12, 14), 9, date(2025, 12, 4), date(2025, 12, 5), (10, None, "99454", 7, None)),
        (date(2026, 12, 14), 0, None, date(2026, 12, 1), (14, None, "99445", 2, None)),
        (date(2026, 12, 14), 16, date(2026, 12, 4), date(2026, 12, 5), (10, "99454", None, 0, None)),
    ],
)  # fmt: skip
def test_outlook(end, data_days, last_day, today, expected):
    look = outlook(DevicePeriod(end - timedelta(days=29), end, data_days, last_data_day=last_day), today)
    assert (look.days_left, look.reached, look.next_code, look.days_needed, look.out_of_reach) == expected
