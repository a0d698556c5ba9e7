"""The terminal door: read lines, hand each to the assistant, print the reply as text.

Works interactively (a prompt, a greeting) and in a pipe (replies only), so
`printf 'who still needs time?\\n' | ccmbot chat --demo` prints just the answer.
Two local commands, not sent to the assistant, change the conversation:
"/as NAME" speaks as someone else from the roster, "/today YYYY-MM-DD" moves the day, and
"/now HH:MM" sets the practice-local time of day (timers read it; "/now" alone: the real clock).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import TextIO

from bot.assistant import Assistant, Message
from bot.config import parse_clock
from bot.months import local_today
from storage.roster import find_staff


def speaker_name(assistant: Assistant, user: str) -> str | None:
    with assistant.db.session() as s:
        member = find_staff(s, user)
        return f"{member.name} ({member.role}{', admin' if member.is_admin else ''})" if member else None


def run_chat(assistant: Assistant, user: str, today: date | None, lines: TextIO, out: TextIO, *, interactive: bool) -> int:
    """Converse until end of input; returns how many messages were answered."""
    session_id = uuid.uuid4().hex[:8]
    if interactive:
        who = speaker_name(assistant, user) or f"{user} (not on the roster)"
        day = f" on {today.isoformat()}" if today else ""
        out.write(f"ccmbot chat as {who}{day}. Type \"help\" for what I understand, \"/as NAME\" to switch person, Ctrl-D to leave.\n")
    answered = 0
    clock: time | None = None  # "/now HH:MM": the time of day messages are said at (None: the real clock)
    for number, raw in enumerate(_read(lines, out, interactive), start=1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith("/as "):
            candidate = text[4:].strip()
            name = speaker_name(assistant, candidate)
            out.write(f"Now speaking as {name}.\n" if name else f"{candidate!r} is not on the staff roster; still speaking as before.\n")
            user = candidate if name else user
            continue
        if text.startswith("/today "):
            try:
                today = date.fromisoformat(text[7:].strip())
                out.write(f"Today is now {today.isoformat()}.\n")
            except ValueError:
                out.write("Write the day as YYYY-MM-DD, e.g. /today 2026-11-30.\n")
            continue
        if text == "/now" or text.startswith("/now "):
            clock, said = _clock(text[4:].strip(), clock)
            out.write(said + "\n")
            continue
        when = None
        if clock is not None:
            tz = assistant.settings.tz
            when = datetime.combine(today or local_today(tz, assistant.timers.instant(None, None)), clock, tzinfo=tz)
        reply = assistant.handle(Message(user=user, text=text, when=when, today=today, source="terminal", source_id=f"terminal:{session_id}:{number}"))
        answered += 1
        if not reply.silent:
            out.write(reply.text + "\n")
        if reply.file is not None:
            month = reply.file[0].removeprefix("ccm-report-").removesuffix(".csv")
            out.write(f"(In Slack the file {reply.file[0]} comes in your DM; here, `ccmbot report --month {month} --out FILE` writes it.)\n")
        if interactive:
            out.write("\n")
        out.flush()
    return answered


def _clock(said: str, clock: time | None) -> tuple[time | None, str]:
    """ "/now 10:15" -> that time of day; "/now" alone -> the real clock again."""
    if not said:
        return None, "The time is the real clock's again."
    try:
        at = parse_clock(said)
    except ValueError:
        return clock, "Write the time as HH:MM, e.g. /now 10:15."
    return at, f"The time is now {at:%H:%M}."


def _read(lines: TextIO, out: TextIO, interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        line = lines.readline()
        if not line:
            if interactive:
                out.write("\n")
            return
        yield line
