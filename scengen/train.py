r"""Train a WGAN-GP on daily profiles: training loop, checkpoints and run-directory I/O.

The losses are those of Gulrajani et al. (2017), "Improved Training of Wasserstein GANs":

.. math::

    L_D = \mathbb{E}[D(\tilde x)] - \mathbb{E}[D(x)]
          + \lambda\, \mathbb{E}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2\big],
    \qquad L_G = -\mathbb{E}[D(\tilde x)],

with real days :math:`x`, generated days :math:`\tilde x = G(z)`, random interpolates
:math:`\hat x = \epsilon x + (1 - \epsilon) \tilde x`, :math:`\epsilon \sim U[0, 1]`, and
:math:`\lambda = 10`; ``n_critic`` critic steps per generator step, Adam with
:math:`\beta = (0, 0.9)`. :math:`W \approx \mathbb{E}[D(x)] - \mathbb{E}[D(\tilde x)]` is logged as
the Wasserstein estimate.

A run directory holds ``config.yaml``, ``metadata.json``, ``split.csv`` + ``profiles.npz`` (the
held-out days), ``metrics.csv`` and ``checkpoint.pt`` (see :func:`train_run`).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import platform
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scengen import _io
from scengen import data as _data
from scengen.config import check_seed, dump_yaml, from_dict, to_dict
from scengen.errors import ScengenError
from scengen.models import Critic, Generator

CHECKPOINT = "checkpoint.pt"
METRICS_CSV = "metrics.csv"
CONFIG_YAML = "config.yaml"
METADATA_JSON = "metadata.json"
CHECKPOINT_FORMAT = "scengen-wgan-gp"
CHECKPOINT_VERSION = 1
METRIC_COLUMNS = (
    "step",
    "critic_loss",
    "wasserstein",
    "gradient_penalty",
    "generator_loss",
    "time_s",
)
CONDITIONS = ("none", "month", "season")
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
}


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
        Feed the critic the first difference over time (ramps) as well as the profile.
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
    """

    latent_dim: int = 32
    channels: int = 32
    critic_channels: int = 48
    kernel_size: int = 5
    embed_dim: int = 8
    critic_diff: bool = True
    minibatch_std: bool = True
    noise_channels: int = 8
    output_margin: float = 0.05
    noise_modulation: bool = True

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
        if self.kernel_size > MAX_KERNEL:
            raise ScengenError(f"model.kernel_size = {self.kernel_size} must be <= {MAX_KERNEL}")
        if not 0 <= self.output_margin < 0.5:
            raise ScengenError(f"model.output_margin = {self.output_margin} must be in [0, 0.5)")
        if self.noise_channels < 0:
            raise ScengenError(f"model.noise_channels = {self.noise_channels} must be >= 0")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ScengenError(f"model.kernel_size = {self.kernel_size} must be an odd number >= 1")


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


#: decay of the running average of the generator's marginal standard deviation (ramp_relative)
RAMP_SCALE_DECAY = 0.99


#: settings that may differ between a run and its resumption (they do not change the result)
RESUMABLE_CHANGES = (
    "steps",
    "checkpoint_every",
    "log_every",
    "device",
    "threads",
    "max_minutes",
    "calibrate",
)
#: settings added with a default that changes what earlier runs did: the value a checkpoint
#: that does not record them ran with (otherwise such a run ran with today's default)
UNRECORDED = {"model": {}, "train": {"fixed_zeros": False}}
#: quantile levels and generated samples (per label) of the marginal calibration
CALIBRATION_LEVELS = 201
CALIBRATION_SAMPLES = 10_000
#: fewest training days of a label for its calibration to be fitted
CALIBRATION_MIN_DAYS = 20


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


def day_labels(profiles: Any, condition: str) -> np.ndarray:
    """Label of each day: month 1-12, season 0-3 (0 = Dec-Feb), or zeros for ``none``."""
    if condition == "none":
        return np.zeros(profiles.n_days, dtype=np.int64)
    return _data.labels(profiles, condition)


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


def build_models(
    model_cfg: ModelConfig, n_sites: int, n_steps: int, n_labels: int
) -> tuple[Generator, Critic]:
    """Generator and critic for ``(n_sites, n_steps)`` days and ``n_labels`` labels."""
    m = model_cfg
    g = Generator(
        n_sites,
        n_steps,
        latent_dim=m.latent_dim,
        channels=m.channels,
        n_labels=n_labels,
        embed_dim=m.embed_dim,
        kernel_size=m.kernel_size,
        noise_channels=m.noise_channels,
        output_margin=m.output_margin,
        noise_modulation=m.noise_modulation,
    )
    d = Critic(
        n_sites,
        n_steps,
        channels=m.critic_channels,
        n_labels=n_labels,
        embed_dim=m.embed_dim,
        kernel_size=m.kernel_size,
        diff=m.critic_diff,
        minibatch_std=m.minibatch_std,
    )
    return g, d


