"""What measuring a configuration costs, from the predicted (or measured) figures of one batch.

The one rule both the app's rough cost of a grid and the sampler's cost per joule use: a child's
start-up, the training steps its budget allows, the timed encoding and generation (warm-up, then
at least `repetitions` batches and `min_window_s` seconds), the evaluation batches, times the passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

STARTUP_S = 5.0  # a child process's start-up and model build, added to each configuration's cost


def measuring_cost(row: Mapping, values: Mapping[str, float]) -> tuple[float, float] | None:
    """Seconds and joules to measure the configuration of a flat row (all its passes), from per-batch
    (per-step for training) values by quantity; None when a timed phase has no latency."""
    phases = str(row.get("phases", "")).split(",")
    seconds, joules = STARTUP_S, 0.0
    if "train" in phases:
        latency = values.get("train_latency")
        if latency is None:
            return None
        kind, budget = row.get("budget_kind"), float(row.get("budget_value") or 0.0)
        steps = budget if kind == "steps" else None
        if kind == "seconds":
            steps = budget / latency
        elif kind == "joules" and values.get("train_energy"):
            steps = budget / values["train_energy"]
        steps = steps or 1.0
        seconds += steps * latency
        joules += steps * values.get("train_energy", 0.0)
    if "infer" in phases:
        for quantity in ("infer", "gen"):
            latency = values.get(f"{quantity}_latency")
            if latency is None:
                return None
            timed = max(int(row["repetitions"]), math.ceil(float(row["min_window_s"]) / max(latency, 1e-9)))
            reps = timed + int(row["warmup"])
            seconds += reps * latency
            joules += reps * values.get(f"{quantity}_energy", 0.0)
    if "eval" in phases and "gen_latency" in values:
        batch = row.get("batch_size")
        batches = math.ceil(int(row["eval_samples"]) / (batch if isinstance(batch, int) and batch > 0 else 1))
        seconds += batches * values["gen_latency"]
        joules += batches * values.get("gen_energy", 0.0)
    passes = int(row.get("passes") or 1)
    return seconds * passes, joules * passes
