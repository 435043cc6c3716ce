"""The cost of isolation and bookkeeping: the smoke preset's wall time over its measured phases' own time.

Runs `tradeoff-tui --preset smoke --fresh` into a temporary database, then divides the wall time by
the sum of the phase times its records hold (target <= 1.5 on a CPU). Also prints the time from
launching `tradeoff-tui --help` to its first output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.store import Store

BIN = Path(sys.executable).with_name("tradeoff-tui")


def help_latency() -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(BIN), "--help"], stdout=subprocess.PIPE)
    proc.stdout.read(1)
    first = time.perf_counter() - t0
    proc.communicate()
    return first


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        db = tmp / "smoke.sqlite"
        t0 = time.perf_counter()
        subprocess.run(
            [str(BIN), "--preset", "smoke", "--db", str(db), "--fresh"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "NO_COLOR": "1"},
        )
        wall = time.perf_counter() - t0
        with Store(db) as store:
            records = store.records()
        phases = sum(p.seconds for r in records for p in r.phases)
        print(f"smoke: {len(records)} configurations, wall {wall:.1f} s, measured phases {phases:.1f} s")
        for r in records:
            print(
                "  " + r.config.label() + ": " + ", ".join(f"{p.phase} {p.seconds:.1f} s" for p in r.phases)
            )
        helps = sorted(help_latency() for _ in range(5))
        print(f"--help first output: {1000 * helps[2]:.0f} ms (median of 5)")
        print(f"ratio: {wall / phases:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
