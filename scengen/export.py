"""Export a scenario set to layouts that optimisation tools read.

Every format names scenario ``<id>`` of the scenario directory ``s<id>`` (``s17``), the same
string in every file, probabilities included: a label no CSV reader turns into a number, and a
valid name in PyPSA, GAMS, Pyomo and PLEXOS. Formats (each written atomically into its own
output directory; ``docs/exports.md`` shows how each is loaded):

``long``
    ``scenarios.csv`` (``scenario,site,step,time,value`` and ``timestamp`` with a start date) and
    ``probabilities.csv`` (``scenario,probability``); values in the sites' units.
``wide``
    ``scenarios_wide.csv``: one row per scenario and site, ``scenario,site,probability`` then one
    column per step (named by the clock time ``HH:MM``); values in the sites' units.
``pypsa``
    ``generators-p_max_pu.csv``: per-unit availability [p.u.], index ``snapshot``, columns a
    2-level header ``(scenario, name)`` as in PyPSA >= 1.0 stochastic networks
    (``n.generators_t.p_max_pu`` after ``n.set_scenarios``); ``generators.csv`` (``name,p_nom``,
    the capacities in the sites' units); ``scenario_weightings.csv`` (``scenario,weight``) for
    ``n.set_scenarios``; ``snapshots.csv``; ``snapshot_weightings.csv``
    (``snapshot,objective,stores,generators`` [h]).
``gams``
    ``availability.csv`` (``scenario,site,step,value`` [p.u.], every row, zeros included),
    ``probability.csv`` (``scenario,value``), ``capacity.csv`` (``site,value`` in the sites'
    units), ``step.csv`` (``step,hours,weight`` [h]), the label lists ``scenario.csv`` and
    ``site.csv``, and ``scengen_data.gms``: the ``csv2gdx`` calls (``storeZero=y``) and ``$load``
    statements that a model ``$include``\\ s.
``plexos``
    One "bands in columns" Data File per site, ``<site>.csv``: ``YEAR,MONTH,DAY,PERIOD`` then one
    column per band ``1..K`` (band b = scenario b in every file), values in the sites' units;
    ``probability.csv`` (``NAME,BAND,VALUE``): Variable [Probability] as cumulative probability
    [%] per band; ``bands.csv`` (``band,scenario,probability``) maps bands to scenario names.
``pyomo``
    For Pyomo / mpi-sppy: ``probabilities.csv`` (``scenario,probability``),
    ``availability.csv`` (``scenario,site,step,value`` [p.u.]), ``sites.csv``
    (``site,capacity``) and ``steps.csv`` (``step,time,hours,weight`` [h]).

``weight`` / the ``objective`` snapshot weighting is the number of hours a step stands for in a
cost: the step length [h] times ``day_weight`` (the number of days the exported day stands for,
e.g. 365 to scale a solved objective to a year). Every format also writes ``export.json``
(format, scenario names and ids, sites, capacities, units, start, step length, day weight,
source, the files written).
"""

from __future__ import annotations

import math
import os
import warnings
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
    """Settings of the ``export`` section of a config: the one schema of ``scengen export
    --config`` and ``scengen run``.

    Parameters
    ----------
    formats : list of str, optional
        Formats to write, each one of :data:`FORMATS`. ``scengen run`` writes each into
        ``export/<format>/`` (default: all of them); ``scengen export`` writes one (``--format``
        overrides; no list or more than one needs the flag).
    format : str, optional
        Deprecated spelling of ``formats: [<format>]`` (``scengen export`` configs written
        before the two commands shared this section); read into ``formats`` with a
        ``FutureWarning``. Give one of the two.
    start : str, optional
        Date of the first snapshot (default 2020-01-01).
    normalize : bool, default False
        Rescale probabilities that do not sum to 1.
    day_weight : float, optional
        Days the exported day stands for in costs [d] (default 1; 365 scales to a year).
    seed : int, optional
        Recorded in ``export.json``.

    Raises
    ------
    ScengenError
        For a format that does not exist, or both ``formats`` and ``format``.
    """

    formats: list[str] | None = None
    format: str | None = None
    start: str | None = None
    normalize: bool = False
    day_weight: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.format is not None:
            if self.formats is not None:
                raise ScengenError(
                    f"export: give formats {self.formats!r} or the old format {self.format!r}, "
                    "not both"
                )
            warnings.warn(
                f"export.format: {self.format!r} is deprecated; write formats: [{self.format}] "
                "(the export section of scengen export and scengen run)",
                FutureWarning,
                stacklevel=3,
            )
            self.formats, self.format = [self.format], None
        for fmt in self.formats or ():
            check_format(fmt, "export format")


