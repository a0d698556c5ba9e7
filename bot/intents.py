"""Chat text -> which question or command it is, with typed slots (pure; entries are the parser's job).

The one question grammar: chat, DMs and mentions classify text here; `/ccm` subcommands and
buttons build the same `Intent` directly. The assistant asks this first and hands everything
that is not a question or a command to the parser, so "15 min call with pt 123" is never
mistaken for a status question, and "status 123" is never read as an entry without minutes.

A question is read in three steps: its slots are cut out of the text (month, practitioner,
staff member, program, window, CPT code, patient), the family is found in the words that are
left, and any word still unused is kept in `unread`, so that the answer can say what it did
not use instead of silently answering a broader question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

from bot.correction_grammar import looks_like_correction
from bot.parsing import clean_key, has_duration, starts_like_statement, unwrap

# "Who's close?" means within this many minutes of the next code.
CLOSE_MINUTES = 10
# Periods a person asks about staff time in, checked longest first.
PERIODS = ("last month", "this month", "last week", "this week", "yesterday", "today")


class IntentName(StrEnum):
    HELP = "help"
    UNDO = "undo"
    STATUS = "status"
    NEEDS_TIME = "needs_time"
    NO_TIME_YET = "no_time_yet"
    BLOCKED = "blocked"
    REACHED = "reached"
    BILLING = "billing"
    FELL_SHORT = "fell_short"
    STAFF_TIME = "staff_time"
    STAFF_MINUTES = "staff_minutes"
    REPORT = "report"
    CONSENT = "consent"
    COMPLEX = "complex"  # mark a patient-month as complex CCM (moderate or high complexity MDM)
    NOT_COMPLEX = "not_complex"
    CLOSE_MONTH = "close_month"
    REOPEN_MONTH = "reopen_month"
    RPM_START = "rpm_start"  # an RPM episode starts (set-up and education that day)
    RPM_STOP = "rpm_stop"
    DATA_DAYS = "data_days"  # who is short of RPM data days in their current 30-day period
    TIMER_START = "timer_start"  # start a timer on a patient's work (bot/timers.py)
    TIMER_STOP = "timer_stop"  # stop one: its whole minutes are logged
    TIMER_CANCEL = "timer_cancel"  # drop one, logging nothing
    TIMERS = "timers"  # the speaker's running timers
    CORRECT = "correct"  # replace or delete one logged entry (bot/corrections.py); rest: the text
    MY_ENTRIES = "my_entries"  # a person's entries with their numbers, to correct one by


@dataclass(frozen=True)
class Slots:
    """What a question names. None: not said (the answer says what it assumed)."""

    month: str | None = None  # "this" | "last" | "YYYY-MM" | a month name without a year ("october")
    practitioner: str | None = None  # "me" ("my patients") or a name as written, without "Dr."
    staff: str | None = None  # "me" or a colleague's name as written
    program: str | None = None  # CCM | PCM | RPM | APCM
    within: int | None = None  # minutes to the next code
    before_day: int | None = None  # a day of this month
    code: str | None = None  # a CPT code (never a patient key)
    patient: str | None = None  # a patient key, letters and zeros as typed
    focus: str | None = None  # status: consent | missing
    reason: str | None = None  # blocked: the billing blocker asked about
    period: str | None = None  # staff time: one of PERIODS
    rest: str | None = None  # a command's arguments as typed (consent; complex: the reason)

    def given(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Intent:
    name: IntentName
    slots: Slots = field(default_factory=Slots)
    unread: tuple[str, ...] = ()  # words the grammar did not use: the answer must say so


# --- patient keys and codes ----------------------------------------------------------------

# The one patient-key pattern: letters may lead, a digit is required, as typed.
KEY = r"[A-Za-z]*\d[\w-]*"
# CPT codes of the programs (99xxx): a number of this shape is a code, never a patient key.
CODE = re.compile(r"\b(99(?:49[01]|43[79]|48[479]|42[4-7]|45[3478]|470|445|484|492|493|494))\b")
_EXPLICIT_PATIENT = re.compile(rf"(?:\bpatient|\bpt\.?|#)\s*#?\s*(?P<key>{KEY})", re.I)
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")
_DATE_LIKE = re.compile(r"^\d{1,4}[/-]\d{1,2}(?:[/-]\d{1,4})?$")


def patient_key(text: str) -> str | None:
    """The patient a question is about: "pt 123", "patient #0789", or a lone number like "is 123 consented?"."""
    explicit = _EXPLICIT_PATIENT.search(text)
    if explicit:
        return clean_key(explicit.group("key"))
    for word in re.findall(r"[\w/'-]+", text):
        word = clean_key(word)
        if re.fullmatch(KEY, word) and not _ORDINAL.match(word) and not _DATE_LIKE.match(word) and not word.isalpha() and not CODE.fullmatch(word):
            return word
    return None


# --- slots -----------------------------------------------------------------------------------

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6,
    "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))
_SLOT_MONTH = re.compile(
    rf"\b(?:(?P<this>this|current)\s+month|(?P<last>last|previous|prior)\s+month|(?P<iso>\d{{4}})-(?P<m>\d{{1,2}})\b"
    rf"|(?P<name>{_MONTH_NAME})\.?(?:\s+(?P<year>\d{{4}}))?)\b"
)
_PROGRAM = re.compile(r"\b(ccm|pcm|rpm|bhi|apcm)\b")
_WITHIN = re.compile(r"\bwithin\s+(\d{1,3})\s*(?:min(?:ute)?s?|m)?\b")
_CLOSE = re.compile(r"\b(?:close|closest|near|nearly|almost(?:\s+there)?)\b(?!\s+(?:month|out))")
_BEFORE_DAY = re.compile(r"\b(?:before|by|until|til|till)\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b")
_NAME = r"[a-z][a-z.'-]*(?:\s+[a-z][a-z'-]*)?"
_DR = r"(?:dr\.?|doctor)\s+"
_PRACTITIONER = [
    re.compile(r"\bmy\s+(?:patients|pts|panel)\b"),
    re.compile(rf"\b(?:for|under|of|with)\s+{_DR}(?P<name>{_NAME})"),
    re.compile(rf"\b(?:{_DR})?(?P<name>[a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)'s\s+(?:patients|pts|panel|people)\b"),
    re.compile(rf"\b(?:patients|pts|panel)\s+(?:of|for|under)\s+(?:{_DR})?(?P<name>{_NAME})"),
    re.compile(rf"\bunder\s+(?:{_DR})?(?P<name>{_NAME})"),
    re.compile(rf"\b{_DR}(?P<name>{_NAME})"),
    # "for dana", "under liu": a name after for/under, checked last and only against non-words below.
    re.compile(rf"\b(?:for|under)\s+(?P<name>{_NAME})"),
]
_NOT_NAMES = {
    "this", "last", "the", "all", "my", "our", "each", "every", "who", "any", "anyone", "patients", "pts", "time", "month", "week", "today",
    "ccm", "pcm", "rpm", "apcm", "consent", "care", "a", "an", "everyone", "everybody", "staff", "billing", "me", "us",
    "in", "on", "at", "for", "of", "with", "by", "among", "amongst", "from", "over", "whom", "that",
    "real", "now", "so", "far", "them", "him", "her", "it", "which", "what", "code", "codes", "2026", "sept", "sep",
    *_MONTHS,
}  # fmt: skip
_LEADING_WORDS = re.compile(r"^(?:(?:for|of|under|with|the|in|to|by)\s+)+")
_STOP_AFTER_NAME = re.compile(r"\s+(?:" + "|".join(["this", "last", "in", "for", "who", "with", "month", "patients", "pts", "today", "yet", "still", "need", "needs"]) + r")\b.*$")


# --- families --------------------------------------------------------------------------------

_HELP = re.compile(r"^(?:help|\?|commands|what can (?:you|u) do\??|how (?:do|can) i .*|usage)$")
_UNDO = re.compile(r"^(?:undo|undo (?:that|it|last|my last(?: entry| message)?)|oops,? (?:undo( that)?|scratch that)|scratch that|take that back)[.!]?$")
_CONSENT_COMMAND = re.compile(r"^(?:record )?consent(?:ed)?\b(?! status)\s*(?:for\s+)?(?P<rest>.*)$")
# "complex 123 for October: new insulin regimen", "not complex 123", "complex 123 off": a key must
# follow, and not minutes, so "complex care coordination 20 min pt 123" stays an entry.
_COMPLEX_KEY = rf"(?:pt\.?\s*|patient\s*|#)?(?P<key>{KEY})\b(?!\s*(?:m|mins?|minutes?|h|hrs?|hours?)\b)"
_COMPLEX = re.compile(rf"^(?:mark(?:ed)?\s+(?:as\s+)?)?complex\s+(?:for\s+)?{_COMPLEX_KEY}(?P<tail>.*)$")
_COMPLEX_REVERSED = re.compile(rf"^mark\s+{_COMPLEX_KEY}\s+(?:as\s+)?complex\b(?P<tail>.*)$")
_NOT_COMPLEX = re.compile(rf"^(?:not|un-?mark(?:ed)?)\s+(?:as\s+)?complex\s+(?:for\s+)?{_COMPLEX_KEY}(?P<tail>.*)$")
_COMPLEX_MONTH = re.compile(
    rf"^\s*(?:(?:for|in|during)\s+)?(?:the\s+)?(?P<month>(?:this|current|last|previous|prior)\s+month|\d{{4}}-\d{{1,2}}|(?:{_MONTH_NAME})\.?(?:\s+\d{{4}})?)\b"
)
_COMPLEX_OFF = re.compile(r"^(?:off|no|false|unmark(?:ed)?|not\s+complex|remove|clear)$")
_COMPLEX_SEPARATOR = re.compile(r"^\s*(?:[:;,.\-\u2013\u2014]+|\b(?:because|since|due\s+to|reason:?|bc|b/c)\b)\s*")
# "rpm start 123", "RPM set up for pt 123 today", "started rpm for 123 on 11/2 device: BP cuff",
# "rpm stop 123 yesterday": a key must follow, and no minutes ("rpm setup pt 123 20 min" is time).
_RPM_KEY = rf"(?:(?:for|on|with|of)\s+)?(?:pt\.?\s*|patient\s*|#)?(?P<key>{KEY})\b"
_RPM_START_WORDS = r"(?:start(?:ed|s)?|begin|began|set\s*-?\s*up|setup|initiated?|on)"
_RPM_STOP_WORDS = r"(?:stop(?:ped|s)?|end(?:ed|s)?|off|discontinued?)"
_RPM_START = re.compile(rf"^(?:rpm\s+(?:monitoring\s+)?{_RPM_START_WORDS}|{_RPM_START_WORDS}\s+rpm(?:\s+monitoring)?)\s+{_RPM_KEY}(?P<tail>.*)$")
_RPM_STOP = re.compile(rf"^(?:rpm\s+(?:monitoring\s+)?{_RPM_STOP_WORDS}|{_RPM_STOP_WORDS}\s+rpm(?:\s+monitoring)?)\s+{_RPM_KEY}(?P<tail>.*)$")
_RPM_NO_KEY = re.compile(rf"^(?:rpm\s+(?P<verb>{_RPM_START_WORDS}|{_RPM_STOP_WORDS})|(?P<verb2>{_RPM_START_WORDS}|{_RPM_STOP_WORDS})\s+rpm)$")
_DATA_DAYS = re.compile(r"\bdata[- ]?days?\b")
# Timers: "start pt 123 call", "start a timer for 123 med review", "stop", "stop 123", "cancel timer [123]",
# "timers". Read after the RPM commands ("start rpm 123" is an episode) and never with minutes said
# ("start 123 call 15 min" is time to log). "started", "stopped" are not commands.
_TIMER = r"(?:(?:a|the|my)\s+)?timers?"
_TIMER_START = re.compile(rf"^(?:start(?:\s+{_TIMER})?|{_TIMER}\s+start)\b(?P<rest>.*)$")
_TIMER_STOP = re.compile(rf"^(?:stop(?:\s+{_TIMER})?|{_TIMER}\s+stop|end\s+{_TIMER})\b(?P<rest>.*)$")
_TIMER_CANCEL = re.compile(rf"^(?:(?:cancel|discard|drop)\s+(?=.*\btimers?\b)|{_TIMER}\s+cancel\b)(?P<rest>.*)$")
_TIMER_LIST = re.compile(r"^(?:(?:show|list|any)\s+)?(?:my\s+)?(?:running\s+)?timers?(?:\s+running)?$")
_TIMER_KEY = rf"(?:(?:\bpatient|\bpt\.?)\s*#?\s*|#\s*)?(?<![\w/.-])(?P<key>{KEY})\b(?![/.-]\d)"
_TIMER_FILLER = re.compile(rf"\b(?:{_TIMER}|for|on|with|of|the|my|a|now)\b")
_MONTH_ADMIN = re.compile(r"^(?P<verb>close|reopen|re-open) (?:the )?(?:month )?(?:of )?(?P<month>\d{4}-\d{1,2}|[a-z]+(?: \d{4})?)$")
_STATUS = re.compile(r"^(?:status|progress|minutes|time)\b(?: (?:of|for|on))?\s*(?P<rest>.+)$|^(?P<rest2>.+?) status$")
_QUESTION_START = re.compile(r"^(?:how|is|are|what|what's|whats|where|has|does|did|can|why|do)\b")
# A list question may come without "?" or a question word: "anyone still need time", "pts with 0 minutes".
_LIST_START = re.compile(r"^(?:who|whos|who's|whose|which|any|anyone|anybody|any1|list|show|pts|patients|ccm|pcm|rpm|apcm|missing|dr\.?|doctor)\b|^[a-z]+'s\s+(?:patients|pts|panel)\b")
# "1001 minutes for october", "0789 status": a key, then minutes or status, then at most a month.
_KEY_STATUS = re.compile(
    rf"^(?P<key>{KEY})\s+(?:minutes|mins|min|time|status|progress)"
    rf"(?:\s+(?:for|in|during)?\s*(?:this\s+month|last\s+month|(?:{_MONTH_NAME})\.?(?:\s+\d{{4}})?|\d{{4}}-\d{{1,2}}|so\s+far))?$"
)
# Questions that may carry a number of minutes ("who's within 5 min?") start like this.
_WH_START = re.compile(r"^(?:who|whos|who's|whose|which|what|what's|whats|how|is|are|does|do|any|anyone|anybody|any1|list|show)\b")

_REPORT_ASK = re.compile(
    r"^(?:the\s+)?(?:billing\s+|month(?:ly)?\s+|month[- ]end\s+)?(?:report|csv)\b|\b(?:send|give|get|pull)\s+(?:me\s+)?(?:the\s+)?(?:\w+\s+){0,2}?"
    r"(?:report|csv|spreadsheet|file)\b|\bmonth[- ]end\s+(?:csv|file|report)\b"
)
_REPORT = re.compile(r"\b(?:month[- ]end\s+)?(?:report|csv|spreadsheet|export)\b")
_STAFF_MINUTES = re.compile(r"\b(?:minutes|mins|time|totals?)\s+(?:by|per|for each|for every)\s+(?:staff|person|nurse|member|team member|user)|\bstaff\s+(?:totals?|minutes|time)|\bwho\s+(?:logged|has logged|did)\s+the\s+most\b|\bleaderboard\b")
_FELL_SHORT = re.compile(
    r"\b(?:fell|fall|falls|came|come)\s+short\b|\bmissed\s+(?:99\d{3}|the\s+(?:first\s+)?threshold|a\s+code|out)|\b(?:left|leave|leaving)\s+on\s+the\s+table\b"
    r"|\bshort\s+last\s+month\b|\bjust\s+missed\b"
)
_BILLING = re.compile(r"\b(?:bill|billing|billed|revenue|earn|earned|make|made|income|projected|projection|collect)\b|\bhow\s+much\b|\btotal\s+(?:for|this|last)\b|\bbilling\s+total\b")
_REACHED = re.compile(r"\b(?:reach|reached|hit|hits|got|get|made|qualif\w*|met|meet|at)\b")
_NO_TIME_YET = re.compile(
    r"\bno\s+(?:time|minutes|mins|min)\b|\b(?:zero|0)\s+(?:min(?:ute)?s?|time)\b|\bat\s+(?:0|zero)\b|\bnot\s+(?:been\s+)?(?:touched|started|seen|called)\b"
    r"|\b(?:haven'?t|hasn'?t|have\s+not|has\s+not)\s+(?:we\s+|they\s+)?(?:been\s+)?(?:touched|started|logged|called|had\s+any\s+(?:time|minutes))\b"
    r"|\bnothing\s+(?:logged|yet)\b|\bno\s+one\s+has\s+(?:touched|called)\b|\buntouched\b"
)
_BLOCKED = re.compile(r"\bblock(?:ed|ing|s)?\b|\b(?:can'?t|cannot)\s+(?:we\s+)?(?:be\s+)?bill(?:ed)?\b|\bnot\s+billable\b|\bunbillable\b")
_REASONS: list[tuple[str, re.Pattern[str]]] = [
    ("no_care_plan", re.compile(r"\bcare\s*plans?\b")),
    ("no_initiating_visit", re.compile(r"\binitiating\s+visits?\b|\b(?:initial|intake)\s+visits?\b|\bvisit\s+(?:is\s+)?too\s+old\b")),
    ("too_few_conditions", re.compile(r"\b(?:enough|too\s+few|fewer|2\+?|two)\s+(?:chronic\s+)?conditions?\b|\bconditions?\b")),
    ("no_billing_practitioner", re.compile(r"\b(?:no|without\s+a|missing)\s+(?:billing\s+)?(?:practitioner|doctor|provider|physician)s?\b")),
    ("consent_other_practitioner", re.compile(r"\bconsent\w*\s+(?:for|from|to)\s+(?:another|other|a\s+different|the\s+old|previous)\b|\b(?:new|changed)\s+(?:billing\s+)?(?:practitioner|doctor|provider)\b")),
    ("consent_revoked", re.compile(r"\brevoked?\b|\bwithdr[ae]w\w*\b")),
    ("no_consent", re.compile(r"\bconsent\w*\b")),
    ("no_interactive_communication", re.compile(r"\b(?:no|without|missing)\s+(?:interactive\s+)?(?:call|contact)s?\b|\binteractive\b")),
    ("program_conflict", re.compile(r"\bconflict\w*\b|\bdouble\s+bill\w*\b")),
]
_NEEDS = re.compile(r"\b(?:needs?|need|needing|short|behind|below|under|left|due|missing\s+time|still|remaining)\b")
_STAFF_TIME = re.compile(
    r"^(?:me|mine)\b|\bmy\s+(?:time|minutes|mins|entries|log)\b|\bwhat\s+(?:did|have|has)\s+(?P<who>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)\s+(?:log|logged|done|do)\b"
    r"|\bhow\s+much\s+(?:time\s+)?(?:did|have|has)\s+(?P<who2>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)\s+log(?:ged)?\b|\bshow\s+my\s+(?:time|entries)\b"
    r"|\b(?P<who3>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)'s\s+(?:time|minutes|mins|entries|log)\b|\b(?:time|minutes|entries)\s+(?:for|by|of)\s+(?P<who4>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)\s*(?:today|yesterday|this|last|$)"
    r"|^(?P<who5>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)?)\s+(?:time|minutes|mins|entries)\s+(?:today|yesterday|this|last)\b"
)

# Words every question family may use without changing what is asked.
_FILLER = {
    "who", "whom", "whose", "what", "which", "where", "when", "why", "how", "many", "much", "is", "are", "was", "were", "be",
    "been", "being", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have", "had", "we", "our", "us",
    "i", "me", "my", "you", "your", "the", "a", "an", "any", "anyone", "anybody", "any1", "someone", "somebody", "everyone",
    "one", "ones", "still", "yet", "need", "needs", "needed", "needing", "time", "minutes", "mins", "min", "minute", "patients",
    "patient", "pts", "pt", "people", "person", "list", "show", "tell", "give", "get", "send", "please", "pls", "plz", "thx",
    "thanks", "thank", "ty", "there", "this", "that", "these", "those", "it", "its", "to", "for", "of", "in", "on", "at", "by",
    "with", "and", "or", "so", "far", "now", "currently", "right", "month", "months", "some", "all", "more", "less", "left",
    "just", "also", "ok", "okay", "hey", "hi", "hello", "bot", "ccmbot", "team", "practice", "about", "from", "up", "lately",
    "going", "'ll", "'re", "'s", "'ve", "'d", "know", "see", "check", "find", "let", "lets", "let's", "look", "looking", "want",
    "wanna", "gonna", "can't", "cant", "don't", "dont", "isn't", "aren't", "hasn't", "haven't", "didn't", "doesn't", "not",
    "no", "yes", "total", "totals", "number", "count", "there'll", "close", "closest", "near", "nearly", "almost", "within",
    "before", "until", "til", "till", "due", "short", "behind", "below", "under", "remaining", "blocked", "blocking", "blocks",
    "block", "billable", "bill", "billing", "billed", "cannot", "reason", "reasons", "reach", "reached", "hit", "hits", "got",
    "made", "make", "qualify", "qualified", "qualifies", "met", "meet", "code", "codes", "revenue", "earn", "earned", "income",
    "projected", "projection", "collect", "fell", "fall", "falls", "came", "come", "missed", "miss", "money", "table",
    "threshold", "first", "logged", "log", "logging", "done", "entries", "entry", "staff", "member", "members", "nurse", "each",
    "every", "per", "most", "leaderboard", "report", "csv", "spreadsheet", "export", "file", "consent", "consented", "consents",
    "care", "plan", "plans", "initiating", "initial", "intake", "visit", "visits", "old", "too", "conditions", "condition",
    "chronic", "enough", "few", "revoked", "withdrawn", "interactive", "call", "calls", "contact", "conflict", "double", "zero",
    "touched", "started", "seen", "nothing", "untouched", "called", "today", "yesterday", "week", "last", "current", "previous",
    "prior", "missing", "but", "end", "month-end", "whos", "u", "doesnt", "wont", "won't", "stil", "among", "amongst",
    "between", "across", "them"
}  # fmt: skip


def _clean(text: str) -> str:
    text = unwrap(text or "").strip().lower()
    text = re.sub(r"^(?:hey|hi|hello|ok|okay)\s+(?:bot|ccmbot)\b[\s,:!-]*", "", text)
    text = re.sub(r"^(?:ccmbot|bot|/ccm)\b[\s,:]*", "", text)
    text = text.replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def _as_written(fragment: str, original: str) -> str:
    """`fragment` was found in the lower-cased text; give it back with the letters as typed,
    since patient keys are matched exactly as the roster holds them."""
    pattern = r"\s+".join(re.escape(word) for word in fragment.split())
    found = re.search(pattern, original, re.I)
    return found.group(0) if found else fragment


class _Text:
    """The question's words, with the spans used by slots blanked out as they are read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.left = text

    def take(self, match: re.Match[str]) -> None:
        start, end = match.span()
        self.left = self.left[:start] + " " * (end - start) + self.left[end:]

    def unread(self) -> tuple[str, ...]:
        words = re.findall(r"[a-z0-9][a-z0-9'-]*", self.left)
        return tuple(w for w in words if w not in _FILLER and w.rstrip("'s") not in _FILLER)


