"""The ScenarioSet object and the scenario-directory layout every command reads and writes.

A scenario directory holds

``scenarios.csv``
    long layout, columns ``scenario,site,step,time,value``; ``time`` is the clock time of the step
    (``HH:MM``) and ``value`` is in the site's original units (per-unit times capacity).
``probabilities.csv``
    columns ``scenario,probability``; non-negative, summing to 1.
``metadata.json``
    sites, capacities, units, step length, seed, source and anything the producing stage adds.
``scenarios.npz``
    binary copy (per-unit values and probabilities) for fast reload of large sets.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scengen import _io
from scengen.errors import ScengenError

SCENARIOS_CSV = "scenarios.csv"
PROBABILITIES_CSV = "probabilities.csv"
METADATA_JSON = "metadata.json"
BINARY_NPZ = "scenarios.npz"

#: absolute tolerance on the sum of probabilities
PROB_TOL = 1e-9
#: tolerance on the per-unit range [0, 1] of scenario values (CSV values carry 7 digits)
VALUE_TOL = 1e-6


def check_probabilities(
    p: Any, n: int, *, normalize: bool = False, name: str = "probabilities"
) -> np.ndarray:
    """Validate a probability vector of length ``n`` and return it as float64.

    Parameters
    ----------
    p : array-like or None
        Probabilities; ``None`` gives equal weights ``1/n``.
    n : int
        Number of scenarios.
    normalize : bool, default False
        Rescale ``p`` to sum to 1 instead of requiring it (within 1e-9).
    """
    if p is None:
        return np.full(n, 1.0 / n)
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    if p.shape[0] != n:
        raise ScengenError(f"{name} has {p.shape[0]} entries but there are {n} scenarios")
    if not np.all(np.isfinite(p)):
        i = int(np.flatnonzero(~np.isfinite(p))[0])
        raise ScengenError(f"{name}[{i}] = {p[i]} is not a finite number")
    if np.any(p < 0):
        i = int(np.flatnonzero(p < 0)[0])
        raise ScengenError(f"{name}[{i}] = {p[i]:g} is negative; probabilities must be >= 0")
    total = float(p.sum())
    if total <= 0:
        raise ScengenError(f"{name} sum to {total:g}; they must sum to 1")
    if normalize:
        return p / total
    if abs(total - 1.0) > PROB_TOL:
        raise ScengenError(
            f"{name} sum to {total:.12g}, not 1 (tolerance {PROB_TOL:g}); "
            "fix them or pass --normalize"
        )
    return p


def _range_error(where: str, ss_units: str, value: float, cap: float) -> str:
    shown = (
        f"{value * cap:g} {ss_units} = {value:g} p.u. of capacity {cap:g}"
        if cap != 1
        else (f"{value:g} p.u.")
    )
    return (
        f"{where}: value {shown} is outside [0, capacity]; scenario values are output between 0 "
        f"and the site's capacity (tolerance {VALUE_TOL:g} p.u.)"
    )


def check_values(ss: ScenarioSet, source: str | None = None) -> None:
    """Raise when a value of ``ss`` is outside [0, 1] p.u. (0 to the site's capacity).

    Parameters
    ----------
    ss : ScenarioSet
    source : str, optional
        File the values came from, named in the message.
    """
    v = ss.values
    bad = (v < -VALUE_TOL) | (v > 1 + VALUE_TOL)
    if not bad.any():
        return
    i, j, k = (int(a[0]) for a in np.nonzero(bad))
    where = f"{source!r} " if source else ""
    raise ScengenError(
        _range_error(
            f"{where}scenario {int(ss.ids[i])}, site {ss.sites[j]!r}, step {k}",
            ss.units,
            float(v[i, j, k]),
            float(ss.capacities[j]),
        )
        + f" ({int(bad.sum())} such value(s))"
    )


def step_times(n_steps: int, step_minutes: int, start_minute: int = 0) -> list[str]:
    """Clock time ``HH:MM`` of each step of a day."""
    mins = (start_minute + step_minutes * np.arange(n_steps)) % (24 * 60)
    return [f"{m // 60:02d}:{m % 60:02d}" for m in mins]


@dataclass
class ScenarioSet:
    """Weighted daily scenarios of renewable output.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(n_scenarios, n_sites, n_steps)``, output in per-unit of capacity [p.u.].
    probabilities : numpy.ndarray
        Shape ``(n_scenarios,)``, non-negative, summing to 1.
    sites : list of str
        Site names, one per ``values[:, i]``.
    step_minutes : int
        Step length [min].
    capacities : numpy.ndarray, optional
        Capacity of each site in ``units`` (1.0 for per-unit data).
    units : str, default "p.u."
        Units of ``values * capacities`` (e.g. ``"MW"``).
    start_minute : int, default 0
        Clock time of step 0 [min after midnight].
    ids : numpy.ndarray, optional
        Integer label of each scenario (default ``0..n-1``); a reduced set keeps the labels of the
        chosen input scenarios.
    dates : numpy.ndarray, optional
        ``datetime64[D]`` date of each scenario when they are measured days.
    metadata : dict
        Provenance: source, seed, method, versions, ...
    """

    values: np.ndarray
    probabilities: np.ndarray | None = None
    sites: list[str] = field(default_factory=list)
    step_minutes: int = 60
    capacities: np.ndarray | None = None
    units: str = "p.u."
    start_minute: int = 0
    ids: np.ndarray | None = None
    dates: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = np.asarray(self.values)
        if v.ndim != 3:
            raise ScengenError(
                f"scenario values must have shape (n_scenarios, n_sites, n_steps), got {v.shape}"
            )
        if not np.issubdtype(v.dtype, np.floating):
            v = v.astype(np.float64)
        self.values = v
        n, s, t = v.shape
        if n == 0:
            raise ScengenError("a scenario set needs at least 1 scenario, got 0")
        bad = ~np.isfinite(v)
        if bad.any():
            i, j, k = (int(a[0]) for a in np.nonzero(bad))
            raise ScengenError(
                f"scenario {i}, site {j}, step {k} is {v[i, j, k]}; values must be finite numbers"
            )
        self.probabilities = check_probabilities(self.probabilities, n)
        if not self.sites:
            self.sites = [f"site{j + 1}" for j in range(s)]
        self.sites = [str(x) for x in self.sites]
        if len(self.sites) != s:
            raise ScengenError(f"{len(self.sites)} site names given for {s} sites in the values")
        if len(set(self.sites)) != s:
            raise ScengenError(f"site names must be unique, got {self.sites}")
        cap = (
            np.ones(s)
            if self.capacities is None
            else np.asarray(self.capacities, float).reshape(-1)
        )
        if cap.shape[0] != s or np.any(~np.isfinite(cap)) or np.any(cap <= 0):
            raise ScengenError(f"capacities must be {s} positive numbers, got {cap.tolist()}")
        self.capacities = cap
        self.step_minutes = int(self.step_minutes)
        if self.step_minutes <= 0:
            raise ScengenError(f"step_minutes must be positive, got {self.step_minutes}")
        self.ids = np.arange(n) if self.ids is None else np.asarray(self.ids, dtype=np.int64)
        if self.ids.shape != (n,):
            raise ScengenError(f"ids must have {n} entries, got {self.ids.shape}")
        if self.dates is not None:
            self.dates = np.asarray(self.dates, dtype="datetime64[D]")
            if self.dates.shape != (n,):
                raise ScengenError(f"dates must have {n} entries, got {self.dates.shape}")

    # ------------------------------------------------------------------ shape helpers
    @property
    def n_scenarios(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[2])

    def __len__(self) -> int:
        return self.n_scenarios

    def flat(self) -> np.ndarray:
        """Values as a 2-D array ``(n_scenarios, n_sites * n_steps)`` [p.u.]."""
        return self.values.reshape(self.n_scenarios, -1)

    def in_units(self) -> np.ndarray:
        """Values in the sites' original units (per-unit times capacity)."""
        return self.values * self.capacities[None, :, None]

    def times(self) -> list[str]:
        """Clock time ``HH:MM`` of each step."""
        return step_times(self.n_steps, self.step_minutes, self.start_minute)

    def subset(self, index: Any, probabilities: Any = None, **metadata: Any) -> ScenarioSet:
        """A new set with the scenarios ``index`` (probabilities renormalised unless given)."""
        index = np.asarray(index)
        if probabilities is None:
            p = self.probabilities[index]
            probabilities = p / p.sum()
        return ScenarioSet(
            values=self.values[index],
            probabilities=probabilities,
            sites=list(self.sites),
            step_minutes=self.step_minutes,
            capacities=self.capacities.copy(),
            units=self.units,
            start_minute=self.start_minute,
            ids=self.ids[index],
            dates=None if self.dates is None else self.dates[index],
            metadata={**self.metadata, **metadata},
        )

    def check_compatible(self, other: ScenarioSet, what: str = "scenario sets") -> None:
        """Raise if ``other`` has different sites or steps."""
        if list(other.sites) != list(self.sites):
            raise ScengenError(f"{what} have different sites: {self.sites} vs {other.sites}")
        if (other.n_steps, other.step_minutes) != (self.n_steps, self.step_minutes):
            raise ScengenError(
                f"{what} have different steps: {self.n_steps} x {self.step_minutes} min vs "
                f"{other.n_steps} x {other.step_minutes} min"
            )

    def to_frame(self) -> pd.DataFrame:
        """The long layout ``scenario, site, step, time, value`` (value in the sites' original
        units, per-unit times capacity) plus a ``probability`` column, one row per scenario,
        site and step."""
        frame = long_frame(self)
        frame["probability"] = np.repeat(self.probabilities, self.n_sites * self.n_steps)
        return frame

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        capacities: Any = None,
        units: str = "p.u.",
        step_minutes: int = 60,
        start_minute: int = 0,
        metadata: dict[str, Any] | None = None,
    ) -> ScenarioSet:
        """A set from a long frame with columns ``scenario`` (whole numbers), ``site``, ``step``
        (0 .. n_steps - 1), ``value`` [units] and optionally ``probability`` (one value per
        scenario; equal weights without it), as :meth:`to_frame` writes.

        ``capacities`` (one per site, in the order sites first appear) scale the values to
        per-unit; every (scenario, site, step) must appear once and every value lie in
        [0, capacity].
        """
        sites = list(pd.unique(frame["site"].astype(str))) if "site" in frame else None
        meta = {} if capacities is None else {"capacities": list(np.ravel(capacities))}
        values, ids, sites = _parse_long_frame(frame, "the frame", sites, meta)
        probs = None
        if "probability" in frame:
            per = frame.groupby("scenario", sort=False)["probability"]
            if (per.nunique() > 1).any():
                raise ScengenError("the frame gives one scenario several probabilities")
            probs = per.first().reindex(ids).to_numpy(float)
        ss = cls(
            values=values,
            probabilities=probs,
            sites=sites,
            step_minutes=step_minutes,
            capacities=capacities,
            units=units,
            start_minute=start_minute,
            ids=ids,
            metadata=dict(metadata or {}),
        )
        check_values(ss, "the frame")
        return ss

    def describe(self) -> dict[str, Any]:
        """Plain-dict summary written to ``metadata.json``."""
        return {
            "n_scenarios": self.n_scenarios,
            "sites": list(self.sites),
            "n_steps": self.n_steps,
            "step_minutes": self.step_minutes,
            "start_minute": self.start_minute,
            "capacities": [float(c) for c in self.capacities],
            "units": self.units,
            "value_units": f"{self.units} (per-unit x capacity)",
        }


