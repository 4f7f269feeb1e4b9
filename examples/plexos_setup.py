"""Check a scengen ``plexos`` export and print the PLEXOS objects and properties that read it.

PLEXOS is commercial software that no test here can run; this script checks what can be checked
without it (the "bands in columns" layout, one band per scenario in every site's file, the
cumulative probabilities) and prints the property rows to enter, following PLEXOS's help
(Variable [Sampling Method], Variable [Probability], Text File Formats; see docs/exports.md).

Run::

    scengen export runs/wind/reduced10 --format plexos --start 2030-01-01 --out runs/wind/plexos
    python examples/plexos_setup.py runs/wind/plexos
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def check_export(export_dir: str | Path) -> dict[str, Any]:
    """Read and check a ``plexos`` export.

    Returns
    -------
    dict
        ``sites`` {site: file}, ``bands`` (the ``bands.csv`` frame), ``n_periods``.

    Raises
    ------
    ValueError
        Naming the file and what is wrong.
    """
    d = Path(export_dir)
    meta = json.loads((d / "export.json").read_text(encoding="utf-8"))
    if meta.get("format") != "plexos":
        raise ValueError(f"{str(d)!r} is a {meta.get('format')!r} export, not a 'plexos' one")
    bands = pd.read_csv(d / "bands.csv", dtype={"scenario": str})
    k = len(bands)
    if bands["band"].tolist() != list(range(1, k + 1)):
        raise ValueError("bands.csv: bands are not 1..K")
    if bands["scenario"].tolist() != meta["scenarios"]:
        raise ValueError("bands.csv: scenario names differ from export.json")
    n_periods = None
    for fname in meta["files"].values():
        f = pd.read_csv(d / fname)
        head = [c.upper() for c in f.columns[:4]]
        if head != ["YEAR", "MONTH", "DAY", "PERIOD"]:
            raise ValueError(f"{fname}: first columns are {head}, not YEAR,MONTH,DAY,PERIOD")
        if list(f.columns[4:]) != [str(b) for b in range(1, k + 1)]:
            raise ValueError(f"{fname}: band columns are not 1..{k}")
        n_periods = len(f) if n_periods is None else n_periods
        if len(f) != n_periods:
            raise ValueError(f"{fname}: {len(f)} periods, other sites have {n_periods}")
    prob = pd.read_csv(d / "probability.csv", dtype={"NAME": str})
    for site in meta["files"]:
        cum = prob.loc[prob["NAME"] == site].sort_values("BAND")["VALUE"].to_numpy()
        if len(cum) != k or np.any(np.diff(cum) < 0) or not np.isclose(cum[-1], 100.0):
            raise ValueError(f"probability.csv: {site!r} is not a cumulative % ending at 100")
        p = np.diff(np.concatenate([[0.0], cum])) / 100.0
        if not np.allclose(p, bands["probability"].to_numpy(), atol=1e-9):
            raise ValueError(f"probability.csv: {site!r} disagrees with bands.csv")
    return {"sites": dict(meta["files"]), "bands": bands, "n_periods": n_periods}


def setup_rows(export_dir: str | Path) -> list[tuple[str, str, str, str, str, str]]:
    """The (class, object, property, value, data file or file name, band) rows to enter."""
    info = check_export(export_dir)
    k = len(info["bands"])
    rows = [("Data File", "scengen probability", "Filename", "0", "probability.csv", "1")]
    for site, fname in info["sites"].items():
        df = f"scengen {site}"
        rows += [
            ("Data File", df, "Filename", "0", fname, str(k)),
            ("Variable", site, "Sampling Method", "2 (User)", "", ""),
            ("Variable", site, "Profile", "0", df, str(k)),
            ("Variable", site, "Probability", "0", "scengen probability", str(k)),
        ]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", help="directory written by scengen export --format plexos")
    args = parser.parse_args(argv)
    info = check_export(args.export_dir)
    print(
        f"ok: {len(info['sites'])} sites x {len(info['bands'])} bands x "
        f"{info['n_periods']} periods\n"
        "Set the hidden parameter Stochastic_CumulativeProbability = True (probability.csv is "
        "cumulative); attach each Variable to the property it drives (e.g. Generator [Rating] "
        "with Action '=' and the Variable as Expression).\n"
        "class,object,property,value,data file / filename,band"
    )
    for row in setup_rows(args.export_dir):
        print(",".join(row))


if __name__ == "__main__":
    main()
