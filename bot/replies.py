"""What the assistant says, as plain data, and the sentences it is made of.

A Reply knows no transport: the terminal prints `text`, Slack renders the
sections as blocks and puts an Undo button on `entry_ids`. Every number in a
sentence comes from a billing result (bot.billing.evaluate), never from a
second calculation here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from bot.billing import Blocker, CodeLine
from bot.billing.rules import CCM_COMPLEX
from bot.months import business_days_between
from bot.patient_month import MonthSummary, PatientMonth
from bot.worklist import ConsentGap, Need
from storage.records import ComplexMark

# Long lists are cut here, with a count of the rest: a chat reply is read, not scrolled.
LIST_LIMIT = 15


@dataclass(frozen=True)
class RunningTimer:
    """A running timer as a reply or the Home tab shows it: a door puts a Stop button on each."""

    id: int
    patient: str  # the patient's key
    activity: str
    started_at: datetime  # aware


@dataclass(frozen=True)
class Home:
    """The Home tab's content for one person."""

    name: str
    month: str
    short: tuple[str, ...]  # their patients still short of a threshold, one progress line each
    short_more: int
    today: tuple[str, ...]  # what they logged today
    today_minutes: int
    patients: int
    consented: int
    short_total: int  # consented, eligible patients of the practice still short of a first code
    close: int  # of those, within CLOSE_MINUTES of a code
    timers: tuple[RunningTimer, ...] = ()  # their running timers, oldest first
    timer_lines: tuple[str, ...] = ()  # the same in words ("patient 123: patient outreach, since 10:02 AM (14 min)")

# What each billing blocker is called in a reply.
REASON_WORDS = {
    "no_consent": "no consent on file",
    "consent_revoked": "consent revoked",
    "too_few_conditions": "too few qualifying chronic conditions",
    "no_care_plan": "no care plan on file",
    "no_initiating_visit": "no initiating visit in the allowed window",
    "below_threshold": "below the first threshold",
    "program_conflict": "billed under another program this month",
    "no_interactive_communication": "no live call logged under RPM on or after its consent",
    "no_billing_practitioner": "no billing practitioner on file",
    "consent_other_practitioner": "consent was given for another billing practitioner",
}

# What each activity is called in a reply (the stored names are the keys).
ACTIVITY_WORDS = {
    "medication_review": "medication review",
    "lab_review": "lab review",
    "patient_outreach": "patient outreach",
    "portal_message": "portal message",
    "care_plan": "care plan",
    "care_coordination": "care coordination",
    "caregiver_communication": "caregiver communication",
    "community_resources": "community resources",
    "transition_of_care": "transition of care",
    "device_data_review": "device data review",
    "other": "other care management",
}


@dataclass(frozen=True)
class Section:
    title: str | None
    lines: tuple[str, ...] = ()


class ReplyKind(StrEnum):
    """What a reply is; the doors ask its properties instead of comparing names."""

    LOGGED = "logged"
    EDITED = "edited"
    UNDO = "undo"
    STATUS = "status"
    DUE = "due"
    MY_TIME = "my_time"
    CONSENT = "consent"
    COMPLEX = "complex"  # a patient-month marked complex CCM, or unmarked
    RPM = "rpm"  # an RPM episode started or stopped, or who is short of data days
    TIMER = "timer"  # a timer started, listed, cancelled, or stopped without an entry
    CORRECTED = "corrected"  # one entry replaced or deleted by a correction (bot/corrections.py)
    NO_CONSENT = "no_consent"
    MONTH = "month"
    REPORT = "report"
    HELP = "help"
    HINT = "hint"
    ERROR = "error"
    REFUSED = "refused"
    UNKNOWN_USER = "unknown_user"
    SILENT = "silent"
    # Reminders
    DIGEST = "digest"
    NUDGE = "nudge"
    FINAL_CALL = "final_call"
    CONSENT_GAPS = "consent_gaps"
    SUMMARY = "summary"

    @property
    def is_refusal(self) -> bool:
        """Nothing was done: the sender must say it again differently (a CLI exits 2)."""
        return self in (ReplyKind.ERROR, ReplyKind.REFUSED, ReplyKind.UNKNOWN_USER, ReplyKind.HINT)

    @property
    def confirms_entries(self) -> bool:
        """It confirms stored entries: it carries their Undo button."""
        return self in (ReplyKind.LOGGED, ReplyKind.EDITED)

    @property
    def private_in_channel(self) -> bool:
        """Said in a channel, only the sender sees it (confirmations name patients; errors are theirs)."""
        # A complex mark carries its clinical reason: only the person who said it sees it in a channel.
        # A timer is the person's own, and its Stop button only works for them.
        return self in (ReplyKind.LOGGED, ReplyKind.ERROR, ReplyKind.UNKNOWN_USER, ReplyKind.REFUSED, ReplyKind.COMPLEX, ReplyKind.TIMER, ReplyKind.CORRECTED)


