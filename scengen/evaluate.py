"""Evaluate a weighted scenario set against held-out measured days: the quality yardstick.

Every metric compares a (weighted) set of daily scenarios ``X`` with measured days ``y``, both of
shape ``(n, n_sites, n_steps)`` in per-unit of capacity [p.u.]; the vector of a day is the
flattened ``n_sites * n_steps`` profile. Lower is better for every metric.

Proper scoring rules (the forecast is the scenario distribution, the held-out days are
observations; averaged over the held-out days):

- :func:`energy_score` (Gneiting and Raftery 2007),
- :func:`variogram_score` (Scheuerer and Hamill 2015),
- :func:`crps` (averaged over sites and steps).

Distribution distances between two weighted sets:

- :func:`wasserstein` (exact W1 with Euclidean ground cost over all sites and steps, POT),
- :func:`autocorrelation_error`, :func:`ramp_wasserstein`, :func:`correlation_error`,
  :func:`mean_profile_error`,

and :func:`nearest_neighbour_distance` to detect copying of training days.

:func:`evaluate` computes all of them for the scenarios and for two references fitted on the
training days -- the training days themselves (:func:`history_reference`) and a Gaussian copula
(:func:`gaussian_copula`) -- so every number has a yardstick.

References
----------
T. Gneiting and A. E. Raftery, "Strictly proper scoring rules, prediction, and estimation",
J. Amer. Statist. Assoc. 102(477), 2007.
M. Scheuerer and T. M. Hamill, "Variogram-based proper scoring rules for probabilistic forecasts
of multivariate quantities", Monthly Weather Review 143(4), 2015.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from scengen import _io
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, check_probabilities

#: column order of the evaluation table
METRICS = (
    "energy_score",
    "variogram_score",
    "crps",
    "wasserstein",
    "autocorr_error",
    "ramp_wasserstein",
    "correlation_error",
    "mean_profile_error",
    "nn_distance",
)

EVALUATION_CSV = "evaluation.csv"
EVALUATION_JSON = "evaluation.json"

#: default cap on the scenarios used for the E||X - X'|| term of the energy score
ES_MAX_SCENARIOS = 2000

# Floats per temporary block (keeps every blockwise computation at ~32 MB).
_BLOCK_FLOATS = 4_000_000


# ---------------------------------------------------------------------- input helpers


def _values_probs(
    values: Any, probs: Any = None, name: str = "scenarios"
) -> tuple[np.ndarray, np.ndarray]:
    """``(values (n, sites, steps) float64, probabilities (n,))`` of a ScenarioSet or array."""
    if isinstance(values, ScenarioSet):
        v = values.values
        p = values.probabilities if probs is None else probs
    else:
        v = np.asarray(values)
        p = probs
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 2:  # one site
        v = v[:, None, :]
    if v.ndim != 3:
        raise ScengenError(
            f"{name} must have shape (n_days, n_sites, n_steps), got an array of shape {v.shape}"
        )
    if v.shape[0] == 0:
        raise ScengenError(f"{name} is empty; at least 1 day/scenario is needed")
    if not np.all(np.isfinite(v)):
        raise ScengenError(f"{name} contains NaN or infinite values")
    p = check_probabilities(p, v.shape[0], normalize=True, name=f"probabilities of {name}")
    return v, p


def _check_shapes(a: np.ndarray, b: np.ndarray, what: str = "scenarios and observations") -> None:
    if a.shape[1:] != b.shape[1:]:
        raise ScengenError(
            f"{what} differ in shape: {a.shape[1]} sites x {a.shape[2]} steps vs "
            f"{b.shape[1]} sites x {b.shape[2]} steps"
        )


def _pair(a: Any, pa: Any, b: Any, pb: Any, names=("a", "b")):
    av, ap = _values_probs(a, pa, names[0])
    bv, bp = _values_probs(b, pb, names[1])
    _check_shapes(av, bv, f"{names[0]} and {names[1]}")
    return av, ap, bv, bp


def _block(n_cols: int) -> int:
    return max(1, _BLOCK_FLOATS // max(1, n_cols))


def _sqnorm(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _dist(a: np.ndarray, b: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows of ``a`` and ``b`` given their squared norms."""
    scale = a2[:, None] + b2[None, :]
    d2 = scale - 2.0 * (a @ b.T)
    # near-coincident pairs lose all digits to cancellation: recompute those exactly
    i, j = np.nonzero(d2 < 1e-6 * scale)
    step = _block(a.shape[1])
    for k in range(0, i.size, step):
        ii, jj = i[k : k + step], j[k : k + step]
        diff = a[ii] - b[jj]
        d2[ii, jj] = np.einsum("ij,ij->i", diff, diff)
    np.maximum(d2, 0.0, out=d2)
    return np.sqrt(d2, out=d2)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix between the rows of ``a (n, d)`` and ``b (m, d)`` [p.u.]."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    a2, b2 = _sqnorm(a), _sqnorm(b)
    out = np.empty((len(a), len(b)))
    step = _block(len(b))
    for i in range(0, len(a), step):
        out[i : i + step] = _dist(a[i : i + step], b, a2[i : i + step], b2)
    return out