def _month(t: _Text) -> str | None:
    for match in _SLOT_MONTH.finditer(t.left):
        if match.group("this"):
            value = "this"
        elif match.group("last"):
            value = "last"
        elif match.group("iso"):
            month = int(match.group("m"))
            if not 1 <= month <= 12:
                continue
            value = f"{match.group('iso')}-{month:02d}"
        else:
            name = match.group("name")
            before = t.left[: match.start()]
            # "may" and "march" are verbs too: a month only after in/for/of/during or with a year.
            if name in ("may", "mar", "march") and not match.group("year") and not re.search(r"\b(?:in|for|of|during|since)\s+$", before):
                continue
            number = _MONTHS[name]
            value = f"{match.group('year')}-{number:02d}" if match.group("year") else MONTH_NAMES[number - 1]
        t.take(match)
        return value
    return None


def _program(t: _Text) -> str | None:
    match = _PROGRAM.search(t.left)
    if not match:
        return None
    t.take(match)
    return match.group(1).upper()


def _practitioner(t: _Text, original: str) -> str | None:
    for index, pattern in enumerate(_PRACTITIONER):
        match = pattern.search(t.left)
        if not match:
            continue
        if index == 0:
            t.take(match)
            return "me"
        name = _STOP_AFTER_NAME.sub("", _LEADING_WORDS.sub("", match.group("name").strip(" .'")))
        name = re.sub(r"'s$", "", name)
        if not name or name.split()[0] in _NOT_NAMES or any(ch.isdigit() for ch in name):
            continue
        if len(name.split()) > 1 and name.split()[1] in _NOT_NAMES:
            name = name.split()[0]
        t.take(match)
        return _as_written(name, original)
    return None


