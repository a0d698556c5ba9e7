"""An auditor's "prove it" for one month: every entry, void, edit, consent change, complex CCM mark and start or
stop of an RPM episode running in it, with who, when and where it came from, as CSV rows built from the audit trail."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.models import AuditEvent, Consent, Patient, PatientMonthFact, RpmEpisode, Staff, TimeEntry
from storage.spreadsheet import csv_writer

COLUMNS = [
    "at_utc", "action", "patient", "service_or_effective_date", "minutes", "activity", "program", "track",
    "performed_by", "changed_by", "reason", "consent_status", "consent_method", "source", "source_link", "record_id",
]  # fmt: skip


def _entry_action(event: AuditEvent, entry: TimeEntry) -> tuple[str, str]:
    if event.action == "entry.void":
        reason = (event.after or {}).get("void_reason") or ""
        return ("edited: old entry voided" if reason == "message edited" else "voided"), reason
    key = (event.after or {}).get("source_key") or entry.source_key
    return ("edited: new entry" if "@" in key else "logged"), ""


def month_audit_rows(session: Session, first: date, last: date, patient_key: str | None = None) -> list[list[str]]:
    performer, actor = aliased(Staff), aliased(Staff)
    entries = select(TimeEntry, Patient.key, performer.name).join(Patient, Patient.id == TimeEntry.patient_id).join(
        performer, performer.id == TimeEntry.performed_by_id
    ).where(TimeEntry.service_date >= first, TimeEntry.service_date <= last)
    if patient_key is not None:
        entries = entries.where(Patient.key == patient_key)
    by_id = {str(e.id): (e, key, name) for e, key, name in session.execute(entries)}
    rows: list[tuple[object, list[str]]] = []
    if by_id:
        events = session.execute(
            select(AuditEvent, actor.name)
            .outerjoin(actor, actor.id == AuditEvent.actor_id)
            .where(AuditEvent.entity == "time_entry", AuditEvent.entity_id.in_(list(by_id)))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        for event, changed_by in events:
            entry, key, performed_by = by_id[event.entity_id or ""]
            action, reason = _entry_action(event, entry)
            rows.append((event.at, [
                event.at.isoformat(), action, key, entry.service_date.isoformat(), str(entry.minutes), entry.activity, entry.program,
                entry.track, performed_by, changed_by or "", reason, "", "", entry.source, entry.source_link or "", f"entry {entry.id}",
            ]))  # fmt: skip
    consents = (
        select(Consent, Patient.key, actor.name)
        .join(Patient, Patient.id == Consent.patient_id)
        .outerjoin(actor, actor.id == Consent.recorded_by_id)
        .where(Consent.effective_date >= first, Consent.effective_date <= last)
    )
    if patient_key is not None:
        consents = consents.where(Patient.key == patient_key)
    for consent, key, recorded_by in session.execute(consents):
        rows.append((consent.recorded_at, [
            consent.recorded_at.isoformat(), "consent recorded", key, consent.effective_date.isoformat(), "", "", consent.program, "",
            "", recorded_by or "", "", consent.status, consent.method or "", "", "", f"consent {consent.id}",
        ]))  # fmt: skip
    rows += _complex_rows(session, first, last, patient_key)
    rows += _rpm_rows(session, first, last, patient_key)
    rows.sort(key=lambda pair: (str(pair[0]), pair[1][-1]))
    return [row for _, row in rows]


def _changes(session: Session, entity: str, ids: list[str]) -> Any:
    """The audit events of these rows of one entity, oldest first, each with its actor's name."""
    actor = aliased(Staff)
    return session.execute(
        select(AuditEvent, actor.name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
        .order_by(AuditEvent.at, AuditEvent.id)
    )


def _complex_rows(session: Session, first: date, last: date, patient_key: str | None) -> list[tuple[object, list[str]]]:
    """Complex CCM marks of the month's patient-months (99487's justification), with who and why."""
    facts = select(PatientMonthFact.id, Patient.key, PatientMonthFact.month).join(Patient, Patient.id == PatientMonthFact.patient_id)
    facts = facts.where(PatientMonthFact.month >= first, PatientMonthFact.month <= last)
    if patient_key is not None:
        facts = facts.where(Patient.key == patient_key)
    by_id = {str(fact_id): (key, month) for fact_id, key, month in session.execute(facts)}
    if not by_id:
        return []
    events = _changes(session, "patient_month_fact", list(by_id))
    rows: list[tuple[object, list[str]]] = []
    for event, changed_by in events:
        key, month = by_id[event.entity_id or ""]
        marked = event.action == "complex.mark"
        reason = str((event.after or {}).get("reason") or "") if marked else ""
        rows.append((event.at, [
            event.at.isoformat(), "complex CCM marked" if marked else "complex CCM unmarked", key, month.isoformat(), "", "", "CCM", "",
            "", changed_by or "", reason, "", "", "", "", f"month fact {event.entity_id}",
        ]))  # fmt: skip
    return rows


RPM_ACTIONS = {"rpm.start": "RPM started", "rpm.stop": "RPM stopped", "rpm.update": "RPM device updated"}


def _rpm_rows(session: Session, first: date, last: date, patient_key: str | None) -> list[tuple[object, list[str]]]:
    """Starts and stops of the RPM episodes running in the month (99453 and the device periods rest on them), with who."""
    episodes = select(RpmEpisode.id, Patient.key).join(Patient, Patient.id == RpmEpisode.patient_id)
    episodes = episodes.where(RpmEpisode.start_date <= last, (RpmEpisode.end_date.is_(None)) | (RpmEpisode.end_date >= first))
    if patient_key is not None:
        episodes = episodes.where(Patient.key == patient_key)
    by_id = {str(episode_id): key for episode_id, key in session.execute(episodes)}
    if not by_id:
        return []
    events = _changes(session, "rpm_episode", list(by_id))
    rows: list[tuple[object, list[str]]] = []
    for event, changed_by in events:
        after = event.after or {}
        day = str(after.get("end") if event.action == "rpm.stop" else after.get("start") or "")
        reason = str(after.get("why") or after.get("device") or "")
        rows.append((event.at, [
            event.at.isoformat(), RPM_ACTIONS.get(event.action, event.action), by_id[event.entity_id or ""], day, "", "", "RPM", "",
            "", changed_by or "", reason, "", "", "", "", f"rpm episode {event.entity_id}",
        ]))  # fmt: skip
    return rows


def month_audit_csv(session: Session, first: date, last: date, patient_key: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(month_audit_rows(session, first, last, patient_key))
    return buffer.getvalue()
