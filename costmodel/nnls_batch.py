"""Many weighted non-negative least-squares problems, solved together.

The bootstrap, the held-out refits and the form search each solve one problem per resample or fold:
the same rows under different row weights, and, in the form search, the columns of every candidate
form. Each is solved on its normal equations by an active-set method run on every problem at once,
started from the active set of a nearby solution (the fit on all rows): the problems sharing a
passive set are solved in one batched numpy call, and the Karush-Kuhn-Tucker conditions say which
are at the non-negative optimum (the problem is convex: they suffice). A problem still moving after
MAX_ROUNDS, or ill-conditioned, is solved by scipy.optimize.nnls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import nnls

MAX_CONDITION = 1e10  # beyond this, the normal equations lose digits the problem has: nnls solves it
KKT_TOLERANCE = 1e-9  # a gradient on an active coefficient above this share of the largest moves it
MAX_ROUNDS = 4  # active-set changes tried in batch before a problem goes to scipy.optimize.nnls


def nnls_many(a: np.ndarray, b: np.ndarray, w: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
    """u_k >= 0 minimising sum_i w[k, i] * (a_k[i] @ u_k - b_k[i])**2, one row of the result per k.

    `a` is (n, p) or (k, n, p), `b` (n,) or (k, n), `w` (k, n) non-negative; `guess` (p,), a solution
    whose non-zero coefficients start the passive set (default: that of the mean weights).
    """
    if guess is None:
        mean = w.mean(axis=0)
        a0, b0 = (a if a.ndim == 2 else a[0]), (b if b.ndim == 1 else b[0])
        guess = nnls(a0 * np.sqrt(mean)[:, None], b0 * np.sqrt(mean))[0]
    gram, rhs = _normal(a, b, w)
    passive = np.tile(np.asarray(guess) > 0, (len(w), 1))

    def one(i: int) -> np.ndarray:
        return _scipy(a if a.ndim == 2 else a[i], b if b.ndim == 1 else b[i], w[i])

    return _active_set(gram, rhs, passive, one)


def nnls_systems(
    systems: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> list[np.ndarray]:
    """nnls_many of every system (a (n, p), b (n,), w (k, n), guess (p,)) at once: the systems may
    differ in their columns, each solved in a space of the most columns any has, its own beyond them
    held at zero. One (k, p) result per system."""
    if not systems:
        return []
    p = max(a.shape[1] for a, *_ in systems)
    grams, rhss, passives, owners = [], [], [], []
    for s, (a, b, w, guess) in enumerate(systems):
        q = a.shape[1]
        gram, rhs = _normal(a, b, w)
        padded = np.zeros((len(w), p, p))
        padded[:, :q, :q] = gram
        padded[:, np.arange(q, p), np.arange(q, p)] = 1.0  # unused columns: never rising, never singular
        grams.append(padded)
        rhss.append(np.pad(rhs, ((0, 0), (0, p - q))))
        passives.append(np.tile(np.pad(np.asarray(guess) > 0, (0, p - q)), (len(w), 1)))
        owners += [(s, k) for k in range(len(w))]

    def one(i: int) -> np.ndarray:
        s, k = owners[i]
        a, b, w, _ = systems[s]
        return np.pad(_scipy(a, b, w[k]), (0, p - a.shape[1]))

    out = _active_set(np.concatenate(grams), np.concatenate(rhss), np.concatenate(passives), one)
    starts = np.cumsum([0] + [len(w) for _, _, w, _ in systems])
    return [out[lo:hi, : a.shape[1]] for (a, *_), lo, hi in zip(systems, starts, starts[1:], strict=False)]


def _normal(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each problem's normal equations: Gram matrices (k, p, p) and right-hand sides (k, p)."""
    k, p = w.shape[0], a.shape[-1]
    if a.ndim == 2 and b.ndim == 1:  # shared rows: each problem's normal equations are one product
        gram = (w @ (a[:, :, None] * a[:, None, :]).reshape(len(a), p * p)).reshape(k, p, p)
        return gram, w @ (a * b[:, None])
    aw = np.broadcast_to(a, (k, *a.shape[-2:])) * w[:, :, None]
    return np.swapaxes(aw, 1, 2) @ a, np.einsum("knp,kn->kp", aw, np.broadcast_to(b, w.shape))


def _scipy(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    root = np.sqrt(w)
    return nnls(a * root[:, None], b * root)[0]


def _active_set(gram: np.ndarray, rhs: np.ndarray, passive: np.ndarray, one) -> np.ndarray:
    """The non-negative optimum of every problem from its starting passive set; `one(i)`, problem i
    solved by scipy where the batch cannot settle it."""
    k, p = rhs.shape
    out = np.zeros((k, p))
    moving = np.ones(k, dtype=bool)  # problems not yet at their optimum
    to_nnls = np.zeros(k, dtype=bool)
    tolerance = KKT_TOLERANCE * np.abs(rhs).max(axis=1)
    for _ in range(MAX_ROUNDS):
        idx = np.flatnonzero(moving)
        if not len(idx):
            break
        codes = passive[idx] @ (1 << np.arange(p))  # each passive set as one integer
        for code in np.unique(codes):
            sel = idx[codes == code]
            pattern = passive[sel[0]]
            out[sel] = 0.0
            if pattern.any():
                sub = gram[sel][:, pattern][:, :, pattern]
                good = _well_conditioned(sub)
                solved = np.linalg.solve(sub[good], rhs[sel[good]][:, pattern, None])[:, :, 0]
                out[np.ix_(sel[good], pattern)] = solved
                to_nnls[sel[~good]] = True
        idx = idx[~to_nnls[idx]]
        moving[to_nnls] = False
        grad = rhs[idx] - np.einsum("kij,kj->ki", gram[idx], out[idx])
        negative = passive[idx] & (out[idx] <= 0)
        rising = ~passive[idx] & (grad > tolerance[idx, None])
        # next: without the coefficients that went non-positive, else with the one rising most
        step = passive[idx] & ~negative
        climb = ~negative.any(axis=1) & rising.any(axis=1)
        step[climb, np.argmax(np.where(rising, grad, -np.inf), axis=1)[climb]] = True
        passive[idx] = step
        moving[idx] = negative.any(axis=1) | rising.any(axis=1)
    for i in np.flatnonzero(moving | to_nnls):
        out[i] = one(i)
    return out


def _well_conditioned(gram: np.ndarray) -> np.ndarray:
    """Per matrix of a stack of Gram matrices: positive definite, its unit-diagonal scaling's smallest
    eigenvalue above 1 / MAX_CONDITION (its largest is at most its size: a bound on its condition)."""
    diag = np.einsum("kii->ki", gram)
    good = (diag > 0).all(axis=1)
    root = np.sqrt(np.where(diag > 0, diag, 1.0))
    unit = gram / root[:, :, None] / root[:, None, :]
    return good & (np.linalg.eigvalsh(unit)[:, 0] > 1.0 / MAX_CONDITION)
