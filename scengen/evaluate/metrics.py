r"""The scores: proper scoring rules and distribution distances between sets of days.

Every score compares a (weighted) set of daily scenarios ``X`` with measured days ``y``, both of
shape ``(n, n_sites, n_steps)`` in per-unit of capacity [p.u.]; the vector of a day is the
flattened ``d = n_sites * n_steps`` profile. Lower is better for every score.

Proper scoring rules (the forecast is the scenario distribution, the held-out days are
observations; averaged over the held-out days, weighted by their probabilities):

- :func:`energy_score` (Gneiting and Raftery 2007),
- :func:`variogram_score` (Scheuerer and Hamill 2015; sum over all ordered pairs ``i != j``),
- :func:`crps` (averaged over sites and steps).

They follow the conventions of the literature: with scenario weights passed as ``ens_w`` they
equal ``scoringrules``' ``es_ensemble`` and ``vs_ensemble`` (default ``"nrg"`` estimator, not
the ``"fair"`` one) and ``crps_ensemble`` (exact ``"nrg"`` / ``"qd"`` estimators), averaged over
the held-out days; ``tests/test_evaluate.py`` checks this to 1e-8.

Distribution distances between two weighted sets:

- :func:`wasserstein` (exact W1 with Euclidean ground cost over all sites and steps, POT; also
  of order 2 and with the cityblock ground cost: the distance a reduction is judged by),
- :func:`autocorrelation_error` (of :func:`scengen.stats.within_day_acf`),
  :func:`ramp_wasserstein`, :func:`correlation_error`, :func:`mean_profile_error`,

and :func:`nearest_neighbour_distance` to detect copying of training days.

References
----------
T. Gneiting and A. E. Raftery, "Strictly proper scoring rules, prediction, and estimation",
J. Amer. Statist. Assoc. 102(477), 2007.
M. Scheuerer and T. M. Hamill, "Variogram-based proper scoring rules for probabilistic forecasts
of multivariate quantities", Monthly Weather Review 143(4), 2015.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import stats as sps

from scengen import stats
from scengen.errors import ScengenError
from scengen.evaluate._inputs import check_shapes, pair, values_probs, weighted_mean
from scengen.scenarios import ScenarioSet, check_probabilities
from scengen.stats import pairwise_distances

__all__ = [
    "ES_MAX_SCENARIOS",
    "METRICS",
    "autocorrelation_error",
    "correlation_error",
    "crps",
    "energy_score",
    "leave_one_out_distances",
    "mean_profile_error",
    "nearest_distances",
    "nearest_neighbour_distance",
    "pairwise_distances",
    "ramp_wasserstein",
    "variogram_score",
    "wasserstein",
]

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

#: default cap on the scenarios used for the E||X - X'|| term of the energy score
ES_MAX_SCENARIOS = 2000


def _expected_distance_to(x: np.ndarray, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``E_p ||X - y_j||`` for every row ``y_j`` (blockwise over the rows of ``x``)."""
    x2, y2 = stats.sq_norms(x), stats.sq_norms(y)
    out = np.zeros(len(y))
    step = stats.block_rows(len(y))
    for i in range(0, len(x), step):
        out += p[i : i + step] @ stats.distances(x[i : i + step], y, x2[i : i + step], y2)
    return out


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
    x, p, y, q = pair(scen_values, probs, obs_values, obs_probs, ("scenarios", "observations"))
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    term1 = _expected_distance_to(x, p, y)
    term2 = _expected_pair_distance(x, p, max_scenarios, seed)
    return weighted_mean(term1, q) - 0.5 * term2


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
    r"""Variogram score of order ``p``, averaged over observed days [p.u.^(2p)].

    .. math::

        \mathrm{VS}_p(F, y) = \sum_{i=1}^{d} \sum_{j \ne i} \left( |y_i - y_j|^p
            - \mathbb{E}_F |X_i - X_j|^p \right)^2
            = 2 \sum_{i < j} \left( |y_i - y_j|^p - \mathbb{E}_F |X_i - X_j|^p \right)^2

    over all ordered pairs ``i != j`` of the ``d = n_sites * n_steps`` components (site x step)
    with unit weights: the convention of Scheuerer and Hamill (2015, eq. 3) and of
    ``scoringrules.vs_ensemble``. (Before issue 17 scengen summed over ``i < j`` only, half this
    value; ratios between sets are unaffected.) The expectation is exact over the weighted
    scenarios, :math:`\mathbb{E}_F |X_i - X_j|^p = \sum_k p_k |x_{ki} - x_{kj}|^p`, computed in
    blocks so memory stays bounded (``d(d-1)/2`` = 14 028 distinct pairs for 7 x 24).

    Parameters
    ----------
    scen_values, probs, obs_values, obs_probs
        As in :func:`energy_score`.
    p : float, default 0.5
        Order of the variogram (> 0).

    Returns
    -------
    float
        Mean variogram score over the observed days [p.u.^(2p)]; 0 for a perfect point
        forecast.
    """
    if not p > 0:
        raise ScengenError(f"variogram order p must be > 0, got {p}")
    x, w, y, q = pair(scen_values, probs, obs_values, obs_probs, ("scenarios", "observations"))
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    d = x.shape[1]
    if d < 2:
        return 0.0
    n_pairs = d * (d - 1) // 2

    def power(g: np.ndarray) -> np.ndarray:
        return np.sqrt(g, out=g) if p == 0.5 else (g if p == 1 else g**p)

    def vario_mean(a: np.ndarray, wa: np.ndarray) -> np.ndarray:
        """``sum_k wa_k |a_ki - a_kj|^p`` for the pairs ``i < j`` in ``triu_indices`` order."""
        out = np.zeros(n_pairs)
        rows = stats.block_rows(d)
        for r in range(0, len(a), rows):
            at = np.ascontiguousarray(a[r : r + rows].T)  # (d, rows): contiguous slices
            wr = wa[r : r + rows]
            k = 0
            for i in range(d - 1):
                out[k : k + d - 1 - i] += power(np.abs(at[i + 1 :] - at[i])) @ wr
                k += d - 1 - i
        return out

    ex = vario_mean(x, w)
    scores = np.empty(len(y))
    iu, ju = np.triu_indices(d, 1)
    rows = stats.block_rows(n_pairs)
    for r in range(0, len(y), rows):
        g = power(np.abs(y[r : r + rows, iu] - y[r : r + rows, ju]))
        g -= ex[None, :]
        scores[r : r + rows] = 2.0 * np.einsum("ij,ij->i", g, g)  # ordered pairs: i<j and j<i
    return weighted_mean(scores, q)


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
    x, w, y, q = pair(scen_values, probs, obs_values, obs_probs, ("scenarios", "observations"))
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    d = x.shape[1]
    scores = np.zeros(len(y))
    step = max(1, stats.block_rows(len(x)) // 8)  # components per block (~8 n x step temps)
    for a in range(0, d, step):
        scores += _crps_block(x[:, a : a + step], w, y[:, a : a + step]).sum(axis=1)
    scores /= d
    return weighted_mean(scores, q)


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
    metric: str = "euclidean",
    p: int = 1,
    num_iter_max: int | None = None,
) -> float:
    r"""Exact Wasserstein distance of order ``p`` between two weighted sets of days [p.u.].

    .. math::

        W_p(a, b) = \Bigl(\min_{\pi \ge 0,\ \pi 1 = p^a,\ \pi^T 1 = p^b}
            \sum_{ij} \pi_{ij}\, c(x^a_i, x^b_j)^p\Bigr)^{1/p}

    with the ground distance :math:`c` over all sites and steps (Euclidean by default: the W1
    of the scores), solved exactly with POT's network simplex (``ot.emd2``). The cost matrix
    has ``n_a * n_b`` entries; 2 000 scenarios x 110 days take about 2 s, 100 000 x 110 about
    1-2 min and 1 GB (the solver's arcs) on a laptop CPU.

    The one definition of the distance: :func:`scengen.reduce.wasserstein` is this function,
    which also takes the form ``wasserstein(full, reduced[, metric[, p]])`` of two
    :class:`~scengen.scenarios.ScenarioSet` (a ScenarioSet in the place of ``a_probs`` is the
    second set).

    Parameters
    ----------
    a_values, b_values : ScenarioSet or numpy.ndarray
        Shape ``(n, n_sites, n_steps)`` [p.u.].
    a_probs, b_probs : array-like, optional
        Probabilities (default: those of the ScenarioSets, else equal).
    metric : {"euclidean", "cityblock"}, default "euclidean"
        Ground distance :math:`c` over all sites and steps [p.u.].
    p : {1, 2}, default 1
        Order: the transport cost is :math:`c^p` and the result its minimum to the power
        :math:`1/p`.
    num_iter_max : int, optional
        Iteration limit of the network simplex; reaching it is an error (default
        ``max(1e8, 50 n_a n_b)``).

    Returns
    -------
    float
        :math:`W_p` [p.u.]; symmetric, 0 for identical sets.

    Raises
    ------
    ScengenError
        For an unknown ``metric`` or ``p``, sets of other sites or steps, or when the network
        simplex reaches ``num_iter_max``.
    """
    from scengen.reduce._options import METRICS as GROUND_METRICS
    from scengen.reduce._options import POWERS
    from scengen.reduce._validate import _check_choice

    if isinstance(a_probs, ScenarioSet):  # wasserstein(full, reduced[, metric[, p]])
        metric = metric if b_values is None else b_values
        p = p if b_probs is None else b_probs
        if isinstance(a_values, ScenarioSet):
            a_values.check_compatible(a_probs)
        a_probs, b_values, b_probs = None, a_probs, None
    _check_choice("metric", metric, GROUND_METRICS)
    _check_choice("p", p, POWERS)
    a, pa, b, pb = pair(a_values, a_probs, b_values, b_probs)
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if metric == "euclidean":
        cost = pairwise_distances(a, b)
    else:
        from scipy.spatial.distance import cdist

        cost = cdist(a, b, "cityblock")
    if p == 2:
        cost *= cost
    pa, pb = pa / pa.sum(), pb / pb.sum()
    limit = max(10**8, 50 * cost.size) if num_iter_max is None else num_iter_max
    val = transport_cost(pa, pb, cost, limit)
    return float(max(val, 0.0) ** (1.0 / p))