def _slots_for_lists(t: _Text, original: str) -> Slots:
    within = None
    window = _WITHIN.search(t.left)
    if window:
        within = int(window.group(1))
        t.take(window)
    elif _CLOSE.search(t.left):
        within = CLOSE_MINUTES
    before = _BEFORE_DAY.search(t.left)
    before_day = None
    if before:
        before_day = int(before.group(1))
        t.take(before)
    month, program = _month(t), _program(t)
    return Slots(month=month, practitioner=_practitioner(t, original), program=program, within=within, before_day=before_day)


def _focus(text: str) -> str | None:
    """What a status question asks first: consent, what blocks billing, or the whole picture."""
    if re.search(r"\bconsent", text):
        return "consent"
    if re.search(r"\b(?:missing|blocking|blocks?|blocked|wrong|why not|stopping|can'?t we bill|care\s*plan|need)\b", text):
        return "missing"
    return None


def _reason(text: str) -> str | None:
    return next((reason for reason, pattern in _REASONS if pattern.search(text)), None)


def classify(text: str) -> Intent | None:
    """The question or command in `text`, or None when it should go to the parser."""
    t = _clean(text)
    if not t:
        return Intent(IntentName.HELP)
    bare = t.rstrip("?!. ")
    bare = re.sub(r"[\s,]+(?:thx|thanks|thank you|ty|pls|please)$", "", bare)
    if _HELP.match(t) or _HELP.match(bare):
        return Intent(IntentName.HELP)
    if _UNDO.match(bare):
        return Intent(IntentName.UNDO)
    admin = _MONTH_ADMIN.match(bare)
    if admin:
        name = IntentName.REOPEN_MONTH if admin.group("verb") != "close" else IntentName.CLOSE_MONTH
        return Intent(name, Slots(month=admin.group("month")))
    complex_month = complex_intent(bare, text)
    if complex_month is not None:
        return complex_month
    rpm = rpm_intent(bare, text)
    if rpm is not None:
        return rpm
    timer = timer_intent(bare, text)
    if timer is not None:
        return timer
    if looks_like_correction(text):  # before the parser: "move my 15 min for pt 123 to yesterday" is no new entry
        return Intent(IntentName.CORRECT, Slots(rest=text.strip()))
    consent = _CONSENT_COMMAND.match(bare)
    if consent and not t.endswith("?") and not re.match(r"^consent\s+(?:gaps?|status|missing)", bare):
        return Intent(IntentName.CONSENT, Slots(rest=_as_written(consent.group("rest").strip(), text)))
    if not t.endswith("?") and starts_like_statement(t) and has_duration(t):
        return None  # "did med rec for pt 2021, took 10 min": staff shorthand for an entry
    return _question(bare, t, text)


