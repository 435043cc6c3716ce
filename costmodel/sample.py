"""Which configurations to measure: a space-filling start, then where the model is least sure.

Uncertainty comes from the bootstrap: the draws of every fit give the joint spread of the model's
predictions over the grid (log scale for cost, metric units over the typical score for accuracy).
Measuring point j (with the fit's residual noise s_j^2) would remove, by Gaussian conditioning,
sum_i C_ij^2 / (C_jj + s_j^2) of the predictive variance over the points not yet measured; points
are picked greedily, conditioning C on each pick, so that k picks do not crowd one corner.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from costmodel.cost import measuring_cost
from costmodel.errors import FeatureError, SelectError
from costmodel.features import arch_of, param_count
from costmodel.fit import N_BOOT, Estimate
from costmodel.predict import Model, Prediction, fit_model
from costmodel.quantities import identity

MIN_INITIAL = 6  # a space-filling start large enough for the cost fits' terms


@dataclass(frozen=True)
class Suggestion:
    """A configuration worth measuring next."""

    index: int  # into the grid
    row: dict
    removed: float  # predictive variance removed over the unmeasured grid points
    cost_j: float | None  # predicted joules to measure it (None: no energy fit covers it)
    score: float  # removed per joule (or removed, when ranking by uncertainty alone)


def parse_sample(spec: str | float, n_grid: int) -> int:
    """How many of `n_grid` points `--sample F` asks for: a fraction in (0, 1] or a count >= 1."""
    text = str(spec).strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    is_fraction = "." in text or "e" in text.lower()
    if (
        not math.isfinite(value)
        or value <= 0
        or (is_fraction and value > 1)
        or (not is_fraction and value != int(value))
    ):
        raise SelectError(
            f"give a fraction in (0, 1] such as 0.3, or a whole count of at least 1 (got {text!r})"
        )
    count = math.ceil(value * n_grid) if is_fraction else int(value)
    return max(1, min(count, n_grid))


def _coordinates(grid_rows: list[dict]) -> np.ndarray:
    """Family and task one-hot (a mismatch is distance 1), and log size, length, batch in [0, 1]."""
    columns = []
    for field in ("family", "task"):
        values = [str(r.get(field)) for r in grid_rows]
        for v in sorted(set(values)):
            columns.append([(x == v) / math.sqrt(2) for x in values])
    numeric = []
    for r in grid_rows:
        try:
            params = math.log(param_count(arch_of(r)))
        except FeatureError:
            params = 0.0
        batch = r.get("batch_size")
        numeric.append(
            (
                params,
                math.log(max(float(r.get("input_len") or 1), 1.0)),
                math.log(float(batch)) if isinstance(batch, int | float) and batch > 0 else 0.0,
            )
        )
    numeric = np.array(numeric, dtype=float).reshape(len(grid_rows), 3)
    span = np.ptp(numeric, axis=0)
    numeric = (numeric - numeric.min(axis=0)) / np.where(span > 0, span, 1.0)
    return np.column_stack([np.array(columns, dtype=float).T.reshape(len(grid_rows), -1), numeric])


def space_filling(grid_rows: list[dict], k: int, *, chosen: Iterable[int] = (), seed: int = 0) -> list[int]:
    """Up to k more grid indices, each the farthest from those chosen (greedy maximin design).

    With nothing chosen yet, the first pick is the point farthest from the grid's centre (a corner).
    """
    x = _coordinates(grid_rows) if grid_rows else np.empty((0, 0))
    order = np.random.default_rng(seed).permutation(len(grid_rows))  # breaks ties reproducibly
    taken = list(chosen)
    dist = np.full(len(grid_rows), np.inf)
    for c in taken:
        dist = np.minimum(dist, np.linalg.norm(x - x[c], axis=1))
    picks: list[int] = []
    while len(picks) < k and len(taken) < len(grid_rows):
        score = dist.copy() if taken else np.linalg.norm(x - x.mean(axis=0), axis=1)
        score[taken] = -1.0
        j = int(order[np.argmax(score[order])])
        picks.append(j)
        taken.append(j)
        dist = np.minimum(dist, np.linalg.norm(x - x[j], axis=1))
    return picks


def _spread(model: Model, rows: list[dict], measured_rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the bootstrap predictions over rows, summed over quantities, and noise variance.

    A row asking for batch "auto" counts at the batch predicted to fit.
    """
    batches = model.batches(rows, measured_rows)
    rows = [
        {**r, "batch_size": int(b.value)} if isinstance(b := batches.get(i), Estimate) else r
        for i, r in enumerate(rows)
    ]
    cov = np.zeros((len(rows), len(rows)))
    noise = np.zeros(len(rows))
    for quantity in model.quantities:
        for fit, positions in model.route(quantity, rows)[0]:
            X = fit.form.design([rows[p] for p in positions])
            draws = fit.form.predict_many(fit.draws, X)
            if fit.form.relative:
                draws = np.log(np.maximum(draws, 1e-300))
                noise_var = float(np.var(fit.noise))
            else:
                scale = max(float(np.mean(np.abs(fit.form.predict_many(fit.theta, X)))), 1e-12)
                draws = draws / scale
                noise_var = float(np.var(fit.noise)) / scale**2
            dev = draws - draws.mean(axis=1, keepdims=True)
            p = np.array(positions)
            cov[np.ix_(p, p)] += dev @ dev.T / max(dev.shape[1] - 1, 1)
            noise[p] += noise_var
    return cov, noise


