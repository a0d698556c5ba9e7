"""Reminders posted through the real Slack client against the stand-in, and two real scheduler
processes on one database delivering each reminder once."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.reminders import Post, Reminders
from bot.replies import Reply, Section
from bot.slack.client import make_web_client
from bot.slack.poster import BLOCKS_PER_MESSAGE, SlackPoster, split
from storage.db import Database
from storage.entries import EntryDraft, log_entries
from tests.bot.slack.conftest import BOT_TOKEN
from tests.bot.slack.standin import StandIn
from tests.conftest import Roster

NY = ZoneInfo("America/New_York")


def at(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=NY)


@pytest.fixture
def practice(db: Database, roster: Roster, standin: StandIn) -> Settings:
    standin.reset()
    roster.patient("123")
    roster.patient("456", consent=None)
    for key, minutes in (("123", 17), ("456", 30)):
        log_entries(
            roster.s, [EntryDraft(key, minutes, date(2026, 11, 13), "patient_outreach")], performed_by=roster.nurse,
            logged_by=roster.nurse, source="cli", source_group=f"seed-{key}", today=date(2026, 11, 13), max_minutes=240,
        )  # fmt: skip
        roster.s.commit()  # the test is the door: its unit of work commits
    return Settings(database_url=db.url, slack_bot_token=BOT_TOKEN, slack_api_url=standin.api_url, reminder_channel="C0COORD01")


def reminders_for(db: Database, settings: Settings) -> Reminders:
    return Reminders(db, settings, SlackPoster(make_web_client(settings)))


def test_digest_blocks_and_log_button_and_dm_nudges(db: Database, practice: Settings, standin: StandIn) -> None:
    outcomes = reminders_for(db, practice).run(at("2026-11-16", "10:00"))
    assert sorted((o.due.kind, o.due.target, o.status) for o in outcomes) == [
        ("consent_gaps", "C0COORD01", "sent"),
        ("digest", "C0COORD01", "sent"),
        ("nudges", "UCLERK", "empty"),
        ("nudges", "UDOC", "sent"),  # the billing practitioner of 123
        ("nudges", "UMA", "empty"),
        ("nudges", "UNURSE", "sent"),  # logged time for 123
    ]
    posts = {(c.params["channel"], c.params["text"].splitlines()[0][:30]): c for c in standin.of("chat.postMessage")}
    digest = posts[("C0COORD01", "Who still needs time in Novemb")]
    blocks = digest.params["blocks"]
    assert blocks[0]["text"]["text"].startswith("*Who still needs time in November: 1 patient, $66.13 at stake")
    assert blocks[-1]["elements"][0]["action_id"] == "open_log_modal"
    nudge = posts[("UNURSE", "Your patients close to a code ")]
    assert "• 123: 3 min to 99490 (17 of 20)" in nudge.params["text"]
    gaps = posts[("C0COORD01", "Consent gaps: 1 patient with t")]
    assert "• 456 (CCM): 30 min logged, no consent on file" in gaps.params["text"]


def test_summary_attaches_the_csv_with_files_upload_v2(db: Database, practice: Settings, standin: StandIn) -> None:
    settings = replace(practice, reminders=("summary",))
    [outcome] = reminders_for(db, settings).run(at("2026-12-01", "09:00"))
    assert outcome.status == "sent"
    methods = [c.method for c in standin.calls]
    assert methods[:1] == ["chat.postMessage"]
    assert [m for m in methods if m.startswith(("files", "upload"))] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [upload] = standin.of("upload")
    assert upload.params["bytes"].splitlines()[0].startswith("patient,month,program,code")
    [complete] = standin.of("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0COORD01"


def test_a_rate_limit_is_waited_out_and_posted_once(db: Database, practice: Settings, standin: StandIn) -> None:
    standin.fail_next("chat.postMessage", 429, retry_after=1)
    settings = replace(practice, reminders=("digest",))
    [outcome] = reminders_for(db, settings).run(at("2026-11-16", "09:00"))
    assert outcome.status == "sent"
    assert [c.method for c in standin.calls] == ["chat.postMessage:failed", "chat.postMessage"]


def test_a_long_digest_names_the_closest_and_attaches_every_patient(db: Database, roster: Roster, practice: Settings, standin: StandIn) -> None:
    for n in range(400):
        roster.patient(str(1000 + n))
    settings = replace(practice, reminders=("digest",))
    [outcome] = reminders_for(db, settings).run(at("2026-11-16", "09:00"))
    messages = standin.of("chat.postMessage")
    assert outcome.status == "sent" and len(messages) == 1
    assert all(len(m.params["blocks"]) <= BLOCKS_PER_MESSAGE for m in messages)
    sections = [b["text"]["text"] for m in messages for b in m.params["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*Who still needs time in November: 401 patients")
    assert sum(t.count("• ") for t in sections) == 40  # the closest few dozen, by billing practitioner
    assert any(t.startswith("*Dr. Okafor (401 short") for t in sections)
    [upload] = standin.of("upload")
    rows = upload.params["bytes"].splitlines()
    assert rows[0].startswith("patient,program,next_code") and len(rows) == 402  # every patient short of a code, none lost


def test_a_post_longer_than_one_message_is_split() -> None:
    lines = tuple(f"• {n}: 5 min to 99490 (15 of 20)" for n in range(5000))
    post = Post("C0COORD01", Reply("digest", (Section("Who still needs time", lines),)), log_button=True)
    chunks = split(post)
    assert len(chunks) >= 2 and all(len(blocks) <= BLOCKS_PER_MESSAGE for blocks, _ in chunks)
    texts = [b["text"]["text"] for blocks, _ in chunks for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts) and sum(t.count("• ") for t in texts) == 5000
    assert chunks[-1][0][-1]["type"] == "actions" and all(len(text) <= 4000 for _, text in chunks)


def test_two_scheduler_processes_deliver_each_reminder_once(db: Database, practice: Settings, standin: StandIn, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    env.update(CCMBOT_DATABASE_URL=db.url, SLACK_BOT_TOKEN=BOT_TOKEN, CCMBOT_SLACK_API_URL=standin.api_url, CCMBOT_REMINDER_CHANNEL="C0COORD01")
    command = [sys.executable, "-m", "bot.cli", "remind", "--send", "--today", "2026-11-16", "--at", "10:00"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    lines = sorted(line for out, _ in outputs for line in out.splitlines())
    sent = [line for line in lines if line.endswith(": sent")]
    assert sent == ["consent_gaps -> C0COORD01: sent", "digest -> C0COORD01: sent", "nudges -> UDOC: sent", "nudges -> UNURSE: sent"]
    assert len(standin.of("chat.postMessage")) == 4
    # And again later that day: nothing more.
    again = subprocess.run([*command[:-1], "11:00"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "nothing due" in again.stdout
    assert len(standin.of("chat.postMessage")) == 4
