"""Edit and Delete buttons under each entry of a list ("my entries today"), as Block Kit.

Action ids carry the entry's id ("edit_entry:42"), so they are unique in a message as Slack
requires; the value names the entry again for the listener. Delete asks first, with Slack's own
confirm dialog; what either does is decided by the use case (bot/corrections.py), not here."""

from __future__ import annotations

import re
from typing import Any

EDIT_ENTRY_ACTION = "edit_entry"
DELETE_ENTRY_ACTION = "delete_entry"
EDIT_BUTTON = re.compile(rf"^{EDIT_ENTRY_ACTION}:\d+$")
DELETE_BUTTON = re.compile(rf"^{DELETE_ENTRY_ACTION}:\d+$")
CONFIRM_TEXT_LIMIT = 300  # Slack's limit on a confirm dialog's text


def entry_buttons(entry_id: int, line: str) -> dict[str, Any]:
    """The actions block under one listed entry; `line` is its text, already escaped for mrkdwn."""
    return {
        "type": "actions",
        "block_id": f"entry:{entry_id}",
        "elements": [
            {"type": "button", "action_id": f"{EDIT_ENTRY_ACTION}:{entry_id}", "text": {"type": "plain_text", "text": "Edit"}, "value": str(entry_id)},
            {
                "type": "button",
                "action_id": f"{DELETE_ENTRY_ACTION}:{entry_id}",
                "style": "danger",
                "text": {"type": "plain_text", "text": "Delete"},
                "value": str(entry_id),
                "confirm": {
                    "title": {"type": "plain_text", "text": "Delete this entry?"},
                    "text": {"type": "mrkdwn", "text": line[:CONFIRM_TEXT_LIMIT]},
                    "confirm": {"type": "plain_text", "text": "Delete"},
                    "deny": {"type": "plain_text", "text": "Keep it"},
                    "style": "danger",
                },
            },
        ],
    }


def entry_id_of(action: dict[str, Any]) -> int:
    """The entry a pressed button names (0 when it names none: the use case refuses it)."""
    value = str(action.get("value") or "")
    return int(value) if value.isdigit() and len(value) <= 10 else 0
