"""Corrections: one logged entry replaced or deleted through the ledger; a person's entries listed
with the numbers a correction can name; and the hint that a new entry repeats one just logged.

Every door comes here through the assistant: chat ("change my last entry to 25 min", "that was
pt 124 not 123"), the Slack list's Edit and Delete buttons and its edit form, `ccmbot log`. Who
may correct what, and the checks the new entry passes, live here and in
storage.entries.correct_entry, never in a door. It never guesses which entry: a correction that
matches several asks which one, listing them with their numbers and the exact words that name
one; one that matches none says so. Nothing changes until exactly one entry is found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.correction_grammar import Change, Correction, Pick, read_correction
from bot.intents import Slots, period_bounds
from bot.months import previous_month
from bot.replies import LIST_LIMIT, Reply, ReplyKind, Section, activity_words, day_words, either, plural, say
from storage.entries import Corrected, EntryDraft, correct_entry, correction_applied, default_program, newest_correction, newest_logged, undo_correction
from storage.entry_picks import EntryFilter, earlier_twin, entry_by_number, entry_numbers, logged_at, own_entries
from storage.errors import LedgerError
from storage.models import Staff, TimeEntry, Track
from storage.roster import staff_named

# An identical entry logged this soon before another is probably the same work said twice.
REPEAT_WINDOW = timedelta(minutes=10)
# Entries shown with Edit and Delete buttons in one Slack message (two blocks each, of Slack's 50).
BUTTON_ROWS = 20

Words = Callable[[TimeEntry, date], str]
Progress = Callable[[Session, Iterable[TimeEntry], date], list[str]]


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: compare them as aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def repeat_lines(s: Session, entries: Sequence[TimeEntry], tz: ZoneInfo) -> list[str]:
    """For new entries: a line for each that repeats an identical entry of the same person logged
    within REPEAT_WINDOW before it ("Looks like a repeat of your 10:02 entry"), at the time
    that entry was logged in the practice's time zone. Logged all the same: it may be real."""
    lines = []
    for entry in entries:
        twin = earlier_twin(s, entry, REPEAT_WINDOW)
        if twin is not None:
            at = logged_at(twin).astimezone(tz)
            lines.append(f"Looks like a repeat of your {at:%H:%M} entry ({twin.minutes} min {activity_words(twin.activity)} for patient {entry.patient.key}).")
    if lines:
        lines.append('If it is, press Undo or say "undo" to take this message\'s time back.')
    return lines


