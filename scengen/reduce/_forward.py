r"""Heitsch-Römisch fast forward selection.

Greedily adds the scenario :math:`u` of largest gain

.. math::

    g(u) = \sum_i p_i \, \bigl(J_i - c(x_i, x_u)^q\bigr)^+, \qquad
    J_i = \min_{m \in S} c(x_i, x_m)^q,

to the selected set :math:`S` (Heitsch and Römisch 2003). The gain is submodular (it only
decreases as :math:`S` grows), so stale gains are upper bounds and the evaluation is lazy
(a max-heap, re-evaluating only the top entries) and still exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np

from scengen.reduce._costs import _Costs
from scengen.reduce._options import block_rows


def _forward_first(
    costs: _Costs,
    p: np.ndarray,
    cand: np.ndarray,
    rows: Callable[[np.ndarray], np.ndarray],
    block: int,
) -> int:
    """The best single scenario among ``cand`` (the 1-medoid): total float32 cost of each
    candidate, the eight lowest compared in float64."""
    pf = p.astype(np.float32)
    total = np.empty(len(cand))
    for a in range(0, len(cand), block):
        C = cand[a : a + block]
        total[a : a + block] = rows(C) @ pf
    top = cand[np.argsort(total, kind="stable")[: min(8, len(cand))]]
    exact_tot = p @ costs.exact(top)
    return int(top[int(np.argmin(exact_tot))])


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
    ``relative_target`` is a fraction of ``J`` after step 1). ``cand`` restricts the
    candidates (all N scenarios still count in ``J``); ``full`` is the full cost matrix when
    held.
    """
    n = costs.n
    cand = np.arange(n) if cand is None else np.asarray(cand)
    pf = p.astype(np.float32)
    block = block_rows(n, costs.opts)

    def rows(C: np.ndarray) -> np.ndarray:
        return full[C] if full is not None else costs.block(C)

    first = _forward_first(costs, p, cand, rows, block)
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
