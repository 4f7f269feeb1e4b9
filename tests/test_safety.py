"""Never lose a user's data: one regression test per case of issue 16 (outputs, inputs,
consistency, crashes). The property-based and fault-injection suites are test_fuzz.py and
test_faults.py."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

from scengen import _io
from scengen import train as T
from scengen.cli import cli
from scengen.data import DataConfig, load_profiles
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, read_scenarios, write_scenarios

TINY_MODEL = {"latent_dim": 4, "channels": 8, "critic_channels": 8, "embed_dim": 2}
TINY_TRAIN = {"steps": 2, "batch_size": 8, "n_critic": 1, "log_every": 1, "device": "cpu"}
TINY_YAML = (
    "model: {latent_dim: 4, channels: 8, critic_channels: 8, embed_dim: 2}\n"
    "train: {steps: 2, batch_size: 8, n_critic: 1, log_every: 1, device: cpu}\n"
)


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(r, *words: str) -> str:
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.output.strip().splitlines()
    err = [ln for ln in lines if ln.startswith("Error: ")]
    assert len(err) == 1 and err[0] == lines[-1], r.output
    for w in words:
        assert w in err[0], err[0]
    return err[0]


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file below ``path`` (relative name -> digest)."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A tiny trained run on 60 days of 2 wind sites (capacity 1)."""
    d = tmp_path_factory.mktemp("safety")
    csv = write_measurement_csv(d / "wind.csv", synthetic_days(60, 2, 24, seed=1), sites=["a", "b"])
    T.train_run(
        DataConfig(path=str(csv)),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(**TINY_TRAIN),
        d / "run",
        seed=0,
    )
    return d / "run"


@pytest.fixture
def scen(tmp_path) -> Path:
    ss = ScenarioSet(synthetic_days(30, 2, 24, seed=3), sites=["a", "b"], metadata={"kind": "t"})
    return write_scenarios(ss, tmp_path / "scen")


# ---------------------------------------------------------------------- 1. outputs


def test_generate_into_its_own_run_is_refused(run):
    before = tree_digest(run)
    one_line_error(invoke("generate", run, "-n", 10, "--out", run), "is or contains the input")
    one_line_error(
        invoke("generate", run, "-n", 10, "--out", run, "--overwrite"), "is or contains the input"
    )
    one_line_error(
        invoke("generate", run / "checkpoint.pt", "-n", 5, "--out", run),
        "is or contains the input",
    )
    assert tree_digest(run) == before


def test_reduce_into_its_input_is_refused(scen):
    before = tree_digest(scen)
    for extra in ([], ["--overwrite"]):
        one_line_error(invoke("reduce", scen, "-k", 5, "--out", scen, *extra), "the input")
    one_line_error(invoke("reduce", scen, "-k", 5, "--out", scen.parent), "the input")
    assert tree_digest(scen) == before
    assert read_scenarios(scen).n_scenarios == 30


def test_export_never_deletes_a_users_file(scen, tmp_path):
    mine = tmp_path / "myreport"
    mine.mkdir()
    (mine / "paper.docx").write_text("x")
    one_line_error(invoke("export", scen, "--format", "gams", "--out", mine), "already exists")
    one_line_error(
        invoke("export", scen, "--format", "gams", "--out", mine, "--overwrite"),
        "is not an export directory",
    )
    assert (mine / "paper.docx").read_text() == "x" and os.listdir(mine) == ["paper.docx"]


