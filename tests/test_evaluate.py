"""Tests of the evaluation metrics, references, evaluate() and ``scengen evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

from scengen import evaluate as ev
from scengen.cli import cli
from scengen.data import Profiles, save_split
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, write_scenarios

SITES = ["wf1", "wf2"]


def _set(values, probs=None, sites=None, **meta) -> ScenarioSet:
    return ScenarioSet(
        values, probabilities=probs, sites=sites or SITES[: values.shape[1]], metadata=meta
    )


def _profiles(values, start="2020-01-01", sites=None) -> Profiles:
    dates = np.datetime64(start) + np.arange(len(values))
    return Profiles(values=values, dates=dates, sites=sites or SITES[: values.shape[1]])


@pytest.fixture
def days():
    """(train, heldout, scenarios) arrays of 2 sites x 24 steps."""
    return (
        synthetic_days(60, 2, 24, seed=1),
        synthetic_days(20, 2, 24, seed=2),
        synthetic_days(150, 2, 24, seed=3),
    )


# ---------------------------------------------------------------------- Wasserstein


def test_wasserstein_point_masses():
    a = np.zeros((1, 1, 4))
    b = np.ones((1, 1, 4))
    assert ev.wasserstein(a, None, b, None) == pytest.approx(2.0)  # ||1_4|| = 2
    # half the mass of b moves by 2, the other half does not move
    b2 = np.stack([np.zeros((1, 4)), np.ones((1, 4))])
    assert ev.wasserstein(a, None, b2, [0.5, 0.5]) == pytest.approx(1.0)
    assert ev.wasserstein(a, None, b2, [0.9, 0.1]) == pytest.approx(0.2)


def test_wasserstein_symmetric_and_zero(days):
    _, held, scen = days
    p = np.random.default_rng(0).dirichlet(np.ones(len(scen)))
    ab = ev.wasserstein(scen, p, held, None)
    ba = ev.wasserstein(held, None, scen, p)
    assert ab == pytest.approx(ba, rel=1e-9)
    assert ab > 0
    assert ev.wasserstein(held, None, held, None) == pytest.approx(0.0, abs=1e-9)


# ---------------------------------------------------------------------- weights honoured


ALL_PAIRS = [
    ev.wasserstein,
    ev.autocorrelation_error,
    ev.ramp_wasserstein,
    ev.correlation_error,
    ev.mean_profile_error,
]
ALL_SCORES = [ev.energy_score, ev.variogram_score, ev.crps]


def test_weights_honoured(days):
    train, held, scen = days
    scen = scen[:40]
    p = np.random.default_rng(1).dirichlet(np.ones(len(scen)))
    # duplicate scenario 0 and split its probability between the two copies
    dup = np.concatenate([scen, scen[:1]])
    pd_ = np.concatenate([p, [p[0] / 2]])
    pd_[0] = p[0] / 2
    for f in ALL_PAIRS + ALL_SCORES:
        assert f(dup, pd_, held, None) == pytest.approx(f(scen, p, held, None), rel=1e-9), f
    assert ev.nearest_neighbour_distance(dup, train, pd_) == pytest.approx(
        ev.nearest_neighbour_distance(scen, train, p)
    )


def test_scenarioset_probabilities_used(days):
    _, held, scen = days
    p = np.random.default_rng(2).dirichlet(np.ones(len(scen)))
    ss = _set(scen, p)
    assert ev.energy_score(ss, None, held) == pytest.approx(ev.energy_score(scen, p, held))
    assert ev.wasserstein(ss, None, _set(held)) == pytest.approx(ev.wasserstein(scen, p, held))


# ---------------------------------------------------------------------- scoring rules


def test_perfect_point_forecast_scores_zero(days):
    _, held, _ = days
    y = held[:1]
    assert ev.energy_score(y, None, y) == pytest.approx(0.0, abs=1e-7)
    assert ev.crps(y, None, y) == pytest.approx(0.0, abs=1e-12)
    assert ev.variogram_score(y, None, y) == pytest.approx(0.0, abs=1e-12)
    # a single scenario: CRPS is the mean absolute error
    assert ev.crps(held[1:2], None, y) == pytest.approx(np.abs(held[1] - y[0]).mean())


def test_crps_matches_brute_force():
    rng = np.random.default_rng(3)
    x = np.round(rng.uniform(size=(30, 2, 5)), 1)  # ties on purpose
    p = rng.dirichlet(np.ones(30))
    y = rng.uniform(size=(7, 2, 5))
    xf, yf = x.reshape(30, -1), y.reshape(7, -1)
    term1 = np.einsum("i,ijd->jd", p, np.abs(xf[:, None, :] - yf[None, :, :]))
    term2 = np.einsum("i,j,ijd->d", p, p, np.abs(xf[:, None, :] - xf[None, :, :]))
    brute = (term1 - 0.5 * term2[None, :]).mean()
    assert ev.crps(x, p, y) == pytest.approx(brute, rel=1e-10)


def test_energy_and_variogram_match_brute_force():
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(25, 2, 3))
    p = rng.dirichlet(np.ones(25))
    y = rng.uniform(size=(6, 2, 3))
    xf, yf = x.reshape(25, -1), y.reshape(6, -1)
    t1 = np.array([p @ np.linalg.norm(xf - yy, axis=1) for yy in yf])
    t2 = sum(p[i] * p[j] * np.linalg.norm(xf[i] - xf[j]) for i in range(25) for j in range(25))
    assert ev.energy_score(x, p, y) == pytest.approx((t1 - 0.5 * t2).mean(), rel=1e-9)
    d = xf.shape[1]
    vs = []
    for yy in yf:
        s = 0.0
        for i in range(d):
            for j in range(d):  # all ordered pairs i != j (Scheuerer and Hamill 2015)
                if j != i:
                    ex = p @ np.abs(xf[:, i] - xf[:, j]) ** 0.5
                    s += (abs(yy[i] - yy[j]) ** 0.5 - ex) ** 2
        vs.append(s)
    assert ev.variogram_score(x, p, y) == pytest.approx(np.mean(vs), rel=1e-9)
    assert ev.variogram_score(x, p, y, p=1.0) > 0


# ---------------------------------------------------------------------- scoringrules


def _sr_inputs(weights: str):
    """(x, probs or None, y, ensemble weights for scoringrules) for a weighting case."""
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(30, 2, 5))
    y = rng.uniform(size=(4, 2, 5))
    if weights == "equal":
        return x, None, y, np.full(30, 1 / 30)
    if weights == "dirichlet":
        p = rng.dirichlet(np.ones(30))
        return x, p, y, p
    # integer weights: the weighted set equals the set with members repeated
    k = rng.integers(1, 4, size=30)
    return x, k / k.sum(), y, k


@pytest.mark.parametrize("weights", ["equal", "dirichlet", "integer"])
def test_energy_score_matches_scoringrules(weights):
    sr = pytest.importorskip("scoringrules")
    x, p, y, w = _sr_inputs(weights)
    xf, yf = x.reshape(len(x), -1), y.reshape(len(y), -1)
    want = sr.es_ensemble(
        yf,
        np.broadcast_to(xf, (len(yf), *xf.shape)),
        ens_w=np.broadcast_to(w, (len(yf), len(w))),
        backend="numpy",
    )
    assert ev.energy_score(x, p, y) == pytest.approx(float(np.mean(want)), abs=1e-8)
    if weights == "integer":  # ens_w agrees with repeating members
        rep = np.repeat(x, w, axis=0)
        assert ev.energy_score(rep, None, y) == pytest.approx(ev.energy_score(x, p, y), abs=1e-8)


@pytest.mark.parametrize("weights", ["equal", "dirichlet", "integer"])
@pytest.mark.parametrize("order", [0.5, 1.0, 2.0])
def test_variogram_score_matches_scoringrules(weights, order):
    sr = pytest.importorskip("scoringrules")
    x, p, y, w = _sr_inputs(weights)
    xf, yf = x.reshape(len(x), -1), y.reshape(len(y), -1)
    want = sr.vs_ensemble(
        yf,
        np.broadcast_to(xf, (len(yf), *xf.shape)),
        p=order,
        ens_w=np.broadcast_to(w, (len(yf), len(w))),
        backend="numpy",
    )
    assert ev.variogram_score(x, p, y, p=order) == pytest.approx(float(np.mean(want)), abs=1e-8)
    if weights == "integer":
        rep = np.repeat(x, w, axis=0)
        got = ev.variogram_score(rep, None, y, p=order)
        assert got == pytest.approx(ev.variogram_score(x, p, y, p=order), abs=1e-8)


@pytest.mark.parametrize("weights", ["equal", "dirichlet", "integer"])
def test_crps_matches_scoringrules(weights):
    sr = pytest.importorskip("scoringrules")
    x, p, y, w = _sr_inputs(weights)
    xf, yf = x.reshape(len(x), -1), y.reshape(len(y), -1)
    fct = np.broadcast_to(xf.T, (len(yf), *xf.T.shape))  # (obs, component, member)
    ens_w = np.broadcast_to(w, fct.shape)
    for estimator in ("nrg", "qd"):
        want = sr.crps_ensemble(yf, fct, ens_w=ens_w, estimator=estimator, backend="numpy")
        assert ev.crps(x, p, y) == pytest.approx(float(np.mean(want)), abs=1e-8), estimator
    if weights == "integer":
        rep = np.repeat(x, w, axis=0)
        assert ev.crps(rep, None, y) == pytest.approx(ev.crps(x, p, y), abs=1e-8)


def test_energy_score_subsample_close_to_exact(days):
    _, held, scen = days
    exact = ev.energy_score(scen, None, held)
    approx = ev.energy_score(scen, None, held, max_scenarios=60, seed=1)
    assert approx != exact
    mean = np.mean([ev.energy_score(scen, None, held, max_scenarios=60, seed=s) for s in range(20)])
    assert mean == pytest.approx(exact, rel=0.03)  # unbiased: the seeds' mean is close
    assert approx == ev.energy_score(scen, None, held, max_scenarios=60, seed=1)  # seeded


# ---------------------------------------------------------------------- other distances


def test_identical_sets_have_zero_errors(days):
    _, held, _ = days
    for f in ALL_PAIRS:
        assert f(held, None, held, None) == pytest.approx(0.0, abs=1e-9), f


def test_autocorrelation_lags_checked(days):
    _, held, scen = days
    assert ev.autocorrelation_error(scen, None, held, None, lags=[1]) > 0
    with pytest.raises(ScengenError, match="lags"):
        ev.autocorrelation_error(scen, None, held, None, lags=[24])


def test_correlation_one_site_uses_steps(days):
    _, held, scen = days
    e = ev.correlation_error(scen[:, :1], None, held[:, :1], None)
    assert np.isfinite(e) and e > 0


def test_ramp_wasserstein_hand_case():
    a = np.array([[[0.0, 0.5, 1.0]]])  # ramps +0.5, +0.5
    b = np.array([[[0.0, 0.0, 0.0]]])  # ramps 0, 0
    assert ev.ramp_wasserstein(a, None, b, None) == pytest.approx(0.5)


def test_nearest_neighbour_distance(days):
    train, _, _ = days
    assert ev.nearest_neighbour_distance(train, train) == 0.0
    shifted = train + 0.01  # every day 0.01 * sqrt(48) from its original
    assert ev.nearest_neighbour_distance(shifted, train) == pytest.approx(0.01 * np.sqrt(48))


def test_shape_mismatch_is_an_error(days):
    _, held, scen = days
    with pytest.raises(ScengenError, match="differ"):
        ev.wasserstein(scen[:, :, :12], None, held, None)
    with pytest.raises(ScengenError, match="shape"):
        ev.crps(np.zeros(5), None, held)


# ---------------------------------------------------------------------- references


def test_gaussian_copula_marginals_and_correlation():
    rng = np.random.default_rng(5)
    z = rng.multivariate_normal([0, 0, 0], [[1, 0.8, 0.3], [0.8, 1, 0.5], [0.3, 0.5, 1]], 800)
    train = _set(np.exp(z)[:, :, None].transpose(0, 2, 1), sites=["a"])  # 1 site x 3 steps
    cop = ev.gaussian_copula(train, 20_000, seed=0)
    x, c = train.flat(), cop.flat()
    for k in range(3):
        q = [0.1, 0.25, 0.5, 0.75, 0.9]
        np.testing.assert_allclose(np.quantile(c[:, k], q), np.quantile(x[:, k], q), rtol=0.06)
        assert c[:, k].min() >= x[:, k].min() and c[:, k].max() <= x[:, k].max()
    rx = pd.DataFrame(x).corr("spearman").to_numpy()
    rc = pd.DataFrame(c).corr("spearman").to_numpy()
    np.testing.assert_allclose(rc, rx, atol=0.05)
    assert cop.metadata["shrinkage"] == 0.0
    again = ev.gaussian_copula(train, 20_000, seed=0)
    np.testing.assert_array_equal(again.values, cop.values)


def test_gaussian_copula_singular_and_constant(days):
    train, _, _ = days
    few = train[:10].copy()  # 10 days, 48 dims: singular correlation
    few[:, 0, :3] = 0.0  # constant components (like PV nights)
    cop = ev.gaussian_copula(_set(few), 50, seed=0)
    assert cop.metadata["shrinkage"] > 0
    assert np.all(cop.values[:, 0, :3] == 0.0)
    assert np.isfinite(cop.values).all()


def test_history_reference(days):
    train, _, _ = days
    h = ev.history_reference(_set(train, np.random.default_rng(0).dirichlet(np.ones(60))))
    np.testing.assert_allclose(h.probabilities, 1 / 60)
    np.testing.assert_array_equal(h.values, train)


# ---------------------------------------------------------------------- evaluate()


def test_evaluate_table(days):
    train, held, scen = days
    res = ev.evaluate(_set(scen), _set(held), _set(train), n_copula=200, seed=0)
    assert list(res.table.index) == ["scenarios", "history", "copula"]
    assert list(res.table.columns) == list(ev.METRICS)
    assert np.isfinite(res.table.to_numpy()).all()
    assert res.table.loc["history", "nn_distance"] == 0.0
    assert (res.ratios.loc["history"].drop("nn_distance") == 1.0).all()
    assert res.ratios.loc["scenarios", "nn_distance"] == pytest.approx(
        res.table.loc["scenarios", "nn_distance"] / res.heldout_nn_distance
    )
    assert res.heldout_nn_distance > 0
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d["table"]) == {"scenarios", "history", "copula"}
    long = res.to_frame()
    assert len(long) == 3 * len(ev.METRICS) and {"set", "metric", "value", "ratio"} <= set(long)
    assert "history" in res.summary() and "quality bar" in res.summary()
    checks = res.quality_checks()
    assert len(checks) == 5 and checks["ok"].dtype == bool
    assert d["quality_checks"][0]["check"].startswith("wasserstein")
    again = ev.evaluate(_set(scen), _set(held), _set(train), n_copula=200, seed=0)
    pd.testing.assert_frame_equal(res.table, again.table)


def test_evaluate_without_train(days):
    _, held, scen = days
    res = ev.evaluate(_set(scen), _set(held))
    assert list(res.table.index) == ["scenarios"]
    assert np.isnan(res.table.loc["scenarios", "nn_distance"])
    assert res.ratios.empty and res.quality_checks().empty
    json.dumps(res.to_dict(), allow_nan=False)
    res2 = ev.evaluate(_set(scen), _set(held), _set(days[0]), references=False)
    assert list(res2.table.index) == ["scenarios"]


def test_evaluate_mismatch(days):
    train, held, scen = days
    with pytest.raises(ScengenError, match="different sites"):
        ev.evaluate(_set(scen, sites=["a", "b"]), _set(held))
    with pytest.raises(ScengenError, match="different steps"):
        ev.evaluate(_set(scen[:, :, :12]), _set(held))
    with pytest.raises(ScengenError, match="training days"):
        ev.evaluate(_set(scen), _set(held), _set(train, sites=["x", "y"]))


def test_write_evaluation(tmp_path, days):
    train, held, scen = days
    res = ev.evaluate(_set(scen), _set(held), _set(train), n_copula=100)
    csv, js = ev.write_evaluation(res, tmp_path / "e", inputs={"seed": 0})
    t = pd.read_csv(csv, index_col=0)
    assert list(t.index) == ["scenarios", "history", "copula"]
    assert ev.read_evaluation(tmp_path / "e")["inputs"] == {"seed": 0}
    assert [p.name for p in (tmp_path / "e").iterdir() if p.name.startswith(".")] == []


# ---------------------------------------------------------------------- CLI


@pytest.fixture
def run_setup(tmp_path, days):
    """A run dir (split only), a scenario dir pointing at it and the measurement CSV."""
    train, held, scen = days
    run = tmp_path / "run"
    save_split(run, _profiles(train, "2020-01-01"), _profiles(held, "2020-03-01"))
    sdir = tmp_path / "scen"
    write_scenarios(_set(scen, source_run=str(run)), sdir)
    csv = write_measurement_csv(tmp_path / "wind.csv", held, start="2020-03-01", sites=SITES)
    return run, sdir, csv


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_evaluate_run_dir(run_setup):
    run, sdir, _ = run_setup
    r = _invoke("evaluate", sdir, "--against", run, "--n-copula", 100, "--seed", 3)
    assert r.exit_code == 0, r.output
    assert "copula" in r.output and "ratio to history" in r.output
    t = pd.read_csv(sdir / "evaluation.csv", index_col=0)
    assert list(t.index) == ["scenarios", "history", "copula"]
    j = json.loads((sdir / "evaluation.json").read_text())
    assert j["seed"] == 3 and j["inputs"]["against_kind"] == "run_dir"
    assert j["heldout_nn_distance"] > 0 and set(j["ratios"]) == {"scenarios", "history", "copula"}


def test_cli_evaluate_csv_and_out(run_setup, tmp_path):
    run, sdir, csv = run_setup
    out = tmp_path / "evalout"
    r = _invoke("evaluate", sdir, "--against", csv, "--out", out, "--no-references")
    assert r.exit_code == 0, r.output
    j = json.loads((out / "evaluation.json").read_text())
    assert j["inputs"]["against_kind"] == "csv" and list(j["table"]) == ["scenarios"]
    assert j["table"]["scenarios"]["nn_distance"] is not None  # train from source_run
    assert not (sdir / "evaluation.json").exists()


def test_cli_evaluate_config(run_setup, tmp_path):
    run, sdir, _ = run_setup
    cfg = tmp_path / "c.yaml"
    cfg.write_text("evaluate:\n  n_copula: 50\n  references: false\n  decision: storage\n")
    r = _invoke("evaluate", sdir, "--against", run, "--config", cfg)
    assert r.exit_code == 0, r.output
    j = json.loads((sdir / "evaluation.json").read_text())
    assert list(j["table"]) == ["scenarios"] and j["inputs"]["n_copula"] == 50


def test_evaluate_config_decision_keys():
    """The ``evaluate`` section holds the decision test's keys too (the schema of ``scengen
    run``); without them no decision test."""
    from scengen.config import from_dict

    cfg = from_dict(ev.EvaluateConfig, {"decision": "storage", "decision_ks": [2]})
    assert cfg.decision == "storage" and cfg.decision_ks == [2]
    assert ev.EvaluateConfig().decision is None
    assert ev.EvaluateConfig().decision_ks == [1, 5, 10, 20]
    with pytest.raises(ScengenError, match="evaluate.decision = 'battery'"):
        from_dict(ev.EvaluateConfig, {"decision": "battery"})


def _assert_error(r, *words):
    assert r.exit_code == 1, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    assert "Traceback" not in r.output
    for w in words:
        assert w in lines[0], lines[0]


def test_cli_evaluate_errors(run_setup, tmp_path, days):
    run, sdir, csv = run_setup
    train, held, scen = days
    out = tmp_path / "never"
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_error(_invoke("evaluate", tmp_path / "nope", "--against", run, "--out", out), "nope")
    _assert_error(_invoke("evaluate", empty, "--against", run, "--out", out), "scenario")
    _assert_error(_invoke("evaluate", sdir, "--against", tmp_path / "x", "--out", out), "x")
    _assert_error(_invoke("evaluate", sdir, "--against", empty, "--out", out), "run directory")
    # steps differ
    s12 = tmp_path / "s12"
    write_scenarios(_set(scen[:, :, :12]), s12)
    _assert_error(_invoke("evaluate", s12, "--against", run, "--out", out), "steps")
    # sites differ
    other = tmp_path / "other"
    write_scenarios(_set(scen, sites=["a", "b"]), other)
    _assert_error(_invoke("evaluate", other, "--against", run, "--out", out), "sites")
    # CSV with other sites
    bad = write_measurement_csv(tmp_path / "o.csv", held, sites=["p", "q"])
    _assert_error(_invoke("evaluate", sdir, "--against", bad, "--out", out), "wf1")
    nots = tmp_path / "n.csv"
    nots.write_text("a,b\n1,2\n")
    _assert_error(_invoke("evaluate", sdir, "--against", nots, "--out", out), "timestamp")
    # bad options / config
    _assert_error(
        _invoke("evaluate", sdir, "--against", run, "--n-copula", 0, "--out", out), "n_copula"
    )
    _assert_error(
        _invoke("evaluate", sdir, "--against", run, "--capacity", 2, "--out", out), "--capacity"
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("evaluate:\n  bogus: 1\n")
    _assert_error(
        _invoke("evaluate", sdir, "--against", run, "--config", cfg, "--out", out), "bogus"
    )
    afile = tmp_path / "afile"
    afile.write_text("x")
    _assert_error(_invoke("evaluate", sdir, "--against", run, "--out", afile), "afile")
    assert afile.read_text() == "x"
    assert not out.exists()
    assert not (sdir / "evaluation.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_cli_evaluate_help():
    r = _invoke("evaluate", "--help")
    assert r.exit_code == 0 and "scengen evaluate runs/wind/scenarios --against runs/wind" in (
        r.output
    )


def test_heldout_from(run_setup, days, tmp_path):
    run, sdir, csv = run_setup
    train, held, scen = days
    h, t = ev.heldout_from(run)
    np.testing.assert_allclose(h.values, held)
    np.testing.assert_allclose(t.values, train)
    # a CSV in MW is scaled with the scenarios' capacities; no source_run: no training days
    caps = np.array([2.0, 4.0])
    mw = write_measurement_csv(
        tmp_path / "mw.csv", held * caps[None, :, None], start="2020-03-01", sites=SITES
    )
    ss = ScenarioSet(scen, sites=SITES, capacities=caps, units="MW")
    h2, t2 = ev.heldout_from(mw, ss)
    assert t2 is None
    np.testing.assert_allclose(h2.values, held, atol=1e-12)
    # source_run recorded: training days come from that run
    ss.metadata["source_run"] = str(run)
    h3, t3 = ev.heldout_from(mw, ss)
    np.testing.assert_allclose(t3.values, train)
    assert h3.metadata["n_in_train"] == 0


def test_cli_evaluate_scen_dir_is_a_file(run_setup, tmp_path):
    run, _, csv = run_setup
    _assert_error(_invoke("evaluate", csv, "--against", run), "scenario directory")


def test_cli_evaluate_csv_missing_source_run(run_setup, days, tmp_path):
    _, _, csv = run_setup
    sdir = tmp_path / "lost"
    write_scenarios(_set(days[2], source_run=str(tmp_path / "gone")), sdir)
    r = _invoke("evaluate", sdir, "--against", csv)
    assert r.exit_code == 0, r.output
    assert "no references" in r.output
    j = json.loads((sdir / "evaluation.json").read_text())
    assert list(j["table"]) == ["scenarios"] and j["table"]["scenarios"]["nn_distance"] is None