@dataclass(frozen=True)
class AddMe:
    """The "add me to the roster" hint for someone not on it, kept as data so a door that knows the
    person's name (Slack) can put it in the command instead of a placeholder."""

    slack_id: str
    ask: str  # who to ask: "Dr. Okafor or Dana Whitfield"

    def sentence(self, name: str = "Your Name") -> str:
        return (
            "You're not on the care team's staff roster yet, so I can't log time or show patients for you. "
            f'Ask {self.ask} to add you (`ccmbot staff add "{name}" --role rn --slack-id {self.slack_id}`).'
        )


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    sections: tuple[Section, ...] = ()
    entry_ids: tuple[int, ...] = ()  # the entries this reply confirms: an Undo button voids exactly these
    duplicate: bool = False  # the same message again (a retry): it was answered the first time
    add_me: AddMe | None = None  # for ReplyKind.UNKNOWN_USER: how to be added to the roster
    file: tuple[str, str] | None = None  # (file name, CSV text) the door delivers privately with the reply
    timers: tuple[RunningTimer, ...] = ()  # running timers the reply names: a door puts a Stop button on each
    entry_rows: tuple[tuple[int, str], ...] = ()  # (entry id, its line): a door puts Edit and Delete on each

    @property
    def silent(self) -> bool:
        return not self.sections

    @property
    def text(self) -> str:
        out: list[str] = []
        for section in self.sections:
            if section.title:
                out.append(section.title)
            out.extend(section.lines)
        return "\n".join(out)


SILENT = Reply(ReplyKind.SILENT)


def not_on_roster(add_me: AddMe, name: str = "Your Name") -> Reply:
    return Reply(ReplyKind.UNKNOWN_USER, (Section(None, (add_me.sentence(name),)),), add_me=add_me)


def with_unread(reply: Reply, unread: Sequence[str]) -> Reply:
    """The answer, opened by the words of the question it did not use: never dropped silently."""
    if not unread or reply.kind.is_refusal:
        return reply
    words = list(dict.fromkeys(unread))
    that, it = ("that", "it") if len(words) == 1 else ("those words", "them")
    quoted = ", ".join(f'"{w}"' for w in words)
    note = f"I did not use {quoted}: I have no filter for {that}, so this answer is not narrowed by {it}."
    return replace(reply, sections=(Section(note), *reply.sections))


def say(kind: ReplyKind, title: str | None, *lines: str, entry_ids: tuple[int, ...] = (), duplicate: bool = False) -> Reply:
    return Reply(kind, (Section(title, tuple(lines)),), entry_ids=entry_ids, duplicate=duplicate)


def day_words(day: date, today: date | None = None) -> str:
    """ "Tue Nov 3"; with the year when it is not today's year, so a back-dated entry cannot hide one."""
    if today is not None and day.year != today.year:
        return f"{day:%a %b} {day.day}, {day.year}"
    return f"{day:%a %b} {day.day}"


def month_words(first: date, today: date) -> str:
    return f"{first:%B}" if first.year == today.year else f"{first:%B %Y}"


def activity_words(activity: str) -> str:
    return ACTIVITY_WORDS.get(activity, activity.replace("_", " "))


def codes_words(codes: list[CodeLine] | tuple[CodeLine, ...]) -> str:
    return " + ".join(c.code + (f" x{c.units}" if c.units > 1 else "") for c in codes)


def amounts_words(estimated: bool) -> str:
    """How sure a dollar amount is, in every reply that shows one: "(estimated)" when it comes from
    the built-in national estimates, "(official)" when from CMS's fee schedule."""
    return "(estimated)" if estimated else "(official)"


# The complex CCM ladder in words, from the rules: "99487 at 60 min, +99489 per further 30 min".
COMPLEX_LADDER = f"{CCM_COMPLEX.base} at {CCM_COMPLEX.base_minutes} min, +{CCM_COMPLEX.addon} per further {CCM_COMPLEX.step} min"


