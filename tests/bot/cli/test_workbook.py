"""`ccmbot report --format xlsx`: the biller's workbook, opened with openpyxl and checked against
the JSON report of the same month on the demo practice."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from bot.workbook import natural_key
from tests.bot.cli.conftest import Ccmbot


def test_the_workbook_has_typed_cells_natural_order_and_the_json_reports_totals(ccmbot: Ccmbot, workdir: Path) -> None:
    assert ccmbot("chat", "--demo", input="status 0789\n").exit_code == 0  # seeds ccmbot-demo.db here
    env = {"CCMBOT_DATABASE_URL": f"sqlite:///{workdir / 'ccmbot-demo.db'}"}
    r = ccmbot("report", "--month", "2026-11", "--format", "json", env=env)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert ccmbot("report", "--month", "2026-11", "--format", "xlsx", "--out", "month.xlsx", env=env).exit_code == 0
    assert (workdir / "month.xlsx").stat().st_mode & 0o077 == 0  # PHI: owner only

    book = load_workbook(workdir / "month.xlsx")
    assert book.sheetnames == ["Claims", "Patients", "Summary"]
    claims = list(book["Claims"].iter_rows(min_row=2, values_only=True))
    lines = [row for row in claims if row[0] is not None]
    expected = [(p["patient"], c["code"], c["units"], c["amount"]) for p in report for c in p["codes"]]
    assert sorted((row[0], row[3], row[4], row[6]) for row in lines) == sorted(expected)
    for row in lines:
        key, practitioner, program, code, units, service, amount, kind = row
        assert isinstance(key, str) and isinstance(units, int) and isinstance(amount, float)
        assert isinstance(service.date(), date) and kind in ("estimated", "official")
    total = claims[-1]
    assert total[3] == "Total" and str(total[6]).startswith("=SUM(G2:G")
    assert round(sum(row[6] for row in lines), 2) == round(sum(c["amount"] for p in report for c in p["codes"]), 2)

    patients = list(book["Patients"].iter_rows(min_row=2, values_only=True))
    keys = [row[0] for row in patients]
    assert "0789" in keys  # the leading zero kept: keys are text
    assert keys == sorted(keys, key=natural_key) and len(keys) == len(report)
    assert keys.index("123") < keys.index("456") < keys.index("2001")  # not the text order "123" < "2001" < "456"
    statuses = {row[0]: row[2] for row in patients}
    for p in report:
        assert (statuses[p["patient"]] == "billable") is bool(p["codes"])

    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Total"][0] == round(sum(c["amount"] for p in report for c in p["codes"]), 2)
    assert summary["Patients"][0] == len(report)
    assert summary["Billable patients"][0] == sum(1 for p in report if p["codes"])
    assert len(book["Summary"]._charts) == 1


def test_natural_order_of_keys() -> None:
    assert sorted(["10", "2", "0789", "pt10", "pt9", "100"], key=natural_key) == ["2", "10", "100", "0789", "pt9", "pt10"]
