"""The real Bolt app over HTTP, with signed requests, against the recording stand-in."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.assistant import Assistant, Message
from bot.config import Settings
from bot.observability import FOREIGN
from bot.slack.app import own_workspace_only
from storage.db import Database
from storage.models import AuditEvent, TimeEntry
from tests.bot.slack.conftest import BOT_TOKEN, SECRET, SlackHarness, fixture
from tests.bot.slack.standin import StandIn
from tests.conftest import Roster


def active_minutes(session: Session) -> list[int]:
    session.expire_all()
    return list(session.scalars(select(TimeEntry.minutes).where(TimeEntry.voided_at.is_(None)).order_by(TimeEntry.id)))


def undo_value(blocks: list[dict]) -> str:
    actions = [b for b in blocks if b["type"] == "actions"]
    return actions[0]["elements"][0]["value"]


def test_a_message_in_a_channel_is_logged_confirmed_privately_with_undo_and_marked(slack: SlackHarness, session: Session) -> None:
    response = slack.event(fixture("event_message"))
    assert response.status == 200
    assert active_minutes(session) == [15]
    [confirmation] = slack.standin.of("chat.postEphemeral")
    assert confirmation.params["user"] == "UNURSE" and confirmation.params["channel"] == "C0CARETEAM"
    assert confirmation.params["text"].splitlines() == [
        "Logged 15 min medication review for patient 123 on Fri Nov 27 (Maria Santos).",
        "Patient 123: 15 of 20 min in November, 5 to go for 99490; consent on file.",
    ]
    entry_id = session.scalar(select(TimeEntry.id))
    assert undo_value(confirmation.params["blocks"]) == str(entry_id)
    [reaction] = slack.standin.of("reactions.add")
    assert {k: reaction.params[k] for k in ("channel", "timestamp", "name")} == {
        "channel": "C0CARETEAM",
        "timestamp": "1795791600.000100",
        "name": "white_check_mark",
    }
    assert session.scalar(select(TimeEntry.source_link)) == "https://clinic.slack.com/archives/C0CARETEAM/p1795791600000100"  # as Slack made it


def test_bad_and_stale_signatures_are_refused(slack: SlackHarness, session: Session) -> None:
    body = json.dumps(fixture("event_message")).encode()
    assert slack.post(body, "application/json", signature="v0=" + "0" * 64).status == 401
    stale = int(time.time()) - 10 * 60
    assert slack.post(body, "application/json", timestamp=stale, signature=slack.signer.generate_signature(timestamp=str(stale), body=body)).status == 401
    assert active_minutes(session) == [] and slack.standin.calls == []


def test_a_retried_event_makes_one_entry_and_one_confirmation(slack: SlackHarness, session: Session) -> None:
    payload = fixture("event_message")
    assert slack.event(payload).status == 200
    assert slack.event(payload, retry=1).status == 200
    assert slack.event(payload, retry=2).status == 200
    assert active_minutes(session) == [15]
    assert len(slack.standin.of("chat.postEphemeral")) == 1 and len(slack.standin.of("reactions.add")) == 1


def test_chatter_in_a_channel_gets_no_reply_but_a_dm_does(slack: SlackHarness) -> None:
    slack.event(fixture("event_message", event__text="lunch is in the break room", event_id="Ev0CHAT"))
    assert slack.standin.calls == []
    dm = fixture("event_message", event__text="my time today", event__channel="D0NURSEDM", event__channel_type="im", event_id="Ev0DM")
    assert slack.event(dm).status == 200
    [answer] = slack.standin.of("chat.postMessage")
    assert answer.params["channel"] == "D0NURSEDM" and answer.params["text"] == "You have no time logged today."
    assert slack.standin.of("chat.postEphemeral") == [] and slack.standin.of("reactions.add") == []


def test_a_mention_is_answered_in_its_thread(slack: SlackHarness) -> None:
    slack.event(fixture("event_message", event_id="Ev0LOG"))
    slack.standin.reset()
    assert slack.event(fixture("event_app_mention")).status == 200
    [answer] = slack.standin.of("chat.postMessage")
    assert answer.params["thread_ts"] == "1795791700.000200"
    assert answer.params["text"].splitlines()[1] == "• 123: 5 min to 99490 (15 of 20)"


def test_bot_messages_are_ignored(slack: SlackHarness, session: Session) -> None:
    bot = fixture("event_message", event_id="Ev0BOT")
    bot["event"]["bot_id"] = "BOTHER"
    assert slack.event(bot).status == 200
    assert active_minutes(session) == [] and slack.standin.calls == []


def test_an_edit_replaces_the_entries_and_tells_the_author(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    slack.standin.reset()
    assert slack.event(fixture("event_message_changed")).status == 200
    assert active_minutes(session) == [20]
    [notice] = slack.standin.of("chat.postEphemeral")
    assert notice.params["text"].splitlines() == [
        "Updated from your edit:",
        "• was: 15 min medication review for patient 123 on Fri Nov 27",
        "• now: 20 min medication review for patient 123 on Fri Nov 27",
        "Patient 123: 20 of 40 min in November, 20 to go for 99439; 99490 reached; consent on file.",
    ]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "entry.void")) == 1
    # The same edit delivered again changes nothing more.
    assert slack.event(fixture("event_message_changed", event_id="Ev0CHANGED02")).status == 200
    assert active_minutes(session) == [20] and len(slack.standin.of("chat.postEphemeral")) == 1


def test_a_deleted_message_voids_its_entries(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    slack.standin.reset()
    assert slack.event(fixture("event_message_deleted")).status == 200
    assert active_minutes(session) == []
    [notice] = slack.standin.of("chat.postEphemeral")
    assert notice.params["text"].startswith("Your message was deleted, so its time no longer counts:")
    voided = session.scalars(select(TimeEntry.void_reason)).all()
    assert voided == ["message deleted"]


def test_undo_button_by_author_by_someone_else_and_twice(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    value = undo_value(slack.standin.of("chat.postEphemeral")[0].params["blocks"])
    slack.standin.reset()

    other = fixture("block_actions_undo", actions=[dict(fixture("block_actions_undo")["actions"][0], value=value)])
    other["user"]["id"] = "UMA"
    assert slack.interaction(other).status == 200
    refusal = slack.standin.wait_for("response_url")[0]
    assert refusal.params["text"] == "Only the person who logged this time, or an admin, can undo it."
    assert refusal.params["replace_original"] is False
    assert active_minutes(session) == [15]

    mine = fixture("block_actions_undo", actions=[dict(fixture("block_actions_undo")["actions"][0], value=value)])
    assert slack.interaction(mine).status == 200
    done = slack.standin.wait_for("response_url", 2)[1]
    assert done.params["replace_original"] is True and done.params["text"].startswith("Undone: 15 min medication review for patient 123")
    assert active_minutes(session) == []

    assert slack.interaction(mine).status == 200
    again = slack.standin.wait_for("response_url", 3)[2]
    assert again.params["text"] == "Already undone: those entries were taken back before."
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "entry.void")) == 1


def test_the_shortcut_opens_a_modal_prefilled_from_the_message(slack: SlackHarness) -> None:
    assert slack.interaction(fixture("message_action")).status == 200
    [opened] = slack.standin.wait_for("views.open")
    view = opened.params["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert fields["patient"]["initial_value"] == "123" and fields["minutes"]["initial_value"] == "25"
    assert fields["activity"]["initial_option"]["value"] == "medication_review"
    assert fields["date"]["initial_date"] == "2026-11-26"


def test_ccm_log_without_text_opens_the_modal(slack: SlackHarness) -> None:
    response = slack.command("log")
    assert response.status == 200
    [opened] = slack.standin.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "log_time"


def test_modal_field_errors_come_back_in_the_modal(slack: SlackHarness, session: Session) -> None:
    payload = fixture("view_submission")
    values = payload["view"]["state"]["values"]
    values["minutes"]["value"]["value"] = "fifteen"
    values["date"]["value"]["selected_date"] = "2026-12-25"
    response = slack.interaction(payload)
    assert response.status == 200
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"minutes": "Enter whole minutes, like 15.", "date": "That day is in the future; time can only be logged for today or earlier."},
    }
    values["minutes"]["value"]["value"] = "15"
    values["date"]["value"]["selected_date"] = "2026-11-26"
    values["patient"]["value"]["value"] = "999"
    assert json.loads(slack.interaction(payload).body)["errors"] == {
        "patient": "Patient 999 is not on the roster. Check the number, or ask an admin to add the patient."
    }
    assert active_minutes(session) == []


def test_a_valid_modal_logs_and_confirms_in_the_dm(slack: SlackHarness, session: Session) -> None:
    response = slack.interaction(fixture("view_submission"))
    assert response.status == 200 and response.body == ""
    assert active_minutes(session) == [25]
    [confirmation] = slack.standin.wait_for("chat.postMessage")
    assert confirmation.params["channel"] == "UNURSE"
    assert confirmation.params["text"].startswith("Logged 25 min medication review for patient 123 on Thu Nov 26 (Maria Santos).")
    assert session.scalar(select(TimeEntry.source_link)) == "https://slack.com/archives/C0CARETEAM/p1795791800000700"


def test_app_home_is_published_for_the_person(slack: SlackHarness) -> None:
    slack.event(fixture("event_message"))
    slack.standin.reset()
    assert slack.event(fixture("event_app_home_opened")).status == 200
    [published] = slack.standin.wait_for("views.publish")
    assert published.params["user_id"] == "UNURSE"
    texts = json.dumps(published.params["view"])
    assert "Patient 123: 15 of 20 min in November, 5 to go for 99490; consent on file." in texts
    assert "15 min medication review, patient 123" in texts
    actions = [e["action_id"] for b in published.params["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["open_log_modal", "show_due"]


def test_a_rate_limit_is_waited_out(slack: SlackHarness, session: Session) -> None:
    slack.standin.fail_next("chat.postEphemeral", 429, retry_after=1)
    started = time.perf_counter()
    assert slack.event(fixture("event_message")).status == 200
    assert time.perf_counter() - started >= 1.0
    assert [c.method for c in slack.standin.calls if c.method.startswith("chat.postEphemeral")] == ["chat.postEphemeral:failed", "chat.postEphemeral"]
    assert active_minutes(session) == [15]


def test_an_unknown_user_is_told_how_to_be_added(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message", event__user="USTRANGER"))
    [notice] = slack.standin.of("chat.postEphemeral")
    assert notice.params["user"] == "USTRANGER" and "not on the care team's staff roster" in notice.params["text"]
    assert 'ccmbot staff add "Sam Rivera" --role rn --slack-id USTRANGER' in notice.params["text"]
    assert active_minutes(session) == []


def test_logging_only_in_allowed_channels(db: Database, roster: Roster, standin: StandIn) -> None:
    roster.patient("123")
    settings = Settings(
        database_url=db.url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET, slack_api_url=standin.api_url, slack_channels=("C0CARETEAM",)
    )
    harness = SlackHarness(db, standin, settings)
    try:
        standin.reset()
        harness.event(fixture("event_message", event__channel="C0RANDOM", event_id="Ev0ELSEWHERE"))
        assert standin.calls == []
        harness.event(fixture("event_message", event__channel="D0NURSEDM", event__channel_type="im", event_id="Ev0DIRECT"))
        harness.event(fixture("event_message", event_id="Ev0CARE", event__ts="1795791601.000100"))
        with db.session() as s:
            assert s.scalars(select(TimeEntry.source_group).order_by(TimeEntry.id)).all() == [
                "slack:D0NURSEDM:1795791600.000100",
                "slack:C0CARETEAM:1795791601.000100",
            ]
    finally:
        harness.close()


def test_an_unreachable_database_answers_500_so_slack_retries(db: Database, roster: Roster, standin: StandIn) -> None:
    roster.patient("123")
    settings = Settings(database_url=db.url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET, slack_api_url=standin.api_url)
    # Nothing listens on port 9: every connection is refused, as when the database server is down.
    down = Database("postgresql+psycopg://postgres@127.0.0.1:9/ccmbot?connect_timeout=2", migrate=False)
    harness = SlackHarness(down, standin, settings)
    try:
        standin.reset()
        assert harness.event(fixture("event_message")).status == 500
        assert standin.of("chat.postEphemeral") == []
    finally:
        harness.close()
        down.dispose()
    # Slack's retry, once the database is back, is handled in full.
    harness = SlackHarness(db, standin, settings)
    try:
        assert harness.event(fixture("event_message"), retry=1).status == 200
        with db.session() as s:
            assert s.scalars(select(TimeEntry.minutes)).all() == [15]
        assert len(standin.of("chat.postEphemeral")) == 1
    finally:
        harness.close()


def home_button(action_id: str) -> dict:
    payload = fixture("block_actions_undo")
    payload["container"] = {"type": "view", "view_id": "V0HOME"}
    payload.pop("response_url")
    payload["actions"] = [{"action_id": action_id, "block_id": "home", "type": "button", "action_ts": "1795791650.000100"}]
    return payload


def test_home_buttons_open_the_form_and_list_who_needs_time(slack: SlackHarness) -> None:
    assert slack.interaction(home_button("open_log_modal")).status == 200
    [opened] = slack.standin.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "log_time"
    assert slack.interaction(home_button("show_due")).status == 200
    [listing] = slack.standin.wait_for("chat.postMessage")
    assert listing.params["channel"] == "UNURSE"
    assert listing.params["text"].splitlines()[1] == "• 123: 20 min to 99490 (0 of 20)"


def test_the_log_form_records_a_real_time_call_from_its_checkbox(slack: SlackHarness, session: Session) -> None:
    payload = fixture("view_submission")
    live = {"text": {"type": "plain_text", "text": "A real-time call"}, "value": "interactive"}
    payload["view"]["state"]["values"]["contact"] = {"value": {"type": "checkboxes", "selected_options": [live]}}
    assert slack.interaction(payload).status == 200
    assert session.scalars(select(TimeEntry.interactive)).all() == [True]


def test_the_log_form_without_the_checkbox_says_nothing_of_contact(slack: SlackHarness, session: Session) -> None:
    payload = fixture("view_submission")
    payload["view"]["state"]["values"]["contact"] = {"value": {"type": "checkboxes", "selected_options": []}}
    assert slack.interaction(payload).status == 200
    assert session.scalars(select(TimeEntry.interactive)).all() == [None]


def test_the_shortcut_ticks_the_contact_box_only_for_a_live_call(slack: SlackHarness) -> None:
    def contact_box(text: str) -> dict:
        payload = fixture("message_action")
        payload["message"]["text"] = text
        slack.standin.reset()
        assert slack.interaction(payload).status == 200
        [opened] = slack.standin.wait_for("views.open")
        return {b["block_id"]: b["element"] for b in opened.params["view"]["blocks"]}["contact"]

    assert [o["value"] for o in contact_box("12 min RPM call with pt 123 about readings yesterday")["initial_options"]] == ["interactive"]
    assert "initial_options" not in contact_box("pt 123 left voicemail 5 min yesterday")


def test_the_log_form_refuses_a_day_before_last_month(slack: SlackHarness, session: Session) -> None:
    payload = fixture("view_submission")
    payload["view"]["state"]["values"]["date"]["value"]["selected_date"] = "2026-09-30"
    response = slack.interaction(payload)
    errors = json.loads(response.body)["errors"]
    assert errors["date"].startswith("That day is before October 2026;") and "ccmbot log" in errors["date"]
    assert active_minutes(session) == []


def test_ccm_report_sends_the_file_to_the_admins_dm_not_the_channel(slack: SlackHarness) -> None:
    assert slack.command("report 2026-10", user="UDOC").status == 200
    said = slack.standin.wait_for("response_url")[0]
    assert said.params["text"].startswith("Billing report for October 2026:")
    [opened] = slack.standin.wait_for("conversations.open")
    assert opened.params["users"] == "UDOC"
    [completed] = slack.standin.wait_for("files.completeUploadExternal")
    assert completed.params["channel_id"] == "D0DOC"  # the admin's DM with the app: the CSV names patients
    # The audit trail keeps the permalink Slack returned, not one built by hand.
    with slack.assistant.db.session() as s:
        row = s.scalars(select(AuditEvent).where(AuditEvent.action == "file.delivered")).one()
    assert row.after == {"filename": row.after["filename"], "permalink": "https://example.slack.com/files/F0REPORT", "to": "UDOC"}
    assert row.after["filename"].endswith(".csv")


def test_a_logged_message_keeps_the_permalink_slack_gives(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    assert session.scalar(select(TimeEntry.source_link)).startswith("https://clinic.slack.com/archives/")


def test_ccm_due_builds_its_question_directly_with_month_and_window(slack: SlackHarness) -> None:
    assert slack.command("due close").status == 200
    assert "within 10 min of a code" in slack.standin.wait_for("response_url")[0].params["text"]
    slack.standin.reset()
    assert slack.command("due october").status == 200
    assert " in October" in slack.standin.wait_for("response_url")[0].params["text"]


def test_a_nurse_asking_for_the_report_gets_no_file(slack: SlackHarness) -> None:
    assert slack.command("report").status == 200
    assert slack.standin.wait_for("response_url")[0].params["text"].startswith("Only admins can pull the billing report")
    assert slack.standin.of("files.completeUploadExternal") == []


def test_a_link_preview_is_not_an_edit_and_undo_follows_a_real_edit(slack: SlackHarness, session: Session) -> None:
    """Slack sends message_changed when it unfurls a link: same words, so nothing is voided or
    re-logged and nobody is told "Updated". After a real edit, the first confirmation's Undo
    button undoes what the message holds now instead of answering "Already undone"."""
    slack.event(fixture("event_message"))
    value = undo_value(slack.standin.of("chat.postEphemeral")[0].params["blocks"])
    slack.standin.reset()
    unfurl = fixture("event_message_changed", event_id="Ev0UNFURL", event__message__text="15 min med review for patient 123")
    unfurl["event"]["message"]["attachments"] = [{"title": "a link preview", "from_url": "https://example.org"}]
    del unfurl["event"]["message"]["edited"]
    assert slack.event(unfurl).status == 200
    assert active_minutes(session) == [15] and slack.standin.of("chat.postEphemeral") == []
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 1  # nothing voided and logged again

    assert slack.event(fixture("event_message_changed")).status == 200  # a real edit: 15 -> 20
    assert active_minutes(session) == [20]
    press = fixture("block_actions_undo", actions=[dict(fixture("block_actions_undo")["actions"][0], value=value)])
    assert slack.interaction(press).status == 200
    done = slack.standin.wait_for("response_url")[0]
    assert done.params["text"].startswith("Undone: 20 min medication review for patient 123"), done.params["text"]
    assert active_minutes(session) == []


def test_an_unchanged_text_edit_is_a_no_op_in_the_use_case_too(db: Database, roster: Roster) -> None:
    """Every door's rule: the assistant itself changes nothing when an edit keeps the words."""
    roster.patient("123")
    roster.s.commit()
    assistant = Assistant(db, Settings(database_url=db.url))
    first = assistant.handle(Message("UNURSE", "15 min med review for patient 123", today=date(2026, 11, 27), source="slack", source_id="C1:1.0"))
    assert first.entry_ids
    again = assistant.edit(Message("UNURSE", "15 min med review for patient 123", today=date(2026, 11, 27), source="slack", source_id="C1:1.0"), revision="2.0")
    assert again.silent
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TimeEntry)) == 1


