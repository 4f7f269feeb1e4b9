"""Train / validation / test split of Profiles by date, and its record in a run directory
(``split.csv`` and ``profiles.npz``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from scengen.data.profiles import RANGE_TOL, Profiles
from scengen.errors import ScengenError

SPLIT_CSV = "split.csv"
PROFILES_NPZ = "profiles.npz"


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


def load_split(run_dir: str | os.PathLike) -> tuple[Profiles, Profiles]:
    """The ``(train, test)`` Profiles recorded in a run directory by :func:`save_split`."""
    train, test, _ = _read_split(run_dir)
    return train, test


def load_validation(run_dir: str | os.PathLike) -> Profiles | None:
    """The validation days recorded in a run directory (None for a run without them)."""
    return _read_split(run_dir)[2]


def _read_split(run_dir: str | os.PathLike) -> tuple[Profiles, Profiles, Profiles | None]:
    """The training, held-out and validation days of ``profiles.npz``, each checked."""
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
            val = None
            if "val_values" in z:
                val = Profiles(
                    values=z["val_values"], dates=z["val_dates"].astype("datetime64[D]"), **common
                )
    except Exception as e:  # truncated, empty, not a zip, a member missing or of a wrong kind
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ScengenError(f"{str(f)!r} is not a valid {PROFILES_NPZ}: {first}") from None
    for name, p in (("training", train), ("held-out", test), ("validation", val)):
        if p is None:
            continue
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
    return train, test, val
