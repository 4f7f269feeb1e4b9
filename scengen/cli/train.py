"""``scengen train``: fit the WGAN-GP on a measurement CSV and write a run directory."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from scengen.cli.main import (
    cli,
    config_option,
    config_seed,
    echo_err,
    read_config,
    seed_option,
    show_progress,
    with_section,
)
from scengen.cli.options import data_config, data_options
from scengen.errors import ScengenError


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class ProgressLine:
    """One updating line on stderr: step, losses, Wasserstein estimate, ETA.

    On a terminal the line is redrawn in place (``\\r``); otherwise (logs, CI) a line is printed
    at most every ``every_s`` seconds and at the end.
    """

    def __init__(self, every_s: float = 30.0, stream: Any = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s, self.last, self.shown = every_s, 0.0, False
        self.enabled = enabled

    def __call__(self, info: dict[str, Any]) -> None:
        if not self.enabled:
            return
        if info.get("event") == "note":
            self.close()
            click.echo(f"note: {info['text']}", err=True)
            return
        step, steps = info["step"], info["steps"]
        now = time.perf_counter()
        if not self.tty and now - self.last < self.every_s and step != steps:
            return
        self.last = now
        width = 20
        filled = int(width * step / max(steps, 1))
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {step}/{steps}  "
            f"W {info['wasserstein']:.4f}  D {info['critic_loss']:.4f}  "
            f"G {info['generator_loss']:.4f}  GP {info['gradient_penalty']:.4f}  "
            + (
                f"val best {info['val_best_score']:.3f} @{info['val_best_step']}  "
                if "val_best_step" in info
                else ""
            )
            + f"{_fmt_time(info.get('elapsed'))} ETA {_fmt_time(info.get('eta'))}"
        )
        if self.tty:
            click.echo("\r" + line, nl=False, err=True)
            self.shown = True
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty and self.shown:
            click.echo("", err=True)
            self.shown = False


@cli.command("train")
@click.argument("csv", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "-o",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory to write (config, metadata, split, metrics, checkpoint).",
)
@data_options
@click.option(
    "--recipe",
    type=click.Choice(["auto", "wind", "pv", "none"]),
    default=None,
    help="Model and training settings: 'auto' picks wind or pv from the data (PV when a site "
    "has nights), 'none' the built-in defaults; --config and flags override it [default: auto "
    "without --config, none with it].",
)
@click.option("--steps", type=int, default=None, help="Generator steps [default: the recipe's].")
@click.option("--batch-size", type=int, default=None, help="Days per batch [recipe: 64].")
@click.option("--n-critic", type=int, default=None, help="Critic steps per generator step.")
@click.option("--lr", type=float, default=None, help="Adam learning rate [recipe: 3e-4].")
@click.option(
    "--condition",
    type=str,
    default=None,
    help="Condition on the day's label: none, month or season [recipe: none for wind, season "
    "for pv].",
)
@click.option("--device", type=str, default=None, help="auto, cpu or cuda [default: auto].")
@click.option("--threads", type=int, default=None, help="CPU threads for torch.")
@click.option("--checkpoint-every", type=int, default=None, help="Checkpoint every N steps [500].")
@click.option(
    "--max-minutes", type=float, default=None, help="Stop (with a checkpoint) after this long."
)
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR's last checkpoint.")
@click.option(
    "--overwrite", is_flag=True, help="Replace a run directory that already holds a checkpoint."
)
@seed_option(default=None)
@config_option
def train_cmd(
    csv: Path | None,
    run_dir: Path,
    sites: str | None,
    capacity: str | None,
    resolution: int | None,
    clip: bool | None,
    test_fraction: float | None,
    recipe: str | None,
    steps: int | None,
    batch_size: int | None,
    n_critic: int | None,
    lr: float | None,
    condition: str | None,
    device: str | None,
    threads: int | None,
    checkpoint_every: int | None,
    max_minutes: float | None,
    resume: bool,
    overwrite: bool,
    seed: int | None,
    config_path: Path | None,
) -> None:
    """Train a WGAN-GP on the daily profiles of CSV and write RUN_DIR.

    CSV has a 'timestamp' column and one column per site (see 'data' in the README). Settings
    come from --config (sections data, model, train); flags override them. Without --config the
    model and training settings are a shipped recipe (those of configs/wind.yaml or
    configs/pv.yaml), picked from the training days: pv when a site has nights, else wind; the
    pick and its reason are shown on stderr. The held-out days are recorded in RUN_DIR for
    'scengen evaluate'. A progress line is shown on stderr.

    \b
    Examples:
      scengen train data/wind_gefcom2012_7farms_2009-2010.csv --out runs/wind
      scengen train data/wind_pv_germany_smard_2023-2024.csv --capacity max --out runs/de
      scengen train --config configs/pv.yaml --out runs/pv --steps 500
      scengen train data/pv_gefcom2014_3sites.csv --clip --condition month --out runs/pv-m
      scengen train --out runs/wind --resume          # continue an interrupted run
    """
    from scengen import recipes
    from scengen import train as _train
    from scengen.config import from_dict, override

    cfg = read_config(config_path)
    data_sec = with_section(cfg, "data")
    model_sec = with_section(cfg, "model")
    train_sec = with_section(cfg, "train")
    if seed is None:
        seed = config_seed(cfg)
    if csv is not None and not csv.is_file():
        raise FileNotFoundError(f"measurement file {str(csv)!r} does not exist")

    if resume:
        if recipe is not None:
            raise ScengenError(
                f"--recipe {recipe} does not go with --resume: a resumed run keeps its settings"
            )
        data_sec, model_sec, train_sec, seed = recipes.resumed_sections(
            run_dir, data_sec, model_sec, train_sec, seed
        )
    seed = 0 if seed is None else seed

    data_cfg = data_config(
        data_sec,
        str(csv) if csv is not None else None,
        sites=sites,
        capacity=capacity,
        resolution=resolution,
        clip=clip,
        test_fraction=test_fraction,
    )
    if not data_cfg.path:
        raise ScengenError("no measurement CSV given; pass CSV or set data.path in --config")
    if not Path(data_cfg.path).is_file():
        raise FileNotFoundError(f"measurement file {data_cfg.path!r} does not exist")
    if recipe is None:
        recipe = "none" if config_path is not None or resume else "auto"
    reason = ""
    if recipe != "none":
        if recipe == "auto":
            recipe, reason = recipes.pick_for_data(data_cfg, seed)
        else:
            reason = "given with --recipe"
        model_sec, train_sec = recipes.with_recipe(recipe, model_sec, train_sec)
    model_cfg = from_dict(_train.ModelConfig, model_sec, "config.model")
    train_cfg = override(
        from_dict(_train.TrainConfig, train_sec, "config.train"),
        "option",
        steps=steps,
        batch_size=batch_size,
        n_critic=n_critic,
        lr=lr,
        condition=condition,
        device=device,
        threads=threads,
        checkpoint_every=checkpoint_every,
        max_minutes=max_minutes,
    )
    if reason:  # once the settings are valid: an error stays the only line
        echo_err(f"recipe: {recipe} ({reason})")
    bar = ProgressLine(enabled=show_progress())
    try:
        meta = _train.train_run(
            data_cfg,
            model_cfg,
            train_cfg,
            run_dir,
            seed=seed,
            resume=resume,
            overwrite=overwrite,
            progress=bar,
        )
    finally:
        bar.close()
    d = meta["data"]
    t = meta["timings"]
    val = ""
    if d.get("n_val"):
        best = meta.get("best_step")
        val = f", {d['n_val']} for validation" + (f", best at step {best}" if best else "")
    click.echo(
        f"trained {meta['step']} steps on {d['n_train']} days ({d['n_test']} held out{val}) "
        f"of {len(d['sites'])} sites x {d['n_steps']} steps in {t['train_s']:.0f} s on "
        f"{meta['device']} ({meta['status']}) -> {run_dir / _train.CHECKPOINT}"
    )
