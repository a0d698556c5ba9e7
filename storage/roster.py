"""Staff and patients: lookups, single adds and all-or-nothing CSV imports.

A staff member is named by Slack user id or by name everywhere (commands, CSV
files, billing_practitioner). An import validates every row before it writes
anything, and importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from storage.audit import audit
from storage.consents import CONSENT_METHODS, record_consent
from storage.errors import InactivePatient, InactiveStaff, InvalidValue, LedgerError, UnknownPatient, UnknownStaff
from storage.models import ENROLMENT_PROGRAMS, PRACTITIONER_ROLES, Patient, Role, Staff, Track
from storage.months import complex_reason, is_month_closed, set_complex_month
from storage.spreadsheet import read_csv_text


class AmbiguousStaff(LedgerError):
    reason = "ambiguous_staff"


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}, column {self.column}: {self.reason}"


class ImportRejected(LedgerError):
    """An import with at least one bad row: nothing was written."""

    reason = "import_rejected"

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}; nothing was imported.")


def require_active_staff(staff: Staff | None, what: str = "staff member") -> Staff:
    if staff is None:
        raise UnknownStaff(f"That {what} is not on the staff roster.")
    if not staff.active:
        raise InactiveStaff(f"{staff.name} is no longer active on the staff roster.")
    return staff


def find_patient(session: Session, key: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.key == key)).one_or_none()


def require_active_patient(session: Session, key: str) -> Patient:
    patient = find_patient(session, key)
    if patient is None:
        raise UnknownPatient(f"Patient {key} is not on the roster. Check the number, or ask an admin to add the patient.")
    if not patient.active:
        raise InactivePatient(f"Patient {key} is inactive; time can't be logged for an inactive patient.")
    return patient


def find_staff(session: Session, ref: str) -> Staff | None:
    """By Slack user id first, then by name (any letter case). Raises AmbiguousStaff for a shared name."""
    ref = ref.strip()
    if not ref:
        return None
    by_id = session.scalars(select(Staff).where(Staff.slack_user_id == ref)).one_or_none()
    if by_id is not None:
        return by_id
    by_name = list(session.scalars(select(Staff).where(func.lower(Staff.name) == ref.lower())))
    if len(by_name) > 1:
        raise AmbiguousStaff(f"More than one staff member is called {ref!r}; name them by Slack user id instead.")
    return by_name[0] if by_name else None


def staff_named(session: Session, name: str) -> list[Staff]:
    """Active staff a question names: the full name, or one of its words ("Okafor", "maria"), any case,
    "Dr." left out. A full-name match wins over a partial one."""
    wanted = re.sub(r"^(?:dr\.?|doctor)\s+", "", name.strip().lower()).strip()
    people = list(session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)))
    full = [m for m in people if re.sub(r"^dr\.?\s+", "", m.name.lower()) == wanted or m.name.lower() == wanted]
    if full:
        return full
    words = wanted.split()
    return [m for m in people if words and all(w in re.sub(r"[^a-z ]", " ", m.name.lower()).split() for w in words)]


def admins(session: Session) -> list[Staff]:
    """Active admins, by name."""
    return list(session.scalars(select(Staff).where(Staff.is_admin.is_(True), Staff.active.is_(True)).order_by(Staff.name)))


def consent_recorders(session: Session) -> list[Staff]:
    """Active staff who may record consent (practitioners and admins), by name."""
    people = session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name))
    return [m for m in people if m.is_admin or m.track == Track.practitioner]


def staff_by_slack_id(session: Session, slack_user_id: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.slack_user_id == slack_user_id)).one_or_none()


def active_slack_ids(session: Session) -> list[str]:
    """The Slack user ids of active staff, sorted."""
    query = select(Staff.slack_user_id).where(Staff.active.is_(True), Staff.slack_user_id.is_not(None)).order_by(Staff.slack_user_id)
    return [r for r in session.scalars(query) if r]


def has_patients(session: Session) -> bool:
    return session.scalar(select(Patient.id).limit(1)) is not None


def require_staff(session: Session, ref: str) -> Staff:
    staff = find_staff(session, ref)
    if staff is None:
        raise UnknownStaff(f"No staff member {ref!r} on the roster; add them with `ccmbot staff add`.")
    return staff


def _staff_snapshot(s: Staff) -> dict[str, Any]:
    return {"slack_user_id": s.slack_user_id, "name": s.name, "role": s.role, "is_admin": s.is_admin, "active": s.active}


def _patient_snapshot(p: Patient) -> dict[str, Any]:
    return {
        "key": p.key,
        "label": p.label,
        "billing_practitioner_id": p.billing_practitioner_id,
        "chronic_conditions": p.chronic_conditions,
        "care_plan_date": p.care_plan_date.isoformat() if p.care_plan_date else None,
        "initiating_visit_date": p.initiating_visit_date.isoformat() if p.initiating_visit_date else None,
        "programs": p.programs,
        "active": p.active,
    }


# Control characters never belong in a roster field (PostgreSQL refuses NUL in text outright).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def checked_text(what: str, value: str, longest: int) -> str:
    """A roster field as stored, or a refusal in one line that says what is wrong with it and
    never repeats the value (it may be a patient's key or name)."""
    if len(value) > longest:
        raise InvalidValue(f"{what} is {len(value)} characters long; at most {longest} fit")
    if _CONTROL.search(value):
        raise InvalidValue(f"{what} holds a control character (such as a NUL or a line break); type it again")
    return value


def parse_name(raw: str) -> str:
    if not raw.strip():
        raise InvalidValue("a name is required")
    return checked_text("the name", raw.strip(), 120)


def parse_role(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {r.value for r in Role}:
        raise InvalidValue(f"{raw!r} is not a role; use one of: {', '.join(r.value for r in Role)}")
    return value


def parse_programs(raw: str) -> str:
    parts = [p.strip().upper() for p in raw.replace(",", ";").split(";") if p.strip()]
    for part in parts:
        if part not in ENROLMENT_PROGRAMS:
            raise InvalidValue(f"{part!r} is not a program; use CCM, PCM, RPM or APCM, separated by ';'")
    return ";".join(dict.fromkeys(parts)) or "CCM"


def parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidValue(f"{raw!r} is not a date; write YYYY-MM-DD") from None


def parse_count(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidValue(f"{raw!r} is not a whole number") from None
    if not 0 <= value <= 50:
        raise InvalidValue(f"{value} is out of range; use 0 to 50")
    return value


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "y"):
        return True
    if value in ("", "0", "false", "no", "n"):
        return False
    raise InvalidValue(f"{raw!r} is not yes or no")


def upsert_staff(
    session: Session, *, name: str, role: str, slack_user_id: str | None = None, is_admin: bool = False, actor: Staff | None = None
) -> tuple[Staff, bool]:
    """Add or update one staff member (matched by Slack id, else by name). Returns (staff, changed). Does not commit."""
    name = parse_name(name)
    role = parse_role(role)
    slack_user_id = checked_text("the Slack user id", (slack_user_id or "").strip(), 32) or None
    existing = None
    if slack_user_id:
        existing = session.scalars(select(Staff).where(Staff.slack_user_id == slack_user_id)).one_or_none()
    if existing is None:
        existing = session.scalars(
            select(Staff).where(func.lower(Staff.name) == name.lower(), Staff.slack_user_id.is_(None) if slack_user_id else true())
        ).first()
    if existing is None:
        staff = Staff(name=name, role=role, slack_user_id=slack_user_id, is_admin=is_admin, active=True)
        session.add(staff)
        session.flush()
        audit(session, actor, "staff.add", "staff", staff.id, None, _staff_snapshot(staff))
        return staff, True
    before = _staff_snapshot(existing)
    existing.name, existing.role, existing.is_admin, existing.active = name, role, is_admin, True
    if slack_user_id:
        existing.slack_user_id = slack_user_id
    after = _staff_snapshot(existing)
    if after == before:
        return existing, False
    session.flush()
    audit(session, actor, "staff.update", "staff", existing.id, before, after)
    return existing, True


@dataclass
class PatientFields:
    key: str
    billing_practitioner: str | None = None
    chronic_conditions: int = 0
    care_plan_date: date | None = None
    initiating_visit_date: date | None = None
    programs: str = "CCM"
    label: str | None = None
    consents: list[tuple[str, date, str | None]] = field(default_factory=list)  # (program, date, method)
    complex: bool | None = None  # this month marked complex CCM (True, with complex_reason) or not (False); None: left as it is
    complex_reason: str | None = None


def _billing_practitioner(session: Session, ref: str | None) -> Staff | None:
    if not ref:
        return None
    staff = require_staff(session, ref)
    if Role(staff.role) not in PRACTITIONER_ROLES:
        raise InvalidValue(f"{staff.name} is {staff.role}, not a billing practitioner (physician, np, pa, cns or cnm)")
    return staff


def upsert_patient(session: Session, fields: PatientFields, *, actor: Staff | None, today: date) -> tuple[Patient, bool]:
    """Add or update one patient and its consents. Returns (patient, changed). Does not commit."""
    key = checked_text("the patient key", fields.key.strip(), 64)
    if not key:
        raise InvalidValue("a patient needs a patient_key")
    if fields.label is not None:
        checked_text("the label", fields.label, 200)
    practitioner = _billing_practitioner(session, fields.billing_practitioner)
    values = {
        "label": fields.label,
        "billing_practitioner_id": practitioner.id if practitioner else None,
        "chronic_conditions": fields.chronic_conditions,
        "care_plan_date": fields.care_plan_date,
        "initiating_visit_date": fields.initiating_visit_date,
        "programs": parse_programs(fields.programs),
        "active": True,
    }
    patient = session.scalars(select(Patient).where(Patient.key == key)).one_or_none()
    changed = False
    if patient is None:
        patient = Patient(key=key, **values)
        session.add(patient)
        session.flush()
        audit(session, actor, "patient.add", "patient", patient.id, None, _patient_snapshot(patient))
        changed = True
    else:
        before = _patient_snapshot(patient)
        for name, value in values.items():
            setattr(patient, name, value)
        after = _patient_snapshot(patient)
        if after != before:
            session.flush()
            audit(session, actor, "patient.update", "patient", patient.id, before, after)
            changed = True
    for program, when, method in fields.consents:
        if record_consent(session, patient, program=program, status="granted", effective_date=when, by=actor, method=method, today=today):
            changed = True
    return patient, changed


def _read_csv(path: Path, required: tuple[str, ...], known: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    name = path.name
    try:
        text, _ = read_csv_text(path)  # the CLI prints the note when the file was not UTF-8
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}; nothing was imported") from None
    except ValueError as exc:
        raise InvalidValue(f"{exc}; nothing was imported") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    problems = [RowProblem(name, 1, col, "required column is missing") for col in required if col not in header]
    problems += [RowProblem(name, 1, col, f"unknown column; known columns: {', '.join(known)}") for col in header if col not in known]
    if problems:
        raise ImportRejected(problems)
    rows = []
    for row in reader:
        # line_num counts physical lines, so a quoted multi-line field still reports where its row ends.
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}))
    if not rows:
        raise ImportRejected([RowProblem(name, 1, "-", "the file has a header but no rows")])
    return rows


