"""What the cost model predicts, and how each quantity is read from a measured flat row.

TABLE declares each quantity once: its flat-row column, its name and unit for people, the scale
between them, its spread and above-idle columns, the features phase that explains it and what one
value is of. Quantities are per batch unless said otherwise: decode_* per decoding step after the
first (per token), train_* per optimiser step (the column holds the whole training, divided by the
steps taken), accuracy the task's metric (e.g. rouge_mean, f1, top level). The report, the exports,
the screens, the plots and the cost model all read it: adding a quantity is one entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    """A measured quantity: the one declaration every view, export and the cost model read.

    Attributes:
        name: the cost model's quantity (infer_latency, ...).
        column: the flat-row column it is measured from (Record.flat); None for accuracy, whose
            column is the task's metric.
        label: its name for people ("encoder latency").
        unit: the unit shown, after `scale` ("ms/batch").
        scale: from `model_unit` to `unit`.
        model_unit: the cost model's unit, the column's (s, J, MB) or per token or step.
        phase: the features phase that explains it (features.PHASES).
        per: what one value is of: batch, token, step (the column holds the whole training, which the
            model divides by the steps taken) or score (accuracy).
        header: the two-line heading of a table column ("encoder\nms/batch"); for a per-step
            quantity the column shows the whole training.
        low, high: the columns of the measured spread (p10, p90), where there is one.
        above_idle: the column of the part above idle, for an energy.
    """

    name: str
    column: str | None
    label: str
    unit: str
    scale: float = 1.0
    model_unit: str = ""
    phase: str = ""
    per: str = "batch"
    header: str = ""
    low: str | None = None
    high: str | None = None
    above_idle: str | None = None


TABLE = (
    Quantity(
        "infer_latency",
        "infer_median_s",
        "encoder latency",
        "ms/batch",
        1e3,
        "s",
        "encode",
        header="encoder\nms/batch",
        low="infer_p10_s",
        high="infer_p90_s",
    ),
    Quantity(
        "infer_energy",
        "infer_energy_j",
        "encoder energy",
        "J/batch",
        1.0,
        "J",
        "encode",
        header="encoder\nJ/batch",
        above_idle="infer_energy_above_idle_j",
    ),
    Quantity(
        "gen_latency",
        "infer_gen_median_s",
        "generation latency",
        "ms/batch",
        1e3,
        "s",
        "infer",
        header="generate\nms/batch",
        low="infer_gen_p10_s",
        high="infer_gen_p90_s",
    ),
    Quantity(
        "gen_energy",
        "infer_gen_energy_j",
        "generation energy",
        "J/batch",
        1.0,
        "J",
        "infer",
        header="generate\nJ/batch",
        above_idle="infer_gen_energy_above_idle_j",
    ),
    Quantity(
        "prefill_latency",
        "infer_prefill_median_s",
        "time to first token",
        "ms/batch",
        1e3,
        "s",
        "prefill",
        low="infer_prefill_p10_s",
        high="infer_prefill_p90_s",
    ),
    Quantity(
        "prefill_energy",
        "infer_prefill_energy_j",
        "prefill energy",
        "J/batch",
        1.0,
        "J",
        "prefill",
        above_idle="infer_prefill_energy_above_idle_j",
    ),
    Quantity(
        "decode_latency",
        "infer_decode_s_per_token",
        "decoding latency",
        "ms/token",
        1e3,
        "s/token",
        "decode",
        "token",
    ),
    Quantity(
        "decode_energy",
        "infer_decode_energy_j_per_token",
        "decoding energy",
        "J/token",
        1.0,
        "J/token",
        "decode",
        "token",
    ),
    Quantity(
        "infer_memory",
        "infer_peak_memory_mb",
        "inference peak memory",
        "MB",
        1.0,
        "MB",
        "infer",
        header="infer peak\nMB",
    ),
    Quantity(
        "train_latency",
        "train_seconds",
        "training time",
        "s/step",
        1.0,
        "s/step",
        "train",
        "step",
        "train\ns",
    ),
    Quantity(
        "train_energy",
        "train_energy_j",
        "training energy",
        "J/step",
        1.0,
        "J/step",
        "train",
        "step",
        "train\nJ",
        above_idle="train_energy_above_idle_j",
    ),
    Quantity("train_memory", "train_peak_memory_mb", "training peak memory", "MB", 1.0, "MB", "train"),
    Quantity("accuracy", None, "accuracy", "", per="score", header="accuracy"),
)
BY_NAME = {q.name: q for q in TABLE}
QUANTITIES = tuple(BY_NAME)
COST_QUANTITIES = tuple(q for q in QUANTITIES if q != "accuracy")
FEATURE_PHASE = {q.name: q.phase for q in TABLE if q.phase}
UNITS = {q.name: q.model_unit for q in TABLE}
METRIC_PREFERENCE = ("rouge_mean", "f1", "exact_match", "rougeL", "rouge1")


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
    value = _number(row.get(BY_NAME[quantity].column))
    if quantity.startswith("decode_") and value is not None and value <= 0:
        return None  # two timings' difference the noise between their windows swallowed: not a measurement
    if value is not None and BY_NAME[quantity].per == "step":
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
