"""``scengen report``: one self-contained HTML report of one or more runs."""

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
from scengen.config import from_dict, override
from scengen.errors import ScengenError


@cli.command("report")
@click.argument(
    "run_dirs", metavar="RUN_DIR...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="HTML file to write.")
@click.option("--title", default=None, help="Page title [default: 'scengen report: <runs>'].")
@click.option(
    "--index",
    is_flag=True,
    default=False,
    help="Write a batch index page instead: one comparison table linking to each run's "
    "report.html.",
)
@overwrite_option("report written by scengen")
@seed_option(default=None)
@config_option
def report_cmd(
    run_dirs: tuple[Path, ...],
    out: Path,
    title: str | None,
    index: bool,
    overwrite: bool,
    seed: int | None,
    config_path: Path | None,
) -> None:
    """Write a self-contained HTML report of one or more runs.

    Each RUN_DIR is a run directory from 'scengen train' (or 'scengen run'), optionally with
    scenarios/ (generate, evaluate), reduced/ (reduce), decision.json (evaluate --decision
    storage) and export/. Sections whose inputs are absent are skipped with a note. Figures
    are embedded: the file needs nothing else, opens offline and prints. With several runs the
    report starts with a side-by-side comparison.

    \b
    Examples:
      scengen report runs/wind --out runs/wind/report.html
      scengen report runs/wind runs/pv --out compare.html --title "Wind vs PV"
      scengen report reports/wind reports/pv --index --out reports/index.html
    """
    from scengen._io import check_output_file
    from scengen.report import ReportConfig, render_index, write_report

    config = read_config(config_path)
    rcfg = from_dict(ReportConfig, with_section(config, "report"), "config.report")
    rcfg = override(rcfg, "config.report", title=title, seed=seed)
    if out.is_dir():
        raise ScengenError(f"--out {str(out)!r} is a directory; give the HTML file to write")
    if out.suffix.lower() not in (".html", ".htm"):
        raise ScengenError(f"--out {str(out)!r} must end in .html")
    check_output_file(out, overwrite=overwrite)
    for d in run_dirs:
        if not d.exists():
            raise FileNotFoundError(f"run directory {str(d)!r} does not exist")
    if index:
        with busy(f"writing the index of {len(run_dirs)} run(s)"):
            render_index(
                run_dirs, out, title=rcfg.title or "scengen: batch results", overwrite=overwrite
            )
    else:
        with progress_bar(f"report of {len(run_dirs)} run(s)") as bar:
            write_report(
                run_dirs, out, title=rcfg.title, seed=rcfg.seed, overwrite=overwrite, progress=bar
            )
    size = out.stat().st_size
    what = "index" if index else "report"
    echo_err(f"wrote {what} of {len(run_dirs)} run(s) to {out} ({size / 1e6:.2f} MB)")
