"""The HTTP app for a WSGI server: `gunicorn 'bot.slack.wsgi:create_app()'` (what `ccmbot serve` runs).

Each worker builds its own app and database pool; Slack's requests are verified with
SLACK_SIGNING_SECRET, and only POST /slack/events is served.
"""

from __future__ import annotations

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import load_settings, require_slack
from bot.slack.app import build_bot
from storage.db import Database

EVENTS_PATH = "/slack/events"


def create_app(scheduler: bool = False) -> SlackRequestHandler:
    settings = load_settings()
    require_slack(settings, "http")
    database = Database(settings.database_url)
    bot = build_bot(settings, database)
    if scheduler:
        from bot.reminders import Reminders
        from bot.scheduler import build_scheduler
        from bot.slack.poster import SlackPoster

        build_scheduler(Reminders(database, settings, SlackPoster(bot.app.client)), settings).start()
    return SlackRequestHandler(bot.app, path=EVENTS_PATH)