def _finish_import(session: Session, problems: list[RowProblem], rows: int, changed: int) -> tuple[int, int]:
    """All or nothing: one bad row raises, and the door's transaction rolls back every row of the file."""
    if problems:
        raise ImportRejected(problems)
    session.flush()
    return rows, changed


STAFF_COLUMNS = ("slack_user_id", "name", "role", "admin")
PATIENT_COLUMNS = (
    "patient_key",
    "billing_practitioner",
    "chronic_conditions",
    "care_plan_date",
    "initiating_visit_date",
    "ccm_consent_date",
    "ccm_consent_method",
    "pcm_consent_date",
    "pcm_consent_method",
    "rpm_consent_date",
    "rpm_consent_method",
    "programs",
    "label",
    "complex",
    "complex_reason",
)


def import_staff_csv(session: Session, path: Path, *, actor: Staff | None = None) -> tuple[int, int]:
    """Returns (rows, rows that changed something). All or nothing."""
    rows = _read_csv(path, ("name", "role"), STAFF_COLUMNS)
    problems: list[RowProblem] = []
    changed = 0
    seen: dict[str, int] = {}
    for line, row in rows:
        ident = row.get("slack_user_id") or row.get("name", "").lower()
        if ident in seen:
            problems.append(RowProblem(path.name, line, "slack_user_id" if row.get("slack_user_id") else "name", f"duplicate of line {seen[ident]}"))
            continue
        seen[ident] = line
        row_problems = []
        for column, check in (("name", parse_name), ("role", parse_role), ("admin", parse_bool)):
            try:
                check(row.get(column, ""))
            except LedgerError as exc:
                row_problems.append(RowProblem(path.name, line, column, str(exc)))
        problems += row_problems
        if not row_problems and not problems:
            _, did = upsert_staff(
                session,
                name=row["name"],
                role=row["role"],
                slack_user_id=row.get("slack_user_id"),
                is_admin=parse_bool(row.get("admin", "")),
                actor=actor,
            )
            changed += did
    return _finish_import(session, problems, len(rows), changed)


