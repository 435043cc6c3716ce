"""The fitted equations, their least-squares solvers, the bootstrap and predictive intervals.

A form turns rows into a design matrix `X`, fits coefficients `theta` to targets `Y` (one column per
target; the last one is the quantity the form predicts) and predicts from `theta`. Cost forms are
linear in non-negative coefficients and are fitted on relative residuals under a robust (soft_l1)
loss, by reweighted scipy.optimize.nnls; the accuracy form is a logistic curve fitted on absolute
residuals by scipy.optimize.least_squares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, nnls
from scipy.special import expit

from costmodel.errors import FeatureError
from costmodel.features import FAMILIES, arch_of, features, param_count, row_int
from costmodel.nnls_batch import nnls_many

FEATURE_COLUMNS = (
    "const",
    "f_dense",
    "f_attn",
    "f_attn_sparse",
    "f_dec",
    "layers",
    "bytes_moved",
    "weight_bytes",
    "act_bytes",
    "layer_tokens",
    "sparse_layers",
    "sparse_tokens",
    "prob_bytes",
    "mask_bytes",
    "fresh_bytes",
    "family",  # index into features.FAMILIES
)
FAMILY = FEATURE_COLUMNS.index("family")
LEVEL = 0.90  # nominal coverage of every interval
MAX_NOISE_DRAWS = 64  # residual quantiles combined with each of as many quantiles of the bootstrap draws
MIN_SUPPORT = 0.05  # a term making less of every row's prediction (about the noise) is not fitted from them
# relative residuals beyond about this count linearly, not quadratically (scipy's soft_l1 loss): a
# timing another process disturbed (30-40% off on a shared CPU) pulls a fit by its sign, not its square
ROBUST_SCALE = 0.05
MAX_REWEIGHTINGS = 100
SETTLED = 1e-6  # a reweighting that moves no coefficient by more than this share of the largest


def feature_matrix(rows: list[dict], phase: str) -> np.ndarray:
    """One row of FEATURE_COLUMNS per row (FeatureError on a row that lacks a dimension)."""
    out = np.empty((len(rows), len(FEATURE_COLUMNS)))
    for i, row in enumerate(rows):
        f = features(row, phase)
        out[i] = [1.0, *(getattr(f, c) for c in FEATURE_COLUMNS[1:-1]), FAMILIES.index(row["family"])]
    return out


def _columns(terms: tuple[str, ...]) -> list[int]:
    return [FEATURE_COLUMNS.index(t) for t in terms]


def relative_system(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, scale): the relative residuals are A @ (theta * scale) - 1, each column of A at most 1."""
    a = X / y[:, None]
    scale = np.abs(a).max(axis=0)
    scale[~(scale > 0)] = 1.0
    return a / scale, scale


def solve_nonnegative(
    X: np.ndarray,
    y: np.ndarray,
    x0: np.ndarray | None = None,
    held: np.ndarray | None = None,
    robust: bool = True,
    root: np.ndarray | None = None,
) -> np.ndarray:
    """theta >= 0 minimising the loss of the relative residuals (X @ theta - y) / y: soft_l1 at
    ROBUST_SCALE when `robust` (robust_solve), else their sum of squares (scipy.optimize.nnls).

    A coefficient whose `held` value is a number keeps it; the others (NaN) are fitted around them,
    the reweighting started from x0. `root`, the rows' root weights fixed beforehand (fixed_weights),
    replaces the reweighting with one nnls under them.
    """
    free = np.ones(X.shape[1], dtype=bool) if held is None else np.isnan(held)
    theta = np.zeros(X.shape[1]) if held is None else np.where(free, 0.0, held)
    if not free.any():
        return theta
    target = 1.0 - (X[:, ~free] @ theta[~free]) / y
    a, scale = relative_system(X[:, free], y)
    if root is not None:
        u = nnls(a * root[:, None], target * root)[0]
    elif robust:
        u0 = None if x0 is None else np.clip(x0[free] * scale, 0.0, None)
        u = robust_solve(a, target, u0)[0]
    else:
        u = nnls(a, target)[0]
    theta[free] = u / scale
    return theta


