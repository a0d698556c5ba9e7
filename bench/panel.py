"""bench/panel: the panel query for 20,000 active patients with 600,000 entries in one month.

    .venv/bin/python -m bench.panel [--url URL] [--runs 15]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from bench.dataset import DEFAULT_URLS, ENTRIES, MONTH, PATIENTS, ensure_dataset, open_bench_database
from bot.months import month_bounds
from storage.queries import panel


def measure(url: str, runs: int) -> dict[str, float]:
    database = open_bench_database(url)
    t0 = time.perf_counter()
    ensure_dataset(database)
    built = time.perf_counter() - t0
    start, end = month_bounds(MONTH)
    timings, nested = [], []
    for _ in range(runs + 2):
        rows = views = []
        gc.collect()  # every run starts from the same heap, not with the last run's 20,000 rows to scan
        with database.session() as s:
            t = time.perf_counter()
            rows = panel(s, start, end)
            timings.append((time.perf_counter() - t) * 1000)
            # The rows keep each month's minutes flat; a caller that wants the nested
            # {program: {track: minutes}} view of every patient pays this on top.
            t = time.perf_counter()
            views = [r.minutes for r in rows]
            nested.append(timings[-1] + (time.perf_counter() - t) * 1000)
        assert len(rows) == PATIENTS == len(views)
    timings, nested = timings[2:], nested[2:]  # warm-up
    assert sum(r.total_minutes() for r in rows) > 0
    database.dispose()
    return {
        "median_ms": statistics.median(timings), "min_ms": min(timings), "max_ms": max(timings),
        "nested_median_ms": statistics.median(nested), "setup_s": built,
    }


def python_speed() -> float:
    """Seconds for a plain 10M-iteration loop: how fast this machine is in this minute."""
    t = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append", help="database URL (repeatable); default: SQLite file and local PostgreSQL")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"panel: {PATIENTS} patients, {ENTRIES} entries in {MONTH:%Y-%m}, {args.runs} runs after 2 warm-up")
    # The loop is timed before each backend and at the end: one reading at the end missed
    # slow stretches of this shared machine in the middle of a run.
    for url in args.url or DEFAULT_URLS:
        before = python_speed()
        r = measure(url, args.runs)
        print(
            f"{url.split(':')[0]:<20} median {r['median_ms']:7.1f} ms  min {r['min_ms']:7.1f}  max {r['max_ms']:7.1f}"
            f"  | with every row's nested minutes: median {r['nested_median_ms']:7.1f} ms  (dataset ready in {r['setup_s']:.1f} s;"
            f" loop before: {before:.2f} s)"
        )
    print(f"a 10M-iteration Python loop took {python_speed():.2f} s at the end")


if __name__ == "__main__":
    main()
