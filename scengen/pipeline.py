"""The whole pipeline for a batch of jobs: train → generate → reduce → export → evaluate → report.

A batch config is YAML::

    output: reports          # folder for the job folders and index.html
    defaults:                # merged under every job (per section)
      generate: {n: 2000}
    jobs:
      - name: wind
        data: {path: ../data/wind.csv}
        train: {steps: 2000}
      - name: pv
        data: {path: ../data/pv.csv, clip: true}

A file without ``jobs`` is a single job named after the file. Relative data paths are relative to
the config file's folder. The whole batch is validated before any long work starts. Each stage of a
job records a hash of the settings it ran with in ``stages.json``; a rerun skips the stages whose
settings are unchanged and whose outputs exist, and resumes an interrupted training from its last
checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scengen import _io
from scengen.config import SECTIONS, check_keys, from_dict, load_yaml, resolve_relative, to_dict
from scengen.data import DataConfig
from scengen.errors import ScengenError
from scengen.evaluate import EvaluateConfig
from scengen.export import FORMATS, ExportConfig
from scengen.generate import GenerateConfig
from scengen.reduce import ReduceConfig

STAGES = ("train", "generate", "reduce", "export", "evaluate", "report")
STAGES_JSON = "stages.json"
#: the decision test ``scengen run`` runs unless a job's ``evaluate`` section says otherwise
#: (``decision: null`` for none); ``scengen evaluate`` runs one only when asked
RUN_DECISION = "storage"


@dataclass
class JobConfig:
    """One job of a batch: the sections of a single-job config (the ``export`` and ``evaluate``
    sections are those of ``scengen export`` and ``scengen evaluate``)."""

    name: str
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    reduce: ReduceConfig = field(default_factory=lambda: ReduceConfig(k=10))
    export: ExportConfig = field(default_factory=ExportConfig)
    evaluate: EvaluateConfig = field(default_factory=lambda: EvaluateConfig(decision=RUN_DECISION))
    decision: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchConfig:
    """A validated batch: its jobs and where they write."""

    jobs: list[JobConfig]
    output: str = "reports"
    source: str = ""


# ---------------------------------------------------------------------- loading / validation


def _merge(defaults: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for k, v in job.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


def _typed(job: JobConfig, where: str) -> None:
    """Validate the free-form model / train / decision sections against their dataclasses."""
    from scengen import decision as _decision
    from scengen import train as _train

    from_dict(_train.ModelConfig, job.model, f"{where}.model")
    from_dict(_train.TrainConfig, job.train, f"{where}.train")
    from_dict(_decision.StorageProblem, job.decision, f"{where}.decision")


def load_batch(path: str | Path) -> BatchConfig:
    """Read and validate a batch (or single-job) YAML file.

    Raises :class:`~scengen.errors.ScengenError` naming the job and key for an unknown key, a
    missing data file, a job name used twice, K ≥ the number of generated scenarios or an unknown
    export format — before any long work starts.
    """
    path = Path(path)
    raw = load_yaml(path)
    base = path.resolve().parent
    allowed_top = {"output", "defaults", "jobs"}
    if "jobs" in raw:
        check_keys(raw, allowed_top, f"{path}: top level")
        defaults = raw.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise ScengenError(f"{path}: 'defaults' must be a mapping, got {defaults!r}")
        items = raw["jobs"]
        if not isinstance(items, list) or not items:
            raise ScengenError(f"{path}: 'jobs' must be a non-empty list of jobs")
        output = str(raw.get("output", "reports"))
    else:
        check_keys(raw, (*SECTIONS, "output", "name"), str(path))
        defaults, output = {}, str(raw.pop("output", "reports"))
        items = [{"name": path.stem, **raw}]
        raw = {}
    jobs: list[JobConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ScengenError(f"{path}: job {i + 1} must be a mapping, got {item!r}")
        if "config" in item:  # a job may take its sections from a single-job YAML file
            inc = Path(str(item["config"]))
            inc = inc if inc.is_absolute() else base / inc
            sub = load_yaml(inc)
            sub_data = sub.get("data")
            if isinstance(sub_data, dict) and isinstance(sub_data.get("path"), str):
                sub_data["path"] = resolve_relative(sub_data["path"], inc.resolve().parent)
            item = _merge(sub, {k: v for k, v in item.items() if k != "config"})
        name = item.get("name")
        where = f"job {name!r}" if name else f"job {i + 1}"
        if not name or not isinstance(name, str):
            raise ScengenError(f"{path}: {where} has no 'name' (a short folder name)")
        if any(c in name for c in "/\\") or name.startswith("."):
            raise ScengenError(f"{path}: {where}: name {name!r} must be a plain folder name")
        if name in seen:
            raise ScengenError(f"{path}: job name {name!r} is used twice; names must be unique")
        seen.add(name)
        merged = _merge(defaults, item)
        try:
            job = from_dict(JobConfig, merged, where)
        except ScengenError as e:  # the checks of a section's schema do not know the job
            msg = str(e)
            raise ScengenError(
                msg if msg.startswith(where) else f"{path}: {where}: {msg}"
            ) from None
        if "decision" not in (merged.get("evaluate") or {}):
            job.evaluate.decision = RUN_DECISION
        if not job.data.path:
            raise ScengenError(f"{path}: {where}: data.path is not set")
        p = Path(resolve_relative(job.data.path, base))
        if not p.is_file():
            raise ScengenError(f"{path}: {where}: data.path {job.data.path!r} does not exist ({p})")
        job.data.path = str(p)
        r = job.reduce
        if r.k is None and r.max_distance is None:
            r.k = 10
        if r.k is not None and not 0 < r.k < job.generate.n:
            raise ScengenError(
                f"{path}: {where}: reduce.k = {r.k} must be >= 1 and < generate.n = {job.generate.n}"
            )
        for k in job.evaluate.decision_ks:
            if not 0 < k < job.generate.n:
                raise ScengenError(
                    f"{path}: {where}: evaluate.decision_ks has {k}; each must be >= 1 and "
                    f"< generate.n = {job.generate.n}"
                )
        if job.generate.n < 2:
            raise ScengenError(f"{path}: {where}: generate.n = {job.generate.n} must be >= 2")
        _typed(job, f"{path}: {where}")
        jobs.append(job)
    return BatchConfig(jobs=jobs, output=output, source=str(path))


# ---------------------------------------------------------------------- running


def _hash(obj: Any) -> str:
    return hashlib.sha256(
        json.dumps(to_dict(obj), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]


class _Stages:
    """``stages.json``: the settings hash each completed stage ran with."""

    def __init__(self, job_dir: Path) -> None:
        self.file = job_dir / STAGES_JSON
        self.done: dict[str, Any] = _io.read_json(self.file) if self.file.is_file() else {}

    def is_done(self, stage: str, key: str, *outputs: Path) -> bool:
        rec = self.done.get(stage)
        return bool(rec) and rec.get("key") == key and all(o.exists() for o in outputs)

    def mark(self, stage: str, key: str, seconds: float) -> None:
        self.done[stage] = {
            "key": key,
            "seconds": round(seconds, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        _io.write_json(self.file, self.done)

    def invalidate_after(self, stage: str) -> None:
        for s in STAGES[STAGES.index(stage) + 1 :]:
            self.done.pop(s, None)


@dataclass
class JobOutcome:
    """What happened to one job."""

    name: str
    directory: Path
    ok: bool
    error: str | None = None
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


Progress = Callable[[str, str, dict[str, Any]], None]


def check_job_dir(d: Path) -> None:
    """Raise unless ``d`` is new, empty, or a job folder of ``scengen run`` (its own output)."""
    if not d.exists():
        return
    if not d.is_dir():
        raise ScengenError(f"job folder {str(d)!r} exists and is not a directory")
    if (d / STAGES_JSON).is_file() or _io.output_kind(d) == "run":
        return
    if any(not _io.is_temp_name(e) for e in os.listdir(d)):
        raise ScengenError(
            f"job folder {str(d)!r} exists and is not a scengen run; scengen writes only into "
            "its own outputs, move it away or choose another --out"
        )


def run_job(
    job: JobConfig, out: Path, *, force: bool = False, progress: Progress | None = None
) -> JobOutcome:
    """Run (or resume) every stage of one job into ``out / job.name``."""
    from scengen import decision as _decision
    from scengen import evaluate as _evaluate
    from scengen import export as _export
    from scengen import generate as _generate
    from scengen import reduce as _reduce
    from scengen import report as _report
    from scengen import train as _train
    from scengen.data import load_split
    from scengen.scenarios import read_scenarios

    say = progress or (lambda job, stage, info: None)
    d = out / job.name
    check_job_dir(d)
    d.mkdir(parents=True, exist_ok=True)
    st = _Stages(d)
    if force:
        st.done = {}
    outcome = JobOutcome(job.name, d, ok=False)
    keys: dict[str, str] = {}
    chain = ""

    def key(stage: str, *parts: Any) -> str:
        nonlocal chain
        chain = _hash([chain, job.seed, *parts])
        keys[stage] = chain
        return chain

    def begin(stage: str, k: str, *outputs: Path) -> bool:
        if st.is_done(stage, k, *outputs):
            outcome.skipped.append(stage)
            say(job.name, stage, {"event": "skip"})
            return False
        st.invalidate_after(stage)
        say(job.name, stage, {"event": "start"})
        return True

    def finish(stage: str, t0: float, **info: Any) -> None:
        secs = time.perf_counter() - t0
        outcome.seconds[stage] = secs
        st.mark(stage, keys[stage], secs)
        say(job.name, stage, {"event": "done", "seconds": secs, **info})

    # train
    k = key("train", job.data, job.model, job.train)
    if begin("train", k, d / "checkpoint.pt"):
        t0 = time.perf_counter()
        model_cfg = from_dict(_train.ModelConfig, job.model, f"job {job.name!r}.model")
        train_cfg = from_dict(_train.TrainConfig, job.train, f"job {job.name!r}.train")
        resume = (d / "checkpoint.pt").exists() and not force and st.done.get("train_started") == k
        st.done["train_started"] = k
        _io.write_json(st.file, st.done)
        _train.train_run(
            job.data,
            model_cfg,
            train_cfg,
            d,
            seed=job.seed,
            resume=resume,
            overwrite=not resume,  # the job folder is this pipeline's own output
            progress=lambda info: say(job.name, "train", {"event": "progress", **info}),
        )
        finish("train", t0)

    # generate
    scen_dir = d / "scenarios"
    k = key("generate", job.generate)
    if begin("generate", k, scen_dir / "metadata.json"):
        t0 = time.perf_counter()
        _generate.generate_to_dir(
            d,
            job.generate.n,
            scen_dir,
            seed=job.seed,
            condition=job.generate.condition,
            overwrite=True,
        )
        finish("generate", t0, n=job.generate.n)

    # reduce
    red_dir = d / "reduced"
    k = key("reduce", job.reduce)
    if begin("reduce", k, red_dir / "reduction.json"):
        t0 = time.perf_counter()
        r = job.reduce
        ss = read_scenarios(scen_dir, normalize=r.normalize)
        res = _reduce.reduce_with_config(ss, r, seed=job.seed)
        _reduce.write_reduction(res, red_dir, source=str(scen_dir), overwrite=True)
        finish("reduce", t0, k=res.reduced.n_scenarios, distance=res.distance)

    # export
    exp_dir = d / "export"
    k = key("export", job.export)
    formats = list(FORMATS) if job.export.formats is None else job.export.formats
    if begin("export", k, *(exp_dir / f for f in formats)):
        t0 = time.perf_counter()
        red = read_scenarios(red_dir, normalize=job.export.normalize)
        for fmt in formats:
            _export.export(
                red,
                fmt,
                exp_dir / fmt,
                start=job.export.start,
                day_weight=job.export.day_weight,
                seed=job.export.seed,
                overwrite=True,
            )
        finish("export", t0, formats=formats)

    # evaluate (+ decision test)
    k = key("evaluate", job.evaluate, job.decision)
    if begin("evaluate", k, scen_dir / "evaluation.json", red_dir / "evaluation.json"):
        t0 = time.perf_counter()
        train_days, test_days = load_split(d)
        heldout, history = test_days.to_scenarios(), train_days.to_scenarios()
        full = read_scenarios(scen_dir)
        red = read_scenarios(red_dir)
        ev = job.evaluate
        for sdir, ss in ((scen_dir, full), (red_dir, red)):
            res = _evaluate.evaluate_with_config(ss, heldout, history, ev, seed=job.seed)
            _evaluate.write_evaluation(res, sdir)
        if job.evaluate.decision == "storage":
            problem = from_dict(
                _decision.StorageProblem, job.decision, f"job {job.name!r}.decision"
            )
            dres = storage_decision_test(
                full,
                heldout,
                history,
                job.evaluate.decision_ks,
                problem,
                method=job.reduce.method,
                seed=job.seed,
            )
            _decision.write_decision(dres, d)
        finish("evaluate", t0)

    # report
    k = key("report", "v1")
    if begin("report", k, d / "report.html"):
        t0 = time.perf_counter()
        _report.write_report(
            [d], d / "report.html", title=f"scengen: {job.name}", seed=job.seed, overwrite=True
        )
        finish("report", t0)

    outcome.ok = True
    return outcome


def run_batch(
    batch: BatchConfig,
    out: str | Path | None = None,
    *,
    force: bool = False,
    only: list[str] | None = None,
    progress: Progress | None = None,
) -> list[JobOutcome]:
    """Run every job of ``batch``; a failing job is recorded and the others go on.

    Writes ``<out>/<job>/...`` and ``<out>/index.html`` comparing the jobs that completed.
    """
    from scengen import report as _report

    out = Path(out if out is not None else batch.output)
    out.mkdir(parents=True, exist_ok=True)
    jobs = batch.jobs
    if only:
        names = {j.name for j in jobs}
        missing = [n for n in only if n not in names]
        if missing:
            raise ScengenError(
                f"--job {missing[0]!r} is not in the batch; jobs are {sorted(names)}"
            )
        jobs = [j for j in jobs if j.name in only]
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(run_job(job, out, force=force, progress=progress))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a failing job is reported and the others go on
            msg = " ".join(str(e).split()) or type(e).__name__
            outcomes.append(JobOutcome(job.name, out / job.name, ok=False, error=msg))
            if (out / job.name / STAGES_JSON).is_file():  # only into a folder of its own
                _io.write_text(out / job.name / "error.txt", traceback.format_exc())
            if progress:
                progress(job.name, "error", {"event": "error", "error": msg})
    done = [o.directory for o in outcomes if o.ok]
    failed = {o.name: o.error or "failed" for o in outcomes if not o.ok}
    if done:
        _report.render_index(done, out / "index.html", failed=failed, overwrite=True)
    return outcomes


def storage_decision_test(
    full: Any,
    heldout: Any,
    history: Any | None,
    ks: list[int],
    problem: Any = None,
    *,
    method: str = "pam",
    seed: int = 0,
) -> Any:
    """The storage decision test of the full set against its reductions to each K in ``ks``.

    Reduces ``full`` to K scenarios (Wasserstein k-medoids, ``method``) for every K, then calls
    :func:`scengen.decision.decision_test` with the training days as a reference when given.
    """
    from scengen import decision as _decision
    from scengen import reduce as _reduce

    reduced = {
        k: _reduce.reduce_scenarios(full, k, method=method, seed=seed).reduced
        for k in sorted(set(ks))
    }
    refs = None if history is None else {"history (training days)": history}
    return _decision.decision_test(full, heldout, reduced, problem, references=refs)


def describe(batch: BatchConfig) -> list[dict[str, Any]]:
    """Plain-dict view of the jobs (for ``--dry-run``)."""
    return [dataclasses.asdict(j) for j in batch.jobs]
