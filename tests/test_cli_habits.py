"""CLI habits: -q / -v, ``evaluate --strict`` and ``run --strict`` exit status 3, the run summary
names the quality checks that failed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

from scengen.cli import cli
from scengen.cli.evaluate import STRICT_EXIT
from scengen.data import Profiles, save_split
from scengen.scenarios import ScenarioSet, write_scenarios


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def split_run(tmp_path):
    """A run directory holding only a split (20 training, 10 held-out days) and scenarios."""
    days = synthetic_days(30, 2, 24, seed=4)
    dates = np.arange("2020-01-01", "2020-01-31", dtype="datetime64[D]")
    prof = Profiles(values=days, dates=dates, sites=["a", "b"])
    save_split(tmp_path / "run", prof.subset(slice(0, 20)), prof.subset(slice(20, 30)))
    good = write_scenarios(  # resampled training days: passes most checks
        ScenarioSet(days[:20], sites=["a", "b"]), tmp_path / "good"
    )
    flat = np.full((40, 2, 24), 0.5)  # no variability: fails
    bad = write_scenarios(ScenarioSet(flat, sites=["a", "b"]), tmp_path / "bad")
    return tmp_path / "run", good, bad


def test_evaluate_strict_exit_status(split_run):
    run, _, bad = split_run
    r = invoke("evaluate", bad, "--against", run, "--strict")
    assert r.exit_code == STRICT_EXIT == 3, r.output
    assert "quality bar: FAIL" in r.output and "wasserstein <= 1.00 x history" in r.output
    assert (bad / "evaluation.json").is_file()  # the results are written all the same
    r = invoke("evaluate", bad, "--against", run, "--overwrite")
    assert r.exit_code == 0, r.output  # without --strict a failed check is not an error


def test_evaluate_strict_without_references_is_an_error(split_run, tmp_path):
    run, _, bad = split_run
    csv = write_measurement_csv(tmp_path / "m.csv", synthetic_days(12, 2, 24), sites=["a", "b"])
    r = invoke("evaluate", bad, "--against", csv, "--strict", "--out", tmp_path / "e")
    assert r.exit_code == 1 and "no quality check could be made" in r.output, r.output


def test_quiet_and_verbose(split_run):
    run, _, bad = split_run
    r = invoke("-q", "evaluate", bad, "--against", run)
    assert r.exit_code == 0
    assert "wrote" not in r.output and "energy_score" in r.output  # results stay, status goes
    r = invoke("-q", "-v", "evaluate", bad, "--against", run)
    assert r.exit_code == 1 and "at most one of -q/--quiet and -v/--verbose" in r.output


def test_quiet_keeps_warnings(split_run, tmp_path):
    run, _, bad = split_run
    r = invoke("-q", "evaluate", bad, "--against", run, "--strict", "--out", tmp_path / "e")
    assert r.exit_code == STRICT_EXIT and "quality bar: FAIL" in r.output


def test_run_summary_names_failed_checks_and_strict(tmp_path):
    csv = write_measurement_csv(
        tmp_path / "w.csv", synthetic_days(40, 2, 24, seed=1), sites=["a", "b"]
    )
    tiny = {
        "model": {"latent_dim": 4, "channels": 8, "critic_channels": 8},
        "train": {"steps": 2, "batch_size": 8, "n_critic": 1, "log_every": 1},
        "generate": {"n": 30},
        "reduce": {"k": 3},
        "export": {"formats": ["long"]},
        "evaluate": {"decision": None},
    }
    cfg = tmp_path / "b.yaml"
    cfg.write_text(
        yaml.safe_dump({"defaults": tiny, "jobs": [{"name": "w", "data": {"path": str(csv)}}]})
    )
    r = invoke("-q", "run", cfg, "--out", tmp_path / "o", "--strict")
    assert r.exit_code == STRICT_EXIT, r.output
    assert "w: ok, quality bar FAIL: " in r.output and "[" not in r.output  # -q: no progress
    ev = json.loads((tmp_path / "o" / "w" / "scenarios" / "evaluation.json").read_text())
    assert not all(c["ok"] for c in ev["quality_checks"])
    r = invoke("run", cfg, "--out", tmp_path / "o")  # all stages done: skipped, exit 0
    assert r.exit_code == 0 and "quality bar FAIL" in r.output


def test_busy_line_for_a_long_step(monkeypatch, capsys):
    import time

    from scengen.cli import main

    monkeypatch.setitem(main.VERBOSITY, "level", 1)
    with main.busy("reducing 5 scenarios", after_s=0.05):
        time.sleep(0.3)
    assert "reducing 5 scenarios ... 0 s" in capsys.readouterr().err
    monkeypatch.setitem(main.VERBOSITY, "level", 0)
    with main.busy("quiet", after_s=0.0):
        time.sleep(0.1)
    assert capsys.readouterr().err == ""


def test_evaluate_and_report_report_progress(split_run):
    from scengen import evaluate as ev
    from scengen.report import SECTIONS, render_report
    from scengen.scenarios import read_scenarios

    run, good, _ = split_run
    heldout, train = ev.heldout_from(run)
    calls = []
    ev.evaluate(read_scenarios(good), heldout, train, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 3 * len(ev.METRICS)) for i in range(1, 3 * len(ev.METRICS) + 1)]
    calls.clear()
    render_report([run], progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (len(SECTIONS), len(SECTIONS))


def test_progress_bar_draws_once_the_step_is_slow(monkeypatch, capsys):
    from scengen.cli import main

    monkeypatch.setitem(main.VERBOSITY, "level", 1)
    with main.progress_bar("scoring", after_s=0.0) as bar:
        for i in range(1, 5):
            bar(i, 4)
    assert "scoring" in capsys.readouterr().err
    with main.progress_bar("fast", after_s=60.0) as bar:
        bar(4, 4)
    assert capsys.readouterr().err == ""


def test_reduce_reports_progress():
    from scengen.reduce import ReduceOptions, reduce_scenarios
    from scengen.scenarios import ScenarioSet

    ss = ScenarioSet(synthetic_days(600, 2, 24, seed=7), sites=["a", "b"])
    calls = []
    opts = ReduceOptions(full_matrix_max_n=100, relax_sample=200)  # the large-N path
    reduce_scenarios(ss, 5, seed=0, options=opts, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] and all(d <= t for d, t in calls)
    plain = reduce_scenarios(ss, 5, seed=0, options=opts)
    again = reduce_scenarios(ss, 5, seed=0, options=opts, progress=lambda d, t: None)
    assert list(plain.medoids) == list(again.medoids)  # progress changes nothing
