"""The month report as an Excel workbook a biller can open (`ccmbot report --format xlsx`).

Three sheets: Claims (one row per billable code, what goes on a claim), Patients (one row per
patient: minutes, status and blockers in words, the next threshold) and Summary (units and
money per code beside last month's, totals, and a chart of patients by status). Cells are typed:
patient keys are text (0789 keeps its zero), minutes and units are numbers, amounts are money,
dates are dates. Rows sort the way people count keys: 2, 10, 100, not 10, 100, 2.

Pure rendering: bot.evaluation makes the results, openpyxl writes the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.billing import PROGRAMS
from bot.patient_month import MonthSummary, PatientMonth, summarize
from bot.replies import REASON_WORDS

TRACKS = ("practitioner", "clinical_staff", "non_clinical")
MONEY = '"$"#,##0.00'
STATUSES = ("billable", "needs time", "blocked", "no time logged")


def natural_key(key: str) -> list[Any]:
    """"2" before "10", "pt9" before "pt10"; numbers with leading zeros by value, then as typed."""
    return [(0, int(part), part) if part.isdigit() else (1, part.lower(), part) for part in re.split(r"(\d+)", key) if part]


def status_of(item: PatientMonth) -> str:
    result = item.result
    if result.codes:
        return "billable"
    if result.hard_blockers():
        return "blocked"
    if not any(result.minutes.values()):
        return "no time logged"
    return "needs time"


def write_workbook(items: Iterable[PatientMonth], handle: IO[bytes], *, month: date, last_month: MonthSummary | None = None) -> MonthSummary:
    """Write the workbook for `month` to a binary handle; returns the month's summary."""
    rows = sorted(items, key=lambda item: natural_key(item.patient.key))
    book = Workbook()
    claims = book.active
    assert claims is not None
    claims.title = "Claims"
    _claims(claims, rows)
    _patients(book.create_sheet("Patients"), rows)
    summary = summarize(rows)
    _summary(book.create_sheet("Summary"), rows, summary, month, last_month)
    book.save(handle)
    return summary


def _header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for n, name in enumerate(names, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = max(12, len(name) + 2)


def _key_cell(sheet: Worksheet, row: int) -> None:
    sheet.cell(row=row, column=1).number_format = "@"  # text: a key is a name, not a number


def _claims(sheet: Worksheet, rows: list[PatientMonth]) -> None:
    _header(sheet, ["Patient", "Billing practitioner", "Program", "Code", "Units", "Date of service", "Amount", "Amount is"])
    for item in rows:
        result = item.result
        # RPM device codes are dated on their 30-day period's last day, the minutes' codes as the month says.
        dated = [(c, result.date_of_service) for c in result.time_codes()] + [(c, d.period.end) for d in result.devices for c in d.codes]
        for line, service in dated:
            sheet.append(
                [
                    item.patient.key,
                    item.patient.billing_practitioner or "",
                    line.program,
                    line.code,
                    line.units,
                    service,
                    line.amount,
                    "estimated" if result.amounts_are_estimates else "official",
                ]
            )
            _key_cell(sheet, sheet.max_row)
            sheet.cell(row=sheet.max_row, column=6).number_format = "yyyy-mm-dd"
            sheet.cell(row=sheet.max_row, column=7).number_format = MONEY
    total_row = sheet.max_row + 1
    sheet.cell(row=total_row, column=4, value="Total").font = Font(bold=True)
    if total_row > 2:
        sheet.cell(row=total_row, column=5, value=f"=SUM(E2:E{total_row - 1})")
        amount = sheet.cell(row=total_row, column=7, value=f"=SUM(G2:G{total_row - 1})")
    else:
        sheet.cell(row=total_row, column=5, value=0)
        amount = sheet.cell(row=total_row, column=7, value=0)
    amount.number_format = MONEY


def _patients(sheet: Worksheet, rows: list[PatientMonth]) -> None:
    minute_columns = [(p, t) for p in PROGRAMS for t in TRACKS]
    names = ["Patient", "Billing practitioner", "Status"]
    names += [f"{p} {t.replace('_', ' ')} min" for p, t in minute_columns]
    names += ["Billed", "Blockers", "Next threshold"]
    _header(sheet, names)
    for item in rows:
        result = item.result
        minutes = [result.minutes.get(p, {}).get(t, 0) for p, t in minute_columns]
        billed = ", ".join(f"{c.code}" + (f" x{c.units}" if c.units > 1 else "") for c in result.codes)
        blockers = "; ".join(f"{b.program}: {REASON_WORDS.get(b.reason, b.reason)} ({b.detail})" for b in result.hard_blockers())
        nexts = "; ".join(f"{n.program}: {n.minutes_needed} more min for {n.code}" for n in result.next)
        sheet.append([item.patient.key, item.patient.billing_practitioner or "", status_of(item), *minutes, billed, blockers, nexts])
        _key_cell(sheet, sheet.max_row)


def _summary(sheet: Worksheet, rows: list[PatientMonth], summary: MonthSummary, month: date, last: MonthSummary | None) -> None:
    sheet.append([f"Billing report for {month:%B %Y}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(["Code", "Units", "Amount", "Units last month"])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    amounts: dict[str, float] = {}
    for item in rows:
        for line in item.result.codes:
            amounts[line.code] = amounts.get(line.code, 0.0) + line.amount
    last_units = dict(last.codes) if last is not None else {}
    units = dict(summary.codes)
    for code in sorted(set(units) | set(last_units)):
        sheet.append([code, units.get(code, 0), round(amounts.get(code, 0.0), 2), last_units.get(code, 0)])
        sheet.cell(row=sheet.max_row, column=3).number_format = MONEY
    sheet.append([])
    sheet.append(["", "This month", "Last month"])
    sheet.append(["Patients", summary.patients, last.patients if last else None])
    sheet.append(["Billable patients", summary.billable, last.billable if last else None])
    sheet.append(["Total", summary.total, last.total if last else None])
    for column in (2, 3):
        sheet.cell(row=sheet.max_row, column=column).number_format = MONEY
    sheet.append(["Amounts", "estimated" if summary.estimated else "official", ("estimated" if last.estimated else "official") if last else None])
    sheet.append([])
    start = sheet.max_row + 1
    sheet.append(["Status", "Patients"])
    counts = Counter(status_of(item) for item in rows)
    for status in STATUSES:
        sheet.append([status, counts.get(status, 0)])
    chart = BarChart()
    chart.title = "Patients by status"
    chart.y_axis.title = "Patients"
    chart.add_data(Reference(sheet, min_col=2, min_row=start, max_row=start + len(STATUSES)), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=start + 1, max_row=start + len(STATUSES)))
    sheet.add_chart(chart, "F3")
    sheet.column_dimensions["A"].width = 20
    for letter in ("B", "C", "D"):
        sheet.column_dimensions[letter].width = 16
