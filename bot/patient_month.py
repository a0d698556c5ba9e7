"""A patient's month as the rooms above storage see it, and the practice's month summary (pure).

A PatientMonth is the patient record as of the month, the facts handed to the billing engine
and the engine's result. Replies, worklists, reminders and reports read it; bot.evaluation is
the one place that makes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.billing import MonthFacts, MonthResult
from storage.records import PatientRecord


@dataclass(frozen=True)
class PatientMonth:
    patient: PatientRecord
    facts: MonthFacts
    result: MonthResult


@dataclass(frozen=True)
class MonthSummary:
    """What the practice bills for a month: the one summary every door and reminder shows."""

    patients: int
    billable: int
    total: float
    estimated: bool  # some billable amount is an estimate (no fee schedule for that year and code)
    codes: tuple[tuple[str, int], ...]  # (code, units) in code order


def summarize(items: Iterable[PatientMonth]) -> MonthSummary:
    items = list(items)
    billable = [i for i in items if i.result.codes]
    units: Counter[str] = Counter()
    for item in billable:
        for code in item.result.codes:
            units[code.code] += code.units
    return MonthSummary(
        patients=len(items),
        billable=len(billable),
        total=sum(i.result.total for i in billable),
        estimated=any(i.result.amounts_are_estimates for i in billable),
        codes=tuple(sorted(units.items())),
    )
