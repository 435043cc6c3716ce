"""What the Ray executor costs: the smoke preset's wall time on a local Ray over its wall time on the local
executor (target <= 1.3, Ray's start included), and the overhead per task, measured in one run.

Runs `tradeoff-tui --preset smoke` into a fresh temporary database with each executor, in the order
local, Ray, Ray, local (so that a drift of the machine's speed, or a cache the first run fills, weighs
on both alike), `--executor ray` starting a Ray on this machine each time; then times a bare start and
stop of a local Ray. Each executor's figure is the mean of its two runs.
The per-task overhead is the difference of the wall times less Ray's start, over the tasks (a probe and
one per configuration): mostly the fresh worker's imports, which the local executor's fork server pays
once. Needs the ray extra.
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

ROOT = Path(__file__).resolve().parent.parent


def smoke(db: Path, *executor: str) -> tuple[float, int]:
    """Wall time of one headless smoke run, and how many configurations it stored."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tui.cli", "--preset", "smoke", "--db", str(db), *executor],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - t0
    with Store(db) as store:
        return wall, len(store.records())


def ray_start() -> float:
    """Seconds to start and stop a local Ray as the executor does, in a fresh interpreter."""
    code = (
        "import time; t0 = time.perf_counter(); from engine.ray_executor import RayExecutor\n"
        "RayExecutor().close(); print(time.perf_counter() - t0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return float(out.stdout.split()[-1])


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        runs: dict[str, list[float]] = {"local": [], "ray": []}
        stored = {}
        for i, kind in enumerate(("local", "ray", "ray", "local")):
            executor = ("--executor", "ray") if kind == "ray" else ()
            wall, stored[kind] = smoke(tmp / f"{i}.sqlite", *executor)
            runs[kind].append(wall)
            print(f"  {kind}: {wall:.1f} s", flush=True)
        local, on_ray = (sum(runs[k]) / 2 for k in ("local", "ray"))
        n, n_ray = stored["local"], stored["ray"]
        start = ray_start()
        print(f"smoke, local executor: {n} configurations in {local:.1f} s (mean of 2)")
        print(f"smoke, Ray executor (a local Ray): {n_ray} configurations in {on_ray:.1f} s (mean of 2)")
        print(f"Ray's start and stop alone: {start:.1f} s")
        per_task = (on_ray - local - start) / (n_ray + 1)
        print(f"per-task overhead: {per_task:.2f} s ({n_ray} measurements and 1 probe)")
        print(f"ratio: {on_ray / local:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
