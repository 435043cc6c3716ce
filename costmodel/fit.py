"""Fits of cost and accuracy, each with bootstrap draws, an interval model and its validation.

Cost fits are made per hardware fingerprint, device, phase and dtype, shared across families and
sizes, so that a size never measured is predicted from its analytic features:

    latency = t0 + F_dense / R_dense + F_attn / R_attn + F_dec / R_dec  (+ layers * t_layer,
              + bytes / bandwidth, + layer_tokens * t_token, + sparse_layers * t_sparse,
              + sparse_tokens * t_sparse_token,
              + prob_bytes / B_prob, + fresh_bytes / B_fault, + F_attn_sparse / R_sparse,
              + mask_bytes / B_mask, and
              R_attn, t_layer, B_prob or t_token per family: up to five of these, the set with
              the lowest held-out error over configurations and sizes once each refinement is
              charged 10%)
    (generation runs the encoder first: its form keeps the encoding form's terms and adds to them)
    energy  = P * latency + k_dense * F_dense + k_attn * F_attn + k_dec * F_dec
    memory  = m0 + a * weight_bytes + activation_bytes  (+ layers * m_layer + layer_tokens * m_token,
              each where it earns its place as latency's refinements do)

Each is fitted on relative residuals under scipy's soft_l1 loss where there are at least
ROBUST_CONFIGS_PER_COEFFICIENT configurations per coefficient, else by least squares: on a shared CPU a
timing a neighbour disturbed misses by 30-40%, and would pull a least-squares fit by its square.

Accuracy is fitted per task as a logistic curve in log input length and log parameters with one
offset per family (forms.LogisticForm), marked low-confidence when few points support it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import nnls

from costmodel.errors import FeatureError, FitError
from costmodel.features import DEFAULT_GEN_TOKENS, arch_of, features, param_count, row_int
from costmodel.forms import (
    FAMILY,
    FEATURE_COLUMNS,
    ConstantForm,
    EnergyForm,
    Form,
    LinearForm,
    LogisticForm,
    bootstrap,
    relative_system,
    resample,
    robust_solve,
)
from costmodel.nnls_batch import nnls_systems
from costmodel.quantities import (
    COST_QUANTITIES,
    FEATURE_PHASE,
    config_of,
    latency_of,
    measured,
    size_of,
    training_setup,
)
from costmodel.validate import (
    Reach,
    Validation,
    config_folds,
    extrapolation,
    held_out_predictions,
    leave_one_config_out,
    leave_one_size_out,
    noise_pool,
    reaching_interval,
)

N_BOOT = 200
# per-layer overhead; memory traffic; per-token work in every layer (norms, residuals, activations);
# per-layer op overhead of sparse attention implementations (many small kernels and index ops), and
# their per-token work (gathers, chunk copies);
# attention probabilities written; allocations malloc maps afresh at every forward; the extra time
# per FLOP of sparse attention over full attention's dense batched GEMMs; the dense (batch, n, n)
# mask LED's encoder builds at every forward
OPTIONAL_TERMS = (
    "layers",
    "bytes_moved",
    "layer_tokens",
    "sparse_layers",
    "sparse_tokens",
    "prob_bytes",
    "fresh_bytes",
    "f_attn_sparse",
    "mask_bytes",
)
# kernels, overheads and memory traffic that differ between the families' code
SPLIT_TERMS = ("f_attn", "layers", "prob_bytes", "layer_tokens")
MAX_REFINEMENTS = 5
MEMORY_BASE = ("const", "weight_bytes", "act_bytes")
# a byte held at the peak is a byte of peak memory (MB of 2**20 bytes): known, never fitted. Fitted
# freely on five CPU sweeps, inference's coefficient came out at 0.97-1.11; fitting it on short
# inputs alone gave 1.9-2.7, as it took up what the per-token term below holds
BYTE_HELD = 1.0 / 2**20
# what the peak holds beside the largest activations: per-layer buffers, and per token and layer the
# small tensors the allocator keeps
MEMORY_TERMS = ("layers", "layer_tokens")
MACHINE_RATES = ("fresh_bytes",)  # terms a form may charge at a rate engine.meters measured (_calibrated)
EXTRA_TERM_PENALTY = 0.10  # a refinement must cut the held-out error by about this share
CONFIGS_PER_COEFFICIENT = 3  # below this, a fit is low-confidence
# configurations per fitted coefficient below which a form is fitted by least squares, not robustly:
# a robust loss discounts the rows it doubts, and tells a disturbed timing from a trend only where the
# trend is seen many times
ROBUST_CONFIGS_PER_COEFFICIENT = 5
EXTENT_TOLERANCE = 1e-6
SEARCH_CONFIGS = 50  # configurations the form search scores candidate forms on (searched_rows)
SEARCH_BATCH = 64  # candidate forms whose held-out folds are solved in one batch


@dataclass(frozen=True)
class Estimate:
    """One predicted quantity at one configuration, with its 90% interval."""

    value: float  # the model's prediction
    low: float
    high: float
    extrapolated: bool  # outside the measured range of input length, params, F_dense or F_attn
    measured: float | None = None  # the measured value, where the configuration was measured

    @property
    def best(self) -> float:
        """The measured value where there is one, else the prediction."""
        return self.value if self.measured is None else self.measured

    @property
    def error(self) -> float | None:
        """(prediction - measured) / |measured|, where measured and non-zero."""
        if self.measured is None or self.measured == 0:
            return None
        return (self.value - self.measured) / abs(self.measured)


@dataclass(frozen=True, eq=False)
class Fit:
    """A fitted quantity: coefficients, bootstrap draws, residual noise, extent and validation."""

    quantity: str
    scope: tuple[str, ...]  # (fingerprint, device, dtype) for cost; (task, metric) for accuracy
    form: Form
    theta: np.ndarray
    draws: np.ndarray  # (n_boot, n_coefficients)
    noise: np.ndarray  # held-out residuals (validate.noise_pool): log ratios (cost) or differences (accuracy)
    reach: Reach  # what the form gets wrong beyond its measured range
    extent: tuple[tuple[str, float, float], ...]  # (feature, lowest, highest) measured
    rows: int
    configs: int
    low_confidence: bool
    validation: Validation
    gen_tokens: tuple[int, ...] = ()  # the output lengths of the rows fitted on

    @property
    def coefficients(self) -> dict[str, float]:
        return dict(zip(self.form.names, map(float, self.theta), strict=True))

    def estimate(self, rows: list[dict]) -> list[Estimate]:
        """Predictions with intervals for rows (FeatureError on a row lacking a dimension).

        Beyond the measured range of input length or size, an interval also spans the form's own
        errors of extrapolation (validate.Reach), which grow with the distance.
        """
        if not rows:
            return []
        X = self.form.design(rows)
        values = self.form.predict_many(self.theta, X)[:, 0]
        placed = _extent_values(self.quantity, rows)
        low, high = reaching_interval(self.form, self.draws, X, self.noise, placed, self.reach)
        outside = _outside(self.extent, placed)
        if self.quantity == "accuracy":
            # beyond the range, with no refit that reached so far to say how wrong the curve gets
            # there, the curve's draws are no interval: the metric's whole range is
            unchecked = outside & np.array(
                [self.reach.pool(*place) is None for place in self.reach.places(placed)]
            )
            low, high = np.where(unchecked, 0.0, low), np.where(unchecked, self.form.ceiling, high)
            # a metric's range holds its values and their intervals
            values, low, high = (np.clip(a, 0.0, self.form.ceiling) for a in (values, low, high))
        return [
            Estimate(float(v), float(min(lo, v)), float(max(hi, v)), bool(o))
            for v, lo, hi, o in zip(values, low, high, outside, strict=True)
        ]

    @property
    def machine_rates(self) -> tuple[tuple[str, float], ...]:
        """Terms charged at a rate measured on the machine instead of a fitted one (LinearForm.prior)."""
        prior = getattr(getattr(self.form, "latency", self.form), "prior", ())
        return tuple((term, value) for term, value in prior if term in MACHINE_RATES)

    def held_out(self) -> str:
        """One line: rows and configurations fitted on, and the held-out errors."""
        v = self.validation
        unit = "%" if v.unit == "%" else ""
        parts = [
            f"{self.rows} rows, {self.configs} configs" + (", low confidence" if self.low_confidence else "")
        ]
        for term, value in self.machine_rates:
            parts.append(f"{term} at the rate measured on the machine ({value * 1e9:.3g} ns/B)")
        for name, held in (("leave-one-config-out", v.loco), ("leave-one-size-out", v.loso)):
            if held is None:
                parts.append(f"{name}: n/a")
                continue
            cover = "" if held.coverage is None else f", {100 * held.coverage:.0f}% inside 90% interval"
            parts.append(f"{name}: median {held.median:.3g}{unit}, worst {held.worst:.3g}{unit}{cover}")
        return "; ".join(parts)

    def summary(self) -> str:
        """One line: what was fitted on what, and its held-out errors."""
        return f"{self.quantity} [{', '.join(self.scope)}]: {self.held_out()}"


def _extent_names(quantity: str) -> tuple[str, ...]:
    return ("input_len", "params") if quantity == "accuracy" else ("input_len", "params", "f_dense", "f_attn")


def _extent_values(quantity: str, rows: list[dict]) -> np.ndarray:
    out = []
    for row in rows:
        if quantity == "accuracy":
            out.append((float(row_int(row, "input_len")), float(param_count(arch_of(row)))))
        else:
            f = features(row, FEATURE_PHASE[quantity])
            out.append((float(row_int(row, "input_len")), f.params, f.f_dense, f.f_attn))
    return np.array(out, dtype=float)


def _outside(extent: tuple[tuple[str, float, float], ...], values: np.ndarray) -> np.ndarray:
    lo = np.array([e[1] for e in extent]) * (1 - EXTENT_TOLERANCE)
    hi = np.array([e[2] for e in extent]) * (1 + EXTENT_TOLERANCE)
    return ((values < lo) | (values > hi)).any(axis=1)


def _groups(rows: list[dict], key) -> np.ndarray:
    return np.unique([repr(key(r)) for r in rows], return_inverse=True)[1]


def _design(form: Form, rows: list[dict], what: str) -> np.ndarray:
    try:
        X = form.design(rows)
    except FeatureError as e:
        raise FitError(f"{what}: {e}") from None
    if not np.isfinite(X).all():
        raise FitError(f"{what}: the rows give non-finite features")
    return X


def _targets(rows: list[dict], quantity: str, metric: str | None, what: str, positive: bool) -> np.ndarray:
    y = np.array([measured(r, quantity, metric) for r in rows], dtype=float)
    bad = ~np.isfinite(y) | ((y <= 0) if positive else False)
    if bad.any():
        kind = "non-finite or non-positive" if positive else "non-finite"
        raise FitError(f"{what}: {int(bad.sum())} of {len(y)} rows hold a {kind} value")
    return y


def _finish(
    quantity: str,
    scope: tuple[str, ...],
    form: Form,
    rows: list[dict],
    X: np.ndarray,
    Y: np.ndarray,
    n_boot: int,
    seed: int,
    low_confidence: bool,
) -> Fit:
    what = f"{quantity} [{', '.join(scope)}]"
    groups = _groups(rows, config_of)
    configs = int(groups.max()) + 1
    p = form.stage
    if configs <= p:
        raise FitError(f"{what}: {configs} configurations measured; the fit needs at least {p + 1}")
    theta = form.fit(X, Y)
    pred = form.predict_many(theta, X)[:, 0]
    if not np.isfinite(theta).all() or not np.isfinite(pred).all() or (form.relative and (pred <= 0).any()):
        raise FitError(f"{what}: the fit degenerated (non-finite or non-positive predictions)")
    rng = np.random.default_rng(seed)
    counts = resample(groups, n_boot, rng)
    draws = bootstrap(form, X, Y, groups, theta, counts)
    held = held_out_predictions(form, X, Y, groups, theta)
    noise = noise_pool(form, theta, X, Y, held)
    sizes = _groups(rows, size_of)
    values = _extent_values(quantity, rows)
    validation = Validation(
        unit="%" if form.relative else "abs",
        loco=leave_one_config_out(
            form, X, Y, groups, held, counts, draws, noise, keys=[str(r.get("key", "")) for r in rows]
        ),
        loso=leave_one_size_out(form, X, Y, groups, sizes, values, theta, max(n_boot // 5, 20), rng),
    )
    extent = tuple(
        (name, float(values[:, j].min()), float(values[:, j].max()))
        for j, name in enumerate(_extent_names(quantity))
    )
    return Fit(
        quantity=quantity,
        scope=scope,
        form=form,
        theta=theta,
        draws=draws,
        noise=noise,
        reach=extrapolation(form, X, Y, values, groups, sizes, theta),
        extent=extent,
        rows=len(rows),
        configs=configs,
        low_confidence=low_confidence or configs < CONFIGS_PER_COEFFICIENT * p,
        validation=validation,
        gen_tokens=tuple(sorted({row_int(r, "gen_tokens", DEFAULT_GEN_TOKENS) for r in rows})),
    )


def cost_scope(row: dict) -> tuple[str, str, str]:
    """The rows a cost fit shares: (fingerprint, device, dtype)."""
    return (str(row.get("fingerprint", "")), str(row.get("device", "")), str(row.get("dtype", "float32")))


def _held_out_errors(
    forms: list[LinearForm], X: np.ndarray, y: np.ndarray, held_out: list[tuple[np.ndarray, np.ndarray]]
) -> list[float]:
    """Per form, the mean over `held_out` (configuration folds, and sizes: each the rows held out in
    turn (folds, rows), and whether the other rows hold every family they hold) of its median error
    on the rows held out.

    Solved on the relative system, each row weighted as the robust fit on all rows weighs it
    (forms.robust_solve) where the form is robust: the fits' problem, with weights not refitted per
    fold, every fold of SEARCH_BATCH forms solved together (nnls_batch.nnls_systems): fast enough to
    score every candidate form.
    """
    systems, plans = [], []
    for form in forms:
        known, M = form.known, form.matrix(X)
        free = np.isnan(known)
        A, _ = relative_system(M[:, free], y)
        target = 1.0 - (M[:, ~free] @ known[~free]) / y
        if form.robust:
            guess, root_weight = robust_solve(A, target)
        else:
            guess, root_weight = nnls(A, target)[0], np.ones(len(y))
        units = [tests[covered] if form.split else tests for tests, covered in held_out]
        every = np.concatenate(units)  # every unit's folds solved in one batch
        systems.append((A, target, (~every) * root_weight**2, guess))
        plans.append(units)
    out = []
    for lo in range(0, len(forms), SEARCH_BATCH):
        thetas = nnls_systems(systems[lo : lo + SEARCH_BATCH])
        for (A, target, _, _), units, theta in zip(systems[lo:], plans[lo:], thetas, strict=False):
            errs = np.abs((A @ theta.T).T - target)
            medians, start = [], 0
            for tests in units:
                end = start + len(tests)
                medians.append(100.0 * float(np.median(errs[start:end][tests])) if len(tests) else math.inf)
                start = end
            out.append(float(np.mean(medians)))
    return out


def searched_rows(groups: np.ndarray) -> np.ndarray:
    """The rows the form search scores forms on: all, or those of SEARCH_CONFIGS configurations spread
    evenly over the configurations' order (family, size, input length, batch), so that the search costs
    the same however many configurations a merged database holds; the form chosen is then fitted,
    resampled and validated on every row."""
    ids = np.unique(groups)
    if len(ids) <= SEARCH_CONFIGS:
        return np.ones(len(groups), dtype=bool)
    picked = ids[np.unique(np.linspace(0, len(ids) - 1, SEARCH_CONFIGS).round().astype(int))]
    return np.isin(groups, picked)


def _latency_form(
    phase: str,
    X: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    sizes: np.ndarray,
    start: LinearForm | None = None,
) -> LinearForm:
    """The latency terms: t0, dense, attention (and decode), plus the refinements that earn their place.

    `start`, the form of a fit this one extends (generation runs the encoder first), keeps its terms
    and per-family splits, and refinements are searched on top of them.

    Refinements: an optional term of OPTIONAL_TERMS, or a term of SPLIT_TERMS given one coefficient
    per family (see _refined).
    """
    families = tuple(int(f) for f in np.unique(X[:, FAMILY]))
    f_dec = bool(X[:, FEATURE_COLUMNS.index("f_dec")].any())
    base = ("const", "f_dense", "f_attn") + (("f_dec",) * f_dec)
    base = tuple(
        t for t in base if t == "const" or X[:, FEATURE_COLUMNS.index(t)].any()
    )  # decode: no encoder
    configs = len(np.unique(groups))
    kept: tuple[str, ...] = ()
    if start is not None and set(start.families) <= set(families):
        terms = base + tuple(t for t in start.terms if t not in base and t not in dict(start.prior))
        extended = LinearForm(phase, terms, start.split, families)
        if configs > extended.stage + 1:  # else too few configurations: search from the plain base
            base, kept = extended.terms, extended.split
    refinements = [(t, False) for t in OPTIONAL_TERMS if t not in base]
    if len(families) > 1:
        refinements += [(t, True) for t in SPLIT_TERMS if t not in kept]
    return _refined(phase, base, kept, refinements, MAX_REFINEMENTS, X, Y[:, 0], groups, sizes)


def _memory_form(
    phase: str, X: np.ndarray, Y: np.ndarray, groups: np.ndarray, sizes: np.ndarray
) -> LinearForm:
    """Peak memory: m0, weights and the activations held at the peak (at BYTE_HELD), plus the terms
    of MEMORY_TERMS that earn their place (see _refined)."""
    refinements = [(t, False) for t in MEMORY_TERMS]
    prior = (("act_bytes", BYTE_HELD),)
    return _refined(phase, MEMORY_BASE, (), refinements, len(refinements), X, Y[:, 0], groups, sizes, prior)


def _refined(
    phase: str,
    base: tuple[str, ...],
    kept: tuple[str, ...],
    refinements: list[tuple[str, bool]],
    most: int,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    sizes: np.ndarray,
    prior: tuple[tuple[str, float], ...] = (),
) -> LinearForm:
    """The form of `base` terms (with `kept` split per family) and the refinements that earn their place.

    A refinement is (term, per_family): an added term, or a term of the form given one coefficient
    per family. Every set of at most `most` is scored by the mean of its leave-one-config-out and
    (with two sizes or more) leave-one-size-out median errors, inflated by (1 + EXTRA_TERM_PENALTY)
    per refinement; the lowest score wins. Each refinement must so cut the held-out error by about
    EXTRA_TERM_PENALTY, and a form that fits the sizes it saw but not the others loses to one that
    carries over. A form is fitted under the robust loss where the configurations number
    ROBUST_CONFIGS_PER_COEFFICIENT per coefficient, else by least squares.
    """
    families = tuple(int(f) for f in np.unique(X[:, FAMILY]))
    configs = len(np.unique(groups))
    searched = searched_rows(groups)
    X, y, groups, sizes = X[searched], y[searched], groups[searched], sizes[searched]
    folds = config_folds(groups)
    units = [folds, sizes] if len(np.unique(sizes)) > 1 else [folds]
    fam = X[:, FAMILY]
    held_out = []
    for unit in units:
        tests = unit[None, :] == np.unique(unit)[:, None]
        held_out.append((tests, np.array([set(fam[t]) <= set(fam[~t]) for t in tests])))
    candidates, penalties = [], []
    for k in range(most + 1):
        for combo in itertools.combinations(refinements, k):
            terms = base + tuple(t for t, per_family in combo if not per_family)
            split = kept + tuple(t for t, per_family in combo if per_family)
            if any(t not in terms for t in split):
                continue
            form = LinearForm(phase, terms, split, families if split else (), prior)
            if configs <= form.stage + 1:
                continue
            candidates.append(replace(form, robust=configs >= ROBUST_CONFIGS_PER_COEFFICIENT * form.stage))
            penalties.append((1 + EXTRA_TERM_PENALTY) ** k)
    best, chosen = math.inf, LinearForm(phase, base, kept, families if kept else (), prior)
    for form, error, penalty in zip(
        candidates, _held_out_errors(candidates, X, y, held_out), penalties, strict=True
    ):
        if error * penalty < best:
            best, chosen = error * penalty, form
    return chosen


def _calibrated(form: LinearForm, rows: list[dict]) -> LinearForm:
    """The form, charging fresh_bytes at the machine's measured fault rate where it does not fit one.

    A form without the term was chosen on rows whose blocks rarely reach malloc's mmap threshold;
    longer inputs cross it, and then pay engine.meters.faults' rate (the median of the rows'), which
    agrees with the rate fitted where rows do cross it (0.47 against 0.49 ns/B on one CPU). Rows
    without the rate (measured on an accelerator, or before it was recorded) leave the form as is.
    """
    rates = [r.get("fault_s_per_byte") for r in rows]
    if "fresh_bytes" in form.terms or not all(isinstance(v, float) and v > 0 for v in rates):
        return form
    rate = float(np.median(rates))
    return replace(form, terms=(*form.terms, "fresh_bytes"), prior=(("fresh_bytes", rate),))


def fit_cost(
    rows: list[dict],
    quantity: str,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    latency: LinearForm | None = None,
    start: LinearForm | None = None,
) -> Fit:
    """Fit one cost quantity (quantities.COST_QUANTITIES) on rows of one scope (FitError if not).

    `latency` fixes the latency form of an energy fit (that of a latency fit already made) instead
    of selecting it again; `start` is a form a latency form extends (see _latency_form).
    """
    if quantity not in COST_QUANTITIES:
        raise FitError(f"quantity {quantity!r} unknown; allowed: {', '.join(COST_QUANTITIES)}")
    phase, what_kind = FEATURE_PHASE[quantity], quantity.rsplit("_", 1)[1]
    needs = (latency_of(quantity), quantity) if what_kind == "energy" else (quantity,)
    rows = [r for r in rows if all(measured(r, q) is not None for q in needs)]
    scopes = sorted({cost_scope(r) for r in rows})
    if not rows:
        raise FitError(f"{quantity}: no row holds a measured {quantity}")
    if len(scopes) > 1:
        listed = "; ".join("/".join(s) for s in scopes)
        raise FitError(
            f"{quantity}: rows span {len(scopes)} fingerprint/device/dtype scopes: {listed}; fit each apart"
        )
    scope = scopes[0]
    what = f"{quantity} [{', '.join(scope)}]"
    Y = np.column_stack([_targets(rows, q, None, what, positive=True) for q in needs])
    X = _design(LinearForm(phase, ()), rows, what)
    flops = tuple(t for t in ("f_dense", "f_attn", "f_dec") if X[:, FEATURE_COLUMNS.index(t)].any())
    groups, sizes = _groups(rows, config_of), _groups(rows, size_of)
    if what_kind == "memory":
        form: Form = _memory_form(phase, X, Y, groups, sizes)
    else:
        if latency is None:
            latency = _latency_form(phase, X, Y, groups, sizes, start)
            latency = _calibrated(latency, rows)
        form = latency if what_kind == "latency" else EnergyForm(latency, flops)
    return _finish(quantity, scope, form, rows, X, Y, n_boot, seed, low_confidence=False)


def fit_accuracy(
    rows: list[dict], task: str, metric: str, *, n_boot: int = N_BOOT, seed: int = 0, setup: str | None = None
) -> Fit:
    """Fit accuracy (`metric`) of one task against input length and size (FitError if it cannot), on
    the rows trained as `setup` says (quantities.training_setup; None: the rows' one setup).

    Where every value is the same, that value is the fit (forms.ConstantForm).
    """
    if setup is None:
        setups = {training_setup(r) for r in rows if r.get("task") == task}
        setup = setups.pop() if len(setups) == 1 else None
    scope = (task, metric, str(setup))
    what = f"accuracy [{task}, {metric}, {setup}]"
    rows = [
        r
        for r in rows
        if r.get("task") == task
        and measured(r, "accuracy", metric) is not None
        and (setup is None or training_setup(r) == setup)
    ]
    if not rows:
        raise FitError(f"{what}: no row of task {task!r} holds {metric!r}")
    if setup is None:
        raise FitError(f"{what}: the rows were trained in several ways; fit each setup apart")
    y = _targets(rows, "accuracy", metric, what, positive=False)
    try:
        lengths = np.log([max(row_int(r, "input_len"), 1) for r in rows])
        params = np.log([param_count(arch_of(r)) for r in rows])
    except FeatureError as e:
        raise FitError(f"{what}: {e}") from None
    n_lengths, n_sizes = len(np.unique(lengths)), len(np.unique(params))
    top = float(y.max())
    ceiling = 1.0 if top <= 1 else 100.0 if top <= 100 else math.inf
    low = n_lengths < 3 or n_sizes < 2
    if np.ptp(y) == 0:
        form: Form = ConstantForm(ceiling)
    else:
        form = LogisticForm(
            families=tuple(sorted({str(r.get("family")) for r in rows})),
            use_len=n_lengths > 1,
            use_size=n_sizes > 1,
            center=(float(lengths.mean()), float(params.mean())),
            ceiling=ceiling,
        )
    X = _design(form, rows, what)
    return _finish("accuracy", scope, form, rows, X, y[:, None], n_boot, seed, low_confidence=low)