def complex_intent(bare: str, original: str) -> Intent | None:
    """ "complex 123 [for October] [:] reason" marks a month complex, "not complex 123 [for October]"
    or "complex 123 off" unmarks it; None when the text is not such a command. The reason is kept
    as written; an unmark with more words keeps them in `rest`, for the answer to refuse."""
    if bare == "complex":
        return Intent(IntentName.COMPLEX)  # no patient: the answer says how
    off = _NOT_COMPLEX.match(bare)
    match = off or _COMPLEX.match(bare) or _COMPLEX_REVERSED.match(bare)
    if match is None or CODE.fullmatch(match.group("key")):
        return None
    tail = match.group("tail")
    month = None
    said = _COMPLEX_MONTH.match(tail)
    if said:
        # "for" before the month, so that "may" and "march" read as months here too.
        month = _month(_Text("for " + said.group("month")))
        tail = tail[said.end() :]
    tail = tail.strip()
    if not off and _COMPLEX_OFF.match(tail):
        off, tail = match, ""
    reason = _COMPLEX_SEPARATOR.sub("", tail, count=1).strip()
    slots = Slots(patient=_as_written(clean_key(match.group("key")), original), month=month, rest=_as_written(reason, original) if reason else None)
    return Intent(IntentName.NOT_COMPLEX if off else IntentName.COMPLEX, slots)


