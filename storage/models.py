"""Tables. Every change to them goes through storage.entries, consents, months or roster.

Service dates are local DATEs in the practice time zone; instants (created_at,
voided_at, ...) are UTC. Nothing is hard deleted: entries are voided, consents
and month closes keep their history.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.records import TOTAL_KEYS


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Named constraints so that migrations can refer to them on every backend.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Role(enum.StrEnum):
    physician = "physician"
    np = "np"
    pa = "pa"
    cns = "cns"
    cnm = "cnm"
    rn = "rn"
    lpn = "lpn"
    ma = "ma"
    pharmacist = "pharmacist"
    clinical_staff = "clinical_staff"
    non_clinical = "non_clinical"


class Track(enum.StrEnum):
    """Whose time it is decides which codes it can count toward (cms-rules §1 X6, §3)."""

    practitioner = "practitioner"
    clinical_staff = "clinical_staff"
    non_clinical = "non_clinical"


PRACTITIONER_ROLES = frozenset({Role.physician, Role.np, Role.pa, Role.cns, Role.cnm})
NON_CLINICAL_ROLES = frozenset({Role.non_clinical})


def track_for_role(role: Role | str) -> Track:
    role = Role(role)
    if role in PRACTITIONER_ROLES:
        return Track.practitioner
    if role in NON_CLINICAL_ROLES:
        return Track.non_clinical
    return Track.clinical_staff


class Program(enum.StrEnum):
    CCM = "CCM"
    PCM = "PCM"
    RPM = "RPM"
    BHI = "BHI"


ENROLMENT_PROGRAMS = ("CCM", "PCM", "RPM", "BHI", "APCM")


@lru_cache(maxsize=256)
def program_tuple(programs: str) -> tuple[str, ...]:
    """A patient's enrolments as stored ("CCM;RPM") as a tuple. Cached, and the tuple shared,
    because a practice has a handful of distinct values and the panel reads 20,000 of them."""
    return tuple(p for p in programs.split(";") if p)


class ConsentStatus(enum.StrEnum):
    granted = "granted"
    declined = "declined"
    revoked = "revoked"


ACTIVITIES = (
    "medication_review",
    "lab_review",
    "patient_outreach",
    "portal_message",
    "care_plan",
    "care_coordination",
    "caregiver_communication",
    "community_resources",
    "transition_of_care",
    "device_data_review",
    "other",
)


# Roles, programs and statuses are plain strings (no native ENUM): a new value is a code change, not a type migration.


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def track(self) -> Track:
        return track_for_role(self.role)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The practice's key exactly as typed in chat: a string, leading zeros kept.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    billing_practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    chronic_conditions: Mapped[int] = mapped_column(Integer, default=0)
    care_plan_date: Mapped[date | None] = mapped_column(Date)
    initiating_visit_date: Mapped[date | None] = mapped_column(Date)
    # Enrolled programs, e.g. "CCM" or "CCM;RPM" (APCM too: it blocks CCM and PCM).
    programs: Mapped[str] = mapped_column(String(40), default="CCM")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Bumped by database triggers whenever anything the billing engine reads about the patient
    # changes (this row, entries, consents, month facts, RPM episodes and readings): a kept
    # result made from an older version is stale (storage/kept_results.py).
    results_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    billing_practitioner: Mapped[Staff | None] = relationship()

    @property
    def program_list(self) -> list[str]:
        return list(program_tuple(self.programs))


class Consent(Base):
    """One row per change: the history of a patient's consent to a program."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_patient_program", "patient_id", "program", "effective_date"),
        # Consent that changed inside a month: the list questions' candidates ask it of every patient.
        Index("ix_consents_effective_date", "effective_date", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    program: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(16))  # verbal | written
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The billing practitioner the consent was given for: a new billing practitioner needs new
    # consent (cms-rules E4), so a grant for another practitioner does not gate billing.
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class PatientMonthFact(Base):
    """Facts about one patient-month that are not minutes (complex MDM for 99487)."""

    __tablename__ = "patient_month_facts"
    __table_args__ = (UniqueConstraint("patient_id", "month", name="uq_patient_month_facts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    complex_mdm: Mapped[bool] = mapped_column(Boolean, default=False)
    complex_reason: Mapped[str | None] = mapped_column(String(200))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# An RPM entry that was a live call with the patient (99457's interactive communication). Queries
# that want the partial index below must say exactly this: planners match the text, not its meaning.
LIVE_RPM_CALL = "program = 'RPM' AND interactive AND voided_at IS NULL"
# Active practitioner time: who performed it decides whether it counts toward 99491/99437.
PRACTITIONER_ENTRY = "track = 'practitioner' AND voided_at IS NULL"


class TimeEntry(Base):
    __tablename__ = "time_entries"
    __table_args__ = (
        # Covers the month aggregates: the panel and report read only this index.
        Index("ix_time_entries_month", "service_date", "voided_at", "patient_id", "program", "track", "minutes"),
        Index("ix_time_entries_patient_date", "patient_id", "service_date"),
        Index("ix_time_entries_performer_date", "performed_by_id", "service_date"),
        # With the one above, "my time" (performed or logged by me) is two index ranges, not the dates' every entry.
        Index("ix_time_entries_logger_date", "logged_by_id", "service_date"),
        # Covers minutes by staff member: the month's entries by performer from the index alone.
        Index("ix_time_entries_month_staff", "service_date", "voided_at", "performed_by_id", "patient_id", "minutes"),
        Index("ix_time_entries_source_group", "source_group"),
        # RPM calls with the patient (live contact, 99457): a handful of the month's rows, found
        # without reading the rest. Partial: both SQLite and PostgreSQL keep only those rows.
        Index("ix_time_entries_live_rpm", "service_date", "patient_id", sqlite_where=text(LIVE_RPM_CALL), postgresql_where=text(LIVE_RPM_CALL)),
        # Practitioner time with its performer: the minority of the month's rows, found without the rest.
        Index(
            "ix_time_entries_practitioner",
            "service_date", "patient_id", "performed_by_id", "program", "minutes",
            sqlite_where=text(PRACTITIONER_ENTRY), postgresql_where=text(PRACTITIONER_ENTRY),
        ),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    performed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    service_date: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(String(32))
    # Real-time two-way contact with the patient or a caregiver (a call, a visit): True; a voicemail,
    # a text, no answer: False; not said: None. RPM's interactive-communication rule reads only True.
    interactive: Mapped[bool | None] = mapped_column(Boolean)
    program: Mapped[str] = mapped_column(String(8))
    # The performer's track when the work was done: a later role change must not rewrite history.
    track: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    # source_group: the message (or command) the entry came from; source_key: unique per entry, the idempotency key.
    source_group: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str] = mapped_column(String(240), unique=True)
    source_link: Mapped[str | None] = mapped_column(String(400))
    # SHA-256 of the message text the entry came from: the same source key with another text is refused.
    source_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    void_reason: Mapped[str | None] = mapped_column(String(200))

    patient: Mapped[Patient] = relationship(foreign_keys=[patient_id])
    performed_by: Mapped[Staff] = relationship(foreign_keys=[performed_by_id])
    logged_by: Mapped[Staff] = relationship(foreign_keys=[logged_by_id])


# One month-total column per (program, track), in the order storage.records reads them.
TOTAL_COLUMNS = {(p, t): f"{p.lower()}_{t}" for p, t in TOTAL_KEYS}


class MonthTotal(Base):
    """Active minutes of one patient-month by program and track, kept by the ledger in the
    same transaction as the entries: the panel reads one row per patient instead of every entry."""

    __tablename__ = "month_totals"
    __table_args__ = (UniqueConstraint("month", "patient_id", name="uq_month_totals_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    ccm_practitioner: Mapped[int] = mapped_column(Integer, default=0)
    ccm_clinical_staff: Mapped[int] = mapped_column(Integer, default=0)
    ccm_non_clinical: Mapped[int] = mapped_column(Integer, default=0)
    pcm_practitioner: Mapped[int] = mapped_column(Integer, default=0)
    pcm_clinical_staff: Mapped[int] = mapped_column(Integer, default=0)
    pcm_non_clinical: Mapped[int] = mapped_column(Integer, default=0)
    rpm_practitioner: Mapped[int] = mapped_column(Integer, default=0)
    rpm_clinical_staff: Mapped[int] = mapped_column(Integer, default=0)
    rpm_non_clinical: Mapped[int] = mapped_column(Integer, default=0)
    bhi_practitioner: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bhi_clinical_staff: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bhi_non_clinical: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffMonthMinutes(Base):
    """Active minutes of one patient-month by the staff member who performed them, kept by the
    ledger in the same transaction as the entries (as month_totals are): "minutes by staff"
    reads one row per staff member and patient instead of every entry of the month."""

    __tablename__ = "staff_month_minutes"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """Append-only: what changed, who changed it, before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MonthClose(Base):
    __tablename__ = "month_closes"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    is_closed: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class ReminderDelivery(Base):
    """A reminder claimed before it is posted: the unique key makes it exactly once."""

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(400))


class SlackEvent(Base):
    """Every Slack event received, shared by all processes through the database.

    Its id makes a retry a no-op. A message event is stored here (body, status pending) and
    answered at once; a background worker handles it and clears the body, which holds message
    text. An event whose handler died is picked up again from here.
    """

    __tablename__ = "slack_events"
    __table_args__ = (Index("ix_slack_events_status_received", "status", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="done")  # pending | processing | done | failed
    body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(200))


class FeeScheduleAmount(Base):
    """One code's payment for a service year, computed from CMS's Physician Fee Schedule RVU
    file (`ccmbot amounts import`). A year with rows here is paid at these official amounts;
    codes and years without rows fall back to the built-in estimates, and say so."""

    __tablename__ = "fee_schedule_amounts"
    __table_args__ = (UniqueConstraint("year", "code", "setting", name="uq_fee_schedule_amounts_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(8))
    amount: Mapped[float] = mapped_column(Float)
    setting: Mapped[str] = mapped_column(String(16))  # non_facility | facility
    conversion_factor: Mapped[float] = mapped_column(Float)
    gpci: Mapped[str | None] = mapped_column(String(40))  # "work,pe,mp" when a locality was given
    source: Mapped[str] = mapped_column(String(200))  # the file's name
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))



# At most one RPM episode per patient is open (no end date): a second start ends the first.
OPEN_RPM_EPISODE = "end_date IS NULL"


class RpmEpisode(Base):
    """An RPM episode of care: monitoring from its start (set-up and education that day, 99453) to
    its last day. Device codes run on 30-day periods counted from the start (storage.rpm)."""

    __tablename__ = "rpm_episodes"
    __table_args__ = (
        Index("ix_rpm_episodes_patient_start", "patient_id", "start_date"),
        Index("uq_rpm_episodes_open", "patient_id", unique=True, sqlite_where=text(OPEN_RPM_EPISODE), postgresql_where=text(OPEN_RPM_EPISODE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)  # the last day of monitoring; None while it runs
    device: Mapped[str | None] = mapped_column(String(120))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# At most one running timer per person and patient: a second start (another replica, a double
# click) finds the first instead of adding one.
RUNNING_TIMER = "stopped_at IS NULL"


class Timer(Base):
    """A person's running clock on one patient's work (bot/timers.py): started, then stopped into a
    time entry (entry_id) or dropped. Kept after it stops, with how it ended, like every other row."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("uq_timers_running", "staff_id", "patient_id", unique=True, sqlite_where=text(RUNNING_TIMER), postgresql_where=text(RUNNING_TIMER)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    activity: Mapped[str] = mapped_column(String(32))
    program: Mapped[str | None] = mapped_column(String(8))  # None: the patient's enrolment decides, as for an entry
    interactive: Mapped[bool | None] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # UTC; the entry's day is its practice-local date
    source: Mapped[str] = mapped_column(String(16))  # the door it was started from
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # logged | cancelled | too_short (under a minute) | too_long (over the per-entry maximum: the person is asked)
    outcome: Mapped[str | None] = mapped_column(String(16))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("time_entries.id"))

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
    patient: Mapped[Patient] = relationship(foreign_keys=[patient_id])


class RpmReading(Base):
    """A day on which a patient's device sent data (`ccmbot rpm readings import`): one row per
    patient, local day and device however many readings that day had, so a re-import adds nothing."""

    __tablename__ = "rpm_readings"
    __table_args__ = (UniqueConstraint("patient_id", "day", "device_id", name="uq_rpm_readings_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    day: Mapped[date] = mapped_column(Date)  # the practice's local date of the reading
    device_id: Mapped[str] = mapped_column(String(64), default="")  # "" when the export names none
    source: Mapped[str] = mapped_column(String(200))  # the file's name
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KeptResult(Base):
    """The billing engine's answer for one patient-month, kept so that list questions and totals
    are SQL over one row per patient instead of an evaluation of the whole practice.

    A row is valid only while `version` equals the patient's `results_version` and `basis` equals
    the policy and engine fingerprint it was made under; anything else is recomputed on the next
    read (bot/kept.py). `through` is the last day counted: the month's last day, or an earlier
    day for "the month as it stood on that day"."""

    __tablename__ = "kept_results"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    through: Mapped[date] = mapped_column(Date, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(16))
    billable: Mapped[bool] = mapped_column(Boolean)
    total: Mapped[float] = mapped_column(Float)
    estimated: Mapped[bool] = mapped_column(Boolean)
    # "CCM 99490 1;CCM 99439 2": program, code and units of every code billed.
    codes: Mapped[str] = mapped_column(Text, default="")
    # One line per hard blocker: "program<TAB>reason<TAB>minutes logged in the program<TAB>detail".
    blockers: Mapped[str] = mapped_column(Text, default="")
    # The patient's rows of the month's CSV report, as bot.report writes them ("" for a month
    # kept through an earlier day): the report of a kept month is these, in key order.
    report: Mapped[str] = mapped_column(Text, default="")
