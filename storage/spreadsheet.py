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
from pathlib import Path
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


WINDOWS_NOTE = "{name} is not UTF-8; read it as Windows-1252 (what Excel on Windows saves as plain CSV). Save it as \"CSV UTF-8\" next time to be sure of names with accents"


def read_csv_text(path: Path) -> tuple[str, str | None]:
    """A CSV file's text and, when it was not UTF-8, a note saying how it was read.

    UTF-8 with or without the byte-order mark Excel writes; otherwise Windows-1252, the encoding
    of Excel's plain "CSV" on Windows (a note says so). A file that is neither is refused with a
    line saying to save it as UTF-8. OSError (missing, unreadable) is left to the caller."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), WINDOWS_NOTE.format(name=path.name)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is neither UTF-8 nor Windows-1252 text; save it from your spreadsheet as \"CSV UTF-8\" and import it again") from None

