"""RPM device periods in words and lists (pure): the current period's outlook for a status, who is
short of data days, and a month's device periods for the report.

Device codes run on 30-day periods from the start of monitoring, management time on the calendar
month; every number here comes from bot.billing (episode_periods, outlook, evaluate_devices).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.billing import DeviceLine, DeviceOutlook
from storage.records import RpmEpisodeRecord

# The nudges name RPM patients whose period has this many days left or fewer, today included.
NUDGE_DAYS = 5


@dataclass(frozen=True)
class DeviceStatus:
    """A running RPM episode's current period, and why more data days would not bill (if so)."""

    episode: RpmEpisodeRecord
    outlook: DeviceOutlook
    blocked: str | None = None  # "no RPM consent on file", "no billing practitioner on file"

    @property
    def key(self) -> str:
        return self.episode.patient_key

    @property
    def can_reach(self) -> bool:
        """More data days this period would reach the next device code."""
        return self.blocked is None and self.outlook.next_code is not None


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def short_day(day: date, today: date | None = None) -> str:
    """ "Dec 14"; with the year when it is not today's."""
    return f"{day:%b} {day.day}" + (f", {day.year}" if today is not None and day.year != today.year else "")


def span_words(start: date, end: date, today: date | None = None) -> str:
    return f"{short_day(start, today)} - {short_day(end, today)}"


def short_of_data_days(statuses: Iterable[DeviceStatus], *, ending_within: int | None = None, today: date | None = None) -> list[DeviceStatus]:
    """The patients whose current period can still reach the next device code, closest first
    (fewest data days needed, then the period that ends first); with `ending_within`, only those
    whose period has that many days left or fewer, today included."""
    out = [s for s in statuses if s.can_reach]
    if ending_within is not None and today is not None:
        out = [s for s in out if (s.outlook.period.end - today).days + 1 <= ending_within]
    return sorted(out, key=lambda s: (s.outlook.days_needed, s.outlook.period.end, s.key))


def outlook_words(status: DeviceStatus, today: date) -> str:
    """ "9 data days in the period ending Dec 14 (from Nov 15; billed in December); 7 more for 99454, 10 days left"."""
    look = status.outlook
    period = look.period
    when = f"{period.end:%B}" if period.end.year == today.year else f"{period.end:%B %Y}"
    parts = [f"{_n(period.data_days, 'data day')} in the period ending {short_day(period.end, today)} (from {short_day(period.start, today)}; billed in {when})"]
    if look.reached:
        parts.append(f"{look.reached} reached")
    if status.blocked:
        parts.append(f"not billable: {status.blocked}")
    elif look.next_code:
        parts.append(f"{look.days_needed} more for {look.next_code}, {_n(look.days_left, 'day')} left")
    elif look.out_of_reach:
        parts.append(f"{look.out_of_reach} is out of reach ({_n(look.days_left, 'day')} left)")
    if period.uncounted_days:
        parts.append(f"{_n(period.uncounted_days, 'day')} with readings but no RPM consent on file don't count")
    return "; ".join(parts)


def status_line(status: DeviceStatus, today: date) -> str:
    device = f", {status.episode.device}" if status.episode.device else ""
    return f"RPM devices (episode from {status.episode.start.isoformat()}{device}): {outlook_words(status, today)}"


def need_line(status: DeviceStatus, today: date) -> str:
    """ "• 123: 7 data days to 99454 (9 of 16), period ends Dec 14, 10 days left"."""
    look = status.outlook
    at = look.period.data_days + look.days_needed
    return (
        f"• {status.key}: {look.days_needed} data {'day' if look.days_needed == 1 else 'days'} to {look.next_code} "
        f"({look.period.data_days} of {at}), period ends {short_day(look.period.end, today)}, {_n(look.days_left, 'day')} left"
    )


def device_line_words(line: DeviceLine, today: date | None = None) -> str:
    """A device period that ends in the month: "RPM devices, Oct 6 - Nov 4: 18 data days: 99454 + 99453, date of service 2026-11-04"."""
    period = line.period
    so_far = " so far" if today is not None and today <= period.end else ""
    head = f"RPM devices, {span_words(period.start, period.end, today)}{so_far}: {_n(period.data_days, 'data day')}"
    if line.codes:
        codes = " + ".join(c.code for c in line.codes)
        return f"{head}: {codes}, date of service {period.end.isoformat()}"
    why = line.blocker.detail if line.blocker is not None else "nothing billable"
    return f"{head}, nothing billable: {why}"
