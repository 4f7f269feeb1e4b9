"""Property-based fuzzing: random and mutated inputs to every reader and command.

Every property feeds hypothesis-made inputs (mutated measurement CSVs, config YAMLs, scenario
directories, checkpoints, command-line values) to a library reader and to a ``scengen`` command
through click's CliRunner, and asserts the invariants of ``_invariants.py``: exit status 0 or 1
(2 only for click's own usage errors), never a traceback, an error is one line ``Error: ...``,
no partial output and no temporary entry left, and the input files byte-identical. The runs are
derandomized (the same cases on every run); the ``N_*`` constants are the number of cases of each
property. A property that finds a bug not yet fixed is marked xfail (strict), and the smallest
cases it found are tests of their own at the end of the file (each an XPASS once fixed).
"""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from _invariants import USAGE_EXIT, assert_cli_invariants, listed_export_files, tree_digest
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from scengen import train as T
from scengen.cli import cli
from scengen.config import SECTIONS, SEED_MAX
from scengen.data import DataConfig, load_profiles
from scengen.errors import ScengenError
from scengen.export import FORMATS
from scengen.reduce import ReduceConfig
from scengen.scenarios import ScenarioSet, read_scenarios, write_scenarios

# ---------------------------------------------------------------------- case counts (README)

#: mutated measurement CSVs, each read by load_profiles and by ``scengen reduce CSV``
N_CSV = 100
#: random config YAMLs given to ``scengen reduce --config``
N_CONFIG_REDUCE = 60
#: random config YAMLs given to ``scengen train --config --steps 1`` (tiny model)
N_CONFIG_TRAIN = 40
#: mutated scenario directories per mutated file (scenarios.csv, probabilities.csv,
#: metadata.json, scenarios.npz: 4 properties), each given to reduce, export or evaluate
N_SCENARIO_DIR = 50
#: corrupted checkpoints given to load_checkpoint and ``scengen generate``
N_CHECKPOINT = 60
#: corrupted checkpoints given to ``scengen train --resume``
N_RESUME = 25
#: mutated ``profiles.npz`` of a run given to ``scengen evaluate --against RUN``
N_PROFILES = 30
#: random command-line values (-n, -k, --seed, --batch-size, --format)
N_ARGS = 50

#: shrinking a failure costs time on every run of an xfailed property; SCENGEN_FUZZ_SHRINK=1
#: turns it on to get the smallest failing case
_PHASES = (
    (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
    if os.environ.get("SCENGEN_FUZZ_SHRINK")
    else (Phase.explicit, Phase.reuse, Phase.generate)
)


def fuzz(n: int) -> settings:
    """Deterministic hypothesis settings for ``n`` cases."""
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        phases=_PHASES,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@contextmanager
def case_dir(tmp_path: Path):
    """A fresh folder for one hypothesis case (the function's ``tmp_path`` is shared)."""
    d = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_checked(ex: Path, args: list[object], out: Path, *, usage_ok: bool = False):
    """Run ``scengen *args`` and assert the invariants; the files of ``ex`` but ``out`` must
    keep their bytes."""
    before = tree_digest(ex, exclude=(out,))
    res = invoke(*args)
    if currently_in_test_context():
        note(f"scengen {' '.join(map(str, args))} -> {res.exit_code}: {res.output.strip()[-300:]}")
        event(f"{args[0]} exit {res.exit_code}")
    assert_cli_invariants(res, out, usage_ok=usage_ok)
    assert tree_digest(ex, exclude=(out,)) == before, "an input file changed"
    return res


# ---------------------------------------------------------------------- values

#: odd numbers: out of range, beyond 32 / 64 bits, float specials
ODD_INTS = [-(2**63), -(2**31), -1, 0, 2**31, SEED_MAX, SEED_MAX + 1, 2**63, 2**64 + 1, 10**30]
WORDS = [
    "",
    " ",
    "max",
    "5%",
    "-5%",
    "pam",
    "forward",
    "euclidean",
    "cityblock",
    "long",
    "month",
    "season",
    "auto",
    "cpu",
    "cuda",
    "2020-01-01",
    "a",
    "b",
    "a,b",
    "none",
    "null",
    "nan",
    "1e400",
    "../..",
    "\x00",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from(ODD_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(WORDS),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
BAD_YAML = [
    "a: [\n",
    "data: {path: x\n",
    "\t- tab\n",
    "- 1\n- 2\n",
    "just text\n",
    "42\n",
    "{a: 1, a: 2}\n",
    "? [1, 2]\n: 3\n",
    "data: &a [*a]\n",
    "!!python/object/apply:os.system ['echo pwned > PWNED']\n",
    "train: !!python/object/new:os.system ['echo pwned > PWNED']\n",
    "\ufeffdata: {}\n",
    "\xff\xfe",
    "",
]


def dump_yaml(obj: object) -> str:
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)


# ---------------------------------------------------------------------- measurement CSVs

N_DAYS = 15
_BASE_CSV: str | None = None


def base_csv_text() -> str:
    """A valid 15-day, 2-site hourly per-unit measurement CSV."""
    global _BASE_CSV
    if _BASE_CSV is None:
        with tempfile.TemporaryDirectory() as d:
            p = write_measurement_csv(
                Path(d) / "m.csv", synthetic_days(N_DAYS, 2, 24, seed=5), sites=["a", "b"]
            )
            _BASE_CSV = p.read_text(encoding="utf-8")
    return _BASE_CSV


CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "-1",
            "-0.5",
            "1.5",
            "2",
            "1e308",
            "1e400",
            "-1e400",
            "0x1A",
            "1,5",
            '"',
            '"0.5"',
            "None",
            "true",
            "1e-320",
            "\u0663",
            "0.5 0.5",
            "\t",
            "2020-01-01T00:00:00",
        ]
    ),
    st.floats().map(repr),
    st.text(max_size=6),
)
OFFSETS = ["Z", "z", "+10:00", "-0700", "+10", "+19:00", "+1:00", "+10:00:00", " UTC", "+00:00"]
TS_FORMATS = [
    lambda t: t.replace("T", " "),
    lambda t: t[:-3],
    lambda t: t[:10],
    lambda t: f"{t[5:7]}/{t[8:10]}/{t[:4]} {t[11:16]}",
    lambda t: t.replace("2020", "99999"),
    lambda t: t.replace("-01-", "-13-"),
    lambda t: t.replace("T0", "T2"),
    lambda t: t + ".5",
]