def test_overwrite_replaces_only_own_output_of_same_kind(scen, tmp_path):
    out = tmp_path / "exp"
    assert invoke("export", scen, "--format", "long", "--out", out).exit_code == 0
    one_line_error(invoke("export", scen, "--format", "wide", "--out", out), "--overwrite")
    r = invoke("export", scen, "--format", "wide", "--out", out, "--overwrite")
    assert r.exit_code == 0, r.output
    assert (out / "scenarios_wide.csv").is_file() and not (out / "scenarios.csv").exists()
    # a file the user dropped into scengen's output blocks the replacement
    (out / "notes.txt").write_text("mine")
    one_line_error(
        invoke("export", scen, "--format", "long", "--out", out, "--overwrite"), "'notes.txt'"
    )
    assert (out / "notes.txt").read_text() == "mine"
    # an export directory is not a scenario directory, and vice versa
    one_line_error(invoke("reduce", scen, "-k", 3, "--out", out, "--overwrite"), "not a scenario")
    red = scen.parent / "red"
    assert invoke("reduce", scen, "-k", 3, "--out", red).exit_code == 0
    one_line_error(
        invoke("export", scen, "--format", "long", "--out", red, "--overwrite"),
        "is not an export directory",
    )


def test_empty_existing_directory_is_fine(scen, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("reduce", scen, "-k", 3, "--out", empty).exit_code == 0
    assert read_scenarios(empty).n_scenarios == 3


def test_train_into_a_folder_that_is_not_a_run_is_refused(tmp_path, wind_csv):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "config.yaml").write_text("my own config\n")
    (d / "metrics.csv").write_text("a,b\n1,2\n")
    before = tree_digest(d)
    one_line_error(invoke("train", wind_csv, "--out", d, "--steps", 1), "not a scengen run")
    one_line_error(
        invoke("train", wind_csv, "--out", d, "--steps", 1, "--overwrite"), "not a scengen run"
    )
    assert tree_digest(d) == before


@pytest.mark.parametrize("out", [".", "..", "./", "sub/.."])
def test_out_dot_is_a_one_line_error(tmp_path, scen, out, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir(exist_ok=True)
    before = sorted(os.listdir(tmp_path.parent))
    for args in (
        ["reduce", scen, "-k", 2, "--out", out],
        ["export", scen, "--format", "long", "--out", out, "--overwrite"],
        ["generate", "nothing", "--out", out],
    ):
        r = invoke(*args)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert sorted(os.listdir(tmp_path.parent)) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".old", ".tmp"))]
    one_line_error(invoke("reduce", scen, "-k", 2, "--out", out), "current directory")


def test_stale_temp_entries_of_dead_writers_are_cleaned(scen, tmp_path):
    dead = 2**22 + 12345  # above the default pid_max: no such process
    stale_dir = tmp_path / f".red.{dead}.0123abcd.tmp"
    stale_dir.mkdir()
    (stale_dir / "scenarios.csv").write_text("half")
    stale_file = tmp_path / f".x.csv.{dead}.0123abcd.tmp"
    stale_file.write_text("half")
    alive = tmp_path / f".red.{os.getpid()}.0123abcd.tmp"
    alive.mkdir()
    users = tmp_path / ".red.hidden"
    users.mkdir()
    assert invoke("reduce", scen, "-k", 3, "--out", tmp_path / "red").exit_code == 0
    assert not stale_dir.exists() and not stale_file.exists()
    assert alive.exists() and users.exists()


def test_killed_replacement_is_rolled_back(scen, tmp_path):
    """A writer killed between moving the old output aside and moving the new one in: the next
    writer in the folder puts the old one back."""
    out = tmp_path / "red"
    assert invoke("reduce", scen, "-k", 3, "--out", out).exit_code == 0
    before = tree_digest(out)
    aside = tmp_path / f".red.{2**22 + 7}.0123abcd.old"
    os.replace(out, aside)
    _io.clean_stale(tmp_path)
    assert tree_digest(out) == before and not aside.exists()


def test_report_never_replaces_a_foreign_html(run, tmp_path):
    page = tmp_path / "index.html"
    page.write_text("<html>my page</html>")
    one_line_error(invoke("report", run, "--out", page, "--overwrite"), "not written by scengen")
    assert page.read_text() == "<html>my page</html>"
    own = tmp_path / "r.html"
    assert invoke("report", run, "--out", own).exit_code == 0
    one_line_error(invoke("report", run, "--out", own), "--overwrite")
    assert invoke("report", run, "--out", own, "--overwrite").exit_code == 0