def _expected_distance_to(x: np.ndarray, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``E_p ||X - y_j||`` for every row ``y_j`` (blockwise over the rows of ``x``)."""
    x2, y2 = _sqnorm(x), _sqnorm(y)
    out = np.zeros(len(y))
    step = _block(len(y))
    for i in range(0, len(x), step):
        out += p[i : i + step] @ _dist(x[i : i + step], y, x2[i : i + step], y2)
    return out


def _weighted_mean(values: np.ndarray, w: np.ndarray) -> float:
    return float(np.dot(w, values) / w.sum())


# ---------------------------------------------------------------------- scoring rules


def energy_score(
    scen_values: Any,
    probs: Any = None,
    obs_values: Any = None,
    obs_probs: Any = None,
    *,
    max_scenarios: int = ES_MAX_SCENARIOS,
    seed: int = 0,
) -> float:
    r"""Energy score of a weighted scenario set, averaged over observed days [p.u.].

    .. math::

        \mathrm{ES}(F, y) = \mathbb{E}_F \lVert X - y \rVert
            - \tfrac12 \mathbb{E}_F \lVert X - X' \rVert

    with ``X, X'`` independent draws from the scenario distribution ``F`` (scenario ``i`` with
    probability ``p_i``) and ``||.||`` the Euclidean norm over all sites and steps. The first term
    is computed exactly, blockwise. The second is exact (``sum_ij p_i p_j ||x_i - x_j||``) when
    there are at most ``max_scenarios`` scenarios; otherwise ``max_scenarios`` draws from ``F``
    (seeded) estimate it without bias by the mean over distinct pairs of draws.

    Parameters
    ----------
    scen_values : ScenarioSet or numpy.ndarray
        Scenarios, shape ``(n, n_sites, n_steps)`` [p.u.].
    probs : array-like, optional
        Scenario probabilities (default: those of the ScenarioSet, else equal).
    obs_values : ScenarioSet or numpy.ndarray
        Observed days, shape ``(m, n_sites, n_steps)`` [p.u.].
    obs_probs : array-like, optional
        Weights of the observed days in the average (default equal).
    max_scenarios : int, default 2000
        Largest set for which ``E||X - X'||`` is computed exactly.
    seed : int, default 0
        Seed of the subsample used above ``max_scenarios``.

    Returns
    -------
    float
        Mean energy score over the observed days [p.u.]; 0 for a perfect point forecast.
    """
    x, p, y, q = _pair(scen_values, probs, obs_values, obs_probs, ("scenarios", "observations"))
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    term1 = _expected_distance_to(x, p, y)
    term2 = _expected_pair_distance(x, p, max_scenarios, seed)
    return _weighted_mean(term1, q) - 0.5 * term2


def _expected_pair_distance(x: np.ndarray, p: np.ndarray, max_scenarios: int, seed: int) -> float:
    """``E||X - X'||`` for independent ``X, X' ~ (x, p)`` (exact, or a seeded estimate)."""
    n = len(x)
    if n == 1:
        return 0.0
    if n <= max_scenarios:
        return float(p @ _expected_distance_to(x, p, x))
    k = max(2, int(max_scenarios))
    rng = np.random.default_rng(seed)
    s = x[rng.choice(n, size=k, replace=True, p=p)]
    total = float(np.full(k, 1.0) @ _expected_distance_to(s, np.ones(k), s))
    return total / (k * (k - 1))  # diagonal is 0: mean over the k(k-1) ordered distinct pairs


def variogram_score(
    scen_values: Any,
    probs: Any = None,
    obs_values: Any = None,
    obs_probs: Any = None,
    *,
    p: float = 0.5,
) -> float:
    r"""Variogram score of order ``p``, averaged over observed days.

    .. math::

        \mathrm{VS}_p(F, y) = \sum_{i < j} \left( |y_i - y_j|^p
            - \mathbb{E}_F |X_i - X_j|^p \right)^2

    over all pairs ``i < j`` of the ``n_sites * n_steps`` components (site x step) with unit
    weights (Scheuerer and Hamill 2015). The expectation is exact over the weighted scenarios,
    computed in blocks so memory stays bounded (``d(d-1)/2`` = 14 028 pairs for 7 x 24).

    Parameters
    ----------
    scen_values, probs, obs_values, obs_probs
        As in :func:`energy_score`.
    p : float, default 0.5
        Order of the variogram (> 0).

    Returns
    -------
    float
        Mean variogram score over the observed days [p.u.^(2p)].
    """
    if not p > 0:
        raise ScengenError(f"variogram order p must be > 0, got {p}")
    x, w, y, q = _pair(scen_values, probs, obs_values, obs_probs, ("scenarios", "observations"))
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    d = x.shape[1]
    if d < 2:
        return 0.0
    n_pairs = d * (d - 1) // 2

    def vario_mean(a: np.ndarray, wa: np.ndarray) -> np.ndarray:
        """``sum_k wa_k |a_ki - a_kj|^p`` for the pairs ``i < j`` in ``triu_indices`` order."""
        out = np.zeros(n_pairs)
        for r in range(0, len(a), _block(d)):
            at = np.ascontiguousarray(a[r : r + _block(d)].T)  # (d, rows): contiguous slices
            wr = wa[r : r + _block(d)]
            k = 0
            for i in range(d - 1):
                g = np.abs(at[i + 1 :] - at[i])
                g = np.sqrt(g, out=g) if p == 0.5 else (g if p == 1 else g**p)
                out[k : k + d - 1 - i] += g @ wr
                k += d - 1 - i
        return out

    ex = vario_mean(x, w)
    scores = np.empty(len(y))
    iu, ju = np.triu_indices(d, 1)
    for r in range(0, len(y), _block(n_pairs)):
        g = np.abs(y[r : r + _block(n_pairs), iu] - y[r : r + _block(n_pairs), ju])
        g = np.sqrt(g, out=g) if p == 0.5 else (g if p == 1 else g**p)
        g -= ex[None, :]
        scores[r : r + _block(n_pairs)] = np.einsum("ij,ij->i", g, g)
    return _weighted_mean(scores, q)


def crps(
    scen_values: Any,
    probs: Any = None,
    obs_values: Any = None,
    obs_probs: Any = None,
) -> float:
    r"""Continuous ranked probability score, averaged over sites, steps and observed days [p.u.].

    For each component (site, step), with the weighted scenario values ``x_i, p_i``:

    .. math::

        \mathrm{CRPS}(F, y) = \mathbb{E}_F |X - y| - \tfrac12 \mathbb{E}_F |X - X'|

    computed exactly in ``O(n log n)`` per component by sorting: with ``x`` sorted and
    ``F_i = sum_{k <= i} p_k``, ``E|X - X'| = 2 sum_i p_i x_i (2 F_i - p_i - 1)`` and
    ``E|X - y| = y (2 F(y) - 1) + sum_i p_i x_i - 2 sum_{x_i <= y} p_i x_i``.

    Parameters
    ----------
    scen_values, probs, obs_values, obs_probs
        As in :func:`energy_score`.

    Returns
    -------
    float
        Mean CRPS [p.u.]; equals the mean absolute error for a single scenario.
    """
    x, w, y, q = _pair(scen_values, probs, obs_values, obs_probs, ("scenarios", "observations"))
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    d = x.shape[1]
    scores = np.zeros(len(y))
    step = max(1, _block(len(x)) // 8)  # components per block (~8 temporaries of n x step)
    for a in range(0, d, step):
        scores += _crps_block(x[:, a : a + step], w, y[:, a : a + step]).sum(axis=1)
    scores /= d
    return _weighted_mean(scores, q)


def _crps_block(x: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of every observation and component of a block of columns, shape ``(m, k)``."""
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    ws = w[order]
    del order
    cw = np.cumsum(ws, axis=0)
    wx = ws * xs
    spread = 2.0 * np.einsum("ij,ij->j", wx, 2.0 * cw - ws - 1.0)  # E|X - X'| per component
    cwx = np.cumsum(wx, axis=0)
    total = cwx[-1]
    out = np.empty(y.shape)
    for j in range(x.shape[1]):
        k = np.searchsorted(xs[:, j], y[:, j], side="right")
        below = k > 0
        f = np.where(below, cw[np.maximum(k - 1, 0), j], 0.0)
        s = np.where(below, cwx[np.maximum(k - 1, 0), j], 0.0)
        out[:, j] = y[:, j] * (2.0 * f - 1.0) + total[j] - 2.0 * s - 0.5 * spread[j]
    return out


