"""build_app(): the Bolt app, its middleware, and one register(app) per listener module."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.slack.client import make_web_client
from bot.slack.listeners import actions, commands, home, messages, views
from storage.db import Database
from storage.slack_events import already_processed

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    database: Database,
    *,
    client: WebClient | None = None,
    assistant: Assistant | None = None,
    token_verification: bool = True,
) -> App:
    """The whole Slack app. Listeners run before the HTTP response (process_before_response),
    so an event is answered 200 only after its entries are committed, and an error answers 500
    so that Slack delivers the event again."""
    app = App(
        signing_secret=settings.slack_signing_secret or "",
        client=client or make_web_client(settings),  # carries the bot token
        process_before_response=True,
        token_verification_enabled=token_verification,
        logger=logging.getLogger("ccmbot.slack"),
    )
    assistant = assistant or Assistant(database, settings)
    app.use(ignore_bots)
    app.use(drop_duplicates(database))
    for module in (messages, commands, actions, views, home):
        module.register(app, assistant)
    app.error(log_error)
    return app


def ignore_bots(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
    """Events from bots (our own confirmations included) are answered and not handled."""
    event = body.get("event") or {}
    inner = event.get("message") or {}
    if event.get("bot_id") or event.get("subtype") == "bot_message" or inner.get("bot_id"):
        return BoltResponse(status=200, body="")
    next()
    return None


def drop_duplicates(database: Database) -> Callable[..., BoltResponse | None]:
    def middleware(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if event_id:
            with database.session() as s:
                if already_processed(s, event_id):
                    log.info("duplicate event dropped", extra={"event_id": event_id})
                    return BoltResponse(status=200, body="")
        next()
        return None

    return middleware


def log_error(error: Exception, body: dict[str, Any]) -> None:
    # The type and the ids only: payloads carry message text.
    log.error("listener failed: %s", type(error).__name__, extra={"event_id": body.get("event_id"), "type": body.get("type")})
