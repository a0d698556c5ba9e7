"""Candidates: the patients a list question could name, picked in SQL from the month totals and
the roster, so the billing engine evaluates a few thousand patients instead of the whole panel.

Each SELECT here is a superset: it may keep a patient the engine then leaves off the list, never
drop one the engine would put on it. The numbers (thresholds, conditions needed) come from the
billing rules through the caller; the engine still decides every answer.
tests/bot/test_candidates.py holds the superset property against the engine on random practices.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, text
from sqlalchemy.orm import aliased

from storage.models import LIVE_RPM_CALL, TOTAL_COLUMNS, Consent, MonthTotal, Patient, TimeEntry
from storage.records import PROGRAMS

COUNTED = ("practitioner", "clinical_staff")


def _column(program: str, track: str) -> ColumnElement[int]:
    return func.coalesce(getattr(MonthTotal, TOTAL_COLUMNS[(program, track)]), 0)


def _counted(program: str) -> ColumnElement[int]:
    """The month's minutes of a program on the tracks that can count (no consent gating: the
    engine counts these or fewer)."""
    return _column(program, "practitioner") + _column(program, "clinical_staff")


def _logged(program: str) -> ColumnElement[int]:
    return _counted(program) + _column(program, "non_clinical")


def _enrolled(program: str) -> ColumnElement[bool]:
    # "CCM;RPM" as stored. LIKE also matches APCM for PCM: a superset is all this needs.
    return Patient.programs.like(f"%{program}%")


def _with_totals(month_start: date) -> Select[Any]:
    return select(Patient.id).outerjoin(MonthTotal, and_(MonthTotal.patient_id == Patient.id, MonthTotal.month == month_start)).where(Patient.active.is_(True))


def _consent_changed(first: date, last: date) -> ColumnElement[bool]:
    return Patient.id.in_(select(Consent.patient_id).where(Consent.effective_date >= first, Consent.effective_date <= last))


def short_of_first_code(first: date, last: date, first_code: Mapping[str, int], *, practitioner_always_counts: bool = True) -> Select[Any]:
    """Patients that may bill nothing yet in a program they are enrolled in or have time in:
    countable minutes below the minutes that always reach a code, or a consent that changed in
    the month (then fewer minutes count than were logged).

    When the policy stops pooling a practitioner's minutes into the staff codes once they reach
    30, the staff minutes alone are what is sure to count."""
    sure = _counted if practitioner_always_counts else (lambda program: _column(program, "clinical_staff"))
    short = [and_(or_(_enrolled(program), _logged(program) > 0), sure(program) < first_code[program]) for program in PROGRAMS]
    return _with_totals(first).where(or_(*short, _consent_changed(first, last), _visit_in(first, last)))


def _visit_in(first: date, last: date) -> ColumnElement[bool]:
    """An initiating visit inside the month: the minutes before it do not count."""
    return and_(Patient.initiating_visit_date >= first, Patient.initiating_visit_date <= last)


def _consent_for_another_practitioner() -> ColumnElement[bool]:
    """A consent row given for someone other than today's billing practitioner."""
    return exists().where(
        Consent.patient_id == Patient.id,
        Consent.practitioner_id.is_not(None),
        or_(Patient.billing_practitioner_id.is_(None), Consent.practitioner_id != Patient.billing_practitioner_id),
    )


def with_countable_minutes(first: date) -> Select[Any]:
    """Patients with minutes on a track that can count, in any program, in the month."""
    return (
        select(MonthTotal.patient_id)
        .join(Patient, Patient.id == MonthTotal.patient_id)
        .where(MonthTotal.month == first, Patient.active.is_(True), or_(*(_counted(program) > 0 for program in PROGRAMS)))
    )


def _consent_clean(program: str, first: date) -> ColumnElement[bool]:
    """The program's newest consent row before the month is a grant."""
    grant, later = aliased(Consent), aliased(Consent)
    newer = exists().where(
        later.patient_id == grant.patient_id,
        later.program == grant.program,
        later.effective_date < first,
        or_(later.effective_date > grant.effective_date, and_(later.effective_date == grant.effective_date, later.id > grant.id)),
    )
    return exists().where(grant.patient_id == Patient.id, grant.program == program, grant.status == "granted", grant.effective_date < first, ~newer)


def possibly_blocked(first: date, last: date, conditions_needed: Mapping[str, int], until: date | None = None) -> Select[Any]:
    """Patients that may have a blocker other than too few minutes in the month: consent not
    granted before the month (or changed inside it), too few conditions, no care plan or
    initiating visit in its window, a program conflict, RPM without a live call, no billing
    practitioner, or consent given for another practitioner."""
    until = until or last
    takes_part = {program: or_(_enrolled(program), _logged(program) > 0) for program in PROGRAMS}
    live_call = Patient.id.in_(select(TimeEntry.patient_id).where(text(LIVE_RPM_CALL), TimeEntry.service_date >= first, TimeEntry.service_date <= until))
    # An initiating visit counts up to a year before the program's start, which is never after
    # the month's end: a visit older than a year before the month's end is worth a look.
    visit_window = last - timedelta(days=366)
    clinical = or_(takes_part["CCM"], takes_part["PCM"], takes_part["BHI"])
    reasons = [
        and_(or_(*takes_part.values()), Patient.billing_practitioner_id.is_(None)),
        _consent_for_another_practitioner(),
        _consent_changed(first, last),
        *(and_(takes_part[program], ~_consent_clean(program, first)) for program in PROGRAMS),
        and_(or_(takes_part["CCM"], takes_part["PCM"]), Patient.chronic_conditions < max(conditions_needed.values())),
        and_(clinical, or_(Patient.care_plan_date.is_(None), Patient.care_plan_date > last)),
        and_(
            clinical,
            or_(
                Patient.initiating_visit_date.is_(None),
                Patient.initiating_visit_date > last,
                Patient.initiating_visit_date < visit_window,
            ),
        ),
        Patient.programs.like("%APCM%"),
        and_(takes_part["CCM"], takes_part["PCM"]),
        and_(takes_part["RPM"], ~live_call),
    ]
    return _with_totals(first).where(or_(false(), *reasons))
