"""Stochastic dispatch in PyPSA (>= 1.0) from a scengen ``pypsa`` export, solved with HiGHS.

One bus; one Generator per site (``p_nom`` from ``generators.csv``, availability
``p_max_pu`` per scenario from ``generators-p_max_pu.csv``), a constant load and a backup
generator. ``attach_scenarios`` does the loading in the order PyPSA needs:

1. ``n.set_snapshots`` and ``n.snapshot_weightings`` (from ``snapshot_weightings.csv``: with
   ``--day-weight 365`` the objective is the cost of a year, each snapshot counting 365 x step
   length hours; ``stores`` keep the step length, so storage still cycles within the day);
2. the generators (named like the sites) with their ``p_nom``;
3. ``n.set_scenarios(weights)`` -- only then
4. ``n.generators_t.p_max_pu = p_max_pu``.

Assigning ``p_max_pu`` before ``set_scenarios`` does not fail: ``set_scenarios`` copies the
frame into every scenario and the columns become ``(scenario, scenario, name)`` -- silently
wrong data. ``attach_scenarios`` checks the columns after the assignment.

Run (pip install pypsa highspy)::

    scengen export runs/wind/reduced10 --format pypsa --day-weight 365 --out runs/wind/pypsa
    python examples/pypsa_dispatch.py runs/wind/pypsa --load 0.8 --backup-cost 100
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd


def read_export(export_dir: str | Path) -> dict[str, Any]:
    """The tables of a ``pypsa`` export: ``p_max_pu``, ``generators``, ``weights`` (a
    {scenario: probability} dict) and ``snapshot_weightings``."""
    d = Path(export_dir)
    p_max_pu = pd.read_csv(
        d / "generators-p_max_pu.csv", header=[0, 1], index_col=0, parse_dates=True
    )
    weightings = pd.read_csv(d / "snapshot_weightings.csv", index_col=0, parse_dates=True)
    gens = pd.read_csv(d / "generators.csv", dtype={"name": str}).set_index("name")
    w = pd.read_csv(d / "scenario_weightings.csv", dtype={"scenario": str})
    return {
        "p_max_pu": p_max_pu,
        "generators": gens,
        "weights": dict(zip(w["scenario"], w["weight"], strict=True)),
        "snapshot_weightings": weightings,
    }


def attach_scenarios(n: Any, export_dir: str | Path, bus: str = "bus") -> dict[str, Any]:
    """Add the export to network ``n``: snapshots and their weightings, one Generator per site
    at ``bus``, the scenarios and then their ``p_max_pu`` (the order PyPSA needs).

    ``n`` must hold ``bus`` and no scenarios yet; add loads, lines and other components before
    or after (components added after ``set_scenarios`` are added to every scenario).
    Returns the tables of :func:`read_export`.
    """
    if getattr(n, "has_scenarios", False):
        raise RuntimeError(
            "the network already has scenarios; attach_scenarios must call n.set_scenarios "
            "itself, before p_max_pu is assigned"
        )
    data = read_export(export_dir)
    p_max_pu = data["p_max_pu"]
    n.set_snapshots(p_max_pu.index)
    n.snapshot_weightings.loc[:, :] = data["snapshot_weightings"][
        n.snapshot_weightings.columns
    ].to_numpy()
    gens = data["generators"]
    n.add("Generator", gens.index, bus=bus, p_nom=gens["p_nom"].to_numpy(), marginal_cost=0.0)
    n.set_scenarios(data["weights"])  # before any scenario-dependent data
    n.generators_t.p_max_pu = p_max_pu
    got = n.generators_t.p_max_pu
    if got.columns.nlevels != 2 or not got.columns.equals(p_max_pu.columns):
        raise RuntimeError(
            "p_max_pu did not land as (scenario, name) columns; call attach_scenarios on a "
            "network without scenarios"
        )
    return data


def build_network(export_dir: str | Path, load: float, backup_cost: float) -> Any:
    """A one-bus network: the export's generators, a constant ``load`` [MW] and a backup
    generator (``backup_cost`` [currency/MWh], large enough to meet the load)."""
    import pypsa

    n = pypsa.Network()
    n.add("Bus", "bus")
    data = attach_scenarios(n, export_dir, bus="bus")
    n.add("Load", "load", bus="bus", p_set=load)
    n.add("Generator", "backup", bus="bus", p_nom=2 * load + 1.0, marginal_cost=backup_cost)
    n.scengen = data  # the tables, for the caller
    return n


def solve(export_dir: str | Path, load: float, backup_cost: float) -> dict[str, Any]:
    """Optimise the network of :func:`build_network` with HiGHS.

    Returns
    -------
    dict
        ``status``, ``condition``, ``objective`` (PyPSA's), ``expected`` (``backup_cost x
        sum_s w_s sum_t objective weighting_t x backup_{s,t}`` from the dispatch), ``network``.
    """
    n = build_network(export_dir, load, backup_cost)
    status, condition = n.optimize(solver_name="highs", log_to_console=False)
    w_obj = n.snapshot_weightings["objective"]
    p = n.generators_t.p
    expected = sum(
        weight * backup_cost * float((p[name]["backup"] * w_obj).sum())
        for name, weight in n.scengen["weights"].items()
    )
    return {
        "status": status,
        "condition": condition,
        "objective": float(n.objective),
        "expected": expected,
        "network": n,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", help="directory written by scengen export --format pypsa")
    parser.add_argument("--load", type=float, default=1.0, help="constant load [MW]")
    parser.add_argument("--backup-cost", type=float, default=100.0, help="[currency/MWh]")
    args = parser.parse_args(argv)
    res = solve(args.export_dir, args.load, args.backup_cost)
    print(
        f"{res['status']} / {res['condition']}: objective {res['objective']:.10g} "
        f"(expected backup cost recomputed from the dispatch: {res['expected']:.10g})"
    )


if __name__ == "__main__":
    main()
