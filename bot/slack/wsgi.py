"""The HTTP app for a WSGI server: `gunicorn 'bot.slack.wsgi:create_app()'` (what `ccmbot serve` runs).

Each worker builds its own app and database pool; Slack's requests are verified with
SLACK_SIGNING_SECRET, and only POST /slack/events is served.
"""

from __future__ import annotations

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import load_settings, require_slack
from bot.slack.app import build_app
from storage.db import Database

EVENTS_PATH = "/slack/events"


def create_app() -> SlackRequestHandler:
    settings = load_settings()
    require_slack(settings, "http")
    return SlackRequestHandler(build_app(settings, Database(settings.database_url)), path=EVENTS_PATH)
