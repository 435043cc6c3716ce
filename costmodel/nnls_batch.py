"""Many weighted non-negative least-squares problems on the same columns, solved together.

The bootstrap, the held-out refits and the form search each solve one problem per resample or fold:
the same rows and columns under different row weights. Each is solved on its normal equations by an
active-set method run on every problem at once, started from the active set of a nearby solution
(the fit on all rows): the problems sharing a passive set are solved in one batched numpy call, and
the Karush-Kuhn-Tucker conditions say which are at the non-negative optimum (the problem is convex:
they suffice). A problem still moving after MAX_ROUNDS, or ill-conditioned, is solved by
scipy.optimize.nnls.
"""

from __future__ import annotations

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
    k, p = w.shape[0], a.shape[-1]
    if a.ndim == 2 and b.ndim == 1:  # shared rows: each problem's normal equations are one product
        gram = (w @ (a[:, :, None] * a[:, None, :]).reshape(len(a), p * p)).reshape(k, p, p)
        rhs = w @ (a * b[:, None])
    else:
        aw = np.broadcast_to(a, (k, *a.shape[-2:])) * w[:, :, None]
        gram = np.swapaxes(aw, 1, 2) @ a  # (k, p, p)
        rhs = np.einsum("knp,kn->kp", aw, np.broadcast_to(b, w.shape))
    if guess is None:
        mean = w.mean(axis=0)
        a0, b0 = (a if a.ndim == 2 else a[0]), (b if b.ndim == 1 else b[0])
        guess = nnls(a0 * np.sqrt(mean)[:, None], b0 * np.sqrt(mean))[0]
    passive = np.tile(np.asarray(guess) > 0, (k, 1))
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
        root = np.sqrt(w[i])
        ai, bi = (a if a.ndim == 2 else a[i]), (b if b.ndim == 1 else b[i])
        out[i] = nnls(ai * root[:, None], bi * root)[0]
    return out


def _well_conditioned(gram: np.ndarray) -> np.ndarray:
    """Per matrix of a stack of Gram matrices: positive definite with no Cholesky pivot of its unit-
    diagonal scaling below 1 / MAX_CONDITION (a cheap bound on its condition number)."""
    diag = np.einsum("kii->ki", gram)
    good = (diag > 0).all(axis=1)
    root = np.sqrt(np.where(diag > 0, diag, 1.0))
    unit = gram / root[:, :, None] / root[:, None, :]
    pivots = np.zeros(diag.shape)
    try:
        pivots = np.einsum("kii->ki", np.linalg.cholesky(unit)) ** 2
    except np.linalg.LinAlgError:  # one is singular: find which
        for i in np.flatnonzero(good):
            try:
                pivots[i] = np.diag(np.linalg.cholesky(unit[i])) ** 2
            except np.linalg.LinAlgError:
                good[i] = False
    return good & (pivots.min(axis=1) > 1.0 / MAX_CONDITION)
