"""The loss terms of the generator and critic beyond the adversarial one: the WGAN-GP gradient
penalty, the ramp-distribution distance and the within-day autocorrelation (torch)."""

from __future__ import annotations

from typing import Any

import torch

from scengen.models import Critic

#: decay of the running average of the generator's marginal standard deviation (ramp_relative)
RAMP_SCALE_DECAY = 0.99


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
