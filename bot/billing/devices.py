"""RPM device periods: an episode's 30-day periods and their data days (pure).

Device codes run on their own clock: 30-day periods counted from the start of monitoring (days
1-30, 31-60, ...), not the calendar month. A period counts the distinct days with a reading,
from any device, inside the episode and on a day with RPM consent on file. Which code a period
bills is the engine's `evaluate_devices`; what its remaining days can still reach is `outlook`.
No database, no clock: "today" and "through" are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple, Protocol

from bot.billing.rules import RULES, DeviceRules, rules_for


class _Consent(Protocol):
    """A consent event as the engine's ConsentEvent has it (kept structural: no import cycle)."""

    @property
    def program(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def for_billing_practitioner(self) -> bool: ...


class DevicePeriod(NamedTuple):
    """One 30-day period of an RPM episode, as the engine bills it."""

    start: date
    end: date  # its last day: day 30, or the episode's last day when monitoring stopped inside it
    data_days: int = 0  # distinct days with a reading that count
    includes_setup: bool = False  # 99453 goes with this period: the episode's first with enough data days
    uncounted_days: int = 0  # days with readings inside the episode that do not count (no RPM consent that day)
    last_data_day: date | None = None  # the latest day that counts (does today count already?)


class DeviceOutlook(NamedTuple):
    """What a period's remaining days can still reach."""

    period: DevicePeriod
    days_left: int  # days still ahead that can add a data day (today, when it has none yet)
    reached: str | None  # the supply code the data days reach now
    next_code: str | None  # the next rung the remaining days can still reach
    days_needed: int  # data days the next rung still needs (0 without one)
    out_of_reach: str | None = None  # the next rung, when too few days are left to reach it


def device_rules(year: int) -> DeviceRules:
    """The year's device rules; a year before the first table uses the first (an episode can
    start before the years ccmbot bills, and its early periods decide where 99453 goes)."""
    return rules_for(max(year, min(RULES))).devices


def period_bounds(episode_start: date, day: date, period_days: int = 30) -> tuple[date, date]:
    """The 30-day period of an episode started on `episode_start` that holds `day`."""
    n = (day - episode_start).days // period_days
    start = episode_start + timedelta(days=n * period_days)
    return start, start + timedelta(days=period_days - 1)


def _rpm_events(consents: Iterable[_Consent]) -> list[_Consent]:
    """RPM consent rows that count, oldest first: a grant counts only for the billing practitioner
    it was given to (as for management minutes); a revocation or a decline always counts."""
    rows = [c for c in consents if c.program == "RPM" and (c.for_billing_practitioner or c.status != "granted")]
    return sorted(rows, key=lambda c: c.day)


def consented_days(days: Iterable[date], consents: Iterable[_Consent]) -> tuple[list[date], list[date]]:
    """(days with RPM consent on file, days without), each sorted: consent granted on or before the
    day and not revoked or declined since. A revocation counts from its own day."""
    events = _rpm_events(consents)
    yes: list[date] = []
    no: list[date] = []
    status: str | None = None
    i = 0
    for day in sorted(set(days)):
        while i < len(events) and events[i].day <= day:
            status = events[i].status
            i += 1
        (yes if status == "granted" else no).append(day)
    return yes, no


def episode_periods(start: date, end: date | None, days: Iterable[date], consents: Iterable[_Consent], *, through: date) -> tuple[DevicePeriod, ...]:
    """The periods of an episode that have begun by `through`, with their data days up to it.

    `end` is the episode's last day of monitoring (None while it runs); a period it cuts short
    ends on it. `days` are the days with a reading (any device, any order, repeats allowed);
    those outside the episode are ignored, and those without RPM consent on file are counted
    apart. The first period with enough data days for its year's set-up rule includes 99453."""
    last = through if end is None else min(end, through)
    if last < start:
        return ()
    inside = [d for d in set(days) if start <= d <= last]
    counted, uncounted = consented_days(inside, consents)
    rules = device_rules(start.year)
    out: list[DevicePeriod] = []
    setup_done = False
    p_start = start
    while p_start <= last:
        p_end = p_start + timedelta(days=rules.period_days - 1)
        if end is not None:
            p_end = min(p_end, end)
        mine = [d for d in counted if p_start <= d <= p_end]
        setup = not setup_done and len(mine) >= device_rules(p_end.year).setup_min_days
        setup_done = setup_done or setup
        out.append(
            DevicePeriod(
                start=p_start,
                end=p_end,
                data_days=len(mine),
                includes_setup=setup,
                uncounted_days=sum(1 for d in uncounted if p_start <= d <= p_end),
                last_data_day=mine[-1] if mine else None,
            )
        )
        p_start = p_start + timedelta(days=rules.period_days)
    return tuple(out)


def outlook(period: DevicePeriod, today: date) -> DeviceOutlook:
    """What the period's data days reach now, and the next rung its remaining days can still reach
    (a day counts once, so at most one more per day left, today included when it has none yet)."""
    rules = device_rules(period.end.year)
    if today > period.end:
        left = 0
    else:
        left = (period.end - max(today, period.start)).days + (0 if period.last_data_day == today else 1)
    now = rules.rung(period.data_days)
    ahead = [r for r in rules.supply if r.min_days > period.data_days]
    if not ahead:
        return DeviceOutlook(period, left, now.code if now else None, None, 0)
    step = ahead[0]
    needed = step.min_days - period.data_days
    if needed > left:
        return DeviceOutlook(period, left, now.code if now else None, None, 0, step.code)
    return DeviceOutlook(period, left, now.code if now else None, step.code, needed)
