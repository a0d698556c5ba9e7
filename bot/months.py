"""Calendar months and business days in the practice's time zone."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """Today's date where the practice is (an entry at 23:30 on the 31st belongs to the 31st)."""
    return (now or datetime.now(UTC)).astimezone(tz).date()


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def parse_month(text: str) -> date:
    """'2026-11' -> 2026-11-01; raises ValueError with a sentence for a person."""
    try:
        year, month = text.strip().split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-11") from None


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def is_business_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def business_days_between(start: date, end: date, holidays: Iterable[date] = ()) -> int:
    """Business days from start to end, both included (0 when end is before start)."""
    holiday_set = set(holidays)
    return sum(1 for n in range((end - start).days + 1) if is_business_day(start + timedelta(days=n), holiday_set))

