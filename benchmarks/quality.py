"""Quality bar: train the default configs on the shipped wind and PV data, generate 2 000
scenarios, evaluate them on the held-out days and compare with the references.

The bar (issue 2), on both data sets, with ratios to the history reference (the training days
themselves, scored on the same held-out days):

- W1(generated, held-out) <= 1.00 x W1(history, held-out)
- autocorrelation error (lags 1-6) <= 1.5 x history's, ramp-rate W1 <= 1.5 x history's
- W1 at least 5 % better than a Gaussian copula fitted on the training days (ratio <= 0.95)
- no copying: median distance generated -> nearest training day >= 0.9 x the median distance
  held-out day -> nearest training day

Usage (from the repository root)::

    python benchmarks/quality.py                      # both data sets, seed 0
    python benchmarks/quality.py --data wind --seed 1 --out /tmp/quality
    python benchmarks/quality.py --out reports --reuse   # the models `scengen run` trained
    python benchmarks/quality.py --out reports --reuse --gen-seeds 5   # + generation-seed spread
    python benchmarks/quality.py --seeds 0,1,2 --out /tmp/quality   # the bar over three seeds

Prints the evaluation table per data set with the ratios, the training time, PASS/FAIL per
criterion, an ``info`` line with the memorisation test (:func:`copy_check`) and one with
where the split's yardsticks fall among random splits (:func:`split_check`); writes
``quality.json`` in ``--out``. Exit status 1 when any criterion fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scengen import evaluate as ev  # noqa: E402
from scengen import generate as gen  # noqa: E402
from scengen import train as tr  # noqa: E402
from scengen.config import from_dict, load_yaml  # noqa: E402
from scengen.data import DataConfig, load_split  # noqa: E402

CONFIG_DIR = ROOT / "configs"
N_SCENARIOS = 2000
#: random splits that :func:`split_check` ranks a split among
N_SPLITS = 500


def bar(result: ev.EvaluationResult) -> dict[str, tuple[float, float, bool]]:
    """``{criterion: (value, limit, passed)}`` of the quality bar."""
    t = result.table
    h, c, s = t.loc["history"], t.loc["copula"], t.loc["scenarios"]
    checks = {
        "W1 / history W1": (s.wasserstein / h.wasserstein, 1.00, "le"),
        "autocorr error / history": (s.autocorr_error / h.autocorr_error, 1.5, "le"),
        "ramp W1 / history": (s.ramp_wasserstein / h.ramp_wasserstein, 1.5, "le"),
        "W1 / copula W1": (s.wasserstein / c.wasserstein, 0.95, "le"),
        "nn distance / held-out nn distance": (
            s.nn_distance / result.heldout_nn_distance,
            0.9,
            "ge",
        ),
    }
    return {
        k: (float(v), lim, bool(v <= lim if op == "le" else v >= lim))
        for k, (v, lim, op) in checks.items()
    }


def _reusable(run_dir: Path, data_cfg, model_cfg, train_cfg, seed: int) -> dict | None:
    """The metadata of a complete run in ``run_dir`` trained with exactly these settings (the
    checks of ``--resume``: data fingerprint, seed, every result-changing setting, all steps
    done), else None."""
    from scengen.data import load_from_config
    from scengen.errors import ScengenError

    meta_file = run_dir / "metadata.json"
    if not (run_dir / "checkpoint.pt").exists() or not meta_file.exists():
        return None
    meta = json.loads(meta_file.read_text())
    ckpt = tr.load_checkpoint(run_dir)
    try:
        tr._check_resume(ckpt, load_from_config(data_cfg), model_cfg, train_cfg, seed)
    except ScengenError as e:
        print(f"# not reusing {run_dir}: {e}", file=sys.stderr)
        return None
    if meta.get("status") != "complete" or int(ckpt["step"]) != train_cfg.steps:
        return None
    return meta


def w1_over_generation_seeds(run_dir: Path, heldout, w_hist: float, n_seeds: int) -> list[float]:
    """W1(generated, held-out) / ``w_hist`` (the history reference's W1) for generation seeds
    ``0 .. n_seeds-1`` of one trained model: how much of the W1 ratio is sampling noise of the
    2 000 scenarios."""
    return [
        ev.wasserstein(
            gen.generate(run_dir, N_SCENARIOS, seed=s).values, None, heldout.values, None
        )
        / w_hist
        for s in range(n_seeds)
    ]


def copy_check(
    scenarios, train, heldout, seed: int, n_subsets: int = 5
) -> tuple[float, float, float]:
    """Median nearest-day distance [p.u.] of the scenarios to the held-out days, and to random
    subsets of the training days of the same size (mean over ``n_subsets``), and the quantile of
    the held-out days' nearest-training-day distances that the scenarios' median matches.

    A generator that copies training days is closer to the training subsets than to the
    held-out days; one that learnt the distribution is as close to both. This is the
    memorisation test behind the bar's nearest-day criterion, without its sensitivity to
    where the median falls: PV days' nearest-day distances are bimodal (clear / cloudy days),
    so the median sits in the gap and moves with the share of clear days in the split.
    """
    rng = np.random.default_rng(seed)
    t = train.values
    to_heldout = float(np.median(ev.nearest_distances(scenarios.values, heldout.values)))
    to_train = float(
        np.mean(
            [
                np.median(
                    ev.nearest_distances(
                        scenarios.values, t[rng.choice(len(t), len(heldout.values), False)]
                    )
                )
                for _ in range(n_subsets)
            ]
        )
    )
    held_nn = ev.nearest_distances(heldout.values, t)
    gen_median = float(np.median(ev.nearest_distances(scenarios.values, t)))
    return to_heldout, to_train, float(np.mean(held_nn < gen_median))


def split_check(
    train, heldout, seed: int, n_splits: int = N_SPLITS
) -> dict[str, float | tuple[float, float]]:
    r"""Where this split's yardsticks fall among ``n_splits`` random re-splits of the same days.

    The bar divides by two numbers that depend on which days were held out: the held-out days'
    median nearest-training-day distance (nearest-day criterion) and the ramp W1 between the
    training and the held-out days (ramp criterion). For each, ``(value, quantile)``: this
    split's value [p.u., p.u./step] and the share of random splits (same sizes) below it. A
    quantile near 1 for the nearest day, or near 0 for the ramps, makes the criterion strict
    on this split for any generator (e.g. one that draws new days from the true distribution).

    ``fresh_day_nn_ratio`` is what such a generator scores on the nearest-day criterion, with
    the training days standing in for its draws: the median distance of each training day to
    its nearest other training day (leave one out) over the held-out days' median,

    .. math:: \frac{\operatorname{median}_i \min_{j \ne i} \lVert t_i - t_j \rVert}
              {\operatorname{median}_k \min_j \lVert h_k - t_j \rVert}

    (about 1 on a typical split; below 0.9 the criterion cannot be met by new days drawn like
    the training days).
    """
    t, h = train.values, heldout.values
    days = np.concatenate([t, h])
    n_h = len(h)
    rng = np.random.default_rng(seed)
    nn, ramp = [], []
    for _ in range(n_splits):
        p = rng.permutation(len(days))
        test, rest = days[p[:n_h]], days[p[n_h:]]
        nn.append(np.median(ev.nearest_distances(test, rest)))
        ramp.append(ev.ramp_wasserstein(rest, None, test, None))
    nn_now = float(np.median(ev.nearest_distances(h, t)))
    ramp_now = ev.ramp_wasserstein(t, None, h, None)
    return {
        "fresh_day_nn_ratio": float(np.median(ev.leave_one_out_distances(t)) / nn_now),
        "heldout_nn_distance": (nn_now, float(np.mean(np.array(nn) < nn_now))),
        "history_ramp_w1": (ramp_now, float(np.mean(np.array(ramp) < ramp_now))),
    }


def example_configs(name: str, config_dir: Path = CONFIG_DIR, steps: int | None = None):
    """``(DataConfig, ModelConfig, TrainConfig)`` of the example ``config_dir/<name>.yaml``
    (its data path resolved against the file's folder; ``steps`` overrides ``train.steps``)."""
    cfg_file = config_dir / f"{name}.yaml"
    cfg = load_yaml(cfg_file)
    data = dict(cfg["data"])
    data["path"] = str((cfg_file.parent / data["path"]).resolve())
    train_sec = dict(cfg.get("train") or {})
    if steps is not None:
        train_sec["steps"] = steps
    return (
        from_dict(DataConfig, data, "data"),
        from_dict(tr.ModelConfig, cfg.get("model") or {}, "model"),
        from_dict(tr.TrainConfig, train_sec, "train"),
    )


def run_one(
    name: str,
    out: Path,
    seed: int,
    steps: int | None,
    config_dir: Path,
    reuse: bool = False,
    gen_seeds: int = 0,
) -> dict:
    data_cfg, model_cfg, train_cfg = example_configs(name, config_dir, steps)
    run_dir = out / name
    meta = _reusable(run_dir, data_cfg, model_cfg, train_cfg, seed) if reuse else None
    if meta is None:
        t0 = time.perf_counter()
        meta = tr.train_run(data_cfg, model_cfg, train_cfg, run_dir, seed=seed)
        t_train = time.perf_counter() - t0
    else:  # trained before (e.g. by `scengen run`): its recorded training time
        t_train = float(meta["timings"]["train_s"])
    t0 = time.perf_counter()
    ss = gen.generate(run_dir, N_SCENARIOS, seed=seed)
    t_gen = time.perf_counter() - t0
    train_days, test_days = load_split(run_dir)
    heldout = test_days.to_scenarios()
    trs = train_days.to_scenarios()
    res = ev.evaluate(ss, heldout, trs, seed=seed)
    checks = bar(res)
    w_hist = float(res.table.loc["history", "wasserstein"])
    return {
        "data": name,
        "seed": seed,
        "steps": meta["step"],
        "device": meta["device"],
        "train_s": t_train,
        "steps_per_s": meta["timings"]["steps_per_s"],
        "generate_s": t_gen,
        "n_train": meta["data"]["n_train"],
        "n_test": meta["data"]["n_test"],
        "table": res.table,
        "ratios": res.ratios,
        "heldout_nn_distance": res.heldout_nn_distance,
        "checks": checks,
        "copy_check": copy_check(ss, trs, heldout, seed),
        "split_check": split_check(trs, heldout, seed),
        "w1_ratio_generation_seeds": w1_over_generation_seeds(run_dir, heldout, w_hist, gen_seeds),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="wind,pv", help="wind, pv or wind,pv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--seeds",
        default=None,
        help="several seeds, e.g. 0,1,2 (each a split and a training seed; runs in OUT/seedS); "
        "ends with a table of the criteria per seed",
    )
    ap.add_argument("--steps", type=int, default=None, help="override train.steps (testing)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "quality")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="evaluate a complete run already in OUT/<data> (e.g. `--out reports` after "
        "`scengen run`) when it was trained with exactly these settings, instead of training",
    )
    ap.add_argument(
        "--configs", type=Path, default=CONFIG_DIR, help="folder with wind.yaml / pv.yaml"
    )
    ap.add_argument(
        "--gen-seeds",
        type=int,
        default=0,
        help="also print the W1 ratio for generation seeds 0..N-1 of the same model",
    )
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    names = [s.strip() for s in args.data.split(",") if s.strip()]
    ok, summary, rows = True, [], []
    for seed, name in ((seed, name) for seed in seeds for name in names):
        out = args.out / f"seed{seed}" if len(seeds) > 1 else args.out
        r = run_one(name, out, seed, args.steps, args.configs, args.reuse, args.gen_seeds)
        rows.append(
            {"data": name, "seed": seed, **{k: v for k, (v, _, _) in r["checks"].items()}}
            | {"pass": all(p for _, _, p in r["checks"].values())}
        )
        print(
            f"\n=== {name}: {r['n_train']} training / {r['n_test']} held-out days, seed "
            f"{r['seed']}, {r['steps']} steps on {r['device']} in {r['train_s']:.0f} s "
            f"({r['steps_per_s']:.1f} steps/s); generate {N_SCENARIOS} in {r['generate_s']:.2f} s"
        )
        print(r["table"].to_string(float_format=lambda v: f"{v:.4f}"))
        print(
            "ratios to history (nn_distance: to the held-out days' nn distance "
            f"{r['heldout_nn_distance']:.4f}):"
        )
        print(r["ratios"].to_string(float_format=lambda v: f"{v:.3f}"))
        for k, (v, lim, passed) in r["checks"].items():
            op = ">=" if k.startswith("nn") else "<="
            print(f"  {'PASS' if passed else 'FAIL'}  {k:38s} {v:.3f} {op} {lim}")
            ok &= passed
        to_h, to_t, q = r["copy_check"]
        print(
            f"  info  median nearest-day distance of the scenarios: to the held-out days {to_h:.4f}, "
            f"to as many random training days {to_t:.4f} (copying: the second smaller); "
            f"their median to the training days is the held-out days' {q:.0%} quantile"
        )
        sc = r["split_check"]
        print(
            f"  info  this split among {N_SPLITS} random splits of the same days: held-out nn "
            f"distance {sc['heldout_nn_distance'][0]:.4f} ({sc['heldout_nn_distance'][1]:.0%} quantile; "
            f"high: strict nn criterion), history ramp W1 {sc['history_ramp_w1'][0]:.5f} "
            f"({sc['history_ramp_w1'][1]:.0%} quantile; low: strict ramp criterion); new days "
            f"drawn like the training days would score {sc['fresh_day_nn_ratio']:.3f} on the "
            "nn criterion (training days' leave-one-out nn distance / held-out days')"
        )
        if r["w1_ratio_generation_seeds"]:
            spread = ", ".join(f"{v:.4f}" for v in r["w1_ratio_generation_seeds"])
            print(f"  W1 / history W1 for generation seeds 0-{args.gen_seeds - 1}: {spread}")
        summary.append(
            {
                **{k: v for k, v in r.items() if k not in ("table", "ratios", "checks")},
                "table": r["table"].to_dict(orient="index"),
                "ratios": r["ratios"].to_dict(orient="index"),
                "checks": {
                    k: {"value": v, "limit": lim, "pass": p}
                    for k, (v, lim, p) in r["checks"].items()
                },
            }
        )
    if len(seeds) > 1:
        print("\n=== the bar per seed (ratios; limits as above)")
        table = pd.DataFrame(rows).set_index(["data", "seed"]).sort_index()
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    print(f"\nquality bar: {'PASS' if ok else 'FAIL'}  (details in {args.out / 'quality.json'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
