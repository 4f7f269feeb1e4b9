"""Input checks shared by the scores: arrays or scenario sets to float64 values and weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, check_probabilities


def values_probs(
    values: Any, probs: Any = None, name: str = "scenarios"
) -> tuple[np.ndarray, np.ndarray]:
    """``(values (n, sites, steps) float64, probabilities (n,))`` of a ScenarioSet or array."""
    if isinstance(values, ScenarioSet):
        v = values.values
        p = values.probabilities if probs is None else probs
    else:
        v = np.asarray(values)
        p = probs
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 2:  # one site
        v = v[:, None, :]
    if v.ndim != 3:
        raise ScengenError(
            f"{name} must have shape (n_days, n_sites, n_steps), got an array of shape {v.shape}"
        )
    if v.shape[0] == 0:
        raise ScengenError(f"{name} is empty; at least 1 day/scenario is needed")
    if not np.all(np.isfinite(v)):
        raise ScengenError(f"{name} contains NaN or infinite values")
    p = check_probabilities(p, v.shape[0], normalize=True, name=f"probabilities of {name}")
    return v, p


def check_shapes(a: np.ndarray, b: np.ndarray, what: str = "scenarios and observations") -> None:
    """Raise when ``a`` and ``b`` differ in sites or steps."""
    if a.shape[1:] != b.shape[1:]:
        raise ScengenError(
            f"{what} differ in shape: {a.shape[1]} sites x {a.shape[2]} steps vs "
            f"{b.shape[1]} sites x {b.shape[2]} steps"
        )


def pair(
    a: Any, pa: Any, b: Any, pb: Any, names: tuple[str, str] = ("a", "b")
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both sets checked by :func:`values_probs`, with the same sites and steps."""
    av, ap = values_probs(a, pa, names[0])
    bv, bp = values_probs(b, pb, names[1])
    check_shapes(av, bv, f"{names[0]} and {names[1]}")
    return av, ap, bv, bp


def weighted_mean(values: np.ndarray, w: np.ndarray) -> float:
    """``sum(w * values) / sum(w)``."""
    return float(np.dot(w, values) / w.sum())