def test_the_log_form_answers_bad_input_in_its_fields_and_stores_nothing(slack: SlackHarness, session: Session) -> None:
    """A NUL in the note, a note too long, year 1 as the date and a key too long each get the
    field's own message, never a 500, and nothing is stored (PostgreSQL refuses NUL outright)."""
    cases = {
        "note": ("note", "value", "called\x00 the patient"),
        "date": ("date", "selected_date", "0001-01-01"),
        "patient": ("patient", "value", "1" * 65),
    }
    for field, (block, key, value) in cases.items():
        payload = fixture("view_submission")
        payload["view"]["state"]["values"][block]["value"][key] = value
        response = slack.interaction(payload)
        assert response.status == 200, field
        assert field in json.loads(response.body)["errors"], (field, response.body)
    long = fixture("view_submission")
    long["view"]["state"]["values"]["note"]["value"]["value"] = "x" * 2001
    assert "at most 2000 characters" in json.loads(slack.interaction(long).body)["errors"]["note"]
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 0


def test_an_undo_value_that_names_no_entry_is_refused_not_a_crash(slack: SlackHarness, session: Session) -> None:
    for value in ("not-an-id", "99999999999999999999", "0,-5", ""):
        press = fixture("block_actions_undo", actions=[dict(fixture("block_actions_undo")["actions"][0], value=value)])
        slack.standin.reset()
        assert slack.interaction(press).status == 200, value
        [said] = slack.standin.wait_for("response_url")
        assert said.params["text"] == "That Undo button does not name any entry of mine; nothing was changed.", value
    assert session.scalar(select(func.count()).select_from(TimeEntry)) == 0


