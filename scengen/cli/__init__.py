"""Command-line interface (``scengen ...``); one module per command group, a thin layer over the
library."""

from __future__ import annotations

# Importing each module registers its commands on ``cli``.
from scengen.cli import evaluate, export, generate, reduce, report, run, train  # noqa: F401
from scengen.cli.main import cli

__all__ = ["cli"]