FORMATS = ("long", "wide", "pypsa", "gams", "plexos", "pyomo")
DEFAULT_START = "2020-01-01"
EXPORT_JSON = "export.json"
#: the GAMS include file of the ``gams`` format
GAMS_INCLUDE = "scengen_data.gms"


def check_format(fmt: Any, what: str = "format") -> str:
    """``fmt`` when it is one of :data:`FORMATS`, else a :class:`ScengenError` quoting it.

    Parameters
    ----------
    fmt : str
        Name of a format.
    what : str, default "format"
        How the message names it (``"--format"``, ``"export format"``).
    """
    if fmt not in FORMATS:
        raise ScengenError(f"{what} {fmt!r} does not exist; choose one of {list(FORMATS)}")
    return fmt


def scenario_names(ss: ScenarioSet) -> list[str]:
    """Labels ``s<id>`` of the scenarios: the one scenario name of every export format."""
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


def check_day_weight(day_weight: Any) -> float:
    """``day_weight`` as a float [d], or an error quoting it (``None`` gives 1).

    Parameters
    ----------
    day_weight : float or None
        Days the exported day stands for in costs; positive and finite.
    """
    if day_weight is None:
        return 1.0
    try:
        w = float(day_weight)
    except (TypeError, ValueError):
        w = math.nan
    if isinstance(day_weight, bool) or not math.isfinite(w) or w <= 0:
        raise ScengenError(
            f"--day-weight {day_weight!r} is not a positive number of days; give e.g. 365 to "
            "scale the costs of the exported day to a year (default 1)"
        )
    return w


def step_hours(ss: ScenarioSet) -> float:
    """Length of a step [h]."""
    return ss.step_minutes / 60.0


def snapshots(ss: ScenarioSet, start: Any = None) -> pd.DatetimeIndex:
    """Timestamps of the steps of one day starting at ``start`` (step 0 at ``start_minute``)."""
    day = parse_start(start)
    offs = ss.start_minute + ss.step_minutes * np.arange(ss.n_steps)
    return pd.DatetimeIndex(day + pd.to_timedelta(offs, unit="min"), name="snapshot")


def snapshot_weightings(
    ss: ScenarioSet, start: Any = None, day_weight: float | None = None
) -> pd.DataFrame:
    """PyPSA snapshot weightings [h]: ``objective`` and ``generators`` = step length x day
    weight (costs and energy totals of the represented days), ``stores`` = step length (the
    storage balance of the day itself)."""
    h, w = step_hours(ss), check_day_weight(day_weight)
    n = ss.n_steps
    return pd.DataFrame(
        {"objective": np.full(n, h * w), "stores": np.full(n, h), "generators": np.full(n, h * w)},
        index=snapshots(ss, start),
    )


def _step_labels(ss: ScenarioSet) -> list[str]:
    times = ss.times()
    return times if len(set(times)) == len(times) else [str(i) for i in range(ss.n_steps)]


def gams_steps(ss: ScenarioSet) -> list[str]:
    """GAMS labels of the steps, ``t01``, ``t02``, ... (zero-padded to sort)."""
    width = max(2, len(str(ss.n_steps)))
    return [f"t{i + 1:0{width}d}" for i in range(ss.n_steps)]


def wide_frame(ss: ScenarioSet) -> pd.DataFrame:
    """One row per scenario and site: ``scenario,site,probability``, then one column per step."""
    n, s = ss.n_scenarios, ss.n_sites
    vals = ss.in_units().reshape(n * s, ss.n_steps)
    df = pd.DataFrame(vals, columns=_step_labels(ss))
    df.insert(0, "probability", np.repeat(ss.probabilities, s))
    df.insert(0, "site", np.tile(np.asarray(ss.sites, dtype=object), n))
    df.insert(0, "scenario", np.repeat(np.asarray(scenario_names(ss), dtype=object), s))
    return df