def _patient_fields(row: dict[str, str]) -> tuple[PatientFields | None, list[tuple[str, str]]]:
    """Parse one CSV row; returns the fields or a list of (column, reason)."""
    errors: list[tuple[str, str]] = []
    fields = PatientFields(key=row.get("patient_key", ""))
    if not fields.key:
        errors.append(("patient_key", "a patient_key is required"))

    def take(column: str, parse: Any) -> Any:
        raw = row.get(column, "")
        if not raw:
            return None
        try:
            return parse(raw)
        except LedgerError as exc:
            errors.append((column, str(exc)))
            return None

    fields.billing_practitioner = row.get("billing_practitioner") or None
    fields.chronic_conditions = take("chronic_conditions", parse_count) or 0
    fields.care_plan_date = take("care_plan_date", parse_date)
    fields.initiating_visit_date = take("initiating_visit_date", parse_date)
    fields.programs = take("programs", parse_programs) or "CCM"
    fields.label = row.get("label") or None
    for program in ("ccm", "pcm", "rpm"):
        when = take(f"{program}_consent_date", parse_date)
        method = row.get(f"{program}_consent_method", "").lower() or None
        if method is not None and method not in CONSENT_METHODS:
            errors.append((f"{program}_consent_method", f"{method!r} is not a consent method; use verbal or written"))
        elif method is not None and when is None and not row.get(f"{program}_consent_date"):
            errors.append((f"{program}_consent_date", "a consent method needs a consent date"))
        if when is not None:
            fields.consents.append((program.upper(), when, method))
    fields.complex = take("complex", parse_bool)
    reason = row.get("complex_reason", "")
    if fields.complex:
        try:
            fields.complex_reason = complex_reason(reason)
        except LedgerError as exc:
            errors.append(("complex_reason", "complex is yes, so say why in a few words (the moderate or high complexity decision making)" if not reason else str(exc)))
    elif reason:
        errors.append(("complex_reason", "a reason is only for complex=yes"))
    return (None if errors else fields), errors


