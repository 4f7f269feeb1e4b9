"""``scengen evaluate``: score a scenario directory against held-out measured days."""

from __future__ import annotations

from pathlib import Path

import click

from scengen import _io
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
from scengen.config import from_dict, override
from scengen.errors import ScengenError
from scengen.evaluate import DECISION_KS, DECISIONS

#: exit status of ``scengen evaluate --strict`` (and ``scengen run --strict``) when a quality
#: check fails
STRICT_EXIT = 3


@cli.command("evaluate")
@click.argument("scen_dir", type=click.Path(path_type=Path))
@click.option(
    "--against",
    required=True,
    type=click.Path(path_type=Path),
    help="Run directory of 'scengen train' (its held-out days) or a measurement CSV "
    "(all its complete days).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for evaluation.csv / evaluation.json [default: SCEN_DIR].",
)
@click.option(
    "--n-copula",
    type=int,
    default=None,
    help="Days drawn from the Gaussian copula [default: 2000].",
)
@click.option(
    "--references/--no-references",
    default=None,
    help="Add the history and Gaussian-copula reference rows [default: on, needs training days].",
)
@click.option(
    "--capacity",
    default=None,
    help="CSV only: capacity per site ('max', a number, numbers in site order, site=value "
    "pairs) [default: the scenarios' capacities].",
)
@click.option("--resolution", type=int, default=None, help="CSV only: resample to this step [min].")
@click.option(
    "--clip/--no-clip", default=None, help="CSV only: clip values outside [0, 1] after scaling."
)
@click.option(
    "--decision",
    type=click.Choice(list(DECISIONS)),
    default=None,
    help="Also run the decision test: size a battery with the scenarios and with their "
    "reductions to each --decision-k, evaluate out of sample on the held-out days.",
)
@click.option(
    "--decision-k",
    "decision_ks",
    type=int,
    multiple=True,
    help="K values of the decision test (repeatable) [default: "
    f"{' '.join(map(str, DECISION_KS))}].",
)
@click.option(
    "--strict",
    is_flag=True,
    help=f"Exit with status {STRICT_EXIT} when a quality check fails (for pipelines); the "
    "results are written all the same.",
)
@click.option(
    "--allow-train-days",
    is_flag=True,
    help="Score against days that the scenarios' model trained on (an error otherwise: such "
    "scores overstate realism).",
)
@overwrite_option("evaluation (evaluation.csv / .json, decision.csv / .json)")
@seed_option()
@config_option
def evaluate_cmd(
    scen_dir: Path,
    against: Path,
    out: Path | None,
    n_copula: int | None,
    references: bool | None,
    capacity: str | None,
    resolution: int | None,
    clip: bool | None,
    decision: str | None,
    decision_ks: tuple[int, ...],
    strict: bool,
    allow_train_days: bool,
    overwrite: bool,
    seed: int,
    config_path: Path | None,
) -> None:
    """Score the scenarios in SCEN_DIR against held-out measured days.

    Prints energy score, variogram score (p = 0.5), CRPS, Wasserstein-1 to the held-out days,
    autocorrelation error (lags 1-6), ramp W1, cross-site correlation error, mean-profile error
    and the nearest-training-day distance, for the scenarios and for two references fitted on
    the training days (the training days themselves, 'history', and a Gaussian copula), with
    the ratios to history. All values are per-unit; lower is better. Writes evaluation.csv and
    evaluation.json into SCEN_DIR (or --out).

    \b
    Examples:
      scengen evaluate runs/wind/scenarios --against runs/wind
      scengen evaluate runs/wind/reduced --against data/wind_gefcom2012_7farms_2009-2010.csv
      scengen evaluate runs/pv/scenarios --against runs/pv --seed 1 --out runs/pv/eval

    With a CSV, every complete day of it is held out, scaled with the scenarios' capacities
    (unless --capacity or the config's data section says otherwise); the references then use
    the training days of the run recorded in the scenarios' metadata (source_run), if any.
    """
    from scengen import evaluate as ev
    from scengen.cli.options import data_config
    from scengen.scenarios import read_scenarios

    config = read_config(config_path)
    settings = from_dict(ev.EvaluateConfig, with_section(config, "evaluate"), "config.evaluate")
    settings = override(
        settings,
        "config.evaluate",
        n_copula=n_copula,
        references=references,
        decision=decision,
        decision_ks=list(decision_ks) or None,
    )
    decision, ks = settings.decision, settings.decision_ks
    problem = None
    if decision is not None:
        from scengen.decision import StorageProblem

        problem = from_dict(StorageProblem, with_section(config, "decision"), "config.decision")

    from scengen.decision import DECISION_CSV, DECISION_JSON, write_decision

    scenarios = read_scenarios(scen_dir)
    target = Path(out) if out is not None else Path(scen_dir)
    files = [ev.EVALUATION_CSV, ev.EVALUATION_JSON]
    if decision is not None:
        files += [DECISION_CSV, DECISION_JSON]
    if target.exists():
        _io.check_add_files(target, files, ("scenarios", "evaluation", "run"), overwrite=overwrite)
    else:
        _io.check_output_dir(target, "evaluation", inputs=[scen_dir, against])
    data = None
    csv_flags = {"--capacity": capacity, "--resolution": resolution, "--clip": clip}
    if Path(against).is_dir() and any(v is not None for v in csv_flags.values()):
        flag = next(k for k, v in csv_flags.items() if v is not None)
        raise ScengenError(
            f"{flag} applies only to --against CSV; {str(against)!r} is a directory (a run "
            "directory already records the scaled held-out days)"
        )
    if not Path(against).is_dir():
        data = data_config(
            with_section(config, "data"),
            None,
            capacity=capacity,
            resolution=resolution,
            clip=clip,
        )
    heldout, train = ev.heldout_from(
        against, scenarios, data=data, allow_train_days=allow_train_days
    )
    if heldout.metadata.get("dropped_note"):
        echo_err(f"note: {heldout.metadata['dropped_note']}")
    with progress_bar(f"scoring {scenarios.n_scenarios} scenarios") as bar:
        result = ev.evaluate_with_config(
            scenarios, heldout, train, settings, seed=seed, progress=bar
        )
    dres = None
    if decision is not None:
        from scengen.pipeline import storage_decision_test

        bad = [k for k in ks if not 0 < k < scenarios.n_scenarios]
        if bad:
            raise ScengenError(
                f"--decision-k {bad[0]} must be >= 1 and < the {scenarios.n_scenarios} scenarios"
            )
        with busy(f"decision test (storage) at K = {', '.join(map(str, ks))}"):
            dres = storage_decision_test(scenarios, heldout, train, ks, problem, seed=seed)
    inputs = {
        "scenarios": str(scen_dir),
        "against": str(against),
        "against_kind": "run_dir" if Path(against).is_dir() else "csv",
        "train": None if train is None else train.metadata.get("run_dir"),
        "config": None if config_path is None else str(config_path),
        **{k: v for k, v in vars(settings).items()},
    }
    if "n_in_train" in heldout.metadata:
        inputs["heldout_days_also_in_train"] = heldout.metadata["n_in_train"]

    def write(d: Path) -> None:
        ev.write_evaluation(result, d, inputs=inputs)
        if dres is not None:
            write_decision(dres, d)

    if target.exists():
        write(target)
    else:
        with _io.staging_dir(target, "evaluation", inputs=[scen_dir, against]) as d:
            write(d)

    click.echo(result.summary())
    if dres is not None:
        cols = [
            c
            for c in (
                "set",
                "energy_capacity",
                "power_capacity",
                "in_sample_cost",
                "out_of_sample_cost",
                "gap_pct",
                "gap_to_full_pct",
            )
            if c in dres.table
        ]
        click.echo("\nDecision test (storage), costs per day:")
        click.echo(dres.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if "source_run_missing" in heldout.metadata:
        echo_err(
            f"note: the scenarios' source run {heldout.metadata['source_run_missing']!r} is not "
            "a run directory here; no training days, so no references and no nn_distance"
        )
    elif train is None:
        echo_err("note: no training days known, so no references and no nn_distance")
    elif inputs.get("heldout_days_also_in_train"):
        echo_err(
            f"warning: {inputs['heldout_days_also_in_train']} of the {heldout.n_scenarios} "
            "days in the CSV are training days of the model",
            level=0,
        )
    echo_err(f"wrote {target / ev.EVALUATION_CSV} and {target / ev.EVALUATION_JSON}")
    if strict:
        failed = ev.failed_checks(result.to_dict())
        if failed is None:
            raise ScengenError(
                "--strict: no quality check could be made (no training days for the references)"
            )
        if failed:
            echo_err(
                f"quality bar: FAIL ({len(failed)} of {len(result.quality_checks())} checks): "
                + "; ".join(failed),
                level=0,
            )
            click.get_current_context().exit(STRICT_EXIT)
