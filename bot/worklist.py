"""Who still needs time, and whose time cannot be billed for want of consent: the lists the
assistant answers with and the reminders post. Both read the billing engine's results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.billing import NextThreshold, Policy, code_amount
from bot.patient_month import PatientMonth


@dataclass(frozen=True)
class Need:
    item: PatientMonth
    step: NextThreshold
    at_stake: float  # estimated payment of the next code, one unit

    @property
    def key(self) -> str:
        return self.item.patient.key

    @property
    def minutes_needed(self) -> int:
        return self.step.minutes_needed


def needs_time(items: Iterable[PatientMonth], policy: Policy) -> list[Need]:
    """Consented, eligible patients who bill nothing yet in a program, closest first.

    A patient past a first code who could add an add-on (99439, 99458, ...) is not on the list:
    the lists are for months that would otherwise bill nothing, and every patient on an uncapped
    add-on ladder would be on them all month. A patient's status still says what the next add-on needs.
    """
    out = []
    for item in items:
        for step in item.result.next:
            if item.result.hard_blockers(step.program) or item.result.codes_for(step.program):
                continue  # not consented or not eligible (minutes alone will not help), or already billing
            out.append(Need(item, step, code_amount(item.result.month, step.code, policy)))
    return sorted(out, key=lambda n: (n.minutes_needed, n.key))


@dataclass(frozen=True)
class ConsentGap:
    key: str
    program: str
    minutes: int
    revoked: bool


def consent_gaps(items: Iterable[PatientMonth]) -> list[ConsentGap]:
    """Patients with time logged in the month but no consent on file for that program."""
    out = []
    for item in items:
        for program, tracks in sorted(item.result.minutes.items()):
            missing = [b for b in item.result.blockers_for(program) if b.reason in ("no_consent", "consent_revoked")]
            if missing:
                out.append(ConsentGap(item.patient.key, program, sum(tracks.values()), missing[0].reason == "consent_revoked"))
    return out
