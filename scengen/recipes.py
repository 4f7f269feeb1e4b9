"""Recipes: the shipped ``model`` and ``train`` settings, and the rule that picks one for a data
set nobody tuned for.

Two recipes are shipped, the ``model`` and ``train`` sections of ``configs/wind.yaml`` and
``configs/pv.yaml`` (:data:`RECIPES`; a test keeps them equal to the files), both chosen on
validation days only. They are the same settings (the defaults with the autocorrelation term)
except for what daylight needs: the PV recipe is conditioned on the season (the day length and
the height of the midday peak change through the year) and its nights are fixed at zero rather
than modelled.

:func:`pick_recipe` chooses from the data alone; see :data:`NIGHT_LEVEL` for the rule.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import numpy as np

from scengen.api import Config
from scengen.config import from_dict
from scengen.data import DataConfig, Profiles, load_from_config, split_days
from scengen.errors import ScengenError
from scengen.train import ModelConfig, TrainConfig

__all__ = [
    "NIGHT_DAY_SHARE",
    "NIGHT_LEVEL",
    "NIGHT_MIN_HOURS",
    "RECIPES",
    "night_share",
    "pick_for_data",
    "pick_recipe",
    "recipe",
    "resumed_sections",
    "with_recipe",
]

#: The night rule. A data set gets the ``"pv"`` recipe when it has *nights*: some site is at
#: most ``NIGHT_LEVEL`` [p.u.] (1 % of its capacity) at the same clock steps of the day on at
#: least ``NIGHT_DAY_SHARE`` of the days, for at least ``NIGHT_MIN_HOURS`` [h] of steps (3
#: steps of hourly data), without being that low all day long (an idle site has no nights).
#: PV output is zero every night at the same clock hours; calm wind is low at random hours,
#: and never at the same hours on 90 % of days. A mixed set (wind and PV columns, such as
#: national wind and PV totals) has nights too and gets the PV recipe: its PV columns need the
#: season conditioning for the day length. Every other data set gets ``"wind"``.
NIGHT_LEVEL = 0.01
#: share of the days [-] on which a clock step must be at most :data:`NIGHT_LEVEL` to count as
#: night (see :data:`NIGHT_LEVEL`)
NIGHT_DAY_SHARE = 0.90
#: fewest hours of night steps [h] that make a site a PV site (see :data:`NIGHT_LEVEL`)
NIGHT_MIN_HOURS = 3.0

#: the settings the two recipes share (``configs/wind.yaml`` is exactly these)
_MODEL = {
    "latent_dim": 32,
    "noise_channels": 8,
    "channels": 32,
    "critic_channels": 48,
    "kernel_size": 5,
    "final_kernel": 3,
    "critic_diff": True,
    "minibatch_std": True,
    "output_margin": 0.05,
    "noise_modulation": True,
}
_TRAIN = {
    "steps": 6000,
    "batch_size": 64,
    "n_critic": 5,
    "lr": 0.0003,
    "betas": [0.0, 0.9],
    "lambda_gp": 10.0,
    "ema": 0.99,
    "lr_decay_from": 0.5,
    "ramp_weight": 10.0,
    "acf_weight": 5.0,
    "calibrate": True,
    "condition": "none",
    "val_fraction": 0.15,
    "val_every": 250,
    "patience": 8,
    "checkpoint_every": 500,
    "device": "auto",
}

#: The shipped recipes: the ``model`` and ``train`` sections of ``configs/wind.yaml`` and
#: ``configs/pv.yaml``, as plain dicts (tests/test_recipes.py checks that they are equal). PV
#: differs in what daylight needs, the season condition and the nights fixed at zero, and in
#: its most steps (9 000: its W1 on the validation days still fell after 6 000).
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "wind": {"model": _MODEL, "train": _TRAIN},
    "pv": {
        "model": copy.deepcopy(_MODEL),
        # 9 000 steps: on the PV validation days W1 kept falling past 6 000 steps (1.005 at
        # 6 000, 0.990 at 10 000-12 000 in a 12 000-step run); 9 000 is the most that fits 15 min
        # on the 2-core CPU for a 3-site set whose 24 steps are all modelled (SMARD: ~0.086 s
        # per step)
        "train": {
            **copy.deepcopy(_TRAIN),
            "steps": 9000,
            "fixed_zeros": True,
            "condition": "season",
        },
    },
}


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or name not in RECIPES:
        raise ScengenError(f"recipe {name!r} is not known; choose one of {sorted(RECIPES)}")
    return name


def recipe(name: str) -> Config:
    """The typed recipe ``name``: a :class:`~scengen.api.Config` whose ``model`` and ``train``
    sections are :data:`RECIPES` ``[name]`` (the other sections are the defaults), ready for
    :func:`scengen.fit`.

    Parameters
    ----------
    name : {"wind", "pv"}

    Returns
    -------
    Config
    """
    sec = RECIPES[_check_name(name)]
    return Config(
        model=from_dict(ModelConfig, copy.deepcopy(sec["model"]), f"recipe {name!r}.model"),
        train=from_dict(TrainConfig, copy.deepcopy(sec["train"]), f"recipe {name!r}.train"),
    )


def with_recipe(
    name: str, model: dict[str, Any] | None = None, train: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``model`` and ``train`` sections of recipe ``name`` with ``model`` and ``train``
    (e.g. a config's sections) laid over them, key by key.

    Returns
    -------
    (model, train) : tuple of dict
        New dicts; :data:`RECIPES` is not changed.
    """
    sec = RECIPES[_check_name(name)]
    return (
        {**copy.deepcopy(sec["model"]), **(model or {})},
        {**copy.deepcopy(sec["train"]), **(train or {})},
    )


