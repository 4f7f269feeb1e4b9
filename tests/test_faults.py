"""Fault injection: real ``python -m scengen`` processes killed with SIGKILL / SIGINT at seeded
random points (a delay after the start, or a delay after the writer's temporary directory
appears, so that some kills land while the output is being written).

After every kill: the output is either complete (``read_scenarios`` reads it with the expected
number of scenarios / every file ``export.json`` lists exists and reads back / the run's
stages are complete), or the previous state is intact (the output absent, or with
``--overwrite`` the old output byte-identical, if need be set aside as ``.NAME.PID.TOKEN.old``
for the next writer to put back); nothing half-written has a complete-looking name; a Ctrl-C
(SIGINT) is a one-line ``Error:`` with exit status 130 that removes its own temporary entries; and
a rerun of the same command exits 0, completes the output and removes the dead writer's
temporary entries. SIGINT during ``scengen train`` saves a checkpoint (status ``interrupted``,
exit 130) that ``--resume`` completes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _invariants import listed_export_files, temp_entries, tree_digest
from click.testing import CliRunner
from conftest import synthetic_days, write_measurement_csv

from scengen import _io
from scengen import train as T
from scengen.cli import cli
from scengen.data import DataConfig
from scengen.generate import generate
from scengen.scenarios import read_scenarios, write_scenarios

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: seed of the kill points
SEED = 16
#: kill points per signal on a fresh output (``KILLS`` x SIGKILL, ``KILLS`` x SIGINT) and with
#: ``--overwrite`` over an earlier output (``KILLS`` x SIGKILL); ``KILLS_SLOW`` with --runslow
KILLS = 1
KILLS_SLOW = 4
#: seconds a process may take before the test gives up on it
TIMEOUT = 120

TINY_MODEL = {"latent_dim": 4, "channels": 8, "critic_channels": 8, "embed_dim": 2}
TINY_TRAIN = {"batch_size": 8, "n_critic": 1, "log_every": 1, "device": "cpu", "threads": 1}
#: sizes that take a second or two to write on a 2-core CPU
N_GENERATE = 3000
N_EXPORT = 4000
N_REDUCE = 400
#: longest delay of a kill after the writer's temporary entry appears [s] (within the write)
WRITE_DELAY = {"generate": 0.3, "reduce": 0.005, "export": 0.1}


# ---------------------------------------------------------------------- processes


def start(args: list[object], cwd: Path) -> subprocess.Popen:
    """``python -m scengen *args`` in its own session (so a signal reaches only it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "scengen", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(p: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"scengen did not end within {TIMEOUT} s:\n{err[-2000:]}")
    return p.returncode, out, err


def scengen(args: list[object], cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m scengen *args`` to its end."""
    return finish(start(args, cwd))


def scengen_here(args: list[object]) -> tuple[int, str]:
    """Run ``scengen *args`` in this process (click's CliRunner): the same command, without the
    seconds of a new interpreter, for the runs that are not killed."""
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exc_info
    return res.exit_code, res.output


def writer_entries(folder: Path, pid: int) -> list[str]:
    """Temporary entries of the process ``pid`` in ``folder``."""
    return [e for e in temp_entries(folder) if f".{pid}." in e]


def kill_at(
    p: subprocess.Popen, sig: int, point: tuple[str, float], folder: Path
) -> tuple[int, str, str]:
    """Send ``sig`` to ``p`` at ``point``: ``("time", t)`` t seconds after the start, or
    ``("writing", t)`` t seconds after its first temporary entry appears in ``folder``; then
    wait for it. A process that ended before the point is left as it ended."""
    kind, delay = point
    t0 = time.monotonic()
    if kind == "writing":
        while p.poll() is None and not writer_entries(folder, p.pid):
            if time.monotonic() - t0 > TIMEOUT:
                break
            time.sleep(0.002)
    deadline = time.monotonic() + delay
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    if p.poll() is None:
        p.send_signal(sig)
    return finish(p)


def kill_points(
    rng: random.Random, n: int, span: float, write_delay: float
) -> list[tuple[str, float]]:
    """``n`` seeded kill points, each either while writing (up to ``write_delay`` seconds after
    the writer's temporary entry appears) or at a random time within ``span`` seconds of the
    start."""
    return [
        ("writing", rng.uniform(0.0, write_delay))
        if rng.random() < 0.6
        else ("time", rng.uniform(0.1, span))
        for _ in range(n)
    ]


def assert_interrupt_result(sig: int, rc: int, err: str, folder: Path, pid: int) -> None:
    """The exit of an interrupted command: SIGKILL dies (or had finished); SIGINT is exit status
    130 with a one-line ``Error:`` and no temporary entry of its own left behind."""
    if sig == signal.SIGKILL:
        assert rc in (0, -signal.SIGKILL), (rc, err[-2000:])
        return
    # -SIGINT: Python's own exit on a Ctrl-C outside the command (while importing, or after
    # the command returned); a traceback then may only be the KeyboardInterrupt's
    assert rc in (0, 130, -signal.SIGINT), (rc, err[-2000:])
    if rc == -signal.SIGINT and "Traceback" in err:
        assert err.strip().splitlines()[-1] == "KeyboardInterrupt", err[-2000:]
    if rc == 130:
        lines = err.strip().splitlines()
        assert lines and lines[-1].startswith("Error: "), err[-2000:]
        assert "Traceback" not in err, err[-2000:]
        assert not writer_entries(folder, pid), temp_entries(folder)


def assert_only_out_and_temps(folder: Path, names: set[str]) -> None:
    """``folder`` holds ``names`` and temporary entries, nothing with another name (no
    half-written file that looks complete)."""
    stray = sorted(e for e in os.listdir(folder) if e not in names and not _io.is_temp_name(e))
    assert not stray, f"unexpected entries in {folder}: {stray}"


# ---------------------------------------------------------------------- what "complete" means


def assert_complete(kind: str, out: Path, expect: dict) -> None:
    """``out`` is a complete output of ``kind`` with the ``expect``ed size."""
    if kind in ("generate", "reduce"):
        ss = read_scenarios(out)
        assert ss.n_scenarios == expect["n"], (ss.n_scenarios, expect)
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        assert meta["scengen_output"] == "scenarios"
        if kind == "reduce":
            assert json.loads((out / "reduction.json").read_text(encoding="utf-8"))
            assert (out / "assignment.csv").stat().st_size > 0
    else:
        assert_export_complete(out, expect["n"])


#: rows per scenario of the long tables (2 sites x 24 steps)
_CELLS = 2 * 24
#: rows of the export tables of n scenarios
_EXPORT_ROWS = {
    "scenarios.csv": lambda n: n * _CELLS,
    "availability.csv": lambda n: n * _CELLS,
    "probabilities.csv": lambda n: n,
    "probability.csv": lambda n: n,
}


def assert_export_complete(out: Path, n: int) -> None:
    """``export.json`` lists exactly the files of ``out``, each CSV parses, and the long tables
    hold every row of ``n`` scenarios."""
    written = listed_export_files(out)
    assert sorted(written) == sorted(os.listdir(out)), (written, os.listdir(out))
    assert json.loads((out / "export.json").read_text(encoding="utf-8"))["n_scenarios"] == n
    for f in written:
        if f.endswith(".csv"):
            rows = len(pd.read_csv(out / f))
            if f in _EXPORT_ROWS:
                assert rows == _EXPORT_ROWS[f](n), (f, rows, n)


def check_state(kind: str, out: Path, expect: dict, old: dict | None) -> None:
    """After a kill: ``out`` is complete (new, or the ``old`` digest), or absent; with an ``old``
    output, absent only when it is set aside intact, which the next writer puts back."""
    parent = out.parent
    assert_only_out_and_temps(parent, {out.name, *expect.get("inputs", ())})
    if out.exists():
        if old is not None and tree_digest(out) == old["digest"]:
            return
        assert_complete(kind, out, expect)
        return
    if old is None:
        return
    aside = [
        e for e in temp_entries(parent) if e.startswith(f".{out.name}.") and e.endswith(".old")
    ]
    assert aside, "the earlier output is gone"
    assert tree_digest(parent / aside[0]) == old["digest"]


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    """A tiny run directory, a scenario directory of N_EXPORT scenarios and one of N_REDUCE."""
    d = tmp_path_factory.mktemp("faults")
    csv = write_measurement_csv(d / "m.csv", synthetic_days(30, 2, 24, seed=11), sites=["a", "b"])
    T.train_run(
        DataConfig(path=str(csv)),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(steps=2, **TINY_TRAIN),
        d / "run",
    )
    write_scenarios(generate(d / "run", N_EXPORT, seed=1, device="cpu"), d / "big")
    write_scenarios(generate(d / "run", N_REDUCE, seed=2, device="cpu"), d / "small")
    # 15 days: 12 training days, too few for the calibration at the end (fast to train)
    short = write_measurement_csv(
        d / "short.csv", synthetic_days(15, 2, 24, seed=12), sites=["a", "b"]
    )
    return {
        "dir": d,
        "csv": csv,
        "short_csv": short,
        "run": d / "run",
        "big": d / "big",
        "small": d / "small",
    }


def command(kind: str, env: dict, out: Path, variant: int) -> tuple[list[object], dict]:
    """The command line of ``kind`` writing ``out`` (``variant`` 0 or 1: two different outputs)
    and what its complete output holds."""
    if kind == "generate":
        return (
            ["generate", env["run"], "-n", N_GENERATE - variant, "--seed", variant, "--out", out],
            {"n": N_GENERATE - variant},
        )
    if kind == "reduce":
        return ["reduce", env["small"], "-k", 5 - variant, "--out", out], {"n": 5 - variant}
    start_date = ["--start", "2031-01-01"] if variant else []
    return (
        ["export", env["big"], "--format", "long", *start_date, "--out", out],
        {"n": N_EXPORT},
    )


# ---------------------------------------------------------------------- the commands


@pytest.mark.parametrize("kills", [KILLS, pytest.param(KILLS_SLOW, marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", ["generate", "reduce", "export"])
def test_kill_while_writing_then_rerun(env, tmp_path, kind, kills):
    """generate / reduce / export killed (SIGKILL, SIGINT) while writing a new output, then
    with --overwrite over a complete earlier one: every kill leaves the output complete or the
    earlier state intact; the rerun completes and cleans the dead writers' temporary entries."""
    rng = random.Random(SEED + kills + zlib.crc32(kind.encode()))
    inputs = tree_digest(env["dir"])
    ws = tmp_path / "ws"  # holds the output and the writers' temporary entries only
    ws.mkdir()
    out = ws / "out"
    args, expect = command(kind, env, out, 0)
    for sig in [signal.SIGKILL] * kills + [signal.SIGINT] * kills:
        for point in kill_points(rng, 1, 2.0, WRITE_DELAY[kind]):
            p = start(args, ws)
            rc, _, err = kill_at(p, sig, point, ws)
            assert_interrupt_result(sig, rc, err, ws, p.pid)
            check_state(kind, out, expect, None)
            if out.exists():  # it finished first: start the next one from nothing again
                shutil.rmtree(out)
    # an earlier complete output, replaced with --overwrite by a different one
    rc, err = scengen_here(args)
    assert rc == 0, err
    old = {"digest": tree_digest(out)}
    shutil.copytree(out, tmp_path / "old")
    args1, expect1 = command(kind, env, out, 1)
    args1 = [*args1, "--overwrite"]
    for point in kill_points(rng, kills, 2.0, WRITE_DELAY[kind]):
        p = start(args1, ws)
        rc, _, err = kill_at(p, signal.SIGKILL, point, ws)
        assert_interrupt_result(signal.SIGKILL, rc, err, ws, p.pid)
        check_state(kind, out, expect1, old)
        if not out.exists():  # set aside by the dead writer: the next writer puts it back
            _io.clean_stale(ws)
        if tree_digest(out) != old["digest"]:  # it finished first: put the earlier one back
            shutil.rmtree(out)
            shutil.copytree(tmp_path / "old", out)
    # the rerun completes and removes what the dead writers left
    rc, err = scengen_here(args1)
    assert rc == 0, err
    assert_complete(kind, out, expect1)
    assert tree_digest(out) != old["digest"]
    assert temp_entries(ws) == [] and os.listdir(ws) == ["out"]
    assert tree_digest(env["dir"]) == inputs, "an input changed"


def test_writer_killed_between_the_two_renames_loses_nothing(env, tmp_path):
    """A writer killed after moving the earlier output aside and before putting the new one in
    its place: the next writer moves it back, and without --overwrite keeps it as it was."""
    out = tmp_path / "out"
    args, _ = command("export", env, out, 0)
    rc, err = scengen_here(args)
    assert rc == 0, err
    old = tree_digest(out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    os.replace(out, tmp_path / f".out.{dead.pid}.0123abcd.old")
    (tmp_path / f".out.{dead.pid}.4567cdef.tmp").mkdir()  # its half-built new output
    rc, _, err = scengen(args, tmp_path)  # no --overwrite
    last = err.strip().splitlines()[-1]
    assert rc == 1 and last.startswith("Error: ") and "already exists" in last, err
    assert tree_digest(out) == old
    assert temp_entries(tmp_path) == []
    args1, expect1 = command("export", env, out, 1)
    rc, err = scengen_here([*args1, "--overwrite"])
    assert rc == 0, err
    assert_complete("export", out, expect1)
    assert tree_digest(out) != old


# ---------------------------------------------------------------------- train


def _tiny_config(path: Path, steps: int, checkpoint_every: int = 10_000) -> Path:
    train = {**TINY_TRAIN, "steps": steps, "checkpoint_every": checkpoint_every}
    path.write_text(yaml.safe_dump({"model": TINY_MODEL, "train": train}), encoding="utf-8")
    return path


def _wait_for_steps(p: subprocess.Popen, metrics: Path, n: int) -> None:
    t0 = time.monotonic()
    while p.poll() is None and time.monotonic() - t0 < TIMEOUT:
        if metrics.is_file():
            rows = metrics.read_text(encoding="utf-8").splitlines()[1:]
            if len(rows) >= n:
                return
        time.sleep(0.005)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)]
)
def test_interrupted_training_saves_a_checkpoint_and_resumes(env, tmp_path, sig):
    """SIGINT (Ctrl-C) or SIGTERM after a few steps of ``scengen train``: exit status 130, a
    one-line error, a checkpoint of the step reached, metadata status 'interrupted'; then
    ``scengen train --out RUN --resume`` completes the run."""
    steps = 25
    cfg = _tiny_config(tmp_path / "c.yaml", steps)
    run = tmp_path / "run"
    p = start(["train", env["short_csv"], "--config", cfg, "--out", run], tmp_path)
    _wait_for_steps(p, run / T.METRICS_CSV, 3)
    assert p.poll() is None, "training ended before it could be interrupted"
    p.send_signal(sig)
    rc, _, err = finish(p)
    assert rc == 130, (rc, err[-2000:])
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: training interrupted at step "), err[-2000:]
    assert "Traceback" not in err
    ckpt = T.load_checkpoint(run)
    meta = json.loads((run / "metadata.json").read_text(encoding="utf-8"))
    assert meta["status"] == "interrupted" and meta["step"] == ckpt["step"]
    assert 3 <= ckpt["step"] < steps
    assert temp_entries(run) == [] and temp_entries(tmp_path) == []
    rc, _, err = scengen(["train", "--out", run, "--resume"], tmp_path)
    assert rc == 0, err
    assert T.load_checkpoint(run)["step"] == steps
    meta = json.loads((run / "metadata.json").read_text(encoding="utf-8"))
    assert meta["status"] == "complete" and meta["step"] == steps


def test_training_killed_at_random_keeps_a_usable_run(env, tmp_path):
    """SIGKILL at a random point of ``scengen train``: the checkpoint, if any, loads (never
    half-written); resuming from it (or training again without one) completes."""
    rng = random.Random(SEED + 1)
    steps = 12
    cfg = _tiny_config(tmp_path / "c.yaml", steps, checkpoint_every=2)
    run = tmp_path / "run"
    args = ["train", env["short_csv"], "--config", cfg, "--out", run]
    p = start(args, tmp_path)
    _wait_for_steps(p, run / T.METRICS_CSV, rng.randint(1, steps))
    rc, _, err = kill_at(p, signal.SIGKILL, ("time", rng.uniform(0.0, 0.2)), tmp_path)
    assert rc in (0, -signal.SIGKILL), err[-2000:]
    if (run / T.CHECKPOINT).exists():
        assert T.load_checkpoint(run)["step"] >= 1
        rc, _, err = scengen(["train", "--out", run, "--resume"], tmp_path)
    else:
        rc, _, err = scengen(args, tmp_path)
    assert rc == 0, err
    assert T.load_checkpoint(run)["step"] == steps
    assert temp_entries(run) == [] and temp_entries(tmp_path) == []


# ---------------------------------------------------------------------- scengen run


def _batch(tmp_path: Path, csv: Path) -> Path:
    cfg = tmp_path / "batch.yaml"
    job = {
        "name": "j",
        "data": {"path": str(csv)},
        "model": TINY_MODEL,
        "train": {**TINY_TRAIN, "steps": 3, "checkpoint_every": 1},
        "generate": {"n": 30},
        "reduce": {"k": 3},
        "export": {"formats": ["long", "gams"]},
        "evaluate": {"decision": None, "n_copula": 100},
    }
    cfg.write_text(yaml.safe_dump({"output": "out", "jobs": [job]}), encoding="utf-8")
    return cfg


def check_job(job: Path, *, complete: bool) -> None:
    """Every stage output of a job folder that exists is complete (all of them if
    ``complete``), and stages.json marks only stages whose outputs are there."""
    parts = {
        "scenarios": lambda d: read_scenarios(d).n_scenarios == 30,
        "reduced": lambda d: read_scenarios(d).n_scenarios == 3,
        "export/long": lambda d: assert_export_complete(d, 3) is None,
        "export/gams": lambda d: assert_export_complete(d, 3) is None,
    }
    for rel, ok in parts.items():
        d = job / rel
        if d.exists() or complete:
            assert ok(d), rel
    if (job / T.CHECKPOINT).exists() or complete:
        T.load_checkpoint(job)
    stages = job / "stages.json"
    if stages.exists():
        done = json.loads(stages.read_text(encoding="utf-8"))
        if "generate" in done:
            assert (job / "scenarios" / "metadata.json").is_file()
        if "reduce" in done:
            assert (job / "reduced" / "reduction.json").is_file()
    if complete:
        assert (job / "report.html").is_file()


def all_temp_entries(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [str(Path(dirpath) / e) for e in dirnames + filenames if _io.is_temp_name(e)]
    return found


def _kill_run(tmp_path: Path, cfg: Path, sig: int, point: float) -> None:
    p = start(["run", cfg], tmp_path)
    rc, _, err = kill_at(p, sig, ("time", point), tmp_path)
    if sig == signal.SIGKILL:
        assert rc in (0, -signal.SIGKILL), err[-2000:]
    else:
        assert_interrupt_result(sig, rc, err, tmp_path, p.pid)
        if rc == 130:
            assert all_temp_entries(tmp_path / "out") == []
    if (tmp_path / "out" / "j").exists():
        check_job(tmp_path / "out" / "j", complete=False)


@pytest.mark.parametrize(
    "signals",
    [
        (signal.SIGINT, signal.SIGKILL),
        pytest.param((signal.SIGKILL,) * 3 + (signal.SIGINT,) * 2, marks=pytest.mark.slow),
    ],
)
def test_scengen_run_killed_at_random_then_rerun(env, tmp_path, signals):
    """``scengen run`` of a tiny job killed at seeded random times: the stage outputs that exist
    are complete, and a rerun completes every stage and leaves no temporary entry."""
    rng = random.Random(SEED + len(signals))
    cfg = _batch(tmp_path, env["csv"])
    for sig in signals:
        _kill_run(tmp_path, cfg, sig, rng.uniform(1.0, 6.0))
    rc, _, err = scengen(["run", cfg], tmp_path)
    assert rc == 0, err
    check_job(tmp_path / "out" / "j", complete=True)
    assert all_temp_entries(tmp_path / "out") == []


# ---------------------------------------------------------------------- states a kill leaves


def _train_here(csv: Path, out: Path, steps: int = 2) -> None:
    T.train_run(
        DataConfig(path=str(csv)),
        T.ModelConfig(**TINY_MODEL),
        T.TrainConfig(steps=steps, **TINY_TRAIN),
        out,
    )


def test_train_killed_before_its_metadata_can_be_trained_again(env, tmp_path):
    """``scengen train`` writes ``metadata.json`` before anything else, so the folder a train
    killed early leaves (metadata, perhaps split, held-out days, config) is recognisably a run
    and trained into again by the same command. A folder with the same files but no metadata
    may be the user's own (a ``config.yaml``): it stays refused."""
    _train_here(env["short_csv"], tmp_path / "full")
    run = tmp_path / "run"
    run.mkdir()
    for name in ("split.csv", "profiles.npz", "config.yaml"):
        shutil.copy(tmp_path / "full" / name, run / name)
    cfg = _tiny_config(tmp_path / "c.yaml", 2)
    rc, err = scengen_here(["train", env["short_csv"], "--config", cfg, "--out", run])
    assert rc == 1 and "not a scengen run" in err, err
    meta = json.loads((tmp_path / "full" / "metadata.json").read_text())
    (run / "metadata.json").write_text(json.dumps({**meta, "status": "training", "step": 0}))
    cfg = _tiny_config(tmp_path / "c.yaml", 2)
    rc, err = scengen_here(["train", env["short_csv"], "--config", cfg, "--out", run])
    assert rc == 0, err
    assert T.load_checkpoint(run)["step"] == 2


def test_train_overwrite_killed_before_its_first_checkpoint_is_not_resumed_silently(env, tmp_path):
    """``train --overwrite`` over a run A with other data B, killed before B's first checkpoint:
    the folder then holds A's checkpoint with B's split, held-out days, config and metadata.
    ``--resume`` must refuse it (or make it consistent), never continue A with B's held-out
    days, which ``evaluate --against RUN`` would then score A's scenarios against."""
    run, other = tmp_path / "run", tmp_path / "other"
    _train_here(env["csv"], run)  # A
    _train_here(env["short_csv"], other)  # B: what the killed overwrite had written so far
    for name in ("split.csv", "profiles.npz", "config.yaml", "metadata.json"):
        shutil.copy(other / name, run / name)
    rc, err = scengen_here(["train", "--out", run, "--resume"])
    if rc == 0:
        from scengen.data import load_split

        ckpt = T.load_checkpoint(run)
        train_days, _ = load_split(run)
        assert train_days.source == ckpt["config"]["data"]["path"], (
            "the resumed run evaluates against another data set's held-out days"
        )
    else:
        assert rc == 1, err
