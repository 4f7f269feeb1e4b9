"""Decision test: does a scenario set lead to a good *decision*?

A small two-stage stochastic storage-sizing problem is solved with each scenario set (the full
generated set, the reduced sets with K scenarios, references) and the resulting first-stage
decision is then evaluated out of sample on the held-out measured days. A good scenario set gives
a decision whose out-of-sample cost is close to its in-sample (optimised) cost and close to the
out-of-sample cost of the decision taken with the full set (in-sample / out-of-sample stability,
Kaut and Wallace 2007).

The problem
-----------
The sites' combined output, in per-unit of the total capacity,

.. math:: g_{st} = \\frac{\\sum_j x_{sjt} C_j}{\\sum_j C_j}

(scenario :math:`s`, site :math:`j`, step :math:`t`, capacity :math:`C_j`) serves a fixed daily
demand profile :math:`D_t` [p.u.]. First stage: battery energy capacity :math:`E` [p.u.·h] and
power capacity :math:`P` [p.u.] at annualised costs per day :math:`c_E, c_P`. Second stage, per
scenario and step (length :math:`\\Delta` [h]): charge :math:`q^+`, discharge :math:`q^-`, state of
charge :math:`e` (cyclic over the day), imports :math:`m \\le \\bar m` at price :math:`\\pi_t`,
unserved energy :math:`u` at penalty :math:`\\nu`, curtailment :math:`r \\ge 0`:

.. math::

    \\min_{E, P \\ge 0} \\; c_E E + c_P P + \\sum_s p_s \\sum_t \\Delta\\,
        (\\pi_t m_{st} + \\nu u_{st} + \\kappa r_{st} + \\delta q^-_{st})

    \\text{s.t.}\\quad g_{st} + q^-_{st} - q^+_{st} + m_{st} + u_{st} - r_{st} = D_t,

    e_{st} = e_{s,t-1} + \\Delta (\\eta^+ q^+_{st} - q^-_{st} / \\eta^-), \\quad
    e_{s,-1} = e_{s,T-1},

    0 \\le e_{st} \\le E, \\quad 0 \\le q^\\pm_{st} \\le P, \\quad 0 \\le m_{st} \\le \\bar m,
    \\quad u_{st} \\ge 0.

Curtailment is not a separate LP variable: the balance is written as
:math:`g + q^- - q^+ + m + u \\ge D` and :math:`r` is its slack (its cost :math:`\\kappa` is put
on the other terms plus a constant), which keeps the extensive form small: 5 variables and 5
rows per scenario and step. It is solved as one sparse LP with HiGHS
(:func:`scipy.optimize.linprog`, ``method="highs"``).

All energies and powers are per unit of the total renewable capacity: for a 100 MW plant,
``E = 0.5`` p.u.·h is a 50 MWh battery and costs are per day per MW of renewable capacity
(with the default costs read as EUR).

References
----------
M. Kaut and S. W. Wallace, "Evaluation of scenario-generation methods for stochastic
programming", Pacific Journal of Optimization 3(2), 2007, 257-271.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from scengen import _io
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet

__all__ = [
    "StorageProblem",
    "StorageDecision",
    "DecisionResult",
    "net_output",
    "demand_profile",
    "solve_storage",
    "evaluate_decision",
    "decision_test",
    "write_decision",
    "read_decision",
]


#: scenarios per LP when evaluating a fixed decision
EVAL_BLOCK = 200


@dataclass
class StorageProblem:
    """Parameters of the two-stage storage test problem.

    Energies are in p.u.·h and powers in p.u. of the total renewable capacity; costs in currency
    units (the defaults are EUR-like for a plant of 1 MW: p.u.·h = MWh).

    Parameters
    ----------
    demand : float, list of float or None
        Demand [p.u.]: one number (flat), one value per step of the day, or 24 hourly values
        (repeated over the steps of each hour). ``None``: 0.30 p.u. flat with an evening peak of
        0.45 p.u. from 17:00 to 21:00.
    energy_cost : float, default 70.0
        Annualised cost of energy capacity per day [cost / (p.u.·h) / day] (about 250 EUR/kWh
        with a capital recovery factor of 0.10 / year).
    power_cost : float, default 28.0
        Annualised cost of power capacity per day [cost / p.u. / day] (about 100 EUR/kW).
    charge_efficiency : float, default 0.95
        :math:`\\eta^+` in (0, 1].
    discharge_efficiency : float, default 0.95
        :math:`\\eta^-` in (0, 1].
    import_price : float or list of float, default 120.0
        Price of imports [cost / (p.u.·h)]; one number or one value per step (or 24 hourly).
    import_cap : float, default 0.35
        Largest import [p.u.].
    unserved_penalty : float, default 3000.0
        Penalty on unserved energy [cost / (p.u.·h)] (value of lost load).
    curtailment_cost : float, default 0.0
        Cost of curtailed renewable energy [cost / (p.u.·h)].
    discharge_cost : float, default 1.0
        Throughput (wear) cost per discharged energy [cost / (p.u.·h)]; a small value makes the
        dispatch unique (no simultaneous charge and discharge).
    max_energy : float, optional
        Upper bound on :math:`E` [p.u.·h].
    max_power : float, optional
        Upper bound on :math:`P` [p.u.].
    """

    demand: float | list[float] | None = None
    energy_cost: float = 70.0
    power_cost: float = 28.0
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    import_price: float | list[float] = 120.0
    import_cap: float = 0.35
    unserved_penalty: float = 3000.0
    curtailment_cost: float = 0.0
    discharge_cost: float = 1.0
    max_energy: float | None = None
    max_power: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "energy_cost",
            "power_cost",
            "import_cap",
            "unserved_penalty",
            "curtailment_cost",
            "discharge_cost",
        ):
            _check_number(getattr(self, name), f"StorageProblem.{name}", lo=0.0)
        for name in ("charge_efficiency", "discharge_efficiency"):
            v = _check_number(getattr(self, name), f"StorageProblem.{name}")
            if not 0 < v <= 1:
                raise ScengenError(f"StorageProblem.{name} = {v!r} must be in (0, 1]")
        for name in ("max_energy", "max_power"):
            if getattr(self, name) is not None:
                _check_number(getattr(self, name), f"StorageProblem.{name}", lo=0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON / YAML)."""
        return asdict(self)


