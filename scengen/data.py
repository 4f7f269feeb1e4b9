"""Measured data: read a CSV of wind / PV output, validate it, build daily per-unit Profiles,
split them into train / test days and fingerprint them.

Input format
------------
A CSV file (UTF-8, comma-separated, header row) with a ``timestamp`` column and one numeric
column per site::

    timestamp,wf1,wf2
    2009-07-01T00:00:00,0.045,0.233
    2009-07-01T01:00:00,0.085,0.249

``timestamp`` is ISO 8601: naive (``2020-01-01T10:00:00`` or ``2020-01-01 10:00``), UTC
(``...Z``) or with a UTC offset (``...+10:00``, ``...-0700``, ``...+10``). An empty cell is a
missing value.

Days
----
Days are the *local calendar days as written*: the wall-clock time in the written offset is kept,
the offset is stripped and recorded in :attr:`Profiles.utc_offset`. A file that mixes offsets
(daylight saving time, e.g. ``+01:00`` in winter and ``+02:00`` in summer) is converted to the
smallest offset in the file (standard time), so every day has the same 24 h and a PV peak does not
jump by an hour between seasons; ``utc_offset`` then is that smallest offset.

The step length is the file's own (the most common difference between consecutive timestamps;
24 h must be a multiple of it) or a coarser ``resolution`` (mean over the sub-steps; a coarse step
with a missing sub-step is missing). A day with any missing step (an empty cell or an absent row)
is dropped and counted in :attr:`Profiles.n_dropped_days`; nothing is filled. Days with no row at
all in the file are neither kept nor counted.

Scaling
-------
Profiles are in per-unit of capacity, ``values = data / capacity``. Without a capacity the data
must already be per-unit. Values outside [0, 1] after scaling are an error unless ``clip=True``
(then they are clipped and counted in :attr:`Profiles.n_clipped`); deviations up to ``1e-9`` are
rounding and clipped silently.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet

SPLIT_CSV = "split.csv"
PROFILES_NPZ = "profiles.npz"

#: name of the time column of a measurement CSV
TIMESTAMP = "timestamp"
#: conditioning labels understood by :func:`labels`
CONDITIONS = ("month", "season")
#: season names of the labels 0..3 of ``labels(p, "season")``
SEASONS = ("DJF", "MAM", "JJA", "SON")
#: dropped dates listed in metadata (all are counted)
SUMMARY_DATES = 20
#: values within this distance outside [0, 1] are rounding, clipped without counting [p.u.]
RANGE_TOL = 1e-9

_EXTRA = "\x00extra"  # catches a field beyond the header
_MIN_NS = 60 * 10**9
_DAY_NS = 24 * 60 * _MIN_NS
_DAY_MIN = 24 * 60

# wall-clock part (date + time) and optional UTC designator / offset of an ISO 8601 timestamp
_TS_RE = re.compile(
    r"^(?P<wall>.*\d[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)\s*"
    r"(?P<off>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
# unit suffix of a column name -> units of its values
_UNIT_SUFFIXES = {
    "_mwh": "MWh/h",
    "_kwh": "kWh/h",
    "_gwh": "GWh/h",
    "_mw": "MW",
    "_kw": "kW",
    "_gw": "GW",
}


@dataclass
class Profiles:
    """Daily profiles of measured output.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(n_days, n_sites, n_steps)``, output in per-unit of capacity [p.u.].
    dates : numpy.ndarray
        ``datetime64[D]`` local calendar date of each day, shape ``(n_days,)``.
    sites : list of str
        Site (column) names.
    step_minutes : int
        Step length [min].
    capacities : numpy.ndarray
        Capacity of each site in ``units``; ``values * capacities`` is the original output.
    units : str
        Units of the original data (``"p.u."`` when it already was per-unit).
    start_minute : int
        Clock time of step 0 [min after midnight], normally 0.
    source : str
        Path of the CSV the profiles came from.
    n_dropped_days : int
        Days dropped because a step was missing.
    dropped_dates : numpy.ndarray
        ``datetime64[D]`` dates of the dropped days.
    n_clipped : int
        Values clipped into [0, 1] (only with ``clip=True``).
    fingerprint : str
        SHA-256 of the per-unit values, dates, sites and step length.
    utc_offset : str or None
        UTC offset of the timestamps as written (``"+10:00"``, ``"Z"``), ``None`` for naive.
    extra : dict
        Further plain values about the source (e.g. ``native_step_minutes``).
    """

    values: np.ndarray
    dates: np.ndarray
    sites: list[str]
    step_minutes: int = 60
    capacities: np.ndarray | None = None
    units: str = "p.u."
    start_minute: int = 0
    source: str = ""
    n_dropped_days: int = 0
    dropped_dates: np.ndarray | None = None
    n_clipped: int = 0
    fingerprint: str = ""
    utc_offset: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        self.dates = np.asarray(self.dates, dtype="datetime64[D]")
        self.dropped_dates = np.asarray(
            [] if self.dropped_dates is None else self.dropped_dates, dtype="datetime64[D]"
        )
        if self.capacities is None:
            self.capacities = np.ones(self.values.shape[1])
        self.capacities = np.asarray(self.capacities, dtype=np.float64)
        if not self.fingerprint:
            self.fingerprint = fingerprint(self)

    @property
    def n_days(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[2])

    def months(self) -> np.ndarray:
        """Calendar month (1-12) of each day."""
        return self.dates.astype("datetime64[M]").astype(int) % 12 + 1

    def subset(self, index: Any) -> Profiles:
        """The days ``index`` (boolean mask or integer positions) as new Profiles."""
        return Profiles(
            values=self.values[index],
            dates=self.dates[index],
            sites=list(self.sites),
            step_minutes=self.step_minutes,
            capacities=self.capacities.copy(),
            units=self.units,
            start_minute=self.start_minute,
            source=self.source,
            n_dropped_days=self.n_dropped_days,
            dropped_dates=self.dropped_dates,
            n_clipped=self.n_clipped,
            utc_offset=self.utc_offset,
            extra=dict(self.extra),
        )

    def dropped_note(self, first: int = 3) -> str | None:
        """One line on the dropped days (count and first dates), ``None`` when none were."""
        if not self.n_dropped_days:
            return None
        dates = ", ".join(str(d) for d in self.dropped_dates[:first])
        more = ", ..." if self.n_dropped_days > first else ""
        return (
            f"{str(self.source)!r}: dropped {self.n_dropped_days} incomplete day(s) (a step missing "
            f"or empty): {dates}{more}"
        )

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[Profiles, Profiles]:
        """``(train, test)``: ``test_fraction`` of the days held out at random by date, seeded
        (see :func:`split_days`)."""
        return split_days(self, test_fraction, seed)

    def to_scenarios(self, **metadata: Any) -> ScenarioSet:
        """The days as an equally weighted ScenarioSet (dates kept)."""
        return ScenarioSet(
            values=self.values,
            probabilities=None,
            sites=list(self.sites),
            step_minutes=self.step_minutes,
            capacities=self.capacities,
            units=self.units,
            start_minute=self.start_minute,
            dates=self.dates,
            metadata={"kind": "measured", "source": self.source, **metadata},
        )


@dataclass
class DataConfig:
    """Settings of the ``data`` section of a config.

    Parameters
    ----------
    path : str, optional
        Measurement CSV (a ``timestamp`` column and one column per site).
    sites : list of str, optional
        Columns to use (default: all but ``timestamp``).
    resolution : int, optional
        Step length to resample to [min] (default: the file's own).
    capacity : float, list, dict or "max", optional
        Capacity per site in the file's units: one number for all sites, a list in site order, a
        ``{site: capacity}`` mapping, or ``"max"`` (each site's maximum). Default: the data must
        already be per-unit.
    clip : bool, default False
        Clip values outside [0, 1] after scaling (counted and reported) instead of failing.
    test_fraction : float, default 0.2
        Share of days held out for evaluation.
    min_days : int, default 10
        Fewest complete days accepted.
    units : str, optional
        Units of the file's values, recorded with the outputs (default: from a column-name
        suffix such as ``_mw`` or ``_mwh``, else ``"file units"``; ``"p.u."`` without capacity).
    """

    path: str | None = None
    sites: list[str] | None = None
    resolution: int | None = None
    capacity: float | list[float] | dict[str, float] | str | None = None
    clip: bool = False
    test_fraction: float = 0.2
    min_days: int = 10
    units: str | None = None


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


def fingerprint(p: Profiles) -> str:
    """SHA-256 (hex) of the per-unit values, dates, sites and step length."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(np.round(p.values, 9)).tobytes())
    h.update(p.dates.astype("int64").tobytes())
    h.update(",".join(p.sites).encode())
    h.update(str(p.step_minutes).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# reading


def _offset_minutes(off: str) -> int:
    """``"Z"`` / ``"+10:00"`` / ``"-0700"`` / ``"+10"`` → minutes east of UTC."""
    if off in ("Z", "z"):
        return 0
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0))


