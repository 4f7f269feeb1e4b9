"""Export a scenario set to layouts that optimisation tools read.

Formats (each written atomically into its own output directory):

``long``
    ``scenarios.csv`` (``scenario,site,step,time,value`` and ``timestamp`` with a start date) and
    ``probabilities.csv`` (``scenario,probability``); values in the sites' units.
``wide``
    ``scenarios_wide.csv``: one row per scenario and site, ``scenario,site,probability`` then one
    column per step (named by the clock time ``HH:MM``); values in the sites' units.
``pypsa``
    ``generators-p_max_pu.csv``: per-unit availability [p.u.], index ``snapshot``, columns a
    2-level header ``(scenario, name)`` as in PyPSA >= 1.0 stochastic networks
    (``n.generators_t.p_max_pu`` after ``n.set_scenarios``); ``scenario_weightings.csv``
    (``scenario,weight``) for ``n.set_scenarios``; ``snapshots.csv``.
``gams``
    CSVs for ``csv2gdx``: ``scenario.csv``, ``site.csv``, ``step.csv`` (sets),
    ``probability.csv`` (``scenario,value``) and ``availability.csv``
    (``scenario,site,step,value`` [p.u.]), plus ``csv2gdx.txt`` with the command lines.
``plexos``
    One "bands in columns" file per site, ``<site>.csv``: ``YEAR,MONTH,DAY,PERIOD`` then one
    column per scenario numbered ``1..K`` (the bands / samples), values in the sites' units;
    ``weights.csv`` (``band,scenario,probability``).

Every format also writes ``export.json`` (format, units, start, source, scenario names).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scengen import _io
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, check_values, long_frame


@dataclass
class ExportConfig:
    """Settings of the ``export`` section of a config.

    Parameters
    ----------
    format : str, optional
        One of :data:`FORMATS`.
    start : str, optional
        Date of the first snapshot (default 2020-01-01).
    normalize : bool, default False
        Rescale probabilities that do not sum to 1.
    seed : int, optional
        Recorded in ``export.json``.
    """

    format: str | None = None
    start: str | None = None
    normalize: bool = False
    seed: int | None = None


FORMATS = ("long", "wide", "pypsa", "gams", "plexos")
DEFAULT_START = "2020-01-01"
EXPORT_JSON = "export.json"


def scenario_names(ss: ScenarioSet) -> list[str]:
    """Labels ``s<id>`` of the scenarios (valid names in PyPSA, GAMS and PLEXOS)."""
    return [f"s{int(i)}" for i in ss.ids]


def parse_start(start: Any) -> pd.Timestamp:
    """The first snapshot day from ``"2020-01-01"`` (or ``None``: 2020-01-01)."""
    text = DEFAULT_START if start is None else str(start).strip()
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = None
    if ts is None or ts is pd.NaT:
        raise ScengenError(f"--start {start!r} is not a date; give one like 2020-01-01")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def snapshots(ss: ScenarioSet, start: Any = None) -> pd.DatetimeIndex:
    """Timestamps of the steps of one day starting at ``start`` (step 0 at ``start_minute``)."""
    day = parse_start(start)
    offs = ss.start_minute + ss.step_minutes * np.arange(ss.n_steps)
    return pd.DatetimeIndex(day + pd.to_timedelta(offs, unit="min"), name="snapshot")


def _step_labels(ss: ScenarioSet) -> list[str]:
    times = ss.times()
    return times if len(set(times)) == len(times) else [str(i) for i in range(ss.n_steps)]


def wide_frame(ss: ScenarioSet) -> pd.DataFrame:
    """One row per scenario and site: ``scenario,site,probability``, then one column per step."""
    n, s = ss.n_scenarios, ss.n_sites
    vals = ss.in_units().reshape(n * s, ss.n_steps)
    df = pd.DataFrame(vals, columns=_step_labels(ss))
    df.insert(0, "probability", np.repeat(ss.probabilities, s))
    df.insert(0, "site", np.tile(np.asarray(ss.sites, dtype=object), n))
    df.insert(0, "scenario", np.repeat(ss.ids, s))
    return df


def pypsa_frame(ss: ScenarioSet, start: Any = None) -> pd.DataFrame:
    """Per-unit availability, index ``snapshot``, columns ``(scenario, name)``."""
    cols = pd.MultiIndex.from_product([scenario_names(ss), ss.sites], names=["scenario", "name"])
    data = ss.values.transpose(2, 0, 1).reshape(ss.n_steps, -1)
    return pd.DataFrame(data, index=snapshots(ss, start), columns=cols)


def _write_long(ss: ScenarioSet, d: Path, start: Any) -> None:
    with (
        _io.atomic_path(d / "scenarios.csv") as tmp,
        open(tmp, "w", encoding="utf-8", newline="") as f,
    ):
        stamps = snapshots(ss, start).strftime("%Y-%m-%dT%H:%M:%S") if start is not None else None
        batch = 20_000
        for a in range(0, ss.n_scenarios, batch):
            df = long_frame(ss, a, a + batch)
            if stamps is not None:
                df.insert(4, "timestamp", np.asarray(stamps)[df["step"].to_numpy()])
            df.to_csv(f, index=False, header=(a == 0), float_format="%.9g")
    _probabilities(ss, d / "probabilities.csv")


def _probabilities(ss: ScenarioSet, path: Path) -> None:
    _io.write_csv(
        path,
        pd.DataFrame({"scenario": ss.ids, "probability": ss.probabilities}),
        float_format="%.17g",
    )


def _write_wide(ss: ScenarioSet, d: Path, start: Any) -> None:
    _io.write_csv(d / "scenarios_wide.csv", wide_frame(ss), float_format="%.9g")


def _write_pypsa(ss: ScenarioSet, d: Path, start: Any) -> None:
    _io.write_csv(
        d / "generators-p_max_pu.csv", pypsa_frame(ss, start), index=True, float_format="%.9g"
    )
    _io.write_csv(
        d / "scenario_weightings.csv",
        pd.DataFrame({"scenario": scenario_names(ss), "weight": ss.probabilities}),
        float_format="%.17g",
    )
    _io.write_csv(d / "snapshots.csv", pd.DataFrame({"snapshot": snapshots(ss, start)}))


GAMS_COMMANDS = """\
* GAMS: convert the CSV files of this directory to GDX with csv2gdx, then load them.
* The sets come from the index columns of availability.csv (csv2gdx writes them as Dim1..Dim3);
* scenario.csv, site.csv and step.csv list the same labels for other tools.
$call csv2gdx availability.csv output=availability.gdx id=avail index=1,2,3 values=4 useHeader=y
$call csv2gdx probability.csv output=probability.gdx id=prob index=1 values=2 useHeader=y
Set s 'scenarios', i 'sites', t 'steps';
Parameter avail(s,i,t) 'availability [p.u.]', prob(s) 'scenario probability';
$gdxIn availability.gdx
$load s=Dim1 i=Dim2 t=Dim3 avail
$gdxIn probability.gdx
$load prob
$gdxIn
"""


def _write_gams(ss: ScenarioSet, d: Path, start: Any) -> None:
    names = scenario_names(ss)
    steps = [f"t{i + 1:0{max(2, len(str(ss.n_steps)))}d}" for i in range(ss.n_steps)]
    _io.write_csv(d / "scenario.csv", pd.DataFrame({"scenario": names}))
    _io.write_csv(d / "site.csv", pd.DataFrame({"site": ss.sites}))
    _io.write_csv(d / "step.csv", pd.DataFrame({"step": steps}))
    _io.write_csv(
        d / "probability.csv",
        pd.DataFrame({"scenario": names, "value": ss.probabilities}),
        float_format="%.17g",
    )
    n, s, t = ss.values.shape
    df = pd.DataFrame(
        {
            "scenario": np.repeat(np.asarray(names, dtype=object), s * t),
            "site": np.tile(np.repeat(np.asarray(ss.sites, dtype=object), t), n),
            "step": np.tile(np.asarray(steps, dtype=object), n * s),
            "value": ss.values.reshape(-1),
        }
    )
    _io.write_csv(d / "availability.csv", df, float_format="%.9g")
    _io.write_text(d / "csv2gdx.txt", GAMS_COMMANDS)


def _safe_file_name(site: str) -> str:
    bad = '<>:"/\\|?*'
    name = "".join("_" if (c in bad or ord(c) < 32) else c for c in site).strip(" .")
    return name or "site"


def _write_plexos(ss: ScenarioSet, d: Path, start: Any) -> None:
    snaps = snapshots(ss, start)
    day0 = snaps[0].normalize()
    per_day = max(1, int(round(24 * 60 / ss.step_minutes)))
    period = ((snaps - day0) // pd.Timedelta(minutes=ss.step_minutes)) % per_day + 1
    files = {}
    vals = ss.in_units()
    for j, site in enumerate(ss.sites):
        fname = f"{_safe_file_name(site)}.csv"
        if fname in files.values():
            fname = f"{_safe_file_name(site)}_{j + 1}.csv"
        files[site] = fname
        df = pd.DataFrame(vals[:, j, :].T, columns=[str(b + 1) for b in range(ss.n_scenarios)])
        df.insert(0, "PERIOD", np.asarray(period, dtype=int))
        df.insert(0, "DAY", snaps.day)
        df.insert(0, "MONTH", snaps.month)
        df.insert(0, "YEAR", snaps.year)
        _io.write_csv(d / fname, df, float_format="%.9g")
    _io.write_csv(
        d / "weights.csv",
        pd.DataFrame(
            {
                "band": np.arange(1, ss.n_scenarios + 1),
                "scenario": scenario_names(ss),
                "probability": ss.probabilities,
            }
        ),
        float_format="%.17g",
    )
    return files


_WRITERS = {
    "long": _write_long,
    "wide": _write_wide,
    "pypsa": _write_pypsa,
    "gams": _write_gams,
    "plexos": _write_plexos,
}


def export(
    ss: ScenarioSet,
    fmt: str,
    out: str | os.PathLike,
    *,
    start: Any = None,
    seed: int | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write ``ss`` in format ``fmt`` into the directory ``out`` (atomically).

    Parameters
    ----------
    ss : ScenarioSet
    fmt : {"long", "wide", "pypsa", "gams", "plexos"}
    out : path
        Output directory. An existing one must be empty, or (with ``overwrite``) an export
        directory that holds only what scengen wrote; it is replaced only once the new one is
        complete.
    start : str, optional
        Date of the first snapshot (``pypsa``, ``plexos``; ``long`` adds a ``timestamp`` column
        when given). Default 2020-01-01.
    seed : int, optional
        Recorded in ``export.json`` (export itself is deterministic).
    overwrite : bool, default False
        Replace an existing export directory.
    inputs : iterable of paths
        The inputs of the command; ``out`` may not be, or contain, any of them.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    if fmt not in FORMATS:
        raise ScengenError(f"format {fmt!r} is not allowed; choose one of {list(FORMATS)}")
    if start is not None or fmt in ("pypsa", "plexos"):
        parse_start(start)
    check_values(ss)
    with _io.staging_dir(out, "export", overwrite=overwrite, inputs=inputs) as d:
        extra = _WRITERS[fmt](ss, d, start)
        meta = {
            "format": fmt,
            "n_scenarios": ss.n_scenarios,
            "scenarios": scenario_names(ss),
            "ids": [int(i) for i in ss.ids],
            "sites": list(ss.sites),
            "capacities": [float(c) for c in ss.capacities],
            "units": ss.units,
            "value_units": "p.u." if fmt in ("pypsa", "gams") else f"{ss.units} (p.u. x capacity)",
            "step_minutes": ss.step_minutes,
            "start": str(parse_start(start).date())
            if (start is not None or fmt in ("pypsa", "plexos"))
            else None,
            "source": ss.metadata.get("source"),
            "kind": ss.metadata.get("kind"),
            "seed": seed,
        }
        if extra:
            meta["files"] = extra
        meta["written"] = sorted([*(e.name for e in d.iterdir()), EXPORT_JSON])
        _io.write_json(d / EXPORT_JSON, meta)
    return Path(out)
