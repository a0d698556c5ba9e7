"""RPM episodes and device readings: started and stopped (audited), vendor exports imported all or
nothing, and the reads the device codes need.

An episode runs from its start (set-up and patient education that day) to its last day of
monitoring; a later start ends the open one the day before. Readings are stored one row per
patient, local day and device, so a day counts once however many readings it had and a
re-import adds nothing. Which days count toward a code is the billing engine's to say.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from storage.audit import audit
from storage.db import insert_for
from storage.errors import ClosedMonth, FutureDate, InvalidValue
from storage.models import MonthClose, Patient, RpmEpisode, RpmReading, Staff, utcnow
from storage.months import first_of_month
from storage.queries import PatientScope, _in_scope
from storage.records import RpmEpisodeRecord
from storage.roster import ImportRejected, RowProblem, checked_text
from storage.spreadsheet import read_csv_text

DEVICE_MAX = 120  # rpm_episodes.device
DEVICE_ID_MAX = 64  # rpm_readings.device_id
READING_COLUMNS = ("patient_key", "taken_at")  # required; device_id is optional, any other column is ignored
PERIOD_DAYS = 30  # the longest a device period runs: its readings lie within this many days of today

EpisodeOutcome = Literal["started", "restarted", "updated", "unchanged", "stopped"]


@dataclass(frozen=True)
class EpisodeChange:
    """What a start or a stop did. `ended`: the episode a restart ended (the day before the new start)."""

    outcome: EpisodeOutcome
    episode: RpmEpisode
    ended: RpmEpisode | None = None


@dataclass(frozen=True)
class ReadingsImport:
    rows: int  # data rows in the file
    days: int  # distinct patient-days they hold
    new: int  # (patient, day, device) rows stored now; 0 on a re-import


# --- episodes ------------------------------------------------------------------------------


def _snapshot(e: RpmEpisode) -> dict[str, Any]:
    return {
        "patient_id": e.patient_id,
        "start": e.start_date.isoformat(),
        "end": e.end_date.isoformat() if e.end_date else None,
        "device": e.device,
    }


def open_episode(session: Session, patient: Patient) -> RpmEpisode | None:
    return session.scalars(select(RpmEpisode).where(RpmEpisode.patient_id == patient.id, RpmEpisode.end_date.is_(None))).one_or_none()


def latest_episode(session: Session, patient: Patient) -> RpmEpisode | None:
    query = select(RpmEpisode).where(RpmEpisode.patient_id == patient.id).order_by(RpmEpisode.start_date.desc(), RpmEpisode.id.desc())
    return session.scalars(query.limit(1)).first()


def closed_months_between(session: Session, first: date, last: date) -> list[date]:
    """The closed months from `first`'s month to `last`'s, oldest first."""
    query = select(MonthClose.month).where(MonthClose.month >= first_of_month(first), MonthClose.month <= first_of_month(last), MonthClose.is_closed.is_(True))
    return sorted(session.scalars(query))


def _check_open(session: Session, earliest: date, today: date, change: str) -> None:
    """No closed month from `earliest` (the first day whose device periods the change moves) to
    today: a start or an end moves the 30-day periods, whose codes belong to the months they end in."""
    closed = closed_months_between(session, earliest, today)
    if closed:
        raise ClosedMonth(f"{closed[0]:%B %Y} is closed for billing, and {change} would change its RPM device periods; an admin must reopen it first.")


def device_text(raw: str | None) -> str | None:
    """The device as stored: plain text, at most DEVICE_MAX characters, or None."""
    value = (raw or "").strip()
    return checked_text("the device", value, DEVICE_MAX) or None


def start_episode(session: Session, patient: Patient, *, day: date, device: str | None, by: Staff | None, today: date) -> EpisodeChange:
    """Start an RPM episode on `day` (set-up and education that day), audited. An open episode that
    started earlier is ended the day before; the same start again changes nothing (a new device
    text updates it). Who may start one is the use case's rule (bot.assistant)."""
    device = device_text(device)
    if day > today:
        raise FutureDate(f"{day.isoformat()} is in the future; RPM can be started for today or earlier.")
    current = open_episode(session, patient)
    if current is not None and current.start_date == day:
        if device is None or device == current.device:
            return EpisodeChange("unchanged", current)
        before = _snapshot(current)
        current.device = device
        session.flush()
        audit(session, by, "rpm.update", "rpm_episode", current.id, before, _snapshot(current))
        return EpisodeChange("updated", current)
    if current is not None and day < current.start_date:
        raise InvalidValue(
            f"Patient {patient.key}'s RPM episode started on {current.start_date.isoformat()}; a new one must start after that day. Nothing was changed."
        )
    latest = current or latest_episode(session, patient)
    if current is None and latest is not None and latest.end_date is not None and day <= latest.end_date:
        raise InvalidValue(
            f"Patient {patient.key}'s last RPM episode ran until {latest.end_date.isoformat()}; a new one must start after that day. Nothing was changed."
        )
    change = f"starting RPM on {day.isoformat()}" + (f" (the running episode would end on {day - timedelta(days=1)})" if current is not None else "")
    _check_open(session, day - timedelta(days=1) if current is not None else day, today, change)
    ended = None
    if current is not None:
        before = _snapshot(current)
        current.end_date, current.ended_by_id, current.ended_at = day - timedelta(days=1), by.id if by else None, utcnow()
        session.flush()  # the open episode is closed before the new one opens (one open per patient)
        audit(session, by, "rpm.stop", "rpm_episode", current.id, before, {**_snapshot(current), "why": "restarted"})
        ended = current
    episode = RpmEpisode(patient_id=patient.id, start_date=day, device=device, started_by_id=by.id if by else None, started_at=utcnow())
    session.add(episode)
    session.flush()
    audit(session, by, "rpm.start", "rpm_episode", episode.id, None, _snapshot(episode))
    return EpisodeChange("restarted" if ended is not None else "started", episode, ended)


