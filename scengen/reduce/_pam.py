r"""Weighted k-medoids by eager swaps (PAM / FasterPAM) with screening and perturbation.

Minimises :math:`J(m) = \sum_{i=1}^N p_i \min_j c(x_i, m_j)^q` over medoid sets
:math:`m \subset \{x_i\}`, :math:`|m| = K` (Schubert and Rousseeuw 2021). A swap of medoid
:math:`j` for scenario :math:`c` changes :math:`J` by

.. math::

    \Delta(c, j) = \sum_i p_i u_i + \sum_{i \in C_j} p_i (v_i - u_i), \quad
    u_i = \min(c_i - d1_i, 0), \quad v_i - u_i = \min((c_i - d1_i)^+, d2_i - d1_i),

with :math:`C_j` the cluster of :math:`m_j` and :math:`d1_i, d2_i` the costs of scenario
:math:`i` to its nearest and second-nearest medoids (:meth:`_State.gains`). Up to
``full_matrix_max_n`` scenarios every scenario is a candidate (full cost matrix); beyond,
the candidates are the members nearest each medoid, then the scenarios whose swaps look best
on a random sample (screening), and an iterated local search (perturbation) follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from scengen.reduce._costs import _Costs, _full_matrix, _State
from scengen.reduce._forward import _forward
from scengen.reduce._options import ReduceOptions, block_rows
from scengen.reduce._relax import _continuous_starts


def _swap_pass(
    state: _State, cand: np.ndarray, block: int, full: np.ndarray | None, tol: float
) -> bool:
    """One eager pass over candidate scenarios ``cand``, ``block`` at a time, each block's best
    swap made when it lowers :math:`J` by more than ``tol * J``; True when a swap was made."""
    improved = False
    for a in range(0, len(cand), block):
        C = cand[a : a + block]
        C = C[~state.is_med[C]]
        if len(C) == 0:
            continue
        Dc = full[C] if full is not None else state.costs.rows_to(C)
        G = state.gains(C, Dc)
        b, j = np.unravel_index(int(np.argmin(G)), G.shape)
        if G[b, j] < -tol * state.obj and state.try_swap(int(j), int(C[b])):
            improved = True
    return improved


def _swaps_full(
    state: _State, full: np.ndarray, order: np.ndarray, max_passes: int, opts: ReduceOptions
) -> int:
    """Eager swap passes over every scenario (in ``order``) with the full cost matrix ``full``
    until none improves (a PAM local optimum) or ``max_passes``; returns the passes made."""
    block = block_rows(state.costs.n, opts, cap=256)
    passes = 0
    while passes < max_passes:
        passes += 1
        if not _swap_pass(state, order, block, full, opts.swap_tol):
            break
    return passes


def _local_pass(state: _State, m: int, tol: float) -> bool:
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
        if G[b, jj] < -tol * state.obj and state.try_swap(int(jj), int(C[b])):
            improved = True
        else:
            state.clean[j] = rows
    return improved


def _screen(
    state: _State, rows: np.ndarray, top: int, cache: dict, opts: ReduceOptions
) -> np.ndarray:
    r"""The ``top`` candidates (all scenarios but the medoids) whose best swap looks most
    improving, estimated from the scenarios ``rows`` only.

    With the sample weights :math:`w_i` (renormalised) the estimate is
    :math:`\sum_{i \notin C_j} w_i \min(c_i, d1_i) + \sum_{i \in C_j} w_i \min(c_i, d2_i)
    - \sum_i w_i d1_i = \sum_i w_i c_i - \sum_i w_i t_i + \sum_{i \in C_j} w_i \min(t_i, d2_i
    - d1_i) - \sum_i w_i d1_i` with :math:`t_i = (c_i - d1_i)^+` (:math:`\sum_i w_i c_i` kept
    with the costs): three passes over each block of costs and two BLAS products. Blocks of
    candidates are shared among ``opts.threads`` threads, each block computed the same way. The
    candidate-to-sample costs do not depend on the medoids; they are kept in ``cache`` when
    they fit in ``opts.screen_cache_bytes``.
    """
    n, s = state.costs.n, len(rows)
    block, threads = opts.screen_block, opts.threads
    starts = list(range(0, n, block))
    keep = 4 * n * s <= opts.screen_cache_bytes
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
        for a in starts[t::threads]:
            cache["costs"][a : a + block] = costs_of(a)

    def work(t: int) -> None:
        buf = np.empty((block, s), np.float32)
        for a in starts[t::threads]:
            Dc = cache["costs"][a : a + block] if keep else costs_of(a)
            cw = cache["cw"][a : a + block] if keep else Dc @ w
            T = buf[: len(Dc)]
            np.subtract(Dc, d1s[None, :], out=T)
            np.maximum(T, 0.0, out=T)
            cw = cw - T @ w  # sum_i w_i min(c_i, d1_i)
            np.minimum(T, gs[None, :], out=T)  # min(c_i, d2_i) - min(c_i, d1_i)
            best[a : a + len(Dc)] = (T @ W).min(axis=1) + cw

    def run(f: Any) -> None:
        if threads <= 1 or len(starts) == 1:
            f(0)
            return
        with ThreadPoolExecutor(threads) as ex:
            for r in [ex.submit(f, t) for t in range(threads)]:
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


def _screen_sample(n: int, rng: np.random.Generator, size: int) -> dict:
    """A random screening sample of ``size`` scenarios and the cache of its costs (shared by
    every start and perturbation of one search)."""
    return {"rows": np.sort(rng.choice(n, size=min(n, size), replace=False))}


def _refine_full_set(
    state: _State,
    m: int,
    rng: np.random.Generator,
    opts: ReduceOptions,
    max_rounds: int = 200,
    screen: dict | None = None,
) -> int:
    """Eager swaps on all N scenarios until none improves among the candidates.

    Candidates: the ``m`` scenarios nearest each medoid (one block per cluster); when none of
    those improves, the ``opts.screen_top`` scenarios whose swaps look best when estimated on
    a random sample of ``opts.screen_sample`` scenarios (every scenario is screened), all
    evaluated exactly on the N scenarios. ``screen`` (from :func:`_screen_sample`) is that
    sample. Returns the rounds made.
    """
    n = state.costs.n
    cache = _screen_sample(n, rng, opts.screen_sample) if screen is None else screen
    rounds = resamples = 0
    while rounds < max_rounds:
        rounds += 1
        if m > 0 and _local_pass(state, m, opts.swap_tol):
            continue
        # a medoid set that this screening sample already found locally optimal stays so
        key = frozenset(state.medoids.tolist())
        optima = cache.setdefault("optima", set())
        if key in optima:
            break
        cand = _screen(state, cache["rows"], opts.screen_top, cache, opts)
        if len(cand) == 0 or not _swap_pass(state, cand, 64, None, opts.swap_tol):
            optima.add(key)
            if resamples >= opts.screen_resample or len(cache["rows"]) == n:
                break
            resamples += 1  # a fresh sample before giving up
            cache = _screen_sample(n, rng, opts.screen_sample)
    return rounds


# ----------------------------------------------------------------------------- k-medoids


def _starts(
    costs: _Costs,
    p: np.ndarray,
    k: int,
    rng: np.random.Generator,
    opts: ReduceOptions,
    init: np.ndarray | None,
    full: np.ndarray | None,
    info: dict[str, Any],
) -> list[tuple[str, np.ndarray]]:
    """Starting medoid sets: greedy BUILD (= forward selection, with the full matrix and no
    ``init``), ``init`` when given, and the continuous relaxations."""
    starts: list[tuple[str, np.ndarray]] = []
    if full is not None and init is None:
        starts.append(("build", np.asarray(_forward(costs, p, k, full=full)[0])))
    if init is not None:
        starts.append(("given", np.asarray(init)))
    if opts.relax_restarts > 0 or not starts:
        t0 = time.perf_counter()
        starts += _continuous_starts(costs, p, k, rng, info, opts)
        info["relax"]["seconds"] = time.perf_counter() - t0
    return starts


def _pam(
    costs: _Costs,
    p: np.ndarray,
    k: int,
    rng: np.random.Generator,
    opts: ReduceOptions,
    *,
    init: np.ndarray | None = None,
    full: np.ndarray | None = None,
    info: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> _State:
    """Weighted k-medoids with eager swaps from several starts; returns the best final state.

    Starts: greedy BUILD (``N <= opts.full_matrix_max_n``), the best continuous relaxations
    (k-medians / k-means with free centres, snapped to their nearest scenarios) and ``init``
    when given. Each descends to a local optimum: over every scenario with the full cost
    matrix ``full`` (built here when ``N <= opts.full_matrix_max_n``), otherwise by
    :func:`_refine_full_set` followed by :func:`_perturb`. ``progress(done, total)`` is called
    after each descent (starts, then perturbation steps).
    """
    info = {} if info is None else info
    n = costs.n
    small = n <= opts.full_matrix_max_n
    if small and full is None:
        full = _full_matrix(costs)
    starts = _starts(costs, p, k, rng, opts, init, full if small else None, info)
    best: _State | None = None
    seen = set()
    screen = _screen_sample(n, rng, opts.screen_sample) if full is None else None

    n_perturb = _n_perturb(n, costs.dim, k, opts) if full is None and k < n else 0
    total, done = len(starts) + n_perturb, [0]

    def descend(state: _State) -> int:
        if full is not None:
            rounds = _swaps_full(state, full, rng.permutation(n), 100, opts)
        else:
            rounds = _refine_full_set(state, opts.local_candidates, rng, opts, screen=screen)
        done[0] += 1
        if progress is not None:
            progress(min(done[0], total), total)
        return rounds

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
    if n_perturb:
        t0 = time.perf_counter()
        best, accepted = _perturb(best, p, rng, n_perturb, descend, opts.perturb_swaps)
        info["perturb"] = {
            "steps": n_perturb,
            "accepted": accepted,
            "objective": best.obj,
            "seconds": time.perf_counter() - t0,
        }
    info["strategy"] = "full matrix" if full is not None else "full-set swaps, local candidates"
    return best


def _n_perturb(n: int, dim: int, k: int, opts: ReduceOptions) -> int:
    """Number of perturbation steps for a problem of this size (``opts.perturb_steps`` when
    cheap, fewer as ``N (D + K)`` grows beyond ``opts.perturb_work / opts.perturb_steps``)."""
    return int(min(opts.perturb_steps, opts.perturb_work // max(1, n * (dim + k))))


def _perturb(
    best: _State,
    p: np.ndarray,
    rng: np.random.Generator,
    steps: int,
    descend: Any,
    swaps: int,
) -> tuple[_State, int]:
    """Iterated local search: ``steps`` times, swap ``swaps`` random medoids of the best
    solution for scenarios drawn with probability ``p_i * d1_i`` (k-means++ style), descend to
    a local optimum and keep it when it is better. Returns the best state and the number
    kept."""
    n, k = best.costs.n, len(best.medoids)
    accepted = 0
    for _ in range(steps):
        state = best.clone()
        for _ in range(swaps):
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
