"""Click options shared by several commands (data selection and scaling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from scengen.config import from_dict, to_dict
from scengen.data import DataConfig
from scengen.errors import ScengenError


def _parse_capacity(text: str | None) -> Any:
    """``max`` | ``12.5`` | ``10,20,30`` | ``wf1=10,wf2=20`` → config value."""
    if text is None:
        return None
    text = text.strip()
    if text.lower() == "max":
        return "max"
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            return {k.strip(): float(v) for k, v in (p.split("=", 1) for p in parts)}
        nums = [float(p) for p in parts]
    except ValueError:
        raise ScengenError(
            f"--capacity {text!r} is not understood; give 'max', a number, comma-separated "
            "numbers in site order, or site=value pairs"
        ) from None
    return nums[0] if len(nums) == 1 else nums


def data_options(f: Callable) -> Callable:
    """Add ``--sites --capacity --resolution --clip/--no-clip --test-fraction``."""
    opts = [
        click.option(
            "--sites", default=None, help="Comma-separated site columns to use (default: all)."
        ),
        click.option(
            "--capacity",
            default=None,
            help="Capacity per site in the file's units: 'max', a number, numbers in site order "
            "(10,20) or site=value pairs. Default: data already per-unit.",
        ),
        click.option(
            "--resolution", type=int, default=None, help="Resample to this step length [min]."
        ),
        click.option(
            "--clip/--no-clip",
            default=None,
            help="Clip values outside [0, 1] after scaling (counted) instead of failing.",
        ),
        click.option(
            "--test-fraction",
            type=float,
            default=None,
            help="Share of days held out for evaluation [default: 0.2].",
        ),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def data_config(
    section: dict[str, Any] | None, path: str | None = None, **flags: Any
) -> DataConfig:
    """Merge the YAML ``data`` section with CLI flags (flags win when given) into a DataConfig.

    ``flags`` are the keyword arguments of :func:`data_options` (``sites`` as the raw
    comma-separated text, ``capacity`` as the raw text).
    """
    merged = dict(to_dict(from_dict(DataConfig, section or {}, "config.data")))
    if path is not None:
        merged["path"] = str(path)
    if flags.get("sites") is not None:
        merged["sites"] = [s.strip() for s in flags["sites"].split(",") if s.strip()]
    if flags.get("capacity") is not None:
        merged["capacity"] = _parse_capacity(flags["capacity"])
    for key in ("resolution", "clip", "test_fraction"):
        if flags.get(key) is not None:
            merged[key] = flags[key]
    return from_dict(DataConfig, merged, "config.data")
