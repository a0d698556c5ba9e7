"""What reminders are due, what they say, and delivering each exactly once.

A reminder is due on its day from its local time until the end of that day, so a process that
starts after downtime sends today's missed reminders and never yesterday's. Before posting, a
delivery row with a unique key (kind, period, target) is claimed (storage.deliveries): a
second process, or a re-run, finds the key taken and posts nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from bot.billing import Policy
from bot.config import Settings
from bot.devices import NUDGE_DAYS, DeviceStatus, short_of_data_days
from bot.devices import need_line as data_days_line
from bot.evaluation import PolicySource, device_statuses, list_candidates, month_results
from bot.months import is_business_day, month_bounds, previous_month
from bot.observability import REMINDERS
from bot.patient_month import PatientMonth, summarize
from bot.replies import Reply, ReplyKind, Section, codes_count_words, codes_words, days_left_words, gap_line, month_words, need_line, plural, summary_words
from bot.report import as_csv, gaps_csv, needs_csv
from bot.timers import timer_reminder, timers_due
from bot.worklist import ConsentGap, Need, consent_gaps, needs_time
from storage.db import Database
from storage.deliveries import claim, delivery_key, finish, settled
from storage.months import complex_marks
from storage.queries import ids_scope, staff_patients
from storage.roster import active_slack_ids, staff_by_slack_id

log = logging.getLogger(__name__)

# How the digest groups patients by the minutes they still need.
GROUPS = ((5, "Within 5 minutes"), (10, "Within 10 minutes"), (None, "Further"))
MISSED_BY_LITTLE = 5
LIST_ALL = 40  # a channel list up to this long names every patient; a longer one goes in a CSV
PER_PRACTITIONER_MIN = 3  # at scale, at least this many closest patients per billing practitioner
NUDGE_LIMIT = 15  # a person's nudge names their closest patients, not hundreds
SUMMARY_LIST = 100  # patients listed in the summary message; the CSV has them all


@dataclass(frozen=True)
class Post:
    channel: str  # a channel id, or a user id for a DM
    reply: Reply
    log_button: bool = False  # a "Log time" button under the message
    file: tuple[str, str] | None = None  # (file name, content) attached after the message


@dataclass(frozen=True)
class Due:
    kind: str
    period: str
    target: str
    at: time

    @property
    def key(self) -> str:
        return delivery_key(self.kind, self.period, self.target)


@dataclass
class Outcome:
    due: Due
    status: str  # sent | empty | failed | taken (another process has it, or it went out before)
    posts: list[Post] = field(default_factory=list)


class Snapshot:
    """One run's reads, shared by every reminder composed in the run: the nudges alone would
    otherwise read the month once per staff member. Each list reads only its candidates (see
    storage.candidates); only the month summary evaluates every patient."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._items: dict[date, list[PatientMonth]] = {}
        self._needs: dict[date, list[Need]] = {}
        self._gaps: dict[date, list[ConsentGap]] = {}
        self._candidates: dict[date, list[PatientMonth]] = {}
        self._owners: dict[tuple[date, int], dict[int, set[int]]] = {}
        self._devices: dict[date, tuple[list[DeviceStatus], dict[int, set[int]]]] = {}

    def items(self, s: Session, day: date) -> list[PatientMonth]:
        first = month_bounds(day)[0]
        if first not in self._items:
            self._items[first] = month_results(s, first, self.policy)
        return self._items[first]

    def needs(self, s: Session, day: date) -> list[Need]:
        first = month_bounds(day)[0]
        if first not in self._needs:
            self._needs[first] = needs_time(self._lists(s, first), self.policy)
        return self._needs[first]

    def gaps(self, s: Session, day: date) -> list[ConsentGap]:
        first = month_bounds(day)[0]
        if first not in self._gaps:
            self._gaps[first] = consent_gaps(self._lists(s, first))
        return self._gaps[first]

    def _lists(self, s: Session, first: date) -> list[PatientMonth]:
        """The results every list of the month reads: the whole month if the run has it, else
        only the patients some list could name, evaluated once for all of them."""
        if first in self._items:
            return self._items[first]
        if first not in self._candidates:
            self._candidates[first] = month_results(s, first, self.policy, scope=list_candidates(first, self.policy))
        return self._candidates[first]

    def devices(self, s: Session, day: date) -> tuple[list[DeviceStatus], dict[int, set[int]]]:
        """RPM patients whose 30-day period ends within NUDGE_DAYS and can still reach the next
        device code, closest first, and per staff member which of them are theirs (time logged
        this month, billing practitioner, or who started the episode): a few reads for all."""
        if day not in self._devices:
            short = short_of_data_days(device_statuses(s, day), ending_within=NUDGE_DAYS, today=day)
            owners: dict[int, set[int]] = {}
            if short:
                first, last = month_bounds(day)
                owners = staff_patients(s, first, last, ids_scope(s, sorted({d.episode.patient_id for d in short})))
                for d in short:
                    if d.episode.started_by_id is not None:
                        owners.setdefault(d.episode.started_by_id, set()).add(d.episode.patient_id)
            self._devices[day] = (short, owners)
        return self._devices[day]

    def owners(self, s: Session, day: date, within: int) -> dict[int, set[int]]:
        """Per staff member, their patients among those within `within` minutes of a code: one read."""
        first, last = month_bounds(day)
        if (first, within) not in self._owners:
            close = sorted({n.item.patient.patient_id for n in self.needs(s, day) if n.minutes_needed <= within})
            self._owners[(first, within)] = staff_patients(s, first, last, ids_scope(s, close)) if close else {}
        return self._owners[(first, within)]


