"""Benchmark of ``scengen generate``: 100 000 scenarios of 7 sites x 24 steps, sampled and
written, in under a minute on the CPU without exhausting memory (the bar of issue 2).

A model with the default wind architecture (``configs/wind.yaml``) is trained for a few steps on
the shipped 7-farm data (the sampling cost does not depend on how long it was trained), then
``scengen generate RUN -n N --out DIR`` runs through the CLI in its own subprocess, so that the
wall time (process start and imports included) and the peak memory (``ru_maxrss`` of that
process) are those a user sees. Prints time, peak memory, rows and file sizes; exit status 1
when the time bar is missed.

Usage (from the repository root)::

    python benchmarks/generate.py                 # N = 100 000, the bar
    python benchmarks/generate.py -n 10000        # smaller
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quality import example_configs  # noqa: E402  (benchmarks/quality.py)

from scengen import train as tr  # noqa: E402

BAR_SECONDS = 60.0


def tiny_run(run_dir: Path, seed: int) -> None:
    """Train the default wind model for 2 steps (same architecture, same sampling cost)."""
    data_cfg, model_cfg, train_cfg = example_configs("wind", steps=2)
    train_cfg.checkpoint_every, train_cfg.device = 2, "cpu"
    tr.train_run(data_cfg, model_cfg, train_cfg, run_dir, seed=seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100_000, help="scenarios to generate")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        run_dir, out = Path(tmp) / "run", Path(tmp) / "scenarios"
        tiny_run(run_dir, args.seed)
        cmd = [
            sys.executable,
            "-m",
            "scengen",
            "generate",
            str(run_dir),
            "-n",
            str(args.n),
            "--out",
            str(out),
            "--seed",
            str(args.seed),
            "--device",
            "cpu",
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        files = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
        with open(out / "scenarios.csv") as fh:
            rows = sum(1 for _ in fh) - 1

    ok = wall <= BAR_SECONDS
    print(f"generate -n {args.n} (7 sites x 24 steps, CPU), seed {args.seed}")
    print(f"  wall time        {wall:8.1f} s   (process start, sampling and writing)")
    print(f"  peak memory      {peak_mb:8.0f} MB  (the generate process)")
    print(f"  scenarios.csv    {rows:,} rows")
    for name, size in files.items():
        print(f"  {name:<16} {size / 2**20:8.1f} MB")
    print(f"{'PASS' if ok else 'FAIL'}  wall time {wall:.1f} s <= {BAR_SECONDS:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