# ---------------------------------------------------------------------- writing


def long_frame(ss: ScenarioSet, start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """The long layout ``scenario,site,step,time,value`` of scenarios ``start:stop``.

    ``value`` is in the sites' original units (per-unit times capacity).
    """
    stop = ss.n_scenarios if stop is None else min(stop, ss.n_scenarios)
    n, s, t = stop - start, ss.n_sites, ss.n_steps
    step = np.tile(np.arange(t, dtype=np.int32), n * s)
    return pd.DataFrame(
        {
            "scenario": np.repeat(ss.ids[start:stop], s * t),
            "site": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(s, dtype=np.int32), t), n), categories=list(ss.sites)
            ),
            "step": step,
            "time": pd.Categorical.from_codes(step, categories=ss.times()),
            "value": (ss.values[start:stop] * ss.capacities[None, :, None]).reshape(-1),
        }
    )


def _append_long_csv(ss: ScenarioSet, f: Any, *, header: bool, batch: int = 20_000) -> None:
    """Append the long CSV rows of ``ss`` to the open text file ``f``, in batches of scenarios
    (memory bounded); the column header first when ``header``."""
    for a in range(0, ss.n_scenarios, batch):
        long_frame(ss, a, a + batch).to_csv(
            f, index=False, header=header and a == 0, float_format="%.7g"
        )


