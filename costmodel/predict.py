"""A prediction for every grid point; measured points keep their measured values beside the model's."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from costmodel.errors import FeatureError, FitError
from costmodel.fit import N_BOOT, Estimate, Fit, cost_scope, fit_accuracy, fit_cost
from costmodel.quantities import COST_QUANTITIES, QUANTITIES, default_metric, identity, latency_of, measured
from costmodel.validate import HeldOut


@dataclass(frozen=True)
class Prediction:
    """One grid point: an Estimate per quantity the model could give, and why others are missing."""

    row: dict
    kind: str  # "measured" (a successful measurement of this point exists) or "predicted"
    estimates: dict[str, Estimate]
    in_fit: bool = False  # the point was among the rows the model was fitted on
    low_confidence: bool = False  # an estimate comes from a low-confidence fit
    notes: tuple[str, ...] = ()

    def get(self, quantity: str) -> Estimate | None:
        return self.estimates.get(quantity)

    def value(self, quantity: str) -> float | None:
        """The measured value where there is one, else the prediction; None when neither."""
        est = self.estimates.get(quantity)
        return None if est is None else est.best

    @property
    def extrapolated(self) -> bool:
        return any(e.extrapolated for e in self.estimates.values())


@dataclass(frozen=True)
class Model:
    """Every fit made from a set of measured rows, and one line for each fit that could not be made."""

    fits: tuple[Fit, ...]
    problems: tuple[str, ...]
    fitted_ids: frozenset  # quantities.identity of the rows fitted on

    @property
    def quantities(self) -> tuple[str, ...]:
        present = {f.quantity for f in self.fits}
        return tuple(q for q in QUANTITIES if q in present)

    def fit_for(self, quantity: str, row: dict) -> Fit | str:
        """The fit that predicts `quantity` at `row`, or the reason there is none."""
        if quantity == "accuracy":
            task = str(row.get("task"))
            found = [f for f in self.fits if f.quantity == quantity and f.scope[0] == task]
            return found[0] if found else f"accuracy: task {task!r} has no accuracy fit"
        fingerprint, device, dtype = cost_scope(row)
        found = [f for f in self.fits if f.quantity == quantity and f.scope[1:] == (device, dtype)]
        if fingerprint:
            found = [f for f in found if f.scope[0] == fingerprint]
        if len(found) == 1:
            return found[0]
        if not found:
            return f"{quantity}: no fit for device {device!r}, dtype {dtype!r}" + (
                f", fingerprint {fingerprint!r}" if fingerprint else ""
            )
        return f"{quantity}: {len(found)} hardware fingerprints fit; give the row a fingerprint"

    def route(self, quantity: str, rows: list[dict]) -> tuple[list[tuple[Fit, list[int]]], dict[int, str]]:
        """Row indices grouped by the fit that predicts `quantity` for them, and why the rest cannot be."""
        groups: dict[int, tuple[Fit, list[int]]] = {}
        reasons: dict[int, str] = {}
        for i, row in enumerate(rows):
            fit = self.fit_for(quantity, row)
            if isinstance(fit, str):
                reasons[i] = fit
                continue
            try:
                fit.form.design([row])
            except FeatureError as e:
                reasons[i] = f"{quantity}: {e}"
                continue
            groups.setdefault(id(fit), (fit, []))[1].append(i)
        return list(groups.values()), reasons

    def predict(self, grid_rows: list[dict], measured_rows: Iterable[dict] = ()) -> list[Prediction]:
        """A Prediction per grid row, with measured values from matching `measured_rows`."""
        estimates: list[dict[str, Estimate]] = [{} for _ in grid_rows]
        notes: list[list[str]] = [[] for _ in grid_rows]
        low: list[bool] = [False] * len(grid_rows)
        for quantity in self.quantities:
            routed, reasons = self.route(quantity, grid_rows)
            for i, reason in reasons.items():
                notes[i].append(reason)
            for fit, idx in routed:
                for i, est in zip(idx, fit.estimate([grid_rows[i] for i in idx]), strict=True):
                    estimates[i][quantity] = est
                    low[i] = low[i] or fit.low_confidence
        index: dict[tuple, list[dict]] = {}
        for row in measured_rows:
            index.setdefault(identity(row), []).append(row)
        out = []
        for i, row in enumerate(grid_rows):
            matches = index.get(identity(row), [])
            ok = [m for m in matches if m.get("status", "ok") == "ok"]
            for m in matches:
                if m.get("status") == "failed":
                    notes[i].append(f"measured: failed in {m.get('failed_phase')} ({m.get('failure_kind')})")
            ests = {q: _with_measured(e, q, ok, self._metric(row)) for q, e in estimates[i].items()}
            out.append(
                Prediction(
                    row=row,
                    kind="measured" if ok else "predicted",
                    estimates=ests,
                    in_fit=identity(row) in self.fitted_ids,
                    low_confidence=low[i],
                    notes=tuple(notes[i]),
                )
            )
        return out

    def _metric(self, row: dict) -> str | None:
        fit = self.fit_for("accuracy", row)
        return None if isinstance(fit, str) else fit.scope[1]


def _with_measured(est: Estimate, quantity: str, rows: list[dict], metric: str | None) -> Estimate:
    if quantity == "accuracy" and metric is None:
        return est
    values = [v for r in rows if (v := measured(r, quantity, metric)) is not None and np.isfinite(v)]
    return replace(est, measured=statistics.median(values)) if values else est


def fit_model(
    rows: list[dict],
    *,
    quantities: tuple[str, ...] = QUANTITIES,
    metric: str | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> Model:
    """Fit every quantity the rows measure: cost per (fingerprint, device, dtype), accuracy per task.

    `metric` names the accuracy metric (default: quantities.default_metric per task). A quantity no
    row measures is skipped; one that cannot be fitted leaves its one-line reason in `problems`.
    """
    fits: list[Fit] = []
    problems: list[str] = []
    for quantity in (q for q in quantities if q in COST_QUANTITIES):
        having = [r for r in rows if measured(r, quantity) is not None]
        for scope in sorted({cost_scope(r) for r in having}):
            latency = [f for f in fits if f.quantity == latency_of(quantity) and f.scope == scope]
            reuse = latency[0].form if latency and quantity.endswith("energy") else None
            # generation runs the encoder first: its form extends the encoder's
            encoder = [f for f in fits if f.quantity == "infer_latency" and f.scope == scope]
            start = encoder[0].form if encoder and quantity == "gen_latency" else None
            try:
                scoped = [r for r in having if cost_scope(r) == scope]
                fits.append(fit_cost(scoped, quantity, n_boot=n_boot, seed=seed, latency=reuse, start=start))
            except FitError as e:
                problems.append(str(e))
    if "accuracy" in quantities:
        for task in sorted({str(r.get("task")) for r in rows}):
            task_rows = [r for r in rows if str(r.get("task")) == task]
            task_metric = metric or default_metric(task_rows)
            if task_metric is None:
                continue
            try:
                fits.append(fit_accuracy(task_rows, task, task_metric, n_boot=n_boot, seed=seed))
            except FitError as e:
                problems.append(str(e))
    return Model(tuple(fits), tuple(problems), frozenset(identity(r) for r in rows))


def predict_grid(rows_measured: list[dict], grid_rows: list[dict], **options) -> list[Prediction]:
    """Fit on `rows_measured` (options as fit_model) and predict every grid row (FitError if nothing fits)."""
    model = fit_model(rows_measured, **options)
    if not model.fits:
        reason = model.problems[0] if model.problems else "no row holds a measured quantity"
        raise FitError(f"nothing could be fitted: {reason}")
    return model.predict(grid_rows, rows_measured)


def held_out_errors(predictions: list[Prediction], quantity: str) -> HeldOut | None:
    """Errors of predictions at measured points the model was not fitted on (validate.HeldOut units)."""
    errs, inside = [], []
    for p in predictions:
        est = p.get(quantity)
        if p.in_fit or est is None or est.measured is None or est.measured == 0:
            continue
        diff = abs(est.value - est.measured)
        errs.append(diff if quantity == "accuracy" else 100.0 * diff / abs(est.measured))
        inside.append(est.low <= est.measured <= est.high)
    if not errs:
        return None
    return HeldOut(float(np.median(errs)), float(np.max(errs)), float(np.mean(inside)), len(errs), 1)
