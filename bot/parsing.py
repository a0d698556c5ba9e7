"""Chat text -> time entries, one coded error, or "not an entry".

Pure: the text and today's local date go in, entries come out; no database, no
Slack, no clock. Durations, patient references and dates are read by the
project's own grammar first and cut out of the text, because dateparser's
search over a whole message reads "15 min" as a clock time and bare numbers as
years. dateparser only sees a leftover month-name phrase our grammar did not
recognise.

Why regular expressions and not a grammar library (lark, pyparsing): staff
messages are not sentences of a grammar. The useful pieces (a duration, a
patient, a date) sit anywhere among free words, typos and notes, so the reader
is a set of token finders over the whole line, each cheap and gated by a
substring test, followed by a small pairing step. A parser generator would
need a catch-all rule for every free word and costs 10-50x more per message
(bench/parse holds the parser under 0.3 ms a message).

The rules it follows are in docs/parsing.md: a date it cannot place in the
past is an error, never today; a range of minutes is an error, never one end.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.months import previous_month

DEFAULT_MAX_MINUTES = 240


@dataclass(frozen=True)
class ParsedEntry:
    patient: str
    minutes: int
    date: date
    activity: str
    program: str | None = None
    # True: the words say real-time two-way contact (a call, a visit); False: a voicemail, a text,
    # no answer; None: they say neither. RPM's interactive-communication rule reads this.
    interactive: bool | None = None
    # The patient is a bare number ("called 2031 re refills 8 min"): the caller must find it on
    # the roster before logging, and say that it read the number as the patient.
    bare_key: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "minutes": self.minutes,
            "date": self.date.isoformat(),
            "activity": self.activity,
            "program": self.program,
            "interactive": self.interactive,
            "bare_key": self.bare_key,
        }


@dataclass(frozen=True)
class ParseError:
    code: str
    message: str


@dataclass(frozen=True)
class ParseResult:
    entries: tuple[ParsedEntry, ...] = ()
    error: ParseError | None = None
    # When the message is not an entry: the pieces that were read anyway ("20 minutes",
    # "patient 123"), so "I didn't understand" can say what it did understand.
    seen: tuple[str, ...] = ()

    @property
    def is_entry(self) -> bool:
        """True when the message was meant as a log (entries or an error to explain)."""
        return bool(self.entries) or self.error is not None


class _Fail(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = ParseError(code, message)


EXAMPLE = 'Write it like "15 min med review for pt 123" or "pt 456: 1h15m care plan yesterday".'

# --- invisible and look-alike characters ----------------------------------------

# Zero-width characters, joiners, soft hyphens and direction overrides: invisible, never meant.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u2032": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_SCRIPT_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """The text as it reads: invisible characters and combining marks dropped, fullwidth and other
    compatibility forms folded to plain ones ("１２３" -> "123"), curly quotes made straight.

    Raises _Fail(mixed_script) when a word that holds a digit still has a character that is not
    plain ASCII ("12З" with a Cyrillic Ze, Arabic-Indic digits), or mixes Latin letters with
    Cyrillic or Greek ones: such a key or number cannot be read for certain."""
    if text.isascii():
        return text
    text = _INVISIBLE.sub("", text).translate(_QUOTES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        for match in _SCRIPT_WORD.finditer(text):
            word = match.group(0)
            if word.isascii():
                continue
            if any(ch.isdigit() for ch in word) or _mixes_latin(word):
                raise _Fail(
                    "mixed_script",
                    f'"{word}" mixes characters from different alphabets, so I can\'t read it for certain. '
                    "Type the patient and the minutes with plain digits and letters, like \"15 min for pt 123\".",
                )
    return text


def _mixes_latin(word: str) -> bool:
    latin = any("a" <= ch.lower() <= "z" for ch in word)
    return latin and any(ch.isalpha() and not ch.isascii() and unicodedata.name(ch, "").startswith(("CYRILLIC", "GREEK")) for ch in word)


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
# Minutes as typed in a hurry: min, mins, mn, mni, mintues, minuets, minuts.
_M = r"(?:minutes?|mins?|mn|mni|mnis|mintues?|minuets?|minuts?|minites?|m)"
_UNIT_AHEAD = rf"\s*-?\s*(?:{_H}|{_M})\b"
# "15-20 min", "15 to 20 minutes", "10 or 15 min": a range is never read as one of its ends.
_RANGE = re.compile(
    rf"(?<![\w./])(?:\d+\s*-\s*\d+|(?:\d+|{_WORD_NUMBER})\s+(?:to|or)\s+(?:\d+|{_WORD_NUMBER}))\s*-?\s*(?:{_H}|{_M})\b"
)
_DURATION_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:an?|one)\s+hour\s+and\s+a\s+half\b"), "90"),
    (re.compile(r"\b(?:one|1)\s+and\s+a\s+half\s+hours?\b"), "90"),
    (re.compile(r"\b(?:half\s+an\s+hour|a\s+half[\s-]hour|half[\s-]hour)\b"), "30"),
    (re.compile(r"\b(?:a\s+quarter\s+(?:of\s+an\s+)?hour|quarter[\s-]hour)\b"), "15"),
    (re.compile(r"\b(?:three\s+quarters\s+of\s+an\s+hour)\b"), "45"),
    (re.compile(rf"(?<![\w.])(?P<h>{_NUM}|an?)\s*{_H}\.?,?\s*(?:and\s+)?(?P<m>{_NUM})\s*{_M}\b\.?"), "hm"),
    # "1h15", "1 hr 15", "an hour 15": the minutes after the hours need no unit.
    (re.compile(rf"(?<![\w.])(?P<h>\d+|{_WORD_NUMBER}|an?)\s*{_H}\.?,?\s*(?:and\s+)?(?P<m>[1-5]?\d)(?![\d/:.'\w-])"), "hm"),
    (re.compile(rf"(?<![\w.])(?P<h>{_NUM}|an?)\s*{_H}\b\.?"), "h"),
    (re.compile(rf"(?<![\w.])(?P<m>{_NUM})\s*-?\s*{_M}\b\.?"), "m"),
    # 20' (a prime or apostrophe after the number), as on a paper log; not "123's".
    (re.compile(r"(?<![\w.])(?P<m>\d{1,3})'(?![\w'])"), "m"),
    # "spent 20 on the phone": a bare number right after spent/took is minutes.
    (re.compile(r"\b(?:spent|spend|took|takes)\s+(?:about\s+|around\s+|approx\.?\s+|~\s*)?(?P<m>\d{1,3})\b(?![/:.'-]?\d|'s|\s*%)"), "m"),
]
_CLOCK = re.compile(r"(?<![\w/])(\d{1,2}):(\d{2})(?!\s*(?:am|pm|a\.m|p\.m))\b")


@dataclass
class _Token:
    kind: str  # duration | patient | patients | date | clock | bare
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
    # A plain loop, not any(<generator>): this runs for every match of every pattern (bench/parse).
    for t in spans:  # noqa: SIM110
        if t.start < end and start < t.end:
            return True
    return False


# Cheap substring checks that rule a pattern out before its regex runs: any one of them must be in the text.
# A gate is a substring, or a compiled pattern searched once per line.
_HOUR_GATE = re.compile(r"\dh|h(?:ou)?rs?\b|\bh\b|hour")
_DURATION_GATES: tuple[str | re.Pattern[str], ...] = (
    "hour", "half", "half", "quarter", "quarter", _HOUR_GATE, _HOUR_GATE, _HOUR_GATE, "m", "'", re.compile(r"spen|took|takes"),
)
_RANGE_GATE = re.compile(r"\d\s*-\s*\d|(?:\d|teen|ty|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(?:to|or)\s")


def _find_durations(text: str, tokens: list[_Token]) -> None:
    for match in _RANGE.finditer(text) if _RANGE_GATE.search(text) else ():
        if not _taken(tokens, match.start(), match.end()):
            raise _Fail(
                "ambiguous_minutes",
                f'"{match.group(0)}" is a range; I log the minutes the work took, not an estimate. Write one number, like "15 min".',
            )
    opened: dict[re.Pattern[str], bool] = {}
    for (pattern, form), gate in zip(_DURATION_PATTERNS, _DURATION_GATES, strict=True):
        if isinstance(gate, str):
            if gate not in text:
                continue
        else:
            if gate not in opened:
                opened[gate] = gate.search(text) is not None
            if not opened[gate]:
                continue
        for match in pattern.finditer(text):
            if _taken(tokens, match.start(), match.end()):
                continue
            tokens.append(_Token("duration", match.start(), match.end(), _duration_value(match, form)))


# --- patients -----------------------------------------------------------------

_KEY = r"[A-Za-z]*\d[\w-]*"
_POSSESSIVE = re.compile(r"'s$", re.I)
# "patient" as typed in a hurry: pateint, paitent, patinet, pateint.
_PATIENT_WORD = r"(?:patient|pateint|paitent|patinet|patent|pt)"
_PATIENT_PATTERNS = [
    # "pts 1 and 2", "patients 1, 2 and 3"
    re.compile(rf"\b(?:pts|patients|pateints)\.?\s*#?\s*(?P<list>{_KEY}(?:\s*(?:,|and|&|\+)\s*#?\s*{_KEY}(?![\w-])(?!{_UNIT_AHEAD}))+)", re.I),
    re.compile(rf"\b{_PATIENT_WORD}\.?\s*(?:id|no\.?|number)?\s*[:#]?\s*#?\s*(?P<key>{_KEY})(?:'s)?", re.I),
    re.compile(r"\bmrn\s*[:#]?\s*#?\s*(?P<key>\w*\d[\w-]*)(?:'s)?", re.I),
    re.compile(rf"(?<![\w#])#(?P<key>{_KEY})(?:'s)?"),
]
_UNIT_AFTER_KEY = re.compile(rf"{_UNIT_AHEAD}|'(?![\w'])")
# A number standing alone ("called 2031 re refills"), possibly possessive ("123's daughter").
_BARE_NUMBER = re.compile(r"(?<![\w./:#$-])(?P<key>\d{2,12})(?:'s)?(?![\w/:%]|\.\d|-\d)")


def clean_key(key: str) -> str:
    """A patient key as the roster holds it: as typed (leading zeros, letter case), minus a possessive."""
    return _POSSESSIVE.sub("", key.replace("’", "'")).rstrip("-")


_PATIENT_GATES: tuple[str | re.Pattern[str], ...] = (re.compile("pts|patients|pateints"), re.compile("pt|pat|pai"), "mrn", "#")


def _find_patients(original: str, tokens: list[_Token]) -> None:
    lowered = original.lower()
    for pattern, gate in zip(_PATIENT_PATTERNS, _PATIENT_GATES, strict=True):
        if (gate not in lowered) if isinstance(gate, str) else gate.search(lowered) is None:
            continue
        for match in pattern.finditer(original):
            if _taken(tokens, match.start(), match.end()):
                continue
            if "list" in match.groupdict() and match.group("list"):
                keys = [clean_key(k) for k in re.findall(_KEY, match.group("list"))]
                tokens.append(_Token("patients", match.start(), match.end(), keys))
            else:
                key = clean_key(match.group("key"))
                # "pt 15 min" is not patient 15: a unit right after the number makes it a duration.
                tail = original[match.end() : match.end() + 10].lower()
                if key.isdigit() and _UNIT_AFTER_KEY.match(tail):
                    continue
                tokens.append(_Token("patient", match.start(), match.end(), key))


def _find_bare_numbers(original: str, tokens: list[_Token]) -> list[_Token]:
    found = []
    for match in _BARE_NUMBER.finditer(original):
        if not _taken(tokens, match.start(), match.end()):
            found.append(_Token("bare", match.start(), match.end(), clean_key(match.group("key"))))
    return found

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
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"],
        start=1,
    )
}
_ORDINALS.update({f"twenty[- ]?{w}": 20 + n for w, n in list(_ORDINALS.items())[:9]})
_ORDINALS.update({"thirtieth": 30, "thirty[- ]?first": 31})
_ORDINAL_RE = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_DAY_RE = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_RE})"
_YEAR_RE = r"(?:,?\s*(?P<year>\d{4}))?"
_WEEKDAY_RE = r"(?:" + "|".join(sorted(list(_WEEKDAYS) + list(_WEEKDAY_ALIASES), key=len, reverse=True)) + r")"
_DATE_HELP = 'Say "today", "yesterday", a weekday like "Monday", or a date like 11/3.'

# Phrases that name a time but not one day in the past: they are errors, never today.
_FUTURE = "future"
_VAGUE = "vague"

# (pattern, form, gate): the gate is a substring, or "month"/"weekday" for a word check done once per line.
_DATE_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b"), "before_yesterday", "yesterday"),
    (re.compile(r"\byesterday\b|\byday\b|\byest\b|\blast\s+night\b"), "yesterday", "yest|yday|night"),
    (re.compile(r"\btomorrow\b|\btomorow\b|\btmrw?\b|\btmw\b|\bday\s+after\s+tomorrow\b|\bin\s+(?:\d+|a|an|" + _WORD_NUMBER + r")\s+(?:days?|weeks?|months?)\b"
                r"|\bnext\s+(?:week|wk|month|mo|year|" + _WEEKDAY_RE + r")\b|\bthis\s+coming\s+\w+|\bupcoming\b"), _FUTURE, "span"),
    (re.compile(r"\b(?:(?:last|past|this\s+past|previous|prior|earlier\s+this|earlier\s+last|during\s+the|over\s+the|this)\s+(?:week|wk|month|mo|weekend)|"
                r"(?:a|one|two|three|few|couple(?:\s+of)?|\d+)\s+(?:weeks?|months?)\s+ago|"
                r"(?:a\s+)?(?:few|couple(?:\s+of)?)\s+days\s+ago|the\s+other\s+day|recently|earlier\s+this\s+(?:week|month)|(?:last|this)\s+weekend)\b"), _VAGUE, "span"),
    (re.compile(r"\btoday\b|\bthis\s+(?:morning|afternoon|evening)\b|\btonight\b|\btdy\b"), "today", "today|this|tonight|tdy"),
    (re.compile(rf"\b(?P<n>\d+|{_WORD_NUMBER}|a)\s+days?\s+ago\b"), "days_ago", "ago"),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), "iso", "-"),
    (re.compile(r"(?<![\w/:.-])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\w/]|\.\d)"), "numeric", "/"),
    # 11-25 and 11.25 read like 11/25, but only as a real month and day and never before a unit ("1.5 h").
    (re.compile(rf"(?<![\w/:.$-])(?P<m>\d{{1,2}})(?P<sep>[.-])(?P<d>\d{{1,2}})(?:(?P=sep)(?P<y>\d{{2}}|\d{{4}}))?(?![\w/]|[.-]\d)(?!{_UNIT_AHEAD})"), "loose", "loose"),
    # "Nov 15" but not "25 Nov 15 min", where 15 is the minutes.
    (re.compile(rf"\b(?P<month>{_MONTH_RE})(?:\.?\s+|[-/.])(?:the\s+)?{_DAY_RE}\b(?!{_UNIT_AHEAD}){_YEAR_RE}"), "month_day", "month"),
    (re.compile(rf"\b(?:the\s+)?{_DAY_RE}(?:\s+(?:of\s+)?|[-/.])(?P<month>{_MONTH_RE})\b\.?{_YEAR_RE}"), "day_month", "month"),
    (re.compile(rf"\b(?:(?P<rel>last|this|past|on)\s+)?(?P<wd>{_WEEKDAY_RE})\b\.?"), "weekday", "weekday"),
    (re.compile(r"\b(?:on\s+)?the\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b"), "this_month", "the "),
]
_MONTH_WORD = re.compile(rf"\b{_MONTH_RE}\b")
_WEEKDAY_WORD = re.compile(rf"\b{_WEEKDAY_RE}\b")
# The gates of the future and vague phrases: one cheap test for both.
_SPAN_GATE = re.compile(r"\b(?:tom|tmr|tmw|in\s+(?:\d|a\b|an\b|[a-z]+\s+days?)|next|coming|upcoming|week|wk|month|mo\b|weekend|ago|other|recently)")
# "sat", "sun" and "wed" are weekdays except where they are plain words: "o2 sat", "sat with", "sat 92".
_PLAIN_BEFORE = re.compile(r"\b(?:o2|ox|oxygen|spo2|pulse|pulseox|pox)\s*$")
_PLAIN_AFTER = re.compile(r"\s*(?:\d|%|with\b|w/|down\b|in\b|up\b|through\b|at\b)")


def _plain_word(match: re.Match[str], text: str) -> bool:
    if match.group("wd") not in ("sat", "sun", "wed") or match.group("rel") in ("last", "past", "this"):
        return False
    return bool(_PLAIN_BEFORE.search(text, 0, match.start()) or _PLAIN_AFTER.match(text, match.end()))


# Gates searched once per line (a plain name in _DATE_PATTERNS is a substring test instead).
_DATE_GATES = {
    "weekday": _WEEKDAY_WORD,
    "span": _SPAN_GATE,
    "loose": re.compile(r"\d[.-]\d"),
    "yest|yday|night": re.compile("yest|yday|night"),
    "today|this|tonight|tdy": re.compile("today|this|tonight|tdy"),
}


def _future(said: str, when: date | None = None) -> _Fail:
    what = f'"{said}" is {when:%a %b} {when.day}, {when.year}, in the future' if when else f'"{said}" is in the future'
    return _Fail("future_date", f"{what}; time can only be logged for today or earlier, once the work is done. {_DATE_HELP}")


def _nearer_year(month: int, day: int, today: date) -> date:
    """A date without a year: the nearer of this year's and last year's (one that does not exist is skipped)."""
    candidates = []
    for year in (today.year, today.year - 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue  # 29 February in a common year
    if not candidates:
        raise _Fail("invalid_date", f"{month}/{day} is not a date. {_DATE_HELP}")
    return min(candidates, key=lambda d: (abs((d - today).days), d > today))


def _make_date(year: int | None, month: int, day: int, today: date, said: str, future_ok: bool = False) -> date:
    if not 1 <= month <= 12:
        # 25/11 is not the 25th of November here: dates are read month first, as US practices write them.
        first = " (dates are month first)" if 1 <= day <= 12 else ""
        raise _Fail("invalid_date", f'"{said}" is not a date I can read{first}. Write dates like 11/3, Nov 3 or 2026-11-03.')
    if year is None:
        try:
            date(2000, month, day)  # 2000 was a leap year: any real month/day fits
        except ValueError:
            raise _Fail("invalid_date", f'"{said}" is not a date. Write dates like 11/3, Nov 3 or 2026-11-03.') from None
        found = _nearer_year(month, day, today)
    else:
        if year < 100:
            year += 2000
        try:
            found = date(year, month, day)
        except ValueError:
            raise _Fail("invalid_date", f'"{said}" is not a date. Write dates like 11/3, Nov 3 or 2026-11-03.') from None
    if found > today and not future_ok:
        raise _future(said, None if year else found)
    return found


def _day_number(text: str) -> int:
    digits = re.match(r"\d+", text)
    if digits:
        return int(digits.group(0))
    return next(n for pattern, n in _ORDINALS.items() if re.fullmatch(pattern, text))


def _day_of_month(day: int, today: date, said: str) -> date:
    """ "On the 2nd": this month's when not after today; last month's early in a month; else ask."""
    if not 1 <= day <= 31:
        raise _Fail("invalid_date", f'"{said}" is not a day of a month. {_DATE_HELP}')
    if day <= today.day:
        return today.replace(day=day)
    if today.day <= 7:
        previous = previous_month(today)
        try:
            return previous.replace(day=day)
        except ValueError:
            raise _Fail("invalid_date", f'{previous:%B} has no "{said}". {_DATE_HELP}') from None
    raise _Fail(
        "ambiguous_date",
        f'Which month do you mean by "{said}"? The {_ordinal(day)} of {today:%B} has not come yet. '
        f'Say the month too, like "{previous_month(today):%b} {day}".',
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _date_value(match: re.Match[str], form: str, today: date, future_ok: bool) -> date | _Fail | None:
    said = match.group(0).strip()
    if form == _FUTURE:
        return _future(said)
    if form == _VAGUE:
        return _Fail("ambiguous_date", f'"{said}" is not one day; which day was the work done? {_DATE_HELP}')
    if form == "today":
        return today
    if form == "yesterday":
        return today - timedelta(days=1)
    if form == "before_yesterday":
        return today - timedelta(days=2)
    if form == "days_ago":
        return today - timedelta(days=int(_number(match.group("n"))))
    if form == "iso":
        return _make_date(int(match.group("y")), int(match.group("m")), int(match.group("d")), today, said, future_ok)
    if form == "numeric":
        year = int(match.group("y")) if match.group("y") else None
        return _make_date(year, int(match.group("m")), int(match.group("d")), today, said, future_ok)
    if form == "loose":
        month, day = int(match.group("m")), int(match.group("d"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None  # "15-20", "2.45": not a date at all
        year = int(match.group("y")) if match.group("y") else None
        return _make_date(year, month, day, today, said, future_ok)
    if form in ("month_day", "day_month"):
        year = int(match.group("year")) if match.group("year") else None
        return _make_date(year, _MONTHS[match.group("month")], _day_number(match.group("day")), today, said, future_ok)
    if form == "weekday":
        name = match.group("wd")
        weekday = _WEEKDAYS.get(name, _WEEKDAY_ALIASES.get(name, 0))
        rel = match.group("rel")
        if rel in ("last", "past"):
            # "last Friday" said on a Friday is a week ago: the most recent one strictly before today.
            return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
        if rel == "this":
            this_week = today - timedelta(days=today.weekday() - weekday)
            return _future(said) if this_week > today else this_week
        # "Friday" or "on Friday": the most recent one not after today (today's own weekday is today).
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    if form == "this_month":
        return _day_of_month(int(match.group("day")), today, said)
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


def _find_dates(text: str, tokens: list[_Token], today: date, future_ok: bool = False) -> None:
    """Date tokens; a phrase that names no single past day becomes a token holding its error.

    future_ok: a written date after today is kept as a date for the caller to judge (a consent's
    date); "tomorrow" and its kind stay errors."""
    has_month = _MONTH_WORD.search(text) is not None
    opened: dict[str, bool] = {"month": has_month}
    for pattern, form, gate in _DATE_PATTERNS:
        if gate not in opened:
            opened[gate] = _DATE_GATES[gate].search(text) is not None if gate in _DATE_GATES else gate in text
        if not opened[gate]:
            continue
        for match in pattern.finditer(text):
            if _taken(tokens, match.start(), match.end()):
                continue
            if form == "weekday" and _plain_word(match, text):
                continue  # "o2 sat 92%", "sat with pt 5": a plain word, not Saturday
            value: date | _Fail | None
            try:
                value = _date_value(match, form, today, future_ok)
            except _Fail as failure:
                value = failure
            if value is not None:
                tokens.append(_Token("date", match.start(), match.end(), value))
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
            try:
                if not re.search(r"\d{4}", match.group(0)):
                    found = _make_date(None, found.month, found.day, today, match.group(0).strip(), future_ok)
                elif found > today and not future_ok:
                    raise _future(match.group(0).strip())
                value = found
            except _Fail as failure:
                value = failure
            tokens.append(_Token("date", match.start(), match.end(), value))

# --- activities and programs ----------------------------------------------------

_ACTIVITY_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "transition_of_care",
        re.compile(
            r"\b(?:post[\s-]?discharge|discharge[ds]?|discharged|ed\s+(?:f/?u|follow[\s-]?up|visit)|er\s+(?:f/?u|follow[\s-]?up|visit)|"
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

_PROGRAM = re.compile(r"\b(ccm|pcm|rpm|bhi)\b")
_LOG_VERBS = re.compile(r"\b(?:spent|logged|log|logging|did|done|worked|took|min(?:ute)?s?\s+(?:on|with|for|re)|for\s+\d+\s+min)\b")


def classify_activity(text: str) -> str | None:
    lowered = text.lower()
    for name, pattern in _ACTIVITY_RULES:
        if pattern.search(lowered):
            return name
    return None


# --- real-time contact ----------------------------------------------------------

# Words that say no two-way contact happened: they win over "called" ("called, left VM").
_NOT_INTERACTIVE = re.compile(
    r"\b(?:voice\s*mail|vm|lvm|lmom|left\s+(?:a\s+)?(?:voice\s*mail|message|msg|vm)|no\s+answer|didn'?t\s+answer|did\s+not\s+answer|"
    r"no\s+(?:response|reply|pick\s*up)|unable\s+to\s+reach|could\s*n'?o?t\s+reach|not\s+reached|unreachable|"
    r"text(?:ed|ing)?|sms|mail(?:ed)?|letter)\b"
)
_INTERACTIVE = re.compile(
    r"\b(?:call(?:ed|ing|s)?|phone(?:d)?|telephone|spoke|spoken|speak|talk(?:ed|ing)?|video|zoom|telehealth|tele-?visit|"
    r"in[\s-]person|face[\s-]to[\s-]face|f2f|home\s+visit|visit(?:ed)?|met\s+with)\b"
)
# Contact with someone who is not the patient or a caregiver ("called pharmacy") is not the patient's call.
_THIRD_PARTY = re.compile(
    r"\s*(?:(?:with|w/|to|the|a|an|his|her|their|pt'?s|patient'?s)\s+)*(?:pharmacy|pharmacist|cardiology|cardiologist|nephrology|endo\w*|pulm\w*|"
    r"specialist|insurance|insurer|payer|office|clinic|lab|hospital|home\s+health|hh|dme|vendor|provider|dr\.?|doctor|pcp|md|"
    r"social\s+worker|agency|hospice|er|ed|snf|rehab)\b"
)


# "ER visit", "office visit" at another place: not contact with our care team.
_PLACE_BEFORE = re.compile(r"\b(?:er|ed|hospital|office)\s+$")


def interactive_contact(text: str) -> bool | None:
    """True when the words say real-time two-way contact with the patient or a caregiver; False when
    they say the contact did not happen live (voicemail, no answer, a text, a letter); None otherwise."""
    lowered = text.lower()
    if _NOT_INTERACTIVE.search(lowered):
        return False
    for match in _INTERACTIVE.finditer(lowered):
        if not _THIRD_PARTY.match(lowered, match.end()) and not _PLACE_BEFORE.search(lowered, 0, match.start()):
            return True
    return None


# --- wrapping, questions, splitting --------------------------------------------

_MENTION = re.compile(r"<[@#!][^>]*>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
_LEADING = re.compile(
    r"^\s*(?:(?:hey|hi|hello|ok|okay|yo)\s+(?:bot|ccmbot|ccm\s*bot)\b[\s,:!-]*|(?:please|pls|plz)\b[\s,:]*|"
    r"(?:i\s+)?(?:just\s+)?(?:logged|logging|log|add|record)\b[\s,:]*|(?:ccmbot|bot)\b[\s,:]+)+",
    re.I,
)
_BULLET = re.compile(r"^\s*(?:[-*•·‣◦]|\d+[.)])\s+")
_QUESTION_START = re.compile(
    r"^\s*(?:who|what|what's|whats|when|where|why|how|is|are|does|do|can|could|should|would|will|which|any(?:one|body))\b", re.I
)
# "did med rec for pt 2021, took 10 min" is a statement in staff shorthand: an entry when it carries
# minutes and a patient and does not end with "?".
_STATEMENT_START = re.compile(r"^\s*(?:did|had|was|were)\b", re.I)
# Starts with a character class or a space, not an optional space: tried at every position, it must fail fast.
_SEPARATORS = re.compile(r"[,&+]\s*|\s+(?:and\s+then|then|also|plus|and)\b\s*")


def unwrap(text: str) -> str:
    """Drop Slack mentions, channel links and emoji: they are never part of an entry."""
    text = _MENTION.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    return text


def _is_question(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped))


def starts_like_statement(text: str) -> bool:
    """Starts with did/had/was/were: a question only when it carries no duration or ends with "?"."""
    return bool(_STATEMENT_START.match(text))


_LINE_BREAK = re.compile(r"[\n;]+")
_TRAILING = re.compile(r"[\s.!]+$")


def _lines(text: str) -> list[str]:
    out = []
    for raw in _LINE_BREAK.split(text):
        line = _BULLET.sub("", raw)
        line = _LEADING.sub("", line)
        line = _TRAILING.sub("", line.strip())
        if line:
            out.append(line)
    return out


# --- the parser ---------------------------------------------------------------


@dataclass
class _Clause:
    durations: list[float] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    dates: list[date | _Fail] = field(default_factory=list)
    text: str = ""
    bare: bool = False


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
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        clause = _Clause(text=lowered[start:end])
        for t in tokens:
            if start <= t.start < end:
                if t.kind == "duration":
                    clause.durations.append(t.value)
                elif t.kind in ("patient", "bare"):
                    clause.patients.append(t.value)
                    clause.bare = clause.bare or t.kind == "bare"
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


_COUNTED = re.compile(r"\b(?:\d+|two|three|four|five|several|multiple|couple\s+of)\s+(?:calls|visits|attempts|messages|texts|voicemails|vms|times)\b")
_EACH = re.compile(r"\beach\b|\bapiece\b|\bper\s+(?:patient|pt)\b|\bea\b")


def _pair(clauses: list[_Clause], line_text: str) -> list[_Draft]:
    """Pair durations with patients across the clauses of one line."""
    drafts: list[_Draft] = []
    every_patient = [p for c in clauses for p in c.patients]
    every_duration = [d for c in clauses for d in c.durations]
    each = bool(_EACH.search(line_text))
    counted = _COUNTED.search(line_text) if each and len(every_duration) == 1 and len(every_patient) == 1 else None
    if counted:
        # "2 calls to pt 5, 5 min each": one entry, but is it 5 minutes or 10? Ask for the total.
        raise _Fail(
            "ambiguous_minutes",
            f"\"{counted.group(0)}\" at {every_duration[0]:g} min each: log the total, like \"{2 * every_duration[0]:g} min\" for two calls.",
        )
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


@dataclass
class _Line:
    drafts: list[tuple[_Draft, str]]
    dates: list[date | _Fail]
    text: str
    bare: bool = False
    activity: str | None = None


def _parse_line(line: str, today: date, max_minutes: int, message: str, seen: list[_Token]) -> _Line:
    """One line's drafts with their activity, the dates said on it, and whether its patients were bare numbers.

    message: the whole message, lower-cased: "logged", "spent" and the like there count for every line.
    seen: collects the durations and patients read, for "I didn't understand" when nothing is an entry.
    """
    tokens, lowered = _tokenize(line, today)
    durations = [t for t in tokens if t.kind == "duration"]
    patients = [t for t in tokens if t.kind in ("patient", "patients")]
    clocks = [t for t in tokens if t.kind == "clock"]
    line_dates = [t.value for t in tokens if t.kind == "date"]
    line_activity = classify_activity(_strip_tokens(lowered, tokens))
    activity_seen = line_activity is not None or bool(_LOG_VERBS.search(lowered) or (message != lowered and _LOG_VERBS.search(message)))
    nothing = _Line([], line_dates, lowered, activity=line_activity)
    bare: list[_Token] = []
    if not patients and (durations or clocks) and activity_seen:
        bare = _find_bare_numbers(line, tokens)
    seen += durations + patients
    if clocks and (patients or bare) and not durations:
        raise _Fail("ambiguous_minutes", f'"{clocks[0].value}" could mean hours or minutes. Write "1h30m" or "90 min".')
    if not durations:
        if patients and activity_seen:
            raise _Fail("missing_minutes", f"How many minutes was that? Add the time, like \"15 min\" or \"1h15m\". {EXAMPLE}")
        return nothing
    if not patients and not bare:
        if activity_seen:
            raise _Fail("missing_patient", f"Which patient was that for? Add the patient, like \"pt 123\". {EXAMPLE}")
        return nothing
    for token in durations:
        _minutes(token.value, max_minutes)
    if bare:
        tokens = sorted(tokens + bare, key=lambda t: t.start)
    clauses = _clauses(line, tokens, lowered)
    drafts = _pair(clauses, lowered)
    # The activity of an entry comes from its own clause when the line holds several, else from the whole line.
    one_entry = len(drafts) == 1
    with_activity = [(d, (line_activity if one_entry else classify_activity(d.clause.text)) or line_activity or "other") for d in drafts]
    return _Line(with_activity, line_dates, lowered, bare=bool(bare), activity=line_activity)


def _keys(token: _Token) -> list[str]:
    return token.value if isinstance(token.value, list) else [token.value]


def _minutes_words(value: float) -> str:
    return f"{value:g} minute{'' if value == 1 else 's'}"


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


def parse_message(text: str, today: date, *, max_minutes: int = DEFAULT_MAX_MINUTES, allow_old_dates: bool = False) -> ParseResult:
    """Read one chat message. Never raises on any text.

    allow_old_dates: take dates before last month (an admin's back-fill); chat refuses them.
    """
    try:
        return _parse(text, today, max_minutes, allow_old_dates)
    except _Fail as failure:
        return ParseResult(error=failure.error)
    except Exception:  # the parser must never take the bot down; an unreadable message is just not an entry
        return ParseResult()


def _parse(text: str, today: date, max_minutes: int, allow_old_dates: bool = False) -> ParseResult:
    unwrapped = unwrap(text or "")
    if not unwrapped.strip() or _is_question(unwrapped):
        return ParseResult()
    statement = starts_like_statement(unwrapped)
    try:
        # Normalised before unwrapping: a zero-width joiner inside a key is dropped, not read as emoji glue.
        return _read(unwrap(normalize(text)), today, max_minutes, allow_old_dates)
    except _Fail:
        if statement:
            return ParseResult()  # "did anyone call pt 5 yesterday": a question without its "?"
        raise


def _read(unwrapped: str, today: date, max_minutes: int, allow_old_dates: bool) -> ParseResult:
    message = unwrapped.lower()
    seen: list[_Token] = []  # what was read, for "I didn't understand" (put in words only if needed)
    lines = [_parse_line(line, today, max_minutes, message, seen) for line in _lines(unwrapped)]
    if not any(line.drafts for line in lines):
        words = [_minutes_words(t.value) if t.kind == "duration" else f"patient {k}" for t in seen for k in _keys(t)]
        return ParseResult(seen=tuple(dict.fromkeys(words)))
    # A date phrase anywhere in a message that logs time must be placed; a failed one is the answer.
    for line in lines:
        for value in line.dates:
            if isinstance(value, _Fail):
                raise value
    header_dates = [d for line in lines if not line.drafts for d in line.dates]
    all_dates = {d for line in lines for d in line.dates}
    message_date = header_dates[0] if header_dates else (next(iter(all_dates)) if len(all_dates) == 1 else today)
    message_program = next((p for line in lines if (p := _program(line.text))), None)
    # A line that logs nothing may still say what the work was ("all care plan updates" under a list).
    message_activity = next((line.activity for line in lines if not line.drafts and line.activity), None)
    oldest = previous_month(today)
    entries = []
    for line in lines:
        line_contact = interactive_contact(line.text)
        # Several entries on a line: each one's contact is its own clause's, unless no clause says any.
        clause_contacts = [interactive_contact(d.clause.text) for d, _ in line.drafts] if len(line.drafts) > 1 else []
        own = any(c is not None for c in clause_contacts)
        for index, (draft, activity) in enumerate(line.drafts):
            when = draft.clause.dates[0] if draft.clause.dates else (line.dates[0] if line.dates else message_date)
            assert isinstance(when, date)
            if when > today:
                raise _future(f"{when:%A %B} {when.day}, {when.year}")
            if when < oldest and not allow_old_dates:
                raise _Fail(
                    "date_too_old",
                    f"{when:%B} {when.day}, {when.year} is before {oldest:%B %Y}; chat takes time from last month and this month only. "
                    "An admin can back-fill older time with `ccmbot log`.",
                )
            if activity == "other" and message_activity:
                activity = message_activity
            entries.append(
                ParsedEntry(
                    patient=draft.patient,
                    minutes=_minutes(draft.minutes, max_minutes),
                    date=when,
                    activity=activity,
                    program=_program(draft.clause.text) or _program(line.text) or message_program,
                    interactive=clause_contacts[index] if own else line_contact,
                    bare_key=line.bare,
                )
            )
    return ParseResult(entries=tuple(entries))


def has_duration(text: str) -> bool:
    """Whether the text states a number of minutes or hours (a statement to log, not a question)."""
    try:
        tokens: list[_Token] = []
        lowered = unwrap(normalize(text)).lower()
        _find_patients(lowered, tokens)
        _find_durations(lowered, tokens)
    except _Fail as failure:
        return failure.error.code == "ambiguous_minutes"
    return any(t.kind == "duration" for t in tokens)


def read_date(text: str, today: date) -> date | None:
    """The one date in a short phrase ("today", "11/3", "last Friday", "Nov 3"), or None.

    A written date after today is returned for the caller to judge. Raises ValueError with a sentence
    for a person when the phrase names an impossible or vague date, or a relative one in the future.
    """
    tokens: list[_Token] = []
    try:
        _find_dates(unwrap(normalize(text)).lower(), tokens, today, future_ok=True)
    except _Fail as failure:
        raise ValueError(failure.error.message) from None
    values = [t.value for t in tokens if t.kind == "date"]
    for value in values:
        if isinstance(value, _Fail):
            raise ValueError(value.error.message)
    dates = sorted({v for v in values if isinstance(v, date)})
    return dates[0] if len(dates) == 1 else None


def warm_up() -> None:
    """Compile patterns and load dateparser once at start-up so the first message is fast
    (bot.slack.app.build_bot calls it)."""
    parse_message("15 min med review for pt 1 on Nov 3", date(2026, 11, 27))
    _dateparser_for(date.today()).get_date_data("the third of november")
