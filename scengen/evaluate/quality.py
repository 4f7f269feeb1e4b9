"""The quality bar of the project: the thresholds, checked on an evaluation table.

The ``scenarios`` row of :attr:`scengen.evaluate.EvaluationResult.table` passes when

- ``wasserstein <= W1_VS_HISTORY x history`` (not farther from the held-out days than
  resampled history),
- ``autocorr_error <= AUTOCORR_VS_HISTORY x history`` and
  ``ramp_wasserstein <= RAMP_VS_HISTORY x history`` (dynamics about as good as history),
- ``wasserstein <= W1_VS_COPULA x copula`` (better than a Gaussian copula),
- ``nn_distance >= NN_VS_HELDOUT x heldout_nn_distance`` (no copying of training days).

Every threshold is a named constant here, the one place to change the bar.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = [
    "AUTOCORR_VS_HISTORY",
    "CHECK_COLUMNS",
    "NN_VS_HELDOUT",
    "RAMP_VS_HISTORY",
    "W1_VS_COPULA",
    "W1_VS_HISTORY",
    "failed_checks",
    "quality_checks",
]

#: largest allowed ratio of the scenarios' Wasserstein distance to that of history [-]
W1_VS_HISTORY = 1.00
#: largest allowed ratio of the scenarios' autocorrelation error to that of history [-]
AUTOCORR_VS_HISTORY = 1.5
#: largest allowed ratio of the scenarios' ramp W1 to that of history [-]
RAMP_VS_HISTORY = 1.5
#: largest allowed ratio of the scenarios' Wasserstein distance to that of the copula [-]
W1_VS_COPULA = 0.95
#: smallest allowed ratio of the scenarios' nearest-training-day distance to the held-out days'
NN_VS_HELDOUT = 0.9

#: columns of :func:`quality_checks`
CHECK_COLUMNS = ["check", "value", "limit", "ok"]


def quality_checks(table: pd.DataFrame, heldout_nn_distance: float) -> pd.DataFrame:
    """The quality bar checked on the ``scenarios`` row of an evaluation table.

    Parameters
    ----------
    table : pandas.DataFrame
        Evaluation table (:attr:`scengen.evaluate.EvaluationResult.table`) with the rows
        ``scenarios``, ``history`` and ``copula``.
    heldout_nn_distance : float
        Median distance from a held-out day to its nearest training day [p.u.].

    Returns
    -------
    pandas.DataFrame
        Columns ``check`` (the rule in words), ``value``, ``limit`` and ``ok``, one row per
        rule; empty when the table lacks a reference row.
    """
    if not {"history", "copula"} <= set(table.index):
        return pd.DataFrame(columns=CHECK_COLUMNS)
    s, h, c = table.loc["scenarios"], table.loc["history"], table.loc["copula"]
    rows = [
        (
            f"wasserstein <= {W1_VS_HISTORY:.2f} x history",
            s.wasserstein,
            W1_VS_HISTORY * h.wasserstein,
            "<=",
        ),
        (
            f"autocorr_error <= {AUTOCORR_VS_HISTORY:g} x history",
            s.autocorr_error,
            AUTOCORR_VS_HISTORY * h.autocorr_error,
            "<=",
        ),
        (
            f"ramp_wasserstein <= {RAMP_VS_HISTORY:g} x history",
            s.ramp_wasserstein,
            RAMP_VS_HISTORY * h.ramp_wasserstein,
            "<=",
        ),
        (
            f"wasserstein <= {W1_VS_COPULA:g} x copula",
            s.wasserstein,
            W1_VS_COPULA * c.wasserstein,
            "<=",
        ),
        (
            f"nn_distance >= {NN_VS_HELDOUT:g} x held-out nn_distance",
            s.nn_distance,
            NN_VS_HELDOUT * heldout_nn_distance,
            ">=",
        ),
    ]
    return pd.DataFrame(
        [
            (name, float(v), float(lim), bool(v <= lim if op == "<=" else v >= lim))
            for name, v, lim, op in rows
        ],
        columns=CHECK_COLUMNS,
    )


def failed_checks(evaluation: dict[str, Any]) -> list[str] | None:
    """The quality checks that failed in an ``evaluation.json`` payload, one text each.

    Parameters
    ----------
    evaluation : dict
        Content of ``evaluation.json`` (:func:`scengen.evaluate.read_evaluation`).

    Returns
    -------
    list of str or None
        ``"ramp_wasserstein <= 1.5 x history: 0.0051 > 0.0050"`` per failed check; ``None``
        when the payload has no checks (no reference rows).
    """
    checks = evaluation.get("quality_checks") or []
    if not checks:
        return None
    out = []
    for c in checks:
        if not c.get("ok"):
            op = ">" if "<=" in str(c["check"]) else "<"
            out.append(f"{c['check']}: {_fmt(c.get('value'))} {op} {_fmt(c.get('limit'))}")
    return out


def _fmt(v: Any) -> str:
    return "nan" if v is None else f"{float(v):.4g}"
