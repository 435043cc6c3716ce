"""Validation, reported and never assumed: leave-one-config-out and leave-one-size-out.

Errors are absolute percentage errors for cost quantities and absolute errors in the metric's own
units for accuracy (percentages of a score near zero say little). Coverage is the share of held-out
points inside their 90% interval: for leave-one-config-out the interval comes from the bootstrap
resamples that did not draw the configuration (out of bag); for leave-one-size-out, from a bootstrap
refitted without the size, widened as the fit widens any prediction beyond its measured range (Reach).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costmodel.forms import (
    Form,
    bootstrap,
    interval,
    noise_quantiles,
    refit,
    refits,
    resample,
    residual_pool,
    residuals,
)

MAX_FOLDS = 50  # beyond this many configurations, leave-one-config-out holds out this many folds of them
MIN_OUT_OF_BAG = 10  # resamples that must miss a configuration before its interval counts
COVERAGE_CONFIGS = 200  # configurations, spread over the grid, whose intervals make the coverage figure
MIN_REACH = float(np.log(1.5))  # nearer the edge an error says more of the noise than of the trend
MIN_REACH_ERRORS = 5  # extrapolation errors needed before they widen the intervals of extrapolated points
SPREAD_QUANTILES = 25  # residual quantiles each extrapolation error is combined with


@dataclass(frozen=True)
class HeldPoint:
    """One measured row as a refit that did not see it predicts it (parity figures draw these)."""

    key: str  # the row's store key
    measured: float
    predicted: float
    low: float | None  # its 90% interval, where one was made
    high: float | None


@dataclass(frozen=True)
class HeldOut:
    """Errors on points a fit did not see."""

    median: float  # median error: percent (cost) or metric units (accuracy)
    worst: float
    coverage: float | None  # share inside their 90% interval; None when no interval was made
    points: int
    folds: int
    by_row: tuple[HeldPoint, ...] = ()  # the points themselves, where kept (leave one configuration out)


@dataclass(frozen=True)
class Validation:
    """How far a fit can be trusted, measured on held-out points."""

    unit: str  # "%" for absolute percentage errors, "abs" for absolute errors
    loco: HeldOut | None  # leave one configuration out: interpolation
    loso: HeldOut | None  # leave one model size out: predicting a size never measured


def errors(form: Form, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Absolute percentage errors (relative forms) or absolute errors."""
    return 100.0 * np.abs(pred - y) / np.abs(y) if form.relative else np.abs(pred - y)


def _held_out(
    errs: list[float], inside: list[bool], folds: int, by_row: tuple[HeldPoint, ...] = ()
) -> HeldOut | None:
    if not errs:
        return None
    coverage = float(np.mean(inside)) if inside else None
    return HeldOut(float(np.median(errs)), float(np.max(errs)), coverage, len(errs), folds, by_row)


def _enough(form: Form, groups: np.ndarray) -> bool:
    return len(np.unique(groups)) > form.stage


def config_folds(groups: np.ndarray) -> np.ndarray:
    """The unit each row is held out with: its configuration, or with more than MAX_FOLDS of them, one
    of MAX_FOLDS folds the configurations are dealt into (in order, so each fold spans the grid): the
    refits number MAX_FOLDS at most, and validation grows linearly with the rows."""
    ids, index = np.unique(groups, return_inverse=True)
    return groups if len(ids) <= MAX_FOLDS else index % MAX_FOLDS


def held_out_predictions(
    form: Form, X: np.ndarray, Y: np.ndarray, groups: np.ndarray, theta: np.ndarray
) -> np.ndarray:
    """Each row as a refit without its configuration (config_folds: its fold) predicts it (NaN where
    none can be made), its rows weighted as the fit on all rows weighs them (forms.fixed_weights);
    the refits solved together (forms.refits)."""
    pred = np.full(len(Y), np.nan)
    folds = config_folds(groups)
    tests = [
        test
        for test in (folds == g for g in np.unique(folds))
        if _enough(form, groups[~test]) and form.covers(X[~test], X[test])
    ]
    if not tests:
        return pred
    fitted = refits(form, X, Y, theta, 1.0 - np.array(tests, dtype=float), support=False)
    for test, coefficients in zip(tests, fitted, strict=True):
        pred[test] = form.predict_many(coefficients, X[test])[:, 0]
    return pred


def noise_pool(form: Form, theta: np.ndarray, X: np.ndarray, Y: np.ndarray, held: np.ndarray) -> np.ndarray:
    """The residuals a fit's intervals draw on: each row's held-out one (`held`: held_out_predictions),
    or where it has none its residual in the fit (forms.residual_pool). A form chosen among many on
    its rows fits them closer than it predicts others: held-out residuals say how close it predicts.
    """
    pool = residual_pool(form, theta, X, Y)
    y, ok = Y[:, -1], np.isfinite(held)
    pool[ok] = residuals(form, y[ok], held[ok])
    return pool


