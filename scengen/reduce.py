r"""Scenario reduction: Wasserstein k-medoids to K weighted scenarios.

Given input scenarios :math:`x_1..x_N` (flattened over sites and steps, per-unit) with
probabilities :math:`p_i`, choose :math:`K` medoids :math:`m_1..m_K` among the :math:`x_i` that
minimise

.. math::

    J(m) = \sum_{i=1}^{N} p_i \, \min_{j} c(x_i, m_j)^{q}, \qquad
    c(x, y) = \lVert x - y \rVert_2 \ (\text{or } \lVert x - y \rVert_1),

and give each medoid the probability mass of the scenarios closest to it. With :math:`q = 1` the
objective *is* the Wasserstein-1 (Kantorovich) distance between the full and the reduced
distributions, and with :math:`q = 2` its square root is the Wasserstein-2 distance (Dupačová,
Gröwe-Kuska and Römisch 2003, optimal redistribution). Input probabilities are weights
everywhere: duplicating a scenario and doubling its probability gives the same reduction.

Algorithms
----------
``method="pam"`` (default)
    k-medoids of PAM quality with eager swaps (FasterPAM, Schubert and Rousseeuw 2021), weighted:

    * ``N <= FULL_MATRIX_MAX_N``: the whole cost matrix (float32) is held; greedy BUILD (= forward
      selection) initialisation, then eager swaps over every candidate, evaluated a block of
      candidates at a time with BLAS until no swap improves.
    * larger ``N``: CLARA-like. PAM on a random sample of ``SAMPLE_SIZE`` scenarios, assignment of
      all ``N`` scenarios (an ``N x K`` matrix), then eager swaps on the *full* set with candidates
      restricted to the scenarios closest to each current medoid, each candidate evaluated exactly
      against all ``N`` scenarios in blocks, until no candidate improves.
``method="forward"``
    Heitsch-Römisch fast forward selection (greedy; lazy evaluation, exact because the gain is
    submodular). It gives the whole curve distance(K) in one run. For ``N`` above
    ``FORWARD_MAX_PAIRS / N`` candidates, the candidates are a random sample (all ``N`` scenarios
    still count in the distance).

Every cost block is at most ``BLOCK_BYTES``; no ``N x N`` matrix is built beyond
``FULL_MATRIX_MAX_N``. Peak memory is about ``12 N D`` bytes for the data (float64 + float32
copy, ``D`` = sites x steps) plus ``16 N K`` bytes for the ``N x K`` costs plus a few hundred MB
of blocks (see :func:`memory_bound`).

The reported distance is always recomputed in float64 from the chosen medoids, and for
``N <= VERIFY_MAX_N`` checked against an exact optimal-transport solve (POT ``ot.emd2``).
"""

from __future__ import annotations

import heapq
import math
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet

METHODS = ("pam", "forward")
METRICS = ("euclidean", "cityblock")
POWERS = (1, 2)

#: largest N for which the full N x N float32 cost matrix is held (144 MB)
FULL_MATRIX_MAX_N = 6000
#: restarts of the continuous relaxation (k-medians / k-means) that seeds k-medoids
RELAX_RESTARTS = 10
#: the restarts run on a sample of at most this many scenarios
RELAX_SAMPLE = 10000
#: number of best relaxations refined into k-medoids solutions
RELAX_KEEP = 2
#: candidates per medoid in the full-set swap refinement for larger N
LOCAL_CANDIDATES = 50
#: bytes of one block of costs (float32)
BLOCK_BYTES = 64 * 2**20
#: largest N for which the result is checked against POT ot.emd2 by default
VERIFY_MAX_N = 5000
#: forward selection evaluates at most this many (scenario, candidate) pairs per pass
FORWARD_MAX_PAIRS = 4 * 10**8
#: but at least this many candidates
FORWARD_MIN_CANDIDATES = 1000
#: largest K the curve of --max-distance explores
MAX_CURVE_K = 2000
#: relative agreement required between the reported distance and ot.emd2
VERIFY_RTOL = 1e-6

