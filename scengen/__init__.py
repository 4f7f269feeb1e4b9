"""scengen: renewable scenarios for stochastic planning.

A small, flat API over scengen's objects (``Profiles``: measured days; ``ScenarioSet``:
weighted scenarios; ``Model``: a trained generator)::

    import scengen as sg
    days = sg.load_profiles("data/wind.csv")                    # per-unit days, with dates
    train, test = days.split(test_fraction=0.2, seed=0)
    model = sg.fit(train, sg.load_config("configs/wind.yaml"))  # a Model, trained in memory
    scen = model.sample(2000, seed=1)                           # a ScenarioSet
    red = sg.reduce_scenarios(scen, 10)                         # medoids, probabilities, distance
    sg.score(scen, test, train).table                           # pandas DataFrame

Nothing touches the disk unless asked (``model.save``, ``sg.write_scenarios``,
``sg.export_scenarios``). The command line (``scengen ...``) is a thin caller of the same
functions.
"""

from __future__ import annotations

__version__ = "0.1.0"

from scengen.api import Config, export_scenarios, load_config, score
from scengen.data import Profiles, load_profiles
from scengen.errors import ScengenError
from scengen.model import Model, fit, load_model
from scengen.reduce import ReductionResult, reduce_scenarios
from scengen.scenarios import ScenarioSet, read_scenarios, write_scenarios

__all__ = [
    "Config",
    "Model",
    "Profiles",
    "ReductionResult",
    "ScenarioSet",
    "ScengenError",
    "__version__",
    "export_scenarios",
    "fit",
    "load_config",
    "load_model",
    "load_profiles",
    "read_scenarios",
    "reduce_scenarios",
    "score",
    "write_scenarios",
]
