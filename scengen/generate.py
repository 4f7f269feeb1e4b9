"""Sample synthetic daily scenarios from a trained WGAN-GP checkpoint.

:func:`generate` loads ``RUN_DIR/checkpoint.pt``, draws ``n`` latent vectors from a seeded
generator, maps them through the (EMA) generator in batches and returns an equally weighted
:class:`~scengen.scenarios.ScenarioSet` in per-unit, with the capacities, units and step length
recorded at training time, so ``write_scenarios`` can write the values in the original units.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet
from scengen.train import (
    LABEL_VALUES,
    check_label,
    checkpoint_span,
    generator_from_checkpoint,
    label_index,
    load_checkpoint,
    resolve_device,
    versions,
)

#: upper bound on ``n`` (a guard against typos such as 1e9)
MAX_SCENARIOS = 10_000_000


@dataclass
class GenerateConfig:
    """``generate`` section of a config.

    Parameters
    ----------
    n : int, default 2000
        Number of scenarios.
    condition : int, optional
        Label of a conditional model: month 1-12 or season 0-3 (0 = Dec-Feb).
    """

    n: int = 2000
    condition: int | None = None


def calibrate(
    values: np.ndarray, calibration: dict[str, Any], labels: np.ndarray | None = None
) -> np.ndarray:
    r"""Apply the marginal calibration of a checkpoint (see :func:`scengen.train.fit_calibration`).

    Parameters
    ----------
    values : numpy.ndarray
        Generated values ``(n, n_sites, n_steps)`` [p.u.].
    calibration : dict
        ``checkpoint["calibration"]``.
    labels : numpy.ndarray, optional
        Label index of each sample (conditional models).

    Returns
    -------
    numpy.ndarray
        Values mapped per site and step by :math:`F^{-1}(\hat F(x))`, same shape and dtype.
    """
    gq = calibration["generated"].numpy().astype(np.float64)
    tq = calibration["target"].numpy().astype(np.float64)
    fitted = calibration["fitted"].numpy()
    k = gq.shape[1]
    grid = np.arange(k, dtype=np.float64)
    out = values.copy()
    groups = (
        [(0, slice(None))]
        if labels is None
        else [(li, np.flatnonzero(labels == li)) for li in np.unique(labels)]
    )
    for li, rows in groups:
        if not fitted[li]:
            continue
        block = values[rows].astype(np.float64)
        res = np.empty_like(block)
        for s in range(values.shape[1]):
            for t in range(values.shape[2]):
                q, v = gq[li, :, s, t], block[:, s, t]
                left, right = np.searchsorted(q, v, "left"), np.searchsorted(q, v, "right")
                # position on the quantile grid; a value tied over several quantiles (e.g. the
                # exact zeros of calm or night hours) takes the middle of its tied range
                pos = np.where(right > left, (left + right - 1) / 2, np.interp(v, q, grid))
                res[:, s, t] = np.interp(pos, grid, tq[li, :, s, t])
        out[rows] = res.astype(values.dtype)
    return out


def generate(
    run_dir: str | os.PathLike,
    n: int,
    *,
    seed: int = 0,
    condition: int | None = None,
    batch_size: int = 8192,
    device: str = "auto",
    calibrated: bool = True,
) -> ScenarioSet:
    """Sample ``n`` daily scenarios from the model of a training run.

    Parameters
    ----------
    run_dir : path
        Run directory written by ``scengen train`` (or a checkpoint file).
    n : int
        Number of scenarios (≥ 1).
    seed : int, default 0
        Seed of the latent draws (and of the labels of an unconditioned request to a conditional
        model); the same seed gives identical scenarios on the same device.
    condition : int, optional
        For a model trained with ``condition: month`` a month 1-12, with ``season`` a season 0-3.
        ``None`` samples labels in proportion to the training days. Any label for an
        unconditioned model is an error.
    batch_size : int, default 8192
        Scenarios per forward pass (bounds the memory).
    device : {"auto", "cpu", "cuda"}, default "auto"
    calibrated : bool, default True
        Apply the marginal calibration stored with the model at the end of training (quantile
        mapping per site and step to the training days' distribution), when there is one.

    Returns
    -------
    ScenarioSet
        Values ``(n, n_sites, n_steps)`` in per-unit [p.u.] (float32), equal probabilities,
        metadata ``kind="generated"``, ``source_run``, ``checkpoint_step``, ``seed``,
        ``condition``, ``versions``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ScengenError(f"n = {n!r} must be a whole number of scenarios")
    if not 1 <= n <= MAX_SCENARIOS:
        raise ScengenError(f"n = {n} scenarios is not allowed; give 1 to {MAX_SCENARIOS}")
    if batch_size < 1:
        raise ScengenError(f"batch_size = {batch_size} must be >= 1")
    ckpt = load_checkpoint(run_dir)
    cond_kind = str(ckpt.get("condition", "none"))
    counts = [int(c) for c in ckpt.get("label_counts", [])]
    label = None
    if condition is not None:
        label = check_label(cond_kind, condition, counts)
    dev = resolve_device(device)
    cal = ckpt.get("calibration") if calibrated else None
    gen = generator_from_checkpoint(ckpt, dev)
    n_labels = int(ckpt["n_labels"])
    rng = torch.Generator().manual_seed(int(seed))
    # steps outside the modelled span are 0 on every training day (train.fixed_zeros)
    start, stop = checkpoint_span(ckpt)
    out = np.zeros((n, gen.n_sites, int(ckpt["n_steps"])), dtype=np.float32)
    all_labels = None
    if n_labels:
        if label is None:  # labels in proportion to the training days
            w = torch.tensor(counts, dtype=torch.float64)
            all_labels = torch.multinomial(w / w.sum(), n, replacement=True, generator=rng)
        else:
            all_labels = torch.full((n,), label_index(cond_kind, label), dtype=torch.long)
    with torch.inference_mode():
        for a in range(0, n, batch_size):
            m = min(batch_size, n - a)
            z = torch.randn(m, gen.input_dim, generator=rng)
            lab = None if all_labels is None else all_labels[a : a + m].to(dev)
            x = gen(z.to(dev), lab).float().cpu().numpy()
            if cal:
                x = calibrate(x, cal, None if lab is None else lab.cpu().numpy())
            out[a : a + m, :, start:stop] = x
    meta: dict[str, Any] = {
        "kind": "generated",
        "source_run": str(Path(run_dir)),
        "checkpoint_step": int(ckpt["step"]),
        "seed": int(seed),
        "n": int(n),
        "condition": None if label is None else int(label),
        "condition_kind": cond_kind,
        "device": str(dev),
        "versions": versions(),
        "data_fingerprint": ckpt.get("fingerprint"),
        "calibrated": bool(cal),
    }
    if cond_kind != "none" and label is None:
        meta["condition_labels"] = LABEL_VALUES[cond_kind]
    return ScenarioSet(
        values=out,
        probabilities=None,
        sites=list(ckpt["sites"]),
        step_minutes=int(ckpt["step_minutes"]),
        capacities=np.asarray(ckpt["capacities"], dtype=np.float64),
        units=str(ckpt.get("units", "p.u.")),
        start_minute=int(ckpt.get("start_minute", 0)),
        metadata=meta,
    )
