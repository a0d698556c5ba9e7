"""bench/parse: the parser over the test corpus, against dateparser.search_dates on the same messages.

    .venv/bin/python -m bench.parse
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CORPORA = (DATA / "parser_corpus.jsonl", DATA / "parser_corpus_staff.jsonl")

FIRST_PARSE = """
import time
t0 = time.perf_counter()
from bot.parsing import parse_message, warm_up
warm_up()
t1 = time.perf_counter()
from datetime import date
parse_message("pt 456: 1h15m care plan on Nov 3", date(2026, 11, 27))
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.3f}")
"""


def load() -> list[tuple[str, date]]:
    rows = [json.loads(line) for corpus in CORPORA for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], date.fromisoformat(r["today"])) for r in rows]


def main() -> None:
    from bot.parsing import parse_message, warm_up

    messages = load()
    warm_up()
    for text, today in messages:  # warm-up pass
        parse_message(text, today)
    timings = []
    for _ in range(5):
        for text, today in messages:
            t = time.perf_counter()
            parse_message(text, today)
            timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    mean = statistics.fmean(timings)
    p99 = timings[int(len(timings) * 0.99)]

    from dateparser.search import search_dates

    search_dates("warm up 15 min", languages=["en"])
    dp = []
    for text, today in messages:
        base = datetime(today.year, today.month, today.day)
        t = time.perf_counter()
        search_dates(text, languages=["en"], settings={"PREFER_DATES_FROM": "past", "RELATIVE_BASE": base})
        dp.append((time.perf_counter() - t) * 1000)
    dp_mean = statistics.fmean(dp)

    firsts = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", FIRST_PARSE], capture_output=True, text=True, check=True).stdout.split()
        firsts.append((float(out[0]), float(out[1])))
    print(f"parse: {len(messages)} corpus messages x 5 runs after one warm-up pass")
    print(f"ccmbot parser      mean {mean:.3f} ms  p50 {timings[len(timings) // 2]:.3f} ms  p99 {p99:.3f} ms  max {timings[-1]:.3f} ms")
    print(f"dateparser search  mean {dp_mean:.3f} ms  (same messages, one pass)")
    print(f"ratio              dateparser / ccmbot = {dp_mean / mean:.1f}x")
    for warm, first in firsts:
        print(f"fresh process      import + warm_up {warm:.0f} ms, then first parse {first:.2f} ms")


if __name__ == "__main__":
    main()
