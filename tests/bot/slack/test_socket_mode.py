"""Socket Mode wiring: the same app, handed an envelope by SocketModeHandler.handle()."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import TimeEntry
from tests.bot.slack.conftest import SlackHarness, fixture


class StubSocketClient:
    """Records the envelope acks a real SocketModeClient would send over the WebSocket."""

    def __init__(self) -> None:
        self.sent: list[SocketModeResponse] = []
        self.logger = logging.getLogger("stub-socket-mode")

    def send_socket_mode_response(self, response: SocketModeResponse | dict[str, Any]) -> None:
        self.sent.append(response)  # type: ignore[arg-type]


def test_an_event_over_socket_mode_is_logged_and_acked(slack: SlackHarness, session: Session) -> None:
    handler = SocketModeHandler(slack.app, app_token="xapp-1-A0CCMBOT-1-abcdef")
    try:
        stub = StubSocketClient()
        handler.handle(stub, SocketModeRequest(type="events_api", envelope_id="env-1", payload=fixture("event_message")))  # type: ignore[arg-type]
        assert [r.envelope_id for r in stub.sent] == ["env-1"]
        assert slack.bot.inbox.drain()
        assert session.scalars(select(TimeEntry.minutes)).all() == [15]
        assert len(slack.standin.of("chat.postEphemeral")) == 1

        command = fixture("command_ccm", text="status 123")
        command["response_url"] = f"{slack.standin.url}/respond/socket"
        handler.handle(stub, SocketModeRequest(type="slash_commands", envelope_id="env-2", payload=command))  # type: ignore[arg-type]
        assert [r.envelope_id for r in stub.sent] == ["env-1", "env-2"]
        [answer] = slack.standin.wait_for("response_url")
        assert answer.params["text"].startswith("Patient 123, November 2026 so far:")
    finally:
        handler.client.close()