def import_patients_csv(session: Session, path: Path, *, actor: Staff | None = None, today: date) -> tuple[int, int]:
    """Returns (rows, rows that changed something). All or nothing."""
    rows = _read_csv(path, ("patient_key",), PATIENT_COLUMNS)
    problems: list[RowProblem] = []
    changed = 0
    seen: dict[str, int] = {}
    for line, row in rows:
        fields, errors = _patient_fields(row)
        problems += [RowProblem(path.name, line, column, reason) for column, reason in errors]
        if fields is None:
            continue
        if fields.key in seen:
            problems.append(RowProblem(path.name, line, "patient_key", f"patient {fields.key} is also on line {seen[fields.key]}"))
            continue
        seen[fields.key] = line
        row_problems = []
        try:
            _billing_practitioner(session, fields.billing_practitioner)
        except LedgerError as exc:
            row_problems.append(RowProblem(path.name, line, "billing_practitioner", str(exc)))
        for program, when, _method in fields.consents:
            if when > today:
                row_problems.append(RowProblem(path.name, line, f"{program.lower()}_consent_date", f"{when} is in the future"))
        if fields.complex is not None and is_month_closed(session, today):
            row_problems.append(RowProblem(path.name, line, "complex", f"{today:%B %Y} is closed for billing; an admin must reopen it first"))
        problems += row_problems
        if not row_problems and not problems:
            patient, did = upsert_patient(session, fields, actor=actor, today=today)
            if fields.complex is not None:
                # The column speaks of the month of the import (the practice's today).
                reason = fields.complex_reason if fields.complex else None
                did = set_complex_month(session, patient, today, reason=reason, by=actor, today=today) in ("marked", "updated", "unmarked") or did
            changed += did
    return _finish_import(session, problems, len(rows), changed)


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.name)))


def list_patients(session: Session) -> list[Patient]:
    return list(session.scalars(select(Patient).order_by(Patient.key)))