def test_signed_requests_from_another_workspace_are_refused_and_counted(slack: SlackHarness, session: Session) -> None:
    """The signing secret is right, but the team is not the bot token's (learned from auth.test
    at start): nothing is logged or answered, and the refusal is counted."""
    before = FOREIGN.labels("team")._value.get()
    assert slack.event(fixture("event_message", team_id="T0OTHER", event_id="Ev0FOREIGN")).status == 200
    assert slack.command("status 123", team_id="T0OTHER").status == 200
    other = fixture("block_actions_undo")
    other["team"] = {"id": "T0OTHER", "domain": "elsewhere"}
    assert slack.interaction(other).status == 200
    time.sleep(0.5)  # anything handled would have reached the stand-in by now
    assert active_minutes(session) == [] and slack.standin.of("chat.postEphemeral") == [] and slack.standin.of("response_url") == []
    assert FOREIGN.labels("team")._value.get() - before == 3
    assert slack.event(fixture("event_message")).status == 200  # our own workspace still works
    assert slack.standin.wait_for("chat.postEphemeral")


def test_a_request_for_another_app_is_refused_when_the_app_id_is_set() -> None:
    middleware = own_workspace_only("A0CCMBOT")
    context = BoltContext(authorize_result=AuthorizeResult(enterprise_id=None, team_id="T0CLINIC"))
    passed: list[str] = []
    assert middleware({"team_id": "T0CLINIC", "api_app_id": "A0SOMEONE"}, context, lambda: passed.append("next")).status == 200
    assert passed == []
    assert middleware({"team_id": "T0CLINIC", "api_app_id": "A0CCMBOT"}, context, lambda: passed.append("next")) is None
    assert passed == ["next"]