# ---------------------------------------------------------------------- distribution distances


def wasserstein(
    a_values: Any,
    a_probs: Any = None,
    b_values: Any = None,
    b_probs: Any = None,
    *,
    num_iter_max: int = 100_000_000,
) -> float:
    r"""Wasserstein-1 (Kantorovich) distance between two weighted sets of days [p.u.].

    .. math::

        W_1(a, b) = \min_{\pi \ge 0,\ \pi 1 = p^a,\ \pi^T 1 = p^b}
            \sum_{ij} \pi_{ij} \lVert x^a_i - x^b_j \rVert

    with the Euclidean ground cost over all sites and steps, solved exactly with POT's network
    simplex (``ot.emd2``). The cost matrix has ``n_a * n_b`` entries; 2 000 scenarios x 110 days
    take about 2 s, 100 000 x 110 about 1-2 min and 1 GB (the solver's arcs) on a laptop CPU.

    Parameters
    ----------
    a_values, b_values : ScenarioSet or numpy.ndarray
        Shape ``(n, n_sites, n_steps)`` [p.u.].
    a_probs, b_probs : array-like, optional
        Probabilities (default: those of the ScenarioSets, else equal).
    num_iter_max : int, default 1e8
        Iteration limit of the network simplex; reaching it is an error.

    Returns
    -------
    float
        ``W1`` [p.u.]; symmetric, 0 for identical sets.
    """
    import ot

    a, pa, b, pb = _pair(a_values, a_probs, b_values, b_probs)
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    cost = pairwise_distances(a, b)
    pa, pb = pa / pa.sum(), pb / pb.sum()
    val, log = ot.emd2(pa, pb, cost, numItermax=int(num_iter_max), log=True)
    if log.get("warning"):
        raise ScengenError(f"exact optimal transport did not converge: {log['warning']}")
    return float(val)