def _cells(line: str, sep: str = ",") -> list[str]:
    return line.split(sep)


@st.composite
def mutated_csv(draw) -> bytes:
    """The base CSV with one to three mutations of its cells, rows, header, timestamps, bytes."""
    lines = base_csv_text().splitlines()
    header, rows = lines[0], lines[1:]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                [
                    "cell",
                    "cells",
                    "delete",
                    "duplicate",
                    "shuffle",
                    "header",
                    "delimiter",
                    "offset",
                    "dst",
                    "ts_format",
                    "blank",
                    "fields",
                ]
            )
        )
        n = len(rows)
        note(f"csv op {op}")
        if op in ("cell", "cells") and n:
            for _ in range(1 if op == "cell" else draw(st.integers(2, 30))):
                i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, 2))
                parts = _cells(rows[i])
                if j < len(parts):
                    parts[j] = draw(CELLS)
                rows[i] = ",".join(parts)
        elif op == "delete" and n:
            a = draw(st.integers(0, n - 1))
            del rows[a : a + draw(st.integers(1, 60))]
        elif op == "duplicate" and n:
            i = draw(st.integers(0, n - 1))
            rows.insert(draw(st.integers(0, n)), rows[i])
        elif op == "shuffle":
            draw(st.randoms(use_true_random=False)).shuffle(rows)
        elif op == "header":
            header = draw(
                st.sampled_from(
                    [
                        "time,a,b",
                        "Timestamp,a,b",
                        " timestamp ,a,b",
                        "timestamp,a,a",
                        "timestamp,timestamp,b",
                        "timestamp,a",
                        "timestamp,a,b,c",
                        "timestamp,,b",
                        "timestamp;a;b",
                        "",
                        "\ufefftimestamp,a,b",
                        "timestamp,a_MW,b_kw",
                    ]
                )
            )
            if draw(st.booleans()) and rows:  # or lose the header line entirely
                header, rows = rows[0], rows[1:]
        elif op == "delimiter":
            sep = draw(st.sampled_from([";", "\t", " ", "|"]))
            header = header.replace(",", sep)
            rows = [r.replace(",", sep) for r in rows]
        elif op == "offset" and n:
            off = draw(st.sampled_from(OFFSETS))
            a = draw(st.integers(0, n - 1))
            b = draw(st.sampled_from([n, a + 1, min(n, a + 30)]))
            for i in range(a, b):
                p = _cells(rows[i])
                p[0] = p[0] + off
                rows[i] = ",".join(p)
        elif op == "dst" and n:  # daylight saving time: two offsets, converted to the smaller
            cut = draw(st.integers(0, n))
            for i in range(n):
                p = _cells(rows[i])
                p[0] = p[0] + ("+01:00" if i < cut else "+02:00")
                rows[i] = ",".join(p)
        elif op == "ts_format" and n:
            fmt = draw(st.sampled_from(TS_FORMATS))
            a = draw(st.integers(0, n - 1))
            for i in range(a, draw(st.sampled_from([n, a + 1]))):
                p = _cells(rows[i])
                p[0] = fmt(p[0])
                rows[i] = ",".join(p)
        elif op == "blank":
            rows.insert(draw(st.integers(0, n)), draw(st.sampled_from(["", ",,", " ", ",", "\r"])))
        elif op == "fields" and n:
            i = draw(st.integers(0, n - 1))
            rows[i] = draw(st.sampled_from([rows[i] + ",9", rows[i].rsplit(",", 1)[0], "x"]))
    data = ("\n".join([header, *rows]) + "\n").encode("utf-8")
    byte_op = draw(st.sampled_from(["none"] * 4 + ["truncate", "insert", "replace", "latin1"]))
    note(f"byte op {byte_op}")
    if byte_op == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif byte_op == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif byte_op == "replace":
        data = draw(st.binary(max_size=300))
    elif byte_op == "latin1":
        data = data.replace(b"a,b", "\u00e4,b".encode("latin-1"), 1)
    return data


@fuzz(N_CSV)
@given(data=mutated_csv())
def test_mutated_measurement_csv(tmp_path, data):
    """A mutated measurement CSV: load_profiles returns valid per-unit profiles or raises a
    ScengenError (never another exception), and ``scengen reduce CSV`` agrees with it, keeping
    the invariants (one-line error, no partial output, the CSV unchanged)."""
    with case_dir(tmp_path) as ex:
        csv = ex / "in.csv"
        csv.write_bytes(data)
        try:
            prof = load_profiles(csv)
        except ScengenError as e:
            lib_error: str | None = str(e)
            assert "\n" not in lib_error, lib_error
        else:
            lib_error = None
            assert prof.n_days >= 10 and prof.values.shape[1:] == (len(prof.sites), prof.n_steps)
            assert np.isfinite(prof.values).all()
            assert prof.values.min() >= 0 and prof.values.max() <= 1
        assert csv.read_bytes() == data
        out = ex / "out"
        res = run_checked(ex, ["reduce", csv, "-k", 3, "--out", out], out)
        assert res.exit_code == (1 if lib_error else 0), (lib_error, res.output)
        if res.exit_code == 0:
            assert read_scenarios(out).n_scenarios == 3


def test_measurement_reader_names_missing_files(tmp_path):
    """A missing or directory input is a FileNotFoundError / ScengenError, and a one-line CLI
    error."""
    with pytest.raises(FileNotFoundError):
        load_profiles(tmp_path / "nope.csv")
    with pytest.raises(ScengenError):
        load_profiles(tmp_path)
    for path in (tmp_path / "nope.csv", tmp_path / "dir.csv"):
        if path.name == "dir.csv":
            path.mkdir()
        res = invoke("reduce", path, "-k", 3, "--out", tmp_path / "out")
        assert_cli_invariants(res, tmp_path / "out")
        assert res.exit_code == 1


# ---------------------------------------------------------------------- config YAMLs

