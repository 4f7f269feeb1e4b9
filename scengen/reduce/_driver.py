r"""The reduction itself: input preparation, the engines, and the final exact assignment.

Zero-probability scenarios are set aside and identical ones merged (probabilities added),
so that the engines see distinct scenarios with positive weights :math:`p_i`. After the
engines, every input scenario is assigned to its nearest medoid in float64 and the distance

.. math:: W = \Bigl(\sum_i p_i \min_j c(x_i, m_j)^q\Bigr)^{1/q}

recomputed from the differences, optionally checked against an exact optimal-transport
solve (POT ``ot.emd2``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from scengen.errors import ScengenError
from scengen.evaluate.metrics import transport_cost
from scengen.reduce._costs import _Costs, _full_matrix, _State
from scengen.reduce._forward import _forward
from scengen.reduce._options import ReduceOptions
from scengen.reduce._pam import _pam
from scengen.reduce._result import ReductionResult
from scengen.reduce._validate import check_options, parse_max_distance
from scengen.scenarios import ScenarioSet


def _unique_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the distinct rows of ``X`` (first occurrences, in order) and, for every row,
    the index of its distinct row in that list."""
    X = np.ascontiguousarray(X)
    first = inv = None
    if X.size and X.dtype.kind == "f":  # hash the rows, then check the groups exactly
        h = pd.util.hash_pandas_object(pd.DataFrame(X, copy=False), index=False).to_numpy()
        _, first, inv = np.unique(h, return_index=True, return_inverse=True)
        if not np.array_equal(X, X[first[inv.ravel()]]):  # a hash collision
            first = None
    if first is None:
        v = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
        _, first, inv = np.unique(v, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inv.ravel()]


def _emd2(a: np.ndarray, b: np.ndarray, M: np.ndarray) -> float:
    """The optimal transport cost of the masses ``a`` onto ``b`` (rescaled to the sum of ``a``)
    with the costs ``M`` (:func:`scengen.evaluate.metrics.transport_cost`)."""
    return transport_cost(a, b * (a.sum() / b.sum()), M, max(10**6, 50 * M.size))


def _dist(obj: float, p: int) -> float:
    """The distance :math:`J^{1/p}` of an objective :math:`J` (clipped at 0)."""
    return float(max(obj, 0.0) ** (1.0 / p))


