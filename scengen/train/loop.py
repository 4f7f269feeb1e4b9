"""The training loop and the run directory it writes (:func:`train_run`), or nothing (:func:`fit`)."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scengen import _io
from scengen import data as _data
from scengen.config import check_seed, dump_yaml, from_dict, to_dict
from scengen.errors import ScengenError
from scengen.train.calibration import fit_calibration, modelled_steps
from scengen.train.checkpoint import (
    CHECKPOINT,
    _save_checkpoint,
    load_checkpoint,
)
from scengen.train.config import (
    LABEL_VALUES,
    RESUMABLE_CHANGES,
    UNRECORDED,
    ModelConfig,
    Progress,
    TrainConfig,
    day_labels,
    label_index,
    resolve_device,
    versions,
)
from scengen.train.losses import batch_acf
from scengen.train.steps import (
    _Batches,
    _build_nets,
    _checkpoint_dict,
    _critic_steps,
    _generator_step,
    _restore,
    _set_lr,
)
from scengen.train.validation import VAL_COLUMNS, Validator

METRICS_CSV = "metrics.csv"
CONFIG_YAML = "config.yaml"
METADATA_JSON = "metadata.json"
LOSS_COLUMNS = (
    "step",
    "critic_loss",
    "wasserstein",
    "gradient_penalty",
    "generator_loss",
    "time_s",
)
#: the columns of ``metrics.csv``: the losses of each window, and the validation scores in the
#: rows of the steps where a validation ran (empty elsewhere)
METRIC_COLUMNS = (*LOSS_COLUMNS, *VAL_COLUMNS)


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
                if len(parts) == len(LOSS_COLUMNS):  # written before validation existed
                    parts += [""] * len(VAL_COLUMNS)
                    line = ",".join(parts)
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
        self.rows.append({c: float(row.get(c, math.nan)) for c in METRIC_COLUMNS})
        if self.f is None:
            return
        line = ",".join(
            str(int(row[c])) if c == "step" else f"{row[c]:.6g}" if c in row else ""
            for c in METRIC_COLUMNS
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
        "gradient_penalty", "generator_loss", "elapsed", "eta"}`` at every logged step (with
        validation also the ``val_*`` scores at the validated steps and ``val_best_score``,
        ``val_best_step`` once there is a best), and once with ``{"event": "note", "text": ...}``
        when days of the data were dropped.

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
    train_days, val_days = _data.split_validation(train_days, train_cfg.val_fraction, seed)
    if train_days.n_days < 2:
        raise ScengenError(f"only {train_days.n_days} training day(s); at least 2 are needed")

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
                run_dir, profiles, train_days, test_days, model_cfg, train_cfg, config,
                device=device, seed=seed, old=old, progress=progress, val_days=val_days,
            )  # fmt: skip
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
    (metadata, checkpoint, metrics, trained on, validation days)
        The metadata a run directory would record, the final checkpoint (the dict
        ``checkpoint.pt`` holds), the logged metrics rows (dicts keyed by ``METRIC_COLUMNS``),
        the days the networks trained on and the days set aside for validation
        (``train.val_fraction`` of ``train_days``; None without validation). Training is the same arithmetic as :func:`train_run`'s.
    """
    model_cfg = ModelConfig() if model_cfg is None else model_cfg
    train_cfg = TrainConfig() if train_cfg is None else train_cfg
    seed = check_seed(seed)
    days = train_days
    train_days, val_days = _data.split_validation(days, train_cfg.val_fraction, seed)
    if train_days.n_days < 2:
        raise ScengenError(f"only {train_days.n_days} training day(s); at least 2 are needed")
    device = resolve_device(train_cfg.device)
    config = {
        "data": dict(data_config or {}),
        "model": to_dict(model_cfg),
        "train": to_dict(train_cfg),
    }
    with _threads(train_cfg, device):
        meta, ckpt, rows = _train_loop(
            None, days, train_days, None, model_cfg, train_cfg, config,
            device=device, seed=seed, old=None, progress=progress, val_days=val_days,
        )  # fmt: skip
    return meta, ckpt, rows, train_days, val_days


