"""Recipes: the shipped model / train settings, the pick from the data, ``scengen train``'s use
of it, and the SMARD sample that no recipe was tuned on."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

import scengen as sg
from scengen.cli import cli
from scengen.data import Profiles
from scengen.errors import ScengenError
from scengen.recipes import NIGHT_DAY_SHARE, RECIPES, pick_recipe, with_recipe

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
WIND = DATA / "wind_gefcom2012_7farms_2009-2010.csv"
PV = DATA / "pv_gefcom2014_3sites.csv"
SMARD = DATA / "wind_pv_germany_smard_2023-2024.csv"
TINY = ["--steps", "2", "--batch-size", "4", "--n-critic", "1", "--device", "cpu"]


def _days(values: np.ndarray, start: str = "2021-01-01", sites=None) -> Profiles:
    n = values.shape[0]
    dates = np.arange(np.datetime64(start), np.datetime64(start) + n)
    return Profiles(values, dates, sites or [f"s{i + 1}" for i in range(values.shape[1])])


@pytest.mark.parametrize("name", ["wind", "pv"])
def test_recipes_equal_the_shipped_configs(name):
    conf = yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert RECIPES[name]["model"] == conf["model"]
    assert RECIPES[name]["train"] == conf["train"]
    typed = sg.recipe(name)
    assert typed.train.steps == conf["train"]["steps"]
    assert typed.train.condition == conf["train"]["condition"]
    assert typed.model.noise_channels == conf["model"]["noise_channels"]


def test_recipe_rejects_unknown_names_and_layers_sections():
    with pytest.raises(ScengenError, match="'solar'.*'pv', 'wind'"):
        sg.recipe("solar")
    model, train = with_recipe("pv", {"channels": 8}, {"steps": 5})
    assert model["channels"] == 8 and train["steps"] == 5 and train["condition"] == "season"
    assert RECIPES["pv"]["train"]["steps"] == 9000  # the recipe itself is untouched


def test_smard_sample_loads_with_capacity_max():
    assert hashlib.sha256(SMARD.read_bytes()).hexdigest() in (DATA / "README.md").read_text()
    p = sg.load_profiles(SMARD, capacity="max")
    assert p.n_days == 731 and p.n_sites == 3 and p.n_steps == 24
    assert p.sites == ["wind_onshore_mwh", "wind_offshore_mwh", "pv_mwh"]
    assert str(p.dates[0]) == "2023-01-01" and str(p.dates[-1]) == "2024-12-31"
    assert p.n_dropped_days == 0 and p.utc_offset == "Z" and p.units == "MWh/h"
    assert p.values.max() == 1.0 and p.values.min() >= 0.0
    with pytest.raises(ScengenError, match="capacity"):  # MWh, not per-unit
        sg.load_profiles(SMARD)


@pytest.mark.parametrize(
    ("path", "kw", "name", "text"),
    [
        (WIND, {}, "wind", "no site has nights"),
        (PV, {"clip": True}, "pv", "site 'site1' has nights: 20:00-06:00 UTC+10:00"),
        (SMARD, {"capacity": "max"}, "pv", "site 'pv_mwh' has nights: 19:00-04:00 UTC"),
    ],
)
def test_pick_on_the_shipped_data(path, kw, name, text):
    days = sg.load_profiles(path, **kw)
    got, reason = sg.pick_recipe(days.split(0.2, seed=0)[0])
    assert got == name and text in reason
    assert "\n" not in reason
    if path == SMARD:  # a mixed set: PV, and the reason says why
        assert "'wind_onshore_mwh', 'wind_offshore_mwh' have none" in reason
        assert "mixed" in reason and "season" in reason
        assert re.search(r"at least 9\d % of days", reason)


def test_calm_wind_nights_on_half_the_days_stay_wind():
    v = synthetic_days(80, 2, 24, seed=3)
    v[::2, :, 0:6] = 0.0  # calm 00:00-06:00 on every other day, at both sites
    name, reason = pick_recipe(_days(v))
    assert name == "wind"
    assert "no step of the day" in reason and f"{NIGHT_DAY_SHARE * 100:g} %" in reason


def test_night_rule_edges():
    v = synthetic_days(50, 2, 24, seed=4)
    v[:, 0, 22:] = 0.0  # two night steps only: less than 3 h
    name, reason = pick_recipe(_days(v))
    assert name == "wind" and "site 's1' has the most, 2 step(s)" in reason
    v[:, 0, 0] = 0.005  # a third, at <= 1 % of capacity: nights 22:00-01:00
    name, reason = pick_recipe(_days(v))
    assert name == "pv" and "22:00-01:00" in reason and "every day" in reason
    idle = np.zeros((20, 1, 24))  # a site that is off all day has no nights
    name, reason = pick_recipe(_days(idle))
    assert name == "wind" and "that low all day" in reason
    with pytest.raises(ScengenError, match="0 days"):
        pick_recipe(_days(np.zeros((0, 1, 24))))


def test_pick_at_quarter_hours_counts_hours():
    dates = np.arange(np.datetime64("2021-06-01"), np.datetime64("2021-07-01"))
    v = np.repeat(synthetic_days(30, 1, 24, seed=5), 4, axis=2)  # 15-min steps
    v[:, :, 88:] = 0.0  # 22:00-24:00: 8 steps, but only 2 h
    name, reason = pick_recipe(Profiles(v, dates, ["w"], step_minutes=15))
    assert name == "wind" and "8 step(s)" in reason and "PV needs 12" in reason
    v[:, :, :4] = 0.0  # and 00:00-01:00: 3 h
    name, reason = pick_recipe(Profiles(v, dates, ["w"], step_minutes=15))
    assert name == "pv" and "22:00-01:00" in reason


def test_cli_train_picks_the_recipe(tmp_path):
    f = write_measurement_csv(
        tmp_path / "pv.csv", synthetic_days(20, 2, 24, seed=2, kind="pv"), sites=["a", "b"]
    )
    res = CliRunner().invoke(cli, ["train", str(f), "--out", str(tmp_path / "r"), *TINY])
    assert res.exit_code == 0, res.output
    assert re.search(r"^recipe: pv \(site 'a' has nights: 18:00-07:00 .*\)$", res.output, re.M)
    conf = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert conf["train"]["condition"] == "season" and conf["train"]["steps"] == 2  # flag wins
    assert conf["model"] == {**conf["model"], **RECIPES["pv"]["model"]}
    # -q hides the line; --recipe picks by hand; --config alone picks nothing
    res = CliRunner().invoke(
        cli, ["-q", "train", str(f), "--out", str(tmp_path / "q"), "--recipe", "wind", *TINY]
    )
    assert res.exit_code == 0 and "recipe:" not in res.output
    conf = yaml.safe_load((tmp_path / "q" / "config.yaml").read_text())
    assert conf["train"]["acf_weight"] == RECIPES["wind"]["train"]["acf_weight"]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("train: {steps: 2, batch_size: 4, n_critic: 1, device: cpu}\n")
    res = CliRunner().invoke(
        cli, ["train", str(f), "--out", str(tmp_path / "c"), "--config", str(cfg)]
    )
    assert res.exit_code == 0 and "recipe:" not in res.output
    assert yaml.safe_load((tmp_path / "c" / "config.yaml").read_text())["train"]["condition"] == (
        "none"
    )
    res = CliRunner().invoke(
        cli, ["train", "--out", str(tmp_path / "r"), "--resume", "--recipe", "pv"]
    )
    assert res.exit_code == 1 and "--recipe pv does not go with --resume" in res.output
