"""Benchmark of ``scengen.reduce`` against FasterPAM (``kmedoids.fasterpam``).

Every method runs in its own subprocess on the same data (smooth random daily wind-like
profiles in [0, 1], fixed seeds), so that peak memory (``ru_maxrss`` of that process) and wall
time are measured separately. The distance printed for every method is the same float64
Wasserstein-1 objective ``sum_i p_i min_j ||x_i - m_j||_2`` [p.u.] of the medoids it returns.

Cases (the bar of issue 3):

1. N = 20 000, 24 steps x 1 site, K = 10: distance <= FasterPAM, time <= 1/5 of FasterPAM
2. N = 20 000, 24 steps x 7 sites, K = 20: the same
3. N = 100 000, 24 x 7, K = 20: < 120 s, < 6 GB peak, distance <= FasterPAM on a 20 000
   subsample applied to all 100 000
4. N = 2 000, 24 x 7, K = 10: within 0.5 % of the best of 20 random-restart FasterPAM runs

FasterPAM gets a precomputed float32 distance matrix (BLAS, its time included) and runs with
``n_cpu`` threads (default 2, the machine's cores).

Usage::

    python benchmarks/reduce.py                 # all cases
    python benchmarks/reduce.py --cases 1,4     # some
    python benchmarks/reduce.py --quick         # smaller N, a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    1: dict(n=20_000, sites=1, k=10, ref="fasterpam"),
    2: dict(n=20_000, sites=7, k=20, ref="fasterpam"),
    3: dict(n=100_000, sites=7, k=20, ref="fasterpam-sub20000"),
    4: dict(n=2_000, sites=7, k=10, ref="fasterpam-best-of-20"),
}


def smooth_profiles(n: int, sites: int, steps: int = 24, seed: int = 0) -> np.ndarray:
    """Wind-like daily profiles in [0, 1], shape ``(n, sites, steps)``.

    A latent Gaussian AR(1) process in time (phi = 0.9) with a day level, a component common to
    all sites and a site-specific one (cross-site correlation about 0.7), a diurnal sinusoid,
    passed through a logistic function.
    """
    rng = np.random.default_rng(seed)
    phi = 0.9

    def ar(shape):
        e = rng.standard_normal(shape)
        z = np.empty(shape)
        z[..., 0] = e[..., 0]
        for t in range(1, steps):
            z[..., t] = phi * z[..., t - 1] + np.sqrt(1 - phi**2) * e[..., t]
        return z

    level = rng.standard_normal((n, 1, 1))
    common = ar((n, 1, steps))
    own = ar((n, sites, steps))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    diurnal = 0.3 * np.sin(2 * np.pi * np.arange(steps) / steps + phase)
    latent = 1.0 * level + 0.7 * common + 0.45 * own + diurnal - 0.6
    return 1.0 / (1.0 + np.exp(-1.6 * latent))


def objective(X: np.ndarray, medoids: np.ndarray) -> float:
    """float64 ``mean_i min_j ||x_i - x_{m_j}||_2`` (equal weights)."""
    best = np.full(X.shape[0], np.inf)
    for m in medoids:
        d = np.sqrt(np.einsum("ij,ij->i", X - X[m], X - X[m]))
        np.minimum(best, d, out=best)
    return float(best.mean())


def _dist_matrix(X: np.ndarray) -> np.ndarray:
    """Full float32 Euclidean distance matrix with BLAS, in place."""
    Xf = np.ascontiguousarray(X - X.mean(axis=0), dtype=np.float32)
    sq = np.einsum("ij,ij->i", Xf, Xf)
    M = Xf @ Xf.T
    M *= -2.0
    M += sq[:, None]
    M += sq[None, :]
    np.maximum(M, 0.0, out=M)
    np.sqrt(M, out=M)
    np.fill_diagonal(M, 0.0)
    return M


# ----------------------------------------------------------------------------- worker


def peak_rss_mb() -> float:
    """Peak resident memory of this process [MB]: ``VmHWM`` (Linux; reset by exec, so it is
    this worker's own peak), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(spec: dict) -> dict:
    X = np.load(spec["data"])
    n = X.shape[0]
    k = spec["k"]
    seed = spec["seed"]
    base = peak_rss_mb()
    method = spec["method"]
    extra: dict = {}
    t0 = time.perf_counter()
    if method in ("scengen-pam", "scengen-forward"):
        from scengen.reduce import reduce_scenarios
        from scengen.scenarios import ScenarioSet

        ss = ScenarioSet(X.reshape(n, spec["sites"], -1))
        t0 = time.perf_counter()
        res = reduce_scenarios(ss, k, method=method.split("-")[1], seed=seed, verify=False)
        medoids = res.medoids
        extra = {"reported": res.distance, "algorithm": res.info.get("algorithm", {})}
    elif method == "fasterpam":
        import kmedoids

        M = _dist_matrix(X)
        tm = time.perf_counter() - t0
        r = kmedoids.fasterpam(M, k, random_state=seed, n_cpu=spec["n_cpu"])
        medoids = np.asarray(r.medoids)
        extra = {"matrix_s": tm, "n_iter": int(r.n_iter)}
    elif method.startswith("fasterpam-sub"):
        import kmedoids

        s = int(method.removeprefix("fasterpam-sub"))
        sub = np.sort(np.random.default_rng(seed).choice(n, size=s, replace=False))
        M = _dist_matrix(X[sub])
        r = kmedoids.fasterpam(M, k, random_state=seed, n_cpu=spec["n_cpu"])
        medoids = sub[np.asarray(r.medoids)]
        extra = {"subsample": s}
    elif method == "fasterpam-best-of-20":
        import kmedoids

        M = _dist_matrix(X)
        runs = [
            kmedoids.fasterpam(M, k, random_state=seed + i, n_cpu=spec["n_cpu"]) for i in range(20)
        ]
        best = min(runs, key=lambda r: r.loss)
        medoids = np.asarray(best.medoids)
        extra = {"losses": sorted(float(r.loss) / n for r in runs)}
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - t0
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "method": method,
        "seconds": seconds,
        "cpu_s": cpu.ru_utime + cpu.ru_stime,
        "peak_mb": peak_rss_mb(),
        "base_mb": base,
        "distance": objective(X, medoids),
        "medoids": [int(m) for m in medoids],
        **extra,
    }


