"""The evaluation service: a month's facts gathered from storage, handed to the billing engine.

The one gatherer: every door, reminder and report that needs a patient's month calls
month_results here, so every number shown about billing comes from bot.billing.evaluate on the
same facts.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from bot.billing import CONDITIONS_NEEDED, ConsentEvent, Minutes, MonthFacts, Policy, evaluate, first_code_minutes
from bot.billing.devices import DevicePeriod, consented_days, episode_periods, outlook, period_bounds
from bot.config import Settings
from bot.devices import DeviceStatus
from bot.months import month_bounds
from bot.patient_month import PatientMonth
from storage.candidates import possibly_blocked, short_of_first_code, with_countable_minutes
from storage.fee_schedules import official_amounts
from storage.queries import (
    PatientScope,
    bulk_objects,
    complex_mdm_patients,
    consent_changed_in,
    consent_history,
    dated_minutes,
    fixed_scope,
    ids_scope,
    key_ranges,
    keys_scope,
    last_live_rpm_contact,
    minutes_between,
    other_practitioner_minutes,
    panel,
    patients_between,
    visit_in,
)
from storage.records import ConsentState, PatientRecord
from storage.rpm import PERIOD_DAYS, episode_reading_days, episodes_between, running_episodes

if TYPE_CHECKING:  # for annotations only
    from storage.db import Database


def policy_from(settings: Settings, amounts: dict[int, dict[str, float]] | None = None, *, db: Database | Session | None = None) -> Policy:
    """The engine's policy from the settings. Amounts, last wins: the built-in table, then
    `amounts` (default: CCMBOT_AMOUNTS_CSV), then, when a database (or an open session) is given,
    the fee schedules imported from CMS's file for CCMBOT_FEE_SCHEDULE_SETTING, read once here.
    Those imported codes are the year's official ones: a result that bills only them is no estimate."""
    overrides = {year: dict(codes) for year, codes in (amounts if amounts is not None else load_amounts(settings.amounts_csv)).items()}
    official: dict[int, frozenset[str]] = {}
    if db is not None:
        if isinstance(db, Session):
            imported = official_amounts(db, settings.fee_schedule_setting)
        else:
            with db.session() as s:
                imported = official_amounts(s, settings.fee_schedule_setting)
        for year, codes in imported.items():
            overrides.setdefault(year, {}).update(codes)
            official[year] = frozenset(codes)
    return Policy(
        pool_practitioner_minutes=settings.pool_practitioner_minutes,
        cap_99437=settings.cap_99437,
        date_of_service=settings.date_of_service,
        amounts=overrides,
        official=official,
        facility=settings.fee_schedule_setting == "facility",
    )


class PolicySource:
    """The policy for a long-running door (chat, Slack, the scheduler): read again from the
    database at most once a minute, so a fee schedule imported while the bot runs is used within
    a minute, without a restart and without a query per question."""

    def __init__(self, settings: Settings, db: Database, *, ttl: float = 60.0) -> None:
        self.settings = settings
        self.db = db
        self.ttl = ttl
        self._policy: Policy | None = None
        self._read_at = 0.0

    def current(self) -> Policy:
        now = time.monotonic()
        if self._policy is None or now - self._read_at > self.ttl:
            self._policy = policy_from(self.settings, db=self.db)
            self._read_at = now
        return self._policy


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


def short_candidates(month: date, policy: Policy) -> Select[Any]:
    """The patients that may bill nothing yet in a program: the needs-time lists' candidates."""
    first, last = month_bounds(month)
    always = policy.pool_practitioner_minutes == "always"
    return short_of_first_code(first, last, first_code_minutes(first.year), practitioner_always_counts=always)


def blocked_candidates(month: date, policy: Policy) -> Select[Any]:
    """The patients that may be blocked by something other than minutes."""
    first, last = month_bounds(month)
    return possibly_blocked(first, last, CONDITIONS_NEEDED)


def with_time_candidates(month: date, policy: Policy) -> Select[Any]:
    """The patients with countable minutes in the month: the only ones that can bill in it."""
    first, _ = month_bounds(month)
    return with_countable_minutes(first)


