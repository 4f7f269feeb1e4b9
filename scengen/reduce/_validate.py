"""Checks of the reduction options, before any data is read."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from scengen.errors import ScengenError
from scengen.reduce._options import METHODS, METRICS, POWERS


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    """Raise :class:`ScengenError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ScengenError(f"{name} = {value!r} is not allowed; choose one of {list(allowed)}")


def check_options(
    k: int | None = None,
    max_distance: float | str | None = None,
    method: str = "pam",
    metric: str = "euclidean",
    p: int = 1,
    *,
    n: int | None = None,
) -> int | None:
    """Raise :class:`ScengenError` for invalid reduction options.

    Without ``n`` (before any data is read) the options that no input can make valid; with the
    number of input scenarios ``n`` also a ``k`` that this set cannot have (the check of
    :func:`reduce_scenarios`).

    Parameters
    ----------
    k, max_distance, method, metric, p
        As in :func:`scengen.reduce.reduce_scenarios`.
    n : int, optional
        Number of input scenarios.

    Returns
    -------
    int or None
        ``k`` as an ``int``.
    """
    _check_choice("method", method, METHODS)
    _check_choice("metric", metric, METRICS)
    _check_choice("p", p, POWERS)
    if (k is None) == (max_distance is None):
        raise ScengenError("give exactly one of k (number of scenarios) and max_distance")
    if k is None:
        parse_max_distance(max_distance)
        if n is not None and n < 2:
            raise ScengenError(f"cannot reduce a set of {n} scenario; it needs at least 2")
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ScengenError(f"k = {k!r} must be an integer")
    k = int(k)
    if n is not None and not 0 < k < n:
        raise ScengenError(
            f"k = {k} is not allowed; it must be between 1 and {n - 1} "
            f"(fewer than the {n} input scenarios)"
        )
    if k <= 0:
        raise ScengenError(f"k = {k} is not allowed; it must be at least 1")
    return k


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