def stop_episode(session: Session, patient: Patient, *, day: date, by: Staff | None, today: date) -> EpisodeChange:
    """End the open RPM episode on `day`, its last day of monitoring, audited."""
    current = open_episode(session, patient)
    if current is None:
        last = latest_episode(session, patient)
        ended = f" (the last one ended on {last.end_date.isoformat()})" if last is not None and last.end_date else ""
        raise InvalidValue(f"Patient {patient.key} has no RPM episode running{ended}; nothing was changed.")
    if day < current.start_date:
        raise InvalidValue(f"Patient {patient.key}'s RPM episode started on {current.start_date.isoformat()}; it cannot end before that. Nothing was changed.")
    if day > today:
        raise FutureDate(f"{day.isoformat()} is in the future; RPM can be stopped for today or earlier.")
    _check_open(session, day, today, f"stopping RPM on {day.isoformat()}")
    before = _snapshot(current)
    current.end_date, current.ended_by_id, current.ended_at = day, by.id if by else None, utcnow()
    session.flush()
    audit(session, by, "rpm.stop", "rpm_episode", current.id, before, _snapshot(current))
    return EpisodeChange("stopped", current)


# --- readings ------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def reading_day(raw: str, tz: ZoneInfo) -> date:
    """The practice's local date of a reading: a date as it is; an ISO 8601 timestamp without an
    offset is local time already; one with an offset (or Z) is converted to the practice's zone."""
    value = raw.strip()
    if _DATE_ONLY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidValue(f"{value!r} is not a date") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"{value!r} is not a date or an ISO 8601 timestamp; write 2026-11-03 or 2026-11-03T08:15:00-05:00") from None
    return moment.date() if moment.tzinfo is None else moment.astimezone(tz).date()


def _read_rows(path: Path) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    try:
        text, _ = read_csv_text(path)
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror}; nothing was imported") from None
    except ValueError as exc:
        raise InvalidValue(f"{exc}; nothing was imported") from None
    reader = csv.DictReader(text.splitlines())
    reader.fieldnames = [h.strip() for h in (reader.fieldnames or [])]
    missing = [RowProblem(path.name, 1, col, "required column is missing") for col in READING_COLUMNS if col not in reader.fieldnames]
    if missing:
        raise ImportRejected(missing)
    rows = [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}) for row in reader]
    if not rows:
        raise ImportRejected([RowProblem(path.name, 1, "-", "the file has a header but no rows")])
    return text, rows


def _patient_ids(session: Session, keys: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(keys))
    out: dict[str, int] = {}
    for i in range(0, len(wanted), 500):
        out.update((key, pid) for key, pid in session.execute(select(Patient.key, Patient.id).where(Patient.key.in_(wanted[i : i + 500]))))
    return out


