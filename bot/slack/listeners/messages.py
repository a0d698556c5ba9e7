"""Messages in channels and DMs, mentions, edits and deletes.

A message event is only stored by its listener (the inbox answers Slack at once); the
inbox's thread calls handle_message_event, which does the work.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest
from slack_sdk import WebClient

from bot.assistant import Assistant, Message
from bot.config import Settings
from bot.slack.inbox import Inbox
from bot.slack.listeners.delivery import deliver, permalink, react, source_id, when

# Message subtypes that are a person writing (a file with a comment, a thread reply sent to the channel).
PLAIN_SUBTYPES = (None, "file_share", "thread_broadcast")
HANDLED_SUBTYPES = (*PLAIN_SUBTYPES, "message_changed", "message_deleted")


def slack_message(event: dict[str, Any], user: str, *, addressed: bool, resend: bool = False, client: WebClient | None = None) -> Message:
    """A Slack message (or mention) as the assistant takes it: keyed and linked by channel and ts."""
    channel, ts = event["channel"], event["ts"]
    return Message(
        user=user,
        text=event.get("text", ""),
        when=when(ts),
        source="slack",
        source_id=source_id(channel, ts),
        addressed=addressed,
        link=partial(permalink, channel, ts, client),
        resend=resend,
    )


class MessageHandler:
    """What happens to a stored message event: log, edit, delete, answer."""

    def __init__(self, assistant: Assistant, client: WebClient) -> None:
        self.assistant = assistant
        self.client = client
        self._bot_user_id: str | None = None

    @property
    def bot_user_id(self) -> str:
        if self._bot_user_id is None:  # not yet learnt from a request (a sweep right after start)
            self._bot_user_id = str(self.client.auth_test().get("user_id") or "")
        return self._bot_user_id

    def learn(self, context: BoltContext) -> None:
        if self._bot_user_id is None and context.bot_user_id:
            self._bot_user_id = context.bot_user_id

    def __call__(self, body: dict[str, Any], attempts: int) -> None:
        event = body.get("event") or {}
        subtype = event.get("subtype")
        if event.get("type") == "app_mention":
            self.mentioned(event)
        elif subtype == "message_changed":
            self.edited(event, attempts)
        elif subtype == "message_deleted":
            self.deleted(event, attempts)
        elif subtype in PLAIN_SUBTYPES and event.get("user") and event.get("ts") and event.get("channel"):
            self.said(event, attempts)
        # Anything else (a subtype we do not handle, a malformed event) needs nothing done.

    def said(self, event: dict[str, Any], attempts: int) -> None:
        channel, ts, user = event.get("channel", ""), event["ts"], event["user"]
        in_channel = event.get("channel_type") != "im"
        if in_channel and self.bot_user_id and f"<@{self.bot_user_id}>" in event.get("text", ""):
            return  # the app_mention event for the same message answers it
        # A later attempt finds the entries logged by the one that failed before confirming.
        reply = self.assistant.handle(slack_message(event, user, addressed=not in_channel, resend=attempts > 0, client=self.client))
        deliver(self.client, reply, channel=channel, user=user, private=in_channel, thread_ts=event.get("thread_ts"), audit_file=self.assistant.file_delivered)
        if in_channel:
            react(self.client, reply, channel=channel, ts=ts)

    def mentioned(self, event: dict[str, Any]) -> None:
        """@ccmbot in a channel: the answer goes in the thread, a confirmation stays private."""
        channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
        if not channel or not ts or not user:
            return
        if allowed(self.assistant.settings, channel, "channel"):
            reply = self.assistant.handle(slack_message(event, user, addressed=True, client=self.client))
            deliver(self.client, reply, channel=channel, user=user, private=reply.kind.private_in_channel, thread_ts=event.get("thread_ts") or ts, audit_file=self.assistant.file_delivered)
            react(self.client, reply, channel=channel, ts=ts)
        else:
            self.client.chat_postEphemeral(
                channel=channel, user=user, text="Time isn't logged in this channel. Message me directly, or log it in the care team's channel."
            )

    def edited(self, event: dict[str, Any], attempts: int) -> None:
        message = event.get("message") or {}
        user, ts = message.get("user"), message.get("ts")
        if not user or not ts or message.get("subtype") == "tombstone":
            return
        channel = event.get("channel")
        if not channel:
            return
        previous = event.get("previous_message") or {}
        if "text" in previous and previous.get("text") == message.get("text"):
            return  # Slack added a link preview or an attachment: the words did not change
        revision = (message.get("edited") or {}).get("ts") or event.get("event_ts") or event["ts"]
        reply = self.assistant.edit(slack_message({**message, "channel": channel}, user, addressed=True, client=self.client), revision=revision)
        deliver(self.client, reply, channel=channel, user=user, private=event.get("channel_type") != "im", audit_file=self.assistant.file_delivered)

    def deleted(self, event: dict[str, Any], attempts: int) -> None:
        previous = event.get("previous_message") or {}
        user, ts = previous.get("user"), event.get("deleted_ts") or previous.get("ts")
        if not user or not ts:
            return
        channel = event.get("channel")
        if not channel:
            return
        reply = self.assistant.deleted(user, source_id(channel, ts))
        deliver(self.client, reply, channel=channel, user=user, private=event.get("channel_type") != "im", audit_file=self.assistant.file_delivered)


def allowed(settings: Settings, channel: str, channel_type: str) -> bool:
    """Whether the bot works in this conversation: DMs always, channels when listed (or none are)."""
    return channel_type == "im" or not settings.slack_channels or channel in settings.slack_channels


def on_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext, request: BoltRequest, *, inbox: Inbox, handler: MessageHandler) -> None:
    # Stored before Slack gets its 200; handled by the inbox's thread.
    handler.learn(context)
    if event.get("subtype") in HANDLED_SUBTYPES and allowed(handler.assistant.settings, event.get("channel", ""), event.get("channel_type", "channel")):
        event_id = body.get("event_id") or f"{event.get('channel')}:{event.get('event_ts') or event.get('ts')}"
        # Socket Mode hands Bolt a parsed payload with no raw body.
        inbox.accept(event_id, request.raw_body or json.dumps(body))


def on_mention(event: dict[str, Any], body: dict[str, Any], request: BoltRequest, *, inbox: Inbox) -> None:
    # Stored before Slack gets its 200 and handled by the inbox's thread, like a message: the
    # inbox's claim makes one replica answer a mention that two received, and once.
    event_id = body.get("event_id") or f"{event.get('channel')}:{event.get('event_ts') or event.get('ts')}"
    inbox.accept(event_id, request.raw_body or json.dumps(body))


def register(app: App, inbox: Inbox, handler: MessageHandler) -> None:
    app.event("message")(partial(on_message, inbox=inbox, handler=handler))
    app.event("app_mention")(partial(on_mention, inbox=inbox))
