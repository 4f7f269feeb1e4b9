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