def transport_cost(pa: np.ndarray, pb: np.ndarray, cost: np.ndarray, num_iter_max: int) -> float:
    r"""Minimum cost of moving the masses ``pa`` onto ``pb`` (POT ``ot.emd2``, exact).

    Parameters
    ----------
    pa, pb : numpy.ndarray
        Masses, shapes ``(n,)`` and ``(m,)``, with equal sums.
    cost : numpy.ndarray
        Cost of moving a unit of mass from ``i`` to ``j``, shape ``(n, m)``.
    num_iter_max : int
        Iteration limit of the network simplex.

    Returns
    -------
    float
        :math:`\min_\pi \sum_{ij} \pi_{ij} \mathrm{cost}_{ij}`, in the units of ``cost``.

    Raises
    ------
    ScengenError
        When the network simplex reaches ``num_iter_max``.
    """
    import ot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a solve that stops early is an error below
        val, log = ot.emd2(pa, pb, cost, numItermax=int(num_iter_max), log=True)
    if log.get("warning"):
        raise ScengenError(f"exact optimal transport did not converge: {log['warning']}")
    return float(val)


def autocorrelation_error(
    a_values: Any,
    a_probs: Any = None,
    b_values: Any = None,
    b_probs: Any = None,
    lags: Iterable[int] = range(1, 7),
) -> float:
    r"""Mean absolute difference of the per-site autocorrelation functions of two sets.

    The autocorrelation :math:`\rho_s(k)` is :func:`scengen.stats.within_day_acf`: each day
    centred on its own mean, the products pooled over the days weighted by probability (the
    biased sample ACF of the within-day dynamics). The error is

    .. math::

        \frac{1}{S K} \sum_{s=1}^{S} \sum_{k} \left| \rho^a_s(k) - \rho^b_s(k) \right|
            \quad [-]

    over sites and lags; sites that are constant within every day in either set are left out
    (NaN if all are).

    Parameters
    ----------
    a_values, a_probs, b_values, b_probs
        As in :func:`wasserstein`.
    lags : iterable of int, default 1..6
        Lags [steps]; each must be in ``1 .. n_steps - 1``.
    """
    a, pa, b, pb = pair(a_values, a_probs, b_values, b_probs)
    lags = np.asarray(list(lags), dtype=int)
    t = a.shape[2]
    if lags.size == 0 or lags.min() < 1 or lags.max() > t - 1:
        raise ScengenError(f"lags must be between 1 and {t - 1} (n_steps - 1), got {lags.tolist()}")
    diff = np.abs(stats.within_day_acf(a, pa, lags) - stats.within_day_acf(b, pb, lags))
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

    with the ramps of :func:`scengen.stats.ramps`.
    """
    a, pa, b, pb = pair(a_values, a_probs, b_values, b_probs)
    t = a.shape[2]
    if t < 2:
        raise ScengenError("ramps need at least 2 steps per day")
    ra, rb = stats.ramps(a), stats.ramps(b)
    wa, wb = np.repeat(pa, t - 1), np.repeat(pb, t - 1)
    out = [
        sps.wasserstein_distance(
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
    a, pa, b, pb = pair(a_values, a_probs, b_values, b_probs)
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
    a, pa, b, pb = pair(a_values, a_probs, b_values, b_probs)
    ma = np.tensordot(pa, a, axes=1)
    mb = np.tensordot(pb, b, axes=1)
    return float(np.sqrt(np.mean((ma - mb) ** 2)))


def nearest_distances(values: Any, train_values: Any) -> np.ndarray:
    """Euclidean distance [p.u.] from each day of ``values`` to its closest day of ``train_values``.

    Computed blockwise (memory ``O(block x n_train)``).
    """
    x, _ = values_probs(values, None, "scenarios")
    t, _ = values_probs(train_values, None, "training days")
    check_shapes(x, t, "scenarios and training days")
    return _nearest(x.reshape(len(x), -1), t.reshape(len(t), -1))


def leave_one_out_distances(values: Any) -> np.ndarray:
    """Euclidean distance [p.u.] from each day of ``values`` to its closest *other* day of the
    same set (the nearest-day distance of a day new to the rest; blockwise like
    :func:`nearest_distances`)."""
    x, _ = values_probs(values, None, "days")
    if len(x) < 2:
        raise ScengenError(f"leave-one-out distances need at least 2 days, got {len(x)}")
    x = x.reshape(len(x), -1)
    return _nearest(x, x, exclude_self=True)


def _nearest(x: np.ndarray, t: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Distance from each row of ``x`` to its nearest row of ``t`` (``exclude_self``: ``t`` is
    ``x`` and row ``i`` skips itself)."""
    x2, t2 = stats.sq_norms(x), stats.sq_norms(t)
    out = np.empty(len(x))
    step = stats.block_rows(len(t))
    for i in range(0, len(x), step):
        d = stats.distances(x[i : i + step], t, x2[i : i + step], t2)
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
