"""Scenario reduction (Wasserstein k-medoids): library and ``scengen reduce``."""

from __future__ import annotations

import itertools
import json
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import synthetic_days

import scengen.reduce as red
from scengen.cli import cli
from scengen.errors import ScengenError
from scengen.reduce import ReduceOptions, reduce_scenarios, reduction_curve, wasserstein
from scengen.reduce._costs import _Costs, _State
from scengen.scenarios import ScenarioSet, read_scenarios, write_scenarios


def _set(n=120, sites=2, seed=3, probs=None):
    return ScenarioSet(
        synthetic_days(n, sites, 24, seed=seed),
        probabilities=probs,
        sites=[f"wf{j + 1}" for j in range(sites)],
    )


def _objective(ss, medoids, metric="euclidean", p=1):
    X = ss.flat()
    diff = X[:, None, :] - X[None, medoids, :]
    c = np.sqrt((diff**2).sum(-1)) if metric == "euclidean" else np.abs(diff).sum(-1)
    return float(ss.probabilities @ (c**p).min(axis=1))


# ----------------------------------------------------------------------------- library


@pytest.mark.parametrize("metric,p", [("euclidean", 1), ("euclidean", 2), ("cityblock", 1)])
def test_distance_agrees_with_ot_emd2(metric, p):
    rng = np.random.default_rng(0)
    probs = rng.uniform(0.2, 1.0, 150)
    ss = _set(150, probs=probs / probs.sum())
    res = reduce_scenarios(ss, 7, metric=metric, p=p)
    assert res.distance_exact is not None
    assert abs(res.distance - res.distance_exact) <= 1e-6 * res.distance
    assert res.info["verified"] is True
    # independent check: POT between the full set and the reduced set as written
    w = wasserstein(ss, res.reduced, metric=metric, p=p)
    assert w == pytest.approx(res.distance, rel=1e-6)
    # and the k-medoids objective computed here from scratch
    assert _objective(ss, res.medoids, metric, p) ** (1 / p) == pytest.approx(
        res.distance, rel=1e-9
    )


def test_wasserstein_is_the_one_of_evaluate():
    """``scengen.reduce.wasserstein`` is ``scengen.evaluate.wasserstein``; its two-set form
    (metric and p by position too) is the evaluate form with the second set in third place."""
    import scengen.evaluate as ev

    assert wasserstein is ev.wasserstein
    ss = _set(60)
    reduced = reduce_scenarios(ss, 4).reduced
    w = wasserstein(ss, reduced, "cityblock", 2)
    assert w == wasserstein(ss, reduced, metric="cityblock", p=2)
    assert w == wasserstein(ss, None, reduced, None, metric="cityblock", p=2)
    assert wasserstein(ss, reduced) == ev.wasserstein(ss.values, ss.probabilities, reduced)
    with pytest.raises(ScengenError, match="metric = 'cosine'"):
        wasserstein(ss, reduced, metric="cosine")
    with pytest.raises(ScengenError, match="p = 3"):
        wasserstein(ss, None, reduced, p=3)
    other = ScenarioSet(reduced.values, sites=["x", "y"])
    with pytest.raises(ScengenError, match="different sites"):
        wasserstein(ss, other)


def test_result_is_consistent():
    ss = _set(100)
    res = reduce_scenarios(ss, 5)
    r = res.reduced
    assert r.n_scenarios == 5 and len(set(res.medoids.tolist())) == 5
    np.testing.assert_array_equal(r.ids, ss.ids[res.medoids])
    np.testing.assert_allclose(r.values, ss.values[res.medoids])
    # each scenario is assigned to its nearest medoid, masses are the cluster probabilities
    X = ss.flat()
    d = np.linalg.norm(X[:, None, :] - X[None, res.medoids, :], axis=-1)
    np.testing.assert_allclose(d[np.arange(100), res.assignment], d.min(axis=1), atol=1e-12)
    np.testing.assert_allclose(
        r.probabilities, np.bincount(res.assignment, weights=ss.probabilities, minlength=5)
    )
    assert r.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(r.probabilities) <= 1e-15)  # most probable first
    assert r.metadata["kind"] == "reduced" and r.metadata["k"] == 5
    assert r.metadata["distance"] == res.distance and r.metadata["method"] == "pam"
    assert res.curve[5] == pytest.approx(res.distance)


