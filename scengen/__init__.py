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
    name, why = sg.pick_recipe(train)      # "wind" or "pv" (PV when a site has nights)
    model = sg.fit(train, sg.recipe(name))  # the shipped recipe's model and train settings

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
from scengen.recipes import RECIPES, pick_recipe, recipe
from scengen.reduce import ReductionResult, reduce_scenarios
from scengen.scenarios import ScenarioSet, read_scenarios, write_scenarios

__all__ = [
    "Config",
    "Model",
    "Profiles",
    "RECIPES",
    "ReductionResult",
    "ScenarioSet",
    "ScengenError",
    "__version__",
    "export_scenarios",
    "fit",
    "load_config",
    "load_model",
    "load_profiles",
    "pick_recipe",
    "read_scenarios",
    "recipe",
    "reduce_scenarios",
    "score",
    "write_scenarios",
]
