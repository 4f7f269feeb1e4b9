"""``scengen generate``: sample synthetic scenarios from a trained run."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import click

from scengen.cli.main import (
    cli,
    config_option,
    config_seed,
    echo_err,
    overwrite_option,
    read_config,
    seed_option,
    with_section,
)
from scengen.errors import ScengenError

#: from this many scenarios on, the estimated size and a progress bar are shown on stderr
PROGRESS_MIN = 50_000


@cli.command("generate")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-n", "n", type=int, default=None, help="Number of scenarios [default: 2000].")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Scenario directory to write [default: RUN_DIR/scenarios].",
)
@click.option(
    "--condition",
    type=str,
    default=None,
    help="Label of a conditional model: month 1-12 or season 0-3 (0 = Dec-Feb).",
)
@click.option("--device", type=str, default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "--batch-size",
    type=int,
    default=8192,
    show_default=True,
    help="Scenarios per forward pass (bounds the memory).",
)
@overwrite_option("scenario directory")
@seed_option(default=None)
@config_option
def generate_cmd(
    run_dir: Path,
    n: int | None,
    out: Path | None,
    condition: str | None,
    device: str,
    batch_size: int,
    overwrite: bool,
    seed: int | None,
    config_path: Path | None,
) -> None:
    """Sample N synthetic daily scenarios from the model in RUN_DIR and write a scenario directory.

    The directory holds scenarios.csv (scenario,site,step,time,value in the sites' original
    units), probabilities.csv (equal), metadata.json and scenarios.npz. The same seed gives
    identical files. Settings may come from the 'generate' section of --config (n, condition).

    The scenarios are written as they are sampled, so any N up to 10 000 000 fits in memory; the
    size of the output is estimated first and a request that would not fit on the disk is
    refused. From 50 000 scenarios on, the estimate and a progress bar are shown on stderr. A
    model whose training has not finished is sampled with a warning.

    \b
    Examples:
      scengen generate runs/wind -n 5000 --out runs/wind/scenarios
      scengen generate runs/pv-m -n 1000 --condition 7 --seed 3 --out runs/pv-m/july
    """
    from scengen.config import from_dict
    from scengen.generate import GenerateConfig, format_bytes, generate_to_dir

    cfg = read_config(config_path)
    gcfg = from_dict(GenerateConfig, with_section(cfg, "generate"), "config.generate")
    if seed is None:
        seed = config_seed(cfg) or 0
    n = gcfg.n if n is None else n
    label: int | str | None = gcfg.condition if condition is None else condition.strip()
    if isinstance(label, str):
        try:
            label = int(label)
        except ValueError:
            raise ScengenError(
                f"--condition {label!r} is not a whole number; give a month 1-12 or a season 0-3"
            ) from None
    if n < 1:
        raise ScengenError(f"-n {n}: the number of scenarios must be at least 1")
    if not run_dir.exists():
        raise FileNotFoundError(f"run directory {str(run_dir)!r} does not exist")
    out = out if out is not None else run_dir / "scenarios"
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        bar: dict[str, Any] = {}

        def progress(info: dict[str, Any]) -> None:
            if info["done"] == 0:
                meta = info["metadata"]
                if meta.get("checkpoint_complete") is False:
                    run = run_dir if run_dir.is_dir() else run_dir.parent  # or its checkpoint
                    echo_err(
                        f"warning: {run} is incomplete ({meta['incomplete']}); resume with "
                        f"'scengen train --out {run} --resume'"
                    )
                if info["n"] >= PROGRESS_MIN:
                    echo_err(f"writing ~{format_bytes(info['bytes'])} to {out}")
                    bar["bar"] = stack.enter_context(
                        click.progressbar(
                            length=info["n"],
                            label="scenarios",
                            show_pos=True,
                            file=click.get_text_stream("stderr"),
                        )
                    )
                    bar["done"] = 0
            elif "bar" in bar:
                bar["bar"].update(info["done"] - bar["done"])
                bar["done"] = info["done"]

        meta = generate_to_dir(
            run_dir,
            n,
            out,
            seed=seed,
            condition=label,
            batch_size=batch_size,
            device=device,
            overwrite=overwrite,
            progress=progress,
        )
    click.echo(
        f"generated {meta['n_scenarios']} scenarios ({len(meta['sites'])} sites x "
        f"{meta['n_steps']} steps, seed {seed}{'' if label is None else f', condition {label}'}) "
        f"and wrote them in {time.perf_counter() - t0:.1f} s -> {out}"
    )