def test_probabilities_are_weights():
    """Duplicating a scenario and doubling its probability gives the same reduction."""
    base = synthetic_days(80, 2, 24, seed=5)
    p = np.full(80, 1.0 / 81)
    p[7] *= 2
    a = ScenarioSet(base, probabilities=p)
    b = ScenarioSet(np.concatenate([base, base[7:8]]), probabilities=np.full(81, 1.0 / 81))
    for method in ("pam", "forward"):
        ra = reduce_scenarios(a, 6, method=method)
        rb = reduce_scenarios(b, 6, method=method)
        assert ra.distance == pytest.approx(rb.distance, rel=1e-9)
        va = {
            tuple(np.round(v.ravel(), 12)): q
            for v, q in zip(ra.reduced.values, ra.reduced.probabilities, strict=False)
        }
        vb = {
            tuple(np.round(v.ravel(), 12)): q
            for v, q in zip(rb.reduced.values, rb.reduced.probabilities, strict=False)
        }
        assert va.keys() == vb.keys()
        for key in va:
            assert va[key] == pytest.approx(vb[key], rel=1e-9)


def test_weights_change_the_result():
    ss = _set(60)
    p = np.full(60, 0.1 / 59)
    p[11] = 0.9
    res = reduce_scenarios(ScenarioSet(ss.values, probabilities=p), 3)
    assert 11 in res.medoids.tolist()
    assert res.reduced.probabilities[0] >= 0.9


def test_zero_probability_scenarios_are_never_medoids():
    ss = _set(50)
    p = np.full(50, 1.0 / 40)
    p[:10] = 0.0
    res = reduce_scenarios(ScenarioSet(ss.values, probabilities=p), 4)
    assert np.all(res.medoids >= 10)
    assert len(res.assignment) == 50


def test_deterministic_for_a_seed():
    ss = _set(300)
    a, b = reduce_scenarios(ss, 6, seed=4), reduce_scenarios(ss, 6, seed=4)
    np.testing.assert_array_equal(a.medoids, b.medoids)
    np.testing.assert_array_equal(a.reduced.probabilities, b.reduced.probabilities)
    # the sampling path too
    opts = ReduceOptions(full_matrix_max_n=100, relax_sample=80)
    a = reduce_scenarios(ss, 6, seed=4, options=opts)
    b = reduce_scenarios(ss, 6, seed=4, options=opts)
    np.testing.assert_array_equal(a.medoids, b.medoids)
    assert a.info["algorithm"]["strategy"] == "full-set swaps, local candidates"


def test_pam_is_swap_optimal_and_beats_forward():
    ss = _set(40, seed=8)
    res = reduce_scenarios(ss, 3)
    fwd = reduce_scenarios(ss, 3, method="forward")
    assert res.distance <= fwd.distance * (1 + 1e-12)
    best = _objective(ss, res.medoids)
    assert best == pytest.approx(res.distance, rel=1e-9)
    # no single swap of a medoid for another scenario improves
    for j, c in itertools.product(range(3), range(40)):
        if c in res.medoids:
            continue
        m = res.medoids.copy()
        m[j] = c
        assert _objective(ss, m) >= best - 1e-12


def test_pam_matches_brute_force_on_a_tiny_set():
    ss = _set(14, seed=2)
    best = min(_objective(ss, list(c)) for c in itertools.combinations(range(14), 3))
    assert reduce_scenarios(ss, 3).distance == pytest.approx(best, rel=1e-9)


