"""Accuracy with its noise: 90% bootstrap intervals over the evaluated examples, and ties.

A configuration's accuracy is the mean of its per-example scores; its interval comes from
`scipy.stats.bootstrap` over those examples. Configurations of one sweep are scored on the same
examples, so a difference between two of them is resampled paired (`paired=True`): the same example
ids are drawn for both. Two configurations are tied when the paired interval of their difference
covers 0.

Degenerate cases are reported, not hidden: when every score (or every difference) is equal there is
no spread to resample and the interval is the value itself (method "no-spread"); one example cannot
give an interval, so it is unbounded (method "one-example").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.9
N_RESAMPLES = 2000
SEED = 0
METHODS = ("bootstrap", "no-spread", "one-example", "model", "measured", "unscored", "combined")


@dataclass(frozen=True)
class Interval:
    """A value with its 90% interval.

    Attributes:
        value: the statistic as observed (a mean score, a difference, a cost), in the quantity's units.
        low: the interval's lower end, same units (-inf when unknown).
        high: the interval's upper end, same units (+inf when unknown).
        n: the examples the statistic is over (0 when it is not over examples).
        method: where the interval comes from: "bootstrap" (over the examples), "no-spread" (every
            score equal: nothing to resample), "one-example" (unbounded), "model" (a prediction's 90%
            interval), "measured" (one measurement, taken as exact), "unscored" (a measured accuracy
            without per-example scores: unbounded), "combined" (the ends of two unpaired intervals
            of different methods).
    """

    value: float
    low: float
    high: float
    n: int = 0
    method: str = "bootstrap"

    def covers(self, x: float) -> bool:
        return self.low <= x <= self.high

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high

    def times(self, k: float) -> Interval:
        """The interval scaled by a positive constant."""
        return Interval(self.value * k, self.low * k, self.high * k, self.n, self.method)

    def plus(self, other: Interval) -> Interval:
        """The sum of two unpaired quantities: their ends added."""
        method = self.method if self.method == other.method else "combined"
        return Interval(
            self.value + other.value,
            self.low + other.low,
            self.high + other.high,
            min(self.n, other.n),
            method,
        )

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @classmethod
    def exact(cls, value: float, method: str = "measured") -> Interval:
        """A value taken as exact: its interval is the value itself."""
        return cls(value, value, value, 0, method)

    @classmethod
    def unknown(cls, value: float, n: int = 0, method: str = "unscored") -> Interval:
        """A value whose noise is unknown: an unbounded interval."""
        return cls(value, -math.inf, math.inf, n, method)


def _ordered(scores: Sequence[float] | Mapping[str, float]) -> np.ndarray:
    values = scores.values() if isinstance(scores, Mapping) else scores
    out = np.asarray(list(values), dtype=float)
    if out.size == 0:
        raise ValueError("no scores: an interval needs at least one evaluated example")
    if not np.all(np.isfinite(out)):
        raise ValueError("scores must be finite numbers")
    return out


def _bootstrap(
    samples: tuple[np.ndarray, ...], statistic, value: float, spread: float, seed: int
) -> Interval:
    """The 90% interval of `statistic` over resampled examples (paired when there are two samples)."""
    n = samples[0].size
    if n == 1:
        return Interval.unknown(value, 1, "one-example")
    if spread == 0:
        return Interval(value, value, value, n, "no-spread")
    for method in ("BCa", "percentile"):  # BCa fails on nearly degenerate data: fall back
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ci = stats.bootstrap(
                samples,
                statistic,
                paired=len(samples) > 1,
                vectorized=True,
                n_resamples=N_RESAMPLES,
                confidence_level=CONFIDENCE,
                method=method,
                rng=np.random.default_rng(seed),
            ).confidence_interval
        if np.isfinite(ci.low) and np.isfinite(ci.high):
            break
    return Interval(value, float(ci.low), float(ci.high), n)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def mean_interval(scores: Sequence[float] | Mapping[str, float], *, seed: int = SEED) -> Interval:
    """The mean of per-example scores with its 90% bootstrap interval (deterministic by seed)."""
    x = _ordered(scores)
    return _bootstrap((x,), _mean, float(np.mean(x)), float(np.ptp(x)), seed)


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], *, seed: int = SEED) -> Interval:
    """mean(a) - mean(b) over the example ids both were scored on, resampled paired (90% interval).

    `a` and `b` map example ids to scores. ValueError when they share no example id.
    """
    shared = [i for i in a if i in b]
    if not shared:
        raise ValueError("the two configurations share no evaluated example")
    x = _ordered([a[i] for i in shared])
    y = _ordered([b[i] for i in shared])
    return _bootstrap((x, y), _mean_difference, float(np.mean(x - y)), float(np.ptp(x - y)), seed)


def tied(a: Mapping[str, float], b: Mapping[str, float], *, seed: int = SEED) -> bool:
    """Whether two configurations' accuracies are tied: the paired interval of the difference covers 0."""
    return paired_difference(a, b, seed=seed).covers(0.0)


def tied_with_best(scores: Mapping[str, Mapping[str, float]], *, seed: int = SEED) -> list[str]:
    """The configurations (keys of `scores`) tied with the most accurate one, the best first.

    `scores` maps a configuration's key to its per-example scores (example id -> score).
    """
    if not scores:
        return []
    means = {k: float(np.mean(_ordered(v))) for k, v in scores.items()}
    best = max(means, key=lambda k: means[k])
    others = [k for k in scores if k != best and tied(scores[best], scores[k], seed=seed)]
    return [best, *sorted(others, key=lambda k: -means[k])]


def difference(a: Interval, b: Interval) -> Interval:
    """a - b for intervals that are not paired: the widest difference their ends allow."""
    method = a.method if a.method == b.method else "combined"
    return Interval(a.value - b.value, a.low - b.high, a.high - b.low, min(a.n, b.n), method)


def ratio(num: Interval, den: Interval) -> Interval | None:
    """num / den over every end of both intervals; None where den's value is not positive.

    Unbounded when den's interval reaches 0 or below (the ratio can be arbitrarily large).
    """
    if den.value <= 0:
        return None
    value = num.value / den.value
    if den.low <= 0 or not (num.bounded and den.bounded):
        return Interval(value, -math.inf, math.inf, num.n, num.method)
    corners = [n / d for n in (num.low, num.high) for d in (den.low, den.high)]
    return Interval(value, min(corners), max(corners), num.n, num.method)
