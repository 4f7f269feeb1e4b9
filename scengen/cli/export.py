"""``scengen export``: write a scenario directory for optimisation tools."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import click

from scengen.cli.main import (
    cli,
    config_option,
    echo_err,
    overwrite_option,
    read_config,
    seed_option,
    with_section,
)
from scengen.config import from_dict, override


@contextlib.contextmanager
def config_notes() -> Iterator[None]:
    """Show the deprecation warnings of reading a config (an old spelling of a key) as
    ``note: ...`` lines on stderr, not as Python warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FutureWarning)
        yield
    for w in caught:
        echo_err(f"note: {w.message}", level=0)


@cli.command("export")
@click.argument("scen_dir", metavar="SCEN_DIR", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    default=None,
    help="long | wide | pypsa | gams | plexos | pyomo.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output directory.")
@click.option(
    "--start",
    default=None,
    help="Date of the first snapshot (pypsa, plexos; adds timestamps to long) [default: "
    "2020-01-01].",
)
@click.option(
    "--day-weight",
    type=float,
    default=None,
    metavar="DAYS",
    help="Days the exported day stands for in costs: pypsa snapshot weightings and the gams / "
    "pyomo step weights are step length x DAYS [h]; 365 scales the objective to a year "
    "[default: 1].",
)
@click.option(
    "--normalize/--no-normalize",
    default=None,
    help="Rescale probabilities that do not sum to 1.",
)
@overwrite_option("export directory")
@seed_option(default=None)
@config_option
def export_cmd(
    scen_dir: Path,
    fmt: str | None,
    out: Path,
    start: str | None,
    day_weight: float | None,
    normalize: bool | None,
    overwrite: bool,
    seed: int | None,
    config_path: Path | None,
) -> None:
    """Write the scenarios of SCEN_DIR in a layout an optimisation tool reads.

    \b
    Formats:
      long    scenarios.csv (scenario,site,step,time,value) + probabilities.csv
      wide    scenarios_wide.csv: scenario,site,probability, one column per step
      pypsa   generators-p_max_pu.csv with (scenario, name) columns, generators.csv (p_nom),
              scenario_weightings.csv, snapshot_weightings.csv
      gams    CSVs + scengen_data.gms (csv2gdx calls and $load; $include it)
      plexos  one bands-in-columns Data File per site (band b = scenario b) +
              probability.csv (Variable [Probability], cumulative %) + bands.csv
      pyomo   probabilities.csv, availability.csv, sites.csv, steps.csv (Pyomo / mpi-sppy)

    Scenario id 17 is named s17 in every format. See docs/exports.md.

    \b
    Examples:
      scengen export runs/wind/reduced10 --format pypsa --start 2030-01-01 --out runs/wind/pypsa
      scengen export runs/wind/reduced10 --format gams --out runs/wind/gams
      scengen export runs/wind/reduced10 --format pyomo --day-weight 365 --out runs/wind/pyomo
    """
    from scengen._io import check_output_dir
    from scengen.errors import ScengenError
    from scengen.export import FORMATS, ExportConfig, check_day_weight, check_format, export
    from scengen.scenarios import read_scenarios

    if fmt is not None:
        check_format(fmt, "--format")
    config = read_config(config_path)
    with config_notes():
        ecfg = from_dict(ExportConfig, with_section(config, "export"), "config.export")
    ecfg = override(
        ecfg,
        "config.export",
        formats=None if fmt is None else [fmt],
        start=start,
        normalize=normalize,
        day_weight=day_weight,
        seed=seed,
    )
    if not ecfg.formats:
        raise ScengenError(f"--format is required; choose one of {list(FORMATS)}")
    if len(ecfg.formats) > 1:
        raise ScengenError(
            f"config.export.formats = {ecfg.formats!r}: scengen export writes one format; "
            "choose it with --format"
        )
    fmt = ecfg.formats[0]
    check_day_weight(ecfg.day_weight)
    check_output_dir(out, "export", overwrite=overwrite, inputs=[scen_dir])
    ss = read_scenarios(scen_dir, normalize=ecfg.normalize)
    export(
        ss,
        fmt,
        out,
        start=ecfg.start,
        day_weight=ecfg.day_weight,
        seed=ecfg.seed,
        overwrite=overwrite,
        inputs=[scen_dir],
    )
    echo_err(f"exported {ss.n_scenarios} scenarios x {ss.n_sites} sites as {fmt} -> {out}")
