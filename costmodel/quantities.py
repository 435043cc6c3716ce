"""What the cost model predicts, and how each quantity is read from a measured flat row.

Quantities, per batch unless said otherwise, with the column each is read from and the features
phase (features.PHASES) that explains it:

    infer_latency, infer_energy  the encoder forward         infer_median_s, infer_energy_j      encode
    gen_latency, gen_energy      generate(): encoder and     infer_gen_median_s,                 infer
                                 gen_tokens decoding steps   infer_gen_energy_j
    prefill_latency, ..._energy  generate() of one token:    infer_prefill_median_s,             prefill
                                 time to first token         infer_prefill_energy_j
    decode_latency, ..._energy   one decoding step after     infer_decode_s_per_token,           decode
                                 the first (per token)       infer_decode_energy_j_per_token
    infer_memory                 peak memory of the phase    infer_peak_memory_mb (MB)           infer
    train_latency, train_energy  one optimiser step          train_seconds, train_energy_j       train
                                                             divided by the steps taken
    train_memory                 peak memory of the phase    train_peak_memory_mb (MB)           train
    accuracy                     the task's metric           e.g. rouge_mean, f1 (top level)
"""

from __future__ import annotations

import math

COST_QUANTITIES = (
    "infer_latency",
    "infer_energy",
    "gen_latency",
    "gen_energy",
    "prefill_latency",
    "prefill_energy",
    "decode_latency",
    "decode_energy",
    "infer_memory",
    "train_latency",
    "train_energy",
    "train_memory",
)
QUANTITIES = (*COST_QUANTITIES, "accuracy")
UNITS = {
    "infer_latency": "s",
    "infer_energy": "J",
    "gen_latency": "s",
    "gen_energy": "J",
    "prefill_latency": "s",
    "prefill_energy": "J",
    "decode_latency": "s/token",
    "decode_energy": "J/token",
    "infer_memory": "MB",
    "train_latency": "s/step",
    "train_energy": "J/step",
    "train_memory": "MB",
    "accuracy": "",
}
FEATURE_PHASE = {
    "infer_latency": "encode",
    "infer_energy": "encode",
    "gen_latency": "infer",
    "gen_energy": "infer",
    "prefill_latency": "prefill",
    "prefill_energy": "prefill",
    "decode_latency": "decode",
    "decode_energy": "decode",
    "infer_memory": "infer",
    "train_latency": "train",
    "train_energy": "train",
    "train_memory": "train",
}
METRIC_PREFERENCE = ("rouge_mean", "f1", "exact_match", "rougeL", "rouge1")
_COLUMNS = {
    "infer_latency": "infer_median_s",
    "infer_energy": "infer_energy_j",
    "gen_latency": "infer_gen_median_s",
    "gen_energy": "infer_gen_energy_j",
    "prefill_latency": "infer_prefill_median_s",
    "prefill_energy": "infer_prefill_energy_j",
    "decode_latency": "infer_decode_s_per_token",
    "decode_energy": "infer_decode_energy_j_per_token",
    "infer_memory": "infer_peak_memory_mb",
    "train_latency": "train_seconds",
    "train_energy": "train_energy_j",
    "train_memory": "train_peak_memory_mb",
}


def latency_of(quantity: str) -> str:
    """The latency quantity an energy quantity is fitted with (P * latency)."""
    return quantity.replace("_energy", "_latency")


def _number(value: object) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def train_steps(row: dict) -> float | None:
    """Optimiser steps a row's training took (`train_steps`, else a steps budget)."""
    steps = _number(row.get("train_steps"))
    if steps is None and row.get("budget_kind") == "steps":
        steps = _number(row.get("budget_value"))
    return steps if steps is not None and steps > 0 else None


def measured(row: dict, quantity: str, metric: str | None = None) -> float | None:
    """The measured value of a quantity (None when the row has none; NaN when it is not a number)."""
    if quantity == "accuracy":
        if metric is None:
            raise ValueError("accuracy needs a metric name")
        value = _number(row.get(metric))
        return value if value is not None else _number(row.get(f"eval_{metric}"))
    value = _number(row.get(_COLUMNS[quantity]))
    if quantity.startswith("decode_") and value is not None and value <= 0:
        return None  # two timings' difference the noise between their windows swallowed: not a measurement
    if value is not None and quantity in ("train_latency", "train_energy"):
        steps = train_steps(row)
        return None if steps is None else value / steps
    return value


def default_metric(rows: list[dict]) -> str | None:
    """The accuracy metric the rows carry, by preference (rouge_mean, f1, exact_match, ...)."""
    for metric in METRIC_PREFERENCE:
        if any(measured(r, "accuracy", metric) is not None for r in rows):
            return metric
    return None


def config_of(row: dict) -> tuple:
    """The cost-relevant configuration: rows sharing it repeat one measurement."""
    return (
        row.get("family"),
        row.get("size"),
        row.get("input_len"),
        row.get("batch_size"),
        row.get("gen_tokens"),
    )


def training_setup(row: dict) -> str:
    """How a row's model was trained (weights and checkpoint, budget, learning rate; the optimizer is
    the study's): accuracy is fitted only across rows trained alike, never pooled across setups."""
    weights = f"{row.get('weights')}" + (f" {row['weights_path']}" if row.get("weights_path") else "")
    return f"weights {weights}, budget {row.get('budget_value')} {row.get('budget_kind')}, lr {row.get('lr')}"


def size_of(row: dict) -> tuple:
    """The model a row ran: the unit left out by leave-one-size-out validation."""
    return (row.get("family"), row.get("size"))


def identity(row: dict) -> tuple:
    """What makes a grid point: its RunConfig key when the row has one, else its inputs."""
    if row.get("key"):
        return ("key", row["key"])
    batch = row.get("batch_request", row.get("batch_size"))
    fields = ("family", "size", "input_len", "task", "dtype", "device", "weights")
    return tuple(str(row.get(f)) for f in fields) + (str(batch),)
