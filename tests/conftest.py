"""Shared fixtures: small synthetic wind / PV data, fast enough for every test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scengen.scenarios import ScenarioSet


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def synthetic_days(
    n_days: int = 60, n_sites: int = 2, n_steps: int = 24, seed: int = 0, kind: str = "wind"
) -> np.ndarray:
    """Smooth, correlated daily profiles in [0, 1], shape (n_days, n_sites, n_steps)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps) / n_steps
    if kind == "pv":
        shape = np.clip(np.sin(np.pi * (t - 0.25) / 0.5), 0, None)
        cloud = rng.uniform(0.3, 1.0, size=(n_days, 1, 1))
        site = rng.uniform(0.8, 1.0, size=(n_days, n_sites, 1))
        return np.clip(shape[None, None, :] * cloud * site, 0, 1)
    level = rng.uniform(0.1, 0.8, size=(n_days, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_days, 1, 1))
    wave = 0.2 * np.sin(2 * np.pi * t[None, None, :] + phase)
    noise = 0.05 * rng.standard_normal((n_days, n_sites, n_steps)).cumsum(axis=2) / np.sqrt(n_steps)
    return np.clip(level + wave + noise, 0, 1)


def write_measurement_csv(
    path: Path,
    values: np.ndarray,
    start: str = "2020-01-01",
    sites: list[str] | None = None,
    freq: str = "h",
    tz_suffix: str = "",
) -> Path:
    """Write (n_days, n_sites, n_steps) values as a measurement CSV with a timestamp column."""
    n_days, n_sites, n_steps = values.shape
    sites = sites or [f"s{j + 1}" for j in range(n_sites)]
    idx = pd.date_range(start, periods=n_days * n_steps, freq=freq)
    df = pd.DataFrame(values.transpose(0, 2, 1).reshape(-1, n_sites), columns=sites)
    df.insert(0, "timestamp", idx.strftime("%Y-%m-%dT%H:%M:%S") + tz_suffix)
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def wind_csv(tmp_path) -> Path:
    """A 60-day, 2-site hourly wind CSV in per-unit."""
    return write_measurement_csv(
        tmp_path / "wind.csv", synthetic_days(60, 2, 24, seed=1), sites=["wf1", "wf2"]
    )


@pytest.fixture
def pv_csv(tmp_path) -> Path:
    """A 60-day, 3-site hourly PV CSV in per-unit with a +10:00 offset."""
    return write_measurement_csv(
        tmp_path / "pv.csv",
        synthetic_days(60, 3, 24, seed=2, kind="pv"),
        sites=["site1", "site2", "site3"],
        tz_suffix="+10:00",
    )


@pytest.fixture
def scenario_set() -> ScenarioSet:
    """200 equally weighted synthetic 2-site scenarios."""
    return ScenarioSet(
        synthetic_days(200, 2, 24, seed=3), sites=["wf1", "wf2"], metadata={"kind": "test"}
    )
