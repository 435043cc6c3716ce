"""Many weighted non-negative least-squares problems on the same columns, solved together.

The bootstrap, the held-out refits and the form search each solve one problem per resample or fold:
the same rows and columns under different row weights. Each is solved on its normal equations at the
active set of a nearby solution (the fit on all rows), batched in numpy; the Karush-Kuhn-Tucker
conditions then say whether that is the non-negative optimum (the problem is convex: they suffice),
and the few problems where the active set moved are solved by scipy.optimize.nnls.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

MAX_CONDITION = 1e10  # beyond this, the normal equations lose digits the problem has: nnls solves it
KKT_TOLERANCE = 1e-9  # a gradient on an active coefficient above this share of the largest moves it


def nnls_many(a: np.ndarray, b: np.ndarray, w: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
    """u_k >= 0 minimising sum_i w[k, i] * (a_k[i] @ u_k - b_k[i])**2, one row of the result per k.

    `a` is (n, p) or (k, n, p), `b` (n,) or (k, n), `w` (k, n) non-negative; `guess` (p,), a solution
    whose zero coefficients are tried as the active set (default: that of the mean weights).
    """
    k, p = w.shape[0], a.shape[-1]
    if a.ndim == 2 and b.ndim == 1:  # shared rows: each problem's normal equations are one product
        gram = (w @ (a[:, :, None] * a[:, None, :]).reshape(len(a), p * p)).reshape(k, p, p)
        rhs = w @ (a * b[:, None])
    else:
        aw = np.broadcast_to(a, (k, *a.shape[-2:])) * w[:, :, None]
        gram = np.swapaxes(aw, 1, 2) @ a  # (k, p, p)
        rhs = np.einsum("knp,kn->kp", aw, np.broadcast_to(b, w.shape))
    a = np.broadcast_to(a, (k, *a.shape[-2:]))
    b = np.broadcast_to(b, w.shape)
    if guess is None:
        mean = w.mean(axis=0)
        guess = nnls(a[0] * np.sqrt(mean)[:, None], b[0] * np.sqrt(mean))[0]
    passive = np.asarray(guess) > 0
    out = np.zeros((k, p))
    ok = np.zeros(k, dtype=bool)
    if passive.any():
        sub = gram[:, passive][:, :, passive]
        good = np.linalg.cond(sub) < MAX_CONDITION
        if good.any():
            out[np.ix_(good, passive)] = np.linalg.solve(sub[good], rhs[good][:, passive, None])[:, :, 0]
        grad = rhs - np.einsum("kij,kj->ki", gram, out)
        scale = np.abs(rhs).max(axis=1)
        ok = good & (out[:, passive] > 0).all(axis=1)
        ok &= (grad[:, ~passive] <= KKT_TOLERANCE * scale[:, None]).all(axis=1)
    else:
        ok = (rhs <= 0).all(axis=1)  # every coefficient at zero is optimal when no gradient points up
    for i in np.flatnonzero(~ok):
        root = np.sqrt(w[i])
        out[i] = nnls(a[i] * root[:, None], b[i] * root)[0]
    return out
