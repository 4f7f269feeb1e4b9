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
) -> None:
    """Raise :class:`ScengenError` for options that no input can make valid (checked before
    any data is read)."""
    _check_choice("method", method, METHODS)
    _check_choice("metric", metric, METRICS)
    _check_choice("p", p, POWERS)
    if (k is None) == (max_distance is None):
        raise ScengenError("give exactly one of k (number of scenarios) and max_distance")
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer))):
        raise ScengenError(f"k = {k!r} must be an integer")
    if k is not None and k <= 0:
        raise ScengenError(f"k = {k} is not allowed; it must be at least 1")
    if max_distance is not None:
        parse_max_distance(max_distance)


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
