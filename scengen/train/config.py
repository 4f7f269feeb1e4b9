"""Settings of a training (the ``model`` and ``train`` sections), the conditioning labels
and the device."""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from scengen import data as _data
from scengen.errors import ScengenError

CONDITIONS = _data.CONDITIONS
#: number of labels and the label values of each condition
LABEL_VALUES = {"none": [], "month": list(range(1, 13)), "season": [0, 1, 2, 3]}

Progress = Callable[[dict[str, Any]], None]


#: largest width of a layer / noise vector, and largest temporal kernel [steps], of a model
MAX_WIDTH = 4096
MAX_KERNEL = 99
#: the range 1 .. limit of the whole-number training settings (guards against typos such as
#: 2**62 that would fail deep inside torch or run for ever)
TRAIN_LIMITS = {
    "steps": 100_000_000,
    "n_critic": 100,
    "batch_size": 65_536,
    "checkpoint_every": 100_000_000,
    "log_every": 100_000_000,
    "threads": 1024,
    "ramp_lags": 1440,
    "acf_lags": 1440,
    "val_every": 100_000_000,
    "patience": 100_000_000,
}


def _check_kernel(name: str, k: object) -> None:
    """A convolution kernel [steps] of ``model.<name>``: an odd integer from 1 to MAX_KERNEL."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_KERNEL or k % 2 == 0:
        raise ScengenError(f"model.{name} = {k!r} must be an odd number from 1 to {MAX_KERNEL}")


@dataclass
class ModelConfig:
    """Architecture (``model`` section of a config); see :mod:`scengen.models`.

    Parameters
    ----------
    latent_dim : int, default 32
        Size of the generator's noise vector.
    channels : int, default 32
        Width of the generator's temporal feature maps.
    critic_channels : int, default 48
        Width of the critic's first convolution.
    kernel_size : int, default 5
        Temporal kernel size of the convolutions [steps] (odd).
    embed_dim : int, default 8
        Size of the label embedding of a conditional model.
    critic_diff : bool, default True
        Feed the critic the differences over time (ramps) as well as the profile.
    critic_lags : list of int, default [1]
        Lags [steps] of the differences the critic sees when ``critic_diff`` is on: ``[1]`` is
        the hourly ramp; ``[1, 3, 6]`` also shows it the 3-step and 6-step changes, whose spread
        is the within-day autocorrelation at those lags
        (:math:`E(x_{t+k} - x_t)^2 = 2\\sigma^2 (1 - \\rho_k)` for a stationary series).
    minibatch_std : bool, default True
        Give the critic the across-batch standard deviation of its features (against mode
        collapse and under-dispersion).
    noise_channels : int, default 8
        Per-step noise maps fed to the generator's last layers (local variability).
    output_margin : float, default 0.05
        Stretch of the generator's output sigmoid before clipping to [0, 1] (exact zeros).
    noise_modulation : bool, default True
        Scale the per-step noise maps by gains computed from the day's features (heavy-tailed,
        state-dependent ramps).
    final_kernel : int or None, default None
        Temporal kernel [steps] (odd) of the generator's last two convolutions, after the
        per-step noise maps; ``None`` is ``kernel_size``.
    scale_noise : bool, default False
        Add a noise map at every resolution of the generator (variability at the intermediate
        time scales); see :class:`scengen.models.Generator`.
    """

    latent_dim: int = 32
    channels: int = 32
    critic_channels: int = 48
    kernel_size: int = 5
    embed_dim: int = 8
    critic_diff: bool = True
    critic_lags: list[int] = field(default_factory=lambda: [1])
    minibatch_std: bool = True
    noise_channels: int = 8
    output_margin: float = 0.05
    noise_modulation: bool = True
    scale_noise: bool = False
    final_kernel: int | None = None

    def __post_init__(self) -> None:
        for name in ("latent_dim", "channels", "critic_channels", "embed_dim"):
            if not 1 <= getattr(self, name) <= MAX_WIDTH:
                raise ScengenError(
                    f"model.{name} = {getattr(self, name)} must be from 1 to {MAX_WIDTH}"
                )
        if self.noise_channels > MAX_WIDTH:
            raise ScengenError(
                f"model.noise_channels = {self.noise_channels} must be <= {MAX_WIDTH}"
            )
        if not 0 <= self.output_margin < 0.5:
            raise ScengenError(f"model.output_margin = {self.output_margin} must be in [0, 0.5)")
        if self.noise_channels < 0:
            raise ScengenError(f"model.noise_channels = {self.noise_channels} must be >= 0")
        _check_kernel("kernel_size", self.kernel_size)
        if self.final_kernel is not None:
            _check_kernel("final_kernel", self.final_kernel)
        lags = self.critic_lags
        if (
            not isinstance(lags, (list, tuple))
            or not lags
            or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in lags)
            or len(set(lags)) != len(lags)
        ):
            raise ScengenError(
                f"model.critic_lags = {lags!r} must be a list of distinct whole numbers >= 1"
            )
        self.critic_lags = [int(k) for k in lags]


@dataclass
class TrainConfig:
    """Training settings (``train`` section of a config).

    Parameters
    ----------
    steps : int, default 3000
        Generator steps (each preceded by ``n_critic`` critic steps).
    batch_size : int, default 64
        Days per batch (at least 2).
    n_critic : int, default 5
        Critic steps per generator step.
    lr : float, default 3e-4
        Adam learning rate of both networks (the paper's 1e-4 converges too slowly for a
        CPU budget of a few thousand steps).
    betas : list of float, default [0.0, 0.9]
        Adam betas (Gulrajani et al. 2017).
    lambda_gp : float, default 10.0
        Weight of the gradient penalty.
    ema : float, default 0.99
        Decay of an exponential moving average of the generator weights used for sampling
        (0 = sample with the raw weights).
    lr_decay_from : float or None, default 0.5
        Fraction of ``steps`` after which both learning rates decay linearly to 0 at the last
        step (settles the oscillation of the adversarial game); ``None`` keeps them constant.
    ramp_weight : float, default 10.0
        Weight :math:`\\mu` of a ramp-distribution term added to the generator loss: the 1-D
        Wasserstein-1 distance (Wasserstein-p with ``ramp_p``), per site, between the ramps
        (step-to-step changes) of the generated batch and of a batch of training days,

        .. math:: \\mu \\frac1S \\sum_s \\frac1M \\sum_{m=1}^{M}
            \\big|\\Delta^{fake}_{s,(m)} - \\Delta^{real}_{s,(m)}\\big|

        (sorted ramps of the ``M = batch_size (n_steps - 1)`` pairs). The critic alone leaves
        the ramps too Gaussian (too many medium ramps, too few flat hours and large ramps);
        ramps matter for reserve and storage sizing. 0 = the plain WGAN-GP loss.
    ramp_lags : int, default 1
        Largest lag ``L`` [steps] of the ramp term: it averages the distance above over the
        changes across ``k = 1 .. L`` steps (see :func:`ramp_distance`), which also constrains
        the autocorrelation up to lag ``L``.
    ramp_p : float, default 1.0
        Order :math:`p \\ge 1` of the ramp term: the 1-D Wasserstein-:math:`p` distance,
        :math:`\\big(\\frac1M \\sum_m |\\Delta^{fake}_{s,(m)} - \\Delta^{real}_{s,(m)}|^p\\big)^{1/p}`
        per site. With :math:`p = 1` every sorted ramp pulls with the same force, so the rare
        large ramps (the top 1 %) weigh 1 % of the term; a larger :math:`p` weighs the large
        mismatches, which sit in the tails, more.
    ramp_relative : bool, default False
        Compare the generated ramps with the measured ones rescaled per site by
        :math:`\\bar\\sigma^{gen}_s / \\sigma^{data}_s`, the ratio of the generator's marginal
        standard deviation (mean over steps; a running average over generator steps, decay
        ``RAMP_SCALE_DECAY``) to the training days'. The ramps are then matched in proportion
        to the spread of the levels, and the calibration (``calibrate``), which widens the
        generator's marginals to the training days', widens the ramps to the right size. With
        absolute ramps the calibration left the wind ramps 3-4 % too wide (the generator's
        marginals come out about 3 % too narrow, its ramps right).
    acf_weight : float, default 0.0
        Weight :math:`\\nu` of an autocorrelation term added to the generator loss: the mean
        absolute difference, over sites and lags ``k = 1 .. acf_lags``, between the pooled
        within-day autocorrelation of the generated batch and that of all training days (the
        definition of :func:`scengen.evaluate.autocorrelation_error`, see :func:`batch_acf`).
        The critic sees whole days but pins multi-hour persistence only loosely; this term
        pins it directly. 0 = off.
    acf_lags : int, default 6
        Largest lag [steps] of the autocorrelation term (capped at ``n_steps - 1``).
    fixed_zeros : bool, default True
        Steps that are 0 on every training day and every site (the nights of PV data) at the
        start and the end of the day are fixed at 0 and not modelled: the networks see only the
        steps from the first to the last that is ever non-zero (shipped PV data: 16 of 24 hourly
        steps, 1.35x faster per training step). With ``calibrate`` on, such steps come out as exact
        zeros anyway (their calibration target is all zeros). No effect on data without them.
    calibrate : bool, default True
        After training, fit a marginal calibration (quantile mapping, see
        :func:`fit_calibration`) that :func:`scengen.generate.generate` applies to the samples.
    condition : {"none", "month", "season"}, default "none"
        Label fed to both networks: calendar month (1-12) or season (0 = Dec-Feb, 1 = Mar-May,
        2 = Jun-Aug, 3 = Sep-Nov) of the day.
    checkpoint_every : int, default 500
        Write ``checkpoint.pt`` every this many generator steps (and at the end).
    log_every : int, default 25
        Average the losses over this many generator steps per ``metrics.csv`` row.
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``auto`` = CUDA when available, else CPU.
    threads : int, optional
        CPU threads for torch during training (default on the CPU: ``min(2, torch's default)``;
        these small networks train 1.3x faster on 2 threads than on 1 on a quiet 2-core CPU;
        more were not measured; give 1 when other jobs share the cores).
    max_minutes : float, optional
        Safety cap on the training time of this call [min]: stop (with a checkpoint) when reached.
    val_fraction : float, default 0.15
        Share of the training days (those not held out for testing) set aside as validation
        days (:func:`scengen.data.split_validation`): the generator is scored on them every
        ``val_every`` steps (:mod:`scengen.train.validation`), the best-scoring weights are the
        ones the model samples with, and training stops early when they stop improving. 0 = no
        validation: the last weights are used and all ``steps`` run.
    val_every : int, default 250
        Steps between two validations; a multiple of ``log_every`` (the scores are logged in
        the same ``metrics.csv`` row).
    patience : int or None, default 8
        Stop when this many validations in a row did not improve the best score, so ``steps``
        is a maximum; ``None`` = run all ``steps``. Only validations in the learning-rate decay
        (from ``lr_decay_from``) count: before it the adversarial game has not settled, and the
        decay is where the weights improve most.
    """

    steps: int = 3000
    batch_size: int = 64
    n_critic: int = 5
    lr: float = 3e-4
    betas: list[float] = field(default_factory=lambda: [0.0, 0.9])
    lambda_gp: float = 10.0
    ema: float = 0.99
    lr_decay_from: float | None = 0.5
    ramp_weight: float = 10.0
    ramp_lags: int = 1
    ramp_p: float = 1.0
    ramp_relative: bool = False
    acf_weight: float = 0.0
    acf_lags: int = 6
    fixed_zeros: bool = True
    calibrate: bool = True
    condition: str = "none"
    checkpoint_every: int = 500
    log_every: int = 25
    device: str = "auto"
    threads: int | None = None
    max_minutes: float | None = None
    val_fraction: float = 0.15
    val_every: int = 250
    patience: int | None = 8

    def __post_init__(self) -> None:
        if self.batch_size < 2:
            raise ScengenError(
                f"train.batch_size = {self.batch_size} must be >= 2 (the critic and the loss "
                "terms compare the spread of a batch of days)"
            )
        for name, top in TRAIN_LIMITS.items():
            v = getattr(self, name)
            if v is not None and not 1 <= v <= top:
                raise ScengenError(f"train.{name} = {v} must be from 1 to {top}")
        for name in ("lr", "lambda_gp", "ramp_weight", "acf_weight", "max_minutes"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ScengenError(f"train.{name} = {v} must be a finite number")
        if not self.lr > 0:
            raise ScengenError(f"train.lr = {self.lr} must be > 0")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ScengenError(f"train.betas = {self.betas} must be two numbers in [0, 1)")
        self.betas = [float(b) for b in self.betas]
        if self.lambda_gp < 0:
            raise ScengenError(f"train.lambda_gp = {self.lambda_gp} must be >= 0")
        if not self.ramp_weight >= 0:
            raise ScengenError(f"train.ramp_weight = {self.ramp_weight} must be >= 0")
        if isinstance(self.ramp_p, bool) or not (
            isinstance(self.ramp_p, (int, float)) and 1 <= self.ramp_p <= 8
        ):
            raise ScengenError(f"train.ramp_p = {self.ramp_p!r} must be a number in [1, 8]")
        self.ramp_p = float(self.ramp_p)
        if not self.acf_weight >= 0:
            raise ScengenError(f"train.acf_weight = {self.acf_weight} must be >= 0")
        for name in ("ramp_lags", "acf_lags"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ScengenError(f"train.{name} = {v!r} must be a whole number >= 1")
        if not 0 <= self.ema < 1:
            raise ScengenError(f"train.ema = {self.ema} must be in [0, 1)")
        if self.lr_decay_from is not None and not 0 <= self.lr_decay_from < 1:
            raise ScengenError(f"train.lr_decay_from = {self.lr_decay_from} must be in [0, 1)")
        if self.condition not in CONDITIONS:
            raise ScengenError(
                f"train.condition = {self.condition!r} is not allowed; choose one of {list(CONDITIONS)}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise ScengenError(
                f"train.device = {self.device!r} is not allowed; choose auto, cpu or cuda"
            )
        if self.threads is not None and self.threads < 1:
            raise ScengenError(f"train.threads = {self.threads} must be >= 1")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ScengenError(f"train.max_minutes = {self.max_minutes} must be > 0")
        if isinstance(self.val_fraction, bool) or not (
            isinstance(self.val_fraction, (int, float)) and 0 <= self.val_fraction < 1
        ):
            raise ScengenError(f"train.val_fraction = {self.val_fraction!r} must be in [0, 1)")
        if self.val_every % self.log_every:
            raise ScengenError(
                f"train.val_every = {self.val_every} must be a multiple of train.log_every = "
                f"{self.log_every}"
            )


#: settings that may differ between a run and its resumption (they do not change the result)
RESUMABLE_CHANGES = (
    "steps",
    "checkpoint_every",
    "log_every",
    "device",
    "threads",
    "max_minutes",
    "calibrate",
    "patience",
)
#: settings added with a default that changes what earlier runs did: the value a checkpoint
#: that does not record them ran with (otherwise such a run ran with today's default)
UNRECORDED = {"model": {}, "train": {"fixed_zeros": False, "val_fraction": 0.0}}


# ---------------------------------------------------------------------- helpers


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available else CPU; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ScengenError("device 'cuda' was requested but no CUDA device is available")
        return torch.device("cuda")
    if device == "cpu":
        return torch.device("cpu")
    raise ScengenError(f"device {device!r} is not allowed; choose auto, cpu or cuda")


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that produce a result."""
    import scengen

    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "scengen": str(scengen.__version__),
    }


#: label of each day: month 1-12, season 0-3 (0 = Dec-Feb), or zeros for ``none``
day_labels = _data.labels


def label_index(condition: str, label: int) -> int:
    """Position of ``label`` in the embedding of a ``condition`` model."""
    return LABEL_VALUES[condition].index(int(label))


def check_label(condition: str, label: Any, label_counts: list[int] | None = None) -> int:
    """Validate a requested label for a model trained with ``condition``; return it as int."""
    if condition == "none":
        raise ScengenError(
            f"condition {label!r} was given but the model was trained without conditioning "
            "(train with --condition month|season)"
        )
    allowed = LABEL_VALUES[condition]
    try:
        value = int(label)
        if value != float(label):
            raise ValueError
    except (TypeError, ValueError):
        value = None
    if value not in allowed:
        what = "a month 1-12" if condition == "month" else "a season 0-3 (0 = Dec-Feb)"
        raise ScengenError(
            f"condition {label!r} is not allowed for a model conditioned on {condition}; give {what}"
        )
    if label_counts is not None and label_counts[label_index(condition, value)] == 0:
        raise ScengenError(
            f"condition {value} ({condition}) had no training days; the model cannot sample it"
        )
    return value