def night_share(profiles: Profiles) -> np.ndarray:
    """Share of the days on which each site is at night level at each clock step [-].

    Parameters
    ----------
    profiles : Profiles
        Days ``(n_days, n_sites, n_steps)`` [p.u.].

    Returns
    -------
    numpy.ndarray
        Shape ``(n_sites, n_steps)``: the share of days with a value <= :data:`NIGHT_LEVEL`.
    """
    if profiles.n_days < 1:
        raise ScengenError(f"cannot pick a recipe from {profiles.n_days} days; need at least 1")
    return (np.asarray(profiles.values) <= NIGHT_LEVEL).mean(axis=0)


def _clock(minute: float) -> str:
    minute = int(round(minute)) % (24 * 60)
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, length)`` of the runs of True in a circular boolean array (a run may wrap
    past the end of the day)."""
    n = len(mask)
    if mask.all():
        return [(0, n)]
    start = int(np.flatnonzero(~mask)[0]) + 1  # begin just after a False: no run is cut
    runs, first, length = [], None, 0
    for k in range(n):
        i = (start + k) % n
        if mask[i]:
            first = i if length == 0 else first
            length += 1
        elif length:
            runs.append((first, length))
            length = 0
    if length:
        runs.append((first, length))
    return runs


def _days(share: float) -> str:
    return "every day" if share >= 1.0 else f"at least {math.floor(share * 100):.0f} % of days"


def _no_nights(profiles: Profiles, n_night: np.ndarray, need: int, level: str) -> str:
    """Why no site has nights (the wind side of :func:`pick_recipe`'s reason)."""
    common = f"at {level} on at least {NIGHT_DAY_SHARE * 100:g} % of days"
    partial = [i for i, n in enumerate(n_night) if 0 < n < profiles.n_steps]
    idle = [profiles.sites[i] for i, n in enumerate(n_night) if n >= profiles.n_steps]
    if partial:
        i = max(partial, key=lambda j: n_night[j])
        text = (
            f"site {profiles.sites[i]!r} has the most, {int(n_night[i])} step(s) of the day "
            f"{common}; PV needs {need}"
        )
    else:
        text = f"no step of the day is {common} (PV needs {need})"
    if idle:
        text += (
            f"; {', '.join(map(repr, idle))} {'is' if len(idle) == 1 else 'are'} that low all day"
        )
    return text


def pick_recipe(profiles: Profiles) -> tuple[str, str]:
    """Pick the recipe for a data set from its days: ``"pv"`` when some site has nights,
    ``"wind"`` otherwise (the rule: :data:`NIGHT_LEVEL`).

    Parameters
    ----------
    profiles : Profiles
        The days to train on ``(n_days, n_sites, n_steps)`` [p.u.].

    Returns
    -------
    (name, reason) : tuple of str
        The recipe name (a key of :data:`RECIPES`) and a one-line reason naming the site, its
        night clock times (of the step starts to the step ends, in the data's own time) and the
        share of days.

    Examples
    --------
    >>> import scengen as sg
    >>> sg.pick_recipe(sg.load_profiles("data/wind_pv_germany_smard_2023-2024.csv",
    ...                                 capacity="max"))[0]
    'pv'
    """
    share = night_share(profiles)
    step = float(profiles.step_minutes)
    need = max(1, math.ceil(NIGHT_MIN_HOURS * 60.0 / step - 1e-9))
    night = share >= NIGHT_DAY_SHARE
    n_night = night.sum(axis=1)
    has = (n_night >= need) & (n_night < profiles.n_steps)
    level = f"<= {NIGHT_LEVEL * 100:g} % of capacity"
    if not has.any():
        return "wind", "no site has nights: " + _no_nights(profiles, n_night, need, level)
    s = int(np.argmax(np.where(has, n_night, -1)))
    spans = ", ".join(
        f"{_clock(profiles.start_minute + a * step)}-"
        f"{_clock(profiles.start_minute + (a + n) * step)}"
        for a, n in _runs(night[s])
    )
    tz = f" UTC{profiles.utc_offset}" if profiles.utc_offset not in (None, "", "Z") else ""
    tz = " UTC" if profiles.utc_offset == "Z" else tz
    reason = (
        f"site {profiles.sites[s]!r} has nights: {spans}{tz} at {level} on "
        f"{_days(float(share[s][night[s]].min()))}"
    )
    day_sites = [
        name
        for name, h, n in zip(profiles.sites, has, n_night, strict=True)
        if not h and n < profiles.n_steps
    ]
    if day_sites:
        listed = ", ".join(repr(n) for n in day_sites)
        reason += (
            f"; {listed} {'has' if len(day_sites) == 1 else 'have'} none: a mixed wind + PV set, "
            "trained as PV (the season conditioning follows the day length)"
        )
    return "pv", reason


def pick_for_data(data: DataConfig, seed: int = 0) -> tuple[str, str]:
    """:func:`pick_recipe` on the training days of a data config: the days that
    :func:`scengen.train.train_run` trains on with this ``seed`` (the held-out days of
    :func:`scengen.data.split_days` are not looked at).

    Parameters
    ----------
    data : DataConfig
        Measurement file, scaling and ``test_fraction``.
    seed : int, default 0
        Seed of the train / test split.

    Returns
    -------
    (name, reason) : tuple of str
    """
    profiles = load_from_config(data)
    train, _ = split_days(profiles, data.test_fraction, seed)
    return pick_recipe(train)


def resumed_sections(
    run_dir: str | os.PathLike,
    data: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
    seed: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]:
    """The settings to continue the run in ``run_dir`` with: its recorded ``data``, ``model``
    and ``train`` sections with the given ones laid over them key by key, and its seed unless
    ``seed`` is given.

    Returns
    -------
    (data, model, train, seed)
    """
    from scengen import train as _train

    old = _train.load_checkpoint(run_dir)
    base = old["config"]
    return (
        {**base["data"], **(data or {})},
        {**base["model"], **(model or {})},
        {**base["train"], **(train or {})},
        int(old["seed"]) if seed is None else int(seed),
    )
