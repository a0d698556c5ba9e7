"""Under stress: a burst with retries, the database failing in the middle of handling, and
malformed or oversized input. Nothing is lost, nothing counted twice, nothing crashes."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage.models import AuditEvent, MonthTotal, SlackEvent, TimeEntry
from tests.bot.slack.conftest import SlackHarness, fixture


def test_a_burst_of_500_events_with_5_percent_retries(slack: SlackHarness, session: Session) -> None:
    payloads = [
        fixture("event_message", event_id=f"Ev0BURST{n:03d}", event__ts=f"{1795791600 + n}.000100", event__text=f"{1 + n % 9} min call pt 123")
        for n in range(500)
    ]
    sends: list[tuple[dict[str, Any], int | None]] = [(p, None) for p in payloads] + [(payloads[n], 1) for n in range(0, 500, 20)]
    statuses: list[int] = []
    lock = threading.Lock()

    def sender(part: list[tuple[dict[str, Any], int | None]]) -> None:
        for payload, retry in part:
            status = slack.event(payload, retry=retry, wait=False).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=sender, args=(sends[k::10],)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 525  # how fast they are answered is bench/slack's to measure
    assert slack.bot.inbox.drain(timeout=300)
    expected = sum(1 + n % 9 for n in range(500))
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 500
    assert session.scalar(select(func.sum(MonthTotal.ccm_clinical_staff))) == expected
    assert len(slack.standin.of("chat.postEphemeral")) == 500
    assert set(session.scalars(select(SlackEvent.status))) == {"done"}


def test_the_database_failing_mid_handling_leaves_nothing_half_written(slack: SlackHarness, session: Session, db: Any) -> None:
    failures = {"left": 1}

    def drop_connection(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The connection dies after the entry row was written, before its month total.
        if failures["left"] and "month_totals" in statement:
            failures["left"] -= 1
            raise OperationalError(statement, None, ConnectionError("server closed the connection unexpectedly"))

    event.listen(db.engine, "before_cursor_execute", drop_connection)
    try:
        assert slack.event(fixture("event_message")).status == 200  # stored: Slack need not retry
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(TimeEntry)) == 0  # rolled back whole
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "time_entry")) == 0
        row = session.get(SlackEvent, "Ev0MESSAGE01")
        assert (row.status, row.error) == ("pending", "OperationalError")
        assert slack.standin.of("chat.postEphemeral") == []
        slack.bot.inbox.sweep_now()
    finally:
        event.remove(db.engine, "before_cursor_execute", drop_connection)
    session.expire_all()
    assert session.scalars(select(TimeEntry.minutes)).all() == [15]
    assert session.scalar(select(MonthTotal.ccm_clinical_staff)) == 15
    assert len(slack.standin.of("chat.postEphemeral")) == 1


def test_the_database_failing_while_storing_answers_500_so_slack_retries(slack: SlackHarness, session: Session, db: Any) -> None:
    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "slack_events" in statement:
            raise OperationalError(statement, None, ConnectionError("could not connect to server"))

    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        assert slack.event(fixture("event_message")).status == 500
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
    assert slack.event(fixture("event_message"), retry=1).status == 200
    session.expire_all()
    assert session.scalars(select(TimeEntry.minutes)).all() == [15]


def test_malformed_and_oversized_payloads_are_answered_without_a_crash(slack: SlackHarness, session: Session) -> None:
    assert slack.post(b"{not json", "application/json").status == 400
    assert slack.post(json.dumps({"type": "event_callback"}).encode(), "application/json").status in (200, 404)
    broken = fixture("event_message", event_id="Ev0BROKEN")
    del broken["event"]["ts"]
    assert slack.event(broken).status == 200
    assert session.get(SlackEvent, "Ev0BROKEN").status == "done"  # nothing to do, not retried for ever
    assert slack.post(b"payload=%7Bnot-json", "application/x-www-form-urlencoded").status == 400
    assert slack.post(b"\xff\xfe", "application/json", signature="v0=" + "0" * 64).status == 401  # the signature is checked first
    huge = "15 min call pt 123 " + "lorem ipsum " * 3400  # about Slack's 40,000-character limit
    assert slack.event(fixture("event_message", event_id="Ev0HUGE", event__text=huge, event__ts="1795791601.000100")).status == 200
    pasted = "\n".join(f"5 min call pt {n}" for n in range(200))
    assert slack.event(fixture("event_message", event_id="Ev0PASTE", event__text=pasted, event__ts="1795791602.000100")).status == 200
    replies = [c.params["text"] for c in slack.standin.of("chat.postEphemeral")]
    assert any(r.startswith("Logged 15 min patient outreach for patient 123") for r in replies)
    assert any("That message holds 200 entries; I take at most 50" in r for r in replies)
    # And the app still works afterwards.
    assert slack.event(fixture("event_message")).status == 200
    session.expire_all()
    assert session.scalars(select(TimeEntry.minutes).order_by(TimeEntry.id)).all() == [15, 15]


def test_a_timestamp_that_is_not_a_number_is_refused_401_not_a_crash(slack: SlackHarness) -> None:
    body = json.dumps(fixture("event_message")).encode()
    assert slack.post(body, "application/json", timestamp="tomorrow", signature="v0=" + "0" * 64).status == 401
    assert slack.post(body, "application/json", timestamp="").status == 401
    assert slack.event(fixture("event_message")).status == 200  # and the app still works


def test_a_body_over_a_megabyte_is_refused_before_it_is_read(slack: SlackHarness, session: Session) -> None:
    """413 from the declared length alone: the client announces 9 MB and sends none of it, and
    the answer comes at once (nothing waits for, decodes or verifies the body)."""
    url = urlsplit(slack.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", url.path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(9 * 1024 * 1024))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
    assert slack.event(fixture("event_message")).status == 200  # a real event right after is handled
    session.expire_all()
    assert session.scalars(select(TimeEntry.minutes)).all() == [15]