def list_candidates(month: date, policy: Policy) -> Select[Any]:
    """Every patient any list could name: the short and the possibly blocked, read in one pass
    (the reminders compose the needs-time lists and the consent gaps from the same results)."""
    both = union(short_candidates(month, policy), blocked_candidates(month, policy)).subquery()
    return select(both.c[0])


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
        return list(_evaluate_each(_inputs(session, month, policy, scope, as_of), policy))


STREAM_CHUNK = 5_000  # patients whose inputs are held at once while a stream is made


def stream_month_results(
    session: Session, month: date, policy: Policy, *, scope: PatientScope = None, as_of: date | None = None, chunk: int = STREAM_CHUNK
) -> Iterator[PatientMonth]:
    """Every active patient's month (or the scope's) in key order, made one at a time as the
    caller takes them.

    The patients are read in ranges of `chunk` keys: each range's inputs in the same few queries
    as month_results (a range of the key index, which every table's patient index follows), and
    each patient's facts and result made and dropped as the caller takes it. So a report or a
    total holds one range's inputs, not the practice's, whatever its size."""
    with bulk_objects():
        edges = key_ranges(session, chunk, scope)
    for low, high in edges:
        part = patients_between(low, high, scope)
        with bulk_objects():
            inputs = _inputs(session, month, policy, part, as_of)
        yield from _evaluate_each(inputs, policy)


@dataclass
class _Inputs:
    """What the engine needs about the patients of one month, read in a fixed number of queries."""

    first: date
    rows: list[PatientRecord]
    history: dict[int, list[ConsentState]]
    complex_ids: set[int]
    contact: dict[int, date]  # the last live RPM call of the month, per patient
    by_day: dict[int, list[tuple[str, str, date, int]]]  # dated minutes, where dates matter
    until_day: dict[int, list[tuple[str, str, int]]] | None  # the month up to as_of, undated
    others: dict[int, list[tuple[str, date, int]]]  # practitioner time not by the billing practitioner
    until: date | None = None  # the last day read (the month's, or as_of)
    episodes: dict[int, list[tuple[date, date | None]]] = field(default_factory=dict)  # RPM episodes running in the month
    reading_days: dict[int, list[date]] = field(default_factory=dict)  # their days with device data, up to `until`


def _inputs(session: Session, month: date, policy: Policy, scope: PatientScope, as_of: date | None) -> _Inputs:
    first, last = month_bounds(month)
    # as_of: the month as it stood on that day (its minutes up to then), for "by this day last month".
    until = min(last, as_of) if as_of is not None else last
    rows = panel(session, first, last, scope=scope, with_consents=False)
    if not rows:
        return _Inputs(first, [], {}, set(), {}, {}, None, {})
    history = consent_history(session, last, scope)
    for row in rows:
        # The history is oldest first, so the last row per program is the consent as of the month's end.
        row.consents = {c.program: c for c in history.get(row.patient_id, [])}
    complex_ids = complex_mdm_patients(session, first, scope)
    contact = last_live_rpm_contact(session, first, until, scope)
    # Minutes by day matter only when consent starts inside the month or the initiating visit
    # falls in it (minutes before either do not count), or when the date of service is the
    # threshold day; everyone else's minutes count whole, from the month totals or, for the
    # month as it stood on a day, summed up to it.
    if policy.date_of_service == "threshold_date":
        by_day = dated_minutes(session, first, until, scope)
    else:
        dates_matter = union(consent_changed_in(first, last, scope), visit_in(first, last, scope)).subquery()
        by_day = dated_minutes(session, first, until, scope, select(dates_matter.c.patient_id))
    until_day = minutes_between(session, first, until, scope) if as_of is not None else None
    others = other_practitioner_minutes(session, first, until, scope)
    # RPM device periods run on 30 days from the start of monitoring: the episodes running in the
    # month and their days with data from each start, so that 99453 finds its period (two reads).
    episodes = episodes_between(session, first, until, scope)
    reading_days = episode_reading_days(session, first, until, scope) if episodes else {}
    return _Inputs(first, rows, history, complex_ids, contact, by_day, until_day, others, until, episodes, reading_days)


