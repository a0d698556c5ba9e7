"""Test database: a fresh SQLite file, or the PostgreSQL at CCMBOT_TEST_DATABASE_URL.

The schema is built by the real migrations once per run; each test starts from
empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.db import Database, make_engine
from storage.models import Base, Patient, Staff
from storage.roster import PatientFields, upsert_patient, upsert_staff

TODAY = date(2026, 11, 27)


def _test_url(tmp_dir: Path) -> str:
    url = os.environ.get("CCMBOT_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / 'test.db'}"
    # pytest-xdist runs the suite in workers (gw0, gw1, ...): each gets a database of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{url}_{worker}" if worker else url


def _reset_postgres(url: str) -> None:
    server, name = url.rsplit("/", 1)
    admin = make_engine(f"{server}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _test_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        try:
            _reset_postgres(url)
        except Exception as exc:  # the PostgreSQL run must never pass by skipping
            pytest.exit(f"cannot reach the test PostgreSQL at {url}: {exc}", returncode=3)
    return url


@pytest.fixture(scope="session")
def _database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def clear_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def db(_database: Database) -> Database:
    clear_tables(_database)
    return _database


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        yield s


class Roster:
    """A small practice for tests: named staff of each track and a few patients."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.doctor = self.staff("Dr. Okafor", "physician", "UDOC", admin=True)
        self.nurse = self.staff("Maria Santos", "rn", "UNURSE")
        self.ma = self.staff("Tyler Brooks", "ma", "UMA")
        self.clerk = self.staff("Front Desk", "non_clinical", "UCLERK")
        session.commit()

    def staff(self, name: str, role: str, slack_id: str, admin: bool = False) -> Staff:
        member, _ = upsert_staff(self.s, name=name, role=role, slack_user_id=slack_id, is_admin=admin)
        return member

    def patient(
        self, key: str, *, consent: date | None = date(2026, 1, 5), conditions: int = 2, programs: str = "CCM", practitioner: str | None = None
    ) -> Patient:
        fields = PatientFields(
            key=key,
            billing_practitioner=practitioner or self.doctor.name,
            chronic_conditions=conditions,
            care_plan_date=date(2026, 1, 5),
            initiating_visit_date=date(2026, 1, 2),
            programs=programs,
            consents=[(p, consent, "verbal") for p in programs.split(";") if p != "APCM"] if consent else [],
        )
        patient, _ = upsert_patient(self.s, fields, actor=None, today=TODAY)
        self.s.commit()
        return patient


@pytest.fixture
def roster(session: Session) -> Roster:
    return Roster(session)
