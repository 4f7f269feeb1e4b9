"""scengen: renewable scenario generation (WGAN-GP) and Wasserstein scenario reduction."""

from __future__ import annotations

__version__ = "0.1.0"

from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, read_scenarios, write_scenarios

__all__ = ["ScengenError", "ScenarioSet", "read_scenarios", "write_scenarios", "__version__"]
