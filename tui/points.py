"""The grid points a view shows: one per configuration, the measured row or the prediction, in order.

Standard library and costmodel.quantities only: the screens, the exports and the report read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from costmodel.quantities import default_metric, identity
from tui.values import number as _num

if TYPE_CHECKING:
    from costmodel.predict import Prediction
    from costmodel.validate import HeldOut

SIZES = ("tiny", "small", "base", "large")


@dataclass(frozen=True)
class Point:
    """One grid point: the row it shows (the measured one where there is one) and its prediction."""

    row: dict
    prediction: Prediction | None = None
    scores: Mapping[str, float] | None = None  # the measured row's per-example accuracy, by example id

    @property
    def status(self) -> str:
        """ok, failed, or planned (not measured)."""
        return str(self.row.get("status") or "planned")

    @property
    def kind(self) -> str:
        """measured, predicted (figures from the model), failed (no figures) or planned (neither)."""
        if self.status == "ok":
            return "measured"
        if self.prediction is not None:
            return "predicted"
        return "failed" if self.status == "failed" else "planned"


def row_label(row: dict) -> str:
    """A configuration as every view names it (RunConfig.label), from its row: `led-tiny qa n=512 b=2`."""
    model = f"{row.get('family')}-{row.get('size')}"
    return f"{model} {row.get('task')} n={row.get('input_len')} b={row.get('batch_size')}"


def batch_label(point: Point) -> str:
    """The batch: as run ("8 auto" where auto found it), else as predicted for "auto", else as asked."""
    row = point.row
    auto = row.get("batch_request") == "auto"
    if isinstance(row.get("batch_size"), int):
        return f"{row['batch_size']}" + (" auto" if auto else "")
    b = point.prediction.batch if point.prediction else None
    if b is None:
        return str(row.get("batch_request") or "?")
    return f"auto ~{b.value:.0f} [{b.low:.0f}–{b.high:.0f}]"


def grid_points(rows: Sequence[dict], predictions: Sequence[Prediction] | None = None) -> list[Point]:
    """One Point per prediction, then per measured row no prediction covers; in table order.

    A point shows its latest successful measurement, else its latest failed one, else the grid row.
    """
    latest: dict[tuple, dict] = {}
    for row in rows:
        key = identity(row)
        if row.get("status") == "ok" or latest.get(key, {}).get("status") != "ok":
            latest[key] = row
    points = [Point(latest.pop(identity(p.row), p.row), p) for p in predictions or ()]
    points += [Point(row) for row in latest.values()]
    return sorted(points, key=_order)


def _order(point: Point) -> tuple:
    r = point.row
    size = str(r.get("size", ""))
    rank = SIZES.index(size) if size in SIZES else len(SIZES)
    length = _num(r.get("input_len")) or 0.0
    batch = _num(r.get("batch_size")) or 0.0
    return (str(r.get("task", "")), str(r.get("family", "")), rank, size, length, batch)


def metrics_by_task(rows: Sequence[dict]) -> dict[str, str]:
    """The accuracy metric of each task (costmodel.quantities.default_metric over the task's rows)."""
    out: dict[str, str] = {}
    for task in dict.fromkeys(str(r.get("task", "")) for r in rows):
        metric = default_metric([r for r in rows if str(r.get("task", "")) == task])
        if metric:
            out[task] = metric
    return out


def scores_shown(
    rows: Sequence[dict], scores: Mapping[str, Mapping[str, float]] | None, metrics: Mapping[str, str]
) -> dict[str, Mapping[str, float]]:
    """Per-example scores (by row key) of the rows whose shown metric is the one scored per example
    (the row's `score`, the task's primary metric); the others get no interval."""
    out = {}
    for r in rows:
        key, metric = str(r.get("key", "")), metrics.get(str(r.get("task", "")))
        if scores and scores.get(key) and metric and r.get("score") == r.get(metric):
            out[key] = scores[key]
    return out


def held_out_checks(predictions: Sequence[Prediction]) -> dict[str, HeldOut]:
    """costmodel.predict.held_out_errors of each quantity the predictions estimate (Snapshot.checks)."""
    from costmodel.predict import held_out_errors

    quantities = dict.fromkeys(q for p in predictions for q in p.estimates)
    found = {q: held_out_errors(list(predictions), q) for q in quantities}
    return {q: h for q, h in found.items() if h is not None}