def rpm_intent(bare: str, original: str) -> Intent | None:
    """ "rpm start 123 [date] [device: text]", "rpm stop 123 [date]", or a question about RPM data
    days ("who is short of data days?", "rpm data days"); None otherwise. The tail after the key
    (the date, the device) is kept as written in `rest`, for the answer to read."""
    if has_duration(bare):
        return None  # "rpm setup pt 123 20 min", "15 min data day review pt 123": time to log
    if _DATA_DAYS.search(bare):
        key = _patient_in(bare)
        if key is not None:
            return _status(key, bare, original)
        words = _Text(bare)
        slots = Slots(month=_month(words), program=_program(words), practitioner=_practitioner(words, original))
        return _with_unread(Intent(IntentName.DATA_DAYS, slots), words, _DATA_DAYS)
    no_key = _RPM_NO_KEY.match(bare)
    if no_key:
        verb = no_key.group("verb") or no_key.group("verb2") or ""
        return Intent(IntentName.RPM_STOP if re.fullmatch(_RPM_STOP_WORDS, verb) else IntentName.RPM_START)
    stop = _RPM_STOP.match(bare)
    match = stop or _RPM_START.match(bare)
    if match is None or CODE.fullmatch(match.group("key")):
        return None
    tail = match.group("tail").strip()
    slots = Slots(patient=_as_written(clean_key(match.group("key")), original), rest=_as_written(tail, original) if tail else None)
    return Intent(IntentName.RPM_STOP if stop else IntentName.RPM_START, slots)


