"""Typed configuration: YAML files under ``configs/`` validated into dataclasses.

Each stage module defines its own ``@dataclass`` of settings (``DataConfig`` in
:mod:`scengen.data`, ``TrainConfig`` in :mod:`scengen.train`, ...). This module turns plain dicts
(from YAML) into those dataclasses, rejecting unknown keys and values of the wrong type with an
error that names the key, and merges CLI overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

from scengen.errors import ScengenError

T = TypeVar("T")


#: the largest seed (seeds are unsigned 32-bit integers: numpy, torch and the CLI agree)
SEED_MAX = 2**32 - 1


def check_seed(seed: Any, where: str = "seed") -> int:
    """``seed`` as an ``int`` in ``0 .. 2**32 - 1``; a :class:`ScengenError` naming ``where``
    otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ScengenError(f"{where} = {seed!r} must be a whole number from 0 to {SEED_MAX}")
    if not 0 <= int(seed) <= SEED_MAX:
        raise ScengenError(f"{where} = {seed} is out of range; allowed: 0 to {SEED_MAX}")
    return int(seed)


def resolve_relative(path: str | os.PathLike, base: str | os.PathLike) -> str:
    """``path`` as given when absolute, else taken relative to the folder ``base``; normalised
    (no ``..`` or ``.`` parts, so reports and metadata show a clean path)."""
    p = Path(path)
    return os.path.normpath(p if p.is_absolute() else Path(base) / p)


def load_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping from ``path``."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {str(p)!r} does not exist")
    try:
        with open(p, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ScengenError(
            f"config file {str(p)!r} is not valid YAML: {str(e).splitlines()[0]}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScengenError(f"config file {str(p)!r} must hold a mapping, got {type(data).__name__}")
    return data


#: the top-level keys of a single-job config file (each section is validated by its stage)
SECTIONS = (
    "seed",
    "data",
    "model",
    "train",
    "generate",
    "reduce",
    "export",
    "evaluate",
    "decision",
    "report",
)


def check_keys(mapping: dict[str, Any], allowed: Any, where: str) -> None:
    """Raise naming the first key of ``mapping`` that is not in ``allowed`` (with a suggestion)."""
    allowed = list(allowed)
    unknown = [k for k in mapping if k not in allowed]
    if not unknown:
        return
    key = unknown[0]
    close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScengenError(
        f"{where}: unknown key {key!r}{hint}; allowed keys are {sorted(map(str, allowed))}"
    )


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping of a single-job config file, its top level checked.

    Unknown top-level keys (see :data:`SECTIONS`) and a ``seed`` outside 0 .. 2**32 - 1 are
    errors; a relative ``data.path`` is taken relative to the config file's folder. The
    sections themselves are validated by the stages that read them.
    """
    conf = load_yaml(path)
    check_keys(conf, SECTIONS, f"config file {str(path)!r}")
    if "seed" in conf:
        check_seed(conf["seed"], "config seed")
    data = conf.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        data["path"] = resolve_relative(data["path"], Path(path).parent)
    return conf


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check/convert ``value`` to the annotated type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except ScengenError as e:
                errors.append(str(e))
        raise ScengenError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ScengenError(f"{where} = {value!r} is not allowed; choose one of {list(args)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ScengenError(f"{where} = {value!r} must be a list")
        inner = args[0] if args else Any
        out = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ScengenError(f"{where} = {value!r} must be a mapping")
        kt, vt = args if args else (Any, Any)
        return {_coerce(k, kt, where): _coerce(v, vt, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_dict(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise ScengenError(f"{where} = {value!r} must be true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScengenError(f"{where} = {value!r} must be an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScengenError(f"{where} = {value!r} must be a number")
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ScengenError(f"{where} = {value!r} must be a string")
        return str(value)
    return value


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and wrong types.

    Parameters
    ----------
    cls : dataclass type
    data : dict or None
        Values by field name; missing fields take the dataclass defaults.
    where : str
        Name of the section, used in error messages (``"config.train"``).
    """
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ScengenError(f"{where} must be a mapping of settings, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    check_keys(dict(sorted(data.items(), key=lambda kv: str(kv[0]))), fields, where)
    kwargs = {k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()}
    if kwargs.get("seed") is not None:  # every section's ``seed`` is a seed
        kwargs["seed"] = check_seed(kwargs["seed"], f"{where}.seed")
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ScengenError(f"{where}: {e}") from None


def to_dict(obj: Any) -> Any:
    """Plain-Python (YAML/JSON-able) form of a config dataclass."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def override(obj: T, where: str = "config", **changes: Any) -> T:
    """Return ``obj`` with the non-``None`` ``changes`` applied (CLI flags over YAML)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return obj
    merged = {**to_dict(obj), **changes}
    return from_dict(type(obj), merged, where)


def dump_yaml(obj: Any) -> str:
    """YAML text of a config dataclass (or dict of them)."""
    return yaml.safe_dump(to_dict(obj), sort_keys=False)
