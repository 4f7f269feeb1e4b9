r"""Ground costs between scenarios and the swap state of k-medoids.

The cost of scenario :math:`x_i` to scenario :math:`x_j` is :math:`c(x_i, x_j)^q` with
:math:`c(x, y) = \lVert x - y \rVert_2` or :math:`\lVert x - y \rVert_1` over all sites and steps
[p.u.] and :math:`q \in \{1, 2\}`. :class:`_State` holds, for a medoid set
:math:`m_1..m_K`, every scenario's nearest and second-nearest medoid costs :math:`d1_i, d2_i`
and gives the exact change of :math:`J(m) = \sum_i p_i d1_i` for any swap.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import numpy as np

from scengen.reduce._options import ReduceOptions, block_rows
from scengen.stats import sq_distances, sq_norms


class _Costs:
    """Ground costs ``c(x_i, x_j) ** q`` between rows of ``X``, computed in blocks.

    ``block`` is float32 via BLAS (:func:`scengen.stats.sq_distances`, unrefined; data centred
    first, which keeps the Gram trick accurate); ``exact`` is float64 from differences.

    Parameters
    ----------
    X : numpy.ndarray
        ``(N, D)`` scenarios, one per row [p.u.].
    metric : {"euclidean", "cityblock"}
        Ground distance ``c``.
    power : {1, 2}
        Exponent ``q`` of the cost ``c ** q``.
    opts : ReduceOptions, optional
        Block size and candidate row cache (``block_bytes``, ``row_cache_*``).
    """

    def __init__(
        self, X: np.ndarray, metric: str, power: int, opts: ReduceOptions | None = None
    ) -> None:
        self.opts = ReduceOptions() if opts is None else opts
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.metric, self.power = metric, power
        self.n, self.dim = self.X.shape
        mean = self.X.mean(axis=0)
        self.Xf = np.empty(self.X.shape, np.float32)
        step = max(1, (16 * 2**20) // (8 * max(1, self.dim)))
        for a in range(0, self.n, step):  # centred float32 copy, without a float64 temporary
            np.subtract(self.X[a : a + step], mean, out=self.Xf[a : a + step], casting="unsafe")
        self.sq = sq_norms(self.Xf)
        self.sq64: np.ndarray | None = None
        #: row cache: candidate -> slot in ``_rows`` (least recently used first)
        self._slot: OrderedDict[int, int] = OrderedDict()
        self._rows: np.ndarray | None = None

    def block(self, rows: Any, cols: Any = None) -> np.ndarray:
        """float32 costs, shape ``(len(rows), len(cols))`` (``cols=None``: all scenarios)."""
        A = self.Xf[rows]
        B = self.Xf if cols is None else self.Xf[cols]
        if self.metric == "euclidean":
            b_sq = self.sq if cols is None else self.sq[cols]
            G = sq_distances(A, B, self.sq[rows], b_sq, refine=False)
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
        o = self.opts
        return self.dim >= o.row_cache_min_dim and o.row_cache_bytes // (4 * self.n) >= 2 * m

    def rows_to(self, C: np.ndarray, rows: Any = None) -> np.ndarray:
        """float32 costs of the candidates ``C`` to the scenarios ``rows`` (``None``: all), a
        new array; the costs of each candidate to all N scenarios are cached (at most
        ``opts.row_cache_bytes``, least recently used evicted) when
        ``D >= opts.row_cache_min_dim``."""
        if not self.caching(len(C)):
            return self.block(C, rows)
        cap = self.opts.row_cache_bytes // (4 * self.n)
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
        overwritten): ``|x_i|^2 + |x_c|^2 - 2 x_i . x_c``, clipped at 0, 0 on the diagonal.

        Not :func:`scengen.stats.sq_distances`: the products come from :meth:`column` (a
        matrix-vector product) or :meth:`columns`, and the norms are added in the other order
        (``x_i`` first); either change moves the last bits of about one cost in eight, and
        with them the swaps."""
        if self.sq64 is None:
            self.sq64 = sq_norms(self.X)
        d *= -2.0
        d += self.sq64[None, :]
        d += self.sq64[cols][:, None]
        np.maximum(d, 0.0, out=d)
        d[np.arange(len(cols)), cols] = 0.0
        return np.sqrt(d, out=d) if self.power == 1 else d

    def _from_diff(self, diff: np.ndarray) -> np.ndarray:
        """float64 costs of the rows of ``diff`` (differences of two scenarios)."""
        if self.metric == "euclidean":
            d = sq_norms(diff)
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


def _full_matrix(costs: _Costs) -> np.ndarray:
    """The float32 cost matrix ``(N, N)`` of all scenarios, 0 on the diagonal."""
    n = costs.n
    full = np.empty((n, n), np.float32)
    block = block_rows(n, costs.opts, cap=2048)
    for a in range(0, n, block):
        full[a : a + block] = costs.block(slice(a, a + block))
    np.fill_diagonal(full, 0.0)
    return full


# ----------------------------------------------------------------------------- swap state


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
