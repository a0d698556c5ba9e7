"""`ccmbot amounts import` and `ccmbot amounts list` as a user runs them, and the report and
status priced from what was imported (in-process with CliRunner, a fresh working directory)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli

SAMPLE = str(Path(__file__).resolve().parents[2] / "data" / "PPRRVU_sample.csv")


class Ccmbot(Protocol):
    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result: ...


@pytest.fixture
def ccmbot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ccmbot:
    for name in list(os.environ):
        if name.startswith(("CCMBOT_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env, prog_name="ccmbot", catch_exceptions=False)

    return run


@pytest.fixture
def practice(ccmbot: Ccmbot) -> Ccmbot:
    """An admin physician, a nurse, and patient 123 with 25 minutes of staff time in November 2026."""
    for args in (
        ("staff", "add", "Dr. Amara Okafor", "--role", "physician", "--admin"),
        ("staff", "add", "Maria Santos", "--role", "rn"),
        ("patients", "add", "123", "--practitioner", "Dr. Amara Okafor", "--conditions", "2", "--care-plan", "2026-01-10", "--initiating-visit", "2026-01-02"),
        ("consent", "record", "123", "--method", "verbal", "--date", "2026-01-10"),
        ("log", "--as", "Maria Santos", "--today", "2026-11-20", "25 min call pt 123"),
    ):
        result = ccmbot(*args)
        assert result.exit_code == 0, result.output
    return ccmbot


def test_import_list_and_the_report_use_the_imported_amounts(practice: Ccmbot) -> None:
    before = json.loads(practice("report", "--month", "2026-11", "--format", "json").stdout)
    assert before[0]["codes"] == [{"code": "99490", "units": 1, "amount": 66.13}] and before[0]["estimate"] is True

    done = practice("amounts", "import", SAMPLE, "--year", "2026", "--conversion-factor", "33.4009", "--as", "Dr. Amara Okafor")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[0] == "imported PPRRVU_sample.csv: 5 2026 non-facility amounts (national, conversion factor 33.4009)"
    assert "  99490     62.46" in done.stdout.splitlines()
    assert "note: not in the file, so still the built-in amount: 99437, 99487" in done.stderr
    # The kept results priced with the old amounts are re-evaluated at once: this month and last
    # month whole, one patient each (whatever today is: the new amounts change every row's basis).
    assert "kept billing results: 2 patient-months re-evaluated" in done.stderr

    listed = practice("amounts", "list").stdout.splitlines()
    assert listed[0].startswith("2026 non-facility (in use): conversion factor 33.4009, national; from PPRRVU_sample.csv, imported 20")
    assert listed[0].endswith(" by Dr. Amara Okafor") and listed[1:] == [
        "  99490     62.46", "  99439     47.43", "  99491     84.84", "  99457     49.43", "  99470     25.05",
    ]  # fmt: skip

    assert "99490,1,62.46" in practice("report", "--month", "2026-11").stdout  # the CSV, kept or streamed
    after = json.loads(practice("report", "--month", "2026-11", "--format", "json").stdout)
    assert after[0]["codes"] == [{"code": "99490", "units": 1, "amount": 62.46}] and after[0]["estimate"] is False
    status = practice("status", "123", "--month", "2026-11").stdout
    assert "Billable: 99490, $62.46" in status and "estimate" not in status


def test_a_facility_import_with_a_gpci_is_listed_as_not_in_use(practice: Ccmbot) -> None:
    done = practice("amounts", "import", SAMPLE, "--year", "2026", "--conversion-factor", "33.4009", "--setting", "facility", "--gpci", "1.017,1.134,0.581")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[0] == "imported PPRRVU_sample.csv: 5 2026 facility amounts (GPCI 1.017,1.134,0.581, conversion factor 33.4009)"
    assert "note: CCMBOT_FEE_SCHEDULE_SETTING is non_facility, so these facility amounts are not used" in done.stderr
    assert practice("amounts", "list", "--year", "2026").stdout.startswith("2026 facility (not used: CCMBOT_FEE_SCHEDULE_SETTING is non_facility): ")
    # Switched to facility, the report pays 99490 at (1.00x1.017 + 0.41x1.134 + 0.06x0.581) x 33.4009 = 1.51680 x 33.4009 = 50.66
    report = json.loads(practice("report", "--month", "2026-11", "--format", "json", env={"CCMBOT_FEE_SCHEDULE_SETTING": "facility"}).stdout)
    assert report[0]["codes"][0]["amount"] == 50.66 and report[0]["estimate"] is False


def test_a_non_admin_or_a_stranger_is_refused_and_nothing_is_stored(practice: Ccmbot) -> None:
    nurse = practice("amounts", "import", SAMPLE, "--year", "2026", "--conversion-factor", "33.4009", "--as", "Maria Santos")
    assert nurse.exit_code == 2 and nurse.stderr == "error: Only an admin can import a fee schedule; ask Dr. Amara Okafor.\n"
    stranger = practice("amounts", "import", SAMPLE, "--year", "2026", "--conversion-factor", "33.4009", "--as", "Nobody")
    assert stranger.exit_code == 2 and "No staff member 'Nobody' on the roster" in stranger.stderr
    assert practice("amounts", "list").stdout.startswith("No fee schedule is stored: the built-in national amounts are used")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "1999", "--conversion-factor", "33.4009"), "error: the year must be a service year from 2020 to 2100"),
        (("--year", "2026", "--conversion-factor", "0"), "error: the conversion factor must be a positive number of dollars per RVU"),
        (("--year", "2026", "--conversion-factor", "33.4009", "--gpci", "1,1"), "error: the GPCI must be three positive numbers"),
    ],
)
def test_bad_options_exit_2_with_one_line(practice: Ccmbot, args: tuple[str, ...], message: str) -> None:
    result = practice("amounts", "import", SAMPLE, *args)
    assert result.exit_code == 2 and result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert practice("amounts", "list", "--year", "2026").stdout.startswith("No fee schedule is stored for 2026")


def test_a_file_that_is_not_the_rvu_file_is_refused(ccmbot: Ccmbot, tmp_path: Path) -> None:
    (tmp_path / "staff.csv").write_text("name,role\nMaria,rn\n", encoding="utf-8")
    result = ccmbot("amounts", "import", "staff.csv", "--year", "2026", "--conversion-factor", "33.4009")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: staff.csv: no header row with HCPCS, MOD and the RVU columns") and result.stderr.count("\n") == 1