def run_worker(spec: dict, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"method": spec["method"], "error": f"timeout after {timeout:.0f} s"}
    if out.returncode != 0:
        return {"method": spec["method"], "error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- driver


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default="1,2,3,4")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-cpu", type=int, default=2, help="FasterPAM threads")
    ap.add_argument("--quick", action="store_true", help="N / 10 (smoke test)")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    import platform

    print(f"# scengen reduce benchmark  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}, numpy {np.__version__}, FasterPAM n_cpu={args.n_cpu}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for c in [int(x) for x in args.cases.split(",")]:
            case = dict(CASES[c])
            n = case["n"] // 10 if args.quick else case["n"]
            X = smooth_profiles(n, case["sites"], 24, seed=1000 + c).reshape(n, -1)
            data = Path(tmp) / f"case{c}.npy"
            np.save(data, X)
            ref = case["ref"]
            if args.quick and ref.startswith("fasterpam-sub"):
                ref = f"fasterpam-sub{n // 5}"
            methods = [ref, "scengen-pam", "scengen-forward"]
            print(f"\n## case {c}: N = {n}, 24 steps x {case['sites']} site(s), K = {case['k']}")
            print(
                f"{'method':<24}{'time [s]':>10}{'CPU [s]':>9}{'peak RSS [MB]':>15}"
                f"{'(data loaded)':>15}{'distance [p.u.]':>17}"
            )
            rows = {}
            for m in methods:
                spec = {
                    "method": m,
                    "data": str(data),
                    "k": case["k"],
                    "seed": args.seed,
                    "sites": case["sites"],
                    "n_cpu": args.n_cpu,
                }
                r = run_worker(spec, timeout=1800)
                rows[m] = r
                if "error" in r:
                    print(f"{m:<24}  ERROR {r['error']}")
                    continue
                print(
                    f"{m:<24}{r['seconds']:>10.2f}{r['cpu_s']:>9.1f}{r['peak_mb']:>15.0f}"
                    f"{r['base_mb']:>15.0f}{r['distance']:>17.6f}"
                )
            results[c] = rows
            _verdict(c, n, rows, ref)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _verdict(c: int, n: int, rows: dict, ref: str) -> None:
    ours, base = rows.get("scengen-pam", {}), rows.get(ref, {})
    if "error" in ours or "error" in base or not ours or not base:
        print("bar: not evaluated")
        return
    rel = ours["distance"] / base["distance"] - 1
    speed = base["seconds"] / ours["seconds"]
    if c in (1, 2):
        ok = ours["distance"] <= base["distance"] and speed >= 5
        print(
            f"bar: distance {100 * rel:+.3f} % vs FasterPAM, {speed:.1f}x faster "
            f"(need <= 0 % and >= 5x): {'PASS' if ok else 'FAIL'}"
        )
    elif c == 3:
        ok = (
            ours["distance"] <= base["distance"]
            and ours["seconds"] < 120
            and ours["peak_mb"] < 6 * 1024
        )
        print(
            f"bar: {ours['seconds']:.1f} s, peak {ours['peak_mb']:.0f} MB, distance "
            f"{100 * rel:+.3f} % vs FasterPAM on a subsample (need < 120 s, < 6144 MB, <= 0 %): "
            f"{'PASS' if ok else 'FAIL'}"
        )
    else:
        ok = rel <= 0.005
        print(
            f"bar: distance {100 * rel:+.3f} % vs best of 20 FasterPAM (need <= +0.5 %): "
            f"{'PASS' if ok else 'FAIL'}"
        )


if __name__ == "__main__":
    main()
