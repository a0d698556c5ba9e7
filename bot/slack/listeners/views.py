"""The "Log CCM time" message shortcut and the log-time modal's submission.

Both are acknowledged before any Web API call: the shortcut's modal opens lazily, and the
submission is checked and stored in the ack (its errors must go back in the response), with
the confirmation posted lazily from what the ack stored in the request's context."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.assistant import Assistant, EntryForm
from bot.parsing import parse_message
from bot.slack.listeners.corrections import replaces
from bot.slack.listeners.delivery import deliver, permalink
from bot.slack.render import INTERACTIVE_OPTION, LOG_MODAL_CALLBACK, log_modal, modal_values

SHORTCUT = "log_ccm_time"


def acknowledge(ack: Ack) -> None:
    ack()


def from_message(shortcut: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    today = assistant.today()
    message = shortcut.get("message") or {}
    parsed = parse_message(message.get("text", ""), today, max_minutes=assistant.settings.max_minutes_per_entry)
    prefill = parsed.entries[0].as_dict() if parsed.entries else {}
    if prefill:
        prefill["date"] = parsed.entries[0].date
    metadata = {"channel": (shortcut.get("channel") or {}).get("id", ""), "message_ts": message.get("ts", "")}
    client.views_open(trigger_id=shortcut["trigger_id"], view=log_modal(prefill, metadata, today))


def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, *, assistant: Assistant) -> None:
    user = body["user"]["id"]
    values = modal_values(view)
    form = EntryForm(
        patient=values.get("patient", ""),
        minutes=values.get("minutes", ""),
        activity=values.get("activity", ""),
        date=values.get("date", ""),
        note=values.get("note", ""),
        program=values.get("program", ""),
        interactive=True if INTERACTIVE_OPTION in values.get("contact", "").split(",") else None,
    )
    metadata = json.loads(view.get("private_metadata") or "{}")
    channel, ts = metadata.get("channel"), metadata.get("message_ts")
    link = permalink(channel, ts) if channel and ts else None
    edited = replaces(view)  # an entry's Edit button opened this form: the entry is replaced
    if edited is not None:
        reply, errors = assistant.correct_form(user, edited, form, source_id=f"slack-modal:{view['id']}")
    else:
        reply, errors = assistant.log_form(user, form, source_id=f"slack-modal:{view['id']}", link=link)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    context["log_reply"] = reply  # for confirm(), which Bolt runs after the response


def confirm(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    reply = context.get("log_reply")
    if reply is not None:
        # Confirm in the app's DM with the person (a user id as channel), with the Undo button.
        user = body["user"]["id"]
        deliver(client, reply, channel=user, user=user, private=False)


def register(app: App, assistant: Assistant) -> None:
    app.shortcut(SHORTCUT)(ack=acknowledge, lazy=[partial(from_message, assistant=assistant)])
    app.view(LOG_MODAL_CALLBACK)(ack=partial(submitted, assistant=assistant), lazy=[confirm])