def complex_words(mark: ComplexMark | None) -> str:
    """ "Complex CCM (moderate/high MDM, marked by Dr. Lee: new insulin regimen) — 99487 at 60 min, ..."."""
    why = ""
    if mark is not None:
        why = f", marked by {mark.marked_by}: {mark.reason}" if mark.marked_by else f": {mark.reason}"
    return f"Complex CCM (moderate/high MDM{why}) — {COMPLEX_LADDER}"


def _complex_aim(item: PatientMonth, step_code: str | None, program: str) -> str:
    """For a month marked complex whose next step is not on the complex ladder (below 99490's 20
    minutes the engine names 99490 first): the threshold the month aims at, else nothing."""
    if program != "CCM" or not item.facts.complex_mdm or step_code in (CCM_COMPLEX.base, CCM_COMPLEX.addon):
        return ""
    if any(c.code in (CCM_COMPLEX.base, CCM_COMPLEX.addon) for c in item.result.codes):
        return ""
    return f"complex month: {CCM_COMPLEX.base} at {CCM_COMPLEX.base_minutes} min"


def blocker_words(blocker: Blocker) -> str:
    return blocker.detail


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def either(names: list[str]) -> str:
    """"A", "A or B", "A, B or C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 patient", "2 patients"; `many` for a word that does not just add an s ("entries")."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def days_left_words(today: date, deadline: date, holidays: Iterable[date]) -> str:
    """"4 days (2 business days)": from today to the deadline, both counted."""
    days = (deadline - today).days + 1
    return f"{plural(days, 'day')} ({plural(business_days_between(today, deadline, holidays), 'business day')})"


def progress_line(item: PatientMonth, program: str, today: date) -> str:
    """One patient's month in one program, as a care-team member wants it after logging:
    "Patient 123: 17 of 20 min in November, 3 to go for 99490; consent on file."."""
    r = item.result
    label = f"Patient {item.patient.key}" + ("" if program == "CCM" else f" ({program})")
    month = month_words(r.month, today)
    logged = r.minutes.get(program, {})
    hard = r.hard_blockers(program)
    if hard:
        return f"{label}: {sum(logged.values())} min in {month}, not billable: {'; '.join(blocker_words(b) for b in hard)}."
    parts = []
    step = r.next_for(program)
    if step is not None:
        parts.append(f"{step.minutes_counted} of {step.at} min in {month}, {step.minutes_needed} to go for {step.code}")
    else:
        parts.append(f"{r.counted.get(program, 0)} min in {month}")
    reached = r.codes_for(program)  # the minutes' codes: RPM device codes run on their own 30-day periods
    if reached:
        parts.append(f"{codes_words(reached)} reached" + ("" if step else ", the most this month"))
    aim = _complex_aim(item, step.code if step else None, program)
    if aim:
        parts.append(aim)
    if logged.get("non_clinical"):
        parts.append(f"{logged['non_clinical']} min by non-clinical staff don't count")
    parts.append("consent on file")
    return f"{label}: {'; '.join(parts)}."


def consent_answer(item: PatientMonth) -> str:
    """A direct answer to "is 123 consented?" for each program the patient is in or has time in."""
    answers = []
    for program in sorted(set(item.patient.programs) - {"APCM"} | set(item.result.minutes)):
        consent = item.patient.consents.get(program)
        if consent is None:
            answers.append(f"No {program} consent on file for patient {item.patient.key}.")
        elif consent.status == "granted":
            how = f" ({consent.method})" if consent.method else ""
            answers.append(f"Yes: patient {item.patient.key} gave {program} consent{how} on {consent.effective_date.isoformat()}.")
        else:
            answers.append(f"No: patient {item.patient.key}'s {program} consent was {consent.status} on {consent.effective_date.isoformat()}.")
    return " ".join(answers) or f"Patient {item.patient.key} is not enrolled in a program."


def missing_answer(item: PatientMonth) -> str:
    """A direct answer to "what's missing for 123?": what blocks billing, else the minutes still needed."""
    r = item.result
    hard = r.hard_blockers()
    if hard:
        return "Blocking billing: " + "; ".join(f"{b.program}: {blocker_words(b)}" for b in hard) + "."
    if r.next and not r.codes:
        return "Only minutes: " + "; ".join(f"{n.minutes_needed} more min for {n.code}" for n in r.next) + "."
    if r.codes:
        return f"Nothing: {codes_words(r.codes)} billable this month."
    return "Nothing blocks billing, but no time is logged yet."


def need_line(need: Need) -> str:
    """"• 123: 3 min to 99490 (17 of 20)"."""
    step = need.step
    program = "" if step.program == "CCM" else f" {step.program}"
    aim = _complex_aim(need.item, step.code, step.program)
    return f"• {need.key}{program}: {step.minutes_needed} min to {step.code} ({step.minutes_counted} of {step.at})" + (f"; {aim}" if aim else "")


def gap_line(gap: ConsentGap) -> str:
    why = "consent revoked" if gap.revoked else "no consent on file"
    return f"• {gap.key} ({gap.program}): {gap.minutes} min logged, {why}"


def summary_words(month: date, summary: MonthSummary) -> str:
    """ "November 2026: 12 billable patients of 40, $1,234.56 (estimated)": one sentence for every door."""
    estimate = " (estimated)" if summary.estimated else ""
    return f"{month:%B %Y}: {plural(summary.billable, 'billable patient')} of {summary.patients}, ${summary.total:,.2f}{estimate}"


def codes_count_words(summary: MonthSummary) -> str:
    return ", ".join(f"{code} x{units}" for code, units in summary.codes) or "none"


HELP_LINES = (
    "Log time: \"15 min med review for pt 123\", \"pt 456: 1h15m care plan yesterday\", several lines in one message.",
    "Undo: \"undo\" takes back your last message's entries.",
    "Correct an entry: \"change my last entry to 25 min\", \"that was pt 124 not 123\", \"move my 15 min for pt 123 to yesterday\", \"delete my 10 min for pt 456 today\"; \"my entries today\" numbers them (\"delete entry 14\"). Admins may correct anyone's.",
    "Timers: \"start pt 123 call\" starts one, \"stop\" (or \"stop 123\") logs the whole minutes, \"cancel timer\" drops it, \"timers\" lists yours.",
    "A patient: \"status 123\", \"status 123 for October\", \"is 123 consented?\", \"what's missing for 123?\"",
    "Who needs time: \"who still needs time this month?\", \"who's close?\", \"who's within 5 min for Dr. Okafor?\", \"who needs time before the 30th?\"",
    "Who has no time yet: \"who has no time yet?\"",
    "Blocked and why: \"which patients are blocked and why?\", \"who needs a care plan?\", \"who has no consent?\"",
    "Codes reached: \"how many patients reached 99490?\"",
    "What we bill: \"what will we bill this month?\"; \"who fell short last month?\"",
    "Staff time: \"my time today\", \"what did Maria log this week?\" (admins and practitioners), \"minutes by staff this month\"",
    "Filters: a month (\"in October\", \"last month\", \"2026-10\"), a practitioner (\"for Dr. Okafor\", \"my patients\"), a program (CCM, PCM, RPM).",
    "Consent (practitioners and admins): \"consent 123 verbal today\", \"consent 123 written 11/2\", \"consent 123 declined\"",
    "Complex CCM, moderate or high complexity decision making that month (practitioners and admins): "
    "\"complex 123 for October: new insulin regimen, 3 specialists\", \"not complex 123\"",
    "Admins: \"send me the report for October\" (the file comes in your DM), \"close 2026-10\", \"reopen 2026-10\"",
    "RPM devices (clinical staff and practitioners): \"RPM set up for pt 123 today\", \"rpm start 123\", \"rpm stop 123\"; "
    "\"who is short of data days?\"",
)

HINT = (
    "I didn't understand that. Log time like \"15 min med review for pt 123\", or ask \"status 123\", "
    "\"who still needs time?\" or \"my time today\". Say \"help\" for everything I understand."
)


def hint(seen: Sequence[str] = ()) -> str:
    """ "I didn't understand", saying what was read when anything was ("I read 20 minutes but no patient")."""
    if not seen:
        return HINT
    missing = [what for what, word in (("minutes", "minute"), ("patient", "patient ")) if not any(word in piece for piece in seen)]
    read = " and ".join(seen)
    lack = f" but no {' or '.join(missing)}" if missing else ", but not as time to log or a question"
    return HINT.replace("I didn't understand that.", f"I didn't understand that: I read {read}{lack}.")
