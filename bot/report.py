"""Month results -> words, JSON and CSV (pure rendering; bot.evaluation makes the results)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, TextIO

from bot.billing import CodeLine, DeviceLine
from bot.devices import DeviceStatus, device_line_words, status_line
from bot.months import month_bounds
from bot.patient_month import PatientMonth
from bot.replies import REASON_WORDS, amounts_words, complex_words
from bot.worklist import ConsentGap, Need
from storage.records import ComplexMark
from storage.spreadsheet import csv_writer

# The month's complex marks by patient id (storage.months.complex_marks): the reason and who marked
# it, beside the results (whether the month is complex is in the facts the engine billed on).
Marks = Mapping[int, ComplexMark]


def as_json(item: PatientMonth, mark: ComplexMark | None = None) -> dict[str, Any]:
    r = item.result
    return {
        "patient": item.patient.key,
        "month": r.month.strftime("%Y-%m"),
        "billing_practitioner": item.patient.billing_practitioner,
        "codes": [{"code": c.code, "units": c.units, "amount": c.amount} for c in r.time_codes()]
        + [{"code": c.code, "units": c.units, "amount": c.amount, **_period_json(line)} for line in r.devices for c in line.codes],
        "minutes": {p: {t: tracks.get(t, 0) for t in ("practitioner", "clinical_staff", "non_clinical")} for p, tracks in r.minutes.items()},
        "blockers": [{"program": b.program, "reason": b.reason} for b in r.blockers],
        "date_of_service": r.date_of_service.isoformat() if r.date_of_service else None,
        "next": [{"program": n.program, "code": n.code, "minutes_needed": n.minutes_needed} for n in r.next],
        "estimate": r.amounts_are_estimates,
        "complex_mdm": item.facts.complex_mdm,
        "complex_reason": mark.reason if mark else None,
        "complex_marked_by": mark.marked_by if mark else None,
    } | ({"device_periods": [_device_json(line) for line in r.devices]} if r.devices else {})


def _period_json(line: DeviceLine) -> dict[str, Any]:
    """An RPM device period's dates and data days: its codes' date of service is its last day."""
    p = line.period
    return {"period_start": p.start.isoformat(), "period_end": p.end.isoformat(), "data_days": p.data_days, "date_of_service": p.end.isoformat()}


def _device_json(line: DeviceLine) -> dict[str, Any]:
    return {
        **_period_json(line),
        "codes": [c.code for c in line.codes],
        "setup": line.period.includes_setup,
        "blocker": None if line.blocker is None else {"reason": line.blocker.reason, "detail": line.blocker.detail},
    }


CSV_COLUMNS = [
    "patient", "month", "program", "code", "units", "amount", "date_of_service", "billing_practitioner",
    "practitioner_minutes", "clinical_staff_minutes", "non_clinical_minutes", "blockers", "next", "amount_is_estimate",
    "complex_mdm", "complex_reason", "complex_marked_by", "period_start", "period_end", "data_days",
]  # fmt: skip


def as_csv(items: Iterable[PatientMonth], marks: Marks | None = None) -> str:
    """The report as one string (for a Slack upload); write_csv streams it to a file instead."""
    buffer = io.StringIO()
    write_csv(items, buffer, marks)
    return buffer.getvalue()


def write_csv(items: Iterable[PatientMonth], handle: TextIO, marks: Marks | None = None) -> None:
    """One row per patient and billable code; patients with nothing billable get one row with
    their blockers. Rows go out as the items come in: nothing is held."""
    writer = csv_writer(handle)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerows(_csv_rows(item, (marks or {}).get(item.patient.patient_id)))


def csv_text(item: PatientMonth, mark: ComplexMark | None = None) -> str:
    """One patient's rows of the CSV report, as write_csv writes them (for bot.kept to keep)."""
    buffer = io.StringIO()
    csv_writer(buffer).writerows(_csv_rows(item, mark))
    return buffer.getvalue()


def write_csv_header(handle: TextIO) -> None:
    csv_writer(handle).writerow(CSV_COLUMNS)


def _csv_rows(item: PatientMonth, mark: ComplexMark | None = None) -> list[list[Any]]:
    r = item.result
    tracks = {t: sum(p.get(t, 0) for p in r.minutes.values()) for t in ("practitioner", "clinical_staff", "non_clinical")}
    # In words for the biller, each with its code name for filters: "CCM: no consent on file [no_consent]".
    blockers = "; ".join(f"{b.program}: {REASON_WORDS.get(b.reason, b.reason)} [{b.reason}]" for b in r.blockers)
    nexts = "; ".join(f"{n.program} {n.code} in {n.minutes_needed} min" for n in r.next)
    common = [
        item.patient.billing_practitioner or "",
        tracks["practitioner"],
        tracks["clinical_staff"],
        tracks["non_clinical"],
        blockers,
        nexts,
        "yes" if r.amounts_are_estimates else "no",
        "yes" if item.facts.complex_mdm else "no",
        mark.reason if mark else "",
        (mark.marked_by or "") if mark else "",
    ]
    month = r.month.strftime("%Y-%m")
    dos = r.date_of_service.isoformat() if r.date_of_service else ""
    if r.codes:
        rows = [[item.patient.key, month, c.program, c.code, c.units, f"{c.amount:.2f}", dos, *common, "", "", ""] for c in r.time_codes()]
        # RPM device codes: dated on their 30-day period's last day, with the period and its data days.
        return rows + [_device_row(item, month, c, line, common) for line in r.devices for c in line.codes]
    return [[item.patient.key, month, "", "", 0, "0.00", "", *common, "", "", ""]]


