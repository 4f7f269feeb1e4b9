"""``scengen reduce``: Wasserstein k-medoids to K weighted scenarios."""

from __future__ import annotations

from pathlib import Path

import click

from scengen.cli.main import (
    busy,
    cli,
    config_option,
    echo_err,
    overwrite_option,
    progress_bar,
    read_config,
    seed_option,
    with_section,
)
from scengen.cli.options import data_config, data_options
from scengen.config import from_dict, override
from scengen.errors import ScengenError


def load_input(path: Path, *, normalize: bool, data_section: dict, **flags):
    """A scenario directory, or a measurement CSV whose complete days are the scenarios."""
    from scengen.scenarios import read_scenarios

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input {str(path)!r} does not exist")
    if path.is_dir():
        given = [f"--{k.replace('_', '-')}" for k, v in flags.items() if v is not None]
        if given:
            raise ScengenError(
                f"{given[0]} applies to a measurement CSV input, but {str(path)!r} is a "
                "scenario directory"
            )
        return read_scenarios(path, normalize=normalize)
    from scengen.data import load_from_config

    cfg = data_config(data_section, str(path), **flags)
    profiles = load_from_config(cfg)
    if profiles.n_dropped_days:
        echo_err(f"note: {profiles.dropped_note()}")
    return profiles.to_scenarios(source=str(path))


@cli.command("reduce")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-k", "--k", "k", type=int, default=None, help="Number of scenarios to keep.")
@click.option(
    "--max-distance",
    default=None,
    help="Instead of -k: smallest K whose Wasserstein distance is at most this [p.u.], or a "
    "percentage of the single-scenario distance ('5%').",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output directory.")
@click.option("--method", default=None, help="pam (default) or forward.")
@click.option("--metric", default=None, help="euclidean (default) or cityblock.")
@click.option("--p", "p", type=int, default=None, help="Wasserstein order, 1 (default) or 2.")
@click.option(
    "--normalize/--no-normalize",
    default=None,
    help="Rescale input probabilities that do not sum to 1.",
)
@data_options
@overwrite_option("scenario directory")
@seed_option(default=None)
@config_option
def reduce_cmd(
    input_path: Path,
    k: int | None,
    max_distance: str | None,
    out: Path,
    method: str | None,
    metric: str | None,
    p: int | None,
    normalize: bool | None,
    sites: str | None,
    capacity: str | None,
    resolution: int | None,
    clip: bool | None,
    test_fraction: float | None,
    overwrite: bool,
    seed: int | None,
    config_path: Path | None,
) -> None:
    """Reduce scenarios to K representative ones with probabilities.

    INPUT is a scenario directory (from 'scengen generate') or a measurement CSV, whose complete
    days are the scenarios with equal weights. The K scenarios are input scenarios (medoids)
    chosen to minimise the Wasserstein distance between the full and the reduced distributions;
    each gets the probability of the scenarios closest to it.

    \b
    Examples:
      scengen reduce runs/wind/scenarios -k 10 --out runs/wind/reduced10
      scengen reduce runs/wind/scenarios --max-distance 5% --out runs/wind/reduced
      scengen reduce data/wind.csv -k 20 --method forward --out runs/wind/history20

    \b
    The output directory has the layout of a generated set plus
      assignment.csv   each input scenario -> its medoid (and their cost)
      reduction.json   method, metric, p, K, distance, exact check, curve, time, seed
    """
    from scengen._io import check_output_dir
    from scengen.reduce import ReduceConfig, check_options, reduce_with_config, write_reduction

    config = read_config(config_path)
    rcfg = from_dict(ReduceConfig, with_section(config, "reduce"), "config.reduce")
    rcfg = override(
        rcfg,
        "config.reduce",
        k=k,
        max_distance=max_distance,
        method=method,
        metric=metric,
        p=p,
        normalize=normalize,
        seed=seed,
    )
    if k is not None and max_distance is None:
        rcfg.max_distance = None
    if max_distance is not None and k is None:
        rcfg.k = None
    if (rcfg.k is None) == (rcfg.max_distance is None):
        raise ScengenError("give exactly one of -k K and --max-distance D")
    check_options(rcfg.k, rcfg.max_distance, rcfg.method, rcfg.metric, rcfg.p)
    check_output_dir(out, "scenarios", overwrite=overwrite, inputs=[input_path])
    ss = load_input(
        input_path,
        normalize=rcfg.normalize,
        data_section=with_section(config, "data"),
        sites=sites,
        capacity=capacity,
        resolution=resolution,
        clip=clip,
    )
    target = f"K = {rcfg.k}" if rcfg.k is not None else f"distance {rcfg.max_distance}"
    if rcfg.k is not None and rcfg.method == "pam":
        with progress_bar(f"reducing {ss.n_scenarios} scenarios to {target}") as bar:
            res = reduce_with_config(ss, rcfg, seed=0, progress=bar)
    else:
        with busy(f"reducing {ss.n_scenarios} scenarios to {target}"):
            res = reduce_with_config(ss, rcfg, seed=0)
    write_reduction(res, out, source=str(input_path), overwrite=overwrite, inputs=[input_path])
    check = f"; ot.emd2 check {res.distance_exact:.6g}" if res.distance_exact is not None else ""
    echo_err(
        f"reduced {ss.n_scenarios} scenarios to K = {len(res.medoids)} ({rcfg.method}, "
        f"W{rcfg.p} {rcfg.metric} distance {res.distance:.6g} p.u.{check}) in "
        f"{res.seconds:.2f} s -> {out}"
    )
