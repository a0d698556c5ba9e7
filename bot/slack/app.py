"""build_app(): the Bolt app, its middleware, and one register(app) per listener module."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.observability import DUPLICATES, ERRORS, FOREIGN
from bot.parsing import warm_up
from bot.slack.client import make_web_client
from bot.slack.inbox import Inbox
from bot.slack.listeners import actions, commands, corrections, home, messages, timers, views
from bot.slack.listeners.messages import MessageHandler
from storage.db import Database
from storage.slack_events import already_seen

log = logging.getLogger(__name__)


@dataclass
class SlackBot:
    app: App
    inbox: Inbox


def build_app(settings: Settings, database: Database, **kwargs: Any) -> App:
    return build_bot(settings, database, **kwargs).app


def build_bot(
    settings: Settings,
    database: Database,
    *,
    client: WebClient | None = None,
    assistant: Assistant | None = None,
    token_verification: bool = True,
    start_inbox: bool = True,
) -> SlackBot:
    """The whole Slack app. Listeners run before the HTTP response (process_before_response),
    so an event is answered 200 only after it is durably recorded (a message stored in the
    inbox, anything else handled), and an error answers 500 so that Slack delivers it again."""
    app = App(
        signing_secret=settings.slack_signing_secret or "",
        client=client or make_web_client(settings),  # carries the bot token
        process_before_response=True,
        token_verification_enabled=token_verification,
        logger=logging.getLogger("ccmbot.slack"),
    )
    assistant = assistant or Assistant(database, settings)
    warm_up()  # the parser's patterns and dateparser, before the first message waits for them
    handler = MessageHandler(assistant, app.client)
    inbox = Inbox(database, handler)
    app.use(own_workspace_only(settings.slack_app_id))
    app.use(ignore_bots)
    app.use(drop_duplicates(database))
    messages.register(app, inbox, handler)
    for module in (commands, actions, views, home, timers, corrections):
        module.register(app, assistant)
    app.error(log_error)
    if start_inbox:
        inbox.start()
    return SlackBot(app, inbox)


def own_workspace_only(app_id: str | None) -> Callable[..., BoltResponse | None]:
    """Validly signed requests from another workspace or app are refused, counted and logged.

    The workspace is the bot token's, learned from auth.test when the app starts (Bolt's
    authorization result); the app id, when CCMBOT_SLACK_APP_ID sets it. They are answered 200
    with nothing done, so that Slack does not retry them."""

    def middleware(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> BoltResponse | None:
        ours = context.authorize_result.team_id if context.authorize_result is not None else None
        team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        why = None
        if ours and team and team != ours:
            why = "team"
        elif app_id and body.get("api_app_id") and body["api_app_id"] != app_id:
            why = "app"
        if why is not None:
            FOREIGN.labels(why).inc()
            log.warning("request from another %s refused", why, extra={"team_id": team, "api_app_id": body.get("api_app_id")})
            return BoltResponse(status=200, body="")
        next()
        return None

    return middleware


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
        # Message events skip this read: storing them in the inbox finds a retry in the same statement.
        if event_id and (body.get("event") or {}).get("type") != "message":
            with database.session() as s:
                if already_seen(s, event_id):
                    DUPLICATES.labels("middleware").inc()
                    log.info("duplicate event dropped", extra={"event_id": event_id})
                    return BoltResponse(status=200, body="")
        next()
        return None

    return middleware


def log_error(error: Exception, body: dict[str, Any]) -> None:
    # The type and the ids only: payloads carry message text.
    ERRORS.labels("listener").inc()
    log.error("listener failed: %s", type(error).__name__, extra={"event_id": body.get("event_id"), "type": body.get("type")})
