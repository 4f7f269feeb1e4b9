"""Quality bar over three data sets x seeds: train, generate 2 000 scenarios, evaluate them on
the held-out days and compare with the references.

Data sets (``--data``, default all three):

- ``wind``: the shipped GEFCom2012 wind data with ``configs/wind.yaml``;
- ``pv``: the shipped GEFCom2014 PV data with ``configs/pv.yaml``;
- ``smard``: the shipped German national SMARD sample (onshore wind, offshore wind, PV; MWh, so
  ``capacity: max``), the data set no recipe was tuned on. It is trained with the recipe that
  :func:`scengen.recipes.pick_recipe` picks from its training days (never a hand-written
  config); wind.yaml and pv.yaml equal the recipes (:data:`scengen.recipes.RECIPES`).

Each seed (``--seeds``, default 0,1,2) is both the split and the training seed.

The bar (issue 2; the thresholds of :mod:`scengen.evaluate.quality`), ratios to the history
reference (the training days themselves, scored on the same held-out days):

- W1(generated, held-out) <= 1.00 x W1(history, held-out)
- autocorrelation error (lags 1-6) <= 1.5 x history's, ramp-rate W1 <= 1.5 x history's
- W1 at least 5 % better than a Gaussian copula fitted on the training days (ratio <= 0.95)
- no copying: median distance generated -> nearest training day >= 0.9 x the median distance
  held-out day -> nearest training day

Usage (from the repository root)::

    python benchmarks/quality.py                          # 3 data sets x seeds 0,1,2 (~1 h)
    python benchmarks/quality.py --data smard --seeds 0 --out /tmp/quality
    python benchmarks/quality.py --reuse                  # reprint from the runs under --out
    python benchmarks/quality.py --out reports --reuse --data wind,pv --seeds 0  # `scengen run`

Run directories are ``OUT/<data>-seed<S>``; with ``--reuse`` a job folder ``OUT/<data>`` of
``scengen run`` trained with that seed is used when that is missing. Without ``--reuse`` a run
already there with the same settings is kept, any other is retrained; with ``--reuse`` nothing
is trained and the whole printout is rebuilt from the run directories (generation on the CPU,
so the same on any machine).

Prints per run the evaluation table, the ratios, PASS/FAIL per criterion and two ``info``
lines: the memorisation test (:func:`copy_check`) and where the split's yardsticks fall among
random splits (:func:`split_check`, ``--splits 0`` skips it: about 1-3 s a row). Then the
within-day autocorrelation per lag for each data set, and one summary table (data set x seed).
Writes ``quality.md`` (the tables) and ``quality.json`` (everything) in ``--out``. Exit status 1
when any criterion fails or a run is missing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scengen import evaluate as ev  # noqa: E402
from scengen import generate as gen  # noqa: E402
from scengen import recipes  # noqa: E402
from scengen import train as tr  # noqa: E402
from scengen.config import from_dict, load_yaml, to_dict  # noqa: E402
from scengen.data import DataConfig, load_from_config, load_split  # noqa: E402
from scengen.evaluate import quality as q  # noqa: E402
from scengen.stats import within_day_acf  # noqa: E402

CONFIG_DIR = ROOT / "configs"
DATASETS = ("wind", "pv", "smard")
#: the untuned data set: its data section (model and train come from the picked recipe)
SMARD_DATA = {
    "path": str(ROOT / "data" / "wind_pv_germany_smard_2023-2024.csv"),
    "capacity": "max",
    "test_fraction": 0.2,
}
N_SCENARIOS = 2000
#: random splits that :func:`split_check` ranks a split among
N_SPLITS = 500
#: lags of the autocorrelation table [steps]
ACF_LAGS = range(1, 7)
#: train settings that do not change the result (not compared when a run is reused)
NOT_RESULT = ("device", "threads", "max_minutes", "checkpoint_every", "log_every")
#: the summary's criteria: (column, key in :func:`bar`)
CRITERIA = (
    ("W1/history", "W1 / history W1"),
    ("ACF err/history", "autocorr error / history"),
    ("ramp W1/history", "ramp W1 / history"),
    ("W1/copula", "W1 / copula W1"),
    ("nearest-day", "nn distance / held-out nn distance"),
)


def bar(result: ev.EvaluationResult) -> dict[str, tuple[float, float, bool]]:
    """``{criterion: (value, limit, passed)}`` of the quality bar."""
    t = result.table
    h, c, s = t.loc["history"], t.loc["copula"], t.loc["scenarios"]
    checks = {
        "W1 / history W1": (s.wasserstein / h.wasserstein, q.W1_VS_HISTORY, "le"),
        "autocorr error / history": (
            s.autocorr_error / h.autocorr_error,
            q.AUTOCORR_VS_HISTORY,
            "le",
        ),
        "ramp W1 / history": (s.ramp_wasserstein / h.ramp_wasserstein, q.RAMP_VS_HISTORY, "le"),
        "W1 / copula W1": (s.wasserstein / c.wasserstein, q.W1_VS_COPULA, "le"),
        "nn distance / held-out nn distance": (
            s.nn_distance / result.heldout_nn_distance,
            q.NN_VS_HELDOUT,
            "ge",
        ),
    }
    return {
        k: (float(v), lim, bool(v <= lim if op == "le" else v >= lim))
        for k, (v, lim, op) in checks.items()
    }


def w1_over_generation_seeds(
    run_dir: Path, heldout, w_hist: float, n_seeds: int, n: int = N_SCENARIOS
) -> list[float]:
    """W1(generated, held-out) / ``w_hist`` (the history reference's W1) for generation seeds
    ``0 .. n_seeds-1`` of one trained model: how much of the W1 ratio is sampling noise of the
    ``n`` scenarios."""
    return [
        ev.wasserstein(
            gen.generate(run_dir, n, seed=s, device="cpu").values, None, heldout.values, None
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

    The bar divides by numbers that depend on which days were held out: the held-out days'
    median nearest-training-day distance (nearest-day criterion), the ramp W1 (ramp criterion)
    and the ACF error (ACF criterion) between the training and the held-out days. For each,
    ``(value, quantile)``: this split's value [p.u., p.u./step, -] and the share of random
    splits (same sizes) below it. A quantile near 1 for the nearest day, or near 0 for the ramps
    or the ACF, makes the criterion strict on this split for any generator (e.g. one that draws
    new days from the true distribution).

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
    nn, ramp, acf = [], [], []
    for _ in range(n_splits):
        p = rng.permutation(len(days))
        test, rest = days[p[:n_h]], days[p[n_h:]]
        nn.append(np.median(ev.nearest_distances(test, rest)))
        ramp.append(ev.ramp_wasserstein(rest, None, test, None))
        acf.append(ev.autocorrelation_error(rest, None, test, None, lags=ACF_LAGS))
    nn_now = float(np.median(ev.nearest_distances(h, t)))
    ramp_now = ev.ramp_wasserstein(t, None, h, None)
    acf_now = ev.autocorrelation_error(t, None, h, None, lags=ACF_LAGS)
    return {
        "fresh_day_nn_ratio": float(np.median(ev.leave_one_out_distances(t)) / nn_now),
        "heldout_nn_distance": (nn_now, float(np.mean(np.array(nn) < nn_now))),
        "history_ramp_w1": (ramp_now, float(np.mean(np.array(ramp) < ramp_now))),
        "history_acf_error": (acf_now, float(np.mean(np.array(acf) < acf_now))),
    }


def mean_acf(values: np.ndarray) -> list[float]:
    """Within-day autocorrelation at lags :data:`ACF_LAGS` (:func:`scengen.stats.within_day_acf`,
    pooled over the days), mean over the sites [-]."""
    with np.errstate(all="ignore"):
        return [float(v) for v in np.nanmean(within_day_acf(values, lags=ACF_LAGS), axis=0)]


# ---------------------------------------------------------------------- settings and runs


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


def dataset_configs(
    name: str, seed: int, config_dir: Path = CONFIG_DIR, steps: int | None = None
) -> tuple[DataConfig, Any, Any, str, str]:
    """``(data, model, train, recipe, why)`` of a benchmark data set: wind and pv from their
    config files, smard from the recipe :func:`scengen.recipes.pick_for_data` picks on the
    training days of ``seed``'s split."""
    if name in ("wind", "pv"):
        d, m, t = example_configs(name, config_dir, steps)
        return d, m, t, name, f"configs/{name}.yaml"
    if name != "smard":
        raise SystemExit(f"--data: unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    data_cfg = from_dict(DataConfig, dict(SMARD_DATA), "smard data")
    picked, why = recipes.pick_for_data(data_cfg, seed)
    model_sec, train_sec = recipes.with_recipe(picked)
    if steps is not None:
        train_sec["steps"] = steps
    return (
        data_cfg,
        from_dict(tr.ModelConfig, model_sec, "model"),
        from_dict(tr.TrainConfig, train_sec, "train"),
        picked,
        f"picked: {why}",
    )


def _recorded(run_dir: Path) -> tuple[dict | None, dict | None]:
    """``(metadata, config)`` recorded in a run directory (``None`` where unreadable)."""
    try:
        meta = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    try:
        conf = yaml.safe_load((run_dir / tr.CONFIG_YAML).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        conf = None
    return meta, conf


def differences(run_dir: Path, data_cfg, model_cfg, train_cfg, seed: int) -> list[str]:
    """How the run in ``run_dir`` differs from a training with these settings (data
    fingerprint, seed, every setting but :data:`NOT_RESULT`); empty when it does not. A run
    that is not finished (``status`` training or interrupted) differs."""
    meta, conf = _recorded(run_dir)
    if not (run_dir / tr.CHECKPOINT).is_file() or meta is None or conf is None:
        return ["no complete run"]
    out = []
    if meta.get("status") in (None, "training", "interrupted"):
        out.append(f"status {meta.get('status')!r}")
    if meta.get("seed") != seed:
        out.append(f"seed {meta.get('seed')} (wanted {seed})")
    fp = (meta.get("data") or {}).get("fingerprint")
    if fp != load_from_config(data_cfg).fingerprint:
        out.append("other data (fingerprint)")
    for sec, cfg in (("model", model_cfg), ("train", train_cfg)):
        want, have = to_dict(cfg), conf.get(sec) or {}
        for k in sorted(set(want) | set(have)):
            if sec == "train" and k in NOT_RESULT:
                continue
            if want.get(k) != have.get(k):
                out.append(f"{sec}.{k} = {have.get(k)!r} (wanted {want.get(k)!r})")
    return out


def find_run(out: Path, name: str, seed: int) -> Path | None:
    """The run directory of data set ``name`` and ``seed`` under ``out``: ``out/<name>-seed<S>``,
    else a ``scengen run`` job folder ``out/<name>`` trained with ``seed``; None if neither."""
    primary = out / f"{name}-seed{seed}"
    if (primary / tr.CHECKPOINT).is_file():
        return primary
    meta, _ = _recorded(out / name)
    if (out / name / tr.CHECKPOINT).is_file() and meta is not None and meta.get("seed") == seed:
        return out / name
    return None


# ---------------------------------------------------------------------- one row


def evaluate_run(
    run_dir: Path,
    seed: int,
    *,
    n_scenarios: int = N_SCENARIOS,
    n_splits: int = N_SPLITS,
    gen_seeds: int = 0,
) -> dict[str, Any]:
    """Generate ``n_scenarios`` from the run (generation seed ``seed``, on the CPU) and score
    them on its held-out days: everything a row of the printout needs (JSON-able but the
    evaluation ``table`` and ``ratios``)."""
    meta, conf = _recorded(run_dir)
    meta, conf = meta or {}, conf or {}
    ss = gen.generate(run_dir, n_scenarios, seed=seed, device="cpu")
    split = load_split(run_dir)
    train_days, test_days = split[0], split[1]
    heldout, trs = test_days.to_scenarios(), train_days.to_scenarios()
    res = ev.evaluate(ss, heldout, trs, seed=seed)
    checks = bar(res)
    w_hist = float(res.table.loc["history", "wasserstein"])
    timings = meta.get("timings") or {}
    return {
        "run_dir": str(run_dir),
        "seed": seed,
        "steps": meta.get("step"),
        "steps_configured": meta.get("steps", (conf.get("train") or {}).get("steps")),
        "best_step": meta.get("best_step"),
        "status": meta.get("status"),
        "device": meta.get("device"),
        "train_s": timings.get("train_s"),
        "steps_per_s": timings.get("steps_per_s"),
        "n_train": (meta.get("data") or {}).get("n_train", train_days.n_days),
        "n_test": (meta.get("data") or {}).get("n_test", test_days.n_days),
        "condition": (conf.get("train") or {}).get("condition"),
        "table": res.table,
        "ratios": res.ratios,
        "heldout_nn_distance": res.heldout_nn_distance,
        "checks": checks,
        "acf": {
            "heldout": mean_acf(test_days.values),
            "training": mean_acf(train_days.values),
            "generated": mean_acf(ss.values),
        },
        "copy_check": copy_check(ss, trs, heldout, seed),
        "split_check": split_check(trs, heldout, seed, n_splits) if n_splits else None,
        "w1_ratio_generation_seeds": w1_over_generation_seeds(
            run_dir, heldout, w_hist, gen_seeds, n_scenarios
        ),
    }


def print_row(name: str, r: dict[str, Any], recipe: str, why: str, gen_seeds: int) -> None:
    """The detailed printout of one run."""
    train_s = r["train_s"]
    best = f", best step {r['best_step']}" if r.get("best_step") is not None else ""
    print(
        f"\n=== {name}, seed {r['seed']}: recipe {recipe} ({why})\n"
        f"    {r['run_dir']}: {r['n_train']} training / {r['n_test']} held-out days, "
        f"{r['steps']} of {r['steps_configured']} steps{best} ({r['status']}) on {r['device']} "
        f"in {_num(train_s, '.0f')} s ({_num(r['steps_per_s'], '.1f')} steps/s)"
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
    to_h, to_t, qt = r["copy_check"]
    print(
        f"  info  median nearest-day distance of the scenarios: to the held-out days {to_h:.4f}, "
        f"to as many random training days {to_t:.4f} (copying: the second smaller); "
        f"their median to the training days is the held-out days' {qt:.0%} quantile"
    )
    sc = r["split_check"]
    if sc:
        print(
            f"  info  this split among random splits of the same days: held-out nn "
            f"distance {sc['heldout_nn_distance'][0]:.4f} ({sc['heldout_nn_distance'][1]:.0%} "
            f"quantile; high: strict nn criterion), history ramp W1 "
            f"{sc['history_ramp_w1'][0]:.5f} ({sc['history_ramp_w1'][1]:.0%} quantile; low: "
            f"strict ramp criterion); new days drawn like the training days would score "
            f"{sc['fresh_day_nn_ratio']:.3f} on the nn criterion"
        )
        if "history_acf_error" in sc:  # runs printed by an older version lack it
            v, qt = sc["history_acf_error"]
            print(
                f"  info  history ACF error {v:.4f}: the {qt:.0%} quantile of random splits "
                "(low: strict ACF criterion)"
            )
    if r["w1_ratio_generation_seeds"]:
        spread = ", ".join(f"{v:.4f}" for v in r["w1_ratio_generation_seeds"])
        print(f"  W1 / history W1 for generation seeds 0-{gen_seeds - 1}: {spread}")


# ---------------------------------------------------------------------- tables


def _num(v: Any, fmt: str) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def summary_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One line per data set x seed: each criterion ``value PASS|FAIL``, the training minutes,
    the steps run and the best (validated) step when the run records one."""
    lines = []
    for r in rows:
        line: dict[str, Any] = {"data": r["data"], "seed": r["seed"], "recipe": r["recipe"]}
        for col, key in CRITERIA:
            if r.get("checks"):
                v, _, ok = r["checks"][key]
                line[col] = f"{v:.3f} {'PASS' if ok else 'FAIL'}"
            else:
                line[col] = "missing FAIL"
        line["train min"] = _num(None if r.get("train_s") is None else r["train_s"] / 60, ".1f")
        line["steps"] = _num(r.get("steps"), "d")
        line["best step"] = _num(r.get("best_step"), "d")
        lines.append(line)
    return pd.DataFrame(lines)


def acf_tables(rows: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Per data set: the within-day ACF per lag of the held-out, training and generated days
    (means over the seeds' splits and models), then the generated days of each seed."""
    out = {}
    for name in dict.fromkeys(r["data"] for r in rows):
        got = [r for r in rows if r["data"] == name and r.get("acf")]
        if not got:
            continue
        idx, vals = [], []
        for part, label in (
            ("heldout", "held-out days"),
            ("training", "training days"),
            ("generated", "generated"),
        ):
            idx.append(f"{label} (mean of {len(got)} seed{'s' if len(got) > 1 else ''})")
            vals.append(np.mean([r["acf"][part] for r in got], axis=0))
        for r in got:
            idx.append(f"generated, seed {r['seed']}")
            vals.append(np.asarray(r["acf"]["generated"]))
        out[name] = pd.DataFrame(np.array(vals), index=idx, columns=[f"lag {k}" for k in ACF_LAGS])
    return out


def markdown(df: pd.DataFrame, index: bool = False, fmt: str = "{:.3f}") -> str:
    """A GitHub markdown table of ``df`` (no extra dependency)."""
    cols = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for i, row in df.iterrows():
        cells = [str(i)] if index else []
        cells += [fmt.format(v) if isinstance(v, float) else str(v) for v in row]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--data", default=",".join(DATASETS), help="wind, pv, smard, comma-separated")
    ap.add_argument("--seeds", default="0,1,2", help="split and training seeds, e.g. 0,1,2")
    ap.add_argument("--seed", type=int, default=None, help="one seed (same as --seeds S)")
    ap.add_argument("--steps", type=int, default=None, help="override train.steps (testing)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "quality")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="train nothing: rebuild the printout from the runs already under OUT",
    )
    ap.add_argument(
        "--configs", type=Path, default=CONFIG_DIR, help="folder with wind.yaml / pv.yaml"
    )
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads for training")
    ap.add_argument("--n-scenarios", type=int, default=N_SCENARIOS, help="scenarios per run")
    ap.add_argument(
        "--splits", type=int, default=N_SPLITS, help="random splits of split_check (0: skip)"
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
    seeds = [args.seed] if args.seed is not None else [int(s) for s in args.seeds.split(",")]
    names = [s.strip() for s in args.data.split(",") if s.strip()]
    for name in names:
        if name not in DATASETS:
            ap.error(f"--data: unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    rows: list[dict[str, Any]] = []
    for name in names:
        for seed in seeds:
            data_cfg, model_cfg, train_cfg, recipe, why = dataset_configs(
                name, seed, args.configs, args.steps
            )
            if args.threads is not None:
                train_cfg.threads = args.threads
            run_dir = (
                find_run(args.out, name, seed) if args.reuse else args.out / f"{name}-seed{seed}"
            )
            row: dict[str, Any] = {"data": name, "seed": seed, "recipe": recipe, "why": why}
            if run_dir is None:
                print(
                    f"\n=== {name}, seed {seed}: no run under {args.out} (--reuse trains nothing)"
                )
                rows.append(row)
                continue
            diff = differences(run_dir, data_cfg, model_cfg, train_cfg, seed)
            if diff and not args.reuse:
                print(f"# training {run_dir} ({'; '.join(diff[:3])})", file=sys.stderr)
                tr.train_run(data_cfg, model_cfg, train_cfg, run_dir, seed=seed, overwrite=True)
            elif diff:
                print(f"# note: {run_dir} differs from the benchmark's settings: "
                      f"{'; '.join(diff[:4])}", file=sys.stderr)  # fmt: skip
            if args.reuse or diff == []:
                _, conf = _recorded(run_dir)  # the recipe the run was trained with
                recipe = _recipe_of(conf, recipe)
            row.update(recipe=recipe)
            r = evaluate_run(
                run_dir, seed, n_scenarios=args.n_scenarios, n_splits=args.splits,
                gen_seeds=args.gen_seeds,
            )  # fmt: skip
            print_row(name, r, recipe, why, args.gen_seeds)
            rows.append({**row, **r})

    acf = acf_tables(rows)
    for name, df in acf.items():
        print(f"\n=== {name}: within-day autocorrelation per lag (mean over days and sites)")
        print(df.to_string(float_format=lambda v: f"{v:.3f}"))
    summary = summary_table(rows)
    limits = (
        f"W1/history <= {q.W1_VS_HISTORY:.2f}, ACF err/history <= {q.AUTOCORR_VS_HISTORY:g}, "
        f"ramp W1/history <= {q.RAMP_VS_HISTORY:g}, W1/copula <= {q.W1_VS_COPULA:g}, "
        f"nearest-day >= {q.NN_VS_HELDOUT:g}"
    )
    print(f"\n=== the quality bar per data set and seed ({limits})")
    print(summary.to_string(index=False))
    ok = all("FAIL" not in str(v) for v in summary.to_numpy().ravel())

    args.out.mkdir(parents=True, exist_ok=True)
    md = [
        "# Quality bar per data set and seed",
        "",
        f"Bar: {limits}. Recipes: "
        + "; ".join(dict.fromkeys(f"{r['data']}: {r['recipe']} ({r['why']})" for r in rows))
        + ".",
        "",
        markdown(summary),
        "",
    ]
    for name, df in acf.items():
        md += [f"## {name}: within-day autocorrelation per lag", "", markdown(df, index=True), ""]
    md.append(f"Quality bar: {'PASS' if ok else 'FAIL'}")
    (args.out / "quality.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    out_json = {
        "pass": ok,
        "limits": limits,
        "summary": summary.to_dict(orient="records"),
        "acf": {k: v.to_dict(orient="index") for k, v in acf.items()},
        "runs": [_jsonable(r) for r in rows],
    }
    (args.out / "quality.json").write_text(
        json.dumps(out_json, indent=2, default=float) + "\n", encoding="utf-8"
    )
    print(
        f"\nquality bar: {'PASS' if ok else 'FAIL'}  (tables in {args.out / 'quality.md'}, "
        f"details in {args.out / 'quality.json'})"
    )
    return 0 if ok else 1


def _recipe_of(conf: dict | None, default: str) -> str:
    """The shipped recipe whose model and train settings a recorded run config has (but for
    ``steps`` and the settings that do not change the result), else ``default``."""
    if not conf:
        return default
    for name in recipes.RECIPES:
        model, train = recipes.with_recipe(name)
        have_m, have_t = conf.get("model") or {}, conf.get("train") or {}
        same_m = all(have_m.get(k) == v for k, v in model.items())
        same_t = all(
            have_t.get(k) == v for k, v in train.items() if k not in (*NOT_RESULT, "steps")
        )
        if same_m and same_t:
            return name
    return default


def _jsonable(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in r.items() if k not in ("table", "ratios", "checks")}
    if "table" in r:
        out["table"] = r["table"].to_dict(orient="index")
        out["ratios"] = r["ratios"].to_dict(orient="index")
        out["checks"] = {
            k: {"value": v, "limit": lim, "pass": p} for k, (v, lim, p) in r["checks"].items()
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
