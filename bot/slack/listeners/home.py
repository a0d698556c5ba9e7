"""The App Home tab: the person's own view of the month."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.slack.listeners.delivery import done
from bot.slack.render import home_view


def acknowledge(ack: Ack) -> None:
    ack()


def opened(event: dict[str, Any], body: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    if event.get("tab", "home") == "home":
        user = event["user"]
        client.views_publish(user_id=user, view=home_view(assistant.home(user)))
    done(assistant.db, body)


def register(app: App, assistant: Assistant) -> None:
    # Acknowledged at once; the view is built and published lazily, after the HTTP response.
    app.event("app_home_opened")(ack=acknowledge, lazy=[partial(opened, assistant=assistant)])
