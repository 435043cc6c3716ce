"""A grid point's value of a quantity (costmodel.quantities.TABLE) in the unit it is shown in.

Measured points read the flat row's column, scaled; the others the cost model's estimate, scaled and,
for a per-step quantity, multiplied by the steps the configuration trains for, so that a column shows
the whole training whichever it comes from. Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from costmodel.quantities import BY_NAME, Quantity, train_steps

if TYPE_CHECKING:
    from costmodel.fit import Estimate
    from tui.points import Point


def number(value: object) -> float | None:
    """A finite number, else None (bools, text, NaN and missing values are not figures)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Shown:
    """A value in its column's unit, with its spread (measured p10-p90, or the predicted 90% interval)."""

    value: float
    low: float | None = None
    high: float | None = None
    estimate: Estimate | None = None  # the model's, for a predicted value


def column(quantity: str) -> Quantity:
    return BY_NAME[quantity]


def measured(row: dict, q: Quantity, metric: str | None = None) -> Shown | None:
    """The row's measured value of q as its column shows it (accuracy: the task's metric)."""
    name = q.column or metric
    value = number(row.get(name)) if name else None
    if value is None:
        return None
    lo, hi = number(row.get(q.low or "")), number(row.get(q.high or ""))
    if lo is None or hi is None:
        return Shown(value * q.scale)
    return Shown(value * q.scale, lo * q.scale, hi * q.scale)


def predicted(point: Point, q: Quantity) -> Shown | None:
    """The model's estimate of q at a point as its column shows it (None without one)."""
    est = point.prediction.get(q.name) if point.prediction else None
    factor = train_steps(point.row) if q.per == "step" else 1.0
    if est is None or factor is None:
        return None
    k = factor * q.scale
    return Shown(est.value * k, est.low * k, est.high * k, est)


def shown(point: Point, q: Quantity, metric: str | None = None) -> Shown | None:
    """Measured where the point was measured, else predicted."""
    return measured(point.row, q, metric) if point.kind == "measured" else predicted(point, q)