def _acf(v: np.ndarray, p: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Pooled per-day-centred autocorrelation per site, shape ``(n_sites, n_lags)``."""
    c = v - v.mean(axis=2, keepdims=True)
    den = np.einsum("n,nst->s", p, c * c)
    out = np.empty((v.shape[1], len(lags)))
    for k, lag in enumerate(lags):
        num = np.einsum("n,nst->s", p, c[:, :, lag:] * c[:, :, :-lag])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = num / den
    return out


def autocorrelation_error(
    a_values: Any,
    a_probs: Any = None,
    b_values: Any = None,
    b_probs: Any = None,
    lags: Iterable[int] = range(1, 7),
) -> float:
    r"""Mean absolute difference of the per-site autocorrelation functions of two sets.

    Each day's profile of a site is centred on its own daily mean, ``c_t = x_t - \bar x``, and
    the autocorrelation at lag ``k`` is pooled over the days (weighted by probability):

    .. math::

        \rho_s(k) = \frac{\sum_d p_d \sum_{t=0}^{T-1-k} c_{d,s,t}\, c_{d,s,t+k}}
                         {\sum_d p_d \sum_{t=0}^{T-1} c_{d,s,t}^2}

    (the usual biased sample ACF, so it describes the within-day dynamics, not day-to-day level
    changes). The error is the mean of ``|rho^a_s(k) - rho^b_s(k)|`` over sites and lags; sites
    that are constant within every day in either set are left out (NaN if all are).

    Parameters
    ----------
    a_values, a_probs, b_values, b_probs
        As in :func:`wasserstein`.
    lags : iterable of int, default 1..6
        Lags [steps]; each must be in ``1 .. n_steps - 1``.
    """
    a, pa, b, pb = _pair(a_values, a_probs, b_values, b_probs)
    lags = np.asarray(list(lags), dtype=int)
    t = a.shape[2]
    if lags.size == 0 or lags.min() < 1 or lags.max() > t - 1:
        raise ScengenError(f"lags must be between 1 and {t - 1} (n_steps - 1), got {lags.tolist()}")
    diff = np.abs(_acf(a, pa, lags) - _acf(b, pb, lags))
    return float(np.nanmean(diff)) if np.isfinite(diff).any() else float("nan")


def ramp_wasserstein(
    a_values: Any, a_probs: Any = None, b_values: Any = None, b_probs: Any = None
) -> float:
    r"""Wasserstein-1 between the ramp (step-to-step change) distributions, averaged over sites.

    For each site, the ramps ``x_{t+1} - x_t`` of all days and steps form a 1-D distribution (a
    day's ramps weighted by its probability); the error is

    .. math::

        \frac1S \sum_s W_1\big(\Delta^a_s, \Delta^b_s\big)
            = \frac1S \sum_s \int |F^a_s(r) - F^b_s(r)|\, dr   \quad [\text{p.u./step}]
    """
    a, pa, b, pb = _pair(a_values, a_probs, b_values, b_probs)
    t = a.shape[2]
    if t < 2:
        raise ScengenError("ramps need at least 2 steps per day")
    ra, rb = np.diff(a, axis=2), np.diff(b, axis=2)
    wa, wb = np.repeat(pa, t - 1), np.repeat(pb, t - 1)
    out = [
        stats.wasserstein_distance(
            ra[:, s].reshape(-1), rb[:, s].reshape(-1), u_weights=wa, v_weights=wb
        )
        for s in range(a.shape[1])
    ]
    return float(np.mean(out))


def _weighted_corr(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation between the columns of ``x (n, k)`` (NaN if constant)."""
    w = w / w.sum()
    xc = x - w @ x
    cov = (xc * w[:, None]).T @ xc
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    sd[sd < 1e-12] = np.nan
    return cov / sd[:, None] / sd[None, :]


def _profile_corr(v: np.ndarray, p: np.ndarray) -> np.ndarray:
    n, s, t = v.shape
    if s > 1:  # cross-site, pooled over days and steps
        return _weighted_corr(v.transpose(0, 2, 1).reshape(n * t, s), np.repeat(p, t))
    return _weighted_corr(v[:, 0, :], p)  # one site: step x step across days


def correlation_error(
    a_values: Any, a_probs: Any = None, b_values: Any = None, b_probs: Any = None
) -> float:
    r"""Mean absolute difference of the correlation matrices of two sets.

    With several sites: the cross-site Pearson correlation ``R_{ij}`` of the output of sites
    ``i`` and ``j``, pooled over all days (weighted by probability) and steps; the error is the
    mean of ``|R^a_{ij} - R^b_{ij}|`` over the pairs ``i < j``.

    With one site there is no cross-site correlation; the step x step correlation matrix across
    days (the temporal dependence of the profile) is compared instead, over the pairs of steps
    that vary in both sets (e.g. not PV night steps). NaN if no pair is defined.
    """
    a, pa, b, pb = _pair(a_values, a_probs, b_values, b_probs)
    ra, rb = _profile_corr(a, pa), _profile_corr(b, pb)
    iu = np.triu_indices(ra.shape[0], 1)
    diff = np.abs(ra[iu] - rb[iu])
    return float(np.nanmean(diff)) if np.isfinite(diff).any() else float("nan")


def mean_profile_error(
    a_values: Any, a_probs: Any = None, b_values: Any = None, b_probs: Any = None
) -> float:
    r"""RMSE between the probability-weighted mean profiles of two sets [p.u.].

    .. math::

        \sqrt{\frac{1}{ST} \sum_{s,t} \big(\mathbb{E}_a[x_{s,t}] - \mathbb{E}_b[x_{s,t}]\big)^2}
    """
    a, pa, b, pb = _pair(a_values, a_probs, b_values, b_probs)
    ma = np.tensordot(pa, a, axes=1)
    mb = np.tensordot(pb, b, axes=1)
    return float(np.sqrt(np.mean((ma - mb) ** 2)))


def nearest_distances(values: Any, train_values: Any) -> np.ndarray:
    """Euclidean distance [p.u.] from each day of ``values`` to its closest day of ``train_values``.

    Computed blockwise (memory ``O(block x n_train)``).
    """
    x, _ = _values_probs(values, None, "scenarios")
    t, _ = _values_probs(train_values, None, "training days")
    _check_shapes(x, t, "scenarios and training days")
    return _nearest(x.reshape(len(x), -1), t.reshape(len(t), -1))


def leave_one_out_distances(values: Any) -> np.ndarray:
    """Euclidean distance [p.u.] from each day of ``values`` to its closest *other* day of the
    same set (the nearest-day distance of a day new to the rest; blockwise like
    :func:`nearest_distances`)."""
    x, _ = _values_probs(values, None, "days")
    if len(x) < 2:
        raise ScengenError(f"leave-one-out distances need at least 2 days, got {len(x)}")
    x = x.reshape(len(x), -1)
    return _nearest(x, x, exclude_self=True)


def _nearest(x: np.ndarray, t: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Distance from each row of ``x`` to its nearest row of ``t`` (``exclude_self``: ``t`` is
    ``x`` and row ``i`` skips itself)."""
    x2, t2 = _sqnorm(x), _sqnorm(t)
    out = np.empty(len(x))
    step = _block(len(t))
    for i in range(0, len(x), step):
        d = _dist(x[i : i + step], t, x2[i : i + step], t2)
        if exclude_self:
            d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf
        j = d.argmin(axis=1)
        diff = x[i : i + step] - t[j]  # exact distance to the nearest (no cancellation error)
        out[i : i + step] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def _weighted_median(v: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order] / w.sum()
    cw = np.cumsum(w)
    i = int(np.searchsorted(cw, 0.5 - 1e-12))
    if abs(cw[i] - 0.5) < 1e-12 and i + 1 < len(v):  # exactly half the mass below: midpoint
        return float(0.5 * (v[i] + v[i + 1]))
    return float(v[i])


def nearest_neighbour_distance(values: Any, train_values: Any, probs: Any = None) -> float:
    """Median Euclidean distance from each scenario to its closest training day [p.u.].

    A small value means the scenarios copy training days; compare it with the same median for
    the held-out days (:attr:`EvaluationResult.heldout_nn_distance`).

    Parameters
    ----------
    values : ScenarioSet or numpy.ndarray
        Scenarios, shape ``(n, n_sites, n_steps)``.
    train_values : ScenarioSet or numpy.ndarray
        Training days, shape ``(m, n_sites, n_steps)``.
    probs : array-like, optional
        Scenario probabilities: the median is then weighted (equal weights: the plain median).
    """
    if probs is None and isinstance(values, ScenarioSet):
        probs = values.probabilities
    d = nearest_distances(values, train_values)
    w = check_probabilities(probs, len(d), normalize=True)
    if np.allclose(w, w[0]):
        return float(np.median(d))
    return _weighted_median(d, w)


# ---------------------------------------------------------------------- references


def history_reference(train: ScenarioSet) -> ScenarioSet:
    """The training days as an equally weighted scenario set (resampled history)."""
    if not isinstance(train, ScenarioSet):
        raise ScengenError(f"history_reference needs a ScenarioSet, got {type(train).__name__}")
    return ScenarioSet(
        values=train.values,
        probabilities=None,
        sites=list(train.sites),
        step_minutes=train.step_minutes,
        capacities=train.capacities,
        units=train.units,
        start_minute=train.start_minute,
        dates=train.dates,
        metadata={"kind": "history", "n_train": train.n_scenarios},
    )


def _nearest_pd(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Cholesky factor of ``(1 - a) R + a I`` for the smallest ``a`` in a grid that works."""
    eye = np.eye(len(r))
    for a in (0.0, 1e-6, 1e-4, 1e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        rr = (1 - a) * r + a * eye
        try:
            return np.linalg.cholesky(rr), rr, a
        except np.linalg.LinAlgError:
            continue
    raise ScengenError("cannot fit the Gaussian copula: correlation matrix is not usable")


def gaussian_copula(train: ScenarioSet, n: int = 2000, seed: int = 0) -> ScenarioSet:
    r"""Sample ``n`` days from a Gaussian copula fitted on the training days.

    Every component ``k`` (site x step) keeps its empirical marginal; the dependence is Gaussian:

    1. normal scores ``z_{dk} = \Phi^{-1}(r_{dk} / (m + 1))`` from the ranks ``r`` of the ``m``
       training days (ties get their average rank);
    2. ``R`` = correlation matrix of the normal scores (components that never vary get zero
       correlation); if ``R`` is not positive definite it is shrunk toward the identity,
       ``(1 - a) R + a I`` with the smallest ``a`` of a grid that makes it so;
    3. draw ``Z ~ N(0, R)``, ``U = \Phi(Z)``, and map each ``U_k`` through the inverse empirical
       CDF of component ``k`` with linear interpolation between the order statistics (positions
       ``0, 1/(m-1), ..., 1``).

    Parameters
    ----------
    train : ScenarioSet
        Training days (their probabilities are ignored: days are equally likely).
    n : int, default 2000
        Number of days to draw.
    seed : int, default 0

    Returns
    -------
    ScenarioSet
        ``n`` equally weighted days; ``metadata["shrinkage"]`` records ``a``.
    """
    if not isinstance(train, ScenarioSet):
        raise ScengenError(f"gaussian_copula needs a ScenarioSet, got {type(train).__name__}")
    if int(n) < 1:
        raise ScengenError(f"gaussian_copula: n must be >= 1, got {n}")
    m = train.n_scenarios
    if m < 2:
        raise ScengenError(f"gaussian_copula needs at least 2 training days, got {m}")
    x = train.flat()
    u = stats.rankdata(x, axis=0, method="average") / (m + 1)
    z = special.ndtri(u)
    z = z - z.mean(axis=0)
    sd = z.std(axis=0)
    const = sd < 1e-12
    sd[const] = 1.0
    z = z / sd
    r = (z.T @ z) / m
    r[const, :] = 0.0
    r[:, const] = 0.0
    np.fill_diagonal(r, 1.0)
    chol, _, shrink = _nearest_pd(r)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((int(n), x.shape[1])) @ chol.T
    uu = special.ndtr(g)
    xs = np.sort(x, axis=0)
    pos = np.linspace(0.0, 1.0, m)
    out = np.empty_like(g)
    for k in range(x.shape[1]):
        out[:, k] = np.interp(uu[:, k], pos, xs[:, k])
    return ScenarioSet(
        values=out.reshape(int(n), train.n_sites, train.n_steps),
        probabilities=None,
        sites=list(train.sites),
        step_minutes=train.step_minutes,
        capacities=train.capacities,
        units=train.units,
        start_minute=train.start_minute,
        metadata={"kind": "gaussian_copula", "n_train": m, "seed": seed, "shrinkage": shrink},
    )


# ---------------------------------------------------------------------- evaluate


@dataclass
class EvaluationResult:
    """Metrics of a scenario set and its references against held-out days.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``["scenarios", "history", "copula"]`` (reference rows only with training days),
        columns :data:`METRICS`; all in per-unit terms, lower is better.
    heldout_nn_distance : float
        Median distance from a held-out day to its nearest training day [p.u.] (NaN without
        training days); the scale against which ``nn_distance`` shows copying.
    ratios : pandas.DataFrame
        ``table`` divided by its ``history`` row, except ``nn_distance`` which is divided by
        ``heldout_nn_distance`` (empty without training days).
    seed : int
    info : dict
        Sizes and settings (n_scenarios, n_heldout, n_train, n_copula, sites, n_steps, ...).
    """

    table: pd.DataFrame
    heldout_nn_distance: float = float("nan")
    ratios: pd.DataFrame = field(default_factory=pd.DataFrame)
    seed: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (set, metric) with ``value`` and ``ratio`` (to history)."""
        long = self.table.rename_axis("set").reset_index().melt("set", var_name="metric")
        if not self.ratios.empty:
            r = self.ratios.rename_axis("set").reset_index().melt("set", var_name="metric")
            long = long.merge(r.rename(columns={"value": "ratio"}), on=["set", "metric"])
        else:
            long["ratio"] = np.nan
        return long

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN and infinities become ``None``)."""
        return {
            "table": _frame_dict(self.table),
            "ratios": _frame_dict(self.ratios),
            "heldout_nn_distance": _num(self.heldout_nn_distance),
            "quality_checks": [
                {"check": r.check, "value": _num(r.value), "limit": _num(r.limit), "ok": bool(r.ok)}
                for r in self.quality_checks().itertuples()
            ],
            "seed": self.seed,
            **{k: v for k, v in self.info.items() if k not in ("seed",)},
        }

    def quality_checks(self) -> pd.DataFrame:
        """The quality bar of the project, checked on the ``scenarios`` row.

        ``W1 <= 1.00 x history``; autocorrelation error and ramp W1 ``<= 1.5 x history``;
        ``W1 <= 0.95 x copula``; ``nn_distance >= 0.9 x heldout_nn_distance`` (no copying).
        Returns columns ``check, value, limit, ok`` (empty without the reference rows).
        """
        t = self.table
        if not {"history", "copula"} <= set(t.index):
            return pd.DataFrame(columns=["check", "value", "limit", "ok"])
        s, h, c = t.loc["scenarios"], t.loc["history"], t.loc["copula"]
        rows = [
            ("wasserstein <= 1.00 x history", s.wasserstein, h.wasserstein, "<="),
            ("autocorr_error <= 1.5 x history", s.autocorr_error, 1.5 * h.autocorr_error, "<="),
            (
                "ramp_wasserstein <= 1.5 x history",
                s.ramp_wasserstein,
                1.5 * h.ramp_wasserstein,
                "<=",
            ),
            ("wasserstein <= 0.95 x copula", s.wasserstein, 0.95 * c.wasserstein, "<="),
            (
                "nn_distance >= 0.9 x held-out nn_distance",
                s.nn_distance,
                0.9 * self.heldout_nn_distance,
                ">=",
            ),
        ]
        return pd.DataFrame(
            [
                (name, float(v), float(lim), bool(v <= lim if op == "<=" else v >= lim))
                for name, v, lim, op in rows
            ],
            columns=["check", "value", "limit", "ok"],
        )

    def summary(self) -> str:
        """Human-readable table (and ratios to history) for the terminal."""
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            lines = [self.table.to_string(float_format=lambda v: f"{v:.4g}")]
            if not self.ratios.empty:
                lines += [
                    "",
                    "ratio to history (nn_distance: to the held-out days' nearest-training-day "
                    "distance)",
                    self.ratios.to_string(float_format=lambda v: f"{v:.3f}"),
                ]
        if math.isfinite(self.heldout_nn_distance):
            lines += ["", f"held-out nearest-training-day distance: {self.heldout_nn_distance:.4g}"]
        checks = self.quality_checks()
        if not checks.empty:
            lines += ["", "quality bar (scenarios row):"]
            lines += [
                f"  {'ok  ' if r.ok else 'FAIL'}  {r.check:<42s} {r.value:.4g} vs {r.limit:.4g}"
                for r in checks.itertuples()
            ]
        return "\n".join(lines)


def _num(v: Any) -> Any:
    v = float(v)
    return v if math.isfinite(v) else None


def _frame_dict(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(i): {str(c): _num(df.loc[i, c]) for c in df.columns} for i in df.index}


def _row(
    ss: ScenarioSet,
    heldout: ScenarioSet,
    train: ScenarioSet | None,
    seed: int,
    es_max: int,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    x, p = ss.values, ss.probabilities
    y = heldout.values
    q = heldout.probabilities
    scores: dict[str, Callable[[], float]] = {
        "energy_score": lambda: energy_score(x, p, y, obs_probs=q, max_scenarios=es_max, seed=seed),
        "variogram_score": lambda: variogram_score(x, p, y, obs_probs=q),
        "crps": lambda: crps(x, p, y, obs_probs=q),
        "wasserstein": lambda: wasserstein(x, p, y, q),
        "autocorr_error": lambda: autocorrelation_error(x, p, y, q),
        "ramp_wasserstein": lambda: ramp_wasserstein(x, p, y, q),
        "correlation_error": lambda: correlation_error(x, p, y, q),
        "mean_profile_error": lambda: mean_profile_error(x, p, y, q),
        "nn_distance": lambda: (
            float("nan") if train is None else nearest_neighbour_distance(x, train.values, p)
        ),
    }
    row = {}
    for name, score in scores.items():
        row[name] = score()
        tick()
    return row


def evaluate(
    scenarios: ScenarioSet,
    heldout: ScenarioSet,
    train: ScenarioSet | None = None,
    *,
    references: bool = True,
    n_copula: int = 2000,
    seed: int = 0,
    es_max_scenarios: int = ES_MAX_SCENARIOS,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """Score a weighted scenario set against held-out days, with references for scale.

    Parameters
    ----------
    scenarios : ScenarioSet
        The scenarios to judge (generated or reduced; probabilities honoured).
    heldout : ScenarioSet
        Measured days not used for training (weights honoured; normally equal).
    train : ScenarioSet, optional
        Training days: needed for ``nn_distance`` and the references.
    references : bool, default True
        Add the ``history`` (training days) and ``copula`` (Gaussian copula, ``n_copula`` days)
        rows when ``train`` is given.
    n_copula : int, default 2000
        Days drawn from the Gaussian copula.
    seed : int, default 0
        Seed of the copula draw and of the energy-score subsample (large sets).
    es_max_scenarios : int, default 2000
        See ``max_scenarios`` of :func:`energy_score`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each score of each row.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ScengenError
        When the sets have different sites or steps.
    """
    for name, obj in (("scenarios", scenarios), ("heldout", heldout), ("train", train)):
        if obj is not None and not isinstance(obj, ScenarioSet):
            raise ScengenError(f"evaluate: {name} must be a ScenarioSet, got {type(obj).__name__}")
    heldout.check_compatible(scenarios, "held-out days and scenarios")
    if train is not None:
        train.check_compatible(scenarios, "training days and scenarios")
    if int(n_copula) < 1:
        raise ScengenError(f"n_copula must be >= 1, got {n_copula}")
    n_rows = 3 if (train is not None and references) else 1
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], n_rows * len(METRICS))

    rows = {"scenarios": _row(scenarios, heldout, train, seed, es_max_scenarios, tick)}
    info: dict[str, Any] = {
        "n_scenarios": scenarios.n_scenarios,
        "n_heldout": heldout.n_scenarios,
        "n_train": None if train is None else train.n_scenarios,
        "sites": list(scenarios.sites),
        "n_steps": scenarios.n_steps,
        "step_minutes": scenarios.step_minutes,
        "units": "p.u. (per-unit of capacity)",
    }
    held_nn = float("nan")
    if train is not None:
        held_nn = float(np.median(nearest_distances(heldout.values, train.values)))
        if references:
            hist = history_reference(train)
            rows["history"] = _row(hist, heldout, train, seed, es_max_scenarios, tick)
            cop = gaussian_copula(train, int(n_copula), seed=seed)
            rows["copula"] = _row(cop, heldout, train, seed, es_max_scenarios, tick)
            info["n_copula"] = int(n_copula)
            info["copula_shrinkage"] = cop.metadata["shrinkage"]
    table = pd.DataFrame.from_dict(rows, orient="index")[list(METRICS)]
    table.index.name = "set"
    ratios = pd.DataFrame()
    if "history" in table.index:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = table / table.loc["history"]
            ratios["nn_distance"] = table["nn_distance"] / held_nn
        ratios = ratios.replace([np.inf, -np.inf], np.nan)
    return EvaluationResult(
        table=table, heldout_nn_distance=held_nn, ratios=ratios, seed=int(seed), info=info
    )


# ---------------------------------------------------------------------- I/O


def write_evaluation(
    result: EvaluationResult, out: str | os.PathLike, *, inputs: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``evaluation.csv`` (the table) and ``evaluation.json`` into ``out``, atomically.

    Each file is written under a temporary name and renamed; the directory is created if needed.
    Returns the two paths.
    """
    d = Path(out)
    if d.exists() and not d.is_dir():
        raise ScengenError(f"output {str(d)!r} exists and is not a directory")
    d.mkdir(parents=True, exist_ok=True)
    payload = result.to_dict()
    if inputs:
        payload["inputs"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in inputs.items()}
    csv, js = d / EVALUATION_CSV, d / EVALUATION_JSON
    _io.write_csv(csv, result.table, index=True, float_format="%.8g")
    _io.write_json(js, payload)
    return csv, js


def failed_checks(evaluation: dict[str, Any]) -> list[str] | None:
    """The quality checks that failed in an ``evaluation.json`` payload, as one text each
    (``"ramp_wasserstein <= 1.5 x history: 0.0051 > 0.0050"``); ``None`` when it has no checks
    (no reference rows)."""
    checks = evaluation.get("quality_checks") or []
    if not checks:
        return None
    out = []
    for c in checks:
        if not c.get("ok"):
            op = ">" if "<=" in str(c["check"]) else "<"
            out.append(f"{c['check']}: {_fmt(c.get('value'))} {op} {_fmt(c.get('limit'))}")
    return out


def _fmt(v: Any) -> str:
    return "nan" if v is None else f"{float(v):.4g}"


def read_evaluation(path: str | os.PathLike) -> dict[str, Any]:
    """The content of ``evaluation.json`` in a directory (or the file itself)."""
    p = Path(path)
    if p.is_dir():
        p = p / EVALUATION_JSON
    if not p.is_file():
        raise FileNotFoundError(f"no evaluation file {str(p)!r}; run 'scengen evaluate' first")
    try:
        return _io.read_json(p)
    except ValueError as e:
        raise ScengenError(f"{str(p)!r} is not valid JSON: {e}") from None


# ---------------------------------------------------------------------- loading for the CLI


def _is_run_dir(p: Path) -> bool:
    from scengen.data import PROFILES_NPZ

    return p.is_dir() and (p / PROFILES_NPZ).is_file()


def _split_sets(run_dir: Path) -> tuple[ScenarioSet, ScenarioSet]:
    from scengen.data import load_split

    tr, te = load_split(run_dir)
    return (
        te.to_scenarios(role="heldout", run_dir=str(run_dir)),
        tr.to_scenarios(role="train", run_dir=str(run_dir)),
    )


def _run_fingerprint(run_dir: Path) -> str | None:
    """The data fingerprint a run directory's ``metadata.json`` records (``None`` if none)."""
    try:
        meta = _io.read_json(run_dir / "metadata.json")
    except (OSError, ValueError):
        return None
    data = meta.get("data") if isinstance(meta, dict) else None
    return data.get("fingerprint") if isinstance(data, dict) else None


def check_heldout(
    heldout: ScenarioSet, scenarios: ScenarioSet | None, *, allow_train_days: bool = False
) -> None:
    """Raise when the held-out days are not new to the model that generated ``scenarios``.

    The model is the run recorded as ``source_run`` in the scenarios' metadata. It is an error
    when that run's data fingerprint differs from the one the scenarios record (the run was
    retrained on other data after they were generated), and, unless ``allow_train_days``, when
    held-out days are among that run's training days (their scores would overstate realism).
    Without a source run nothing can be checked. Sets ``heldout.metadata["n_in_train"]``.
    """
    src = (scenarios.metadata.get("source_run") if scenarios is not None else None) or None
    if not src:
        return
    src_dir = Path(src)
    if not _is_run_dir(src_dir):
        heldout.metadata["source_run_missing"] = str(src)
        return
    recorded, now = scenarios.metadata.get("data_fingerprint"), _run_fingerprint(src_dir)
    if recorded and now and recorded != now:
        raise ScengenError(
            f"the scenarios were generated by run {src!r} from data with fingerprint "
            f"{recorded[:12]}, but that run now records data {now[:12]}: it was retrained "
            "after they were generated; generate them again"
        )
    _, src_train = _split_sets(src_dir)
    if heldout.dates is None or src_train.dates is None:
        return
    overlap = np.intersect1d(heldout.dates, src_train.dates)
    heldout.metadata["n_in_train"] = int(overlap.size)
    if overlap.size and not allow_train_days:
        first = ", ".join(str(d) for d in overlap[:3])
        raise ScengenError(
            f"{overlap.size} of the {heldout.n_scenarios} held-out days are training days of the "
            f"model that generated the scenarios (run {src!r}; first: {first}); scores on them "
            "overstate realism. Evaluate against that run's held-out days, or pass "
            "--allow-train-days"
        )


def heldout_from(
    against: str | os.PathLike,
    scenarios: ScenarioSet | None = None,
    *,
    data: Any = None,
    allow_train_days: bool = False,
) -> tuple[ScenarioSet, ScenarioSet | None]:
    """Held-out (and training) days to evaluate against.

    Parameters
    ----------
    against : path
        A run directory written by ``scengen train`` (its recorded test days are held out and
        its training days feed the references), or a measurement CSV: all its complete days are
        held out, and the training days are those of the run recorded as ``source_run`` in the
        scenarios' metadata (when that directory exists; otherwise no references).
    scenarios : ScenarioSet, optional
        The scenarios to be evaluated: for a CSV, its sites are selected and its capacities
        scale the data unless ``data`` gives capacities. Checked with :func:`check_heldout`.
    data : scengen.data.DataConfig, optional
        How to read the CSV (sites, capacity, resolution, clip); its ``path`` is ignored.
    allow_train_days : bool, default False
        Allow held-out days that the scenarios' model trained on.

    Returns
    -------
    (heldout, train or None)
    """
    p = Path(against)
    if not p.exists():
        raise FileNotFoundError(f"--against {str(p)!r} does not exist")
    if p.is_dir():
        if not _is_run_dir(p):
            raise ScengenError(
                f"--against {str(p)!r} is not a run directory (no profiles.npz written by "
                "'scengen train'); give a run directory or a measurement CSV"
            )
        heldout, train = _split_sets(p)
    else:
        heldout, train = _heldout_from_csv(p, scenarios, data)
    check_heldout(heldout, scenarios, allow_train_days=allow_train_days)
    return heldout, train


def _heldout_from_csv(
    p: Path, scenarios: ScenarioSet | None, data: Any
) -> tuple[ScenarioSet, ScenarioSet | None]:
    from scengen.data import DataConfig, load_profiles

    cfg = data if data is not None else DataConfig()
    try:
        header = list(pd.read_csv(p, nrows=0).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ScengenError(
            f"--against {str(p)!r} is neither a run directory nor a readable CSV: "
            f"{str(e).splitlines()[0]}"
        ) from None
    if "timestamp" not in header:
        raise ScengenError(
            f"--against {str(p)!r} has no 'timestamp' column; give a run directory or a "
            "measurement CSV with a timestamp column and one column per site"
        )
    sites = list(cfg.sites) if cfg.sites else (list(scenarios.sites) if scenarios else None)
    if sites:
        missing = [s for s in sites if s not in header]
        if missing:
            raise ScengenError(
                f"--against {str(p)!r} lacks the scenarios' site(s) {missing}; it has "
                f"{[c for c in header if c != 'timestamp']}"
            )
    capacity = cfg.capacity
    if capacity is None and scenarios is not None and not np.allclose(scenarios.capacities, 1.0):
        capacity = [float(c) for c in scenarios.capacities]
    prof = load_profiles(
        p,
        sites=sites,
        resolution=cfg.resolution,
        capacity=capacity,
        clip=bool(cfg.clip),
        min_days=1,  # any complete day is an observation
    )
    heldout = prof.to_scenarios(role="heldout")
    if prof.n_dropped_days:
        heldout.metadata["dropped_note"] = prof.dropped_note()
    train = None
    src = (scenarios.metadata.get("source_run") if scenarios is not None else None) or None
    if src and _is_run_dir(Path(src)):
        _, train = _split_sets(Path(src))
    return heldout, train


@dataclass
class EvaluateConfig:
    """Settings of the ``evaluate`` section of a config (CLI flags override them).

    Parameters
    ----------
    n_copula : int, default 2000
        Days drawn from the Gaussian-copula reference.
    references : bool, default True
        Compute the ``history`` and ``copula`` reference rows (needs training days).
    es_max_scenarios : int, default 2000
        Largest set for which the energy score's ``E||X - X'||`` is exact.
    """

    n_copula: int = 2000
    references: bool = True
    es_max_scenarios: int = ES_MAX_SCENARIOS

    def __post_init__(self) -> None:
        if self.n_copula < 1:
            raise ScengenError(f"evaluate.n_copula must be >= 1, got {self.n_copula}")
        if self.es_max_scenarios < 2:
            raise ScengenError(
                f"evaluate.es_max_scenarios must be >= 2, got {self.es_max_scenarios}"
            )


def evaluate_with_config(
    scenarios: ScenarioSet,
    heldout: ScenarioSet,
    train: ScenarioSet | None,
    config: EvaluateConfig,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """:func:`evaluate` with the settings of an ``evaluate`` config section.

    The one place where a config becomes an evaluation, shared by ``scengen evaluate`` and
    ``scengen run``.

    Parameters
    ----------
    scenarios, heldout, train : ScenarioSet
        As in :func:`evaluate`.
    config : EvaluateConfig
        References, copula size and exact-energy-score limit.
    seed : int, default 0
        Seed of the copula reference and of subsampling.
    progress : callable, optional
        See :func:`evaluate`.

    Returns
    -------
    EvaluationResult
    """
    return evaluate(
        scenarios,
        heldout,
        train,
        references=config.references,
        n_copula=config.n_copula,
        seed=seed,
        es_max_scenarios=config.es_max_scenarios,
        progress=progress,
    )