def test_forward_curve_decreases_and_is_greedy():
    ss = _set(60)
    curve = reduction_curve(ss, range(1, 9), method="forward")
    vals = [curve[k] for k in range(1, 9)]
    assert all(a >= b for a, b in zip(vals, vals[1:], strict=False))
    # the first forward scenario is the best single scenario (1-medoid)
    best1 = min(_objective(ss, [i]) for i in range(60))
    assert curve[1] == pytest.approx(best1, rel=1e-9)
    res = reduce_scenarios(ss, 8, method="forward")
    assert res.distance == pytest.approx(curve[8], rel=1e-9)


def test_sampling_paths():
    ss = _set(400)
    full = reduce_scenarios(ss, 6)
    opts = ReduceOptions(
        full_matrix_max_n=150,
        relax_sample=120,
        forward_max_pairs=150 * 400,
        forward_min_candidates=50,
    )
    sampled = reduce_scenarios(ss, 6, options=opts)
    assert sampled.distance_exact == pytest.approx(sampled.distance, rel=1e-6)
    assert sampled.distance <= full.distance * 1.03
    one = reduce_scenarios(ss, 1, options=opts)
    best1 = min(_objective(ss, [i]) for i in range(400))
    assert one.distance == pytest.approx(best1, rel=1e-6)
    fwd = reduce_scenarios(ss, 6, method="forward", options=opts)
    assert fwd.info["algorithm"]["candidates"] < 400
    assert fwd.distance_exact == pytest.approx(fwd.distance, rel=1e-6)


@pytest.mark.parametrize("method", ["pam", "forward"])
def test_max_distance(method):
    ss = _set(150)
    d5 = reduce_scenarios(ss, 5, method=method).distance
    res = reduce_scenarios(ss, max_distance=d5 * 1.0001, method=method)
    k = len(res.medoids)
    assert res.distance <= d5 * 1.0001
    assert k <= 5
    assert res.curve[k] == pytest.approx(res.distance)
    assert k == 1 or res.curve[k - 1] > d5 * 1.0001  # the smallest K reaching it
    assert res.info["max_distance"] == pytest.approx(d5 * 1.0001)
    assert res.info["curve_forward"][1] >= res.distance


def test_max_distance_relative():
    ss = _set(150)
    res = reduce_scenarios(ss, max_distance="50%")
    d1 = res.info["curve_forward"][1]
    assert res.info["max_distance"] == pytest.approx(0.5 * d1)
    assert res.distance <= 0.5 * d1
    assert reduce_scenarios(ss, 1).distance == pytest.approx(d1, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"k": 0}, "k = 0"),
        ({"k": -2}, "k = -2"),
        ({"k": 30}, "between 1 and 29"),
        ({"k": 31}, "k = 31"),
        ({"k": 2.5}, "integer"),
        ({}, "exactly one"),
        ({"k": 3, "max_distance": 0.1}, "exactly one"),
        ({"k": 3, "method": "kmeans"}, "method = 'kmeans'"),
        ({"k": 3, "metric": "cosine"}, "metric = 'cosine'"),
        ({"k": 3, "p": 3}, "p = 3"),
        ({"max_distance": -1.0}, "positive"),
        ({"max_distance": 0}, "positive"),
        ({"max_distance": "abc"}, "not understood"),
        ({"max_distance": "150%"}, "at most 100%"),
        ({"max_distance": 1e-9}, "not reached"),
    ],
)
def test_bad_arguments(kwargs, match):
    ss = _set(30)
    with pytest.raises(ScengenError, match=match):
        reduce_scenarios(ss, **kwargs)


