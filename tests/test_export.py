"""Exports for optimisation tools: every format reads back with pandas (values, probabilities)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import synthetic_days

from scengen.cli import cli
from scengen.errors import ScengenError
from scengen.export import FORMATS, export, snapshots
from scengen.scenarios import ScenarioSet, write_scenarios


@pytest.fixture
def ss() -> ScenarioSet:
    p = np.array([0.5, 0.2, 0.2, 0.1])
    return ScenarioSet(
        synthetic_days(4, 3, 24, seed=6),
        probabilities=p,
        sites=["wf1", "pv/2", "wf 3"],
        capacities=np.array([10.0, 5.0, 2.0]),
        units="MW",
        ids=np.array([17, 3, 250, 9]),
        metadata={"kind": "reduced", "source": "test"},
    )


def _probs(ss):
    return dict(zip(ss.ids.tolist(), ss.probabilities, strict=False))


def test_long_round_trip(ss, tmp_path):
    out = export(ss, "long", tmp_path / "long", start="2030-01-05")
    df = pd.read_csv(out / "scenarios.csv")
    assert list(df.columns) == ["scenario", "site", "step", "time", "timestamp", "value"]
    cube = df.pivot_table(index="scenario", columns=["site", "step"], values="value")
    cube = cube.reindex(index=ss.ids, columns=pd.MultiIndex.from_product([ss.sites, range(24)]))
    np.testing.assert_allclose(cube.to_numpy().reshape(4, 3, 24), ss.in_units(), rtol=1e-8)
    assert df["timestamp"].iloc[0] == "2030-01-05T00:00:00"
    p = pd.read_csv(out / "probabilities.csv")
    assert dict(zip(p["scenario"], p["probability"], strict=False)) == pytest.approx(_probs(ss))
    meta = json.loads((out / "export.json").read_text())
    assert meta["format"] == "long" and meta["scenarios"] == ["s17", "s3", "s250", "s9"]


def test_wide_round_trip(ss, tmp_path):
    out = export(ss, "wide", tmp_path / "wide")
    df = pd.read_csv(out / "scenarios_wide.csv")
    assert list(df.columns[:3]) == ["scenario", "site", "probability"]
    assert list(df.columns[3:6]) == ["00:00", "01:00", "02:00"] and df.shape == (12, 27)
    vals = df.iloc[:, 3:].to_numpy().reshape(4, 3, 24)
    np.testing.assert_allclose(vals, ss.in_units(), rtol=1e-8)
    assert df["site"].tolist()[:3] == ss.sites
    p = df.drop_duplicates("scenario").set_index("scenario")["probability"]
    assert p.to_dict() == pytest.approx(_probs(ss))


def test_pypsa_round_trip(ss, tmp_path):
    out = export(ss, "pypsa", tmp_path / "pypsa", start="2030-07-01")
    df = pd.read_csv(out / "generators-p_max_pu.csv", header=[0, 1], index_col=0, parse_dates=True)
    assert df.columns.names == ["scenario", "name"]
    assert df.index.name == "snapshot" and len(df) == 24
    assert df.index[0] == pd.Timestamp("2030-07-01 00:00") and df.index[1] == pd.Timestamp(
        "2030-07-01 01:00"
    )
    assert list(df.columns.get_level_values(0).unique()) == ["s17", "s3", "s250", "s9"]
    for i, name in enumerate(["s17", "s3", "s250", "s9"]):
        np.testing.assert_allclose(df[name][ss.sites].to_numpy().T, ss.values[i], rtol=1e-8)
    w = pd.read_csv(out / "scenario_weightings.csv", index_col="scenario")["weight"]
    assert w.to_dict() == pytest.approx(
        dict(zip(["s17", "s3", "s250", "s9"], ss.probabilities, strict=False))
    )
    assert w.sum() == pytest.approx(1.0)
    # what n.set_scenarios takes: a {name: weight} mapping
    assert isinstance(dict(w), dict)


def test_pypsa_export_solves_in_pypsa(ss, tmp_path):
    """The export loads into a real PyPSA (>= 1.0) stochastic network and is optimised there
    (only where pypsa and a solver are installed; they are not scengen dependencies)."""
    pypsa = pytest.importorskip("pypsa")
    pytest.importorskip("highspy")
    out = export(ss, "pypsa", tmp_path / "pypsa", start="2030-07-01")
    w = pd.read_csv(out / "scenario_weightings.csv", index_col="scenario")["weight"]
    p_max_pu = pd.read_csv(
        out / "generators-p_max_pu.csv", header=[0, 1], index_col=0, parse_dates=True
    )
    load, backup_cost = 1.5, 50.0
    n = pypsa.Network()
    n.set_snapshots(p_max_pu.index)
    n.add("Bus", "bus")
    n.add("Load", "load", bus="bus", p_set=load)
    for site in ss.sites:
        n.add("Generator", site, bus="bus", p_nom=1.0, marginal_cost=0.0)
    n.add("Generator", "backup", bus="bus", p_nom=10.0, marginal_cost=backup_cost)
    n.set_scenarios(w.to_dict())
    n.generators_t.p_max_pu = p_max_pu
    status, condition = n.optimize(solver_name="highs")
    assert (status, condition) == ("ok", "optimal")
    # the expected backup cost: sum_s w_s sum_t cost * max(0, load - available_s,t)
    shortfall = np.maximum(0.0, load - ss.values.sum(axis=1))  # (scenario, step) [p.u.]
    expected = backup_cost * float(ss.probabilities @ shortfall.sum(axis=1))
    assert expected > 0
    assert n.objective == pytest.approx(expected, rel=1e-6)
    for i, name in enumerate(["s17", "s3", "s250", "s9"]):
        np.testing.assert_allclose(
            n.generators_t.p[name]["backup"].to_numpy(), shortfall[i], atol=1e-6
        )


def test_gams_round_trip(ss, tmp_path):
    out = export(ss, "gams", tmp_path / "gams")
    av = pd.read_csv(out / "availability.csv")
    assert list(av.columns) == ["scenario", "site", "step", "value"] and len(av) == 4 * 3 * 24
    sets = {
        f: pd.read_csv(out / f"{f}.csv").iloc[:, 0].tolist() for f in ("scenario", "site", "step")
    }
    assert sets["scenario"] == ["s17", "s3", "s250", "s9"] and sets["site"] == ss.sites
    assert sets["step"][:2] == ["t01", "t02"] and len(sets["step"]) == 24
    cube = av.set_index(["scenario", "site", "step"])["value"]
    cube = cube.reindex(pd.MultiIndex.from_product([sets["scenario"], sets["site"], sets["step"]]))
    np.testing.assert_allclose(cube.to_numpy().reshape(4, 3, 24), ss.values, rtol=1e-8)
    pr = pd.read_csv(out / "probability.csv")
    assert pr["value"].tolist() == pytest.approx(ss.probabilities.tolist())
    cmds = (out / "csv2gdx.txt").read_text()
    assert "csv2gdx availability.csv" in cmds and "index=1,2,3 values=4" in cmds


def test_plexos_round_trip(ss, tmp_path):
    out = export(ss, "plexos", tmp_path / "plexos", start="2030-02-03")
    meta = json.loads((out / "export.json").read_text())
    files = meta["files"]
    assert files["pv/2"] == "pv_2.csv" and files["wf 3"] == "wf 3.csv"
    w = pd.read_csv(out / "weights.csv")
    assert w["band"].tolist() == [1, 2, 3, 4]
    assert w["probability"].tolist() == pytest.approx(ss.probabilities.tolist())
    for j, site in enumerate(ss.sites):
        df = pd.read_csv(out / files[site])
        assert list(df.columns[:4]) == ["YEAR", "MONTH", "DAY", "PERIOD"]
        assert df[["YEAR", "MONTH", "DAY"]].iloc[0].tolist() == [2030, 2, 3]
        assert df["PERIOD"].tolist() == list(range(1, 25))
        for b in range(4):
            np.testing.assert_allclose(df[str(b + 1)].to_numpy(), ss.in_units()[b, j], rtol=1e-8)


def test_snapshots_follow_step_length():
    s = ScenarioSet(synthetic_days(2, 1, 96, seed=1), step_minutes=15, start_minute=0)
    snap = snapshots(s, "2021-03-04")
    assert snap[1] - snap[0] == pd.Timedelta(minutes=15) and len(snap) == 96


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_replaces_existing_dir_atomically(ss, tmp_path, fmt):
    out = tmp_path / fmt
    export(ss, fmt, out)
    with pytest.raises(ScengenError, match="pass --overwrite"):
        export(ss, fmt, out)
    export(ss, fmt, out, overwrite=True)
    assert (out / "export.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_export_bad_arguments(ss, tmp_path):
    with pytest.raises(ScengenError, match="format 'xls'"):
        export(ss, "xls", tmp_path / "x")
    with pytest.raises(ScengenError, match="not a date"):
        export(ss, "pypsa", tmp_path / "x", start="soon")
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------- CLI


def _run(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_error(r):
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error: ") and r.output.count("\n") == 1, r.output


@pytest.fixture
def scen_dir(ss, tmp_path) -> Path:
    return write_scenarios(ss, tmp_path / "scen")


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_export(scen_dir, tmp_path, fmt):
    out = tmp_path / "out"
    r = _run(["export", scen_dir, "--format", fmt, "--out", out, "--start", "2030-01-01"])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "export.json").read_text())
    assert meta["format"] == fmt and meta["start"] == "2030-01-01"


def test_cli_export_config(scen_dir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("export:\n  format: wide\n")
    out = tmp_path / "out"
    r = _run(["export", scen_dir, "--config", cfg, "--out", out])
    assert r.exit_code == 0, r.output
    assert (out / "scenarios_wide.csv").is_file()


def _bad_probs(d: Path):
    (d / "scenarios.npz").unlink()
    p = pd.read_csv(d / "probabilities.csv")
    p["probability"] *= 0.5
    p.to_csv(d / "probabilities.csv", index=False)


@pytest.mark.parametrize(
    "args,match",
    [
        (["--format", "xls"], "'xls'"),
        ([], "--format is required"),
        (["--format", "pypsa", "--start", "someday"], "not a date"),
    ],
)
def test_cli_export_errors(scen_dir, tmp_path, args, match):
    out = tmp_path / "out"
    r = _run(["export", scen_dir, *args, "--out", out])
    _one_line_error(r)
    assert match in r.output
    assert not out.exists()


def test_cli_export_bad_input(scen_dir, tmp_path):
    out = tmp_path / "out"
    _bad_probs(scen_dir)
    r = _run(["export", scen_dir, "--format", "long", "--out", out])
    _one_line_error(r)
    assert "sum to" in r.output
    assert not out.exists()
    r = _run(["export", scen_dir, "--format", "long", "--normalize", "--out", out])
    assert r.exit_code == 0, r.output
    p = pd.read_csv(out / "probabilities.csv")["probability"]
    assert p.sum() == pytest.approx(1.0)
    r = _run(["export", tmp_path / "nope", "--format", "long", "--out", tmp_path / "o2"])
    _one_line_error(r)
    assert not (tmp_path / "o2").exists()
