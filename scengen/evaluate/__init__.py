"""Evaluate a weighted scenario set against held-out measured days: the quality yardstick.

Every score compares a (weighted) set of daily scenarios with measured days, both of shape
``(n, n_sites, n_steps)`` in per-unit of capacity [p.u.]; lower is better for every score.

Modules
-------
:mod:`~scengen.evaluate.metrics`
    The scores: energy score, variogram score, CRPS (proper scoring rules, in the conventions
    of the literature and of ``scoringrules``), Wasserstein distance, autocorrelation error,
    ramp W1, correlation error, mean-profile error, nearest-day distance.
:mod:`~scengen.evaluate.references`
    The yardsticks fitted on the training days: history and a Gaussian copula.
:mod:`~scengen.evaluate.evaluation`
    :func:`evaluate` (all scores for the scenarios and the references) and its result.
:mod:`~scengen.evaluate.quality`
    The quality bar: its thresholds, :func:`quality_checks` and :func:`failed_checks`.
:mod:`~scengen.evaluate.io`
    ``evaluation.csv``/``.json`` and the held-out days the CLI evaluates against.

The statistics the scores share with the report and the training loss (within-day
autocorrelation, ramps, the distance kernel) are in :mod:`scengen.stats`.
"""

from __future__ import annotations

from scengen.evaluate.evaluation import (
    DECISION_KS,
    DECISIONS,
    EvaluateConfig,
    EvaluationResult,
    evaluate,
    evaluate_with_config,
)
from scengen.evaluate.io import (
    EVALUATION_CSV,
    EVALUATION_JSON,
    check_heldout,
    heldout_from,
    read_evaluation,
    write_evaluation,
)
from scengen.evaluate.metrics import (
    ES_MAX_SCENARIOS,
    METRICS,
    autocorrelation_error,
    correlation_error,
    crps,
    energy_score,
    leave_one_out_distances,
    mean_profile_error,
    nearest_distances,
    nearest_neighbour_distance,
    pairwise_distances,
    ramp_wasserstein,
    variogram_score,
    wasserstein,
)
from scengen.evaluate.quality import failed_checks, quality_checks
from scengen.evaluate.references import gaussian_copula, history_reference

__all__ = [
    "DECISIONS",
    "DECISION_KS",
    "ES_MAX_SCENARIOS",
    "EVALUATION_CSV",
    "EVALUATION_JSON",
    "METRICS",
    "EvaluateConfig",
    "EvaluationResult",
    "autocorrelation_error",
    "check_heldout",
    "correlation_error",
    "crps",
    "energy_score",
    "evaluate",
    "evaluate_with_config",
    "failed_checks",
    "gaussian_copula",
    "heldout_from",
    "history_reference",
    "leave_one_out_distances",
    "mean_profile_error",
    "nearest_distances",
    "nearest_neighbour_distance",
    "pairwise_distances",
    "quality_checks",
    "ramp_wasserstein",
    "read_evaluation",
    "variogram_score",
    "wasserstein",
    "write_evaluation",
]
