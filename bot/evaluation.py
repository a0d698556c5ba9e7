"""The evaluation service: a month's facts gathered from storage, handed to the billing engine.

The one gatherer: every door, reminder and report that needs a patient's month calls
month_results here, so every number shown about billing comes from bot.billing.evaluate on the
same facts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from bot.billing import ConsentEvent, Minutes, MonthFacts, Policy, evaluate
from bot.config import Settings
from bot.months import month_bounds
from bot.patient_month import PatientMonth
from storage.queries import bulk_objects, complex_mdm_patients, consent_history, dated_minutes, panel, patients_with_interactive_contact


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


def month_results(
    session: Session, month: date, policy: Policy, *, patient_keys: Iterable[str] | None = None, as_of: date | None = None
) -> list[PatientMonth]:
    """Evaluate every active patient (or the named ones) for one month, in a fixed number of queries."""
    with bulk_objects():  # facts and results for every patient: many small objects, no cycles
        return _month_results(session, month, policy, patient_keys, as_of)


def _month_results(session: Session, month: date, policy: Policy, patient_keys: Iterable[str] | None, as_of: date | None) -> list[PatientMonth]:
    first, last = month_bounds(month)
    # as_of: the month as it stood on that day (its minutes up to then), for "by this day last month".
    until = min(last, as_of) if as_of is not None else last
    rows = panel(session, first, last, patient_keys=patient_keys, with_consents=False)
    ids = [r.patient_id for r in rows]
    scope = ids if patient_keys is not None else None
    history = consent_history(session, last, scope)
    for row in rows:
        # The history is oldest first, so the last row per program is the consent as of the month's end.
        row.consents = {c.program: c for c in history.get(row.patient_id, [])}
    complex_ids = complex_mdm_patients(session, first, scope)
    interactive = patients_with_interactive_contact(session, first, until, "RPM")
    # Dates matter only when consent starts inside the month or the date of service is the threshold day.
    need_days = ids if policy.date_of_service == "threshold_date" or as_of is not None else [
        pid for pid in ids if any(first <= c.effective_date <= last for c in history.get(pid, []))
    ]
    by_day = dated_minutes(session, first, until, need_days)
    out = []
    for row in rows:
        if row.patient_id in by_day or as_of is not None:
            minutes = tuple(Minutes(p, t, m, d) for p, t, d, m in by_day.get(row.patient_id, ()))
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
