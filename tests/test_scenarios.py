"""ScenarioSet validation and the scenario-directory round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, check_probabilities, read_scenarios, write_scenarios


def test_round_trip_csv_and_binary(tmp_path, scenario_set):
    ss = ScenarioSet(
        scenario_set.values,
        sites=["wf1", "wf2"],
        capacities=[2.0, 5.0],
        units="MW",
        metadata={"seed": 7},
    )
    out = write_scenarios(ss, tmp_path / "s")
    back = read_scenarios(out)
    np.testing.assert_allclose(back.values, ss.values)
    assert back.sites == ["wf1", "wf2"] and back.units == "MW"
    assert back.metadata["seed"] == 7
    # the CSV alone (no binary copy) gives the same values, to the CSV's precision
    (out / "scenarios.npz").unlink()
    back = read_scenarios(out)
    np.testing.assert_allclose(back.values, ss.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(back.probabilities, ss.probabilities)


def test_long_layout_columns_units_and_times(tmp_path):
    v = np.full((2, 1, 4), 0.5)
    ss = ScenarioSet(v, sites=["a"], capacities=[10.0], step_minutes=360)
    out = write_scenarios(ss, tmp_path / "s")
    df = pd.read_csv(out / "scenarios.csv")
    assert list(df.columns) == ["scenario", "site", "step", "time", "value"]
    assert df["time"].tolist()[:4] == ["00:00", "06:00", "12:00", "18:00"]
    assert (df["value"] == 5.0).all()  # per-unit times capacity
    p = pd.read_csv(out / "probabilities.csv")
    assert p["probability"].sum() == pytest.approx(1.0)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["n_scenarios"] == 2 and meta["capacities"] == [10.0]


def test_hand_made_directory_without_metadata(tmp_path):
    d = tmp_path / "hand"
    d.mkdir()
    rows = [(s, "x", t, f"{t:02d}:00", 0.1 * t) for s in (3, 9) for t in range(3)]
    pd.DataFrame(rows, columns=["scenario", "site", "step", "time", "value"]).to_csv(
        d / "scenarios.csv", index=False
    )
    pd.DataFrame({"scenario": [9, 3], "probability": [0.75, 0.25]}).to_csv(
        d / "probabilities.csv", index=False
    )
    ss = read_scenarios(d)
    assert ss.ids.tolist() == [3, 9]
    np.testing.assert_allclose(ss.probabilities, [0.25, 0.75])
    assert ss.values.shape == (2, 1, 3)


@pytest.mark.parametrize(
    "p, match",
    [
        ([0.5, 0.6], "sum to 1.1"),
        ([-0.1, 1.1], "negative"),
        ([np.nan, 1.0], "finite"),
        ([1.0], "1 entries"),
    ],
)
def test_bad_probabilities(p, match):
    with pytest.raises(ScengenError, match=match):
        check_probabilities(p, 2)


def test_normalize_probabilities():
    np.testing.assert_allclose(check_probabilities([1, 3], 2, normalize=True), [0.25, 0.75])


def test_bad_values():
    with pytest.raises(ScengenError, match="finite"):
        ScenarioSet(np.array([[[0.1, np.nan]]]))
    with pytest.raises(ScengenError, match="shape"):
        ScenarioSet(np.zeros((3, 4)))
    with pytest.raises(ScengenError, match="site names"):
        ScenarioSet(np.zeros((1, 2, 3)), sites=["a"])


def test_incomplete_grid_is_an_error(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    pd.DataFrame(
        {"scenario": [0, 0, 1], "site": ["a"] * 3, "step": [0, 1, 0], "value": [1, 2, 3]}
    ).to_csv(d / "scenarios.csv", index=False)
    with pytest.raises(ScengenError, match="complete grid"):
        read_scenarios(d)


def test_failed_write_leaves_nothing(tmp_path, scenario_set, monkeypatch):
    import scengen.scenarios as sc

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sc._io, "write_json", boom)
    with pytest.raises(RuntimeError):
        write_scenarios(scenario_set, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_missing_dir():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_scenarios("/nonexistent/dir")