def _joules(prediction: Prediction) -> float | None:
    """Predicted joules to measure a point (costmodel.cost); None where no energy fit covers it."""
    cost = measuring_cost(prediction.row, {q: e.value for q, e in prediction.estimates.items()})
    return cost[1] if cost is not None and cost[1] > 0 else None


def next_to_measure(
    model: Model,
    grid_rows: list[dict],
    measured_rows: Iterable[dict] = (),
    k: int = 1,
    *,
    per_joule: bool = True,
    skip: Iterable[int] = (),
) -> list[Suggestion]:
    """The k unmeasured grid points whose measurement removes the most uncertainty (per joule)."""
    measured_rows = list(measured_rows)
    done = {identity(r) for r in measured_rows}
    skip = set(skip)
    idx = [i for i, r in enumerate(grid_rows) if i not in skip and identity(r) not in done]
    if not idx or k <= 0:
        return []
    candidates = [grid_rows[i] for i in idx]
    cov, noise = _spread(model, candidates, measured_rows)
    costs = [_joules(p) for p in model.predict(candidates, measured_rows)]
    known = [c for c in costs if c is not None and c > 0]
    fill = float(np.median(known)) if known else 1.0
    divisor = np.array([c if c is not None and c > 0 else fill for c in costs])
    if not per_joule:
        divisor = np.ones(len(idx))
    open_ = np.ones(len(idx), dtype=bool)
    out: list[Suggestion] = []
    while len(out) < k and open_.any():
        removed = (cov**2).sum(axis=0) / (np.diag(cov) + noise + 1e-12)
        score = np.where(open_, removed / divisor, -np.inf)
        j = int(np.argmax(score))
        if not np.isfinite(score[j]):
            break
        out.append(Suggestion(idx[j], grid_rows[idx[j]], float(removed[j]), costs[j], float(score[j])))
        cov = cov - np.outer(cov[:, j], cov[j, :]) / (cov[j, j] + noise[j] + 1e-12)
        open_[j] = False
    return out


class Planner:
    """Plans a sample of `count` grid points: a space-filling start, then in `rounds` the points the
    cost model fitted on the rows so far is least sure of (space-filling where it says nothing).

    The caller drives it: `propose()` gives the grid indices to measure next (none: the sample is
    complete), `receive(rows)` takes their measured flat rows. Stopping is the caller's: it asks no more.
    """

    def __init__(
        self, grid_rows: list[dict], count: int, *, rounds: int = 3, seed: int = 0, n_boot: int = N_BOOT // 2
    ) -> None:
        self.grid_rows, self.seed, self.n_boot = grid_rows, seed, n_boot
        self.count = min(count, len(grid_rows))
        self.initial = min(self.count, max(MIN_INITIAL, math.ceil(self.count / 2)))
        self.batch = max(1, math.ceil((self.count - self.initial) / max(rounds, 1)))
        self.picked: list[int] = []  # grid indices proposed so far
        self.rows: list[dict] = []  # measured rows received so far

    def propose(self) -> list[int]:
        """The grid indices to measure next; [] once `count` have been proposed."""
        if not self.picked:
            new = space_filling(self.grid_rows, self.initial, seed=self.seed)
        elif len(self.picked) >= self.count:
            return []
        else:
            k = min(self.batch, self.count - len(self.picked))
            model = fit_model(self.rows, n_boot=self.n_boot, seed=self.seed)
            unsure = (
                next_to_measure(model, self.grid_rows, self.rows, k, per_joule=False, skip=self.picked)
                if model.fits
                else []
            )
            new = [s.index for s in unsure]
            new += space_filling(self.grid_rows, k - len(new), chosen=self.picked + new, seed=self.seed)
        self.picked += new
        return new

    def receive(self, rows: Iterable[dict]) -> None:
        """The measured flat rows of the points proposed last."""
        self.rows += rows


def sample_configs(
    grid_rows: list[dict],
    count: int,
    measure: Callable[[list[dict]], list[dict]],
    *,
    rounds: int = 3,
    seed: int = 0,
    n_boot: int = N_BOOT // 2,
) -> list[dict]:
    """Measure `count` grid points as a Planner proposes them; `measure` takes grid rows and returns
    their measured flat rows. Returns every measured row."""
    planner = Planner(grid_rows, count, rounds=rounds, seed=seed, n_boot=n_boot)
    while picks := planner.propose():
        planner.receive(measure([grid_rows[i] for i in picks]))
    return planner.rows
