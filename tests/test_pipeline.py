"""``scengen run``: batch validation before any work, resumable stages, failing jobs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

from scengen.cli import cli
from scengen.errors import ScengenError
from scengen.pipeline import load_batch, run_batch

TINY = {
    "model": {"latent_dim": 4, "channels": 8, "critic_channels": 8},
    "train": {"steps": 4, "batch_size": 8, "n_critic": 1, "checkpoint_every": 2, "log_every": 1},
    "generate": {"n": 40},
    "reduce": {"k": 3},
    "export": {"formats": ["long", "wide", "pypsa", "gams", "plexos"], "start": "2030-01-01"},
    "evaluate": {"decision": "storage", "decision_ks": [1, 3]},
}


def _batch(tmp_path: Path, jobs: list[dict], defaults: dict | None = None) -> Path:
    cfg = tmp_path / "batch.yaml"
    cfg.write_text(yaml.safe_dump({"output": "out", "defaults": defaults or TINY, "jobs": jobs}))
    return cfg


@pytest.fixture
def csvs(tmp_path):
    w = write_measurement_csv(
        tmp_path / "w.csv", synthetic_days(40, 2, 24, seed=1), sites=["a", "b"]
    )
    p = write_measurement_csv(
        tmp_path / "p.csv", synthetic_days(40, 1, 24, seed=2, kind="pv"), sites=["pv"]
    )
    return w, p


@pytest.mark.parametrize(
    "job, match",
    [
        ({"name": "j", "data": {"path": "w.csv"}, "trian": {}}, r"job 'j'.*unknown key 'trian'"),
        (
            {"name": "j", "data": {"path": "nope.csv"}},
            r"job 'j'.*data.path 'nope.csv' does not exist",
        ),
        ({"name": "j", "data": {"path": "w.csv"}, "reduce": {"k": 40}}, r"job 'j'.*reduce.k = 40"),
        (
            {"name": "j", "data": {"path": "w.csv"}, "export": {"formats": ["xls"]}},
            r"job 'j'.*'xls' does not exist",
        ),
        (
            {"name": "j", "data": {"path": "w.csv"}, "train": {"stpes": 3}},
            r"job 'j'.*unknown key 'stpes'",
        ),
        ({"data": {"path": "w.csv"}}, "has no 'name'"),
    ],
)
def test_batch_validation_errors(tmp_path, csvs, job, match):
    with pytest.raises(ScengenError, match=match):
        load_batch(_batch(tmp_path, [job]))


def test_sections_share_the_schema_of_the_commands(tmp_path, csvs):
    """``export`` and ``evaluate`` are the sections of ``scengen export`` / ``evaluate``; ``scengen
    run`` writes every format and runs the storage decision test unless told otherwise."""
    from scengen.evaluate import EvaluateConfig
    from scengen.export import ExportConfig

    w = {"data": {"path": "w.csv"}}
    jobs = [
        {"name": "a", **w},
        {"name": "b", **w, "evaluate": {"n_copula": 50}},
        {"name": "c", **w, "evaluate": {"decision": None}, "export": {"format": "long"}},
    ]
    with pytest.warns(FutureWarning, match="export.format"):
        a, b, c = load_batch(_batch(tmp_path, jobs, {"generate": {"n": 40}})).jobs
    assert isinstance(a.export, ExportConfig) and isinstance(a.evaluate, EvaluateConfig)
    assert a.evaluate.decision == b.evaluate.decision == "storage" and c.evaluate.decision is None
    assert b.evaluate.n_copula == 50 and a.evaluate.decision_ks == [1, 5, 10, 20]
    assert a.export.formats is None and c.export.formats == ["long"]
    # the checks of a section's schema name the job
    for section, match in (
        ({"evaluate": {"n_copula": 0}}, r"job 'd'.*n_copula"),
        ({"evaluate": {"decision": "battery"}}, r"job 'd'.*evaluate.decision = 'battery'"),
    ):
        with pytest.raises(ScengenError, match=match):
            load_batch(_batch(tmp_path, [{"name": "d", **w, **section}]))


def test_duplicate_job_name(tmp_path, csvs):
    jobs = [{"name": "a", "data": {"path": "w.csv"}}, {"name": "a", "data": {"path": "p.csv"}}]
    with pytest.raises(ScengenError, match="'a' is used twice"):
        load_batch(_batch(tmp_path, jobs))


def test_cli_validates_whole_batch_before_work(tmp_path, csvs):
    jobs = [
        {"name": "ok", "data": {"path": "w.csv"}},
        {"name": "bad", "data": {"path": "missing.csv"}},
    ]
    res = CliRunner().invoke(
        cli, ["run", str(_batch(tmp_path, jobs)), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 1
    assert res.output.startswith("Error: ") and "job 'bad'" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "ok").exists()  # nothing ran


def test_run_resume_and_failing_job(tmp_path, csvs):
    jobs = [
        {"name": "wind", "data": {"path": "w.csv"}},
        {"name": "pv", "data": {"path": "p.csv"}},
    ]
    cfg = _batch(tmp_path, jobs)
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for job in ("wind", "pv"):
        d = out / job
        for f in (
            "checkpoint.pt",
            "scenarios/scenarios.csv",
            "reduced/reduction.json",
            "reduced/assignment.csv",
            "export/pypsa",
            "scenarios/evaluation.json",
            "report.html",
            "stages.json",
        ):
            assert (d / f).exists(), f
    assert (out / "index.html").is_file()
    stages = json.loads((out / "wind" / "stages.json").read_text())
    assert {"train", "generate", "reduce", "export", "evaluate", "report"} <= set(stages)

    # a rerun skips every stage
    batch = load_batch(cfg)
    events = []
    outcomes = run_batch(batch, out, progress=lambda j, s, i: events.append((j, s, i["event"])))
    assert all(o.ok for o in outcomes)
    assert set(outcomes[0].skipped) == {
        "train",
        "generate",
        "reduce",
        "export",
        "evaluate",
        "report",
    }
    assert not any(e == "start" for _, _, e in events)

    # changing the reduction redoes reduce and what follows, not train / generate
    batch.jobs[0].reduce.k = 2
    o = run_batch(batch, out, only=["wind"])[0]
    assert o.ok and o.skipped == ["train", "generate"]

    # a failing job is reported, the others go on, exit status 1
    (tmp_path / "p.csv").write_text("timestamp,pv\nnot-a-time,1\n")
    res = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(out), "--force"])
    assert res.exit_code == 1
    assert "wind: ok" in res.output and "pv: FAILED" in res.output


def test_interrupted_stage_leaves_completed_ones(tmp_path, csvs, monkeypatch):
    cfg = _batch(tmp_path, [{"name": "wind", "data": {"path": "w.csv"}}])
    out = tmp_path / "o"
    import scengen.reduce as red

    real = red.reduce_scenarios

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(red, "reduce_scenarios", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_batch(load_batch(cfg), out)
    assert (out / "wind" / "scenarios" / "metadata.json").is_file()
    assert not (out / "wind" / "reduced").exists()
    leftovers = [p for p in (out / "wind").rglob("*") if ".tmp" in p.name]
    assert leftovers == []

    monkeypatch.setattr(red, "reduce_scenarios", real)
    o = run_batch(load_batch(cfg), out)[0]
    assert o.ok and o.skipped == ["train", "generate"]


def test_evaluate_decision_cli(tmp_path):
    from scengen.data import Profiles, save_split
    from scengen.scenarios import ScenarioSet, write_scenarios

    days = synthetic_days(30, 2, 24, seed=4)
    dates = np.arange("2020-01-01", "2020-01-31", dtype="datetime64[D]")
    prof = Profiles(values=days, dates=dates, sites=["a", "b"])
    save_split(tmp_path / "run", prof.subset(slice(0, 20)), prof.subset(slice(20, 30)))
    scen = write_scenarios(
        ScenarioSet(synthetic_days(60, 2, 24, seed=5), sites=["a", "b"]), tmp_path / "run" / "scen"
    )
    args = ["evaluate", str(scen), "--against", str(tmp_path / "run"), "--decision", "storage"]
    args += ["--overwrite"]
    res = CliRunner().invoke(cli, [*args, "--decision-k", "1", "--decision-k", "3"])
    assert res.exit_code == 0, res.output
    assert "Decision test" in res.output and "K=3" in res.output
    table = json.loads((scen / "decision.json").read_text())
    assert len(table["rows"]) >= 3  # full, K=1, K=3 (+ references)

    res = CliRunner().invoke(cli, [*args, "--decision-k", "60"])
    assert res.exit_code == 1 and "--decision-k 60" in res.output


def test_relative_data_paths_are_recorded_without_dot_dot(tmp_path, csvs):
    # a job taking its sections from a config in a sibling folder, as the shipped examples do
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "w.yaml").write_text(yaml.safe_dump({"data": {"path": "../w.csv"}}))
    cfg = _batch(tmp_path, [{"name": "w", "config": "configs/w.yaml"}])
    job = load_batch(cfg).jobs[0]
    assert ".." not in Path(job.data.path).parts
    assert Path(job.data.path) == csvs[0]
