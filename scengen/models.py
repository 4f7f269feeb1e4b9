"""Networks of the WGAN-GP: a convolutional generator and critic for daily multi-site profiles.

Only the networks live here (no training code); :mod:`scengen.train` trains them.

A daily profile is a tensor ``(n_sites, n_steps)``: sites are the channels of 1-D convolutions
over time, so each layer mixes all sites (cross-site structure) over a window of neighbouring
steps (temporal structure), and all sites of a day are generated jointly.

Generator
    ``z ~ N(0, I)`` (plus an optional label embedding) → linear → a short temporal map
    ``(channels, L0)`` → ``n_up`` blocks of (nearest ×2 upsampling → conv1d → LeakyReLU) →
    crop to ``n_steps`` → per-step noise maps (scaled by gains computed from the day's features,
    so the local variability depends on the day: heavy-tailed ramps), concatenated → conv1d →
    conv1d to ``n_sites`` channels → (stretched, clipped) sigmoid, so every value is in
    ``[0, 1]`` [p.u.].
Critic
    input channels = the profile, optionally its differences at one or more lags (ramps, multi-hour
    changes) and a broadcast label
    embedding → conv1d stack with stride-2 downsampling and LeakyReLU (no batch norm, as WGAN-GP
    requires: the gradient penalty is per sample) → optional minibatch standard-deviation
    feature → linear → one real score per day.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _n_up(n_steps: int, max_up: int = 3, min_len: int = 3) -> int:
    """Number of ×2 upsampling blocks so that the initial map keeps ≥ ``min_len`` steps."""
    n = 0
    while n < max_up and math.ceil(n_steps / 2 ** (n + 1)) >= min_len:
        n += 1
    return n


class Generator(nn.Module):
    """Map latent noise (and an optional label) to daily profiles in ``[0, 1]``.

    Parameters
    ----------
    n_sites, n_steps : int
        Output shape ``(n_sites, n_steps)`` per sample.
    latent_dim : int
        Size of the noise vector ``z``.
    channels : int
        Width of the temporal feature maps.
    n_labels : int
        Number of condition labels (0 = unconditioned).
    embed_dim : int
        Size of the label embedding.
    kernel_size : int
        Temporal kernel size of the convolutions (odd).
    noise_channels : int
        Per-step noise maps concatenated before the last convolutions (0 = none).
    output_margin : float
        ``m`` of the output ``clip((1 + 2m) sigmoid(a) - m, 0, 1)``: with ``m > 0`` exact 0
        (and 1) are reachable, as in calm or night hours; ``m = 0`` is the plain sigmoid.
    noise_modulation : bool
        Scale each per-step noise map by a positive gain computed from the day's features
        (``softplus`` of a 1x1 convolution), so that the local variability depends on the
        state of the day: a scale mixture, which gives ramps the heavy tails of measured data
        (many near-flat hours, a few large ramps) instead of Gaussian ones.
    final_kernel : int or None
        Temporal kernel of the last two convolutions, the ones after the per-step noise maps
        (``None``: ``kernel_size``). One step's noise reaches ``final_kernel - 1`` steps to
        either side, so the per-step variability is correlated up to lag
        ``2 (final_kernel - 1)`` (8 steps for 5, 4 for 3).
    scale_noise : bool
        Add a noise map after every upsampling block, at that block's resolution, with a
        learned per-channel scale that starts at 0 (as StyleGAN does). Without it, variability
        at the intermediate time scales (a few steps to a quarter of the day) comes only from
        the day-level vector through ``L0`` coarse positions, and the days come out too
        persistent at those lags; with it, each scale gets its own randomness.
    """

    def __init__(
        self,
        n_sites: int,
        n_steps: int,
        latent_dim: int = 32,
        channels: int = 64,
        n_labels: int = 0,
        embed_dim: int = 8,
        kernel_size: int = 5,
        noise_channels: int = 0,
        output_margin: float = 0.0,
        noise_modulation: bool = False,
        scale_noise: bool = False,
        final_kernel: int | None = None,
    ) -> None:
        super().__init__()
        self.n_sites, self.n_steps, self.latent_dim = n_sites, n_steps, latent_dim
        self.output_margin = float(output_margin)
        self.n_labels = n_labels
        self.noise_channels = noise_channels
        #: size of the full input vector: the latent vector plus per-step noise channels
        self.input_dim = latent_dim + noise_channels * n_steps
        self.n_up = _n_up(n_steps)
        self.l0 = math.ceil(n_steps / 2**self.n_up)
        self.channels = channels
        self.embed = nn.Embedding(n_labels, embed_dim) if n_labels else None
        in_dim = latent_dim + (embed_dim if n_labels else 0)
        self.fc = nn.Sequential(nn.Linear(in_dim, channels * self.l0), nn.LeakyReLU(0.2))
        pad = kernel_size // 2
        blocks: list[nn.Module] = []
        for _ in range(self.n_up):
            blocks += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv1d(channels, channels, kernel_size, padding=pad),
                nn.LeakyReLU(0.2),
            ]
        self.body = nn.Sequential(*blocks)
        #: lengths of the noise maps added after each upsampling block (``scale_noise``)
        self.scale_lengths = (
            [self.l0 * 2 ** (i + 1) for i in range(self.n_up)] if scale_noise else []
        )
        self.input_dim += sum(self.scale_lengths)
        self.scale_gain = nn.ParameterList(
            [nn.Parameter(torch.zeros(1, channels, 1)) for _ in self.scale_lengths]
        )
        k_f = kernel_size if final_kernel is None else final_kernel
        self.final = nn.Sequential(
            nn.Conv1d(channels + noise_channels, channels, k_f, padding=k_f // 2),
            nn.LeakyReLU(0.2),
        )
        self.out = nn.Conv1d(channels, n_sites, k_f, padding=k_f // 2)
        self.noise_gain = (
            nn.Conv1d(channels, noise_channels, 1) if noise_modulation and noise_channels else None
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Profiles ``(batch, n_sites, n_steps)`` in ``[0, 1]`` from noise ``(batch, input_dim)``.

        The first ``latent_dim`` entries of ``z`` drive the whole day; the rest are reshaped to
        ``noise_channels`` per-step noise maps injected at full resolution (local variability).
        """
        b = z.shape[0]
        n_step_noise = self.noise_channels * self.n_steps
        latent = z[:, : self.latent_dim]
        noise = z[:, self.latent_dim : self.latent_dim + n_step_noise]
        if self.embed is not None:
            if labels is None:
                raise ValueError("this generator is conditional: labels are required")
            latent = torch.cat([latent, self.embed(labels)], dim=1)
        h = self.fc(latent).view(b, self.channels, self.l0)
        if self.scale_lengths:  # a noise map per resolution, scaled per channel
            a = self.latent_dim + n_step_noise
            for i, length in enumerate(self.scale_lengths):
                h = self.body[3 * i : 3 * i + 3](h)
                h = h + self.scale_gain[i] * z[:, a : a + length].view(b, 1, length)
                a += length
        else:
            h = self.body(h)
        h = h[:, :, : self.n_steps]
        if self.noise_channels:
            noise = noise.view(b, self.noise_channels, self.n_steps)
            if self.noise_gain is not None:  # state-dependent scale of the local variability
                noise = noise * nn.functional.softplus(self.noise_gain(h))
            h = torch.cat([h, noise], dim=1)
        y = torch.sigmoid(self.out(self.final(h)))
        if self.output_margin:  # stretched sigmoid clipped to [0, 1]: exact zeros (calm, night)
            m = self.output_margin
            y = ((1 + 2 * m) * y - m).clamp(0.0, 1.0)
        return y


