"""Tests of scengen.stats: the one within-day ACF, ramps and the distance kernel."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_days

from scengen import stats


def _brute_acf(v: np.ndarray, p: np.ndarray, lag: int) -> np.ndarray:
    """The documented formula, one site and day at a time."""
    out = []
    for s in range(v.shape[1]):
        num = den = 0.0
        for d in range(v.shape[0]):
            c = v[d, s] - v[d, s].mean()
            num += p[d] * np.dot(c[lag:], c[:-lag])
            den += p[d] * np.dot(c, c)
        out.append(num / den)
    return np.array(out)


def test_within_day_acf_is_the_documented_formula():
    rng = np.random.default_rng(0)
    v = np.cumsum(rng.normal(size=(12, 3, 10)), axis=2)
    p = rng.dirichlet(np.ones(12))
    got = stats.within_day_acf(v, p, lags=[1, 3, 9])
    assert got.shape == (3, 3)
    for k, lag in enumerate([1, 3, 9]):
        np.testing.assert_allclose(got[:, k], _brute_acf(v, p, lag), rtol=1e-12)
    # default weights are equal; the weights' scale cancels; |rho| <= 1 (biased estimator)
    np.testing.assert_allclose(stats.within_day_acf(v)[:, 0], _brute_acf(v, np.ones(12), 1))
    np.testing.assert_allclose(stats.within_day_acf(v, 7 * p, [1]), got[:, :1], rtol=1e-12)
    assert np.all(np.abs(stats.within_day_acf(v, None, range(1, 10))) <= 1)


def test_within_day_acf_ignores_day_to_day_levels():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(20, 1, 24))
    shifted = v + 10 * rng.normal(size=(20, 1, 1))  # a level per day
    np.testing.assert_allclose(stats.within_day_acf(shifted), stats.within_day_acf(v), atol=1e-12)
    with np.errstate(all="ignore"):
        assert np.isnan(stats.within_day_acf(np.ones((3, 1, 5)))).all()  # flat site: NaN


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torch_batch_acf_equals_the_stats_acf(seed):
    torch = pytest.importorskip("torch")
    from scengen.train import batch_acf

    gen = torch.Generator().manual_seed(seed)
    n_sites, n_steps = 1 + seed, 8 + 8 * seed
    x = torch.cumsum(torch.randn(16, n_sites, n_steps, generator=gen, dtype=torch.float64), 2)
    got = batch_acf(x, max_lag=6).numpy()
    want = stats.within_day_acf(x.numpy(), None, range(1, 7))
    assert got.shape == want.shape == (n_sites, 6)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_ramps():
    v = np.array([[[0.0, 0.5, 0.25]]])
    np.testing.assert_array_equal(stats.ramps(v), [[[0.5, -0.25]]])
    np.testing.assert_allclose(stats.ramps(v, step_minutes=30), [[[1.0, -0.5]]])  # p.u./h


def test_distance_kernel_matches_differences():
    days = synthetic_days(40, 2, 24, seed=4).reshape(40, -1).astype(np.float64)
    a, b = days[:15], days[10:]  # 5 rows in common: distance exactly 0
    want = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    np.testing.assert_allclose(stats.pairwise_distances(a, b), want, rtol=1e-12, atol=0)
    d2 = stats.sq_distances(a, b)
    np.testing.assert_allclose(d2, want**2, rtol=1e-12, atol=0)
    assert (np.diag(d2[10:, :5]) == 0).all()  # refined: the duplicates are exactly 0
    np.testing.assert_allclose(stats.distances(a, b), want, rtol=1e-12, atol=0)
    # without refinement: the plain Gram trick, clipped at 0, float32 stays float32
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    raw = stats.sq_distances(a32, b32, refine=False)
    assert raw.dtype == np.float32 and raw.min() >= 0
    np.testing.assert_allclose(raw, want**2, atol=1e-4)
    gram = -2.0 * (a32 @ b32.T) + stats.sq_norms(a32)[:, None] + stats.sq_norms(b32)[None, :]
    np.testing.assert_array_equal(raw, np.maximum(gram, 0))  # the in-place order of reduce


def test_block_rows():
    assert stats.block_rows(stats.BLOCK_FLOATS * 2) == 1
    assert stats.block_rows(0) == stats.BLOCK_FLOATS
    assert stats.block_rows(1000) * 1000 <= stats.BLOCK_FLOATS
