"""bench/questions: each question family answered in-process on the 20,000-patient practice.

    .venv/bin/python -m bench.questions [--url URL] [--runs 3]

The goal (issue 15): every answer under 1 s. The questions go through Assistant.handle, as a
chat message does: grammar, roster check, evaluation of the month by the billing engine, words.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from bench.dataset import MONTH, PATIENTS, Practice, ensure_dataset, open_bench_database
from bot.assistant import Assistant, Message
from bot.config import Settings

TODAY = Practice().today  # October 31: the practice's entries run to the month's last day
ASKER = "UB00000"  # Staff 0, a physician: may see colleagues' time and everyone's minutes
QUESTIONS = (
    "who still needs time?",
    "who's within 5 min?",
    "who still needs time for Staff 1?",
    "who has no time yet?",
    "which patients are blocked and why?",
    "who needs a care plan?",
    "how many patients reached 99490?",
    "what will we bill this month?",
    f"who fell short in {MONTH:%Y-%m}?",
    "status 100123 for October",
    "my time this week",
    "minutes by staff this month",
)


def measure(url: str, runs: int, practice: Practice | None = None) -> list[tuple[str, float, float, str]]:
    database = open_bench_database(url)
    ensure_dataset(database, practice or Practice())
    assistant = Assistant(database, Settings(database_url=url))
    out = []
    for question in QUESTIONS:
        timings, first = [], ""
        for _ in range(runs + 1):
            gc.collect()
            t = time.perf_counter()
            reply = assistant.handle(Message(ASKER, question, today=TODAY))
            timings.append(time.perf_counter() - t)
            first = reply.text.splitlines()[0][:70]
        timings = timings[1:]  # the first run warms the caches
        out.append((question, statistics.median(timings) * 1000, max(timings) * 1000, first))
    database.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append", help="database URL (repeatable); default: SQLite file and local PostgreSQL")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--patients", type=int, default=PATIENTS, help="the bench practice's size (bench/dataset.py)")
    args = parser.parse_args()
    practice = Practice(args.patients)
    for url in args.url or practice.urls():
        print(f"questions: {practice.patients} patients, {url.split(':')[0]}, {args.runs} runs after 1 warm-up")
        for question, median, worst, first in measure(url, args.runs, practice):
            print(f"  {median:7.0f} ms median  {worst:7.0f} ms max  {question:40}  -> {first}")


if __name__ == "__main__":
    main()
