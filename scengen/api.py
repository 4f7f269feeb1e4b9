"""The flat public API's recipes and verbs that are not a stage module's own: a typed
:class:`Config` of a YAML recipe, :func:`score` and :func:`export_scenarios`.

The verbs do not share a name with a module (``scengen.evaluate``, ``scengen.export``,
``scengen.reduce`` stay importable as modules).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scengen.config import from_dict, read_config_file
from scengen.data import DataConfig, Profiles
from scengen.errors import ScengenError
from scengen.evaluate import EvaluateConfig, EvaluationResult, evaluate
from scengen.export import ExportConfig, export
from scengen.generate import GenerateConfig
from scengen.reduce import ReduceConfig
from scengen.scenarios import ScenarioSet
from scengen.train import ModelConfig, TrainConfig


@dataclass
class Config:
    """A recipe: the typed sections of a single-job YAML config (``configs/wind.yaml``).

    ``decision`` and ``report`` stay mappings here; their stages validate them.
    """

    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    reduce: ReduceConfig = field(default_factory=ReduceConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    decision: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def load_config(path: str | os.PathLike) -> Config:
    """Read a single-job YAML config (a shipped recipe such as ``configs/pv.yaml``) into typed
    sections; unknown keys at any level and wrong types are errors naming the key. A relative
    ``data.path`` is taken relative to the file's folder."""
    raw = read_config_file(path)
    return from_dict(Config, {k: v for k, v in raw.items() if v is not None}, str(Path(path)))


def _as_set(x: Any, name: str) -> ScenarioSet | None:
    if x is None or isinstance(x, ScenarioSet):
        return x
    if isinstance(x, Profiles):
        return x.to_scenarios()
    raise ScengenError(f"{name} must be a ScenarioSet or Profiles, got {type(x).__name__}")


def score(
    scenarios: ScenarioSet,
    heldout: ScenarioSet | Profiles,
    train: ScenarioSet | Profiles | None = None,
    **options: Any,
) -> EvaluationResult:
    """Score scenarios against held-out measured days (:func:`scengen.evaluate.evaluate`).

    ``heldout`` and ``train`` may be :class:`Profiles` (e.g. the two parts of
    ``Profiles.split``). With the training days the result holds the *history* and Gaussian
    copula reference rows and the quality checks; ``.table`` is a DataFrame.
    """
    return evaluate(
        _as_set(scenarios, "scenarios"), _as_set(heldout, "heldout"), _as_set(train, "train"),
        **options,
    )  # fmt: skip


def export_scenarios(
    scenarios: ScenarioSet, fmt: str, out: str | os.PathLike, **options: Any
) -> Path:
    """Write scenarios in a layout an optimisation tool reads (:func:`scengen.export.export`:
    ``long``, ``wide``, ``pypsa``, ``gams``, ``plexos`` or ``pyomo``)."""
    return export(scenarios, fmt, out, **options)
