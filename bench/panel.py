"""bench/panel: the panel query for 20,000 active patients with 600,000 entries in one month.

    .venv/bin/python -m bench.panel [--url URL] [--runs 15]
"""

from __future__ import annotations

import argparse
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
    timings = []
    for _ in range(runs + 2):
        with database.session() as s:
            t = time.perf_counter()
            rows = panel(s, start, end)
            timings.append((time.perf_counter() - t) * 1000)
        assert len(rows) == PATIENTS
    timings = timings[2:]  # warm-up
    assert sum(r.total_minutes() for r in rows) > 0
    database.dispose()
    return {"median_ms": statistics.median(timings), "min_ms": min(timings), "max_ms": max(timings), "setup_s": built}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append", help="database URL (repeatable); default: SQLite file and local PostgreSQL")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"panel: {PATIENTS} patients, {ENTRIES} entries in {MONTH:%Y-%m}, {args.runs} runs after 2 warm-up")
    for url in args.url or DEFAULT_URLS:
        r = measure(url, args.runs)
        print(f"{url.split(':')[0]:<20} median {r['median_ms']:7.1f} ms  min {r['min_ms']:7.1f}  max {r['max_ms']:7.1f}  (dataset ready in {r['setup_s']:.1f} s)")


if __name__ == "__main__":
    main()
