"""The evaluation service: a month's facts gathered from storage, handed to the billing engine.

The one gatherer: every door, reminder and report that needs a patient's month calls
month_results here, so every number shown about billing comes from bot.billing.evaluate on the
same facts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date

from sqlalchemy.orm import Session

from bot.billing import CONDITIONS_NEEDED, ConsentEvent, Minutes, MonthFacts, Policy, evaluate, first_code_minutes
from bot.config import Settings
from bot.months import month_bounds
from bot.patient_month import PatientMonth
from storage.candidates import possibly_blocked, short_of_first_code
from storage.queries import (
    PatientScope,
    active_patient_ids,
    bulk_objects,
    complex_mdm_patients,
    consent_changed_in,
    consent_history,
    dated_minutes,
    fixed_scope,
    ids_scope,
    keys_scope,
    panel,
    patients_with_interactive_contact,
)


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


def short_candidates(month: date, policy: Policy) -> PatientScope:
    """The patients that may bill nothing yet in a program: the needs-time lists' candidates."""
    first, last = month_bounds(month)
    always = policy.pool_practitioner_minutes == "always"
    return short_of_first_code(first, last, first_code_minutes(first.year), practitioner_always_counts=always)


def blocked_candidates(month: date, policy: Policy) -> PatientScope:
    """The patients that may be blocked by something other than minutes."""
    first, last = month_bounds(month)
    return possibly_blocked(first, last, CONDITIONS_NEEDED)


def month_results(
    session: Session,
    month: date,
    policy: Policy,
    *,
    patient_keys: Iterable[str] | None = None,
    scope: PatientScope = None,
    as_of: date | None = None,
) -> list[PatientMonth]:
    """Evaluate every active patient, the named ones or those of a scope (a SELECT of patient
    ids, such as the candidates of a question) for one month, in a fixed number of queries.
    Every query is limited to the scope, so one patient's answer reads only that patient's rows."""
    if patient_keys is not None:
        scope = keys_scope(patient_keys)
    scope = fixed_scope(session, scope)  # six reads follow: pick the patients once
    with bulk_objects():  # facts and results for every patient: many small objects, no cycles
        return _month_results(session, month, policy, scope, as_of)


REPORT_CHUNK = 2_000  # patients evaluated at a time when a report streams the whole practice


def stream_month_results(session: Session, month: date, policy: Policy, *, chunk: int = REPORT_CHUNK) -> Iterator[PatientMonth]:
    """Every active patient's month, in key order, a chunk of patients at a time: the report's
    memory stays that of one chunk whatever the size of the practice."""
    keys = active_patient_ids(session)
    for start in range(0, len(keys), chunk):
        yield from month_results(session, month, policy, scope=ids_scope(session, keys[start : start + chunk]))


def _month_results(session: Session, month: date, policy: Policy, scope: PatientScope, as_of: date | None) -> list[PatientMonth]:
    first, last = month_bounds(month)
    # as_of: the month as it stood on that day (its minutes up to then), for "by this day last month".
    until = min(last, as_of) if as_of is not None else last
    rows = panel(session, first, last, scope=scope, with_consents=False)
    if not rows:
        return []
    history = consent_history(session, last, scope)
    for row in rows:
        # The history is oldest first, so the last row per program is the consent as of the month's end.
        row.consents = {c.program: c for c in history.get(row.patient_id, [])}
    complex_ids = complex_mdm_patients(session, first, scope)
    interactive = patients_with_interactive_contact(session, first, until, "RPM", scope)
    # Minutes by day matter only when consent starts inside the month (they are gated by its
    # date), when the date of service is the threshold day, or for the month as it stood on a day.
    every_day = policy.date_of_service == "threshold_date" or as_of is not None
    by_day = dated_minutes(session, first, until, scope) if every_day else dated_minutes(session, first, until, scope, consent_changed_in(first, last))
    out = []
    for row in rows:
        if row.patient_id in by_day or every_day:
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
