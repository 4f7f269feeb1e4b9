"""Measured data: read a CSV of wind / PV output, validate it, build daily per-unit Profiles,
split them into train / test days and fingerprint them.

(Interface fixed; the full validation is being written. The minimal implementation below reads
clean hourly files so that the other stages can be developed against it.)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet


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
    n_clipped : int
        Values clipped into [0, 1] (only with ``clip=True``).
    fingerprint : str
        SHA-256 of the per-unit values, dates, sites and step length.
    utc_offset : str or None
        UTC offset of the timestamps as written (``"+10:00"``, ``"Z"``), ``None`` for naive.
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
    n_clipped: int = 0
    fingerprint: str = ""
    utc_offset: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        self.dates = np.asarray(self.dates, dtype="datetime64[D]")
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
            n_clipped=self.n_clipped,
            utc_offset=self.utc_offset,
            extra=dict(self.extra),
        )

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
    """

    path: str | None = None
    sites: list[str] | None = None
    resolution: int | None = None
    capacity: float | list[float] | dict[str, float] | str | None = None
    clip: bool = False
    test_fraction: float = 0.2
    min_days: int = 10


def load_from_config(cfg: DataConfig) -> Profiles:
    """Build Profiles from a :class:`DataConfig`."""
    if not cfg.path:
        raise ScengenError("data.path is not set; give the measurement CSV")
    return load_profiles(
        cfg.path, sites=cfg.sites, resolution=cfg.resolution, capacity=cfg.capacity, clip=cfg.clip
    )


def fingerprint(p: Profiles) -> str:
    """SHA-256 (hex) of the per-unit values, dates, sites and step length."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(np.round(p.values, 9)).tobytes())
    h.update(p.dates.astype("int64").tobytes())
    h.update(",".join(p.sites).encode())
    h.update(str(p.step_minutes).encode())
    return h.hexdigest()


def load_profiles(
    path: str | os.PathLike,
    *,
    sites: list[str] | None = None,
    resolution: int | None = None,
    capacity: Any = None,
    clip: bool = False,
) -> Profiles:
    """Read a measurement CSV and build daily per-unit profiles (minimal version)."""
    df = pd.read_csv(path)
    ts = pd.to_datetime(df.pop("timestamp").str.slice(0, 19))
    df.index = ts
    if sites:
        df = df[list(sites)]
    day = df.index.normalize()
    counts = df.notna().all(axis=1).groupby(day).sum()
    full = counts[counts == 24].index
    d = df[day.isin(full)]
    vals = d.to_numpy(float).reshape(len(full), 24, d.shape[1]).transpose(0, 2, 1)
    return Profiles(
        values=vals,
        dates=np.asarray(full.values, dtype="datetime64[D]"),
        sites=list(d.columns),
        step_minutes=60,
        source=str(path),
        n_dropped_days=int((counts != 24).sum()),
    )


def split_days(profiles: Profiles, test_fraction: float = 0.2, seed: int = 0) -> tuple[Profiles, Profiles]:
    """Split days into train / test at random by date (seeded)."""
    if not 0 < test_fraction < 1:
        raise ScengenError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    n_test = max(1, int(round(test_fraction * profiles.n_days)))
    test = np.zeros(profiles.n_days, bool)
    test[rng.choice(profiles.n_days, n_test, replace=False)] = True
    return profiles.subset(~test), profiles.subset(test)


SPLIT_CSV = "split.csv"
PROFILES_NPZ = "profiles.npz"


def save_split(run_dir: str | os.PathLike, train: Profiles, test: Profiles) -> None:
    """Record a train / test split in a run directory.

    Writes ``split.csv`` (``date,set`` with set ``train`` or ``test``) and ``profiles.npz`` (the
    per-unit values and dates of both parts, sites, capacities, units, step length), so later
    stages can evaluate against the held-out days without the source CSV.
    """
    from pathlib import Path

    from scengen import _io

    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    split = pd.DataFrame(
        {
            "date": np.concatenate([train.dates, test.dates]).astype(str),
            "set": ["train"] * train.n_days + ["test"] * test.n_days,
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
        )


def load_split(run_dir: str | os.PathLike) -> tuple[Profiles, Profiles]:
    """The ``(train, test)`` Profiles recorded in a run directory by :func:`save_split`."""
    from pathlib import Path

    f = Path(run_dir) / PROFILES_NPZ
    if not f.is_file():
        raise ScengenError(
            f"{str(run_dir)!r} has no {PROFILES_NPZ}; is it a run directory written by 'scengen train'?"
        )
    with np.load(f) as z:
        common = dict(
            sites=[str(s) for s in z["sites"]],
            capacities=z["capacities"],
            step_minutes=int(z["step_minutes"]),
            start_minute=int(z["start_minute"]),
            units=str(z["units"]),
            source=str(z["source"]),
        )
        train = Profiles(values=z["train_values"], dates=z["train_dates"].astype("datetime64[D]"), **common)
        test = Profiles(values=z["test_values"], dates=z["test_dates"].astype("datetime64[D]"), **common)
    return train, test
