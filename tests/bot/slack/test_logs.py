"""Logs carry event ids and never message text, patient labels or tokens."""

from __future__ import annotations

import io
import json
import logging
from datetime import date

from bot.observability import configure_logging
from storage.roster import PatientFields, upsert_patient
from tests.bot.slack.conftest import BOT_TOKEN, SECRET, SlackHarness, fixture
from tests.conftest import Roster


def test_a_logged_conversation_holds_no_phi_and_traces_events(slack: SlackHarness, roster: Roster) -> None:
    upsert_patient(roster.s, PatientFields(key="0789", label="Jane Q Doe", chronic_conditions=2), actor=None, today=date(2026, 11, 27))
    roster.s.commit()
    out = io.StringIO()
    configure_logging(logging.DEBUG, stream=out)
    try:
        texts = [
            "15 min med review for patient 123",
            "20 min call with Jane Q Doe's daughter pt 0789",
            "pt 123 med review",  # a parser error
            "status 0789",
        ]
        for n, text in enumerate(texts):
            channel_type = "im" if n == 3 else "channel"
            slack.event(fixture("event_message", event_id=f"Ev0LOG{n}", event__text=text, event__ts=f"1795791600.00010{n}", event__channel_type=channel_type))
        slack.event(fixture("event_message", event_id="Ev0LOG0"), retry=1)  # a duplicate
        slack.event(fixture("event_app_mention", event__text="<@UBOT> who still needs time this month?"))
        slack.command("status 0789", trigger_id="t-log")
        slack.standin.wait_for("response_url")
        unknown = fixture("block_actions_undo")
        unknown["actions"][0]["action_id"] = "no_such_button"
        unknown["actions"][0]["value"] = "pt 0789 Jane Q Doe"
        slack.interaction(unknown)  # Bolt warns about an unhandled request, with its body
        slack.standin.fail_next("chat.postEphemeral", 500, error="internal_error")
        slack.event(fixture("event_message", event_id="Ev0LOG9", event__text="5 min labs pt 123", event__ts="1795791601.000100"))
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines, "nothing was logged"
    raw = out.getvalue()
    for secret in (*texts, "Jane", "Doe", "med review", "who still needs time", BOT_TOKEN, SECRET, "xoxb-", "0789"):
        assert secret not in raw, f"{secret!r} appeared in the logs"
    handled = {line["event_id"] for line in lines if line.get("msg") == "event handled"}
    assert {"Ev0LOG0", "Ev0LOG1", "Ev0LOG2", "Ev0LOG3", "Ev0MENTION01"} <= handled
    assert any(line.get("event_id") == "Ev0LOG0" and line["msg"] == "duplicate event dropped" for line in lines)
    assert any(line.get("event_id") == "Ev0LOG9" and line["level"] == "error" for line in lines)
