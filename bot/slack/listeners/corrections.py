"""The Edit and Delete buttons of an entry list ("my entries today").

Edit opens the log form filled in with the entry; sending it replaces the entry (views.py hands
the form to Assistant.correct_form). Delete voids the entry after Slack's confirm dialog. Both
are acknowledged at once and worked on lazily; who may change which entry is the use case's."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.assistant import Assistant
from bot.replies import Reply
from bot.slack.entry_buttons import DELETE_BUTTON, EDIT_BUTTON, entry_id_of
from bot.slack.render import blocks, log_modal, text

# The log form's private metadata names the entry an Edit replaces.
REPLACES = "replaces"


def acknowledge(ack: Ack) -> None:
    ack()


def edit_modal(prefill: dict[str, Any], entry_id: int, user: str, today: date) -> dict[str, Any]:
    """The log form, filled in with the entry, titled as an edit; sending it replaces the entry."""
    view = log_modal(prefill, {"channel": user, REPLACES: str(entry_id)}, today)
    view["title"] = {"type": "plain_text", "text": "Edit CCM time"}
    view["submit"] = {"type": "plain_text", "text": "Save"}
    for block in view["blocks"]:
        if block.get("block_id") == "note" and prefill.get("note"):
            block["element"]["initial_value"] = str(prefill["note"])  # the note is kept unless changed
    return view


def edit(body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, *, assistant: Assistant) -> None:
    user = body["user"]["id"]
    entry_id = entry_id_of(action)
    found = assistant.entry_form(user, entry_id)
    if isinstance(found, Reply):
        respond(text=text(found), blocks=blocks(found), replace_original=False, response_type="ephemeral")
        return
    client.views_open(trigger_id=body["trigger_id"], view=edit_modal(found, entry_id, user, assistant.today()))


def delete(body: dict[str, Any], action: dict[str, Any], respond: Respond, *, assistant: Assistant) -> None:
    reply = assistant.delete_entry(body["user"]["id"], entry_id_of(action))
    # The list stays as it was (its other entries keep their buttons); the outcome is the person's alone.
    respond(text=text(reply), blocks=blocks(reply), replace_original=False, response_type="ephemeral")


def replaces(view: dict[str, Any]) -> int | None:
    """The entry a submitted log form edits, or None for a new entry."""
    value = str(json.loads(view.get("private_metadata") or "{}").get(REPLACES) or "")
    return int(value) if value.isdigit() and len(value) <= 10 else None


def register(app: App, assistant: Assistant) -> None:
    app.action(EDIT_BUTTON)(ack=acknowledge, lazy=[partial(edit, assistant=assistant)])
    app.action(DELETE_BUTTON)(ack=acknowledge, lazy=[partial(delete, assistant=assistant)])