def timer_intent(bare: str, original: str) -> Intent | None:
    """ "start pt 123 call" (the words after the key, as written, in `rest`: activity, program),
    "stop [123]", "cancel timer [123]" (any other words in `rest`, for the answer to refuse), or
    "timers"; None otherwise."""
    if _TIMER_LIST.match(bare):
        return Intent(IntentName.TIMERS)
    if has_duration(bare):
        return None
    name, match = IntentName.TIMER_START, _TIMER_START.match(bare)
    if match is None:
        name, match = IntentName.TIMER_CANCEL, _TIMER_CANCEL.match(bare)
    if match is None:
        name, match = IntentName.TIMER_STOP, _TIMER_STOP.match(bare)
    if match is None:
        return None
    rest = match.group("rest")
    key = None
    for found in re.finditer(_TIMER_KEY, rest):
        candidate = clean_key(found.group("key"))
        if not CODE.fullmatch(candidate) and not _ORDINAL.match(candidate):
            key = _as_written(candidate, original)
            rest = rest[: found.start()] + " " + rest[found.end() :]
            break
    if name is not IntentName.TIMER_START:
        rest = _TIMER_FILLER.sub(" ", rest)
    rest = re.sub(r"\s+", " ", rest).strip(" ,:;-")
    program = _PROGRAM.search(rest) if name is IntentName.TIMER_START else None
    slots = Slots(patient=key, program=program.group(1).upper() if program else None, rest=_as_written(rest, original) if rest else None)
    return Intent(name, slots)


