"""Timers: "start pt 123 call", then "stop" logs the whole minutes elapsed as an entry.

The use cases behind chat, `/ccm start`, the Stop and Start buttons and the end-of-day DM; the
doors translate and render, every rule is here:

- A timer belongs to the person who started it, and only they can stop or cancel it. They may
  run one per patient at once; a bare "stop" or "cancel timer" with more than one running asks
  which, listing them, and changes nothing.
- Stopping logs floor(minutes elapsed) through the ledger's one logging call (storage.entries),
  so the entry is checked like any other (patient on the roster and active, the per-entry
  maximum, a closed month, a future day) and confirmed like any other, with the running total
  and Undo. Its day of service is the practice-local day the timer started. A refusal rolls the
  stop back: the timer keeps running and the reply says so.
- Under a minute logs nothing and drops the timer; over the per-entry maximum logs nothing,
  drops the timer and asks for the minutes. Both say so.
- The clock is passed in (a message's `when`, the terminal's `/now`), like "today".
- A timer still running at the end of its day gets one DM (bot/reminders.py, kind "timers").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.intents import Intent, IntentName, Slots
from bot.months import local_today
from bot.observability import ENTRIES
from bot.parsing import classify_activity, interactive_contact
from bot.replies import Reply, ReplyKind, RunningTimer, Section, activity_words, day_words, say
from storage.entries import EntryDraft, log_entries
from storage.errors import LedgerError
from storage.models import ACTIVITIES, Staff, Timer
from storage.roster import find_patient, require_active_patient
from storage.timers import all_running, as_utc, audit_end, end_timer, running_timers, start_timer, timer_by_id

if TYPE_CHECKING:
    from bot.assistant import Assistant

TIMER_INTENTS = frozenset({IntentName.TIMER_START, IntentName.TIMER_STOP, IntentName.TIMER_CANCEL, IntentName.TIMERS})
USAGE = 'Say it like "start pt 123 call", "stop" (or "stop 123" with several running) or "cancel timer".'
START_USAGE = 'Say it like "start pt 123 call" or "start 123 med review".'


class StillRunning(LedgerError):
    """A stop the ledger refused: raised out of the unit of work, so the timer's end rolls back too."""


@dataclass(frozen=True)
class TimerDue:
    """A running timer whose end-of-day DM is due: to `slack_id`, keyed by the timer."""

    timer_id: int
    slack_id: str


def clock_words(moment: datetime, tz: ZoneInfo, today: date | None = None) -> str:
    """ "10:02 AM" in the practice's time, with the day when it is not `today` ("4:50 PM Thu Nov 26")."""
    local = moment.astimezone(tz)
    words = f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    return words if today is None or local.date() == today else f"{words} {day_words(local.date(), today)}"