def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _read_header(path: Path) -> list[str]:
    if not path.exists():
        raise FileNotFoundError(f"measurement file {str(path)!r} does not exist")
    if path.is_dir():
        raise ScengenError(f"measurement file {str(path)!r} is a directory; give a CSV file")
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
    except UnicodeDecodeError as e:
        raise ScengenError(
            f"measurement file {str(path)!r} is not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None
    if not header or all(not h.strip() for h in header):
        raise ScengenError(
            f"measurement file {str(path)!r} is empty; expected a header row with a "
            f"'{TIMESTAMP}' column and one column per site"
        )
    return [h.strip() for h in header]


def _read(path: str | os.PathLike, sites: Any) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Read and validate a measurement CSV.

    Returns the frame (naive wall-clock ``DatetimeIndex`` in the file's offset, one float column
    per site, sorted by time), the file line number of each row and info (``utc_offset``,
    ``utc_offsets``).
    """
    p = Path(path)
    name = str(p)
    header = _read_header(p)
    if TIMESTAMP not in header:
        hint = ""
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            hint = " (the file does not look comma-separated)"
        raise ScengenError(
            f"{name!r} has no '{TIMESTAMP}' column{hint}; columns found: {header[:20]}; "
            f"expected a '{TIMESTAMP}' column (ISO 8601) and one numeric column per site"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ScengenError(
            f"{name!r} has the column {dupes[0]!r} more than once; names must be unique"
        )
    available = [h for h in header if h != TIMESTAMP]
    if isinstance(sites, str):
        sites = [s.strip() for s in sites.split(",") if s.strip()]
    if sites:
        sites = [str(s) for s in sites]
        unknown = [s for s in sites if s not in available]
        if unknown:
            raise ScengenError(
                f"unknown site {unknown[0]!r} in {name!r}; available sites: {available}"
            )
        twice = sorted({s for s in sites if sites.count(s) > 1})
        if twice:
            raise ScengenError(f"site {twice[0]!r} is selected more than once")
    else:
        sites = available
    if not sites:
        raise ScengenError(
            f"{name!r} has no site columns, only '{TIMESTAMP}'; "
            "expected one numeric column per site"
        )
    if "" in sites:
        raise ScengenError(
            f"{name!r}: column {header.index('') + 1} has no name; every site column needs one "
            "(an index written by mistake? select the site columns with --sites)"
        )
    positions = sorted(header.index(c) for c in [TIMESTAMP, *sites])

    try:
        df = pd.read_csv(
            p,
            header=None,
            skiprows=1,
            names=[*header, _EXTRA],
            dtype={TIMESTAMP: str, _EXTRA: str},
            encoding="utf-8-sig",
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as e:
        msg = " ".join(str(e).split())
        raise ScengenError(f"{name!r} is not a readable CSV: {msg}") from None
    df = df.iloc[:, [*positions, len(header)]]
    lines = np.arange(len(df)) + 2  # header is line 1
    extra = df.pop(_EXTRA).notna().to_numpy()
    if extra.any():
        i = int(np.flatnonzero(extra)[0])
        raise ScengenError(
            f"{name!r} line {lines[i]} has more fields than the header ({len(header)} columns); "
            "every row needs one value per column"
        )
    blank = df.isna().all(axis=1).to_numpy()
    if blank.any():
        df = df.loc[~blank]
        lines = lines[~blank]
    if len(df) == 0:
        raise ScengenError(f"{name!r} has a header but no data rows")

    # --- timestamps ------------------------------------------------------------------------
    raw = df[TIMESTAMP]
    if raw.isna().any():
        i = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise ScengenError(
            f"{name!r} line {lines[i]}: the '{TIMESTAMP}' is empty; every row needs an "
            "ISO 8601 timestamp"
        )
    text = raw.astype(str).str.strip()
    parts = text.str.extract(_TS_RE)
    wall_text = parts["wall"].where(parts["wall"].notna(), text)
    try:
        wall = pd.to_datetime(wall_text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # e.g. an offset hidden where the pattern did not see it
        wall = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if getattr(wall.dtype, "tz", None) is not None:  # an offset the pattern did not see
        wall = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    bad = wall.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScengenError(
            f"{name!r} line {lines[i]}: timestamp {text.iloc[i]!r} is not an ISO 8601 date and "
            "time; allowed: '2020-01-31T13:00:00', optionally with 'Z' or a UTC offset such as "
            "'+10:00' or '-0700'"
        )
    t_ns = wall.to_numpy().astype("datetime64[ns]").astype(np.int64)

    off = parts["off"]
    has_off = off.notna().to_numpy()
    info: dict[str, Any] = {"utc_offset": None, "utc_offsets": []}
    if has_off.any():
        if not has_off.all():
            i = int(np.flatnonzero(~has_off)[0])
            j = int(np.flatnonzero(has_off)[0])
            raise ScengenError(
                f"{name!r} mixes timestamps without a UTC offset (line {lines[i]}: "
                f"{text.iloc[i]!r}) and with one (line {lines[j]}: {text.iloc[j]!r}); "
                "write all of them naive or all with an offset"
            )
        codes, uniq = pd.factorize(off)
        minutes = np.array([_offset_minutes(u) for u in uniq], dtype=np.int64)
        for u in uniq:
            if abs(_offset_minutes(u)) > 18 * 60:
                raise ScengenError(f"{name!r}: UTC offset {u!r} is out of range (at most ±18:00)")
        row_min = minutes[codes]
        target = int(minutes.min())
        distinct = sorted({int(m) for m in minutes})
        if len(distinct) > 1:
            t_ns = t_ns + (target - row_min) * _MIN_NS
        written = [str(u) for u, m in zip(uniq, minutes, strict=True) if m == target]
        info["utc_offset"] = (
            "Z" if all(w in ("Z", "z") for w in written) else _format_offset(target)
        )
        info["utc_offsets"] = [_format_offset(m) for m in distinct]

    order = np.argsort(t_ns, kind="stable")
    if (np.diff(order) != 1).any():
        t_ns, lines, text = t_ns[order], lines[order], text.iloc[order]
        df = df.iloc[order]
    dup = np.flatnonzero(np.diff(t_ns) == 0)
    if dup.size:
        i = int(dup[0])
        raise ScengenError(
            f"{name!r}: timestamp {text.iloc[i + 1]!r} (line {lines[i + 1]}) is duplicated "
            f"(same time as line {lines[i]}: {text.iloc[i]!r}); each time must appear once "
            "(for local time with daylight saving, write each timestamp's UTC offset or use UTC)"
        )

    # --- values ----------------------------------------------------------------------------
    out = {}
    for s in sites:
        col = df[s]
        if col.dtype.kind not in "fiu":
            num = pd.to_numeric(col, errors="coerce")
            badv = (num.isna() & col.notna()).to_numpy()
            if badv.any():
                i = int(np.flatnonzero(badv)[0])
                raise ScengenError(
                    f"{name!r} column {s!r} line {lines[i]}: value {col.iloc[i]!r} is not a "
                    "number; site columns must hold numbers (an empty cell is a missing value)"
                )
            col = num
        v = col.to_numpy(dtype=np.float64)
        inf = np.isinf(v)
        if inf.any():
            i = int(np.flatnonzero(inf)[0])
            raise ScengenError(
                f"{name!r} column {s!r} line {lines[i]}: value {df[s].iloc[i]!r} is not a "
                "finite number"
            )
        present = v[~np.isnan(v)]
        if present.size == 0:
            raise ScengenError(
                f"{name!r}: site {s!r} has no values (every cell is empty); "
                "leave it out with --sites"
            )
        if not np.any(present != 0):
            raise ScengenError(
                f"{name!r}: site {s!r} is zero at every time; a site without output cannot be "
                "scaled or learned, leave it out with --sites"
            )
        out[s] = v
    frame = pd.DataFrame(out, index=pd.DatetimeIndex(t_ns.astype("datetime64[ns]"), name=TIMESTAMP))
    return frame, lines, info


def read_measurements(path: str | os.PathLike, sites: list[str] | None = None) -> pd.DataFrame:
    """Read and validate a measurement CSV.

    Parameters
    ----------
    path : str or path-like
        CSV with a ``timestamp`` column (ISO 8601: naive, ``Z`` or a UTC offset such as
        ``+10:00`` or ``-0700``) and one numeric column per site.
    sites : list of str, optional
        Site columns to read (default: every column but ``timestamp``). Other columns are not
        read, so they may hold anything.

    Returns
    -------
    pandas.DataFrame
        One float column per site [units of the file], an empty cell as NaN, sorted by time. The
        index (``timestamp``) is the naive wall-clock time in the file's UTC offset (in the
        smallest one when the file mixes offsets). ``df.attrs`` holds ``source``, ``utc_offset``
        (``None``, ``"Z"`` or ``"+HH:MM"``) and ``utc_offsets`` (every offset found).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ScengenError
        Empty file, no ``timestamp`` column, an unparseable or duplicated timestamp, a
        non-numeric value, an unknown site, a site that is zero (or empty) everywhere, no site
        column. The message names the file, column, line and value.
    """
    df, _, info = _read(path, sites)
    df.attrs.update(source=str(path), **info)
    return df


# --------------------------------------------------------------------------------------------
# profiles


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


def summary(profiles: Profiles) -> dict[str, Any]:
    """Plain-value description of Profiles, for ``metadata.json`` and the report.

    Keys: ``source, sites, capacities, units, step_minutes, start_minute, n_steps,
    first_date, last_date, n_days, n_dropped_days, dropped_dates`` (the first
    :data:`SUMMARY_DATES`), ``n_clipped, fingerprint, utc_offset, utc_offsets`` (every offset
    found in the file, e.g. both of daylight saving time) and the ``extra`` values.
    """
    p = profiles
    return {
        "source": str(p.source),
        "sites": list(p.sites),
        "capacities": [float(c) for c in p.capacities],
        "units": p.units,
        "step_minutes": int(p.step_minutes),
        "start_minute": int(p.start_minute),
        "n_steps": int(p.n_steps),
        "first_date": str(p.dates.min()) if p.n_days else None,
        "last_date": str(p.dates.max()) if p.n_days else None,
        "n_days": p.n_days,
        "n_dropped_days": int(p.n_dropped_days),
        "dropped_dates": [str(d) for d in p.dropped_dates[:SUMMARY_DATES]],
        "n_clipped": int(p.n_clipped),
        "fingerprint": p.fingerprint,
        "utc_offset": p.utc_offset,
        "utc_offsets": list(p.extra.get("utc_offsets", [])),
        **{k: v for k, v in p.extra.items() if k != "utc_offsets"},
    }


def labels(profiles: Profiles, condition: str) -> np.ndarray:
    """Conditioning label of each day.

    Parameters
    ----------
    profiles : Profiles
    condition : {"month", "season"}
        ``"month"``: calendar month 1..12. ``"season"``: 0..3 for DJF, MAM, JJA, SON
        (:data:`SEASONS`). These are calendar seasons also for southern-hemisphere data, where
        label 2 (JJA) is winter.

    Returns
    -------
    numpy.ndarray
        int64, shape ``(n_days,)``.
    """
    months = profiles.months().astype(np.int64)
    if condition == "month":
        return months
    if condition == "season":
        return (months % 12) // 3
    raise ScengenError(f"condition {condition!r} is not known; allowed: {list(CONDITIONS)}")


# --------------------------------------------------------------------------------------------
# train / test split


def split_days(
    profiles: Profiles, test_fraction: float = 0.2, seed: int = 0
) -> tuple[Profiles, Profiles]:
    """Split days into train / test at random by date (seeded).

    ``round(test_fraction * n_days)`` days (at least 1, at most ``n_days - 1``) are held out.
    The choice depends only on the seed and the set of dates, so the same data and seed hold out
    the same dates.

    Returns
    -------
    train, test : Profiles
        Each in date order.
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)):
        raise ScengenError(f"test_fraction {test_fraction!r} must be a number in (0, 1)")
    if not 0 < test_fraction < 1:
        raise ScengenError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n = profiles.n_days
    if n < 2:
        raise ScengenError(f"cannot split {n} day(s) into train and test days; need at least 2")
    n_test = min(max(1, int(round(test_fraction * n))), n - 1)
    order = np.argsort(profiles.dates, kind="stable")
    rng = np.random.default_rng(seed)
    test = np.zeros(n, bool)
    test[order[rng.permutation(n)[:n_test]]] = True
    return profiles.subset(~test), profiles.subset(test)


