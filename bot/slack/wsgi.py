"""The HTTP app for a WSGI server: `gunicorn 'bot.slack.wsgi:create_app()'` (what `ccmbot serve` runs).

Each worker builds its own app and database pool. POST /slack/events is Slack's door, its
requests verified with SLACK_SIGNING_SECRET; GET /healthz says whether the database answers
and its schema is current (for a load balancer or a container's HEALTHCHECK); GET /metrics
is Prometheus text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

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
        return self.slack(environ, start_response)


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
