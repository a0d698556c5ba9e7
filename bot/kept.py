"""Kept results: the billing engine's answer per patient-month, kept in the database so that the
questions about a whole practice (who reached a code, what the practice bills, who is blocked)
are SQL over one row per patient instead of an evaluation of every patient.

The engine still decides every answer: a kept row is the engine's result for the patient's data
at one version, under one policy and one version of the engine's code. Database triggers bump a
patient's version with every change the engine reads (migration 0009), and `refresh` evaluates,
in the asker's unit of work, exactly the patients whose row is missing or stale. So after a
day's changes a question re-evaluates the patients that changed, not the practice; after a fee
schedule import or an upgrade that changes the engine, the first question re-evaluates everyone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from sqlalchemy.orm import Session

from bot.billing import Policy
from bot.evaluation import month_results, with_time_candidates
from bot.months import month_bounds
from bot.patient_month import MonthSummary, PatientMonth
from bot.report import csv_text, write_csv_header
from storage.kept_results import KeptRow, NewKept, ReportRow, active_count, forget_other_days, has_other_days, keep, report_rows, stale_patients
from storage.months import complex_marks
from storage.queries import PatientScope, ids_scope
from storage.records import ComplexMark

if TYPE_CHECKING:
    from storage.db import Database

CHUNK = 5_000  # patients evaluated at once on a cold refresh: bounded memory at any size

# The code whose change can change a kept row: the engine, the facts it is given and how they are
# read, and the report's words. Their source is part of every kept row's basis, so an upgrade
# recomputes what it must.
_ENGINE_SOURCES = (
    "bot/billing", "bot/evaluation.py", "bot/months.py", "storage/queries.py", "storage/records.py", "storage/rpm.py",
    # and how a kept report row is written
    "bot/report.py", "bot/replies.py", "storage/months.py", "storage/spreadsheet.py",
)  # fmt: skip


@cache
def _engine_fingerprint() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in _ENGINE_SOURCES:
        path = root / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    return value


def basis(policy: Policy) -> str:
    """The policy and engine a kept row was made under, in 16 hex digits."""
    fields = {f.name: _plain(getattr(policy, f.name)) for f in dataclasses.fields(policy)}
    text = json.dumps({"policy": fields, "engine": _engine_fingerprint()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def kept_of(item: PatientMonth, version: int, mark: ComplexMark | None = None, *, with_report: bool = True) -> NewKept:
    """The row kept for one evaluated patient-month (with its report rows unless the month is
    kept through an earlier day, which no report reads)."""
    result = item.result
    codes = ";".join(f"{c.program} {c.code} {c.units}" for c in result.codes)
    blockers = "\n".join(
        f"{b.program}\t{b.reason}\t{sum(result.minutes.get(b.program, {}).values())}\t{_one_line(b.detail)}" for b in result.hard_blockers()
    )
    billable = bool(result.codes)
    report = csv_text(item, mark) if with_report else ""
    total = result.total if billable else 0.0
    return NewKept(item.patient.patient_id, version, billable, total, billable and result.amounts_are_estimates, codes, blockers, report)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def refresh(session: Session, month: date, policy: Policy, *, through: date | None = None, scope: PatientScope = None, limit: int | None = None) -> int:
    """Evaluate and keep the month's result (counting minutes up to `through`, by default the
    whole month) of every active patient of the scope whose kept row is missing or stale (the
    first `limit` of them, when given). Returns how many were evaluated. Writes in the caller's
    unit of work, all at the end: on SQLite the write lock is held for the writing only, not
    while the engine works, so entries logged meanwhile do not wait on it."""
    first, last = month_bounds(month)
    through = min(through or last, last)
    if through != last and has_other_days(session, first, (last, through)):
        forget_other_days(session, first, (last, through))
    key = basis(policy)
    stale = stale_patients(session, first, through, key, scope)[:limit]
    whole = through == last
    rows: list[NewKept] = []
    for start in range(0, len(stale), CHUNK):
        versions = dict(stale[start : start + CHUNK])
        items = month_results(session, first, policy, scope=ids_scope(session, list(versions)), as_of=None if whole else through)
        marks = complex_marks(session, first, list(versions)) if whole else {}
        rows += [kept_of(i, versions[i.patient.patient_id], marks.get(i.patient.patient_id), with_report=whole) for i in items]
    keep(session, first, through, key, rows)
    return len(stale)


# A report reads the kept rows when at most this share of the practice (or this many patients)
# must be evaluated first; otherwise it streams the evaluation as it always did, because keeping
# every row on the way would make a cold report slower than not keeping any.
REPORT_STALE_SHARE = 0.2
REPORT_STALE_FEW = 2_000


def kept_report(session: Session, month: date, policy: Policy, handle: TextIO) -> MonthSummary | None:
    """Write the month's CSV report from the kept rows, refreshing the few stale ones first, and
    return its summary; or write nothing and return None when most of the practice is stale
    (the caller then streams the evaluation: bot.report.write_csv over stream_month_results,
    which writes the same bytes)."""
    first, last = month_bounds(month)
    key = basis(policy)
    stale = len(stale_patients(session, first, last, key))
    if stale > max(REPORT_STALE_FEW, REPORT_STALE_SHARE * active_count(session)):
        return None
    refresh(session, first, policy)
    write_csv_header(handle)

    def written() -> Iterator[ReportRow]:
        for row in report_rows(session, first, last, key):
            handle.write(row.report)
            yield row

    return summary_of(written())


# --- reading kept rows -------------------------------------------------------------------------


def code_units(row: KeptRow, code: str, program: str | None = None) -> int:
    """Units of one code in a kept row (0 when not billed), of one program or any."""
    units = 0
    for part in row.codes.split(";") if row.codes else ():
        p, c, u = part.split(" ")
        if c == code and program in (None, p):
            units += int(u)
    return units


@dataclasses.dataclass(frozen=True)
class KeptBlocker:
    program: str
    reason: str
    logged: int  # minutes logged in the program this month
    detail: str


def blockers_of(row: KeptRow) -> list[KeptBlocker]:
    out = []
    for line in row.blockers.split("\n") if row.blockers else ():
        program, reason, logged, detail = line.split("\t", 3)
        out.append(KeptBlocker(program, reason, int(logged), detail))
    return out


class _Summed(Protocol):
    """A kept row as the summary reads it (KeptRow, ReportRow)."""

    @property
    def billable(self) -> bool: ...
    @property
    def total(self) -> float: ...
    @property
    def estimated(self) -> bool: ...
    @property
    def codes(self) -> str: ...


def summary_of(rows: Iterable[_Summed]) -> MonthSummary:
    """The month summary (the same as bot.patient_month.summarize over the engine's results)."""
    patients = billable = 0
    total = 0.0
    estimated = False
    units: Counter[str] = Counter()
    for row in rows:
        patients += 1
        if row.billable:
            billable += 1
            total += row.total
            estimated = estimated or row.estimated
            for part in row.codes.split(";"):
                _, code, count = part.split(" ")
                units[code] += int(count)
    return MonthSummary(patients, billable, round(total, 2), estimated, tuple(sorted(units.items())))


def warm(db: Database, policy: Policy, today: date) -> int:
    """Bring up to date, ahead of the first asker, the rows the questions and the report read:
    this month, last month whole (its report) and last month as it stood on the same day (the
    comparison "what will we bill" adds, whose day moves every morning). A transaction per
    CHUNK patients, so a cold start never holds SQLite's write lock for long. Returns how many
    patients were evaluated."""
    first = today.replace(day=1)
    previous = month_bounds(first - timedelta(days=1))[0]
    same_day = previous.replace(day=min(today.day, month_bounds(previous)[1].day))
    targets: list[tuple[date, date | None, PatientScope]] = [
        (first, None, None),
        (previous, None, None),
        (previous, same_day, with_time_candidates(previous, policy)),
    ]
    done = 0
    for month, through, scope in targets:
        while True:
            with db.transaction() as s:
                count = refresh(s, month, policy, through=through, scope=scope, limit=CHUNK)
            done += count
            if count < CHUNK:
                break
    return done
