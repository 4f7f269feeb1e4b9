"""Command-line interface (``scengen ...``); one module per command group, a thin layer over the
library."""

from __future__ import annotations

import importlib

from scengen.cli.main import cli

# Each module registers its commands on ``cli``; a module not written yet is simply absent.
for _name in ("train", "generate", "evaluate", "reduce", "export", "report", "run"):
    try:
        importlib.import_module(f"scengen.cli.{_name}")
    except ModuleNotFoundError as _e:  # pragma: no cover - only while the package is incomplete
        if _e.name != f"scengen.cli.{_name}":
            raise

__all__ = ["cli"]
