"""Two-stage storage sizing on a scengen ``pyomo`` export, solved by mpi-sppy's ExtensiveForm.

First stage: the energy capacity ``E`` [MWh] of a battery (one decision for all scenarios).
Second stage, per scenario ``s`` of the export: the dispatch of one day. The sites deliver
``capacity x availability`` [MW]; a constant ``demand`` [MW] is met by them, the battery
(charge / discharge at most ``E / duration`` [MW], round-trip efficiency ``efficiency``, cyclic
state of charge) and a ``backup`` generator at ``backup_cost`` [currency/MWh]; surplus is
curtailed. The objective is::

    storage_cost * E + sum_s p_s * sum_t weight_t * backup_cost * backup_{s,t}

with ``p_s`` from ``probabilities.csv`` and ``weight_t`` [h] from ``steps.csv`` (the step length
times the ``--day-weight`` of the export: export with ``--day-weight 365`` and give an annual
``storage_cost`` to size for a year).

Run (pip install pyomo mpi-sppy highspy; mpi4py is not needed)::

    scengen export runs/wind/reduced10 --format pyomo --out runs/wind/pyomo
    python examples/mpisppy_storage.py runs/wind/pyomo --demand 0.6

Capacities and demand are in the units of the export (``export.json`` ``units``; p.u. data have
capacity 1).
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path
from typing import Any

import pandas as pd

DEFAULTS = {
    "demand": None,  # [MW]; None: the expected mean output of all sites
    "storage_cost": 20.0,  # [currency/MWh of capacity, for the days the export stands for]
    "backup_cost": 100.0,  # [currency/MWh]
    "efficiency": 0.9,  # round trip [-]
    "duration": 4.0,  # [h] energy / power of the battery
}


@functools.lru_cache(maxsize=8)
def read_export(export_dir: str) -> dict[str, Any]:
    """The data of a ``pyomo`` export directory.

    Returns
    -------
    dict
        ``names`` (scenario names, e.g. ``s17``), ``probability`` {name: p}, ``sites``,
        ``capacity`` {site: capacity}, ``steps`` (0..T-1), ``hours`` {step: [h]}, ``weight``
        {step: [h]}, ``avail`` {name: {(site, step): [p.u.]}}, ``units``, ``day_weight``.
    """
    d = Path(export_dir)
    meta = json.loads((d / "export.json").read_text(encoding="utf-8"))
    if meta.get("format") != "pyomo":
        raise ValueError(f"{str(d)!r} is a {meta.get('format')!r} export, not a 'pyomo' one")
    prob = pd.read_csv(d / "probabilities.csv", dtype={"scenario": str})
    sites = pd.read_csv(d / "sites.csv", dtype={"site": str})
    steps = pd.read_csv(d / "steps.csv")
    av = pd.read_csv(d / "availability.csv", dtype={"scenario": str, "site": str})
    avail = {
        name: {(r.site, int(r.step)): float(r.value) for r in g.itertuples(index=False)}
        for name, g in av.groupby("scenario", sort=False)
    }
    return {
        "names": prob["scenario"].tolist(),
        "probability": dict(zip(prob["scenario"], prob["probability"], strict=True)),
        "sites": sites["site"].tolist(),
        "capacity": dict(zip(sites["site"], sites["capacity"], strict=True)),
        "steps": steps["step"].astype(int).tolist(),
        "hours": dict(zip(steps["step"].astype(int), steps["hours"], strict=True)),
        "weight": dict(zip(steps["step"].astype(int), steps["weight"], strict=True)),
        "avail": avail,
        "units": meta.get("units"),
        "day_weight": meta.get("day_weight", 1.0),
    }


def mean_output(data: dict[str, Any]) -> float:
    """Expected mean output of all sites over the day [MW]."""
    total = 0.0
    for name in data["names"]:
        a = data["avail"][name]
        day = sum(data["capacity"][i] * a[(i, t)] for i in data["sites"] for t in data["steps"])
        total += data["probability"][name] * day / len(data["steps"])
    return total


def scenario_creator(scenario_name: str, export_dir: str, **options: Any):
    """The Pyomo model of one scenario, as mpi-sppy calls it.

    Parameters
    ----------
    scenario_name : str
        A name of ``probabilities.csv`` (``s17``).
    export_dir : str
        The ``pyomo`` export directory.
    **options
        ``demand`` [MW], ``storage_cost`` [currency/MWh], ``backup_cost`` [currency/MWh],
        ``efficiency`` [-], ``duration`` [h]; see :data:`DEFAULTS`.
    """
    import pyomo.environ as pyo
    from mpisppy.utils import sputils

    opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    data = read_export(str(export_dir))
    if scenario_name not in data["avail"]:
        raise KeyError(f"scenario {scenario_name!r} is not in {str(export_dir)!r}")
    demand = opts["demand"] if opts["demand"] is not None else mean_output(data)
    eta = opts["efficiency"] ** 0.5  # one way
    a = data["avail"][scenario_name]
    T = data["steps"]

    m = pyo.ConcreteModel(name=scenario_name)
    m.T = pyo.Set(initialize=T, ordered=True)
    m.E = pyo.Var(within=pyo.NonNegativeReals)  # first stage [MWh]
    m.backup = pyo.Var(m.T, within=pyo.NonNegativeReals)  # [MW]
    m.curtail = pyo.Var(m.T, within=pyo.NonNegativeReals)  # [MW]
    m.charge = pyo.Var(m.T, within=pyo.NonNegativeReals)  # [MW]
    m.discharge = pyo.Var(m.T, within=pyo.NonNegativeReals)  # [MW]
    m.soc = pyo.Var(m.T, within=pyo.NonNegativeReals)  # [MWh] at the end of each step
    renewable = {t: sum(data["capacity"][i] * a[(i, t)] for i in data["sites"]) for t in T}

    m.balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            renewable[t] - m.curtail[t] + m.discharge[t] - m.charge[t] + m.backup[t] == demand
        ),
    )
    m.curtail_max = pyo.Constraint(m.T, rule=lambda m, t: m.curtail[t] <= renewable[t])
    m.soc_max = pyo.Constraint(m.T, rule=lambda m, t: m.soc[t] <= m.E)
    m.charge_max = pyo.Constraint(m.T, rule=lambda m, t: m.charge[t] * opts["duration"] <= m.E)
    m.discharge_max = pyo.Constraint(
        m.T, rule=lambda m, t: m.discharge[t] * opts["duration"] <= m.E
    )
    m.soc_balance = pyo.Constraint(  # cyclic: the step before the first is the last
        m.T,
        rule=lambda m, t: (
            m.soc[t]
            == m.soc[m.T.prevw(t)] + data["hours"][t] * (eta * m.charge[t] - m.discharge[t] / eta)
        ),
    )
    m.first_stage_cost = pyo.Expression(expr=opts["storage_cost"] * m.E)
    m.second_stage_cost = pyo.Expression(
        expr=sum(data["weight"][t] * opts["backup_cost"] * m.backup[t] for t in T)
    )
    m.obj = pyo.Objective(expr=m.first_stage_cost + m.second_stage_cost, sense=pyo.minimize)
    sputils.attach_root_node(m, m.first_stage_cost, [m.E])
    m._mpisppy_probability = data["probability"][scenario_name]
    return m


def solve(export_dir: str | Path, solver: str = "appsi_highs", **options: Any) -> dict[str, Any]:
    """Build and solve the extensive form of all scenarios of ``export_dir``.

    Returns
    -------
    dict
        ``objective`` (the solver's), ``recomputed`` (``storage_cost * E + sum_s p_s *
        second-stage cost_s`` from the solution values), ``E`` [MWh], ``demand`` [MW],
        ``expected_backup`` [MWh over the day], ``scenarios``.
    """
    import pyomo.environ as pyo
    from mpisppy.opt.ef import ExtensiveForm

    data = read_export(str(export_dir))
    opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    if opts["demand"] is None:
        opts["demand"] = mean_output(data)
    ef = ExtensiveForm(
        {"solver": solver},
        data["names"],
        scenario_creator,
        scenario_creator_kwargs={"export_dir": str(export_dir), **opts},
    )
    results = ef.solve_extensive_form(tee=False)
    if not pyo.check_optimal_termination(results):
        raise RuntimeError(f"the extensive form was not solved to optimality: {results.solver}")
    objective = float(ef.get_objective_value())
    recomputed, expected_backup, capacity = 0.0, 0.0, None
    for name, model in ef.scenarios():
        p = data["probability"][name]
        E = pyo.value(model.E)
        capacity = E if capacity is None else capacity
        assert abs(E - capacity) <= 1e-6 * max(1.0, capacity), "nonanticipativity violated"
        backup = {t: pyo.value(model.backup[t]) for t in data["steps"]}
        cost2 = sum(data["weight"][t] * opts["backup_cost"] * backup[t] for t in data["steps"])
        recomputed += p * (opts["storage_cost"] * E + cost2)
        expected_backup += p * sum(data["hours"][t] * backup[t] for t in data["steps"])
    return {
        "objective": objective,
        "recomputed": recomputed,
        "E": capacity,
        "demand": opts["demand"],
        "expected_backup": expected_backup,
        "scenarios": len(data["names"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", help="directory written by scengen export --format pyomo")
    parser.add_argument("--solver", default="appsi_highs", help="Pyomo solver name")
    for key, value in DEFAULTS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=float, default=value)
    args = parser.parse_args(argv)
    opts = {k: getattr(args, k) for k in DEFAULTS}
    res = solve(args.export_dir, solver=args.solver, **opts)
    print(
        f"{res['scenarios']} scenarios; demand {res['demand']:.4g}; storage E = {res['E']:.6g} "
        f"MWh; expected backup {res['expected_backup']:.6g} MWh per day\n"
        f"objective {res['objective']:.10g} (solver) vs {res['recomputed']:.10g} "
        "(probability-weighted sum recomputed from the solution)"
    )


if __name__ == "__main__":
    main()
