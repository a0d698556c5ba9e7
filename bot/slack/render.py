"""Reply and Home -> Block Kit. Text is escaped for mrkdwn; long sections are split to fit."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.billing import PROGRAMS as LOGGED_PROGRAMS
from bot.intents import CLOSE_MINUTES
from bot.replies import ACTIVITY_WORDS, Home, Reply, RunningTimer
from bot.slack.entry_buttons import entry_buttons

UNDO_ACTION = "undo_entries"
OPEN_LOG_MODAL_ACTION = "open_log_modal"
SHOW_DUE_ACTION = "show_due"
# Timers (bot/timers.py): a Stop button per running timer ("stop_timer:<id>": unique in a view),
# the Home tab's Start button and the form it opens.
STOP_TIMER_ACTION = "stop_timer"
START_TIMER_ACTION = "open_timer_modal"
START_TIMER_CALLBACK = "start_timer"
LOG_MODAL_CALLBACK = "log_time"
SECTION_LIMIT = 2900  # Slack allows 3,000 characters in a section's text
TEXT_LIMIT = 3900  # and about 4,000 in a message's fallback text


# The button that opens the log-time modal: on the Home tab and under reminders.
LOG_TIME_BUTTON: dict[str, Any] = {
    "type": "button", "action_id": OPEN_LOG_MODAL_ACTION, "style": "primary", "text": {"type": "plain_text", "text": "Log time"},
}  # fmt: skip


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    blocks, chunk = [], ""
    for line in lines:
        piece = escape(line)
        if chunk and len(chunk) + 1 + len(piece) > SECTION_LIMIT:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
            chunk = ""
        chunk = f"{chunk}\n{piece}" if chunk else piece[:SECTION_LIMIT]
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    return blocks


def blocks(reply: Reply) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rows = {line: entry_id for entry_id, line in reply.entry_rows}
    for section in reply.sections:
        if section.title:
            out.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(section.title)}*"[:SECTION_LIMIT]}})
        out += _with_entry_buttons(list(section.lines), rows) if rows else _sections(list(section.lines))
    if reply.entry_ids and reply.kind.confirms_entries:
        out.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": UNDO_ACTION,
                        "text": {"type": "plain_text", "text": "Undo"},
                        "value": ",".join(str(i) for i in reply.entry_ids),
                    }
                ],
            }
        )
    out += timer_blocks(reply.timers)
    return out


def _with_entry_buttons(lines: list[str], rows: dict[str, int]) -> list[dict[str, Any]]:
    """Lines of a listed entry each get a section of their own and Edit and Delete under it."""
    out: list[dict[str, Any]] = []
    plain: list[str] = []
    for line in lines:
        if line not in rows:
            plain.append(line)
            continue
        out += _sections(plain)
        plain = []
        out += [{"type": "section", "text": {"type": "mrkdwn", "text": escape(line)[:SECTION_LIMIT]}}, entry_buttons(rows[line], escape(line))]
    return out + _sections(plain)


def stop_button(timer: RunningTimer, label: str = "Stop") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": f"{STOP_TIMER_ACTION}:{timer.id}",
        "style": "danger",
        "text": {"type": "plain_text", "text": label},
        "value": str(timer.id),
    }


def _running_since(timer: RunningTimer) -> str:
    """ "started 10:02 AM, 14 minutes ago": Slack shows it in the reader's clock and keeps it current."""
    stamp = int(timer.started_at.timestamp())
    return f"<!date^{stamp}^started {{time}}, {{ago}}|started {timer.started_at:%Y-%m-%d %H:%M} UTC>"


def timer_blocks(timers: tuple[RunningTimer, ...]) -> list[dict[str, Any]]:
    """Under a reply that names running timers: how long each has run, and its Stop button."""
    if not timers:
        return []
    many = len(timers) > 1
    lines = [{"type": "mrkdwn", "text": f"Timer for patient {escape(t.patient)}: {_running_since(t)}"} for t in timers]
    buttons = [stop_button(t, f"Stop {t.patient}"[:75] if many else "Stop") for t in timers]
    return [{"type": "context", "elements": lines[:10]}, {"type": "actions", "elements": buttons[:25]}]


def timer_modal() -> dict[str, Any]:
    """The Home tab's start form: the patient and, optionally, the activity ("other" when not picked)."""
    activities = [{"text": {"type": "plain_text", "text": words}, "value": key} for key, words in ACTIVITY_WORDS.items()]
    return {
        "type": "modal",
        "callback_id": START_TIMER_CALLBACK,
        "title": {"type": "plain_text", "text": "Start a timer"},
        "submit": {"type": "plain_text", "text": "Start"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "patient",
                "label": {"type": "plain_text", "text": "Patient"},
                "element": {"type": "plain_text_input", "action_id": "value", "placeholder": {"type": "plain_text", "text": "Patient key, e.g. 123"}},
            },
            {
                "type": "input",
                "block_id": "activity",
                "optional": True,
                "label": {"type": "plain_text", "text": "Activity (default: other care management)"},
                "element": {"type": "static_select", "action_id": "value", "options": activities},
            },
        ],
    }


