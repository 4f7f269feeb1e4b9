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

    * starts: greedy BUILD (= forward selection, small N only); the ``relax_keep`` best of
      ``relax_restarts`` continuous relaxations (k-medians by Weiszfeld for ``p=1``, k-means for
      ``p=2``, IRLS for cityblock: free centres, k-means++ seeds, run on a sample of
      ``relax_sample`` scenarios and polished on all), each centre snapped to its nearest
      scenario; and, when each start is cheap, up to ``short_starts`` k-means++ seeds with a
      few relaxation steps (diversity).
    * ``N <= full_matrix_max_n``: the whole float32 cost matrix is held and every scenario is
      a swap candidate, a block of candidates at a time with BLAS, until no swap improves
      (a PAM local optimum).
    * larger ``N``: no ``N x N`` matrix. Swaps are evaluated exactly against all ``N``
      scenarios, with the swap gain written as
      :math:`\Delta(c, j) = \sum_i p_i u_i + \sum_{i \in C_j} p_i (v_i - u_i)`,
      :math:`u_i = \min(c_i - d1_i, 0)`, :math:`v_i - u_i = \min((c_i - d1_i)^+, d2_i - d1_i)`
      (float32 blocks, one BLAS product per block, no cancellation). Candidates: the
      ``local_candidates`` members nearest each medoid, evaluated only on the scenarios whose
      cost they can lower (triangle inequality: :math:`d(i, m_j) - r < d1_i`) and the members
      of their cluster (the removal cost of the others' clusters counts in full: an upper
      bound on those swaps), or on all ``N`` from a cache of their costs when ``D >=
      row_cache_min_dim`` (at most ``row_cache_bytes``); when none of those improves, every
      scenario is screened on a sample of ``screen_sample`` scenarios (blocks of
      ``screen_block`` candidates shared among ``threads`` threads) and the ``screen_top``
      most promising are evaluated exactly (one screening sample, and the costs to it, for the
      whole search). Stops when neither finds an improving swap, or at once when the local
      candidates reach a medoid set that the screening already found locally optimal. Then,
      when cheap enough (``N (D + K)`` small), an iterated local search: ``perturb_steps``
      times ``perturb_swaps`` medoids of the best solution are swapped for scenarios drawn
      with probability :math:`p_i d1_i` and the swaps above run again; a better local
      optimum replaces the best.
    * the assignment of every scenario to its nearest and second-nearest medoid is updated
      after a swap from the new medoid's costs alone, except for the scenarios whose two
      nearest included the medoid swapped out.
``method="forward"``
    Heitsch-Römisch fast forward selection (greedy; lazy evaluation, exact because the gain is
    submodular). It gives the whole curve distance(K) in one run. Beyond
    ``forward_max_pairs`` (scenario, candidate) pairs the candidates are a random sample
    (all ``N`` scenarios still count in the distance).

Scale: every cost block is at most ``block_bytes``; see :func:`memory_bound`. Identical
scenarios are merged first (rows hashed, then compared exactly) and zero-probability ones set
aside. BLAS runs on ``blas_threads`` thread(s); the screening and the relaxation restarts run
in ``threads`` Python threads (numpy and BLAS release the GIL), split so that the result does
not depend on the number of threads. Every random choice comes from one generator seeded with
``seed`` (each relaxation restart from its own generator, seeded from it in order).

The reported distance is always recomputed in float64 from the chosen medoids (each scenario
to its nearest medoid from differences; the nearest found from the Gram form, and from
differences where two medoids are within 1e-6), and for
``N <= verify_max_n`` checked against an exact optimal-transport solve (POT ``ot.emd2``).

The names in double backquotes above are the fields of :class:`ReduceOptions`, passed as
``reduce_scenarios(..., options=ReduceOptions(...))``.

Modules
-------
``_options``
    :class:`ReduceOptions` and the allowed methods, metrics and orders.
``_costs``
    Ground costs in blocks (``_Costs``) and the swap state (``_State``).
``_pam``
    k-medoids: swaps, local candidates, screening, perturbation.
``_forward``
    Fast forward selection.
``_relax``
    Continuous relaxation seeding k-medoids.
``_driver``
    Input preparation, the K search of ``max_distance``, final assignment and check.
``_validate``, ``_result``, ``_api``
    Option checks; config, result and output files; the public functions.
"""

from __future__ import annotations

from collections.abc import Callable

from scengen.reduce._api import memory_bound, reduce_scenarios, reduction_curve, wasserstein
from scengen.reduce._options import METHODS, METRICS, POWERS, ReduceOptions
from scengen.reduce._result import (
    ASSIGNMENT_CSV,
    REDUCTION_JSON,
    ReduceConfig,
    ReductionResult,
    write_reduction,
)
from scengen.reduce._validate import check_options, parse_max_distance
from scengen.scenarios import ScenarioSet

__all__ = [
    "ASSIGNMENT_CSV",
    "METHODS",
    "METRICS",
    "POWERS",
    "REDUCTION_JSON",
    "ReduceConfig",
    "ReduceOptions",
    "ReductionResult",
    "check_options",
    "memory_bound",
    "parse_max_distance",
    "reduce_scenarios",
    "reduce_with_config",
    "reduction_curve",
    "wasserstein",
    "write_reduction",
]


def reduce_with_config(
    ss: ScenarioSet,
    config: ReduceConfig,
    *,
    seed: int = 0,
    options: ReduceOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReductionResult:
    """:func:`reduce_scenarios` with the settings of a ``reduce`` config section.

    The one place where a config becomes a reduction, shared by ``scengen reduce`` and
    ``scengen run``. ``config.normalize`` applies when the input is read, not here. (Defined
    here, calling :func:`reduce_scenarios` through this package, so that replacing
    ``scengen.reduce.reduce_scenarios`` replaces it for the entry points too.)

    Parameters
    ----------
    ss : ScenarioSet
        Input scenarios with probabilities.
    config : ReduceConfig
        Exactly one of ``k`` and ``max_distance``, method, metric, p; ``config.seed``, when
        set, takes precedence over ``seed``.
    seed : int, default 0
        Seed of the entry point (the job's or the command's).
    options : ReduceOptions, optional
        Size limits and search effort (default: ``ReduceOptions()``).
    progress : callable, optional
        See :func:`reduce_scenarios`.

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
        options=options,
        progress=progress,
    )