def pypsa_frame(ss: ScenarioSet, start: Any = None) -> pd.DataFrame:
    """Per-unit availability, index ``snapshot``, columns ``(scenario, name)``."""
    cols = pd.MultiIndex.from_product([scenario_names(ss), ss.sites], names=["scenario", "name"])
    data = ss.values.transpose(2, 0, 1).reshape(ss.n_steps, -1)
    return pd.DataFrame(data, index=snapshots(ss, start), columns=cols)


def availability_frame(ss: ScenarioSet, steps: list[Any] | None = None) -> pd.DataFrame:
    """Every ``(scenario, site, step)`` with its availability [p.u.], zeros included.

    Parameters
    ----------
    ss : ScenarioSet
    steps : list, optional
        Step labels (default ``0..n_steps-1``).
    """
    n, s, t = ss.values.shape
    steps = list(range(t)) if steps is None else list(steps)
    return pd.DataFrame(
        {
            "scenario": np.repeat(np.asarray(scenario_names(ss), dtype=object), s * t),
            "site": np.tile(np.repeat(np.asarray(ss.sites, dtype=object), t), n),
            "step": np.tile(np.asarray(steps, dtype=object), n * s),
            "value": ss.values.reshape(-1),
        }
    )


def _probabilities(ss: ScenarioSet, path: Path, column: str = "probability") -> None:
    _io.write_csv(
        path,
        pd.DataFrame({"scenario": scenario_names(ss), column: ss.probabilities}),
        float_format="%.17g",
    )


def _write_long(ss: ScenarioSet, d: Path, start: Any, day_weight: float) -> None:
    names = np.asarray(scenario_names(ss), dtype=object)
    with (
        _io.atomic_path(d / "scenarios.csv") as tmp,
        open(tmp, "w", encoding="utf-8", newline="") as f,
    ):
        stamps = snapshots(ss, start).strftime("%Y-%m-%dT%H:%M:%S") if start is not None else None
        batch = 20_000
        rows = ss.n_sites * ss.n_steps
        for a in range(0, ss.n_scenarios, batch):
            df = long_frame(ss, a, a + batch)
            df["scenario"] = np.repeat(names[a : a + batch], rows)
            if stamps is not None:
                df.insert(4, "timestamp", np.asarray(stamps)[df["step"].to_numpy()])
            df.to_csv(f, index=False, header=(a == 0), float_format="%.9g")
    _probabilities(ss, d / "probabilities.csv")


def _write_wide(ss: ScenarioSet, d: Path, start: Any, day_weight: float) -> None:
    _io.write_csv(d / "scenarios_wide.csv", wide_frame(ss), float_format="%.9g")


def _write_pypsa(ss: ScenarioSet, d: Path, start: Any, day_weight: float) -> None:
    _io.write_csv(
        d / "generators-p_max_pu.csv", pypsa_frame(ss, start), index=True, float_format="%.9g"
    )
    _io.write_csv(
        d / "generators.csv",
        pd.DataFrame({"name": ss.sites, "p_nom": ss.capacities}),
        float_format="%.17g",
    )
    _io.write_csv(
        d / "scenario_weightings.csv",
        pd.DataFrame({"scenario": scenario_names(ss), "weight": ss.probabilities}),
        float_format="%.17g",
    )
    _io.write_csv(d / "snapshots.csv", pd.DataFrame({"snapshot": snapshots(ss, start)}))
    _io.write_csv(
        d / "snapshot_weightings.csv",
        snapshot_weightings(ss, start, day_weight),
        index=True,
        float_format="%.17g",
    )


