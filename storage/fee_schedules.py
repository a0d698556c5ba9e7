"""Official payment amounts from CMS's Physician Fee Schedule relative value file (PPRRVU).

CMS publishes the file as "PFS Relative Value Files" on cms.gov, one zip per year and quarter;
the CSV inside (PPRRVU…csv) opens with a few title lines, then a header whose column names may
be split over two rows ("WORK" above "RVU"). The header is found by its names, never by a line
number, and only the global line of a code (no modifier) counts.

One unit of a code pays (work x GPCI work + PE x GPCI PE + MP x GPCI MP) x conversion factor,
rounded to the cent, where PE is the non-facility or the facility practice-expense RVU. The
national amount is the one with every GPCI at 1. The conversion factor is given by the person
importing, because the file's own CONV FACTOR column is not always filled.

An import replaces the year's rows of its setting; it checks everything first, so a refusal
(one line: what was wrong and how to say it right) writes nothing. Like every storage write it
only adds and flushes: the caller's transaction commits.
"""

from __future__ import annotations

import contextlib
import csv
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.audit import audit
from storage.errors import InvalidValue, NotAllowed
from storage.models import FeeScheduleAmount, Staff
from storage.roster import admins, require_active_staff

# The codes ccmbot bills, and a few it may bill one day (RPM device codes, 99445): the rest of
# the file's ten thousand codes are not kept.
BILLED_CODES = (
    "99490", "99439", "99491", "99437", "99487", "99489", "99424", "99425", "99426", "99427",
    "99457", "99458", "99470", "99484",
)  # fmt: skip
KEPT_CODES = frozenset(BILLED_CODES + ("99453", "99454", "99445"))

SETTINGS = ("non_facility", "facility")
FIRST_YEAR, LAST_YEAR = 2020, 2100
CMS_FILE = "the PPRRVU….csv from CMS's PFS Relative Value Files zip (not the .txt or .xlsx beside it)"

# Header names, as the joined column name reads with anything but letters and digits left out.
HCPCS, MOD, WORK, PE_NON_FACILITY, PE_FACILITY, MP, CONV = "HCPCS", "MOD", "WORKRVU", "NONFACPERVU", "FACILITYPERVU", "MPRVU", "CONVFACTOR"
COLUMN_WORDS = {HCPCS: "HCPCS", MOD: "MOD", WORK: "WORK RVU", PE_NON_FACILITY: "NON-FAC PE RVU", PE_FACILITY: "FACILITY PE RVU", MP: "MP RVU"}
PE_COLUMN = {"non_facility": PE_NON_FACILITY, "facility": PE_FACILITY}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Gpci:
    """A locality's geographic practice cost indices; all 1 is the national amount."""

    work: Decimal
    pe: Decimal
    mp: Decimal

    @property
    def is_national(self) -> bool:
        return self.work == self.pe == self.mp == 1

    def __str__(self) -> str:
        return f"{self.work},{self.pe},{self.mp}"


NATIONAL = Gpci(Decimal(1), Decimal(1), Decimal(1))


@dataclass(frozen=True)
class RelativeValues:
    work: Decimal
    pe: Decimal  # of the setting read
    mp: Decimal


@dataclass(frozen=True)
class RvuFile:
    """What a PPRRVU file holds for our codes."""

    name: str
    rvus: dict[str, RelativeValues]
    conversion_factor: Decimal | None  # the file's CONV FACTOR column, when it is filled
    year: int | None  # the year its title line names, when it names one


@dataclass(frozen=True)
class FeeScheduleImport:
    year: int
    setting: str
    conversion_factor: Decimal
    gpci: Gpci
    source: str
    amounts: dict[str, float]  # code -> one unit's amount, codes in BILLED_CODES order first
    replaced: int  # rows of the same year and setting the import replaced
    notes: tuple[str, ...]  # things worth a look that did not stop the import


@dataclass(frozen=True)
class StoredSchedule:
    """One year's imported amounts of one setting, as `ccmbot amounts list` shows them."""

    year: int
    setting: str
    conversion_factor: float
    gpci: str | None
    source: str
    imported_at: datetime
    imported_by: str | None
    amounts: dict[str, float]