def _train_loop(
    run_dir: Path | None,
    profiles: Any,
    train_days: Any,
    test_days: Any,
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    config: dict[str, Any],
    *,
    device: torch.device,
    seed: int,
    old: dict[str, Any] | None,
    progress: Progress | None,
    val_days: Any = None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, float]]]:
    """The WGAN-GP training; returns the run's metadata, its last checkpoint and the metrics
    rows logged by this call. Without ``run_dir`` nothing is written to disk. With
    ``val_days`` the generator is validated every ``cfg.val_every`` steps and the best weights
    kept (:mod:`scengen.train.validation`)."""
    t_start = time.perf_counter()
    label_idx, label_counts, n_labels = _label_indices(train_days, cfg.condition)
    # ---- setup: the modelled steps, the networks (restored on resume), the run's files
    first, stop = modelled_steps(train_days.values) if cfg.fixed_zeros else (0, train_days.n_steps)
    values = train_days.values[:, :, first:stop]  # the steps the networks see
    nets = _build_nets(model_cfg, cfg, train_days.n_sites, stop - first, n_labels, device, seed)
    step, elapsed_before, acc, n_acc = 0, 0.0, np.zeros(4), 0
    val = None
    if val_days is not None:
        val = Validator(
            train_values=train_days.values,
            val_values=val_days.values,
            train_labels=label_idx,
            val_labels=_label_indices(val_days, cfg.condition)[0],
            n_labels=n_labels,
            span=(first, stop),
            seed=seed,
            calibrated=cfg.calibrate,
            device=device,
        )
    if old is not None:
        _restore(nets, old)
        step, n_acc = int(old["step"]), int(old.get("metrics_n", 0))
        acc[:] = old.get("metrics_acc", [0.0] * 4)
        elapsed_before = float(old.get("elapsed_s", 0.0))
        if val is not None and old.get("validation"):
            val.restore(old["validation"], old.get("generator_best"))
    meta: dict[str, Any] = {
        "seed": int(seed),
        "device": str(device),
        "versions": versions(),
        "data": {
            **_data.summary(profiles),
            "n_train": int(train_days.n_days),
            "n_val": 0 if val_days is None else int(val_days.n_days),
            "n_test": 0 if test_days is None else int(test_days.n_days),
        },
        "condition": cfg.condition,
        "label_counts": label_counts,
        "modelled_steps": [int(first), int(stop)],
        "steps": cfg.steps,
        "step": step,
        "status": "training",
        "timings": {},
    }

    def write_meta() -> None:
        if run_dir is not None:
            _io.write_json(run_dir / METADATA_JSON, meta)

    write_meta()  # first: a folder killed from here on is recognisably a run directory
    if old is None and run_dir is not None:
        _data.save_split(run_dir, train_days, test_days, val_days)
        _io.write_text(run_dir / CONFIG_YAML, dump_yaml(config))
    x_all = torch.as_tensor(values, dtype=torch.float32, device=device)
    sd_data = x_all.std(dim=0).mean(dim=1).clamp_min(1e-6)
    data = _Batches(
        x=x_all,
        labels=torch.as_tensor(label_idx, dtype=torch.long, device=device),
        conditional=n_labels > 0,
        acf_target=batch_acf(x_all, cfg.acf_lags)
        if cfg.acf_weight > 0 and stop - first > 1
        else None,
        sd_data=sd_data,
        sd_gen=torch.tensor(old["ramp_sd_gen"], dtype=torch.float32, device=device)
        if old is not None and old.get("ramp_sd_gen")
        else sd_data.clone(),
    )
    last: dict[str, Any] = {}

    def sampler() -> torch.nn.Module:
        """The generator the model samples with: the best validated weights, else the EMA's."""
        g = nets.ema_gen if nets.ema_gen is not None else nets.gen
        if val is None or val.best_state is None:
            return g
        best = copy.deepcopy(g)
        best.load_state_dict(val.best_state)
        return best

    def checkpoint(step_now: int, elapsed: float, final: bool = False) -> None:
        last.clear()
        last.update(
            _checkpoint_dict(
                nets, data, step_now, elapsed, acc, n_acc, config, profiles, train_days,
                (first, stop), seed, cfg, n_labels, label_counts,
                fit_calibration(
                    sampler(), values, label_idx, n_labels, seed, device,
                ) if final and cfg.calibrate else {},
            )
        )  # fmt: skip
        if val is not None:
            last["validation"] = val.state()
            last["generator_best"] = val.best_state or {}
            # a final checkpoint before train.steps because validation stopped improving
            last["early_stopped"] = final and stopped_by == "validation"
        if run_dir is not None:
            _save_checkpoint(run_dir / CHECKPOINT, last)

    metrics = _Metrics(
        None if run_dir is None else run_dir / METRICS_CSV,
        step if old is not None else None,
        cfg.log_every,
    )
    # ---- the loop
    t0 = time.perf_counter()
    first_step = step
    stopped_by: str | None = None  # "max_minutes" or "validation": before train.steps
    # the best weights are chosen among the validations in the decay of the learning rate (at the
    # full rate the weights still swing, and a lucky early score would win on noise); the run may
    # stop early only once `patience` of them have not improved
    decay_start = 0.0 if cfg.lr_decay_from is None else cfg.lr_decay_from * cfg.steps
    nets.gen.train()
    nets.critic.train()
    with contextlib.ExitStack() as stack:
        stack.callback(metrics.close)
        interrupt = stack.enter_context(_deferred_interrupts())
        while step < cfg.steps:
            _set_lr(nets, cfg, step)
            loss_c, w_est, gp = _critic_steps(nets, data, cfg, device)
            loss_g = _generator_step(nets, data, cfg, device)
            step += 1
            acc += [loss_c.item(), w_est.item(), gp.item(), loss_g.item()]
            n_acc += 1
            scores: dict[str, float] = {}
            if val is not None and step % cfg.val_every == 0:  # score on the validation days
                g = nets.ema_gen if nets.ema_gen is not None else nets.gen
                scores = val.scores(g)
                if step >= decay_start:  # the best weights are chosen once the LR decays
                    val.update(step, scores["val_score"], g)
            elapsed = elapsed_before + time.perf_counter() - t0
            if step % cfg.log_every == 0 or step == cfg.steps:  # log the window's mean losses
                m = acc / max(n_acc, 1)
                row = dict(zip(LOSS_COLUMNS[1:5], m.tolist(), strict=True))
                metrics.add({"step": step, **row, "time_s": elapsed, **scores})
                if step % cfg.log_every == 0:  # a final partial window goes on after a resume
                    acc[:], n_acc = 0, 0
                if not all(math.isfinite(v) for v in m):
                    raise ScengenError(
                        f"training diverged at step {step} (non-finite loss); lower train.lr"
                    )
                if progress is not None:
                    rate = (step - first_step) / max(time.perf_counter() - t0, 1e-9)
                    eta = (cfg.steps - step) / rate if rate > 0 else None
                    best = (
                        {}
                        if val is None or val.best_step is None
                        else {
                            "val_best_score": val.best_score,
                            "val_best_step": val.best_step,
                        }
                    )
                    progress(
                        {"step": step, "steps": cfg.steps, **row, "elapsed": elapsed, "eta": eta,
                         **scores, **best}
                    )  # fmt: skip
            if step % cfg.checkpoint_every == 0 and step < cfg.steps:
                checkpoint(step, elapsed)
            if interrupt["signal"] is not None:  # Ctrl-C / SIGTERM: save, then stop
                checkpoint(step, elapsed)
                meta.update(step=step, status="interrupted")
                write_meta()
                raise TrainingInterrupted(run_dir, step, cfg.steps)
            if cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes:
                stopped_by = "max_minutes" if step < cfg.steps else None
                break
            if (
                val is not None
                and cfg.patience is not None
                and val.since_best >= cfg.patience
                and step - decay_start >= cfg.patience * cfg.val_every
            ):  # no better score in `patience` validations, all of them in the decay phase
                stopped_by = "validation" if step < cfg.steps else None
                break
        elapsed = elapsed_before + time.perf_counter() - t0
        checkpoint(step, elapsed, final=True)
    # ---- the end
    run_s = time.perf_counter() - t0
    meta.update(
        step=step,
        status={
            None: "complete",
            "max_minutes": "stopped at max_minutes",
            "validation": f"stopped early: no better validation score in {cfg.patience} "
            "validations",
        }[stopped_by],
        **(
            {}
            if val is None
            else {
                "best_step": val.best_step,
                "validation": {**val.state(), "n_days": int(val_days.n_days)},
            }
        ),
        timings={
            "train_s": elapsed,
            "this_call_s": time.perf_counter() - t_start,
            "steps_per_s": (step - first_step) / run_s if run_s > 0 else None,
            **({} if val is None else {"validation_s": val.seconds}),
        },
    )
    write_meta()
    return meta, dict(last), metrics.rows
