"""A prediction for every grid point; measured points keep their measured values beside the model's."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from costmodel import jobs
from costmodel.batch import MEMORY, budget_mb, counted_offset, is_auto, learned_budget, predict_batches
from costmodel.errors import FeatureError, FitError
from costmodel.features import DEFAULT_GEN_TOKENS, row_int
from costmodel.fit import N_BOOT, Estimate, Fit, cost_scope, fit_accuracy, fit_cost
from costmodel.quantities import (
    COST_QUANTITIES,
    QUANTITIES,
    default_metric,
    identity,
    latency_of,
    measured,
    training_setup,
)
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
    batch: Estimate | None = None  # for batch "auto": the batch predicted to fit (measured: the one found)

    def get(self, quantity: str) -> Estimate | None:
        return self.estimates.get(quantity)

    def value(self, quantity: str) -> float | None:
        """The measured value where there is one, else the prediction; None when neither."""
        est = self.estimates.get(quantity)
        return None if est is None else est.best

    @property
    def extrapolated(self) -> bool:
        return any(e.extrapolated for e in self.estimates.values())

    @property
    def batch_size(self) -> float | None:
        """The batch the point runs at: its own, else the one found for "auto", else the one predicted."""
        own = self.row.get("batch_size")
        if isinstance(own, int | float) and own > 0:
            return float(own)
        return None if self.batch is None else self.batch.best


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
            task, setup = str(row.get("task")), training_setup(row)
            of_task = [f for f in self.fits if f.quantity == quantity and f.scope[0] == task]
            found = [f for f in of_task if f.scope[2] == setup]
            if found:
                return found[0]
            if of_task:
                return (
                    f"accuracy: no record of task {task!r} was trained this way ({setup}); "
                    "accuracy is not carried across training setups"
                )
            return f"accuracy: task {task!r} has no accuracy fit"
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

    def _estimates(self, rows: list[dict]) -> tuple[list[dict[str, Estimate]], list[list[str]], list[bool]]:
        """Per row: an Estimate per quantity a fit covers, why the others are missing, low confidence."""
        estimates: list[dict[str, Estimate]] = [{} for _ in rows]
        notes: list[list[str]] = [[] for _ in rows]
        low: list[bool] = [False] * len(rows)
        for quantity in self.quantities:
            routed, reasons = self.route(quantity, rows)
            for i, reason in reasons.items():
                notes[i].append(reason)
            for fit, idx in routed:
                for i, est in zip(idx, fit.estimate([rows[i] for i in idx]), strict=True):
                    estimates[i][quantity] = est
                    low[i] = low[i] or fit.low_confidence
        for i, row in enumerate(rows):
            for kind in ("latency", "energy"):
                whole = self._generation(row, estimates[i], kind)
                if whole is not None:
                    estimates[i][f"gen_{kind}"] = whole
        return estimates, notes, low

    def _generation(self, row: dict, estimates: dict[str, Estimate], kind: str) -> Estimate | None:
        """Generation at the row's gen_tokens T as prefill + (T - 1) decoding steps, where both are
        predicted and the generation fit never saw T (else None: that fit's own estimate stands).

        Its interval sums the two intervals' ends; it is extrapolated where either is, or where T lies
        beyond the output lengths the decoding fit saw.
        """
        prefill, step = estimates.get(f"prefill_{kind}"), estimates.get(f"decode_{kind}")
        if prefill is None or step is None:
            return None
        t = row_int(row, "gen_tokens", DEFAULT_GEN_TOKENS)
        direct = self.fit_for(f"gen_{kind}", row)
        if isinstance(direct, Fit) and t in direct.gen_tokens:
            return None
        decode = self.fit_for(f"decode_{kind}", row)
        seen = decode.gen_tokens if isinstance(decode, Fit) else ()
        beyond = bool(seen) and not min(seen) <= t <= max(seen)
        steps = t - 1
        return Estimate(
            prefill.value + steps * step.value,
            prefill.low + steps * step.low,
            prefill.high + steps * step.high,
            prefill.extrapolated or step.extrapolated or beyond,
        )

    def batches(self, rows: list[dict], measured_rows: Iterable[dict] = ()) -> dict[int, Estimate | str]:
        """For each row asking for batch "auto" with none resolved: the batch predicted to fit its
        memory budget (costmodel.batch), or why it cannot be."""
        auto = [i for i, r in enumerate(rows) if is_auto(r)]
        measured_rows = list(measured_rows)
        out: dict[int, Estimate | str] = {}
        if not auto:
            return out
        probe = [{**rows[i], "batch_size": 1} for i in auto]
        routed, reasons = self.route(MEMORY, probe)
        for j, reason in reasons.items():
            out[auto[j]] = f"batch auto: the batch that fits is predicted from training memory; {reason}"
        for fit, idx in routed:
            learned = None
            budgets, ask = [], []
            mine = [m for m in measured_rows if self.fit_for(MEMORY, m) is fit]
            offset = counted_offset(mine)
            for j in idx:
                budget = budget_mb(probe[j])
                if budget is not None:  # a budget counts less than the fit does: the difference measured
                    budget += offset
                else:
                    if learned is None:
                        learned = learned_budget(fit, mine) or -1.0
                    budget = learned if learned > 0 else None
                if budget is None:
                    out[auto[j]] = (
                        "batch auto: no memory_budget_gb, and no auto batch measured on this device "
                        "to learn its budget from"
                    )
                    continue
                budgets.append(budget)
                ask.append(j)
            for j, found in zip(ask, predict_batches(fit, [probe[j] for j in ask], budgets), strict=True):
                out[auto[j]] = found
        return out

    def predict(self, grid_rows: list[dict], measured_rows: Iterable[dict] = ()) -> list[Prediction]:
        """A Prediction per grid row, with measured values from matching `measured_rows`.

        A row asking for batch "auto" is predicted at the batch predicted to fit (Prediction.batch),
        its intervals spanning the costs from the lower to the upper end of the batch's interval.
        """
        measured_rows = list(measured_rows)
        batches = self.batches(grid_rows, [m for m in measured_rows if m.get("status", "ok") == "ok"])
        known = {i: b for i, b in batches.items() if isinstance(b, Estimate)}

        def at(end: str) -> list[dict]:
            return [
                {**r, "batch_size": int(getattr(known[i], end))} if i in known else r
                for i, r in enumerate(grid_rows)
            ]

        estimates, notes, low = self._estimates(at("value"))
        if known:
            lows, highs = self._estimates(at("low"))[0], self._estimates(at("high"))[0]
            for i in known:
                for q, est in estimates[i].items():
                    if q in lows[i] and q in highs[i] and q in COST_QUANTITIES:
                        lo = min(est.low, lows[i][q].low)
                        estimates[i][q] = replace(est, low=lo, high=max(est.high, highs[i][q].high))
        for i, b in batches.items():
            if isinstance(b, str):
                notes[i] = [b] + [n for n in notes[i] if "batch_size" not in n]
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
            if "accuracy" in ests and ests["accuracy"].extrapolated:
                notes[i].append(
                    "accuracy: the saturating curve reaches beyond the lengths or sizes measured; "
                    "its interval spans the curve's own errors when it reached so, or the metric's "
                    "whole range where no refit could reach so far"
                )
            batch = known.get(i)
            if batch is not None:
                resolved = [m["batch_size"] for m in ok if isinstance(m.get("batch_size"), int)]
                batch = replace(batch, measured=float(statistics.median(resolved))) if resolved else batch
            out.append(
                Prediction(
                    row=row,
                    kind="measured" if ok else "predicted",
                    estimates=ests,
                    in_fit=identity(row) in self.fitted_ids,
                    low_confidence=low[i],
                    notes=tuple(notes[i]),
                    batch=batch,
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
    workers: int | None = None,
) -> Model:
    """Fit every quantity the rows measure: cost per (fingerprint, device, dtype), accuracy per task.

    `metric` names the accuracy metric (default: quantities.default_metric per task). A quantity no
    row measures is skipped; one that cannot be fitted leaves its one-line reason in `problems`.
    `workers`: the processes the fits run on (jobs.run; default: one per core for many rows).
    """
    made = jobs.run(_jobs(rows, quantities, metric, n_boot, seed), workers)
    fits = [f for f in made if isinstance(f, Fit)]
    problems = [str(e) for e in made if isinstance(e, FitError)]
    return Model(tuple(fits), tuple(problems), frozenset(identity(r) for r in rows))


def _jobs(
    rows: list[dict], quantities: tuple[str, ...], metric: str | None, n_boot: int, seed: int
) -> list[jobs.Job]:
    """fit_model's fits, as jobs: each cost quantity per scope, then accuracy per task and setup."""
    out: list[jobs.Job] = []
    made: dict[tuple[str, tuple], int] = {}  # (quantity, scope): its job
    for quantity in (q for q in quantities if q in COST_QUANTITIES):
        having = [r for r in rows if measured(r, quantity) is not None]
        for scope in sorted({cost_scope(r) for r in having}):
            needs = {}
            if quantity.endswith("energy") and (latency_of(quantity), scope) in made:
                needs["latency"] = made[(latency_of(quantity), scope)]
            # generation (and its prefill) runs the encoder first: its form extends the encoder's
            if quantity in ("gen_latency", "prefill_latency") and ("infer_latency", scope) in made:
                needs["start"] = made[("infer_latency", scope)]
            made[(quantity, scope)] = len(out)
            scoped = [r for r in having if cost_scope(r) == scope]
            out.append(
                jobs.Job(fit_cost, scoped, {"quantity": quantity, "n_boot": n_boot, "seed": seed}, needs)
            )
    if "accuracy" in quantities:  # per task and training setup, never pooled across setups
        for task in sorted({str(r.get("task")) for r in rows}):
            task_rows = [r for r in rows if str(r.get("task")) == task]
            task_metric = metric or default_metric(task_rows)
            if task_metric is None:
                continue
            for setup in sorted({training_setup(r) for r in task_rows}):
                kwargs = {"task": task, "metric": task_metric, "n_boot": n_boot, "seed": seed, "setup": setup}
                out.append(jobs.Job(fit_accuracy, task_rows, kwargs))
    return out


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
        relative = quantity != "accuracy"  # accuracy's errors are absolute: a score of 0 counts
        if p.in_fit or est is None or est.measured is None or (relative and est.measured == 0):
            continue
        diff = abs(est.value - est.measured)
        errs.append(100.0 * diff / abs(est.measured) if relative else diff)
        inside.append(est.low <= est.measured <= est.high)
    if not errs:
        return None
    return HeldOut(float(np.median(errs)), float(np.max(errs)), float(np.mean(inside)), len(errs), 1)
