"""Plain records that travel up from storage: no SQLAlchemy here, so the pure rooms (replies,
worklists, reports) can hold them without loading a database layer.

The read path (storage.queries) builds them; nothing outside storage sees an ORM row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress
from typing import NamedTuple

PROGRAMS = ("CCM", "PCM", "RPM", "BHI")
TRACKS = ("practitioner", "clinical_staff", "non_clinical")

# minutes[program][track] -> total minutes
MinutesByProgram = dict[str, dict[str, int]]


class ConsentState(NamedTuple):
    """A consent row as read (a tuple: made by the tens of thousands for the panel, cheaply)."""

    program: str
    status: str  # granted | declined | revoked
    method: str | None
    effective_date: date
    practitioner_id: int | None = None  # the billing practitioner it was given for


# The twelve month-total columns in one fixed order: (program, track) for each position.
TOTAL_KEYS: tuple[tuple[str, str], ...] = tuple((p, t) for p in PROGRAMS for t in TRACKS)
NO_MINUTES: tuple[int, ...] = (0,) * len(TOTAL_KEYS)


@dataclass(slots=True)
class PatientRecord:
    """One active patient as of a month: eligibility facts, the month's minutes, consent as of its end."""

    patient_id: int
    key: str
    label: str | None
    programs: tuple[str, ...]
    chronic_conditions: int
    care_plan_date: date | None
    initiating_visit_date: date | None
    billing_practitioner_id: int | None
    billing_practitioner: str | None
    # The month's minutes as the ledger keeps them: one number per (program, track) in
    # TOTAL_KEYS order. Kept flat because the report reads them as triples and needs no
    # 20,000 nested dicts; `minutes` builds the nested view when a caller asks for it.
    totals: tuple[int, ...] = NO_MINUTES
    consents: dict[str, ConsentState] = field(default_factory=dict)  # latest as of the month's last day

    @property
    def minutes(self) -> MinutesByProgram:
        return minutes_from_totals(self.totals)

    def logged(self) -> Iterator[tuple[str, str, int]]:
        """(program, track, minutes) for every non-zero total."""
        return ((program, track, minutes) for (program, track), minutes in non_zero(self.totals))

    def total_minutes(self, program: str | None = None) -> int:
        return sum(minutes for (p, _), minutes in zip(TOTAL_KEYS, self.totals, strict=True) if program is None or p == program)


def non_zero(values: Sequence[int]) -> Iterator[tuple[tuple[str, str], int]]:
    """((program, track), minutes) for the non-zero month totals in TOTAL_KEYS order.
    compress() and filter() walk the twelve columns in C and hand over only the non-zero ones."""
    return zip(compress(TOTAL_KEYS, values), filter(None, values), strict=True)


def minutes_from_totals(values: Sequence[int]) -> MinutesByProgram:
    out: MinutesByProgram = {}
    for (program, track), minutes in non_zero(values):
        tracks = out.get(program)
        if tracks is None:
            tracks = out[program] = {}
        tracks[track] = minutes
    return out


@dataclass(frozen=True)
class ComplexMark:
    """A patient-month marked as complex CCM (moderate or high complexity medical decision making
    by the billing practitioner): why, and who said so (None: the roster import or the shell)."""

    patient_id: int
    month: date  # first day of the month
    reason: str
    marked_by: str | None


@dataclass(frozen=True)
class RpmEpisodeRecord:
    """An RPM episode as the rooms above storage see it (storage.rpm reads it)."""

    episode_id: int
    patient_id: int
    patient_key: str
    start: date
    end: date | None  # the last day of monitoring; None while it runs
    device: str | None
    started_by_id: int | None
    started_by: str | None
    billing_practitioner_id: int | None
    billing_practitioner: str | None