#: field names per config section, to mix known keys with unknown ones
SECTION_FIELDS = {
    "data": list(DataConfig.__dataclass_fields__),
    "reduce": list(ReduceConfig.__dataclass_fields__),
    "model": list(T.ModelConfig.__dataclass_fields__),
    "train": list(T.TrainConfig.__dataclass_fields__),
}
KEYS = st.one_of(st.sampled_from(["seed", "k", "stpes", "Data", "", "x" * 30]), st.text(max_size=6))


@st.composite
def section(draw, name: str, values=VALUES) -> object:
    known = SECTION_FIELDS.get(name, [])
    keys = st.one_of(st.sampled_from(known), KEYS) if known else KEYS
    if draw(st.integers(0, 9)) == 0:  # a section that is not a mapping
        return draw(VALUES)
    return draw(st.dictionaries(keys, values, max_size=4))


@st.composite
def config_text(draw, used: tuple[str, ...]) -> tuple[str, dict | None]:
    """YAML text of a random config and its mapping (``None`` for bad YAML text)."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(BAD_YAML)), None
    top = st.one_of(st.sampled_from([*SECTIONS, *used, *used]), KEYS)
    conf: dict = {}
    for key in draw(st.lists(top, max_size=4, unique=True)):
        if key == "seed":
            conf[key] = draw(st.one_of(st.sampled_from(ODD_INTS), SCALARS))
        elif key in SECTION_FIELDS:
            conf[key] = draw(section(key))
        else:
            conf[key] = draw(VALUES)
    return dump_yaml(conf), conf


def expected_config_error(conf: dict | None, used: tuple[str, ...]) -> str | None:
    """Why a config must be rejected, as far as decidable without running: an unknown top-level
    key, an unknown key or an out-of-range seed in a section the command reads."""
    if conf is None:
        return None
    unknown = [k for k in conf if k not in SECTIONS]
    if unknown:
        # unknown TOP-LEVEL keys are an error (config.check_keys, read by every --config)
        return f"unknown top-level key {unknown[0]!r}"
    for name in used:
        sec = conf.get(name)
        if not sec:
            continue  # cli.main.with_section takes a falsy section ([], 0, "", false) as empty
        if not isinstance(sec, dict):
            return f"section {name} is not a mapping"
        bad = [k for k in sec if k not in SECTION_FIELDS[name]]
        if bad:
            return f"unknown key {bad[0]!r} in {name}"
        seed = sec.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool) and not 0 <= seed <= SEED_MAX:
            return f"{name}.seed out of range"
    return None


@fuzz(N_CONFIG_REDUCE)
@given(cfg=config_text(("reduce", "data")))
def test_random_config_reduce(tmp_path, cfg):
    """``scengen reduce CSV --config`` with a random config: exit 0 or a one-line error, an
    error for unknown keys and out-of-range seeds, nothing executed from YAML tags, no partial
    output, inputs unchanged."""
    text, conf = cfg
    with case_dir(tmp_path) as ex:
        csv = ex / "m.csv"
        csv.write_text(base_csv_text(), encoding="utf-8")
        (ex / "c.yaml").write_text(text, encoding="utf-8")
        out = ex / "out"
        res = run_checked(
            ex, ["reduce", csv, "-k", 3, "--config", ex / "c.yaml", "--out", out], out
        )
        assert not (ex / "PWNED").exists(), "a YAML tag was executed"
        why = expected_config_error(conf, ("reduce", "data"))
        if why:
            assert res.exit_code == 1, why


TINY_MODEL = {"latent_dim": 4, "channels": 8, "critic_channels": 8, "embed_dim": 2}
TINY_TRAIN = {"batch_size": 8, "n_critic": 1, "log_every": 1, "device": "cpu"}
#: keys whose size is the cost of a training step (memory and time grow with them)
SIZE_KEYS = {
    "model": (
        "latent_dim",
        "channels",
        "critic_channels",
        "kernel_size",
        "embed_dim",
        "noise_channels",
    ),
    "train": ("batch_size", "n_critic", "threads"),
}
SMALL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.floats(),
    st.text(max_size=4),
    st.sampled_from([-(2**63), -(10**30)]),
)
#: values a setting may well hold (so that half the cases train)
PLAUSIBLE = st.one_of(
    st.integers(1, 6), st.floats(0.0, 0.9), st.booleans(), st.none(), st.sampled_from(WORDS)
)


@st.composite
def train_config(draw) -> tuple[str, dict | None]:
    """The tiny config with one to three random changes (a value, a key, a section, the seed),
    or bad YAML text. Sizes stay small here (huge ones: test_huge_model_or_batch_size_...)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(BAD_YAML)), None
    conf: dict = {"model": dict(TINY_MODEL), "train": dict(TINY_TRAIN)}
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["value"] * 6 + ["unknown", "section", "seed", "seed"]))
        name = draw(st.sampled_from(["model", "train", "data"]))
        sec = conf.setdefault(name, {})
        if op == "value" and isinstance(sec, dict):
            key = draw(st.sampled_from(SECTION_FIELDS[name]))
            sizes = SIZE_KEYS.get(name, ())
            sec[key] = draw(st.one_of(PLAUSIBLE, SMALL if key in sizes else VALUES))
        elif op == "unknown" and isinstance(sec, dict):
            sec[draw(KEYS)] = draw(SCALARS)
        elif op == "unknown":
            conf[draw(KEYS)] = draw(SCALARS)
        elif op == "section":
            conf[name] = draw(VALUES)
        else:
            conf["seed"] = draw(st.one_of(st.sampled_from(ODD_INTS), SCALARS, st.integers(0, 9)))
    return dump_yaml(conf), conf