def test_run_refuses_a_job_folder_it_did_not_write(tmp_path, wind_csv):
    cfg = tmp_path / "b.yaml"
    cfg.write_text(f"jobs:\n  - name: w\n    data: {{path: {wind_csv}}}\n")
    (tmp_path / "o" / "w").mkdir(parents=True)
    (tmp_path / "o" / "w" / "thesis.tex").write_text("x")
    r = invoke("run", cfg, "--out", tmp_path / "o")
    assert r.exit_code == 1 and "not a scengen run" in r.output, r.output
    assert os.listdir(tmp_path / "o" / "w") == ["thesis.tex"]


# ---------------------------------------------------------------------- 2. garbage values


@pytest.mark.parametrize("bad", [-3.0, 42.0])
def test_out_of_range_scenario_values_are_refused(scen, tmp_path, bad):
    import pandas as pd

    df = pd.read_csv(scen / "scenarios.csv")
    df.loc[17, "value"] = bad
    df.to_csv(scen / "scenarios.csv", index=False)  # the npz no longer matches: CSV is read
    for args in (
        ["reduce", scen, "-k", 3, "--out", tmp_path / "r"],
        ["export", scen, "--format", "pypsa", "--out", tmp_path / "e"],
    ):
        msg = one_line_error(invoke(*args), "scenarios.csv", "data row 18", f"{bad:g}")
        assert "outside [0, capacity]" in msg
    assert not (tmp_path / "r").exists() and not (tmp_path / "e").exists()


def test_out_of_range_values_in_the_binary_copy_are_refused(tmp_path):
    v = synthetic_days(5, 2, 24, seed=3)
    ss = ScenarioSet(v, sites=["a", "b"], metadata={"kind": "t"})
    write_scenarios(ss, tmp_path / "s")
    with np.load(tmp_path / "s" / "scenarios.npz") as z:
        arrays = dict(z)
    arrays["values"][2, 1, 5] = 42.0
    np.savez(tmp_path / "s" / "scenarios.npz", **arrays)
    with pytest.raises(ScengenError, match=r"scenarios.npz.*scenario 2, site 'b', step 5.*42"):
        read_scenarios(tmp_path / "s")


# ---------------------------------------------------------------------- 3. silently lost input


def test_unknown_top_level_config_key(tmp_path, wind_csv):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("trian:\n  steps: 1\n")
    msg = one_line_error(
        invoke("train", wind_csv, "--out", tmp_path / "r", "--config", cfg), "unknown key 'trian'"
    )
    assert "did you mean 'train'" in msg and "allowed keys" in msg
    assert not (tmp_path / "r").exists()
    cfg.write_text("k: 3\nreduce: {method: pam}\n")
    one_line_error(
        invoke("reduce", wind_csv, "--out", tmp_path / "x", "--config", cfg), "unknown key 'k'"
    )


def test_mixed_resolutions_are_an_error(tmp_path):
    import pandas as pd

    hourly = pd.date_range("2020-01-01", periods=20 * 24, freq="h")
    half = pd.date_range("2020-01-21", periods=30 * 48, freq="30min")
    t = hourly.append(half)
    f = tmp_path / "m.csv"
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M"), "a": 0.5}).to_csv(f, index=False)
    with pytest.raises(ScengenError, match=r"mixes resolutions: 20 day\(s\).*60-min.*2020-01-01"):
        load_profiles(f)


def test_gappy_days_are_dropped_not_mixed(tmp_path):
    v = synthetic_days(15, 1, 24, seed=2)
    v[3, 0, 5] = np.nan
    v[7, 0, :] = np.nan
    f = write_measurement_csv(tmp_path / "m.csv", v)
    p = load_profiles(f)
    assert p.n_dropped_days == 2
    assert [str(d) for d in p.dropped_dates] == ["2020-01-04", "2020-01-08"]


