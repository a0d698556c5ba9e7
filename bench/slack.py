"""`ccmbot serve` under load: 20 concurrent senders, 2,000 distinct signed message events, each
sent twice (the second time as a retry, from another sender, so some arrive while the first is
still being handled), on PostgreSQL, against the local Web API stand-in.

Checks: exactly 2,000 entries and 2,000 confirmations; reports HTTP response times and how long
after the first request the last confirmation was posted.

    .venv/bin/python -m bench.slack [--events 2000] [--senders 20] [--workers 2] [--patients 20000]

--patients N runs on the bench practice of that size (bench/dataset.py: N patients and 30
entries each in October, built once in its own database); the events log November time for its
patients as its staff. Without it, a fresh practice of 200 patients and 20 nurses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, select, text

from bench.dataset import Practice, ensure_dataset, open_bench_database
from storage.entries import rebuild_month_totals
from storage.models import AuditEvent, Base, SlackEvent, TimeEntry
from storage.roster import PatientFields, upsert_patient, upsert_staff
from tests.bot.slack.conftest import BOT_TOKEN, SECRET, SignedSender, fixture
from tests.bot.slack.standin import StandIn

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ccmbot_bench_slack"
ROOT = Path(__file__).resolve().parent.parent
PATIENTS = 200
FIRST_TS = 1795791600  # 27 November 2026, 15:00 UTC


def prepare_large(patients: int) -> str:
    """The bench practice of that size in its own database, without the last run's chat entries."""
    practice = Practice(patients)
    url = f"{URL}_{patients}"
    database = open_bench_database(url)
    ensure_dataset(database, practice)
    with database.transaction() as s:
        s.execute(delete(TimeEntry).where(TimeEntry.source != "import"))
        s.execute(delete(SlackEvent))
        s.execute(delete(AuditEvent))
        rebuild_month_totals(s)
    database.dispose()
    return url


def prepare(senders: int) -> None:
    database = open_bench_database(URL)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    with database.transaction() as s:
        doctor, _ = upsert_staff(s, name="Dr. Bench", role="physician", slack_user_id="U0BENCHDOC", is_admin=True)
        for n in range(senders):
            upsert_staff(s, name=f"Nurse {n}", role="rn", slack_user_id=f"U0BENCH{n:03d}")
        s.flush()
        for n in range(PATIENTS):
            fields = PatientFields(
                key=str(5000 + n), billing_practitioner=doctor.name, chronic_conditions=2,
                care_plan_date=date(2026, 1, 5), initiating_visit_date=date(2026, 1, 2),
                consents=[("CCM", date(2026, 1, 5), "verbal")],
            )  # fmt: skip
            upsert_patient(s, fields, actor=None, today=date(2026, 11, 27))
    database.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=3917)
    parser.add_argument("--patients", type=int, default=0, help="run on the bench practice of this size (default: 200 fresh patients)")
    args = parser.parse_args()

    if args.patients:
        url = prepare_large(args.patients)
        keys = [str(100000 + n) for n in range(args.patients)]
        users = [f"UB{n:05d}" for n in range(10)]  # the bench practice's ten staff
    else:
        prepare(args.senders)
        url = URL
        keys = [str(5000 + n) for n in range(PATIENTS)]
        users = [f"U0BENCH{n:03d}" for n in range(args.senders)]
    standin = StandIn()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
    env.update(CCMBOT_DATABASE_URL=url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, CCMBOT_SLACK_API_URL=standin.api_url)
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(standin.of("auth.test")) < args.workers:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("ccmbot serve did not start; run it by hand to see why")
            time.sleep(0.1)
        sender = SignedSender(f"http://127.0.0.1:{args.port}/slack/events", standin)
        per = args.events // args.senders
        payloads = []
        for n in range(args.events):
            owner = n // per
            payload = fixture(
                "event_message",
                event_id=f"Ev0BENCH{n:05d}",
                event__user=users[owner % len(users)],
                event__ts=f"{FIRST_TS + n}.000100",
                event__text=f"{5 + n % 20} min med review for patient {keys[(n * 7919) % len(keys)]}",
            )
            payloads.append(json.dumps(payload).encode())
        # Sender k sends its own events, each followed by the retry of sender k-1's event at the same
        # position: retries of another sender's events can arrive while those are still being handled.
        times: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()

        def run(k: int) -> None:
            mine, theirs = range(k * per, (k + 1) * per), range(((k - 1) % args.senders) * per, ((k - 1) % args.senders + 1) * per)
            for own, other in zip(mine, theirs, strict=True):
                for body, retry in ((payloads[own], None), (payloads[other], 1)):
                    r = sender.post(body, "application/json", retry=retry)
                    with lock:
                        times.append(r.seconds)
                        statuses.append(r.status)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(args.senders)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        # Every answer came once its event was stored; wait for the workers' inboxes to finish.
        deadline = time.monotonic() + 300
        while len(standin.of("chat.postEphemeral")) < args.events and time.monotonic() < deadline:
            time.sleep(0.2)
        settled = time.perf_counter() - started
        database = open_bench_database(url)
        with database.session() as s:
            entries = s.scalar(select(func.count()).select_from(TimeEntry).where(TimeEntry.source != "import"))
        database.dispose()
        confirmations = len(standin.of("chat.postEphemeral"))
        ms = [t * 1000 for t in times]
        print(f"requests: {len(times)} in {wall:.1f} s ({len(times) / wall:.0f}/s), statuses: { {s: statuses.count(s) for s in set(statuses)} }")
        print(f"all confirmations posted after {settled:.1f} s" + (" (goal: within 40 s)" if args.patients else ""))
        print(f"entries stored: {entries} (expected {args.events}); confirmations posted: {confirmations} (expected {args.events})")
        print(
            f"response time: p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms, mean {statistics.mean(ms):.1f} ms"
        )
        ok = entries == args.events and confirmations == args.events and set(statuses) == {200}
        print("exactly once: " + ("yes" if ok else "NO"))
        if not ok:
            raise SystemExit(1)
    finally:
        server.terminate()
        server.wait(timeout=30)
        standin.close()


if __name__ == "__main__":
    main()