@pytest.fixture(scope="module")
def train_csv(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("train_csv")
    return write_measurement_csv(
        d / "m.csv", synthetic_days(N_DAYS, 2, 24, seed=7), sites=["a", "b"]
    )


@fuzz(N_CONFIG_TRAIN)
@given(cfg=train_config())
def test_random_config_train(tmp_path, train_csv, cfg):
    """``scengen train CSV --config --steps 1`` with a random config: exit 0 or a one-line
    error, an error for an unknown key or an out-of-range seed, no partial run directory, inputs
    unchanged; a run that succeeds holds a loadable checkpoint."""
    text, conf = cfg
    with case_dir(tmp_path) as ex:
        csv = shutil.copy(train_csv, ex / "m.csv")
        (ex / "c.yaml").write_text(text, encoding="utf-8")
        out = ex / "run"
        res = run_checked(
            ex, ["train", csv, "--config", ex / "c.yaml", "--steps", 1, "--out", out], out
        )
        assert not (ex / "PWNED").exists(), "a YAML tag was executed"
        why = expected_config_error(conf, ("data", "model", "train"))
        seed = None if conf is None else conf.get("seed")
        if "seed" in (conf or {}) and not (
            isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= SEED_MAX
        ):
            why = why or f"top-level seed {seed!r} is not a seed"
        if why:
            assert res.exit_code == 1, why
        if res.exit_code == 0:
            assert T.load_checkpoint(out)["step"] == 1


# ---------------------------------------------------------------------- scenario directories

CAPS = [10.0, 20.0]


@pytest.fixture(scope="module")
def scen_base(tmp_path_factory) -> tuple[Path, Path]:
    """A valid scenario directory (12 scenarios, 2 sites in MW) and a measurement CSV in MW to
    evaluate it against."""
    d = tmp_path_factory.mktemp("scen")
    ss = ScenarioSet(
        synthetic_days(12, 2, 24, seed=3),
        probabilities=np.arange(1, 13) / 78.0,
        sites=["a", "b"],
        capacities=CAPS,
        units="MW",
        metadata={"kind": "generated"},
    )
    write_scenarios(ss, d / "scen")
    mw = synthetic_days(N_DAYS, 2, 24, seed=4) * np.asarray(CAPS)[None, :, None]
    csv = write_measurement_csv(d / "mw.csv", mw, sites=["a", "b"])
    return d / "scen", csv


COMMANDS = st.sampled_from([("reduce",), ("evaluate",), *(("export", f) for f in FORMATS)])


def run_on_scenarios(ex: Path, scen: Path, against: Path, command: tuple[str, ...]):
    out = ex / "out"
    if command[0] == "reduce":
        args: list[object] = ["reduce", scen, "-k", 2, "--out", out]
    elif command[0] == "export":
        args = ["export", scen, "--format", command[1], "--out", out]
    else:
        args = ["evaluate", scen, "--against", against, "--out", out, "--no-references"]
    res = run_checked(ex, args, out)
    if res.exit_code == 0:
        if command[0] == "reduce":
            red = read_scenarios(out)
            assert red.n_scenarios == 2
        elif command[0] == "export":
            for f in listed_export_files(out):
                assert (out / f).is_file(), f
        else:
            assert (out / "evaluation.json").is_file()
    return res


def _value_rows(text: str) -> list[list[str]]:
    return [r.split(",") for r in text.splitlines()]


OUT_OF_RANGE = ["-1", "-0.01", "20.01", "1e9", "1e308", "-1e308"]
NOT_A_NUMBER = ["nan", "NaN", "inf", "-inf", "abc", "", "0x10"]


@st.composite
def mutate_scenarios_csv(draw, scen: Path) -> bool:
    """Mutate ``scenarios.csv`` (the ``.npz`` removed, so it is read); return whether the result
    must be rejected (a value outside [0, capacity] or not a number)."""
    (scen / "scenarios.npz").unlink()
    path = scen / "scenarios.csv"
    rows = _value_rows(path.read_text(encoding="utf-8"))
    header, body = rows[0], rows[1:]
    must_fail = False
    bad_rows: list[list[str]] = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                [
                    "value",
                    "bad",
                    "in_range",
                    "shuffle",
                    "id",
                    "site",
                    "step",
                    "delete",
                    "dup",
                    "shuffle",
                    "header",
                    "bytes",
                ]
            )
        )
        note(f"scenarios.csv op {op}")
        n = len(body)
        if op in ("value", "bad") and n:
            i = draw(st.integers(0, n - 1))
            pool = OUT_OF_RANGE if op == "value" else NOT_A_NUMBER
            body[i][4] = draw(st.sampled_from(pool))
            bad_rows.append(body[i])
            must_fail = True
        elif op == "in_range" and n:  # within [0, capacity] of both sites: still valid
            row = body[draw(st.integers(0, n - 1))]
            if not any(row is b for b in bad_rows):  # a bad value is not overwritten
                row[4] = repr(draw(st.floats(0.0, 10.0)))
        elif op == "id" and n:
            body[draw(st.integers(0, n - 1))][0] = draw(
                st.sampled_from(["-1", "99", "1.5", "x", "", "1e30", str(2**64)])
            )
        elif op == "site" and n:
            body[draw(st.integers(0, n - 1))][1] = draw(st.sampled_from(["c", "", "A", "a "]))
        elif op == "step" and n:
            body[draw(st.integers(0, n - 1))][2] = draw(st.sampled_from(["-1", "24", "x", "0.5"]))
        elif op == "delete" and n:
            a = draw(st.integers(0, n - 1))
            del body[a : a + draw(st.integers(1, 50))]
        elif op == "dup" and n:
            body.insert(draw(st.integers(0, n)), list(body[draw(st.integers(0, n - 1))]))
        elif op == "shuffle":
            draw(st.randoms(use_true_random=False)).shuffle(body)
        elif op == "header":
            header = draw(
                st.sampled_from(
                    [
                        ["scenario", "site", "step", "time"],
                        ["scenario", "site", "stp", "time", "value"],
                        ["a", "b", "c", "d", "e"],
                        [],
                    ]
                )
            )
    text = "\n".join(",".join(r) for r in [header, *body]) + "\n"
    data = text.encode()
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
        must_fail = False  # truncated: may cut the bad row off
    path.write_bytes(data)
    return must_fail