@pytest.mark.parametrize("metric,p", [("euclidean", 1), ("euclidean", 2), ("cityblock", 1)])
def test_swap_gains_are_exact(metric, p):
    """The blockwise swap gains (all scenarios, or only those a candidate can affect) equal the
    change of the objective computed from scratch."""
    rng = np.random.default_rng(1)
    X = synthetic_days(70, 2, 24, seed=9).reshape(70, -1)
    w = rng.uniform(0.5, 1.5, 70)
    w /= w.sum()
    costs = _Costs(X, metric, p)
    state = _State(costs, w, np.array([1, 20, 40]))
    C = np.array([5, 6, 33, 69])
    exact = costs.exact(C)
    G = state.gains(C, costs.block(C))
    rows = np.flatnonzero((exact < state.d2[:, None]).any(axis=1))
    assert len(rows) < 70
    G_rows = state.gains(C, costs.block(C, rows), rows=rows)
    for b, j in itertools.product(range(len(C)), range(3)):
        m = state.medoids.copy()
        m[j] = C[b]
        delta = float(w @ costs.exact(m).min(axis=1)) - state.obj
        assert G[b, j] == pytest.approx(delta, abs=1e-5 * state.obj)
        assert G_rows[b, j] == pytest.approx(delta, abs=1e-5 * state.obj)


def test_threads_and_caches_do_not_change_the_result():
    """The screening and the relaxation restarts give the same medoids on 1 or 2 threads, with
    the candidate cost cache on (evicting) as well."""
    ss = _set(400)
    opts = ReduceOptions(
        full_matrix_max_n=100,
        relax_sample=150,
        screen_sample=120,
        screen_block=16,
        row_cache_min_dim=1,
        row_cache_bytes=4 * 400 * 120,
    )
    runs = []
    for threads in (1, 2):
        runs.append(reduce_scenarios(ss, 6, seed=5, options=replace(opts, threads=threads)))
    np.testing.assert_array_equal(runs[0].medoids, runs[1].medoids)
    assert runs[0].distance == runs[1].distance


def test_cost_cache_assign_and_incremental_update():
    X = synthetic_days(90, 2, 24, seed=11).reshape(90, -1)
    w = np.random.default_rng(2).uniform(0.5, 1.5, 90)
    w /= w.sum()
    # a cache of 12 rows: evictions
    opts = ReduceOptions(row_cache_min_dim=1, row_cache_bytes=4 * 90 * 12)
    costs = _Costs(X, "euclidean", 1, opts)
    exact = costs.exact(np.arange(90))
    for C in (np.array([3, 50, 7]), np.array([8, 3, 60, 61, 62, 63]), np.array([50, 9])):
        rows = np.array([0, 3, 5, 50, 89])
        np.testing.assert_allclose(costs.rows_to(C, rows), exact[rows][:, C].T, atol=1e-5)
        np.testing.assert_array_equal(costs.rows_to(C)[np.arange(len(C)), C], 0.0)
    # nearest medoid and its float64 cost from differences
    med = np.array([4, 30, 31, 77])
    a, c = costs.assign(med)
    np.testing.assert_array_equal(a, np.argmin(costs.exact(med), axis=1))
    np.testing.assert_allclose(c, costs.exact(med).min(axis=1), rtol=1e-12)
    # the assignment updated swap by swap equals the one computed afresh
    state = _State(costs, w, med)
    for j, cand in [(0, 5), (2, 60), (0, 4), (3, 31 + 1)]:
        state.swap(j, cand)
        fresh = _State(costs, w, state.medoids)
        np.testing.assert_allclose(state.d1, fresh.d1, atol=1e-12)
        np.testing.assert_allclose(state.d2, fresh.d2, atol=1e-12)
        np.testing.assert_array_equal(state.medoids[state.nearest], fresh.medoids[fresh.nearest])
        assert state.obj == pytest.approx(fresh.obj, rel=1e-12)


def test_memory_bound_is_modest():
    assert red.memory_bound(100_000, 168, 20) < 2 * 2**30


def test_options_are_frozen_and_reach_the_estimate():
    opts = ReduceOptions()
    with pytest.raises(FrozenInstanceError):
        opts.threads = 3  # type: ignore[misc]
    small = ReduceOptions(full_matrix_max_n=1000)
    assert red.memory_bound(5000, 168, 20, small) != red.memory_bound(5000, 168, 20)


# ----------------------------------------------------------------------------- CLI


