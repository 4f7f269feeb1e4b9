"""The trained model as an object: train it from days in memory, sample it, save and load it.

A :class:`Model` holds a checkpoint (the dict ``checkpoint.pt`` holds: weights, config, sites,
capacities, step length, data fingerprint, calibration) and what is known of its training: the
metadata a run directory records, the logged losses and, when known, the training and held-out
days. Nothing touches the disk unless :meth:`Model.save` is called.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from scengen import _io
from scengen import data as _data
from scengen import train as _train
from scengen.config import dump_yaml, to_dict
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet


class Model:
    """A trained WGAN-GP generator of daily profiles.

    Parameters
    ----------
    checkpoint : dict
        The checkpoint (see :func:`scengen.train.load_checkpoint`).
    metadata : dict, optional
        What a run directory's ``metadata.json`` records (seed, device, data summary, timings).
    metrics : list of dict, optional
        Logged training losses, one dict per row (``scengen.train.METRIC_COLUMNS``).
    train_days, test_days : Profiles, optional
        The days it was trained on and the held-out days, when known.
    val_days : Profiles, optional
        The validation days that chose its weights (``train.val_fraction``), when known.
    path : str, optional
        The run directory it was loaded from or saved to.
    """

    def __init__(
        self,
        checkpoint: dict[str, Any],
        *,
        metadata: dict[str, Any] | None = None,
        metrics: list[dict[str, float]] | None = None,
        train_days: _data.Profiles | None = None,
        test_days: _data.Profiles | None = None,
        val_days: _data.Profiles | None = None,
        path: str | None = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.metadata = dict(metadata or {})
        self._metrics = list(metrics or [])
        self.train_days, self.test_days, self.val_days = train_days, test_days, val_days
        self.path = path

    # ------------------------------------------------------------------ description
    @property
    def sites(self) -> list[str]:
        """Site names, in the order of the values' second axis."""
        return list(self.checkpoint["sites"])

    @property
    def step_minutes(self) -> int:
        """Step length [min]."""
        return int(self.checkpoint["step_minutes"])

    @property
    def condition(self) -> str:
        """``"none"``, ``"month"`` or ``"season"``: the label a sample may ask for."""
        return str(self.checkpoint.get("condition", "none"))

    @property
    def step(self) -> int:
        """Generator steps trained."""
        return int(self.checkpoint["step"])

    @property
    def config(self) -> dict[str, Any]:
        """The ``data``, ``model`` and ``train`` settings it was trained with."""
        return dict(self.checkpoint["config"])

    @property
    def metrics(self) -> pd.DataFrame:
        """The logged training losses (``step, critic_loss, wasserstein, gradient_penalty,
        generator_loss, time_s``), one row per ``train.log_every`` steps."""
        return pd.DataFrame(self._metrics, columns=list(_train.METRIC_COLUMNS))

    def __repr__(self) -> str:
        return (
            f"Model({len(self.sites)} sites x {self.checkpoint['n_steps']} steps of "
            f"{self.step_minutes} min, {self.step} steps trained, condition {self.condition!r}"
            + (f", {self.path!r})" if self.path else ")")
        )

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: int | None = None,
        batch_size: int = 8192,
        device: str = "auto",
        calibrated: bool = True,
    ) -> ScenarioSet:
        """Sample ``n`` daily scenarios (equal probabilities) [p.u.].

        The arguments are those of :func:`scengen.generate.generate`; the same seed gives the
        same scenarios as ``scengen generate`` from the saved model.
        """
        from scengen.generate import generate

        return generate(
            self,
            n,
            seed=seed,
            condition=condition,
            batch_size=batch_size,
            device=device,
            calibrated=calibrated,
        )

    # ------------------------------------------------------------------ disk
    def save(self, run_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model as a run directory that ``scengen generate`` and :func:`load_model`
        read: ``checkpoint.pt``, ``config.yaml``, ``metadata.json``, ``metrics.csv`` and, when
        the training and held-out days are known, ``split.csv`` + ``profiles.npz``.

        ``run_dir`` must be new or empty, or (with ``overwrite``) a run directory scengen wrote;
        it appears only when complete.
        """
        with _io.staging_dir(run_dir, "run", overwrite=overwrite) as d:
            _io.write_json(d / _train.METADATA_JSON, {**self.metadata, "scengen_output": "run"})
            _io.write_text(d / _train.CONFIG_YAML, dump_yaml(self.config))
            rows = [",".join(_fmt(r[c], c) for c in _train.METRIC_COLUMNS) for r in self._metrics]
            _io.write_text(
                d / _train.METRICS_CSV, "\n".join([",".join(_train.METRIC_COLUMNS), *rows]) + "\n"
            )
            if self.train_days is not None and self.test_days is not None:
                _data.save_split(d, self.train_days, self.test_days, self.val_days)
            _train._save_checkpoint(d / _train.CHECKPOINT, self.checkpoint)
        self.path = str(run_dir)
        return Path(run_dir)


def _fmt(v: float, column: str) -> str:
    if v != v:  # NaN: no value in this row (validation scores between validations)
        return ""
    return str(int(v)) if column == "step" else f"{v:.6g}"


def fit(
    days: _data.Profiles,
    config: Any = None,
    *,
    seed: int | None = None,
    test_days: _data.Profiles | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> Model:
    """Train a WGAN-GP on daily profiles in memory and return the model.

    Parameters
    ----------
    days : Profiles
        The training days ``(n_days, n_sites, n_steps)`` [p.u.] with their dates;
        ``train.val_fraction`` of them are set aside as validation days (``Model.val_days``).
    config : Config, optional
        Its ``model`` and ``train`` sections (and ``seed``) are used (see :func:`load_config`);
        default settings without one.
    seed : int, optional
        Overrides the config's seed (0 without a config).
    test_days : Profiles, optional
        The held-out days, kept with the model (saved with it for ``scengen evaluate``).
    progress : callable, optional
        Called with the training progress (see :func:`scengen.train.train_run`).

    Returns
    -------
    Model
    """
    if not isinstance(days, _data.Profiles):
        raise ScengenError(f"fit: days must be Profiles (see load_profiles), got {type(days)}")
    model_cfg = getattr(config, "model", None) or _train.ModelConfig()
    train_cfg = getattr(config, "train", None) or _train.TrainConfig()
    seed = seed if seed is not None else getattr(config, "seed", 0)
    data = getattr(config, "data", None)
    data_cfg = {"path": days.source} if data is None else {**to_dict(data), "path": days.source}
    meta, ckpt, metrics, train_days, val_days = _train.fit(
        days, model_cfg, train_cfg, seed=seed, data_config=data_cfg, progress=progress
    )
    if test_days is not None:
        meta["data"]["n_test"] = int(test_days.n_days)
    return Model(
        ckpt,
        metadata=meta,
        metrics=metrics,
        train_days=train_days,
        test_days=test_days,
        val_days=val_days,
    )


def load_model(path: str | os.PathLike) -> Model:
    """The model of a run directory (``scengen train --out``, :meth:`Model.save`) or of a
    checkpoint file."""
    ckpt = _train.load_checkpoint(path)
    d = Path(path) if Path(path).is_dir() else Path(path).parent
    meta: dict[str, Any] = {}
    if (d / _train.METADATA_JSON).is_file():
        try:
            meta = _io.read_json(d / _train.METADATA_JSON)
        except (OSError, ValueError):
            meta = {}
    metrics: list[dict[str, float]] = []
    if (d / _train.METRICS_CSV).is_file():
        try:
            frame = pd.read_csv(d / _train.METRICS_CSV)
            frame = frame.reindex(columns=list(_train.METRIC_COLUMNS))  # older runs: no scores
            metrics = frame.to_dict("records")
        except (ValueError, KeyError, pd.errors.ParserError):
            metrics = []
    train_days = test_days = val_days = None
    if (d / _data.PROFILES_NPZ).is_file():
        train_days, test_days = _data.load_split(d)
        val_days = _data.load_validation(d)
    return Model(
        ckpt,
        metadata=meta if isinstance(meta, dict) else {},
        metrics=metrics,
        train_days=train_days,
        test_days=test_days,
        val_days=val_days,
        path=str(path),
    )
