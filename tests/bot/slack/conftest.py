"""Drive the real Bolt app over HTTP on 127.0.0.1 with signed requests, against the stand-in Web API."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.assistant import Assistant
from bot.config import Settings
from bot.slack.app import build_bot
from bot.slack.wsgi import EVENTS_PATH, Routes
from storage.db import Database
from tests.bot.slack.standin import StandIn
from tests.conftest import Roster

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "0123456789abcdef0123456789abcdef"
# The fixtures' messages were sent at 15:00 UTC on 27 November 2026; the app's clock agrees.
NOW = datetime(2026, 11, 27, 15, 0, 30, tzinfo=UTC)
BOT_TOKEN = "xoxb-1111-2222-testtoken"


def fixture(name: str, **changes: Any) -> dict[str, Any]:
    """A payload from fixtures/, with fields replaced: event__text="..." sets payload["event"]["text"]."""
    payload = json.loads((FIXTURES / f"{name}.json").read_text())
    for path, value in changes.items():
        target = payload
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return payload


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class Response:
    status: int
    body: str
    seconds: float


class SignedSender:
    """Sends requests signed the way Slack signs them to an app's /slack/events."""

    def __init__(self, url: str, standin: StandIn) -> None:
        self.url = url
        self.standin = standin
        self.signer = SignatureVerifier(SECRET)

    def post(self, body: bytes, content_type: str, *, retry: int | None = None, timestamp: int | str | None = None, signature: str | None = None) -> Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.signer.generate_signature(timestamp=ts, body=body),
        }
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        started = time.perf_counter()
        try:
            with urlopen(Request(self.url, data=body, headers=headers, method="POST"), timeout=30) as resp:
                return Response(resp.status, resp.read().decode(), time.perf_counter() - started)
        except HTTPError as err:
            return Response(err.code, err.read().decode(), time.perf_counter() - started)

    def event(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        return self.post(json.dumps(payload).encode(), "application/json", **kwargs)

    def _respond_url(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Point the payload's response_url at the stand-in, as Slack's would point at Slack."""
        payload = copy.deepcopy(payload)
        if "response_url" in payload:
            payload["response_url"] = f"{self.standin.url}/respond/{payload.get('trigger_id', 'x')}"
        return payload

    def command(self, text: str, user: str = "UNURSE", **fields: str) -> Response:
        form = self._respond_url(fixture("command_ccm", text=text, user_id=user, **fields))
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(self._respond_url(payload))}).encode()
        return self.post(body, "application/x-www-form-urlencoded")


class SlackHarness(SignedSender):
    """The app served over HTTP on 127.0.0.1, talking to the stand-in."""

    def __init__(self, db: Database, standin: StandIn, settings: Settings, now: Callable[[], datetime] = lambda: NOW) -> None:
        self.settings = settings
        self.assistant = Assistant(db, settings, now=now)
        self.bot = build_bot(settings, db, assistant=self.assistant)
        self.app = self.bot.app
        wsgi = Routes(SlackRequestHandler(self.app, path=EVENTS_PATH), db, SECRET)  # what `ccmbot serve` runs
        self.server = make_server("127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer, handler_class=_Quiet)
        super().__init__(f"http://127.0.0.1:{self.server.server_address[1]}/slack/events", standin)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def event(self, payload: dict[str, Any], *, wait: bool = True, **kwargs: Any) -> Response:
        """Send an event and (unless wait=False) wait until the inbox has handled what it stored."""
        response = super().event(payload, **kwargs)
        if wait:
            assert self.bot.inbox.drain(timeout=30), "the inbox did not finish"
        return response

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.bot.inbox.stop()


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def slack(db: Database, roster: Roster, standin: StandIn) -> Iterator[SlackHarness]:
    standin.reset()
    roster.patient("123")
    roster.patient("456", consent=None)
    settings = Settings(database_url=db.url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET, slack_api_url=standin.api_url)
    harness = SlackHarness(db, standin, settings)
    standin.reset()  # forget the auth.test made at start-up
    yield harness
    harness.close()