def leave_one_config_out(
    form: Form,
    X: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    held: np.ndarray,
    counts: np.ndarray | None = None,
    draws: np.ndarray | None = None,
    noise: np.ndarray | None = None,
    keys: list[str] | None = None,
) -> HeldOut | None:
    """The errors of each configuration as a refit without it predicts it (`held`:
    held_out_predictions); intervals when draws are given, from the draws that did not resample it
    and the noise of the rows outside its fold (config_folds), for at most COVERAGE_CONFIGS of them.
    With the rows' `keys`, each row's HeldPoint is kept."""
    errs: list[float] = []
    inside: list[bool] = []
    by_row: list[HeldPoint] = []
    folds = 0
    units = config_folds(groups)
    pools = {}  # per fold, the noise of the rows outside it, as quantiles (forms.noise_quantiles)
    ids = np.unique(groups)
    covered = set(ids[np.unique(np.linspace(0, len(ids) - 1, min(len(ids), COVERAGE_CONFIGS)).astype(int))])
    for g in ids:
        test = groups == g
        if not np.isfinite(held[test]).all():
            continue
        folds += 1
        y = Y[test, -1]
        errs.extend(errors(form, y, held[test]))
        low = high = [None] * len(y)
        if draws is not None and counts is not None and noise is not None and g in covered:
            oob = counts[:, g] == 0
            if oob.sum() >= MIN_OUT_OF_BAG:
                unit = units[test][0]
                if unit not in pools:
                    pools[unit] = noise_quantiles(noise[units != unit])
                low, high = interval(form, draws[oob], X[test], pools[unit])
                inside.extend((low <= y) & (y <= high))
                low, high = low.tolist(), high.tolist()
        if keys is not None:
            by_row += [
                HeldPoint(keys[i], float(v), float(p), lo, hi)
                for i, v, p, lo, hi in zip(np.flatnonzero(test), y, held[test], low, high, strict=True)
            ]
    return _held_out(errs, inside, folds, tuple(by_row))


