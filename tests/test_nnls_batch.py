"""Batched non-negative least squares agrees with scipy.optimize.nnls problem by problem."""

import numpy as np
import pytest
from scipy.optimize import nnls

from costmodel.nnls_batch import nnls_many, nnls_systems


def _one_by_one(a, b, w):
    a = np.broadcast_to(a, (len(w), *a.shape[-2:]))
    b = np.broadcast_to(b, w.shape)
    return np.array(
        [nnls(ai * np.sqrt(wi)[:, None], bi * np.sqrt(wi))[0] for ai, bi, wi in zip(a, b, w, strict=True)]
    )


@pytest.mark.parametrize("seed", range(5))
def test_resamples_and_folds_match_scipy_with_coefficients_at_the_bound(seed):
    rng = np.random.default_rng(seed)
    n, p = 120, 7
    a = np.abs(rng.normal(size=(n, p)))
    truth = np.abs(rng.normal(size=p))
    truth[[1, 4]] = 0.0  # terms the data do not hold: their coefficients sit at zero, or near it
    b = a @ truth * np.exp(rng.normal(0, 0.1, n)) - 0.05 * a[:, 4]
    resamples = rng.poisson(1.0, size=(40, n)).astype(float)
    folds = 1.0 - (np.arange(n)[None, :] % 10 == np.arange(10)[:, None])
    for w in (resamples, folds):
        expected = _one_by_one(a, b, w)
        got = nnls_many(a, b, w, nnls(a, b)[0])
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())
        assert (got >= 0).all()


def test_a_design_per_problem_and_a_poor_guess():
    rng = np.random.default_rng(7)
    k, n, p = 12, 60, 4
    a = np.abs(rng.normal(size=(k, n, p)))
    b = np.abs(rng.normal(size=(k, n)))
    w = rng.random((k, n))
    expected = _one_by_one(a, b, w)
    got = nnls_many(a, b, w, np.zeros(p))  # every coefficient starts active
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_degenerate_problems_fall_back_to_scipy():
    rng = np.random.default_rng(3)
    a = np.abs(rng.normal(size=(30, 3)))
    a[:, 2] = a[:, 1]  # two identical columns: singular normal equations
    b = a @ np.array([1.0, 0.5, 0.5])
    w = np.ones((3, 30))
    w[1] = 0.0  # every row left out: nothing to fit
    got = nnls_many(a, b, w, np.ones(3))
    assert np.allclose(a @ got[0], b) and np.allclose(a @ got[2], b)
    assert (got[1] == 0).all()


def test_systems_of_different_columns_solved_together_match_each_alone():
    rng = np.random.default_rng(11)
    n = 50
    systems = []
    for p in (2, 5, 3, 5):
        a = np.abs(rng.normal(size=(n, p)))
        b = a @ np.abs(rng.normal(size=p)) - 0.3 * a[:, 0]  # the first coefficient pushed to its bound
        w = rng.random((6, n))
        systems.append((a, b, w, nnls(a, b)[0]))
    for (a, b, w, _), got in zip(systems, nnls_systems(systems), strict=True):
        assert got.shape == (len(w), a.shape[1])
        assert np.allclose(got, _one_by_one(a, b, w), rtol=1e-9, atol=1e-12)
    assert nnls_systems([]) == []
