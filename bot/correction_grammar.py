"""Chat text -> a correction of one logged entry (pure: no database, no clock).

"change my last entry to 25 min", "that was pt 124 not 123", "move my 15 min for pt 123 to
yesterday", "delete my 10 min for pt 456 today", "change Maria Santos's last entry to 25 min",
"delete entry 14". A correction says which entry (a `Pick`) and what it becomes (a `Change`).

The intent grammar asks `looks_like_correction` before the parser sees the text, so a correction
that carries minutes and a patient ("move my 15 min for pt 123 to yesterday") is never logged as
a new entry. A verb alone is not enough: "change pharmacy for pt 123, 10 min" is time to log, so
a correction must name an entry ("my ...", "Maria's ...", "entry 14", "the last ...", "that").
What it becomes is read strictly (minutes, a patient, a day and nothing else); words that are
not understood are named in `problem`, and the use case changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.parsing import classify_activity, clean_key, normalize, read_date, unwrap

_CHANGE_VERBS = r"change|fix|correct|edit|update|amend|move"
_DELETE_VERBS = r"delete|remove|void|erase"
_LAST = r"(?:last|latest|previous|most\s+recent)"
_DURATION = r"\d+(?:\.\d+)?\s*-?\s*(?:min(?:ute)?s?|mn|m|h|hrs?|hours?)\b"
# What may follow the verb: an entry named by number, as the last one, by its minutes, or "that"
# standing alone before "to" (never "cancel this appt ...": "that" must be the whole reference).
_REFERENCE = rf"(?:the\s+)?(?:{_LAST}\b|entry\b|{_DURATION}|(?:that|it|this)(?:\s+one)?(?=\s+(?:to|into|as)\b|\s*[:=]|\s*$))"
_OWNER = r"(?:(?P<my>my|mine)|(?P<name>[a-z][a-z.'-]*(?:\s+[a-z][a-z.'-]*){0,2}?)'s)"
_COMMAND = re.compile(
    rf"^(?P<verb>{_CHANGE_VERBS}|{_DELETE_VERBS})\s+(?:{_OWNER}\s+(?P<owned>(?:{_REFERENCE}|time\b|one\b).*)|(?P<what>{_REFERENCE}.*))$", re.I
)
_THAT_WAS = re.compile(
    r"^(?:(?:no|oops|sorry|actually|wait|correction)\b[,!.:]?\s+)*(?:that|it|this)(?:\s+one)?\s+(?:was|is|should\s+(?:be|have\s+been))\s+"
    r"(?P<new>.+?)(?:\s*,?\s+(?:not|instead\s+of|rather\s+than)\s+(?P<old>.+?))?$",
    re.I,
)
_TARGET_SPLIT = re.compile(r"\s+(?:to|into|as)\s+|\s*[:=]\s*", re.I)
_NUMBER = re.compile(r"\bentry\s*(?:no\.?|number|#)?\s*(?P<n>\d+)\b", re.I)
_LAST_WORDS = re.compile(rf"\b{_LAST}\b", re.I)
_PATIENT = re.compile(r"(?:\b(?:patient|pateint|paitent|patinet|pt)\.?|#)\s*#?\s*(?P<key>[a-z]*\d[\w-]*)", re.I)
_MINUTES = re.compile(
    r"(?<![\w.])(?:(?P<h>\d+(?:\.\d+)?)\s*(?:h|hrs?|hours?)(?:\s*(?P<hm>\d+)\s*(?:m|mins?|minutes?)?)?|(?P<m>\d+(?:\.\d+)?)\s*-?\s*(?:min(?:ute)?s?|mn|m))\b",
    re.I,
)
_BARE_NUMBER = re.compile(r"^\d+$")
# Words that may stand around what a correction says without changing it.
_FILLER = {
    "the", "a", "an", "my", "mine", "entry", "one", "time", "it", "that", "this", "for", "with", "of", "on", "and", "be", "was", "is",
    "should", "please", "pls", "thanks", "thx", "instead", "actually", "really", "minutes", "min", "mins", "patient", "pt", "day",
    "date", "logged", "log", "i", "from",
}  # fmt: skip
# Words a day may be said with (read_date reads them; any other word is not understood).
_DAY_WORDS = {
    "today", "yesterday", "tonight", "morning", "night", "this", "last", "past", "day", "days", "ago", "before", "on", "the", "of", "a",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed", "weds", "thu", "thur",
    "thurs", "fri", "sat", "sun", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "two", "three",
    "four", "five", "six", "seven", "first", "second", "third",
    # said of the future or vaguely: read_date refuses them with the parser's own sentence
    "tomorrow", "tmrw", "tmr", "next", "week", "weeks", "in", "later", "month", "coming", "upcoming", "other", "recently", "earlier",
}  # fmt: skip
# A day for looking at a phrase's shape only (is it a day?), never to decide one.
_SHAPE_DAY = date(2000, 6, 15)

USAGE = 'Say it like "change my last entry to 25 min", "that was pt 124 not 123", "move my 15 min for pt 123 to yesterday" or "delete my 10 min for pt 456 today".'


@dataclass(frozen=True)
class Pick:
    """Which entry: someone's ("me" or a name as written), by number, the last one, or by what it says."""

    owner: str = "me"
    number: int | None = None
    last: bool = False
    patient: str | None = None
    minutes: int | None = None
    day: date | None = None
    activity: str | None = None


