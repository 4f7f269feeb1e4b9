"""The settings of a reduction and its result, and how the result is written."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scengen.scenarios import ScenarioSet

#: file of the reduction record (:meth:`ReductionResult.summary`) in the output directory
REDUCTION_JSON = "reduction.json"
#: file of the assignment of every input scenario (:meth:`ReductionResult.assignment_frame`)
ASSIGNMENT_CSV = "assignment.csv"


@dataclass
class ReduceConfig:
    """Settings of the ``reduce`` section of a config.

    Parameters
    ----------
    k : int, optional
        Number of scenarios to keep.
    max_distance : float or str, optional
        Instead of ``k``: the smallest K whose distance is at most this [p.u.], or relative
        (``"5%"``) to the distance of the best single scenario.
    method : str, default "pam"
        ``"pam"`` or ``"forward"``.
    metric : str, default "euclidean"
        ``"euclidean"`` or ``"cityblock"``.
    p : int, default 1
        Order of the Wasserstein distance (1 or 2).
    normalize : bool, default False
        Rescale input probabilities that do not sum to 1.
    seed : int, optional
        Random seed.
    """

    k: int | None = None
    max_distance: float | str | None = None
    method: str = "pam"
    metric: str = "euclidean"
    p: int = 1
    normalize: bool = False
    seed: int | None = None


@dataclass
class ReductionResult:
    """Result of :func:`reduce_scenarios`.

    Attributes
    ----------
    reduced : ScenarioSet
        The K chosen input scenarios (their ids) with the cluster masses as probabilities.
    assignment : numpy.ndarray
        ``(N,)`` position in ``reduced`` of the medoid each input scenario is assigned to.
    medoids : numpy.ndarray
        ``(K,)`` positions of the medoids in the input set (the order of ``reduced``).
    distance : float
        Wasserstein distance of order ``p`` between the full and the reduced distributions [p.u.].
    distance_exact : float or None
        The same from an exact optimal-transport solve (POT ``ot.emd2``), when checked.
    curve : dict
        ``{K: distance}`` for each K tried (best distance found at that K).
    seconds : float
        Wall time of the reduction [s].
    info : dict
        Algorithm details (sample size, swaps, rounds, forward curve, input size, ...).
    """

    reduced: ScenarioSet
    assignment: np.ndarray
    medoids: np.ndarray
    distance: float
    distance_exact: float | None
    curve: dict[int, float]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Plain-dict record written to ``reduction.json``."""
        i = self.info
        return {
            "method": i.get("method"),
            "metric": i.get("metric"),
            "p": i.get("p"),
            "k": int(len(self.medoids)),
            "distance": self.distance,
            "distance_exact": self.distance_exact,
            "verified": i.get("verified"),
            "max_distance": i.get("max_distance"),
            "max_distance_requested": i.get("max_distance_requested"),
            "curve": {str(k): v for k, v in sorted(self.curve.items())},
            "curve_forward": {str(k): v for k, v in sorted(i.get("curve_forward", {}).items())},
            "seconds": self.seconds,
            "seed": i.get("seed"),
            "source": i.get("source"),
            "n_input": i.get("n_input"),
            "algorithm": i.get("algorithm", {}),
        }

    def assignment_frame(self) -> pd.DataFrame:
        """``scenario,medoid,cost``: each input scenario id, its medoid id and their cost."""
        ids = self.reduced.ids
        return pd.DataFrame(
            {
                "scenario": self.info["input_ids"],
                "medoid": ids[self.assignment],
                "cost": self.info["assigned_cost"],
            }
        )


def write_reduction(
    res: ReductionResult,
    out: str | Path,
    *,
    source: str | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write the reduced set as a scenario directory plus ``assignment.csv`` and
    ``reduction.json`` (atomically; ``overwrite`` and ``inputs`` as in
    :func:`scengen.scenarios.write_scenarios`)."""
    from scengen.scenarios import write_scenarios

    if source is not None:
        res.info["source"] = source
        res.reduced.metadata["source"] = source
    return write_scenarios(
        res.reduced,
        out,
        extra_files={ASSIGNMENT_CSV: res.assignment_frame(), REDUCTION_JSON: res.summary()},
        overwrite=overwrite,
        inputs=inputs,
    )
