"""Generation: shape, range, probabilities, determinism, conditioning, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from scengen import train as T
from scengen.cli import cli
from scengen.data import DataConfig
from scengen.errors import ScengenError
from scengen.generate import calibrate, generate
from scengen.scenarios import read_scenarios

TINY_MODEL = {"latent_dim": 4, "channels": 8, "critic_channels": 8, "embed_dim": 2}
TINY_TRAIN = {"steps": 2, "batch_size": 8, "n_critic": 1, "log_every": 1, "device": "cpu"}


def _train(csv_path: Path, out: Path, **train: object) -> Path:
    T.train_run(
        DataConfig(path=str(csv_path)),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(**{**TINY_TRAIN, **train}),
        out,
        seed=0,
    )
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """One unconditioned and one month-conditioned tiny run (Jan-Feb data, 2 sites)."""
    from conftest import synthetic_days, write_measurement_csv

    d = tmp_path_factory.mktemp("gen")
    csv = write_measurement_csv(
        d / "wind.csv", 50 * synthetic_days(60, 2, 24, seed=1), sites=["wf1", "wf2"]
    )
    data = DataConfig(path=str(csv), capacity=50.0)
    out = {}
    for name, cond in (("plain", "none"), ("month", "month")):
        T.train_run(
            data,
            T.ModelConfig(**TINY_MODEL),
            T.TrainConfig(**{**TINY_TRAIN, "condition": cond}),
            d / name,
            seed=0,
        )
        out[name] = d / name
    return out


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line_error(res, *words: str) -> None:
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_generate_shape_range_probabilities(runs):
    ss = generate(runs["plain"], 37, seed=1, batch_size=10, device="cpu")
    assert ss.values.shape == (37, 2, 24)
    assert ss.values.min() >= 0 and ss.values.max() <= 1
    np.testing.assert_allclose(ss.probabilities, 1 / 37)
    assert ss.sites == ["wf1", "wf2"] and ss.step_minutes == 60
    assert ss.capacities.tolist() == [50.0, 50.0]
    md = ss.metadata
    assert md["kind"] == "generated" and md["seed"] == 1 and md["checkpoint_step"] == 2
    assert md["source_run"] == str(runs["plain"]) and md["condition"] is None
    assert "torch" in md["versions"]
    again = generate(runs["plain"], 37, seed=1, batch_size=10, device="cpu")
    np.testing.assert_array_equal(ss.values, again.values)
    other = generate(runs["plain"], 37, seed=2, batch_size=10, device="cpu")
    assert not np.array_equal(ss.values, other.values)


def test_generate_conditioning(runs):
    ss = generate(runs["month"], 5, condition=1, device="cpu")
    assert ss.metadata["condition"] == 1 and ss.metadata["condition_kind"] == "month"
    mixed = generate(runs["month"], 5, device="cpu")
    assert mixed.metadata["condition"] is None
    with pytest.raises(ScengenError, match="13"):
        generate(runs["month"], 5, condition=13)
    with pytest.raises(ScengenError, match="no training days"):
        generate(runs["month"], 5, condition=7)  # the data cover January-February only
    with pytest.raises(ScengenError, match="without conditioning"):
        generate(runs["plain"], 5, condition=1)


def test_generate_bad_n(runs):
    for n in (0, -3, 2.5, True):
        with pytest.raises(ScengenError, match="n = "):
            generate(runs["plain"], n)


def test_cli_generate_writes_identical_files_for_same_seed(runs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    res = invoke("generate", runs["plain"], "-n", 20, "--out", a, "--seed", 4)
    assert res.exit_code == 0, res.output
    assert "generated 20 scenarios" in res.output
    res = invoke("generate", runs["plain"], "-n", 20, "--out", b, "--seed", 4)
    assert res.exit_code == 0, res.output
    for f in ("scenarios.csv", "probabilities.csv", "scenarios.npz"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    ss = read_scenarios(a)
    assert ss.n_scenarios == 20 and ss.metadata["seed"] == 4
    assert ss.values.max() <= 1 and ss.in_units().max() <= 50
    head = (a / "scenarios.csv").read_text().splitlines()[:3]
    assert head[0] == "scenario,site,step,time,value" and head[1].startswith("0,wf1,0,00:00,")
    meta = json.loads((a / "metadata.json").read_text())
    assert meta["kind"] == "generated" and meta["n_scenarios"] == 20


def test_cli_generate_condition_and_config(runs, tmp_path):
    cfg = tmp_path / "g.yaml"
    cfg.write_text("generate: {n: 6, condition: 2}\n")
    res = invoke("generate", runs["month"], "--config", cfg, "--out", tmp_path / "f")
    assert res.exit_code == 0, res.output
    ss = read_scenarios(tmp_path / "f")
    assert ss.n_scenarios == 6 and ss.metadata["condition"] == 2
    res = invoke("generate", runs["month"], "-n", 3, "--condition", 1)  # default --out
    assert res.exit_code == 0, res.output
    assert read_scenarios(runs["month"] / "scenarios").n_scenarios == 3


def test_cli_generate_help():
    res = invoke("generate", "--help")
    assert res.exit_code == 0 and "Example" in res.output


def test_cli_generate_errors(runs, tmp_path):
    out = tmp_path / "out"
    plain, month = runs["plain"], runs["month"]
    assert_one_line_error(invoke("generate", plain, "-n", 0, "--out", out), "-n 0")
    assert_one_line_error(invoke("generate", plain, "-n", -5, "--out", out), "-n -5")
    assert_one_line_error(
        invoke("generate", tmp_path / "nope", "-n", 3, "--out", out), "does not exist"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(invoke("generate", empty, "-n", 3, "--out", out), "checkpoint")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    raw = (plain / "checkpoint.pt").read_bytes()
    (corrupt / "checkpoint.pt").write_bytes(raw[: len(raw) // 2])  # truncated
    assert_one_line_error(invoke("generate", corrupt, "-n", 3, "--out", out), "corrupt")
    other = tmp_path / "other"
    other.mkdir()
    torch.save({"weights": torch.zeros(3)}, other / "checkpoint.pt")
    assert_one_line_error(invoke("generate", other, "-n", 3, "--out", out), "not a scengen")
    assert_one_line_error(invoke("generate", month, "-n", 3, "--condition", 13, "--out", out), "13")
    assert_one_line_error(
        invoke("generate", month, "-n", 3, "--condition", "july", "--out", out), "july"
    )
    assert_one_line_error(
        invoke("generate", plain, "-n", 3, "--condition", 7, "--out", out), "without"
    )
    assert_one_line_error(
        invoke("generate", plain, "-n", 3, "--device", "tpu", "--out", out), "tpu"
    )
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_calibration_maps_marginals(runs):
    ss = generate(runs["plain"], 400, seed=0, device="cpu")
    raw = generate(runs["plain"], 400, seed=0, device="cpu", calibrated=False)
    assert ss.metadata["calibrated"] and not raw.metadata["calibrated"]
    assert not np.array_equal(ss.values, raw.values)
    # monotone per site and step: the order of the samples is kept
    order = np.argsort(raw.values[:, 0, 5], kind="stable")
    assert np.all(np.diff(ss.values[order, 0, 5]) >= -1e-6)
    # the calibrated marginals follow the training days
    cal = T.load_checkpoint(runs["plain"])["calibration"]
    target_median = cal["target"][0, 100].numpy()
    assert (
        np.abs(np.median(ss.values, axis=0) - target_median).mean()
        < np.abs(np.median(raw.values, axis=0) - target_median).mean()
    )


def test_calibrate_identity_and_ties():
    k, s, t = 5, 1, 2
    grid = torch.linspace(0, 1, k).reshape(1, k, 1, 1).expand(1, k, s, t).contiguous()
    cal = {"generated": grid, "target": grid, "fitted": torch.tensor([True])}
    x = np.random.default_rng(0).uniform(0, 1, (10, s, t)).astype(np.float32)
    np.testing.assert_allclose(calibrate(x, cal), x, atol=1e-6)
    tied = torch.tensor([0.0, 0.0, 0.0, 0.5, 1.0]).reshape(1, k, 1, 1).expand(1, k, s, t)
    cal = {"generated": tied.contiguous(), "target": grid, "fitted": torch.tensor([True])}
    out = calibrate(np.zeros((3, s, t), np.float32), cal)
    np.testing.assert_allclose(out, 0.25)  # middle of the quantiles tied at 0


# ---------------------------------------------------------------------- streaming (issue 16)


def _fixed_zip_time(monkeypatch) -> None:
    """Same member timestamps in every zip (numpy.savez stamps the current time)."""
    import time
    import types
    import zipfile

    fake = types.SimpleNamespace(time=lambda: 1.7e9, localtime=time.localtime)
    monkeypatch.setattr(zipfile, "time", fake)


SCENARIO_FILES = ("scenarios.csv", "probabilities.csv", "metadata.json", "scenarios.npz")


def assert_same_files(a: Path, b: Path) -> None:
    assert sorted(p.name for p in a.iterdir()) == sorted(SCENARIO_FILES)
    assert sorted(p.name for p in b.iterdir()) == sorted(SCENARIO_FILES)
    for f in SCENARIO_FILES:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.mark.parametrize("name", ["plain", "month"])
def test_generate_to_dir_writes_the_bytes_of_write_scenarios(runs, tmp_path, monkeypatch, name):
    from scengen.generate import generate_to_dir, iter_generate
    from scengen.scenarios import write_scenarios

    _fixed_zip_time(monkeypatch)
    kw = {"seed": 5, "batch_size": 10, "device": "cpu"}
    ss = generate(runs[name], 37, **kw)
    chunks = list(iter_generate(runs[name], 37, **kw))
    assert [len(c) for c in chunks] == [10, 10, 10, 7]
    np.testing.assert_array_equal(np.concatenate([c.values for c in chunks]), ss.values)
    assert np.concatenate([c.ids for c in chunks]).tolist() == list(range(37))
    write_scenarios(ss, tmp_path / "memory")
    seen = []
    meta = generate_to_dir(runs[name], 37, tmp_path / "stream", progress=seen.append, **kw)
    assert_same_files(tmp_path / "memory", tmp_path / "stream")
    assert [p["done"] for p in seen] == [0, 10, 20, 30, 37]
    assert all(p["n"] == 37 and p["bytes"] > 0 for p in seen)
    assert meta == json.loads((tmp_path / "stream" / "metadata.json").read_text())
    assert meta["n_scenarios"] == 37 and meta["checkpoint_complete"] and meta["incomplete"] is None
    back = read_scenarios(tmp_path / "stream")
    np.testing.assert_array_equal(back.values, ss.values)


def test_generate_to_dir_overwrite_and_inputs(runs, tmp_path):
    from scengen.generate import generate_to_dir

    out = tmp_path / "s"
    generate_to_dir(runs["plain"], 4, out, device="cpu")
    with pytest.raises(ScengenError, match="--overwrite"):
        generate_to_dir(runs["plain"], 5, out, device="cpu")
    generate_to_dir(runs["plain"], 5, out, device="cpu", overwrite=True)
    assert read_scenarios(out).n_scenarios == 5
    with pytest.raises(ScengenError, match="input"):
        generate_to_dir(runs["plain"], 5, runs["plain"], device="cpu", overwrite=True)


def test_write_scenarios_stream_matches_and_fails_cleanly(runs, tmp_path, monkeypatch):
    from scengen.scenarios import write_scenarios, write_scenarios_stream

    _fixed_zip_time(monkeypatch)
    full = generate(runs["plain"], 25, device="cpu")
    rng = np.random.default_rng(0)
    order = rng.permutation(25)[:12]
    p = rng.uniform(0.5, 1, 12)
    ss = full.subset(order, probabilities=p / p.sum(), method="test")  # own ids and weights
    write_scenarios(ss, tmp_path / "a")
    chunks = (ss.subset(np.arange(a, min(a + 5, 12))) for a in range(0, 12, 5))
    write_scenarios_stream(chunks, tmp_path / "b", n_scenarios=12, probabilities=ss.probabilities)
    assert_same_files(tmp_path / "a", tmp_path / "b")

    def failing():
        yield ss.subset(np.arange(5))
        raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError, match="mid-way"):
        write_scenarios_stream(failing(), tmp_path / "c", n_scenarios=12)
    chunks = (ss.subset(np.arange(a, a + 5)) for a in (0, 5))
    with pytest.raises(ScengenError, match="10 scenarios, not n_scenarios = 12"):
        write_scenarios_stream(chunks, tmp_path / "c", n_scenarios=12)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a", "b"]  # no partial output


def test_estimate_dir_bytes_bounds_the_written_size(runs, tmp_path):
    from scengen.generate import generate_to_dir
    from scengen.scenarios import estimate_dir_bytes

    n = 3000
    first = generate(runs["plain"], 100, seed=2, device="cpu")
    est = estimate_dir_bytes(first, n)
    generate_to_dir(runs["plain"], n, tmp_path / "s", seed=2, batch_size=1000, device="cpu")
    size = sum(p.stat().st_size for p in (tmp_path / "s").iterdir())
    assert size <= est <= 1.25 * size


def test_generate_to_dir_refuses_an_output_larger_than_the_free_space(runs, tmp_path, monkeypatch):
    import collections

    import scengen.generate as G

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(G.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 10**6))
    with pytest.raises(ScengenError) as e:
        G.generate_to_dir(runs["plain"], 40_000, tmp_path / "big", device="cpu")
    msg = str(e.value)
    assert "n = 40000" in msg and "MB on disk" in msg and "1.0 MB free" in msg, msg
    assert list(tmp_path.iterdir()) == []  # nothing written
    res = invoke("generate", runs["plain"], "-n", 40_000, "--out", tmp_path / "big")
    assert_one_line_error(res, "n = 40000", "free")
    assert list(tmp_path.iterdir()) == []


def _copy_run(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("scenarios"))
    return dst


def test_generate_refuses_a_checkpoint_of_another_run(runs, tmp_path):
    run = _copy_run(runs["plain"], tmp_path / "run")
    meta = json.loads((run / "metadata.json").read_text())
    meta["data"]["fingerprint"] = "0123456789abcdef" * 4  # the run trained on other data
    (run / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ScengenError, match="does not belong to this run.*copied from another"):
        generate(run, 3, device="cpu")
    res = invoke("generate", run, "-n", 3, "--out", tmp_path / "s")
    assert_one_line_error(res, "checkpoint.pt", "does not belong to this run", "0123456789ab")
    assert not (tmp_path / "s").exists()
    # the checkpoint file on its own (no run metadata to compare with) is sampled
    assert generate(run / "checkpoint.pt", 3, device="cpu").n_scenarios == 3


def test_generate_from_an_incomplete_run_warns_once(runs, tmp_path):
    run = _copy_run(runs["plain"], tmp_path / "run")
    ckpt = T.load_checkpoint(run)
    ckpt.update(step=1, calibration={})  # an intermediate checkpoint (train.steps = 2)
    torch.save(ckpt, run / "checkpoint.pt")
    meta = json.loads((run / "metadata.json").read_text())
    (run / "metadata.json").write_text(json.dumps({**meta, "status": "interrupted", "step": 1}))
    md = generate(run, 3, device="cpu").metadata
    assert md["checkpoint_complete"] is False and md["checkpoint_step"] == 1
    assert md["steps"] == 2 and md["incomplete"] == "step 1 of 2, not calibrated"
    assert md["run_status"] == "interrupted" and not md["calibrated"]
    assert md["data_fingerprint"] == ckpt["fingerprint"]
    res = invoke("generate", run, "-n", 3, "--out", tmp_path / "s")
    assert res.exit_code == 0, res.output
    warn = [ln for ln in res.stderr.splitlines() if "warning" in ln]
    assert warn == [
        f"warning: {run} is incomplete (step 1 of 2, not calibrated); resume with "
        f"'scengen train --out {run} --resume'"
    ]
    assert "generated 3 scenarios" in res.stdout
    assert read_scenarios(tmp_path / "s").metadata["checkpoint_complete"] is False
    # a complete run: no warning
    res = invoke("generate", runs["plain"], "-n", 3, "--out", tmp_path / "t")
    assert res.exit_code == 0 and "warning" not in res.output, res.output
    md = generate(runs["plain"], 3, device="cpu").metadata
    assert md["checkpoint_complete"] is True and md["steps"] == 2 and md["run_status"] == "complete"


def test_generate_seed_out_of_range(runs, tmp_path):
    for seed in (99999999999999999999, -1, 2**32, 1.5):
        with pytest.raises(ScengenError, match="seed"):
            generate(runs["plain"], 3, seed=seed, device="cpu")
    res = invoke(
        "generate", runs["plain"], "-n", 3, "--seed", 99999999999999999999, "--out", tmp_path / "s"
    )
    assert_one_line_error(res, "--seed", "99999999999999999999")
    assert not (tmp_path / "s").exists()


def test_cli_generate_progress_for_large_n(runs, tmp_path, monkeypatch):
    import scengen.cli.generate as C

    monkeypatch.setattr(C, "PROGRESS_MIN", 20)
    out = tmp_path / "s"
    res = invoke("generate", runs["plain"], "-n", 30, "--batch-size", 8, "--out", out)
    assert res.exit_code == 0, res.output
    assert "writing ~" in res.stderr and f"to {out}" in res.stderr, res.stderr
    assert "generated 30 scenarios" in res.stdout and "writing" not in res.stdout
    res = invoke("generate", runs["plain"], "-n", 19, "--out", tmp_path / "t")
    assert res.exit_code == 0 and res.stderr == "", res.output


def test_cli_generate_removes_the_temp_folder_of_a_killed_writer(runs, tmp_path):
    import os
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a pid that is gone, as after a SIGKILL
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)
    stale = tmp_path / f".s.{proc.pid}.0123abcd.tmp"
    stale.mkdir()
    (stale / "scenarios.csv").write_text("scenario,site,step,time,value\n0,wf1,0,00:00,1\n")
    res = invoke("generate", runs["plain"], "-n", 3, "--out", tmp_path / "s")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
    assert read_scenarios(tmp_path / "s").n_scenarios == 3
