"""Posting a Reply where the person will see it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.observability import EVENTS
from bot.replies import AddMe, Reply, ReplyKind, not_on_roster
from bot.slack.render import blocks, text
from storage.db import Database
from storage.slack_events import mark_done

log = logging.getLogger(__name__)

LOGGED_REACTION = "white_check_mark"


def when(ts: str) -> datetime:
    """A Slack timestamp ("1764255600.000100") as an aware datetime."""
    return datetime.fromtimestamp(float(ts), UTC)


def source_id(channel: str, ts: str) -> str:
    return f"slack:{channel}:{ts}"


def permalink(channel: str, ts: str, client: WebClient | None = None) -> str:
    """The message's link as Slack makes it (chat.getPermalink: the workspace's own domain, and a
    thread reply's link to its thread); built by hand when Slack cannot be asked."""
    if client is not None:
        try:
            link = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except SlackApiError:
            link = None
        if link:
            return str(link)
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def deliver(
    client: WebClient,
    reply: Reply,
    *,
    channel: str,
    user: str,
    private: bool,
    thread_ts: str | None = None,
    audit_file: Callable[[str, str, str | None], None] | None = None,
) -> None:
    """Post a reply: ephemeral to the speaker in a channel, a message in a DM or a thread. A file
    it carries goes to the asker's DM, and `audit_file(user, filename, permalink)` records it."""
    if reply.silent or reply.duplicate:
        return
    if reply.add_me is not None:
        reply = with_their_name(client, reply, reply.add_me)
    kwargs: dict[str, Any] = {"channel": channel, "text": text(reply), "blocks": blocks(reply)}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    if private:
        client.chat_postEphemeral(user=user, **kwargs)
    else:
        client.chat_postMessage(**kwargs)
    if reply.file is not None:
        link = send_file(client, reply.file, channel=channel, user=user)
        if audit_file is not None:
            audit_file(user, reply.file[0], link)


def send_file(client: WebClient, file: tuple[str, str], *, channel: str, user: str) -> str | None:
    """A file for the asker alone: in the DM where they asked, else in their DM with the app (it
    holds PHI). Returns the file's permalink as Slack gives it, for the audit trail."""
    name, content = file
    dm = channel if channel.startswith("D") else client.conversations_open(users=user)["channel"]["id"]
    response = client.files_upload_v2(channel=dm, content=content, filename=name, title=name)
    files = response.get("files") or [response.get("file") or {}]
    link = files[0].get("permalink") if files else None
    return str(link) if link else None


def with_their_name(client: WebClient, reply: Reply, add_me: AddMe) -> Reply:
    """Put the person's Slack name into the "add me" command, so an admin can paste it as is."""
    try:
        profile = client.users_info(user=add_me.slack_id).get("user") or {}
    except SlackApiError:
        return reply
    name = (profile.get("real_name") or profile.get("name") or "").replace('"', "")
    return not_on_roster(add_me, name) if name else reply


def react(client: WebClient, reply: Reply, *, channel: str, ts: str) -> None:
    """Mark the original message so the team sees it was logged."""
    if reply.kind is ReplyKind.LOGGED and not reply.duplicate and not reply.silent:
        client.reactions_add(channel=channel, timestamp=ts, name=LOGGED_REACTION)


def done(database: Database, body: dict[str, Any]) -> None:
    """Record an event handled on the spot (after its work), so a later retry is dropped."""
    event_type = (body.get("event") or {}).get("type", "unknown")
    EVENTS.labels(event_type).inc()
    if body.get("event_id"):
        with database.transaction() as s:
            mark_done(s, body["event_id"])
        log.info("event handled", extra={"event_id": body["event_id"], "type": event_type, "status": "done"})