def split_validation(
    train: Profiles, val_fraction: float, seed: int = 0
) -> tuple[Profiles, Profiles | None]:
    """Set ``val_fraction`` of the training days aside for validation, at random by date.

    ``round(val_fraction * n_days)`` days (at least 1 when ``val_fraction > 0``, and always at
    least 2 left for training) are drawn with their own random stream of ``seed``, so the test
    days of :func:`split_days` do not depend on the validation share.

    Returns
    -------
    train, validation : Profiles
        Each in date order; ``validation`` is None for ``val_fraction == 0`` or too few days.
    """
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise ScengenError(f"val_fraction {val_fraction!r} must be a number in [0, 1)")
    if not 0 <= val_fraction < 1:
        raise ScengenError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n = train.n_days
    n_val = min(max(1, int(round(val_fraction * n))), n - 2) if val_fraction > 0 else 0
    if n_val < 1:
        return train, None
    order = np.argsort(train.dates, kind="stable")
    rng = np.random.default_rng([int(seed), 1])
    val = np.zeros(n, bool)
    val[order[rng.permutation(n)[:n_val]]] = True
    return train.subset(~val), train.subset(val)


def save_split(
    run_dir: str | os.PathLike, train: Profiles, test: Profiles, val: Profiles | None = None
) -> None:
    """Record a train / (validation /) test split in a run directory.

    Writes ``split.csv`` (``date,set`` with set ``train``, ``val`` or ``test``) and
    ``profiles.npz`` (the per-unit values and dates of each part, sites, capacities, units, step
    length, UTC offset), so later stages can evaluate against the held-out days without the
    source CSV.
    """
    from scengen import _io

    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    parts = [("train", train), ("val", val), ("test", test)]
    parts = [(name, p) for name, p in parts if p is not None]
    split = pd.DataFrame(
        {
            "date": np.concatenate([p.dates for _, p in parts]).astype(str),
            "set": [name for name, p in parts for _ in range(p.n_days)],
        }
    ).sort_values("date", kind="stable")
    _io.write_csv(d / SPLIT_CSV, split)
    with _io.atomic_path(d / PROFILES_NPZ) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            train_values=train.values,
            train_dates=train.dates.astype("int64"),
            test_values=test.values,
            test_dates=test.dates.astype("int64"),
            sites=np.asarray(train.sites, dtype=str),
            capacities=train.capacities,
            step_minutes=np.int64(train.step_minutes),
            start_minute=np.int64(train.start_minute),
            units=np.asarray(train.units),
            source=np.asarray(train.source),
            utc_offset=np.asarray(train.utc_offset or ""),
            n_dropped_days=np.int64(train.n_dropped_days),
            n_clipped=np.int64(train.n_clipped),
            **(
                {}
                if val is None
                else {"val_values": val.values, "val_dates": val.dates.astype("int64")}
            ),
        )