def _log_beyond(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """How far each value lies beyond [lo, hi], as a log ratio (0 within)."""
    values = np.asarray(values, dtype=float)
    return np.clip(np.maximum(np.log(values / hi), np.log(lo / values)), 0.0, None)


@dataclass(frozen=True)
class Reach:
    """What a form gets wrong beyond its measured range, from refits that had to reach past theirs.

    The longest input length, the shortest, the longer half of the lengths and the shorter half
    are each predicted by a refit without them (a fold the same as one before it is not run
    again): the signed errors (log ratios, or differences) of rows more than MIN_REACH beyond that
    refit's range, per unit of log length beyond it, make `up` (refits that reached up to longer
    inputs) and `down`. Each model size whose parameters lie beyond the other sizes' is predicted by
    a refit without it: its signed errors make `per_size`. These include what the form gets wrong,
    which the residuals of the points it was fitted on do not. A prediction reaching `far` beyond
    the measured lengths draws its errors from far * up (or down: the errors of reaching the same
    way, as fixed costs the long inputs hide weigh most on the short ones), in both directions (a
    form that overshoots one way may undershoot farther on): they grow with the distance.
    """

    lengths: tuple[float, float]  # the measured range of input length
    params: tuple[float, float]  # and of parameters
    up: np.ndarray
    down: np.ndarray
    per_size: np.ndarray

    def places(self, V: np.ndarray) -> np.ndarray:
        """Per row of extent values (input length, parameters, ...), what its prediction's error pool
        depends on: how far (log length) it reaches beyond the lengths, whether upwards (1 or 0), and
        whether its size lies beyond the sizes (1 or 0)."""
        far = np.round(_log_beyond(V[:, 0], *self.lengths), 6)
        return np.column_stack([far, V[:, 0] > self.lengths[1], _log_beyond(V[:, 1], *self.params) > 0])

    def place(self, input_len: float, params: float) -> tuple[float, bool, bool]:
        """The place (Reach.places) of one prediction."""
        far, upwards, beyond = self.places(np.array([[input_len, params]]))[0]
        return float(far), bool(upwards), bool(beyond)

    def pool(self, far: float, upwards: bool, beyond_sizes: bool) -> np.ndarray | None:
        """The error pool of a prediction at a place (Reach.place), both directions; None within range."""
        pool = []
        same_way = self.up if upwards else self.down
        per_length = same_way if len(same_way) >= MIN_REACH_ERRORS else np.concatenate([self.up, self.down])
        if far > 0 and len(per_length) >= MIN_REACH_ERRORS:
            pool.append(far * per_length)
        if beyond_sizes and len(self.per_size) >= MIN_REACH_ERRORS:
            pool.append(self.per_size)
        if not pool:
            return None
        errs = np.concatenate(pool)
        return np.concatenate([errs, -errs])

    def noise(self, input_len: float, params: float) -> np.ndarray | None:
        """The error pool of a prediction at (input_len, params), both directions; None within range."""
        return self.pool(*self.place(input_len, params))


def extrapolation(
    form: Form,
    X: np.ndarray,
    Y: np.ndarray,
    V: np.ndarray,
    groups: np.ndarray,
    sizes: np.ndarray,
    theta: np.ndarray,
) -> Reach:
    """The Reach of a form fitted on rows with extent values V (input length, parameters, ...)."""
    lengths, params = V[:, 0], V[:, 1]
    middle = np.median(np.unique(lengths))
    folds = (lengths == lengths.max(), lengths > middle, lengths == lengths.min(), lengths < middle)
    reached: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for i, test in enumerate(folds):
        if not any((test == earlier).all() for earlier in folds[:i]):
            err, far = _edge_errors(form, X, Y, lengths, groups, test, theta, MIN_REACH)
            reached[i < 2].append(err / far)  # the first two folds reach up
    per_size = [_edge_errors(form, X, Y, params, groups, sizes == s, theta, 0.0) for s in np.unique(sizes)]
    return Reach(
        lengths=(float(lengths.min()), float(lengths.max())),
        params=(float(params.min()), float(params.max())),
        up=np.concatenate([np.empty(0), *reached[True]]),
        down=np.concatenate([np.empty(0), *reached[False]]),
        per_size=np.concatenate([err for err, _ in per_size]),
    )


def _edge_errors(
    form: Form,
    X: np.ndarray,
    Y: np.ndarray,
    axis: np.ndarray,
    groups: np.ndarray,
    test: np.ndarray,
    theta: np.ndarray,
    least: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Signed errors and log distances of the `test` rows lying more than `least` beyond the range of
    `axis` of a refit without them, as that refit predicts them (empty where it cannot be made)."""
    train = ~test
    none = (np.empty(0), np.empty(0))
    if not train.any() or not _enough(form, groups[train]) or not form.covers(X[train], X[test]):
        return none
    far = _log_beyond(axis[test], axis[train].min(), axis[train].max())
    beyond = far > least
    if not beyond.any():
        return none
    pred = form.predict_many(refit(form, X[train], Y[train], theta), X[test][beyond])[:, 0]
    y = Y[test, -1][beyond]
    return residuals(form, y, pred), far[beyond]


def reaching_interval(
    form: Form, draws: np.ndarray, X: np.ndarray, noise: np.ndarray, V: np.ndarray, reach: Reach
) -> tuple[np.ndarray, np.ndarray]:
    """forms.interval, widened for rows beyond the measured range by the form's extrapolation errors.

    Beyond the range a row errs as far as the form reaches and as its own configuration does: each
    extrapolation error is added to each quantile of the residual `noise`.
    """
    low, high = interval(form, draws, X, noise)
    spread = np.quantile(noise, np.linspace(0.0, 1.0, SPREAD_QUANTILES))
    places, which = np.unique(reach.places(V), axis=0, return_inverse=True)
    for j, place in enumerate(places):  # rows at one place share their pool
        pool = reach.pool(*place)
        if pool is not None:
            rows = which.ravel() == j
            pool = (pool[:, None] + spread[None, :]).ravel()
            wide_low, wide_high = interval(form, draws, X[rows], pool)
            low[rows], high[rows] = np.minimum(low[rows], wide_low), np.maximum(high[rows], wide_high)
    return low, high


def leave_one_size_out(
    form: Form,
    X: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    sizes: np.ndarray,
    V: np.ndarray,
    theta: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> HeldOut | None:
    """Refit without each model size in turn, bootstrap the refit, and predict the size.

    Its intervals are those a fit on the other sizes would show: widened where the size lies beyond
    their range (`V`: the extent values) by that fit's own extrapolation errors.
    """
    if len(np.unique(sizes)) < 2:
        return None
    errs: list[float] = []
    inside: list[bool] = []
    folds = 0
    for s in np.unique(sizes):
        test = sizes == s
        train = ~test
        if not _enough(form, groups[train]) or not form.covers(X[train], X[test]):
            continue
        folds += 1
        sub_groups = np.unique(groups[train], return_inverse=True)[1]
        fold_theta = form.fit(X[train], Y[train], theta)
        counts = resample(sub_groups, n_boot, rng)
        draws = bootstrap(form, X[train], Y[train], sub_groups, fold_theta, counts)
        held = held_out_predictions(form, X[train], Y[train], sub_groups, fold_theta)
        noise = noise_pool(form, fold_theta, X[train], Y[train], held)
        fold_reach = extrapolation(form, X[train], Y[train], V[train], sub_groups, sizes[train], fold_theta)
        low, high = reaching_interval(form, draws, X[test], noise, V[test], fold_reach)
        y = Y[test, -1]
        errs.extend(errors(form, y, form.predict_many(fold_theta, X[test])[:, 0]))
        inside.extend((low <= y) & (y <= high))
    return _held_out(errs, inside, folds)
