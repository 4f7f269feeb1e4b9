"""The marginal calibration of a trained generator: fitted at the end of training, applied when
sampling (quantile mapping per site and step)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from scengen.models import Generator

#: quantile levels and generated samples (per label) of the marginal calibration
CALIBRATION_LEVELS = 201
CALIBRATION_SAMPLES = 10_000
#: fewest training days of a label for its calibration to be fitted
CALIBRATION_MIN_DAYS = 20


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


def fit_calibration(
    gen: Generator,
    train_values: np.ndarray,
    label_idx: np.ndarray,
    n_labels: int,
    seed: int,
    device: torch.device | str = "cpu",
    n_samples: int = CALIBRATION_SAMPLES,
) -> dict[str, Any]:
    r"""Fit the marginal calibration (quantile mapping) of a trained generator.

    For every site and step ``(s, t)`` (and label of a conditional model) the generator's marginal
    CDF :math:`\hat F_{s,t}` is estimated from ``n_samples`` samples and the training
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
    n = n_samples if n_labels == 0 else max(min(2000, n_samples), n_samples // n_labels)
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