REDUCTION_JSON = "reduction.json"
ASSIGNMENT_CSV = "assignment.csv"


@dataclass
class ReduceConfig:
    """Settings of the ``reduce`` section of a config.

    Parameters
    ----------
    k : int, optional
        Number of scenarios to keep.
    max_distance : float or str, optional
        Instead of ``k``: the smallest K whose distance is at most this [p.u.], or relative
        (``"5%"``) to the distance of the best single scenario.
    method : str, default "pam"
        ``"pam"`` or ``"forward"``.
    metric : str, default "euclidean"
        ``"euclidean"`` or ``"cityblock"``.
    p : int, default 1
        Order of the Wasserstein distance (1 or 2).
    normalize : bool, default False
        Rescale input probabilities that do not sum to 1.
    seed : int, optional
        Random seed.
    """

    k: int | None = None
    max_distance: float | str | None = None
    method: str = "pam"
    metric: str = "euclidean"
    p: int = 1
    normalize: bool = False
    seed: int | None = None


@dataclass
class ReductionResult:
    """Result of :func:`reduce_scenarios`.

    Attributes
    ----------
    reduced : ScenarioSet
        The K chosen input scenarios (their ids) with the cluster masses as probabilities.
    assignment : numpy.ndarray
        ``(N,)`` position in ``reduced`` of the medoid each input scenario is assigned to.
    medoids : numpy.ndarray
        ``(K,)`` positions of the medoids in the input set (the order of ``reduced``).
    distance : float
        Wasserstein distance of order ``p`` between the full and the reduced distributions [p.u.].
    distance_exact : float or None
        The same from an exact optimal-transport solve (POT ``ot.emd2``), when checked.
    curve : dict
        ``{K: distance}`` for each K tried (best distance found at that K).
    seconds : float
        Wall time of the reduction [s].
    info : dict
        Algorithm details (sample size, swaps, rounds, forward curve, input size, ...).
    """

    reduced: ScenarioSet
    assignment: np.ndarray
    medoids: np.ndarray
    distance: float
    distance_exact: float | None
    curve: dict[int, float]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Plain-dict record written to ``reduction.json``."""
        i = self.info
        return {
            "method": i.get("method"),
            "metric": i.get("metric"),
            "p": i.get("p"),
            "k": int(len(self.medoids)),
            "distance": self.distance,
            "distance_exact": self.distance_exact,
            "verified": i.get("verified"),
            "max_distance": i.get("max_distance"),
            "max_distance_requested": i.get("max_distance_requested"),
            "curve": {str(k): v for k, v in sorted(self.curve.items())},
            "curve_forward": {str(k): v for k, v in sorted(i.get("curve_forward", {}).items())},
            "seconds": self.seconds,
            "seed": i.get("seed"),
            "source": i.get("source"),
            "n_input": i.get("n_input"),
            "algorithm": i.get("algorithm", {}),
        }

    def assignment_frame(self) -> pd.DataFrame:
        """``scenario,medoid,cost``: each input scenario id, its medoid id and their cost."""
        ids = self.reduced.ids
        return pd.DataFrame(
            {
                "scenario": self.info["input_ids"],
                "medoid": ids[self.assignment],
                "cost": self.info["assigned_cost"],
            }
        )


# ----------------------------------------------------------------------------- costs


class _Costs:
    """Ground costs ``c(x_i, x_j) ** q`` between rows of ``X``, computed in blocks.

    ``block`` is float32 via BLAS (data centred first, which keeps the Gram trick accurate);
    ``exact`` is float64 from differences.
    """

    def __init__(self, X: np.ndarray, metric: str, power: int) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.metric, self.power = metric, power
        self.n, self.dim = self.X.shape
        self.Xf = np.ascontiguousarray(self.X - self.X.mean(axis=0), dtype=np.float32)
        self.sq = np.einsum("ij,ij->i", self.Xf, self.Xf)

    def block(self, rows: Any, cols: Any = None) -> np.ndarray:
        """float32 costs, shape ``(len(rows), len(cols))`` (``cols=None``: all scenarios)."""
        A = self.Xf[rows]
        B = self.Xf if cols is None else self.Xf[cols]
        if self.metric == "euclidean":
            G = A @ B.T
            G *= -2.0
            G += self.sq[rows][:, None]
            G += (self.sq if cols is None else self.sq[cols])[None, :]
            np.maximum(G, 0.0, out=G)
            if self.power == 1:
                np.sqrt(G, out=G)
            return G
        from scipy.spatial.distance import cdist

        G = cdist(A, B, "cityblock").astype(np.float32)
        if self.power == 2:
            np.square(G, out=G)
        return G

    def exact(self, cols: np.ndarray, rows: Any = None) -> np.ndarray:
        """float64 costs from differences, shape ``(n_rows, len(cols))``."""
        X = self.X if rows is None else self.X[rows]
        out = np.empty((X.shape[0], len(cols)))
        step = max(1, (32 * 2**20) // (8 * self.dim))
        for a in range(0, X.shape[0], step):
            A = X[a : a + step]
            for j, c in enumerate(cols):
                diff = A - self.X[c]
                if self.metric == "euclidean":
                    d = np.einsum("ij,ij->i", diff, diff)
                    out[a : a + step, j] = np.sqrt(d) if self.power == 1 else d
                else:
                    d = np.abs(diff).sum(axis=1)
                    out[a : a + step, j] = d if self.power == 1 else d * d
        return out


def _block_rows(n_cols: int, cap: int = 512) -> int:
    return int(max(8, min(cap, BLOCK_BYTES // (4 * max(1, n_cols)))))


# ----------------------------------------------------------------------------- swap engine


class _State:
    """Assignment of every scenario to its nearest medoid, with the second-nearest cost."""

    def __init__(self, costs: _Costs, p: np.ndarray, medoids: np.ndarray) -> None:
        self.costs, self.p = costs, p
        self.pf = p.astype(np.float32)
        self.medoids = np.array(medoids, dtype=np.int64)
        self.Dm = costs.exact(self.medoids)  # (N, K) float64
        self.is_med = np.zeros(costs.n, bool)
        self.is_med[self.medoids] = True
        self.n_swaps = 0
        self._update()

    def _update(self) -> None:
        Dm = self.Dm
        n, k = Dm.shape
        rows = np.arange(n)
        if k == 1:
            self.nearest = np.zeros(n, np.int64)
            self.d1 = Dm[:, 0].copy()
            self.d2 = np.full(n, np.inf)
        else:
            part = np.argpartition(Dm, 1, axis=1)[:, :2]
            a, b = Dm[rows, part[:, 0]], Dm[rows, part[:, 1]]
            swap = b < a
            self.nearest = np.where(swap, part[:, 1], part[:, 0])
            self.d1 = np.minimum(a, b)
            self.d2 = np.maximum(a, b)
        self.obj = float(self.p @ self.d1)
        self.d1f = self.d1.astype(np.float32)
        self.d2f = np.minimum(self.d2, np.finfo(np.float32).max).astype(np.float32)
        W = np.zeros((n, k), np.float32)
        W[rows, self.nearest] = self.pf
        self.W = W

    def gains(self, C: np.ndarray, Dc: np.ndarray) -> np.ndarray:
        """Change of the objective, shape ``(len(C), K)``, when medoid j is swapped for C[b].

        ``Dc`` (float32, ``(len(C), N)``) holds the costs of the candidates; it is overwritten.
        """
        Dc[np.arange(len(C)), C] = 0.0  # exact self-cost
        M1 = np.minimum(Dc, self.d1f[None, :])
        shared = (M1 - self.d1f[None, :]) @ self.pf  # adding c, keeping every medoid
        np.minimum(Dc, self.d2f[None, :], out=Dc)
        Dc -= M1  # extra cost of the members of cluster j when j is removed
        return shared[:, None].astype(np.float64) + (Dc @ self.W).astype(np.float64)

    def try_swap(self, j: int, c: int) -> bool:
        """Swap medoid ``j`` for scenario ``c`` if that lowers the exact objective."""
        old_col, old_obj, old_m = self.Dm[:, j].copy(), self.obj, self.medoids[j]
        self.Dm[:, j] = self.costs.exact(np.array([c]))[:, 0]
        self.medoids[j] = c
        self._update()
        if self.obj < old_obj * (1.0 - 1e-12) - 1e-300:
            self.is_med[old_m], self.is_med[c] = False, True
            self.n_swaps += 1
            return True
        self.Dm[:, j], self.medoids[j] = old_col, old_m
        self._update()
        return False


def _swap_pass(state: _State, cand: np.ndarray, block: int, full: np.ndarray | None) -> bool:
    """One eager pass over candidate scenarios ``cand``; True when a swap was made."""
    improved = False
    for a in range(0, len(cand), block):
        C = cand[a : a + block]
        C = C[~state.is_med[C]]
        if len(C) == 0:
            continue
        Dc = full[C] if full is not None else state.costs.block(C)
        G = state.gains(C, Dc)
        b, j = np.unravel_index(int(np.argmin(G)), G.shape)
        if G[b, j] < -1e-7 * state.obj and state.try_swap(int(j), int(C[b])):
            improved = True
    return improved


def _swaps_full(state: _State, full: np.ndarray, order: np.ndarray, max_passes: int) -> int:
    block = _block_rows(state.costs.n, cap=256)
    passes = 0
    while passes < max_passes:
        passes += 1
        if not _swap_pass(state, order, block, full):
            break
    return passes


def _local_candidates(state: _State, m: int) -> np.ndarray:
    """For each cluster, the ``m`` members closest to its medoid (medoid excluded)."""
    out = []
    n = state.costs.n
    idx = np.arange(n)
    for j in range(len(state.medoids)):
        members = idx[state.nearest == j]
        if len(members) <= 1:
            continue
        d = state.Dm[members, j]
        take = min(m + 1, len(members))
        sel = members[np.argpartition(d, take - 1)[:take]] if take < len(members) else members
        sel = sel[np.argsort(state.Dm[sel, j], kind="stable")]
        out.append(sel[~state.is_med[sel]][:m])
    return np.concatenate(out) if out else np.empty(0, np.int64)


def _refine_full_set(state: _State, m: int, max_rounds: int = 100) -> int:
    """Eager swaps on all N scenarios with candidates near the current medoids."""
    block = _block_rows(state.costs.n, cap=256)
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        cand = _local_candidates(state, m)
        if not _swap_pass(state, cand, block, None):
            break
    return rounds


# ----------------------------------------------------------------------------- forward selection


def _forward(
    costs: _Costs,
    p: np.ndarray,
    kmax: int,
    *,
    target: float | None = None,
    cand: np.ndarray | None = None,
    full: np.ndarray | None = None,
    relative_target: float | None = None,
) -> tuple[list[int], list[float]]:
    """Heitsch-Römisch fast forward selection (greedy, lazy).

    Returns the chosen scenario positions in order and the objective ``J`` after each step.
    Stops after ``kmax`` steps, or once ``J <= target`` (``target`` is on the objective scale;
    ``relative_target`` is a fraction of ``J`` after step 1).
    """
    n = costs.n
    cand = np.arange(n) if cand is None else np.asarray(cand)
    pf = p.astype(np.float32)
    block = _block_rows(n)

    def rows(C: np.ndarray) -> np.ndarray:
        return full[C] if full is not None else costs.block(C)

    # step 1: the best single scenario (total cost of each candidate), top few checked in float64
    total = np.empty(len(cand))
    for a in range(0, len(cand), block):
        C = cand[a : a + block]
        total[a : a + block] = rows(C) @ pf
    top = cand[np.argsort(total, kind="stable")[: min(8, len(cand))]]
    exact_tot = p @ costs.exact(top)
    first = int(top[int(np.argmin(exact_tot))])
    chosen = [first]
    cur = costs.exact(np.array([first]))[:, 0]
    objs = [float(p @ cur)]
    if relative_target is not None:
        target = relative_target * objs[0]
    if kmax <= 1 or (target is not None and objs[-1] <= target):
        return chosen, objs
    # upper bounds of the gains for every candidate: their exact gain after step 1
    curf = cur.astype(np.float32)
    gains = np.empty(len(cand))
    for a in range(0, len(cand), block):
        C = cand[a : a + block]
        R = rows(C)
        np.subtract(curf[None, :], R, out=R)
        np.maximum(R, 0.0, out=R)
        gains[a : a + block] = R @ pf
    in_set = np.zeros(n, bool)
    in_set[first] = True
    heap = [(-g, int(u), 1) for g, u in zip(gains, cand, strict=False) if not in_set[u]]
    heapq.heapify(heap)
    batch = 16
    while len(chosen) < kmax and heap:
        step = len(chosen)
        while True:
            g, u, stamp = heap[0]
            if stamp == step:
                break
            stale = []
            while heap and len(stale) < batch and heap[0][2] != step:
                stale.append(heapq.heappop(heap)[1])
            C = np.asarray(stale)
            R = rows(C)
            R[np.arange(len(C)), C] = 0.0
            np.subtract(curf[None, :], R, out=R)
            np.maximum(R, 0.0, out=R)
            for gg, uu in zip(R @ pf, C, strict=False):
                heapq.heappush(heap, (-float(gg), int(uu), step))
        g, u, _ = heapq.heappop(heap)
        if -g <= 0.0 and objs[-1] <= 0.0:
            break
        chosen.append(u)
        in_set[u] = True
        cur = np.minimum(cur, costs.exact(np.array([u]))[:, 0])
        curf = cur.astype(np.float32)
        objs.append(float(p @ cur))
        if target is not None and objs[-1] <= target:
            break
    return chosen, objs


# ----------------------------------------------------------------------------- k-medoids


def _center_costs(
    X: np.ndarray, C: np.ndarray, metric: str, power: int, sq: np.ndarray | None = None
) -> np.ndarray:
    """float32 costs ``(n, k)`` between rows of ``X`` and centres ``C`` (both float32);
    ``sq`` are the squared norms of the rows of ``X`` when known."""
    if metric == "euclidean":
        G = X @ C.T
        G *= -2.0
        G += (np.einsum("ij,ij->i", X, X) if sq is None else sq)[:, None]
        G += np.einsum("ij,ij->i", C, C)[None, :]
        np.maximum(G, 0.0, out=G)
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
    sq = np.einsum("ij,ij->i", X, X)
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
    sq = np.einsum("ij,ij->i", X, X) if metric == "euclidean" else None
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


def _continuous_starts(
    costs: _Costs, p: np.ndarray, k: int, rng: np.random.Generator, info: dict[str, Any]
) -> list[np.ndarray]:
    """Medoid sets from the best of several continuous relaxations (restarts on a sample,
    polished on all scenarios): each centre is replaced by its nearest scenario."""
    n = costs.n
    X = costs.Xf
    if n > RELAX_SAMPLE:
        sub = np.sort(rng.choice(n, size=RELAX_SAMPLE, replace=False))
        Xs, ps = X[sub], p[sub] / p[sub].sum()
    else:
        Xs, ps = X, p
    runs = []
    for _ in range(RELAX_RESTARTS):
        C0 = _kpp(Xs, ps, k, rng, costs.metric, costs.power)
        C, obj, _ = _relax(Xs, ps, C0, costs.metric, costs.power)
        runs.append((obj, C))
    runs.sort(key=lambda r: r[0])
    starts, objs = [], []
    for _, C in runs[:RELAX_KEEP]:
        if Xs is not X:
            C, obj, D = _relax(X, p, C, costs.metric, costs.power, max_iter=20)
        else:
            D = _center_costs(X, C, costs.metric, costs.power)
            obj = float(p @ D.min(axis=1).astype(np.float64))
        objs.append(obj)
        med = []
        for j in range(k):
            order = np.argsort(D[:, j], kind="stable")[: k + 1]
            med.append(int(next(i for i in order if i not in med)))
        starts.append(np.asarray(med))
    info["relax"] = {"restarts": RELAX_RESTARTS, "sample": len(Xs), "objectives": objs}
    return starts


def _pam(
    costs: _Costs,
    p: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    init: np.ndarray | None = None,
    full: np.ndarray | None = None,
    info: dict[str, Any] | None = None,
) -> _State:
    """Weighted k-medoids with eager swaps from several starts; returns the best final state.

    Starts: greedy BUILD (small N), the best continuous relaxations (k-medians / k-means with
    free centres, snapped to their nearest scenarios) and ``init`` when given.
    """
    info = {} if info is None else info
    n = costs.n
    starts: list[tuple[str, np.ndarray]] = []
    if n <= FULL_MATRIX_MAX_N:
        if full is None:
            full = _full_matrix(costs)
        if init is None:
            starts.append(("build", np.asarray(_forward(costs, p, k, full=full)[0])))
    if init is not None:
        starts.append(("given", np.asarray(init)))
    if k > 1 and RELAX_RESTARTS > 0:
        starts += [("relax", m) for m in _continuous_starts(costs, p, k, rng, info)]
    best: _State | None = None
    seen = set()
    for name, med in starts:
        key = tuple(sorted(int(i) for i in med))
        if key in seen:
            continue
        seen.add(key)
        state = _State(costs, p, med)
        if full is not None:
            rounds = _swaps_full(state, full, rng.permutation(n), max_passes=100)
        else:
            rounds = _refine_full_set(state, LOCAL_CANDIDATES)
        info.setdefault("starts", []).append(
            {"init": name, "rounds": rounds, "swaps": state.n_swaps, "objective": state.obj}
        )
        if best is None or state.obj < best.obj:
            best = state
    info["strategy"] = "full matrix" if full is not None else "full-set swaps, local candidates"
    assert best is not None
    return best


def _full_matrix(costs: _Costs) -> np.ndarray:
    n = costs.n
    full = np.empty((n, n), np.float32)
    block = _block_rows(n, cap=2048)
    for a in range(0, n, block):
        full[a : a + block] = costs.block(slice(a, a + block))
    np.fill_diagonal(full, 0.0)
    return full


# ----------------------------------------------------------------------------- public API


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ScengenError(f"{name} = {value!r} is not allowed; choose one of {list(allowed)}")


def parse_max_distance(value: float | str) -> tuple[float, bool]:
    """``(value, relative)`` from ``0.05`` or ``"0.05"`` (absolute) or ``"5%"`` (relative)."""
    if isinstance(value, bool):
        raise ScengenError(f"max_distance = {value!r} must be a number or a percentage like '5%'")
    if isinstance(value, (int, float)):
        v, rel = float(value), False
    else:
        text = str(value).strip()
        m = re.fullmatch(r"([0-9.eE+-]+)\s*%", text)
        try:
            v, rel = (float(m.group(1)) / 100.0, True) if m else (float(text), False)
        except ValueError:
            raise ScengenError(
                f"max_distance = {value!r} is not understood; give a distance in p.u. (0.05) "
                "or a percentage of the single-scenario distance ('5%')"
            ) from None
    if not math.isfinite(v) or v <= 0:
        raise ScengenError(
            f"max_distance = {value!r} must be a positive distance [p.u.] or a positive "
            "percentage ('5%')"
        )
    if rel and v > 1.0:
        raise ScengenError(f"max_distance = {value!r}: a relative distance must be at most 100%")
    return v, rel


def wasserstein(
    full: ScenarioSet, reduced: ScenarioSet, metric: str = "euclidean", p: int = 1
) -> float:
    """Exact Wasserstein distance of order ``p`` between two scenario sets (POT ``ot.emd2``).

    Parameters
    ----------
    full, reduced : ScenarioSet
        Two weighted sets with the same sites and steps.
    metric : {"euclidean", "cityblock"}
        Ground distance over all sites and steps [p.u.].
    p : {1, 2}
        Order: the transport cost is ``c ** p`` and the result ``(min cost) ** (1/p)``.

    Returns
    -------
    float
        :math:`W_p` [p.u.].
    """

    _check_choice("metric", metric, METRICS)
    _check_choice("p", p, POWERS)
    full.check_compatible(reduced)
    costs = _Costs(np.concatenate([full.flat(), reduced.flat()]), metric, p)
    M = costs.exact(
        np.arange(full.n_scenarios, full.n_scenarios + reduced.n_scenarios),
        rows=slice(0, full.n_scenarios),
    )
    val = _emd2(full.probabilities, reduced.probabilities, M)
    return float(max(val, 0.0) ** (1.0 / p))


def _emd2(a: np.ndarray, b: np.ndarray, M: np.ndarray) -> float:
    import ot

    b = b * (a.sum() / b.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val, log = ot.emd2(a, b, M, numItermax=max(10**6, 50 * M.size), log=True)
    if log.get("warning"):
        raise RuntimeError(f"ot.emd2 did not converge: {log['warning']}")
    return float(val)


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
) -> ReductionResult:
    r"""Reduce a scenario set to K weighted scenarios minimising the Wasserstein distance.

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
        Check the distance against POT ``ot.emd2`` (default: when ``N <= 5000``).

    Returns
    -------
    ReductionResult
    """
    t0 = time.perf_counter()
    _check_choice("method", method, METHODS)
    _check_choice("metric", metric, METRICS)
    _check_choice("p", p, POWERS)
    n = ss.n_scenarios
    if (k is None) == (max_distance is None):
        raise ScengenError("give exactly one of k (number of scenarios) and max_distance")
    probs = np.asarray(ss.probabilities, dtype=np.float64)
    pos = np.flatnonzero(probs > 0)
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ScengenError(f"k = {k!r} must be an integer")
        k = int(k)
        if k <= 0 or k >= n:
            raise ScengenError(
                f"k = {k} is not allowed; it must be between 1 and {n - 1} "
                f"(fewer than the {n} input scenarios)"
            )
        if k > len(pos):
            raise ScengenError(
                f"k = {k} is not allowed: only {len(pos)} of the {n} scenarios have a positive "
                "probability"
            )
    elif n < 2:
        raise ScengenError(f"cannot reduce a set of {n} scenario; it needs at least 2")
    rng = np.random.default_rng(seed)
    X = ss.flat()
    # zero-probability scenarios do not count in the distance and cannot be medoids
    work = pos if len(pos) < n else np.arange(n)
    pw = probs[work]
    costs = _Costs(X[work], metric, p)
    nw = len(work)
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
    full = _full_matrix(costs) if nw <= FULL_MATRIX_MAX_N else None
    fwd_cand = None
    if (method == "forward" or max_distance is not None) and full is None:
        n_cand = min(nw, max(FORWARD_MIN_CANDIDATES, FORWARD_MAX_PAIRS // nw))
        if n_cand < nw:
            fwd_cand = np.sort(rng.choice(nw, size=n_cand, replace=False))
    curve: dict[int, float] = {}

    def dist(obj: float) -> float:
        return float(max(obj, 0.0) ** (1.0 / p))

    if max_distance is not None:
        info["max_distance_requested"] = max_distance
        value, relative = parse_max_distance(max_distance)
        kmax = min(nw, n - 1, MAX_CURVE_K)
        target_obj = None if relative else value**p
        rel_obj = value**p if relative else None
        order, objs = _forward(
            costs, pw, kmax, target=target_obj, cand=fwd_cand, full=full, relative_target=rel_obj
        )
        fcurve = {i + 1: dist(o) for i, o in enumerate(objs)}
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
            k = k_f
            medoids = np.asarray(order[:k])
        else:
            best_k, best_state = None, None
            kk = k_f
            while kk >= 1:
                st_info: dict[str, Any] = {}
                state = _pam(
                    costs, pw, kk, rng, init=np.asarray(order[:kk]), full=full, info=st_info
                )
                dk = dist(state.obj)
                curve[kk] = min(curve.get(kk, math.inf), dk)
                if dk <= d_abs * (1 + 1e-12):
                    best_k, best_state = kk, state
                    algo.setdefault("pam_runs", {})[kk] = st_info
                    kk -= 1
                else:
                    break
            assert best_state is not None and best_k is not None
            k = best_k
            medoids = best_state.medoids
    else:
        assert k is not None
        if method == "forward":
            order, objs = _forward(costs, pw, k, cand=fwd_cand, full=full)
            medoids = np.asarray(order)
            info["curve_forward"] = {i + 1: dist(o) for i, o in enumerate(objs)}
            algo["candidates"] = nw if fwd_cand is None else len(fwd_cand)
        else:
            state = _pam(costs, pw, k, rng, full=full, info=algo)
            medoids = state.medoids
    medoids = np.asarray(medoids, dtype=np.int64)
    if len(medoids) < k:  # forward stopped early: every remaining scenario is a duplicate
        rest = np.setdiff1d(np.arange(nw), medoids)[: k - len(medoids)]
        medoids = np.concatenate([medoids, rest])
    # final exact assignment of every input scenario (zero-probability ones included)
    full_costs = costs if len(work) == n else _Costs(X, metric, p)
    med_in = work[medoids]
    Dm = full_costs.exact(med_in)
    assign = np.argmin(Dm, axis=1)
    assigned_cost = Dm[np.arange(n), assign]
    masses = np.bincount(assign, weights=probs, minlength=len(med_in))
    obj = float(probs @ assigned_cost)
    order_k = np.lexsort((med_in, -masses))
    rank = np.empty_like(order_k)
    rank[order_k] = np.arange(len(order_k))
    med_in, masses, assign = med_in[order_k], masses[order_k], rank[assign]
    Dm = Dm[:, order_k]
    distance = dist(obj)
    curve[len(med_in)] = min(curve.get(len(med_in), math.inf), distance)
    distance_exact = None
    if verify is None:
        verify = n <= VERIFY_MAX_N
    if verify:
        ex = _emd2(probs, masses, Dm)
        distance_exact = dist(ex)
        ok = abs(distance_exact - distance) <= VERIFY_RTOL * max(abs(distance), 1e-300)
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
        method=method,
        metric=metric,
        p=p,
        k=int(len(med_in)),
        distance=distance,
        seed=seed,
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


def reduction_curve(
    ss: ScenarioSet,
    ks: list[int] | range,
    *,
    method: str = "pam",
    metric: str = "euclidean",
    p: int = 1,
    seed: int = 0,
) -> dict[int, float]:
    """Distance reached for each K in ``ks`` (``{K: distance}`` [p.u.]).

    With ``method="forward"`` one greedy run gives every K at once.
    """
    ks = sorted({int(k) for k in ks})
    if method == "forward" and ks:
        res = reduce_scenarios(
            ss, max(ks), method="forward", metric=metric, p=p, seed=seed, verify=False
        )
        fc = res.info.get("curve_forward", {})
        return {k: float(fc[k]) for k in ks if k in fc}
    return {
        k: reduce_scenarios(
            ss, k, method=method, metric=metric, p=p, seed=seed, verify=False
        ).distance
        for k in ks
    }


def write_reduction(res: ReductionResult, out: str | Path, *, source: str | None = None) -> Path:
    """Write the reduced set as a scenario directory plus ``assignment.csv`` and
    ``reduction.json`` (atomically)."""
    from scengen.scenarios import write_scenarios

    if source is not None:
        res.info["source"] = source
        res.reduced.metadata["source"] = source
    return write_scenarios(
        res.reduced,
        out,
        extra_files={ASSIGNMENT_CSV: res.assignment_frame(), REDUCTION_JSON: res.summary()},
    )


def memory_bound(n: int, dim: int, k: int) -> int:
    """Upper estimate of the extra memory of :func:`reduce_scenarios` [bytes]."""
    data = 12 * n * dim + 8 * n * dim  # float64 + float32 copies, one float64 temporary block
    nk = 5 * 8 * n * k  # exact N x K costs, weights, copies
    blocks = 6 * BLOCK_BYTES
    full = 4 * min(n, FULL_MATRIX_MAX_N) ** 2 + 8 * min(n, RELAX_SAMPLE) * k * 4
    return int(data + nk + blocks + full)
