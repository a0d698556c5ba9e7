"""The App Home tab: the person's own view of the month."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.slack.listeners.delivery import done
from bot.slack.render import home_view


def opened(event: dict[str, Any], body: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    if event.get("tab", "home") == "home":
        user = event["user"]
        client.views_publish(user_id=user, view=home_view(assistant.home(user)))
    done(assistant.db, body)


def register(app: App, assistant: Assistant) -> None:
    app.event("app_home_opened")(partial(opened, assistant=assistant))