#: ``scengen_data.gms`` of the ``gams`` format (docs/exports.md quotes it verbatim)
GAMS_INCLUDE_TEXT = """\
* Written by scengen export: loads the scenario data of this directory into GAMS.
* In a model:  $include "%scengen%/scengen_data.gms"   run:  gams model.gms --scengen=<this dir>
* csv2gdx writes one GDX file per CSV (into the working directory); storeZero=y keeps zero values
* (PV at night), so every (scenario, site, step) of availability.csv reaches the GDX file and no
* label of s, i, t is lost.
$if not set scengen $set scengen .
$call csv2gdx "%scengen%/availability.csv" output=scengen_availability.gdx id=avail index=1,2,3 values=4 useHeader=y storeZero=y
$if errorLevel 1 $abort csv2gdx failed on availability.csv
$call csv2gdx "%scengen%/probability.csv" output=scengen_probability.gdx id=prob index=1 values=2 useHeader=y storeZero=y
$if errorLevel 1 $abort csv2gdx failed on probability.csv
$call csv2gdx "%scengen%/capacity.csv" output=scengen_capacity.gdx id=cap index=1 values=2 useHeader=y storeZero=y
$if errorLevel 1 $abort csv2gdx failed on capacity.csv
$call csv2gdx "%scengen%/step.csv" output=scengen_hours.gdx id=hours index=1 values=2 useHeader=y storeZero=y
$if errorLevel 1 $abort csv2gdx failed on step.csv
$call csv2gdx "%scengen%/step.csv" output=scengen_weight.gdx id=weight index=1 values=3 useHeader=y storeZero=y
$if errorLevel 1 $abort csv2gdx failed on step.csv
Set s 'scenarios', i 'sites', t 'steps';
Parameter
   avail(s,i,t) 'availability [p.u.]'
   prob(s)      'scenario probability [-]'
   cap(i)       'site capacity [site units, e.g. MW]'
   hours(t)     'step length [h]'
   weight(t)    'hours a step stands for in costs: step length x day weight [h]';
$gdxIn scengen_availability.gdx
$load s=Dim1 i=Dim2 t=Dim3 avail
$gdxIn scengen_probability.gdx
$load prob
$gdxIn scengen_capacity.gdx
$load cap
$gdxIn scengen_hours.gdx
$load hours
$gdxIn scengen_weight.gdx
$load weight
$gdxIn
"""


def gams_csv2gdx_calls() -> list[str]:
    """The ``csv2gdx`` command lines of :data:`GAMS_INCLUDE_TEXT` (without ``$call``)."""
    return [
        line.removeprefix("$call ")
        for line in GAMS_INCLUDE_TEXT.splitlines()
        if line.startswith("$call csv2gdx ")
    ]


def _write_gams(ss: ScenarioSet, d: Path, start: Any, day_weight: float) -> None:
    names = scenario_names(ss)
    steps = gams_steps(ss)
    h = step_hours(ss)
    _io.write_csv(d / "scenario.csv", pd.DataFrame({"scenario": names}))
    _io.write_csv(d / "site.csv", pd.DataFrame({"site": ss.sites}))
    _io.write_csv(
        d / "step.csv",
        pd.DataFrame(
            {
                "step": steps,
                "hours": np.full(ss.n_steps, h),
                "weight": np.full(ss.n_steps, h * day_weight),
            }
        ),
        float_format="%.17g",
    )
    _probabilities(ss, d / "probability.csv", column="value")
    _io.write_csv(
        d / "capacity.csv",
        pd.DataFrame({"site": ss.sites, "value": ss.capacities}),
        float_format="%.17g",
    )
    _io.write_csv(d / "availability.csv", availability_frame(ss, steps), float_format="%.9g")
    _io.write_text(d / GAMS_INCLUDE, GAMS_INCLUDE_TEXT)


def _safe_file_name(site: str) -> str:
    bad = '<>:"/\\|?*'
    name = "".join("_" if (c in bad or ord(c) < 32) else c for c in site).strip(" .")
    return name or "site"


def plexos_cumulative_probability(ss: ScenarioSet) -> np.ndarray:
    """Cumulative probability [%] of bands ``1..K``: non-decreasing, the last exactly 100."""
    cum = 100.0 * np.cumsum(ss.probabilities)
    cum[-1] = 100.0
    return np.minimum(cum, 100.0)


