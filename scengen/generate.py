"""Sample synthetic daily scenarios from a trained WGAN-GP checkpoint.

:func:`generate` loads ``RUN_DIR/checkpoint.pt``, draws ``n`` latent vectors from a seeded
generator, maps them through the (EMA) generator in batches and returns an equally weighted
:class:`~scengen.scenarios.ScenarioSet` in per-unit, with the capacities, units and step length
recorded at training time, so ``write_scenarios`` can write the values in the original units.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scengen import _io
from scengen.config import check_seed
from scengen.errors import ScengenError
from scengen.scenarios import METADATA_JSON as SCENARIOS_METADATA
from scengen.scenarios import ScenarioSet, estimate_dir_bytes, write_scenarios_stream
from scengen.train import (
    LABEL_VALUES,
    METADATA_JSON,
    calibrate,
    check_label,
    checkpoint_path,
    checkpoint_span,
    generator_from_checkpoint,
    label_index,
    load_checkpoint,
    resolve_device,
    versions,
)

#: upper bound on ``n`` (a guard against typos such as 1e9)
MAX_SCENARIOS = 10_000_000
#: bytes :func:`generate_to_dir` keeps free on the disk beyond the estimated output [bytes]
DISK_MARGIN = 250_000_000


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


def format_bytes(b: float) -> str:
    """A size [bytes] for people: ``"1.2 GB"``, ``"340.0 MB"``, ``"12 B"`` (powers of 1000)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{int(b)} B"


def _run_state(run_dir: str | os.PathLike | None, ckpt: dict[str, Any]) -> dict[str, Any]:
    """Check that the checkpoint belongs to its run directory (``None``: a model in memory) and
    say whether it is final.

    Returns the metadata entries ``steps``, ``checkpoint_complete``, ``incomplete`` (why not,
    e.g. ``"step 80 of 3000, not calibrated"``, or ``None``) and ``run_status``.
    """
    src = Path(run_dir) if run_dir is not None else None
    run_meta = None
    if src is not None and src.is_dir() and (src / METADATA_JSON).is_file():
        try:
            run_meta = _io.read_json(src / METADATA_JSON)
        except (OSError, ValueError):
            run_meta = None
    run_meta = run_meta if isinstance(run_meta, dict) else {}
    data = run_meta.get("data")
    recorded = data.get("fingerprint") if isinstance(data, dict) else None
    fp = ckpt.get("fingerprint")
    if isinstance(recorded, str) and isinstance(fp, str) and recorded and fp and recorded != fp:
        raise ScengenError(
            f"{str(checkpoint_path(src))!r} does not belong to this run: its data fingerprint "
            f"{str(fp)[:12]} differs from {str(recorded)[:12]} in {str(src / METADATA_JSON)!r} "
            "(copied from another run?); put back the run's own checkpoint or retrain"
        )
    config = ckpt.get("config")
    train_cfg = config.get("train") if isinstance(config, dict) else None
    train_cfg = train_cfg if isinstance(train_cfg, dict) else {}
    steps, step = train_cfg.get("steps"), ckpt.get("step")
    steps = steps if isinstance(steps, int) and not isinstance(steps, bool) else None
    why = []
    if (
        steps is not None
        and isinstance(step, int)
        and step < steps
        and ckpt.get("early_stopped") is not True  # validation stopped it: final
    ):
        why.append(f"step {step} of {steps}")
    # a config without the key predates the calibration: none is expected then
    cal = ckpt.get("calibration")
    if train_cfg.get("calibrate", False) is True and not (isinstance(cal, dict) and cal):
        why.append("not calibrated")
    return {
        "steps": steps,
        "checkpoint_complete": not why,
        "incomplete": ", ".join(why) or None,
        "run_status": run_meta.get("status"),
    }


