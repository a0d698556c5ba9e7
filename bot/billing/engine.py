"""One patient-month's facts -> codes, units, money, blockers and the next threshold.

Pure: no database, no Slack, no clock. Every number the bot shows about billing
comes from `evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from bot.billing.devices import DevicePeriod
from bot.billing.rules import DEVICE_CODES, Ladder, YearRules, rules_for
from bot.months import month_bounds

PROGRAMS = ("CCM", "PCM", "RPM", "BHI")
COUNTED_TRACKS = ("practitioner", "clinical_staff")
# Qualifying chronic conditions a program needs (cms-rules E1); RPM needs none, and BHI's
# behavioral health condition is attested by enrolling the patient in BHI.
CONDITIONS_NEEDED = {"CCM": 2, "PCM": 1}
# Programs that need an initiating visit by the billing practitioner before minutes count (E5).
VISIT_PROGRAMS = ("CCM", "PCM", "BHI")


# The small value types are NamedTuples: the report makes hundreds of thousands of them, and a
# tuple is made several times faster than a frozen dataclass (and is untracked by the GC).
class Minutes(NamedTuple):
    """Minutes of one program and track, dated (a day) or, when the caller knows dates cannot
    matter (consent held before the month, month-end date of service), undated (day=None)."""

    program: str
    track: str
    minutes: int
    day: date | None = None


class ConsentEvent(NamedTuple):
    program: str
    status: str  # granted | declined | revoked
    day: date
    # Given for the patient's billing practitioner of today? Consent is to one practitioner's
    # services: after a change of billing practitioner, an old grant no longer counts (E4).
    for_billing_practitioner: bool = True


class MonthFacts(NamedTuple):
    month: date  # any day of the month
    minutes: tuple[Minutes, ...] = ()
    consents: tuple[ConsentEvent, ...] = ()  # history up to the month's end, any order
    chronic_conditions: int = 0
    care_plan_date: date | None = None
    initiating_visit_date: date | None = None
    complex_mdm: bool = False
    enrolments: tuple[str, ...] = ("CCM",)
    # The last day this month of an RPM entry flagged as live contact (a call or video with the
    # patient or caregiver; never a voicemail or a text). 99457/99458/99470 need one on or after
    # the RPM consent.
    rpm_last_contact: date | None = None
    has_billing_practitioner: bool = True
    # RPM device periods (30 days from the start of monitoring) that end in this month: their
    # codes belong to it, dated on each period's last day (evaluate_devices).
    device_periods: tuple[DevicePeriod, ...] = ()


@dataclass(frozen=True)
class Policy:
    pool_practitioner_minutes: str = "always"  # or "below_threshold"
    cap_99437: int = 1
    date_of_service: str = "month_end"  # or "threshold_date"
    amounts: dict[int, dict[str, float]] = field(default_factory=dict)  # per-year overrides
    # Per year, the codes whose amounts came from CMS's own fee schedule file (official); any
    # other amount of a year whose built-in table is an estimate is shown as an estimate.
    official: dict[int, frozenset[str]] = field(default_factory=dict)
    # Facility rates chosen: the built-in tables hold non-facility amounts, so every amount not
    # imported for the facility setting is an estimate.
    facility: bool = False


class CodeLine(NamedTuple):
    program: str
    code: str
    units: int
    amount: float  # units x unit amount, national non-facility


class Blocker(NamedTuple):
    program: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class NextThreshold:
    program: str
    code: str
    minutes_needed: int
    minutes_counted: int = 0  # the minutes the code's family counts now (practitioner-only for 99491)

    @property
    def at(self) -> int:
        """The minutes at which the code is reached: "17 of 20 min"."""
        return self.minutes_counted + self.minutes_needed


class DeviceLine(NamedTuple):
    """One RPM device period ending in the month: its codes (dated on the period's last day), or
    why it bills nothing."""

    period: DevicePeriod
    codes: tuple[CodeLine, ...] = ()
    blocker: Blocker | None = None


class MonthResult(NamedTuple):
    month: date
    codes: tuple[CodeLine, ...]  # the minutes' codes, then the RPM device periods' codes
    blockers: tuple[Blocker, ...]
    next: tuple[NextThreshold, ...]
    date_of_service: date | None  # of the minutes' codes; a device code's is its period's last day
    minutes: dict[str, dict[str, int]]  # everything logged, by program and track
    counted: dict[str, int]  # minutes that count, by program (after gates)
    amounts_are_estimates: bool
    devices: tuple[DeviceLine, ...] = ()  # RPM device periods ending in the month

    @property
    def total(self) -> float:
        return round(sum(c.amount for c in self.codes), 2)

    def codes_for(self, program: str) -> list[CodeLine]:
        """The codes the program's minutes bill (RPM device codes are in `devices`)."""
        return [c for c in self.codes if c.program == program and c.code not in DEVICE_CODES]

    def time_codes(self) -> list[CodeLine]:
        """Every code billed for minutes, device codes left out."""
        return [c for c in self.codes if c.code not in DEVICE_CODES]

    def blockers_for(self, program: str) -> list[Blocker]:
        return [b for b in self.blockers if b.program == program]

    def hard_blockers(self, program: str | None = None) -> list[Blocker]:
        """What more minutes alone will not clear (no consent, too few conditions, ...): every
        blocker but being below the first threshold; of one program, or of all."""
        return [b for b in self.blockers if b.reason != "below_threshold" and program in (None, b.program)]

    def next_for(self, program: str) -> NextThreshold | None:
        return next((n for n in self.next if n.program == program), None)


@dataclass(frozen=True)
class _Choice:
    ladder: Ladder
    minutes: int
    lines: tuple[CodeLine, ...]

    @property
    def total(self) -> float:
        return sum(line.amount for line in self.lines)


def _consent_start(events: list[ConsentEvent], first: date, last: date) -> tuple[date | None, str | None]:
    """The day from which this month's minutes count, or a reason why none do.

    `events` are one program's consent rows, oldest first. Consent must be granted on or before
    the month's last day and not revoked before its first day; a revocation inside the month
    takes effect at the month's end (cms-rules E3).
    """
    status_before: str | None = None
    grant_during: date | None = None
    revoked = False
    for e in events:
        if e.day < first:
            status_before = e.status
        elif e.day <= last and grant_during is None and e.status == "granted":
            grant_during = e.day
        revoked = revoked or (e.status == "revoked" and e.day <= last)
    if status_before == "granted":
        return first, None
    if grant_during is not None:
        return grant_during, None
    return None, "consent_revoked" if revoked else "no_consent"


def _no_contact_detail(contact: date | None, start: date | None) -> str:
    if contact is not None and start is not None:
        return f"the last live call logged under RPM ({contact.isoformat()}) was before the RPM consent ({start.isoformat()})"
    return "no live call with the patient or caregiver logged under RPM this month (a voicemail or a text is not one)"


def _program_start(events: list[ConsentEvent]) -> date | None:
    return next((e.day for e in events if e.status == "granted"), None)


def _day(event: ConsentEvent) -> date:
    return event.day


def _subtract_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day - timedelta(days=365)


def _gates(facts: MonthFacts, program: str, events: list[ConsentEvent], first: date, last: date) -> tuple[date | None, list[Blocker]]:
    blockers: list[Blocker] = []
    if not facts.has_billing_practitioner:
        blockers.append(Blocker(program, "no_billing_practitioner", "no billing practitioner on file: set one before this month can be billed"))
    # A grant counts only for the billing practitioner it was given to; a revocation always counts.
    mixed = any(not e.for_billing_practitioner for e in events)
    current = [e for e in events if e.for_billing_practitioner or e.status != "granted"] if mixed else events
    start, reason = _consent_start(current, first, last)
    if reason == "no_consent" and mixed and any(e.status == "granted" and not e.for_billing_practitioner for e in events):
        reason = "consent_other_practitioner"
    if reason == "no_consent":
        blockers.append(Blocker(program, reason, f"no {program} consent on file by {last:%b} {last.day}"))
    elif reason == "consent_revoked":
        blockers.append(Blocker(program, reason, f"{program} consent was revoked before {first:%B}"))
    elif reason == "consent_other_practitioner":
        blockers.append(Blocker(program, reason, f"{program} consent was given for another billing practitioner: record new consent"))
    if program == "RPM":
        return start, blockers
    needed = CONDITIONS_NEEDED.get(program, 0)
    if facts.chronic_conditions < needed:
        blockers.append(
            Blocker(program, "too_few_conditions", f"{program} needs {needed}+ qualifying chronic condition(s); {facts.chronic_conditions} on file")
        )
    if facts.care_plan_date is None or facts.care_plan_date > last:
        blockers.append(Blocker(program, "no_care_plan", f"no care plan on file by {last.isoformat()}"))
    program_start = _program_start(current) or _program_start(events) or first
    visit = facts.initiating_visit_date
    if visit is None or visit > last or visit < _subtract_year(program_start):
        blockers.append(
            Blocker(
                program,
                "no_initiating_visit",
                "no initiating visit on file" if visit is None else f"initiating visit {visit.isoformat()} is outside the allowed window",
            )
        )
    elif start is not None and visit > start:
        start = visit  # minutes before the initiating visit do not count
    return start, blockers


def _counted(facts: MonthFacts, program: str, start: date | None, first: date) -> dict[str, list[Minutes]]:
    """Minutes of the program that count: clinical tracks only, on or after the consent start."""
    out: dict[str, list[Minutes]] = {track: [] for track in COUNTED_TRACKS}
    if start is None:
        return out
    for m in facts.minutes:
        if m.program != program or m.track not in out:
            continue
        if m.day is None:
            if start > first:
                raise ValueError("undated minutes cannot be gated by a consent that starts inside the month")
        elif m.day < start:
            continue
        out[m.track].append(m)
    return out


def _amount(rules: YearRules, policy: Policy, code: str) -> float:
    return policy.amounts.get(rules.year, {}).get(code, rules.amounts[code])


def _cap(ladder: Ladder, policy: Policy) -> int | None:
    return policy.cap_99437 if ladder.addon == "99437" else ladder.addon_cap


def _ladder_minutes(ladder: Ladder, pools: dict[str, list[Minutes]], policy: Policy) -> list[Minutes]:
    """The minutes a ladder may count. Practitioner minutes count toward the staff ladders too
    (cms-rules T1), unless the policy forbids it once they reach 30 by themselves (U4)."""
    if ladder.tracks == ("practitioner",):
        return pools["practitioner"]
    practitioner = pools["practitioner"]
    if policy.pool_practitioner_minutes == "below_threshold" and sum(m.minutes for m in practitioner) >= 30:
        practitioner = []
    return pools["clinical_staff"] + practitioner


def _choices(rules: YearRules, policy: Policy, ladders: tuple[Ladder, ...], practitioner: int, staff: int, complex_mdm: bool) -> list[_Choice]:
    """Each ladder's codes for the program's countable minutes by track (the same sums as
    _ladder_minutes, taken once per program instead of once per ladder)."""
    out = []
    pooled = 0 if policy.pool_practitioner_minutes == "below_threshold" and practitioner >= 30 else practitioner
    for ladder in ladders:
        if ladder.needs_complex_mdm and not complex_mdm:
            continue
        minutes = practitioner if ladder.tracks == ("practitioner",) else staff + pooled
        base, addons = ladder.units(minutes, _cap(ladder, policy))
        lines: tuple[CodeLine, ...] = ()
        if base:
            lines = (CodeLine(ladder.program, ladder.base, 1, _amount(rules, policy, ladder.base)),)
            if addons:
                assert ladder.addon is not None
                lines += (CodeLine(ladder.program, ladder.addon, addons, round(addons * _amount(rules, policy, ladder.addon), 2)),)
        out.append(_Choice(ladder, minutes, lines))
    return out


def _complex_choice(choices: list[_Choice]) -> _Choice | None:
    return next((c for c in choices if c.ladder.needs_complex_mdm), None)


def _best(choices: list[_Choice]) -> _Choice | None:
    billable = [c for c in choices if c.lines]
    # The compliant choice that pays most; ties go to the earlier (simpler) family.
    return max(billable, key=lambda c: c.total) if billable else None


def _next(rules: YearRules, choices: list[_Choice], best: _Choice | None, policy: Policy) -> NextThreshold | None:
    if best is not None:
        step = best.ladder.next_step(best.minutes, _cap(best.ladder, policy))
        if step:
            return NextThreshold(best.ladder.program, step[0], step[1], best.minutes)
        # The best family has nothing further (99470 covers 10-19 minutes): another family's
        # base code may still pay more, as 99457 does at 20 minutes.
        choices = [c for c in choices if c is not best and _amount(rules, policy, c.ladder.base) > best.total]
    steps = [(c, c.ladder.next_step(c.minutes, _cap(c.ladder, policy))) for c in choices]
    reachable = [(choice, s) for choice, s in steps if s is not None]
    if not reachable:
        return None
    choice, (code, needed) = min(reachable, key=lambda item: item[1][1])
    return NextThreshold(choice.ladder.program, code, needed, choice.minutes)


def _threshold_day(choice: _Choice, pools: dict[str, list[Minutes]], policy: Policy) -> date | None:
    """The day the chosen family's base threshold was reached (cms-rules D1)."""
    dated = sorted(_ladder_minutes(choice.ladder, pools, policy), key=lambda m: m.day or date.max)
    running = 0
    for m in dated:
        running += m.minutes
        if running >= choice.ladder.base_minutes:
            return m.day
    return None


@lru_cache(maxsize=64)
def _month_context(month: date) -> tuple[date, date, YearRules, dict[str, tuple[Ladder, ...]]]:
    """A month's bounds, rules and ladders: the same for every patient of a report, so worked out once."""
    first, last = month_bounds(month)
    rules = rules_for(first.year)
    return first, last, rules, {"CCM": rules.ccm, "PCM": rules.pcm, "RPM": rules.rpm, "BHI": rules.bhi}


def evaluate(facts: MonthFacts, policy: Policy = Policy()) -> MonthResult:
    first, last, rules, ladders = _month_context(facts.month)
    logged: dict[str, dict[str, int]] = {}
    for m in facts.minutes:
        tracks = logged.get(m.program)
        if tracks is None:
            tracks = logged[m.program] = {}
        tracks[m.track] = tracks.get(m.track, 0) + m.minutes
    programs = [p for p in PROGRAMS if p in facts.enrolments or p in logged]
    blockers: list[Blocker] = []
    results: dict[str, tuple[_Choice | None, list[_Choice], dict[str, list[Minutes]]]] = {}
    counted: dict[str, int] = {}
    events: dict[str, list[ConsentEvent]] = {}
    for event in sorted(facts.consents, key=_day) if len(facts.consents) > 1 else facts.consents:
        events.setdefault(event.program, []).append(event)
    for program in programs:
        start, gate_blockers = _gates(facts, program, events.get(program, []), first, last)
        pools = _counted(facts, program, start, first)
        practitioner = sum(m.minutes for m in pools["practitioner"])
        staff = sum(m.minutes for m in pools["clinical_staff"])
        counted[program] = practitioner + staff
        choices = _choices(rules, policy, ladders[program], practitioner, staff, facts.complex_mdm)
        complex_month = _complex_choice(choices) if facts.complex_mdm else None
        if complex_month is not None and complex_month.lines:
            # A month marked complex bills the complex ladder once it reaches 99487's 60 minutes;
            # below that, the month may still bill 99490 or 99491 (the CCM families exclude
            # each other, so only one is ever billed).
            choices = [complex_month]
        best = _best(choices)
        if program == "RPM" and (facts.rpm_last_contact is None or start is None or facts.rpm_last_contact < start):
            gate_blockers.append(Blocker("RPM", "no_interactive_communication", _no_contact_detail(facts.rpm_last_contact, start)))
        if program in ("CCM", "PCM") and "APCM" in facts.enrolments:
            gate_blockers.append(Blocker(program, "program_conflict", f"{program} is bundled into APCM for this patient"))
        if best is None:
            gate_blockers.append(Blocker(program, "below_threshold", f"{counted[program]} countable minutes, below the first threshold"))
        blockers += gate_blockers
        eligible = not [b for b in gate_blockers if b.reason != "below_threshold"]
        results[program] = (best if eligible else None, choices, pools)
    # CCM and PCM for the same billing practitioner in one month: keep the better, block the other (cms-rules P6).
    ccm, pcm = results.get("CCM", (None,))[0], results.get("PCM", (None,))[0]
    if ccm is not None and pcm is not None:
        loser = "PCM" if ccm.total >= pcm.total else "CCM"
        winner = "CCM" if loser == "PCM" else "PCM"
        blockers.append(Blocker(loser, "program_conflict", f"not billable with {winner} in the same month; {winner} pays more"))
        results[loser] = (None, results[loser][1], results[loser][2])
    codes: list[CodeLine] = []
    nexts: list[NextThreshold] = []
    dos: date | None = None
    for program in programs:
        best, choices, pools = results[program]
        if best is not None:
            codes += best.lines
            if policy.date_of_service == "threshold_date":
                day = _threshold_day(best, pools, policy)
                dos = max(dos, day) if dos and day else (day or dos)
        complex_month = _complex_choice(choices) if facts.complex_mdm else None
        if complex_month is not None and not complex_month.lines and best is not None and best.total < _amount(rules, policy, "99487"):
            # A month marked complex that bills 99490 already aims at 99487 (60 minutes); below
            # 20 minutes the nearest money is 99490, and the replies add the complex aim.
            step = _next(rules, [complex_month], None, policy)
        else:
            step = _next(rules, choices, best, policy)
        if step is not None:
            nexts.append(step)
    if codes and (policy.date_of_service == "month_end" or dos is None):
        dos = last
    devices = evaluate_devices(facts.device_periods, has_billing_practitioner=facts.has_billing_practitioner, policy=policy) if facts.device_periods else ()
    billed = codes + [c for line in devices for c in line.codes]
    return MonthResult(
        month=first,
        codes=tuple(billed),
        blockers=tuple(blockers),
        next=tuple(nexts),
        date_of_service=dos if codes else None,
        minutes=logged,
        counted=counted,
        amounts_are_estimates=_estimated(rules, policy, billed),
        devices=devices,
    )


def evaluate_devices(periods: Iterable[DevicePeriod], *, has_billing_practitioner: bool = True, policy: Policy = Policy()) -> tuple[DeviceLine, ...]:
    """RPM device periods -> their codes: one supply code a period, the rung of its year's ladder
    its data days fall in (2025: 99454 from 16 days; 2026: 99445 for 2-15, 99454 for 16-30),
    whatever the number of devices, plus 99453 with the episode's first period that has enough
    data days. The year is that of the period's last day, its date of service. Data days count
    only on days with RPM consent on file (bot.billing.devices), and nothing is billed without a
    billing practitioner. Management minutes are evaluated apart, on the calendar month."""
    out: list[DeviceLine] = []
    for period in periods:
        rules = rules_for(period.end.year)
        ladder = rules.devices
        if not has_billing_practitioner:
            out.append(DeviceLine(period, (), Blocker("RPM", "no_billing_practitioner", "no billing practitioner on file: set one before this period can be billed")))
            continue
        rung = ladder.rung(period.data_days)
        if rung is None:
            first = ladder.supply[0]
            if period.uncounted_days and period.data_days + period.uncounted_days >= first.min_days:
                reason = "no_consent"
                detail = f"{period.uncounted_days} day(s) with readings had no RPM consent on file; {period.data_days} count, {first.min_days} needed for {first.code}"
            else:
                reason, detail = "too_few_data_days", f"{period.data_days} data day(s), {first.min_days} needed for {first.code}"
            out.append(DeviceLine(period, (), Blocker("RPM", reason, detail)))
            continue
        lines: tuple[CodeLine, ...] = (CodeLine("RPM", rung.code, 1, _amount(rules, policy, rung.code)),)
        if period.includes_setup:
            lines += (CodeLine("RPM", ladder.setup, 1, _amount(rules, policy, ladder.setup)),)
        out.append(DeviceLine(period, lines))
    return tuple(out)


def _estimated(rules: YearRules, policy: Policy, codes: list[CodeLine]) -> bool:
    """Whether some amount shown is an estimate: the year's built-in table is one, and a code
    (billed, or when nothing is, any) has no official amount from an imported fee schedule."""
    if not rules.amounts_are_estimates and not policy.facility:
        return False
    official = policy.official.get(rules.year, frozenset())
    if not codes:
        return not official
    return any(line.code not in official for line in codes)


def first_code_minutes(year: int) -> dict[str, int]:
    """Per program, the countable minutes at which some code is always reached, whatever the
    split between practitioner and clinical staff: the largest base threshold of its ladders
    (complex CCM aside, which only adds a ladder). Below it a patient may still bill nothing;
    the questions use it to pick candidates in SQL before the engine decides."""
    rules = rules_for(year)
    ladders = {"CCM": rules.ccm, "PCM": rules.pcm, "RPM": rules.rpm, "BHI": rules.bhi}
    return {program: max(ladder.base_minutes for ladder in group if not ladder.needs_complex_mdm) for program, group in ladders.items()}


def code_amount(month: date, code: str, policy: Policy = Policy()) -> float:
    """The estimated national payment of one unit of a code in the month's service year."""
    return _amount(rules_for(month.year), policy, code)


def with_minutes(facts: MonthFacts, *extra: Minutes) -> MonthFacts:
    """The same facts with more minutes (for "what if" questions and property tests)."""
    return facts._replace(minutes=facts.minutes + tuple(extra))
