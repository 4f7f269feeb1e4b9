"""The storage decision test: the LP against hand-computed optima, and the test table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scengen.decision import (
    DecisionResult,
    StorageProblem,
    decision_test,
    demand_profile,
    evaluate_decision,
    net_output,
    read_decision,
    solve_storage,
    write_decision,
)
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet


def _days(n, seed):
    """Smooth random 2-site daily profiles in [0, 1], shape (n, 2, 24)."""
    rng = np.random.default_rng(seed)
    t = np.arange(24) / 24
    level = rng.uniform(0.05, 0.8, (n, 1, 1))
    wave = 0.2 * np.sin(2 * np.pi * t + rng.uniform(0, 2 * np.pi, (n, 1, 1)))
    return np.clip(level + wave + 0.05 * rng.standard_normal((n, 2, 24)), 0, 1)


def _set(g, p=None, step_minutes=60):
    """Scenarios of one site from a (n, t) array of outputs [p.u.]."""
    g = np.asarray(g, float)
    return ScenarioSet(g[:, None, :], probabilities=p, sites=["a"], step_minutes=step_minutes)


# the tiny problems: battery costs c_E = 10, c_P = 5, no wear cost, lossless unless stated
def _tiny(**kw):
    base = dict(
        demand=[0.0, 1.0],
        energy_cost=10.0,
        power_cost=5.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        import_price=0.0,
        import_cap=0.0,
        unserved_penalty=20.0,
        discharge_cost=0.0,
    )
    base.update(kw)
    return StorageProblem(**base)


def test_deterministic_with_losses():
    """One scenario, 2 hours: output g = (1, 0), demand D = (0, 0.5), no imports, penalty 1000.

    Serving the 0.5 p.u.·h of hour 2 from the battery costs c_E/eta_d + c_P/(eta_c eta_d) per
    unit (15-ish), far below the penalty, so all of it is served: discharge d = 0.5, the state of
    charge drops by d / eta_d = 0.5 / 0.9 -> E = 0.5556; it is refilled in hour 1 by a charge
    c with eta_c c = 0.5556 -> c = 0.6173 <= surplus 1, and P = max(c, d) = 0.6173.
    Cost = 10 * 0.5556 + 5 * 0.6173 = 8.642; no second-stage cost.
    """
    pb = _tiny(
        demand=[0.0, 0.5], charge_efficiency=0.9, discharge_efficiency=0.9, unserved_penalty=1000.0
    )
    d = solve_storage(_set([[1.0, 0.0]]), pb)
    e_star, p_star = 0.5 / 0.9, 0.5 / 0.81
    assert d.energy_capacity == pytest.approx(e_star, abs=1e-6)
    assert d.power_capacity == pytest.approx(p_star, abs=1e-6)
    assert d.expected_cost == pytest.approx(10 * e_star + 5 * p_star, abs=1e-6)
    assert d.first_stage_cost == pytest.approx(d.expected_cost, abs=1e-6)
    assert d.second_stage_cost == pytest.approx(0.0, abs=1e-6)
    assert d.expected["discharged"] == pytest.approx(0.5, abs=1e-6)
    assert d.expected["curtailed"] == pytest.approx(1.0 - p_star, abs=1e-6)
    assert d.n_scenarios == 1


@pytest.mark.parametrize(
    "penalty, e_star, cost",
    [
        # p_A * penalty = 0.5 * 20 = 10 < c_E + c_P = 15: no battery, all 1 p.u.·h unserved
        (20.0, 0.0, 20.0),
        # 0.5 * 40 = 20 > 15: battery x = 1 serves scenario A; cost 15 + 0.5 * 40 (B unserved)
        (40.0, 1.0, 35.0),
    ],
)
def test_two_scenarios_probability_weighted(penalty, e_star, cost):
    """Two scenarios, p = (0.5, 0.5): A has g = (1, 0), B has g = (0, 0); demand (0, 1).

    A battery of size x (E = P = x, lossless) serves min(x, 1) of hour 2 in A only (in B nothing
    can charge it). Expected cost 15 x + penalty (0.5 (1 - x) + 0.5): linear in x, so x = 1 if
    0.5 penalty > 15 else x = 0.
    """
    ss = _set([[1.0, 0.0], [0.0, 0.0]], p=[0.5, 0.5])
    pb = _tiny(unserved_penalty=penalty)
    d = solve_storage(ss, pb)
    assert d.energy_capacity == pytest.approx(e_star, abs=1e-6)
    assert d.power_capacity == pytest.approx(e_star, abs=1e-6)
    assert d.expected_cost == pytest.approx(cost, abs=1e-6)
    # in-sample cost = evaluating the decision on the same set
    assert evaluate_decision(d, ss, pb) == pytest.approx(cost, abs=1e-6)
    # out of sample on scenario B only: the battery is paid for but useless -> 15 x + penalty
    assert evaluate_decision(d, _set([[0.0, 0.0]]), pb) == pytest.approx(15 * e_star + penalty)


def test_weights_matter():
    """Same two scenarios with p = (0.8, 0.2) and penalty 20: 0.8 * 20 = 16 > 15 -> x = 1,
    cost 15 + 0.2 * 20 = 19."""
    d = solve_storage(_set([[1.0, 0.0], [0.0, 0.0]], p=[0.8, 0.2]), _tiny())
    assert d.energy_capacity == pytest.approx(1.0, abs=1e-6)
    assert d.expected_cost == pytest.approx(19.0, abs=1e-6)


def test_imports_charge_the_battery():
    """No renewable output, demand (0, 1), imports capped at 0.6 p.u. at price 1, penalty 100.

    Hour 2 imports 0.6; the missing 0.4 comes from a battery charged by imports in hour 1
    (0.4 <= cap): E = P = 0.4, cost 15 * 0.4 + 1 * (0.4 + 0.6) = 7 (vs 0.4 * 100 unserved).
    """
    pb = _tiny(import_cap=0.6, import_price=1.0, unserved_penalty=100.0)
    d = solve_storage(_set([[0.0, 0.0]]), pb)
    assert d.energy_capacity == pytest.approx(0.4, abs=1e-6)
    assert d.power_capacity == pytest.approx(0.4, abs=1e-6)
    assert d.expected_cost == pytest.approx(7.0, abs=1e-6)
    assert d.expected["import"] == pytest.approx(1.0, abs=1e-6)
    assert d.expected["unserved"] == pytest.approx(0.0, abs=1e-6)


def test_curtailment_cost_and_time_varying_price():
    """g = (1, 0, 0), demand (0, 0.5, 0.5), price (0, 0, 50) per hour, no import cap limit.

    Battery (lossless) vs imports: serving hour 3 from storage saves 50 per p.u.·h, costs
    c_E + c_P = 15 at most; hour 2 imports are free. So store 0.5 for hour 3: E = P = 0.5,
    curtail the other 0.5 of hour 1 at curtailment cost 2 -> cost 7.5 + 1.0 = 8.5.
    """
    pb = _tiny(
        demand=[0.0, 0.5, 0.5],
        import_price=[0.0, 0.0, 50.0],
        import_cap=10.0,
        unserved_penalty=1000.0,
        curtailment_cost=2.0,
    )
    d = solve_storage(_set([[1.0, 0.0, 0.0]]), pb)
    assert d.energy_capacity == pytest.approx(0.5, abs=1e-6)
    assert d.power_capacity == pytest.approx(0.5, abs=1e-6)
    assert d.expected_cost == pytest.approx(8.5, abs=1e-6)
    assert d.expected["curtailed"] == pytest.approx(0.5, abs=1e-6)


def test_max_capacity_bounds_and_step_length():
    """Half-hour steps: energies are power x 0.5 h. With E capped at 0.1 p.u.·h the battery
    serves 0.1 p.u.·h of the deficit 0.5 p.u. x 0.5 h = 0.25 p.u.·h; P = 0.1 / 0.5 h = 0.2."""
    pb = _tiny(demand=[0.0, 0.5], unserved_penalty=1000.0, max_energy=0.1)
    d = solve_storage(_set([[1.0, 0.0]], step_minutes=30), pb)
    assert d.energy_capacity == pytest.approx(0.1, abs=1e-6)
    assert d.power_capacity == pytest.approx(0.2, abs=1e-6)
    assert d.expected_cost == pytest.approx(10 * 0.1 + 5 * 0.2 + 1000 * 0.15, abs=1e-6)


def test_net_output_and_default_demand():
    ss = ScenarioSet(
        np.stack([np.full((1, 24), 1.0), np.zeros((1, 24))], axis=1),
        sites=["a", "b"],
        capacities=[3.0, 1.0],
    )
    np.testing.assert_allclose(net_output(ss), 0.75)
    dem = demand_profile(StorageProblem(), ss)
    assert dem.shape == (24,)
    assert dem[12] == pytest.approx(0.30) and dem[18] == pytest.approx(0.45)
    # 24 hourly values expand to 15-min steps
    q = ScenarioSet(np.zeros((1, 1, 96)), step_minutes=15)
    hourly = list(range(24))
    np.testing.assert_allclose(
        demand_profile(StorageProblem(demand=hourly), q)[:8], [0] * 4 + [1] * 4
    )


def test_decision_test_table(tmp_path):
    rng = np.random.default_rng(0)
    full = ScenarioSet(_days(120, 5), sites=["s1", "s2"])
    held = ScenarioSet(_days(30, 6), sites=["s1", "s2"])
    reduced = {k: full.subset(rng.choice(120, k, replace=False)) for k in (5, 1)}
    res = decision_test(full, held, reduced, references={"history": held.subset(range(10))})
    t = res.table
    assert list(t["set"]) == [
        "full (N=120)",
        "K=1",
        "K=5",
        "history",
        "held-out days (oracle, n=30)",
    ]
    assert list(t["kind"]) == ["full", "reduced", "reduced", "reference", "oracle"]
    assert t["gap_to_full"].iloc[0] == 0.0
    np.testing.assert_allclose(t["gap"], t["out_of_sample_cost"] - t["in_sample_cost"])
    # the oracle decision is optimal for the held-out days: no decision does better there
    assert (t["out_of_sample_cost"] >= t["out_of_sample_cost"].iloc[-1] - 1e-6).all()
    # the full set's decision is optimal for the full set
    assert (t["cost_on_full"] >= t["cost_on_full"].iloc[0] - 1e-6).all()
    d = res.to_dict()
    json.dumps(d)  # JSON-able
    back = DecisionResult.from_dict(d)
    np.testing.assert_allclose(back.table["out_of_sample_cost"], t["out_of_sample_cost"])
    assert back.n_heldout == 30
    write_decision(res, tmp_path / "job")
    again = read_decision(tmp_path / "job")
    assert list(again.table["set"]) == list(t["set"])
    np.testing.assert_allclose(again.table["energy_capacity"], t["energy_capacity"], rtol=1e-9)
    assert (tmp_path / "job" / "decision.csv").is_file()
    with pytest.raises(FileNotFoundError):
        read_decision(tmp_path / "nothing")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ScengenError, match="does not hold"):
        read_decision(tmp_path / "bad.json")


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(energy_cost=-1.0), "energy_cost"),
        (dict(charge_efficiency=0.0), r"charge_efficiency = 0.0 must be in \(0, 1\]"),
        (dict(import_cap=float("nan")), "import_cap"),
        (dict(unserved_penalty="high"), "unserved_penalty"),
        (dict(max_power=-0.1), "max_power"),
    ],
)
def test_bad_parameters(kw, match):
    with pytest.raises(ScengenError, match=match):
        StorageProblem(**kw)


def test_bad_inputs():
    ss = _set([[1.0, 0.0]])
    with pytest.raises(ScengenError, match="demand has 3 values"):
        solve_storage(ss, StorageProblem(demand=[0.1, 0.2, 0.3]))
    with pytest.raises(ScengenError, match="demand"):
        solve_storage(ss, StorageProblem(demand=[0.1, -0.2]))
    with pytest.raises(ScengenError, match="import_price"):
        solve_storage(ss, StorageProblem(import_price=[1.0, float("inf")]))
    with pytest.raises(ScengenError, match="must be a ScenarioSet"):
        solve_storage(np.zeros((1, 1, 2)))
    with pytest.raises(ScengenError, match="must be a StorageProblem"):
        solve_storage(ss, {"energy_cost": 1})
    with pytest.raises(ScengenError, match="energy capacity E"):
        evaluate_decision((-1.0, 0.5), ss)
    with pytest.raises(ScengenError, match="decision must be"):
        evaluate_decision("big", ss)
    other = ScenarioSet(np.zeros((3, 1, 24)), sites=["a"])
    with pytest.raises(ScengenError, match="different steps"):
        decision_test(ss, other)
    with pytest.raises(ScengenError, match="different sites"):
        decision_test(other, ScenarioSet(np.zeros((3, 1, 24)), sites=["b"]))


def test_unsolvable_lp_is_an_error(monkeypatch):
    """A solver failure (here: a forced iteration limit) is reported, never returned."""
    import scengen.decision as dec

    real = dec.linprog
    monkeypatch.setattr(
        dec, "linprog", lambda *a, **k: real(*a, **{**k, "options": {"time_limit": 0.0}})
    )
    with pytest.raises(ScengenError, match="storage LP was not solved"):
        solve_storage(_set([[1.0, 0.0, 0.2]]), StorageProblem(demand=[0.1, 0.5, 0.2]))
