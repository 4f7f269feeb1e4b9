"""Training: run directory, checkpoint format, resume, metrics, CLI errors (tiny data, CPU)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

from scengen import train as T
from scengen.cli import cli
from scengen.data import DataConfig
from scengen.errors import ScengenError
from scengen.models import Critic, Generator
from scengen.stats import within_day_acf

TINY_MODEL = {"latent_dim": 4, "channels": 8, "critic_channels": 8, "embed_dim": 2}
TINY_TRAIN = {
    "steps": 6,
    "batch_size": 8,
    "n_critic": 2,
    "checkpoint_every": 3,
    "log_every": 2,
    "device": "cpu",
}


def tiny(**train: object) -> tuple[T.ModelConfig, T.TrainConfig]:
    return T.ModelConfig(**TINY_MODEL), T.TrainConfig(**{**TINY_TRAIN, **train})


def run(csv_path: Path, out: Path, seed: int = 0, resume: bool = False, **train: object) -> dict:
    m, t = tiny(**train)
    return T.train_run(DataConfig(path=str(csv_path)), m, t, out, seed=seed, resume=resume)


def tiny_yaml(tmp_path: Path, **train: object) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump({"model": TINY_MODEL, "train": {**TINY_TRAIN, **train}}))
    return p


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line_error(res, *words: str) -> None:
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    for w in words:
        assert w in lines[0], (w, lines[0])


# ---------------------------------------------------------------------- models


def test_models_shapes_range_and_no_batchnorm():
    g = Generator(3, 24, latent_dim=4, channels=8, n_labels=12, embed_dim=2)
    d = Critic(3, 24, channels=8, n_labels=12, embed_dim=2, minibatch_std=True)
    lab = torch.arange(5) % 12
    x = g(torch.randn(5, 4), lab).detach()
    assert x.shape == (5, 3, 24)
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert d(x, lab).shape == (5,)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in d.modules())
    g = Generator(3, 24, latent_dim=4, channels=8, noise_channels=2, output_margin=0.1)
    assert g.input_dim == 4 + 2 * 24
    with torch.no_grad():  # clipped margin: exact zeros and ones are reachable
        for bias, value in ((-20.0, 0.0), (20.0, 1.0)):
            g.out.bias.fill_(bias)
            assert torch.all(g(torch.randn(5, g.input_dim)) == value)
    for n_steps in (96, 144, 7):  # 15-min, 10-min and odd lengths
        assert Generator(2, n_steps, 4, 8)(torch.randn(2, 4)).shape == (2, 2, n_steps)
        assert Critic(2, n_steps, 8)(torch.rand(2, 2, n_steps)).shape == (2,)


def test_critic_sees_the_changes_at_its_lags():
    """lags (1,) is the first difference; longer lags add x[t] - x[t - k] channels (taking
    x[t - k] as the day's first value before the day's k-th step)."""
    torch.manual_seed(0)
    assert Critic(2, 24, 8).lags == (1,) and Critic(2, 24, 8, diff=False).lags == ()
    d = Critic(2, 24, 8, lags=(1, 3, 30))  # a lag past the day is dropped
    assert d.lags == (1, 3) and d.body[0].in_channels == 2 * 3
    x = torch.rand(4, 2, 24)
    assert d(x).shape == (4,)
    seen = []  # what the first convolution reads
    hook = d.body[0].register_forward_hook(lambda m, i, o: seen.append(i[0]))
    d(x)
    hook.remove()
    lag3 = seen[0][:, 2 * 2 + 0]  # channels: 2 sites, then 2 lag-1, then 2 lag-3
    assert torch.equal(lag3[:, 3:], x[:, 0, 3:] - x[:, 0, :-3])
    assert torch.equal(lag3[:, :3], x[:, 0, :3] - x[:, 0, :1])
    # the default is the former first-difference critic, weight for weight
    torch.manual_seed(1)
    a = Critic(2, 24, 8)
    torch.manual_seed(1)
    b = Critic(2, 24, 8, lags=(1,))
    assert torch.equal(a(x), b(x))
    assert torch.equal(
        torch.diff(x, dim=2, prepend=x[:, :, :1]),
        x - torch.cat([x[:, :, :1], x[:, :, :-1]], dim=2),
    )


def test_critic_lags_are_checked():
    assert T.ModelConfig(critic_lags=[1, 3, 6]).critic_lags == [1, 3, 6]
    for bad in ([], [0], [1, 1], [1.5], "3", [True]):
        with pytest.raises(ScengenError, match="critic_lags"):
            T.ModelConfig(critic_lags=bad)
    for bad in (2, 0, True, 3.0, 101):
        with pytest.raises(ScengenError, match="final_kernel"):
            T.ModelConfig(final_kernel=bad)


def test_final_kernel_sets_how_far_the_step_noise_reaches():
    """The last two convolutions take final_kernel: one step's noise moves the output at most
    final_kernel - 1 steps away; None keeps kernel_size, weight for weight."""
    torch.manual_seed(0)
    a = Generator(2, 24, latent_dim=4, channels=8, noise_channels=1, kernel_size=5)
    torch.manual_seed(0)
    b = Generator(2, 24, 4, 8, noise_channels=1, kernel_size=5, final_kernel=None)
    z = torch.randn(3, a.input_dim)
    assert torch.equal(a(z), b(z))
    for k in (3, 5):
        g = Generator(2, 24, 4, 8, noise_channels=1, kernel_size=5, final_kernel=k)
        assert g.out.kernel_size == (k,) and g.final[0].kernel_size == (k,)
        z2 = z.clone()
        z2[:, 4 + 12] += 1.0  # the noise at step 12 only
        moved = (g(z2) - g(z)).abs().amax(dim=(0, 1)) > 0
        reach = k - 1  # (k - 1) / 2 per convolution, two convolutions
        assert moved[12] and set(torch.nonzero(moved).flatten().tolist()) <= set(
            range(12 - reach, 13 + reach)
        )


def test_noise_modulation_scales_the_noise_maps():
    torch.manual_seed(0)
    g = Generator(2, 24, latent_dim=4, channels=8, noise_channels=3, noise_modulation=True)
    assert g.noise_gain is not None and g.noise_gain.out_channels == 3
    z = torch.randn(6, g.input_dim)
    x = g(z).detach()
    assert x.shape == (6, 2, 24) and float(x.min()) >= 0 and float(x.max()) <= 1
    with torch.no_grad():  # zero gain: the per-step noise no longer changes the output
        g.noise_gain.weight.zero_()
        g.noise_gain.bias.fill_(-50.0)
        z2 = z.clone()
        z2[:, 4:] = torch.randn(6, 3 * 24)
        assert torch.allclose(g(z), g(z2), atol=1e-6)
    assert Generator(2, 24, 4, 8, noise_channels=3).noise_gain is None


def test_grouped_critic_call_equals_separate_calls():
    torch.manual_seed(0)
    d = Critic(3, 24, channels=8, n_labels=4, embed_dim=2, minibatch_std=True)
    xs = [torch.rand(6, 3, 24) for _ in range(3)]
    labs = [torch.arange(6) % 4 for _ in range(3)]
    together = d(torch.cat(xs), torch.cat(labs), groups=3)
    apart = torch.cat([d(x, lab) for x, lab in zip(xs, labs, strict=True)])
    torch.testing.assert_close(together, apart, rtol=1e-5, atol=1e-6)
    # without the grouping the batch's spread mixes the three sets
    assert not torch.allclose(d(torch.cat(xs), torch.cat(labs)), apart, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="groups = 4 must divide the batch of 18"):
        d(torch.cat(xs), torch.cat(labs), groups=4)


def test_ramp_distance_is_the_1d_wasserstein_of_ramps():
    from scipy import stats

    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(16, 2, 12, generator=gen), torch.rand(16, 2, 12, generator=gen)
    want = np.mean(
        [
            stats.wasserstein_distance(
                np.diff(a[:, s].numpy(), axis=1).ravel(), np.diff(b[:, s].numpy(), axis=1).ravel()
            )
            for s in range(2)
        ]
    )
    assert T.ramp_distance(a, b).item() == pytest.approx(want, rel=1e-5)
    assert T.ramp_distance(a, a).item() == 0.0
    a.requires_grad_(True)
    T.ramp_distance(a, b).backward()
    assert a.grad is not None and a.grad.abs().sum() > 0


def test_ramp_distance_over_several_lags():
    from scipy import stats

    gen = torch.Generator().manual_seed(1)
    a, b = torch.rand(8, 3, 10, generator=gen), torch.rand(8, 3, 10, generator=gen)

    def w1_lag(k):
        return np.mean(
            [
                stats.wasserstein_distance(
                    (a[:, s, k:] - a[:, s, :-k]).numpy().ravel(),
                    (b[:, s, k:] - b[:, s, :-k]).numpy().ravel(),
                )
                for s in range(3)
            ]
        )

    want = np.mean([w1_lag(k) for k in (1, 2, 3)])
    assert T.ramp_distance(a, b, max_lag=3).item() == pytest.approx(want, rel=1e-5)
    assert T.ramp_distance(a, b, max_lag=1).item() == pytest.approx(w1_lag(1), rel=1e-5)
    # lags beyond the day are capped at n_steps - 1
    assert T.ramp_distance(a, b, max_lag=50).item() == pytest.approx(
        np.mean([w1_lag(k) for k in range(1, 10)]), rel=1e-5
    )
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ScengenError, match="ramp_lags"):
            T.TrainConfig(ramp_lags=bad)


def test_ramp_distance_of_order_p_weighs_the_large_mismatches():
    import ot

    gen = torch.Generator().manual_seed(2)
    a, b = torch.rand(16, 2, 12, generator=gen), torch.rand(16, 2, 12, generator=gen)
    # POT's 1-D Wasserstein-p of the pooled ramps, per site, averaged over sites
    want = np.mean(
        [
            ot.wasserstein_1d(
                np.diff(a[:, s].double().numpy(), axis=1).ravel(),
                np.diff(b[:, s].double().numpy(), axis=1).ravel(),
                p=2,
            )
            ** 0.5
            for s in range(2)
        ]
    )
    assert T.ramp_distance(a, b, p=2.0).item() == pytest.approx(want, rel=1e-4)
    assert T.ramp_distance(a, b, p=2.0).item() > T.ramp_distance(a, b).item()
    assert T.ramp_distance(a, a, p=2.0).item() == pytest.approx(0.0, abs=1e-5)
    # one ramp far off: its share of the gradient grows with p
    c = b.clone()
    c[0, 0, 1] += 0.9
    shares = []
    for p in (1.0, 2.0, 4.0):
        x = b.clone().requires_grad_(True)
        T.ramp_distance(x, c, p=p).backward()
        g = x.grad[:, 0].abs()
        shares.append((g.max() / g.sum()).item())
    assert shares[0] < shares[1] < shares[2]
    # a perfect match keeps a finite gradient
    x = a.clone().requires_grad_(True)
    T.ramp_distance(x, a, p=2.0).backward()
    assert torch.isfinite(x.grad).all()
    assert T.TrainConfig(ramp_p=3).ramp_p == 3.0
    for bad in (0.5, 9, True, "2", float("nan")):
        with pytest.raises(ScengenError, match=r"train.ramp_p = .* must be a number in \[1, 8\]"):
            T.TrainConfig(ramp_p=bad)


@pytest.mark.parametrize(
    ("weight", "lags"), [("ramp_weight", "ramp_lags"), ("acf_weight", "acf_lags")]
)
def test_loss_term_weight_changes_training_and_is_validated(wind_csv, tmp_path, weight, lags):
    base = run(wind_csv, tmp_path / "a", **{weight: 0.0})
    with_term = run(wind_csv, tmp_path / "b", **{weight: 5.0})
    ca, cb = T.load_checkpoint(tmp_path / "a"), T.load_checkpoint(tmp_path / "b")
    assert base["step"] == with_term["step"] == TINY_TRAIN["steps"]
    assert cb["config"]["train"][weight] == 5.0
    assert not torch.equal(ca["generator"]["out.weight"], cb["generator"]["out.weight"])
    with pytest.raises(ScengenError, match=f"{weight} = -1"):
        T.TrainConfig(**{weight: -1})
    for bad in (0, 2.5, False):
        with pytest.raises(ScengenError, match=lags):
            T.TrainConfig(**{lags: bad})


def test_batch_acf_matches_the_evaluation_statistic():
    gen = torch.Generator().manual_seed(2)
    # AR(1)-like days so the autocorrelation is far from 0
    x = torch.cumsum(torch.randn(32, 3, 24, generator=gen), dim=2)
    got = T.batch_acf(x, max_lag=6).numpy()
    want = within_day_acf(x.numpy().astype(float), np.full(32, 1 / 32), np.arange(1, 7))
    assert got.shape == (3, 6)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert (got[:, 0] > 0.5).all()
    # lags beyond the day are capped; a flat site stays finite
    assert T.batch_acf(x[:, :, :4], max_lag=10).shape == (3, 3)
    assert torch.isfinite(T.batch_acf(torch.ones(4, 1, 8))).all()
    x.requires_grad_(True)
    T.batch_acf(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_gradient_penalty_is_differentiable():
    d = Critic(2, 24, channels=8)
    real, fake = torch.rand(4, 2, 24), torch.rand(4, 2, 24)
    gp = T.gradient_penalty(d, real, fake, torch.rand(4, 1, 1))
    gp.backward()
    assert gp.item() >= 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())


# ---------------------------------------------------------------------- library


def test_train_run_writes_run_dir(wind_csv, tmp_path):
    calls = []
    m, t = tiny()
    meta = T.train_run(
        DataConfig(path=str(wind_csv)), m, t, tmp_path / "run", seed=3, progress=calls.append
    )
    d = tmp_path / "run"
    for f in ("config.yaml", "metadata.json", "split.csv", "profiles.npz", "metrics.csv"):
        assert (d / f).is_file(), f
    ckpt = torch.load(d / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 6 and ckpt["seed"] == 3
    assert ckpt["sites"] == ["wf1", "wf2"] and ckpt["step_minutes"] == 60
    assert ckpt["capacities"] == [1.0, 1.0] and ckpt["units"] == "p.u."
    assert set(ckpt["config"]) == {"data", "model", "train"}
    for k in ("generator", "critic", "generator_ema", "opt_generator", "opt_critic"):
        assert ckpt[k], k
    assert isinstance(ckpt["rng_state"], torch.Tensor)
    assert ckpt["versions"]["torch"] == str(torch.__version__)
    assert len(ckpt["fingerprint"]) == 64
    with open(d / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(T.METRIC_COLUMNS)
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert all(np.isfinite(float(r[c])) for r in rows for c in T.LOSS_COLUMNS)
    assert all(r[c] == "" for r in rows for c in T.VAL_COLUMNS)  # no validation in 6 steps
    md = json.loads((d / "metadata.json").read_text())
    assert md == json.loads(json.dumps(meta))
    assert md["seed"] == 3 and md["device"] == "cpu" and md["status"] == "complete"
    assert {"python", "torch", "numpy", "scengen"} <= set(md["versions"])
    n = md["data"]
    assert n["n_train"] + n["n_val"] + n["n_test"] == n["n_days"] == 60 and n["n_val"] == 7
    cfg = yaml.safe_load((d / "config.yaml").read_text())
    assert cfg["train"]["steps"] == 6 and cfg["data"]["path"] == str(wind_csv)
    assert [c["step"] for c in calls] == [2, 4, 6]
    assert {"wasserstein", "critic_loss", "generator_loss", "eta", "steps"} <= set(calls[0])
    assert T.load_checkpoint(d)["step"] == 6


def _losses(d: Path) -> list[list[str]]:
    with open(d / "metrics.csv") as f:
        return [[r[c] for c in T.METRIC_COLUMNS[:5]] for r in csv.DictReader(f)]


def _assert_same_model(a: dict, b: dict) -> None:
    assert a["step"] == b["step"]
    for part in ("generator", "critic", "generator_ema"):
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), (part, k)
    for k in ("generated", "target"):
        assert torch.equal(a["calibration"][k], b["calibration"][k]), k


def test_resume_after_interruption_equals_uninterrupted(wind_csv, tmp_path):
    run(wind_csv, tmp_path / "a", steps=6)

    def interrupt(info):
        if info["step"] == 4:  # after the checkpoint at step 3
            raise KeyboardInterrupt

    m, t = tiny(steps=6)
    with pytest.raises(KeyboardInterrupt):
        T.train_run(DataConfig(path=str(wind_csv)), m, t, tmp_path / "b", progress=interrupt)
    assert T.load_checkpoint(tmp_path / "b")["step"] == 3
    assert [r[0] for r in _losses(tmp_path / "b")] == ["2", "4"]  # valid CSV after the stop
    run(wind_csv, tmp_path / "b", steps=6, resume=True)
    _assert_same_model(T.load_checkpoint(tmp_path / "a"), T.load_checkpoint(tmp_path / "b"))
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")


def test_resume_with_more_steps_equals_longer_run(wind_csv, tmp_path):
    # with a constant learning rate, training 3 steps and resuming to 6 equals 6 steps at once
    run(wind_csv, tmp_path / "a", steps=6, lr_decay_from=None)
    run(wind_csv, tmp_path / "b", steps=3, lr_decay_from=None)
    assert T.load_checkpoint(tmp_path / "b")["step"] == 3
    run(wind_csv, tmp_path / "b", steps=6, resume=True, lr_decay_from=None)
    _assert_same_model(T.load_checkpoint(tmp_path / "a"), T.load_checkpoint(tmp_path / "b"))
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")


def test_relative_ramps_rescale_the_target_and_resume_exactly(wind_csv, tmp_path):
    run(wind_csv, tmp_path / "abs", steps=6, lr_decay_from=None)
    run(wind_csv, tmp_path / "a", steps=6, lr_decay_from=None, ramp_relative=True)
    ca, cabs = T.load_checkpoint(tmp_path / "a"), T.load_checkpoint(tmp_path / "abs")
    assert ca["config"]["train"]["ramp_relative"] is True
    assert not torch.equal(ca["generator"]["out.weight"], cabs["generator"]["out.weight"])
    # the running marginal spread of the generator: one positive value per site, moved away
    # from the data's (its starting value) by the generator steps
    sd = np.array(ca["ramp_sd_gen"])
    assert sd.shape == (len(ca["sites"]),) and (sd > 0).all()
    assert not np.allclose(sd, cabs["ramp_sd_gen"])
    # the running average is part of the state: resuming equals one uninterrupted run
    run(wind_csv, tmp_path / "b", steps=3, lr_decay_from=None, ramp_relative=True)
    run(wind_csv, tmp_path / "b", steps=6, resume=True, lr_decay_from=None, ramp_relative=True)
    cb = T.load_checkpoint(tmp_path / "b")
    _assert_same_model(ca, cb)
    assert cb["ramp_sd_gen"] == ca["ramp_sd_gen"]


def test_batch_of_one_day_is_refused():
    # a one-day batch has no spread (standard deviation, minibatch feature)
    for bad in (1, 0, -3):
        with pytest.raises(ScengenError, match=f"train.batch_size = {bad} must be >= 2"):
            T.TrainConfig(batch_size=bad)


def test_resume_rejects_other_data_and_settings(wind_csv, tmp_path):
    run(wind_csv, tmp_path / "r", steps=3)
    with pytest.raises(ScengenError, match="beyond"):
        run(wind_csv, tmp_path / "r", steps=2, resume=True)
    other = write_measurement_csv(
        tmp_path / "other.csv", synthetic_days(60, 2, 24, seed=9), sites=["wf1", "wf2"]
    )
    with pytest.raises(ScengenError, match="data differ"):
        run(other, tmp_path / "r", steps=6, resume=True)
    three = write_measurement_csv(tmp_path / "three.csv", synthetic_days(60, 3, 24, seed=1))
    with pytest.raises(ScengenError, match="sites"):
        run(three, tmp_path / "r", steps=6, resume=True)
    with pytest.raises(ScengenError, match="seed"):
        run(wind_csv, tmp_path / "r", steps=6, resume=True, seed=5)
    with pytest.raises(ScengenError, match="train.lr"):
        run(wind_csv, tmp_path / "r", steps=6, resume=True, lr=1e-3)


def test_resume_of_a_checkpoint_older_than_a_setting(wind_csv, tmp_path):
    # a checkpoint written before train.ramp_lags existed ran with its default (1)
    run(wind_csv, tmp_path / "r", steps=3)
    f = tmp_path / "r" / T.CHECKPOINT
    ckpt = torch.load(f, weights_only=True)
    del ckpt["config"]["train"]["ramp_lags"]
    torch.save(ckpt, f)
    with pytest.raises(ScengenError, match="train.ramp_lags = 2 differs from the run's 1"):
        run(wind_csv, tmp_path / "r", steps=6, resume=True, ramp_lags=2)
    run(wind_csv, tmp_path / "r", steps=6, resume=True)
    assert T.load_checkpoint(tmp_path / "r")["step"] == 6


def test_conditional_training_records_labels(wind_csv, tmp_path):
    m, t = tiny(steps=2, condition="month")
    m.minibatch_std = False  # a critic without the minibatch standard deviation
    meta = T.train_run(DataConfig(path=str(wind_csv)), m, t, tmp_path / "c")
    ckpt = T.load_checkpoint(tmp_path / "c")
    assert ckpt["condition"] == "month" and ckpt["n_labels"] == 12
    assert sum(ckpt["label_counts"]) == meta["data"]["n_train"]
    assert ckpt["label_counts"][0] > 0 and ckpt["label_counts"][6] == 0  # Jan-Feb data


def test_modelled_steps_span_the_steps_ever_non_zero():
    v = np.zeros((3, 2, 10))
    assert T.modelled_steps(v) == (0, 10)  # nothing non-zero: nothing to crop by
    v[0, 1, 3] = 0.2
    v[2, 0, 7] = 0.5
    assert T.modelled_steps(v) == (3, 8)  # the zeros between (steps 4-6) stay modelled
    v[1, 0, 0] = v[1, 1, 9] = 0.1
    assert T.modelled_steps(v) == (0, 10)


def test_fixed_zero_steps_are_not_modelled_and_generated_as_zeros(pv_csv, tmp_path):
    from scengen.generate import generate

    meta = run(pv_csv, tmp_path / "fz", steps=2)
    ckpt = T.load_checkpoint(tmp_path / "fz")
    assert meta["modelled_steps"] == ckpt["modelled_steps"]
    first, stop = ckpt["modelled_steps"]
    # synthetic sun: sin > 0 from 07:00 to 18:00 (18:00 rounds to 1e-16 above 0)
    assert ckpt["n_steps"] == 24 and (first, stop) == (7, 19)
    assert T.generator_from_checkpoint(ckpt).n_steps == 12
    assert ckpt["calibration"]["target"].shape[-1] == 12
    x = generate(tmp_path / "fz", 50, seed=1).values
    assert x.shape == (50, 3, 24)
    assert (x[:, :, :first] == 0).all() and (x[:, :, stop:] == 0).all()
    assert (x[:, :, first:stop] > 0).any()
    # a checkpoint whose span does not fit its steps is a clear error
    ckpt["modelled_steps"] = [7, 30]
    torch.save(ckpt, tmp_path / "bad.pt")
    with pytest.raises(ScengenError, match=r"corrupt: modelled_steps = \[7, 30\]"):
        T.load_checkpoint(tmp_path / "bad.pt")
    # off: all 24 steps modelled
    run(pv_csv, tmp_path / "all", steps=2, fixed_zeros=False)
    ckpt = T.load_checkpoint(tmp_path / "all")
    assert ckpt["modelled_steps"] == [0, 24]
    assert T.generator_from_checkpoint(ckpt).n_steps == 24


def test_resume_of_a_run_from_before_fixed_zeros(pv_csv, tmp_path):
    # such a run modelled all steps: resuming it with the new default is a clear error
    run(pv_csv, tmp_path / "r", steps=3, fixed_zeros=False)
    f = tmp_path / "r" / T.CHECKPOINT
    ckpt = torch.load(f, weights_only=True)
    del ckpt["config"]["train"]["fixed_zeros"], ckpt["modelled_steps"]
    torch.save(ckpt, f)
    assert T.generator_from_checkpoint(T.load_checkpoint(f)).n_steps == 24
    with pytest.raises(ScengenError, match="train.fixed_zeros = True differs from the run's False"):
        run(pv_csv, tmp_path / "r", steps=6, resume=True)
    run(pv_csv, tmp_path / "r", steps=6, resume=True, fixed_zeros=False)
    assert T.load_checkpoint(tmp_path / "r")["step"] == 6


def test_config_validation():
    with pytest.raises(ScengenError, match="condition"):
        T.TrainConfig(condition="weekly")
    with pytest.raises(ScengenError, match="steps"):
        T.TrainConfig(steps=0)
    with pytest.raises(ScengenError, match="kernel_size"):
        T.ModelConfig(kernel_size=4)
    with pytest.raises(ScengenError, match="output_margin"):
        T.ModelConfig(output_margin=0.7)
    if not torch.cuda.is_available():
        with pytest.raises(ScengenError, match="cuda"):
            T.resolve_device("cuda")
    assert T.resolve_device("cpu").type == "cpu"


def test_failed_fresh_run_leaves_no_directory(tmp_path):
    bad = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError):
        run(bad, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------- CLI


def test_cli_train_and_resume(wind_csv, tmp_path):
    cfg = tiny_yaml(tmp_path, steps=3)
    out = tmp_path / "run"
    res = invoke("train", wind_csv, "--out", out, "--config", cfg, "--seed", 2)
    assert res.exit_code == 0, res.output
    assert "trained 3 steps" in res.output
    assert T.load_checkpoint(out)["seed"] == 2
    res = invoke("train", "--out", out, "--resume", "--steps", 6)
    assert res.exit_code == 0, res.output
    ckpt = T.load_checkpoint(out)
    assert ckpt["step"] == 6 and ckpt["seed"] == 2 and ckpt["config"]["train"]["steps"] == 6


def test_cli_train_help():
    res = invoke("train", "--help")
    assert res.exit_code == 0 and "Example" in res.output and "--resume" in res.output


def test_cli_train_errors(wind_csv, tmp_path):
    cfg = tiny_yaml(tmp_path, steps=2)
    out = tmp_path / "run"
    assert_one_line_error(invoke("train", tmp_path / "missing.csv", "--out", out), "missing.csv")
    assert not out.exists()
    assert_one_line_error(invoke("train", "--out", out), "CSV")
    assert_one_line_error(
        invoke("train", wind_csv, "--out", out, "--condition", "weekly"), "weekly"
    )
    assert_one_line_error(invoke("train", wind_csv, "--out", out, "--steps", 0), "steps")
    assert not out.exists()
    # resume without a run / checkpoint, corrupt checkpoint
    assert_one_line_error(invoke("train", "--out", out, "--resume"), "does not exist")
    out.mkdir()
    assert_one_line_error(invoke("train", "--out", out, "--resume"), "checkpoint")
    (out / "checkpoint.pt").write_bytes(b"garbage")
    assert_one_line_error(invoke("train", "--out", out, "--resume"), "corrupt")
    assert_one_line_error(invoke("train", wind_csv, "--out", out, "--config", cfg), "already holds")
    res = invoke("train", wind_csv, "--out", out, "--config", cfg, "--overwrite")
    assert res.exit_code == 0, res.output
    # resume with other data
    other = write_measurement_csv(
        tmp_path / "other.csv", synthetic_days(60, 2, 24, seed=7), sites=["wf1", "wf2"]
    )
    assert_one_line_error(
        invoke("train", other, "--out", out, "--resume", "--steps", 4), "data differ"
    )
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text("train: {stepz: 3}\n")
    assert_one_line_error(invoke("train", wind_csv, "--out", tmp_path / "x", "--config", bad_cfg))
    assert not (tmp_path / "x").exists()


def test_cli_train_unknown_site(wind_csv, tmp_path):
    res = invoke("train", wind_csv, "--out", tmp_path / "run", "--sites", "wf1,nope")
    assert_one_line_error(res, "nope")
    assert not (tmp_path / "run").exists()


def test_checkpoint_of_other_format(tmp_path):
    torch.save({"format": "something-else"}, tmp_path / "checkpoint.pt")
    with pytest.raises(ScengenError, match="not a scengen checkpoint"):
        T.load_checkpoint(tmp_path)
    torch.save({"format": T.CHECKPOINT_FORMAT, "format_version": 99}, tmp_path / "checkpoint.pt")
    with pytest.raises(ScengenError, match="version 99"):
        T.load_checkpoint(tmp_path)
    torch.save({"x": np.float64(1.0)}, tmp_path / "np.pt")  # not loadable with weights_only
    with pytest.raises(ScengenError, match="cannot be read"):
        T.load_checkpoint(tmp_path / "np.pt")


# ---------------------------------------------------------------------- validation (issue 18)


def test_validation_days_are_set_aside_from_the_training_days(wind_csv):
    from scengen.data import load_profiles, split_days, split_validation

    p = load_profiles(wind_csv)
    train, test = split_days(p, 0.2, seed=4)
    fit_days, val = split_validation(train, 0.15, seed=4)
    assert val.n_days == round(0.15 * train.n_days) and fit_days.n_days + val.n_days == 48
    assert not set(val.dates) & set(fit_days.dates) and not set(val.dates) & set(test.dates)
    again, val2 = split_validation(train, 0.15, seed=4)
    assert np.array_equal(val.dates, val2.dates)  # seeded
    assert not np.array_equal(val.dates, split_validation(train, 0.15, seed=5)[1].dates)
    assert split_validation(train, 0.0, seed=4) == (train, None)
    with pytest.raises(ScengenError, match="val_fraction"):
        split_validation(train, 1.0)


def test_validation_scores_keep_the_best_weights_and_stop_early(wind_csv, tmp_path):
    """Every val_every steps the EMA generator is scored on the validation days (logged in
    metrics.csv); the best weights are what generate samples with; patience stops the run."""
    from scengen.data import load_split, load_validation
    from scengen.generate import generate
    from scengen.train.checkpoint import generator_from_checkpoint

    meta = run(wind_csv, tmp_path / "r", steps=40, val_every=4, patience=2, val_fraction=0.2)
    d = tmp_path / "r"
    with open(d / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    scored = [r for r in rows if r["val_score"]]
    assert [int(r["step"]) for r in scored] == list(range(4, meta["step"] + 1, 4))
    # the best is the lowest score in the learning-rate decay (from step 40 x 0.5 = 20)
    decay = [r for r in scored if int(r["step"]) >= 20]
    scores = [float(r["val_score"]) for r in decay]
    by_step = {int(r["step"]): float(r["val_score"]) for r in decay}
    assert meta["best_step"] in by_step  # metrics.csv rounds: compare the scores, not argmin
    assert by_step[meta["best_step"]] == pytest.approx(min(scores), rel=1e-5)
    assert meta["validation"]["best_score"] == pytest.approx(min(scores), rel=1e-5)
    for r in scored:
        ratios = [float(r[c]) for c in ("val_w1_ratio", "val_acf_ratio", "val_ramp_ratio")]
        assert float(r["val_score"]) == pytest.approx(
            max(ratios[0] / 1.0, ratios[1] / 1.5, ratios[2] / 1.5), rel=1e-5
        )
    # split.csv: train / val / test, disjoint; the validation days are in profiles.npz
    sets = {}
    for r in csv.DictReader(open(d / "split.csv")):
        sets.setdefault(r["set"], set()).add(r["date"])
    assert set(sets) == {"train", "val", "test"} and len(sets["val"]) == 10
    val = load_validation(d)
    train, test = load_split(d)
    assert {str(x) for x in val.dates} == sets["val"] and train.n_days == len(sets["train"])
    # sampling uses the best weights, not the last EMA weights
    ckpt = T.load_checkpoint(d)
    assert ckpt["validation"]["best_step"] == meta["best_step"]
    g = generator_from_checkpoint(ckpt)
    for k, v in g.state_dict().items():
        assert torch.equal(v, ckpt["generator_best"][k]), k
    # a run stopped early is final: generating from it gives no 'incomplete' warning
    ss = generate(d, 20, seed=1)
    assert ss.metadata["checkpoint_complete"] is True


def test_training_stops_when_validation_stops_improving(wind_csv, tmp_path, monkeypatch):
    """patience = 2: two validations in a row without a better score end the run; the best
    step's weights are kept and the run counts as complete."""
    from scengen.generate import generate
    from scengen.train import validation

    script = iter([5.0, 3.0, 4.0, 2.0, 2.5, 2.1, 1.0, 1.0])
    real = validation.Validator.scores

    def scripted(self, gen):
        out = real(self, gen)
        return {**out, "val_score": next(script)}

    monkeypatch.setattr(validation.Validator, "scores", scripted)
    meta = run(wind_csv, tmp_path / "r", steps=40, val_every=2, patience=2, lr_decay_from=None)
    assert meta["step"] == 12 and meta["best_step"] == 8  # scores at 2, 4, ..., 12
    assert meta["status"] == "stopped early: no better validation score in 2 validations"
    ckpt = T.load_checkpoint(tmp_path / "r")
    assert ckpt["early_stopped"] is True and ckpt["calibration"]
    ss = generate(tmp_path / "r", 5, seed=0)
    assert ss.metadata["checkpoint_complete"] is True and ss.metadata["incomplete"] is None
    # with a learning-rate decay from step 20, only validations in the decay count: the lower
    # score at step 8 cannot win, the best is step 20's, and the run stops 2 validations later
    script = iter([5.0, 3.0, 4.0, 2.0] + [3.0] * 20)
    meta = run(wind_csv, tmp_path / "d", steps=40, val_every=2, patience=2, lr_decay_from=0.5)
    assert meta["step"] == 24 and meta["best_step"] == 20
    assert meta["validation"]["best_score"] == 3.0