class Corrections:
    """Correcting entries for one person in one unit of work (the assistant opens it)."""

    def __init__(
        self,
        s: Session,
        staff: Staff,
        today: date,
        *,
        words: Words,
        progress: Progress,
        max_minutes: int,
        source: str = "terminal",
        key: str | None = None,
        when: datetime | None = None,
    ) -> None:
        self.s, self.staff, self.today = s, staff, today
        self.words, self.progress, self.max_minutes = words, progress, max_minutes
        self.source, self.key, self.when = source, key, when

    # --- chat: "change my last entry to 25 min" ------------------------------------------------

    def answer(self, text: str) -> Reply:
        if self.key is not None and correction_applied(self.s, self.key):
            # A retry of a correction already applied: "my last entry" is another entry by now.
            return say(ReplyKind.CORRECTED, None, "Already corrected (this message was received before).", duplicate=True)
        said = read_correction(text, self.today)
        if said.problem is not None:
            return say(ReplyKind.ERROR, None, f"Nothing was changed. {said.problem}")
        owner = self._owner(said.pick.owner)
        if isinstance(owner, Reply):
            return owner
        found = self._find(owner, said)
        if isinstance(found, Reply):
            return found
        if said.change.delete:
            return self._done(self._correct(found, None))
        draft = self._draft(found, said.change)
        if isinstance(draft, Reply):
            return draft
        return self._done(self._correct(found, draft))

    def _owner(self, name: str) -> Staff | Reply:
        """Whose entry: the speaker's, or a colleague's, which only an admin may correct."""
        if name == "me":
            return self.staff
        matches = staff_named(self.s, name)
        if not matches:
            return say(ReplyKind.ERROR, None, f"Nothing was changed: no one called {name} is on the roster. Check the name.")
        if len(matches) > 1:
            return say(ReplyKind.ERROR, None, f"Nothing was changed: {name} could be {either([m.name for m in matches])}; say the full name.")
        owner = matches[0]
        if owner.id != self.staff.id and not self.staff.is_admin:
            return say(
                ReplyKind.REFUSED,
                None,
                f"Only admins can correct a colleague's time; ask {owner.name} to correct it, or an admin. Nothing was changed.",
            )
        return owner

    def _whose(self, owner: Staff) -> str:
        return "your" if owner.id == self.staff.id else f"{owner.name}'s"

    def _find(self, owner: Staff, said: Correction) -> TimeEntry | Reply:
        """The one entry the correction means, or the reply that asks which (or says there is none)."""
        pick = said.pick
        whose = self._whose(owner)
        if pick.number is not None:
            entry = entry_by_number(self.s, owner.id, pick.number)
            if entry is None:
                return say(ReplyKind.ERROR, None, f'Nothing was changed: {whose} entries have no number {pick.number}. Say "my entries today" to see them with their numbers.')
            if entry.voided_at is not None:
                return say(ReplyKind.ERROR, None, f"Nothing was changed: entry {pick.number} ({self.words(entry, self.today)}) was already corrected or taken back.")
            return entry
        start = previous_month(self.today)  # what chat can log: last month and this month
        matches = own_entries(self.s, owner.id, start, self.today, EntryFilter(pick.patient, pick.minutes, pick.day, pick.activity))
        if pick.last and matches:
            newest = matches[-1].source_group
            matches = [m for m in matches if m.source_group == newest]
        described = _described(pick, self.today)
        if not matches and not described:
            who = "you have" if owner.id == self.staff.id else f"{owner.name} has"
            return say(ReplyKind.ERROR, None, f"Nothing was changed: {who} no entries from {start:%B} {start.day} on to correct.")
        if not matches:
            where = "" if pick.day else f" from {start:%B} {start.day} on"
            return say(
                ReplyKind.ERROR,
                None,
                f"Nothing was changed: I found no entry of {whose.replace('your', 'yours')}{described}{where}. "
                'Say "my entries today" or "my entries this week" to see them with their numbers.',
            )
        if len(matches) == 1:
            return matches[0]
        return self._which(owner, said, matches, described)

    def _which(self, owner: Staff, said: Correction, matches: list[TimeEntry], described: str) -> Reply:
        numbers = entry_numbers(self.s, owner.id, [m.id for m in matches])
        shown = sorted(matches, key=lambda m: numbers[m.id])
        lines = [f"{numbers[m.id]}. {self.words(m, self.today)}" for m in shown[:LIST_LIMIT]]
        if len(shown) > LIST_LIMIT:
            lines.append(f"…and {len(shown) - LIST_LIMIT} more: say more (the patient, the minutes, the day) to narrow it down.")
        which = f"in {self._whose(owner)} last message" if said.pick.last and not described else f"match{described}"
        title = f"Which one? {plural(len(matches), 'entry', 'entries')} of {self._whose(owner).replace('your', 'yours')} {which}:"
        again = _again(said, numbers[shown[-1].id], "" if owner.id == self.staff.id else f"{owner.name}'s ")
        rows = tuple((m.id, line) for m, line in zip(shown[:BUTTON_ROWS], lines, strict=False) if self._may_change(m))
        return Reply(
            ReplyKind.ERROR,
            (Section(title, tuple(lines)), Section(None, (f'Say it again with the entry\'s number, like "{again}". Nothing was changed.',))),
            entry_rows=rows,
        )

    def _draft(self, entry: TimeEntry, change: Change) -> EntryDraft | Reply:
        """The entry as it should be: what the correction says, the rest as it was."""
        key = change.patient or entry.patient.key
        program: str | None = entry.program
        if key != entry.patient.key and entry.program == default_program(entry.patient):
            program = None  # it came from the old patient's enrolment: the new patient's decides
        draft = EntryDraft(key, change.minutes or entry.minutes, change.day or entry.service_date, entry.activity, program, entry.note, entry.interactive)
        if (draft.patient_key, draft.minutes, draft.service_date) == (entry.patient.key, entry.minutes, entry.service_date):
            return say(ReplyKind.ERROR, None, f"Nothing was changed: that entry is already {self.words(entry, self.today)}.")
        oldest = previous_month(self.today)
        if draft.service_date < oldest and self.source != "cli":
            return say(
                ReplyKind.ERROR,
                None,
                f"Nothing was changed: {draft.service_date:%B} {draft.service_date.day}, {draft.service_date.year} is before {oldest:%B %Y}; "
                "chat takes time from last month and this month only. An admin can correct older time with `ccmbot log`.",
            )
        return draft

    def _correct(self, entry: TimeEntry, draft: EntryDraft | None) -> Corrected:
        """The ledger's correction. A refusal is raised on (the unit of work rolls back), saying nothing changed."""
        try:
            return correct_entry(
                self.s,
                entry,
                draft,
                by=self.staff,
                key=self.key,
                source=self.source,
                today=self.today,
                max_minutes=self.max_minutes,
                created_at=self.when,
            )
        except LedgerError as exc:
            raise type(exc)(f"Nothing was changed. {exc}") from exc

    def _done(self, done: Corrected) -> Reply:
        if done.duplicate:
            return say(ReplyKind.CORRECTED, None, "Already corrected (this message was received before).", duplicate=True)
        old, new = done.old, done.new
        owner = old.performed_by
        touched = [old] if new is None else [old, new]
        numbers = entry_numbers(self.s, owner.id, [e.id for e in touched])
        whose = self._whose(owner)
        progress = tuple(self.progress(self.s, touched, self.today))
        if new is None:
            title = f"Deleted {whose} entry {numbers[old.id]}: {self.words(old, self.today)}."
            return Reply(ReplyKind.CORRECTED, (Section(title), Section(None, progress)))
        lines = (f"• was entry {numbers[old.id]}: {self.words(old, self.today)}", f"• now entry {numbers[new.id]}: {self.words(new, self.today)}")
        by = "" if owner.id == self.staff.id else f" (by {self.staff.name})"
        return Reply(ReplyKind.CORRECTED, (Section(f"Corrected {whose} entry{by}:", lines), Section(None, progress)))

    # --- "undo" right after a correction ---------------------------------------------------------

    def undo_newest(self) -> Reply | None:
        """"undo" when the speaker's newest action was a correction: the correction is undone (its
        replacement taken back, the entry it replaced or deleted restored), instead of taking back
        the entries of an earlier message. None when the newest action was a logged message."""
        event = newest_correction(self.s, self.staff)
        if event is None:
            return None
        latest = newest_logged(self.s, self.staff)
        if latest is not None and not latest.source_group.startswith("correction:") and _utc(latest.created_at) > _utc(event.at):
            return None  # time logged after the correction: undo takes that back, as always
        try:
            done = undo_correction(self.s, event, by=self.staff, today=self.today, max_minutes=self.max_minutes)
        except LedgerError as exc:
            raise type(exc)(f"Nothing was changed. {exc}") from exc
        if done is None:
            return None
        number = entry_numbers(self.s, done.restored.performed_by_id, [done.restored.id])[done.restored.id]
        title = f"Undone your correction; back as entry {number}: {self.words(done.restored, self.today)}."
        body = () if done.voided is None else (f"Taken back: {self.words(done.voided, self.today)}.",)
        touched = [done.restored] + ([done.voided] if done.voided is not None else [])
        return Reply(ReplyKind.UNDO, (Section(title, body), Section(None, tuple(self.progress(self.s, touched, self.today)))))

    def _may_change(self, entry: TimeEntry) -> bool:
        return self.staff.is_admin or self.staff.id in (entry.logged_by_id, entry.performed_by_id)

    # --- one entry by its id: the Slack list's buttons and edit form --------------------------------

    def _entry(self, entry_id: int) -> TimeEntry | Reply:
        entry = self.s.get(TimeEntry, entry_id) if 1 <= entry_id <= 2**31 - 1 else None
        if entry is None:
            return say(ReplyKind.REFUSED, None, "That button does not name an entry of mine; nothing was changed.")
        if not self._may_change(entry):
            return say(ReplyKind.REFUSED, None, "Only the person who logged this time, or an admin, can correct it. Nothing was changed.")
        if entry.voided_at is not None:
            return say(ReplyKind.ERROR, None, f"Nothing was changed: {self.words(entry, self.today)} was already corrected or taken back.")
        return entry

    def delete(self, entry_id: int) -> Reply:
        entry = self._entry(entry_id)
        return entry if isinstance(entry, Reply) else self._done(self._correct(entry, None))

    def form_prefill(self, entry_id: int) -> dict[str, object] | Reply:
        """The log form's fields for an entry about to be edited (refused before the form opens)."""
        entry = self._entry(entry_id)
        if isinstance(entry, Reply):
            return entry
        return {
            "patient": entry.patient.key,
            "minutes": str(entry.minutes),
            "activity": entry.activity,
            "date": entry.service_date,
            "program": entry.program,
            "interactive": entry.interactive,
            "note": entry.note,
        }

    def apply_form(self, entry_id: int, draft: EntryDraft) -> Reply:
        """The edit form sent: the entry becomes what the form says (it was checked as a new entry's form)."""
        entry = self._entry(entry_id)
        if isinstance(entry, Reply):
            return entry
        same = (entry.patient.key, entry.minutes, entry.service_date, entry.activity, entry.program, entry.note, entry.interactive)
        if (draft.patient_key, draft.minutes, draft.service_date, draft.activity, draft.program or entry.program, draft.note, draft.interactive) == same:
            return say(ReplyKind.CORRECTED, None, f"Nothing to change: the entry is still {self.words(entry, self.today)}.")
        return self._done(self._correct(entry, draft))

    # --- "my entries today": numbered, with Edit and Delete in Slack --------------------------------

    def list_entries(self, slots: Slots) -> Reply:
        who = self.staff
        if slots.staff and slots.staff != "me":
            matches = staff_named(self.s, slots.staff)
            if len(matches) != 1:
                names = either([m.name for m in matches]) if matches else ""
                why = f"{slots.staff} could be {names}; say the full name." if matches else f"No one called {slots.staff} is on the roster. Check the name."
                return say(ReplyKind.ERROR, None, why)
            who = matches[0]
            if who.id != self.staff.id and not (self.staff.is_admin or self.staff.track == Track.practitioner):
                return say(ReplyKind.REFUSED, None, f"Only admins and practitioners can see a colleague's entries; ask {who.name} or an admin.")
        start, end, period = period_bounds(slots.period or "today", self.today)
        entries = sorted(own_entries(self.s, who.id, start, end), key=lambda e: (e.service_date, e.id))
        yours = who.id == self.staff.id
        if not entries:
            return say(ReplyKind.MY_TIME, None, f"You have no entries {period}." if yours else f"{who.name} has no entries {period}.")
        numbers = entry_numbers(self.s, who.id, [e.id for e in entries])
        limit = LIST_LIMIT * 2
        lines = [f"{numbers[e.id]}. {self.words(e, self.today)}" for e in entries[:limit]]
        more = (f"…and {len(entries) - limit} more: ask for a shorter period.",) if len(entries) > limit else ()
        owner = "Your" if yours else f"{who.name}'s"
        title = f"{owner} entries {period}: {sum(e.minutes for e in entries)} min in {plural(len(entries), 'entry', 'entries')}."
        tail: tuple[str, ...] = ()
        if yours or self.staff.is_admin:
            last = entries[-1]
            n, whose, other = numbers[last.id], "" if yours else f"{who.name}'s ", 30 if last.minutes != 30 else 25
            tail = (f'To correct one, say it with its number: "change {whose}entry {n} to {other} min", "move {whose}entry {n} to yesterday" or "delete {whose}entry {n}".',)
        rows = tuple((e.id, line) for e, line in zip(entries[:BUTTON_ROWS], lines, strict=False) if self._may_change(e))
        return Reply(ReplyKind.MY_TIME, (Section(title, (*lines, *more)), Section(None, tail)), entry_rows=rows)


def _described(pick: Pick, today: date) -> str:
    """ " for patient 123 of 15 min on Thu Nov 26": what a correction said about its entry."""
    parts = []
    if pick.patient is not None:
        parts.append(f"for patient {pick.patient}")
    if pick.minutes is not None:
        parts.append(f"of {pick.minutes} min")
    if pick.activity is not None:
        parts.append(f"for {activity_words(pick.activity)}")
    if pick.day is not None:
        parts.append(f"on {day_words(pick.day, today)}")
    return "".join(f" {p}" for p in parts)


def _again(said: Correction, number: int, whose: str) -> str:
    """The correction said again with an entry's number: words that name exactly one entry."""
    if said.change.delete:
        return f"delete {whose}entry {number}"
    return f"{said.verb} {whose}entry {number} to {said.change.said}"
