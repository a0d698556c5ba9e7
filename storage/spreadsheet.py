"""CSV that a spreadsheet opens as data: the one writer every export uses.

A cell that begins with =, +, -, @, a tab or a carriage return is read by Excel, LibreOffice and
Google Sheets as a formula, so a patient key or a staff name like `=HYPERLINK(...)` would run
when a biller opens the report. As OWASP recommends for CSV injection, such a text cell is
written with a leading apostrophe, which spreadsheets show as text and do not evaluate; numbers
are written as they are. Pure (no database): the report, the reminders' lists and the audit
export all write through csv_writer.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """The cell as a spreadsheet will show it as text: a leading apostrophe before a formula start."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class SafeWriter:
    """csv.writer's writerow and writerows, every text cell neutralised first."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: TextIO) -> SafeWriter:
    return SafeWriter(handle)
