"""The answers to coordinators' and billers' questions: who needs time, who has none yet, who is
blocked and why, who reached a code, what the practice will bill, who fell short, and whose time.

Each answer reads the billing engine's results for the month the question names (a past month
is evaluated as of its own end: consent then, minutes then) and says what it answered: the
month, and the practitioner or program when the question filtered by one. A filter the grammar
could not read is never dropped silently: the answer names the words it did not use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.billing import Policy, code_amount
from bot.config import Settings
from bot.devices import DeviceStatus, short_of_data_days
from bot.devices import need_line as data_days_line
from bot.evaluation import device_statuses, month_results, short_candidates, with_time_candidates
from bot.intents import Intent, IntentName, Slots, asked_month, period_bounds
from bot.kept import basis, blockers_of, code_units, refresh, summary_of
from bot.months import month_bounds
from bot.patient_month import PatientMonth
from bot.replies import (
    LIST_LIMIT,
    REASON_WORDS,
    Reply,
    ReplyKind,
    activity_words,
    codes_count_words,
    day_words,
    days_left_words,
    either,
    gap_line,
    month_words,
    need_line,
    ordinal,
    plural,
    say,
    summary_words,
)
from bot.worklist import ConsentGap, needs_time
from storage.kept_results import BILLABLE, BLOCKED, KeptRow, code_billed, kept_rows
from storage.models import Patient, Staff, Track
from storage.queries import PatientScope, minutes_by_staff, patients_of, staff_entries, staff_time_totals
from storage.roster import staff_named


@dataclass(frozen=True)
class Scope:
    """The month and filters a list answer covers, resolved against the roster."""

    month: date  # first day
    practitioner: Staff | None
    mine: set[int] | None  # "my patients" for a staff member who is not a practitioner
    program: str | None
    words: str  # ", Dr. Okafor's patients, CCM" ("" when unfiltered)

    def keeps(self, item: PatientMonth) -> bool:
        if self.practitioner is not None and item.patient.billing_practitioner_id != self.practitioner.id:
            return False
        return self.mine is None or item.patient.patient_id in self.mine


class Questions:
    """Answers for one asker; the assistant makes one per question inside its unit of work."""

    def __init__(self, s: Session, staff: Staff, today: date, policy: Policy, settings: Settings) -> None:
        self.s, self.staff, self.today, self.policy, self.settings = s, staff, today, policy, settings

    def answer(self, intent: Intent) -> Reply:
        handlers: dict[IntentName, Callable[[Slots], Reply]] = {
            IntentName.NEEDS_TIME: self.needs_time,
            IntentName.NO_TIME_YET: self.no_time_yet,
            IntentName.BLOCKED: self.blocked,
            IntentName.REACHED: self.reached,
            IntentName.BILLING: self.billing,
            IntentName.FELL_SHORT: self.fell_short,
            IntentName.STAFF_TIME: self.staff_time,
            IntentName.STAFF_MINUTES: self.staff_minutes,
            IntentName.DATA_DAYS: self.data_days,
        }
        return handlers[intent.name](intent.slots)

    # --- scope -------------------------------------------------------------------------------

    def scope(self, slots: Slots) -> Scope | Reply:
        try:
            month = asked_month(slots.month, self.today)
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f'{exc} Say a month like "this month", "last month", "October" or "2026-10".')
        words = []
        practitioner, mine = None, None
        if slots.practitioner == "me":
            if self.staff.track == Track.practitioner:
                practitioner = self.staff
                words.append("your patients")
            else:
                mine = patients_of(self.s, self.staff.id, *month_bounds(month))
                words.append("patients you work with")
        elif slots.practitioner:
            found = self._one_person(slots.practitioner, practitioners=True)
            if isinstance(found, Reply):
                return found
            practitioner = found
            words.append(f"{found.name}'s patients")
        if slots.program:
            words.append(slots.program)
        return Scope(month, practitioner, mine, slots.program, "".join(f", {w}" for w in words))

    def _one_person(self, name: str, *, practitioners: bool) -> Staff | Reply:
        matches = [m for m in staff_named(self.s, name) if not practitioners or m.track == Track.practitioner]
        what = "practitioner" if practitioners else "staff member"
        if not matches:
            return say(
                ReplyKind.ERROR,
                None,
                f"No one called {name} is on the roster as a {what}, so I did not answer for everyone instead. Check the name, or ask without it.",
            )
        if len(matches) > 1:
            return say(ReplyKind.ERROR, None, f"{name} could be {either([m.name for m in matches])}; say the full name.")
        return matches[0]

    def items(self, scope: Scope, among: Callable[[date, Policy], PatientScope] | None = None) -> list[PatientMonth]:
        """The month's results for the scope; `among` picks the family's candidates in SQL first
        (a superset of the patients it can name), so the engine evaluates only those."""
        return [i for i in month_results(self.s, scope.month, self.policy, scope=self._candidates(scope, among)) if scope.keeps(i)]

    def kept(self, scope: Scope, *where: ColumnElement[bool], among: Callable[[date, Policy], PatientScope] | None = None, through: date | None = None) -> list[KeptRow]:
        """The kept results (bot.kept) of the scope's patients that match `where`, in key order:
        the patients whose data changed since their row was kept are evaluated first, so the
        rows are the engine's answer on today's data. For the questions that total or list the
        whole practice (codes reached, what it bills, who is blocked)."""
        candidates = self._candidates(scope, among)
        first, last = month_bounds(scope.month)
        through = min(through or last, last)
        refresh(self.s, first, self.policy, through=through, scope=candidates)
        rows = kept_rows(self.s, first, through, basis(self.policy), where, candidates)
        return [r for r in rows if scope.mine is None or r.patient_id in scope.mine]

    def _candidates(self, scope: Scope, among: Callable[[date, Policy], PatientScope] | None) -> PatientScope:
        candidates = among(scope.month, self.policy) if among is not None else None
        if scope.practitioner is not None:
            candidates = (candidates if candidates is not None else select(Patient.id)).where(Patient.billing_practitioner_id == scope.practitioner.id)
        return candidates

    def _month(self, scope: Scope) -> str:
        return month_words(scope.month, self.today) + scope.words

    # --- the families --------------------------------------------------------------------------

    def needs_time(self, slots: Slots) -> Reply:
        scope = self.scope(slots)
        if isinstance(scope, Reply):
            return scope
        first, last = month_bounds(scope.month)
        current = first == self.today.replace(day=1)
        deadline = last
        if slots.before_day is not None:
            if not current or not self.today.day <= slots.before_day <= last.day:
                return say(
                    ReplyKind.ERROR,
                    None,
                    f'The {ordinal(slots.before_day)} is not ahead of us in {self.today:%B}; ask "who needs time before the 30th?" '
                    f"with a day from {self.today.day} to {month_bounds(self.today)[1].day}.",
                )
            deadline = self.today.replace(day=slots.before_day)
        needs = [n for n in needs_time(self.items(scope, short_candidates), self.policy) if scope.program in (None, n.step.program)]
        if slots.within is not None:
            needs = [n for n in needs if n.minutes_needed <= slots.within]
        if current:
            until = f"the end of {self.today:%B}" if deadline == last else f"the {ordinal(deadline.day)}"
            left = f"{days_left_words(self.today, deadline, self.settings.holidays)} left until {until}, today included"
        else:
            left = f"{first:%B %Y} is over"
        window = f" within {slots.within} min of a code" if slots.within is not None else ""
        if not needs:
            what = window.strip() or "short of a threshold"
            return say(ReplyKind.DUE, f"No consented, eligible patient is {what} in {self._month(scope)}.", left + ".")
        noun = "patients need" if len(needs) != 1 else "patient needs"
        title = f"{len(needs)} {noun} time{window} in {self._month(scope)}, closest first; {left}:"
        return say(ReplyKind.DUE, title, *_cut([need_line(n) for n in needs]))

    def no_time_yet(self, slots: Slots) -> Reply:
        scope = self.scope(slots)
        if isinstance(scope, Reply):
            return scope
        rows = []
        for item in self.items(scope, short_candidates):
            for program in item.patient.programs:
                if program == "APCM" or scope.program not in (None, program) or item.result.minutes.get(program):
                    continue
                if item.result.hard_blockers(program):
                    continue  # not consented or not eligible: minutes would not make it billable
                rows.append(f"• {item.patient.key}" + ("" if program == "CCM" else f" ({program})"))
        if not rows:
            return say(ReplyKind.DUE, f"Every consented, eligible patient has time in {self._month(scope)}.")
        title = f"{plural(len(rows), 'consented, eligible patient')} with no time yet in {self._month(scope)}:"
        return say(ReplyKind.DUE, title, *_cut(rows))

    def blocked(self, slots: Slots) -> Reply:
        scope = self.scope(slots)
        if isinstance(scope, Reply):
            return scope
        rows = self.kept(scope, BLOCKED)
        if slots.reason in ("no_consent", "consent_revoked") and scope.program is None:
            gaps = [gap_line(g) for g in _consent_gaps(rows)]
            if not gaps:
                return say(ReplyKind.NO_CONSENT, None, f"Every patient with time in {self._month(scope)} has consent on file.")
            title = f"{plural(len(gaps), 'patient')} with time in {self._month(scope)} but no consent (that time can't be billed until it is recorded):"
            return say(ReplyKind.NO_CONSENT, title, *_cut(gaps))
        by_reason: dict[str, list[str]] = {}
        blocked_keys: set[str] = set()
        for row in rows:
            for blocker in blockers_of(row):
                if scope.program not in (None, blocker.program):
                    continue
                if slots.reason not in (None, blocker.reason) and not (slots.reason == "no_consent" and blocker.reason == "consent_revoked"):
                    continue
                logged = blocker.logged
                if slots.reason is None and not logged:
                    continue  # "blocked" is about time that can't be billed; the focused forms list everyone
                program = "" if blocker.program == "CCM" else f" ({blocker.program})"
                by_reason.setdefault(blocker.reason, []).append(f"• {row.key}{program}: {logged} min logged; {blocker.detail}")
                blocked_keys.add(row.key)
        focus = f" for {REASON_WORDS.get(slots.reason, slots.reason)}" if slots.reason else ""
        if not by_reason:
            return say(ReplyKind.DUE, f"No patient is blocked{focus} in {self._month(scope)}.")
        sections: list[str] = []
        for reason, lines in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
            words = REASON_WORDS.get(reason, reason)
            sections.append(f"{words[:1].upper()}{words[1:]} ({len(lines)}):")
            sections += _cut(lines)
        title = f"{plural(len(blocked_keys), 'patient')} blocked{focus} in {self._month(scope)}, by reason:"
        return say(ReplyKind.DUE, title, *sections)

    def reached(self, slots: Slots) -> Reply:
        scope = self.scope(slots)
        if isinstance(scope, Reply):
            return scope
        code = slots.code or ""
        hits = [(row.key, units) for row in self.kept(scope, code_billed(code)) if (units := code_units(row, code, scope.program))]
        if not hits:
            return say(ReplyKind.DUE, f"No patient has reached {code} in {self._month(scope)}.")
        units = sum(u for _, u in hits)
        extra = f" ({units} units)" if units != len(hits) else ""
        rows = [f"• {key}" + (f" x{u}" if u > 1 else "") for key, u in hits]
        return say(ReplyKind.DUE, f"{plural(len(hits), 'patient')} reached {code} in {self._month(scope)}{extra}:", *_cut(rows))

    def billing(self, slots: Slots) -> Reply:
        scope = self.scope(slots)
        if isinstance(scope, Reply):
            return scope
        summary = summary_of(self.kept(scope))
        lines = [f"Codes: {codes_count_words(summary)}."]
        if scope.month == self.today.replace(day=1):
            # The same point of last month, for comparison: its minutes up to the same day, the
            # same filters. Only patients with countable time last month can have billed.
            previous = month_bounds(scope.month - timedelta(days=1))[0]
            same_day = min(self.today.day, month_bounds(previous)[1].day)
            earlier = replace(scope, month=previous)
            then = summary_of(self.kept(earlier, BILLABLE, among=with_time_candidates, through=previous.replace(day=same_day)))
            lines.append(f"By {previous:%B} {same_day} last month: {plural(then.billable, 'billable patient')}, ${then.total:,.2f}.")
            lines.append("Time logged before the month ends can still add to this.")
        return say(ReplyKind.REPORT, f"What the practice bills for {summary_words(scope.month, summary)}.", *lines)

    def fell_short(self, slots: Slots) -> Reply:
        scope = self.scope(Slots(month=slots.month or "last"))
        if isinstance(scope, Reply):
            return scope
        short: list[tuple[str, str, int, float]] = []
        for item in self.items(scope, short_candidates):
            for step in item.result.next:
                if item.result.codes_for(step.program) or item.result.hard_blockers(step.program):
                    continue  # billed something in that program, or blocked for another reason than minutes
                logged = sum(item.result.minutes.get(step.program, {}).values())
                if logged:
                    short.append((item.patient.key, step.code, step.minutes_needed, code_amount(scope.month, step.code, self.policy)))
        if not short:
            return say(ReplyKind.DUE, f"No patient with time in {self._month(scope)} fell short of a first threshold.")
        short.sort(key=lambda row: (row[2], row[0]))
        total = sum(row[3] for row in short)
        rows = [f"• {key}: {needed} min short of {code} (${amount:,.2f})" for key, code, needed, amount in short]
        title = f"{plural(len(short), 'patient')} had time in {self._month(scope)} but fell short of a first code: ${total:,.2f} left on the table (estimated):"
        return say(ReplyKind.DUE, title, *_cut(rows))

    def staff_time(self, slots: Slots) -> Reply:
        who = self.staff
        if slots.staff and slots.staff != "me":
            found = self._one_person(slots.staff, practitioners=False)
            if isinstance(found, Reply):
                return found
            if found.id != self.staff.id and not (self.staff.is_admin or self.staff.track == Track.practitioner):
                return say(ReplyKind.REFUSED, None, f"Only admins and practitioners can see a colleague's time; ask {found.name} or an admin.")
            who = found
        start, end, words = period_bounds(slots.period or "today", self.today)
        total, count, patients = staff_time_totals(self.s, who.id, start, end)
        yours = who.id == self.staff.id
        if not count:
            return say(ReplyKind.MY_TIME, None, f"You have no time logged {words}." if yours else f"{who.name} has no time logged {words}.")
        lines = []
        for e in staff_entries(self.s, who.id, start, end, limit=LIST_LIMIT * 2):
            by = "" if e.performed_by == who.name else f" (by {e.performed_by})"
            program = "" if e.program == "CCM" else f" ({e.program})"
            when = "" if start == end else f"{day_words(e.service_date)}: "
            lines.append(f"• {when}{e.minutes} min {activity_words(e.activity)}{program}, patient {e.patient_key}{by}")
        if count > LIST_LIMIT * 2:
            lines.append(f"…and {count - LIST_LIMIT * 2} more.")
        owner = "Your time" if yours else f"{who.name}'s time"
        title = f"{owner} {words}: {total} min in {plural(count, 'entry', 'entries')} for {plural(patients, 'patient')}."
        return say(ReplyKind.MY_TIME, title, *lines)

    def staff_minutes(self, slots: Slots) -> Reply:
        if not (self.staff.is_admin or self.staff.track == Track.practitioner):
            return say(ReplyKind.REFUSED, None, 'Only admins and practitioners can see everyone\'s minutes; ask "my time this month" for yours.')
        scope = self.scope(Slots(month=slots.month))
        if isinstance(scope, Reply):
            return scope
        first, last = month_bounds(scope.month)
        rows = minutes_by_staff(self.s, first, min(last, self.today))
        if not rows:
            return say(ReplyKind.MY_TIME, None, f"No time is logged in {self._month(scope)}.")
        total = sum(m for _, m, _ in rows)
        lines = [f"• {name}: {minutes} min for {plural(patients, 'patient')}" for name, minutes, patients in rows]
        return say(ReplyKind.MY_TIME, f"Minutes by staff member in {self._month(scope)}: {total} min in all.", *_cut(lines))


    def data_days(self, slots: Slots) -> Reply:
        """Who is short of RPM data days: the patients whose current 30-day period can still reach
        the next device code, closest first (device periods run from each episode's start, so the
        answer is about today's periods, never a calendar month)."""
        if slots.month not in (None, "this"):
            return say(
                ReplyKind.ERROR,
                None,
                'Data days are counted in each patient\'s current 30-day RPM period, not by calendar month; ask "who is short of data days?", '
                'or "status 123" for one patient (a past month\'s device codes are in its report).',
            )
        if slots.program not in (None, "RPM"):
            return say(ReplyKind.ERROR, None, f"Data days are about RPM devices only, not {slots.program}; ask \"who is short of data days?\".")
        scope = self.scope(Slots(practitioner=slots.practitioner))
        if isinstance(scope, Reply):
            return scope
        among = f" among{scope.words[1:]}" if scope.words else ""
        statuses = [d for d in device_statuses(self.s, self.today) if self._keeps_device(scope, d)]
        if not statuses:
            return say(ReplyKind.RPM, None, f"No RPM episode is running{among}.")
        short = short_of_data_days(statuses)
        blocked = [f"{d.key} ({d.blocked})" for d in statuses if d.blocked]
        note = [f"Not listed, more data days would not bill: {', '.join(blocked[:LIST_LIMIT])}" + (f" and {len(blocked) - LIST_LIMIT} more" if len(blocked) > LIST_LIMIT else "") + "."] if blocked else []
        running = plural(len(statuses), "RPM episode")
        if not short:
            return say(ReplyKind.RPM, f"No RPM patient{among} can still reach another device code this period ({running} running).", *note)
        title = f"{plural(len(short), 'RPM patient')}{among} can still reach the next device code in their current 30-day period, closest first:"
        return say(ReplyKind.RPM, title, *_cut([data_days_line(d, self.today) for d in short]), *note)

    def _keeps_device(self, scope: Scope, status: DeviceStatus) -> bool:
        if scope.practitioner is not None and status.episode.billing_practitioner_id != scope.practitioner.id:
            return False
        return scope.mine is None or status.episode.patient_id in scope.mine or status.episode.started_by_id == self.staff.id


def _consent_gaps(rows: list[KeptRow]) -> list[ConsentGap]:
    """Patients with time logged in the month but no consent on file for that program (as
    bot.worklist.consent_gaps reads them from the engine's results)."""
    out = []
    for row in rows:
        for blocker in sorted(blockers_of(row), key=lambda b: b.program):
            if blocker.reason in ("no_consent", "consent_revoked") and blocker.logged:
                out.append(ConsentGap(row.key, blocker.program, blocker.logged, blocker.reason == "consent_revoked"))
    return out


def _cut(lines: Sequence[str]) -> list[str]:
    """A chat answer lists LIST_LIMIT rows, then the count of the rest."""
    shown = list(lines[:LIST_LIMIT])
    if len(lines) > LIST_LIMIT:
        shown.append(f"…and {len(lines) - LIST_LIMIT} more.")
    return shown