def _write_plexos(ss: ScenarioSet, d: Path, start: Any, day_weight: float) -> dict[str, str]:
    snaps = snapshots(ss, start)
    day0 = snaps[0].normalize()
    per_day = max(1, int(round(24 * 60 / ss.step_minutes)))
    period = ((snaps - day0) // pd.Timedelta(minutes=ss.step_minutes)) % per_day + 1
    files: dict[str, str] = {}
    vals = ss.in_units()
    bands = np.arange(1, ss.n_scenarios + 1)
    for j, site in enumerate(ss.sites):
        fname = f"{_safe_file_name(site)}.csv"
        if fname in files.values():
            fname = f"{_safe_file_name(site)}_{j + 1}.csv"
        files[site] = fname
        df = pd.DataFrame(vals[:, j, :].T, columns=[str(b) for b in bands])
        df.insert(0, "PERIOD", np.asarray(period, dtype=int))
        df.insert(0, "DAY", snaps.day)
        df.insert(0, "MONTH", snaps.month)
        df.insert(0, "YEAR", snaps.year)
        _io.write_csv(d / fname, df, float_format="%.9g")
    cum = plexos_cumulative_probability(ss)
    _io.write_csv(
        d / "probability.csv",
        pd.DataFrame(
            {
                "NAME": np.repeat(np.asarray(ss.sites, dtype=object), ss.n_scenarios),
                "BAND": np.tile(bands, ss.n_sites),
                "VALUE": np.tile(cum, ss.n_sites),
            }
        ),
        float_format="%.15g",
    )
    _io.write_csv(
        d / "bands.csv",
        pd.DataFrame(
            {"band": bands, "scenario": scenario_names(ss), "probability": ss.probabilities}
        ),
        float_format="%.17g",
    )
    return files


def _write_pyomo(ss: ScenarioSet, d: Path, start: Any, day_weight: float) -> None:
    h = step_hours(ss)
    _probabilities(ss, d / "probabilities.csv")
    _io.write_csv(d / "availability.csv", availability_frame(ss), float_format="%.9g")
    _io.write_csv(
        d / "sites.csv",
        pd.DataFrame({"site": ss.sites, "capacity": ss.capacities}),
        float_format="%.17g",
    )
    _io.write_csv(
        d / "steps.csv",
        pd.DataFrame(
            {
                "step": np.arange(ss.n_steps),
                "time": ss.times(),
                "hours": np.full(ss.n_steps, h),
                "weight": np.full(ss.n_steps, h * day_weight),
            }
        ),
        float_format="%.17g",
    )


_WRITERS = {
    "long": _write_long,
    "wide": _write_wide,
    "pypsa": _write_pypsa,
    "gams": _write_gams,
    "plexos": _write_plexos,
    "pyomo": _write_pyomo,
}

_PER_UNIT_FORMATS = ("pypsa", "gams", "pyomo")


def export(
    ss: ScenarioSet,
    fmt: str,
    out: str | os.PathLike,
    *,
    start: Any = None,
    day_weight: float | None = None,
    seed: int | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write ``ss`` in format ``fmt`` into the directory ``out`` (atomically).

    Parameters
    ----------
    ss : ScenarioSet
    fmt : {"long", "wide", "pypsa", "gams", "plexos", "pyomo"}
    out : path
        Output directory. An existing one must be empty, or (with ``overwrite``) an export
        directory that holds only what scengen wrote; it is replaced only once the new one is
        complete.
    start : str, optional
        Date of the first snapshot (``pypsa``, ``plexos``; ``long`` adds a ``timestamp`` column
        when given). Default 2020-01-01.
    day_weight : float, optional
        Days the exported day stands for in costs [d], default 1: the snapshot weightings of
        ``pypsa`` and the step weights of ``gams`` and ``pyomo`` are step length x day weight
        [h] (365 scales a solved objective to a year). Recorded in ``export.json``.
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

    Raises
    ------
    ScengenError
        On an unknown format, a bad start date or day weight, values outside [0, 1] p.u., or an
        output directory that may not be written.
    """
    check_format(fmt)
    if start is not None or fmt in ("pypsa", "plexos"):
        parse_start(start)
    weight = check_day_weight(day_weight)
    check_values(ss)
    with _io.staging_dir(out, "export", overwrite=overwrite, inputs=inputs) as d:
        extra = _WRITERS[fmt](ss, d, start, weight)
        meta = {
            "format": fmt,
            "n_scenarios": ss.n_scenarios,
            "scenarios": scenario_names(ss),
            "ids": [int(i) for i in ss.ids],
            "sites": list(ss.sites),
            "capacities": [float(c) for c in ss.capacities],
            "units": ss.units,
            "value_units": "p.u." if fmt in _PER_UNIT_FORMATS else f"{ss.units} (p.u. x capacity)",
            "step_minutes": ss.step_minutes,
            "step_hours": step_hours(ss),
            "day_weight": weight,
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