def test_dropped_days_are_reported_on_the_console(tmp_path):
    v = synthetic_days(15, 1, 24, seed=2)
    v[3, 0, 5] = np.nan
    f = write_measurement_csv(tmp_path / "m.csv", v)
    lines = f.read_text().splitlines()  # day 6, 02:00: written as n/a
    lines[1 + 24 * 5 + 2] = lines[1 + 24 * 5 + 2].split(",")[0] + ",n/a"
    f.write_text("\n".join(lines) + "\n")
    r = invoke("reduce", f, "-k", 2, "--out", tmp_path / "r")
    assert r.exit_code == 0, r.output
    assert "dropped 2 incomplete day(s)" in r.output and "2020-01-04, 2020-01-06" in r.output
    r = invoke(
        "train", f, "--out", tmp_path / "run", "--steps", 1, "--batch-size", 4, "--n-critic", 1
    )
    assert r.exit_code == 0, r.output
    assert "dropped 2 incomplete day(s)" in r.output
    meta = json.loads((tmp_path / "run" / "metadata.json").read_text())
    assert meta["data"]["dropped_dates"] == ["2020-01-04", "2020-01-06"]


def test_metadata_records_utc_offsets_and_units(tmp_path):
    import pandas as pd

    t = pd.date_range("2020-03-20", periods=24 * 14, freq="h", tz="UTC")
    local = t.tz_convert("Europe/Berlin")  # daylight saving time from 2020-03-29
    f = tmp_path / "dst.csv"
    vals = 30 * synthetic_days(14, 1, 24, seed=1).reshape(-1)
    stamps = local.strftime("%Y-%m-%dT%H:%M%z")
    pd.DataFrame({"timestamp": stamps, "a": vals}).to_csv(f, index=False)
    r = invoke("train", f, "--out", tmp_path / "run", "--steps", 1, "--batch-size", 4,
               "--capacity", "max")  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "run" / "metadata.json").read_text())["data"]
    assert data["utc_offsets"] == ["+01:00", "+02:00"] and data["utc_offset"] == "+01:00"
    assert data["n_dropped_days"] == 2  # the first and last days are partial
    assert data["units"] == "file units"  # not "MW": nobody said so


# ---------------------------------------------------------------------- 4. tracebacks


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999", str(2**32)])
def test_seed_out_of_range(tmp_path, wind_csv, scen, run, seed):
    for args in (
        ["train", wind_csv, "--out", tmp_path / "t", "--seed", seed],
        ["reduce", scen, "-k", 2, "--out", tmp_path / "r", "--seed", seed],
        ["evaluate", scen, "--against", run, "--seed", seed],
        ["generate", run, "-n", 2, "--out", tmp_path / "g", "--seed", seed],
    ):
        one_line_error(invoke(*args), "seed")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seed: -1\n")
    one_line_error(invoke("train", wind_csv, "--out", tmp_path / "t", "--config", cfg), "seed")
    cfg.write_text("reduce: {k: 2, seed: 4294967296}\n")
    one_line_error(invoke("reduce", scen, "--out", tmp_path / "r", "--config", cfg), "seed")
    assert (
        invoke("reduce", scen, "-k", 2, "--out", tmp_path / "r", "--seed", 2**32 - 1).exit_code == 0
    )


# ---------------------------------------------------------------------- 5. consistency


def test_evaluating_on_the_models_training_days_is_an_error(run, tmp_path):
    """Scenarios of one run scored against another split of the same data (other seed)."""
    other = tmp_path / "other"
    T.train_run(
        DataConfig(path=str(run.parent / "wind.csv")),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(**TINY_TRAIN),
        other,
        seed=5,
    )
    scen = tmp_path / "scen"
    assert invoke("generate", run, "-n", 20, "--out", scen).exit_code == 0
    msg = one_line_error(invoke("evaluate", scen, "--against", other), "training days of the model")
    assert "--allow-train-days" in msg
    assert not (scen / "evaluation.json").exists()
    r = invoke("evaluate", scen, "--against", other, "--allow-train-days")
    assert r.exit_code == 0, r.output
    # against the CSV itself (every day, training days included)
    one_line_error(
        invoke("evaluate", scen, "--against", run.parent / "wind.csv", "--out", tmp_path / "e"),
        "training days of the model",
    )
    assert invoke("evaluate", scen, "--against", run, "--overwrite").exit_code == 0


