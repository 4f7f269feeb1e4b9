"""``scengen run``: the whole pipeline for every job of a batch config."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from scengen.cli.evaluate import STRICT_EXIT
from scengen.cli.main import _seed, cli, echo_err, show_progress
from scengen.errors import ScengenError

DEFAULT_BATCH = Path("configs") / "batch.yaml"


class _Display:
    """Per-job, per-stage progress on stderr (one updating line while training)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, job: str, stage: str, info: dict[str, Any]) -> None:
        ev = info.get("event")
        stamp = f"[{time.perf_counter() - self.t0:6.0f}s] {job:>10s} {stage:<9s}"
        if ev == "progress":
            now = time.perf_counter()
            step, total = info.get("step"), info.get("steps") or info.get("total")
            if not self.tty and now - self.last < 30 and step != total:
                return
            self.last = now
            parts = [f"step {step}/{total}" if total else f"step {step}"]
            for k in ("wasserstein", "critic_loss", "generator_loss"):
                if k in info and info[k] is not None:
                    parts.append(f"{k} {info[k]:.4f}")
            if info.get("eta") is not None:
                parts.append(f"ETA {info['eta']:.0f}s")
            line = f"{stamp} " + "  ".join(parts)
            click.echo(("\r" + line.ljust(100)) if self.tty else line, err=True, nl=not self.tty)
            return
        if self.tty:
            click.echo("\r" + " " * 110 + "\r", err=True, nl=False)
        if ev == "start":
            echo_err(f"{stamp} ...")
        elif ev == "skip":
            echo_err(f"{stamp} up to date, skipped")
        elif ev == "done":
            extra = "  ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in info.items()
                if k not in ("event", "seconds")
            )
            echo_err(f"{stamp} done in {info['seconds']:.1f}s {extra}".rstrip())
        elif ev == "error":
            echo_err(f"{stamp} FAILED: {info['error']}")
        elif ev == "note":
            echo_err(f"{stamp} note: {info['text']}")


@cli.command("run")
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for job folders and index.html [default: the config's 'output', else reports].",
)
@click.option("--force", is_flag=True, help="Redo every stage, even those already complete.")
@click.option("--job", "jobs", multiple=True, help="Run only this job (repeatable).")
@click.option("--dry-run", is_flag=True, help="Validate the batch and list its jobs, run nothing.")
@click.option(
    "--strict",
    is_flag=True,
    help=f"Exit with status {STRICT_EXIT} when a job's scenarios fail a quality check.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    callback=_seed,
    help="Seed for every job [default: each job's 'seed', else 0].",
)
def run_cmd(
    config: Path | None,
    out: Path | None,
    force: bool,
    jobs: tuple[str, ...],
    dry_run: bool,
    strict: bool,
    seed: int | None,
) -> None:
    """Run train → generate → reduce → export → evaluate → report for every job.

    CONFIG is a batch YAML (a list of jobs) or a single-job YAML; without it the shipped default
    configs/batch.yaml (wind + PV examples on data/) is run. Completed stages are skipped, an
    interrupted run continues where it stopped; --force redoes everything. A failing job is
    reported and the others go on; the exit status is 1 if any job failed.

    \b
    Example:
      scengen run                       # the shipped wind + PV examples -> reports/
      scengen run configs/batch.yaml --job wind --out runs/batch
    """
    from scengen.cli.export import config_notes
    from scengen.pipeline import load_batch, run_batch

    if config is None:
        config = DEFAULT_BATCH
        if not config.is_file():
            raise ScengenError(
                f"no CONFIG given and no {DEFAULT_BATCH} in {Path.cwd()}; run from the repository "
                "root or pass a batch YAML"
            )
    with config_notes():
        batch = load_batch(config)
    if seed is not None:
        for j in batch.jobs:
            j.seed = seed
    if dry_run:
        for j in batch.jobs:
            click.echo(f"{j.name}: {j.data.path} -> {Path(out or batch.output) / j.name}")
        return
    display = _Display() if show_progress() else None
    outcomes = run_batch(batch, out, force=force, only=list(jobs) or None, progress=display)
    root = Path(out or batch.output)
    below_bar = []
    for o in outcomes:
        status = "ok" if o.ok else f"FAILED: {o.error}"
        if o.ok:
            bar = _quality(o.directory)
            status += f", {bar}"
            if bar.startswith("quality bar FAIL"):
                below_bar.append(o.name)
        click.echo(f"{o.name}: {status} -> {o.directory / 'report.html' if o.ok else o.directory}")
    if (root / "index.html").exists():
        click.echo(f"index: {root / 'index.html'}")
    failed = [o.name for o in outcomes if not o.ok]
    if failed:
        raise click.ClickException(f"{len(failed)} job(s) failed: {', '.join(failed)}")
    if strict and below_bar:
        echo_err(f"quality bar failed for {len(below_bar)} job(s): {', '.join(below_bar)}", level=0)
        click.get_current_context().exit(STRICT_EXIT)


def _quality(job_dir: Path) -> str:
    """``quality bar PASS`` or ``quality bar FAIL: <checks>`` of a job's generated scenarios."""
    from scengen.evaluate import EVALUATION_JSON, failed_checks, read_evaluation

    f = job_dir / "scenarios" / EVALUATION_JSON
    if not f.is_file():
        return "no evaluation"
    failed = failed_checks(read_evaluation(f))
    if failed is None:
        return "no quality checks"
    return "quality bar PASS" if not failed else "quality bar FAIL: " + "; ".join(failed)
