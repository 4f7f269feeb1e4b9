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
    Weighted k-medoids with eager swaps (FasterPAM, Schubert and Rousseeuw 2021), from several
    starts, keeping the best:

    * starts: greedy BUILD (= forward selection, small N only); the ``RELAX_KEEP`` best of
      ``RELAX_RESTARTS`` continuous relaxations (k-medians by Weiszfeld for ``p=1``, k-means for
      ``p=2``, IRLS for cityblock: free centres, k-means++ seeds, run on a sample of
      ``RELAX_SAMPLE`` scenarios and polished on all), each centre snapped to its nearest
      scenario; and, when each start is cheap, up to ``SHORT_STARTS`` k-means++ seeds with a
      few relaxation steps (diversity).
    * ``N <= FULL_MATRIX_MAX_N``: the whole float32 cost matrix is held and every scenario is
      a swap candidate, a block of candidates at a time with BLAS, until no swap improves
      (a PAM local optimum).
    * larger ``N``: no ``N x N`` matrix. Swaps are evaluated exactly against all ``N``
      scenarios, with the swap gain written as
      :math:`\Delta(c, j) = \sum_i p_i u_i + \sum_{i \in C_j} p_i (v_i - u_i)`,
      :math:`u_i = \min(c_i - d1_i, 0)`, :math:`v_i - u_i = \min((c_i - d1_i)^+, d2_i - d1_i)`
      (float32 blocks, one BLAS product per block, no cancellation). Candidates: the
      ``LOCAL_CANDIDATES`` members nearest each medoid, evaluated only on the scenarios whose
      cost they can lower (triangle inequality: :math:`d(i, m_j) - r < d1_i`) and the members
      of their cluster (the removal cost of the others' clusters counts in full: an upper
      bound on those swaps), or on all ``N`` from a cache of their costs when ``D >=
      ROW_CACHE_MIN_DIM`` (at most ``ROW_CACHE_BYTES``); when none of those improves, every
      scenario is screened on a sample of ``SCREEN_SAMPLE`` scenarios (blocks of
      ``SCREEN_BLOCK`` candidates shared among ``THREADS`` threads) and the ``SCREEN_TOP``
      most promising are evaluated exactly (one screening sample, and the costs to it, for the
      whole search). Stops when neither finds an improving swap, or at once when the local
      candidates reach a medoid set that the screening already found locally optimal. Then,
      when cheap enough (:func:`_n_perturb`), an iterated local search: ``PERTURB_STEPS``
      times ``PERTURB_SWAPS`` medoids of the best solution are swapped for scenarios drawn
      with probability :math:`p_i d1_i` and the swaps above run again; a better local
      optimum replaces the best.
    * the assignment of every scenario to its nearest and second-nearest medoid is updated
      after a swap from the new medoid's costs alone, except for the scenarios whose two
      nearest included the medoid swapped out.
``method="forward"``
    Heitsch-Römisch fast forward selection (greedy; lazy evaluation, exact because the gain is
    submodular). It gives the whole curve distance(K) in one run. Beyond
    ``FORWARD_MAX_PAIRS`` (scenario, candidate) pairs the candidates are a random sample
    (all ``N`` scenarios still count in the distance).

Scale: every cost block is at most ``BLOCK_BYTES``; see :func:`memory_bound`. Identical
scenarios are merged first (rows hashed, then compared exactly) and zero-probability ones set
aside. BLAS runs on ``BLAS_THREADS`` thread(s); the screening and the relaxation restarts run
in ``THREADS`` Python threads (numpy and BLAS release the GIL), split so that the result does
not depend on the number of threads. Every random choice comes from one generator seeded with
``seed`` (each relaxation restart from its own generator, seeded from it in order).