def import_readings_csv(session: Session, path: Path, *, tz: ZoneInfo, today: date) -> ReadingsImport:
    """A device vendor's export (patient_key, taken_at, optional device_id; other columns are
    ignored) -> one row per patient, local day and device. All or nothing: every row is checked
    first and each bad one is reported by line; a re-import stores nothing new."""
    name = path.name
    _, rows = _read_rows(path)
    ids = _patient_ids(session, (row.get("patient_key", "") for _, row in rows))
    closed = set(closed_months_between(session, date(1900, 1, 1), today))
    episodes = _episodes_of(session, set(ids.values())) if closed else {}
    problems: list[RowProblem] = []
    keys: dict[tuple[int, date, str], int] = {}
    for line, row in rows:
        key = row.get("patient_key", "")
        if not key:
            problems.append(RowProblem(name, line, "patient_key", "a patient_key is required"))
        elif key not in ids:
            problems.append(RowProblem(name, line, "patient_key", "no patient with this key is on the roster"))
        day: date | None = None
        raw = row.get("taken_at", "")
        if not raw:
            problems.append(RowProblem(name, line, "taken_at", "a date or timestamp is required"))
        else:
            try:
                day = reading_day(raw, tz)
            except InvalidValue as exc:
                problems.append(RowProblem(name, line, "taken_at", str(exc)))
        if day is not None and day > today:
            problems.append(RowProblem(name, line, "taken_at", f"{day.isoformat()} is in the future"))
            day = None
        if day is not None and first_of_month(day) in closed:
            problems.append(RowProblem(name, line, "taken_at", f"{day:%B %Y} is closed for billing; an admin must reopen it first"))
            day = None
        billed_in = _period_end(episodes.get(ids.get(key, 0), []), day) if day is not None else None
        if billed_in is not None and first_of_month(billed_in) in closed:
            problems.append(
                RowProblem(name, line, "taken_at", f"the RPM device period of {day} ends on {billed_in}, in {billed_in:%B %Y}, which is closed for billing")
            )
            day = None
        device = row.get("device_id", "")
        try:
            checked_text("the device_id", device, DEVICE_ID_MAX)
        except InvalidValue as exc:
            problems.append(RowProblem(name, line, "device_id", str(exc)))
            continue
        if day is not None and key in ids:
            keys.setdefault((ids[key], day, device), line)
    if problems:
        raise ImportRejected(problems)
    stored = _stored_keys(session, keys)
    new = [k for k in keys if k not in stored]
    insert = insert_for(session)
    for i in range(0, len(new), 500):
        values = [{"patient_id": pid, "day": day, "device_id": device, "source": name[:200], "imported_at": utcnow()} for pid, day, device in new[i : i + 500]]
        # Another import of the same file at once stores each row once, without failing this one.
        session.execute(insert(RpmReading).values(values).on_conflict_do_nothing(index_elements=["patient_id", "day", "device_id"]))
    if new:
        audit(session, None, "rpm.readings.import", "rpm_readings", name[:64], None, {"file": name, "rows": len(rows), "new": len(new)})
    session.flush()
    return ReadingsImport(rows=len(rows), days=len({(pid, day) for pid, day, _ in keys}), new=len(new))


def _episodes_of(session: Session, patient_ids: set[int]) -> dict[int, list[tuple[date, date | None]]]:
    out: dict[int, list[tuple[date, date | None]]] = {}
    wanted = sorted(patient_ids)
    for i in range(0, len(wanted), 500):
        query = select(RpmEpisode.patient_id, RpmEpisode.start_date, RpmEpisode.end_date).where(RpmEpisode.patient_id.in_(wanted[i : i + 500]))
        for pid, start, end in session.execute(query):
            out.setdefault(pid, []).append((start, end))
    return out


