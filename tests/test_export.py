"""Exports for optimisation tools: every format reads back with pandas (values, probabilities),
with one scenario name everywhere; the examples under examples/ load and solve them where the
target tool is installable (pypsa, pyomo + mpi-sppy + highspy, GAMS with csv2gdx)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import synthetic_days

from scengen.cli import cli
from scengen.errors import ScengenError
from scengen.export import (
    FORMATS,
    GAMS_INCLUDE,
    GAMS_INCLUDE_TEXT,
    ExportConfig,
    export,
    gams_csv2gdx_calls,
    scenario_names,
    snapshots,
)
from scengen.scenarios import ScenarioSet, write_scenarios

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["s17", "s3", "s250", "s9"]


def _example(name: str):
    """The module ``examples/<name>.py``."""
    spec = importlib.util.spec_from_file_location(
        f"scengen_example_{name}", ROOT / "examples" / f"{name}.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _values() -> np.ndarray:
    """4 scenarios x 3 sites x 24 h; site 2 is PV-like: zero at night in every scenario."""
    v = synthetic_days(4, 3, 24, seed=6)
    v[:, 1, :6] = 0.0
    v[:, 1, 20:] = 0.0
    return v


@pytest.fixture
def ss() -> ScenarioSet:
    p = np.array([0.5, 0.2, 0.2, 0.1])
    return ScenarioSet(
        _values(),
        probabilities=p,
        sites=["wf1", "pv/2", "wf 3"],
        capacities=np.array([10.0, 5.0, 2.0]),
        units="MW",
        ids=np.array([17, 3, 250, 9]),
        metadata={"kind": "reduced", "source": "test"},
    )


def _probs(ss):
    """{scenario name: probability}."""
    return dict(zip(scenario_names(ss), ss.probabilities, strict=True))


def test_long_round_trip(ss, tmp_path):
    out = export(ss, "long", tmp_path / "long", start="2030-01-05")
    df = pd.read_csv(out / "scenarios.csv")
    assert list(df.columns) == ["scenario", "site", "step", "time", "timestamp", "value"]
    assert df["scenario"].unique().tolist() == NAMES
    cube = df.pivot_table(index="scenario", columns=["site", "step"], values="value")
    cube = cube.reindex(index=NAMES, columns=pd.MultiIndex.from_product([ss.sites, range(24)]))
    np.testing.assert_allclose(cube.to_numpy().reshape(4, 3, 24), ss.in_units(), rtol=1e-8)
    assert df["timestamp"].iloc[0] == "2030-01-05T00:00:00"
    p = pd.read_csv(out / "probabilities.csv")
    assert dict(zip(p["scenario"], p["probability"], strict=False)) == pytest.approx(_probs(ss))
    meta = json.loads((out / "export.json").read_text())
    assert meta["format"] == "long" and meta["scenarios"] == NAMES
    assert meta["ids"] == [17, 3, 250, 9] and meta["day_weight"] == 1.0


def test_wide_round_trip(ss, tmp_path):
    out = export(ss, "wide", tmp_path / "wide")
    df = pd.read_csv(out / "scenarios_wide.csv")
    assert list(df.columns[:3]) == ["scenario", "site", "probability"]
    assert list(df.columns[3:6]) == ["00:00", "01:00", "02:00"] and df.shape == (12, 27)
    vals = df.iloc[:, 3:].to_numpy().reshape(4, 3, 24)
    np.testing.assert_allclose(vals, ss.in_units(), rtol=1e-8)
    assert df["site"].tolist()[:3] == ss.sites
    assert df["scenario"].unique().tolist() == NAMES
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
    assert list(df.columns.get_level_values(0).unique()) == NAMES
    for i, name in enumerate(NAMES):
        np.testing.assert_allclose(df[name][ss.sites].to_numpy().T, ss.values[i], rtol=1e-8)
    w = pd.read_csv(out / "scenario_weightings.csv", index_col="scenario")["weight"]
    assert w.to_dict() == pytest.approx(_probs(ss))
    assert w.sum() == pytest.approx(1.0)
    # what n.set_scenarios takes: a {name: weight} mapping
    assert isinstance(dict(w), dict)
    # capacities beside p_max_pu, one row per generator column
    gens = pd.read_csv(out / "generators.csv")
    assert gens["name"].tolist() == ss.sites == df[NAMES[0]].columns.tolist()
    assert gens["p_nom"].tolist() == pytest.approx(ss.capacities.tolist())
    # default weightings: one hour per hourly snapshot
    sw = pd.read_csv(out / "snapshot_weightings.csv", index_col=0, parse_dates=True)
    assert list(sw.columns) == ["objective", "stores", "generators"]
    assert sw.index.equals(df.index) and (sw.to_numpy() == 1.0).all()


def test_pypsa_snapshot_weightings_scale_to_a_year(tmp_path):
    """``day_weight`` scales the objective and generator weightings; ``stores`` keep the step
    length [h] (15-min steps: 0.25 h)."""
    s = ScenarioSet(synthetic_days(2, 1, 96, seed=1), step_minutes=15)
    out = export(s, "pypsa", tmp_path / "p", day_weight=365)
    sw = pd.read_csv(out / "snapshot_weightings.csv", index_col=0)
    assert len(sw) == 96
    assert sw["objective"].tolist() == pytest.approx([0.25 * 365] * 96)
    assert sw["generators"].tolist() == pytest.approx([0.25 * 365] * 96)
    assert sw["stores"].tolist() == pytest.approx([0.25] * 96)
    meta = json.loads((out / "export.json").read_text())
    assert meta["day_weight"] == 365 and meta["step_hours"] == 0.25


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
    for i, name in enumerate(NAMES):
        np.testing.assert_allclose(
            n.generators_t.p[name]["backup"].to_numpy(), shortfall[i], atol=1e-6
        )


def test_pypsa_example_scales_objective_to_a_year(ss, tmp_path):
    """examples/pypsa_dispatch.py (capacities from generators.csv, weightings from
    snapshot_weightings.csv, scenarios before p_max_pu) solves with HiGHS; with --day-weight 365
    the objective is 365 x the expected daily backup cost recomputed from the scenarios."""
    pytest.importorskip("pypsa")
    pytest.importorskip("highspy")
    mod = _example("pypsa_dispatch")
    load, cost = 8.0, 100.0
    shortfall = np.maximum(0.0, load - ss.in_units().sum(axis=1))  # (scenario, step) [MW]
    daily = cost * float(ss.probabilities @ shortfall.sum(axis=1))
    assert daily > 0
    for day_weight in (1.0, 365.0):
        out = export(ss, "pypsa", tmp_path / f"p{day_weight:g}", day_weight=day_weight)
        res = mod.solve(out, load, cost)
        assert (res["status"], res["condition"]) == ("ok", "optimal")
        assert res["objective"] == pytest.approx(day_weight * daily, rel=1e-6)
        assert res["expected"] == pytest.approx(res["objective"], rel=1e-6)
    # the order trap is caught: a network that already has scenarios is refused
    import pypsa

    n = pypsa.Network()
    n.add("Bus", "bus")
    n.set_snapshots(pd.date_range("2020-01-01", periods=24, freq="h"))
    n.set_scenarios({"a": 0.5, "b": 0.5})
    with pytest.raises(RuntimeError, match="already has scenarios"):
        mod.attach_scenarios(n, out)


def test_gams_round_trip(ss, tmp_path):
    out = export(ss, "gams", tmp_path / "gams", day_weight=365)
    av = pd.read_csv(out / "availability.csv")
    assert list(av.columns) == ["scenario", "site", "step", "value"] and len(av) == 4 * 3 * 24
    sets = {f: pd.read_csv(out / f"{f}.csv").iloc[:, 0].tolist() for f in ("scenario", "site")}
    steps = pd.read_csv(out / "step.csv")
    sets["step"] = steps["step"].tolist()
    assert sets["scenario"] == NAMES and sets["site"] == ss.sites
    assert sets["step"][:2] == ["t01", "t02"] and len(sets["step"]) == 24
    # every (scenario, site, step) is a row, the PV night zeros included
    full = pd.MultiIndex.from_product([sets["scenario"], sets["site"], sets["step"]])
    assert set(av.set_index(["scenario", "site", "step"]).index) == set(full)
    assert not av.duplicated(["scenario", "site", "step"]).any()
    night = av[(av["site"] == "pv/2") & av["step"].isin(["t01", "t06", "t21", "t24"])]
    assert len(night) == 4 * 4 and (night["value"] == 0).all()
    cube = av.set_index(["scenario", "site", "step"])["value"].reindex(full)
    np.testing.assert_allclose(cube.to_numpy().reshape(4, 3, 24), ss.values, rtol=1e-8)
    pr = pd.read_csv(out / "probability.csv")
    assert pr["scenario"].tolist() == NAMES
    assert pr["value"].tolist() == pytest.approx(ss.probabilities.tolist())
    cap = pd.read_csv(out / "capacity.csv")
    assert cap["site"].tolist() == ss.sites
    assert cap["value"].tolist() == pytest.approx(ss.capacities.tolist())
    assert steps["hours"].tolist() == [1.0] * 24 and steps["weight"].tolist() == [365.0] * 24
    # the include file: one csv2gdx call per parameter, each keeping zeros, on columns that exist
    text = (out / GAMS_INCLUDE).read_text()
    assert text == GAMS_INCLUDE_TEXT
    calls = gams_csv2gdx_calls()
    assert len(calls) == 5
    for call in calls:
        assert "storeZero=y" in call.split() and "useHeader=y" in call.split(), call
        csv = call.split()[1].strip('"').replace("%scengen%/", "")
        header = pd.read_csv(out / csv, nrows=0).columns
        opts = dict(a.split("=", 1) for a in call.split()[2:])
        cols = [int(c) for c in opts["index"].split(",")] + [int(opts["values"])]
        assert max(cols) <= len(header), (csv, cols)
        assert f"$gdxIn {opts['output']}" in text
    assert "index=1,2,3 values=4" in calls[0] and "id=avail" in calls[0]
    assert {c.split("id=")[1].split()[0] for c in calls} == {
        "avail",
        "prob",
        "cap",
        "hours",
        "weight",
    }
    assert "$load s=Dim1 i=Dim2 t=Dim3 avail" in text


def test_docs_quote_the_gams_include_written():
    """docs/exports.md shows exactly the scengen_data.gms that the export writes (and its
    csv2gdx calls), so the documentation and the written calls cannot drift apart."""
    docs = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8")
    assert GAMS_INCLUDE_TEXT in docs
    for call in gams_csv2gdx_calls():
        assert call in docs


@pytest.mark.skipif(
    shutil.which("gams") is None or shutil.which("csv2gdx") is None,
    reason="GAMS with csv2gdx is not installed (it is not on PyPI)",
)
def test_gams_example_solves(ss, tmp_path):
    """examples/gams_storage.gms loads the export through scengen_data.gms (csv2gdx) and solves
    the same model as examples/mpisppy_storage.py."""
    out = export(ss, "gams", tmp_path / "gams")
    r = subprocess.run(
        ["gams", str(ROOT / "examples" / "gams_storage.gms"), f"--scengen={out}", "lo=2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = pd.read_csv(tmp_path / "storage_result.csv")
    assert res["objective"].iloc[0] > 0 and res["E"].iloc[0] >= 0
    if importlib.util.find_spec("mpisppy") and importlib.util.find_spec("highspy"):
        py = _example("mpisppy_storage").solve(export(ss, "pyomo", tmp_path / "pyomo"))
        assert res["objective"].iloc[0] == pytest.approx(py["objective"], rel=1e-6)


def test_plexos_round_trip(ss, tmp_path):
    out = export(ss, "plexos", tmp_path / "plexos", start="2030-02-03")
    meta = json.loads((out / "export.json").read_text())
    files = meta["files"]
    assert files["pv/2"] == "pv_2.csv" and files["wf 3"] == "wf 3.csv"
    assert "weights.csv" not in meta["written"]
    w = pd.read_csv(out / "bands.csv")
    assert w["band"].tolist() == [1, 2, 3, 4] and w["scenario"].tolist() == NAMES
    assert w["probability"].tolist() == pytest.approx(ss.probabilities.tolist())
    # Variable [Probability] per site and band, cumulative [%] ending at exactly 100
    pr = pd.read_csv(out / "probability.csv")
    assert list(pr.columns) == ["NAME", "BAND", "VALUE"] and len(pr) == 3 * 4
    for site in ss.sites:
        cum = pr.loc[pr["NAME"] == site].sort_values("BAND")["VALUE"].to_numpy()
        assert cum.tolist() == pytest.approx([50.0, 70.0, 90.0, 100.0]) and cum[-1] == 100.0
    for j, site in enumerate(ss.sites):
        df = pd.read_csv(out / files[site])
        assert list(df.columns[:4]) == ["YEAR", "MONTH", "DAY", "PERIOD"]
        assert df[["YEAR", "MONTH", "DAY"]].iloc[0].tolist() == [2030, 2, 3]
        assert df["PERIOD"].tolist() == list(range(1, 25))
        for b in range(4):
            np.testing.assert_allclose(df[str(b + 1)].to_numpy(), ss.in_units()[b, j], rtol=1e-8)


def test_plexos_example_checks_the_export(ss, tmp_path, capsys):
    """PLEXOS is not installable: examples/plexos_setup.py checks the layout and prints the
    objects and properties to enter."""
    out = export(ss, "plexos", tmp_path / "plexos")
    mod = _example("plexos_setup")
    info = mod.check_export(out)
    assert info["n_periods"] == 24 and info["sites"]["pv/2"] == "pv_2.csv"
    rows = mod.setup_rows(out)
    assert ("Variable", "wf1", "Sampling Method", "2 (User)", "", "") in rows
    assert ("Variable", "wf1", "Profile", "0", "scengen wf1", "4") in rows
    mod.main([str(out)])
    assert "Stochastic_CumulativeProbability" in capsys.readouterr().out
    # a broken file is reported, naming it
    pr = pd.read_csv(out / "probability.csv")
    pr.loc[pr.index[-1], "VALUE"] = 99.0
    pr.to_csv(out / "probability.csv", index=False)
    with pytest.raises(ValueError, match="probability.csv"):
        mod.check_export(out)


def test_pyomo_round_trip(ss, tmp_path):
    out = export(ss, "pyomo", tmp_path / "pyomo", day_weight=2)
    p = pd.read_csv(out / "probabilities.csv")
    assert p["scenario"].tolist() == NAMES
    assert p["probability"].tolist() == pytest.approx(ss.probabilities.tolist())
    av = pd.read_csv(out / "availability.csv")
    assert len(av) == 4 * 3 * 24 and set(av["scenario"]) == set(NAMES)
    cube = av.set_index(["scenario", "site", "step"])["value"]
    cube = cube.reindex(pd.MultiIndex.from_product([NAMES, ss.sites, range(24)]))
    np.testing.assert_allclose(cube.to_numpy().reshape(4, 3, 24), ss.values, rtol=1e-8)
    sites = pd.read_csv(out / "sites.csv")
    assert sites["site"].tolist() == ss.sites
    assert sites["capacity"].tolist() == pytest.approx(ss.capacities.tolist())
    steps = pd.read_csv(out / "steps.csv")
    assert steps["step"].tolist() == list(range(24)) and steps["time"].iloc[1] == "01:00"
    assert steps["hours"].tolist() == [1.0] * 24 and steps["weight"].tolist() == [2.0] * 24
    meta = json.loads((out / "export.json").read_text())
    assert meta["value_units"] == "p.u." and meta["day_weight"] == 2.0


def test_mpisppy_example_objective_is_the_weighted_sum(ss, tmp_path):
    """examples/mpisppy_storage.py: mpi-sppy's ExtensiveForm (fake MPI, no mpi4py) solves the
    two-stage storage model of the pyomo export with HiGHS; its objective equals the
    probability-weighted sum recomputed from the solution, and storage is built."""
    pytest.importorskip("pyomo")
    pytest.importorskip("mpisppy")
    pytest.importorskip("highspy")
    mod = _example("mpisppy_storage")
    out = export(ss, "pyomo", tmp_path / "pyomo")
    res = mod.solve(out)
    assert res["scenarios"] == 4
    assert res["objective"] == pytest.approx(res["recomputed"], rel=1e-9, abs=1e-9)
    assert res["E"] > 1.0 and res["expected_backup"] > 0
    # the demand is the expected mean output [MW]
    mean = float(ss.probabilities @ ss.in_units().sum(axis=1).mean(axis=1))
    assert res["demand"] == pytest.approx(mean, rel=1e-9)
    # the costs of the second stage scale with the day weight
    res365 = mod.solve(export(ss, "pyomo", tmp_path / "pyomo365", day_weight=365))
    assert res365["objective"] == pytest.approx(res365["recomputed"], rel=1e-9)
    assert res365["E"] >= res["E"] - 1e-6


@pytest.mark.parametrize("fmt", ["long", "wide"])
def test_expected_shortfall_example(ss, tmp_path, fmt):
    """examples/expected_shortfall.py joins values and probabilities by scenario name."""
    mod = _example("expected_shortfall")
    out = export(ss, fmt, tmp_path / fmt)
    demand = 8.0
    shortfall = np.maximum(0.0, demand - ss.in_units().sum(axis=1)).sum(axis=1)
    assert mod.expected_shortfall(out, demand) == pytest.approx(
        float(ss.probabilities @ shortfall), rel=1e-7
    )


def _scenario_labels(out: Path, fmt: str) -> dict[str, list[str]]:
    """The scenario labels of each file of an export, in file order."""
    r = lambda f, **kw: pd.read_csv(out / f, dtype=str, **kw)  # noqa: E731
    if fmt == "long":
        return {
            "values": r("scenarios.csv")["scenario"].unique().tolist(),
            "probabilities": r("probabilities.csv")["scenario"].tolist(),
        }
    if fmt == "wide":
        return {"values": r("scenarios_wide.csv")["scenario"].unique().tolist()}
    if fmt == "pypsa":
        cols = r("generators-p_max_pu.csv", header=[0, 1], index_col=0).columns
        return {
            "values": cols.get_level_values(0).unique().tolist(),
            "probabilities": r("scenario_weightings.csv")["scenario"].tolist(),
        }
    if fmt == "gams":
        return {
            "values": r("availability.csv")["scenario"].unique().tolist(),
            "probabilities": r("probability.csv")["scenario"].tolist(),
            "set": r("scenario.csv")["scenario"].tolist(),
        }
    if fmt == "plexos":
        return {"bands": r("bands.csv")["scenario"].tolist()}
    return {
        "values": r("availability.csv")["scenario"].unique().tolist(),
        "probabilities": r("probabilities.csv")["scenario"].tolist(),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_scenario_name_everywhere(ss, tmp_path, fmt):
    """Scenario id 17 is ``s17`` in the values, the probabilities and export.json of every
    format (no format writes the bare number)."""
    out = export(ss, fmt, tmp_path / fmt, start="2030-01-01")
    meta = json.loads((out / "export.json").read_text())
    assert meta["scenarios"] == NAMES and meta["ids"] == [17, 3, 250, 9]
    for what, labels in _scenario_labels(out, fmt).items():
        assert labels == NAMES, (fmt, what)


def test_day_weight_is_checked(ss, tmp_path):
    for bad in (0, -1, float("nan"), float("inf"), "year", True):
        with pytest.raises(ScengenError, match="--day-weight") as e:
            export(ss, "pyomo", tmp_path / "x", day_weight=bad)
        assert repr(bad) in str(e.value)
    assert not (tmp_path / "x").exists()


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


def test_export_config_one_schema():
    """The ``export`` section of ``scengen export`` and ``scengen run``: ``formats``, with the
    old single ``format`` read into it (deprecated)."""
    assert ExportConfig().formats is None
    assert ExportConfig(formats=["long", "gams"]).formats == ["long", "gams"]
    with pytest.warns(FutureWarning, match=r"write formats: \[wide\]"):
        cfg = ExportConfig(format="wide")
    assert cfg.formats == ["wide"] and cfg.format is None
    with pytest.raises(ScengenError, match="not both"):
        ExportConfig(formats=["long"], format="wide")
    with pytest.raises(ScengenError, match="export format 'xls' does not exist"):
        ExportConfig(formats=["long", "xls"])


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


def test_cli_export_day_weight(scen_dir, tmp_path):
    out = tmp_path / "out"
    r = _run(["export", scen_dir, "--format", "pypsa", "--day-weight", "365", "--out", out])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "export.json").read_text())["day_weight"] == 365.0
    sw = pd.read_csv(out / "snapshot_weightings.csv", index_col=0)
    assert (sw["objective"] == 365.0).all() and (sw["stores"] == 1.0).all()
    cfg = tmp_path / "c.yaml"
    cfg.write_text("export:\n  format: pyomo\n  day_weight: 7\n")
    r = _run(["export", scen_dir, "--config", cfg, "--out", tmp_path / "o2"])
    assert r.exit_code == 0, r.output
    assert (pd.read_csv(tmp_path / "o2" / "steps.csv")["weight"] == 7.0).all()


def test_cli_export_config(scen_dir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("export:\n  format: wide\n")
    out = tmp_path / "out"
    r = _run(["export", scen_dir, "--config", cfg, "--out", out])
    assert r.exit_code == 0, r.output
    assert (out / "scenarios_wide.csv").is_file()
    assert "note: export.format: 'wide' is deprecated; write formats: [wide]" in r.output
    # the spelling scengen run reads: one format, or --format to choose among several
    cfg.write_text("export:\n  formats: [wide, pyomo]\n")
    r = _run(["export", scen_dir, "--config", cfg, "--out", tmp_path / "o2"])
    _one_line_error(r)
    assert "choose it with --format" in r.output
    r = _run(["export", scen_dir, "--config", cfg, "--format", "pyomo", "--out", tmp_path / "o2"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o2" / "steps.csv").is_file() and "deprecated" not in r.output


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
        (["--format", "pypsa", "--day-weight", "0"], "--day-weight 0.0"),
        (["--format", "gams", "--day-weight", "nan"], "--day-weight nan"),
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
