"""Buttons: Undo on a confirmation, and the Home tab's "Log time" and "Who needs time"."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.intents import Intent, IntentName, Slots
from bot.replies import ReplyKind
from bot.slack.listeners.delivery import deliver
from bot.slack.render import OPEN_LOG_MODAL_ACTION, SHOW_DUE_ACTION, UNDO_ACTION, blocks, log_modal, text, undo_ids


def undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, *, assistant: Assistant) -> None:
    ack()
    reply = assistant.undo(body["user"]["id"], undo_ids(action.get("value", "")))
    if reply.kind is ReplyKind.UNDO:
        # The confirmation becomes the undo notice, so the button cannot be pressed again by mistake.
        respond(text=text(reply), blocks=blocks(reply), replace_original=True)
    else:
        respond(text=text(reply), blocks=blocks(reply), replace_original=False, response_type="ephemeral")


def open_modal(ack: Ack, body: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    ack()
    today = assistant.today()
    client.views_open(trigger_id=body["trigger_id"], view=log_modal({}, {"channel": body["user"]["id"]}, today))


def show_due(ack: Ack, body: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    ack()
    user = body["user"]["id"]
    reply = assistant.ask(user, Intent(IntentName.NEEDS_TIME, Slots(month="this")))
    # Posting to a user id lands in the app's own DM with them.
    deliver(client, reply, channel=user, user=user, private=False)


def register(app: App, assistant: Assistant) -> None:
    app.action(UNDO_ACTION)(partial(undo, assistant=assistant))
    app.action(OPEN_LOG_MODAL_ACTION)(partial(open_modal, assistant=assistant))
    app.action(SHOW_DUE_ACTION)(partial(show_due, assistant=assistant))
