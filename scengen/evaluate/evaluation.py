"""Score a scenario set and its references against held-out days: :func:`evaluate`.

:func:`evaluate` computes every score of :mod:`scengen.evaluate.metrics` for the scenarios and
for the two references of :mod:`scengen.evaluate.references` fitted on the training days, so
every number has a yardstick; :class:`EvaluationResult` holds the table, the ratios to history
and the quality bar of :mod:`scengen.evaluate.quality`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scengen.errors import ScengenError
from scengen.evaluate import quality
from scengen.evaluate.metrics import (
    ES_MAX_SCENARIOS,
    METRICS,
    autocorrelation_error,
    correlation_error,
    crps,
    energy_score,
    mean_profile_error,
    nearest_distances,
    nearest_neighbour_distance,
    ramp_wasserstein,
    variogram_score,
    wasserstein,
)
from scengen.evaluate.references import gaussian_copula, history_reference
from scengen.scenarios import ScenarioSet

__all__ = ["EvaluateConfig", "EvaluationResult", "evaluate", "evaluate_with_config"]


@dataclass
class EvaluationResult:
    """Metrics of a scenario set and its references against held-out days.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``["scenarios", "history", "copula"]`` (reference rows only with training days),
        columns :data:`METRICS`; all in per-unit terms, lower is better.
    heldout_nn_distance : float
        Median distance from a held-out day to its nearest training day [p.u.] (NaN without
        training days); the scale against which ``nn_distance`` shows copying.
    ratios : pandas.DataFrame
        ``table`` divided by its ``history`` row, except ``nn_distance`` which is divided by
        ``heldout_nn_distance`` (empty without training days).
    seed : int
    info : dict
        Sizes and settings (n_scenarios, n_heldout, n_train, n_copula, sites, n_steps, ...).
    """

    table: pd.DataFrame
    heldout_nn_distance: float = float("nan")
    ratios: pd.DataFrame = field(default_factory=pd.DataFrame)
    seed: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (set, metric) with ``value`` and ``ratio`` (to history)."""
        long = self.table.rename_axis("set").reset_index().melt("set", var_name="metric")
        if not self.ratios.empty:
            r = self.ratios.rename_axis("set").reset_index().melt("set", var_name="metric")
            long = long.merge(r.rename(columns={"value": "ratio"}), on=["set", "metric"])
        else:
            long["ratio"] = np.nan
        return long

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN and infinities become ``None``)."""
        return {
            "table": _frame_dict(self.table),
            "ratios": _frame_dict(self.ratios),
            "heldout_nn_distance": _num(self.heldout_nn_distance),
            "quality_checks": [
                {"check": r.check, "value": _num(r.value), "limit": _num(r.limit), "ok": bool(r.ok)}
                for r in self.quality_checks().itertuples()
            ],
            "seed": self.seed,
            **{k: v for k, v in self.info.items() if k not in ("seed",)},
        }

    def quality_checks(self) -> pd.DataFrame:
        """The quality bar of the project (:mod:`scengen.evaluate.quality`), checked on the
        ``scenarios`` row.

        ``W1 <= 1.00 x history``; autocorrelation error and ramp W1 ``<= 1.5 x history``;
        ``W1 <= 0.95 x copula``; ``nn_distance >= 0.9 x heldout_nn_distance`` (no copying).
        Returns columns ``check, value, limit, ok`` (empty without the reference rows).
        """
        return quality.quality_checks(self.table, self.heldout_nn_distance)

    def summary(self) -> str:
        """Human-readable table (and ratios to history) for the terminal."""
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            lines = [self.table.to_string(float_format=lambda v: f"{v:.4g}")]
            if not self.ratios.empty:
                lines += [
                    "",
                    "ratio to history (nn_distance: to the held-out days' nearest-training-day "
                    "distance)",
                    self.ratios.to_string(float_format=lambda v: f"{v:.3f}"),
                ]
        if math.isfinite(self.heldout_nn_distance):
            lines += ["", f"held-out nearest-training-day distance: {self.heldout_nn_distance:.4g}"]
        checks = self.quality_checks()
        if not checks.empty:
            lines += ["", "quality bar (scenarios row):"]
            lines += [
                f"  {'ok  ' if r.ok else 'FAIL'}  {r.check:<42s} {r.value:.4g} vs {r.limit:.4g}"
                for r in checks.itertuples()
            ]
        return "\n".join(lines)


def _num(v: Any) -> Any:
    v = float(v)
    return v if math.isfinite(v) else None


def _frame_dict(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(i): {str(c): _num(df.loc[i, c]) for c in df.columns} for i in df.index}


def _row(
    ss: ScenarioSet,
    heldout: ScenarioSet,
    train: ScenarioSet | None,
    seed: int,
    es_max: int,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    x, p = ss.values, ss.probabilities
    y = heldout.values
    q = heldout.probabilities
    scores: dict[str, Callable[[], float]] = {
        "energy_score": lambda: energy_score(x, p, y, obs_probs=q, max_scenarios=es_max, seed=seed),
        "variogram_score": lambda: variogram_score(x, p, y, obs_probs=q),
        "crps": lambda: crps(x, p, y, obs_probs=q),
        "wasserstein": lambda: wasserstein(x, p, y, q),
        "autocorr_error": lambda: autocorrelation_error(x, p, y, q),
        "ramp_wasserstein": lambda: ramp_wasserstein(x, p, y, q),
        "correlation_error": lambda: correlation_error(x, p, y, q),
        "mean_profile_error": lambda: mean_profile_error(x, p, y, q),
        "nn_distance": lambda: (
            float("nan") if train is None else nearest_neighbour_distance(x, train.values, p)
        ),
    }
    row = {}
    for name, score in scores.items():
        row[name] = score()
        tick()
    return row


def evaluate(
    scenarios: ScenarioSet,
    heldout: ScenarioSet,
    train: ScenarioSet | None = None,
    *,
    references: bool = True,
    n_copula: int = 2000,
    seed: int = 0,
    es_max_scenarios: int = ES_MAX_SCENARIOS,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """Score a weighted scenario set against held-out days, with references for scale.

    Parameters
    ----------
    scenarios : ScenarioSet
        The scenarios to judge (generated or reduced; probabilities honoured).
    heldout : ScenarioSet
        Measured days not used for training (weights honoured; normally equal).
    train : ScenarioSet, optional
        Training days: needed for ``nn_distance`` and the references.
    references : bool, default True
        Add the ``history`` (training days) and ``copula`` (Gaussian copula, ``n_copula`` days)
        rows when ``train`` is given.
    n_copula : int, default 2000
        Days drawn from the Gaussian copula.
    seed : int, default 0
        Seed of the copula draw and of the energy-score subsample (large sets).
    es_max_scenarios : int, default 2000
        See ``max_scenarios`` of :func:`energy_score`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each score of each row.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ScengenError
        When the sets have different sites or steps.
    """
    for name, obj in (("scenarios", scenarios), ("heldout", heldout), ("train", train)):
        if obj is not None and not isinstance(obj, ScenarioSet):
            raise ScengenError(f"evaluate: {name} must be a ScenarioSet, got {type(obj).__name__}")
    heldout.check_compatible(scenarios, "held-out days and scenarios")
    if train is not None:
        train.check_compatible(scenarios, "training days and scenarios")
    if int(n_copula) < 1:
        raise ScengenError(f"n_copula must be >= 1, got {n_copula}")
    n_rows = 3 if (train is not None and references) else 1
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], n_rows * len(METRICS))

    rows = {"scenarios": _row(scenarios, heldout, train, seed, es_max_scenarios, tick)}
    info: dict[str, Any] = {
        "n_scenarios": scenarios.n_scenarios,
        "n_heldout": heldout.n_scenarios,
        "n_train": None if train is None else train.n_scenarios,
        "sites": list(scenarios.sites),
        "n_steps": scenarios.n_steps,
        "step_minutes": scenarios.step_minutes,
        "units": "p.u. (per-unit of capacity)",
    }
    held_nn = float("nan")
    if train is not None:
        held_nn = float(np.median(nearest_distances(heldout.values, train.values)))
        if references:
            hist = history_reference(train)
            rows["history"] = _row(hist, heldout, train, seed, es_max_scenarios, tick)
            cop = gaussian_copula(train, int(n_copula), seed=seed)
            rows["copula"] = _row(cop, heldout, train, seed, es_max_scenarios, tick)
            info["n_copula"] = int(n_copula)
            info["copula_shrinkage"] = cop.metadata["shrinkage"]
    table = pd.DataFrame.from_dict(rows, orient="index")[list(METRICS)]
    table.index.name = "set"
    ratios = pd.DataFrame()
    if "history" in table.index:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = table / table.loc["history"]
            ratios["nn_distance"] = table["nn_distance"] / held_nn
        ratios = ratios.replace([np.inf, -np.inf], np.nan)
    return EvaluationResult(
        table=table, heldout_nn_distance=held_nn, ratios=ratios, seed=int(seed), info=info
    )


#: the decision tests an ``evaluate`` section can ask for (:mod:`scengen.decision`)
DECISIONS = ("storage",)
#: default sizes K of the reduced sets the decision test compares with the full set
DECISION_KS = (1, 5, 10, 20)


@dataclass
class EvaluateConfig:
    """Settings of the ``evaluate`` section of a config: the one schema of ``scengen evaluate
    --config`` (CLI flags override them) and ``scengen run``.

    Parameters
    ----------
    n_copula : int, default 2000
        Days drawn from the Gaussian-copula reference.
    references : bool, default True
        Compute the ``history`` and ``copula`` reference rows (needs training days).
    es_max_scenarios : int, default 2000
        Largest set for which the energy score's ``E||X - X'||`` is exact.
    decision : str or None, default None
        Decision test to run as well (``"storage"``) or ``None``. ``scengen run`` runs the
        storage test unless a job sets ``decision: null``; ``scengen evaluate`` only when
        asked (``--decision`` or this key).
    decision_ks : list of int, default [1, 5, 10, 20]
        Sizes K of the reduced sets the decision test compares with the full set (each
        ``>= 1`` and below the number of scenarios, checked where that is known).

    Raises
    ------
    ScengenError
        For ``n_copula < 1``, ``es_max_scenarios < 2`` or an unknown ``decision``.
    """

    n_copula: int = 2000
    references: bool = True
    es_max_scenarios: int = ES_MAX_SCENARIOS
    decision: str | None = None
    decision_ks: list[int] = field(default_factory=lambda: list(DECISION_KS))

    def __post_init__(self) -> None:
        if self.n_copula < 1:
            raise ScengenError(f"evaluate.n_copula must be >= 1, got {self.n_copula}")
        if self.es_max_scenarios < 2:
            raise ScengenError(
                f"evaluate.es_max_scenarios must be >= 2, got {self.es_max_scenarios}"
            )
        if self.decision is not None and self.decision not in DECISIONS:
            raise ScengenError(
                f"evaluate.decision = {self.decision!r}; allowed: {', '.join(DECISIONS)} or null"
            )


def evaluate_with_config(
    scenarios: ScenarioSet,
    heldout: ScenarioSet,
    train: ScenarioSet | None,
    config: EvaluateConfig,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """:func:`evaluate` with the settings of an ``evaluate`` config section.

    The one place where a config becomes an evaluation, shared by ``scengen evaluate`` and
    ``scengen run``.

    Parameters
    ----------
    scenarios, heldout, train : ScenarioSet
        As in :func:`evaluate`.
    config : EvaluateConfig
        References, copula size and exact-energy-score limit.
    seed : int, default 0
        Seed of the copula reference and of subsampling.
    progress : callable, optional
        See :func:`evaluate`.

    Returns
    -------
    EvaluationResult
    """
    return evaluate(
        scenarios,
        heldout,
        train,
        references=config.references,
        n_copula=config.n_copula,
        seed=seed,
        es_max_scenarios=config.es_max_scenarios,
        progress=progress,
    )
