"""Validation, reported and never assumed: leave-one-config-out and leave-one-size-out.

Errors are absolute percentage errors for cost quantities and absolute errors in the metric's own
units for accuracy (percentages of a score near zero say little). Coverage is the share of held-out
points inside their 90% interval: for leave-one-config-out the interval comes from the bootstrap
resamples that did not draw the configuration (out of bag); for leave-one-size-out, from a bootstrap
refitted without the size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costmodel.forms import Form, bootstrap, interval, resample, residual_pool

MIN_OUT_OF_BAG = 10  # resamples that must miss a configuration before its interval counts


@dataclass(frozen=True)
class HeldOut:
    """Errors on points a fit did not see."""

    median: float  # median error: percent (cost) or metric units (accuracy)
    worst: float
    coverage: float | None  # share inside their 90% interval; None when no interval was made
    points: int
    folds: int


@dataclass(frozen=True)
class Validation:
    """How far a fit can be trusted, measured on held-out points."""

    unit: str  # "%" for absolute percentage errors, "abs" for absolute errors
    loco: HeldOut | None  # leave one configuration out: interpolation
    loso: HeldOut | None  # leave one model size out: predicting a size never measured


def errors(form: Form, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Absolute percentage errors (relative forms) or absolute errors."""
    return 100.0 * np.abs(pred - y) / np.abs(y) if form.relative else np.abs(pred - y)


def _held_out(errs: list[float], inside: list[bool], folds: int) -> HeldOut | None:
    if not errs:
        return None
    coverage = float(np.mean(inside)) if inside else None
    return HeldOut(float(np.median(errs)), float(np.max(errs)), coverage, len(errs), folds)


def _enough(form: Form, groups: np.ndarray) -> bool:
    return len(np.unique(groups)) > form.stage


def leave_one_config_out(
    form: Form,
    X: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    theta: np.ndarray,
    counts: np.ndarray | None = None,
    draws: np.ndarray | None = None,
    noise: np.ndarray | None = None,
) -> HeldOut | None:
    """Refit without each configuration in turn and predict it; intervals when draws are given."""
    errs: list[float] = []
    inside: list[bool] = []
    folds = 0
    for g in np.unique(groups):
        test = groups == g
        train = ~test
        if not _enough(form, groups[train]) or not form.covers(X[train], X[test]):
            continue
        folds += 1
        fold_theta = form.fit(X[train], Y[train], theta)
        y = Y[test, -1]
        errs.extend(errors(form, y, form.predict_many(fold_theta, X[test])[:, 0]))
        if draws is not None and counts is not None and noise is not None:
            oob = counts[:, g] == 0
            if oob.sum() >= MIN_OUT_OF_BAG:
                low, high = interval(form, draws[oob], X[test], noise[train])
                inside.extend((low <= y) & (y <= high))
    return _held_out(errs, inside, folds)


def leave_one_size_out(
    form: Form,
    X: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    sizes: np.ndarray,
    theta: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> HeldOut | None:
    """Refit without each model size in turn, bootstrap the refit, and predict the size."""
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
        noise = residual_pool(form, fold_theta, X[train], Y[train])
        low, high = interval(form, draws, X[test], noise)
        y = Y[test, -1]
        errs.extend(errors(form, y, form.predict_many(fold_theta, X[test])[:, 0]))
        inside.extend((low <= y) & (y <= high))
    return _held_out(errs, inside, folds)
