"""The entry list's Edit and Delete buttons: the real Bolt app over HTTP with signed requests,
against the recording stand-in. "my entries today" in a DM lists the entries with both buttons;
Edit opens the log form filled in and saving it replaces the entry (reason "corrected"); Delete
asks Slack's confirm dialog first and voids it. Only the entry's owner or an admin may."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, TimeEntry
from tests.bot.slack.conftest import SlackHarness, fixture

DM = {"event__channel": "D0NURSE", "event__channel_type": "im"}


def entries(session: Session) -> list[tuple[int, int, str | None]]:
    """(minutes, patient id, void reason) of every entry, oldest first."""
    session.expire_all()
    return [(e.minutes, e.patient_id, e.void_reason) for e in session.scalars(select(TimeEntry).order_by(TimeEntry.id))]


def list_my_entries(slack: SlackHarness, n: int = 1) -> dict[str, Any]:
    said = fixture("event_message", event__text="my entries today", event__ts=f"179579170{n}.000100", event_id=f"Ev0ENTRIES{n}", **DM)
    assert slack.event(said).status == 200
    return slack.standin.wait_for("chat.postMessage", n)[n - 1].params


def press(action_id: str, entry_id: int, user: str = "UNURSE") -> dict[str, Any]:
    payload = fixture("block_actions_undo")
    payload["user"]["id"] = user
    payload["container"] = {"type": "message", "message_ts": "1795791702.000100", "channel_id": "D0NURSE"}
    payload["actions"] = [{"action_id": f"{action_id}:{entry_id}", "block_id": f"entry:{entry_id}", "type": "button", "value": str(entry_id), "action_ts": "1795791750.000100"}]
    return payload


def submit(view: dict[str, Any], *, minutes: str, patient: str = "123", view_id: str = "V0EDIT1") -> dict[str, Any]:
    """The opened form sent back as Slack would, with the minutes and patient typed in."""
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    payload = fixture("view_submission")
    payload["view"].update(id=view_id, callback_id=view["callback_id"], private_metadata=view["private_metadata"])
    payload["view"]["state"]["values"].update(
        patient={"value": {"type": "plain_text_input", "value": patient}},
        minutes={"value": {"type": "plain_text_input", "value": minutes}},
        activity={"value": {"type": "static_select", "selected_option": fields["activity"]["initial_option"]}},
        date={"value": {"type": "datepicker", "selected_date": fields["date"]["initial_date"]}},
    )
    return payload


def test_my_entries_today_lists_each_entry_with_edit_and_delete_asking_first(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    entry_id = session.scalar(select(TimeEntry.id))
    listing = list_my_entries(slack)
    assert listing["channel"] == "D0NURSE"
    assert listing["text"].splitlines()[:2] == ["Your entries today: 15 min in 1 entry.", "1. 15 min medication review for patient 123 on Fri Nov 27"]
    row = listing["blocks"].index({"type": "section", "text": {"type": "mrkdwn", "text": "1. 15 min medication review for patient 123 on Fri Nov 27"}})
    edit, delete = listing["blocks"][row + 1]["elements"]
    assert (edit["action_id"], edit["value"], edit["text"]["text"]) == (f"edit_entry:{entry_id}", str(entry_id), "Edit")
    assert (delete["action_id"], delete["value"], delete["text"]["text"]) == (f"delete_entry:{entry_id}", str(entry_id), "Delete")
    assert delete["confirm"]["title"]["text"] == "Delete this entry?" and delete["confirm"]["confirm"]["text"] == "Delete"


def test_edit_opens_the_log_form_filled_in_and_saving_replaces_the_entry(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    entry_id = session.scalar(select(TimeEntry.id))
    slack.standin.reset()
    assert slack.interaction(press("edit_entry", entry_id)).status == 200
    [opened] = slack.standin.wait_for("views.open")
    view = opened.params["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert view["callback_id"] == "log_time" and view["title"]["text"] == "Edit CCM time"
    assert (fields["patient"]["initial_value"], fields["minutes"]["initial_value"]) == ("123", "15")
    assert fields["activity"]["initial_option"]["value"] == "medication_review" and fields["date"]["initial_date"] == "2026-11-27"

    response = slack.interaction(submit(view, minutes="25"))
    assert response.status == 200 and response.body == ""
    assert [(m, reason) for m, _, reason in entries(session)] == [(15, "corrected"), (25, None)]
    [confirmation] = slack.standin.wait_for("chat.postMessage")
    assert confirmation.params["channel"] == "UNURSE"
    assert confirmation.params["text"].splitlines() == [
        "Corrected your entry:",
        "• was entry 1: 15 min medication review for patient 123 on Fri Nov 27",
        "• now entry 2: 25 min medication review for patient 123 on Fri Nov 27",
        "Patient 123: 25 of 40 min in November, 15 to go for 99439; 99490 reached; consent on file.",
    ]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["entry.void", "entry.log", "entry.correct"]

    # The same form sent again (a retry) changes nothing more.
    assert slack.interaction(submit(view, minutes="25")).status == 200
    assert [(m, reason) for m, _, reason in entries(session)] == [(15, "corrected"), (25, None)]


def test_the_edit_form_checks_the_new_entry_as_a_new_one_and_changes_nothing_when_wrong(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    entry_id = session.scalar(select(TimeEntry.id))
    assert slack.interaction(press("edit_entry", entry_id)).status == 200
    view = slack.standin.wait_for("views.open")[0].params["view"]
    wrong = slack.interaction(submit(view, minutes="500"))
    assert json.loads(wrong.body) == {"response_action": "errors", "errors": {"minutes": "An entry must be 1 to 240 minutes; split longer work into several entries."}}
    unknown = slack.interaction(submit(view, minutes="20", patient="999"))
    assert json.loads(unknown.body)["errors"] == {"patient": "Nothing was changed. Patient 999 is not on the roster. Check the number, or ask an admin to add the patient."}
    assert entries(session) == [(15, entries(session)[0][1], None)]


def test_delete_voids_the_entry_and_pressing_it_again_changes_nothing(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    entry_id = session.scalar(select(TimeEntry.id))
    slack.standin.reset()
    assert slack.interaction(press("delete_entry", entry_id)).status == 200
    [done] = slack.standin.wait_for("response_url")
    assert done.params["replace_original"] is False and done.params["response_type"] == "ephemeral"
    assert done.params["text"].splitlines() == [
        "Deleted your entry 1: 15 min medication review for patient 123 on Fri Nov 27.",
        "Patient 123: 0 of 20 min in November, 20 to go for 99490; consent on file.",
    ]
    assert [reason for _, _, reason in entries(session)] == ["corrected"]
    assert slack.interaction(press("delete_entry", entry_id)).status == 200
    again = slack.standin.wait_for("response_url", 2)[1]
    assert again.params["text"] == "Nothing was changed: 15 min medication review for patient 123 on Fri Nov 27 was already corrected or taken back."


def test_only_the_owner_or_an_admin_may_edit_or_delete(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    entry_id = session.scalar(select(TimeEntry.id))
    slack.standin.reset()
    refusal = "Only the person who logged this time, or an admin, can correct it. Nothing was changed."
    assert slack.interaction(press("delete_entry", entry_id, user="UMA")).status == 200
    assert slack.standin.wait_for("response_url")[0].params["text"] == refusal
    assert slack.interaction(press("edit_entry", entry_id, user="UMA")).status == 200
    assert slack.standin.wait_for("response_url", 2)[1].params["text"] == refusal
    assert slack.standin.of("views.open") == []
    assert [reason for _, _, reason in entries(session)] == [None]

    assert slack.interaction(press("delete_entry", entry_id, user="UDOC")).status == 200
    admin = slack.standin.wait_for("response_url", 3)[2]
    assert admin.params["text"].startswith("Deleted Maria Santos's entry 1: 15 min medication review for patient 123")
    assert [reason for _, _, reason in entries(session)] == ["corrected"]


def test_an_entry_in_a_closed_month_keeps_its_buttons_but_they_change_nothing(slack: SlackHarness, session: Session) -> None:
    october = fixture("event_message", event__text="10 min call pt 123 on 10/30", event_id="Ev0OCTOBER1")
    slack.event(october)
    entry_id = session.scalar(select(TimeEntry.id))
    close = fixture("event_message", event__text="close 2026-10", event__user="UDOC", event__channel="D0DOC", event__ts="1795791605.000100", event_id="Ev0CLOSE1", event__channel_type="im")
    slack.event(close)
    slack.standin.reset()
    assert slack.interaction(press("delete_entry", entry_id)).status == 200
    assert slack.standin.wait_for("response_url")[0].params["text"] == "Nothing was changed. October 2026 is closed for billing; an admin must reopen it first."
    assert slack.interaction(press("edit_entry", entry_id)).status == 200
    view = slack.standin.wait_for("views.open")[0].params["view"]
    closed = slack.interaction(submit(view, minutes="12"))
    assert json.loads(closed.body)["errors"] == {"date": "Nothing was changed. October 2026 is closed for billing; an admin must reopen it first."}
    assert [reason for _, _, reason in entries(session)] == [None]


def test_a_correction_said_in_a_dm_is_not_logged_as_new_time(slack: SlackHarness, session: Session) -> None:
    slack.event(fixture("event_message"))
    said = fixture("event_message", event__text="move my 15 min for pt 123 to yesterday", event__ts="1795791610.000100", event_id="Ev0MOVE1", **DM)
    slack.event(said)
    [reply] = slack.standin.wait_for("chat.postMessage")
    assert reply.params["text"].splitlines()[:3] == [
        "Corrected your entry:",
        "• was entry 1: 15 min medication review for patient 123 on Fri Nov 27",
        "• now entry 2: 15 min medication review for patient 123 on Thu Nov 26",
    ]
    assert [(m, reason) for m, _, reason in entries(session)] == [(15, "corrected"), (15, None)]


def test_the_log_form_says_when_an_entry_looks_like_a_repeat_and_keeps_undo(slack: SlackHarness, session: Session) -> None:
    assert slack.interaction(fixture("view_submission")).status == 200
    assert slack.interaction(fixture("view_submission", view__id="V0LOGMODAL2")).status == 200
    first, second = slack.standin.wait_for("chat.postMessage", 2)
    assert "repeat" not in first.params["text"]
    # The app's clock says 15:00 UTC: 10:00 in the practice's time zone (America/New_York).
    assert second.params["text"].splitlines()[1:3] == [
        "Looks like a repeat of your 10:00 entry (25 min medication review for patient 123).",
        'If it is, press Undo or say "undo" to take this message\'s time back.',
    ]
    undo = [e for b in second.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in undo] == ["undo_entries"]
    assert [m for m, _, _ in entries(session)] == [25, 25]
