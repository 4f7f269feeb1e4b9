"""Public functions of :mod:`scengen.reduce`: the reduction, its curve, the exact distance
(:func:`scengen.evaluate.metrics.wasserstein`, the one definition, re-exported) and the memory
estimate."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from scengen.evaluate.metrics import wasserstein
from scengen.reduce._driver import _reduce
from scengen.reduce._options import ReduceOptions
from scengen.reduce._result import ReductionResult
from scengen.scenarios import ScenarioSet

__all__ = ["memory_bound", "reduce_scenarios", "reduction_curve", "wasserstein"]


def reduce_scenarios(
    ss: ScenarioSet,
    k: int | None = None,
    *,
    max_distance: float | str | None = None,
    method: str = "pam",
    metric: str = "euclidean",
    p: int = 1,
    seed: int = 0,
    verify: bool | None = None,
    options: ReduceOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReductionResult:
    r"""Reduce a scenario set to K weighted scenarios minimising the Wasserstein distance.

    Chooses medoids :math:`m_1..m_K` among the input scenarios minimising
    :math:`J(m) = \sum_i p_i \min_j c(x_i, m_j)^p` and gives each the probability mass of the
    scenarios nearest to it; :math:`J^{1/p}` is then the Wasserstein-:math:`p` distance
    between the full and the reduced distributions.

    Parameters
    ----------
    ss : ScenarioSet
        Input scenarios with probabilities (used as weights).
    k : int, optional
        Number of scenarios to keep, ``1 <= k < N``. Exactly one of ``k`` and ``max_distance``.
    max_distance : float or str, optional
        Pick the smallest K whose distance is at most this [p.u.]; ``"5%"`` is relative to the
        distance of the best single scenario (K = 1).
    method : {"pam", "forward"}
        Eager-swap k-medoids (default) or Heitsch-Römisch fast forward selection.
    metric : {"euclidean", "cityblock"}
        Ground distance over all sites and steps, in per-unit.
    p : {1, 2}
        Order of the Wasserstein distance: cost :math:`c^p`, distance :math:`J^{1/p}`.
    seed : int
        Random seed (samples and candidate order); same seed, same result.
    verify : bool, optional
        Check the distance against POT ``ot.emd2`` (default: when
        ``N <= options.verify_max_n``).
    options : ReduceOptions, optional
        Size limits and search effort (default: ``ReduceOptions()``).

    progress : callable, optional
        ``progress(done, total)`` after each local search of the PAM method with a given K
        (its starts, then its perturbation steps); not called by forward selection or the
        ``max_distance`` search.

    Returns
    -------
    ReductionResult
    """
    opts = ReduceOptions() if options is None else options
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limits: contextlib.AbstractContextManager = contextlib.nullcontext()
    else:
        limits = threadpool_limits(opts.blas_threads)
    with limits:
        return _reduce(ss, k, max_distance, method, metric, p, seed, verify, opts, progress)


def reduction_curve(
    ss: ScenarioSet,
    ks: list[int] | range,
    *,
    method: str = "pam",
    metric: str = "euclidean",
    p: int = 1,
    seed: int = 0,
    options: ReduceOptions | None = None,
) -> dict[int, float]:
    """Distance reached for each K in ``ks`` (``{K: distance}`` [p.u.]).

    With ``method="forward"`` one greedy run gives every K at once.
    """
    ks = sorted({int(k) for k in ks})
    kw = {"method": method, "metric": metric, "p": p, "seed": seed, "options": options}
    if method == "forward" and ks:
        res = reduce_scenarios(ss, max(ks), verify=False, **kw)
        fc = res.info.get("curve_forward", {})
        return {k: float(fc[k]) for k in ks if k in fc}
    return {k: reduce_scenarios(ss, k, verify=False, **kw).distance for k in ks}


def memory_bound(n: int, dim: int, k: int, options: ReduceOptions | None = None) -> int:
    """Estimate of the memory :func:`reduce_scenarios` needs beyond its input [bytes].

    ``4 N D`` (centred float32 copy of the data) + ``64 N K`` (the K x N costs to the medoids,
    assignment, weights, a second state during the perturbations and their temporaries) + the
    full float32 cost matrix up to ``full_matrix_max_n`` + beyond it the screening cache (at
    most ``screen_cache_bytes``) and, for ``D >= row_cache_min_dim``, the cache of the local
    candidates' costs (at most ``row_cache_bytes``) + two blocks of ``block_bytes`` + the
    relaxation sample (fields of ``options``, default ``ReduceOptions()``).
    """
    o = ReduceOptions() if options is None else options
    large = n > o.full_matrix_max_n
    data = 4 * n * dim
    nk = 64 * n * k
    full = 0 if large else 4 * n**2
    screen = min(o.screen_cache_bytes, 4 * n * o.screen_sample) if large else 0
    rows = o.row_cache_bytes if large and dim >= o.row_cache_min_dim else 0
    relax = 4 * min(n, o.relax_sample) * (dim + 8 * k)
    return int(data + nk + full + screen + rows + 2 * o.block_bytes + relax)
