"""Where a trained generator's within-day persistence comes from.

For each run directory, the within-day autocorrelation per lag (1-6 steps; mean over days and
sites; the pooled :func:`scengen.stats.within_day_acf`) of

- the validation days and the training days of the run (measured);
- generated days (the weights the model samples with, *uncalibrated*: the network's own);
- generated days with the per-step noise maps **frozen** (one draw shared by every day, so only
  the day-level latent vector varies): the persistence of the day-level path;
- the **per-step-noise part**: two draws of the per-step noise for the same day-level vectors,
  ``(x_a - x_b) / sqrt(2)``, centred per day: the persistence the local noise path adds, and
  its share of the within-day variance.

The test days are not read. Usage (from the repository root)::

    python benchmarks/persistence.py RUN_DIR [RUN_DIR ...] [--n 2000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from scengen.data import load_split, load_validation
from scengen.stats import within_day_acf
from scengen.train import load_checkpoint
from scengen.train.checkpoint import generator_from_checkpoint

LAGS = range(1, 7)


def _acf(values: np.ndarray) -> np.ndarray:
    return np.nanmean(within_day_acf(values, None, LAGS), axis=0)


def persistence(run: str, n: int = 2000, seed: int = 0) -> dict[str, np.ndarray | float]:
    """The rows of the table for one run (see the module docstring)."""
    ckpt = load_checkpoint(run)
    if ckpt.get("n_labels"):
        raise SystemExit(f"{run}: a conditional model; this diagnosis takes unconditioned runs")
    gen = generator_from_checkpoint(ckpt).eval()
    if not gen.noise_channels:
        raise SystemExit(f"{run}: the generator has no per-step noise maps")
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(n, gen.input_dim, generator=rng)
    k = gen.latent_dim
    frozen, other = z.clone(), z.clone()
    frozen[:, k:] = z[:1, k:]
    other[:, k:] = torch.randn(n, gen.input_dim - k, generator=rng)
    with torch.no_grad():
        x, x_frozen, x_other = (gen(v).double().numpy() for v in (z, frozen, other))
    part = (x - x_other) / np.sqrt(2.0)
    part -= part.mean(axis=2, keepdims=True)
    centred = x - x.mean(axis=2, keepdims=True)
    train, _ = load_split(run)
    val = load_validation(run)
    return {
        "validation days": _acf(val.values) if val is not None else np.full(len(LAGS), np.nan),
        "training days": _acf(train.values),
        "generated (uncalibrated)": _acf(x),
        "per-step noise frozen": _acf(x_frozen),
        "per-step-noise part": _acf(part),
        "noise share": float(np.mean(part * part) / np.mean(centred * centred)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run directories of unconditioned models")
    ap.add_argument("--n", type=int, default=2000, help="generated days")
    ap.add_argument("--seed", type=int, default=0, help="seed of the latent vectors")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for run in args.runs:
        rows = persistence(run, args.n, args.seed)
        print(f"## {run}\n")
        print("| | " + " | ".join(f"lag {lag}" for lag in LAGS) + " |")
        print("|---" * (len(LAGS) + 1) + "|")
        for name, v in rows.items():
            if name != "noise share":
                print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in v) + " |")
        print(
            f"\nwithin-day variance share of the per-step-noise part: {rows['noise share']:.2f}\n"
        )


if __name__ == "__main__":
    main()