def _check_number(v: Any, name: str, lo: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ScengenError(f"{name} = {v!r} must be a number")
    v = float(v)
    if not np.isfinite(v):
        raise ScengenError(f"{name} = {v!r} must be a finite number")
    if lo is not None and v < lo:
        raise ScengenError(f"{name} = {v!r} must be >= {lo:g}")
    return v


def _per_step(value: Any, ss: ScenarioSet, name: str) -> np.ndarray:
    """Expand a number / per-step list / 24 hourly values to one value per step."""
    t = ss.n_steps
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        arr = np.full(t, float(value))
    else:
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ScengenError(
                f"{name} = {value!r} must be a number or a list of numbers"
            ) from None
        if arr.size == t:
            pass
        elif arr.size == 24:
            hour = ((ss.start_minute + ss.step_minutes * np.arange(t)) // 60) % 24
            arr = arr[hour]
        else:
            raise ScengenError(
                f"{name} has {arr.size} values; give one number, {t} values (one per step of "
                f"{ss.step_minutes} min) or 24 hourly values"
            )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ScengenError(f"{name} = {arr.tolist()} must be finite and >= 0")
    return arr


def demand_profile(problem: StorageProblem, ss: ScenarioSet) -> np.ndarray:
    """Demand of each step of the day [p.u.] for the steps of ``ss``."""
    if problem.demand is None:
        hour = ((ss.start_minute + ss.step_minutes * np.arange(ss.n_steps)) % 1440) / 60.0
        return np.where((hour >= 17) & (hour < 21), 0.45, 0.30)
    return _per_step(problem.demand, ss, "StorageProblem.demand")


def net_output(ss: ScenarioSet) -> np.ndarray:
    """Combined output of all sites per unit of total capacity, shape ``(n, n_steps)`` [p.u.]."""
    cap = ss.capacities
    return np.einsum("nst,s->nt", ss.values, cap) / cap.sum()


@dataclass
class StorageDecision:
    """Solution of :func:`solve_storage`.

    Attributes
    ----------
    energy_capacity : float
        :math:`E` [p.u.·h].
    power_capacity : float
        :math:`P` [p.u.].
    expected_cost : float
        Optimal objective: first- plus expected second-stage cost [cost / day].
    first_stage_cost : float
        :math:`c_E E + c_P P` [cost / day].
    second_stage_cost : float
        Expected operating cost [cost / day].
    status : str
        HiGHS status message.
    n_scenarios : int
    seconds : float
        Wall time of building and solving the LP [s].
    expected : dict
        Expected daily energies [p.u.·h / day]: ``import``, ``unserved``, ``curtailed``,
        ``discharged``.
    """

    energy_capacity: float
    power_capacity: float
    expected_cost: float
    first_stage_cost: float
    second_stage_cost: float
    status: str = "optimal"
    n_scenarios: int = 0
    seconds: float = 0.0
    expected: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_set(ss: Any, name: str) -> ScenarioSet:
    if not isinstance(ss, ScenarioSet):
        raise ScengenError(f"{name} must be a ScenarioSet, got {type(ss).__name__}")
    return ss


def _second_stage(
    g: np.ndarray,
    p: np.ndarray,
    problem: StorageProblem,
    demand: np.ndarray,
    price: np.ndarray,
    dt: float,
    fixed: tuple[float, float] | None,
) -> tuple[Any, dict[str, Any]]:
    """Build and solve the LP; ``fixed=(E, P)`` solves the second stage only."""
    n, t = g.shape
    m = n * t
    eta_c, eta_d = problem.charge_efficiency, problem.discharge_efficiency
    kappa = problem.curtailment_cost
    nf = 0 if fixed is not None else 2
    # variable blocks: [E, P] + charge, discharge, soc, import, unserved (each n*t, index s*t+t)
    ic, idis, isoc, iimp, iu = (nf + k * m for k in range(5))
    nvar = nf + 5 * m
    w = np.repeat(p, t) * dt  # probability x step length of each (s, t)
    price_st = np.tile(price, n)
    cost = np.zeros(nvar)
    if fixed is None:
        cost[0], cost[1] = problem.energy_cost, problem.power_cost
    # curtailment r = g + dis - ch + imp + u - D (slack of the balance), cost kappa * r
    cost[ic : ic + m] = -kappa * w
    cost[idis : idis + m] = (problem.discharge_cost + kappa) * w
    cost[iimp : iimp + m] = (price_st + kappa) * w
    cost[iu : iu + m] = (problem.unserved_penalty + kappa) * w
    const = float(kappa * np.sum(w * (g.reshape(-1) - np.tile(demand, n))))

    r = np.arange(m)
    ones = np.ones(m)
    # balance as <=:  ch - dis - imp - u <= g - D
    bal = sp.csr_matrix(
        (
            np.concatenate([ones, -ones, -ones, -ones]),
            (np.tile(r, 4), np.concatenate([ic + r, idis + r, iimp + r, iu + r])),
        ),
        shape=(m, nvar),
    )
    b_bal = np.tile(demand, n) - g.reshape(-1)
    b_bal = -b_bal
    # state of charge: soc_t - soc_{t-1} - dt*eta_c*ch_t + dt/eta_d*dis_t = 0 (cyclic per day)
    s_idx, t_idx = np.divmod(r, t)
    prev = s_idx * t + (t_idx - 1) % t
    if t == 1:
        dyn_rows = np.tile(r, 2)
        dyn_cols = np.concatenate([ic + r, idis + r])
        dyn_vals = np.concatenate([-dt * eta_c * ones, dt / eta_d * ones])
    else:
        dyn_rows = np.tile(r, 4)
        dyn_cols = np.concatenate([isoc + r, isoc + prev, ic + r, idis + r])
        dyn_vals = np.concatenate([ones, -ones, -dt * eta_c * ones, dt / eta_d * ones])
    dyn = sp.csr_matrix((dyn_vals, (dyn_rows, dyn_cols)), shape=(m, nvar))

    lb = np.zeros(nvar)
    ub = np.full(nvar, np.inf)
    ub[iimp : iimp + m] = problem.import_cap
    if fixed is None:
        if problem.max_energy is not None:
            ub[0] = problem.max_energy
        if problem.max_power is not None:
            ub[1] = problem.max_power
        # linking rows: soc - E <= 0, ch - P <= 0, dis - P <= 0
        link = sp.csr_matrix(
            (
                np.concatenate([ones, -ones, ones, -ones, ones, -ones]),
                (
                    np.concatenate([r, r, m + r, m + r, 2 * m + r, 2 * m + r]),
                    np.concatenate(
                        [
                            isoc + r,
                            np.zeros(m, int),
                            ic + r,
                            np.ones(m, int),
                            idis + r,
                            np.ones(m, int),
                        ]
                    ),
                ),
            ),
            shape=(3 * m, nvar),
        )
        a_ub = sp.vstack([bal, link], format="csr")
        b_ub = np.concatenate([b_bal, np.zeros(3 * m)])
    else:
        e_fix, p_fix = fixed
        ub[isoc : isoc + m] = e_fix
        ub[ic : ic + m] = p_fix
        ub[idis : idis + m] = p_fix
        a_ub, b_ub = bal, b_bal
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=dyn,
        b_eq=np.zeros(m),
        bounds=np.column_stack([lb, ub]),
        method="highs",
    )
    if res.status != 0 or res.x is None:
        raise ScengenError(f"the storage LP was not solved: {res.message} (status {res.status})")
    x = res.x
    imp = x[iimp : iimp + m]
    uns = x[iu : iu + m]
    dis = x[idis : idis + m]
    ch = x[ic : ic + m]
    curt = np.maximum(g.reshape(-1) + dis - ch + imp + uns - np.tile(demand, n), 0.0)
    info = {
        "objective": float(res.fun) + const,
        "x": x,
        "message": str(res.message),
        "expected": {
            "import": float(w @ imp),
            "unserved": float(w @ uns),
            "curtailed": float(w @ curt),
            "discharged": float(w @ dis),
        },
        "per_scenario": (
            (
                price_st * imp
                + problem.unserved_penalty * uns
                + kappa * curt
                + problem.discharge_cost * dis
            )
            * dt
        )
        .reshape(n, t)
        .sum(axis=1),
    }
    return res, info


def _inputs(ss: ScenarioSet, problem: StorageProblem):
    if not isinstance(problem, StorageProblem):
        raise ScengenError(f"problem must be a StorageProblem, got {type(problem).__name__}")
    demand = demand_profile(problem, ss)
    price = _per_step(problem.import_price, ss, "StorageProblem.import_price")
    return net_output(ss), demand, price, ss.step_minutes / 60.0


def solve_storage(ss: ScenarioSet, problem: StorageProblem | None = None) -> StorageDecision:
    """Solve the two-stage storage problem (extensive form) with the scenarios of ``ss``.

    Parameters
    ----------
    ss : ScenarioSet
        Scenarios with their probabilities (values in p.u. of each site's capacity).
    problem : StorageProblem, optional
        Costs and parameters (defaults: :class:`StorageProblem()`).

    Returns
    -------
    StorageDecision
        Optimal :math:`E` [p.u.·h], :math:`P` [p.u.] and the expected daily cost split into first
        and second stage.

    Raises
    ------
    ScengenError
        Bad parameters, or the LP is not solved to optimality.
    """
    ss = _check_set(ss, "ss")
    problem = StorageProblem() if problem is None else problem
    t0 = time.perf_counter()
    g, demand, price, dt = _inputs(ss, problem)
    res, info = _second_stage(g, ss.probabilities, problem, demand, price, dt, None)
    # clip the solver's round-off (and -0.0) at the lower bound
    e_cap = float(res.x[0]) if res.x[0] > 0 else 0.0
    p_cap = float(res.x[1]) if res.x[1] > 0 else 0.0
    first = problem.energy_cost * e_cap + problem.power_cost * p_cap
    return StorageDecision(
        energy_capacity=e_cap,
        power_capacity=p_cap,
        expected_cost=info["objective"],
        first_stage_cost=first,
        second_stage_cost=info["objective"] - first,
        status=info["message"],
        n_scenarios=ss.n_scenarios,
        seconds=time.perf_counter() - t0,
        expected=info["expected"],
    )


def evaluate_decision(
    decision: StorageDecision | tuple[float, float],
    ss: ScenarioSet,
    problem: StorageProblem | None = None,
    *,
    per_scenario: bool = False,
) -> float | tuple[float, np.ndarray]:
    """Expected cost of a fixed first-stage decision on the scenarios of ``ss``.

    The battery size is fixed and the second stage (the dispatch of each day) is optimised for
    every scenario; the days are independent, so this is one block-diagonal LP.

    Parameters
    ----------
    decision : StorageDecision or (E, P)
        Energy [p.u.·h] and power [p.u.] capacity.
    ss : ScenarioSet
        Scenarios to evaluate on, e.g. the held-out measured days (equal weights).
    problem : StorageProblem, optional
        Must be the problem the decision was taken with.
    per_scenario : bool, default False
        Also return the second-stage cost of each scenario [cost / day].

    Returns
    -------
    float
        First-stage cost plus expected second-stage cost [cost / day] (and the per-scenario
        second-stage costs with ``per_scenario=True``).
    """
    ss = _check_set(ss, "ss")
    problem = StorageProblem() if problem is None else problem
    if isinstance(decision, StorageDecision):
        e_cap, p_cap = decision.energy_capacity, decision.power_capacity
    else:
        try:
            e_cap, p_cap = (float(v) for v in decision)
        except (TypeError, ValueError):
            raise ScengenError(
                f"decision must be a StorageDecision or (E, P), got {decision!r}"
            ) from None
    e_cap = _check_number(e_cap, "energy capacity E", lo=0.0)
    p_cap = _check_number(p_cap, "power capacity P", lo=0.0)
    g, demand, price, dt = _inputs(ss, problem)
    # the days are independent once (E, P) is fixed: solve them in blocks (the simplex time
    # grows faster than linearly with the LP size)
    second, costs = 0.0, []
    for a in range(0, ss.n_scenarios, EVAL_BLOCK):
        sl = slice(a, a + EVAL_BLOCK)
        _, info = _second_stage(
            g[sl], ss.probabilities[sl], problem, demand, price, dt, (e_cap, p_cap)
        )
        second += info["objective"]
        costs.append(info["per_scenario"])
    total = problem.energy_cost * e_cap + problem.power_cost * p_cap + second
    if per_scenario:
        return total, np.concatenate(costs)
    return total


@dataclass
class DecisionResult:
    """Result of :func:`decision_test`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scenario set, columns

        ``set``, ``kind`` (``full`` | ``reduced`` | ``reference`` | ``oracle``), ``n_scenarios``,
        ``energy_capacity`` [p.u.·h], ``power_capacity`` [p.u.], ``first_stage_cost``,
        ``in_sample_cost`` (optimal objective with the set), ``cost_on_full`` (the decision
        evaluated on the full generated set), ``out_of_sample_cost`` (evaluated on the held-out
        days), ``gap`` = out-of-sample - in-sample, ``gap_pct`` (of out-of-sample),
        ``gap_to_full`` = out-of-sample - the full set's out-of-sample, ``gap_to_full_pct``,
        ``distance`` (the Wasserstein distance of a reduced set to the full set [p.u.], from its
        metadata as written by :func:`scengen.reduce.reduce_scenarios`; NaN when absent),
        ``seconds`` (solve + evaluation). Costs in [cost / day].
    problem : StorageProblem
    n_heldout : int
        Number of held-out days.
    """

    table: pd.DataFrame
    problem: StorageProblem
    n_heldout: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``problem``, ``n_heldout``, ``columns`` and ``rows``."""
        rows = []
        for rec in self.table.to_dict(orient="records"):
            rows.append(
                {
                    k: (None if isinstance(v, float) and not np.isfinite(v) else _plain(v))
                    for k, v in rec.items()
                }
            )
        return {
            "problem": self.problem.to_dict(),
            "n_heldout": int(self.n_heldout),
            "columns": list(self.table.columns),
            "rows": rows,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DecisionResult:
        """Inverse of :meth:`to_dict` (e.g. to read ``decision.json``)."""
        try:
            table = pd.DataFrame(d["rows"], columns=d.get("columns"))
            for c in table.columns:
                if c not in ("set", "kind"):
                    table[c] = pd.to_numeric(table[c], errors="coerce")
            problem = StorageProblem(**d.get("problem", {}))
            return cls(table=table, problem=problem, n_heldout=int(d.get("n_heldout", 0)))
        except (KeyError, TypeError) as e:
            raise ScengenError(f"not a decision-test result: {e}") from None


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _distance(ss: ScenarioSet) -> float:
    """The Wasserstein distance a reduced set records in its metadata (NaN when absent)."""
    d = ss.metadata.get("distance")
    if isinstance(d, (int, float, np.integer, np.floating)) and not isinstance(d, bool):
        return float(d)
    return np.nan


def decision_test(
    full: ScenarioSet,
    heldout: ScenarioSet,
    reduced: dict[int, ScenarioSet] | None = None,
    problem: StorageProblem | None = None,
    *,
    references: dict[str, ScenarioSet] | None = None,
    oracle: bool = True,
) -> DecisionResult:
    """Solve the storage problem with each scenario set and evaluate it on held-out days.

    Parameters
    ----------
    full : ScenarioSet
        The full generated set (e.g. 2 000 scenarios).
    heldout : ScenarioSet
        Held-out measured days (:meth:`Profiles.to_scenarios`), the "true" distribution for the
        out-of-sample evaluation.
    reduced : dict, optional
        ``{K: reduced set}``, e.g. K = 1, 5, 10, 20.
    problem : StorageProblem, optional
    references : dict, optional
        ``{label: set}`` further sets to compare (e.g. the training days as resampled history).
    oracle : bool, default True
        Add a row with the decision optimised on the held-out days themselves: its cost is the
        lowest out-of-sample cost any decision can reach (a lower bound for the other rows).

    Returns
    -------
    DecisionResult
        ``.table`` with one row per set (full, reduced by increasing K, references, oracle).

    Notes
    -----
    The gap out-of-sample - in-sample measures how optimistic a set is about its own decision;
    ``gap_to_full`` measures how much worse the decision is than the one taken with the full
    set, on the days that really happened (in-sample and out-of-sample stability, Kaut and
    Wallace 2007). ``cost_on_full`` evaluates each decision on the full generated set, so it
    separates the error of the reduction from the error of the generator.
    """
    full = _check_set(full, "full")
    heldout = _check_set(heldout, "heldout")
    problem = StorageProblem() if problem is None else problem
    full.check_compatible(heldout, "the full set and the held-out days")
    sets: list[tuple[str, str, ScenarioSet]] = [(f"full (N={full.n_scenarios})", "full", full)]
    for k in sorted((reduced or {}).keys()):
        rs = _check_set(reduced[k], f"reduced[{k}]")
        full.check_compatible(rs, f"the full set and the reduced set K={k}")
        sets.append((f"K={k}", "reduced", rs))
    for label, rs in (references or {}).items():
        rs = _check_set(rs, f"references[{label!r}]")
        full.check_compatible(rs, f"the full set and reference {label!r}")
        sets.append((str(label), "reference", rs))
    if oracle:
        sets.append((f"held-out days (oracle, n={heldout.n_scenarios})", "oracle", heldout))

    rows = []
    for label, kind, s in sets:
        t0 = time.perf_counter()
        dec = solve_storage(s, problem)
        oos = dec.expected_cost if kind == "oracle" else evaluate_decision(dec, heldout, problem)
        on_full = dec.expected_cost if kind == "full" else evaluate_decision(dec, full, problem)
        rows.append(
            {
                "set": label,
                "kind": kind,
                "n_scenarios": s.n_scenarios,
                "energy_capacity": dec.energy_capacity,
                "power_capacity": dec.power_capacity,
                "first_stage_cost": dec.first_stage_cost,
                "in_sample_cost": dec.expected_cost,
                "cost_on_full": on_full,
                "out_of_sample_cost": oos,
                "distance": _distance(s) if kind == "reduced" else np.nan,
                "seconds": time.perf_counter() - t0,
            }
        )
    table = pd.DataFrame(rows)
    oos = table["out_of_sample_cost"]
    table["gap"] = oos - table["in_sample_cost"]
    table["gap_pct"] = 100.0 * table["gap"] / oos.abs().where(oos.abs() > 0)
    ref = float(oos.iloc[0])
    table["gap_to_full"] = oos - ref
    table["gap_to_full_pct"] = 100.0 * table["gap_to_full"] / abs(ref) if ref != 0 else np.nan
    order = [
        "set",
        "kind",
        "n_scenarios",
        "energy_capacity",
        "power_capacity",
        "first_stage_cost",
        "in_sample_cost",
        "cost_on_full",
        "out_of_sample_cost",
        "gap",
        "gap_pct",
        "gap_to_full",
        "gap_to_full_pct",
        "distance",
        "seconds",
    ]
    return DecisionResult(table=table[order], problem=problem, n_heldout=heldout.n_scenarios)


DECISION_JSON = "decision.json"
DECISION_CSV = "decision.csv"


def write_decision(result: DecisionResult, out_dir: str | os.PathLike) -> Path:
    """Write ``decision.json`` (problem, held-out days, table rows) and ``decision.csv`` (the
    table) into ``out_dir`` (created if needed), each atomically.

    Returns
    -------
    pathlib.Path
        The path of ``decision.json``.
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    _io.write_csv(d / DECISION_CSV, result.table, float_format="%.10g")
    _io.write_json(d / DECISION_JSON, result.to_dict())
    return d / DECISION_JSON


def read_decision(path: str | os.PathLike) -> DecisionResult:
    """Read a decision-test result from ``decision.json`` or a directory that holds one."""
    p = Path(path)
    if p.is_dir():
        p = p / DECISION_JSON
    if not p.is_file():
        raise FileNotFoundError(f"decision-test result {str(p)!r} does not exist")
    try:
        d = _io.read_json(p)
    except ValueError as e:
        raise ScengenError(f"{str(p)!r} is not valid JSON: {e}") from None
    if not isinstance(d, dict):
        raise ScengenError(f"{str(p)!r} does not hold a decision-test result")
    return DecisionResult.from_dict(d)
