"""bench/startup: how long `ccmbot --help` and `ccmbot parse` take to start, against a bare Python.

    .venv/bin/python -m bench.startup [--runs 15]

Each command runs in a fresh process; the figure is the median wall time. The goal (issue 21): both within 8x a bare `python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "ccmbot --help": [sys.executable, "-m", "bot.cli", "--help"],
    "ccmbot parse": [sys.executable, "-m", "bot.cli", "parse", "--today", "2026-11-20"],
}


def run(command: list[str], env: dict[str, str]) -> float:
    """Seconds of one fresh process."""
    t = time.perf_counter()
    subprocess.run(command, input="15 min med review for patient 123\n", capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMBOT_", "SLACK_"))}
        env.update(PYTHONPATH=os.getcwd(), CCMBOT_DATABASE_URL=f"sqlite:///{tmp}/startup.db")
        results = {}
        for _ in range(2):  # warm the file cache
            for command in COMMANDS.values():
                run(command, env)
        for name, command in COMMANDS.items():
            times = [run(command, env) for _ in range(args.runs)]
            results[name] = statistics.median(times)
        base = results["python -c pass"]
        for name, median in results.items():
            print(f"{name:<16} median {median * 1000:6.1f} ms  {median / base:5.1f}x a bare Python")


if __name__ == "__main__":
    main()
