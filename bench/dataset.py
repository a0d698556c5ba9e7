"""A large practice for benchmarks: 20,000 active patients, 600,000 entries in one month.

Built once per database URL and reused (a marker row says it is complete).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, insert, select, text

from storage.db import Database, make_engine
from storage.entries import rebuild_month_totals
from storage.models import Base, Consent, Patient, Staff, TimeEntry

PATIENTS = 20_000
ENTRIES = 600_000
MONTH = date(2026, 10, 1)
ACTIVITIES = ("medication_review", "lab_review", "patient_outreach", "care_plan", "care_coordination")


SQLITE_URL = "sqlite:///bench/bench.db"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ccmbot_bench"
DEFAULT_URLS = (SQLITE_URL, POSTGRES_URL)


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


def ensure_dataset(database: Database, seed: int = 7) -> None:
    with database.session() as s:
        if s.scalar(select(func.count()).select_from(TimeEntry)) == ENTRIES and s.scalar(select(func.count()).select_from(Patient)) == PATIENTS:
            return
    _reset(database)
    rng = random.Random(seed)
    with database.engine.begin() as conn:
        staff_rows = [
            {"id": i + 1, "slack_user_id": f"UB{i:05d}", "name": f"Staff {i}", "role": role, "is_admin": False, "active": True}
            for i, role in enumerate(["physician", "np", "rn", "rn", "ma", "ma", "pharmacist", "lpn", "non_clinical", "rn"])
        ]
        conn.execute(insert(Staff), staff_rows)
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
                    "programs": rng.choice(("CCM", "CCM", "CCM;RPM", "PCM")),
                    "active": True,
                }
                for i in range(PATIENTS)
            ],
        )
        conn.execute(
            insert(Consent),
            [
                {"patient_id": i + 1, "program": "CCM", "status": "granted", "method": "verbal", "effective_date": date(2026, 2, 1)}
                for i in range(PATIENTS)
                if i % 10
            ],
        )
        tracks = {1: "practitioner", 2: "practitioner", 9: "non_clinical"}
        batch = []
        for n in range(ENTRIES):
            performer = rng.randint(1, 10)
            batch.append(
                {
                    "patient_id": n % PATIENTS + 1,
                    "performed_by_id": performer,
                    "logged_by_id": performer,
                    "minutes": rng.choice((2, 3, 5, 5, 8, 10)),
                    "service_date": MONTH + timedelta(days=rng.randrange(31)),
                    "activity": rng.choice(ACTIVITIES),
                    "program": "RPM" if n % 7 == 0 else "CCM",
                    "track": tracks.get(performer, "clinical_staff"),
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