def _period_end(episodes: list[tuple[date, date | None]], day: date) -> date | None:
    """The last day of the 30-day device period a reading on `day` counts in (None: in no episode):
    its codes belong to that day's month."""
    for start, end in episodes:
        if start <= day and (end is None or day <= end):
            last = start + timedelta(days=((day - start).days // PERIOD_DAYS) * PERIOD_DAYS + PERIOD_DAYS - 1)
            return last if end is None else min(last, end)
    return None


def _stored_keys(session: Session, keys: dict[tuple[int, date, str], int]) -> set[tuple[int, date, str]]:
    if not keys:
        return set()
    patients = sorted({pid for pid, _, _ in keys})
    low, high = min(d for _, d, _ in keys), max(d for _, d, _ in keys)
    out: set[tuple[int, date, str]] = set()
    for i in range(0, len(patients), 500):
        query = select(RpmReading.patient_id, RpmReading.day, RpmReading.device_id).where(
            RpmReading.patient_id.in_(patients[i : i + 500]), RpmReading.day >= low, RpmReading.day <= high
        )
        out.update((pid, day, device) for pid, day, device in session.execute(query))
    return out


# --- reads -----------------------------------------------------------------------------------


def _overlapping(first: date, last: date) -> list[Any]:
    """Episodes that have begun by `last` and had not ended before `first`."""
    return [RpmEpisode.start_date <= last, or_(RpmEpisode.end_date.is_(None), RpmEpisode.end_date >= first)]


def episodes_between(session: Session, first: date, last: date, scope: PatientScope = None) -> dict[int, list[tuple[date, date | None]]]:
    """Per patient, (start, last day or None) of the episodes running at some time between two days, oldest first."""
    query = select(RpmEpisode.patient_id, RpmEpisode.start_date, RpmEpisode.end_date).where(*_overlapping(first, last)).order_by(RpmEpisode.patient_id, RpmEpisode.start_date)
    out: dict[int, list[tuple[date, date | None]]] = {}
    for pid, start, end in session.connection().execute(_in_scope(query, RpmEpisode.patient_id, scope)):
        out.setdefault(pid, []).append((start, end))
    return out


def episode_reading_days(session: Session, first: date, last: date, scope: PatientScope = None, *, since: date | None = None) -> dict[int, list[date]]:
    """Per patient, the distinct days up to `last` with a reading inside an episode running at some
    time between `first` and `last` (from the episode's start, or from `since` when later), oldest
    first: one query, however many patients, devices and readings."""
    conditions = [
        RpmReading.patient_id == RpmEpisode.patient_id,
        RpmReading.day >= RpmEpisode.start_date,
        RpmReading.day <= last,
        or_(RpmEpisode.end_date.is_(None), RpmReading.day <= RpmEpisode.end_date),
    ]
    if since is not None:
        conditions.append(RpmReading.day >= since)
    query = (
        select(RpmReading.patient_id, RpmReading.day)
        .join(RpmEpisode, and_(*conditions))
        .where(*_overlapping(first, last))
        .distinct()
        .order_by(RpmReading.patient_id, RpmReading.day)
    )
    out: dict[int, list[date]] = {}
    for pid, day in session.connection().execute(_in_scope(query, RpmReading.patient_id, scope)):
        out.setdefault(pid, []).append(day)
    return out


def running_episodes(session: Session, day: date, scope: PatientScope = None) -> list[RpmEpisodeRecord]:
    """The episodes running on `day` (begun by it, not ended before it) of active patients, by patient key."""
    starter, practitioner = aliased(Staff), aliased(Staff)
    query = (
        select(
            RpmEpisode.id,
            RpmEpisode.patient_id,
            Patient.key,
            RpmEpisode.start_date,
            RpmEpisode.end_date,
            RpmEpisode.device,
            RpmEpisode.started_by_id,
            starter.name,
            Patient.billing_practitioner_id,
            practitioner.name,
        )
        .join(Patient, Patient.id == RpmEpisode.patient_id)
        .outerjoin(starter, starter.id == RpmEpisode.started_by_id)
        .outerjoin(practitioner, practitioner.id == Patient.billing_practitioner_id)
        .where(Patient.active.is_(True), *_overlapping(day, day))
        .order_by(Patient.key)
    )
    return [
        RpmEpisodeRecord(
            episode_id=r[0], patient_id=r[1], patient_key=r[2], start=r[3], end=r[4], device=r[5],
            started_by_id=r[6], started_by=r[7], billing_practitioner_id=r[8], billing_practitioner=r[9],
        )
        for r in session.execute(_in_scope(query, RpmEpisode.patient_id, scope)).all()
    ]  # fmt: skip