def _device_row(item: PatientMonth, month: str, c: CodeLine, line: DeviceLine, common: list[Any]) -> list[Any]:
    p = line.period
    return [item.patient.key, month, c.program, c.code, c.units, f"{c.amount:.2f}", p.end.isoformat(), *common, p.start.isoformat(), p.end.isoformat(), p.data_days]


@lru_cache(maxsize=32)
def _month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def write_json(items: Iterable[PatientMonth], handle: TextIO, marks: Marks | None = None) -> None:
    """A JSON array of as_json objects, written one patient at a time."""
    handle.write("[")
    for n, item in enumerate(items):
        handle.write(("," if n else "") + "\n  " + json.dumps(as_json(item, (marks or {}).get(item.patient.patient_id))))
    handle.write("\n]\n")


def describe(item: PatientMonth, today: date | None = None, mark: ComplexMark | None = None, device: DeviceStatus | None = None) -> str:
    """A patient-month in words a coordinator understands; `mark` says why and by whom a month
    marked complex is (whether it is, the engine's facts say); `device`, the current RPM device
    period and what its remaining days can still reach (for this month's status)."""
    r = item.result
    first = r.month
    so_far = " so far" if today and month_bounds(today)[0] == first else ""
    lines = [f"Patient {item.patient.key}, {first:%B %Y}{so_far}:"]
    lines.append(f"  Billing practitioner: {item.patient.billing_practitioner or 'none on file'}")
    if item.facts.complex_mdm:
        lines.append(f"  {complex_words(mark)}")
    elif "CCM" in item.patient.programs or "CCM" in r.minutes:
        lines.append("  Complex CCM: not marked (the standard 99490/99491 ladders)")
    if not r.minutes:
        lines.append("  No time logged.")
    for program, tracks in sorted(r.minutes.items()):
        parts = [f"{tracks[t]} min {t.replace('_', ' ')}" for t in ("practitioner", "clinical_staff", "non_clinical") if tracks.get(t)]
        lines.append(f"  {program}: {', '.join(parts)} ({r.counted.get(program, 0)} countable)")
    if r.codes:
        codes = ", ".join(f"{c.code}" + (f" x{c.units}" if c.units > 1 else "") for c in r.codes)
        service = r.date_of_service.isoformat() if r.date_of_service else ", ".join(line.period.end.isoformat() for line in r.devices if line.codes) or "not set"
        lines.append(f"  Billable: {codes}, ${r.total:.2f} {amounts_words(r.amounts_are_estimates)}, date of service {service}")
    else:
        lines.append("  Nothing billable yet.")
    for step in r.next:
        lines.append(f"  Next: {step.minutes_needed} more min for {step.code} ({step.program})")
    for device_line in r.devices:
        lines.append(f"  {device_line_words(device_line, today)}")
    if device is not None and today is not None:
        lines.append(f"  {status_line(device, today)}")
    for program in sorted({p for p in item.patient.programs} | set(r.minutes)):
        consent = item.patient.consents.get(program)
        if program == "APCM":
            continue
        lines.append(
            f"  {program} consent: "
            + (
                f"{consent.status}{' (' + consent.method + ')' if consent.method else ''} on {consent.effective_date.isoformat()}"
                if consent
                else "none on file"
            )
        )
    for b in r.hard_blockers():
        lines.append(f"  Blocked ({b.program}): {REASON_WORDS[b.reason]} - {b.detail}")
    return "\n".join(lines)


def needs_csv(needs: Iterable[Need]) -> str:
    """Every patient short of a first code, closest first: the full list behind a digest."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["patient", "program", "next_code", "minutes_needed", "minutes_counted", "billing_practitioner", "at_stake_estimated"])
    for n in needs:
        p = n.item.patient
        writer.writerow([p.key, n.step.program, n.step.code, n.minutes_needed, n.step.minutes_counted, p.billing_practitioner or "", f"{n.at_stake:.2f}"])
    return buffer.getvalue()


def gaps_csv(gaps: Iterable[ConsentGap]) -> str:
    """Every patient with time but no consent on file for the program."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["patient", "program", "minutes", "consent"])
    for g in gaps:
        writer.writerow([g.key, g.program, g.minutes, "revoked" if g.revoked else "none on file"])
    return buffer.getvalue()