def _run(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_error(r):
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error: ")
    assert r.output.count("\n") == 1, r.output
    assert "Traceback" not in r.output


def _no_output(out: Path):
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


@pytest.fixture
def scen_dir(tmp_path):
    ss = ScenarioSet(
        synthetic_days(90, 2, 24, seed=4),
        sites=["wf1", "wf2"],
        capacities=np.array([10.0, 20.0]),
        units="MW",
        metadata={"kind": "generated", "source": "test"},
    )
    return write_scenarios(ss, tmp_path / "scen")


def test_cli_reduce_directory(scen_dir, tmp_path):
    out = tmp_path / "red"
    r = _run(["reduce", scen_dir, "-k", 6, "--out", out, "--seed", 3])
    assert r.exit_code == 0, r.output
    assert "K = 6" in r.output
    for f in (
        "scenarios.csv",
        "probabilities.csv",
        "metadata.json",
        "assignment.csv",
        "reduction.json",
    ):
        assert (out / f).is_file()
    rs = read_scenarios(out)
    full = read_scenarios(scen_dir)
    assert rs.n_scenarios == 6 and set(rs.ids) <= set(full.ids)
    assert rs.probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    assert rs.units == "MW" and list(rs.capacities) == [10.0, 20.0]
    a = pd.read_csv(out / "assignment.csv")
    assert list(a.columns) == ["scenario", "medoid", "cost"] and len(a) == 90
    assert set(a["medoid"]) == set(rs.ids)
    mass = a.merge(pd.read_csv(scen_dir / "probabilities.csv"), on="scenario")
    mass = mass.groupby("medoid")["probability"].sum()
    np.testing.assert_allclose(mass.reindex(rs.ids).to_numpy(), rs.probabilities, rtol=1e-9)
    rep = json.loads((out / "reduction.json").read_text())
    for key in (
        "method",
        "metric",
        "p",
        "k",
        "distance",
        "distance_exact",
        "curve",
        "seconds",
        "seed",
        "source",
    ):
        assert key in rep
    assert rep["k"] == 6 and rep["seed"] == 3 and rep["source"] == str(scen_dir)
    assert rep["distance_exact"] == pytest.approx(rep["distance"], rel=1e-6)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "reduced" and meta["k"] == 6


def test_cli_reduce_measurement_csv(wind_csv, tmp_path):
    out = tmp_path / "red"
    r = _run(["reduce", wind_csv, "--max-distance", "60%", "--method", "forward", "--out", out])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "reduction.json").read_text())
    assert rep["method"] == "forward" and rep["distance"] <= rep["max_distance"]
    assert rep["n_input"] == 60
    rs = read_scenarios(out)
    assert rs.sites == ["wf1", "wf2"]


def test_cli_reduce_config_and_flags(scen_dir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("reduce:\n  k: 4\n  metric: cityblock\n  p: 2\n  seed: 9\n")
    out = tmp_path / "red"
    r = _run(["reduce", scen_dir, "--config", cfg, "--out", out])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "reduction.json").read_text())
    assert (rep["k"], rep["metric"], rep["p"], rep["seed"]) == (4, "cityblock", 2, 9)
    r = _run(["reduce", scen_dir, "--config", cfg, "--max-distance", "90%", "--out", out])
    assert r.exit_code == 1 and "--overwrite" in r.output, r.output
    args = ["reduce", scen_dir, "--config", cfg, "--max-distance", "90%", "--out", out]
    r = _run([*args, "--overwrite"])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "reduction.json").read_text())
    assert rep["max_distance_requested"] == "90%"


def _edit(scen_dir: Path, tmp_path: Path, name: str, fn) -> Path:
    import shutil

    d = tmp_path / name
    shutil.copytree(scen_dir, d)
    (d / "scenarios.npz").unlink()
    fn(d)
    return d