def _reduce(
    ss: ScenarioSet,
    k: int | None,
    max_distance: float | str | None,
    method: str,
    metric: str,
    p: int,
    seed: int,
    verify: bool | None,
    opts: ReduceOptions,
    progress: Any = None,
) -> ReductionResult:
    """:func:`scengen.reduce.reduce_scenarios` (within the BLAS thread limit)."""
    t0 = time.perf_counter()
    k = check_options(k, max_distance, method, metric, p, n=ss.n_scenarios)
    n = ss.n_scenarios
    probs = np.asarray(ss.probabilities, dtype=np.float64)
    pos = np.flatnonzero(probs > 0)
    rng = np.random.default_rng(seed)
    X = ss.flat()
    # zero-probability scenarios do not count and cannot be medoids; identical scenarios are
    # merged (their probabilities added), so duplicates and weights are interchangeable
    first, inverse = _unique_rows(X[pos])
    work = pos[first]
    pw = np.bincount(inverse, weights=probs[pos], minlength=len(first))
    if k is not None and k > len(work):
        raise ScengenError(
            f"k = {k} is not allowed: only {len(work)} of the {n} scenarios are distinct with a "
            "positive probability"
        )
    nw = len(work)
    costs = _Costs(X if nw == n else X[work], metric, p, opts)
    info: dict[str, Any] = {
        "method": method,
        "metric": metric,
        "p": p,
        "seed": seed,
        "n_input": n,
        "source": ss.metadata.get("source"),
        "algorithm": {},
    }
    algo = info["algorithm"]
    full = _full_matrix(costs) if nw <= opts.full_matrix_max_n else None
    fwd_cand = None
    if (method == "forward" or max_distance is not None) and full is None:
        n_cand = min(nw, max(opts.forward_min_candidates, opts.forward_max_pairs // nw))
        if n_cand < nw:
            fwd_cand = np.sort(rng.choice(nw, size=n_cand, replace=False))
    curve: dict[int, float] = {}
    if max_distance is not None:
        medoids = _by_max_distance(
            costs, pw, n, max_distance, method, rng, full, fwd_cand, curve, info, opts
        )
        k = len(medoids)
    elif method == "forward":
        order, objs = _forward(costs, pw, k, cand=fwd_cand, full=full)
        medoids = np.asarray(order)
        info["curve_forward"] = {i + 1: _dist(o, p) for i, o in enumerate(objs)}
        algo["candidates"] = nw if fwd_cand is None else len(fwd_cand)
    else:
        medoids = _pam(costs, pw, k, rng, opts, full=full, info=algo, progress=progress).medoids
    medoids = np.asarray(medoids, dtype=np.int64)
    if len(medoids) < k:  # forward stopped early: every remaining scenario is a duplicate
        rest = np.setdiff1d(np.arange(nw), medoids)[: k - len(medoids)]
        medoids = np.concatenate([medoids, rest])
    # final exact assignment of every input scenario (zero-probability ones included)
    full_costs = costs if nw == n else _Costs(X, metric, p, opts)
    return _result(ss, full_costs, probs, work[medoids], curve, info, verify, opts, t0)


def _by_max_distance(
    costs: _Costs,
    pw: np.ndarray,
    n: int,
    max_distance: float | str,
    method: str,
    rng: np.random.Generator,
    full: np.ndarray | None,
    fwd_cand: np.ndarray | None,
    curve: dict[int, float],
    info: dict[str, Any],
    opts: ReduceOptions,
) -> np.ndarray:
    """Medoids of the smallest K whose distance is at most ``max_distance``.

    Forward selection gives the curve distance(K) and the smallest forward K reaching it;
    with ``method="pam"``, PAM at that K (started from the forward medoids) reaches it too,
    and a galloping then binary search finds the smallest K whose PAM distance does.
    ``curve`` and ``info`` are filled in.
    """
    p = costs.power
    info["max_distance_requested"] = max_distance
    value, relative = parse_max_distance(max_distance)
    kmax = min(costs.n, n - 1, opts.max_curve_k)
    target_obj = None if relative else value**p
    rel_obj = value**p if relative else None
    order, objs = _forward(
        costs, pw, kmax, target=target_obj, cand=fwd_cand, full=full, relative_target=rel_obj
    )
    fcurve = {i + 1: _dist(o, p) for i, o in enumerate(objs)}
    info["curve_forward"] = fcurve
    d_abs = value * fcurve[1] if relative else value
    info["max_distance"] = d_abs
    if fcurve[len(objs)] > d_abs * (1 + 1e-12):
        kk = len(objs)
        raise ScengenError(
            f"max_distance = {max_distance!r} ({d_abs:.6g} p.u.) is not reached by any K < "
            f"{n} tried: the smallest distance found is {fcurve[kk]:.6g} at K = {kk}; "
            "allow a larger distance or give k"
        )
    k_f = len(objs)
    curve.update(fcurve)
    if method == "forward":
        return np.asarray(order[:k_f])
    runs: dict[int, _State] = {}

    def reaches(kk: int) -> bool:
        st_info: dict[str, Any] = {}
        state = _pam(costs, pw, kk, rng, opts, init=np.asarray(order[:kk]), full=full, info=st_info)
        runs[kk] = state
        info["algorithm"].setdefault("pam_runs", {})[kk] = st_info
        curve[kk] = min(curve.get(kk, math.inf), _dist(state.obj, p))
        return _dist(state.obj, p) <= d_abs * (1 + 1e-12)

    reaches(k_f)
    good, step = k_f, 1
    while good - step >= 1 and reaches(good - step):
        good, step = good - step, step * 2
    bad = max(good - step, 0)
    while good - bad > 1:
        mid = (good + bad) // 2
        if reaches(mid):
            good = mid
        else:
            bad = mid
    return runs[good].medoids


def _result(
    ss: ScenarioSet,
    costs: _Costs,
    probs: np.ndarray,
    med_in: np.ndarray,
    curve: dict[int, float],
    info: dict[str, Any],
    verify: bool | None,
    opts: ReduceOptions,
    t0: float,
) -> ReductionResult:
    """The result for the medoids ``med_in`` (positions in ``ss``): every input scenario
    assigned to its nearest medoid (``costs`` of all of ``ss``), the medoids ordered by
    decreasing mass, the distance recomputed in float64 and, with ``verify``, checked against
    ``ot.emd2``."""
    n, p = ss.n_scenarios, costs.power
    if verify is None:
        verify = n <= opts.verify_max_n
    if verify:
        Dm = costs.exact(med_in)
        assign = np.argmin(Dm, axis=1)
        assigned_cost = Dm[np.arange(n), assign]
    else:
        assign, assigned_cost = costs.assign(med_in)
    masses = np.bincount(assign, weights=probs, minlength=len(med_in))
    obj = float(probs @ assigned_cost)
    order_k = np.lexsort((med_in, -masses))
    rank = np.empty_like(order_k)
    rank[order_k] = np.arange(len(order_k))
    med_in, masses, assign = med_in[order_k], masses[order_k], rank[assign]
    distance = _dist(obj, p)
    curve[len(med_in)] = min(curve.get(len(med_in), math.inf), distance)
    distance_exact = None
    if verify:
        ex = _emd2(probs, masses, Dm[:, order_k])
        distance_exact = _dist(ex, p)
        ok = abs(distance_exact - distance) <= opts.verify_rtol * max(abs(distance), 1e-300)
        info["verified"] = bool(ok)
        if not ok:
            raise RuntimeError(
                f"reduction distance {distance!r} disagrees with ot.emd2 {distance_exact!r}"
            )
    seconds = time.perf_counter() - t0
    info["input_ids"] = ss.ids
    info["assigned_cost"] = assigned_cost
    reduced = ss.subset(
        med_in,
        probabilities=masses / masses.sum(),
        kind="reduced",
        method=info["method"],
        metric=costs.metric,
        p=p,
        k=int(len(med_in)),
        distance=distance,
        seed=info["seed"],
        source=info["source"],
    )
    return ReductionResult(
        reduced=reduced,
        assignment=assign.astype(np.int64),
        medoids=med_in.astype(np.int64),
        distance=distance,
        distance_exact=distance_exact,
        curve=dict(sorted(curve.items())),
        seconds=seconds,
        info=info,
    )
