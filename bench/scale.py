"""bench/scale: how each read grows with the practice, at 5,000, 20,000 and 80,000 patients.

    .venv/bin/python -m bench.scale [--sizes 5000 20000 80000] [--backend sqlite|postgresql] [--runs 3]

For each size and database it measures, in one process (medians of --runs after one warm-up):
- panel: storage.queries.panel for the month;
- log, status: one patient's "15 min ..." (then undone) and "status KEY" through Assistant.handle;
- every question family of bench/questions through Assistant.handle, and the slowest of them;
- GROUP BY: a bare aggregate of the month's entries, the issue's yardstick for a question;
- report: `ccmbot report --month 2026-10 --out FILE` run in-process in a fresh interpreter,
  with its peak memory growth (max RSS after, less RSS before) per patient;
- report with nothing kept: the same after emptying the kept results, each run;
- floor: fetching the report's inputs (patients, month totals, consents, live RPM calls) and
  writing one CSV row per patient, the least any report can cost;
- what we bill with nothing kept: "what will we bill this month?" once, right after emptying the
  kept results (the first question after an engine upgrade or a fee schedule import);
- reminders: `Reminders.preview` of a mid-month weekday (digest, nudges for all 10 staff,
  consent gaps) on the --mid-month practice of the same size (most patients still short).
The demo practice (40 patients, `ccmbot demo`'s seed) gives the small-practice figures for
log and status. Then it prints the growth exponent of each read (the slope of log time
against log size, least squares over the sizes).

Only interfaces that every version of the code has are used (Assistant.handle,
Reminders.preview, the report command, storage.queries.panel), so the same bench can time an
older checkout: put this bench first and the old code second on PYTHONPATH (see bench/README.md).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import delete, func, select, text

from bench.dataset import MID_MONTH_DAY, MONTH, Practice, ensure_dataset, open_bench_database
from bench.questions import ASKER, QUESTIONS
from bot.assistant import Assistant, Message
from bot.config import Settings
from bot.demo import DEMO_SPEAKER
from bot.months import month_bounds
from storage.db import Database
from storage.models import LIVE_RPM_CALL, Consent, MonthTotal, Patient, TimeEntry
from storage.queries import panel

NURSE = "UB00002"
DEMO_NAME = "ccmbot_bench_demo"


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        gc.collect()
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]) * 1000


def one_patient(database: Database, url: str, today: date, key: str, runs: int, nurse: str = NURSE) -> dict[str, float]:
    assistant = Assistant(database, Settings(database_url=url))
    log_times = []
    for _ in range(runs + 1):
        gc.collect()
        t = time.perf_counter()
        reply = assistant.handle(Message(nurse, f"15 min med review for patient {key}", today=today))
        log_times.append(time.perf_counter() - t)
        assert reply.text.startswith("Logged"), reply.text
        assistant.handle(Message(nurse, "undo", today=today))  # the bench leaves the data as it found it
    status = median_ms(lambda: assistant.handle(Message(nurse, f"status {key}", today=today)), runs)
    return {"log": statistics.median(log_times[1:]) * 1000, "status": status}


def forget_kept(database: Database) -> bool:
    """Empty the kept results (bot/kept.py), as an engine upgrade or a fee schedule import leaves
    them; False on code older than the kept results."""
    try:
        from storage.models import KeptResult  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return False
    with database.transaction() as s:
        s.execute(delete(KeptResult))
    return True


def billing_cold_ms(database: Database, assistant: Assistant, today: date) -> float:
    """"what will we bill this month?" with no kept result (bot/kept.py): the first question
    after an upgrade of the engine or a fee schedule import, before the scheduler's warm-up.
    One run: the run itself keeps the results. 0 on code older than the kept results."""
    if not forget_kept(database):
        return 0.0
    gc.collect()
    t = time.perf_counter()
    assistant.handle(Message(ASKER, "what will we bill this month?", today=today))
    return (time.perf_counter() - t) * 1000


def group_by_ms(database: Database, runs: int) -> float:
    first, last = month_bounds(MONTH)
    query = (
        select(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track, func.sum(TimeEntry.minutes))
        .where(TimeEntry.service_date >= first, TimeEntry.service_date <= last, TimeEntry.voided_at.is_(None))
        .group_by(TimeEntry.patient_id, TimeEntry.program, TimeEntry.track)
    )
    with database.session() as s:
        return median_ms(lambda: s.execute(query).all(), runs)


def floor_ms(database: Database, runs: int) -> float:
    """Fetch what a report needs and write one CSV row per patient: no evaluation at all."""
    first, last = month_bounds(MONTH)

    def work() -> None:
        with database.session() as s:
            patients = s.execute(
                select(Patient.id, Patient.key, Patient.programs, Patient.chronic_conditions, Patient.care_plan_date, Patient.initiating_visit_date)
                .where(Patient.active.is_(True))
                .order_by(Patient.key)
            ).all()
            totals = {row[0]: row[1:] for row in s.execute(select(MonthTotal.__table__).where(MonthTotal.month == first)).all()}
            consents: dict[int, list[object]] = {}
            for row in s.execute(select(Consent.patient_id, Consent.program, Consent.status, Consent.effective_date).where(Consent.effective_date <= last)):
                consents.setdefault(row[0], []).append(row[1:])
            live = set(
                s.scalars(
                    # The report's own read of live calls, on its partial index (the predicate word for word).
                    select(TimeEntry.patient_id)
                    .where(text(LIVE_RPM_CALL), TimeEntry.service_date >= first, TimeEntry.service_date <= last)
                    .distinct()
                )
            )
        with tempfile.TemporaryFile("w+", newline="") as handle:
            writer = csv.writer(handle)
            for p in patients:
                writer.writerow([*p[1:], *totals.get(p[0], ()), len(consents.get(p[0], ())), p[0] in live])

    return median_ms(work, runs)


# The peak is VmHWM, this process's own high-water mark: getrusage's ru_maxrss would carry the
# forking parent's resident size across exec on Linux.
REPORT_PROBE = """
import json, sys, time
from bot.cli import cli
import bot.assistant, bot.evaluation, bot.report, storage.db  # imported before the baseline is read
def status(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field))
rss0 = status("VmRSS:")  # KiB resident now
t = time.perf_counter()
cli(["report", "--month", sys.argv[1], "--out", sys.argv[2]], standalone_mode=False)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "grown_kib": status("VmHWM:") - rss0}))
"""


def report_run(url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
        env["CCMBOT_DATABASE_URL"] = url
        out = subprocess.run([sys.executable, "-c", REPORT_PROBE, f"{MONTH:%Y-%m}", f"{tmp}/report.csv"], env=env, capture_output=True, text=True, check=True)
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return result


def reminders_ms(url: str, runs: int) -> tuple[float, int]:
    """A mid-month weekday's preview: the digest, a nudge for each staff member, consent gaps."""
    from bot.reminders import Reminders

    database = open_bench_database(url)
    settings = Settings(
        database_url=url,
        reminder_channel="C0BENCH",
        reminders=("digest", "nudges", "consent_gaps"),
        digest_from_day=1,
        consent_gaps_weekday=MONTH.replace(day=MID_MONTH_DAY).weekday(),
    )
    when = datetime.combine(MONTH.replace(day=MID_MONTH_DAY), datetime.min.time().replace(hour=16), tzinfo=settings.tz)
    reminders = Reminders(database, settings)
    posts = 0

    def work() -> None:
        nonlocal posts
        posts = sum(len(o.posts) for o in reminders.preview(when))

    elapsed = median_ms(work, runs)
    database.dispose()
    return elapsed, posts


