"""Choices and tuning parameters of the scenario reduction."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: reduction methods: eager-swap k-medoids and fast forward selection
METHODS = ("pam", "forward")
#: ground distances between scenarios (over all sites and steps)
METRICS = ("euclidean", "cityblock")
#: orders of the Wasserstein distance
POWERS = (1, 2)


def _default_threads() -> int:
    return min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class ReduceOptions:
    """Size limits and search effort of :func:`scengen.reduce.reduce_scenarios`.

    The defaults suit every input; tests and benchmarks lower the limits to reach the
    large-N code paths on small sets. No field changes what is minimised, only how (and so,
    for the search effort, how close to the optimum the result is).

    Parameters
    ----------
    full_matrix_max_n : int, default 6000
        Largest N (distinct scenarios) for which the full ``N x N`` float32 cost matrix is
        held (``4 N^2`` bytes, 144 MB at the default) and every scenario is a swap candidate.
    relax_restarts : int, default 10
        Continuous relaxations (k-medians / k-means with free centres, k-means++ seeds) run to
        seed k-medoids.
    relax_sample : int, default 10000
        The relaxations run on a random sample of at most this many scenarios [scenarios].
    relax_keep : int, default 2
        Best relaxations snapped to scenarios and refined into k-medoids solutions.
    relax_iter : int, default 50
        Iterations of each relaxation.
    short_starts : int, default 8
        Further starts: at most this many k-means++ seeds given ``short_iter`` relaxation
        iterations each.
    short_iter : int, default 3
        Relaxation iterations of each short start.
    short_work : int, default 60 000 000
        The short starts are fewer when ``N D K`` exceeds ``short_work / short_starts``
        [multiply-adds].
    local_candidates : int, default 50
        Beyond ``full_matrix_max_n``: swap candidates per medoid, the members of its cluster
        nearest to it.
    screen_sample : int, default 1000
        Beyond ``full_matrix_max_n``: scenarios on which the swaps of every scenario are
        estimated (screening) [scenarios].
    screen_top : int, default 256
        Candidates kept by the screening and evaluated exactly on all N scenarios.
    screen_cache_bytes : int, default 512 MiB
        The candidate-to-sample costs of the screening (``4 N S`` bytes) are kept when they
        fit in this [bytes].
    screen_block : int, default 128
        Candidates per block of the screening.
    screen_resample : int, default 0
        Fresh screening samples tried once no screened swap improves.
    row_cache_bytes : int, default 128 MiB
        Costs of the local candidates to all N scenarios kept (least recently used evicted)
        in at most this [bytes] ...
    row_cache_min_dim : int, default 64
        ... when the dimension ``D`` (sites x steps) is at least this.
    swap_tol : float, default 1e-6
        Smallest relative decrease of the objective for which a swap is made.
    perturb_steps : int, default 8
        Beyond ``full_matrix_max_n``: at most this many perturbation steps (iterated local
        search from the best solution) ...
    perturb_work : int, default 6 000 000
        ... fewer when ``N (D + K)`` exceeds ``perturb_work / perturb_steps``.
    perturb_swaps : int, default 2
        Medoids swapped at random in each perturbation step.
    block_bytes : int, default 64 MiB
        Size of one block of float32 costs [bytes].
    forward_max_pairs : int, default 400 000 000
        Forward selection beyond ``full_matrix_max_n`` evaluates at most this many (scenario,
        candidate) pairs per pass; the candidates are then a random sample ...
    forward_min_candidates : int, default 1000
        ... of at least this many scenarios.
    max_curve_k : int, default 2000
        Largest K explored for ``max_distance``.
    verify_max_n : int, default 5000
        Largest N for which the distance is checked against POT ``ot.emd2`` by default.
    verify_rtol : float, default 1e-6
        Relative agreement required between the reported distance and ``ot.emd2``.
    blas_threads : int, default 1
        BLAS threads during the reduction.
    threads : int, default min(2, CPU count)
        Python threads screening blocks of candidates and running the relaxation restarts;
        every block and restart is computed the same way whatever their number, so the result
        does not depend on it.
    """

    full_matrix_max_n: int = 6000
    relax_restarts: int = 10
    relax_sample: int = 10000
    relax_keep: int = 2
    relax_iter: int = 50
    short_starts: int = 8
    short_iter: int = 3
    short_work: int = 6 * 10**7
    local_candidates: int = 50
    screen_sample: int = 1000
    screen_top: int = 256
    screen_cache_bytes: int = 512 * 2**20
    screen_block: int = 128
    screen_resample: int = 0
    row_cache_bytes: int = 128 * 2**20
    row_cache_min_dim: int = 64
    swap_tol: float = 1e-6
    perturb_steps: int = 8
    perturb_work: int = 6 * 10**6
    perturb_swaps: int = 2
    block_bytes: int = 64 * 2**20
    forward_max_pairs: int = 4 * 10**8
    forward_min_candidates: int = 1000
    max_curve_k: int = 2000
    verify_max_n: int = 5000
    verify_rtol: float = 1e-6
    blas_threads: int = 1
    threads: int = field(default_factory=_default_threads)


def block_rows(n_cols: int, opts: ReduceOptions, cap: int = 512) -> int:
    """Rows of a float32 block of ``n_cols`` columns within ``opts.block_bytes`` (8 to ``cap``)."""
    return int(max(8, min(cap, opts.block_bytes // (4 * max(1, n_cols)))))