def test_cli_reduce_normalize(scen_dir, tmp_path):
    def scale(d):
        p = pd.read_csv(d / "probabilities.csv")
        p["probability"] *= 2
        p.to_csv(d / "probabilities.csv", index=False)

    d = _edit(scen_dir, tmp_path, "double", scale)
    out = tmp_path / "red"
    _one_line_error(_run(["reduce", d, "-k", 3, "--out", out]))
    _no_output(out)
    r = _run(["reduce", d, "-k", 3, "--normalize", "--out", out])
    assert r.exit_code == 0, r.output


def _neg_prob(d):
    p = pd.read_csv(d / "probabilities.csv")
    p.loc[0, "probability"] = -p.loc[0, "probability"]
    p.loc[1, "probability"] += 2 * abs(p.loc[0, "probability"])
    p.to_csv(d / "probabilities.csv", index=False)


def _nan_value(d):
    s = pd.read_csv(d / "scenarios.csv")
    s.loc[5, "value"] = np.nan
    s.to_csv(d / "scenarios.csv", index=False)


def _other_sites(d):
    m = json.loads((d / "metadata.json").read_text())
    m["sites"] = ["wf1", "wf9"]
    (d / "metadata.json").write_text(json.dumps(m))


def _missing_step(d):
    s = pd.read_csv(d / "scenarios.csv")
    s[(s["step"] != 23) | (s["scenario"] != 0)].to_csv(d / "scenarios.csv", index=False)


def _other_steps(d):
    s = pd.read_csv(d / "scenarios.csv")
    s[s["step"] != 23].to_csv(d / "scenarios.csv", index=False)


@pytest.mark.parametrize(
    "edit,match",
    [
        (_neg_prob, "negative"),
        (_nan_value, "NaN"),
        (_other_sites, "sites"),
        (_missing_step, "grid"),
        (_other_steps, "24 steps"),
    ],
)
def test_cli_reduce_bad_files(scen_dir, tmp_path, edit, match):
    d = _edit(scen_dir, tmp_path, "bad", edit)
    out = tmp_path / "red"
    r = _run(["reduce", d, "-k", 3, "--out", out])
    _one_line_error(r)
    assert match in r.output
    _no_output(out)


@pytest.mark.parametrize(
    "args,match",
    [
        (["-k", 0], "k = 0"),
        (["-k", 90], "between 1 and 89"),
        (["-k", 200], "k = 200"),
        ([], "exactly one"),
        (["-k", 3, "--method", "kmeans"], "kmeans"),
        (["-k", 3, "--metric", "cosine"], "cosine"),
        (["-k", 3, "--p", 3], "p = 3"),
        (["--max-distance", "-0.5"], "positive"),
        (["--max-distance", "abc"], "not understood"),
        (["--max-distance", "1e-12"], "not reached"),
        (["-k", 3, "--sites", "wf1"], "--sites"),
    ],
)
def test_cli_reduce_bad_arguments(scen_dir, tmp_path, args, match):
    out = tmp_path / "red"
    r = _run(["reduce", scen_dir, *args, "--out", out])
    _one_line_error(r)
    assert match in r.output
    _no_output(out)


def test_cli_reduce_missing_input_and_bad_config(tmp_path, scen_dir):
    out = tmp_path / "red"
    r = _run(["reduce", tmp_path / "nope", "-k", 3, "--out", out])
    _one_line_error(r)
    assert "nope" in r.output
    cfg = tmp_path / "c.yaml"
    cfg.write_text("reduce:\n  kk: 4\n")
    r = _run(["reduce", scen_dir, "--config", cfg, "--out", out])
    _one_line_error(r)
    assert "kk" in r.output
    _no_output(out)


def test_cli_reduce_keeps_previous_output_on_error(scen_dir, tmp_path):
    out = tmp_path / "red"
    assert _run(["reduce", scen_dir, "-k", 4, "--out", out]).exit_code == 0
    before = (out / "reduction.json").read_text()
    _one_line_error(_run(["reduce", scen_dir, "-k", 0, "--out", out]))
    assert (out / "reduction.json").read_text() == before
