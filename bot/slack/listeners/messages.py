"""Messages in channels and DMs, mentions, edits and deletes."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.assistant import Assistant, Message
from bot.slack.listeners.delivery import deliver, done, permalink, react, source_id, when

# Message subtypes that are a person writing (a file with a comment, a thread reply sent to the channel).
PLAIN_SUBTYPES = (None, "file_share", "thread_broadcast")


def register(app: App, assistant: Assistant) -> None:
    settings = assistant.settings

    def allowed(channel: str, channel_type: str) -> bool:
        return channel_type == "im" or not settings.slack_channels or channel in settings.slack_channels

    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        subtype = event.get("subtype")
        channel, channel_type = event.get("channel", ""), event.get("channel_type", "channel")
        if not allowed(channel, channel_type):
            pass
        elif subtype == "message_changed":
            on_edit(event, client, context)
        elif subtype == "message_deleted":
            on_delete(event, client)
        elif subtype in PLAIN_SUBTYPES and event.get("user"):
            if channel_type != "im" and context.bot_user_id and f"<@{context.bot_user_id}>" in event.get("text", ""):
                pass  # the app_mention event for the same message answers it
            else:
                in_channel = channel_type != "im"
                reply = assistant.handle(
                    Message(
                        user=event["user"],
                        text=event.get("text", ""),
                        when=when(event["ts"]),
                        source="slack",
                        source_id=source_id(channel, event["ts"]),
                        addressed=not in_channel,
                        link=permalink(channel, event["ts"]),
                    )
                )
                deliver(client, reply, channel=channel, user=event["user"], private=in_channel, thread_ts=event.get("thread_ts"))
                if in_channel:
                    react(client, reply, channel=channel, ts=event["ts"])
        done(assistant.db, body)

    def on_edit(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        message = event.get("message") or {}
        user, ts = message.get("user"), message.get("ts")
        if not user or not ts or message.get("subtype") == "tombstone":
            return
        channel = event["channel"]
        revision = (message.get("edited") or {}).get("ts") or event.get("event_ts") or event["ts"]
        reply = assistant.edit(
            Message(user=user, text=message.get("text", ""), when=when(ts), source="slack", source_id=source_id(channel, ts), link=permalink(channel, ts)),
            revision=revision,
        )
        deliver(client, reply, channel=channel, user=user, private=event.get("channel_type") != "im")

    def on_delete(event: dict[str, Any], client: WebClient) -> None:
        previous = event.get("previous_message") or {}
        user, ts = previous.get("user"), event.get("deleted_ts") or previous.get("ts")
        if not user or not ts:
            return
        channel = event["channel"]
        reply = assistant.deleted(user, source_id(channel, ts))
        deliver(client, reply, channel=channel, user=user, private=event.get("channel_type") != "im")

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        channel, ts, user = event["channel"], event["ts"], event.get("user")
        if user and (not settings.slack_channels or channel in settings.slack_channels):
            reply = assistant.handle(
                Message(
                    user=user,
                    text=event.get("text", ""),
                    when=when(ts),
                    source="slack",
                    source_id=source_id(channel, ts),
                    addressed=True,
                    link=permalink(channel, ts),
                )
            )
            # A confirmation (with its Undo button) stays private; answers go in the thread.
            private = reply.kind in ("logged", "error", "unknown_user", "refused")
            deliver(client, reply, channel=channel, user=user, private=private, thread_ts=event.get("thread_ts") or ts)
            react(client, reply, channel=channel, ts=ts)
        elif user:
            client.chat_postEphemeral(
                channel=channel, user=user, text="Time isn't logged in this channel. Message me directly, or log it in the care team's channel."
            )
        done(assistant.db, body)
