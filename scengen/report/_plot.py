"""What the report's figures share: colours, size limits, layout, sampling and the legend of a
weighted scenario set."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scengen.scenarios import ScenarioSet

#: most scenarios used for statistics (a seeded random subset of larger sets)
MAX_STAT_SCENARIOS = 4000
#: most reduced scenarios drawn (those with the largest probabilities)
MAX_DRAWN = 300
#: most sites drawn in the per-site grids
MAX_GRID_SITES = 16

MEASURED = "#d95f02"  # orange: measured (held-out) days
GENERATED = "#1b6ca8"  # blue: generated scenarios
HISTORY = "#7a7a7a"
#: the measured days in the verdict's fan chart (neutral, so no scenario colour is mistaken for it)
MEASURED_FAN = "#4d4d4d"
#: colours of up to 10 scenarios, most probable first: matplotlib's qualitative tab10 without its
#: grey (which would read as the measured days) and with black last
QUALITATIVE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#000000",
)
#: most scenarios named in a figure legend (the rest summed in one entry)
MAX_LEGEND = 10


# ---------------------------------------------------------------------- layout and data


def _figure(w: float, h: float) -> Figure:
    """An empty figure of ``w`` x ``h`` inches with the constrained layout."""
    fig = Figure(figsize=(w, h), layout="constrained")
    return fig


def _grid(n: int, w: float = 3.3, h: float = 2.5, max_cols: int = 4) -> tuple[Figure, np.ndarray]:
    """A figure with ``n`` panels of ``w`` x ``h`` inches, at most ``max_cols`` in a row.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray
        The ``n`` visible axes (the unused cells of the last row are hidden).
    """
    ncols = max(1, min(n, max_cols))
    nrows = math.ceil(n / ncols)
    fig = _figure(w * ncols, h * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _hours(ss_like: Any) -> np.ndarray:
    """Hour of the day of each step of a ScenarioSet or Profiles [h]."""
    return (ss_like.start_minute + ss_like.step_minutes * np.arange(ss_like.n_steps)) / 60.0


def _sample(values: np.ndarray, p: np.ndarray | None, n: int, seed: int = 0) -> np.ndarray:
    """At most ``n`` rows of ``values`` (weighted resampling when probabilities are unequal).

    Parameters
    ----------
    values : numpy.ndarray
        Rows (scenarios) first.
    p : numpy.ndarray, optional
        Probabilities of the rows.
    n : int
        Rows wanted.
    seed : int, default 0
        Seed of the random choice.

    Returns
    -------
    numpy.ndarray
        Equal probabilities: all rows when there are at most ``n``, else ``n`` of them without
        replacement (in their order). Unequal ones: ``n`` rows drawn with replacement by
        probability, so that they can be weighted equally.
    """
    m = values.shape[0]
    if p is None or np.allclose(p, p[0]):
        if m <= n:
            return values
        idx = np.random.default_rng(seed).choice(m, n, replace=False)
        return values[np.sort(idx)]
    idx = np.random.default_rng(seed).choice(m, n, replace=True, p=p)
    return values[idx]


def _site_subset(n: int) -> list[int]:
    """Indices of the sites drawn in a per-site grid (the first :data:`MAX_GRID_SITES`)."""
    return list(range(min(n, MAX_GRID_SITES)))


# ---------------------------------------------------------------------- weighted scenarios


def _scenario_colours(p: np.ndarray) -> list[str]:
    """One colour per scenario by probability rank (most probable first).

    Up to :data:`QUALITATIVE`'s 10 colours a qualitative palette (each scenario its own hue);
    more scenarios get viridis from dark (most probable) to light.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    p = np.asarray(p, float)
    rank = np.empty(len(p), dtype=int)
    rank[np.argsort(-p, kind="stable")] = np.arange(len(p))
    if len(p) <= len(QUALITATIVE):
        return [QUALITATIVE[r] for r in rank]
    cmap = colormaps["viridis"]
    return [to_hex(cmap(0.9 * r / (len(p) - 1))) for r in rank]


def _prob_width(p: float, pmax: float) -> float:
    """Line width of a scenario of probability ``p`` (the most probable: 3.6 pt)."""
    return 0.9 + 2.7 * (p / pmax if pmax > 0 else 1.0)


def _draw_scenarios(
    ax: Axes, hours: np.ndarray, y: np.ndarray, red: ScenarioSet, alpha: float | None = None
) -> None:
    """Draw the rows ``y (n, steps)`` of the scenarios of ``red``: the :data:`MAX_DRAWN` most
    probable, least probable first (below), colour by probability rank
    (:func:`_scenario_colours`), line width by probability (:func:`_prob_width`)."""
    p = red.probabilities
    pmax = float(p.max())
    colours = _scenario_colours(p)
    for i in np.argsort(p, kind="stable")[-MAX_DRAWN:]:
        ax.plot(hours, y[i], color=colours[i], lw=_prob_width(p[i], pmax), alpha=alpha)


def _probability_legend(
    fig: Figure, red: ScenarioSet, extra: Sequence[tuple[Any, str]] = ()
) -> None:
    """A legend outside the right edge: the scenarios by decreasing probability with their
    probabilities (at most :data:`MAX_LEGEND`, the rest summed), then ``extra`` entries."""
    from matplotlib.lines import Line2D

    p = red.probabilities
    colours = _scenario_colours(p)
    order = np.argsort(-p, kind="stable")
    top = order[:MAX_LEGEND]
    pmax = float(p.max())
    handles: list[Any] = [Line2D([], [], color=colours[i], lw=_prob_width(p[i], pmax)) for i in top]
    labels = [f"#{red.ids[i]}   p = {p[i]:.3f}" for i in top]
    if red.n_scenarios > len(top):
        rest = order[len(top) :]
        handles.append(Line2D([], [], color=colours[rest[0]], lw=1.0))
        labels.append(f"{len(rest)} others: Σp = {float(p[rest].sum()):.3f}")
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    fig.legend(
        handles,
        labels,
        loc="outside right center",
        fontsize=9,
        title="scenario, probability",
        title_fontsize=9,
        handlelength=2.4,
    )
