"""The quality benchmark's helpers (the benchmark itself trains for minutes and is not a test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_days

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
