"""Chat text -> time entries, one coded error, or "not an entry".

Pure: the text and today's local date go in, entries come out; no database, no
Slack, no clock. Durations, patient references and dates are read by the
project's own grammar first and cut out of the text, because dateparser's
search over a whole message reads "15 min" as a clock time and bare numbers as
years. dateparser only sees a leftover month-name phrase our grammar did not
recognise.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

DEFAULT_MAX_MINUTES = 240


@dataclass(frozen=True)
class ParsedEntry:
    patient: str
    minutes: int
    date: date
    activity: str
    program: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"patient": self.patient, "minutes": self.minutes, "date": self.date.isoformat(), "activity": self.activity, "program": self.program}


@dataclass(frozen=True)
class ParseError:
    code: str
    message: str


@dataclass(frozen=True)
class ParseResult:
    entries: tuple[ParsedEntry, ...] = ()
    error: ParseError | None = None

    @property
    def is_entry(self) -> bool:
        """True when the message was meant as a log (entries or an error to explain)."""
        return bool(self.entries) or self.error is not None


class _Fail(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = ParseError(code, message)


EXAMPLE = 'Write it like "15 min med review for pt 123" or "pt 456: 1h15m care plan yesterday".'

# --- numbers ------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD_NUMBER = (
    r"(?:(?:" + "|".join(_TENS) + r")(?:[\s-]+(?:" + "|".join(k for k in _UNITS if _UNITS[k] < 10 and _UNITS[k] > 0) + r"))?"
    r"|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"
)


def _word_value(text: str) -> int:
    parts = re.split(r"[\s-]+", text.strip())
    return sum(_TENS.get(p, _UNITS.get(p, 0)) for p in parts)


def _number(text: str) -> float:
    text = text.strip().lower()
    if text in ("a", "an"):
        return 1
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return float(text)
    return float(_word_value(text))


# --- durations ----------------------------------------------------------------

_NUM = r"(?:-?\d+(?:\.\d+)?|" + _WORD_NUMBER + r")"
_H = r"(?:hours?|hrs?|h)"
_M = r"(?:minutes?|mins?|m)"
_DURATION_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:an?|one)\s+hour\s+and\s+a\s+half\b"), "90"),
    (re.compile(r"\b(?:one|1)\s+and\s+a\s+half\s+hours?\b"), "90"),
    (re.compile(r"\b(?:half\s+an\s+hour|a\s+half[\s-]hour|half[\s-]hour)\b"), "30"),
    (re.compile(r"\b(?:a\s+quarter\s+(?:of\s+an\s+)?hour|quarter[\s-]hour)\b"), "15"),
    (re.compile(r"\b(?:three\s+quarters\s+of\s+an\s+hour)\b"), "45"),
    (re.compile(rf"(?<![\w.])(?P<h>{_NUM})\s*{_H}\.?,?\s*(?:and\s+)?(?P<m>{_NUM})\s*{_M}\b\.?"), "hm"),
    (re.compile(rf"(?<![\w.])(?P<h>{_NUM}|an?)\s*{_H}\b\.?"), "h"),
    (re.compile(rf"(?<![\w.])(?P<m>{_NUM})\s*{_M}\b\.?"), "m"),
]
_CLOCK = re.compile(r"(?<![\w/])(\d{1,2}):(\d{2})(?!\s*(?:am|pm|a\.m|p\.m))\b")


@dataclass
class _Token:
    kind: str  # duration | patient | date | clock
    start: int
    end: int
    value: Any


def _duration_value(match: re.Match[str], form: str) -> float:
    if form == "hm":
        return _number(match.group("h")) * 60 + _number(match.group("m"))
    if form == "h":
        return _number(match.group("h")) * 60
    if form == "m":
        return _number(match.group("m"))
    return float(form)


def _taken(spans: list[_Token], start: int, end: int) -> bool:
    return any(t.start < end and start < t.end for t in spans)


# Cheap substring checks that rule a pattern out before its regex runs (most messages use "min").
_DURATION_GATES = ("hour", "half", "half", "quarter", "quarter", "", "", "")


def _find_durations(text: str, tokens: list[_Token]) -> None:
    for (pattern, form), gate in zip(_DURATION_PATTERNS, _DURATION_GATES):
        if gate not in text:
            continue
        for match in pattern.finditer(text):
            if _taken(tokens, match.start(), match.end()):
                continue
            tokens.append(_Token("duration", match.start(), match.end(), _duration_value(match, form)))


# --- patients -----------------------------------------------------------------

_KEY = r"[A-Za-z]*\d[\w-]*"
_POSSESSIVE = re.compile(r"['’]s$", re.I)
_PATIENT_PATTERNS = [
    # "pts 1 and 2", "patients 1, 2 and 3"
    re.compile(rf"\b(?:pts|patients)\.?\s*#?\s*(?P<list>{_KEY}(?:\s*(?:,|and|&)\s*#?\s*{_KEY})+)", re.I),
    re.compile(rf"\b(?:patient|pt)\.?\s*(?:id|no\.?|number)?\s*[:#]?\s*#?\s*(?P<key>{_KEY})(?:['’]s)?", re.I),
    re.compile(r"\bmrn\s*[:#]?\s*#?\s*(?P<key>\w*\d[\w-]*)(?:['’]s)?", re.I),
    re.compile(rf"(?<![\w#])#(?P<key>{_KEY})(?:['’]s)?"),
]


def clean_key(key: str) -> str:
    """A patient key as the roster holds it: as typed (leading zeros, letter case), minus a possessive."""
    return _POSSESSIVE.sub("", key).rstrip("-")


def _find_patients(original: str, tokens: list[_Token]) -> None:
    for pattern in _PATIENT_PATTERNS:
        for match in pattern.finditer(original):
            if _taken(tokens, match.start(), match.end()):
                continue
            if "list" in match.groupdict() and match.group("list"):
                keys = [clean_key(k) for k in re.findall(_KEY, match.group("list"))]
                tokens.append(_Token("patients", match.start(), match.end(), keys))
            else:
                key = clean_key(match.group("key"))
                # "pt 15 min" is not patient 15: a unit right after the number makes it a duration.
                tail = original[match.end() : match.end() + 8].lower()
                if re.match(r"\s*(?:min|mins|minutes?|m\b|h\b|hrs?|hours?)", tail) and key.isdigit():
                    continue
                tokens.append(_Token("patient", match.start(), match.end(), key))


# --- dates --------------------------------------------------------------------

_WEEKDAYS = {name: i for i, name in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_WEEKDAY_ALIASES = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RE = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_ORDINALS = {
    word: n
    for n, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth "
        "sixteenth seventeenth eighteenth nineteenth twentieth".split(),
        start=1,
    )
}
_ORDINALS.update({f"twenty[- ]?{w}": 20 + n for w, n in list(_ORDINALS.items())[:9]})
_ORDINALS.update({"thirtieth": 30, "thirty[- ]?first": 31})
_ORDINAL_RE = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_DAY_RE = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_RE})"
_YEAR_RE = r"(?:,?\s*(?P<year>\d{4}))?"
_WEEKDAY_RE = r"(?:" + "|".join(sorted(list(_WEEKDAYS) + list(_WEEKDAY_ALIASES), key=len, reverse=True)) + r")"

# (pattern, form, gate): the gate is a substring, or "month"/"weekday" for a word check done once per line.
_DATE_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b"), "before_yesterday", "yesterday"),
    (re.compile(r"\byesterday\b|\byday\b"), "yesterday", "y"),
    (re.compile(r"\btoday\b|\bthis\s+(?:morning|afternoon|evening)\b|\btonight\b"), "today", "t"),
    (re.compile(rf"\b(?P<n>\d+|{_WORD_NUMBER}|a)\s+days?\s+ago\b"), "days_ago", "ago"),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), "iso", "-"),
    (re.compile(r"(?<![\d/:.])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\d/])"), "numeric", "/"),
    (re.compile(rf"\b(?P<month>{_MONTH_RE})\.?\s+(?:the\s+)?{_DAY_RE}\b{_YEAR_RE}"), "month_day", "month"),
    (re.compile(rf"\b(?:the\s+)?{_DAY_RE}\s+(?:of\s+)?(?P<month>{_MONTH_RE})\b\.?{_YEAR_RE}"), "day_month", "month"),
    (re.compile(rf"\b(?:(?P<rel>last|this|past)\s+)?(?P<wd>{_WEEKDAY_RE})\b\.?"), "weekday", "weekday"),
    (re.compile(r"\b(?:on\s+)?the\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b"), "this_month", "the "),
]
_MONTH_WORD = re.compile(rf"\b{_MONTH_RE}\b")
_WEEKDAY_WORD = re.compile(rf"\b{_WEEKDAY_RE}\b")


def _resolve_year_less(month: int, day: int, today: date) -> date:
    """A date without a year is the most recent such date that is not after today."""
    for year in (today.year, today.year - 1, today.year - 2, today.year - 3, today.year - 4):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # 29 February in a common year: look further back
        if candidate <= today:
            return candidate
    raise _Fail("invalid_date", f"{month}/{day} is not a date.")


def _make_date(year: int | None, month: int, day: int, today: date, said: str) -> date:
    if not 1 <= month <= 12:
        raise _Fail("invalid_date", f'"{said}" is not a date I can read. Write dates like 11/3, Nov 3 or 2026-11-03.')
    if year is None:
        try:
            date(2000, month, day)  # 2000 was a leap year: any real month/day fits
        except ValueError:
            raise _Fail("invalid_date", f'"{said}" is not a date. Write dates like 11/3, Nov 3 or 2026-11-03.') from None
        return _resolve_year_less(month, day, today)
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        raise _Fail("invalid_date", f'"{said}" is not a date. Write dates like 11/3, Nov 3 or 2026-11-03.') from None


def _day_number(text: str) -> int:
    digits = re.match(r"\d+", text)
    if digits:
        return int(digits.group(0))
    return next(n for pattern, n in _ORDINALS.items() if re.fullmatch(pattern, text))


def _date_value(match: re.Match[str], form: str, today: date) -> date:
    said = match.group(0).strip()
    if form == "today":
        return today
    if form == "yesterday":
        return today - timedelta(days=1)
    if form == "before_yesterday":
        return today - timedelta(days=2)
    if form == "days_ago":
        return today - timedelta(days=int(_number(match.group("n"))))
    if form == "iso":
        return _make_date(int(match.group("y")), int(match.group("m")), int(match.group("d")), today, said)
    if form == "numeric":
        year = int(match.group("y")) if match.group("y") else None
        return _make_date(year, int(match.group("m")), int(match.group("d")), today, said)
    if form in ("month_day", "day_month"):
        year = int(match.group("year")) if match.group("year") else None
        return _make_date(year, _MONTHS[match.group("month")], _day_number(match.group("day")), today, said)
    if form == "weekday":
        name = match.group("wd")
        weekday = _WEEKDAYS.get(name, _WEEKDAY_ALIASES.get(name, 0))
        # The most recent such day that is not in the future; today's own weekday means today.
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    if form == "this_month":
        try:
            return today.replace(day=int(match.group("day")))
        except ValueError:
            raise _Fail("invalid_date", f'{today:%B} has no "{said}".') from None
    raise AssertionError(form)


@lru_cache(maxsize=8)
def _dateparser_for(today: date) -> Any:
    """One reused dateparser parser per day (its relative base is fixed at construction)."""
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "REQUIRE_PARTS": ["day", "month"],
        },
    )


_LEFTOVER_MONTH = re.compile(
    rf"(?:\b\d{{1,2}}(?:st|nd|rd|th)?[\s\-./]+)?\b{_MONTH_RE}\b(?:[\s\-./,]+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\b)?(?:[\s,\-./]+\d{{4}})?"
)
_AMBIGUOUS_MONTH_WORDS = {"may", "mar", "jun", "jan", "aug", "sat", "sun", "wed"}


def _find_dates(text: str, tokens: list[_Token], today: date) -> None:
    has_month = _MONTH_WORD.search(text) is not None
    gates = {"month": has_month, "weekday": _WEEKDAY_WORD.search(text) is not None}
    for pattern, form, gate in _DATE_PATTERNS:
        if not gates.get(gate, gate in text):
            continue
        for match in pattern.finditer(text):
            if _taken(tokens, match.start(), match.end()):
                continue
            if form == "weekday" and match.group("wd") in ("sat", "sun", "wed") and not match.group("rel"):
                continue  # too often a plain word; full names and "last sat" still count
            tokens.append(_Token("date", match.start(), match.end(), _date_value(match, form, today)))
    if not has_month:
        return
    # A month name our grammar did not read ("3-nov"): hand just that phrase to dateparser.
    for match in _LEFTOVER_MONTH.finditer(text):
        if _taken(tokens, match.start(), match.end()):
            continue
        words = set(re.findall(r"[a-z]+", match.group(0)))
        if words & set(_MONTHS) <= _AMBIGUOUS_MONTH_WORDS:
            continue
        data = _dateparser_for(today).get_date_data(match.group(0))
        if data and data.date_obj is not None:
            found = data.date_obj.date()
            if not re.search(r"\d{4}", match.group(0)):
                found = _resolve_year_less(found.month, found.day, today)
            tokens.append(_Token("date", match.start(), match.end(), found))


# --- activities and programs ----------------------------------------------------

_ACTIVITY_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "transition_of_care",
        re.compile(
            r"\b(?:post[\s-]?discharge|discharge[ds]?|discharged|ed\s+f/?u|ed\s+follow[\s-]?up|er\s+(?:f/?u|follow[\s-]?up|visit)|"
            r"hospital\s+(?:f/?u|follow[\s-]?up|stay|visit)|readmission|admission|admitted|snf|rehab\s+discharge|toc|tcm|transition(?:s)?\s+of\s+care|post[\s-]hospital)\b"
        ),
    ),
    (
        "device_data_review",
        re.compile(
            r"\b(?:bp|blood\s+pressure|glucose|sugar|weight|pulse\s*ox|spo2|o2\s+sat|cgm|glucometer|scale)\s+(?:readings?|logs?|data|trends?|review)|"
            r"\b(?:readings?|device\s+data|rpm\s+data|cuff\s+data|monitor(?:ing)?\s+data|device\s+alerts?)\b"
        ),
    ),
    (
        "medication_review",
        re.compile(
            r"\b(?:med(?:ication)?s?\s*(?:rec(?:onciliation)?|review|list|change|changes|adherence|question)|med\s*rec|meds?|medications?|"
            r"refills?|prescriptions?|rx|dose|dosing|insulin|statin|pill\s*box|polypharmacy)\b"
        ),
    ),
    (
        "lab_review",
        re.compile(r"\b(?:labs?|lab\s+results?|a1c|hba1c|lipids?|lipid\s+panel|cbc|bmp|cmp|inr|tsh|egfr|potassium|blood\s*work|results|urinalysis)\b"),
    ),
    ("care_plan", re.compile(r"\b(?:care[\s-]?plan|careplan|goals?\s+(?:review|update|setting)|plan\s+of\s+care|care\s+planning)\b")),
    (
        "portal_message",
        re.compile(r"\b(?:mychart|my\s+chart|portal|patient\s+portal|secure\s+message|e-?mail(?:ed)?|inbox\s+message|portal\s+msg|messaged)\b"),
    ),
    (
        "caregiver_communication",
        re.compile(
            r"\b(?:daughter|son|wife|husband|spouse|caregiver|care\s*giver|family|mother|father|mom|dad|sister|brother|niece|nephew|"
            r"grand(?:daughter|son)|poa|guardian|partner)\b"
        ),
    ),
    (
        "community_resources",
        re.compile(
            r"\b(?:transportation|transport|ride|rides|food\s+pantry|food\s+bank|meals\s+on\s+wheels|meal\s+delivery|snap|housing|"
            r"utility|utilities|community\s+resources?|resources|social\s+work(?:er)?|financial\s+assistance|medicaid\s+application|senior\s+center)\b"
        ),
    ),
    (
        "care_coordination",
        re.compile(
            r"\b(?:referral|referred|refer|specialist|cardiology|cardiologist|nephrology|endo(?:crinology)?|pulm(?:onology)?|"
            r"home\s+health|hh\s+agency|dme|durable\s+medical|pharmacy|pharmacist|coordinat\w*|prior\s+auth\w*|insurance|"
            r"scheduled?|appointment|appt|pcp|hospice|pt\s+eval|physical\s+therapy|fax(?:ed)?|records)\b"
        ),
    ),
    (
        "patient_outreach",
        re.compile(
            r"\b(?:call(?:ed|s)?|phone(?:\s+call)?|telephone|spoke|spoken|talked|voicemail|vm|lvm|left\s+(?:a\s+)?(?:message|msg|vm)|"
            r"outreach|check[\s-]?in|checked\s+in|follow[\s-]?up|f/u|reached|no\s+answer|tele(?:phone)?\s+visit)\b"
        ),
    ),
]

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

_PROGRAM = re.compile(r"\b(ccm|pcm|rpm)\b")
_LOG_VERBS = re.compile(r"\b(?:spent|logged|log|logging|did|worked|minutes?\s+(?:on|with|for))\b")


def classify_activity(text: str) -> str | None:
    lowered = text.lower()
    for name, pattern in _ACTIVITY_RULES:
        if pattern.search(lowered):
            return name
    return None


# --- wrapping, questions, splitting --------------------------------------------

_MENTION = re.compile(r"<[@#!][^>]*>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
_LEADING = re.compile(
    r"^\s*(?:(?:hey|hi|hello|ok|okay|yo)\s+(?:bot|ccmbot|ccm\s*bot)\b[\s,:!-]*|(?:please|pls|plz)\b[\s,:]*|"
    r"(?:i\s+)?(?:just\s+)?(?:spent|logged|logging|log|add|record)\b[\s,:]*|(?:ccmbot|bot)\b[\s,:]+)+",
    re.I,
)
_BULLET = re.compile(r"^\s*(?:[-*•·‣◦]|\d+[.)])\s+")
_QUESTION_START = re.compile(
    r"^\s*(?:who|what|what's|whats|when|where|why|how|is|are|does|do|did|can|could|should|would|will|which|any(?:one|body))\b", re.I
)
_SEPARATORS = re.compile(r"\s*(?:,|\band\s+then\b|\bthen\b|\balso\b|\bplus\b|&|\band\b)\s*")


def unwrap(text: str) -> str:
    """Drop Slack mentions, channel links and emoji: they are never part of an entry."""
    text = _MENTION.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    return text


def _is_question(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped))


def _lines(text: str) -> list[str]:
    out = []
    for raw in re.split(r"[\n;]+", text):
        line = _BULLET.sub("", raw)
        line = _LEADING.sub("", line)
        line = re.sub(r"[\s.!]+$", "", line.strip())
        if line:
            out.append(line)
    return out


# --- the parser ---------------------------------------------------------------


@dataclass
class _Clause:
    durations: list[float] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    text: str = ""
    each: bool = False


def _tokenize(line: str, today: date) -> tuple[list[_Token], str]:
    lowered = line.lower()
    tokens: list[_Token] = []
    _find_patients(line, tokens)
    _find_dates(lowered, tokens, today)
    _find_durations(lowered, tokens)
    for match in _CLOCK.finditer(lowered):
        if not _taken(tokens, match.start(), match.end()):
            tokens.append(_Token("clock", match.start(), match.end(), match.group(0)))
    tokens.sort(key=lambda t: t.start)
    return tokens, lowered


def _clauses(line: str, tokens: list[_Token], lowered: str) -> list[_Clause]:
    """Split a line at separators that fall outside every token."""
    cuts = [0]
    for match in _SEPARATORS.finditer(lowered):
        if not _taken(tokens, match.start(), match.end()):
            cuts += [match.start(), match.end()]
    cuts.append(len(lowered))
    clauses = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        clause = _Clause(text=lowered[start:end])
        for t in tokens:
            if start <= t.start < end:
                if t.kind == "duration":
                    clause.durations.append(t.value)
                elif t.kind == "patient":
                    clause.patients.append(t.value)
                elif t.kind == "patients":
                    clause.patients.extend(t.value)
                elif t.kind == "date":
                    clause.dates.append(t.value)
        clauses.append(clause)
    return clauses


def _minutes(value: float, max_minutes: int) -> int:
    if value != int(value):
        raise _Fail(
            "ambiguous_minutes",
            f"{value:g} minutes is not a whole number of minutes. Write whole minutes, like 15 min, or hours like 1.5 hours.",
        )
    minutes = int(value)
    if not 1 <= minutes <= max_minutes:
        raise _Fail(
            "minutes_out_of_range",
            f"{minutes} minutes is out of range: an entry must be 1 to {max_minutes} minutes. "
            + (
                "Split longer work into separate entries, like \"60 min care plan for pt 123\"."
                if minutes > max_minutes
                else "Log the minutes the work took, like \"5 min call with pt 123\"."
            ),
        )
    return minutes


@dataclass
class _Draft:
    patient: str
    minutes: float
    clause: _Clause


def _pair(clauses: list[_Clause], line_text: str) -> list[_Draft]:
    """Pair durations with patients across the clauses of one line."""
    drafts: list[_Draft] = []
    every_patient = [p for c in clauses for p in c.patients]
    every_duration = [d for c in clauses for d in c.durations]
    each = bool(re.search(r"\beach\b|\bapiece\b|\bper\s+(?:patient|pt)\b", line_text))
    if len(every_duration) == 1 and len(every_patient) > 1:
        if not each:
            keys = ", ".join(every_patient)
            raise _Fail(
                "ambiguous_patient",
                f"I see one duration but several patients ({keys}). Say \"10 min each for pt 1 and pt 2\", "
                f"or give each patient its own time.",
            )
        clause = next(c for c in clauses if c.durations)
        return [_Draft(p, every_duration[0], clause) for p in every_patient]
    pending: list[tuple[float, _Clause]] = []
    last_patient: str | None = None
    for clause in clauses:
        if len(clause.patients) > 1 and clause.durations:
            if len(clause.durations) == 1 and each:
                drafts += [_Draft(p, clause.durations[0], clause) for p in clause.patients]
                last_patient = clause.patients[-1]
                continue
            raise _Fail(
                "ambiguous_patient",
                f"I can't tell which time goes with which patient ({', '.join(clause.patients)}). Give each patient its own time, "
                f"like \"15 min for pt 1, 10 min for pt 2\".",
            )
        if len(clause.durations) > 1:
            raise _Fail(
                "ambiguous_minutes",
                "I see more than one duration for one entry. Write one time per entry, like \"1h15m care plan for pt 123\".",
            )
        patient = clause.patients[0] if clause.patients else None
        if patient is not None:
            # Durations said before their patient ("15 min med review and 10 min labs for pt 1") keep their order.
            drafts += [_Draft(patient, minutes, pending_clause) for minutes, pending_clause in pending]
            pending = []
            last_patient = patient
        if clause.durations:
            target = patient or last_patient
            if target is None:
                pending.append((clause.durations[0], clause))
            else:
                drafts.append(_Draft(target, clause.durations[0], clause))
    if pending:
        raise _Fail("missing_patient", f"Which patient was that for? Add the patient, like \"pt 123\". {EXAMPLE}")
    return drafts


def _parse_line(line: str, today: date, max_minutes: int, log_verb: bool) -> tuple[list[tuple[_Draft, str]], list[date], bool]:
    """Returns (drafts with their activity, dates said on the line, whether the line looked like a log).

    log_verb: the message said "logged", "spent" and the like, which the line itself no longer shows.
    """
    tokens, lowered = _tokenize(line, today)
    durations = [t for t in tokens if t.kind == "duration"]
    patients = [t for t in tokens if t.kind in ("patient", "patients")]
    clocks = [t for t in tokens if t.kind == "clock"]
    line_dates = [t.value for t in tokens if t.kind == "date"]
    line_activity = classify_activity(_strip_tokens(lowered, tokens))
    activity_seen = line_activity is not None or log_verb or bool(_LOG_VERBS.search(lowered))
    if clocks and patients and not durations:
        raise _Fail("ambiguous_minutes", f'"{clocks[0].value}" could mean hours or minutes. Write "1h30m" or "90 min".')
    if not durations:
        if patients and activity_seen:
            raise _Fail("missing_minutes", f"How many minutes was that? Add the time, like \"15 min\" or \"1h15m\". {EXAMPLE}")
        return [], line_dates, False
    if not patients:
        if activity_seen:
            raise _Fail("missing_patient", f"Which patient was that for? Add the patient, like \"pt 123\". {EXAMPLE}")
        return [], line_dates, False
    for token in durations:
        _minutes(token.value, max_minutes)
    clauses = _clauses(line, tokens, lowered)
    drafts = _pair(clauses, lowered)
    # The activity of an entry comes from its own clause, else from the whole line.
    one_clause = len(clauses) == 1
    return [(d, (line_activity if one_clause else classify_activity(d.clause.text)) or line_activity or "other") for d in drafts], line_dates, True


def _strip_tokens(lowered: str, tokens: list[_Token]) -> str:
    out, last = [], 0
    for t in sorted(tokens, key=lambda t: t.start):
        if t.start >= last:
            out.append(lowered[last : t.start])
            last = t.end
    out.append(lowered[last:])
    return " ".join(out)


def _program(text: str) -> str | None:
    match = _PROGRAM.search(text)
    return match.group(1).upper() if match else None


def parse_message(text: str, today: date, *, max_minutes: int = DEFAULT_MAX_MINUTES) -> ParseResult:
    """Read one chat message. Never raises on any text."""
    try:
        return _parse(text, today, max_minutes)
    except _Fail as failure:
        return ParseResult(error=failure.error)
    except Exception:  # the parser must never take the bot down; an unreadable message is just not an entry
        return ParseResult()


def _parse(text: str, today: date, max_minutes: int) -> ParseResult:
    unwrapped = unwrap(text or "")
    if not unwrapped.strip() or _is_question(unwrapped):
        return ParseResult()
    parsed: list[tuple[list[tuple[_Draft, str]], list[date], str]] = []
    log_verb = bool(_LOG_VERBS.search(unwrapped.lower()))
    for line in _lines(unwrapped):
        drafts, dates, _ = _parse_line(line, today, max_minutes, log_verb)
        parsed.append((drafts, dates, line.lower()))
    if not any(drafts for drafts, _, _ in parsed):
        return ParseResult()
    # A date said once for the whole message (a header line, or the only date said) applies to every entry.
    header_dates = [d for drafts, dates, _ in parsed if not drafts for d in dates]
    all_dates = {d for _, dates, _ in parsed for d in dates}
    message_date = header_dates[0] if header_dates else (next(iter(all_dates)) if len(all_dates) == 1 else today)
    message_program = next((p for _, _, line in parsed if (p := _program(line))), None)
    entries = []
    for drafts, line_dates, line in parsed:
        for draft, activity in drafts:
            when = draft.clause.dates[0] if draft.clause.dates else (line_dates[0] if line_dates else message_date)
            if when > today:
                raise _Fail(
                    "future_date",
                    f"{when:%A %B} {when.day}, {when.year} is in the future; time can only be logged for today or earlier. "
                    f"Say \"today\", \"yesterday\" or a past date like 11/3.",
                )
            entries.append(
                ParsedEntry(
                    patient=draft.patient,
                    minutes=_minutes(draft.minutes, max_minutes),
                    date=when,
                    activity=activity,
                    program=_program(draft.clause.text) or _program(line) or message_program,
                )
            )
    return ParseResult(entries=tuple(entries))


def read_date(text: str, today: date) -> date | None:
    """The one date in a short phrase ("today", "11/3", "last Friday", "Nov 3"), or None.

    Raises ValueError with a sentence for a person when the phrase names an impossible date.
    """
    tokens: list[_Token] = []
    try:
        _find_dates(unwrap(text).lower(), tokens, today)
    except _Fail as failure:
        raise ValueError(failure.error.message) from None
    dates = sorted({t.value for t in tokens if t.kind == "date"})
    return dates[0] if len(dates) == 1 else None


def warm_up() -> None:
    """Compile patterns and load dateparser once at start-up so the first message is fast."""
    parse_message("15 min med review for pt 1 on Nov 3", date(2026, 1, 15))
    _dateparser_for(date.today()).get_date_data("the third of november")