class Poster(Protocol):
    def post(self, post: Post) -> None: ...


def last_business_day(day: date, holidays: tuple[date, ...] = ()) -> date:
    last = month_bounds(day)[1]
    while not is_business_day(last, holidays):
        last -= timedelta(days=1)
    return last


def first_business_day(day: date, holidays: tuple[date, ...] = ()) -> date:
    first = month_bounds(day)[0]
    while not is_business_day(first, holidays):
        first += timedelta(days=1)
    return first


def scheduled(kind: str, day: date, settings: Settings) -> time | None:
    """The local time `kind` is due on `day`, or None when it is not sent that day."""
    holidays = settings.holidays
    if kind == "digest":
        sent = is_business_day(day, holidays) and day.day >= settings.digest_from_day
    elif kind == "nudges":
        # Every business day: minutes from the digest's day on, RPM device periods (which end on
        # any day of the month) whenever one ends within NUDGE_DAYS.
        sent = is_business_day(day, holidays)
    elif kind == "final_call":
        sent = day == last_business_day(day, holidays)
    elif kind == "consent_gaps":
        sent = day.weekday() == settings.consent_gaps_weekday
    elif kind == "summary":
        sent = day == first_business_day(day, holidays)
    elif kind == "timers":
        sent = True  # timers run on any day; each one's DM is due from the end of its day (bot/timers.py)
    else:
        return None
    return settings.reminder_time(kind) if sent else None


def period_of(kind: str, day: date) -> str:
    if kind in ("digest", "nudges"):
        return day.isoformat()
    if kind == "final_call":
        return f"{day:%Y-%m}"
    if kind == "consent_gaps":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{previous_month(day):%Y-%m}"  # summary: of last month


