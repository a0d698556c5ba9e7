"""Month results -> words, JSON and CSV (pure rendering; bot.evaluation makes the results)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any, TextIO

from bot.months import month_bounds
from bot.patient_month import PatientMonth
from bot.replies import REASON_WORDS
from bot.worklist import ConsentGap, Need
from storage.spreadsheet import csv_writer


def as_json(item: PatientMonth) -> dict[str, Any]:
    r = item.result
    return {
        "patient": item.patient.key,
        "month": r.month.strftime("%Y-%m"),
        "codes": [{"code": c.code, "units": c.units, "amount": c.amount} for c in r.codes],
        "minutes": {p: {t: tracks.get(t, 0) for t in ("practitioner", "clinical_staff", "non_clinical")} for p, tracks in r.minutes.items()},
        "blockers": [{"program": b.program, "reason": b.reason} for b in r.blockers],
        "date_of_service": r.date_of_service.isoformat() if r.date_of_service else None,
        "next": [{"program": n.program, "code": n.code, "minutes_needed": n.minutes_needed} for n in r.next],
        "estimate": r.amounts_are_estimates,
    }


CSV_COLUMNS = [
    "patient", "month", "program", "code", "units", "amount", "date_of_service", "billing_practitioner",
    "practitioner_minutes", "clinical_staff_minutes", "non_clinical_minutes", "blockers", "next", "amount_is_estimate",
]  # fmt: skip


def as_csv(items: Iterable[PatientMonth]) -> str:
    """The report as one string (for a Slack upload); write_csv streams it to a file instead."""
    buffer = io.StringIO()
    write_csv(items, buffer)
    return buffer.getvalue()


def write_csv(items: Iterable[PatientMonth], handle: TextIO) -> None:
    """One row per patient and billable code; patients with nothing billable get one row with
    their blockers. Rows go out as the items come in: nothing is held."""
    writer = csv_writer(handle)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerows(_csv_rows(item))


def _csv_rows(item: PatientMonth) -> list[list[Any]]:
    r = item.result
    tracks = {t: sum(p.get(t, 0) for p in r.minutes.values()) for t in ("practitioner", "clinical_staff", "non_clinical")}
    blockers = "; ".join(f"{b.program}: {b.reason}" for b in r.blockers)
    nexts = "; ".join(f"{n.program} {n.code} in {n.minutes_needed} min" for n in r.next)
    common = [
        item.patient.billing_practitioner or "",
        tracks["practitioner"],
        tracks["clinical_staff"],
        tracks["non_clinical"],
        blockers,
        nexts,
        "yes" if r.amounts_are_estimates else "no",
    ]
    month = r.month.strftime("%Y-%m")
    dos = r.date_of_service.isoformat() if r.date_of_service else ""
    if r.codes:
        return [[item.patient.key, month, c.program, c.code, c.units, f"{c.amount:.2f}", dos, *common] for c in r.codes]
    return [[item.patient.key, month, "", "", 0, "0.00", "", *common]]


@lru_cache(maxsize=32)
def _month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def write_json(items: Iterable[PatientMonth], handle: TextIO) -> None:
    """A JSON array of as_json objects, written one patient at a time."""
    handle.write("[")
    for n, item in enumerate(items):
        handle.write(("," if n else "") + "\n  " + json.dumps(as_json(item)))
    handle.write("\n]\n")


def describe(item: PatientMonth, today: date | None = None) -> str:
    """A patient-month in words a coordinator understands."""
    r = item.result
    first = r.month
    so_far = " so far" if today and month_bounds(today)[0] == first else ""
    lines = [f"Patient {item.patient.key}, {first:%B %Y}{so_far}:"]
    if not r.minutes:
        lines.append("  No time logged.")
    for program, tracks in sorted(r.minutes.items()):
        parts = [f"{tracks[t]} min {t.replace('_', ' ')}" for t in ("practitioner", "clinical_staff", "non_clinical") if tracks.get(t)]
        lines.append(f"  {program}: {', '.join(parts)} ({r.counted.get(program, 0)} countable)")
    if r.codes:
        estimate = " (estimated)" if r.amounts_are_estimates else ""
        codes = ", ".join(f"{c.code}" + (f" x{c.units}" if c.units > 1 else "") for c in r.codes)
        service = r.date_of_service.isoformat() if r.date_of_service else "not set"
        lines.append(f"  Billable: {codes}, ${r.total:.2f}{estimate}, date of service {service}")
    else:
        lines.append("  Nothing billable yet.")
    for step in r.next:
        lines.append(f"  Next: {step.minutes_needed} more min for {step.code} ({step.program})")
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
