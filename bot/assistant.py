"""The one brain behind every door: (who, what they wrote, when) -> Reply.

Slack listeners, the terminal chat and `ccmbot log` all call Assistant.handle.
It knows no Slack: a transport says who spoke (a Slack user id or a roster
name), whether the message was addressed to the bot, and an idempotency key
for the message; it renders the Reply it gets back.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot.billing import PROGRAMS as LOGGED_PROGRAMS
from bot.billing import Policy
from bot.config import Settings
from bot.corrections import Corrections, repeat_lines
from bot.devices import DeviceStatus, span_words
from bot.evaluation import PolicySource, device_statuses, month_results, short_candidates, stream_month_results
from bot.intents import CLOSE_MINUTES, Intent, IntentName, Slots, asked_month, classify, resolve_month
from bot.kept import kept_report
from bot.months import local_today, month_bounds, parse_month, previous_month
from bot.observability import ENTRIES, ERRORS
from bot.parsing import EXAMPLE, ParseResult, clean_key, parse_message, read_date
from bot.patient_month import PatientMonth, Tally
from bot.questions import Questions
from bot.replies import (
    COMPLEX_LADDER,
    HELP_LINES,
    LIST_LIMIT,
    SILENT,
    AddMe,
    Home,
    Reply,
    ReplyKind,
    Section,
    activity_words,
    consent_answer,
    day_words,
    either,
    hint,
    missing_answer,
    month_words,
    not_on_roster,
    progress_line,
    say,
    summary_words,
    with_unread,
)
from bot.report import as_csv, describe
from bot.timers import TIMER_INTENTS, Timers
from bot.worklist import needs_time
from storage.audit import audit
from storage.consents import record_consent
from storage.db import Database
from storage.entries import EntryDraft, current_entries, log_entries, replace_source, void_entries, void_last, void_source
from storage.errors import KeyReused, LedgerError
from storage.models import ACTIVITIES, Staff, TimeEntry, Track
from storage.months import ComplexOutcome, close_month, complex_marks, complex_reason, reopen_month, set_complex_month
from storage.queries import keys_scope, patient_counts, patients_of, staff_entries
from storage.records import ComplexMark
from storage.roster import admins, consent_recorders, find_patient, find_staff, require_active_patient
from storage.rpm import EpisodeChange, EpisodeOutcome, start_episode, stop_episode

log = logging.getLogger(__name__)

# More entries than this in one chat message is a paste gone wrong, not a day's work.
MAX_ENTRIES_PER_MESSAGE = 50


# Which form field a ledger refusal belongs to.
FORM_FIELD_FOR = {
    "unknown_patient": "patient",
    "inactive_patient": "patient",
    "minutes_out_of_range": "minutes",
    "future_date": "date",
    "closed_month": "date",
    "invalid_value": "activity",
}


Day = date  # the class below has a field called "date"


KEY_MAX = 64  # patients.key
NOTE_MAX = 2000
ENTRY_ID_MAX = 2**31 - 1  # time_entries.id is a 32-bit integer
# Control characters other than tab and line breaks: PostgreSQL refuses NUL in text outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class EntryForm:
    """The log-time form as typed: every field a string, checked here before anything is stored."""

    patient: str
    minutes: str
    activity: str
    date: str  # YYYY-MM-DD
    note: str = ""
    program: str = ""
    interactive: bool | None = None  # the form's "real-time call or visit" checkbox: True when ticked

    def errors(self, today: Day, max_minutes: int) -> dict[str, str]:
        errors = {}
        if not re.fullmatch(r"[\w-]*\d[\w-]*", self.patient.strip()):
            errors["patient"] = "Enter the patient's key as the practice writes it, like 123 or 00045123."
        if not self.minutes.strip().isdigit():
            errors["minutes"] = "Enter whole minutes, like 15."
        elif not 1 <= int(self.minutes) <= max_minutes:
            errors["minutes"] = f"An entry must be 1 to {max_minutes} minutes; split longer work into several entries."
        if self.activity not in ACTIVITIES:
            errors["activity"] = "Pick an activity from the list."
        try:
            day = date.fromisoformat(self.date)
        except ValueError:
            errors["date"] = "Pick the day the work was done."
        else:
            oldest = previous_month(today)
            if day > today:
                errors["date"] = "That day is in the future; time can only be logged for today or earlier."
            elif day < oldest:
                errors["date"] = f"That day is before {oldest:%B %Y}; Slack takes last month and this month. An admin can back-fill with `ccmbot log`."
        if self.program and self.program not in LOGGED_PROGRAMS:
            errors["program"] = "Pick CCM, PCM, RPM or BHI, or leave it empty for the patient's program."
        if len(self.patient.strip()) > KEY_MAX:
            errors["patient"] = f"A patient key is at most {KEY_MAX} characters."
        if len(self.note) > NOTE_MAX:
            errors["note"] = f"A note is at most {NOTE_MAX} characters; this one has {len(self.note)}."
        elif _CONTROL.search(self.note):
            errors["note"] = "The note holds a character that is not text (a control character); type it again or leave it out."
        return errors

    def draft(self) -> EntryDraft:
        return EntryDraft(
            clean_key(self.patient.strip()),
            int(self.minutes),
            date.fromisoformat(self.date),
            self.activity,
            self.program or None,
            self.note.strip() or None,
            self.interactive,
        )


@dataclass(frozen=True)
class ConsentRecorded:
    """A consent event as stored (changed=False: the same event was already on file)."""

    patient: str
    program: str
    status: str
    method: str | None
    effective_date: date
    changed: bool


@dataclass(frozen=True)
class ComplexMarked:
    """A patient-month marked complex or unmarked, as stored. outcome: marked | updated (a new
    reason) | unchanged (already marked with that reason) | unmarked | not_marked (nothing to undo)."""

    patient: str
    month: date  # first day
    reason: str | None  # the reason on file now (None: not complex)
    outcome: ComplexOutcome

    @property
    def changed(self) -> bool:
        return self.outcome in ("marked", "updated", "unmarked")


@dataclass(frozen=True)
class RpmChanged:
    """An RPM episode started, restarted (`ended`: the one it ended), updated, stopped or unchanged, as stored."""

    patient: str
    outcome: EpisodeOutcome
    start: date
    end: date | None  # the episode's last day (a stop), None while it runs
    device: str | None
    ended: tuple[date, date] | None = None  # a restart: the earlier episode's first and last days

    @property
    def changed(self) -> bool:
        return self.outcome != "unchanged"


def _practitioner_or_admin(s: Session, staff: Staff, what: str, ask: str) -> Reply | None:
    """The refusal for what only practitioners and admins may do (consent, complex marks), naming
    up to three people who may; None when the staff member may."""
    if staff.is_admin or staff.track == Track.practitioner:
        return None
    who = either([m.name for m in consent_recorders(s)[:3]] or ["an admin"])
    return say(ReplyKind.REFUSED, None, f"Only practitioners (physician, NP, PA, CNS, CNM) and admins can {what}. Ask {who} to {ask}.")


def _rpm_changed(key: str, change: EpisodeChange) -> RpmChanged:
    e, old = change.episode, change.ended
    ended = (old.start_date, old.end_date) if old is not None and old.end_date is not None else None
    return RpmChanged(key, change.outcome, e.start_date, e.end_date, e.device, ended)


@dataclass(frozen=True)
class Message:
    user: str  # a Slack user id, or a roster name (terminal, CLI)
    text: str
    when: datetime | None = None  # when it was said (aware); None: now
    today: date | None = None  # the practice-local date to use instead of `when` (demo, back-fill)
    source: str = "terminal"  # slack | terminal | cli | modal
    source_id: str | None = None  # the message's idempotency key (Slack: channel and ts); None: a new message
    addressed: bool = True  # a DM, a mention, a slash command, the terminal; False: chatter in a channel
    # A permalink kept with the entries for the audit trail, or how to ask for one (Slack's
    # chat.getPermalink): asked only when the message holds entries, before any transaction.
    link: str | Callable[[], str] | None = None
    resend: bool = False  # another attempt at a message whose reply never went out: confirm it as new

    @property
    def permalink(self) -> str | None:
        return self.link if isinstance(self.link, str) else None


def _linked(message: Message) -> Message:
    """The message with its permalink asked for now, outside any transaction."""
    return replace(message, link=message.link()) if callable(message.link) else message


def _too_many(parsed: ParseResult) -> str | None:
    """Why a message (or its edit) holds more entries than one message may, or None."""
    if len(parsed.entries) <= MAX_ENTRIES_PER_MESSAGE:
        return None
    return (
        f"That message holds {len(parsed.entries)} entries; I take at most {MAX_ENTRIES_PER_MESSAGE} "
        "in one message. Split it into several messages, or back-fill with `ccmbot log`."
    )


def _drafts(parsed: ParseResult) -> list[EntryDraft]:
    return [EntryDraft(e.patient, e.minutes, e.date, e.activity, e.program, interactive=e.interactive) for e in parsed.entries]


def rpm_change_words(done: RpmChanged, today: date, by: str | None = None) -> tuple[str, ...]:
    """What a start or a stop did, in words: the title, then what it means for the device periods."""
    who = f" ({by})" if by else ""
    first_end = done.start + timedelta(days=29)
    if done.outcome == "unchanged":
        return (f"Already on file: patient {done.patient}'s RPM episode started on {done.start.isoformat()}. Nothing was changed.",)
    if done.outcome == "updated":
        return (f"Updated patient {done.patient}'s RPM episode from {done.start.isoformat()}: device {done.device}.",)
    if done.outcome == "stopped":
        assert done.end is not None
        return (
            f"Stopped RPM for patient {done.patient} on {day_words(done.end, today)} {done.end.year}{who}: the episode ran from {done.start.isoformat()}.",
            "Readings after that day do not count; its last 30-day period ends that day.",
        )
    lines = [
        f"Started RPM for patient {done.patient} on {day_words(done.start, today)} {done.start.year}{who}"
        + (f", device {done.device}" if done.device else "")
        + ": set-up and education that day bill 99453 once, with the first 30-day period that has enough data days.",
        f"Device periods run 30 days from the start: the first is {span_words(done.start, first_end, today)}.",
    ]
    if done.ended is not None:
        lines.insert(1, f"The episode from {done.ended[0].isoformat()} ended on {done.ended[1].isoformat()}, the day before.")
    return tuple(lines)


def text_digest(text: str) -> str:
    """The idempotency digest of a message's text: the same key with another digest is another message."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    """When a message was said, in UTC as entries store it (a naive time is taken as UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Assistant:
    def __init__(self, db: Database, settings: Settings, *, policy: Policy | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.settings = settings
        # A policy given is fixed (tests, one-off commands); otherwise the imported fee schedules are
        # read from the database, again at most once a minute (an import needs no restart).
        self._fixed_policy = policy
        self._policies = PolicySource(settings, db)
        self._now = now or (lambda: datetime.now(UTC))
        self.timers = Timers(self)  # "start pt 123 call", "stop": bot/timers.py

    @property
    def policy(self) -> Policy:
        return self._fixed_policy or self._policies.current()

    # --- the door every transport uses ---------------------------------------------

    def today(self, given: date | None = None) -> date:
        """`given`, or today's date where the practice is."""
        return given or local_today(self.settings.tz, self._now())

    def today_for(self, message: Message) -> date:
        return message.today or local_today(self.settings.tz, message.when or self._now())

    def handle(self, message: Message) -> Reply:
        """Answer one message. A database that cannot be reached raises (a transport must let the
        sender retry); any other surprise is answered with an apology and changes nothing."""
        try:
            return self._handle(message)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            # The type only: an exception's text can carry message text or patient keys (PHI).
            log.error("message not handled: %s", type(exc).__name__)
            ERRORS.labels("assistant").inc()
            return say(ReplyKind.ERROR, None, "Sorry, something went wrong on my side and nothing was changed. Please try again, or tell an admin.")

    def _handle(self, message: Message) -> Reply:
        today = self.today_for(message)
        intent = classify(message.text)
        parsed: ParseResult | None = None
        if intent is None:
            parsed = self._parse(message, today)
            if not parsed.is_entry:
                return say(ReplyKind.HINT, None, hint(parsed.seen)) if message.addressed else SILENT
        elif not message.addressed:
            return SILENT  # questions in a channel are for people unless the bot is mentioned
        if parsed is not None:
            entries = parsed
            message = _linked(message)
            return self._as_member(message.user, lambda s, staff: self._log(s, staff, message, entries, today))
        assert intent is not None
        if intent.name is IntentName.CORRECT:  # keyed by the message: the same correction twice changes nothing more
            return self._as_member(message.user, lambda s, staff: self._corrections(s, staff, today, message).answer(message.text))
        if intent.name in TIMER_INTENTS:  # a timer reads the clock the message was said at, not only the day
            return self.timers.answer(message.user, intent, self.timers.instant(message.today, message.when), source=message.source)
        return self.ask(message.user, intent, today)

    def file_delivered(self, user: str, filename: str, link: str | None) -> None:
        """Audit a file (a report, which holds PHI) handed to someone in Slack, with the permalink
        Slack returned for it, so the trail says who received which file and where it lives."""
        with self.db.transaction() as s:
            staff = find_staff(s, user)
            audit(s, staff, "file.delivered", "file", link, None, {"filename": filename, "permalink": link, "to": user})

    def ask(self, user: str, intent: Intent, today: date | None = None) -> Reply:
        """Answer an intent a door built itself (a /ccm subcommand, a button): the same use cases as chat."""
        day = self.today(today)
        if intent.name in TIMER_INTENTS:
            return self.timers.answer(user, intent, self.timers.instant(today, None))
        return self._as_member(user, lambda s, staff: self._answer(s, staff, intent, day))

    def _as_member(self, user: str, work: Callable[[Session, Staff], Reply]) -> Reply:
        """One unit of work for an active roster member; a refusal raised inside rolls it all back."""
        try:
            with self.db.transaction() as s:
                staff = self._roster_member(s, user)
                return staff if isinstance(staff, Reply) else work(s, staff)
        except LedgerError as exc:  # raised out of the block: the unit of work rolled back
            return say(ReplyKind.ERROR, None, str(exc))

    def _parse(self, message: Message, today: date) -> ParseResult:
        # Chat and Slack take last month and this month; `ccmbot log` is the admin's back-fill door.
        return parse_message(message.text, today, max_minutes=self.settings.max_minutes_per_entry, allow_old_dates=message.source == "cli")

    def undo(self, user: str, entry_ids: Sequence[int], today: date | None = None) -> Reply:
        """The Undo button of one confirmation: void exactly those entries; pressing twice is harmless."""
        today = self.today(today)
        try:
            with self.db.transaction() as s:
                staff = self._roster_member(s, user)
                if isinstance(staff, Reply):
                    return staff
                ids = [i for i in entry_ids if 1 <= i <= ENTRY_ID_MAX]
                if not ids:
                    return say(ReplyKind.REFUSED, None, "That Undo button does not name any entry of mine; nothing was changed.")
                voided = void_entries(s, ids, by=staff, reason="undo button")
                if not voided:
                    # The message was edited since this confirmation: undo what it holds now.
                    voided = void_entries(s, current_entries(s, ids), by=staff, reason="undo button")
                if not voided:
                    return say(ReplyKind.UNDO, None, "Already undone: those entries were taken back before.")
                return self._undone(s, voided, today)
        except LedgerError as exc:
            return say(ReplyKind.REFUSED, None, str(exc))

    def edit(self, message: Message, revision: str) -> Reply:
        """The message `message.source_id` was edited: its entries become the new text's (void and re-log, audited)."""
        today = self.today_for(message)
        correction = classify(message.text)
        if correction is not None and correction.name is IntentName.CORRECT:
            # Not an entry to re-read: the correction it said was applied once, and an edit does not redo it.
            return say(ReplyKind.ERROR, None, "Your edit was not applied: a correction is done once. Say the new correction in a new message.")
        parsed = self._parse(message, today)
        message = _linked(message)
        assert message.source_id, "an edit names the message it changes"
        try:
            with self.db.transaction() as s:
                staff = find_staff(s, message.user)
                if staff is None or not staff.active:
                    return SILENT  # nothing of theirs was logged
                why = parsed.error.message if parsed.error is not None else _too_many(parsed)
                if why:
                    return say(ReplyKind.ERROR, None, f"Your edit was not applied, the entries from before it stand. {why}")
                _, unknown = self._bare_keys(s, parsed)
                if unknown:
                    return say(ReplyKind.ERROR, None, f"Your edit was not applied, the entries from before it stand. {unknown}")
                drafts = _drafts(parsed)
                voided, added, duplicate = replace_source(
                    s,
                    message.source_id,
                    drafts,
                    revision=revision,
                    performed_by=staff,
                    logged_by=staff,
                    source=message.source,
                    today=today,
                    max_minutes=self.settings.max_minutes_per_entry,
                    source_link=message.permalink,
                    source_digest=text_digest(message.text),
                )
                if duplicate:
                    return Reply(ReplyKind.EDITED, duplicate=True)
                ENTRIES.labels(message.source).inc(len(added))
                if not voided and not added:
                    return SILENT
                lines = [f"• was: {self._entry_words(e, today)}" for e in voided] + [f"• now: {self._entry_words(e, today)}" for e in added]
                return Reply(
                    ReplyKind.EDITED,
                    (Section("Updated from your edit:", tuple(lines)), Section(None, tuple(self._progress(s, [*voided, *added], today)))),
                    entry_ids=tuple(e.id for e in added),
                )
        except LedgerError as exc:
            return say(ReplyKind.ERROR, None, f"Your edit was not applied, the entries from before it stand. {exc}")

    def deleted(self, user: str, source_id: str, today: date | None = None) -> Reply:
        """The message was deleted: its entries are voided (kept, with who and why)."""
        today = self.today(today)
        try:
            with self.db.transaction() as s:
                staff = find_staff(s, user)
                if staff is None:
                    return SILENT
                voided = void_source(s, source_id, by=staff, reason="message deleted")
                if not voided:
                    return SILENT
                lines = [f"• {self._entry_words(e, today)}" for e in voided]
                title = "Your message was deleted, so its time no longer counts:"
                return Reply(ReplyKind.UNDO, (Section(title, tuple(lines)), Section(None, tuple(self._progress(s, voided, today)))))
        except LedgerError as exc:
            return say(ReplyKind.ERROR, None, f"Your message was deleted but its time still counts: {exc}")

    def log_form(
        self, user: str, form: EntryForm, *, source_id: str, today: date | None = None, link: str | None = None
    ) -> tuple[Reply | None, dict[str, str]]:
        """A filled-in form (Slack's log-time modal): (confirmation, {}) or (None, {field: what is wrong})."""
        today = self.today(today)

        def log(s: Session, staff: Staff, draft: EntryDraft) -> tuple[Reply | None, dict[str, str]]:
            result = log_entries(
                s,
                [draft],
                performed_by=staff,
                logged_by=staff,
                source="modal",
                source_group=source_id,
                today=today,
                max_minutes=self.settings.max_minutes_per_entry,
                source_link=link,
                created_at=_utc(self._now()),
            )
            entry = result.entries[0]
            if not result.duplicate:
                ENTRIES.labels("modal").inc()
            title = f"Logged {self._entry_words(entry, today)} ({staff.name})."
            return Reply(
                ReplyKind.LOGGED,
                (Section(title, tuple(repeat_lines(s, result.entries, self.settings.tz) if not result.duplicate else ())),
                 Section(None, tuple(self._progress(s, result.entries, today)))),
                entry_ids=(entry.id,),
                duplicate=result.duplicate,
            ), {}

        return self._from_form(user, form, today, "logging", log)

    def _from_form(
        self, user: str, form: EntryForm, today: date, doing: str, work: Callable[[Session, Staff, EntryDraft], tuple[Reply | None, dict[str, str]]]
    ) -> tuple[Reply | None, dict[str, str]]:
        """The log form's doors (a new entry, an edit): the form's own checks, then one unit of
        work for an active roster member; a ledger refusal is shown under the field it is about."""
        errors = form.errors(today, self.settings.max_minutes_per_entry)
        if errors:
            return None, errors
        try:
            with self.db.transaction() as s:
                staff = find_staff(s, user)
                if staff is None or not staff.active:
                    return None, {"patient": f"You're not on the staff roster; ask an admin to add you before {doing} time."}
                return work(s, staff, form.draft())
        except LedgerError as exc:
            return None, {FORM_FIELD_FOR.get(exc.reason, "patient"): str(exc)}

    # --- corrections: one entry replaced or deleted (bot/corrections.py) ----------------------------

    def _corrections(self, s: Session, staff: Staff, today: date, message: Message | None = None) -> Corrections:
        return Corrections(
            s,
            staff,
            today,
            words=self._entry_words,
            progress=self._progress,
            max_minutes=self.settings.max_minutes_per_entry,
            source=message.source if message else "slack",
            key=message.source_id if message else None,
            when=_utc(message.when or self._now()) if message else _utc(self._now()),
        )

    def delete_entry(self, user: str, entry_id: int, today: date | None = None) -> Reply:
        """A Delete button: the entry is voided as corrected (its owner or an admin, its month open)."""
        return self._as_member(user, lambda s, staff: self._corrections(s, staff, self.today(today)).delete(entry_id))

    def entry_form(self, user: str, entry_id: int, today: date | None = None) -> dict[str, object] | Reply:
        """An Edit button: the log form's fields for the entry, or why it cannot be edited."""
        with self.db.session() as s:
            staff = self._roster_member(s, user)
            return staff if isinstance(staff, Reply) else self._corrections(s, staff, self.today(today)).form_prefill(entry_id)

    def correct_form(
        self, user: str, entry_id: int, form: EntryForm, *, source_id: str, today: date | None = None
    ) -> tuple[Reply | None, dict[str, str]]:
        """The edit form sent: the same checks as a new entry's form, then the entry is replaced
        (reason "corrected"): (confirmation, {}) or (None, {field: what is wrong})."""
        today = self.today(today)

        def correct(s: Session, staff: Staff, draft: EntryDraft) -> tuple[Reply | None, dict[str, str]]:
            corrections = self._corrections(s, staff, today)
            corrections.key, corrections.source = source_id, "modal"
            reply = corrections.apply_form(entry_id, draft)
            if reply.kind.is_refusal:
                return None, {"patient": reply.text}
            return reply, {}

        return self._from_form(user, form, today, "changing", correct)

    def home(self, user: str, today: date | None = None) -> Home | Reply:
        """What a staff member sees on the bot's Home tab."""
        today = self.today(today)
        with self.db.session() as s:
            staff = self._roster_member(s, user)
            if isinstance(staff, Reply):
                return staff
            first, last = month_bounds(today)
            # Only the patients that may be short are evaluated: the tab opens fast at any size.
            needs = needs_time(month_results(s, today, self.policy, scope=short_candidates(today, self.policy)), self.policy)
            mine = patients_of(s, staff.id, first, last)
            close = sum(1 for n in needs if n.minutes_needed <= CLOSE_MINUTES)
            short = [progress_line(n.item, n.step.program, today) for n in needs if n.item.patient.patient_id in mine]
            entries = staff_entries(s, staff.id, today, today)
            logged_today = [f"{e.minutes} min {activity_words(e.activity)}, patient {e.patient_key}" for e in entries]
            patients, consented = patient_counts(s, last)
            timers, timer_lines = self.timers.on_home(s, staff, self._now())
            return Home(
                name=staff.name,
                month=month_words(first, today),
                short=tuple(short[:LIST_LIMIT]),
                short_more=max(0, len(short) - LIST_LIMIT),
                today=tuple(logged_today),
                today_minutes=sum(e.minutes for e in entries),
                patients=patients,
                consented=consented,
                short_total=len({n.key for n in needs}),
                close=close,
                timers=timers,
                timer_lines=timer_lines,
            )

    def report(self, user: str, month_text: str = "", today: date | None = None) -> tuple[Reply, str | None]:
        """The month's billing report as CSV, for admins: (reply, csv) or (refusal, None)."""
        today = self.today(today)
        with self.db.session() as s:
            staff = self._roster_member(s, user)
            if isinstance(staff, Reply):
                return staff, None
            return self._report(s, staff, month_text, today)

    def may_pull_report(self, user: str) -> Reply | None:
        """None when `user` may pull the month's billing report (every door asks this), else the refusal."""
        with self.db.session() as s:
            staff = self._roster_member(s, user)
            return staff if isinstance(staff, Reply) else self._report_refusal(staff)

    @staticmethod
    def _report_refusal(staff: Staff) -> Reply | None:
        if staff.is_admin:
            return None
        return say(ReplyKind.REFUSED, None, "Only admins can pull the billing report; ask a practice admin.")

    def _report(self, s: Session, staff: Staff, month_text: str, today: date) -> tuple[Reply, str | None]:
        refusal = self._report_refusal(staff)
        if refusal is not None:
            return refusal, None
        try:
            month = parse_month(month_text) if month_text.strip() else previous_month(today)
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f'{exc} Say it like "report 2026-10".'), None
        buffer = io.StringIO()
        summary = kept_report(s, month, self.policy, buffer)
        if summary is None:  # most of the month not kept: evaluated as it streams out
            tally = Tally()
            text = as_csv(tally.counting(stream_month_results(s, month, self.policy)), complex_marks(s, month))
            summary = tally.summary()
        else:
            text = buffer.getvalue()
        return say(ReplyKind.REPORT, f"Billing report for {summary_words(month, summary)}."), text

    # --- intents ---------------------------------------------------------------------

    def _answer(self, s: Session, staff: Staff, intent: Intent, today: date) -> Reply:
        own: dict[IntentName, Callable[[Session, Staff, Slots, date], Reply]] = {
            IntentName.HELP: self._help,
            IntentName.UNDO: self._undo_last,
            IntentName.STATUS: self._status,
            IntentName.CONSENT: self._consent,
            IntentName.COMPLEX: self._complex,
            IntentName.NOT_COMPLEX: self._not_complex,
            IntentName.CLOSE_MONTH: self._close_month,
            IntentName.REOPEN_MONTH: self._reopen_month,
            IntentName.REPORT: self._report_question,
            IntentName.RPM_START: self._rpm_start,
            IntentName.RPM_STOP: self._rpm_stop,
            IntentName.CORRECT: lambda s, staff, slots, day: self._corrections(s, staff, day).answer(slots.rest or ""),
            IntentName.MY_ENTRIES: lambda s, staff, slots, day: self._corrections(s, staff, day).list_entries(slots),
        }
        handler = own.get(intent.name)
        if handler is not None:
            reply = handler(s, staff, intent.slots, today)
        else:
            reply = Questions(s, staff, today, self.policy, self.settings).answer(intent)
        return with_unread(reply, intent.unread)

    def _help(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        return say(ReplyKind.HELP, "Here is what I understand:", *HELP_LINES)

    def _log(self, s: Session, staff: Staff, message: Message, parsed: ParseResult, today: date) -> Reply:
        if parsed.error is not None:
            text = parsed.error.message
            if EXAMPLE not in text and 'like "' not in text:
                text = f"{text} {EXAMPLE}"
            return say(ReplyKind.ERROR, None, f"Nothing was logged. {text}")
        too_many = _too_many(parsed)
        if too_many:
            return say(ReplyKind.ERROR, None, f"Nothing was logged. {too_many}")
        bare, unknown = self._bare_keys(s, parsed)
        if unknown:
            return say(ReplyKind.ERROR, None, f"Nothing was logged. {unknown}")
        drafts = _drafts(parsed)
        group = message.source_id or f"{message.source}:{uuid.uuid4().hex}"
        try:
            result = log_entries(
                s,
                drafts,
                performed_by=staff,
                logged_by=staff,
                source=message.source,
                source_group=group,
                today=today,
                max_minutes=self.settings.max_minutes_per_entry,
                source_link=message.permalink,
                source_digest=text_digest(message.text),
                created_at=_utc(message.when or self._now()),
            )
        except KeyReused as exc:
            if message.source == "slack":
                # Not the sender's doing (a late retry of a message edited since): nothing to tell them.
                log.warning("idempotency key reused with another text; nothing logged", extra={"source": message.source})
                return SILENT
            return say(ReplyKind.ERROR, None, str(exc))
        except LedgerError as exc:
            return say(ReplyKind.ERROR, None, f"Nothing was logged. {exc}")
        entries = result.entries
        if not result.duplicate:
            ENTRIES.labels(message.source).inc(len(entries))
        duplicate = result.duplicate and not message.resend
        verb = "Already logged (this message was received before)" if duplicate else "Logged"
        lines = [self._entry_words(e, today) for e in entries]
        if len(lines) == 1:
            title = f"{verb} {lines[0]} ({entries[0].performed_by.name})."
            body: list[str] = []
        else:
            title = f"{verb} {len(lines)} entries ({entries[0].performed_by.name}):" if entries else f"{verb}."
            body = [f"• {line}" for line in lines]
        if bare:
            read = " and ".join(bare)
            body.append(f'(I read {read} as the patient{"s" if len(bare) > 1 else ""}; "pt {bare[0]}" makes it certain.)')
        if not result.duplicate:
            body += repeat_lines(s, entries, self.settings.tz)
        progress = self._progress(s, entries, today)
        return Reply(
            ReplyKind.LOGGED,
            (Section(title, tuple(body)), Section(None, tuple(progress))),
            entry_ids=tuple(e.id for e in entries),
            duplicate=duplicate,
        )

    @staticmethod
    def _entry_words(entry: TimeEntry, today: date) -> str:
        program = "" if entry.program == "CCM" else f" ({entry.program})"
        return f"{entry.minutes} min {activity_words(entry.activity)}{program} for patient {entry.patient.key} on {day_words(entry.service_date, today)}"

    def _progress(self, s: Session, entries: Iterable[TimeEntry], today: date) -> list[str]:
        """One line per patient, month and program the entries touched, from the billing engine."""
        touched: dict[date, dict[str, set[str]]] = {}
        for e in entries:
            touched.setdefault(month_bounds(e.service_date)[0], {}).setdefault(e.patient.key, set()).add(e.program)
        lines = []
        for month in sorted(touched):
            items = {i.patient.key: i for i in month_results(s, month, self.policy, patient_keys=list(touched[month]))}
            for key in sorted(touched[month]):
                if key in items:
                    lines += [progress_line(items[key], program, today) for program in sorted(touched[month][key])]
        return lines

    @staticmethod
    def _bare_keys(s: Session, parsed: ParseResult) -> tuple[list[str], str | None]:
        """The bare numbers read as patients ("called 2031 ..."), once each, and None when every one is an
        active patient on the roster; otherwise the sentence that asks which patient was meant."""
        keys = list(dict.fromkeys(e.patient for e in parsed.entries if e.bare_key))
        for key in keys:
            patient = find_patient(s, key)
            if patient is None or not patient.active:
                return keys, (
                    f"Which patient was that for? I read the number {key}, but no active patient has that key. "
                    f'Write "pt" before the patient\'s key, like "pt 123". {EXAMPLE}'
                )
        return keys, None

    def _undo_last(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        undone = self._corrections(s, staff, today).undo_newest()  # the newest action was a correction
        if undone is not None:
            return undone
        voided = void_last(s, by=staff)
        if not voided:
            return say(ReplyKind.UNDO, None, "Nothing to undo: you have no logged time left to take back.")
        return self._undone(s, voided, today)

    def _undone(self, s: Session, voided: list[TimeEntry], today: date) -> Reply:
        lines = [self._entry_words(e, today) for e in voided]
        title = f"Undone: {lines[0]}." if len(lines) == 1 else f"Undone {len(lines)} entries:"
        body = [] if len(lines) == 1 else [f"• {line}" for line in lines]
        return Reply(ReplyKind.UNDO, (Section(title, tuple(body)), Section(None, tuple(self._progress(s, voided, today)))))

    def _status(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        key = slots.patient or ""
        try:
            month = asked_month(slots.month, today)
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f'{exc} Say it like "status {key} for October".')
        item = self._patient_month(s, key, month)
        if isinstance(item, Reply):
            return item
        device = self._device_status(s, item, today)
        lines = describe(item, today, self._complex_mark(s, item), device).splitlines()
        first = {"consent": consent_answer, "missing": missing_answer}.get(slots.focus or "all")
        title = first(item) if first else lines[0]
        rest = lines if first else lines[1:]
        return say(ReplyKind.STATUS, title, *[line.strip() for line in rest])

    def _patient_month(self, s: Session, key: str, month: date) -> PatientMonth | Reply:
        patient = find_patient(s, key)
        if patient is None:
            return say(ReplyKind.ERROR, None, f"Patient {key} is not on the roster. Check the number, or ask an admin to add the patient.")
        items = month_results(s, month, self.policy, patient_keys=[patient.key])
        if not items:
            return say(ReplyKind.ERROR, None, f"Patient {key} is inactive.")
        return items[0]

    def _report_question(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        """ "Send me the report": the same use case as `/ccm report`; the file rides on the reply."""
        month = "" if slots.month is None else resolve_month(slots.month, today).strftime("%Y-%m")
        reply, csv_text = self._report(s, staff, month, today)
        if csv_text is None:
            return reply
        return replace(reply, file=(f"ccm-report-{month or previous_month(today).strftime('%Y-%m')}.csv", csv_text))

    def record_consent(
        self, by: str | None, key: str, *, program: str, status: str, method: str | None, when: date | None = None, today: date | None = None
    ) -> ConsentRecorded | Reply:
        """Record a consent event: the use case behind chat's "consent 123 verbal today" and `ccmbot consent`.

        by: the roster member recording it, who must be a practitioner or an admin; None is the operator
        at the shell (`ccmbot consent` without --by), audited without an actor."""
        today = self.today(today)
        try:
            with self.db.transaction() as s:
                staff = self._acting(s, by, lambda member: self._may_record_consent(s, member))
                if isinstance(staff, Reply):
                    return staff
                return self._recorded_consent(s, staff, key, program, status, method, when or today, today)
        except LedgerError as exc:
            return say(ReplyKind.ERROR, None, str(exc))

    def _may_record_consent(self, s: Session, staff: Staff) -> Reply | None:
        return _practitioner_or_admin(s, staff, "record consent", "record it")

    def _recorded_consent(
        self, s: Session, staff: Staff | None, key: str, program: str, status: str, method: str | None, when: date, today: date
    ) -> ConsentRecorded:
        patient = require_active_patient(s, key)
        consent = record_consent(s, patient, program=program, status=status, effective_date=when, by=staff, method=method, today=today)
        return ConsentRecorded(patient.key, program, status, method, when, changed=consent is not None)

    def _consent(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        refusal = self._may_record_consent(s, staff)
        if refusal:
            return refusal
        usage = 'Say it like "consent 123 verbal today", "consent 123 written 11/2", "consent 123 RPM verbal" or "consent 123 declined".'
        rest = slots.rest or ""
        key_match = re.match(r"^(?:pt\.?\s*|patient\s*|#)?(?P<key>[\w-]*\d[\w-]*)\b\s*(?P<tail>.*)$", rest, re.I)
        if not key_match:
            return say(ReplyKind.ERROR, None, f"Which patient? {usage}")
        key, tail = key_match.group("key"), key_match.group("tail")
        key = clean_key(key)
        words = set(re.findall(r"[a-z]+", tail.lower()))
        named = [p for p in LOGGED_PROGRAMS if p.lower() in words]
        if len(named) > 1:
            return say(ReplyKind.ERROR, None, f"One program at a time: you named {' and '.join(named)}. Nothing was recorded. {usage}")
        program = named[0] if named else "CCM"
        status = (
            "declined"
            if words & {"declined", "declines", "refused", "no"}
            else "revoked"
            if words & {"revoked", "revoke", "withdrew", "withdrawn"}
            else "granted"
        )
        method = "verbal" if words & {"verbal", "verbally", "phone"} else "written" if words & {"written", "signed", "paper", "form"} else None
        if status == "granted" and method is None:
            return say(ReplyKind.ERROR, None, f"How was consent given, verbal or written? {usage}")
        try:
            when = read_date(tail, today) or today
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f"{exc} {usage}")
        done = self._recorded_consent(s, staff, key, program, status, method, when, today)
        how = f" ({method})" if method else ""
        if not done.changed:
            return say(ReplyKind.CONSENT, None, f"Already on file: patient {done.patient} {program} consent {status}{how} on {when.isoformat()}.")
        verb = {"granted": "gave", "declined": "declined", "revoked": "revoked"}[status]
        title = f"Recorded: patient {done.patient} {verb} {program} consent{how} on {day_words(when)} {when.year}."
        item = month_results(s, today, self.policy, patient_keys=[done.patient])
        progress = [progress_line(item[0], program, today)] if item else []
        return say(ReplyKind.CONSENT, title, *progress)

    # --- complex CCM: a patient-month of moderate or high complexity decision making ------------

    def mark_complex(
        self, by: str, key: str, *, reason: str | None, month: date | None = None, today: date | None = None
    ) -> ComplexMarked | Reply:
        """Mark a patient-month as complex CCM with a reason, or unmark it (reason=None): the use case
        behind chat's "complex 123 for October: ...", `/ccm complex` and `ccmbot patients complex`.

        by: the roster member doing it, who must be a practitioner or an admin (it is the billing
        practitioner's medical decision making). The reason (3 to 200 characters of plain text) is
        checked before anything is written; an unknown patient, a month that has not started or a
        closed month is refused; the change is audited with before and after."""
        today = self.today(today)
        try:
            with self.db.transaction() as s:
                staff = self._roster_member(s, by)
                if isinstance(staff, Reply):
                    return staff
                refusal = self._may_mark_complex(s, staff)
                if refusal:
                    return refusal
                return self._marked_complex(s, staff, key, month or today, reason, today)
        except LedgerError as exc:
            return say(ReplyKind.ERROR, None, str(exc))

    def _may_mark_complex(self, s: Session, staff: Staff) -> Reply | None:
        return _practitioner_or_admin(s, staff, "mark a month complex: it is the billing practitioner's medical decision making", "mark it")

    @staticmethod
    def _marked_complex(s: Session, staff: Staff, key: str, month: date, reason: str | None, today: date) -> ComplexMarked:
        if reason is not None:
            complex_reason(reason)  # the reason first: nothing is looked up or written for a bad one
        patient = require_active_patient(s, key)
        outcome = set_complex_month(s, patient, month, reason=reason, by=staff, today=today)
        now = complex_marks(s, month, [patient.id]).get(patient.id)
        return ComplexMarked(patient.key, month.replace(day=1), now.reason if now else None, outcome)

    def _complex_mark(self, s: Session, item: PatientMonth) -> ComplexMark | None:
        """Why and by whom the item's month is marked complex (read only when it is)."""
        if not item.facts.complex_mdm:
            return None
        return complex_marks(s, item.result.month, [item.patient.patient_id]).get(item.patient.patient_id)

    def _complex_month(self, slots: Slots, today: date, usage: str) -> date | Reply:
        try:
            return resolve_month(slots.month, today)
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f"{exc} {usage}")

    def _complex(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        refusal = self._may_mark_complex(s, staff)
        if refusal:
            return refusal
        usage = 'Say it like "complex 123 for October: new insulin regimen, 3 specialists", or "not complex 123".'
        if not slots.patient:
            return say(ReplyKind.ERROR, None, f"Which patient? {usage}")
        month = self._complex_month(slots, today, usage)
        if isinstance(month, Reply):
            return month
        if not (slots.rest or "").strip():
            example = f'"complex {slots.patient} for {month:%B}: new insulin regimen, 3 specialists"'
            return say(ReplyKind.ERROR, None, f"Say why in a few words: {example}. Nothing was changed.")
        done = self._marked_complex(s, staff, slots.patient, month, slots.rest, today)
        what = f"patient {done.patient}'s {month_words(done.month, today)}"
        if done.outcome == "unchanged":
            return say(ReplyKind.COMPLEX, f"Already marked: {what} is complex CCM ({done.reason}). Nothing was changed.")
        if done.outcome == "updated":
            title = f"Updated why {what} is complex CCM: {done.reason}."
        else:
            title = f"Marked {what} as complex CCM (moderate/high MDM): {done.reason}. It bills {COMPLEX_LADDER}."
        return say(ReplyKind.COMPLEX, title, *self._ccm_progress(s, done, today))

    def _not_complex(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        refusal = self._may_mark_complex(s, staff)
        if refusal:
            return refusal
        usage = 'Say it like "not complex 123" or "not complex 123 for October".'
        if not slots.patient or slots.rest:
            return say(ReplyKind.ERROR, None, f"{'Which patient?' if not slots.patient else 'Nothing was changed.'} {usage}")
        month = self._complex_month(slots, today, usage)
        if isinstance(month, Reply):
            return month
        done = self._marked_complex(s, staff, slots.patient, month, None, today)
        what = f"patient {done.patient}'s {month_words(done.month, today)}"
        if done.outcome == "not_marked":
            return say(ReplyKind.COMPLEX, f"{what[0].upper()}{what[1:]} is not marked complex; nothing was changed.")
        title = f"{what[0].upper()}{what[1:]} is no longer marked complex: it bills the standard 99490/99491 ladders."
        return say(ReplyKind.COMPLEX, title, *self._ccm_progress(s, done, today))

    def _ccm_progress(self, s: Session, done: ComplexMarked, today: date) -> list[str]:
        item = month_results(s, done.month, self.policy, patient_keys=[done.patient])
        return [progress_line(item[0], "CCM", today)] if item else []

    # --- RPM episodes: device codes run on 30-day periods from the start of monitoring ------------

    def _device_status(self, s: Session, item: PatientMonth, today: date) -> DeviceStatus | None:
        """The patient's running RPM episode's current period, for a status of this month."""
        if item.result.month != month_bounds(today)[0]:
            return None
        found = device_statuses(s, today, scope=keys_scope([item.patient.key]))
        return found[0] if found else None

    def start_rpm(
        self, by: str, key: str, *, when: date | None = None, device: str | None = None, today: date | None = None
    ) -> RpmChanged | Reply:
        """Start an RPM episode on `when` (default today): the use case behind chat's "RPM set up for
        pt 123 today", "rpm start 123" and `ccmbot rpm start`. Set-up and patient education that day
        make 99453 billable once, with the first 30-day period that has enough data days.

        by: who did the set-up, a clinical staff member or a practitioner (non-clinical staff are
        refused). A future date, a closed month, an unknown patient are refused; a start while an
        episode runs ends that one the day before; the change is audited."""
        return self._rpm_change(by, lambda s, staff, day: self._started(s, staff, key, day, device, self.today(today)), when, today)

    def stop_rpm(self, by: str | None, key: str, *, when: date | None = None, today: date | None = None) -> RpmChanged | Reply:
        """End the running RPM episode on `when` (default today), its last day of monitoring: chat's
        "rpm stop 123" and `ccmbot rpm stop`. by: a clinical staff member or a practitioner; None is
        the operator at the shell (`ccmbot rpm stop` without --as), audited without an actor."""
        return self._rpm_change(by, lambda s, staff, day: self._stopped(s, staff, key, day, self.today(today)), when, today)

    def _acting(self, s: Session, by: str | None, may: Callable[[Staff], Reply | None]) -> Staff | None | Reply:
        """Who acts in a CLI-or-chat use case: None for the operator at the shell, else the roster
        member named, if they may (else the reply that says why not)."""
        if by is None:
            return None
        found = self._roster_member(s, by)
        if isinstance(found, Reply):
            return found
        return may(found) or found

    def _rpm_change(
        self, by: str | None, work: Callable[[Session, Staff | None, date], RpmChanged], when: date | None, today: date | None
    ) -> RpmChanged | Reply:
        day = self.today(today)
        try:
            with self.db.transaction() as s:
                staff = self._acting(s, by, self._may_run_rpm)
                if isinstance(staff, Reply):
                    return staff
                return work(s, staff, when or day)
        except LedgerError as exc:
            return say(ReplyKind.ERROR, None, str(exc))

    @staticmethod
    def _started(s: Session, staff: Staff | None, key: str, day: date, device: str | None, today: date) -> RpmChanged:
        patient = require_active_patient(s, key)
        return _rpm_changed(patient.key, start_episode(s, patient, day=day, device=device, by=staff, today=today))

    @staticmethod
    def _stopped(s: Session, staff: Staff | None, key: str, day: date, today: date) -> RpmChanged:
        patient = require_active_patient(s, key)
        return _rpm_changed(patient.key, stop_episode(s, patient, day=day, by=staff, today=today))

    @staticmethod
    def _may_run_rpm(staff: Staff) -> Reply | None:
        if staff.track != Track.non_clinical:
            return None
        return say(
            ReplyKind.REFUSED,
            None,
            "Only clinical staff and practitioners can start or stop RPM: set-up and patient education (99453) are clinical work. "
            "Ask a nurse, an MA or the practitioner who did it.",
        )

    @staticmethod
    def _rpm_words(slots: Slots, today: date, usage: str) -> tuple[date, str | None] | Reply:
        """The day (default today) and the device a start or a stop names after the key."""
        rest = (slots.rest or "").strip()
        device = None
        said = re.search(r"\(([^)]*)\)|\bdevice\b\s*[:=-]?\s*(.*)$", rest, re.I)
        if said:
            device = (said.group(1) or said.group(2) or "").strip() or None
            rest = (rest[: said.start()] + rest[said.end() :]).strip()
        if not rest:
            return today, device
        try:
            day = read_date(rest, today)
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f"{exc} {usage}")
        if day is None:
            return say(ReplyKind.ERROR, None, f'Which day? I could not read one date in "{rest}", so nothing was changed. {usage}')
        return day, device

    def _rpm_request(self, staff: Staff, slots: Slots, today: date, usage: str) -> tuple[date, str | None] | Reply:
        """What an RPM start or stop says (day, device), or the refusal or question to answer instead."""
        refusal = self._may_run_rpm(staff)
        if refusal:
            return refusal
        if not slots.patient:
            return say(ReplyKind.ERROR, None, f"Which patient? {usage}")
        return self._rpm_words(slots, today, usage)

    def _rpm_start(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        usage = 'Say it like "rpm start 123", "RPM set up for pt 123 today" or "rpm start 123 11/2 device: BP cuff".'
        said = self._rpm_request(staff, slots, today, usage)
        if isinstance(said, Reply):
            return said
        day, device = said
        assert slots.patient
        done = self._started(s, staff, slots.patient, day, device, today)
        return say(ReplyKind.RPM, *rpm_change_words(done, today, staff.name))

    def _rpm_stop(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        usage = 'Say it like "rpm stop 123" or "rpm stop 123 yesterday".'
        said = self._rpm_request(staff, slots, today, usage)
        if isinstance(said, Reply):
            return said
        day, device = said
        assert slots.patient
        if device is not None:
            return say(ReplyKind.ERROR, None, f"A stop takes no device. {usage}")
        done = self._stopped(s, staff, slots.patient, day, today)
        return say(ReplyKind.RPM, *rpm_change_words(done, today, staff.name))

    def _admin_month(self, slots: Slots, today: date) -> date | Reply:
        raw = slots.month or ""
        try:
            return parse_month(raw) if re.match(r"^\d", raw) else resolve_month(raw, today)
        except ValueError as exc:
            return say(ReplyKind.ERROR, None, f'{exc} Say it like "close 2026-10".')

    def _close_month(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        month = self._admin_month(slots, today)
        if isinstance(month, Reply):
            return month
        if month >= month_bounds(today)[0]:
            return say(ReplyKind.ERROR, None, f"{month:%B %Y} has not ended yet; a month can be closed once it is over.")
        close_month(s, month, by=staff)
        return say(ReplyKind.MONTH, None, f"{month:%B %Y} is closed: no time can be logged, changed or undone in it until an admin reopens it.")

    def _reopen_month(self, s: Session, staff: Staff, slots: Slots, today: date) -> Reply:
        month = self._admin_month(slots, today)
        if isinstance(month, Reply):
            return month
        reopen_month(s, month, by=staff)
        return say(ReplyKind.MONTH, None, f"{month:%B %Y} is open again for changes; close it again when the corrections are in.")

    # --- people not on the roster -------------------------------------------------------

    def _roster_member(self, s: Session, user: str) -> Staff | Reply:
        """The active staff member behind a Slack user, or the reply that says why there is none."""
        try:
            staff = find_staff(s, user)
        except LedgerError as exc:  # a name two staff members share
            return say(ReplyKind.ERROR, None, str(exc))
        if staff is None or not staff.active:
            return self._not_on_roster(s, user, staff)
        return staff

    def _not_on_roster(self, s: Session, user: str, staff: Staff | None) -> Reply:
        if staff is not None:
            return say(ReplyKind.UNKNOWN_USER, None, f"{staff.name} is marked inactive on the staff roster; ask an admin to reactivate you.")
        return not_on_roster(AddMe(user, either([m.name for m in admins(s)[:3]] or ["a practice admin"])))