@st.composite
def mutate_probabilities(draw, scen: Path) -> bool:
    """Mutate or remove ``probabilities.csv``; return whether the result must be rejected (a
    changed probability breaks the sum or the sign; a row missing, doubled or of an unknown
    scenario; a column missing)."""
    path = scen / "probabilities.csv"
    rows = _value_rows(path.read_text(encoding="utf-8"))
    header, body = rows[0], rows[1:]
    op = draw(st.sampled_from(["value", "delete", "dup", "id", "header", "bytes", "remove"]))
    note(f"probabilities.csv op {op}")
    i = draw(st.integers(0, len(body) - 1))
    if op == "value":
        body[i][1] = draw(st.sampled_from(["-0.1", "nan", "inf", "abc", "", "2", "1e308", "0"]))
    elif op == "delete":
        del body[i]
    elif op == "dup":
        body.append(list(body[i]))
    elif op == "id":
        body[i][0] = draw(st.sampled_from(["99", "-1", "x", ""]))
    elif op == "header":
        header = draw(st.sampled_from([["scenario", "prob"], ["probability", "scenario"], ["x"]]))
    if op == "bytes":
        path.write_bytes(draw(st.binary(max_size=60)))
    elif op == "remove":
        path.unlink()
    else:
        path.write_text("\n".join(",".join(r) for r in [header, *body]) + "\n", encoding="utf-8")
    return op in ("value", "delete", "dup", "id") or (op == "header" and "prob" in header)


