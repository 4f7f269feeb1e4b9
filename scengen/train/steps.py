"""One step of the WGAN-GP: the networks and batches of a training, the critic and generator
updates, the learning-rate schedule and what a checkpoint holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from scengen.train.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    _state_to_cpu,
    build_models,
)
from scengen.train.config import (
    TrainConfig,
    versions,
)
from scengen.train.losses import RAMP_SCALE_DECAY, batch_acf, gradient_penalty, ramp_distance


@dataclass
class _Nets:
    """The networks, their optimisers and the random stream of a training."""

    gen: Any
    critic: Any
    ema_gen: Any
    opt_g: torch.optim.Adam
    opt_c: torch.optim.Adam
    rng: torch.Generator


@dataclass
class _Batches:
    """The training days on the device and the targets of the generator's loss terms."""

    x: torch.Tensor  # (n_days, n_sites, modelled steps) [p.u.]
    labels: torch.Tensor
    conditional: bool
    acf_target: torch.Tensor | None  # pooled within-day ACF of all training days
    sd_data: torch.Tensor  # per-site marginal standard deviation of the training days
    sd_gen: torch.Tensor  # its running average over generated batches (train.ramp_relative)

    def sample(self, nets: _Nets, bs: int, device: torch.device):
        """A batch of training days, their labels and latent vectors (one draw order)."""
        idx = torch.randint(self.x.shape[0], (bs,), generator=nets.rng).to(device)
        z = torch.randn(bs, nets.gen.input_dim, generator=nets.rng).to(device)
        return self.x[idx], (self.labels[idx] if self.conditional else None), z


def _build_nets(model_cfg, cfg, n_sites, n_steps, n_labels, device, seed) -> _Nets:
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
    return _Nets(
        gen=gen,
        critic=critic,
        ema_gen=ema_gen,
        opt_g=torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=betas),
        opt_c=torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=betas),
        rng=torch.Generator().manual_seed(seed + 1),
    )


def _restore(nets: _Nets, old: dict[str, Any]) -> None:
    nets.gen.load_state_dict(old["generator"])
    nets.critic.load_state_dict(old["critic"])
    if nets.ema_gen is not None:
        nets.ema_gen.load_state_dict(old["generator_ema"])
    nets.opt_g.load_state_dict(old["opt_generator"])
    nets.opt_c.load_state_dict(old["opt_critic"])
    nets.rng.set_state(old["rng_state"])


def _set_lr(nets: _Nets, cfg: TrainConfig, step: int) -> None:
    """Constant, then (``lr_decay_from``) linear to 0 at the last step."""
    if cfg.lr_decay_from is None:
        return
    start = cfg.lr_decay_from * cfg.steps
    frac = 1.0 if step < start else (cfg.steps - step) / (cfg.steps - start)
    for opt in (nets.opt_g, nets.opt_c):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * frac


def _critic_steps(nets: _Nets, data: _Batches, cfg: TrainConfig, device) -> tuple:
    """``n_critic`` WGAN-GP critic updates; returns the last loss, D(real) - D(fake) and GP."""
    bs = cfg.batch_size
    nets.critic.requires_grad_(True)
    for _ in range(cfg.n_critic):
        real, lab, z = data.sample(nets, bs, device)
        eps = torch.rand(bs, 1, 1, generator=nets.rng).to(device)
        with torch.no_grad():
            fake = nets.gen(z, lab)
        # real and fake days in one forward pass (the minibatch standard deviation, if any,
        # stays within each group); the penalty's double backward only through the interpolates
        lab2 = torch.cat([lab, lab]) if data.conditional else None
        scores = nets.critic(torch.cat([real, fake]), lab2, groups=2)
        d_real, d_fake = scores[:bs].mean(), scores[bs:].mean()
        gp = gradient_penalty(nets.critic, real, fake, eps, lab)
        loss_c = d_fake - d_real + cfg.lambda_gp * gp
        nets.opt_c.zero_grad(set_to_none=True)
        loss_c.backward()
        nets.opt_c.step()
    return loss_c, d_real - d_fake, gp


def _generator_step(nets: _Nets, data: _Batches, cfg: TrainConfig, device) -> torch.Tensor:
    """One generator update: ``-E[D(G(z))]`` plus the ramp and autocorrelation terms; then the
    EMA of the weights."""
    nets.critic.requires_grad_(False)
    real, lab, z = data.sample(nets, cfg.batch_size, device)
    fake = nets.gen(z, lab)
    loss_g = -nets.critic(fake, lab).mean()
    if cfg.ramp_weight > 0 and fake.shape[2] > 1:
        target = real
        if cfg.ramp_relative:
            with torch.no_grad():
                data.sd_gen.lerp_(fake.std(dim=0).mean(dim=1), 1 - RAMP_SCALE_DECAY)
            target = real * (data.sd_gen / data.sd_data)[None, :, None]
        loss_g = loss_g + cfg.ramp_weight * ramp_distance(fake, target, cfg.ramp_lags, cfg.ramp_p)
    if data.acf_target is not None:
        acf_gap = (batch_acf(fake, cfg.acf_lags) - data.acf_target).abs().mean()
        loss_g = loss_g + cfg.acf_weight * acf_gap
    nets.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    nets.opt_g.step()
    if nets.ema_gen is not None:
        with torch.no_grad():
            for pe, p in zip(nets.ema_gen.parameters(), nets.gen.parameters(), strict=True):
                pe.lerp_(p, 1 - cfg.ema)
    return loss_g


def _checkpoint_dict(
    nets, data, step, elapsed, acc, n_acc, config, profiles, train_days, span, seed, cfg,
    n_labels, label_counts, calibration,
) -> dict[str, Any]:  # fmt: skip
    """What ``checkpoint.pt`` holds: weights, optimiser and RNG states, the data's description,
    the loss window of the metrics and the calibration (final checkpoint only)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "step": int(step),
        "generator": _state_to_cpu(nets.gen.state_dict()),
        "critic": _state_to_cpu(nets.critic.state_dict()),
        "generator_ema": _state_to_cpu(nets.ema_gen.state_dict()) if nets.ema_gen else {},
        "opt_generator": _state_to_cpu(nets.opt_g.state_dict()),
        "opt_critic": _state_to_cpu(nets.opt_c.state_dict()),
        "rng_state": nets.rng.get_state(),
        "config": config,
        "sites": list(profiles.sites),
        "capacities": [float(c) for c in profiles.capacities],
        "units": str(profiles.units),
        "step_minutes": int(profiles.step_minutes),
        "start_minute": int(profiles.start_minute),
        "n_steps": int(train_days.n_steps),
        "modelled_steps": [int(span[0]), int(span[1])],
        "fingerprint": profiles.fingerprint,
        "seed": int(seed),
        "condition": cfg.condition,
        "n_labels": int(n_labels),
        "label_counts": [int(c) for c in label_counts],
        "versions": versions(),
        "elapsed_s": float(elapsed),
        "metrics_acc": [float(v) for v in acc],
        "metrics_n": int(n_acc),
        "ramp_sd_gen": [float(v) for v in data.sd_gen.cpu()],
        "calibration": calibration,
    }
