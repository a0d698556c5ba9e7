"""manifest.yml asks for what the listeners need and no more, and names what they listen to."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.listeners.commands import COMMAND, SUBCOMMANDS
from bot.slack.listeners.views import SHORTCUT

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[3] / "manifest.yml").read_text())

# The scope each event needs (api.slack.com/events).
EVENT_SCOPES = {
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}
# Scopes for what the app calls: chat.postMessage/postEphemeral, /ccm, reactions.add, files_upload_v2, users.info, conversations.open.
CALL_SCOPES = {"chat:write", "commands", "reactions:write", "files:write", "users:read", "im:write"}


def test_every_event_has_its_scope_and_no_scope_is_spare() -> None:
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert set(events) == set(EVENT_SCOPES)
    needed = {EVENT_SCOPES[e] for e in events if EVENT_SCOPES[e]} | CALL_SCOPES
    assert scopes == needed


def test_command_and_shortcut_match_the_listeners() -> None:
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert all(sub in command["usage_hint"] for sub in SUBCOMMANDS)
    [shortcut] = MANIFEST["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"], shortcut["name"]) == ("message", SHORTCUT, "Log CCM time")


def test_home_interactivity_and_socket_mode_are_on() -> None:
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["features"]["bot_user"]["display_name"]