def _question(bare: str, t: str, original: str) -> Intent | None:
    is_question = t.endswith("?") or bool(_QUESTION_START.match(bare)) or bool(_LIST_START.match(bare))
    key_first = _KEY_STATUS.match(bare)
    if key_first and not CODE.fullmatch(key_first.group("key")) and not key_first.group("key").isalpha():
        return _status(clean_key(key_first.group("key")), bare, original)  # "1001 minutes for october"
    if not t.endswith("?") and not _WH_START.match(bare) and has_duration(bare) and not _NO_TIME_YET.search(bare):
        return None  # minutes said without a question: an entry for the parser
    if _STAFF_MINUTES.search(bare):
        words = _Text(bare)
        return _with_unread(Intent(IntentName.STAFF_MINUTES, Slots(month=_month(words))), words, _STAFF_MINUTES)
    staff = _staff_time(bare, original)
    if staff is not None:
        return staff
    if _REPORT_ASK.search(bare):
        words = _Text(bare)
        return _with_unread(Intent(IntentName.REPORT, Slots(month=_month(words))), words, _REPORT)
    code = CODE.search(bare)
    key = _patient_in(bare)
    if code and (is_question or _REACHED.search(bare)):
        words = _Text(bare)
        words.take(code)
        slots = _slots_for_lists(words, original)
        if _FELL_SHORT.search(bare):
            return _with_unread(Intent(IntentName.FELL_SHORT, Slots(month=slots.month)), words, _FELL_SHORT)
        return _with_unread(Intent(IntentName.REACHED, replace(slots, code=code.group(1), within=None, before_day=None)), words, _REACHED)
    if key is None and _FELL_SHORT.search(bare):
        words = _Text(bare)
        return _with_unread(Intent(IntentName.FELL_SHORT, Slots(month=_month(words))), words, _FELL_SHORT)
    if key is None and _BILLING.search(bare) and not _BLOCKED.search(bare):
        words = _Text(bare)
        return _with_unread(Intent(IntentName.BILLING, Slots(month=_month(words))), words, _BILLING)
    if _LIST_START.match(bare) and not _EXPLICIT_PATIENT.search(bare):
        listed = _list_question(bare, original)
        if listed is not None:
            return listed
    status = _STATUS.match(bare)
    if status:
        rest = status.group("rest") or status.group("rest2") or ""
        found = patient_key(rest)
        if found:
            return _status(found, bare, original)
    if key is not None and (is_question or re.match(r"^(?:what|why|how|is|does|did)\b", bare)):
        return _status(key, bare, original)
    if not is_question and not re.match(r"^(?:due|short|close|blocked|consent gaps?|no time)\b", bare):
        return None
    return _list_question(bare, original)


def _patient_in(bare: str) -> str | None:
    words = _Text(bare)
    for pattern in (_WITHIN, _BEFORE_DAY, _SLOT_MONTH):
        for match in pattern.finditer(words.left):
            words.take(match)
    for match in CODE.finditer(words.left):
        words.take(match)
    return patient_key(words.left)


def _status(key: str, bare: str, original: str) -> Intent:
    words = _Text(bare)
    month = _month(words)
    return Intent(IntentName.STATUS, Slots(patient=_as_written(key, original), month=month, focus=_focus(bare)))