@dataclass(frozen=True)
class Change:
    """What the entry becomes; delete: nothing does. `said` is the target as written, for a reply
    that suggests saying it again more precisely ("change entry 14 to 25 min")."""

    delete: bool = False
    patient: str | None = None
    minutes: int | None = None
    day: date | None = None
    said: str = ""

    @property
    def empty(self) -> bool:
        return not self.delete and self.patient is None and self.minutes is None and self.day is None


@dataclass(frozen=True)
class Correction:
    verb: str  # "change", "move", "delete": how to say it again
    pick: Pick
    change: Change
    problem: str | None = None  # what could not be read: nothing may be changed, the reply says this


class _Unread(ValueError):
    """Words of a correction that could not be read; the message is for the person."""


class _Ambiguous(_Unread):
    """A bare number that could be the minutes or the patient: a correction, asked about."""


def _clean(text: str) -> str:
    try:
        text = normalize(unwrap(text))
    except Exception:  # a mixed-script word: read as typed, the roster look-up will not find it
        text = unwrap(text)
    text = re.sub(r"^\s*(?:hey|hi|ok|okay)?\s*(?:@?ccmbot|bot|/ccm)\b[\s,:]*", "", text, flags=re.I)
    text = re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip()
    return re.sub(r"[\s.!]+$", "", text)


def looks_like_correction(text: str) -> bool:
    """Whether the text is a correction of a logged entry (the intent grammar asks, before the parser)."""
    text = _clean(text)
    if text.endswith("?"):
        return False
    if _COMMAND.match(text):
        return True
    that = _THAT_WAS.match(text)
    if that is None:
        return False
    try:
        return not _change(that.group("new"), _SHAPE_DAY).empty
    except _Ambiguous:
        return True  # "that was 25": the answer asks whether 25 is the minutes or the patient
    except _Unread:
        return False  # "that was a 20 min call with pt 123": time to log, not a correction


def read_correction(text: str, today: date) -> Correction:
    """The correction in `text` (which looks_like_correction accepted), read against today."""
    text = _clean(text)
    command = _COMMAND.match(text)
    try:
        if command is not None:
            return _command(command, today)
        that = _THAT_WAS.match(text)
        if that is None:
            raise _Unread(f"I could not read that as a correction. {USAGE}")
        return _that_was(that, today)
    except _Unread as unread:
        return Correction("change", Pick(), Change(), problem=str(unread))


def _command(match: re.Match[str], today: date) -> Correction:
    verb = match.group("verb").lower()
    owner = "me" if match.group("my") or not match.group("name") else match.group("name")
    what = match.group("owned") or match.group("what") or ""
    if verb in _DELETE_VERBS.split("|"):
        return Correction("delete", _pick(what, today, owner), Change(delete=True))
    verb = "move" if verb == "move" else "change"
    parts = _TARGET_SPLIT.split(what)
    if len(parts) < 2 or not parts[-1].strip():
        raise _Unread(f"What should the entry become? {USAGE}")
    # The last "to" separates: "change my 15 min for pt 123 to 20 min".
    split = list(_TARGET_SPLIT.finditer(what))[-1]
    pick_words, target = what[: split.start()], what[split.end() :]
    change = _change(target, today)
    if change.empty:
        raise _Unread(f'I could not read what the entry should become in "{target}". {USAGE}')
    return Correction(verb, _pick(pick_words, today, owner), change)


