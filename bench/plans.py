"""bench/plans: the query plans of the reads changed for issue 21, on both databases.

    .venv/bin/python -m bench.plans [--patients 20000]

Prints, for each read, the index (or scan) each database chooses on the bench practice, so
bench/README.md can say which index each read uses, and a change of plan shows up in review.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select, text

from bench.dataset import MONTH, Practice, open_bench_database
from bot.billing import CONDITIONS_NEEDED, first_code_minutes
from bot.months import month_bounds
from storage.candidates import possibly_blocked, short_of_first_code
from storage.kept_results import BLOCKED, code_billed, kept_query, stale_query
from storage.models import LIVE_RPM_CALL, Consent, MonthTotal, StaffMonthMinutes, TimeEntry
from storage.queries import keys_scope, patients_between

FIRST, LAST = month_bounds(MONTH)


def reads(key: str) -> dict[str, Callable[[], Select[Any]]]:
    one = keys_scope([key])
    return {
        "one patient: month totals": lambda: select(MonthTotal).where(MonthTotal.month == FIRST, MonthTotal.patient_id.in_(one)),
        "one patient: consent history": lambda: select(Consent).where(Consent.effective_date <= LAST, Consent.patient_id.in_(one)),
        "one patient: live RPM call": lambda: (
            select(TimeEntry.patient_id)
            .where(text(LIVE_RPM_CALL), TimeEntry.service_date >= FIRST, TimeEntry.service_date <= LAST, TimeEntry.patient_id.in_(one))
            .distinct()
        ),
        "one patient: minutes by day": lambda: select(TimeEntry.service_date, TimeEntry.minutes).where(
            TimeEntry.patient_id.in_(one), TimeEntry.service_date >= FIRST, TimeEntry.service_date <= LAST
        ),
        "every patient: live RPM calls": lambda: (
            select(TimeEntry.patient_id).where(text(LIVE_RPM_CALL), TimeEntry.service_date >= FIRST, TimeEntry.service_date <= LAST).distinct()
        ),
        "consent changed in the month": lambda: select(Consent.patient_id).where(Consent.effective_date >= FIRST, Consent.effective_date <= LAST),
        "candidates: short of a first code": lambda: short_of_first_code(FIRST, LAST, first_code_minutes(FIRST.year)),
        "candidates: possibly blocked": lambda: possibly_blocked(FIRST, LAST, CONDITIONS_NEEDED),
        "a range of keys: month totals": lambda: select(MonthTotal).where(
            MonthTotal.month == FIRST, MonthTotal.patient_id.in_(patients_between("100000", "104999"))
        ),
        "a range of keys: consent history": lambda: select(Consent).where(
            Consent.effective_date <= LAST, Consent.patient_id.in_(patients_between("100000", "104999"))
        ),
        "kept results: the stale (every patient)": lambda: stale_query(FIRST, LAST, "0" * 16),
        "kept results: codes reached": lambda: kept_query(FIRST, LAST, "0" * 16, [code_billed("99490")]),
        "kept results: blocked": lambda: kept_query(FIRST, LAST, "0" * 16, [BLOCKED]),
        "minutes by staff (kept per performer and patient)": lambda: select(StaffMonthMinutes.staff_id, func.sum(StaffMonthMinutes.minutes), func.count())
        .where(StaffMonthMinutes.month == FIRST, StaffMonthMinutes.minutes > 0)
        .group_by(StaffMonthMinutes.staff_id),
        "my time this week (performed or logged by me)": lambda: select(func.sum(TimeEntry.minutes), func.count()).where(
            TimeEntry.service_date >= LAST - timedelta(days=5), TimeEntry.service_date <= LAST, TimeEntry.voided_at.is_(None),
            (TimeEntry.performed_by_id == 1) | (TimeEntry.logged_by_id == 1),
        ),
        "nudges: whose patients (one query)": lambda: select(TimeEntry.performed_by_id, TimeEntry.patient_id).where(
            TimeEntry.service_date >= FIRST, TimeEntry.service_date <= FIRST + timedelta(days=13), TimeEntry.patient_id.in_(one)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=20_000)
    args = parser.parse_args()
    practice = Practice(args.patients)
    for backend in ("sqlite", "postgresql"):
        database = open_bench_database(practice.url(backend))
        print(f"== {backend}, {args.patients} patients")
        with database.engine.connect() as conn:
            for name, build in reads(str(100000 + args.patients // 2)).items():
                sql = str(build().compile(conn, compile_kwargs={"literal_binds": True}))
                prefix = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN (COSTS OFF) "
                plan = [str(tuple(row)[-1]).strip() for row in conn.exec_driver_sql(prefix + sql)]
                print(f"-- {name}")
                for line in plan:
                    print(f"     {line}")
        database.dispose()


if __name__ == "__main__":
    main()
