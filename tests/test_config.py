"""Typed config loading: unknown keys and wrong types are errors naming the key."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from scengen.config import from_dict, load_yaml, override, to_dict
from scengen.errors import ScengenError


@dataclass
class Inner:
    a: int = 1
    b: float | None = None


@dataclass
class Outer:
    name: str = "x"
    inner: Inner = field(default_factory=Inner)
    tags: list[str] = field(default_factory=list)
    flag: bool = False


def test_from_dict_nested_and_defaults():
    o = from_dict(Outer, {"inner": {"a": 3}, "tags": ["u"]})
    assert o.inner.a == 3 and o.inner.b is None and o.tags == ["u"]
    assert to_dict(o) == {"name": "x", "inner": {"a": 3, "b": None}, "tags": ["u"], "flag": False}


@pytest.mark.parametrize(
    "data, match",
    [
        ({"nmae": "y"}, "unknown key 'nmae'"),
        ({"inner": {"a": "three"}}, r"config.inner.a = 'three' must be an integer"),
        ({"flag": "yes"}, "must be true or false"),
        ({"tags": "u"}, "must be a list"),
    ],
)
def test_bad_config(data, match):
    with pytest.raises(ScengenError, match=match):
        from_dict(Outer, data)


def test_override_ignores_none():
    o = override(Outer(), name=None, flag=True)
    assert o.flag is True and o.name == "x"


def test_load_yaml_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ScengenError, match="not valid YAML"):
        load_yaml(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ScengenError, match="mapping"):
        load_yaml(lst)


def test_resolve_relative_keeps_absolute_paths_and_normalises_relative_ones(tmp_path):
    from scengen.config import resolve_relative

    base = tmp_path / "configs"
    assert resolve_relative("../data/w.csv", base) == str(tmp_path / "data" / "w.csv")
    assert resolve_relative("./w.csv", base) == str(base / "w.csv")
    absolute = str(tmp_path / "elsewhere" / "w.csv")
    assert resolve_relative(absolute, base) == absolute