def test_validation_state_resumes_exactly(wind_csv, tmp_path):
    kw = dict(val_every=2, patience=None, val_fraction=0.2, lr_decay_from=None)
    run(wind_csv, tmp_path / "a", steps=8, **kw)
    run(wind_csv, tmp_path / "b", steps=4, **kw)
    run(wind_csv, tmp_path / "b", steps=8, resume=True, **kw)
    a, b = T.load_checkpoint(tmp_path / "a"), T.load_checkpoint(tmp_path / "b")
    _assert_same_model(a, b)
    assert a["validation"]["best_step"] == b["validation"]["best_step"]
    for k in a["generator_best"]:
        assert torch.equal(a["generator_best"][k], b["generator_best"][k]), k
    with open(tmp_path / "a" / "metrics.csv") as fa, open(tmp_path / "b" / "metrics.csv") as fb:
        ra, rb = list(csv.DictReader(fa)), list(csv.DictReader(fb))
    assert [r["val_score"] for r in ra] == [r["val_score"] for r in rb]


def test_validation_settings_are_checked():
    with pytest.raises(ScengenError, match="val_every = 30 must be a multiple of"):
        T.TrainConfig(val_every=30, log_every=25)
    with pytest.raises(ScengenError, match="val_fraction"):
        T.TrainConfig(val_fraction=-0.1)
    with pytest.raises(ScengenError, match="patience"):
        T.TrainConfig(patience=0)