@st.composite
def mutate_metadata(draw, scen: Path) -> bool:
    path = scen / "metadata.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    must_fail = False
    op = draw(st.sampled_from(["set", "set", "set", "delete", "doc", "text", "capacity"]))
    note(f"metadata.json op {op}")
    if op == "set":
        key = draw(
            st.sampled_from(
                [
                    "capacities",
                    "sites",
                    "n_steps",
                    "step_minutes",
                    "start_minute",
                    "units",
                    "dates",
                    "kind",
                    "scengen_output",
                    "n_scenarios",
                ]
            )
        )
        meta[key] = draw(VALUES)
        path.write_text(json.dumps(meta), encoding="utf-8")
    elif op == "capacity":  # zero / negative / too small for the values
        meta["capacities"] = draw(st.sampled_from([[0, 20], [-10, 20], [10, -1], [0.5, 20]]))
        must_fail = True
        path.write_text(json.dumps(meta), encoding="utf-8")
    elif op == "delete":
        meta.pop(draw(st.sampled_from(sorted(meta))))
        path.write_text(json.dumps(meta), encoding="utf-8")
    elif op == "doc":
        path.write_text(json.dumps(draw(VALUES)), encoding="utf-8")
    else:
        raw = path.read_bytes()
        path.write_bytes(draw(st.sampled_from([raw[: len(raw) // 2], b"", b"{", b"\xff\xfe"])))
    return must_fail


@st.composite
def mutate_npz(draw, scen: Path) -> bool:
    path = scen / "scenarios.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    must_fail = False
    op = draw(
        st.sampled_from(
            [
                "range",
                "nan",
                "shape",
                "missing",
                "dtype",
                "object",
                "ids",
                "truncate",
                "bytes",
                "none",
            ]
        )
    )
    note(f"scenarios.npz op {op}")
    if op == "range":
        arrays["values"] = arrays["values"] * draw(st.sampled_from([-1.0, 3.0, 1e300]))
        must_fail = True
    elif op == "nan":
        arrays["values"] = arrays["values"].copy()
        arrays["values"].flat[draw(st.integers(0, arrays["values"].size - 1))] = np.nan
        must_fail = True
    elif op == "shape":
        arrays["values"] = arrays["values"][:, :, : draw(st.integers(0, 23))]
    elif op == "missing":
        arrays.pop(draw(st.sampled_from(sorted(arrays))))
    elif op == "dtype":
        arrays["values"] = arrays["values"].astype(draw(st.sampled_from(["U3", "complex64", "?"])))
    elif op == "object":
        arrays["values"] = np.array([None, {"a": 1}], dtype=object)
    elif op == "ids":
        arrays["ids"] = draw(st.sampled_from([np.zeros(3), np.array(["x"] * 12), np.arange(12.5)]))
    if op == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[: draw(st.integers(0, len(raw) - 1))])
    elif op == "bytes":
        path.write_bytes(draw(st.binary(max_size=200)))
    else:
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    if draw(st.integers(0, 2)) == 0:  # the .npz is then the only copy of the values
        note("scenarios.csv removed")
        (scen / "scenarios.csv").unlink()
    return must_fail


def _scenario_property(tmp_path, scen_base, data, mutate, command):
    scen0, against = scen_base
    with case_dir(tmp_path) as ex:
        scen = ex / "scen"
        shutil.copytree(scen0, scen)
        must_fail = data.draw(mutate(scen))
        shutil.copy(against, ex / "mw.csv")
        res = run_on_scenarios(ex, scen, ex / "mw.csv", command)
        if must_fail:
            assert res.exit_code == 1, "invalid values were accepted"


@fuzz(N_SCENARIO_DIR)
@given(data=st.data(), command=COMMANDS)
def test_mutated_scenarios_csv(tmp_path, scen_base, data, command):
    """A mutated ``scenarios.csv``: reduce / export / evaluate exit 0 or 1 with a one-line error,
    reject values outside [0, capacity] or not numbers, leave no partial output and the input
    unchanged."""
    _scenario_property(tmp_path, scen_base, data, mutate_scenarios_csv, command)


@fuzz(N_SCENARIO_DIR)
@given(data=st.data(), command=COMMANDS)
def test_mutated_probabilities_csv(tmp_path, scen_base, data, command):
    """A mutated or missing ``probabilities.csv``: as above; negative, non-numeric, missing or
    duplicated probabilities are rejected."""
    _scenario_property(tmp_path, scen_base, data, mutate_probabilities, command)


@fuzz(N_SCENARIO_DIR)
@given(data=st.data(), command=COMMANDS)
def test_mutated_metadata_json(tmp_path, scen_base, data, command):
    """A mutated ``metadata.json`` (wrong types, keys removed, capacities 0 / negative / too
    small, not JSON): as above."""
    _scenario_property(tmp_path, scen_base, data, mutate_metadata, command)


@fuzz(N_SCENARIO_DIR)
@given(data=st.data(), command=COMMANDS)
def test_mutated_scenarios_npz(tmp_path, scen_base, data, command):
    """A mutated ``scenarios.npz`` (values out of range / NaN / wrong shape or dtype, a member
    missing, truncated, random bytes): as above, and while ``scenarios.csv`` is there, what is
    read is the scenarios of the CSV or an error (the binary copy never changes them)."""
    scen0 = scen_base[0]
    with case_dir(tmp_path) as ex:
        scen = ex / "scen"
        shutil.copytree(scen0, scen)
        must_fail = data.draw(mutate_npz(scen))
        shutil.copy(scen_base[1], ex / "mw.csv")
        res = run_on_scenarios(ex, scen, ex / "mw.csv", command)
        if must_fail:
            assert res.exit_code == 1, "invalid values were accepted"
        if (scen / "scenarios.csv").exists():
            try:
                got = read_scenarios(scen).values
            except ScengenError:
                return
            np.testing.assert_allclose(got, read_scenarios(scen0).values, atol=1e-5)


# ---------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A run directory of a 3-step tiny model (30 days, so its calibration is fitted)."""
    d = tmp_path_factory.mktemp("run")
    csv = write_measurement_csv(d / "m.csv", synthetic_days(30, 2, 24, seed=8), sites=["a", "b"])
    T.train_run(
        DataConfig(path=str(csv)),
        T.ModelConfig(**TINY_MODEL, noise_channels=1),
        T.TrainConfig(steps=3, **TINY_TRAIN),
        d / "run",
    )
    return d / "run"


def _set_path(obj: dict, path: tuple, value: object) -> None:
    for k in path[:-1]:
        obj = obj[k]
    if value is _DELETE:
        obj.pop(path[-1], None)
    else:
        obj[path[-1]] = value


_DELETE = object()


@st.composite
def corrupt_checkpoint(draw, ckpt_file: Path) -> None:
    """Corrupt ``checkpoint.pt``: its bytes (truncate, overwrite, random) or one to three of its
    entries (removed, or set to a random value, a wrong-shaped or NaN tensor), saved again."""
    raw = ckpt_file.read_bytes()
    op = draw(
        st.sampled_from(
            ["truncate", "overwrite", "random", "entries", "entries", "entries", "zip", "benign"]
        )
    )
    note(f"checkpoint op {op}")
    if op == "truncate":
        ckpt_file.write_bytes(raw[: draw(st.integers(0, len(raw) - 1))])
        return
    if op == "overwrite":
        b = bytearray(raw)
        for _ in range(draw(st.integers(1, 20))):
            b[draw(st.integers(0, len(b) - 1))] = draw(st.integers(0, 255))
        ckpt_file.write_bytes(bytes(b))
        return
    if op == "random":
        ckpt_file.write_bytes(draw(st.binary(max_size=400)))
        return
    if op == "zip":  # a valid zip holding something else
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("archive/data.pkl", draw(st.binary(max_size=50)))
        ckpt_file.write_bytes(buf.getvalue())
        return
    ckpt = torch.load(ckpt_file, weights_only=True)
    if op == "benign":  # entries that do not matter to sampling or resuming
        ckpt.update(elapsed_s=draw(st.floats(0, 1e6)), versions=draw(VALUES))
        torch.save(ckpt, ckpt_file)
        return
    orig = copy.deepcopy(ckpt)
    gen_keys = sorted(orig["generator"])
    paths = st.one_of(
        st.sampled_from([(k,) for k in sorted(orig)]),
        st.sampled_from(
            [("config", s, k) for s in ("model", "data", "train") for k in orig["config"][s]]
        ),
        st.sampled_from([("generator", k) for k in gen_keys]),
        st.sampled_from([("generator_ema", k) for k in gen_keys]),
        st.sampled_from([("calibration", k) for k in sorted(orig["calibration"])]),
        st.sampled_from([("config", s) for s in ("model", "data", "train")]),
    )
    tensors = st.sampled_from(
        [
            torch.zeros(3),
            torch.full((2, 2), float("nan")),
            torch.zeros(0),
            torch.tensor(1),
            torch.ones(1, 201, 2, 24),
            torch.ones(1, 201, 2, 24) * float("nan"),
            torch.zeros(1, dtype=torch.bool),
            torch.tensor([True, False]),
        ]
    )
    for _ in range(draw(st.integers(1, 3))):
        path = draw(paths)
        value = draw(st.one_of(st.just(_DELETE), VALUES, tensors))
        note(f"checkpoint entry {path} = {value!r}"[:200])
        try:
            _set_path(ckpt, path, value)
        except (KeyError, TypeError, IndexError, AttributeError):
            pass
    torch.save(ckpt, ckpt_file)


@fuzz(N_CHECKPOINT)
@given(data=st.data())
def test_corrupt_checkpoint(tmp_path, tiny_run, data):
    """A corrupted checkpoint: load_checkpoint raises only ScengenError, and ``scengen generate
    RUN -n 5`` exits 0 with valid scenarios or 1 with a one-line error, no partial output."""
    with case_dir(tmp_path) as ex:
        run = ex / "run"
        shutil.copytree(tiny_run, run)
        data.draw(corrupt_checkpoint(run / T.CHECKPOINT))
        try:
            T.load_checkpoint(run)
        except ScengenError:
            pass
        out = ex / "out"
        res = run_checked(ex, ["generate", run, "-n", 5, "--out", out], out)
        if res.exit_code == 0:
            ss = read_scenarios(out)
            assert ss.n_scenarios == 5 and ss.sites == ["a", "b"]


@fuzz(N_RESUME)
@given(data=st.data())
def test_corrupt_checkpoint_resume(tmp_path, tiny_run, data):
    """``scengen train --out RUN --resume`` on a corrupted checkpoint: exit 0 with a loadable
    checkpoint, or a one-line error that leaves the run directory byte-identical."""
    with case_dir(tmp_path) as ex:
        run = ex / "run"
        shutil.copytree(tiny_run, run)
        data.draw(corrupt_checkpoint(run / T.CHECKPOINT))
        before = tree_digest(run)
        res = invoke("train", "--out", run, "--resume")
        note(f"train --resume -> {res.exit_code}: {res.output.strip()[-300:]}")
        event(f"resume exit {res.exit_code}")
        assert_cli_invariants(res, run, out_existed=True)
        if res.exit_code == 0:
            assert T.load_checkpoint(run)["step"] == 3
        else:
            assert tree_digest(run) == before, "a failed resume changed the run directory"


@pytest.fixture(scope="module")
def tiny_scenarios(tiny_run, tmp_path_factory) -> Path:
    """20 scenarios generated from ``tiny_run``."""
    from scengen.generate import generate

    d = tmp_path_factory.mktemp("gen") / "scen"
    write_scenarios(generate(tiny_run, 20, seed=1, device="cpu"), d)
    return d


@st.composite
def mutate_profiles_npz(draw, run: Path) -> bool:
    """Mutate a run's ``profiles.npz`` (the held-out and training days); return whether the
    result must be rejected (values outside [0, 1] or not finite)."""
    path = run / "profiles.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    op = draw(
        st.sampled_from(
            ["truncate", "bytes", "empty", "nan", "range", "shape", "missing", "scalar", "object"]
        )
    )
    note(f"profiles.npz op {op}")
    key = draw(st.sampled_from(sorted(arrays)))
    must_fail = False
    if op == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[: draw(st.integers(0, len(raw) - 1))])
        return False
    if op in ("bytes", "empty"):
        path.write_bytes(b"" if op == "empty" else draw(st.binary(max_size=200)))
        return False
    if op in ("nan", "range"):
        key = draw(st.sampled_from(["train_values", "test_values"]))
        v = arrays[key].copy()
        v.flat[draw(st.integers(0, v.size - 1))] = np.nan if op == "nan" else 5.0
        arrays[key] = v
        must_fail = key == "test_values"
    elif op == "shape":
        arrays[key] = np.zeros((2, 3))
    elif op == "missing":
        arrays.pop(key)
    elif op == "scalar":
        arrays[key] = draw(st.sampled_from([np.array([1, 2]), np.array("x"), np.array(-5)]))
    else:
        arrays[key] = np.array([None, 1], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return must_fail


@fuzz(N_PROFILES)
@given(data=st.data())
def test_mutated_profiles_npz(tmp_path, tiny_run, tiny_scenarios, data):
    """``scengen evaluate SCEN --against RUN`` with a mutated ``profiles.npz`` in RUN: exit 0 or
    a one-line error, held-out values outside [0, 1] rejected, no partial output, inputs
    unchanged."""
    with case_dir(tmp_path) as ex:
        run = ex / "run"
        shutil.copytree(tiny_run, run)
        must_fail = data.draw(mutate_profiles_npz(run))
        scen = ex / "scen"
        shutil.copytree(tiny_scenarios, scen)
        out = ex / "out"
        res = run_checked(ex, ["evaluate", scen, "--against", run, "--out", out], out)
        if must_fail:
            assert res.exit_code == 1, "held-out values outside [0, 1] were accepted"


class _Evil:
    """Unpickling this creates the folder ``target``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


@pytest.mark.parametrize("kind", ["torch_save", "raw_pickle", "nested_in_checkpoint"])
def test_malicious_checkpoint_is_not_executed(tmp_path, tiny_run, kind):
    """A checkpoint whose pickle would run code (``__reduce__`` making a folder) is refused with
    a one-line error, and the code does not run."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    marker = tmp_path / "PWNED"
    f = run / T.CHECKPOINT
    if kind == "torch_save":
        torch.save(_Evil(str(marker)), f)
    elif kind == "raw_pickle":
        f.write_bytes(pickle.dumps(_Evil(str(marker))))
    else:
        ckpt = torch.load(f, weights_only=True)
        ckpt["config"]["model"]["latent_dim"] = _Evil(str(marker))
        torch.save(ckpt, f)
    with pytest.raises(ScengenError):
        T.load_checkpoint(run)
    assert not marker.exists()
    out = tmp_path / "out"
    res = run_checked(tmp_path, ["generate", run, "-n", 5, "--out", out], out)
    assert res.exit_code == 1
    assert not marker.exists(), "the checkpoint's pickle ran code"


# ---------------------------------------------------------------------- command-line values


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


ARG_VALUES = st.one_of(
    st.sampled_from(
        [
            "-1",
            "0",
            "1",
            "2",
            "3",
            "5",
            str(SEED_MAX),
            str(SEED_MAX + 1),
            str(2**64),
            str(10**30),
            "-0",
            " 3",
            "1_0",
            "1.5",
            "1e3",
            "abc",
            "",
            "0x10",
            "\u0663",
        ]
    ),
    st.integers(-5, 40).map(str),
)


@fuzz(N_ARGS)
@given(
    command=st.sampled_from(["generate", "reduce", "export"]),
    count=ARG_VALUES,
    seed=ARG_VALUES,
    extra=st.sampled_from(["", "--batch-size", "--format"]),
    extra_value=st.one_of(ARG_VALUES, st.sampled_from([*FORMATS, "LONG", "xls"])),
)
def test_random_command_line_values(
    tmp_path, tiny_run, scen_base, command, count, seed, extra, extra_value
):
    """Random values of -n / -k, --seed, --batch-size and --format: a value that is not an integer
    for an integer option is click's usage error (exit status 2, click's own several-line
    message); anything else is exit 0 or a one-line error (1), e.g. a seed outside
    0..2**32-1; never a traceback, no partial output."""
    with case_dir(tmp_path) as ex:
        out = ex / "out"
        if command == "generate":
            src = ex / "run"
            shutil.copytree(tiny_run, src)
            args: list[object] = ["generate", src, "-n", count]
        elif command == "reduce":
            src = ex / "scen"
            shutil.copytree(scen_base[0], src)
            args = ["reduce", src, "-k", count]
        else:
            src = ex / "scen"
            shutil.copytree(scen_base[0], src)
            args = ["export", src]
        ints = [seed] if command == "export" else [count, seed]
        args += ["--seed", seed, "--out", out]
        if command == "export":
            args += ["--format", extra_value if extra == "--format" else "long"]
        elif command == "generate" and extra == "--batch-size":
            args += ["--batch-size", extra_value]
            ints.append(extra_value)
        n = _int_or_none(count)
        if command == "generate" and n is not None and n > 50:
            args[3] = n = 50  # keep the case fast; huge n is tested below
        res = run_checked(ex, args, out, usage_ok=True)
        usage = any(_int_or_none(v) is None for v in ints)
        # 2 only for a value click cannot read as an integer; with one, an option checked first
        # (a seed out of range) may still be the one-line error (1)
        assert res.exit_code != USAGE_EXIT or usage, res.output
        if usage:
            assert res.exit_code in (1, USAGE_EXIT), res.output
        s = _int_or_none(seed)
        if not usage and not 0 <= s <= SEED_MAX:
            assert res.exit_code == 1 and "seed" in res.output, res.output


@pytest.mark.parametrize("n", [10**7 + 1, 10**30, -5, 0])
def test_generate_rejects_impossible_counts(tmp_path, tiny_run, n):
    """-n beyond the guard (or below 1) is a one-line error before any sampling."""
    out = tmp_path / "out"
    res = run_checked(tmp_path, ["generate", tiny_run, "-n", n, "--out", out], out)
    assert res.exit_code == 1


# ---------------------------------------------------------------------- minimal reproductions
# The smallest cases of the failures the properties above found, one test each, so that each
# fix shows as an XPASS (strict: remove the mark with the fix).

_META_CASES = {
    "document is a list": "[1, 2]",
    "document is a string": '"x"',
    "sites null": {"sites": None},
    "sites a number": {"sites": 5},
    "n_steps text": {"n_steps": "abc"},
    "step_minutes null": {"step_minutes": None},
    "start_minute a list": {"start_minute": [1]},
    "capacities text": {"capacities": "abc"},
    "dates not dates": {"dates": ["x"]},
}


@pytest.mark.parametrize("case", sorted(_META_CASES))
def test_metadata_json_of_the_wrong_type_is_a_one_line_error(tmp_path, scen_base, case):
    """``scengen reduce DIR`` on a scenario directory whose ``metadata.json`` has the wrong
    type (the document, or one entry) is a one-line error."""
    scen = tmp_path / "scen"
    shutil.copytree(scen_base[0], scen)
    change = _META_CASES[case]
    if isinstance(change, str):
        (scen / "metadata.json").write_text(change, encoding="utf-8")
    else:
        meta = json.loads((scen / "metadata.json").read_text(encoding="utf-8"))
        (scen / "metadata.json").write_text(json.dumps({**meta, **change}), encoding="utf-8")
    out = tmp_path / "out"
    res = run_checked(tmp_path, ["reduce", scen, "-k", 2, "--out", out], out)
    assert res.exit_code == 1


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("model", "channels", 10**30),
        ("model", "latent_dim", 2**40),
        ("model", "kernel_size", 10**9 + 1),
        ("train", "batch_size", 2**62),
        ("train", "threads", 2**40),
    ],
)
def test_huge_model_or_batch_size_is_a_one_line_error(tmp_path, train_csv, section, key, value):
    """``scengen train --config`` with a size beyond memory is a one-line error."""
    conf = {"model": dict(TINY_MODEL), "train": dict(TINY_TRAIN)}
    conf[section][key] = value
    csv = shutil.copy(train_csv, tmp_path / "m.csv")
    (tmp_path / "c.yaml").write_text(dump_yaml(conf), encoding="utf-8")
    out = tmp_path / "run"
    res = run_checked(
        tmp_path, ["train", csv, "--config", tmp_path / "c.yaml", "--steps", 1, "--out", out], out
    )
    assert res.exit_code == 1


@pytest.mark.parametrize("command", ["reduce", "export", "evaluate"])
def test_top_level_config_seed_out_of_range_is_an_error(tmp_path, scen_base, command):
    """A top-level ``seed: -1`` in --config is a one-line error for every command."""
    scen, against = scen_base
    (tmp_path / "c.yaml").write_text("seed: -1\n", encoding="utf-8")
    out = tmp_path / "out"
    args: list[object] = {
        "reduce": ["reduce", scen, "-k", 2],
        "export": ["export", scen, "--format", "long"],
        "evaluate": ["evaluate", scen, "--against", against, "--no-references"],
    }[command]
    res = run_checked(tmp_path, [*args, "--config", tmp_path / "c.yaml", "--out", out], out)
    assert res.exit_code == 1 and "seed" in res.output


_PROFILES_CASES = {
    "truncated": lambda raw, z: raw[: len(raw) // 2],
    "empty": lambda raw, z: b"",
    "step_minutes an array": lambda raw, z: {**z, "step_minutes": np.array([1, 2])},
    "held-out value 5 p.u.": lambda raw, z: {**z, "test_values": z["test_values"] * 0 + 5.0},
}


@pytest.mark.parametrize("case", sorted(_PROFILES_CASES))
def test_profiles_npz_corrupt_is_a_one_line_error(tmp_path, tiny_run, tiny_scenarios, case):
    """``scengen evaluate SCEN --against RUN`` whose ``profiles.npz`` is truncated, empty, has a
    wrong-shaped entry or held-out values outside [0, 1]: a one-line error."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    f = run / "profiles.npz"
    with np.load(f) as z:
        new = _PROFILES_CASES[case](f.read_bytes(), {k: z[k] for k in z.files})
    if isinstance(new, bytes):
        f.write_bytes(new)
    else:
        with open(f, "wb") as fh:
            np.savez(fh, **new)
    out = tmp_path / "out"
    res = run_checked(tmp_path, ["evaluate", tiny_scenarios, "--against", run, "--out", out], out)
    assert res.exit_code == 1


@pytest.mark.parametrize("dtype", ["U3", "bool", "int8"])
def test_npz_values_of_another_dtype_are_not_used(tmp_path, scen_base, dtype):
    """A ``scenarios.npz`` whose values are not floats (text, bool, int) is not used in place
    of ``scenarios.csv``: the values read are the CSV's (or an error)."""
    scen = tmp_path / "scen"
    shutil.copytree(scen_base[0], scen)
    with np.load(scen / "scenarios.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["values"] = arrays["values"].astype(dtype)
    with open(scen / "scenarios.npz", "wb") as f:
        np.savez(f, **arrays)
    np.testing.assert_allclose(
        read_scenarios(scen).values, read_scenarios(scen_base[0]).values, atol=1e-5
    )
