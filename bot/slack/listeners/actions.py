"""Buttons: Undo on a confirmation, and the Home tab's "Log time" and "Who needs time".

Each button is acknowledged at once and worked on lazily (Bolt runs the work in a thread after
the HTTP response), so a Web API call that waits on a rate limit never delays the 3-second ack."""

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


def acknowledge(ack: Ack) -> None:
    ack()


def undo(body: dict[str, Any], action: dict[str, Any], respond: Respond, *, assistant: Assistant) -> None:
    reply = assistant.undo(body["user"]["id"], undo_ids(action.get("value", "")))
    if reply.kind is ReplyKind.UNDO:
        # The confirmation becomes the undo notice, so the button cannot be pressed again by mistake.
        respond(text=text(reply), blocks=blocks(reply), replace_original=True)
    else:
        respond(text=text(reply), blocks=blocks(reply), replace_original=False, response_type="ephemeral")


def open_modal(body: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    today = assistant.today()
    client.views_open(trigger_id=body["trigger_id"], view=log_modal({}, {"channel": body["user"]["id"]}, today))


def show_due(body: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    user = body["user"]["id"]
    reply = assistant.ask(user, Intent(IntentName.NEEDS_TIME, Slots(month="this")))
    # Posting to a user id lands in the app's own DM with them.
    deliver(client, reply, channel=user, user=user, private=False)


def register(app: App, assistant: Assistant) -> None:
    app.action(UNDO_ACTION)(ack=acknowledge, lazy=[partial(undo, assistant=assistant)])
    app.action(OPEN_LOG_MODAL_ACTION)(ack=acknowledge, lazy=[partial(open_modal, assistant=assistant)])
    app.action(SHOW_DUE_ACTION)(ack=acknowledge, lazy=[partial(show_due, assistant=assistant)])
