"""The checkpoint: building the networks of a config, writing and reading ``checkpoint.pt``
(tensors and plain values only: ``torch.load(weights_only=True)``), and checking what it holds."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scengen import _io
from scengen.config import check_seed, from_dict
from scengen.errors import ScengenError
from scengen.models import Critic, Generator
from scengen.train.config import CONDITIONS, LABEL_VALUES, ModelConfig

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = "scengen-wgan-gp"
CHECKPOINT_VERSION = 1


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
        scale_noise=m.scale_noise,
        final_kernel=m.final_kernel,
    )
    d = Critic(
        n_sites,
        n_steps,
        channels=m.critic_channels,
        n_labels=n_labels,
        embed_dim=m.embed_dim,
        kernel_size=m.kernel_size,
        diff=m.critic_diff,
        lags=tuple(m.critic_lags),
        minibatch_std=m.minibatch_std,
    )
    return g, d


def checkpoint_span(ckpt: dict[str, Any]) -> list[int]:
    """``[start, stop]``: the steps a checkpoint's generator models (``modelled_steps``); all
    steps for a checkpoint written before it was recorded. :func:`load_checkpoint` checks it."""
    return ckpt.get("modelled_steps", [0, ckpt["n_steps"]])


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
    if problem is None and ckpt.get("generator_best"):
        problem = _tensor_dict_problem(ckpt["generator_best"], gen, "generator_best")
    val = ckpt.get("validation")
    if problem is None and val is not None:
        best = val.get("best_step") if isinstance(val, dict) else None
        if (
            not isinstance(val, dict)
            or not (best is None or (_is_int(best) and 0 < best <= step))
            or not _is_int(val.get("since_best", 0))
            or not _is_number(val.get("best_score", 0.0))
        ):
            return f"corrupt: validation = {val!r} is not a validation state"
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
    """The generator of a checkpoint, in eval mode: with ``ema``, its best validated weights
    (``train.val_fraction``) when present, else its EMA weights when present; else the raw
    weights."""
    model_cfg = from_dict(ModelConfig, ckpt["config"]["model"], "checkpoint model")
    start, stop = checkpoint_span(ckpt)
    g, _ = build_models(model_cfg, len(ckpt["sites"]), stop - start, int(ckpt["n_labels"]))
    state = ckpt["generator"]
    if ema:
        state = ckpt.get("generator_best") or ckpt.get("generator_ema") or state
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


def resolved_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The ``{"data", "model", "train"}`` config recorded in a run's checkpoint."""
    return load_checkpoint(run_dir)["config"]