# --- reading the file ----------------------------------------------------------------------


def _key(text: str) -> str:
    """A column name as compared: capitals and digits only, NON-FACILITY read as NON-FAC."""
    return re.sub(r"[^A-Z0-9]", "", text.upper()).replace("NONFACILITY", "NONFAC")


def _refused(name: str, what: str) -> InvalidValue:
    return InvalidValue(f"{name}: {what}; nothing was imported.")


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}; nothing was imported.") from None
    if raw.startswith(b"PK\x03\x04"):
        raise _refused(path.name, f"this is a zip archive (or a spreadsheet), not a CSV; unzip it and import {CMS_FILE}")
    if b"\x00" in raw[:65536]:
        raise _refused(path.name, f"this is not a CSV text file; import {CMS_FILE}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # CMS's files are Windows text


def _is_fragment(row: list[str], hcpcs: int) -> bool:
    """A row of a split header: short words, no numbers, nothing in the HCPCS column."""
    cells = [c.strip() for c in row]
    if hcpcs < len(cells) and cells[hcpcs]:
        return False
    return all(len(c) <= 30 and not re.fullmatch(r"-?\d*\.?\d+", c) for c in cells)


def _names(name: str, wanted: str) -> bool:
    """Whether a joined column name is the wanted one: it ends with it ("TRANSITIONED NON-FAC PE
    RVU" is NON-FAC PE RVU), and NON-FAC PE RVU is never FACILITY PE RVU."""
    return name.endswith(wanted) and not (wanted == PE_FACILITY and name.endswith(PE_NON_FACILITY))


def _header(rows: list[list[str]], name: str) -> tuple[int, dict[str, int]]:
    """(the last header row's index, each needed column's position), the names joined over the
    rows of a split header."""
    found = next(((i, j) for i, row in enumerate(rows[:200]) for j, cell in enumerate(row) if _key(cell) == HCPCS), None)
    if found is None:
        raise _refused(name, f"no header row with HCPCS, MOD and the RVU columns (WORK RVU, NON-FAC PE RVU, FACILITY PE RVU, MP RVU); import {CMS_FILE}")
    at, hcpcs = found
    top = at
    while top > max(0, at - 4) and _is_fragment(rows[top - 1], hcpcs):
        top -= 1
    bottom = at
    while bottom + 1 < len(rows) and bottom - top < 5 and _is_fragment(rows[bottom + 1], hcpcs) and any(c.strip() for c in rows[bottom + 1]):
        bottom += 1
    width = max(len(r) for r in rows[top : bottom + 1])
    names = [_key(" ".join(r[j] for r in rows[top : bottom + 1] if j < len(r))) for j in range(width)]
    columns: dict[str, int] = {}
    for wanted in (HCPCS, MOD, WORK, PE_NON_FACILITY, PE_FACILITY, MP, CONV):
        position = next((j for j, n in enumerate(names) if _names(n, wanted)), None)
        if position is None and wanted != CONV:
            raise _refused(name, f"the header row has no {COLUMN_WORDS[wanted]} column; import {CMS_FILE}")
        if position is not None:
            columns[wanted] = position
    return bottom, columns


def _number(row: list[str], column: int, what: str, code: str, name: str, line: int) -> Decimal:
    cell = row[column].strip() if column < len(row) else ""
    try:
        value = Decimal(cell)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise _refused(name, f"line {line}, code {code}: {what} is not a number of RVUs (0 or more); import the file as CMS publishes it")
    return value


def read_rvu_file(path: Path, setting: str = "non_facility") -> RvuFile:
    """Our codes' global lines from a PPRRVU CSV, with the PE RVU of the setting. Raises
    InvalidValue with one line (naming at most a column and a code) for anything else."""
    name = path.name
    try:
        rows = list(csv.reader(_text(path).splitlines()))
    except csv.Error:
        raise _refused(name, f"this is not a CSV file; import {CMS_FILE}") from None
    last_header, columns = _header(rows, name)
    pe_column = columns[PE_COLUMN[setting]]
    rvus: dict[str, RelativeValues] = {}
    factors: set[Decimal] = set()
    for index in range(last_header + 1, len(rows)):
        row, line = rows[index], index + 1
        code = row[columns[HCPCS]].strip().upper() if columns[HCPCS] < len(row) else ""
        modifier = row[columns[MOD]].strip() if columns[MOD] < len(row) else ""
        if code not in KEPT_CODES or modifier:
            continue  # another code, or a modifier's line (26, TC, 53…): only the global line counts
        if code in rvus:
            raise _refused(name, f"line {line}: code {code} appears twice without a modifier; import the file as CMS publishes it")
        rvus[code] = RelativeValues(
            work=_number(row, columns[WORK], "WORK RVU", code, name, line),
            pe=_number(row, pe_column, COLUMN_WORDS[PE_COLUMN[setting]], code, name, line),
            mp=_number(row, columns[MP], "MP RVU", code, name, line),
        )
        if CONV in columns and columns[CONV] < len(row):
            with contextlib.suppress(InvalidOperation):
                factors.add(Decimal(row[columns[CONV]].strip()))
    if not rvus:
        raise _refused(name, f"none of the codes ccmbot bills ({', '.join(BILLED_CODES[:3])}…) has a line without a modifier; import {CMS_FILE}")
    factor = next(iter(factors)) if len(factors) == 1 and next(iter(factors)) > 0 else None
    title = " ".join(" ".join(r) for r in rows[: last_header + 1])
    year = re.search(r"\b(20\d\d)\b[^,]{0,40}?(?:National\s+)?Physician Fee Schedule", title, re.I)
    return RvuFile(name, rvus, factor, int(year.group(1)) if year else None)


# --- what the person importing gives -------------------------------------------------------


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidValue(f"the year must be a service year from {FIRST_YEAR} to {LAST_YEAR}, written YYYY (e.g. 2026); nothing was imported.")
    return year


def parse_conversion_factor(raw: str | float | Decimal) -> Decimal:
    try:
        value = Decimal(str(raw).strip().lstrip("$"))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise InvalidValue("the conversion factor must be a positive number of dollars per RVU, as in the year's final rule (e.g. 33.4009); nothing was imported.")
    return value


def parse_gpci(raw: str | None) -> Gpci:
    """"1.0,1.0,1.0" -> the three indices (work, PE, MP); None -> national."""
    if raw is None:
        return NATIONAL
    parts = [p.strip() for p in raw.split(",")]
    values: list[Decimal] = []
    for part in parts:
        try:
            values.append(Decimal(part))
        except InvalidOperation:
            break
    if len(parts) != 3 or len(values) != 3 or not all(v.is_finite() and v > 0 for v in values):
        raise InvalidValue(
            "the GPCI must be three positive numbers, work,pe,mp, from CMS's GPCI file for your locality (e.g. 1.0,1.0,1.0 for national); nothing was imported."
        )
    return Gpci(*values)


def parse_setting(raw: str) -> str:
    setting = raw.strip().lower().replace("-", "_")
    if setting not in SETTINGS:
        raise InvalidValue("the setting must be non-facility (an office) or facility (a hospital or facility setting); nothing was imported.")
    return setting


def unit_amount(rvu: RelativeValues, conversion_factor: Decimal, gpci: Gpci = NATIONAL) -> float:
    """One unit's payment, rounded to the cent the way CMS does (half up)."""
    total = (rvu.work * gpci.work + rvu.pe * gpci.pe + rvu.mp * gpci.mp) * conversion_factor
    return float(total.quantize(CENT, rounding=ROUND_HALF_UP))


def _order(code: str) -> tuple[int, str]:
    return (BILLED_CODES.index(code) if code in BILLED_CODES else len(BILLED_CODES), code)


# --- the import ----------------------------------------------------------------------------


def require_importer(session: Session, by: Staff | None) -> None:
    """Only an admin imports a fee schedule (None is the operator at the shell)."""
    if by is None:
        return
    require_active_staff(by)
    if not by.is_admin:
        who = ", ".join(m.name for m in admins(session)[:3]) or "a practice admin"
        raise NotAllowed(f"Only an admin can import a fee schedule; ask {who}.")


def import_fee_schedule(
    session: Session,
    path: Path,
    *,
    year: int,
    conversion_factor: str | float | Decimal,
    setting: str = "non_facility",
    gpci: str | None = None,
    by: Staff | None = None,
) -> FeeScheduleImport:
    """Replace a year's amounts of one setting with those computed from a PPRRVU file, audited.

    Everything is checked before anything is written: who imports (an admin, or the shell),
    the year, the conversion factor, the GPCI, the setting and the file."""
    require_importer(session, by)
    check_year(year)
    factor = parse_conversion_factor(conversion_factor)
    indices = parse_gpci(gpci)
    setting = parse_setting(setting)
    rvu_file = read_rvu_file(path, setting)
    amounts = {code: unit_amount(rvu, factor, indices) for code, rvu in sorted(rvu_file.rvus.items(), key=lambda item: _order(item[0]))}

    notes = []
    missing = [code for code in BILLED_CODES if code not in amounts]
    if missing:
        notes.append(f"not in the file, so still the built-in amount: {', '.join(missing)}")
    if rvu_file.year is not None and rvu_file.year != year:
        notes.append(f"the file's title names {rvu_file.year}, and it was imported as {year}")
    if rvu_file.conversion_factor is not None and rvu_file.conversion_factor != factor:
        notes.append(f"the file's CONV FACTOR column reads {rvu_file.conversion_factor}, and {factor} was used")

    where = (FeeScheduleAmount.year == year, FeeScheduleAmount.setting == setting)
    old = list(session.scalars(select(FeeScheduleAmount).where(*where)))
    before = _snapshot(old[0], {r.code: r.amount for r in old}) if old else None
    session.execute(delete(FeeScheduleAmount).where(*where))
    stored_gpci = None if indices.is_national else str(indices)
    for code, amount in amounts.items():
        session.add(
            FeeScheduleAmount(
                year=year,
                code=code,
                amount=amount,
                setting=setting,
                conversion_factor=float(factor),
                gpci=stored_gpci,
                source=rvu_file.name[:200],
                imported_by_id=by.id if by is not None else None,
            )
        )
    session.flush()
    after = {"source": rvu_file.name[:200], "conversion_factor": float(factor), "gpci": stored_gpci, "amounts": amounts}
    audit(session, by, "fee_schedule.import", "fee_schedule", f"{year}/{setting}", before, after)
    session.flush()
    return FeeScheduleImport(year, setting, factor, indices, rvu_file.name, amounts, len(old), tuple(notes))


def _snapshot(row: FeeScheduleAmount, amounts: dict[str, float]) -> dict[str, object]:
    return {"source": row.source, "conversion_factor": row.conversion_factor, "gpci": row.gpci, "amounts": amounts}


# --- reading what is stored ----------------------------------------------------------------


def official_amounts(session: Session, setting: str) -> dict[int, dict[str, float]]:
    """Per year, the imported amount of each code, for one setting: one query."""
    out: dict[int, dict[str, float]] = {}
    query = select(FeeScheduleAmount.year, FeeScheduleAmount.code, FeeScheduleAmount.amount).where(FeeScheduleAmount.setting == setting)
    for year, code, amount in session.execute(query):
        out.setdefault(year, {})[code] = amount
    return out


def stored_schedules(session: Session, year: int | None = None) -> list[StoredSchedule]:
    """What `ccmbot amounts import` stored, by year and setting."""
    query = (
        select(FeeScheduleAmount, Staff.name)
        .outerjoin(Staff, Staff.id == FeeScheduleAmount.imported_by_id)
        .order_by(FeeScheduleAmount.year, FeeScheduleAmount.setting, FeeScheduleAmount.code)
    )
    if year is not None:
        query = query.where(FeeScheduleAmount.year == year)
    groups: dict[tuple[int, str], StoredSchedule] = {}
    for row, who in session.execute(query):
        group = groups.get((row.year, row.setting))
        if group is None:
            group = StoredSchedule(row.year, row.setting, row.conversion_factor, row.gpci, row.source, row.imported_at, who, {})
            groups[(row.year, row.setting)] = group
        group.amounts[row.code] = row.amount
    for group in groups.values():
        ordered = sorted(group.amounts.items(), key=lambda item: _order(item[0]))
        group.amounts.clear()
        group.amounts.update(ordered)
    return list(groups.values())

