"""Reading a job directory from disk: :class:`Job` and :func:`load_job`.

Every part of a job directory is optional; a file that exists but cannot be read is recorded in
:attr:`Job.problems` (shown in its section) instead of failing the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scengen import _io
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, is_scenario_dir, read_scenarios


@dataclass
class Job:
    """Everything a report shows about one job directory (each part ``None`` when absent).

    ``problems`` lists ``(part, message)`` for files that exist but could not be read.
    """

    path: Path
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    metrics: pd.DataFrame | None = None
    train: Any = None
    test: Any = None
    scenarios: ScenarioSet | None = None
    evaluation: dict[str, Any] | None = None
    reduced: ScenarioSet | None = None
    reduced_evaluation: dict[str, Any] | None = None
    reduction: dict[str, Any] | None = None
    assignment: pd.DataFrame | None = None
    decision: Any = None
    stages: dict[str, Any] | None = None
    exports: list[tuple[str, int]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    seed: int = 0

    def problem(self, part: str) -> list[str]:
        """The messages of the files of ``part`` (a section key) that could not be read."""
        return [m for p, m in self.problems if p == part]


def _try(job: Job, part: str, fn: Callable[[], Any]) -> Any:
    """``fn()``, or ``None`` with the error recorded in ``job.problems`` under ``part``."""
    try:
        return fn()
    except Exception as e:  # a broken file is shown in its section, the rest of the report goes on
        msg = " ".join(str(e).split()) or type(e).__name__
        job.problems.append((part, f"{type(e).__name__}: {msg}"))
        return None


def load_job(path: str | os.PathLike) -> Job:
    """Read the parts of a job directory that exist (see :mod:`scengen.report`).

    Parameters
    ----------
    path : path
        The job (run) directory.

    Returns
    -------
    Job
        Its parts; those that could not be read are ``None`` and listed in ``problems``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ScengenError
        ``path`` is not a directory, or holds nothing a report can show.
    """
    d = Path(path)
    if not d.exists():
        raise FileNotFoundError(f"run directory {str(d)!r} does not exist")
    if not d.is_dir():
        raise ScengenError(f"{str(d)!r} is not a run directory (expected a directory)")
    job = Job(path=d, name=d.resolve().name)
    _load_run(job, d)
    _load_scenarios(job, d)
    _load_decision(job, d)
    exp = d / "export"
    if exp.is_dir():
        job.exports = sorted(
            (str(f.relative_to(d)), f.stat().st_size)
            for f in exp.rglob("*")
            if f.is_file() and not f.name.startswith(".")
        )
    found = (
        job.metadata
        or job.metrics is not None
        or job.test is not None
        or job.scenarios is not None
        or job.reduced is not None
        or job.decision is not None
        or job.problems
    )
    if not found:
        raise ScengenError(
            f"{str(d)!r} holds nothing to report: expected a run directory (metadata.json, "
            "metrics.csv, profiles.npz) and/or scenarios/, reduced/, decision.json"
        )
    return job


def _load_run(job: Job, d: Path) -> None:
    """The training run's files: metadata, config, stages, metrics and the data split."""
    from scengen.data import PROFILES_NPZ, load_split

    if (d / "metadata.json").is_file():
        job.metadata = _try(job, "metadata", lambda: _json_dict(d / "metadata.json")) or {}
    if (d / "config.yaml").is_file():
        job.config_text = _try(job, "metadata", lambda: (d / "config.yaml").read_text("utf-8"))
    if (d / "stages.json").is_file():
        job.stages = _try(job, "metadata", lambda: _json_dict(d / "stages.json"))
    if (d / "metrics.csv").is_file():
        job.metrics = _try(job, "training", lambda: _read_metrics(d / "metrics.csv"))
    if (d / PROFILES_NPZ).is_file():
        split = _try(job, "data", lambda: load_split(d))
        if split is not None:
            job.train, job.test = split


def _load_scenarios(job: Job, d: Path) -> None:
    """``scenarios/`` and ``reduced/``: the sets, their evaluations and the reduction's files."""
    if is_scenario_dir(d / "scenarios"):
        job.scenarios = _try(job, "realism", lambda: read_scenarios(d / "scenarios"))
    if (d / "scenarios" / "evaluation.json").is_file():
        job.evaluation = _try(
            job, "evaluation", lambda: _json_dict(d / "scenarios" / "evaluation.json")
        )
    red = d / "reduced"
    if is_scenario_dir(red):
        job.reduced = _try(job, "reduction", lambda: read_scenarios(red))
    if (red / "reduction.json").is_file():
        job.reduction = _try(job, "reduction", lambda: _json_dict(red / "reduction.json"))
    if (red / "assignment.csv").is_file():
        job.assignment = _try(job, "reduction", lambda: pd.read_csv(red / "assignment.csv"))
    if (red / "evaluation.json").is_file():
        job.reduced_evaluation = _try(
            job, "evaluation", lambda: _json_dict(red / "evaluation.json")
        )


def _load_decision(job: Job, d: Path) -> None:
    """``decision.json``: the pipeline writes it at the job's root, ``scengen evaluate
    --decision`` next to the evaluated scenarios (the first found is read)."""
    from scengen.decision import DECISION_JSON, read_decision

    for dfile in (d / DECISION_JSON, d / "scenarios" / DECISION_JSON):
        if dfile.is_file():
            job.decision = _try(job, "decision", lambda f=dfile: read_decision(f))
            break


def _json_dict(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``.

    Raises
    ------
    ScengenError
        The file is not valid JSON or does not hold an object.
    """
    try:
        obj = _io.read_json(path)
    except ValueError as e:
        raise ScengenError(f"{path.name} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ScengenError(f"{path.name} must hold a JSON object, got {type(obj).__name__}")
    return obj


def _read_metrics(path: Path) -> pd.DataFrame:
    """``metrics.csv`` with every column numeric (unparseable cells NaN).

    Raises
    ------
    ScengenError
        The file has no ``step`` column.
    """
    df = pd.read_csv(path)
    if "step" not in df.columns:
        raise ScengenError(f"{path.name} has no 'step' column (columns: {list(df.columns)})")
    return df.apply(pd.to_numeric, errors="coerce")


def _jobs(job_dirs: Sequence[str | os.PathLike], seed: int = 0) -> list[Job]:
    """Load every job directory (one path or several) and give each a unique name.

    Parameters
    ----------
    job_dirs : path or list of path
        The job directories.
    seed : int, default 0
        Stored in each :attr:`Job.seed` (the seed of the figures' random subsets).

    Returns
    -------
    list of Job
        Same folder name from different parents: named ``<parent>/<name>``.

    Raises
    ------
    ScengenError
        No directory given, or one of them cannot be reported (see :func:`load_job`).
    """
    if isinstance(job_dirs, (str, os.PathLike)):
        job_dirs = [job_dirs]
    dirs = list(job_dirs)
    if not dirs:
        raise ScengenError("no run directory given; give at least one")
    jobs = [load_job(d) for d in dirs]
    for j in jobs:
        j.seed = int(seed)
    names = [j.name for j in jobs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        # same folder name from different parents: tell them apart by their parent folder
        for j in jobs:
            if j.name in dup:
                j.name = f"{j.path.resolve().parent.name}/{j.name}"
    return jobs