def demo_database(backend: str) -> tuple[Database, str]:
    """The demo practice (40 patients) in a fresh database of the backend."""
    from bot.demo import seed

    if backend == "sqlite":
        path = os.path.join(tempfile.mkdtemp(), "demo.db")
        url = f"sqlite:///{path}"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DEMO_NAME}"
        admin = open_bench_database(url.rsplit("/", 1)[0] + "/postgres")
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DEMO_NAME}"'))
            conn.execute(text(f'CREATE DATABASE "{DEMO_NAME}"'))
        admin.dispose()
    database = Database(url)
    seed(database, date(2026, 11, 20))
    return database, url


def exponent(sizes: list[int], values: list[float]) -> float:
    xs, ys = [math.log(n) for n in sizes], [math.log(max(v, 1e-6)) for v in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def measure_size(backend: str, size: int, runs: int) -> dict[str, float]:
    practice = Practice(size)
    url = practice.url(backend)
    database = open_bench_database(url)
    ensure_dataset(database, practice)
    today = practice.today
    out: dict[str, float] = {}
    with database.session() as s:
        first, last = month_bounds(MONTH)
        out["panel"] = median_ms(lambda: panel(s, first, last), runs)
    out.update(one_patient(database, url, today, f"{100000 + size // 2}", runs))
    assistant = Assistant(database, Settings(database_url=url))
    out["billing cold"] = billing_cold_ms(database, assistant, today)
    questions = {}
    for question in QUESTIONS:

        def ask(q: str = question) -> object:
            return assistant.handle(Message(ASKER, q, today=today))

        questions[question] = median_ms(ask, runs)
    out["who needs time"] = questions["who still needs time?"]
    out["slowest question"] = max(questions.values())
    out["slowest question is"] = QUESTIONS.index(max(questions, key=lambda q: questions[q]))
    out["GROUP BY"] = group_by_ms(database, runs)
    # The report of a month whose results are kept (the questions above kept October's), then of
    # one with nothing kept: the first report after an engine upgrade or a fee schedule import.
    reports = [report_run(url) for _ in range(runs)]
    out["report"] = statistics.median(r["seconds"] for r in reports) * 1000
    out["report KiB/patient"] = statistics.median(r["grown_kib"] for r in reports) / size
    colds = []
    for _ in range(runs):
        forget_kept(database)
        colds.append(report_run(url))
    out["report cold"] = statistics.median(r["seconds"] for r in colds) * 1000
    out["report cold KiB/patient"] = statistics.median(r["grown_kib"] for r in colds) / size
    database.dispose()
    database = open_bench_database(url)
    out["floor"] = floor_ms(database, runs)
    database.dispose()
    mid = Practice(size, mid_month=True)
    mid_database = open_bench_database(mid.url(backend))
    ensure_dataset(mid_database, mid)
    mid_database.dispose()
    out["reminders"], out["reminder posts"] = reminders_ms(mid.url(backend), max(1, runs - 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 80_000])
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for backend in args.backend or ["sqlite", "postgresql"]:
        database, url = demo_database(backend)
        demo = one_patient(database, url, date(2026, 11, 20), "123", args.runs, nurse=DEMO_SPEAKER)
        database.dispose()
        print(f"{backend}: demo practice (40 patients): log {demo['log']:.1f} ms, status {demo['status']:.1f} ms", flush=True)
        rows = {}
        for size in args.sizes:
            rows[size] = measure_size(backend, size, args.runs)
            r = rows[size]
            print(
                f"{backend} {size:>6}: panel {r['panel']:.0f} | log {r['log']:.1f} ({r['log'] / demo['log']:.1f}x demo) | "
                f"status {r['status']:.1f} ({r['status'] / demo['status']:.1f}x demo) | who needs time {r['who needs time']:.0f} | "
                f"slowest question {r['slowest question']:.0f} ({QUESTIONS[int(r['slowest question is'])]!r}) | GROUP BY {r['GROUP BY']:.0f} | "
                f"report {r['report']:.0f} (floor {r['floor']:.0f}, {r['report'] / r['floor']:.1f}x; {r['report KiB/patient']:.2f} KiB/patient) | "
                f"report with nothing kept {r['report cold']:.0f} ({r['report cold'] / r['floor']:.1f}x; {r['report cold KiB/patient']:.2f} KiB/patient) | "
                f"reminders mid-month {r['reminders']:.0f} ({int(r['reminder posts'])} posts) | "
                f"what we bill with nothing kept {r['billing cold']:.0f}  [ms]",
                flush=True,
            )
        if len(rows) > 1:
            sizes = sorted(rows)
            keys = ("panel", "log", "status", "who needs time", "slowest question", "GROUP BY", "report", "report cold", "floor", "reminders", "billing cold")
            print(f"{backend} growth exponents: " + ", ".join(f"{k} {exponent(sizes, [rows[n][k] for n in sizes]):.2f}" for k in keys), flush=True)


if __name__ == "__main__":
    main()
