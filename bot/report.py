"""Month facts from storage -> the billing engine -> report rows (JSON, CSV) and status text.

Every number shown about billing comes from bot.billing.evaluate; this module only gathers
facts and renders results.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.billing import ConsentEvent, MonthFacts, MonthResult, Minutes, Policy, evaluate
from bot.config import Settings
from bot.months import month_bounds
from storage.queries import PanelRow, bulk_objects, complex_mdm_patients, consent_history, dated_minutes, panel, patients_with_interactive_contact

REASON_WORDS = {
    "no_consent": "no consent on file",
    "consent_revoked": "consent revoked",
    "too_few_conditions": "too few qualifying chronic conditions",
    "no_care_plan": "no care plan on file",
    "no_initiating_visit": "no initiating visit in the allowed window",
    "below_threshold": "below the first threshold",
    "program_conflict": "billed under another program this month",
    "no_interactive_communication": "no interactive call logged under RPM",
}


def policy_from(settings: Settings, amounts: dict[int, dict[str, float]] | None = None) -> Policy:
    return Policy(
        pool_practitioner_minutes=settings.pool_practitioner_minutes,
        cap_99437=settings.cap_99437,
        date_of_service=settings.date_of_service,
        amounts=amounts if amounts is not None else load_amounts(settings.amounts_csv),
    )


def load_amounts(path: str | None) -> dict[int, dict[str, float]]:
    """A CSV with columns year,code,amount that overrides the built-in national amounts."""
    if not path:
        return {}
    out: dict[int, dict[str, float]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                out.setdefault(int(row["year"]), {})[row["code"].strip()] = float(row["amount"])
            except (KeyError, ValueError, TypeError):
                raise ValueError(f"{path} line {line}: expected columns year,code,amount with numbers") from None
    return out


@dataclass(frozen=True)
class PatientMonth:
    patient: PanelRow
    facts: MonthFacts
    result: MonthResult


def month_results(session: Session, month: date, policy: Policy, *, patient_keys: Iterable[str] | None = None) -> list[PatientMonth]:
    """Evaluate every active patient (or the named ones) for one month, in a fixed number of queries."""
    with bulk_objects():  # facts and results for every patient: many small objects, no cycles
        return _month_results(session, month, policy, patient_keys)


def _month_results(session: Session, month: date, policy: Policy, patient_keys: Iterable[str] | None) -> list[PatientMonth]:
    first, last = month_bounds(month)
    rows = panel(session, first, last, patient_keys=patient_keys, with_consents=False)
    ids = [r.patient_id for r in rows]
    scope = ids if patient_keys is not None else None
    history = consent_history(session, last, scope)
    for row in rows:
        # The history is oldest first, so the last row per program is the consent as of the month's end.
        row.consents = {c.program: c for c in history.get(row.patient_id, [])}
    complex_ids = complex_mdm_patients(session, first, scope)
    interactive = patients_with_interactive_contact(session, first, last, "RPM")
    # Dates matter only when consent starts inside the month or the date of service is the threshold day.
    need_days = ids if policy.date_of_service == "threshold_date" else [
        pid for pid in ids if any(first <= c.effective_date <= last for c in history.get(pid, []))
    ]
    by_day = dated_minutes(session, first, last, need_days)
    out = []
    for row in rows:
        if row.patient_id in by_day:
            minutes = tuple(Minutes(p, t, m, d) for p, t, d, m in by_day[row.patient_id])
        else:
            minutes = tuple(Minutes(p, t, m) for p, t, m in row.logged())
        facts = MonthFacts(
            month=first,
            minutes=minutes,
            consents=tuple(ConsentEvent(c.program, c.status, c.effective_date) for c in history.get(row.patient_id, [])),
            chronic_conditions=row.chronic_conditions,
            care_plan_date=row.care_plan_date,
            initiating_visit_date=row.initiating_visit_date,
            complex_mdm=row.patient_id in complex_ids,
            enrolments=row.programs,
            rpm_interactive=row.patient_id in interactive,
        )
        out.append(PatientMonth(row, facts, evaluate(facts, policy)))
    return out


def as_json(item: PatientMonth) -> dict:
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
    """One row per patient and billable code; patients with nothing billable get one row with their blockers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        r = item.result
        tracks = {t: sum(p.get(t, 0) for p in r.minutes.values()) for t in ("practitioner", "clinical_staff", "non_clinical")}
        blockers = "; ".join(f"{b.program}: {b.reason}" for b in r.blockers)
        nexts = "; ".join(f"{n.program} {n.code} in {n.minutes_needed} min" for n in r.next)
        common = [item.patient.billing_practitioner or "", tracks["practitioner"], tracks["clinical_staff"], tracks["non_clinical"], blockers, nexts, "yes" if r.amounts_are_estimates else "no"]
        month = r.month.strftime("%Y-%m")
        dos = r.date_of_service.isoformat() if r.date_of_service else ""
        if r.codes:
            for c in r.codes:
                writer.writerow([item.patient.key, month, c.program, c.code, c.units, f"{c.amount:.2f}", dos, *common])
        else:
            writer.writerow([item.patient.key, month, "", "", 0, "0.00", "", *common])
    return buffer.getvalue()


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
        lines.append(f"  Billable: {codes}, ${r.total:.2f}{estimate}, date of service {r.date_of_service.isoformat()}")
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
            + (f"{consent.status}{' (' + consent.method + ')' if consent.method else ''} on {consent.effective_date.isoformat()}" if consent else "none on file")
        )
    for b in r.hard_blockers():
        lines.append(f"  Blocked ({b.program}): {REASON_WORDS[b.reason]} - {b.detail}")
    return "\n".join(lines)