def test_two_replicas_answer_a_mention_once(db: Database, slack: SlackHarness, standin: StandIn) -> None:
    """Slack delivers a mention to one replica, times out and retries it to another while the
    first still works: both store it in the shared inbox, one claims it, one answer is posted."""
    second = SlackHarness(db, standin, slack.settings)
    try:
        standin.reset()
        mention = fixture("event_app_mention", event__text="<@UBOT> who still needs time this month?")
        statuses = []
        threads = [
            threading.Thread(target=lambda h=h, r=r: statuses.append(h.event(mention, retry=r).status)) for h, r in ((slack, None), (second, 1))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200, 200]
        assert slack.bot.inbox.drain(timeout=30) and second.bot.inbox.drain(timeout=30)
        time.sleep(0.3)
        assert len(standin.of("chat.postMessage")) == 1
    finally:
        second.close()


def test_every_listener_acknowledges_before_its_web_api_calls(slack: SlackHarness) -> None:
    """Each Web API method these listeners call answers 429 (retry after 2 s): the button,
    shortcut, Home tab and form requests still get Slack's HTTP response at once, well inside
    its 3 seconds, and the calls go through after the wait."""
    slack.event(fixture("event_message"))
    slack.standin.reset()
    requests = [
        ("views.open", lambda: slack.interaction(home_button("open_log_modal"))),
        ("views.open", lambda: slack.interaction(fixture("message_action"))),
        ("chat.postMessage", lambda: slack.interaction(home_button("show_due"))),
        ("views.publish", lambda: slack.event(fixture("event_app_home_opened", event_id="Ev0HOME429"), wait=False)),
        ("chat.postMessage", lambda: slack.interaction(fixture("view_submission", view__id="V0RATE429"))),
    ]
    for method, send in requests:
        slack.standin.reset()
        slack.standin.fail_next(method, 429, retry_after=2)
        response = send()
        assert response.status == 200 and response.seconds < 1.5, (method, response.seconds)
        slack.standin.wait_for(method, timeout=15)  # the retry after the wait
        assert [c.method for c in slack.standin.calls if c.method.startswith(method)] == [f"{method}:failed", method]



def test_a_report_asked_in_a_dm_is_audited_with_slacks_permalink(slack: SlackHarness, session: Session) -> None:
    dm = fixture("event_message", event__text="send me the report for October", event__user="UDOC", event__channel="D0DOC", event__channel_type="im")
    assert slack.event(dm).status == 200
    slack.standin.wait_for("files.completeUploadExternal")
    rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "file.delivered")).all()
    assert [(r.after["to"], r.after["permalink"]) for r in rows] == [("UDOC", "https://example.slack.com/files/F0REPORT")]
