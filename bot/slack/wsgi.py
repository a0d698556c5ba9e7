"""The HTTP app for a WSGI server: `gunicorn 'bot.slack.wsgi:create_app()'` (what `ccmbot serve` runs).

Each worker builds its own app and database pool. POST /slack/events is Slack's door, its
requests verified with SLACK_SIGNING_SECRET; GET /healthz says whether the database answers
and its schema is current (for a load balancer or a container's HEALTHCHECK); GET /metrics
is Prometheus text.
"""

from __future__ import annotations

import atexit
import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.config import load_settings, require_slack
from bot.observability import metrics_text
from bot.slack.app import build_bot
from storage.db import Database, health

EVENTS_PATH = "/slack/events"
StartResponse = Callable[..., Any]


# Slack's own payloads are far below this (a message is at most 40,000 characters); a larger
# body is refused before a byte of it is read.
MAX_BODY = 1024 * 1024


class Routes:
    """/healthz and /metrics beside Slack's /slack/events.

    A request to Slack's door is checked in the order that costs an attacker the most and us the
    least: its declared size (413 before reading), then its signature over the raw bytes (401,
    a non-numeric timestamp included), and only then is the body decoded (400 if malformed)."""

    def __init__(self, slack: Callable[..., Iterable[bytes]], database: Database, signing_secret: str) -> None:
        self.slack = slack
        self.database = database
        self.verifier = SignatureVerifier(signing_secret)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok, detail = health(self.database)
            body = json.dumps({"ok": ok, **detail}).encode()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/metrics":
            body = metrics_text()
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), ("Content-Length", str(len(body)))])
            return [body]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", b"bad content length")
        if length > MAX_BODY:
            return _plain(start_response, "413 Content Too Large", b"request too large")
        try:
            body = environ["wsgi.input"].read(length)
        except OSError:  # the client stopped sending, or too slowly (bot.slack.worker's deadline)
            return _plain(start_response, "408 Request Timeout", b"request not received in time")
        if not self._signed(body, environ):
            return _plain(start_response, "401 Unauthorized", b"invalid request")
        if not well_formed(body, environ.get("CONTENT_TYPE", "")):
            return _plain(start_response, "400 Bad Request", b"malformed request")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.slack(environ, start_response)

    def _signed(self, body: bytes, environ: dict[str, Any]) -> bool:
        """Slack's signature over the raw bytes, with a timestamp within five minutes (slack_sdk's
        verifier; a timestamp that is not a number is a bad request, not a crash)."""
        try:
            return self.verifier.is_valid(
                body=body,
                timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                signature=environ.get("HTTP_X_SLACK_SIGNATURE", ""),
            )
        except (ValueError, TypeError):
            return False


def _plain(start_response: StartResponse, status: str, message: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))])
    return [message]


def well_formed(body: bytes, content_type: str) -> bool:
    """Bolt's adapter fails with a 500 on a body it cannot decode; answer those 400 here."""
    try:
        text = body.decode("utf-8")
        if "json" in content_type:
            return isinstance(json.loads(text or "{}"), dict)
        payload = parse_qs(text).get("payload")
        return payload is None or isinstance(json.loads(payload[0]), dict)
    except ValueError:
        return False


def create_app(scheduler: bool = False) -> Routes:
    settings = load_settings()
    require_slack(settings, "http")
    database = Database(settings.database_url)
    # A worker stopped by SIGTERM exits through sys.exit: close its pool and fold SQLite's WAL.
    atexit.register(database.close)
    bot = build_bot(settings, database)
    if scheduler:
        from bot.reminders import Reminders
        from bot.scheduler import build_scheduler
        from bot.slack.poster import SlackPoster

        build_scheduler(Reminders(database, settings, SlackPoster(bot.app.client)), settings).start()
    assert settings.slack_signing_secret is not None  # require_slack(settings, "http") made sure
    return Routes(SlackRequestHandler(bot.app, path=EVENTS_PATH), database, settings.slack_signing_secret)