@dataclass
class _Plan:
    """What the chunk loop of :func:`_chunks` needs, prepared by :func:`_prepare`."""

    n: int
    batch_size: int
    gen: Any
    device: torch.device
    calibration: dict[str, Any] | None
    labels: torch.Tensor | None
    rng: torch.Generator
    span: tuple[int, int]
    n_steps: int
    layout: dict[str, Any]  # ScenarioSet keyword arguments other than values and ids
    metadata: dict[str, Any]


def _prepare(
    run_dir: str | os.PathLike,
    n: int,
    *,
    seed: int,
    condition: int | None,
    batch_size: int,
    device: str,
    calibrated: bool,
) -> _Plan:
    """Check the request, load the model and draw the labels of all ``n`` scenarios."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ScengenError(f"n = {n!r} must be a whole number of scenarios")
    if not 1 <= n <= MAX_SCENARIOS:
        raise ScengenError(f"n = {n} scenarios is not allowed; give 1 to {MAX_SCENARIOS}")
    seed = check_seed(seed, "seed")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ScengenError(f"batch_size = {batch_size!r} must be a whole number")
    if batch_size < 1:
        raise ScengenError(f"batch_size = {batch_size} must be >= 1")
    n, batch_size = int(n), int(batch_size)
    in_memory = getattr(run_dir, "checkpoint", None)  # a scengen.Model: no run directory
    ckpt = in_memory if isinstance(in_memory, dict) else load_checkpoint(run_dir)
    cond_kind = str(ckpt.get("condition", "none"))
    counts = [int(c) for c in ckpt.get("label_counts", [])]
    label = None
    if condition is not None:
        label = check_label(cond_kind, condition, counts)
    dev = resolve_device(device)
    cal = ckpt.get("calibration") if calibrated else None
    gen = generator_from_checkpoint(ckpt, dev)
    state = _run_state(None if in_memory is not None else run_dir, ckpt)
    n_labels = int(ckpt["n_labels"])
    rng = torch.Generator().manual_seed(int(seed))
    # steps outside the modelled span are 0 on every training day (train.fixed_zeros)
    start, stop = checkpoint_span(ckpt)
    all_labels = None
    if n_labels:  # drawn for all n before any latent vector (the order fixes the scenarios)
        if label is None:  # labels in proportion to the training days
            w = torch.tensor(counts, dtype=torch.float64)
            all_labels = torch.multinomial(w / w.sum(), n, replacement=True, generator=rng)
        else:
            all_labels = torch.full((n,), label_index(cond_kind, label), dtype=torch.long)
    meta: dict[str, Any] = {
        "kind": "generated",
        "source_run": getattr(run_dir, "path", None) if in_memory is not None else str(run_dir),
        "checkpoint_step": int(ckpt["step"]),
        "seed": int(seed),
        "n": int(n),
        "condition": None if label is None else int(label),
        "condition_kind": cond_kind,
        "device": str(dev),
        "versions": versions(),
        "data_fingerprint": ckpt.get("fingerprint"),
        "calibrated": bool(cal),
        **state,
    }
    if cond_kind != "none" and label is None:
        meta["condition_labels"] = LABEL_VALUES[cond_kind]
    layout = {
        "sites": list(ckpt["sites"]),
        "step_minutes": int(ckpt["step_minutes"]),
        "capacities": np.asarray(ckpt["capacities"], dtype=np.float64),
        "units": str(ckpt.get("units", "p.u.")),
        "start_minute": int(ckpt.get("start_minute", 0)),
    }
    return _Plan(
        n=n,
        batch_size=batch_size,
        gen=gen,
        device=dev,
        calibration=cal,
        labels=all_labels,
        rng=rng,
        span=(int(start), int(stop)),
        n_steps=int(ckpt["n_steps"]),
        layout=layout,
        metadata=meta,
    )


def _chunks(plan: _Plan, out: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """The chunk loop: yield ``(first index, values (m, n_sites, n_steps) [p.u.])`` per batch.

    The latent vectors of each batch are drawn in turn from ``plan.rng``; with ``out`` the values
    are written into (and yielded as a view of) ``out[a : a + m]``.
    """
    gen, dev, cal, start, stop = plan.gen, plan.device, plan.calibration, *plan.span
    for a in range(0, plan.n, plan.batch_size):
        m = min(plan.batch_size, plan.n - a)
        with torch.inference_mode():
            z = torch.randn(m, gen.input_dim, generator=plan.rng)
            lab = None if plan.labels is None else plan.labels[a : a + m].to(dev)
            x = gen(z.to(dev), lab).float().cpu().numpy()
        if cal:
            x = calibrate(x, cal, None if lab is None else lab.cpu().numpy())
        if out is None:
            buf = np.zeros((m, gen.n_sites, plan.n_steps), dtype=np.float32)
        else:
            buf = out[a : a + m]
        buf[:, :, start:stop] = x
        yield a, buf


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
    """Sample ``n`` daily scenarios from the model of a training run, in memory.

    Parameters
    ----------
    run_dir : path
        Run directory written by ``scengen train``, a checkpoint file, or a
        :class:`scengen.Model`.
    n : int
        Number of scenarios (1 to ``MAX_SCENARIOS``).
    seed : int, default 0
        Seed of the latent draws (and of the labels of an unconditioned request to a conditional
        model), 0 to 2**32 - 1; the same seed and batch_size give identical scenarios on the
        same device.
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
        ``condition``, ``versions``, ``data_fingerprint``, and whether the checkpoint is the
        final one of its run: ``steps`` (of the training), ``checkpoint_complete``,
        ``incomplete`` (e.g. ``"step 80 of 3000, not calibrated"``) and ``run_status``.

    Raises
    ------
    ScengenError
        For a bad ``n``, ``seed``, ``batch_size`` or ``condition``, an unreadable checkpoint, or
        a checkpoint whose data fingerprint differs from its run directory's ``metadata.json``.
        A checkpoint of an unfinished training is sampled (see the metadata).
    """
    plan = _prepare(
        run_dir,
        n,
        seed=seed,
        condition=condition,
        batch_size=batch_size,
        device=device,
        calibrated=calibrated,
    )
    out = np.zeros((plan.n, plan.gen.n_sites, plan.n_steps), dtype=np.float32)
    for _ in _chunks(plan, out):
        pass
    return ScenarioSet(values=out, probabilities=None, metadata=plan.metadata, **plan.layout)


def iter_generate(
    run_dir: str | os.PathLike,
    n: int,
    *,
    seed: int = 0,
    condition: int | None = None,
    batch_size: int = 8192,
    device: str = "auto",
    calibrated: bool = True,
) -> Iterator[ScenarioSet]:
    """Sample ``n`` daily scenarios in chunks of ``batch_size``: the scenarios of
    :func:`generate`, one forward pass at a time.

    The request is checked and the model loaded when this is called; the chunks are sampled as
    they are taken.

    Parameters
    ----------
    run_dir : path
        Run directory written by ``scengen train``, a checkpoint file, or a
        :class:`scengen.Model`.
    n : int
        Number of scenarios (1 to ``MAX_SCENARIOS``).
    seed : int, default 0
        Seed of the latent draws (and of the labels of an unconditioned request to a conditional
        model), 0 to 2**32 - 1; the same seed and batch_size give identical scenarios on the
        same device.
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
    iterator of ScenarioSet
        Consecutive chunks of at most ``batch_size`` scenarios with ids ``a .. a+m-1``, values
        in per-unit [p.u.] (float32) and the metadata of :func:`generate`; together the
        scenarios of :func:`generate` with the same arguments.
    """
    plan = _prepare(
        run_dir,
        n,
        seed=seed,
        condition=condition,
        batch_size=batch_size,
        device=device,
        calibrated=calibrated,
    )
    return (
        ScenarioSet(values=v, ids=np.arange(a, a + len(v)), metadata=plan.metadata, **plan.layout)
        for a, v in _chunks(plan)
    )


def _free_space(out: Path) -> tuple[Path, int]:
    """The nearest existing folder above ``out`` and its free space [bytes]."""
    p = out.absolute().parent
    while not p.exists() and p != p.parent:
        p = p.parent
    return p, shutil.disk_usage(p).free


def generate_to_dir(
    run_dir: str | os.PathLike,
    n: int,
    out: str | os.PathLike,
    *,
    seed: int = 0,
    condition: int | None = None,
    batch_size: int = 8192,
    device: str = "auto",
    calibrated: bool = True,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Sample ``n`` daily scenarios and write them to the scenario directory ``out`` as they come.

    The files are those of ``write_scenarios(generate(...), out)`` byte for byte, but only one
    batch of scenarios (and the ids and labels) is held in memory, so any ``n`` up to
    ``MAX_SCENARIOS`` fits. The size of the output is estimated on the first batch before
    anything is written (:func:`scengen.scenarios.estimate_dir_bytes`); an output that would
    not fit in the free disk space (with a margin of 2 % and ``DISK_MARGIN`` bytes) is refused.
    The directory is built under a temporary name and appears only when complete.

    Parameters
    ----------
    run_dir : path
        Run directory written by ``scengen train``, a checkpoint file, or a
        :class:`scengen.Model`.
    n : int
        Number of scenarios (1 to ``MAX_SCENARIOS``).
    seed : int, default 0
        Seed of the latent draws (and of the labels of an unconditioned request to a conditional
        model), 0 to 2**32 - 1; the same seed and batch_size give identical scenarios on the
        same device.
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
    out : path
        Scenario directory to write: new, empty or (with ``overwrite``) an earlier scenario
        directory (see :func:`scengen._io.check_output_dir`).
    overwrite : bool, default False
        Replace an existing scenario directory written by scengen.
    inputs : iterable of paths
        Further inputs ``out`` may not be or contain (``run_dir`` always counts).
    progress : callable, optional
        Called with ``{"done", "n", "bytes", "metadata"}``: scenarios written so far (0 once
        before the first is written), the total, the estimated size of the output [bytes] and
        the scenario metadata.

    Returns
    -------
    dict
        The ``metadata.json`` written: the metadata of :func:`generate` (``checkpoint_complete``
        and ``incomplete`` say whether the checkpoint is the final one of its run) and the
        layout (``n_scenarios``, ``sites``, ``n_steps``, ...).

    Raises
    ------
    ScengenError
        As :func:`generate`; when ``out`` may not be written; when the output would not fit on
        the disk (naming ``n``, the estimate and the free space).
    """
    out = Path(out)
    inputs = [run_dir, *inputs]
    _io.check_output_dir(out, "scenarios", overwrite=overwrite, inputs=inputs)
    chunks = iter_generate(
        run_dir,
        n,
        seed=seed,
        condition=condition,
        batch_size=batch_size,
        device=device,
        calibrated=calibrated,
    )
    first = next(chunks)
    need = estimate_dir_bytes(first, n)
    where, free = _free_space(out)
    if need * 1.02 + DISK_MARGIN > free:
        raise ScengenError(
            f"n = {n} scenarios need about {format_bytes(need)} on disk but {str(where)!r} has "
            f"only {format_bytes(free)} free (keeping {format_bytes(DISK_MARGIN)} spare); "
            "free some space, give a smaller -n or another --out"
        )
    info: dict[str, Any] = {"done": 0, "n": int(n), "bytes": need, "metadata": first.metadata}

    def report(done: int) -> None:
        if progress is not None:
            progress({**info, "done": done})

    report(0)
    write_scenarios_stream(
        itertools.chain([first], chunks),
        out,
        n_scenarios=n,
        overwrite=overwrite,
        inputs=inputs,
        progress=report,
    )
    return _io.read_json(out / SCENARIOS_METADATA)
