"""Expected energy shortfall of the scenarios below a constant demand, from a scengen ``long`` or
``wide`` export, with pandas alone.

The shortfall of scenario ``s`` is ``sum_t hours * max(0, demand - sum_i value_{s,i,t})`` [MWh];
its expectation weights the scenarios by their probabilities, joined on the scenario name
(``s17``: the same string in the values and in the probabilities).

Run::

    scengen export runs/wind/reduced10 --format long --out runs/wind/long
    python examples/expected_shortfall.py runs/wind/long --demand 12
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def total_output(export_dir: str | Path) -> tuple[pd.DataFrame, pd.Series, float]:
    """Output of all sites per scenario (rows, by name) and step (columns) [site units], the
    probabilities by scenario name, and the step length [h]."""
    d = Path(export_dir)
    meta = json.loads((d / "export.json").read_text(encoding="utf-8"))
    hours = meta["step_minutes"] / 60.0
    if meta["format"] == "long":
        df = pd.read_csv(d / "scenarios.csv", dtype={"scenario": str, "site": str})
        total = df.pivot_table(index="scenario", columns="step", values="value", aggfunc="sum")
        p = pd.read_csv(d / "probabilities.csv", dtype={"scenario": str})
        prob = p.set_index("scenario")["probability"]
    elif meta["format"] == "wide":
        df = pd.read_csv(d / "scenarios_wide.csv", dtype={"scenario": str, "site": str})
        steps = df.columns[3:]
        total = df.groupby("scenario", sort=False)[list(steps)].sum()
        prob = df.drop_duplicates("scenario").set_index("scenario")["probability"]
    else:
        raise ValueError(f"{str(d)!r} is a {meta['format']!r} export; give a long or wide one")
    return total.loc[prob.index], prob, hours


def expected_shortfall(export_dir: str | Path, demand: float) -> float:
    """``sum_s p_s sum_t hours * max(0, demand - output_{s,t})`` [site units x h]."""
    total, prob, hours = total_output(export_dir)
    shortfall = (demand - total).clip(lower=0.0).sum(axis=1) * hours
    return float((prob * shortfall).sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", help="directory written by scengen export (long or wide)")
    parser.add_argument("--demand", type=float, required=True, help="constant demand [MW]")
    args = parser.parse_args(argv)
    print(f"expected shortfall: {expected_shortfall(args.export_dir, args.demand):.10g} MWh")


if __name__ == "__main__":
    main()
