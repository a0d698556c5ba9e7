"""Imported fee schedules reach the engine through bot.evaluation: a month is priced at the
imported amount and is no estimate for that year, while a year (or a setting) without an import
still is; CCMBOT_FEE_SCHEDULE_SETTING picks the setting and refuses anything else at load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.assistant import Assistant, Message
from bot.billing import Policy
from bot.config import ConfigError, Settings, load_settings
from bot.evaluation import month_results, policy_from
from bot.patient_month import PatientMonth
from storage.db import Database
from storage.fee_schedules import import_fee_schedule
from tests.conftest import Roster

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "PPRRVU_sample.csv"
NOVEMBER = date(2026, 11, 20)
BUILT_IN_99490_2026 = 66.13  # bot.billing.rules.AMOUNTS_2026, an estimate
IMPORTED_99490 = 62.46  # (1.00 + 0.81 + 0.06) x 33.4009 = 62.459683, from the sample file
IMPORTED_99490_FACILITY = 49.10  # (1.00 + 0.41 + 0.06) x 33.4009 = 49.099323


def imported(db: Database, year: int = 2026, setting: str = "non_facility") -> None:
    with db.transaction() as s:
        import_fee_schedule(s, SAMPLE, year=year, conversion_factor="33.4009", setting=setting)


def november(db: Database, session: Session, roster: Roster, settings: Settings | None = None) -> PatientMonth:
    """Patient 123 with 25 minutes of staff time in November 2026 (99490), as evaluated for every door."""
    roster.patient("123")
    Assistant(db, Settings(database_url=db.url)).handle(Message("UNURSE", "25 min call pt 123", today=NOVEMBER))
    policy = policy_from(settings or Settings(database_url=db.url), db=db)
    (item,) = month_results(session, NOVEMBER, policy, patient_keys=["123"])
    return item


def test_without_an_import_2026_is_the_built_in_estimate(db: Database, session: Session, roster: Roster) -> None:
    item = november(db, session, roster)
    assert [(c.code, c.amount) for c in item.result.codes] == [("99490", BUILT_IN_99490_2026)]
    assert item.result.amounts_are_estimates


def test_an_imported_year_is_priced_from_the_file_and_is_no_estimate(db: Database, session: Session, roster: Roster) -> None:
    imported(db)
    item = november(db, session, roster)
    assert [(c.code, c.amount) for c in item.result.codes] == [("99490", IMPORTED_99490)]
    assert not item.result.amounts_are_estimates


def test_an_import_for_another_year_leaves_2026_an_estimate(db: Database, session: Session, roster: Roster) -> None:
    imported(db, year=2025)
    item = november(db, session, roster)
    assert [(c.code, c.amount) for c in item.result.codes] == [("99490", BUILT_IN_99490_2026)]
    assert item.result.amounts_are_estimates


def test_the_setting_picks_which_import_pays(db: Database, session: Session, roster: Roster) -> None:
    imported(db, setting="facility")
    office = november(db, session, roster)  # the default setting is non-facility: nothing imported for it
    assert office.result.codes[0].amount == BUILT_IN_99490_2026 and office.result.amounts_are_estimates
    facility = Settings(database_url=db.url, fee_schedule_setting="facility")
    (item,) = month_results(session, NOVEMBER, policy_from(facility, db=session), patient_keys=["123"])
    assert item.result.codes[0].amount == IMPORTED_99490_FACILITY and not item.result.amounts_are_estimates


def test_imported_amounts_win_over_the_csv_which_wins_over_the_built_in(db: Database, tmp_path: Path) -> None:
    csv = tmp_path / "amounts.csv"
    csv.write_text("year,code,amount\n2026,99490,70.00\n2026,99487,150.00\n", encoding="utf-8")
    settings = Settings(database_url=db.url, amounts_csv=str(csv))
    assert policy_from(settings, db=db) == Policy(amounts={2026: {"99490": 70.0, "99487": 150.0}}, official={})
    imported(db)
    policy = policy_from(settings, db=db)
    assert policy.amounts[2026]["99490"] == IMPORTED_99490 and policy.amounts[2026]["99487"] == 150.0
    assert policy.official == {2026: frozenset({"99490", "99439", "99491", "99457", "99470"})}
    assert policy_from(settings) == Policy(amounts={2026: {"99490": 70.0, "99487": 150.0}})  # no database: no imports


@pytest.mark.parametrize(("raw", "expected"), [(None, "non_facility"), ("facility", "facility"), ("non-facility", "non_facility"), ("NON_FACILITY", "non_facility")])
def test_the_fee_schedule_setting_is_read(raw: str | None, expected: str) -> None:
    env = {} if raw is None else {"CCMBOT_FEE_SCHEDULE_SETTING": raw}
    assert load_settings(env, dotenv_path=None).fee_schedule_setting == expected


def test_an_unknown_fee_schedule_setting_is_refused_at_load() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"CCMBOT_FEE_SCHEDULE_SETTING": "hospital"}, dotenv_path=None)
    assert str(info.value) == "CCMBOT_FEE_SCHEDULE_SETTING='hospital' is not allowed; use one of: non_facility, facility"