def test_scale_noise_starts_as_the_plain_generator():
    """The per-resolution noise maps enter with a learned scale that starts at 0."""
    torch.manual_seed(0)
    g = Generator(3, 24, latent_dim=4, channels=8, noise_channels=2, scale_noise=True)
    torch.manual_seed(0)
    plain = Generator(3, 24, latent_dim=4, channels=8, noise_channels=2)
    assert g.scale_lengths == [6, 12, 24] and g.input_dim == plain.input_dim + 42
    z = torch.randn(5, g.input_dim)
    assert torch.equal(g(z), plain(z[:, : plain.input_dim]))
    with torch.no_grad():
        for p in g.scale_gain:
            p.fill_(1.0)
    z2 = z.clone()
    z2[:, plain.input_dim :] += 1.0
    assert not torch.equal(g(z), g(z2))  # now the scale noise matters


def test_progress_line_shows_the_best_validation(wind_csv, tmp_path):
    res = invoke(
        "train", wind_csv, "--out", tmp_path / "r", "--config",
        tiny_yaml(tmp_path, steps=8, val_every=4, patience=None),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "val best " in res.output and ("@4" in res.output or "@8" in res.output)
    assert "for validation, best at step" in res.output.splitlines()[-1]


def _ar1_days(n: int, rng: np.random.Generator, phi: float = 0.8) -> np.ndarray:
    """``n`` days of one site, 24 steps, an AR(1) of coefficient ``phi`` squashed into [0, 1]."""
    x = np.zeros((n, 24))
    x[:, 0] = rng.normal(size=n)
    for t in range(1, 24):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * rng.normal(size=n)
    return (1 / (1 + np.exp(-x)))[:, None, :]


def test_acf_noise_is_the_acf_error_between_independent_sets():
    """The floor of the validation's ACF ratio is the ACF error two independent sets of days
    of the same distribution have: checked against fresh sets drawn from that distribution."""
    from scengen.evaluate.metrics import autocorrelation_error
    from scengen.train.validation import acf_noise

    rng = np.random.default_rng(0)
    train = _ar1_days(400, rng)
    noise = acf_noise(train, 60, np.random.default_rng(1))
    fresh = [
        autocorrelation_error(_ar1_days(340, rng), None, _ar1_days(60, rng), None)
        for _ in range(200)
    ]
    assert noise == pytest.approx(np.mean(fresh), rel=0.25)
    assert noise > 0
    assert np.isnan(acf_noise(train, 400, rng)) and np.isnan(acf_noise(train, 0, rng))


class _FixedDays(torch.nn.Module):
    """A 'generator' that returns given days whatever its input (to test the scoring)."""

    def __init__(self, days: np.ndarray):
        super().__init__()
        self.input_dim = 3
        self.days = torch.as_tensor(days, dtype=torch.float32)

    def forward(self, z, labels=None):
        return self.days[: len(z)]


def test_validation_score_is_the_worst_ratio_and_the_acf_ratio_is_floored():
    """The ACF ratio's denominator is the history reference's ACF error, or the sampling noise
    where that is smaller (a reference near 0 by luck does not blow the ratio up). The score is
    the worst ratio over its limit (the bar passes on the validation days iff it is <= 1)."""
    from scengen.evaluate import metrics as m
    from scengen.train import validation as V

    rng = np.random.default_rng(0)
    train, val = _ar1_days(300, rng), _ar1_days(50, rng)
    gen = _ar1_days(V.VAL_SAMPLES, rng, phi=0.6).astype(np.float32).astype(np.float64)
    v = V.Validator(
        train_values=train, val_values=val, train_labels=np.zeros(300, int),
        val_labels=np.zeros(50, int), n_labels=0, span=(0, 24), seed=0, calibrated=False,
    )  # fmt: skip
    noise = v.reference["acf_noise"]
    assert noise == V.acf_noise(train, 50, np.random.default_rng([0, 12])) and noise > 0
    e = m.autocorrelation_error(gen, None, val, None)
    w1 = m.wasserstein(gen, None, val, None) / m.wasserstein(train, None, val, None)
    ramp = m.ramp_wasserstein(gen, None, val, None) / m.ramp_wasserstein(train, None, val, None)
    for ref_acf, denominator in ((1e-6, noise), (10 * noise, 10 * noise)):
        v.reference["acf"] = ref_acf
        s = v.scores(_FixedDays(gen))
        assert s["val_acf_ratio"] == pytest.approx(e / denominator, rel=1e-5)
        assert s["val_w1_ratio"] == pytest.approx(w1, rel=1e-5)
        assert s["val_ramp_ratio"] == pytest.approx(ramp, rel=1e-5)
        worst = max(w1, e / denominator / 1.5, ramp / 1.5)
        assert s["val_score"] == pytest.approx(worst, rel=1e-5)
        assert worst != pytest.approx((w1 + e / denominator / 1.5 + ramp / 1.5) / 3, rel=0.01)