def _as_clinical_staff(minutes: tuple[Minutes, ...], others: list[tuple[str, date, int]]) -> tuple[Minutes, ...]:
    """Move practitioner minutes performed by another practitioner to the clinical staff track:
    they count toward 99490/99439 (and the other staff ladders), never toward 99491/99437."""
    dated = any(m.day is not None for m in minutes)
    moved: dict[tuple[str, date | None], int] = {}
    for program, day, count in others:
        key = (program, day if dated else None)
        moved[key] = moved.get(key, 0) + count
    out: list[Minutes] = []
    for m in minutes:
        if m.track == "practitioner" and (m.program, m.day) in moved:
            shift = min(m.minutes, moved.pop((m.program, m.day)))
            if m.minutes > shift:
                out.append(m._replace(minutes=m.minutes - shift))
            out.append(Minutes(m.program, "clinical_staff", shift, m.day))
        else:
            out.append(m)
    return tuple(out)


def _evaluate_each(inputs: _Inputs, policy: Policy) -> Iterator[PatientMonth]:
    every_day = policy.date_of_service == "threshold_date"
    first = inputs.first
    for row in inputs.rows:
        pid = row.patient_id
        if pid in inputs.by_day or every_day:
            minutes = tuple(Minutes(p, t, m, d) for p, t, d, m in inputs.by_day.get(pid, ()))
        elif inputs.until_day is not None:
            minutes = tuple(Minutes(p, t, m) for p, t, m in inputs.until_day.get(pid, ()))
        else:
            minutes = tuple(Minutes(p, t, m) for p, t, m in row.logged())
        if pid in inputs.others:
            minutes = _as_clinical_staff(minutes, inputs.others[pid])
        practitioner = row.billing_practitioner_id
        consents = tuple(
            ConsentEvent(c.program, c.status, c.effective_date, c.practitioner_id is None or c.practitioner_id == practitioner)
            for c in inputs.history.get(pid, ())
        )
        facts = MonthFacts(
            month=first,
            minutes=minutes,
            consents=consents,
            chronic_conditions=row.chronic_conditions,
            care_plan_date=row.care_plan_date,
            initiating_visit_date=row.initiating_visit_date,
            complex_mdm=pid in inputs.complex_ids,
            enrolments=row.programs,
            rpm_last_contact=inputs.contact.get(pid),
            has_billing_practitioner=practitioner is not None,
            device_periods=_device_periods(inputs, pid, consents) if pid in inputs.episodes else (),
        )
        yield PatientMonth(row, facts, evaluate(facts, policy))


def _device_periods(inputs: _Inputs, pid: int, consents: tuple[ConsentEvent, ...]) -> tuple[DevicePeriod, ...]:
    """The patient's RPM device periods that end in the month (their codes belong to it)."""
    first, last = month_bounds(inputs.first)
    through = inputs.until or last
    days = inputs.reading_days.get(pid, ())
    out: list[DevicePeriod] = []
    for start, end in inputs.episodes[pid]:
        out += [p for p in episode_periods(start, end, days, consents, through=through) if first <= p.end <= last]
    return tuple(out)


def device_statuses(session: Session, today: date, *, scope: PatientScope = None) -> list[DeviceStatus]:
    """Each running RPM episode's current 30-day period (of the scope's patients, or all), its data
    days so far and what its remaining days can still reach, by patient key: three reads for the
    whole practice (episodes, the last 30 days' readings, consent), never one per patient."""
    episodes = running_episodes(session, today, scope)
    if not episodes:
        return []
    ids = ids_scope(session, sorted({e.patient_id for e in episodes}))
    days = episode_reading_days(session, today, today, ids, since=today - timedelta(days=PERIOD_DAYS - 1))
    history = consent_history(session, today, ids)
    out = []
    for episode in episodes:
        pid, practitioner = episode.patient_id, episode.billing_practitioner_id
        consents = [
            ConsentEvent(c.program, c.status, c.effective_date, c.practitioner_id is None or c.practitioner_id == practitioner) for c in history.get(pid, ())
        ]
        start, _ = period_bounds(episode.start, today)
        period = episode_periods(start, episode.end, days.get(pid, ()), consents, through=today)[-1]._replace(includes_setup=False)
        blocked = None
        if practitioner is None:
            blocked = "no billing practitioner on file"
        elif not consented_days([today], consents)[0]:
            blocked = "no RPM consent on file"
        out.append(DeviceStatus(episode, outlook(period, today), blocked))
    return out
