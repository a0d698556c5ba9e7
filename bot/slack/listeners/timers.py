"""Timer buttons: Stop (on the bot's message, the end-of-day DM, the Home tab) and the Home tab's Start.

`/ccm start 123 call` and "stop" in a DM need nothing here: they are messages like any other.
Every rule (whose timer, which one, what a stop logs) is the use case's (bot/timers.py); a Stop
button names its timer, and only the person who started it may press it to any effect.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.slack.listeners.delivery import deliver
from bot.slack.render import START_TIMER_ACTION, START_TIMER_CALLBACK, STOP_TIMER_ACTION, blocks, home_view, modal_values, text, timer_modal

STOP_BUTTON = re.compile(rf"^{STOP_TIMER_ACTION}(?::\d+)?$")


def acknowledge(ack: Ack) -> None:
    ack()


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view" or (body.get("view") or {}).get("type") == "home"


def stop(body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, *, assistant: Assistant) -> None:
    user = body["user"]["id"]
    value = str(action.get("value") or "")
    reply = assistant.timers.stop_button(user, int(value) if value.isdigit() else 0)
    if _from_home(body):
        # A view has no message to replace: the confirmation (with Undo) goes to the DM, and the tab is redrawn.
        deliver(client, reply, channel=user, user=user, private=False)
        client.views_publish(user_id=user, view=home_view(assistant.home(user)))
    elif reply.kind.is_refusal:
        # The message keeps its Stop button (the timer still runs, or was never theirs to stop).
        respond(text=text(reply), blocks=blocks(reply), replace_original=False, response_type="ephemeral")
    else:
        # The timer's message becomes its confirmation, so Stop cannot be pressed twice by mistake.
        respond(text=text(reply), blocks=blocks(reply), replace_original=True)


def open_start(body: dict[str, Any], client: WebClient) -> None:
    client.views_open(trigger_id=body["trigger_id"], view=timer_modal())


def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, *, assistant: Assistant) -> None:
    values = modal_values(view)
    reply, errors = assistant.timers.start_form(body["user"]["id"], values.get("patient", ""), values.get("activity", ""))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    context["timer_reply"] = reply  # for started(), which Bolt runs after the response


def started(body: dict[str, Any], context: BoltContext, client: WebClient, *, assistant: Assistant) -> None:
    reply = context.get("timer_reply")
    if reply is None:
        return
    user = body["user"]["id"]
    deliver(client, reply, channel=user, user=user, private=False)  # in the DM, with its Stop button
    client.views_publish(user_id=user, view=home_view(assistant.home(user)))


def register(app: App, assistant: Assistant) -> None:
    app.action(STOP_BUTTON)(ack=acknowledge, lazy=[partial(stop, assistant=assistant)])
    app.action(START_TIMER_ACTION)(ack=acknowledge, lazy=[open_start])
    app.view(START_TIMER_CALLBACK)(ack=partial(submitted, assistant=assistant), lazy=[partial(started, assistant=assistant)])
