"""``scengen generate``: sample synthetic scenarios from a trained run."""

from __future__ import annotations

import time
from pathlib import Path

import click

from scengen.cli.main import (
    cli,
    config_option,
    config_seed,
    overwrite_option,
    read_config,
    seed_option,
    with_section,
)
from scengen.errors import ScengenError


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

    \b
    Examples:
      scengen generate runs/wind -n 5000 --out runs/wind/scenarios
      scengen generate runs/pv-m -n 1000 --condition 7 --seed 3 --out runs/pv-m/july
    """
    from scengen._io import check_output_dir
    from scengen.config import from_dict
    from scengen.generate import GenerateConfig, generate
    from scengen.scenarios import write_scenarios

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
    check_output_dir(out, "scenarios", overwrite=overwrite, inputs=[run_dir])
    t0 = time.perf_counter()
    ss = generate(run_dir, n, seed=seed, condition=label, batch_size=batch_size, device=device)
    t1 = time.perf_counter()
    write_scenarios(ss, out, overwrite=overwrite, inputs=[run_dir])
    t2 = time.perf_counter()
    click.echo(
        f"generated {ss.n_scenarios} scenarios ({ss.n_sites} sites x {ss.n_steps} steps, seed "
        f"{seed}{'' if label is None else f', condition {label}'}) in {t1 - t0:.1f} s, "
        f"written in {t2 - t1:.1f} s -> {out}"
    )
