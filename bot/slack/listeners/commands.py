"""/ccm and its subcommands. The ack goes back at once; the work runs after it (a lazy listener)."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.assistant import Assistant, Message
from bot.intents import command_intent
from bot.slack.listeners.delivery import send_file
from bot.slack.render import blocks, log_modal, text

COMMAND = "/ccm"
SUBCOMMANDS = ("log", "status", "due", "me", "consent", "complex", "undo", "report", "help")


def split(command_text: str) -> tuple[str, str]:
    words = (command_text or "").strip().split(None, 1)
    if not words:
        return "", ""
    sub = words[0].lower()
    if sub not in SUBCOMMANDS:
        return "", command_text.strip()
    return sub, words[1].strip() if len(words) > 1 else ""


def acknowledge(ack: Ack) -> None:
    ack()  # before any Web API call: a rate-limited call must not push the ack past 3 seconds


def work(command: dict[str, Any], respond: Respond, client: WebClient, *, assistant: Assistant) -> None:
    sub, rest = split(command.get("text", ""))
    user = command["user_id"]
    if sub == "log" and not rest:
        # Run right after the ack, well inside the trigger id's 3 seconds.
        today = assistant.today()
        client.views_open(trigger_id=command["trigger_id"], view=log_modal({}, {"channel": command.get("channel_id", "")}, today))
        return
    intent = command_intent(sub, rest)
    if intent is None:  # "/ccm log 15 min call pt 123", "/ccm who needs time?": a message like any other
        source_id = f"slack-command:{command['trigger_id']}"
        reply = assistant.handle(Message(user=user, text=rest or "help", source="slack", source_id=source_id, addressed=True))
    else:
        reply = assistant.ask(user, intent)
    if reply.file is not None:
        link = send_file(client, reply.file, channel=command.get("channel_id", ""), user=user)
        assistant.file_delivered(user, reply.file[0], link)
    if not reply.silent:
        respond(text=text(reply), blocks=blocks(reply), response_type="ephemeral")


def register(app: App, assistant: Assistant) -> None:
    app.command(COMMAND)(ack=acknowledge, lazy=[partial(work, assistant=assistant)])
