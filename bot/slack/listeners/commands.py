"""/ccm and its subcommands. The ack goes back at once; the work runs after it (a lazy listener)."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.assistant import Assistant, Message
from bot.slack.render import blocks, log_modal, text

COMMAND = "/ccm"
SUBCOMMANDS = ("log", "status", "due", "me", "consent", "undo", "report", "help")


def to_message(sub: str, rest: str) -> str:
    """A subcommand in the words the assistant understands."""
    if sub == "":
        return rest or "help"  # "/ccm 15 min call pt 123" works too
    if sub == "help":
        return "help"
    if sub == "log":
        return rest
    if sub == "status":
        return f"status {rest}"
    if sub == "due":
        if rest in ("close", "near"):
            return "who's close?"
        return f"who still needs time {rest}".strip() + "?"
    if sub == "me":
        return f"my time {rest or 'today'}"
    if sub == "consent":
        return f"consent {rest}".strip()
    if sub == "undo":
        return "undo"
    return f"{sub} {rest}".strip()


def split(command_text: str) -> tuple[str, str]:
    words = (command_text or "").strip().split(None, 1)
    if not words:
        return "", ""
    sub = words[0].lower()
    if sub not in SUBCOMMANDS:
        return "", command_text.strip()
    return sub, words[1].strip() if len(words) > 1 else ""


def acknowledge(ack: Ack, command: dict[str, Any], client: WebClient, *, assistant: Assistant) -> None:
    sub, rest = split(command.get("text", ""))
    if sub == "log" and not rest:
        # The trigger id lives 3 seconds: open the modal before anything else.
        today = assistant.today()
        client.views_open(trigger_id=command["trigger_id"], view=log_modal({}, {"channel": command.get("channel_id", "")}, today))
    ack()


def work(command: dict[str, Any], respond: Respond, client: WebClient, *, assistant: Assistant) -> None:
    sub, rest = split(command.get("text", ""))
    user = command["user_id"]
    if sub == "log" and not rest:
        return
    if sub == "report":
        reply, csv_text = assistant.report(user, rest)
        if csv_text is None:
            respond(text=text(reply), blocks=blocks(reply), response_type="ephemeral")
            return
        # Uploaded without a channel: a private file only the requester can open, linked in the reply.
        upload = client.files_upload_v2(content=csv_text, filename=f"ccm-report-{rest or 'last-month'}.csv", title=reply.text)
        link = (upload.get("file") or {}).get("permalink", "")
        respond(text=f"{reply.text} {link}".strip(), response_type="ephemeral")
        return
    reply = assistant.handle(
        Message(user=user, text=to_message(sub, rest), source="slack", source_id=f"slack-command:{command['trigger_id']}", addressed=True)
    )
    if not reply.silent:
        respond(text=text(reply), blocks=blocks(reply), response_type="ephemeral")


def register(app: App, assistant: Assistant) -> None:
    app.command(COMMAND)(ack=partial(acknowledge, assistant=assistant), lazy=[partial(work, assistant=assistant)])
