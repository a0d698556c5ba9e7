"""`ccmbot serve`: gunicorn with two workers, signed requests over real HTTP, one shared database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from sqlalchemy import select

from storage.db import Database
from storage.models import TimeEntry
from tests.bot.slack.conftest import BOT_TOKEN, SECRET, SignedSender, fixture
from tests.bot.slack.standin import StandIn
from tests.conftest import Roster

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_the_app_under_gunicorn_workers(db: Database, roster: Roster, standin: StandIn, tmp_path: Path) -> None:
    roster.patient("123")
    standin.reset()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    env.update(
        CCMBOT_DATABASE_URL=db.url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        CCMBOT_SLACK_API_URL=standin.api_url,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(standin.of("auth.test")) < 2:  # each worker checks its token at start
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "gunicorn workers did not start"
            time.sleep(0.1)
        sender = SignedSender(f"http://127.0.0.1:{port}/slack/events", standin)
        statuses = [sender.event(fixture("event_message", event__ts=f"1795791600.{n:06d}", event_id=f"Ev0SERVE{n}")).status for n in range(1, 11)]
        assert statuses == [200] * 10
        assert sender.post(json.dumps(fixture("event_message")).encode(), "application/json", signature="v0=bad").status == 401
        # Each answer came once the event was stored; the workers' inboxes confirm shortly after.
        standin.wait_for("chat.postEphemeral", 10, timeout=30)
        with db.session() as s:
            assert len(s.scalars(select(TimeEntry.id)).all()) == 10
        assert len(standin.of("chat.postEphemeral")) == 10
        # A retry is dropped, and /metrics counts over both workers.
        assert sender.event(fixture("event_message", event__ts="1795791600.000001", event_id="Ev0SERVE1"), retry=1).status == 200
        base = f"http://127.0.0.1:{port}"
        with urlopen(f"{base}/healthz", timeout=10) as health:
            assert health.status == 200 and json.loads(health.read()) == {"ok": True, "database": "ok", "migrations": "at head"}
        deadline = time.monotonic() + 15
        while True:
            with urlopen(f"{base}/metrics", timeout=10) as response:
                metrics = response.read().decode()
            if 'ccmbot_events_handled_total{type="message"} 10.0' in metrics or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert 'ccmbot_entries_logged_total{source="slack"} 10.0' in metrics
        assert 'ccmbot_events_handled_total{type="message"} 10.0' in metrics
        assert 'ccmbot_duplicates_dropped_total{where="inbox"} 1.0' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_after_a_clean_stop_the_sqlite_file_alone_holds_every_entry(roster: Roster, standin: StandIn, tmp_path: Path) -> None:
    """`ccmbot serve` on SQLite, SIGTERM, then copy the database file without its -wal: the entries
    logged before the stop are in the copy (each worker checkpoints the WAL as it exits)."""
    path = tmp_path / "clinic.db"
    database = Database(f"sqlite:///{path}")
    with database.session() as s:
        Roster(s).patient("123")
        s.commit()
    database.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    env.update(CCMBOT_DATABASE_URL=f"sqlite:///{path}", SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, CCMBOT_SLACK_API_URL=standin.api_url)
    standin.reset()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-scheduler"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(standin.of("auth.test")) < 2:
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn workers did not start"
            time.sleep(0.1)
        sender = SignedSender(f"http://127.0.0.1:{port}/slack/events", standin)
        for n in range(1, 6):
            assert sender.event(fixture("event_message", event__ts=f"1795791600.{n:06d}", event_id=f"Ev0STOP{n}")).status == 200
        standin.wait_for("chat.postEphemeral", 5, timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)  # the file alone: no -wal, no -shm
    copied = Database(f"sqlite:///{copy}", migrate=False)
    with copied.session() as s:
        assert len(s.scalars(select(TimeEntry.id)).all()) == 5
    copied.dispose()