def _that_was(match: re.Match[str], today: date) -> Correction:
    change = _change(match.group("new"), today)
    old = (match.group("old") or "").strip()
    pick = Pick(last=True)
    if old:
        if _BARE_NUMBER.match(old):
            # "that was pt 124 not 123": the bare number is of the same kind as what it was.
            if change.patient is not None and change.minutes is None:
                pick = Pick(last=True, patient=clean_key(old))
            elif change.minutes is not None and change.patient is None:
                pick = Pick(last=True, minutes=int(old))
            else:
                raise _Ambiguous(f'Is {old} the minutes or the patient? Say "that was pt 124 not pt 123" or "that was 25 min not 15 min".')
        else:
            said = _pick(old, today, "me")
            pick = Pick(last=True, patient=said.patient, minutes=said.minutes, day=said.day, activity=said.activity)
    return Correction("change", pick, change)


def _blank(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


def _minutes(match: re.Match[str]) -> int:
    """A duration's whole minutes; a fraction of a minute is not read."""
    if match.group("m") is not None:
        value = float(match.group("m"))
    else:
        value = float(match.group("h")) * 60 + float(match.group("hm") or 0)
    if value != int(value):
        raise _Unread(f'"{match.group(0)}" is not a whole number of minutes; say it like "25 min".')
    return int(value)


def _pick(words: str, today: date, owner: str) -> Pick:
    """Which entry the words mean. Words it does not read only leave a filter unset: more entries
    match, and the use case asks which one rather than guessing."""
    number = _NUMBER.search(words)
    if number:
        words = _blank(words, number)
    last = bool(_LAST_WORDS.search(words)) or words.strip().lower() in ("that", "it", "this", "that one", "this one")
    words = _LAST_WORDS.sub(" ", words)
    patient = _PATIENT.search(words)
    if patient:
        words = _blank(words, patient)
    minutes = _MINUTES.search(words)
    if minutes:
        words = _blank(words, minutes)
    try:
        day = read_date(words, today) if words.strip() else None
    except ValueError as exc:
        raise _Unread(str(exc)) from None
    return Pick(
        owner=owner,
        number=int(number.group("n")) if number else None,
        last=last and number is None,
        patient=clean_key(patient.group("key")) if patient else None,
        minutes=_minutes(minutes) if minutes else None,
        day=day,
        activity=classify_activity(words),
    )


def _change(target: str, today: date) -> Change:
    """What the entry becomes: minutes, a patient and a day, each at most once, and nothing else."""
    words = target
    patients = list(_PATIENT.finditer(words))
    durations = list(_MINUTES.finditer(words))
    if len(patients) > 1 or len(durations) > 1:
        raise _Unread(f'"{target.strip()}" names more than one patient or number of minutes; say one of each at most.')
    for match in [*patients, *durations]:
        words = _blank(words, match)
    rest = [w.strip(".'") for w in re.findall(r"[\w/'.-]+", words.lower())]
    rest = [w for w in rest if w and w not in _FILLER]
    if len(rest) == 1 and _BARE_NUMBER.match(rest[0]):
        n = rest[0]
        raise _Ambiguous(f'Is {n} the minutes or the patient? Say "{n} min" or "pt {n}" instead of "{n}".')
    day = None
    if rest:
        unknown = [w for w in rest if w not in _DAY_WORDS and not re.fullmatch(r"\d[\d/.-]*(?:st|nd|rd|th)?", w)]
        if unknown:
            raise _Unread(
                f'I could not read "{" ".join(unknown)}": a correction changes the minutes, the patient or the day. '
                "For anything else, delete the entry and log it again."
            )
        try:
            day = read_date(" ".join(rest), today)
        except ValueError as exc:
            raise _Unread(str(exc)) from None
        if day is None:
            raise _Unread(f'I could not read "{" ".join(rest)}" as one day. Say "today", "yesterday", a weekday like "Monday", or a date like 11/3.')
    return Change(
        patient=clean_key(patients[0].group("key")) if patients else None,
        minutes=_minutes(durations[0]) if durations else None,
        day=day,
        said=target.strip(),
    )
