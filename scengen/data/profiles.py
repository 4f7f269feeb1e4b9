"""Daily profiles of measured output: the :class:`Profiles` container, the ``data`` settings
(:class:`DataConfig`), their fingerprint, summary and conditioning labels.

The input format and how days, steps and scaling are derived from it are described in
:mod:`scengen.data`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet

#: the conditions a model can be trained on (``train.condition``); :func:`labels` gives the
#: label of each day (all 0 for ``"none"``)
CONDITIONS = ("none", "month", "season")
#: season names of the labels 0..3 of ``labels(p, "season")``
SEASONS = ("DJF", "MAM", "JJA", "SON")
#: dropped dates listed in metadata (all are counted)
SUMMARY_DATES = 20
#: values within this distance outside [0, 1] are rounding, clipped without counting [p.u.]
RANGE_TOL = 1e-9


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
        from scengen.data.split import split_days

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


def fingerprint(p: Profiles) -> str:
    """SHA-256 (hex) of the per-unit values, dates, sites and step length."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(np.round(p.values, 9)).tobytes())
    h.update(p.dates.astype("int64").tobytes())
    h.update(",".join(p.sites).encode())
    h.update(str(p.step_minutes).encode())
    return h.hexdigest()


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
    condition : {"none", "month", "season"}
        ``"none"``: 0 for every day. ``"month"``: calendar month 1..12. ``"season"``: 0..3 for DJF, MAM, JJA, SON
        (:data:`SEASONS`). These are calendar seasons also for southern-hemisphere data, where
        label 2 (JJA) is winter.

    Returns
    -------
    numpy.ndarray
        int64, shape ``(n_days,)``.
    """
    if condition == "none":
        return np.zeros(profiles.n_days, dtype=np.int64)
    months = profiles.months().astype(np.int64)
    if condition == "month":
        return months
    if condition == "season":
        return (months % 12) // 3
    raise ScengenError(f"condition {condition!r} is not known; allowed: {list(CONDITIONS)}")