def gradient_penalty(
    critic: Critic, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor, labels: Any = None
) -> torch.Tensor:
    r"""WGAN-GP penalty :math:`\mathbb{E}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]`.

    ``eps`` has shape ``(batch, 1, 1)``; the gradient is taken with ``create_graph=True`` so the
    penalty can be back-propagated into the critic's weights.
    """
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score = critic(xhat, labels)
    (grad,) = torch.autograd.grad(score.sum(), xhat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def ramp_distance(
    fake: torch.Tensor, real: torch.Tensor, max_lag: int = 1, p: float = 1.0
) -> torch.Tensor:
    r"""Differentiable 1-D Wasserstein-p between the ramp distributions of two equal-size
    batches ``(batch, n_sites, n_steps)``, averaged over sites and lags [p.u.].

    With :math:`\Delta^{(k)}_s` the changes over ``k`` steps, :math:`x_{t+k} - x_t`, of site
    ``s`` pooled over the batch (``M_k`` values),

    .. math:: \frac1L \sum_{k=1}^{L} \frac1S \sum_s \Big(\frac1{M_k} \sum_m
              |\mathrm{sort}(\Delta^{(k),a}_s)_m - \mathrm{sort}(\Delta^{(k),b}_s)_m|^p\Big)^{1/p}

    with ``L = min(max_lag, n_steps - 1)``. ``max_lag = 1`` is the distance of the step-to-step
    ramps; larger lags also pin the spread of multi-step changes, i.e. the autocorrelation.
    """
    lags = range(1, max(1, min(int(max_lag), fake.shape[2] - 1)) + 1)
    total = fake.new_zeros(())
    for k in lags:
        rf = (fake[:, :, k:] - fake[:, :, :-k]).transpose(0, 1).flatten(1)
        rr = (real[:, :, k:] - real[:, :, :-k]).transpose(0, 1).flatten(1)
        gap = (rf.sort(dim=1).values - rr.sort(dim=1).values).abs()
        if p == 1:
            total = total + gap.mean()
        else:  # per site; the small offset keeps the gradient finite at a perfect match
            total = total + (gap.pow(p).mean(dim=1) + 1e-12).pow(1 / p).mean()
    return total / len(lags)


def batch_acf(x: torch.Tensor, max_lag: int = 6) -> torch.Tensor:
    r"""Pooled within-day autocorrelation per site of a batch ``(batch, n_sites, n_steps)``.

    With each day centred on its own mean, :math:`c_{d,s,t} = x_{d,s,t} - \bar x_{d,s}`,

    .. math:: \rho_s(k) = \frac{\sum_d \sum_{t=0}^{T-1-k} c_{d,s,t}\, c_{d,s,t+k}}
                               {\sum_d \sum_{t=0}^{T-1} c_{d,s,t}^2 + \epsilon}

    for ``k = 1 .. min(max_lag, n_steps - 1)``; shape ``(n_sites, n_lags)``, differentiable.
    The same statistic as :func:`scengen.evaluate.autocorrelation_error` with equal weights
    (``epsilon = 1e-8`` keeps a site that is flat in every day finite).
    """
    c = x - x.mean(dim=2, keepdim=True)
    den = (c * c).sum(dim=(0, 2)) + 1e-8
    lags = range(1, max(1, min(int(max_lag), x.shape[2] - 1)) + 1)
    return torch.stack([(c[:, :, k:] * c[:, :, :-k]).sum(dim=(0, 2)) / den for k in lags], 1)


def modelled_steps(values: np.ndarray) -> tuple[int, int]:
    """Span ``(start, stop)`` of the steps a model sees under ``train.fixed_zeros``.

    ``start`` is the first step and ``stop - 1`` the last at which any of the days
    ``(n_days, n_sites, n_steps)`` is non-zero on any site; ``(0, n_steps)`` when no step is
    non-zero (nothing to crop by).
    """
    active = np.flatnonzero(np.asarray(values).max(axis=(0, 1)) > 0)
    if active.size == 0:
        return 0, int(values.shape[2])
    return int(active[0]), int(active[-1]) + 1


def checkpoint_span(ckpt: dict[str, Any]) -> list[int]:
    """``[start, stop]``: the steps a checkpoint's generator models (``modelled_steps``); all
    steps for a checkpoint written before it was recorded. :func:`load_checkpoint` checks it."""
    return ckpt.get("modelled_steps", [0, ckpt["n_steps"]])


def fit_calibration(
    gen: Generator,
    train_values: np.ndarray,
    label_idx: np.ndarray,
    n_labels: int,
    seed: int,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    r"""Fit the marginal calibration (quantile mapping) of a trained generator.

    For every site and step ``(s, t)`` (and label of a conditional model) the generator's marginal
    CDF :math:`\hat F_{s,t}` is estimated from ``CALIBRATION_SAMPLES`` samples and the training
    days' :math:`F_{s,t}` from the data, both as ``CALIBRATION_LEVELS`` quantiles. A generated
    value is then mapped as :math:`x \mapsto F_{s,t}^{-1}(\hat F_{s,t}(x))` (monotone per
    coordinate, so the generator's dependence across sites and steps, i.e. its copula, is
    kept while each marginal matches the training days; the classic quantile-mapping bias
    correction). Labels with fewer than ``CALIBRATION_MIN_DAYS`` training days are left as they
    are.

    Returns
    -------
    dict
        ``levels`` (int), ``generated`` and ``target`` tensors ``(L, levels, n_sites, n_steps)``
        with ``L = max(n_labels, 1)``, ``fitted`` bool tensor ``(L,)``, ``n_samples``.
    """
    k = CALIBRATION_LEVELS
    q = np.linspace(0.0, 1.0, k)
    n_l = max(n_labels, 1)
    shape = (n_l, k, train_values.shape[1], train_values.shape[2])
    g_q, t_q = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    fitted = np.zeros(n_l, dtype=bool)
    rng = torch.Generator().manual_seed(int(seed) + 2)
    n = CALIBRATION_SAMPLES if n_labels == 0 else max(2000, CALIBRATION_SAMPLES // n_labels)
    was_training = gen.training
    gen.eval()
    with torch.no_grad():
        for li in range(n_l):
            days = train_values if n_labels == 0 else train_values[label_idx == li]
            if len(days) < CALIBRATION_MIN_DAYS:
                continue
            parts = []
            for a in range(0, n, 5000):
                m = min(5000, n - a)
                z = torch.randn(m, gen.input_dim, generator=rng).to(device)
                lab = None
                if n_labels:
                    lab = torch.full((m,), li, dtype=torch.long, device=device)
                parts.append(gen(z, lab).float().cpu().numpy())
            g_q[li] = np.quantile(np.concatenate(parts), q, axis=0)
            t_q[li] = np.quantile(days, q, axis=0)
            fitted[li] = True
    gen.train(was_training)
    return {
        "levels": k,
        "generated": torch.from_numpy(g_q),
        "target": torch.from_numpy(t_q),
        "fitted": torch.from_numpy(fitted),
        "n_samples": int(n),
    }


def _state_to_cpu(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach().cpu().clone()
    if isinstance(state, dict):
        return {k: _state_to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_state_to_cpu(v) for v in state]
    if isinstance(state, tuple):
        return tuple(_state_to_cpu(v) for v in state)
    return state


# ---------------------------------------------------------------------- checkpoints


def checkpoint_path(run_dir_or_file: str | os.PathLike) -> Path:
    """``RUN_DIR/checkpoint.pt`` for a run directory, the path itself for a file."""
    p = Path(run_dir_or_file)
    if p.is_dir():
        return p / CHECKPOINT
    return p


def load_checkpoint(run_dir_or_file: str | os.PathLike, device: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`train_run` (``torch.load(weights_only=True)``).

    Parameters
    ----------
    run_dir_or_file : path
        A run directory (its ``checkpoint.pt`` is read) or a checkpoint file.
    device : str, default "cpu"
        Where to map the tensors.

    Raises
    ------
    FileNotFoundError
        When the run directory or file does not exist.
    ScengenError
        When the directory has no checkpoint, or the file is corrupt, truncated or not a scengen
        checkpoint of a supported format.
    """
    src = Path(run_dir_or_file)
    if not src.exists():
        raise FileNotFoundError(f"run directory or checkpoint {str(src)!r} does not exist")
    path = checkpoint_path(src)
    if not path.is_file():
        raise ScengenError(
            f"{str(src)!r} has no {CHECKPOINT}; train first with 'scengen train ... --out {src}'"
        )
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # corrupt, truncated or unsafe pickle
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ScengenError(
            f"checkpoint {str(path)!r} cannot be read (corrupt, truncated or not a scengen "
            f"checkpoint): {first}"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ScengenError(f"{str(path)!r} is not a scengen checkpoint")
    if ckpt.get("format_version") != CHECKPOINT_VERSION:
        raise ScengenError(
            f"checkpoint {str(path)!r} has format version {ckpt.get('format_version')!r}; this "
            f"scengen reads version {CHECKPOINT_VERSION} (retrain the model)"
        )
    problem = _checkpoint_problem(ckpt)
    if problem is not None:
        raise ScengenError(f"checkpoint {str(path)!r} is {problem}")
    return ckpt


#: entries every checkpoint of format version 1 holds (read with ``ckpt[key]``)
_CHECKPOINT_REQUIRED = (
    "generator",
    "config",
    "sites",
    "n_steps",
    "step",
    "step_minutes",
    "capacities",
    "n_labels",
)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _tensor_dict_problem(state: Any, model: torch.nn.Module, what: str) -> str | None:
    """Why ``state`` is not a finite state dict of ``model`` (names, shapes, kinds), or ``None``."""
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        return f"corrupt: {what} is not a mapping of tensors"
    ref = model.state_dict()
    if set(ref) != set(state):
        extra, lost = sorted(set(state) - set(ref)), sorted(set(ref) - set(state))
        name = f"no tensor {lost[0]!r}" if lost else f"an unknown tensor {extra[0]!r}"
        return f"corrupt: {what} has {name} for its recorded model config"
    for k, r in ref.items():
        t = state[k]
        if tuple(t.shape) != tuple(r.shape) or t.is_floating_point() != r.is_floating_point():
            return (
                f"corrupt: {what} tensor {k!r} has shape {list(t.shape)} ({t.dtype}); its "
                f"recorded model config needs {list(r.shape)} ({r.dtype})"
            )
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return f"corrupt: {what} tensor {k!r} holds non-finite numbers"
    return None


def _optimizer_problem(state: Any, model: torch.nn.Module, what: str) -> str | None:
    """Why ``state`` is not an Adam state of ``model``'s parameters, or ``None`` (checked by
    loading it onto the parameters of a model on the ``meta`` device: nothing is allocated)."""
    if not isinstance(state, dict) or not isinstance(state.get("param_groups"), list):
        return f"corrupt: {what} is not an optimizer state"
    opt = torch.optim.Adam(model.parameters())
    try:
        opt.load_state_dict(state)
    except Exception as e:  # wrong groups, sizes or types
        return f"corrupt: {what} does not fit the model ({type(e).__name__})"
    for p, st in opt.state.items():
        for key, v in st.items():
            if key in ("exp_avg", "exp_avg_sq") and (
                not isinstance(v, torch.Tensor) or tuple(v.shape) != tuple(p.shape)
            ):
                return f"corrupt: {what} entry {key!r} does not fit its parameter"
    return None


def _checkpoint_problem(ckpt: dict[str, Any]) -> str | None:
    """What makes a loaded checkpoint unusable (``"incomplete: ..."`` / ``"corrupt: ..."``), or
    ``None``: every entry that sampling, resuming and the run's metadata read, with its type,
    and the weights and optimizer states against the model its config describes (built on the
    ``meta`` device, so a corrupt size allocates nothing)."""
    missing = [k for k in _CHECKPOINT_REQUIRED if k not in ckpt]
    if missing:
        return f"incomplete: no {missing[0]!r}"
    step, n_steps, sites = ckpt["step"], ckpt["n_steps"], ckpt["sites"]
    if not _is_int(step) or step < 0:
        return f"corrupt: step = {step!r} is not a whole number >= 0"
    if not _is_int(n_steps) or n_steps < 1:
        return f"corrupt: n_steps = {n_steps!r} is not a whole number >= 1"
    span = checkpoint_span(ckpt)
    if not (
        isinstance(span, (list, tuple))
        and len(span) == 2
        and all(_is_int(v) for v in span)
        and 0 <= span[0] < span[1] <= n_steps
    ):
        return (
            f"corrupt: modelled_steps = {span!r} is not a span [start, stop) within its "
            f"{n_steps!r} steps"
        )
    if (
        not isinstance(sites, (list, tuple))
        or not sites
        or not all(isinstance(x, str) for x in sites)
        or len(set(sites)) != len(sites)
    ):
        return f"corrupt: sites = {sites!r} is not a list of distinct site names"
    caps = ckpt["capacities"]
    if (
        not isinstance(caps, (list, tuple))
        or len(caps) != len(sites)
        or not all(_is_number(c) and math.isfinite(c) and c > 0 for c in caps)
    ):
        return f"corrupt: capacities = {caps!r} are not {len(sites)} positive numbers"
    sm = ckpt["step_minutes"]
    if not _is_int(sm) or not 1 <= sm <= 24 * 60:
        return f"corrupt: step_minutes = {sm!r} is not a step length in minutes"
    start = ckpt.get("start_minute", 0)
    if not _is_int(start) or not 0 <= start < 24 * 60:
        return f"corrupt: start_minute = {start!r} is not a minute of the day"
    for key, kind in (("units", str), ("fingerprint", str)):
        if key in ckpt and not isinstance(ckpt[key], kind):
            return f"corrupt: {key} = {ckpt[key]!r} is not text"
    if "seed" in ckpt:
        try:
            check_seed(ckpt["seed"])
        except ScengenError:
            return f"corrupt: seed = {ckpt['seed']!r} is not a seed"
    condition, n_labels = ckpt.get("condition", "none"), ckpt["n_labels"]
    if condition not in LABEL_VALUES:
        return f"corrupt: condition = {condition!r} is not one of {list(CONDITIONS)}"
    if not _is_int(n_labels) or n_labels != len(LABEL_VALUES[condition]):
        return f"corrupt: n_labels = {n_labels!r} does not fit condition {condition!r}"
    counts = ckpt.get("label_counts", [] if not n_labels else None)
    if (
        not isinstance(counts, (list, tuple))
        or len(counts) != n_labels
        or not all(_is_int(c) and c >= 0 for c in counts)
        or (n_labels and sum(counts) <= 0)
    ):
        return f"corrupt: label_counts = {counts!r} are not {n_labels} day counts"
    for key in ("elapsed_s",):
        if key in ckpt and not (_is_number(ckpt[key]) and math.isfinite(ckpt[key])):
            return f"corrupt: {key} = {ckpt[key]!r} is not a number"
    if "metrics_n" in ckpt and not _is_int(ckpt["metrics_n"]):
        return f"corrupt: metrics_n = {ckpt['metrics_n']!r} is not a whole number"
    for key, size in (("metrics_acc", 4), ("ramp_sd_gen", len(sites))):
        v = ckpt.get(key)
        if v is not None and not (
            isinstance(v, (list, tuple))
            and len(v) in ((size,) if key == "metrics_acc" else (0, size))
            and all(_is_number(x) and math.isfinite(x) for x in v)
        ):
            return f"corrupt: {key} = {v!r} is not {size} numbers"
    config = ckpt["config"]
    if not isinstance(config, dict) or not all(
        isinstance(config.get(s), dict) for s in ("data", "model", "train")
    ):
        return "corrupt: config is not a mapping with the sections data, model and train"
    try:
        model_cfg = from_dict(ModelConfig, config["model"], "config.model")
    except ScengenError as e:
        return f"corrupt: {e}"
    try:
        with torch.device("meta"):
            gen, critic = build_models(model_cfg, len(sites), span[1] - span[0], n_labels)
    except Exception as e:  # sizes beyond what a tensor can hold
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:120]
        return f"corrupt: its model config cannot be built: {first}"
    problem = _tensor_dict_problem(ckpt["generator"], gen, "generator")
    if problem is None and ckpt.get("generator_ema"):
        problem = _tensor_dict_problem(ckpt["generator_ema"], gen, "generator_ema")
    if problem is None and "critic" in ckpt:
        problem = _tensor_dict_problem(ckpt["critic"], critic, "critic")
    for key, model in (("opt_generator", gen), ("opt_critic", critic)):
        if problem is None and key in ckpt:
            problem = _optimizer_problem(ckpt[key], model, key)
    if problem is not None:
        return problem
    rng = ckpt.get("rng_state")
    if rng is not None:
        try:
            torch.Generator().set_state(rng)
        except Exception:  # not a generator state
            return "corrupt: rng_state is not a random generator state"
    return _calibration_problem(ckpt.get("calibration"), max(n_labels, 1), len(sites), span)


def _calibration_problem(cal: Any, n_l: int, n_sites: int, span: Any) -> str | None:
    """Why ``cal`` is not a calibration of ``fit_calibration`` for this model, or ``None``."""
    if not cal:  # none fitted (an intermediate checkpoint, or calibrate off)
        return None
    if not isinstance(cal, dict):
        return "corrupt: calibration is not a mapping"
    k = cal.get("levels")
    if not _is_int(k) or k < 2:
        return f"corrupt: calibration levels = {k!r} is not a whole number >= 2"
    shape = (n_l, k, n_sites, span[1] - span[0])
    for key in ("generated", "target"):
        t = cal.get(key)
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape or not t.is_floating_point():
            return f"corrupt: calibration {key!r} is not a {list(shape)} tensor of quantiles"
        if not bool(torch.isfinite(t).all()) or (
            key == "target" and not bool(((t >= 0) & (t <= 1)).all())
        ):
            return f"corrupt: calibration {key!r} holds values outside [0, 1] or non-finite"
    fitted = cal.get("fitted")
    if not isinstance(fitted, torch.Tensor) or fitted.dtype != torch.bool or fitted.shape != (n_l,):
        return f"corrupt: calibration 'fitted' is not {n_l} true/false flags"
    return None


def generator_from_checkpoint(
    ckpt: dict[str, Any], device: str | torch.device = "cpu", ema: bool = True
) -> Generator:
    """The generator of a checkpoint (its EMA weights when present and ``ema``), in eval mode."""
    model_cfg = from_dict(ModelConfig, ckpt["config"]["model"], "checkpoint model")
    start, stop = checkpoint_span(ckpt)
    g, _ = build_models(model_cfg, len(ckpt["sites"]), stop - start, int(ckpt["n_labels"]))
    state = ckpt.get("generator_ema") if ema and ckpt.get("generator_ema") else ckpt["generator"]
    try:
        g.load_state_dict(state)
    except RuntimeError as e:
        raise ScengenError(
            f"checkpoint weights do not fit its recorded model config: {str(e).splitlines()[0]}"
        ) from None
    return g.to(device).eval()


def _save_checkpoint(path: Path, ckpt: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    with _io.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
            f.flush()
            os.fsync(f.fileno())


# ---------------------------------------------------------------------- metrics


class _Metrics:
    """``metrics.csv`` appended one whole line at a time (a valid CSV after any interruption)."""

    def __init__(self, path: Path | None, resume_step: int | None, log_every: int) -> None:
        self.path = path
        self.rows: list[dict[str, float]] = []  # this call's rows (a model trained in memory)
        self.f = None
        if path is None:
            return
        rows: list[str] = []
        if resume_step is not None and path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            for line in lines[1:]:
                parts = line.split(",")
                if len(parts) != len(METRIC_COLUMNS):
                    continue
                try:
                    s = int(parts[0])
                except ValueError:
                    continue
                # keep rows up to the checkpoint; a partial window logged at the end of the
                # previous call is logged again, completed, by the resumed run
                if s < resume_step or (s == resume_step and s % log_every == 0):
                    rows.append(line)
        _io.write_text(path, "\n".join([",".join(METRIC_COLUMNS), *rows]) + "\n")
        self.f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def add(self, row: dict[str, float]) -> None:
        self.rows.append({c: float(row[c]) for c in METRIC_COLUMNS})
        if self.f is None:
            return
        line = ",".join(
            str(int(row[c])) if c == "step" else f"{row[c]:.6g}" for c in METRIC_COLUMNS
        )
        self.f.write(line + "\n")
        self.f.flush()

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


# ---------------------------------------------------------------------- training


def _check_run_files(run_dir: Path, ckpt: dict[str, Any]) -> None:
    """Raise when the run directory's metadata (and so its split and held-out days, written
    with it) belong to other data than its checkpoint, e.g. after a retraining killed early."""
    try:
        recorded = _io.read_json(run_dir / METADATA_JSON)["data"]["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no metadata to compare (a checkpoint file alone)
    if isinstance(recorded, str) and recorded != ckpt.get("fingerprint"):
        raise ScengenError(
            f"cannot resume: {str(run_dir / METADATA_JSON)!r} and the held-out days belong to "
            f"other data (fingerprint {recorded[:12]}) than {CHECKPOINT} "
            f"({str(ckpt.get('fingerprint'))[:12]}); retrain with --overwrite"
        )


def _check_resume(ckpt: dict[str, Any], profiles: Any, model_cfg, train_cfg, seed: int) -> None:
    where = "cannot resume"
    if list(ckpt["sites"]) != list(profiles.sites):
        raise ScengenError(
            f"{where}: the checkpoint was trained on sites {list(ckpt['sites'])}, the data has "
            f"{list(profiles.sites)}"
        )
    if (int(ckpt["step_minutes"]), int(ckpt["n_steps"])) != (
        int(profiles.step_minutes),
        int(profiles.n_steps),
    ):
        raise ScengenError(
            f"{where}: the checkpoint has {ckpt['n_steps']} steps of {ckpt['step_minutes']} min, "
            f"the data {profiles.n_steps} steps of {profiles.step_minutes} min"
        )
    if ckpt["fingerprint"] != profiles.fingerprint:
        raise ScengenError(
            f"{where}: the data differ from those the checkpoint was trained on "
            f"(fingerprint {profiles.fingerprint[:12]} vs {ckpt['fingerprint'][:12]})"
        )
    if int(ckpt["seed"]) != int(seed):
        raise ScengenError(f"{where}: the run used seed {ckpt['seed']}, not {seed}")
    for section, cfg, free in (("model", model_cfg, ()), ("train", train_cfg, RESUMABLE_CHANGES)):
        # a setting the checkpoint does not record is newer than the run: it ran with the default
        old = {**to_dict(type(cfg)()), **UNRECORDED[section], **ckpt["config"][section]}
        for k, v in to_dict(cfg).items():
            if k not in free and old.get(k) != v:
                raise ScengenError(
                    f"{where}: {section}.{k} = {v!r} differs from the run's {old.get(k)!r}"
                )
    if int(ckpt["step"]) > train_cfg.steps:
        raise ScengenError(
            f"{where}: the checkpoint is at step {ckpt['step']}, beyond train.steps = "
            f"{train_cfg.steps}"
        )


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C (or SIGTERM) at a step boundary, after saving a checkpoint."""

    def __init__(self, run_dir: Path, step: int, steps: int) -> None:
        super().__init__(run_dir, step, steps)
        self.run_dir, self.step, self.steps = run_dir, step, steps

    def __str__(self) -> str:
        return (
            f"training interrupted at step {self.step} of {self.steps}; checkpoint saved in "
            f"{str(self.run_dir)!r}; continue with 'scengen train --out {self.run_dir} --resume'"
        )


@contextlib.contextmanager
def _deferred_interrupts() -> Iterator[dict[str, Any]]:
    """Turn Ctrl-C / SIGTERM into a flag that the training loop checks between steps.

    A second signal interrupts at once. Outside the main thread (where signal handlers cannot be
    set) interrupts are left as they are.
    """
    flag: dict[str, Any] = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag["signal"] is not None:
            raise KeyboardInterrupt
        flag["signal"] = signum

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def train_run(
    data_cfg: Any,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    seed: int = 0,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load the data, split it, train the WGAN-GP and write the run directory.

    Parameters
    ----------
    data_cfg : scengen.data.DataConfig
        Measurement file and scaling (``data_cfg.path`` may be ``None`` on resume: the run's own
        data config is then used).
    model_cfg : ModelConfig
    train_cfg : TrainConfig
    run_dir : path
        Output directory: ``config.yaml``, ``metadata.json``, ``split.csv``, ``profiles.npz``,
        ``metrics.csv``, ``checkpoint.pt``. It must be new, empty, or a run directory: one that
        holds a trained model is continued with ``resume`` or retrained with ``overwrite`` (which
        replaces only the files listed here).
    seed : int, default 0
        Seeds the train / test split, the weight initialisation and every random draw of the
        training (so the same seed gives the same model on the same device).
    resume : bool, default False
        Continue from ``run_dir/checkpoint.pt``; the data, seed and the result-changing settings
        must match (only ``steps``, ``checkpoint_every``, ``log_every``, ``device``, ``threads``
        and ``max_minutes`` may change). On the same device the result equals that of an
        uninterrupted run (with ``lr_decay_from`` set, only when ``steps`` is unchanged, since
        the schedule depends on it).
    overwrite : bool, default False
        Retrain in a run directory that already holds a checkpoint.
    progress : callable, optional
        Called with a dict ``{"step", "steps", "critic_loss", "wasserstein",
        "gradient_penalty", "generator_loss", "elapsed", "eta"}`` at every logged step, and
        once with ``{"event": "note", "text": ...}`` when days of the data were dropped.

    Raises
    ------
    TrainingInterrupted
        On ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM under the CLI) once training has started: a
        checkpoint of the current step is saved first, so ``resume`` continues from it.

    Returns
    -------
    dict
        The content of ``metadata.json`` (seed, device, versions, data summary, condition,
        timings, final step).
    """
    run_dir = Path(run_dir)
    ckpt_file = run_dir / CHECKPOINT
    seed = check_seed(seed)
    old: dict[str, Any] | None = None
    if not resume:
        if run_dir.exists() and not run_dir.is_dir():
            raise ScengenError(f"run directory {str(run_dir)!r} exists and is not a directory")
        if (
            run_dir.is_dir()
            and any(not _io.is_temp_name(e) for e in os.listdir(run_dir))
            and _io.output_kind(run_dir) != "run"
        ):
            raise ScengenError(
                f"run directory {str(run_dir)!r} already exists, is not empty and is not a "
                "scengen run directory; choose another --out (training writes only into a new, "
                "empty or run directory)"
            )
        if ckpt_file.exists() and not overwrite:
            raise ScengenError(
                f"{str(run_dir)!r} already holds a trained model; use --resume to continue it, "
                "--overwrite to replace it, or another --out"
            )
    if resume:
        if not run_dir.exists():
            raise FileNotFoundError(f"run directory {str(run_dir)!r} does not exist")
        old = load_checkpoint(run_dir)
        _check_run_files(run_dir, old)
        if data_cfg is None or not getattr(data_cfg, "path", None):
            data_cfg = from_dict(_data.DataConfig, old["config"]["data"], "checkpoint data")
    if data_cfg is None:
        raise ScengenError("no data config given; give the measurement CSV")
    device = resolve_device(train_cfg.device)

    profiles = _data.load_from_config(data_cfg)
    if progress is not None and profiles.n_dropped_days:
        progress({"event": "note", "text": profiles.dropped_note()})
    if old is not None:
        _check_resume(old, profiles, model_cfg, train_cfg, seed)
    train_days, test_days = _data.split_days(profiles, data_cfg.test_fraction, seed)
    if train_days.n_days < 2:
        raise ScengenError(f"only {train_days.n_days} training day(s); at least 2 are needed")
    label_idx, label_counts, n_labels = _label_indices(train_days, train_cfg.condition)

    config = {
        "data": to_dict(data_cfg),
        "model": to_dict(model_cfg),
        "train": to_dict(train_cfg),
    }
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    if overwrite and not resume:  # the old model must not outlive a retraining killed early
        for name in (CHECKPOINT, METRICS_CSV):
            (run_dir / name).unlink(missing_ok=True)
    try:
        with _threads(train_cfg, device):
            meta, _, _ = _train_loop(
                run_dir,
                profiles,
                train_days,
                test_days,
                label_idx,
                label_counts,
                n_labels,
                model_cfg,
                train_cfg,
                config,
                device,
                seed,
                old,
                progress,
            )
    except BaseException:
        if created and not ckpt_file.exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return meta


def _label_indices(train_days: Any, condition: str) -> tuple[np.ndarray, list[int], int]:
    """Embedding index of each training day's label, the count per label, the number of
    labels (0 for an unconditioned model: the indices are then all 0)."""
    labels_np = day_labels(train_days, condition)
    n_labels = len(LABEL_VALUES[condition])
    label_idx = (
        np.array([label_index(condition, v) for v in labels_np], dtype=np.int64)
        if n_labels
        else labels_np
    )
    label_counts = np.bincount(label_idx, minlength=n_labels).tolist() if n_labels else []
    return label_idx, label_counts, n_labels


@contextlib.contextmanager
def _threads(train_cfg: TrainConfig, device: torch.device) -> Iterator[None]:
    """Torch's CPU threads for a training: ``train.threads``, else at most 2 on the CPU (the
    networks are small: 2 threads train 1.3x faster than 1 on a quiet 2-core CPU; more were not
    measured)."""
    before = torch.get_num_threads()
    default = min(2, before) if device.type == "cpu" else before
    torch.set_num_threads(train_cfg.threads or default)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit(
    train_days: Any,
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    *,
    seed: int = 0,
    data_config: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, float]]]:
    """Train the WGAN-GP on in-memory days, writing nothing to disk.

    Parameters
    ----------
    train_days : scengen.data.Profiles
        The training days ``(n_days, n_sites, n_steps)`` [p.u.], with their dates (for the labels
        of a conditional model).
    model_cfg, train_cfg : ModelConfig, TrainConfig, optional
        Defaults when omitted.
    seed : int, default 0
        Seeds the weight initialisation and every random draw of the training.
    data_config : dict, optional
        Recorded in the checkpoint's config (where the days came from).
    progress : callable, optional
        As in :func:`train_run`.

    Returns
    -------
    (metadata, checkpoint, metrics)
        The metadata a run directory would record, the final checkpoint (the dict
        ``checkpoint.pt`` holds) and the logged metrics rows (dicts keyed by
        ``METRIC_COLUMNS``). Training is the same arithmetic as :func:`train_run`'s.
    """
    model_cfg = ModelConfig() if model_cfg is None else model_cfg
    train_cfg = TrainConfig() if train_cfg is None else train_cfg
    seed = check_seed(seed)
    if train_days.n_days < 2:
        raise ScengenError(f"only {train_days.n_days} training day(s); at least 2 are needed")
    device = resolve_device(train_cfg.device)
    label_idx, label_counts, n_labels = _label_indices(train_days, train_cfg.condition)
    config = {
        "data": dict(data_config or {}),
        "model": to_dict(model_cfg),
        "train": to_dict(train_cfg),
    }
    with _threads(train_cfg, device):
        return _train_loop(
            None,
            train_days,
            train_days,
            None,
            label_idx,
            label_counts,
            n_labels,
            model_cfg,
            train_cfg,
            config,
            device,
            seed,
            None,
            progress,
        )


def _train_loop(
    run_dir: Path | None,
    profiles: Any,
    train_days: Any,
    test_days: Any,
    label_idx: np.ndarray,
    label_counts: list[int],
    n_labels: int,
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    config: dict[str, Any],
    device: torch.device,
    seed: int,
    old: dict[str, Any] | None,
    progress: Progress | None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, float]]]:
    """The WGAN-GP training; returns the run's metadata, its last checkpoint and the metrics
    rows logged by this call. Without ``run_dir`` nothing is written to disk."""
    t_start = time.perf_counter()
    n_sites = train_days.n_sites
    first, stop = modelled_steps(train_days.values) if cfg.fixed_zeros else (0, train_days.n_steps)
    values = train_days.values[:, :, first:stop]  # the steps the networks see
    n_steps = stop - first
    summary = {
        **_data.summary(profiles),
        "n_train": int(train_days.n_days),
        "n_test": 0 if test_days is None else int(test_days.n_days),
    }

    torch.manual_seed(seed)
    gen, critic = build_models(model_cfg, n_sites, n_steps, n_labels)
    gen.to(device)
    critic.to(device)
    ema_gen = None
    if cfg.ema > 0:
        ema_gen, _ = build_models(model_cfg, n_sites, n_steps, n_labels)
        ema_gen.load_state_dict(gen.state_dict())
        ema_gen.to(device).requires_grad_(False)
    betas = (cfg.betas[0], cfg.betas[1])
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=betas)
    rng = torch.Generator().manual_seed(seed + 1)
    step, elapsed_before = 0, 0.0
    acc, n_acc = np.zeros(4), 0
    if old is not None:
        gen.load_state_dict(old["generator"])
        critic.load_state_dict(old["critic"])
        if ema_gen is not None:
            ema_gen.load_state_dict(old["generator_ema"])
        opt_g.load_state_dict(old["opt_generator"])
        opt_c.load_state_dict(old["opt_critic"])
        rng.set_state(old["rng_state"])
        step = int(old["step"])
        acc[:] = old.get("metrics_acc", [0.0] * 4)
        n_acc = int(old.get("metrics_n", 0))
        elapsed_before = float(old.get("elapsed_s", 0.0))

    def write_meta() -> None:
        if run_dir is not None:
            _io.write_json(run_dir / METADATA_JSON, meta)

    meta: dict[str, Any] = {
        "seed": int(seed),
        "device": str(device),
        "versions": versions(),
        "data": summary,
        "condition": cfg.condition,
        "label_counts": label_counts,
        "modelled_steps": [int(first), int(stop)],
        "steps": cfg.steps,
        "step": step,
        "status": "training",
        "timings": {},
    }
    write_meta()  # first: a folder killed from here on is recognisably a run directory
    if old is None and run_dir is not None:
        _data.save_split(run_dir, train_days, test_days)
        _io.write_text(run_dir / CONFIG_YAML, dump_yaml(config))

    x_all = torch.as_tensor(values, dtype=torch.float32, device=device)
    lab_all = torch.as_tensor(label_idx, dtype=torch.long, device=device)
    n_days, bs = x_all.shape[0], cfg.batch_size
    conditional = n_labels > 0
    use_acf = cfg.acf_weight > 0 and n_steps > 1
    acf_target = batch_acf(x_all, cfg.acf_lags) if use_acf else None
    # per-site marginal standard deviation (mean over steps) of the data and, running, of
    # the generator (train.ramp_relative)
    sd_data = x_all.std(dim=0).mean(dim=1).clamp_min(1e-6)
    sd_gen = sd_data.clone()
    if old is not None and old.get("ramp_sd_gen"):
        sd_gen = torch.tensor(old["ramp_sd_gen"], dtype=torch.float32, device=device)

    def sample_batch() -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        idx = torch.randint(n_days, (bs,), generator=rng).to(device)
        z = torch.randn(bs, gen.input_dim, generator=rng).to(device)
        return x_all[idx], (lab_all[idx] if conditional else None), z

    last: dict[str, Any] = {}

    def checkpoint(step_now: int, elapsed: float, final: bool = False) -> None:
        calibration: dict[str, Any] = {}
        if final and cfg.calibrate:
            calibration = fit_calibration(
                ema_gen if ema_gen is not None else gen,
                values,
                label_idx,
                n_labels,
                seed,
                device,
            )
        last.clear()
        last.update(
            {
                "format": CHECKPOINT_FORMAT,
                "format_version": CHECKPOINT_VERSION,
                "step": int(step_now),
                "generator": _state_to_cpu(gen.state_dict()),
                "critic": _state_to_cpu(critic.state_dict()),
                "generator_ema": _state_to_cpu(ema_gen.state_dict()) if ema_gen else {},
                "opt_generator": _state_to_cpu(opt_g.state_dict()),
                "opt_critic": _state_to_cpu(opt_c.state_dict()),
                "rng_state": rng.get_state(),
                "config": config,
                "sites": list(profiles.sites),
                "capacities": [float(c) for c in profiles.capacities],
                "units": str(profiles.units),
                "step_minutes": int(profiles.step_minutes),
                "start_minute": int(profiles.start_minute),
                "n_steps": int(train_days.n_steps),
                "modelled_steps": [int(first), int(stop)],
                "fingerprint": profiles.fingerprint,
                "seed": int(seed),
                "condition": cfg.condition,
                "n_labels": int(n_labels),
                "label_counts": [int(c) for c in label_counts],
                "versions": versions(),
                "elapsed_s": float(elapsed),
                "metrics_acc": [float(v) for v in acc],
                "metrics_n": int(n_acc),
                "ramp_sd_gen": [float(v) for v in sd_gen.cpu()],
                "calibration": calibration,
            }
        )
        if run_dir is not None:
            _save_checkpoint(run_dir / CHECKPOINT, last)

    metrics = _Metrics(
        None if run_dir is None else run_dir / METRICS_CSV,
        step if old is not None else None,
        cfg.log_every,
    )
    t0 = time.perf_counter()
    first_step = step
    stopped_early = False
    gen.train()
    critic.train()
    with contextlib.ExitStack() as stack:
        stack.callback(metrics.close)
        interrupt = stack.enter_context(_deferred_interrupts())
        while step < cfg.steps:
            if cfg.lr_decay_from is not None:
                start = cfg.lr_decay_from * cfg.steps
                frac = 1.0 if step < start else (cfg.steps - step) / (cfg.steps - start)
                for opt in (opt_g, opt_c):
                    for group in opt.param_groups:
                        group["lr"] = cfg.lr * frac
            # ---- critic
            critic.requires_grad_(True)
            for _ in range(cfg.n_critic):
                real, lab, z = sample_batch()
                eps = torch.rand(bs, 1, 1, generator=rng).to(device)
                with torch.no_grad():
                    fake = gen(z, lab)
                # real and fake days in one forward pass (the minibatch standard deviation,
                # if any, stays within each group); the penalty's double backward only
                # through the interpolated days
                lab2 = torch.cat([lab, lab]) if conditional else None
                scores = critic(torch.cat([real, fake]), lab2, groups=2)
                d_real, d_fake = scores[:bs].mean(), scores[bs:].mean()
                gp = gradient_penalty(critic, real, fake, eps, lab)
                loss_c = d_fake - d_real + cfg.lambda_gp * gp
                opt_c.zero_grad(set_to_none=True)
                loss_c.backward()
                opt_c.step()
            # ---- generator
            critic.requires_grad_(False)
            real, lab, z = sample_batch()
            fake = gen(z, lab)
            loss_g = -critic(fake, lab).mean()
            if cfg.ramp_weight > 0 and n_steps > 1:
                target = real
                if cfg.ramp_relative:
                    with torch.no_grad():
                        sd_gen.lerp_(fake.std(dim=0).mean(dim=1), 1 - RAMP_SCALE_DECAY)
                    target = real * (sd_gen / sd_data)[None, :, None]
                loss_g = loss_g + cfg.ramp_weight * ramp_distance(
                    fake, target, cfg.ramp_lags, cfg.ramp_p
                )
            if use_acf:
                acf_gap = (batch_acf(fake, cfg.acf_lags) - acf_target).abs().mean()
                loss_g = loss_g + cfg.acf_weight * acf_gap
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if ema_gen is not None:
                with torch.no_grad():
                    for pe, p in zip(ema_gen.parameters(), gen.parameters(), strict=True):
                        pe.lerp_(p, 1 - cfg.ema)
            step += 1
            acc += [loss_c.item(), (d_real - d_fake).item(), gp.item(), loss_g.item()]
            n_acc += 1
            elapsed = elapsed_before + time.perf_counter() - t0
            if step % cfg.log_every == 0 or step == cfg.steps:
                m = acc / max(n_acc, 1)
                row = dict(zip(METRIC_COLUMNS[1:5], m.tolist(), strict=True))
                metrics.add({"step": step, **row, "time_s": elapsed})
                if step % cfg.log_every == 0:  # a final partial window goes on after a resume
                    acc[:], n_acc = 0, 0
                if not all(math.isfinite(v) for v in m):
                    raise ScengenError(
                        f"training diverged at step {step} (non-finite loss); lower train.lr"
                    )
                if progress is not None:
                    rate = (step - first_step) / max(time.perf_counter() - t0, 1e-9)
                    progress(
                        {
                            "step": step,
                            "steps": cfg.steps,
                            **row,
                            "elapsed": elapsed,
                            "eta": (cfg.steps - step) / rate if rate > 0 else None,
                        }
                    )
            if step % cfg.checkpoint_every == 0 and step < cfg.steps:
                checkpoint(step, elapsed)
            if interrupt["signal"] is not None:  # Ctrl-C / SIGTERM: save, then stop
                checkpoint(step, elapsed)
                meta.update(step=step, status="interrupted")
                write_meta()
                raise TrainingInterrupted(run_dir, step, cfg.steps)
            if cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes:
                stopped_early = step < cfg.steps
                break
        elapsed = elapsed_before + time.perf_counter() - t0
        checkpoint(step, elapsed, final=True)
    run_s = time.perf_counter() - t0
    meta.update(
        step=step,
        status="stopped at max_minutes" if stopped_early else "complete",
        timings={
            "train_s": elapsed,
            "this_call_s": time.perf_counter() - t_start,
            "steps_per_s": (step - first_step) / run_s if run_s > 0 else None,
        },
    )
    write_meta()
    return meta, dict(last), metrics.rows


def resolved_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The ``{"data", "model", "train"}`` config recorded in a run's checkpoint."""
    return load_checkpoint(run_dir)["config"]


__all__ = [
    "ModelConfig",
    "TrainConfig",
    "train_run",
    "load_checkpoint",
    "generator_from_checkpoint",
    "check_label",
    "resolve_device",
    "versions",
]
