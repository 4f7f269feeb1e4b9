r"""Continuous relaxation of k-medoids, used to seed it.

With free centres :math:`C_1..C_K` instead of medoids, a local optimum of

.. math:: \sum_i p_i \min_j c(x_i, C_j)^q

is found by alternating assignment and centre update: the weighted mean for the squared
Euclidean cost (Lloyd, k-means), Weiszfeld's iteration for the Euclidean median
(k-medians), iteratively reweighted least squares per coordinate for cityblock. Each centre
is then snapped to its nearest scenario to give a starting medoid set.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from scengen.reduce._costs import _Costs
from scengen.reduce._options import ReduceOptions
from scengen.stats import sq_distances, sq_norms


def _center_costs(
    X: np.ndarray, C: np.ndarray, metric: str, power: int, sq: np.ndarray | None = None
) -> np.ndarray:
    """float32 costs ``(n, k)`` between rows of ``X`` and centres ``C`` (both float32);
    ``sq`` are the squared norms of the rows of ``X`` when known (Euclidean:
    :func:`scengen.stats.sq_distances`, unrefined)."""
    if metric == "euclidean":
        G = sq_distances(X, C, sq, refine=False)
        if power == 1:
            np.sqrt(G, out=G)
        return G
    from scipy.spatial.distance import cdist

    G = cdist(X, C, "cityblock").astype(np.float32)
    return G * G if power == 2 else G


def _kpp(
    X: np.ndarray, p: np.ndarray, k: int, rng: np.random.Generator, metric: str, power: int
) -> np.ndarray:
    """k-means++ style seeding: centres drawn with probability ``p_i * cost_i``."""
    n = X.shape[0]
    sq = sq_norms(X)
    first = int(rng.choice(n, p=p))
    cur = _center_costs(X, X[[first]], metric, power, sq)[:, 0].astype(np.float64)
    idx = [first]
    for _ in range(k - 1):
        w = p * cur
        tot = w.sum()
        i = int(rng.choice(n, p=w / tot)) if tot > 0 else int(rng.integers(n))
        idx.append(i)
        np.minimum(cur, _center_costs(X, X[[i]], metric, power, sq)[:, 0], out=cur)
    return X[idx].copy()


def _relax(
    X: np.ndarray,
    p: np.ndarray,
    C: np.ndarray,
    metric: str,
    power: int,
    max_iter: int = 50,
    tol: float = 1e-4,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Continuous relaxation: alternate assignment and centre update (Lloyd for c^2,
    Weiszfeld for the Euclidean median, IRLS for cityblock) to a local optimum of
    ``sum_i p_i min_j c(x_i, C_j)^q`` with free centres. Returns centres, objective, costs."""
    n, k = X.shape[0], C.shape[0]
    rows = np.arange(n)
    prev = np.inf
    eps = 1e-6
    sq = sq_norms(X) if metric == "euclidean" else None
    for _ in range(max_iter):
        D = _center_costs(X, C, metric, power, sq)
        a = np.argmin(D, axis=1)
        d = D[rows, a].astype(np.float64)
        obj = float(p @ d)
        if obj > prev * (1 - tol):
            break
        prev = obj
        if metric == "euclidean":
            w = p / np.maximum(d, eps) if power == 1 else p
            W = np.zeros((n, k), np.float32)
            W[rows, a] = w
            tot = W.sum(axis=0)
            newC = (W.T @ X) / np.maximum(tot, 1e-300)[:, None]
        else:
            # IRLS per coordinate for sum_i p_i (sum_d |x_id - c_d|)^q
            r = np.abs(X - C[a])
            scale = (p * np.maximum(d, eps) ** ((power - 1) / power))[:, None]
            A = (scale / np.maximum(r, eps)).astype(np.float32)
            W = np.zeros((n, k), np.float32)
            W[rows, a] = 1.0
            tot = W.T @ A
            newC = (W.T @ (A * X)) / np.maximum(tot, 1e-30)
            tot = tot[:, 0]
        empty = tot <= 0
        if empty.any():  # re-seed empty clusters at the costliest scenarios
            far = np.argsort(-(p * d))[: int(empty.sum())]
            newC[empty] = X[far]
        C = newC.astype(np.float32)
    D = _center_costs(X, C, metric, power, sq)
    obj = float(p @ D.min(axis=1).astype(np.float64))
    return C, obj, D


def _snap(D: np.ndarray, k: int) -> np.ndarray:
    """Medoids from centres: each centre's nearest scenario (costs ``D``, ``(N, K)``), the
    next nearest when a previous centre took it (ties to the lower position)."""
    med: list[int] = []
    for j in range(k):
        near = np.argpartition(D[:, j], min(k, len(D) - 1))[: k + 1]
        order = near[np.lexsort((near, D[near, j]))]
        med.append(int(next(i for i in order if i not in med)))
    return np.asarray(med)


def _continuous_starts(
    costs: _Costs,
    p: np.ndarray,
    k: int,
    rng: np.random.Generator,
    info: dict[str, Any],
    opts: ReduceOptions,
) -> list[tuple[str, np.ndarray]]:
    """Starting medoid sets from continuous relaxations (free centres, each snapped to its
    nearest scenario): the ``opts.relax_keep`` best of ``opts.relax_restarts`` relaxations
    run to convergence (restarted on a sample of ``opts.relax_sample`` scenarios, polished on
    all), and up to ``opts.short_starts`` k-means++ seeds given ``opts.short_iter``
    iterations only, for diversity."""
    n = costs.n
    X = costs.Xf
    if n > opts.relax_sample:
        sub = np.sort(rng.choice(n, size=opts.relax_sample, replace=False))
        Xs, ps = X[sub], p[sub] / p[sub].sum()
    else:
        Xs, ps = X, p

    def restart(seed: int) -> tuple[float, np.ndarray]:
        C0 = _kpp(Xs, ps, k, np.random.default_rng(seed), costs.metric, costs.power)
        C, obj, _ = _relax(Xs, ps, C0, costs.metric, costs.power, max_iter=opts.relax_iter)
        return obj, C

    # one generator per restart, drawn in order: the restarts run in opts.threads threads and
    # give the same result whatever their number
    seeds = rng.integers(2**63, size=opts.relax_restarts).tolist()
    if opts.threads > 1 and opts.relax_restarts > 1:
        with ThreadPoolExecutor(opts.threads) as ex:
            runs = list(ex.map(restart, seeds))
    else:
        runs = [restart(sd) for sd in seeds]
    runs.sort(key=lambda r: r[0])
    chosen = [("relax", C, opts.relax_iter) for _, C in runs[: opts.relax_keep]]
    n_short = int(min(opts.short_starts, opts.short_work // max(1, n * costs.dim * k)))
    for _ in range(n_short):
        chosen.append(("short", _kpp(X, p, k, rng, costs.metric, costs.power), opts.short_iter))
    starts, objs = [], []
    for name, C, iters in chosen:
        if name == "relax" and Xs is not X:
            C, obj, D = _relax(X, p, C, costs.metric, costs.power, max_iter=20)
        elif name == "short":
            C, obj, D = _relax(X, p, C, costs.metric, costs.power, max_iter=iters)
        else:
            D = _center_costs(X, C, costs.metric, costs.power)
            obj = float(p @ D.min(axis=1).astype(np.float64))
        objs.append(obj)
        starts.append((name, _snap(D, k)))
    info["relax"] = {"restarts": opts.relax_restarts, "sample": len(Xs), "objectives": objs}
    return starts