def _staff_time(bare: str, original: str) -> Intent | None:
    match = _STAFF_TIME.search(bare)
    if not match:
        return None
    who = next((g for g in match.groups() if g), None)
    if who is not None:
        who = re.sub(r"\s+(?:" + "|".join(["today", "yesterday", "this", "last", "log", "logged"]) + r")\b.*$", "", who).strip()
    first = who.split()[0] if who else None
    if who and set(who.split()) & {"patients", "pts", "panel", "people"}:
        return None  # "time for my patients" asks about patients, not about someone's time
    if first in (None, "i", "me", "my", "we"):
        staff = "me"
    elif first in _NOT_NAMES or first in _FILLER or (who and any(ch.isdigit() for ch in who)):
        return None  # "time for october", "status time": not a person
    else:
        staff = _as_written(who or "", original)
    period = next((p for p in PERIODS if p in bare), "today")
    name = IntentName.MY_ENTRIES if re.search(r"\bentries\b", bare) else IntentName.STAFF_TIME
    return Intent(name, Slots(staff=staff, period=period))


def _list_question(bare: str, original: str) -> Intent | None:
    words = _Text(bare)
    slots = _slots_for_lists(words, original)
    if _NO_TIME_YET.search(bare):
        return _with_unread(Intent(IntentName.NO_TIME_YET, replace(slots, within=None, before_day=None)), words, _NO_TIME_YET)
    reason = _reason(words.left)
    asks_reason = reason is not None and (
        re.search(r"\b(?:needs?|missing|without|no|lacks?|lacking|too|not|isn'?t|aren'?t|hasn'?t|haven'?t|doesn'?t|don'?t|does\s+not|enough)\b", bare) is not None
    )
    if _BLOCKED.search(bare) or asks_reason or re.match(r"^consent gaps?\b", bare):
        blocked = Slots(month=slots.month, practitioner=slots.practitioner, program=slots.program, reason=reason if asks_reason or reason else None)
        return _with_unread(Intent(IntentName.BLOCKED, blocked), words, None)
    if _NEEDS.search(bare) or slots.within is not None or slots.before_day is not None or re.match(r"^(?:due|short|close)\b", bare):
        return _with_unread(Intent(IntentName.NEEDS_TIME, slots), words, None)
    return None


def _with_unread(intent: Intent, words: _Text, used: re.Pattern[str] | None) -> Intent:
    if used is not None:
        for match in used.finditer(words.left):
            words.take(match)
    return replace(intent, unread=words.unread())


def command_intent(sub: str, rest: str) -> Intent | None:
    """The intent of a `/ccm` subcommand, built from its arguments directly (no sentence to classify
    again); None for `log` and free text, which are messages (entries or questions)."""
    words = _Text(_clean(rest))
    if sub == "help":
        return Intent(IntentName.HELP)
    if sub == "undo":
        return Intent(IntentName.UNDO)
    if sub == "consent":
        return Intent(IntentName.CONSENT, Slots(rest=rest.strip()))
    if sub == "complex":
        return complex_intent(_clean(f"complex {rest}").rstrip("?!. "), rest) or Intent(IntentName.COMPLEX)
    if sub == "report":
        return _with_unread(Intent(IntentName.REPORT, Slots(month=_month(words))), words, None)
    if sub == "me":
        period = next((p for p in PERIODS if p in words.left), "today")
        return Intent(IntentName.STAFF_TIME, Slots(staff="me", period=period))
    if sub == "due":
        return _with_unread(Intent(IntentName.NEEDS_TIME, _slots_for_lists(words, rest)), words, None)
    if sub == "status":
        month = _month(words)
        key = patient_key(words.left)
        if key is None:
            return None  # "/ccm status" without a patient: answered as a question, which asks for one
        return Intent(IntentName.STATUS, Slots(patient=_as_written(key, rest), month=month, focus=_focus(words.left)))
    return None


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


def resolve_month(month: str | None, today: date) -> date:
    """The first day of the month a slot names; None is this month. A month name without a year
    is this year's when it is not after this month, else last year's. Raises ValueError."""
    this = today.replace(day=1)
    if month is None or month == "this":
        return this
    if month == "last":
        return (this - timedelta(days=1)).replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", month)
    if match:
        number = int(match.group(2))
        if not 1 <= number <= 12:
            raise ValueError(f"{month!r} is not a month.")
        return date(int(match.group(1)), number, 1)
    named = re.fullmatch(rf"({_MONTH_NAME})\.?(?:\s+(\d{{4}}))?", month.strip().lower())
    if named:
        number = _MONTHS[named.group(1)]
        if named.group(2):
            return date(int(named.group(2)), number, 1)
        return date(today.year if number <= today.month else today.year - 1, number, 1)
    raise ValueError(f"{month!r} is not a month.")


def asked_month(month: str | None, today: date) -> date:
    """The month a question asks about: resolve_month, and never one that has not started.
    Raises ValueError with a sentence for a person."""
    first = resolve_month(month, today)
    if first > today:
        raise ValueError(f"{first:%B %Y} has not started yet; ask about this month or an earlier one.")
    return first
