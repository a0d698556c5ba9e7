"""Settings from the environment (and a .env file), validated once at start.

An invalid value stops the program with one line naming the variable and what
is allowed, so a misconfigured deployment fails loudly instead of billing wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

# The demo practice (bot.demo): here so the CLI can name it in --help without loading the demo.
DEMO_DATABASE_URL = "sqlite:///ccmbot-demo.db"
DEMO_SPEAKER = "Maria Santos"  # the demo chats as the practice's care coordinator

DEFAULT_DATABASE_URL = "sqlite:///ccmbot.db"


class ConfigError(ValueError):
    """A setting has a value the program cannot use."""


# Each reminder kind and the setting that holds its local time (CCMBOT_ + the name in capitals).
REMINDER_TIMES = {
    "digest": "digest_time",
    "nudges": "nudge_time",
    "final_call": "final_call_time",
    "consent_gaps": "consent_gaps_time",
    "summary": "summary_time",
    "timers": "timers_time",  # a DM for each timer still running at the end of its day (bot/timers.py)
}
REMINDER_KINDS = tuple(REMINDER_TIMES)

# Which imported fee schedule pays (storage.fee_schedules): office (non-facility) or facility prices.
FEE_SCHEDULE_SETTINGS = ("non_facility", "facility")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    practice_tz: str = "America/New_York"
    max_minutes_per_entry: int = 240
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_app_id: str | None = None  # when set, requests for any other app are refused
    # Billing policy (cms-rules.md §11 and §14).
    pool_practitioner_minutes: str = "always"  # or "below_threshold" (conservative reading of U4)
    cap_99437: int = 1
    date_of_service: str = "month_end"  # or "threshold_date"
    amounts_csv: str | None = None
    # Which imported fee schedule pays (`ccmbot amounts import --setting`): an office or a facility.
    fee_schedule_setting: str = "non_facility"  # or "facility"
    holidays: tuple[date, ...] = field(default_factory=tuple)
    # Channels where time may be logged (empty: every channel the bot is in); DMs always may.
    slack_channels: tuple[str, ...] = field(default_factory=tuple)
    # Reminders (bot/reminders.py). Times are local to the practice.
    reminder_channel: str | None = None  # the coordinators' channel; no channel, no channel reminders
    reminders: tuple[str, ...] = REMINDER_KINDS
    digest_time: time = time(9, 0)
    digest_from_day: int = 15
    nudge_time: time = time(10, 0)
    nudge_within: int = 10
    final_call_time: time = time(12, 0)
    final_call_within: int = 20
    consent_gaps_weekday: int = 0  # Monday
    consent_gaps_time: time = time(9, 0)
    summary_time: time = time(9, 0)
    timers_time: time = time(17, 0)  # the end of a timer's day: a timer still running gets one DM

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.practice_tz)

    def reminder_time(self, kind: str) -> time:
        """The local time a reminder kind goes out on the days it is due."""
        value: time = getattr(self, REMINDER_TIMES[kind])
        return value


def _int(name: str, raw: str, lo: int, hi: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; allowed: {lo}..{hi}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is out of range; allowed: {lo}..{hi}")
    return value


def _choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    if raw not in allowed:
        raise ConfigError(f"{name}={raw!r} is not allowed; use one of: {', '.join(allowed)}")
    return raw


def _dates(name: str, raw: str) -> tuple[date, ...]:
    out = []
    for part in filter(None, (p.strip() for p in raw.replace(";", ",").split(","))):
        try:
            out.append(date.fromisoformat(part))
        except ValueError:
            raise ConfigError(f"{name} has {part!r}, not a date; list dates as YYYY-MM-DD separated by commas") from None
    return tuple(out)


def load_settings(env: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env") -> Settings:
    """Read settings; the process environment wins over the .env file."""
    merged: dict[str, str] = {}
    if dotenv_path and Path(dotenv_path).is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(os.environ if env is None else env)

    def get(name: str) -> str | None:
        value = merged.get(name)
        return value.strip() if value is not None and value.strip() != "" else None

    kwargs: dict[str, object] = {}
    if (url := get("CCMBOT_DATABASE_URL")) is not None:
        if "://" not in url:
            raise ConfigError(f"CCMBOT_DATABASE_URL={url!r} is not a database URL; allowed: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
        kwargs["database_url"] = url
    if (tz := get("CCMBOT_PRACTICE_TZ")) is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"CCMBOT_PRACTICE_TZ={tz!r} is not a time zone; use an IANA name such as America/New_York") from None
        kwargs["practice_tz"] = tz
    if (raw := get("CCMBOT_MAX_MINUTES_PER_ENTRY")) is not None:
        kwargs["max_minutes_per_entry"] = _int("CCMBOT_MAX_MINUTES_PER_ENTRY", raw, 1, 1440)
    for env_name, attr in (
        ("SLACK_BOT_TOKEN", "slack_bot_token"),
        ("SLACK_APP_TOKEN", "slack_app_token"),
        ("SLACK_SIGNING_SECRET", "slack_signing_secret"),
        ("CCMBOT_SLACK_API_URL", "slack_api_url"),
        ("CCMBOT_SLACK_APP_ID", "slack_app_id"),
        ("CCMBOT_AMOUNTS_CSV", "amounts_csv"),
    ):
        if (value := get(env_name)) is not None:
            if env_name in TOKEN_HELP:
                _check_credential(env_name, value)
            kwargs[attr] = value
    if kwargs.get("amounts_csv") and not os.access(str(kwargs["amounts_csv"]), os.R_OK):
        # Checked at start: found missing later, it would stop every status, chat and report.
        raise ConfigError(f"CCMBOT_AMOUNTS_CSV={kwargs['amounts_csv']!r} is not a file that can be read; fix the path or unset it")
    if (raw := get("CCMBOT_POOL_PRACTITIONER_MINUTES")) is not None:
        kwargs["pool_practitioner_minutes"] = _choice("CCMBOT_POOL_PRACTITIONER_MINUTES", raw, ("below_threshold", "always"))
    if (raw := get("CCMBOT_CAP_99437")) is not None:
        kwargs["cap_99437"] = _int("CCMBOT_CAP_99437", raw, 0, 10)
    if (raw := get("CCMBOT_DATE_OF_SERVICE")) is not None:
        kwargs["date_of_service"] = _choice("CCMBOT_DATE_OF_SERVICE", raw, ("month_end", "threshold_date"))
    if (raw := get("CCMBOT_FEE_SCHEDULE_SETTING")) is not None:
        setting = raw.lower().replace("-", "_")  # non-facility, as `ccmbot amounts import --setting` spells it, is fine too
        kwargs["fee_schedule_setting"] = _choice("CCMBOT_FEE_SCHEDULE_SETTING", setting if setting in FEE_SCHEDULE_SETTINGS else raw, FEE_SCHEDULE_SETTINGS)
    if (raw := get("CCMBOT_HOLIDAYS")) is not None:
        kwargs["holidays"] = _dates("CCMBOT_HOLIDAYS", raw)
    _reminder_settings(get, kwargs)
    if (raw := get("CCMBOT_SLACK_CHANNELS")) is not None:
        kwargs["slack_channels"] = _channel_ids("CCMBOT_SLACK_CHANNELS", raw)
    if (url := get("CCMBOT_SLACK_API_URL")) is not None and not re.match(r"^https?://", url):
        raise ConfigError(f"CCMBOT_SLACK_API_URL={url!r} is not an http(s) URL; e.g. https://slack.com/api/")
    return Settings(**kwargs)  # type: ignore[arg-type]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_clock(raw: str) -> time:
    """ "09:00" -> 09:00; raises ValueError with a sentence for a person."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw)
    if not match:
        raise ValueError(f"{raw!r} is not a time of day; write it as HH:MM, e.g. 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def _clock(name: str, raw: str) -> time:
    try:
        return parse_clock(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={exc}") from None


def _reminder_settings(get: Any, kwargs: dict[str, object]) -> None:
    if (raw := get("CCMBOT_REMINDER_CHANNEL")) is not None:
        kwargs["reminder_channel"] = _channel_ids("CCMBOT_REMINDER_CHANNEL", raw)[0]
    if (raw := get("CCMBOT_REMINDERS")) is not None:
        kinds = tuple(k.strip() for k in raw.split(",") if k.strip())
        unknown = [k for k in kinds if k not in REMINDER_KINDS and k != "none"]
        if unknown:
            raise ConfigError(f"CCMBOT_REMINDERS has {unknown[0]!r}; list any of {', '.join(REMINDER_KINDS)}, or none")
        kwargs["reminders"] = tuple(k for k in kinds if k != "none")
    for attr in REMINDER_TIMES.values():
        env_name = f"CCMBOT_{attr.upper()}"
        if (raw := get(env_name)) is not None:
            kwargs[attr] = _clock(env_name, raw)
    if (raw := get("CCMBOT_DIGEST_FROM_DAY")) is not None:
        kwargs["digest_from_day"] = _int("CCMBOT_DIGEST_FROM_DAY", raw, 1, 28)
    if (raw := get("CCMBOT_NUDGE_WITHIN")) is not None:
        kwargs["nudge_within"] = _int("CCMBOT_NUDGE_WITHIN", raw, 1, 60)
    if (raw := get("CCMBOT_FINAL_CALL_WITHIN")) is not None:
        kwargs["final_call_within"] = _int("CCMBOT_FINAL_CALL_WITHIN", raw, 1, 60)
    if (raw := get("CCMBOT_CONSENT_GAPS_DAY")) is not None:
        if raw.lower()[:3] not in WEEKDAYS:
            raise ConfigError(f"CCMBOT_CONSENT_GAPS_DAY={raw!r} is not a weekday; use mon, tue, wed, thu, fri, sat or sun")
        kwargs["consent_gaps_weekday"] = WEEKDAYS.index(raw.lower()[:3])


def _channel_ids(name: str, raw: str) -> tuple[str, ...]:
    ids = tuple(filter(None, (p.strip() for p in raw.replace(";", ",").split(","))))
    for channel in ids:
        if not re.fullmatch(r"[CG][A-Z0-9]{6,}", channel):
            raise ConfigError(f"{name} has {channel!r}, not a channel id; list ids like C0123ABCD separated by commas")
    return ids


# Where each Slack credential is found, for the one line printed when it is missing or malformed.
TOKEN_HELP = {
    "SLACK_BOT_TOKEN": ("xoxb-", "the Bot User OAuth Token on your app's OAuth & Permissions page (api.slack.com/apps)"),
    "SLACK_APP_TOKEN": ("xapp-", "an App-Level Token with connections:write on your app's Basic Information page"),
    "SLACK_SIGNING_SECRET": ("", "the Signing Secret on your app's Basic Information page"),
}


# A Slack credential is printable ASCII without spaces (require_slack checks each one's form).
CREDENTIAL_CHARACTERS = r"[\x21-\x7e]+"


def _check_credential(name: str, value: str) -> None:
    """Refuse at start a credential with characters Slack's never have (a line break pasted
    with it would otherwise travel into an HTTP header and a traceback). The message names the
    variable and where to copy it from, never the value, whole or in part."""
    if value and not re.fullmatch(CREDENTIAL_CHARACTERS, value):
        raise ConfigError(f"{name} holds characters a Slack credential never has (a space or a line break); copy it again: it is {TOKEN_HELP[name][1]}")


def require_slack(settings: Settings, mode: str) -> None:
    """Stop start-up with one line when a credential the mode needs is missing or malformed.

    mode: "socket" (bot and app tokens) or "http" (bot token and signing secret).
    """
    names = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") if mode == "socket" else ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    values = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_APP_TOKEN": settings.slack_app_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
    }
    for name in names:
        prefix, where = TOKEN_HELP[name]
        value = values[name]
        if not value:
            raise ConfigError(f"{name} is not set; it is {where}")
        if prefix and not value.startswith(prefix):
            raise ConfigError(f"{name} does not start with {prefix!r}; it should be {where}")
        if name == "SLACK_SIGNING_SECRET" and not re.fullmatch(r"[0-9a-f]{16,}", value):
            raise ConfigError(f"{name} is not a hex string; it should be {where}")