def load_validation(run_dir: str | os.PathLike) -> Profiles | None:
    """The validation days recorded in a run directory (None for a run without them)."""
    f = Path(run_dir) / PROFILES_NPZ
    train, _ = load_split(run_dir)
    try:
        with np.load(f, allow_pickle=False) as z:
            if "val_values" not in z:
                return None
            values, dates = z["val_values"], z["val_dates"].astype("datetime64[D]")
    except Exception as e:  # noqa: BLE001 - a corrupt file: one line
        raise ScengenError(f"{str(f)!r} is not a valid {PROFILES_NPZ}: {e}") from None
    if values.ndim != 3 or values.shape[1:] != train.values.shape[1:] or len(dates) != len(values):
        raise ScengenError(f"{str(f)!r}: the validation days have shape {values.shape}")
    return replace(train, values=values, dates=dates)


def load_split(run_dir: str | os.PathLike) -> tuple[Profiles, Profiles]:
    """The ``(train, test)`` Profiles recorded in a run directory by :func:`save_split`."""
    f = Path(run_dir) / PROFILES_NPZ
    if not f.is_file():
        raise ScengenError(
            f"{str(run_dir)!r} has no {PROFILES_NPZ}; is it a run directory written by "
            "'scengen train'?"
        )
    try:
        with np.load(f, allow_pickle=False) as z:
            common = dict(
                sites=[str(s) for s in z["sites"]],
                capacities=z["capacities"],
                step_minutes=int(z["step_minutes"]),
                start_minute=int(z["start_minute"]),
                units=str(z["units"]),
                source=str(z["source"]),
                utc_offset=(str(z["utc_offset"]) or None) if "utc_offset" in z else None,
                n_dropped_days=int(z["n_dropped_days"]) if "n_dropped_days" in z else 0,
                n_clipped=int(z["n_clipped"]) if "n_clipped" in z else 0,
            )
            train = Profiles(
                values=z["train_values"], dates=z["train_dates"].astype("datetime64[D]"), **common
            )
            test = Profiles(
                values=z["test_values"], dates=z["test_dates"].astype("datetime64[D]"), **common
            )
    except Exception as e:  # truncated, empty, not a zip, a member missing or of a wrong kind
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ScengenError(f"{str(f)!r} is not a valid {PROFILES_NPZ}: {first}") from None
    for name, p in (("training", train), ("held-out", test)):
        v = p.values
        if (
            v.ndim != 3
            or p.dates.ndim != 1
            or p.capacities.ndim != 1
            or v.shape[0] != len(p.dates)
            or v.shape[1] != len(p.sites)
            or v.shape[1] != len(p.capacities)
            or not v.size
        ):
            raise ScengenError(
                f"{str(f)!r}: the {name} days have shape {v.shape} for dates of shape "
                f"{p.dates.shape} and {len(p.sites)} sites"
            )
        bad = ~np.isfinite(v) | (v < -RANGE_TOL) | (v > 1 + RANGE_TOL)
        if bad.any():
            d, s_, t = (int(a[0]) for a in np.nonzero(bad))
            raise ScengenError(
                f"{str(f)!r}: {name} day {p.dates[d]}, site {p.sites[s_]!r}, step {t} is "
                f"{v[d, s_, t]}, outside [0, 1] p.u.; the file is corrupt"
            )
    return train, test
