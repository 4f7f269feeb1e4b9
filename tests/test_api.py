"""The public API: the README's Python snippet runs as written (with a short training), a model
trained in memory samples like the same model saved and generated from the CLI, and
ScenarioSet <-> DataFrame round trips."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import synthetic_days

import scengen as sg
from scengen.cli import cli
from scengen.errors import ScengenError

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "model": {"latent_dim": 4, "channels": 8, "critic_channels": 8, "embed_dim": 2},
    "train": {"steps": 3, "batch_size": 8, "n_critic": 1, "log_every": 1, "device": "cpu"},
}


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start (Python)", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_snippet_runs_as_written(tmp_path, monkeypatch):
    """The snippet, verbatim, in a folder with the shipped data and a recipe named like the
    shipped one but with a few training steps (the shipped one trains for minutes)."""
    (tmp_path / "data").mkdir()
    csv = "wind_gefcom2012_7farms_2009-2010.csv"
    shutil.copy(ROOT / "data" / csv, tmp_path / "data" / csv)
    recipe = yaml.safe_load((ROOT / "configs" / "wind.yaml").read_text())
    recipe["model"].update(TINY["model"])
    recipe["train"].update(TINY["train"])
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "wind.yaml").write_text(yaml.safe_dump(recipe))
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(readme_snippet(), "README.md", "exec"), ns)
    assert ns["scen"].values.shape == (2000, 7, 24)
    assert len(ns["red"].reduced) == 10
    assert abs(ns["red"].reduced.probabilities.sum() - 1) < 1e-9
    assert {"scenarios", "history", "copula"} <= set(ns["table"].index)
    assert list(ns["frame"].columns[:5]) == ["scenario", "site", "step", "time", "value"]
    assert isinstance(ns["model"], sg.Model) and ns["model"].step == 3
    assert (tmp_path / "runs" / "wind-notebook" / "checkpoint.pt").is_file()


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    from conftest import write_measurement_csv

    d = tmp_path_factory.mktemp("api")
    csv = write_measurement_csv(
        d / "w.csv", 30 * synthetic_days(60, 2, 24, seed=1), sites=["a", "b"]
    )
    return sg.load_profiles(csv, capacity=30)


def test_fit_writes_nothing_and_samples_like_the_saved_model(days, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train, test = days.split(seed=0)
    cfg = sg.Config(
        model=sg.api.ModelConfig(**TINY["model"]), train=sg.api.TrainConfig(**TINY["train"])
    )
    model = sg.fit(train, cfg, test_days=test)
    assert list(tmp_path.iterdir()) == []  # nothing on disk
    assert list(model.metrics["step"]) == [1, 2, 3]
    a = model.sample(50, seed=4)
    assert a.units == "file units" and np.allclose(a.capacities, 30)
    model.save(tmp_path / "run")
    with pytest.raises(ScengenError, match="--overwrite"):
        model.save(tmp_path / "run")
    b = sg.load_model(tmp_path / "run").sample(50, seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    r = CliRunner().invoke(cli, ["generate", str(tmp_path / "run"), "-n", "50", "--seed", "4",
                                 "--out", str(tmp_path / "g")])  # fmt: skip
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(sg.read_scenarios(tmp_path / "g").values, a.values)
    # the saved run is a run directory like `scengen train`'s: evaluate reads its held-out days
    r = CliRunner().invoke(
        cli, ["evaluate", str(tmp_path / "g"), "--against", str(tmp_path / "run")]
    )
    assert r.exit_code == 0, r.output


def test_fit_is_train_run(days, tmp_path):
    """The same arithmetic as `scengen train` on the same training days and seed."""
    from scengen import train as T
    from scengen.data import DataConfig

    T.train_run(
        DataConfig(path=days.source, capacity=30),
        T.ModelConfig(**TINY["model"]),
        T.TrainConfig(**TINY["train"]),
        tmp_path / "run",
        seed=0,
    )
    # the days that are not test days: fit sets the same validation days aside
    train, _ = days.split(0.2, seed=0)
    assert sg.load_model(tmp_path / "run").val_days.n_days > 0
    model = sg.fit(
        train, sg.Config(model=T.ModelConfig(**TINY["model"]), train=T.TrainConfig(**TINY["train"]))
    )
    saved = T.load_checkpoint(tmp_path / "run")
    for k, v in saved["generator_ema"].items():
        assert np.array_equal(v.numpy(), model.checkpoint["generator_ema"][k].numpy()), k


def test_scenario_set_frame_round_trip():
    v = synthetic_days(6, 2, 4, seed=3)
    p = np.array([0.1, 0.2, 0.3, 0.1, 0.2, 0.1])
    ss = sg.ScenarioSet(v, p, sites=["x", "y"], capacities=[10.0, 20.0], units="MW")
    frame = ss.to_frame()
    assert len(frame) == 6 * 2 * 4 and frame["value"].max() <= 20
    back = sg.ScenarioSet.from_frame(frame, capacities=[10.0, 20.0], units="MW")
    np.testing.assert_allclose(back.values, v)
    np.testing.assert_allclose(back.probabilities, p)
    assert back.sites == ["x", "y"]
    bad = frame.assign(value=frame["value"].where(frame.index != 5, 25.0))
    with pytest.raises(ScengenError, match="outside"):
        sg.ScenarioSet.from_frame(bad, capacities=[10.0, 20.0])
    with pytest.raises(ScengenError, match="not a complete grid"):
        sg.ScenarioSet.from_frame(frame.iloc[1:])


def test_load_config_types_the_shipped_recipes():
    for name in ("wind", "pv"):
        cfg = sg.load_config(ROOT / "configs" / f"{name}.yaml")
        assert isinstance(cfg.train, sg.api.TrainConfig) and cfg.train.steps >= 1000
        assert Path(cfg.data.path).is_file()  # relative to the config file
    assert sg.load_config(ROOT / "configs" / "pv.yaml").train.condition == "season"


def test_load_config_errors(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("trian: {steps: 1}\n")
    with pytest.raises(ScengenError, match="unknown key 'trian'.*did you mean 'train'"):
        sg.load_config(f)
    f.write_text("train: {stpes: 1}\n")
    with pytest.raises(ScengenError, match="unknown key 'stpes'"):
        sg.load_config(f)


def test_score_takes_profiles(days):
    train, test = days.split(seed=1)
    res = sg.score(train.to_scenarios(), test)
    assert isinstance(res.table, pd.DataFrame) and "energy_score" in res.table
    with pytest.raises(ScengenError, match="ScenarioSet or Profiles"):
        sg.score(train.to_scenarios(), test.values)
