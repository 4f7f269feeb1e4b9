"""The quality benchmark's helpers (the benchmark itself trains for minutes and is not a test)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_days

from scengen import evaluate as ev
from scengen import stats
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("quality", ROOT / "benchmarks" / "quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _set(values) -> ScenarioSet:
    return ScenarioSet(values, sites=["a", "b"])


def test_copy_check_tells_copies_from_new_draws(quality):
    train = _set(synthetic_days(120, 2, 24, seed=1))
    heldout = _set(synthetic_days(40, 2, 24, seed=2))
    # a generator that learnt the distribution: new draws, as close to both
    fresh = _set(synthetic_days(400, 2, 24, seed=3))
    to_h, to_t, q = quality.copy_check(fresh, train, heldout, seed=0)
    assert to_t == pytest.approx(to_h, rel=0.25)
    assert 0.2 < q < 0.8
    # a generator that copies training days: much closer to the training subsets
    copies = _set(train.values[np.random.default_rng(0).integers(0, 120, 400)])
    to_h, to_t, q = quality.copy_check(copies, train, heldout, seed=0)
    assert to_t < 0.8 * to_h
    assert q == 0.0  # distance 0 to the training days: below every held-out day's


def test_split_check_ranks_the_split_among_random_splits(quality):
    days = synthetic_days(160, 2, 24, seed=4)
    order = np.argsort(days.std(axis=(1, 2)))  # days by ramp activity
    # held out: the calmest days, far from the rest
    train, heldout = _set(days[order[40:]]), _set(days[order[:40]])
    sc = quality.split_check(train, heldout, seed=0, n_splits=50)
    value, q = sc["history_ramp_w1"]
    assert q == 1.0 and value > 0  # the calm held-out days: ramps unlike any random split's
    rng = np.random.default_rng(1).permutation(160)  # a random split: a middling quantile
    sc = quality.split_check(_set(days[rng[40:]]), _set(days[rng[:40]]), seed=0, n_splits=50)
    assert 0.02 < sc["heldout_nn_distance"][1] < 0.98 and 0.02 < sc["history_ramp_w1"][1] < 0.98
    assert 0.02 < sc["history_acf_error"][1] < 0.98
    # training days that are the held-out days twice over: the history's ACF error is 0, below
    # every random split's (the ACF criterion is as strict as it can be)
    h = days[rng[:40]]
    sc = quality.split_check(_set(np.concatenate([h, h])), _set(h), seed=0, n_splits=50)
    value, q = sc["history_acf_error"]
    assert value < 1e-12 and q == 0.0


def test_fresh_day_yardstick_is_the_training_days_leave_one_out_distance(quality, monkeypatch):
    days = synthetic_days(160, 2, 24, seed=5)
    flat = days.reshape(160, -1).astype(np.float64)
    d = np.sqrt(((flat[:, None] - flat[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    # blockwise (blocks of 7 days) equals brute force, and a day is never its own nearest day
    monkeypatch.setattr(stats, "BLOCK_FLOATS", 7 * 160)
    got = ev.leave_one_out_distances(days)
    np.testing.assert_allclose(got, d.min(axis=1), rtol=1e-12)
    assert got.min() > 0
    twice = ev.leave_one_out_distances(np.concatenate([days[:10], days[:10]]))
    np.testing.assert_array_equal(twice, 0.0)  # an exact duplicate is at distance 0
    monkeypatch.undo()
    with pytest.raises(ScengenError, match="at least 2 days, got 1"):
        ev.leave_one_out_distances(days[:1])
    # a random split: new days drawn like the training days score about 1
    p = np.random.default_rng(2).permutation(160)
    sc = quality.split_check(_set(days[p[40:]]), _set(days[p[:40]]), seed=0, n_splits=10)
    assert 0.8 < sc["fresh_day_nn_ratio"] < 1.25
    # held-out days far from the training days: no generator of such days can reach 0.9
    far = np.clip(days[p[:40]] + 0.3, 0, 1)
    sc = quality.split_check(_set(days[p[40:]]), _set(far), seed=0, n_splits=10)
    assert sc["fresh_day_nn_ratio"] < 0.9


def test_quality_benchmark_smoke_and_reuse_reprint(quality, tmp_path, capsys):
    out = tmp_path / "q"
    args = ["--data", "wind,smard", "--seeds", "0", "--steps", "3", "--out", str(out),
            "--threads", "1", "--n-scenarios", "200", "--splits", "5"]  # fmt: skip
    assert quality.main(args) == 1  # 3 steps: far from the bar
    first = capsys.readouterr().out
    table = first[first.index("=== the quality bar per data set and seed") :]
    assert "wind     0   wind" in table and "smard     0     pv" in table
    assert "FAIL" in table and "PASS" in table
    assert "site 'pv_mwh' has nights" in first  # smard: the picked recipe and why
    assert "generated, seed 0" in first and "lag 6" in first
    md = (out / "quality.md").read_text()
    assert "| smard | 0 | pv |" in md and "## smard: within-day autocorrelation per lag" in md
    report = json.loads((out / "quality.json").read_text())
    assert report["pass"] is False and [r["data"] for r in report["runs"]] == ["wind", "smard"]
    assert all(r["steps"] == 3 for r in report["runs"])
    stamp = (out / "wind-seed0" / "checkpoint.pt").stat().st_mtime_ns
    # --reuse trains nothing and prints the same tables
    assert quality.main([*args, "--reuse"]) == 1
    again = capsys.readouterr().out
    assert again[again.index("=== the quality bar per data set and seed") :] == table
    assert (out / "quality.md").read_text() == md
    assert (out / "wind-seed0" / "checkpoint.pt").stat().st_mtime_ns == stamp
    # a seed never trained: a missing row, which fails, and still nothing is trained
    assert quality.main([*args[:2], "--seeds", "0,1", *args[4:], "--reuse"]) == 1
    missing = capsys.readouterr().out
    assert "wind     1   wind missing FAIL" in missing and not (out / "wind-seed1").exists()