def test_evaluate_refuses_scenarios_of_a_retrained_run(run, tmp_path):
    scen = tmp_path / "scen"
    assert invoke("generate", run, "-n", 10, "--out", scen).exit_code == 0
    meta = json.loads((scen / "metadata.json").read_text())
    meta["data_fingerprint"] = "0" * 64
    (scen / "metadata.json").write_text(json.dumps(meta))
    one_line_error(invoke("evaluate", scen, "--against", run), "retrained")


# ---------------------------------------------------------------------- 6. crashes


def test_sigint_saves_a_checkpoint_and_resume_continues(tmp_path, wind_csv):
    """Ctrl-C before the first periodic checkpoint: the steps done are kept (they used to be
    deleted with the whole run directory)."""
    run_dir = tmp_path / "run"

    def progress(info):
        if info.get("step") == 3:
            os.kill(os.getpid(), signal.SIGINT)

    cfg = {**TINY_TRAIN, "steps": 8, "checkpoint_every": 500}
    with pytest.raises(T.TrainingInterrupted) as e:
        T.train_run(
            DataConfig(path=str(wind_csv)),
            T.ModelConfig(**TINY_MODEL),
            T.TrainConfig(**cfg),
            run_dir,
            seed=0,
            progress=progress,
        )
    assert e.value.step == 3 and "--resume" in str(e.value)
    assert T.load_checkpoint(run_dir)["step"] == 3
    assert json.loads((run_dir / "metadata.json").read_text())["status"] == "interrupted"
    meta = T.train_run(
        DataConfig(path=str(wind_csv)),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(**cfg),
        run_dir,
        seed=0,
        resume=True,
    )
    assert meta["step"] == 8 and meta["status"] == "complete"
    # the same weights as an uninterrupted run
    T.train_run(
        DataConfig(path=str(wind_csv)),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(**cfg),
        tmp_path / "straight",
        seed=0,
    )
    a = T.load_checkpoint(run_dir)["generator"]
    b = T.load_checkpoint(tmp_path / "straight")["generator"]
    assert all((a[k] == b[k]).all() for k in a)
    # the default SIGINT handler is back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(
    "column, value, words",
    [
        ("scenario", "s0", "scenario 's0' is not a whole number"),
        ("scenario", 0.5, "scenario '0.5' is not a whole number"),
        ("step", -0.5, "step '-0.5' is not a whole number"),
        ("value", "abc", "value 'abc' is not a number"),
    ],
)
def test_scenario_csv_ids_steps_values_are_checked(scen, tmp_path, column, value, words):
    import pandas as pd

    df = pd.read_csv(scen / "scenarios.csv")
    df[column] = df[column].astype(object)
    df.loc[4, column] = value
    df.to_csv(scen / "scenarios.csv", index=False)
    one_line_error(invoke("reduce", scen, "-k", 2, "--out", tmp_path / "r"), "data row 5", words)


def test_scenario_files_that_cannot_be_read(scen, tmp_path):
    (scen / "scenarios.csv").write_text("scenario,site,step,time,value\n")
    (scen / "scenarios.npz").unlink()
    one_line_error(invoke("reduce", scen, "-k", 2, "--out", tmp_path / "r"), "no data rows")
    (scen / "scenarios.csv").unlink()
    (scen / "scenarios.npz").write_bytes(b"PK\x03\x04 truncated")
    one_line_error(invoke("reduce", scen, "-k", 2, "--out", tmp_path / "r"), "cannot be read")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("model", "channels", 10**30),
        ("model", "latent_dim", 2**40),
        ("model", "kernel_size", 10**9 + 1),
        ("train", "batch_size", 2**62),
        ("train", "threads", 2**40),
        ("train", "n_critic", 2**70),
        ("train", "lr", float("inf")),
    ],
)
def test_absurd_sizes_are_one_line_errors(section, key, value):
    cls = T.ModelConfig if section == "model" else T.TrainConfig
    with pytest.raises(ScengenError, match=f"{section}.{key} = "):
        cls(**{key: value})