def robust_solve(
    a: np.ndarray, target: np.ndarray, u0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(u >= 0, root weights): the soft_l1 (ROBUST_SCALE) solution of a @ u ~ target by iteratively
    reweighted least squares, each step one scipy.optimize.nnls, from u0 (else the plain nnls
    solution) until the coefficients settle. soft_l1 is convex: the reweighting reaches its minimum.

    Under the root weights, nnls on all rows gives that solution; held-out refits that keep them
    solve one nnls each, as fast as least squares: the form search scores every candidate form so.
    """
    u = nnls(a, target)[0] if u0 is None else u0
    for _ in range(MAX_REWEIGHTINGS):
        root_weight = (1.0 + ((a @ u - target) / ROBUST_SCALE) ** 2) ** -0.25
        u, last = nnls(a * root_weight[:, None], target * root_weight)[0], u
        if np.abs(u - last).max() <= SETTLED * max(np.abs(u).max(), 1e-300):
            break
    return u, root_weight


@dataclass(frozen=True)
class LinearForm:
    """y = sum_j theta_j * feature_j with theta_j >= 0 (latency: t0, 1/R_dense, 1/R_attn, ...).

    A term named in `split` gets one coefficient per family of `families` (indices into
    features.FAMILIES): attention kernels and per-layer overheads differ between implementations.
    A term of `prior` (term, coefficient), also in `terms`, keeps a coefficient known (a byte held is
    a byte of memory) or measured on the machine instead of one fitted: every fit, refit and
    resample holds it.
    """

    phase: str
    terms: tuple[str, ...]
    split: tuple[str, ...] = ()
    families: tuple[int, ...] = ()
    prior: tuple[tuple[str, float], ...] = ()
    robust: bool = True  # fitted under soft_l1 (solve_nonnegative); else by least squares
    relative = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            name
            for t in self.terms
            for name in ([f"{t}[{FAMILIES[f]}]" for f in self.families] if t in self.split else [t])
        )

    @property
    def known(self) -> np.ndarray:
        """Per coefficient, its `prior` value, or NaN where it is fitted."""
        values = dict(self.prior)
        return np.array([values.get(name, np.nan) for name in self.names])

    @property
    def stage(self) -> int:
        """The most coefficients one least-squares stage of the fit solves for together."""
        return len(self.names) - len(self.prior)

    def design(self, rows: list[dict]) -> np.ndarray:
        X = feature_matrix(rows, self.phase)
        if self.split:
            for row, fam in zip(rows, X[:, FAMILY].astype(int), strict=True):
                if fam not in self.families:
                    raise FeatureError(
                        f"family {row['family']!r} was not measured; its {self.split[0]} rate is unknown"
                    )
        return X

    def matrix(self, X: np.ndarray) -> np.ndarray:
        """The columns the coefficients multiply."""
        fam = X[:, FAMILY].astype(int)
        cols = []
        for t in self.terms:
            col = X[:, FEATURE_COLUMNS.index(t)]
            cols += [col * (fam == f) for f in self.families] if t in self.split else [col]
        return np.column_stack(cols)

    def fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        x0: np.ndarray | None = None,
        held: np.ndarray | None = None,
        root: np.ndarray | None = None,
    ) -> np.ndarray:
        if self.prior:
            known = self.known
            held = known if held is None else np.where(np.isnan(known), held, known)
        root = None if root is None else root[:, -1]
        return solve_nonnegative(self.matrix(X), Y[:, -1], x0, held, self.robust, root)

    def predict_many(self, draws: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Predictions, one column per row of `draws`."""
        return self.matrix(X) @ np.atleast_2d(draws).T

    def covers(self, X_train: np.ndarray, X_test: np.ndarray) -> bool:
        """Without a split, always; with one, the training rows hold every family of the test rows."""
        return not self.split or set(X_test[:, FAMILY].astype(int)) <= set(X_train[:, FAMILY].astype(int))


@dataclass(frozen=True)
class EnergyForm:
    """energy = P * latency(x) + sum_j k_j * F_j, the latency part fitted first on the same rows.

    Targets: Y[:, 0] latency, Y[:, 1] energy. theta = latency coefficients, then P, then the k_j.
    """

    latency: LinearForm
    terms: tuple[str, ...]
    relative = True

    @property
    def names(self) -> tuple[str, ...]:
        return (*(f"latency.{t}" for t in self.latency.names), "power", *self.terms)

    @property
    def stage(self) -> int:
        """Latency is solved first, then power and the k_j on the fitted latency: the larger stage."""
        return max(self.latency.stage, 1 + len(self.terms))

    def design(self, rows: list[dict]) -> np.ndarray:
        return self.latency.design(rows)

    def covers(self, X_train: np.ndarray, X_test: np.ndarray) -> bool:
        return self.latency.covers(X_train, X_test)

    def fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        x0: np.ndarray | None = None,
        held: np.ndarray | None = None,
        root: np.ndarray | None = None,
    ) -> np.ndarray:
        k = len(self.latency.names)
        x0_lat, x0_rest = (None, None) if x0 is None else (x0[:k], x0[k:])
        held_lat, held_rest = (None, None) if held is None else (held[:k], held[k:])
        lat = self.latency.fit(X, Y[:, :1], x0_lat, held_lat, None if root is None else root[:, :1])
        design = self._design(X, lat)
        rest_root = None if root is None else root[:, 1]
        rest = solve_nonnegative(design, Y[:, 1], x0_rest, held_rest, self.latency.robust, rest_root)
        return np.concatenate([lat, rest])

    def _design(self, X: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The energy stage's columns: the fitted latency, then the FLOP terms."""
        return np.column_stack([self.latency.matrix(X) @ lat, X[:, _columns(self.terms)]])

    def predict_many(self, draws: np.ndarray, X: np.ndarray) -> np.ndarray:
        draws = np.atleast_2d(draws)
        k = len(self.latency.names)
        lat = self.latency.predict_many(draws[:, :k], X)
        return lat * draws[:, k] + X[:, _columns(self.terms)] @ draws[:, k + 1 :].T


@dataclass(frozen=True)
class LogisticForm:
    """acc = a * sigmoid(b_family + b_len * (ln n - c_len) + b_size * (ln params - c_size)).

    A saturating curve in input length and model size with a ceiling `a` (at most `ceiling`) and one
    offset per family; b_len or b_size is left out when the data hold a single length or size.
    """

    families: tuple[str, ...]
    use_len: bool
    use_size: bool
    center: tuple[float, float]
    ceiling: float
    relative = False

    @property
    def names(self) -> tuple[str, ...]:
        extra = ("b_len",) * self.use_len + ("b_size",) * self.use_size
        return ("a", *(f"b_{f}" for f in self.families), *extra)

    @property
    def stage(self) -> int:
        return len(self.names)

    def design(self, rows: list[dict]) -> np.ndarray:
        """(ln n - c_len, ln params - c_size, family index); FeatureError for a family not fitted."""
        out = np.empty((len(rows), 3))
        for i, row in enumerate(rows):
            fam = row.get("family")
            if fam not in self.families:
                raise FeatureError(f"family {fam!r} has no accuracy measurement here")
            out[i] = (
                math.log(max(row_int(row, "input_len"), 1)) - self.center[0],
                math.log(param_count(arch_of(row))) - self.center[1],
                self.families.index(fam),
            )
        return out

    def _linear(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        nf = len(self.families)
        fam = X[:, 2].astype(int)
        z = theta[1 + fam]
        slopes = []
        j = 1 + nf
        if self.use_len:
            z = z + theta[j] * X[:, 0]
            slopes.append(X[:, 0])
            j += 1
        if self.use_size:
            z = z + theta[j] * X[:, 1]
            slopes.append(X[:, 1])
        return z, slopes

    def fit(self, X: np.ndarray, Y: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        y = Y[:, -1]
        nf = len(self.families)
        fam = X[:, 2].astype(int)
        onehot = np.eye(nf)[fam]
        p = len(self.names)
        lower = np.full(p, -20.0)
        upper = np.full(p, 20.0)
        lower[0], upper[0] = 0.0, self.ceiling

        def residual(theta: np.ndarray) -> np.ndarray:
            return theta[0] * expit(self._linear(theta, X)[0]) - y

        def jac(theta: np.ndarray) -> np.ndarray:
            z, slopes = self._linear(theta, X)
            s = expit(z)
            ds = (theta[0] * s * (1.0 - s))[:, None]
            return np.column_stack([s, ds * onehot, *(ds[:, 0] * x for x in slopes)])

        starts = [x0] if x0 is not None else [self._start(y, fam, c) for c in (1.2, 2.0, 4.0)]
        best = None
        for start in starts:
            res = least_squares(residual, np.clip(start, lower, upper), jac=jac, bounds=(lower, upper))
            if best is None or res.cost < best.cost:
                best = res
        return best.x

    def _start(self, y: np.ndarray, fam: np.ndarray, headroom: float) -> np.ndarray:
        a = min(self.ceiling, headroom * max(float(y.max()), 1e-9))
        offsets = []
        for f in range(len(self.families)):
            share = np.clip(y[fam == f].mean() / a, 0.02, 0.98)
            offsets.append(math.log(share / (1.0 - share)))
        return np.array([a, *offsets, *([0.5] * self.use_len), *([0.5] * self.use_size)])

    def predict_many(self, draws: np.ndarray, X: np.ndarray) -> np.ndarray:
        draws = np.atleast_2d(draws)
        return np.column_stack([d[0] * expit(self._linear(d, X)[0]) for d in draws])

    def covers(self, X_train: np.ndarray, X_test: np.ndarray) -> bool:
        """The training rows hold every family the test rows need."""
        return set(X_test[:, 2].astype(int)) <= set(X_train[:, 2].astype(int))


@dataclass(frozen=True)
class ConstantForm:
    """acc = a: every measured value the same (a model with random weights scores 0 at every length
    and size), so that is what the points allow; `ceiling` as LogisticForm's."""

    ceiling: float
    relative = False
    names = ("a",)
    stage = 1

    def design(self, rows: list[dict]) -> np.ndarray:
        return np.zeros((len(rows), 1))

    def fit(self, X: np.ndarray, Y: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        return np.array([float(np.mean(Y[:, -1]))])

    def predict_many(self, draws: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.repeat(np.atleast_2d(draws)[:, :1].T, len(X), axis=0)

    def covers(self, X_train: np.ndarray, X_test: np.ndarray) -> bool:
        return True


Form = LinearForm | EnergyForm | LogisticForm | ConstantForm


def shares(form: LinearForm | EnergyForm, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(rows, coefficients): the part of each row's prediction that each coefficient makes."""
    pred = form.predict_many(theta, X)[:, 0]
    without = np.where(np.eye(len(theta), dtype=bool), 0.0, theta)  # row j: theta with theta_j = 0
    return 1.0 - form.predict_many(without, X) / pred[:, None]


def _root(robust: bool, fitted: np.ndarray, y: np.ndarray) -> np.ndarray:
    if not robust:
        return np.ones(len(y))
    return (1.0 + ((fitted / y - 1.0) / ROBUST_SCALE) ** 2) ** -0.25


def fixed_weights(form: Form, theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray | None:
    """(rows, stages): the root weights the robust fit theta gives each row, per least-squares stage
    (None for the accuracy form). Refits that keep them (the bootstrap's, the held-out ones) each
    solve one nnls instead of reweighting, as the form search does: their cost grows with the rows.
    """
    if isinstance(form, LogisticForm | ConstantForm):
        return None
    if isinstance(form, LinearForm):
        return _root(form.robust, form.matrix(X) @ theta, Y[:, -1])[:, None]
    k = len(form.latency.names)
    lat = _root(form.latency.robust, form.latency.matrix(X) @ theta[:k], Y[:, 0])
    energy = _root(form.latency.robust, form._design(X, theta[:k]) @ theta[k:], Y[:, 1])
    return np.column_stack([lat, energy])


def refit(
    form: Form, X: np.ndarray, Y: np.ndarray, theta: np.ndarray, root: np.ndarray | None = None
) -> np.ndarray:
    """The form fitted on some of the rows theta was fitted on, warm-started from theta.

    A cost term those rows hardly feel (under MIN_SUPPORT of every row's prediction) keeps its
    coefficient in theta: those rows leave it unidentified, free to take any value, which would
    show wherever the term grows (the bootstrap's draws and the refits that reach beyond the range).
    """
    if isinstance(form, LogisticForm | ConstantForm):
        return form.fit(X, Y, theta)
    held = np.where(shares(form, theta, X).max(axis=0) < MIN_SUPPORT, theta, np.nan)
    return form.fit(X, Y, theta, held, root)


def residuals(form: Form, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Signed residuals of predictions: log ratios (relative forms) or differences."""
    return np.log(y / np.maximum(pred, 1e-300)) if form.relative else y - pred


def residual_pool(form: Form, theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Residuals of a fit, inflated by sqrt(n / (n - p)): log ratios (relative forms) or differences."""
    y = Y[:, -1]
    n, p = len(y), len(theta)
    inflate = math.sqrt(n / max(n - p, 1))
    return inflate * residuals(form, y, form.predict_many(theta, X)[:, 0])


def resample(groups: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Counts (n_boot, n_groups): how often each configuration is drawn in each bootstrap resample."""
    n_groups = int(groups.max()) + 1
    picks = rng.integers(0, n_groups, size=(n_boot, n_groups))
    return np.stack([np.bincount(p, minlength=n_groups) for p in picks])


def bootstrap(
    form: Form, X: np.ndarray, Y: np.ndarray, groups: np.ndarray, theta: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Coefficients refitted on each resample of configurations, warm-started from `theta`, each row
    weighted as the fit on all rows weighs it (fixed_weights), a term the resample hardly feels kept
    at theta (refit)."""
    return refits(form, X, Y, theta, counts[:, groups].astype(float), support=True)


def refits(
    form: Form, X: np.ndarray, Y: np.ndarray, theta: np.ndarray, weights: np.ndarray, support: bool
) -> np.ndarray:
    """(k, coefficients): the form refitted under each row of `weights` (k, rows: how often each row
    counts, 0 for one left out), each row weighted as the fit theta weighs it (fixed_weights), warm-
    started from theta; with `support`, a term the rows counted hardly feel keeps theta's value (refit).

    A cost form's refits are solved together (nnls_batch.nnls_many); the accuracy form's one by one.
    """
    if isinstance(form, LogisticForm | ConstantForm):
        out = np.empty((len(weights), len(theta)))
        for b, w in enumerate(weights):
            idx = np.repeat(np.arange(len(w)), w.astype(int))
            out[b] = form.fit(X[idx], Y[idx], theta)
        return out
    root = fixed_weights(form, theta, X, Y)
    held = np.zeros((len(weights), len(theta)), dtype=bool)
    if support:
        held = _support(shares(form, theta, X), weights > 0) < MIN_SUPPORT
    if isinstance(form, LinearForm):
        return _linear_refits(form, form.matrix(X), Y[:, -1], theta, weights * root[:, 0] ** 2, held)
    k = len(form.latency.names)
    M = form.latency.matrix(X)
    lat = _linear_refits(form.latency, M, Y[:, 0], theta[:k], weights * root[:, 0] ** 2, held[:, :k])
    flops = np.broadcast_to(X[:, _columns(form.terms)], (len(lat), len(X), len(form.terms)))
    design = np.concatenate([(M @ lat.T).T[:, :, None], flops], axis=2)  # each refit's fitted latency
    rest = _stage_refits(design, Y[:, 1], theta[k:], weights * root[:, 1] ** 2, held[:, k:])
    return np.concatenate([lat, rest], axis=1)


def _support(share: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """(k, coefficients): the largest share of a prediction each term makes among the rows counted."""
    return np.stack([np.where(c[:, None], share, -np.inf).max(axis=0) for c in counted])


def _linear_refits(
    form: LinearForm, M: np.ndarray, y: np.ndarray, theta: np.ndarray, w: np.ndarray, held: np.ndarray
) -> np.ndarray:
    return _stage_refits(M, y, theta, w, held | ~np.isnan(form.known))


def _stage_refits(
    D: np.ndarray, y: np.ndarray, theta: np.ndarray, w: np.ndarray, held: np.ndarray
) -> np.ndarray:
    """One least-squares stage refitted k times on the relative system: columns D (rows, coefficients),
    or one set per refit (k, rows, coefficients), targets y, squared root weights w (k, rows); a
    coefficient `held` (k, coefficients) keeps theta's value."""
    out = np.tile(theta, (len(w), 1))
    patterns, which = np.unique(held, axis=0, return_inverse=True)
    for j, pattern in enumerate(patterns):
        sel, free = which.ravel() == j, ~pattern
        if not free.any():
            continue
        d = D if D.ndim == 2 else D[sel]
        target = 1.0 - (d[..., pattern] @ theta[pattern]) / y
        a = d[..., free] / y[:, None]
        scale = np.abs(a).max(axis=-2, keepdims=True)
        scale[~(scale > 0)] = 1.0
        u = nnls_many(a / scale, target, w[sel], theta[free])
        out[np.ix_(sel, free)] = u / scale.reshape(-1, free.sum())
    return out


_LEVELS = np.linspace(0.0, 1.0, MAX_NOISE_DRAWS)


def noise_quantiles(noise: np.ndarray) -> np.ndarray:
    """A residual pool as MAX_NOISE_DRAWS quantiles (itself when no larger)."""
    return noise if len(noise) <= MAX_NOISE_DRAWS else np.quantile(noise, _LEVELS)


def interval(
    form: Form, draws: np.ndarray, X: np.ndarray, noise: np.ndarray, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Central `level` interval of the predictive distribution: every draw combined with the noise."""
    preds = form.predict_many(draws, X)  # (m, B)
    if preds.shape[1] > MAX_NOISE_DRAWS:  # each row's draws, as quantiles at the midpoints of equal shares
        preds = np.quantile(preds, (np.arange(MAX_NOISE_DRAWS) + 0.5) / MAX_NOISE_DRAWS, axis=1).T
    noise = noise_quantiles(noise)
    if form.relative:
        samples = preds[:, :, None] * np.exp(noise)[None, None, :]
    else:
        samples = preds[:, :, None] + noise[None, None, :]
    samples = samples.reshape(len(X), -1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail], axis=1)
    return low, high
