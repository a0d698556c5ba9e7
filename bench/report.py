"""bench/report: the month report (facts, engine, CSV) for 20,000 patients with 600,000 entries.

    .venv/bin/python -m bench.report [--url URL] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.dataset import DEFAULT_URLS, ENTRIES, MONTH, PATIENTS, ensure_dataset, open_bench_database
from bot.billing import Policy
from bot.evaluation import month_results
from bot.report import as_csv


def measure(url: str, runs: int) -> tuple[list[float], int, float]:
    database = open_bench_database(url)
    ensure_dataset(database)
    timings = []
    for _ in range(runs):
        with database.session() as s:
            t = time.perf_counter()
            items = month_results(s, MONTH, Policy())
            text = as_csv(items)
            timings.append(time.perf_counter() - t)
    billable = sum(1 for i in items if i.result.codes)
    total = sum(i.result.total for i in items)
    assert len(items) == PATIENTS and text.count("\n") > PATIENTS
    database.dispose()
    return timings, billable, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"report: {PATIENTS} patients, {ENTRIES} entries in {MONTH:%Y-%m}, {args.runs} runs")
    for url in args.url or DEFAULT_URLS:
        timings, billable, total = measure(url, args.runs)
        print(
            f"{url.split(':')[0]:<20} median {statistics.median(timings):6.2f} s  max {max(timings):6.2f} s  "
            f"({billable} billable patients, ${total:,.2f})"
        )


if __name__ == "__main__":
    main()
