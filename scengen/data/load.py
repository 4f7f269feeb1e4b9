"""Daily per-unit profiles from a measurement CSV: step and grid, resolution, capacities and
units, scaling and range checks, dropped days (:func:`load_profiles`, :func:`load_from_config`).

The rules (local calendar days, step, scaling) are described in :mod:`scengen.data`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from scengen.data.profiles import RANGE_TOL, DataConfig, Profiles
from scengen.data.read import _DAY_MIN, _DAY_NS, _MIN_NS, _read
from scengen.errors import ScengenError

# unit suffix of a column name -> units of its values
_UNIT_SUFFIXES = {
    "_mwh": "MWh/h",
    "_kwh": "kWh/h",
    "_gwh": "GWh/h",
    "_mw": "MW",
    "_kw": "kW",
    "_gw": "GW",
}


def load_from_config(cfg: DataConfig) -> Profiles:
    """Build Profiles from a :class:`DataConfig`."""
    if not cfg.path:
        raise ScengenError("data.path is not set; give the measurement CSV")
    return load_profiles(
        cfg.path,
        sites=cfg.sites,
        resolution=cfg.resolution,
        capacity=cfg.capacity,
        clip=cfg.clip,
        min_days=cfg.min_days,
        units=cfg.units,
    )


def _mode(a: np.ndarray) -> int:
    u, c = np.unique(a, return_counts=True)
    return int(u[np.argmax(c)])


#: units recorded when neither the column names nor ``units`` say what they are
UNKNOWN_UNITS = "file units"


def _units(sites: list[str], capacity: Any) -> str:
    """Units of the file's values: ``p.u.`` without capacity, else the column names' common
    unit suffix (``wind_mwh`` -> ``MWh/h``), else :data:`UNKNOWN_UNITS`."""
    if capacity is None:
        return "p.u."
    found = set()
    for s in sites:
        low = s.lower()
        found.add(next((u for k, u in _UNIT_SUFFIXES.items() if low.endswith(k)), UNKNOWN_UNITS))
    return found.pop() if len(found) == 1 else UNKNOWN_UNITS


def _capacities(capacity: Any, df: pd.DataFrame, source: str) -> np.ndarray | None:
    """Capacity per site [file units] from the ``capacity`` argument (``None``: per-unit)."""
    sites = list(df.columns)
    allowed = (
        "allowed: a positive number, a list with one per site in site order, a {site: value} "
        "mapping or 'max'"
    )
    if capacity is None:
        return None
    if isinstance(capacity, str):
        text = capacity.strip()
        if text.lower() == "max":
            cap = df.max(axis=0).to_numpy(dtype=np.float64)
            for s, c in zip(sites, cap, strict=True):
                if not c > 0:
                    raise ScengenError(
                        f"capacity 'max': site {s!r} in {source!r} has maximum {c:g}, not "
                        "positive; give its capacity explicitly"
                    )
            return cap
        try:
            capacity = float(text)
        except ValueError:
            raise ScengenError(f"capacity {capacity!r} is not understood; {allowed}") from None
    if isinstance(capacity, dict):
        unknown = [k for k in capacity if k not in sites]
        if unknown:
            raise ScengenError(f"capacity given for unknown site {unknown[0]!r}; sites: {sites}")
        missing = [s for s in sites if s not in capacity]
        if missing:
            raise ScengenError(
                f"capacity mapping has no value for site {missing[0]!r}; give one for each of "
                f"{sites}"
            )
        values = [capacity[s] for s in sites]
    elif isinstance(capacity, (list, tuple, np.ndarray)):
        values = list(capacity)
        if len(values) != len(sites):
            raise ScengenError(
                f"capacity lists {len(values)} values but there are {len(sites)} sites "
                f"{sites}; give one per site in that order"
            )
    elif isinstance(capacity, (int, float, np.number)) and not isinstance(capacity, bool):
        values = [capacity] * len(sites)
    else:
        raise ScengenError(f"capacity {capacity!r} is not understood; {allowed}")
    out = []
    for s, v in zip(sites, values, strict=True):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ScengenError(f"capacity of site {s!r} = {v!r} is not a number") from None
        if isinstance(v, bool) or not np.isfinite(f) or f <= 0:
            raise ScengenError(f"capacity of site {s!r} = {v!r} must be a positive number")
        out.append(f)
    return np.asarray(out, dtype=np.float64)


def _stamp(date_ns: int, minute: int, utc_offset: str | None) -> str:
    t = np.datetime64(int(date_ns + minute * _MIN_NS), "ns").astype("datetime64[m]")
    return str(t) + (utc_offset or "")


def load_profiles(
    path: str | os.PathLike,
    *,
    sites: list[str] | None = None,
    resolution: int | None = None,
    capacity: Any = None,
    clip: bool = False,
    min_days: int = 10,
    units: str | None = None,
) -> Profiles:
    """Read a measurement CSV and build daily per-unit profiles.

    Parameters
    ----------
    path : str or path-like
        Measurement CSV, see :func:`read_measurements`.
    sites : list of str, optional
        Site columns to use (default: all).
    resolution : int, optional
        Step length of the profiles [min]: a multiple of the file's own step that divides 24 h.
        A coarse step is the mean of its sub-steps, missing if any of them is missing. Default:
        the file's step (the most common difference between consecutive timestamps).
    capacity : float, list, dict or "max", optional
        Capacity per site in the file's units (one number, a list in site order, a
        ``{site: value}`` mapping, or ``"max"``: each site's maximum over the file). The profiles
        are :math:`x / c` [p.u.]. Default ``None``: the data is already per-unit.
    clip : bool, default False
        Clip values outside [0, 1] after scaling and count them (``n_clipped``) instead of
        raising.
    min_days : int, default 10
        Fewest complete days accepted.
    units : str, optional
        Units of the file's values (see :class:`DataConfig`).

    Returns
    -------
    Profiles
        ``values`` of shape ``(n_days, n_sites, 24 h / step)`` for the complete local days;
        days with a missing step are dropped, counted in ``n_dropped_days`` and listed in
        ``dropped_dates``.

    Raises
    ------
    FileNotFoundError, ScengenError
        Every problem of :func:`read_measurements`; a step that does not divide 24 h; a
        timestamp off the step grid; days written at a coarser step than the file's (mixed
        resolutions); a bad ``resolution`` or ``capacity``; a value outside [0, 1] after scaling
        (without ``clip``); fewer than ``min_days`` complete days.
    """
    name = str(path)
    df, lines, info = _read(path, sites)
    site_names = list(df.columns)
    utc_offset = info["utc_offset"]
    t_ns = df.index.to_numpy().astype("datetime64[ns]").astype(np.int64)
    if len(t_ns) < 2:
        raise ScengenError(
            f"{name!r} has {len(t_ns)} timestamp; at least two are needed to find the step, and "
            f"{min_days} complete days"
        )

    # --- step and grid ---------------------------------------------------------------------
    step_ns = _mode(np.diff(t_ns))
    divisors = [d for d in range(1, _DAY_MIN + 1) if _DAY_MIN % d == 0]
    if step_ns % _MIN_NS or _DAY_MIN % (step_ns // _MIN_NS):
        raise ScengenError(
            f"{name!r}: the step between timestamps is {step_ns / _MIN_NS:g} min (the most common "
            f"difference), which does not divide 24 h; allowed steps [min]: "
            f"{', '.join(map(str, divisors))}"
        )
    step = step_ns // _MIN_NS
    tod = t_ns % _DAY_NS
    phase = tod % step_ns
    phase0 = _mode(phase)
    off_grid = np.flatnonzero(phase != phase0)
    if off_grid.size:
        i = int(off_grid[0])
        t = np.datetime64(int(t_ns[i]), "ns").astype("datetime64[s]")
        raise ScengenError(
            f"{name!r} line {lines[i]}: timestamp {str(t)!r} is not on the file's {step}-min "
            f"grid (steps at {_hhmm(phase0 // _MIN_NS)} + k x {step} min)"
        )
    start_minute = int(phase0 // _MIN_NS)
    _check_one_resolution(name, t_ns, step_ns)

    if resolution is None:
        res = step
    else:
        if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
            raise ScengenError(f"resolution {resolution!r} must be a whole number of minutes")
        res = int(resolution)
        if res <= 0 or res % step or _DAY_MIN % res:
            ok = [d for d in divisors if d % step == 0]
            raise ScengenError(
                f"resolution {res} min is not possible for {name!r} (step {step} min); allowed: a "
                f"multiple of {step} min that divides 24 h: {', '.join(map(str, ok))}"
            )
    k = res // step
    n_native = _DAY_MIN // step
    n_steps = _DAY_MIN // res

    # --- day x step x site array (NaN = missing) --------------------------------------------
    day_abs = t_ns // _DAY_NS
    days, inv = np.unique(day_abs, return_inverse=True)
    idx = ((tod - phase0) // step_ns).astype(np.int64)
    vals = df.to_numpy(dtype=np.float64)
    arr = np.full((len(days), n_native, len(site_names)), np.nan)
    arr[inv, idx, :] = vals
    coarse_missing = np.isnan(arr).reshape(len(days), n_steps, k, -1).any(axis=(2, 3))
    complete = ~coarse_missing.any(axis=1)
    caps = _capacities(capacity, df, name)
    if units is not None and (not isinstance(units, str) or not units.strip()):
        raise ScengenError(f"units {units!r} must be a non-empty text such as 'MW'")
    units = "p.u." if caps is None else (units.strip() if units else _units(site_names, capacity))
    dropped = days[~complete].astype("datetime64[D]")
    n_complete = int(complete.sum())
    n_dropped = len(days) - n_complete
    if n_complete < min_days:
        raise ScengenError(
            f"{name!r} has {n_complete} complete days at {res}-min resolution, fewer than the "
            f"{min_days} needed ({len(days)} days in the file, {n_dropped} dropped because a step "
            "is missing)"
        )

    # --- scaling and range -----------------------------------------------------------------
    arr = arr[complete]
    days = days[complete]
    if caps is not None:
        arr = arr / caps
    outside = (arr < -RANGE_TOL) | (arr > 1 + RANGE_TOL)
    n_out = int(outside.sum())
    if n_out and not clip:
        d, s, j = (int(x) for x in np.argwhere(outside)[0])
        pu = arr[d, s, j]
        stamp = _stamp(int(days[d]) * _DAY_NS, start_minute + s * step, utc_offset)
        if caps is None:
            what = f"value {pu:g}"
            fix = "if the data is not per-unit, give the capacities (--capacity VALUES or max)"
        else:
            what = f"value {pu * caps[j]:g} {units} = {pu:g} p.u. of capacity {caps[j]:g}"
            fix = "check the capacity"
        more = f" ({n_out - 1} more such values)" if n_out > 1 else ""
        raise ScengenError(
            f"{name!r}: site {site_names[j]!r} at {stamp}: {what} is outside [0, 1] after "
            f"scaling{more}; {fix}, or allow clipping with --clip (data.clip: true)"
        )
    np.clip(arr, 0.0, 1.0, out=arr)
    if k > 1:
        arr = arr.reshape(n_complete, n_steps, k, -1).mean(axis=2)

    return Profiles(
        values=arr.transpose(0, 2, 1),
        dates=days.astype("datetime64[D]"),
        sites=site_names,
        step_minutes=int(res),
        capacities=caps,
        units=units,
        start_minute=start_minute,
        source=name,
        n_dropped_days=int(n_dropped),
        dropped_dates=dropped,
        n_clipped=n_out,
        utc_offset=utc_offset,
        extra={
            "native_step_minutes": int(step),
            "n_rows": len(t_ns),
            "utc_offsets": list(info["utc_offsets"]),
        },
    )


def _check_one_resolution(name: str, t_ns: np.ndarray, step_ns: int) -> None:
    """Raise when whole days are written at a coarser step than the file's ``step_ns``.

    Such days (e.g. an hourly year in a 30-min file) would all be dropped as incomplete. A day
    counts as coarse when its timestamps are evenly spaced at a multiple of the step and cover
    the whole day; days with a few gaps are not.
    """
    day = t_ns // _DAY_NS
    diff = np.diff(t_ns)
    same = day[1:] == day[:-1]
    if not same.any():
        return
    d = pd.Series(diff[same]).groupby(day[1:][same])
    lo, hi = d.min(), d.max()
    rows = pd.Series(day).value_counts()
    coarse = lo.index[
        (lo.to_numpy() == hi.to_numpy())
        & (lo.to_numpy() > step_ns)
        & (rows.reindex(lo.index).to_numpy() * lo.to_numpy() == _DAY_NS)
    ]
    if coarse.size == 0:
        return
    coarse = np.sort(coarse.to_numpy())
    steps = sorted({int(lo[c] // _MIN_NS) for c in coarse})
    first = ", ".join(str(np.datetime64(int(c), "D")) for c in coarse[:3])
    raise ScengenError(
        f"{name!r} mixes resolutions: {coarse.size} day(s) are written at a "
        f"{'/'.join(map(str, steps))}-min step (first: {first}), the rest at "
        f"{step_ns // _MIN_NS} min; they would all be dropped as incomplete. Resample the file "
        "to one step before loading it"
    )


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