The reported distance is always recomputed in float64 from the chosen medoids (each scenario
to its nearest medoid from differences; the nearest found from the Gram form, and from
differences where two medoids are within 1e-6), and for
``N <= VERIFY_MAX_N`` checked against an exact optimal-transport solve (POT ``ot.emd2``).
"""

from __future__ import annotations

import copy
import heapq
import math
import os
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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
#: scenarios on which the swaps of every candidate are estimated (screening) for larger N
SCREEN_SAMPLE = 1000
#: candidates kept by the screening and evaluated exactly
SCREEN_TOP = 256
#: the candidate-to-sample costs of the screening are kept when they fit in this
SCREEN_CACHE_BYTES = 512 * 2**20
#: candidates per block of the screening (small: the block stays in the CPU cache)
SCREEN_BLOCK = 128
#: fresh screening samples tried once no screened swap improves
SCREEN_RESAMPLE = 0
#: BLAS threads used by the reduction: one keeps the many small products fast when other
#: processes share the cores, and the results independent of the thread count
BLAS_THREADS = 1
#: Python threads that screen blocks of candidates and run the relaxation restarts in
#: parallel (numpy and BLAS release the GIL; each runs BLAS on BLAS_THREADS): every block and
#: restart is computed the same way whatever the count, so the result does not depend on it
THREADS = min(2, os.cpu_count() or 1)
#: costs of the local swap candidates to all N scenarios are kept (least recently used first
#: out) in at most this many bytes, when D >= ROW_CACHE_MIN_DIM (below, recomputing is cheaper)
ROW_CACHE_BYTES = 128 * 2**20
ROW_CACHE_MIN_DIM = 64
#: smallest relative improvement for which a swap is made
SWAP_TOL = 1e-6
#: iterations of each continuous relaxation
RELAX_ITER = 50
#: further starts: k-means++ seeds with a few relaxation iterations (diversity), at most
#: SHORT_STARTS of them and fewer when each is costly (N * D * K > SHORT_WORK / starts)
SHORT_STARTS = 8
SHORT_ITER = 3
SHORT_WORK = 6 * 10**7
#: perturbation steps (iterated local search from the best solution) for larger N: at most
#: PERTURB_STEPS, fewer when each is costly (N * (D + K) > PERTURB_WORK / steps)
PERTURB_STEPS = 8
PERTURB_WORK = 6 * 10**6
#: medoids swapped at random in each perturbation step (one is mostly undone by the descent)
PERTURB_SWAPS = 2
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
        mean = self.X.mean(axis=0)
        self.Xf = np.empty(self.X.shape, np.float32)
        step = max(1, (16 * 2**20) // (8 * max(1, self.dim)))
        for a in range(0, self.n, step):  # centred float32 copy, without a float64 temporary
            np.subtract(self.X[a : a + step], mean, out=self.Xf[a : a + step], casting="unsafe")
        self.sq = np.einsum("ij,ij->i", self.Xf, self.Xf)
        self.sq64: np.ndarray | None = None
        #: row cache: candidate -> slot in ``_rows`` (least recently used first)
        self._slot: OrderedDict[int, int] = OrderedDict()
        self._rows: np.ndarray | None = None

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

    def caching(self, m: int) -> bool:
        """Whether :meth:`rows_to` keeps the costs of blocks of ``m`` candidates."""
        return self.dim >= ROW_CACHE_MIN_DIM and ROW_CACHE_BYTES // (4 * self.n) >= 2 * m

    def rows_to(self, C: np.ndarray, rows: Any = None) -> np.ndarray:
        """float32 costs of the candidates ``C`` to the scenarios ``rows`` (``None``: all), a
        new array; the costs of each candidate to all N scenarios are cached (at most
        ``ROW_CACHE_BYTES``, least recently used evicted) when ``D >= ROW_CACHE_MIN_DIM``."""
        if not self.caching(len(C)):
            return self.block(C, rows)
        cap = ROW_CACHE_BYTES // (4 * self.n)
        if self._rows is None:
            self._rows = np.empty((cap, self.n), np.float32)
        slots = np.empty(len(C), np.int64)
        miss = []
        for b, c in enumerate(C.tolist()):
            slot = self._slot.get(c)
            if slot is None:
                miss.append(b)
            else:
                self._slot.move_to_end(c)
                slots[b] = slot
        if miss:
            for b in miss:
                if len(self._slot) < cap:
                    slot = len(self._slot)
                else:  # the oldest entry: not one of C (those were just moved to the end)
                    slot = self._slot.popitem(last=False)[1]
                self._slot[int(C[b])] = slot
                slots[b] = slot
            M = C[miss]
            R = self.block(M)
            R[np.arange(len(M)), M] = 0.0
            self._rows[slots[miss]] = R
        out = self._rows[slots]
        return out if rows is None else out[:, rows]

    def column(self, c: int) -> np.ndarray:
        """float64 costs of every scenario to scenario ``c`` (Gram form for the Euclidean
        metric: about 1e-7 absolute error at worst, used while optimising; the reported
        distance comes from :meth:`exact`)."""
        if self.metric != "euclidean":
            return self.exact(np.array([c]))[:, 0]
        return self._gram_costs((self.X @ self.X[c])[None, :], np.array([c]))[0]

    def columns(self, cols: np.ndarray) -> np.ndarray:
        """float64 costs of every scenario to each scenario of ``cols``, shape
        ``(len(cols), N)`` (as :meth:`column`, with one BLAS product)."""
        cols = np.asarray(cols, dtype=np.int64)
        if self.metric != "euclidean":
            return np.ascontiguousarray(self.exact(cols).T)
        return self._gram_costs(self.X[cols] @ self.X.T, cols)

    def _gram_costs(self, d: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Euclidean costs ``(len(cols), N)`` from the products ``d = X[cols] @ X.T`` (float64,
        overwritten): ``|x_i|^2 + |x_c|^2 - 2 x_i . x_c``, clipped at 0, 0 on the diagonal."""
        if self.sq64 is None:
            self.sq64 = np.einsum("ij,ij->i", self.X, self.X)
        d *= -2.0
        d += self.sq64[None, :]
        d += self.sq64[cols][:, None]
        np.maximum(d, 0.0, out=d)
        d[np.arange(len(cols)), cols] = 0.0
        return np.sqrt(d, out=d) if self.power == 1 else d

    def _from_diff(self, diff: np.ndarray) -> np.ndarray:
        """float64 costs of the rows of ``diff`` (differences of two scenarios)."""
        if self.metric == "euclidean":
            d = np.einsum("ij,ij->i", diff, diff)
            return np.sqrt(d) if self.power == 1 else d
        d = np.abs(diff).sum(axis=1)
        return d if self.power == 1 else d * d

    def assign(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest of the scenarios ``cols`` to every scenario (position in ``cols``) and the
        float64 cost to it from differences, as from :meth:`exact` but computing the costs
        to all of ``cols`` exactly only where the Gram form leaves the nearest in doubt."""
        G = self.columns(cols)
        assign = np.argmin(G, axis=0)
        if len(cols) > 1 and self.metric == "euclidean":
            two = np.partition(G, 1, axis=0)[:2]
            doubt = np.flatnonzero(two[1] - two[0] <= 1e-6 * (1.0 + two[0]))
            if len(doubt):
                assign[doubt] = np.argmin(self.exact(cols, rows=doubt), axis=1)
        cost = np.empty(self.n)
        step = max(1, (32 * 2**20) // (8 * self.dim))
        for a in range(0, self.n, step):
            cost[a : a + step] = self._from_diff(
                self.X[a : a + step] - self.X[cols[assign[a : a + step]]]
            )
        return assign, cost

    def exact(self, cols: np.ndarray, rows: Any = None) -> np.ndarray:
        """float64 costs from differences, shape ``(n_rows, len(cols))``."""
        X = self.X if rows is None else self.X[rows]
        out = np.empty((X.shape[0], len(cols)))
        step = max(1, (32 * 2**20) // (8 * self.dim))
        for a in range(0, X.shape[0], step):
            A = X[a : a + step]
            for j, c in enumerate(cols):
                out[a : a + step, j] = self._from_diff(A - self.X[c])
        return out


def _block_rows(n_cols: int, cap: int = 512) -> int:
    return int(max(8, min(cap, BLOCK_BYTES // (4 * max(1, n_cols)))))


# ----------------------------------------------------------------------------- swap engine


class _State:
    """Assignment of every scenario to its nearest medoid, with the second-nearest cost.

    ``Dm`` holds the costs of every scenario to each medoid, shape ``(K, N)`` (float64, Gram
    form: see :meth:`_Costs.column`); a swap updates the nearest and second-nearest medoids
    of the scenarios whose two nearest did not include the medoid swapped out from the new
    column alone, and recomputes the others.
    """

    def __init__(self, costs: _Costs, p: np.ndarray, medoids: np.ndarray) -> None:
        self.costs, self.p = costs, p
        self.pf = p.astype(np.float32)
        self.medoids = np.array(medoids, dtype=np.int64)
        self.Dm = costs.columns(self.medoids)  # (K, N) float64
        self.is_med = np.zeros(costs.n, bool)
        self.is_med[self.medoids] = True
        self.n_swaps = 0
        #: clusters whose local candidates were found not to improve, with the scenarios
        #: their gains depended on
        self.clean: dict[int, np.ndarray] = {}
        self._update()

    def _top2(self, idx: Any) -> tuple:
        """Nearest and second-nearest medoids and their costs for the scenarios ``idx``."""
        sub = self.Dm[:, idx]
        part = np.argpartition(sub, 1, axis=0)[:2]
        cols = np.arange(sub.shape[1])
        a, b = sub[part[0], cols], sub[part[1], cols]
        swap = b < a
        return (
            np.where(swap, part[1], part[0]),
            np.where(swap, part[0], part[1]),
            np.minimum(a, b),
            np.maximum(a, b),
        )

    def _update(self, j: int | None = None) -> None:
        """Recompute the assignment (all of it, or after column ``j`` of ``Dm`` changed)."""
        k, n = self.Dm.shape
        if k == 1:
            self.nearest = self.second = np.zeros(n, np.int64)
            self.d1, self.d2 = self.Dm[0].copy(), np.full(n, np.inf)
        elif j is None:
            self.nearest, self.second, self.d1, self.d2 = self._top2(slice(None))
        else:  # new arrays: try_swap keeps the old ones to restore them
            col = self.Dm[j]
            nearest, second = self.nearest.copy(), self.second.copy()
            d1, d2 = self.d1.copy(), self.d2.copy()
            aff = (nearest == j) | (second == j)
            lt1 = col < d1
            lt1 &= ~aff
            lt2 = col < d2
            lt2 &= ~aff
            lt2 &= ~lt1
            second[lt1], d2[lt1] = nearest[lt1], d1[lt1]
            nearest[lt1], d1[lt1] = j, col[lt1]
            second[lt2], d2[lt2] = j, col[lt2]
            idx = np.flatnonzero(aff)
            if len(idx):
                nearest[idx], second[idx], d1[idx], d2[idx] = self._top2(idx)
            self.nearest, self.second, self.d1, self.d2 = nearest, second, d1, d2
        self.obj = float(self.p @ self.d1)
        self.d1f = self.d1.astype(np.float32)
        self.d2f = np.minimum(self.d2, np.finfo(np.float32).max).astype(np.float32)
        self.gf = self.d2f - self.d1f
        W = np.zeros((n, k), np.float32)
        W[np.arange(n), self.nearest] = self.pf
        self.W = W
        self.pg = self.p * (self.d2 - self.d1) if k > 1 else np.zeros(n)
        self.L = np.bincount(self.nearest, weights=self.pg, minlength=k)
        self._sample_key = None

    def gains(
        self,
        C: np.ndarray,
        Dc: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        r"""Change of the objective, shape ``(len(C), K)``, when medoid j is swapped for C[b].

        With :math:`u_i = \min(c_i - d1_i, 0)` (the change of scenario i's cost when c is added)
        and :math:`v_i = \min(c_i - d1_i, d2_i - d1_i)` (the same when, in addition, its
        nearest medoid j is removed):

        .. math:: \Delta(c, j) = \sum_{i \notin C_j} p_i u_i + \sum_{i \in C_j} p_i v_i

        :math:`= \sum_i p_i u_i + \sum_{i \in C_j} p_i (v_i - u_i)` (four passes over the
        costs and one BLAS product, no cancellation). ``Dc`` (float32, ``(len(C), N)``) holds
        the costs of the candidates to every scenario, or to the scenarios ``rows`` only; then
        the scenarios of :math:`C_j` left out count with :math:`v_i = d2_i - d1_i` and the
        result is exact when ``rows`` holds every scenario whose cost can change (:math:`c_i < d2_i`), otherwise exact for the columns j
        whose cluster's scenarios with :math:`c_i < d2_i` are in ``rows`` and an upper bound
        for the others (the terms left out are negative). ``Dc`` is overwritten.
        """
        corr = None
        if rows is None:
            d1f, gf, W, pf = self.d1f, self.gf, self.W, self.pf
            pos = C
        else:
            d1f, gf, W, pf = self.d1f[rows], self.gf[rows], self.W[rows], self.pf[rows]
            k = W.shape[1]
            corr = self.L - np.bincount(self.nearest[rows], weights=self.pg[rows], minlength=k)
            pos = np.minimum(np.searchsorted(rows, C), len(rows) - 1)
            pos = np.where(rows[pos] == C, pos, -1)
        hit = pos >= 0
        Dc[np.flatnonzero(hit), pos[hit]] = 0.0  # exact self-cost
        if W.shape[1] == 1:
            return ((Dc @ pf).astype(np.float64) - float(pf @ d1f))[:, None]
        np.subtract(Dc, d1f[None, :], out=Dc)
        U = np.minimum(Dc, 0.0)
        np.maximum(Dc, 0.0, out=Dc)
        np.minimum(Dc, gf[None, :], out=Dc)  # v_i - u_i
        G = (Dc @ W).astype(np.float64)
        G += (U @ pf)[:, None]
        if corr is not None:
            G += corr[None, :]
        return G

    def _sample(self, rows: np.ndarray):
        if self._sample_key != (id(rows), self.n_swaps, tuple(self.medoids)):
            w = self.p[rows] / self.p[rows].sum()
            W = np.zeros((len(rows), self.W.shape[1]), np.float32)
            W[np.arange(len(rows)), self.nearest[rows]] = w
            self._sample_cache = (self.d1f[rows], self.d2f[rows], W, w.astype(np.float32))
            self._sample_key = (id(rows), self.n_swaps, tuple(self.medoids))
            pos = np.full(self.costs.n, -1, np.int64)
            pos[rows] = np.arange(len(rows))
            self._pos_in_sample = pos
        return self._sample_cache

    def _screen_weights(self, rows: np.ndarray) -> tuple:
        """Sample quantities of :func:`_screen`: ``d1`` and ``d2 - d1`` on ``rows`` (float32),
        the weights ``W`` (``(len(rows), K)``) and ``w`` and ``sum_i w_i d1_i``."""
        d1f, d2f, W, wf = self._sample(rows)
        const = float(wf.astype(np.float64) @ d1f.astype(np.float64))
        return d1f, d2f - d1f, W, wf, const

    def clone(self) -> _State:
        """An independent copy (the arrays that swaps modify in place are copied)."""
        new = copy.copy(self)
        new.Dm, new.medoids, new.is_med = self.Dm.copy(), self.medoids.copy(), self.is_med.copy()
        new.clean = dict(self.clean)
        return new

    def _set(self, j: int, c: int) -> tuple:
        old = (self.d1, self.d2, self.nearest)
        self.Dm[j] = self.costs.column(c)
        self.medoids[j] = c
        self._update(j)
        return old

    def _commit(self, j: int, old_m: int, old: tuple) -> None:
        self.is_med[old_m], self.is_med[self.medoids[j]] = False, True
        self.n_swaps += 1
        if self.clean:  # clusters whose candidates must be evaluated again
            changed = (old[0] != self.d1) | (old[1] != self.d2) | (old[2] != self.nearest)
            for jj in list(self.clean):
                if jj == j or changed[self.clean[jj]].any():
                    del self.clean[jj]

    def swap(self, j: int, c: int) -> None:
        """Swap medoid ``j`` for scenario ``c`` whatever the objective becomes."""
        old_m = int(self.medoids[j])
        self._commit(j, old_m, self._set(j, c))

    _DERIVED = (
        *("nearest", "second", "d1", "d2", "obj", "d1f", "d2f", "gf", "W", "pg", "L"),
        "_sample_key",
    )

    def try_swap(self, j: int, c: int) -> bool:
        """Swap medoid ``j`` for scenario ``c`` if that lowers the exact objective."""
        old_col, old_obj, old_m = self.Dm[j].copy(), self.obj, int(self.medoids[j])
        saved = {a: getattr(self, a) for a in self._DERIVED}
        old = self._set(j, c)
        if self.obj < old_obj * (1.0 - 1e-12) - 1e-300:
            self._commit(j, old_m, old)
            return True
        self.Dm[j], self.medoids[j] = old_col, old_m
        self.__dict__.update(saved)  # _update builds new arrays: the old ones are intact
        return False


def _swap_pass(state: _State, cand: np.ndarray, block: int, full: np.ndarray | None) -> bool:
    """One eager pass over candidate scenarios ``cand``; True when a swap was made."""
    improved = False
    for a in range(0, len(cand), block):
        C = cand[a : a + block]
        C = C[~state.is_med[C]]
        if len(C) == 0:
            continue
        Dc = full[C] if full is not None else state.costs.rows_to(C)
        G = state.gains(C, Dc)
        b, j = np.unravel_index(int(np.argmin(G)), G.shape)
        if G[b, j] < -SWAP_TOL * state.obj and state.try_swap(int(j), int(C[b])):
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


def _local_pass(state: _State, m: int) -> bool:
    """Eager swaps of each medoid for the ``m`` members of its cluster nearest to it.

    A candidate c within distance r of medoid j cannot change the cost of a scenario i with
    ``d(i, m_j) - r >= d2_i`` (triangle inequality), so each cluster's candidates are
    evaluated exactly on the other scenarios only.
    """
    improved = False
    root = np.sqrt if state.costs.power == 2 else (lambda x: x)
    for j in range(len(state.medoids)):
        if j in state.clean:
            continue
        members = np.flatnonzero(state.nearest == j)
        members = members[~state.is_med[members]]
        if len(members) == 0:
            continue
        d = state.Dm[j, members]
        if len(members) > m:
            sel = np.argpartition(d, m - 1)[:m]
            members, d = members[sel], d[sel]
        r = float(root(d.max()))
        reach = root(state.Dm[j]) - r < root(state.d1) * (1 + 1e-5) + 1e-9
        reach |= state.nearest == j
        rows = np.flatnonzero(reach)
        C = np.sort(members)
        if state.costs.caching(len(C)):  # all N from the cache: no gathering
            G = state.gains(C, state.costs.rows_to(C))
        else:
            G = state.gains(C, state.costs.block(C, rows), rows=rows)
        b, jj = np.unravel_index(int(np.argmin(G)), G.shape)
        if G[b, jj] < -SWAP_TOL * state.obj and state.try_swap(int(jj), int(C[b])):
            improved = True
        else:
            state.clean[j] = rows
    return improved


def _screen(state: _State, rows: np.ndarray, top: int, cache: dict) -> np.ndarray:
    r"""The ``top`` candidates (all scenarios but the medoids) whose best swap looks most
    improving, estimated from the scenarios ``rows`` only.

    With the sample weights :math:`w_i` (renormalised) the estimate is
    :math:`\sum_{i \notin C_j} w_i \min(c_i, d1_i) + \sum_{i \in C_j} w_i \min(c_i, d2_i)
    - \sum_i w_i d1_i = \sum_i w_i c_i - \sum_i w_i t_i + \sum_{i \in C_j} w_i \min(t_i, d2_i
    - d1_i) - \sum_i w_i d1_i` with :math:`t_i = (c_i - d1_i)^+` (:math:`\sum_i w_i c_i` kept
    with the costs): three passes over each block of costs and two BLAS products. Blocks of
    candidates are shared among ``THREADS`` threads, each block computed the same way. The
    candidate-to-sample costs do not depend on the medoids; they are kept in ``cache`` when
    they fit in ``SCREEN_CACHE_BYTES``.
    """
    n, s = state.costs.n, len(rows)
    block = SCREEN_BLOCK
    starts = list(range(0, n, block))
    keep = 4 * n * s <= SCREEN_CACHE_BYTES
    d1s, gs, W, w, const = state._screen_weights(rows)
    pos = state._pos_in_sample
    best = np.empty(n)

    def costs_of(a: int) -> np.ndarray:
        C = np.arange(a, min(n, a + block))
        Dc = state.costs.block(C, rows)
        hit = np.flatnonzero(pos[C] >= 0)
        Dc[hit, pos[C[hit]]] = 0.0  # exact self-cost
        return Dc

    def build(t: int) -> None:
        for a in starts[t::THREADS]:
            cache["costs"][a : a + block] = costs_of(a)

    def work(t: int) -> None:
        buf = np.empty((block, s), np.float32)
        for a in starts[t::THREADS]:
            Dc = cache["costs"][a : a + block] if keep else costs_of(a)
            cw = cache["cw"][a : a + block] if keep else Dc @ w
            T = buf[: len(Dc)]
            np.subtract(Dc, d1s[None, :], out=T)
            np.maximum(T, 0.0, out=T)
            cw = cw - T @ w  # sum_i w_i min(c_i, d1_i)
            np.minimum(T, gs[None, :], out=T)  # min(c_i, d2_i) - min(c_i, d1_i)
            best[a : a + len(Dc)] = (T @ W).min(axis=1) + cw

    def run(f: Any) -> None:
        if THREADS <= 1 or len(starts) == 1:
            f(0)
            return
        with ThreadPoolExecutor(THREADS) as ex:
            for r in [ex.submit(f, t) for t in range(THREADS)]:
                r.result()

    if keep and "costs" not in cache:
        cache["costs"] = np.empty((n, s), np.float32)
        run(build)
        cache["cw"] = cache["costs"] @ w  # the sample weights do not change either
    run(work)
    best -= const
    best[state.is_med] = np.inf
    top = min(top, n - len(state.medoids))
    cand = np.argpartition(best, top - 1)[:top]
    cand = cand[best[cand] < 0]
    return cand[np.argsort(best[cand], kind="stable")]


def _screen_sample(n: int, rng: np.random.Generator) -> dict:
    """A random screening sample of ``SCREEN_SAMPLE`` scenarios and the cache of its costs
    (shared by every start and perturbation of one search)."""
    return {"rows": np.sort(rng.choice(n, size=min(n, SCREEN_SAMPLE), replace=False))}


def _refine_full_set(
    state: _State,
    m: int,
    rng: np.random.Generator,
    max_rounds: int = 200,
    screen: dict | None = None,
) -> int:
    """Eager swaps on all N scenarios until none improves among the candidates.

    Candidates: the ``m`` scenarios nearest each medoid (one block per cluster); when none of
    those improves, the ``SCREEN_TOP`` scenarios whose swaps look best when estimated on a
    random sample of ``SCREEN_SAMPLE`` scenarios (every scenario is screened), all evaluated
    exactly on the N scenarios. ``screen`` (from :func:`_screen_sample`) is that sample.
    """
    n = state.costs.n
    cache = _screen_sample(n, rng) if screen is None else screen
    rounds = resamples = 0
    while rounds < max_rounds:
        rounds += 1
        if m > 0 and _local_pass(state, m):
            continue
        # a medoid set that this screening sample already found locally optimal stays so
        key = frozenset(state.medoids.tolist())
        optima = cache.setdefault("optima", set())
        if key in optima:
            break
        cand = _screen(state, cache["rows"], SCREEN_TOP, cache)
        if len(cand) == 0 or not _swap_pass(state, cand, 64, None):
            optima.add(key)
            if resamples >= SCREEN_RESAMPLE or len(cache["rows"]) == n:
                break
            resamples += 1  # a fresh sample before giving up
            cache = _screen_sample(n, rng)
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
) -> list[tuple[str, np.ndarray]]:
    """Starting medoid sets from continuous relaxations (free centres, each snapped to its
    nearest scenario): the ``RELAX_KEEP`` best of ``RELAX_RESTARTS`` relaxations run to
    convergence (restarted on a sample, polished on all scenarios), and ``SHORT_STARTS``
    k-means++ seeds given ``SHORT_ITER`` iterations only, for diversity."""
    n = costs.n
    X = costs.Xf
    if n > RELAX_SAMPLE:
        sub = np.sort(rng.choice(n, size=RELAX_SAMPLE, replace=False))
        Xs, ps = X[sub], p[sub] / p[sub].sum()
    else:
        Xs, ps = X, p

    def restart(seed: int) -> tuple[float, np.ndarray]:
        C0 = _kpp(Xs, ps, k, np.random.default_rng(seed), costs.metric, costs.power)
        C, obj, _ = _relax(Xs, ps, C0, costs.metric, costs.power, max_iter=RELAX_ITER)
        return obj, C

    # one generator per restart, drawn in order: the restarts run in THREADS threads and give
    # the same result whatever their number
    seeds = rng.integers(2**63, size=RELAX_RESTARTS).tolist()
    if THREADS > 1 and RELAX_RESTARTS > 1:
        with ThreadPoolExecutor(THREADS) as ex:
            runs = list(ex.map(restart, seeds))
    else:
        runs = [restart(sd) for sd in seeds]
    runs.sort(key=lambda r: r[0])
    chosen = [("relax", C, RELAX_ITER) for _, C in runs[:RELAX_KEEP]]
    n_short = int(min(SHORT_STARTS, SHORT_WORK // max(1, n * costs.dim * k)))
    for _ in range(n_short):
        chosen.append(("short", _kpp(X, p, k, rng, costs.metric, costs.power), SHORT_ITER))
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
        med: list[int] = []
        for j in range(k):
            near = np.argpartition(D[:, j], min(k, len(D) - 1))[: k + 1]
            order = near[np.lexsort((near, D[near, j]))]
            med.append(int(next(i for i in order if i not in med)))
        starts.append((name, np.asarray(med)))
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
    if RELAX_RESTARTS > 0 or not starts:
        t0 = time.perf_counter()
        starts += _continuous_starts(costs, p, k, rng, info)
        info["relax"]["seconds"] = time.perf_counter() - t0
    best: _State | None = None
    seen = set()
    screen = _screen_sample(n, rng) if full is None else None

    def descend(state: _State) -> int:
        if full is not None:
            return _swaps_full(state, full, rng.permutation(n), max_passes=100)
        return _refine_full_set(state, LOCAL_CANDIDATES, rng, screen=screen)

    for name, med in starts:
        key = tuple(sorted(int(i) for i in med))
        if key in seen:
            continue
        seen.add(key)
        t0 = time.perf_counter()
        state = _State(costs, p, med)
        rounds = descend(state)
        info.setdefault("starts", []).append(
            {
                "init": name,
                "rounds": rounds,
                "swaps": state.n_swaps,
                "objective": state.obj,
                "seconds": time.perf_counter() - t0,
            }
        )
        if best is None or state.obj < best.obj:
            best = state
    assert best is not None
    n_perturb = _n_perturb(n, costs.dim, k) if full is None else 0
    if n_perturb and k < n:
        t0 = time.perf_counter()
        best, accepted = _perturb(best, p, rng, n_perturb, descend)
        info["perturb"] = {
            "steps": n_perturb,
            "accepted": accepted,
            "objective": best.obj,
            "seconds": time.perf_counter() - t0,
        }
    info["strategy"] = "full matrix" if full is not None else "full-set swaps, local candidates"
    return best


def _n_perturb(n: int, dim: int, k: int) -> int:
    """Number of perturbation steps for a problem of this size (``PERTURB_STEPS`` when cheap,
    fewer as ``N (D + K)`` grows beyond ``PERTURB_WORK / PERTURB_STEPS``)."""
    return int(min(PERTURB_STEPS, PERTURB_WORK // max(1, n * (dim + k))))


def _perturb(
    best: _State, p: np.ndarray, rng: np.random.Generator, steps: int, descend: Any
) -> tuple[_State, int]:
    """Iterated local search: ``steps`` times, swap ``PERTURB_SWAPS`` random medoids of the
    best solution for scenarios drawn with probability ``p_i * d1_i`` (k-means++ style),
    descend to a local optimum and keep it when it is better. Returns the best state and the
    number kept."""
    n, k = best.costs.n, len(best.medoids)
    accepted = 0
    for _ in range(steps):
        state = best.clone()
        for _ in range(PERTURB_SWAPS):
            w = p * state.d1
            w[state.is_med] = 0.0
            tot = w.sum()
            if not tot > 0:
                return best, accepted
            state.swap(int(rng.integers(k)), int(rng.choice(n, p=w / tot)))
        descend(state)
        if state.obj < best.obj * (1.0 - 1e-12):
            best, accepted = state, accepted + 1
    return best, accepted


def _full_matrix(costs: _Costs) -> np.ndarray:
    n = costs.n
    full = np.empty((n, n), np.float32)
    block = _block_rows(n, cap=2048)
    for a in range(0, n, block):
        full[a : a + block] = costs.block(slice(a, a + block))
    np.fill_diagonal(full, 0.0)
    return full


# ----------------------------------------------------------------------------- public API


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


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ScengenError(f"{name} = {value!r} is not allowed; choose one of {list(allowed)}")


def check_options(
    k: int | None = None,
    max_distance: float | str | None = None,
    method: str = "pam",
    metric: str = "euclidean",
    p: int = 1,
) -> None:
    """Raise :class:`ScengenError` for options that no input can make valid (checked before
    any data is read)."""
    _check_choice("method", method, METHODS)
    _check_choice("metric", metric, METRICS)
    _check_choice("p", p, POWERS)
    if (k is None) == (max_distance is None):
        raise ScengenError("give exactly one of k (number of scenarios) and max_distance")
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer))):
        raise ScengenError(f"k = {k!r} must be an integer")
    if k is not None and k <= 0:
        raise ScengenError(f"k = {k} is not allowed; it must be at least 1")
    if max_distance is not None:
        parse_max_distance(max_distance)


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
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        import contextlib

        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(BLAS_THREADS)
    with limits:
        return _reduce(ss, k, max_distance, method, metric, p, seed, verify)


def _reduce(
    ss: ScenarioSet,
    k: int | None,
    max_distance: float | str | None,
    method: str,
    metric: str,
    p: int,
    seed: int,
    verify: bool | None,
) -> ReductionResult:
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
    elif n < 2:
        raise ScengenError(f"cannot reduce a set of {n} scenario; it needs at least 2")
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
    costs = _Costs(X if nw == n else X[work], metric, p)
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
            # PAM at the forward K reaches D (PAM starts from the forward medoids); then a
            # galloping and binary search for the smallest K whose PAM distance reaches D
            runs: dict[int, _State] = {}

            def reaches(kk: int) -> bool:
                st_info: dict[str, Any] = {}
                state = _pam(
                    costs, pw, kk, rng, init=np.asarray(order[:kk]), full=full, info=st_info
                )
                runs[kk] = state
                algo.setdefault("pam_runs", {})[kk] = st_info
                curve[kk] = min(curve.get(kk, math.inf), dist(state.obj))
                return dist(state.obj) <= d_abs * (1 + 1e-12)

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
            best_k, best_state = good, runs[good]
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
    full_costs = costs if nw == n else _Costs(X, metric, p)
    med_in = work[medoids]
    if verify is None:
        verify = n <= VERIFY_MAX_N
    if verify:
        Dm = full_costs.exact(med_in)
        assign = np.argmin(Dm, axis=1)
        assigned_cost = Dm[np.arange(n), assign]
    else:
        assign, assigned_cost = full_costs.assign(med_in)
    masses = np.bincount(assign, weights=probs, minlength=len(med_in))
    obj = float(probs @ assigned_cost)
    order_k = np.lexsort((med_in, -masses))
    rank = np.empty_like(order_k)
    rank[order_k] = np.arange(len(order_k))
    med_in, masses, assign = med_in[order_k], masses[order_k], rank[assign]
    distance = dist(obj)
    curve[len(med_in)] = min(curve.get(len(med_in), math.inf), distance)
    distance_exact = None
    if verify:
        ex = _emd2(probs, masses, Dm[:, order_k])
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


def reduce_with_config(ss: ScenarioSet, config: ReduceConfig, *, seed: int = 0) -> ReductionResult:
    """:func:`reduce_scenarios` with the settings of a ``reduce`` config section.

    The one place where a config becomes a reduction, shared by ``scengen reduce`` and
    ``scengen run``. ``config.normalize`` applies when the input is read, not here.

    Parameters
    ----------
    ss : ScenarioSet
        Input scenarios with probabilities.
    config : ReduceConfig
        Exactly one of ``k`` and ``max_distance``, method, metric, p; ``config.seed``, when
        set, takes precedence over ``seed``.
    seed : int, default 0
        Seed of the entry point (the job's or the command's).

    Returns
    -------
    ReductionResult
    """
    return reduce_scenarios(
        ss,
        config.k,
        max_distance=config.max_distance,
        method=config.method,
        metric=config.metric,
        p=config.p,
        seed=seed if config.seed is None else config.seed,
    )


def write_reduction(
    res: ReductionResult,
    out: str | Path,
    *,
    source: str | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write the reduced set as a scenario directory plus ``assignment.csv`` and
    ``reduction.json`` (atomically; ``overwrite`` and ``inputs`` as in
    :func:`scengen.scenarios.write_scenarios`)."""
    from scengen.scenarios import write_scenarios

    if source is not None:
        res.info["source"] = source
        res.reduced.metadata["source"] = source
    return write_scenarios(
        res.reduced,
        out,
        extra_files={ASSIGNMENT_CSV: res.assignment_frame(), REDUCTION_JSON: res.summary()},
        overwrite=overwrite,
        inputs=inputs,
    )


def memory_bound(n: int, dim: int, k: int) -> int:
    """Estimate of the memory :func:`reduce_scenarios` needs beyond its input [bytes].

    ``4 N D`` (centred float32 copy of the data) + ``64 N K`` (the K x N costs to the medoids,
    assignment, weights, a second state during the perturbations and their temporaries) + the
    full float32 cost matrix up to ``FULL_MATRIX_MAX_N`` + beyond it the screening cache (at
    most ``SCREEN_CACHE_BYTES``) and, for ``D >= ROW_CACHE_MIN_DIM``, the cache of the local
    candidates' costs (at most ``ROW_CACHE_BYTES``) + two blocks of ``BLOCK_BYTES`` + the
    relaxation sample.
    """
    data = 4 * n * dim
    nk = 64 * n * k
    full = 4 * min(n, FULL_MATRIX_MAX_N) ** 2 if n <= FULL_MATRIX_MAX_N else 0
    screen = min(SCREEN_CACHE_BYTES, 4 * n * SCREEN_SAMPLE) if n > FULL_MATRIX_MAX_N else 0
    rows = ROW_CACHE_BYTES if n > FULL_MATRIX_MAX_N and dim >= ROW_CACHE_MIN_DIM else 0
    relax = 4 * min(n, RELAX_SAMPLE) * (dim + 8 * k)
    return int(data + nk + full + screen + rows + 2 * BLOCK_BYTES + relax)