class Reminders:
    def __init__(self, database: Database, settings: Settings, poster: Poster | None = None, *, policy: Policy | None = None) -> None:
        self.db = database
        self.settings = settings
        self.poster = poster
        self._fixed_policy = policy
        self._policies = PolicySource(settings, database)  # imported fee schedules, re-read at most once a minute

    @property
    def policy(self) -> Policy:
        return self._fixed_policy or self._policies.current()

    # --- what is due -------------------------------------------------------------------

    def due(self, now: datetime) -> list[Due]:
        """Every reminder whose time has come today (local), delivered or not."""
        local = now.astimezone(self.settings.tz)
        today = local.date()
        out = []
        for kind in self.settings.reminders:
            if kind == "timers":  # one DM per running timer, due from the end of its day on (bot/timers.py)
                with self.db.session() as s:
                    out += [Due(kind, f"timer-{d.timer_id}", d.slack_id, self.settings.timers_time) for d in timers_due(s, self.settings, now)]
                continue
            at = scheduled(kind, today, self.settings)
            if at is None or local.time() < at:
                continue
            if kind == "nudges":
                out += [Due(kind, period_of(kind, today), user, at) for user in self._staff_ids()]
            elif self.settings.reminder_channel:
                out.append(Due(kind, period_of(kind, today), self.settings.reminder_channel, at))
        return out

    def _staff_ids(self) -> list[str]:
        with self.db.session() as s:
            return active_slack_ids(s)

    # --- sending -----------------------------------------------------------------------

    def run(self, now: datetime) -> list[Outcome]:
        """Send what is due now and not yet sent; each claimed first, so only once."""
        assert self.poster is not None, "a poster is needed to send"
        today = now.astimezone(self.settings.tz).date()
        due = self.due(now)
        with self.db.session() as s:
            done = settled(s, [d.key for d in due])
        outcomes = []
        snapshot = Snapshot(self.policy)
        for item in due:
            if item.key in done:
                continue
            with self.db.transaction() as s:  # committed before anything is posted
                if not claim(s, kind=item.kind, period=item.period, target=item.target):
                    outcomes.append(Outcome(item, "taken"))
                    continue
            outcomes.append(self._deliver(item, today, snapshot))
        return outcomes

    def _deliver(self, item: Due, today: date, snapshot: Snapshot) -> Outcome:
        assert self.poster is not None
        try:
            with self.db.session() as s:
                posts = self.compose(s, item, today, snapshot)
            for post in posts:
                self.poster.post(post)
        except Exception as exc:
            log.error("reminder %s failed: %s", item.key, type(exc).__name__)
            with self.db.transaction() as s:
                finish(s, item.key, "failed", type(exc).__name__)
            REMINDERS.labels(item.kind, "failed").inc()
            return Outcome(item, "failed")
        status = "sent" if posts else "empty"
        with self.db.transaction() as s:
            finish(s, item.key, status)
        REMINDERS.labels(item.kind, status).inc()
        return Outcome(item, status, posts)

    def preview(self, now: datetime) -> list[Outcome]:
        """What would be sent now and to whom, and what already went out; changes nothing."""
        today = now.astimezone(self.settings.tz).date()
        due = self.due(now)
        snapshot = Snapshot(self.policy)
        with self.db.session() as s:
            done = settled(s, [d.key for d in due])
            return [Outcome(item, done[item.key]) if item.key in done else Outcome(item, "due", self.compose(s, item, today, snapshot)) for item in due]

    # --- what each says ------------------------------------------------------------------

    def compose(self, s: Session, item: Due, today: date, snapshot: Snapshot | None = None) -> list[Post]:
        composers: dict[str, Callable[[Session, Due, date, Snapshot], list[Post]]] = {
            "digest": self._digest,
            "nudges": self._nudge,
            "final_call": self._final_call,
            "consent_gaps": self._consent_gaps,
            "summary": self._summary,
            "timers": self._timer,
        }
        return composers[item.kind](s, item, today, snapshot or Snapshot(self.policy))

    def _left(self, today: date) -> str:
        return f"{days_left_words(today, month_bounds(today)[1], self.settings.holidays)} left in {today:%B}, today included"

    @staticmethod
    def _at_stake(needs: list[Need]) -> str:
        return f"${sum(n.at_stake for n in needs):,.2f}"

    def _digest(self, s: Session, item: Due, today: date, snapshot: Snapshot) -> list[Post]:
        needs = snapshot.needs(s, today)
        if not needs:
            return []
        title = (
            f"Who still needs time in {month_words(today, today)}: {plural(len(needs), 'patient')}, {self._at_stake(needs)} at stake "
            f"(estimated). {self._left(today)}."
        )
        if len(needs) > LIST_ALL:
            return [self._at_scale(item.target, ReplyKind.DIGEST, title, needs, f"needs-time-{today.isoformat()}.csv")]
        groups: dict[str, list[Need]] = {title: [] for _, title in GROUPS}
        for need in needs:  # closest first already, so each group stays in that order
            group = next(t for limit, t in GROUPS if limit is None or need.minutes_needed <= limit)
            groups[group].append(need)
        sections = [
            Section(f"{group} ({len(members)}, {self._at_stake(members)}):", tuple(need_line(n) for n in members))
            for group, members in groups.items()
            if members
        ]
        return [Post(item.target, Reply(ReplyKind.DIGEST, (Section(title), *sections)), log_button=True)]

    def _at_scale(self, target: str, kind: ReplyKind, title: str, needs: list[Need], file_name: str) -> Post:
        """A list too long to read in a channel: the count, the closest few per billing
        practitioner, and every patient in an attached CSV."""
        by_practitioner: dict[str, list[Need]] = {}
        for need in needs:  # closest first, so each practitioner's list is too
            by_practitioner.setdefault(need.item.patient.billing_practitioner or "No billing practitioner", []).append(need)
        ranked = sorted(by_practitioner.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        each = max(PER_PRACTITIONER_MIN, LIST_ALL // len(ranked))
        sections = [Section(f"{title} The closest by billing practitioner; all {len(needs):,} are in the attached {file_name}.")]
        shown = 0
        for name, members in ranked:
            if shown >= LIST_ALL:
                break
            lines = tuple(need_line(n) for n in members[:each])
            shown += len(lines)
            sections.append(Section(f"{name} ({len(members):,} short, {self._at_stake(members)}):", lines))
        rest = ranked[len(sections) - 1 :]
        if rest:
            sections.append(Section("Also: " + ", ".join(f"{name} ({len(members):,})" for name, members in rest) + "."))
        sections.append(Section('For one practitioner\'s whole list, ask me "who still needs time for <name>?".'))
        return Post(target, Reply(kind, tuple(sections)), log_button=True, file=(file_name, needs_csv(needs)))

    def _nudge(self, s: Session, item: Due, today: date, snapshot: Snapshot) -> list[Post]:
        staff = staff_by_slack_id(s, item.target)
        if staff is None:
            return []
        within = self.settings.nudge_within
        sections: list[Section] = []
        if today.day >= self.settings.digest_from_day:
            mine = snapshot.owners(s, today, within).get(staff.id, set())
            needs = [n for n in snapshot.needs(s, today) if n.minutes_needed <= within and n.item.patient.patient_id in mine]
            if needs:
                title = f"Your patients close to a code in {month_words(today, today)}; {self._left(today)}:"
                lines = [need_line(n) for n in needs[:NUDGE_LIMIT]]
                if len(needs) > NUDGE_LIMIT:
                    lines.append(f'…and {len(needs) - NUDGE_LIMIT} more within {within} min: ask me "who still needs time for my patients?".')
                sections.append(Section(title, tuple(lines)))
        short, owners = snapshot.devices(s, today)
        yours = [d for d in short if d.episode.patient_id in owners.get(staff.id, set())]
        if yours:
            title = f"Your RPM patients whose 30-day device period ends within {NUDGE_DAYS} days and can still reach the next device code:"
            lines = [data_days_line(d, today) for d in yours[:NUDGE_LIMIT]]
            if len(yours) > NUDGE_LIMIT:
                lines.append(f'…and {len(yours) - NUDGE_LIMIT} more: ask me "who is short of data days?".')
            sections.append(Section(title, tuple(lines)))
        if not sections:
            return []
        return [Post(item.target, Reply(ReplyKind.NUDGE, tuple(sections)), log_button=True)]

    def _final_call(self, s: Session, item: Due, today: date, snapshot: Snapshot) -> list[Post]:
        needs = [n for n in snapshot.needs(s, today) if n.minutes_needed <= self.settings.final_call_within]
        if not needs:
            return []
        title = (
            f"Final call: today is the last business day of {today:%B}. {plural(len(needs), 'patient')} can still reach a code "
            f"with {self.settings.final_call_within} min or less, {self._at_stake(needs)} at stake (estimated):"
        )
        if len(needs) > LIST_ALL:
            return [self._at_scale(item.target, ReplyKind.FINAL_CALL, title, needs, f"final-call-{today.isoformat()}.csv")]
        return [Post(item.target, Reply(ReplyKind.FINAL_CALL, (Section(title, tuple(need_line(n) for n in needs)),)), log_button=True)]

    def _consent_gaps(self, s: Session, item: Due, today: date, snapshot: Snapshot) -> list[Post]:
        gaps = snapshot.gaps(s, today)
        if not gaps:
            return []
        title = f"Consent gaps: {plural(len(gaps), 'patient')} with time in {today:%B} but no consent; that time can't be billed until consent is recorded:"
        lines = [gap_line(g) for g in gaps[:LIST_ALL]]
        if len(gaps) <= LIST_ALL:
            return [Post(item.target, Reply(ReplyKind.CONSENT_GAPS, (Section(title, tuple(lines)),)))]
        name = f"consent-gaps-{today.isoformat()}.csv"
        lines.append(f"…and {len(gaps) - LIST_ALL:,} more: every one is in the attached {name}.")
        return [Post(item.target, Reply(ReplyKind.CONSENT_GAPS, (Section(title, tuple(lines)),)), file=(name, gaps_csv(gaps)))]

    def _timer(self, s: Session, item: Due, today: date, snapshot: Snapshot) -> list[Post]:
        reply = timer_reminder(s, self.settings, int(item.period.removeprefix("timer-")), today)
        return [Post(item.target, reply)] if reply is not None else []

    def _summary(self, s: Session, item: Due, today: date, snapshot: Snapshot) -> list[Post]:
        month = previous_month(today)
        items = snapshot.items(s, month)
        if not items:
            return []
        billable = [i for i in items if i.result.codes]
        summary = summarize(items)
        missed = [n for n in snapshot.needs(s, month) if n.minutes_needed <= MISSED_BY_LITTLE]
        title = f"{summary_words(month, summary)}. Codes: {codes_count_words(summary)}."
        sections = [Section(title)]
        if missed:
            sections.append(Section(f"Missed by {MISSED_BY_LITTLE} min or less ({len(missed)}):", tuple(need_line(n) for n in missed)))
        billed = [f"• {i.patient.key}: {codes_words(i.result.codes)}, ${i.result.total:,.2f}" for i in billable[:SUMMARY_LIST]]
        if len(billable) > SUMMARY_LIST:
            billed.append(f"…and {len(billable) - SUMMARY_LIST} more: every patient is in the attached CSV.")
        if billed:
            sections.append(Section("Billable:", tuple(billed)))
        report = as_csv(items, complex_marks(s, month))
        return [Post(item.target, Reply(ReplyKind.SUMMARY, tuple(sections)), file=(f"ccm-report-{month:%Y-%m}.csv", report))]
