from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def test_defaults():
    s = load_settings({}, dotenv_path=None)
    assert (s.database_url, s.practice_tz, s.max_minutes_per_entry) == ("sqlite:///ccmbot.db", "America/New_York", 240)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"CCMBOT_PRACTICE_TZ": "Mars/Olympus"}, "CCMBOT_PRACTICE_TZ"),
        ({"CCMBOT_MAX_MINUTES_PER_ENTRY": "lots"}, "CCMBOT_MAX_MINUTES_PER_ENTRY='lots' is not a whole number"),
        ({"CCMBOT_MAX_MINUTES_PER_ENTRY": "0"}, "allowed: 1..1440"),
        ({"CCMBOT_DATABASE_URL": "ccmbot.db"}, "CCMBOT_DATABASE_URL"),
        ({"CCMBOT_DATE_OF_SERVICE": "whenever"}, "month_end, threshold_date"),
        ({"CCMBOT_HOLIDAYS": "2026-12-25,Xmas"}, "CCMBOT_HOLIDAYS"),
    ],
)
def test_invalid_values_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")) as info:
        load_settings(env, dotenv_path=None)
    assert "\n" not in str(info.value)


def test_dotenv_file_is_read_and_environment_wins(tmp_path):
    f = tmp_path / ".env"
    f.write_text("CCMBOT_PRACTICE_TZ=America/Chicago\nCCMBOT_MAX_MINUTES_PER_ENTRY=120\n")
    s = load_settings({"CCMBOT_MAX_MINUTES_PER_ENTRY": "90"}, dotenv_path=f)
    assert (s.practice_tz, s.max_minutes_per_entry) == ("America/Chicago", 90)


def test_each_reminder_time_is_read_from_its_variable():
    env = {
        "CCMBOT_DIGEST_TIME": "08:15",
        "CCMBOT_NUDGE_TIME": "10:30",
        "CCMBOT_FINAL_CALL_TIME": "13:00",
        "CCMBOT_CONSENT_GAPS_TIME": "7:45",
        "CCMBOT_SUMMARY_TIME": "16:05",
    }
    s = load_settings(env, dotenv_path=None)
    kinds = ("digest", "nudges", "final_call", "consent_gaps", "summary")
    assert [s.reminder_time(kind).strftime("%H:%M") for kind in kinds] == ["08:15", "10:30", "13:00", "07:45", "16:05"]
    with pytest.raises(ConfigError, match=r"^CCMBOT_NUDGE_TIME='25:00' is not a time of day; write it as HH:MM, e\.g\. 09:00$"):
        load_settings({"CCMBOT_NUDGE_TIME": "25:00"}, dotenv_path=None)
