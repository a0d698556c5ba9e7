"""Chat text -> which question or command it is (pure; entries are the parser's job).

The assistant asks this first and hands everything that is not a question or a
command to the parser, so "15 min call with pt 123" is never mistaken for a
status question, and "status 123" is never read as a time entry without minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.parsing import clean_key, has_duration, starts_like_statement, unwrap

# Periods a person asks about their own time in, checked longest first.
PERIODS = ("last month", "this month", "last week", "this week", "yesterday", "today")


@dataclass(frozen=True)
class Intent:
    name: str  # help | undo | my_time | no_consent | due | consent | status | close_month | reopen_month
    args: dict[str, str] = field(default_factory=dict)


def _clean(text: str) -> str:
    text = unwrap(text or "").strip().lower()
    text = re.sub(r"^(?:hey|hi|hello|ok|okay)\s+(?:bot|ccmbot)\b[\s,:!-]*", "", text)
    text = re.sub(r"^(?:ccmbot|bot|/ccm)\b[\s,:]*", "", text)
    text = text.replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


_KEY = r"[a-z]*\d[\w-]*"
_EXPLICIT_PATIENT = re.compile(rf"(?:\bpatient|\bpt\.?|#)\s*#?\s*(?P<key>{_KEY})")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")
_DATE_LIKE = re.compile(r"^\d{1,4}[/-]\d{1,2}(?:[/-]\d{1,4})?$")


def patient_key(text: str) -> str | None:
    """The patient a question is about: "pt 123", "patient #0789", or a lone number like "is 123 consented?"."""
    explicit = _EXPLICIT_PATIENT.search(text)
    if explicit:
        return clean_key(explicit.group("key"))
    for word in re.findall(r"[\w/-]+", text):
        if re.fullmatch(_KEY, word) and not _ORDINAL.match(word) and not _DATE_LIKE.match(word) and not word.isalpha():
            return clean_key(word)
    return None


_HELP = re.compile(r"^(?:help|\?|commands|what can you do\??|how (?:do|can) i .*|usage)$")
_UNDO = re.compile(r"^(?:undo|undo (?:that|it|last|my last(?: entry| message)?)|oops,? undo( that)?|scratch that|take that back)[.!]?$")
_MY_TIME = re.compile(
    r"^(?:me|mine|my (?:time|minutes|entries|log)|what (?:did|have) i log(?:ged)?|how much (?:time )?(?:did|have) i log(?:ged)?|"
    r"what have i done|show my (?:time|entries))\b"
)
_NO_CONSENT = re.compile(
    r"^(?:who|which patients?|list|show|any(?:one|body)?)\b.*\b(?:no|without|missing|lacks?|lacking|needs?) consents?\b|"
    r"^(?:who|which patients?)\b.*\b(?:not|isn't|aren't|hasn't|haven't) (?:been )?consented\b|^consent gaps?\b"
)
_DUE = re.compile(
    r"^(?:due|short|close|who'?s close|who is close|who'?s short|"
    r"(?:who|which patients?|any(?:one|body)|list|show)\b.*\b(?:needs?|need|short|close|behind|below|left|due|missing time|under)\b)"
)
_CLOSE_WORDS = re.compile(r"\bclose\b(?! (?:month|out))|\bnear(?:ly)?\b|\balmost\b")
_BEFORE_DAY = re.compile(r"\b(?:before|by|until|til|till) (?:the )?(?P<day>\d{1,2})(?:st|nd|rd|th)?\b")
_CONSENT = re.compile(r"^(?:record )?consent(?:ed)?\b(?! status)\s*(?:for\s+)?(?P<rest>.*)$")
_STATUS = re.compile(r"^(?:status|progress|minutes|time)\b(?: (?:of|for|on))?\s*(?P<rest>.+)$|^(?P<rest2>.+?) status$")
_MONTH_ADMIN = re.compile(r"^(?P<verb>close|reopen|re-open) (?:the )?(?:month )?(?:of )?(?P<month>\d{4}-\d{1,2}|[a-z]+(?: \d{4})?)$")


def classify(text: str) -> Intent | None:
    """The question or command in `text`, or None when it should go to the parser."""
    t = _clean(text)
    if not t:
        return Intent("help")
    bare = t.rstrip("?!. ")
    if _HELP.match(t) or _HELP.match(bare):
        return Intent("help")
    if _UNDO.match(bare):
        return Intent("undo")
    admin = _MONTH_ADMIN.match(bare)
    if admin:
        return Intent("reopen_month" if admin.group("verb") != "close" else "close_month", {"month": admin.group("month")})
    if _MY_TIME.match(bare):
        period = next((p for p in PERIODS if p in bare), "today")
        return Intent("my_time", {"period": period})
    if _NO_CONSENT.search(bare):
        return Intent("no_consent")
    consent = _CONSENT.match(bare)
    if consent and not t.endswith("?"):
        return Intent("consent", {"rest": _as_written(consent.group("rest").strip(), text)})
    if _DUE.match(bare) and not _EXPLICIT_PATIENT.search(bare):
        args = {"close": "yes"} if _CLOSE_WORDS.search(bare) else {}
        before = _BEFORE_DAY.search(bare)
        if before:
            args["before_day"] = before.group("day")
        return Intent("due", args)
    status = _STATUS.match(bare)
    if status:
        key = patient_key(status.group("rest") or status.group("rest2") or "")
        if key:
            return Intent("status", {"patient": _as_written(key, text), "focus": _focus(bare)})
    if not t.endswith("?") and starts_like_statement(t) and has_duration(t):
        return None  # "did med rec for pt 2021, took 10 min": staff shorthand for an entry
    if t.endswith("?") or re.match(r"^(?:how|is|are|what|what's|whats|where|has|does|did|can)\b", t):
        key = patient_key(bare)
        if key:
            return Intent("status", {"patient": _as_written(key, text), "focus": _focus(bare)})
    return None


def _as_written(fragment: str, original: str) -> str:
    """`fragment` was found in the lower-cased text; give it back with the letters as typed,
    since patient keys are matched exactly as the roster holds them."""
    pattern = r"\s+".join(re.escape(word) for word in fragment.split())
    found = re.search(pattern, original, re.I)
    return found.group(0) if found else fragment


def _focus(text: str) -> str:
    """What a status question asks first: consent, what blocks billing, or the whole picture."""
    if re.search(r"\bconsent", text):
        return "consent"
    if re.search(r"\b(?:missing|blocking|blocks?|blocked|wrong|why not|stopping)\b", text):
        return "missing"
    return "all"


def period_bounds(period: str, today: date) -> tuple[date, date, str]:
    """(first, last, words) of a period named in "my time ..."; weeks start on Monday."""
    if period == "yesterday":
        day = today - timedelta(days=1)
        return day, day, "yesterday"
    if period == "this week":
        return today - timedelta(days=today.weekday()), today, "this week"
    if period == "last week":
        start = today - timedelta(days=today.weekday() + 7)
        return start, start + timedelta(days=6), "last week"
    if period == "this month":
        return today.replace(day=1), today, f"in {today:%B}"
    if period == "last month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last, f"in {last:%B}"
    return today, today, "today"
