"""A patient's month as the rooms above storage see it, and the practice's month summary (pure).

A PatientMonth is the patient record as of the month, the facts handed to the billing engine
and the engine's result. Replies, worklists, reminders and reports read it; bot.evaluation is
the one place that makes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
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


class Tally:
    """The month summary built one patient at a time, so a report can stream its rows and still
    say what it billed without holding every patient."""

    def __init__(self) -> None:
        self.patients = 0
        self.billable = 0
        self.total = 0.0
        self.estimated = False
        self.units: Counter[str] = Counter()

    def add(self, item: PatientMonth) -> PatientMonth:
        self.patients += 1
        result = item.result
        if result.codes:
            self.billable += 1
            self.total += result.total
            self.estimated = self.estimated or result.amounts_are_estimates
            for code in result.codes:
                self.units[code.code] += code.units
        return item

    def counting(self, items: Iterable[PatientMonth]) -> Iterator[PatientMonth]:
        """The items, unchanged, each added on the way through."""
        return map(self.add, items)

    def summary(self) -> MonthSummary:
        return MonthSummary(self.patients, self.billable, round(self.total, 2), self.estimated, tuple(sorted(self.units.items())))


def summarize(items: Iterable[PatientMonth]) -> MonthSummary:
    tally = Tally()
    for item in items:
        tally.add(item)
    return tally.summary()
