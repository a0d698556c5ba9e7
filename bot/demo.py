"""A believable practice for the demo chat: the example roster plus 35 more patients
with varied conditions, consents and minutes in this month and the last.

Seeding is idempotent: every seeded entry has a fixed source key, so starting the
demo again adds only what is missing (a new month's minutes), and an entry the
user undid stays undone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.config import DEMO_DATABASE_URL, DEMO_SPEAKER
from bot.months import month_bounds, previous_month
from storage.db import Database
from storage.entries import EntryDraft, log_entries
from storage.roster import PatientFields, find_patient, find_staff, has_patients, import_patients_csv, import_staff_csv, upsert_patient

__all__ = ["DEMO_DATABASE_URL", "DEMO_SPEAKER", "seed"]

EXAMPLES = Path(__file__).with_name("examples")  # package data: the demo works from an installed package

CLINICAL = ("Maria Santos", "Tyler Brooks", "Priya Nair")
PRACTITIONERS = ("Dr. Amara Okafor", "Jordan Lee")
ACTIVITIES = (
    ("medication_review", (5, 10, 15)),
    ("patient_outreach", (5, 8, 10, 12)),
    ("lab_review", (5, 10)),
    ("care_coordination", (10, 15, 20)),
    ("care_plan", (15, 20, 30)),
    ("caregiver_communication", (5, 10)),
    ("community_resources", (10, 15)),
)


@dataclass(frozen=True)
class DemoPatient:
    key: str
    conditions: int
    consent: str | None  # verbal | written | None
    target: int  # clinical-staff minutes aimed at this month (before the month is over)
    practitioner_minutes: int = 0
    programs: str = "CCM"
    care_plan: bool = True


def demo_patients() -> list[DemoPatient]:
    """35 patients, the same every time: a spread a coordinator would recognise."""
    rng = random.Random(2026)
    out = []
    for n in range(35):
        key = str(2001 + n)
        consent = None if n % 9 == 4 else rng.choice(("verbal", "verbal", "written"))
        conditions = 1 if n % 11 == 6 else rng.choice((2, 2, 3, 3, 4, 5))
        # A third close to 20, a third already past it, the rest early or untouched.
        target = (15, 17, 18, 19, 12, 8, 0, 22, 25, 31, 38, 41, 45, 0, 5)[n % 15] + rng.choice((0, 0, 1, 2))
        practitioner = 32 if n % 12 == 2 else (12 if n % 12 == 7 else 0)
        programs = "CCM;RPM" if n % 8 == 3 else "CCM"
        out.append(DemoPatient(key, conditions, consent, target, practitioner, programs, care_plan=n != 20))
    return out


# Minutes for the example roster's patients (their consents and conditions come from bot/examples/patients.csv).
EXAMPLE_MINUTES = [
    DemoPatient("123", 3, "verbal", 17),
    DemoPatient("456", 2, "written", 24, programs="CCM;RPM"),
    DemoPatient("0789", 1, None, 18, programs="PCM"),
    DemoPatient("1001", 4, None, 26),
    DemoPatient("00045123", 2, "verbal", 11),
]


def _entries_for(patient: DemoPatient, first: date, last: date, rng: random.Random) -> list[tuple[str, EntryDraft]]:
    """(performer name, draft) pairs adding up to the patient's targets, dated between first and last."""
    out: list[tuple[str, EntryDraft]] = []
    span = (last - first).days

    def add(performer: str, total: int, program: str = "CCM") -> None:
        left = total
        while left > 0:
            activity, choices = rng.choice(ACTIVITIES)
            minutes = min(left, rng.choice(choices))
            day = first + timedelta(days=rng.randint(0, span))
            out.append((performer, EntryDraft(patient.key, minutes, day, activity, program)))
            left -= minutes

    add(rng.choice(CLINICAL), patient.target, patient.programs.split(";")[0])
    if patient.practitioner_minutes:
        add(rng.choice(PRACTITIONERS), patient.practitioner_minutes)
    if "RPM" in patient.programs:
        day = first + timedelta(days=rng.randint(0, span))
        out.append(("Maria Santos", EntryDraft(patient.key, 10, day, "patient_outreach", "RPM")))
        add("Tyler Brooks", 6, "RPM")
    return out


def seed(database: Database, today: date) -> None:
    """Load the example roster and the demo patients, then this month's and last month's minutes."""
    if not (EXAMPLES / "staff.csv").is_file():
        raise ValueError(f"the demo needs the example roster in {EXAMPLES}; reinstall ccmbot, the package ships it")
    with database.transaction() as s:
        import_staff_csv(s, EXAMPLES / "staff.csv")
        if not has_patients(s):
            import_patients_csv(s, EXAMPLES / "patients.csv", today=today)
        for p in demo_patients():
            consent_day = date(today.year - 1, 6, 1) + timedelta(days=int(p.key) % 180)
            fields = PatientFields(
                key=p.key,
                billing_practitioner=PRACTITIONERS[int(p.key) % 2],
                chronic_conditions=p.conditions,
                care_plan_date=consent_day if p.care_plan else None,
                initiating_visit_date=consent_day - timedelta(days=14),
                programs=p.programs,
                consents=[(program, consent_day, p.consent) for program in p.programs.split(";")] if p.consent else [],
            )
            if find_patient(s, p.key) is None:
                upsert_patient(s, fields, actor=None, today=today)
        s.flush()
        staff = {name: find_staff(s, name) for name in CLINICAL + PRACTITIONERS}
        this_first, _ = month_bounds(today)
        last_first, last_last = month_bounds(previous_month(today))
        # The current month runs up to yesterday (today's time is for the user to log); last month is complete.
        months = [(last_first, last_last)]
        if today > this_first:
            months.append((this_first, today - timedelta(days=1)))
        for first, last in months:
            rng = random.Random(first.isoformat())
            for p in EXAMPLE_MINUTES + demo_patients():
                for index, (performer, draft) in enumerate(_entries_for(p, first, last, rng)):
                    member = staff[performer]
                    assert member is not None
                    log_entries(
                        s,
                        [draft],
                        performed_by=member,
                        logged_by=member,
                        source="terminal",
                        source_group=f"demo-seed:{first:%Y-%m}:{p.key}:{index}",
                        today=today,
                        max_minutes=240,
                    )
