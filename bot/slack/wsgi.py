"""The HTTP app for a WSGI server: `gunicorn 'bot.slack.wsgi:create_app()'` (what `ccmbot serve` runs).

Each worker builds its own app and database pool. POST /slack/events is Slack's door, its
requests verified with SLACK_SIGNING_SECRET; GET /healthz says whether the database answers
and its schema is current (for a load balancer or a container's HEALTHCHECK); GET /metrics
is Prometheus text.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import load_settings, require_slack
from bot.observability import metrics_text
from bot.slack.app import build_bot
from storage.db import Database, health

EVENTS_PATH = "/slack/events"
StartResponse = Callable[..., Any]


class Routes:
    """/healthz and /metrics beside Slack's /slack/events."""

    def __init__(self, slack: Callable[..., Iterable[bytes]], database: Database) -> None:
        self.slack = slack
        self.database = database

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
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if not well_formed(body, environ.get("CONTENT_TYPE", "")):
            message = b"malformed request"
            start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))])
            return [message]
        environ["wsgi.input"] = io.BytesIO(body)
        return self.slack(environ, start_response)


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
    bot = build_bot(settings, database)
    if scheduler:
        from bot.reminders import Reminders
        from bot.scheduler import build_scheduler
        from bot.slack.poster import SlackPoster

        build_scheduler(Reminders(database, settings, SlackPoster(bot.app.client)), settings).start()
    return Routes(SlackRequestHandler(bot.app, path=EVENTS_PATH), database)
