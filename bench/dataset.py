"""The bench practice at any size: N active patients, 30 entries each in one month.

    .venv/bin/python -m bench.dataset --url URL [--patients N] [--mid-month]

The default is 20,000 patients and 600,000 entries in October 2026 (the month is over).
--mid-month builds the same practice as it stands on October 14: 8 entries a patient in the
first two weeks, so most patients are still short of a threshold (the reminders' worst case).
Built once per database and reused: a rebuild happens only when the counts do not match.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select, text

from storage.db import Database, make_engine
from storage.entries import rebuild_month_totals
from storage.models import Base, Consent, Patient, Staff, TimeEntry

PATIENTS = 20_000
ENTRIES_PER_PATIENT = 30
ENTRIES = PATIENTS * ENTRIES_PER_PATIENT
MONTH = date(2026, 10, 1)
MID_MONTH_DAY = 14  # "today" in a mid-month practice
MID_MONTH_ENTRIES = 8
SIZES = (5_000, 20_000, 80_000)
# Bumped whenever the generator changes, so an older build is rebuilt rather than reused.
VERSION_MARK = "UBENCHV2"
ACTIVITIES = ("medication_review", "lab_review", "patient_outreach", "care_plan", "care_coordination")

SQLITE_URL = "sqlite:///bench/bench.db"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ccmbot_bench"
DEFAULT_URLS = (SQLITE_URL, POSTGRES_URL)


@dataclass(frozen=True)
class Practice:
    patients: int = PATIENTS
    mid_month: bool = False

    @property
    def entries(self) -> int:
        return self.patients * (MID_MONTH_ENTRIES if self.mid_month else ENTRIES_PER_PATIENT)

    @property
    def today(self) -> date:
        """The day the practice is looked at: the last day of its month, or mid-month."""
        # The month's last day for the full practice: its entries run to the 31st, and no door
        # accepts an entry dated after today.
        return MONTH.replace(day=MID_MONTH_DAY if self.mid_month else 31)

    @property
    def suffix(self) -> str:
        """'' for the default practice (its databases keep their old names), else '_80000_mid'."""
        if self == Practice():
            return ""
        return f"_{self.patients}" + ("_mid" if self.mid_month else "")

    def urls(self) -> tuple[str, str]:
        """The SQLite file and PostgreSQL database this practice is built in."""
        return f"sqlite:///bench/bench{self.suffix}.db", f"{POSTGRES_URL}{self.suffix}"

    def url(self, backend: str) -> str:
        return self.urls()[0 if backend.startswith("sqlite") else 1]


def open_bench_database(url: str) -> Database:
    """Open (and for PostgreSQL, create) a benchmark database, apart from the test database."""
    if url.startswith("postgresql"):
        server, name = url.rsplit("/", 1)
        admin = make_engine(f"{server}/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return Database(url)


def _reset(database: Database) -> None:
    if database.is_sqlite:
        with database.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    else:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def is_built(database: Database, practice: Practice = Practice()) -> bool:
    with database.session() as s:
        return bool(
            s.scalar(select(func.count()).select_from(Staff).where(Staff.slack_user_id == VERSION_MARK)) == 1
            # Entries the benches log from chat are not the dataset's: count the imported ones.
            and s.scalar(select(func.count()).select_from(TimeEntry).where(TimeEntry.source == "import")) == practice.entries
            and s.scalar(select(func.count()).select_from(Patient)) == practice.patients
        )


def ensure_dataset(database: Database, practice: Practice = Practice(), seed: int = 7) -> None:
    if is_built(database, practice):
        return
    _reset(database)
    rng = random.Random(seed)
    patients = practice.patients
    with database.engine.begin() as conn:
        staff_rows = [
            {"id": i + 1, "slack_user_id": f"UB{i:05d}", "name": f"Staff {i}", "role": role, "is_admin": i == 0, "active": True}
            for i, role in enumerate(["physician", "np", "rn", "rn", "ma", "ma", "pharmacist", "lpn", "non_clinical", "rn"])
        ]
        staff_rows.append({"id": 11, "slack_user_id": VERSION_MARK, "name": "Bench version mark", "role": "non_clinical", "is_admin": False, "active": False})
        conn.execute(insert(Staff), staff_rows)
        programs = [rng.choice(("CCM", "CCM", "CCM;RPM", "PCM")) for _ in range(patients)]
        conn.execute(
            insert(Patient),
            [
                {
                    "id": i + 1,
                    "key": f"{100000 + i}",
                    "billing_practitioner_id": 1 + (i % 2),
                    "chronic_conditions": rng.choice((1, 2, 2, 3, 4)),
                    "care_plan_date": date(2026, 1, 1),
                    "initiating_visit_date": date(2025, 12, 1),
                    "programs": programs[i],
                    "active": True,
                }
                for i in range(patients)
            ],
        )
        # Nine patients in ten consented to each program they are enrolled in.
        conn.execute(
            insert(Consent),
            [
                {"patient_id": i + 1, "program": program, "status": "granted", "method": "verbal", "effective_date": date(2026, 2, 1)}
                for i in range(patients)
                if i % 10
                for program in programs[i].split(";")
            ],
        )
        tracks = {1: "practitioner", 2: "practitioner", 9: "non_clinical"}
        days = MID_MONTH_DAY if practice.mid_month else 31
        batch = []
        for n in range(practice.entries):
            performer = rng.randint(1, 10)
            enrolled = programs[n % patients]
            program = "RPM" if enrolled == "CCM;RPM" and n % 3 == 0 else enrolled.split(";")[0]
            batch.append(
                {
                    "patient_id": n % patients + 1,
                    "performed_by_id": performer,
                    "logged_by_id": performer,
                    "minutes": rng.choice((2, 3, 5, 5, 8, 10)),
                    "service_date": MONTH + timedelta(days=rng.randrange(days)),
                    "activity": rng.choice(ACTIVITIES),
                    "program": program,
                    "track": tracks.get(performer, "clinical_staff"),
                    # Half the RPM entries are calls with the patient: live contact for 99457.
                    "interactive": program == "RPM" and n % 2 == 0,
                    "source": "import",
                    "source_group": f"bench:{n}",
                    "source_key": f"bench:{n}#0",
                }
            )
            if len(batch) == 50_000:
                conn.execute(insert(TimeEntry), batch)
                batch = []
        if batch:
            conn.execute(insert(TimeEntry), batch)
    with database.transaction() as s:
        rebuild_month_totals(s)
    if database.is_sqlite:
        with database.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the bench practice (reused when it is already built).")
    parser.add_argument("--url", action="append", help="database URL (repeatable); default: the practice's SQLite file and PostgreSQL database")
    parser.add_argument("--patients", type=int, default=PATIENTS)
    parser.add_argument("--mid-month", action="store_true", help=f"the month as it stands on day {MID_MONTH_DAY}: most patients still short")
    args = parser.parse_args()
    practice = Practice(args.patients, args.mid_month)
    for url in args.url or practice.urls():
        database = open_bench_database(url)
        t = time.perf_counter()
        ensure_dataset(database, practice)
        print(f"{url}: {practice.patients} patients, {practice.entries} entries ready in {time.perf_counter() - t:.1f} s")
        database.dispose()


if __name__ == "__main__":
    main()
