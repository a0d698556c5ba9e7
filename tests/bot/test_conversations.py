"""Conversation tests that read like transcripts: tests/transcripts/*.txt.

A transcript is a practice and a conversation:

    @today 2026-11-27                 the practice-local day for the messages that follow
    @now 10:02                        the practice-local time of day they are said at (timers read it)
    @restart                          a new Assistant on the same database from here (a restart, another replica)
    @patient 456 consent=none         a patient (consent=YYYY-MM-DD|none, conditions=N, programs=CCM;RPM,
                                      practitioner=Dr._Ben_Liu: the billing practitioner, underscores for spaces)
    @staff U0LIU physician Dr._Ben_Liu   one more staff member (Slack id, role, name)
    @readings 456 2026-11-05..2026-11-13 2026-11-20 device=cuff-2
                                      RPM device readings stored for a patient: days and ranges of
                                      days (one reading each), from one device (default none)
    @channel / @dm                    messages that follow are chatter in a channel / addressed to the bot
    UNURSE> 15 min call pt 123        a message from a roster member (UDOC admin physician, UNURSE rn,
    Logged 15 min ...                 UMA ma, UCLERK non-clinical) or anyone else; the lines up to the
    Patient 123: ...                  next blank line are the exact reply, "(no reply)" for silence

Each transcript starts from empty tables and the Roster's four staff members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.assistant import Assistant, Message
from bot.config import Settings
from storage.db import Database
from storage.models import Patient, RpmReading
from tests.conftest import Roster

TRANSCRIPTS = sorted((Path(__file__).resolve().parents[1] / "transcripts").glob("*.txt"))


@dataclass
class Turn:
    line: int
    user: str
    text: str
    today: date
    addressed: bool
    expected: list[str] = field(default_factory=list)
    clock: time | None = None  # @now: the time of day it is said at
    generation: int = 0  # @restart: which Assistant answers


def read_transcript(path: Path, roster: Roster) -> list[Turn]:
    turns: list[Turn] = []
    today, addressed = date(2026, 11, 27), True
    clock: time | None = None
    generation = 0
    current: Turn | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip()
        if current is not None:
            if line:
                current.expected.append(line)
                continue
            current = None
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("@today "):
            today = date.fromisoformat(line.split()[1])
        elif line.startswith("@now "):
            clock = time.fromisoformat(line.split()[1])
        elif line == "@restart":
            generation += 1
        elif line == "@channel":
            addressed = False
        elif line == "@dm":
            addressed = True
        elif line.startswith("@patient "):
            words = line.split()
            options = dict(w.split("=", 1) for w in words[2:])
            consent = options.get("consent", "2026-01-05")
            roster.patient(
                words[1],
                consent=None if consent == "none" else date.fromisoformat(consent),
                conditions=int(options.get("conditions", "2")),
                programs=options.get("programs", "CCM"),
                practitioner=options.get("practitioner", "").replace("_", " ") or None,
            )
        elif line.startswith("@staff "):
            # @staff U0LIU physician Dr._Ben_Liu: one more roster member for this transcript
            _, slack_id, role, name = line.split()
            roster.staff(name.replace("_", " "), role, slack_id)
            roster.s.commit()
        elif line.startswith("@readings "):
            _, key, *spans = line.split()
            device = next((w.split("=", 1)[1] for w in spans if w.startswith("device=")), "")
            patient = roster.s.scalars(select(Patient.id).where(Patient.key == key)).one()
            for span in (w for w in spans if not w.startswith("device=")):
                low, _, high = span.partition("..")
                first, last = date.fromisoformat(low), date.fromisoformat(high or low)
                for n in range((last - first).days + 1):
                    roster.s.add(RpmReading(patient_id=patient, day=first + timedelta(days=n), device_id=device, source="transcript"))
            roster.s.commit()
        elif "> " in line:
            user, text = line.split("> ", 1)
            current = Turn(number, user, text, today, addressed, clock=clock, generation=generation)
            turns.append(current)
        else:
            raise AssertionError(f"{path.name}:{number}: not a directive or a message: {line!r}")
    return turns


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, db: Database, roster: Roster) -> None:
    settings = Settings(database_url=db.url)
    assistant, generation = Assistant(db, settings), 0
    for turn in read_transcript(path, roster):
        if turn.generation != generation:  # @restart: nothing kept in memory survives
            assistant, generation = Assistant(db, settings), turn.generation
        when = datetime.combine(turn.today, turn.clock, tzinfo=settings.tz) if turn.clock is not None else None
        reply = assistant.handle(
            Message(
                user=turn.user, text=turn.text, when=when, today=turn.today, source="terminal", source_id=f"{path.stem}:{turn.line}", addressed=turn.addressed
            )
        )
        got = ["(no reply)"] if reply.silent else reply.text.splitlines()
        assert got == turn.expected, f"{path.name}:{turn.line}: {turn.user}> {turn.text}\n" + "\n".join(got)