def elapsed_words(minutes: int) -> str:
    """ "14 min", "2 h 5 min"."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def first_reminder(started_at: datetime, at: time, tz: ZoneInfo) -> datetime:
    """When a timer's end-of-day DM is due: its start day's reminder time, or the next day's for a
    timer started after it. A timer running since an earlier day is due at once: a restart never skips it."""
    local = started_at.astimezone(tz)
    day = local.date() if local.time() < at else local.date() + timedelta(days=1)
    return datetime.combine(day, at, tzinfo=tz)


class Timers:
    """The timer use cases, bound to the assistant whose roster rule, ledger confirmation and
    settings they share (one door's rule is every door's rule): its unit of work (`_as_member`)
    and its confirmation words (`_entry_words`, `_progress`) are reused, so a stopped timer's
    entry reads exactly like a logged message's."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    @property
    def tz(self) -> ZoneInfo:
        return self.assistant.settings.tz

    def instant(self, today: date | None, when: datetime | None) -> datetime:
        """The moment a message was said: `when`; with only a `today` given (the demo's /today, a
        back-fill), this time of day on that day; else now."""
        if when is not None:
            return when.astimezone(UTC)
        now = self.assistant._now()
        if today is None:
            return now
        return datetime.combine(today, now.astimezone(self.tz).time(), tzinfo=self.tz).astimezone(UTC)

    # --- the doors' calls ---------------------------------------------------------------------

    def answer(self, user: str, intent: Intent, now: datetime, *, source: str = "terminal") -> Reply:
        """A timer intent from chat or `/ccm` (start, stop, cancel, list)."""
        handlers: dict[IntentName, Callable[[Session, Staff, Slots, datetime], Reply]] = {
            IntentName.TIMER_START: lambda s, staff, slots, at: self._start(s, staff, slots, at, source),
            IntentName.TIMER_STOP: lambda s, staff, slots, at: self._chosen(s, staff, slots, at, self._stop, "stop"),
            IntentName.TIMER_CANCEL: lambda s, staff, slots, at: self._chosen(s, staff, slots, at, self._cancel, "cancel timer"),
            IntentName.TIMERS: self._list,
        }
        handler = handlers[intent.name]
        return self.assistant._as_member(user, lambda s, staff: handler(s, staff, intent.slots, now))

    def stop_button(self, user: str, timer_id: int, now: datetime | None = None) -> Reply:
        """A Stop button (on the bot's message, the DM or the Home tab): stop exactly that timer."""
        return self.assistant._as_member(user, lambda s, staff: self._by_id(s, staff, timer_id, now or self.assistant._now(), self._stop))

    def cancel_button(self, user: str, timer_id: int, now: datetime | None = None) -> Reply:
        return self.assistant._as_member(user, lambda s, staff: self._by_id(s, staff, timer_id, now or self.assistant._now(), self._cancel))

    def start_form(self, user: str, patient: str, activity: str, now: datetime | None = None) -> tuple[Reply | None, dict[str, str]]:
        """The Home tab's start form: (reply, {}) or (None, {field: what is wrong}), nothing stored then."""
        key = patient.strip()
        if not key:
            return None, {"patient": "Enter the patient's key as the practice writes it, like 123 or 00045123."}
        if activity and activity not in ACTIVITIES:
            return None, {"activity": "Pick an activity from the list."}
        slots = Slots(patient=key)
        reply = self.assistant._as_member(user, lambda s, staff: self._start(s, staff, slots, now or self.assistant._now(), "slack", activity or None))
        if reply.kind.is_refusal:
            return None, {"patient": reply.text}
        return reply, {}

    def on_home(self, s: Session, staff: Staff, now: datetime) -> tuple[tuple[RunningTimer, ...], tuple[str, ...]]:
        """A person's running timers for the Home tab, with their lines in words."""
        timers = running_timers(s, staff.id)
        today = local_today(self.tz, now)
        return tuple(self._shown(t) for t in timers), tuple(self._line(t, now, today) for t in timers)

    # --- start -----------------------------------------------------------------------------

    def _start(self, s: Session, staff: Staff, slots: Slots, now: datetime, source: str, activity: str | None = None) -> Reply:
        if not slots.patient:
            return say(ReplyKind.ERROR, None, f"Which patient is the timer for? {START_USAGE}")
        words = slots.rest or ""
        patient = require_active_patient(s, slots.patient)
        activity = activity or classify_activity(words) or "other"
        timer, new = start_timer(
            s,
            staff=staff,
            patient=patient,
            activity=activity,
            program=slots.program,
            interactive=interactive_contact(words),
            started_at=now,
            source=source[:16],
        )
        today = local_today(self.tz, now)
        if not new:
            return Reply(
                ReplyKind.ERROR,
                (
                    Section(
                        f"You already have a timer running for patient {patient.key}: {self._line(timer, now, today, with_key=False)}. "
                        f'Say "stop {patient.key}" to log it, or "cancel timer {patient.key}" to drop it. Nothing was changed.'
                    ),
                ),
                timers=(self._shown(timer),),
            )
        program = f" ({timer.program})" if timer.program else ""
        lines = ['Say "stop" when you are done and I log the whole minutes, like any entry; "cancel timer" drops it.']
        others = [t for t in running_timers(s, staff.id) if t.id != timer.id]
        if others:
            keys = [*(t.patient.key for t in others), patient.key]
            lines = [
                f"You have {len(keys)} timers running now: "
                + ", ".join(f"patient {t.patient.key} since {clock_words(as_utc(t.started_at), self.tz, today)}" for t in others)
                + f' and this one. Say which to stop: "stop {keys[0]}"' + "".join(f' or "stop {k}"' for k in keys[1:]) + "."
            ]
        title = f"Timer started for patient {patient.key}: {activity_words(activity)}{program}, at {clock_words(now, self.tz, today)} ({staff.name})."
        return Reply(ReplyKind.TIMER, (Section(title, tuple(lines)),), timers=(self._shown(timer),))

    # --- which timer -----------------------------------------------------------------------

    def _chosen(
        self, s: Session, staff: Staff, slots: Slots, now: datetime, act: Callable[[Session, Staff, Timer, datetime], Reply], verb: str
    ) -> Reply:
        """The timer a "stop" or "cancel timer" means: the one named, or the only one running; with
        several and none named, the question which (nothing changed)."""
        if slots.rest:
            return say(ReplyKind.ERROR, None, f'I read "{verb}" for your timer, but not "{slots.rest}". {USAGE} Nothing was changed.')
        running = running_timers(s, staff.id)
        today = local_today(self.tz, now)
        if not running:
            return say(ReplyKind.ERROR, None, 'You have no timer running. Start one like "start pt 123 call".')
        if slots.patient is not None:
            patient = find_patient(s, slots.patient)
            mine = [t for t in running if patient is not None and t.patient_id == patient.id]
            if not mine:
                return self._which(f"You have no timer running for patient {slots.patient}; nothing was changed. Yours:", running, now, today)
            return act(s, staff, mine[0], now)
        if len(running) > 1:
            keys = [t.patient.key for t in running]
            said = " or ".join(f'"{verb} {k}"' for k in keys)
            return self._which(f"You have {len(running)} timers running; say which: {said}. Nothing was changed.", running, now, today)
        return act(s, staff, running[0], now)

    def _by_id(self, s: Session, staff: Staff, timer_id: int, now: datetime, act: Callable[[Session, Staff, Timer, datetime], Reply]) -> Reply:
        timer = timer_by_id(s, timer_id) if 1 <= timer_id <= 2**31 - 1 else None
        if timer is None or timer.staff_id != staff.id:
            # A timer is its owner's alone: another person's (or a forged) button changes nothing.
            return say(ReplyKind.REFUSED, None, "That button is for a timer that is not yours; only the person who started a timer can stop or cancel it. Nothing was changed.")
        if timer.stopped_at is not None:
            return self._already(timer, now)
        return act(s, staff, timer, now)

    def _already(self, timer: Timer, now: datetime) -> Reply:
        assert timer.stopped_at is not None
        what = "cancelled" if timer.outcome == "cancelled" else "stopped"
        at = clock_words(as_utc(timer.stopped_at), self.tz, local_today(self.tz, now))
        return say(ReplyKind.ERROR, None, f"That timer for patient {timer.patient.key} was already {what} at {at}; nothing more was changed.")

    def _which(self, title: str, running: list[Timer], now: datetime, today: date) -> Reply:
        lines = tuple(f"• {self._line(t, now, today)}" for t in running)
        return Reply(ReplyKind.ERROR, (Section(title, lines),), timers=tuple(self._shown(t) for t in running))

    # --- stop and cancel -------------------------------------------------------------------

    def _stop(self, s: Session, staff: Staff, timer: Timer, now: datetime) -> Reply:
        key = timer.patient.key
        started = as_utc(timer.started_at)
        today = local_today(self.tz, now)
        seconds = (now - started).total_seconds()
        since = clock_words(started, self.tz, today)
        if seconds < 0:
            return say(
                ReplyKind.ERROR,
                None,
                f"Your timer for patient {key} started at {since}, later than the time now ({clock_words(now, self.tz, today)}); "
                f'nothing was logged and it is still running. "cancel timer {key}" drops it.',
            )
        minutes = int(seconds // 60)
        most = self.assistant.settings.max_minutes_per_entry
        if minutes < 1:
            if not end_timer(s, timer, outcome="too_short", at=now):
                return self._already(timer, now)
            audit_end(s, staff, timer)
            return say(
                ReplyKind.TIMER,
                f"Stopped your timer for patient {key} after less than a minute: nothing was logged (an entry is at least 1 whole minute), and the timer is gone.",
            )
        if minutes > most:
            if not end_timer(s, timer, outcome="too_long", at=now):
                return self._already(timer, now)
            audit_end(s, staff, timer)
            day = started.astimezone(self.tz).date()
            return say(
                ReplyKind.TIMER,
                f"Your timer for patient {key} ran {elapsed_words(minutes)} ({minutes} min, since {since}), more than the {most} min one entry may hold, "
                "so I stopped it and logged nothing.",
                f'How many minutes did the work take? Log them like any entry, e.g. "45 min {activity_words(timer.activity)} pt {key} on {day.month}/{day.day}"; '
                "split longer work into several entries.",
            )
        if not end_timer(s, timer, outcome="logged", at=now):
            return self._already(timer, now)
        return self._logged(s, staff, timer, minutes, now, today)

    def _logged(self, s: Session, staff: Staff, timer: Timer, minutes: int, now: datetime, today: date) -> Reply:
        key = timer.patient.key
        started = as_utc(timer.started_at)
        draft = EntryDraft(key, minutes, started.astimezone(self.tz).date(), timer.activity, timer.program, None, timer.interactive)
        try:
            result = log_entries(
                s,
                [draft],
                performed_by=staff,
                logged_by=staff,
                source="timer",
                source_group=f"timer:{timer.id}",  # the timer is the idempotency key: it logs once
                today=today,
                max_minutes=self.assistant.settings.max_minutes_per_entry,
            )
        except LedgerError as exc:  # raised out of the unit of work: the timer's end rolls back with it
            raise StillRunning(
                f'Nothing was logged. {exc} Your timer for patient {key} is still running: "stop {key}" tries again, "cancel timer {key}" drops it.'
            ) from exc
        entry = result.entries[0]
        audit_end(s, staff, timer, entry.id)
        if not result.duplicate:
            ENTRIES.labels("timer").inc()
        words = self.assistant._entry_words(entry, today)
        title = f"Logged {words} ({staff.name})."
        span = f"From your timer, {clock_words(started, self.tz, today)} to {clock_words(now, self.tz, today)}."
        progress = self.assistant._progress(s, [entry], today)
        return Reply(ReplyKind.LOGGED, (Section(title, (span,)), Section(None, tuple(progress))), entry_ids=(entry.id,))

    def _cancel(self, s: Session, staff: Staff, timer: Timer, now: datetime) -> Reply:
        if not end_timer(s, timer, outcome="cancelled", at=now):
            return self._already(timer, now)
        audit_end(s, staff, timer)
        today = local_today(self.tz, now)
        line = self._line(timer, now, today, with_key=False, running=False)
        return say(ReplyKind.TIMER, f"Cancelled your timer for patient {timer.patient.key} ({line}): nothing was logged.")

    def _list(self, s: Session, staff: Staff, slots: Slots, now: datetime) -> Reply:
        running = running_timers(s, staff.id)
        if not running:
            return say(ReplyKind.TIMER, None, 'You have no timer running. Start one like "start pt 123 call".')
        today = local_today(self.tz, now)
        title = "Your running timer:" if len(running) == 1 else f"Your {len(running)} running timers:"
        return Reply(ReplyKind.TIMER, (Section(title, tuple(f"• {self._line(t, now, today)}" for t in running)),), timers=tuple(self._shown(t) for t in running))

    # --- words ---------------------------------------------------------------------------

    def _line(self, timer: Timer, now: datetime, today: date, *, with_key: bool = True, running: bool = True) -> str:
        """ "patient 123: patient outreach, since 10:02 AM (14 min)"."""
        started = as_utc(timer.started_at)
        program = f" ({timer.program})" if timer.program else ""
        ran = f" ({elapsed_words(max(0, int((now - started).total_seconds() // 60)))})" if running else ""
        words = f"{activity_words(timer.activity)}{program}, since {clock_words(started, self.tz, today)}{ran}"
        return f"patient {timer.patient.key}: {words}" if with_key else words

    @staticmethod
    def _shown(timer: Timer) -> RunningTimer:
        return RunningTimer(timer.id, timer.patient.key, timer.activity, as_utc(timer.started_at))


# --- the end-of-day DM (bot/reminders.py, kind "timers") ----------------------------------------


def timers_due(s: Session, settings: Settings, now: datetime) -> list[TimerDue]:
    """Running timers whose end-of-day DM is due by `now`, sent or not: the delivery key (one per
    timer) decides, so a timer gets one DM however long it runs and however often the bot restarts."""
    return [TimerDue(t.id, slack_id) for t, slack_id in all_running(s) if first_reminder(as_utc(t.started_at), settings.timers_time, settings.tz) <= now]


def timer_reminder(s: Session, settings: Settings, timer_id: int, today: date) -> Reply | None:
    """The DM for a timer still running at the end of its day, with its Stop button; None once it stopped."""
    timer = timer_by_id(s, timer_id)
    if timer is None or timer.stopped_at is not None:
        return None
    started = as_utc(timer.started_at)
    key = timer.patient.key
    title = f"Your timer for patient {key} ({activity_words(timer.activity)}) is still running, since {clock_words(started, settings.tz, today)}."
    line = (
        f'Press Stop or say "stop {key}" to log it (up to {settings.max_minutes_per_entry} min; longer, I ask for the minutes), '
        f'or "cancel timer {key}" to drop it.'
    )
    return Reply(ReplyKind.TIMER, (Section(title, (line,)),), timers=(Timers._shown(timer),))