def _home_timers(home: Home) -> list[dict[str, Any]]:
    """The Home tab's timers: each running one with its Stop button, and a Start button."""
    out: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Your running timers*"}}]
    for timer, line in zip(home.timers, home.timer_lines, strict=True):
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(line)}, "accessory": stop_button(timer)})
    start = {"type": "button", "action_id": START_TIMER_ACTION, "text": {"type": "plain_text", "text": "Start a timer"}}
    words = "None running." if not home.timers else "Another patient?"
    out.append({"type": "section", "text": {"type": "mrkdwn", "text": f'{words} Start one here or say "start pt 123 call".'}, "accessory": start})
    return out


def text(reply: Reply) -> str:
    """The notification and fallback text."""
    return reply.text[:TEXT_LIMIT]


def undo_ids(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip().isdigit()]


# The value of the log form's "real-time call or visit" checkbox.
INTERACTIVE_OPTION = "interactive"


def log_modal(prefill: dict[str, Any], metadata: dict[str, str], today: date) -> dict[str, Any]:
    """The log-time modal; `prefill` holds patient, minutes, activity, date, program when a message parsed."""

    def text_input(block_id: str, label: str, value: str | None, *, placeholder: str, multiline: bool = False, optional: bool = False) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": multiline,
            "placeholder": {"type": "plain_text", "text": placeholder},
        }
        if value:
            element["initial_value"] = str(value)
        return {"type": "input", "block_id": block_id, "optional": optional, "label": {"type": "plain_text", "text": label}, "element": element}

    def option(value: str, label: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": label}, "value": value}

    activities = [option(key, words) for key, words in ACTIVITY_WORDS.items()]
    activity: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": activities}
    chosen = prefill.get("activity")
    if chosen in ACTIVITY_WORDS:
        activity["initial_option"] = option(chosen, ACTIVITY_WORDS[chosen])
    programs = [option(p, p) for p in LOGGED_PROGRAMS]
    program: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": programs}
    if prefill.get("program") in LOGGED_PROGRAMS:
        program["initial_option"] = option(prefill["program"], prefill["program"])
    live = option(INTERACTIVE_OPTION, "A real-time call or visit with the patient or a caregiver (not a voicemail or a text)")
    contact: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [live]}
    if prefill.get("interactive") is True:
        contact["initial_options"] = [live]
    return {
        "type": "modal",
        "callback_id": LOG_MODAL_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": "Log CCM time"},
        "submit": {"type": "plain_text", "text": "Log"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            text_input("patient", "Patient", prefill.get("patient"), placeholder="Patient key, e.g. 123"),
            text_input("minutes", "Minutes", prefill.get("minutes"), placeholder="Whole minutes, e.g. 15"),
            {"type": "input", "block_id": "activity", "label": {"type": "plain_text", "text": "Activity"}, "element": activity},
            {
                "type": "input",
                "block_id": "date",
                "label": {"type": "plain_text", "text": "Date of the work"},
                "element": {"type": "datepicker", "action_id": "value", "initial_date": (prefill.get("date") or today).isoformat()},
            },
            {"type": "input", "block_id": "program", "optional": True, "label": {"type": "plain_text", "text": "Program (default: the patient's)"}, "element": program},
            # RPM's 99457 needs one such contact a month; the parser ticks it when the message said a call.
            {"type": "input", "block_id": "contact", "optional": True, "label": {"type": "plain_text", "text": "Contact"}, "element": contact},
            text_input("note", "Note", None, placeholder="Optional, no patient names", multiline=True, optional=True),
        ],
    }


def modal_values(view: dict[str, Any]) -> dict[str, str]:
    """The submitted modal's fields as strings."""
    out = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        field = actions.get("value", {})
        if field.get("type") == "static_select":
            out[block_id] = (field.get("selected_option") or {}).get("value", "")
        elif field.get("type") == "datepicker":
            out[block_id] = field.get("selected_date") or ""
        elif field.get("type") == "checkboxes":
            out[block_id] = ",".join(o.get("value", "") for o in field.get("selected_options") or [])
        else:
            out[block_id] = field.get("value") or ""
    return out


def home_view(home: Home | Reply) -> dict[str, Any]:
    if isinstance(home, Reply):
        return {"type": "home", "blocks": blocks(home)}
    short = list(home.short) + ([f"…and {home.short_more} more."] if home.short_more else [])
    today = list(home.today) or ["Nothing logged yet today."]
    body: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"ccmbot for {home.name}"}},
        {
            "type": "actions",
            "elements": [
                LOG_TIME_BUTTON,
                {"type": "button", "action_id": SHOW_DUE_ACTION, "text": {"type": "plain_text", "text": "Who needs time"}},
            ],
        },
        *_home_timers(home),
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Your patients still short of a threshold in {escape(home.month)}*"}},
        *_sections(short or ["None: every patient you work with is at a threshold, or not yet billable for another reason."]),
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Logged today: {home.today_minutes} min*"}},
        *_sections(today),
        {"type": "divider"},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Active patients*\n{home.patients}"},
                {"type": "mrkdwn", "text": f"*With consent*\n{home.consented}"},
                {"type": "mrkdwn", "text": f"*Short of a code this month*\n{home.short_total}"},
                {"type": "mrkdwn", "text": f"*Within {CLOSE_MINUTES} min of a code*\n{home.close}"},
            ],
        },
    ]
    return {"type": "home", "blocks": body[:100]}