class Critic(nn.Module):
    """Score daily profiles (higher = more real); no batch norm.

    Parameters
    ----------
    n_sites, n_steps : int
        Input shape ``(n_sites, n_steps)`` per sample.
    channels : int
        Width of the first convolution (doubled at each downsampling, capped at 4×).
    n_labels : int
        Number of condition labels (0 = unconditioned).
    embed_dim : int
        Size of the label embedding (broadcast over time as extra input channels).
    kernel_size : int
        Temporal kernel size (odd).
    diff : bool
        Also feed differences over time (ramp rates) as input channels.
    lags : tuple of int
        Lags [steps] of those differences, ``x[t] - x[t - k]`` (``x[t] - x[0]`` for ``t < k``):
        ``(1,)`` is the step-to-step ramp; longer lags show the critic the multi-step changes
        directly, whose spread fixes the autocorrelation at that lag.
    minibatch_std : bool
        Append the across-batch standard deviation of the last features (a diversity signal that
        discourages mode collapse). It couples the samples of a batch; the gradient penalty is
        then computed on whole interpolated batches, which is how it is used in practice.
    """

    def __init__(
        self,
        n_sites: int,
        n_steps: int,
        channels: int = 64,
        n_labels: int = 0,
        embed_dim: int = 8,
        kernel_size: int = 5,
        diff: bool = True,
        minibatch_std: bool = False,
        max_mult: int = 2,
        lags: tuple[int, ...] = (1,),
    ) -> None:
        super().__init__()
        self.n_sites, self.n_steps, self.n_labels = n_sites, n_steps, n_labels
        self.diff, self.minibatch_std = diff, minibatch_std
        self.lags = tuple(k for k in lags if k < n_steps) if diff else ()
        self.embed = nn.Embedding(n_labels, embed_dim) if n_labels else None
        c_in = n_sites * (1 + len(self.lags)) + (embed_dim if n_labels else 0)
        pad = kernel_size // 2
        layers: list[nn.Module] = [nn.Conv1d(c_in, channels, kernel_size, padding=pad)]
        layers.append(nn.LeakyReLU(0.2))
        length, c = n_steps, channels
        n_down = _n_up(n_steps)
        for i in range(n_down):
            c_next = min(channels * 2 ** (i + 1), channels * max_mult)
            layers += [nn.Conv1d(c, c_next, kernel_size, stride=2, padding=pad), nn.LeakyReLU(0.2)]
            length = (length + 2 * pad - kernel_size) // 2 + 1
            c = c_next
        self.body = nn.Sequential(*layers)
        self.n_features = c * length
        self.head = nn.Sequential(
            nn.Linear(self.n_features + (1 if minibatch_std else 0), channels),
            nn.LeakyReLU(0.2),
            nn.Linear(channels, 1),
        )

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, groups: int = 1
    ) -> torch.Tensor:
        """Scores ``(batch,)`` of profiles ``(batch, n_sites, n_steps)``.

        ``groups > 1`` scores ``groups`` equal consecutive batches in one call (e.g. the real
        and the generated days): the minibatch standard deviation is then taken within each
        group, so the scores equal those of separate calls, at a fraction of the overhead.
        """
        parts = [x]
        for k in self.lags:  # x[t] - x[t - k], with x[t - k] := x[0] before the day starts
            parts.append(x - torch.cat([x[:, :, :1].expand(-1, -1, k), x[:, :, :-k]], dim=2))
        if self.embed is not None:
            if labels is None:
                raise ValueError("this critic is conditional: labels are required")
            e = self.embed(labels)[:, :, None].expand(-1, -1, x.shape[2])
            parts.append(e)
        h = self.body(torch.cat(parts, dim=1)).flatten(1)
        if self.minibatch_std:
            b = h.shape[0]
            if groups < 1 or b % groups:
                raise ValueError(f"groups = {groups} must divide the batch of {b} days")
            hg = h.view(groups, b // groups, -1)
            s = hg.std(dim=1, unbiased=False).mean(dim=1)  # one value per group
            h = torch.cat([h, s.repeat_interleave(b // groups)[:, None]], dim=1)
        return self.head(h).squeeze(1)
