"""`ccmbot serve`: gunicorn with two workers, signed requests over real HTTP, one shared database."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
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


def sqlite_practice(tmp_path: Path) -> Path:
    """A SQLite file with patient 123, closed (WAL folded) so a server can open it alone."""
    path = tmp_path / "clinic.db"
    database = Database(f"sqlite:///{path}")
    with database.session() as s:
        Roster(s).patient("123")
        s.commit()
    database.close()
    return path


def serve_env(url: str, standin: StandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    env.update(CCMBOT_DATABASE_URL=url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, CCMBOT_SLACK_API_URL=standin.api_url)
    return env


def start_serve(tmp_path: Path, env: dict[str, str], standin: StandIn, port: int, workers: int, **popen: Any) -> subprocess.Popen[Any]:
    """`ccmbot serve --no-scheduler` on 127.0.0.1:port, returned once every worker checked its token."""
    standin.reset()
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-scheduler"],
        cwd=tmp_path, env=env, **popen,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(standin.of("auth.test")) < workers:
        assert server.poll() is None and time.monotonic() < deadline, "gunicorn workers did not start"
        time.sleep(0.1)
    return server


def test_serve_runs_the_app_under_gunicorn_workers(db: Database, roster: Roster, standin: StandIn, tmp_path: Path) -> None:
    roster.patient("123")
    standin.reset()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    scratch = tmp_path / "tmp"  # where the server makes its metrics folder
    scratch.mkdir()
    env.update(
        CCMBOT_DATABASE_URL=db.url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        CCMBOT_SLACK_API_URL=standin.api_url,
        TMPDIR=str(scratch),
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
        output = server.communicate(timeout=30)[0]
    # gunicorn's own lines too are JSON, one object a line; the metrics folder went with the server.
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and all(json.loads(line) for line in lines), output[-2000:]
    assert any(json.loads(line)["logger"] == "gunicorn.error" for line in lines)
    assert not list(scratch.glob("ccmbot-metrics-*"))


def test_after_a_clean_stop_the_sqlite_file_alone_holds_every_entry(roster: Roster, standin: StandIn, tmp_path: Path) -> None:
    """`ccmbot serve` on SQLite, SIGTERM, then copy the database file without its -wal: the entries
    logged before the stop are in the copy (each worker checkpoints the WAL as it exits)."""
    path = sqlite_practice(tmp_path)
    port = free_port()
    server = start_serve(tmp_path, serve_env(f"sqlite:///{path}", standin), standin, port, workers=2)
    try:
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


def _trickle(port: int, first: bytes, rest: bytes, closed_after: list[float]) -> None:
    """A slow client: sends `first`, then `rest` a byte a second (each read well inside the
    server's per-read timeout, so only the whole-request deadline can stop it), and notes when
    the server closed the connection."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        try:
            conn.sendall(first)
            for byte in rest:
                time.sleep(1)
                conn.sendall(bytes([byte]))
            conn.settimeout(30)
            while conn.recv(4096):  # a 408, then the close
                pass
        except OSError:
            pass
    closed_after.append(time.monotonic() - started)


def test_slow_clients_do_not_hold_up_slack_events(roster: Roster, standin: StandIn, tmp_path: Path) -> None:
    """Four slow-trickle clients on a one-worker `ccmbot serve` (two stuck in their headers, two
    in their bodies): a signed event is still answered at once, and each slow client is cut off
    within the request deadline instead of holding a worker."""
    path = sqlite_practice(tmp_path)
    port = free_port()
    server = start_serve(tmp_path, serve_env(f"sqlite:///{path}", standin), standin, port, workers=1)
    closed_after: list[float] = []
    slow: list[threading.Thread] = []
    try:
        headers = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        body_next = headers + b"Content-Length: 400\r\n\r\n{"
        for first, rest in [(b"POST /slack", b" " * 60), (headers, b"X-Pad: " + b"a" * 60), (body_next, b" " * 60), (body_next, b" " * 60)]:
            slow.append(threading.Thread(target=_trickle, args=(port, first, rest, closed_after), daemon=True))
            slow[-1].start()
        time.sleep(2)  # every slow client is connected and mid-request
        sender = SignedSender(f"http://127.0.0.1:{port}/slack/events", standin)
        answer = sender.event(fixture("event_message", event__ts="1795791600.000001", event_id="Ev0SLOW1"))
        assert answer.status == 200
        assert answer.seconds < 5, f"a signed event waited {answer.seconds:.1f} s behind slow clients"
        for thread in slow:
            thread.join(timeout=30)
        # Cut off at the 10 s deadline (plus start-up slack), not after their 60 s of trickling.
        assert len(closed_after) == 4 and max(closed_after) < 20, closed_after
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def _without_root_file_access() -> None:
    """Run as a root that file permissions apply to (tests run as root in containers, where a
    chmod alone would not make a file read-only): drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    from the bounding set before exec."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _health(base: str) -> tuple[int, dict[str, object]]:
    try:
        with urlopen(f"{base}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_database_read_only_at_start_is_written_once_writable_again(roster: Roster, standin: StandIn, tmp_path: Path) -> None:
    """`ccmbot serve` started on a SQLite file it cannot write: /healthz and `ccmbot health` say
    so, and events are refused (Slack retries them) without anything stored. Once the file is
    writable again, new events and the retry of the refused one are logged, without a restart."""
    path = sqlite_practice(tmp_path)
    path.chmod(0o444)
    port = free_port()
    env = serve_env(f"sqlite:///{path}", standin)
    health_cmd = [sys.executable, "-m", "bot.cli", "health"]
    checked = subprocess.run(health_cmd, cwd=tmp_path, env=env, preexec_fn=_without_root_file_access, capture_output=True, text=True, timeout=60)
    assert checked.returncode != 0 and "not writable" in checked.stdout + checked.stderr
    server = start_serve(tmp_path, env, standin, port, workers=1, preexec_fn=_without_root_file_access)
    try:
        base = f"http://127.0.0.1:{port}"
        status, detail = _health(base)
        assert status == 503 and str(detail["database"]).startswith("not writable"), detail
        sender = SignedSender(f"{base}/slack/events", standin)
        refused = fixture("event_message", event__ts="1795791600.000001", event_id="Ev0READONLY1")
        assert sender.event(refused).status >= 500  # not acknowledged: Slack will retry it
        for written in tmp_path.glob("clinic.db*"):  # what an operator runs: chmod 644 clinic.db*
            written.chmod(0o644)
        # The pool replaces its read-only connections as they fail or are checked out.
        deadline = time.monotonic() + 15
        while (answer := _health(base))[0] != 200:
            assert time.monotonic() < deadline, f"still unhealthy 15 s after the file was fixed: {answer}"
            time.sleep(0.2)
        assert answer[1]["database"] == "ok", answer
        assert sender.event(fixture("event_message", event__ts="1795791600.000002", event_id="Ev0READONLY2")).status == 200
        assert sender.event(refused, retry=1).status == 200
        standin.wait_for("chat.postEphemeral", 2, timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    reopened = Database(f"sqlite:///{path}", migrate=False)
    with reopened.session() as s:
        assert len(s.scalars(select(TimeEntry.id)).all()) == 2
    reopened.close()