def write_scenarios(
    ss: ScenarioSet,
    out: str | os.PathLike,
    *,
    extra_files: dict[str, Any] | None = None,
    binary: bool = True,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write a scenario directory atomically.

    Parameters
    ----------
    ss : ScenarioSet
    out : path
        Directory to create. An existing one must be empty, or (with ``overwrite``) a scenario
        directory that holds only what scengen writes; it is replaced only once the new one is
        complete.
    extra_files : dict, optional
        ``{file name: pandas.DataFrame | dict | str}`` written alongside (CSV, JSON or text).
    binary : bool, default True
        Also write ``scenarios.npz`` for fast reload.
    overwrite : bool, default False
        Replace an existing scenario directory.
    inputs : iterable of paths
        The inputs of the command; ``out`` may not be, or contain, any of them.

    Raises
    ------
    ScengenError
        When ``out`` may not be written (see :func:`scengen._io.check_output_dir`).
    """
    return write_scenarios_stream(
        [ss],
        out,
        n_scenarios=ss.n_scenarios,
        probabilities=ss.probabilities,
        binary=binary,
        overwrite=overwrite,
        inputs=inputs,
        extra_files=extra_files,
    )


#: rows of ``probabilities.csv`` formatted at a time by :func:`write_scenarios_stream`
_PROB_ROWS = 1_000_000
#: scenarios of a sample formatted by :func:`estimate_dir_bytes` to measure the CSV row length
_SAMPLE_SCENARIOS = 200
#: relative allowance of :func:`estimate_dir_bytes` for the CSV rows it does not format
_CSV_SLACK = 0.05


def _digit_chars(n: int) -> int:
    """Characters of the decimal numbers ``0 .. n-1`` written one after another."""
    total, lo, d = 0, 0, 1
    while lo < n:
        hi = min(n, 10**d)
        total += (hi - lo) * d
        lo, d = hi, d + 1
    return total


def estimate_dir_bytes(sample: ScenarioSet, n: int, *, binary: bool = True) -> int:
    """Size of a scenario directory of ``n`` scenarios like ``sample``, before writing it.

    The length of a ``scenarios.csv`` row is measured on (up to 200 of) the scenarios of
    ``sample``, plus a 5 % allowance; the ids (``0 .. n-1``), ``probabilities.csv`` (equal weights),
    ``scenarios.npz`` and ``metadata.json`` are counted exactly or bounded from above.

    Parameters
    ----------
    sample : ScenarioSet
        Scenarios of the set to write (e.g. its first chunk) with its sites, steps, capacities
        and metadata.
    n : int
        Number of scenarios of the directory.
    binary : bool, default True
        Count ``scenarios.npz``.

    Returns
    -------
    int
        Estimated size [bytes].
    """
    n = int(n)
    k = min(sample.n_scenarios, _SAMPLE_SCENARIOS)
    cells = sample.n_sites * sample.n_steps
    buf = io.StringIO()
    long_frame(sample, 0, k).to_csv(buf, index=False, float_format="%.7g")
    header, _, rows = buf.getvalue().partition("\n")
    id_chars = sum(len(str(int(i))) for i in sample.ids[:k]) * cells
    per_row = (len(rows.encode("utf-8")) - id_chars) / (k * cells)  # without the id
    csv = len(header) + 1 + per_row * n * cells * (1 + _CSV_SLACK) + _digit_chars(n) * cells
    probs = len("scenario,probability\n") + _digit_chars(n) + n * (len(f"{1 / n:.17g}") + 2)
    meta = len(_io.to_json({**sample.metadata, **sample.describe()})) + 4096
    npz = n * cells * sample.values.dtype.itemsize + 16 * n + 4096 if binary else 0
    return int(np.ceil(csv + probs + meta + npz))


def write_scenarios_stream(
    chunks: Iterable[ScenarioSet],
    out: str | os.PathLike,
    *,
    n_scenarios: int,
    probabilities: Any = None,
    binary: bool = True,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    progress: Callable[[int], None] | None = None,
    extra_files: dict[str, Any] | None = None,
) -> Path:
    """Write a scenario directory atomically from consecutive chunks of scenarios.

    The same files, byte for byte, as :func:`write_scenarios` of the concatenated set, holding
    one chunk (and the ids) in memory at a time: each chunk's rows are appended to
    ``scenarios.csv`` and its values to the ``values`` member of ``scenarios.npz`` (a ZIP64
    archive whose ``.npy`` header is written first, for the total shape).

    Parameters
    ----------
    chunks : iterable of ScenarioSet
        The scenarios in order, with the same sites, steps, capacities, units and metadata; the
        ids of each chunk are those it is written with (the chunks' probabilities are ignored).
    out : path
        Directory to create (see :func:`write_scenarios`).
    n_scenarios : int
        Total number of scenarios of the chunks.
    probabilities : array-like, optional
        ``(n_scenarios,)`` probabilities of the whole set; equal weights when omitted.
    binary : bool, default True
        Also write ``scenarios.npz``.
    overwrite : bool, default False
        Replace an existing scenario directory.
    inputs : iterable of paths
        The inputs of the command; ``out`` may not be, or contain, any of them.
    progress : callable, optional
        Called with the number of scenarios written after each chunk.
    extra_files : dict, optional
        ``{file name: pandas.DataFrame | dict | str}`` written alongside (CSV, JSON or text).

    Raises
    ------
    ScengenError
        When ``out`` may not be written, or the chunks do not add up to ``n_scenarios``
        scenarios of one layout; nothing is left at ``out`` then.
    """
    n = int(n_scenarios)
    if n < 1:
        raise ScengenError(f"n_scenarios = {n} must be >= 1")
    probs = check_probabilities(probabilities, n)
    with _io.staging_dir(out, "scenarios", overwrite=overwrite, inputs=inputs) as d:
        first: ScenarioSet | None = None
        done, ids, dates = 0, [], []
        with contextlib.ExitStack() as stack:
            f = stack.enter_context(open(d / SCENARIOS_CSV, "w", encoding="utf-8", newline=""))
            zf = (
                stack.enter_context(zipfile.ZipFile(d / BINARY_NPZ, "w", allowZip64=True))
                if binary
                else None
            )
            values_member = None
            for chunk in chunks:
                if first is None:
                    first = chunk
                    if zf is not None:  # as numpy.savez: ZIP_STORED members, forced ZIP64
                        values_member = stack.enter_context(
                            zf.open("values.npy", "w", force_zip64=True)
                        )
                        shape = (n, first.n_sites, first.n_steps)
                        np.lib.format.write_array_header_1_0(
                            values_member,
                            {
                                "descr": np.lib.format.dtype_to_descr(first.values.dtype),
                                "fortran_order": False,
                                "shape": tuple(int(x) for x in shape),
                            },
                        )
                else:
                    first.check_compatible(chunk, "chunks of scenarios")
                    if not np.array_equal(chunk.capacities, first.capacities) or (
                        chunk.units != first.units or chunk.start_minute != first.start_minute
                    ):
                        raise ScengenError("chunks of scenarios have different capacities/units")
                if done + chunk.n_scenarios > n:
                    raise ScengenError(f"the chunks hold more than n_scenarios = {n} scenarios")
                _append_long_csv(chunk, f, header=done == 0)
                if values_member is not None:
                    v = np.ascontiguousarray(chunk.values, dtype=first.values.dtype)
                    values_member.write(v.tobytes())
                ids.append(chunk.ids)
                if chunk.dates is not None:
                    dates.append(chunk.dates)
                done += chunk.n_scenarios
                if progress is not None:
                    progress(done)
            if first is None or done != n:
                raise ScengenError(f"the chunks hold {done} scenarios, not n_scenarios = {n}")
            all_ids = np.concatenate(ids).astype(np.int64, copy=False)
            f.close()
            with open(d / PROBABILITIES_CSV, "w", encoding="utf-8", newline="") as pf:
                for a in range(0, n, _PROB_ROWS):
                    b = slice(a, a + _PROB_ROWS)
                    pd.DataFrame({"scenario": all_ids[b], "probability": probs[b]}).to_csv(
                        pf, index=False, header=a == 0, float_format="%.17g"
                    )
            if zf is not None:
                values_member.close()
                extra = {
                    "probabilities": probs,
                    "ids": all_ids,
                    "csv_size": np.int64((d / SCENARIOS_CSV).stat().st_size),
                }
                for key, val in extra.items():
                    with zf.open(f"{key}.npy", "w", force_zip64=True) as fid:
                        np.lib.format.write_array(fid, np.asanyarray(val))
        meta = {**first.metadata, **first.describe(), "scengen_output": "scenarios"}
        meta["n_scenarios"] = n
        if dates:
            if len(dates) != len(ids):
                raise ScengenError("some chunks of scenarios have dates and others not")
            meta["dates"] = [str(x) for x in np.concatenate(dates)]
        _io.write_json(d / METADATA_JSON, meta)
        for name, obj in (extra_files or {}).items():
            if isinstance(obj, pd.DataFrame):
                _io.write_csv(d / name, obj)
            elif isinstance(obj, str):
                _io.write_text(d / name, obj)
            else:
                _io.write_json(d / name, obj)
    return Path(out)


# ---------------------------------------------------------------------- reading


def is_scenario_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a directory with ``scenarios.csv`` or ``scenarios.npz``."""
    p = Path(path)
    return p.is_dir() and ((p / SCENARIOS_CSV).is_file() or (p / BINARY_NPZ).is_file())


def read_scenarios(path: str | os.PathLike, *, normalize: bool = False) -> ScenarioSet:
    """Read a scenario directory written by :func:`write_scenarios` (or by hand).

    ``scenarios.npz`` is used when present and consistent with ``scenarios.csv`` (same size);
    otherwise the CSV files are parsed. ``metadata.json`` is optional for hand-made directories
    (sites then come from the CSV in order of appearance, capacities are 1).
    """
    d = Path(path)
    if not d.exists():
        raise FileNotFoundError(f"scenario directory {str(d)!r} does not exist")
    if not d.is_dir():
        raise ScengenError(f"{str(d)!r} is not a scenario directory (expected a directory)")
    meta: dict[str, Any] = {}
    if (d / METADATA_JSON).is_file():
        try:
            meta = _io.read_json(d / METADATA_JSON)
        except (ValueError, UnicodeDecodeError) as e:
            raise ScengenError(f"{str(d / METADATA_JSON)!r} is not valid JSON: {e}") from None
        _check_metadata(meta, d / METADATA_JSON)
    csv, npz = d / SCENARIOS_CSV, d / BINARY_NPZ
    if not csv.is_file() and not npz.is_file():
        raise ScengenError(f"{str(d)!r} has no {SCENARIOS_CSV}; is it a scenario directory?")
    values = probs = ids = None
    from_npz = False
    if npz.is_file() and meta:
        try:
            with np.load(npz, allow_pickle=False) as z:
                if not csv.is_file() or int(z["csv_size"]) == csv.stat().st_size:
                    values, ids, probs = z["values"], z["ids"], z["probabilities"]
                    from_npz = True
        except Exception as e:  # truncated, not a zip, a member missing, pickled objects
            if not csv.is_file():
                first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
                raise ScengenError(f"{str(npz)!r} cannot be read ({first})") from None
            values = probs = ids = None  # the CSV is the primary copy
        problem = _npz_problem(values, ids, probs, meta) if from_npz else None
        if from_npz and not problem and csv.is_file():
            mismatch = _npz_csv_mismatch(values, csv, meta)
            if mismatch:  # two copies that disagree: which is right cannot be told
                raise ScengenError(
                    f"{str(d)!r}: {mismatch}; the files do not belong together (remove "
                    f"{BINARY_NPZ} to read {SCENARIOS_CSV} alone)"
                )
        if problem and csv.is_file():  # an unusable binary copy: the CSV is the primary one
            values = probs = ids = None
            from_npz = False
        elif problem:
            raise ScengenError(f"{str(npz)!r} is inconsistent: {problem}")

    sites = meta.get("sites")
    if values is None:
        values, ids, sites = _parse_long_csv(csv, sites, meta)
    pfile = d / PROBABILITIES_CSV
    if pfile.is_file():
        probs = _parse_probabilities(pfile, ids)
    elif probs is None:
        probs = None  # equal weights
    n_steps = meta.get("n_steps")
    if n_steps is not None and int(n_steps) != values.shape[2]:
        raise ScengenError(
            f"{str(d)!r}: metadata.json says {n_steps} steps but the scenarios have "
            f"{values.shape[2]}; the files do not belong together"
        )
    dates = meta.get("dates")
    ss = ScenarioSet(
        values=values,
        probabilities=check_probabilities(
            probs, len(values), normalize=normalize, name=f"probabilities in {str(pfile)!r}"
        )
        if probs is not None
        else None,
        sites=[] if sites is None else list(sites),
        step_minutes=int(meta.get("step_minutes", 60)),
        capacities=np.asarray(meta["capacities"]) if "capacities" in meta else None,
        units=meta.get("units", "p.u."),
        start_minute=int(meta.get("start_minute", 0)),
        ids=ids,
        dates=np.asarray(dates, dtype="datetime64[D]") if dates else None,
        metadata={k: v for k, v in meta.items() if k not in ("dates",)},
    )
    check_values(ss, str(npz if from_npz else csv))
    return ss


def _npz_problem(values: Any, ids: Any, probs: Any, meta: dict[str, Any]) -> str | None:
    """What makes the arrays of ``scenarios.npz`` unusable, or ``None``."""
    if values.dtype.kind != "f" or values.ndim != 3:
        return f"values are {values.dtype} of shape {values.shape}, not floats (n, sites, steps)"
    if ids.dtype.kind not in "iu" or ids.shape != values.shape[:1]:
        return f"ids are {ids.dtype} of shape {ids.shape} for {values.shape[0]} scenarios"
    if probs.dtype.kind != "f" or probs.shape != ids.shape:
        return f"probabilities are {probs.dtype} of shape {probs.shape}"
    if "sites" in meta and len(meta["sites"]) != values.shape[1]:
        return f"{values.shape[1]} sites, metadata.json lists {len(meta['sites'])}"
    return None


def _npz_csv_mismatch(values: np.ndarray, csv: Path, meta: dict[str, Any]) -> str | None:
    """Compare the first scenario of ``scenarios.csv`` with the binary copy (per-unit times the
    capacities of ``metadata.json``): a mismatch means the files do not belong together."""
    s, t = values.shape[1:]
    try:
        head = pd.read_csv(csv, nrows=s * t, usecols=["value"])["value"].to_numpy(float)
    except Exception:  # unreadable: the CSV path reports it
        return "scenarios.csv cannot be compared"
    caps = np.asarray(meta.get("capacities", np.ones(s)), float)
    if head.shape != (s * t,) or caps.shape != (s,):
        return "scenarios.csv does not match"
    expect = (values[0].astype(np.float64) * caps[:, None]).reshape(-1)
    if not np.allclose(head, expect, rtol=1e-6, atol=1e-9 * max(1.0, float(np.abs(caps).max()))):
        return "scenarios.csv and metadata.json's capacities do not match the binary copy"
    return None


def _check_metadata(meta: Any, path: Path) -> None:
    """Raise unless ``metadata.json`` holds a mapping whose entries that reading uses have the
    right types (sites, n_steps, step_minutes, start_minute, capacities, units, dates)."""
    where = repr(str(path))
    if not isinstance(meta, dict):
        raise ScengenError(f"{where} must hold a JSON object, got {type(meta).__name__}")

    def bad(key: str, what: str) -> ScengenError:
        return ScengenError(f"{where}: {key} = {meta[key]!r} must be {what}")

    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    sites = meta.get("sites")
    if "sites" in meta and not (
        isinstance(sites, list) and sites and all(isinstance(x, str) for x in sites)
    ):
        raise bad("sites", "a list of site names")
    if "n_steps" in meta and not (whole(meta["n_steps"]) and meta["n_steps"] >= 1):
        raise bad("n_steps", "a whole number >= 1")
    if "step_minutes" in meta and not (
        whole(meta["step_minutes"]) and 1 <= meta["step_minutes"] <= 24 * 60
    ):
        raise bad("step_minutes", "a step length in minutes (1 to 1440)")
    if "start_minute" in meta and not (
        whole(meta["start_minute"]) and 0 <= meta["start_minute"] < 24 * 60
    ):
        raise bad("start_minute", "a minute of the day (0 to 1439)")
    caps = meta.get("capacities")
    if "capacities" in meta and not (
        isinstance(caps, list)
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in caps)
        and (sites is None or len(caps) == len(sites))
    ):
        raise bad("capacities", "a list of numbers, one per site")
    if "units" in meta and not isinstance(meta["units"], str):
        raise bad("units", "a text such as 'MW'")
    dates = meta.get("dates")
    if dates:
        try:
            np.asarray(dates, dtype="datetime64[D]")
        except (TypeError, ValueError):
            raise bad("dates", "a list of dates (YYYY-MM-DD)") from None


def _integer_column(col: pd.Series, csv: Path) -> pd.Series:
    """``col`` (``scenario`` or ``step``) as int64; an error naming the row of a non-integer."""
    num = pd.to_numeric(col, errors="coerce")
    ok = num.notna() & np.isfinite(num) & (num == np.round(num)) & (num.abs() < 2**62)
    if not ok.all():
        r = int(np.flatnonzero(~ok.to_numpy())[0])
        raise ScengenError(
            f"{str(csv)!r} data row {r + 1}: {col.name} {str(col.iloc[r])!r} is not a whole number"
        )
    return num.astype(np.int64)


def _parse_long_csv(csv: Path, sites: list[str] | None, meta: dict[str, Any]):
    try:
        df = pd.read_csv(csv, usecols=lambda c: c in {"scenario", "site", "step", "value"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ScengenError(f"cannot parse {str(csv)!r}: {str(e).splitlines()[0]}") from None
    return _parse_long_frame(df, csv, sites, meta)


def _parse_long_frame(df: pd.DataFrame, csv: Any, sites: list[str] | None, meta: dict[str, Any]):
    """Values ``(n, sites, steps)`` [p.u.], ids and sites of a long frame; errors name ``csv``
    (a file or a description) and the row."""
    df = df.copy()
    missing = {"scenario", "site", "step", "value"} - set(df.columns)
    if missing:
        raise ScengenError(
            f"{str(csv)!r} lacks column(s) {sorted(missing)}; expected scenario,site,step,time,value"
        )
    if len(df) == 0:
        raise ScengenError(f"{str(csv)!r} has a header but no data rows")
    for col in ("scenario", "step"):
        df[col] = _integer_column(df[col], csv)
    if not pd.api.types.is_numeric_dtype(df["value"]):
        num = pd.to_numeric(df["value"], errors="coerce")
        bad = (num.isna() & df["value"].notna()).to_numpy()
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ScengenError(
                f"{str(csv)!r} data row {r + 1}: value {df['value'].iloc[r]!r} is not a number"
            )
        df["value"] = num
    if df["value"].isna().any():
        row = int(np.flatnonzero(df["value"].isna().to_numpy())[0])
        raise ScengenError(f"{str(csv)!r} has a missing/NaN value at data row {row + 1}")
    df["site"] = df["site"].astype(str)
    found = list(pd.unique(df["site"]))
    if sites is None:
        sites = found
    elif set(found) != set(sites):
        raise ScengenError(f"{str(csv)!r} has sites {found} but metadata.json lists {sites}")
    ids = pd.unique(df["scenario"])
    steps = np.sort(pd.unique(df["step"]))
    n, s, t = len(ids), len(sites), len(steps)
    if len(df) != n * s * t or not np.array_equal(steps, np.arange(t)):
        raise ScengenError(
            f"{str(csv)!r} is not a complete grid: {len(df)} rows for {n} scenarios x {s} sites x "
            f"{t} steps (steps must be 0..{t - 1})"
        )
    cap = np.asarray(meta.get("capacities", np.ones(s)), float)
    if cap.shape != (s,) or not np.all(np.isfinite(cap)) or np.any(cap <= 0):
        raise ScengenError(
            f"{str(csv)!r}: metadata.json capacities {cap.tolist()} must be {s} positive numbers"
        )
    pu = df["value"].to_numpy(float) / cap[pd.Index(sites).get_indexer(df["site"])]
    bad = (pu < -VALUE_TOL) | (pu > 1 + VALUE_TOL)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        j = sites.index(df["site"].iloc[r])
        raise ScengenError(
            _range_error(
                f"{str(csv)!r} data row {r + 1} (scenario {df['scenario'].iloc[r]}, site "
                f"{sites[j]!r}, step {df['step'].iloc[r]})",
                str(meta.get("units", "p.u.")),
                float(pu[r]),
                float(cap[j]),
            )
            + f" ({int(bad.sum())} such value(s))"
        )
    wide = df.pivot_table(
        index="scenario", columns=["site", "step"], values="value", aggfunc="first"
    )
    wide = wide.reindex(index=ids, columns=pd.MultiIndex.from_product([sites, steps]))
    if wide.isna().any().any():
        raise ScengenError(f"{str(csv)!r} has duplicate or missing (scenario, site, step) rows")
    values = wide.to_numpy(float).reshape(n, s, t) / cap[None, :, None]
    return values, np.asarray(ids, dtype=np.int64), sites


def _parse_probabilities(pfile: Path, ids: np.ndarray) -> np.ndarray:
    try:
        pdf = pd.read_csv(pfile)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ScengenError(f"cannot parse {str(pfile)!r}: {str(e).splitlines()[0]}") from None
    if not {"scenario", "probability"} <= set(pdf.columns):
        raise ScengenError(
            f"{str(pfile)!r} must have columns scenario,probability; got {list(pdf.columns)}"
        )
    p = pd.to_numeric(pdf["probability"], errors="coerce")
    if p.isna().any():
        i = int(np.flatnonzero(p.isna().to_numpy())[0])
        raise ScengenError(
            f"{str(pfile)!r} row {i + 1}: probability {pdf['probability'][i]!r} is not a number"
        )
    s = pd.Series(p.to_numpy(float), index=pdf["scenario"].to_numpy())
    if s.index.has_duplicates or set(s.index) != set(ids.tolist()):
        raise ScengenError(
            f"{str(pfile)!r} does not list each scenario of scenarios.csv exactly once"
        )
    return s.reindex(ids).to_numpy(float)
