"""Self-contained HTML reports of scengen runs.

:func:`render_report` turns one or more job directories into one HTML page: every figure is a
PNG embedded as a ``data:`` URI, the styles are inline, and there are no scripts, fonts or links
to anything outside the file, so it reads offline, can be mailed as one file and prints cleanly.
:func:`render_index` writes the page that compares the jobs of a batch and links to their reports.

A job directory is a run directory (``scengen train``) with, all optional,

``scenarios/``
    generated scenarios (``scengen generate``) and their ``evaluation.json``;
``reduced/``
    reduced scenarios (``scengen reduce``: ``reduction.json``, ``assignment.csv``) and their
    ``evaluation.json``;
``decision.json``
    the storage decision test (:func:`scengen.decision.decision_test`);
``export/<format>/``
    exported files.

Every page starts with the verdict, one block per job: the quality checks of the generated and
the reduced set (value, threshold, PASS/FAIL), the decision test in one line, and the reduced
scenarios with their probabilities beside the measured held-out days. The sections follow.

A section whose inputs are absent is replaced by a one-line note; a file that cannot be read is
reported in its section instead of failing the whole report. Printed (or saved as PDF), every
collapsed box is expanded.

The figures are built by ``_fig_*`` functions that return a :class:`matplotlib.figure.Figure`;
the ``_section_*`` functions embed them in HTML.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scengen import __version__, _io, stats
from scengen.errors import ScengenError
from scengen.scenarios import ScenarioSet, is_scenario_dir, read_scenarios

__all__ = ["render_report", "write_report", "render_index", "load_job", "Job"]

#: resolution of the embedded figures [dots per inch]
DPI = 100
#: most scenarios used for statistics (a seeded random subset of larger sets)
MAX_STAT_SCENARIOS = 4000
#: most reduced scenarios drawn (those with the largest probabilities)
MAX_DRAWN = 300
#: most sites drawn in the per-site grids
MAX_GRID_SITES = 16

MEASURED = "#d95f02"  # orange: measured (held-out) days
GENERATED = "#1b6ca8"  # blue: generated scenarios
HISTORY = "#7a7a7a"
#: the measured days in the verdict's fan chart (neutral, so no scenario colour is mistaken for it)
MEASURED_FAN = "#4d4d4d"
#: colours of up to 10 scenarios, most probable first: matplotlib's qualitative tab10 without its
#: grey (which would read as the measured days) and with black last
QUALITATIVE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#000000",
)
#: most scenarios named in a figure legend (the rest summed in one entry)
MAX_LEGEND = 10


# ---------------------------------------------------------------------- loading


@dataclass
class Job:
    """Everything a report shows about one job directory (each part ``None`` when absent).

    ``problems`` lists ``(part, message)`` for files that exist but could not be read.
    """

    path: Path
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    metrics: pd.DataFrame | None = None
    train: Any = None
    test: Any = None
    scenarios: ScenarioSet | None = None
    evaluation: dict[str, Any] | None = None
    reduced: ScenarioSet | None = None
    reduced_evaluation: dict[str, Any] | None = None
    reduction: dict[str, Any] | None = None
    assignment: pd.DataFrame | None = None
    decision: Any = None
    stages: dict[str, Any] | None = None
    exports: list[tuple[str, int]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    seed: int = 0

    def problem(self, part: str) -> list[str]:
        return [m for p, m in self.problems if p == part]


def _try(job: Job, part: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as e:  # a broken file is shown in its section, the rest of the report goes on
        msg = " ".join(str(e).split()) or type(e).__name__
        job.problems.append((part, f"{type(e).__name__}: {msg}"))
        return None


def load_job(path: str | os.PathLike) -> Job:
    """Read the parts of a job directory that exist (see the module docstring).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ScengenError
        ``path`` is not a directory, or holds nothing a report can show.
    """
    from scengen.data import PROFILES_NPZ, load_split
    from scengen.decision import DECISION_JSON, read_decision

    d = Path(path)
    if not d.exists():
        raise FileNotFoundError(f"run directory {str(d)!r} does not exist")
    if not d.is_dir():
        raise ScengenError(f"{str(d)!r} is not a run directory (expected a directory)")
    job = Job(path=d, name=d.resolve().name)
    if (d / "metadata.json").is_file():
        job.metadata = _try(job, "metadata", lambda: _json_dict(d / "metadata.json")) or {}
    if (d / "config.yaml").is_file():
        job.config_text = _try(job, "metadata", lambda: (d / "config.yaml").read_text("utf-8"))
    if (d / "stages.json").is_file():
        job.stages = _try(job, "metadata", lambda: _json_dict(d / "stages.json"))
    if (d / "metrics.csv").is_file():
        job.metrics = _try(job, "training", lambda: _read_metrics(d / "metrics.csv"))
    if (d / PROFILES_NPZ).is_file():
        split = _try(job, "data", lambda: load_split(d))
        if split is not None:
            job.train, job.test = split
    if is_scenario_dir(d / "scenarios"):
        job.scenarios = _try(job, "realism", lambda: read_scenarios(d / "scenarios"))
    if (d / "scenarios" / "evaluation.json").is_file():
        job.evaluation = _try(
            job, "evaluation", lambda: _json_dict(d / "scenarios" / "evaluation.json")
        )
    red = d / "reduced"
    if is_scenario_dir(red):
        job.reduced = _try(job, "reduction", lambda: read_scenarios(red))
    if (red / "reduction.json").is_file():
        job.reduction = _try(job, "reduction", lambda: _json_dict(red / "reduction.json"))
    if (red / "assignment.csv").is_file():
        job.assignment = _try(job, "reduction", lambda: pd.read_csv(red / "assignment.csv"))
    if (red / "evaluation.json").is_file():
        job.reduced_evaluation = _try(
            job, "evaluation", lambda: _json_dict(red / "evaluation.json")
        )
    # the pipeline writes decision.json at the job's root; `scengen evaluate --decision` next
    # to the evaluated scenarios
    for dfile in (d / DECISION_JSON, d / "scenarios" / DECISION_JSON):
        if dfile.is_file():
            job.decision = _try(job, "decision", lambda f=dfile: read_decision(f))
            break
    exp = d / "export"
    if exp.is_dir():
        job.exports = sorted(
            (str(f.relative_to(d)), f.stat().st_size)
            for f in exp.rglob("*")
            if f.is_file() and not f.name.startswith(".")
        )
    found = (
        job.metadata
        or job.metrics is not None
        or job.test is not None
        or job.scenarios is not None
        or job.reduced is not None
        or job.decision is not None
        or job.problems
    )
    if not found:
        raise ScengenError(
            f"{str(d)!r} holds nothing to report: expected a run directory (metadata.json, "
            "metrics.csv, profiles.npz) and/or scenarios/, reduced/, decision.json"
        )
    return job


def _json_dict(path: Path) -> dict[str, Any]:
    try:
        obj = _io.read_json(path)
    except ValueError as e:
        raise ScengenError(f"{path.name} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ScengenError(f"{path.name} must hold a JSON object, got {type(obj).__name__}")
    return obj


def _read_metrics(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    if "step" not in df.columns:
        raise ScengenError(f"{path.name} has no 'step' column (columns: {list(df.columns)})")
    return df.apply(pd.to_numeric, errors="coerce")


# ---------------------------------------------------------------------- HTML helpers


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    """Compact number formatting for tables."""
    if v is None:
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return "–"
        if v == 0:
            return "0"
        if abs(v) >= 1e5 or abs(v) < 1e-3:
            return f"{v:.3e}"
        if abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        if len(v) > 12:
            return ", ".join(_fmt(x) for x in v[:12]) + f", … ({len(v)} in all)"
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


def _table(
    df: pd.DataFrame,
    *,
    index: bool = False,
    cls: str = "",
    formats: dict[str, Callable[[Any], str]] | None = None,
    raw_html: Sequence[str] = (),
) -> str:
    formats = formats or {}
    cols = list(df.columns)
    head = ([_e(df.index.name or "")] if index else []) + [_e(c) for c in cols]
    out = [f'<table class="{cls}"><thead><tr>']
    out += [f"<th>{h}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for idx, row in df.iterrows():
        cells = [f'<th class="rowhead">{_e(idx)}</th>'] if index else []
        for c in cols:
            v = row[c]
            if c in raw_html:
                text = str(v)
            else:
                text = _e(formats[c](v) if c in formats else _fmt(v))
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _kv(items: Sequence[tuple[str, Any]]) -> str:
    rows = "".join(
        f'<tr><th class="rowhead">{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>' for k, v in items
    )
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and len(v) <= 40:
            out += _flatten(v, key + ".")
        else:
            out.append((key, v))
    return out


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _problems(job: Job, part: str) -> str:
    return "".join(f'<p class="warn">Could not read: {_e(m)}</p>' for m in job.problem(part))


def _img(fig: Figure, alt: str, caption: str = "") -> str:
    """Embed a figure as a base64 PNG (metadata stripped, nothing refers outside the file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{b64}" alt="{_e(alt)}">{cap}</figure>'


def _figure(w: float, h: float) -> Figure:
    fig = Figure(figsize=(w, h), layout="constrained")
    return fig


def _grid(n: int, w: float = 3.3, h: float = 2.5, max_cols: int = 4):
    ncols = max(1, min(n, max_cols))
    nrows = math.ceil(n / ncols)
    fig = _figure(w * ncols, h * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _hours(ss_like: Any) -> np.ndarray:
    return (ss_like.start_minute + ss_like.step_minutes * np.arange(ss_like.n_steps)) / 60.0


def _sample(values: np.ndarray, p: np.ndarray | None, n: int, seed: int = 0):
    """At most ``n`` rows of ``values`` (weighted resampling when probabilities are unequal)."""
    m = values.shape[0]
    if p is None or np.allclose(p, p[0]):
        if m <= n:
            return values
        idx = np.random.default_rng(seed).choice(m, n, replace=False)
        return values[np.sort(idx)]
    idx = np.random.default_rng(seed).choice(m, n, replace=True, p=p)
    return values[idx]


# ---------------------------------------------------------------------- statistics


def _acf(v: np.ndarray, max_lag: int) -> np.ndarray:
    """Within-day autocorrelation per site of (n, s, t) days for lags 0..max_lag [steps].

    :func:`scengen.stats.within_day_acf` with equal weights -- the statistic the quality bar's
    ``autocorr_error`` scores -- with 1 prepended for lag 0; shape ``(s, max_lag + 1)``.
    """
    acf = stats.within_day_acf(v, None, range(1, max_lag + 1))
    return np.concatenate([np.ones((acf.shape[0], 1)), acf], axis=1)


def _psd(v: np.ndarray) -> np.ndarray:
    """Mean periodogram of (n, t) day profiles (mean removed) for 1..t//2 cycles per day."""
    x = v - v.mean(axis=1, keepdims=True)
    f = np.abs(np.fft.rfft(x, axis=1)) ** 2 / v.shape[1]
    return f.mean(axis=0)[1:]


def _corr(v: np.ndarray) -> np.ndarray:
    """Cross-site correlation of (n, s, t) values over all days and steps."""
    flat = v.transpose(1, 0, 2).reshape(v.shape[1], -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(flat)


# ---------------------------------------------------------------------- figures


def _scenario_colours(p: np.ndarray) -> list[str]:
    """One colour per scenario by probability rank (most probable first).

    Up to :data:`QUALITATIVE`'s 10 colours a qualitative palette (each scenario its own hue);
    more scenarios get viridis from dark (most probable) to light.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    p = np.asarray(p, float)
    rank = np.empty(len(p), dtype=int)
    rank[np.argsort(-p, kind="stable")] = np.arange(len(p))
    if len(p) <= len(QUALITATIVE):
        return [QUALITATIVE[r] for r in rank]
    cmap = colormaps["viridis"]
    return [to_hex(cmap(0.9 * r / (len(p) - 1))) for r in rank]


def _fleet(values: np.ndarray, capacities: np.ndarray) -> np.ndarray:
    """Capacity-weighted mean over sites of (n, sites, steps) values: (n, steps) [p.u. of total]."""
    w = np.asarray(capacities, float)
    return np.einsum("nst,s->nt", values, w / w.sum())


def _probability_legend(
    fig: Figure, red: ScenarioSet, colours: Sequence[str], extra: Sequence[tuple[Any, str]] = ()
) -> None:
    """A legend outside the right edge: the scenarios by decreasing probability with their
    probabilities (at most :data:`MAX_LEGEND`, the rest summed), then ``extra`` entries."""
    from matplotlib.lines import Line2D

    p = red.probabilities
    order = np.argsort(-p, kind="stable")
    top = order[:MAX_LEGEND]
    pmax = float(p.max())
    handles: list[Any] = [Line2D([], [], color=colours[i], lw=_prob_width(p[i], pmax)) for i in top]
    labels = [f"#{red.ids[i]}   p = {p[i]:.3f}" for i in top]
    if red.n_scenarios > len(top):
        rest = order[len(top) :]
        handles.append(Line2D([], [], color=colours[rest[0]], lw=1.0))
        labels.append(f"{len(rest)} others: Σp = {float(p[rest].sum()):.3f}")
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    fig.legend(
        handles,
        labels,
        loc="outside right center",
        fontsize=9,
        title="scenario, probability",
        title_fontsize=9,
        handlelength=2.4,
    )


def _prob_width(p: float, pmax: float) -> float:
    """Line width of a scenario of probability ``p`` (the most probable: 3.6 pt)."""
    return 0.9 + 2.7 * (p / pmax if pmax > 0 else 1.0)


def _fig_fan(red: ScenarioSet, heldout: Any = None) -> Figure:
    """The reduced set beside the measured held-out days, capacity-weighted over the sites.

    Parameters
    ----------
    red : ScenarioSet
        The reduced scenarios and their probabilities.
    heldout : Profiles or ScenarioSet, optional
        Held-out measured days with the same steps; without them only the reduced set is drawn.

    Returns
    -------
    matplotlib.figure.Figure
        Left: every held-out day (thin), their 5–95 % band and median. Right: the scenarios
        (colour by probability rank, see :func:`_scenario_colours`; width grows with the
        probability) over the held-out band; legend sorted by probability.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    hours = _hours(red)
    p = red.probabilities
    pmax = float(p.max())
    colours = _scenario_colours(p)
    y_red = _fleet(red.values, red.capacities)
    meas = None if heldout is None else _fleet(heldout.values, heldout.capacities)
    if meas is not None:
        fig = _figure(11.3, 3.25)
        ax_m, ax_r = fig.subplots(1, 2, sharey=True, width_ratios=(1, 1.2))
    else:
        fig = _figure(7.4, 3.25)
        ax_m, ax_r = None, fig.subplots()
    extra: list[tuple[Any, str]] = []
    top = float(np.nanmax(y_red))
    if meas is not None:
        q = np.quantile(meas, (0.05, 0.5, 0.95), axis=0)
        top = max(top, float(np.nanmax(meas)))
        for row in meas[:MAX_DRAWN]:
            ax_m.plot(hours, row, color=MEASURED_FAN, lw=0.5, alpha=0.22)
        for ax in (ax_m, ax_r):
            ax.fill_between(hours, q[0], q[2], color="#c8c8c8", alpha=0.6, lw=0)
            ax.plot(hours, q[1], color=MEASURED_FAN, lw=1.8 if ax is ax_m else 1.2, ls="--")
        ax_m.set_title(f"measured: {meas.shape[0]} held-out days", fontsize=10)
        ax_m.legend(
            [
                Line2D([], [], color=MEASURED_FAN, lw=0.6, alpha=0.5),
                Patch(color="#c8c8c8"),
                Line2D([], [], color=MEASURED_FAN, lw=1.8, ls="--"),
            ],
            ["one day", "5–95 %", "median"],
            fontsize=8,
            loc="upper left",
        )
        extra = [
            (Patch(color="#c8c8c8"), "held-out 5–95 %"),
            (Line2D([], [], color=MEASURED_FAN, lw=1.2, ls="--"), "held-out median"),
        ]
    order = np.argsort(p, kind="stable")[-MAX_DRAWN:]  # least probable first, drawn below
    for i in order:
        ax_r.plot(hours, y_red[i], color=colours[i], lw=_prob_width(p[i], pmax), alpha=0.95)
    ax_r.set_title(
        f"reduced set: K = {red.n_scenarios} scenario{'s' if red.n_scenarios != 1 else ''}",
        fontsize=10,
    )
    unit = "output [p.u.]" if red.n_sites == 1 else "output, all sites\n[p.u. of total capacity]"
    for ax in (ax_m, ax_r):
        if ax is None:
            continue
        ax.set_xlabel("hour of day")
        ax.set_xlim(hours[0], hours[-1])
        ax.set_ylim(0, max(0.05, top) * 1.05)
        ax.grid(alpha=0.3)
    (ax_m if ax_m is not None else ax_r).set_ylabel(unit)
    _probability_legend(fig, red, colours, extra)
    return fig


def _fig_training(m: pd.DataFrame, panels: Sequence[tuple[str, str, str]]) -> Figure:
    """Training curves, one panel per ``(column, title, formula)`` of ``metrics.csv``.

    Short runs (fewer than 60 logged rows) are drawn as solid lines with a marker per row; longer
    ones as the logged values (faint) and their moving mean.
    """
    fig, axes = _grid(len(panels), 4.6, 2.7, 2)
    step = m["step"].to_numpy()
    for ax, (col, title, formula) in zip(axes, panels, strict=True):
        y = m[col].to_numpy(float)
        w = max(1, len(y) // 30)
        if w > 1:
            ax.plot(step, y, color=GENERATED, alpha=0.35, lw=0.8, label="logged")
            sm = pd.Series(y).rolling(w, center=True, min_periods=1).mean()
            ax.plot(step, sm, color=GENERATED, lw=1.8, label=f"moving mean ({w} rows)")
            ax.legend(fontsize=7)
        else:
            ax.plot(step, y, color=GENERATED, lw=1.6, marker="o", ms=4.5, label="logged")
        ax.set_title(f"{title}: {formula}", fontsize=9)
        ax.set_xlabel("generator step")
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
    return fig


# ---------------------------------------------------------------------- verdict

#: plain words for the quality checks of :meth:`scengen.evaluate.EvaluationResult.quality_checks`
#: (first match of a part of the check's name)
CHECK_MEANING = (
    ("wasserstein <= 1.00 x history", "as close to the held-out days as resampled history"),
    ("autocorr_error", "hour-to-hour persistence (autocorrelation)"),
    ("ramp_wasserstein", "ramp rates"),
    ("copula", "closer than a Gaussian-copula baseline"),
    ("nn_distance", "not copies of training days"),
)


def _quality_checks(ev: dict[str, Any] | None) -> pd.DataFrame | None:
    """The quality checks of an ``evaluation.json`` (columns ``check, value, limit, ok``).

    Files without a ``quality_checks`` list get them recomputed from their table; ``None`` when
    that is not possible either. An empty frame: the evaluation had no reference rows.
    """
    if not ev:
        return None
    cols = ["check", "value", "limit", "ok"]
    qc = ev.get("quality_checks")
    if isinstance(qc, list):
        rows = [r for r in qc if isinstance(r, dict) and "check" in r]
        df = pd.DataFrame(rows, columns=cols)
        df["value"] = pd.to_numeric(df["value"], errors="coerce")
        df["limit"] = pd.to_numeric(df["limit"], errors="coerce")
        df["ok"] = [isinstance(v, (bool, np.bool_)) and bool(v) for v in df["ok"]]
        return df
    table = ev.get("table")
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        return None
    from scengen.evaluate import EvaluationResult

    try:
        t = pd.DataFrame(table).T.apply(pd.to_numeric, errors="coerce")
        nn = ev.get("heldout_nn_distance")
        res = EvaluationResult(
            table=t, heldout_nn_distance=float(nn) if nn is not None else float("nan")
        )
        return res.quality_checks()
    except (KeyError, AttributeError, TypeError, ValueError):
        return None


def _check_words(name: str) -> tuple[str, str, str]:
    """``(check with ≤ ≥ ×, comparison sign, plain words)`` of a quality check's name."""
    pretty = name.replace("<=", "≤").replace(">=", "≥").replace(" x ", " × ")
    sign = "≤" if "<=" in name else "≥" if ">=" in name else ""
    meaning = next((m for key, m in CHECK_MEANING if key in name), "")
    return pretty, sign, meaning


def _checks_table(sets: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """One row per quality check: what it tests, its threshold and, per set, PASS/FAIL and the
    value (the threshold in each cell when the sets' thresholds differ)."""
    names: list[str] = []
    for _, df in sets:
        names += [c for c in df["check"] if c not in names]
    by_set = [{r.check: r for r in df.itertuples()} for _, df in sets]
    head = ["check", "what it tests", "threshold"]
    for (label, df), _ in zip(sets, by_set, strict=True):
        n_ok = int(df["ok"].sum())
        head.append(f"{label}<br><small>{n_ok} of {len(df)} pass</small>")
    out = ['<table class="checks"><thead><tr>']
    out += [f"<th>{h if '<br>' in h else _e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for name in names:
        pretty, sign, meaning = _check_words(name)
        limits = [float(b[name].limit) for b in by_set if name in b]
        same = all(np.isclose(x, limits[0], rtol=1e-9, equal_nan=True) for x in limits)
        thr = f"{sign} {_fmt(limits[0])}" if limits and same else "per set"
        cells = [
            f'<th class="rowhead">{_e(pretty)}</th>',
            f'<td class="gloss">{_e(meaning)}</td>',
            f'<td class="num">{_e(thr)}</td>',
        ]
        for b in by_set:
            r = b.get(name)
            if r is None:
                cells.append("<td>–</td>")
                continue
            word, cls = ("PASS", "pass") if r.ok else ("FAIL", "fail")
            own = "" if same else f" ({sign} {_fmt(float(r.limit))})"
            cells.append(
                f'<td class="{cls}"><b>{word}</b> {_e(_fmt(float(r.value)))}{_e(own)}</td>'
            )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _checks_html(job: Job) -> str:
    """The quality checks of the generated and the reduced set side by side (or one line why
    there are none)."""
    sets: list[tuple[str, pd.DataFrame]] = []
    unread = []
    n_heldout = None
    for what, ev, ss in (
        ("generated", job.evaluation, job.scenarios),
        ("reduced", job.reduced_evaluation, job.reduced),
    ):
        qc = _quality_checks(ev)
        if qc is None and ev is not None:
            unread.append(what)
        if qc is None or qc.empty:
            continue
        n = ev.get("n_scenarios", ss.n_scenarios if ss is not None else None)
        size = f" ({'N' if what == 'generated' else 'K'} = {_fmt(n)})" if n is not None else ""
        sets.append((f"{what} set{size}", qc))
        n_heldout = n_heldout or ev.get("n_heldout")
    if not sets:
        if job.evaluation is None and job.reduced_evaluation is None:
            why = (
                "could not be read (see Evaluation table)"
                if job.problem("evaluation")
                else "not evaluated (no evaluation.json; run scengen evaluate)"
            )
        elif unread:
            why = "evaluation.json records none and they cannot be recomputed from its table"
        else:
            why = "none (evaluated without training days, so without the reference rows)"
        return f'<p class="line"><b>Quality checks:</b> {_e(why)}.</p>'
    against = f"the {_fmt(n_heldout)} held-out days" if n_heldout else "the held-out days"
    return (
        f'<p class="line"><b>Quality checks</b> against {_e(against)} (the project\'s quality '
        "bar; references: the training days resampled and a Gaussian copula):</p>"
        + _checks_table(sets)
    )


def _decision_summary(job: Job) -> str:
    """The decision test in one line of plain text."""
    res = job.decision
    if res is None:
        return (
            "not run (no decision.json; run scengen evaluate <run>/scenarios --against <run> "
            "--decision storage)."
        )
    t = res.table
    if not {"kind", "n_scenarios", "gap_to_full_pct", "out_of_sample_cost"} <= set(t.columns):
        return "decision.json lacks the columns kind, n_scenarios, gap_to_full_pct."
    full = t[t["kind"] == "full"]
    red = t[(t["kind"] == "reduced") & np.isfinite(t["gap_to_full_pct"].astype(float))]
    n_full = f" (N = {int(full['n_scenarios'].iloc[0])})" if len(full) else ""
    days = f" on the {res.n_heldout} held-out days" if res.n_heldout else " on the held-out days"
    if red.empty:
        text = f"only the full set{n_full} was tested (no reduced set)."
    else:
        ks = red["n_scenarios"].astype(int).tolist()
        k_main = job.reduced.n_scenarios if job.reduced is not None else None
        k_main = k_main if k_main in ks else max(ks)
        main = red[red["n_scenarios"].astype(int) == k_main].iloc[0]
        text = (
            f"storage sized with K = {k_main} scenarios costs {main['gap_to_full_pct']:+.1f} % "
            f"out of sample vs the full set{n_full}{days}"
        )
        others = [
            f"K = {int(r['n_scenarios'])}: {r['gap_to_full_pct']:+.1f} %"
            for _, r in red.iterrows()
            if int(r["n_scenarios"]) != k_main
        ]
        text += f" (other sets: {', '.join(others)})." if others else "."
    oracle = t[t["kind"] == "oracle"]
    if len(full) and len(oracle):
        f_cost = float(full["out_of_sample_cost"].iloc[0])
        o_cost = float(oracle["out_of_sample_cost"].iloc[0])
        if math.isfinite(f_cost) and math.isfinite(o_cost) and o_cost != 0:
            text += (
                f" The full set's own decision costs {100 * (f_cost - o_cost) / abs(o_cost):+.1f} "
                "% over the best possible one for those days (oracle)."
            )
    return text


def _fan_html(job: Job) -> str:
    """The reduced set's fan chart beside the held-out days (or one line why there is none)."""
    red, te = job.reduced, job.test
    if red is None:
        why = (
            "could not be read (see Reduction)"
            if job.problem("reduction")
            else "none (no reduced/; run scengen reduce <run>/scenarios -k 10 --out <run>/reduced)"
        )
        return f'<p class="line"><b>Reduced set:</b> {_e(why)}.</p>'
    note = ""
    if te is not None and (list(te.sites) != list(red.sites) or te.n_steps != red.n_steps):
        note, te = _note("The held-out days have other sites or steps; not drawn."), None
    elif te is None:
        note = _note("No held-out measured days (profiles.npz is absent); not drawn.")
    fig = _fig_fan(red, te)
    over = "" if red.n_sites == 1 else f", output of all {red.n_sites} sites as a share of capacity"
    beside = f" beside the {te.n_days} held-out measured days (left)" if te is not None else ""
    caption = (
        f"The reduced set: K = {red.n_scenarios} scenarios (right){beside}{over}. Colour by "
        "probability rank, line width grows with the probability; the legend lists the scenarios "
        "by decreasing probability (the table in Reduction lists them all)."
    )
    alt = f"the {red.n_scenarios} reduced scenarios with their probabilities" + (
        " beside the held-out days" if te is not None else ""
    )
    return _img(fig, alt, caption) + note


def _verdict_html(job: Job, n: int, heading: str = "") -> str:
    """The verdict block of one job: quality checks, decision test, reduced set."""
    parts = [heading]
    for fn in (
        _checks_html,
        lambda j: (
            f'<p class="line decision"><b>Decision test (battery sizing):</b> '
            f"{_e(_decision_summary(j))}</p>"
        ),
        _fan_html,
    ):
        try:
            parts.append(fn(job))
        except Exception as e:  # one broken part must not cost the report
            parts.append(f'<p class="warn">This part failed: {_e(type(e).__name__)}: {_e(e)}</p>')
    return f'<div class="verdict" id="job{n}-verdict">{"".join(parts)}</div>'


def _verdicts(jobs: Sequence[Job], links: dict[str, str] | None = None) -> str:
    """The top of a report or index page: one verdict block per job (with its name when there
    are several or ``links`` are given; the name links to the job's report when it has one)."""
    named = len(jobs) > 1 or links is not None
    links = links or {}
    blocks = []
    for i, job in enumerate(jobs, 1):
        head = ""
        if named:
            name = (
                f'<a href="{_e(links[job.name])}">{_e(job.name)}</a>'
                if job.name in links
                else _e(job.name)
            )
            head = f"<h3>{name}</h3>"
        blocks.append(_verdict_html(job, i, head))
    return f'<section class="verdicts" id="verdict"><h2>Verdict</h2>{"".join(blocks)}</section>'


# ---------------------------------------------------------------------- sections


def _section_data(job: Job) -> str:
    parts = [_problems(job, "data")]
    data = job.metadata.get("data") if isinstance(job.metadata.get("data"), dict) else {}
    items: list[tuple[str, Any]] = []
    tr, te = job.train, job.test
    ref = tr if tr is not None else te
    if data:
        want = (
            ("source", "source"),
            ("sites", "sites"),
            ("capacities", "capacities"),
            ("units", "units"),
            ("step_minutes", "resolution [min]"),
            ("first_date", "first day"),
            ("last_date", "last day"),
            ("n_days", "complete days"),
            ("n_dropped_days", "dropped days (a step missing)"),
            ("n_clipped", "values clipped into [0, 1]"),
            ("n_train", "training days"),
            ("n_test", "held-out days"),
            ("fingerprint", "data fingerprint (SHA-256)"),
        )
        seen = set()
        for k, label in want:
            if k in data:
                items.append((label, data[k]))
                seen.add(k)
        items += [(k, v) for k, v in _flatten({k: v for k, v in data.items() if k not in seen})]
    elif ref is not None:
        dates = np.concatenate([x.dates for x in (tr, te) if x is not None])
        items = [
            ("source", ref.source),
            ("sites", ref.sites),
            ("capacities", [float(c) for c in ref.capacities]),
            ("units", ref.units),
            ("resolution [min]", ref.step_minutes),
            ("first day", str(dates.min())),
            ("last day", str(dates.max())),
            ("training days", 0 if tr is None else tr.n_days),
            ("held-out days", 0 if te is None else te.n_days),
        ]
    if not items:
        return parts[0] + _note("No data summary: metadata.json and profiles.npz are absent.")
    parts.append(_kv(items))
    if tr is not None and te is not None:
        fig = _figure(9.5, 2.6)
        ax = fig.subplots()
        for p, lab, col, mk in (
            (tr, "training day", HISTORY, "."),
            (te, "held-out day", MEASURED, "o"),
        ):
            cap = p.capacities / p.capacities.sum()
            mean = np.einsum("nst,s->n", p.values, cap) / p.n_steps
            ax.plot(
                p.dates.astype("datetime64[D]").astype(datetime),
                mean,
                mk,
                ms=3 if mk == "." else 3.5,
                color=col,
                label=f"{lab} ({p.n_days})",
                ls="none",
            )
        ax.set_ylabel("daily mean output\n[p.u. of total capacity]")
        ax.set_xlabel("date")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=8, ncols=2)
        ax.grid(alpha=0.3)
        parts.append(
            _img(
                fig,
                "daily mean output of each complete day, training and held-out",
                "Daily mean output (capacity-weighted over sites) of every complete day; "
                "the held-out days are used only for evaluation.",
            )
        )
    return "".join(parts)


def _section_training(job: Job) -> str:
    parts = [_problems(job, "training")]
    m = job.metrics
    if m is None or m.empty:
        return parts[0] + _note("No training curves: metrics.csv is absent or empty.")
    panels = [
        ("critic_loss", "critic loss", "E[D(fake)] − E[D(real)] + λ·GP"),
        ("wasserstein", "Wasserstein estimate", "E[D(real)] − E[D(fake)]"),
        ("gradient_penalty", "gradient penalty", "λ·E[(‖∇D‖ − 1)²]"),
        ("generator_loss", "generator loss", "−E[D(fake)]"),
    ]
    panels = [p for p in panels if p[0] in m.columns]
    if not panels:
        return parts[0] + _note(f"metrics.csv has no loss columns (columns: {list(m.columns)}).")
    short = len(m) < 60
    parts.append(
        _img(
            _fig_training(m, panels),
            "training curves",
            "WGAN-GP training curves"
            + (" (a marker per metrics.csv row)." if short else " (per metrics.csv row)."),
        )
    )
    last = m.iloc[-1]
    items = [("steps logged", int(last["step"]))]
    if "time_s" in m.columns and np.isfinite(last["time_s"]):
        items.append(("training time [s]", float(last["time_s"])))
    for col, title, _ in panels:
        items.append((f"last {title}", float(last[col])))
    parts.append(_kv(items))
    return "".join(parts)


def _site_subset(n: int) -> list[int]:
    return list(range(min(n, MAX_GRID_SITES)))


def _section_realism(job: Job) -> str:
    parts = [_problems(job, "realism")]
    ss, te = job.scenarios, job.test
    if ss is None:
        return parts[0] + _note("No generated scenarios (scenarios/ is absent).")
    if te is None:
        return parts[0] + _note(
            "No held-out measured days (profiles.npz is absent): nothing to compare the "
            "generated scenarios with."
        )
    if list(te.sites) != list(ss.sites) or te.n_steps != ss.n_steps:
        return parts[0] + _note(
            f"The generated scenarios ({ss.sites}, {ss.n_steps} steps) do not match the held-out "
            f"days ({te.sites}, {te.n_steps} steps); no comparison."
        )
    gen = _sample(ss.values, ss.probabilities, MAX_STAT_SCENARIOS, job.seed)
    meas = te.values
    hist = job.train.values if job.train is not None else None
    hours = _hours(ss)
    sites = _site_subset(ss.n_sites)
    more = (
        _note(f"Showing the first {len(sites)} of {ss.n_sites} sites.")
        if len(sites) < ss.n_sites
        else ""
    )
    parts.append(
        f"<p>Generated: {ss.n_scenarios:,} scenarios"
        + (f" (statistics on a random {gen.shape[0]:,})" if gen.shape[0] < ss.n_scenarios else "")
        + f"; measured: {te.n_days} held-out days. Values in p.u. of each site's capacity.</p>"
    )

    # quantile fans
    fig, axes = _grid(len(sites), 3.4, 2.5)
    qs = (0.05, 0.25, 0.5, 0.75, 0.95)
    for ax, j in zip(axes, sites, strict=True):
        qg = np.quantile(gen[:, j], qs, axis=0)
        qm = np.quantile(meas[:, j], qs, axis=0)
        ax.fill_between(
            hours, qg[0], qg[4], color=GENERATED, alpha=0.18, lw=0, label="generated 5–95 %"
        )
        ax.fill_between(
            hours, qg[1], qg[3], color=GENERATED, alpha=0.35, lw=0, label="generated 25–75 %"
        )
        ax.plot(hours, qg[2], color=GENERATED, lw=1.6, label="generated median")
        ax.plot(hours, qm[2], color=MEASURED, lw=1.6, label="measured median")
        for q in (qm[0], qm[4]):
            ax.plot(hours, q, color=MEASURED, lw=1.0, ls="--")
        for q in (qm[1], qm[3]):
            ax.plot(hours, q, color=MEASURED, lw=1.0, ls=":")
        ax.set_title(ss.sites[j], fontsize=9)
        ax.set_xlabel("hour of day")
        ax.set_ylabel("output [p.u.]")
        ax.set_xlim(hours[0], hours[-1])
        ax.set_ylim(0, max(1.0, float(qg[4].max()), float(qm[4].max())) * 1.02)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    handles += [Line2D([], [], color=MEASURED, ls=":"), Line2D([], [], color=MEASURED, ls="--")]
    labels += ["measured 25 / 75 %", "measured 5 / 95 %"]
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    parts.append(
        _img(
            fig,
            "quantile fans per site and hour, measured vs generated",
            "Quantiles per site and hour: generated (blue bands and median) vs held-out measured "
            "days (orange lines).",
        )
        + more
    )

    # marginal distributions (without the steps where the measured output is always ~0: night)
    fig, axes = _grid(len(sites), 3.4, 2.3)
    bins = np.linspace(0, 1, 26)
    dark = np.all(meas <= 1e-3, axis=0)  # (sites, steps)
    n_dark = 0
    for ax, j in zip(axes, sites, strict=True):
        keep = ~dark[j] if (~dark[j]).any() else np.ones(ss.n_steps, bool)
        n_dark = max(n_dark, int((~keep).sum()))
        ax.hist(
            np.clip(gen[:, j][:, keep].ravel(), 0, 1),
            bins=bins,
            density=True,
            color=GENERATED,
            alpha=0.45,
            label="generated",
        )
        ax.hist(
            np.clip(meas[:, j][:, keep].ravel(), 0, 1),
            bins=bins,
            density=True,
            histtype="step",
            lw=1.6,
            color=MEASURED,
            label="measured",
        )
        ax.set_title(ss.sites[j], fontsize=9)
        ax.set_xlabel("output [p.u.]")
        ax.set_ylabel("density [1/p.u.]")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    parts.append(
        _img(
            fig,
            "marginal distributions per site",
            "Marginal distribution of the values per site (all steps of the day pooled"
            + (
                f"; up to {n_dark} steps where the measured output is always zero (night) left out)."
                if n_dark
                else ")."
            ),
        )
    )

    # autocorrelation, spectrum, ramps
    fig = _figure(11.5, 3.1)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    dt_h = ss.step_minutes / 60.0
    max_lag = min(ss.n_steps - 1, max(1, int(round(12 / dt_h))))
    lags = np.arange(max_lag + 1) * dt_h
    r_max = max(0.05, float(np.quantile(np.abs(stats.ramps(meas, ss.step_minutes)), 0.999)))
    rb = np.linspace(-r_max, r_max, 81)
    for v, col, lab in ((gen, GENERATED, "generated"), (meas, MEASURED, "measured")) + (
        ((hist, HISTORY, "training days"),) if hist is not None else ()
    ):
        acfs = _acf(v, max_lag)
        ax1.plot(lags, np.nanmean(acfs, axis=0), color=col, lw=1.8, label=lab)
        for a in acfs[:8]:
            ax1.plot(lags, a, color=col, lw=0.5, alpha=0.35)
        psd = np.mean([_psd(v[:, j]) for j in range(ss.n_sites)], axis=0)
        ax2.semilogy(np.arange(1, len(psd) + 1), psd, color=col, lw=1.8, marker=".", label=lab)
        ramps = stats.ramps(v, ss.step_minutes).ravel()
        ax3.hist(
            ramps, bins=rb, density=True, histtype="step", lw=1.6, color=col, label=lab, log=True
        )
    ax1.set(xlabel="lag [h]", ylabel="autocorrelation [–]", title="within-day autocorrelation")
    ax2.set(
        xlabel="frequency [cycles per day]", ylabel="power [p.u.²]", title="power spectral density"
    )
    ax3.set(xlabel="ramp [p.u./h]", ylabel="density [h/p.u.] (log)", title="ramp-rate distribution")
    for ax in (ax1, ax2, ax3):
        ax.grid(alpha=0.3)
        ax.title.set_fontsize(10)
    ax1.legend(fontsize=7)
    parts.append(
        _img(
            fig,
            "autocorrelation, power spectral density and ramp rates",
            "Left: within-day autocorrelation, each day centred on its own mean (the statistic "
            "autocorr_error scores; thick: mean over sites, thin: sites). Middle: mean "
            "periodogram of the day profiles. Right: step-to-step changes, all sites pooled.",
        )
    )

    # cross-site correlation
    if ss.n_sites > 1:
        cm, cg = _corr(meas), _corr(gen)
        big = ss.n_sites > 10
        fig = _figure(13.0 if big else 11.0, 4.6 if big else 3.4)
        axes = fig.subplots(1, 3)
        show_ticks = ss.n_sites <= 20
        for ax, mat, title, cmap, lim in (
            (axes[0], cm, "measured (held-out)", "RdBu_r", 1.0),
            (axes[1], cg, "generated", "RdBu_r", 1.0),
            (
                axes[2],
                cg - cm,
                "generated − measured",
                "PuOr_r",
                max(0.05, float(np.nanmax(np.abs(cg - cm)))),
            ),
        ):
            im = ax.imshow(mat, cmap=cmap, vmin=-lim, vmax=lim)
            ax.set_title(title, fontsize=10)
            if show_ticks:
                ax.set_xticks(range(ss.n_sites), ss.sites, rotation=90, fontsize=7)
                ax.set_yticks(range(ss.n_sites), ss.sites, fontsize=7)
            fig.colorbar(
                im,
                ax=ax,
                shrink=0.85,
                label="correlation [–]" if ax is not axes[2] else "difference [–]",
            )
        parts.append(
            _img(
                fig,
                "cross-site correlation heat maps",
                "Correlation between sites over all days and hours.",
            )
        )
    else:
        parts.append(_note("One site: no cross-site correlation."))
    return "".join(parts)


def _eval_tables(ev: dict[str, Any], what: str) -> str:
    parts = []
    table = ev.get("table")
    if isinstance(table, dict) and table:
        df = (
            pd.DataFrame(table).T
            if all(isinstance(v, dict) for v in table.values())
            else pd.DataFrame([table])
        )
        df.index.name = "set"
        parts.append(f"<h4>{_e(what)}: scores against the held-out days (lower is better)</h4>")
        parts.append(_table(df, index=True, cls="num"))
    ratios = ev.get("ratios")
    if isinstance(ratios, dict) and ratios:
        df = (
            pd.DataFrame(ratios).T
            if all(isinstance(v, dict) for v in ratios.values())
            else pd.DataFrame([ratios])
        )
        df.index.name = "set"
        parts.append(
            "<h4>Ratio to the history reference (below 1: better than resampling the training "
            "days; nn_distance: ratio to the held-out days' own nearest-training-day distance)</h4>"
        )
        parts.append(_table(df, index=True, cls="num", formats={c: _ratio for c in df.columns}))
    nn = ev.get("heldout_nn_distance")
    if isinstance(nn, (int, float)) and math.isfinite(nn):
        parts.append(
            f"<p>Held-out days' median distance to their nearest training day: {_e(_fmt(nn))} "
            "p.u. (the scale for nn_distance: generated scenarios much closer than this to a "
            "training day are copies).</p>"
        )
    qc = _quality_checks(ev)
    if qc is not None and not qc.empty:
        parts.append(f"<h4>{_e(what)}: quality checks</h4>" + _checks_table([(what.lower(), qc)]))
    skip = ("table", "ratios", "heldout_nn_distance", "quality_checks")
    rest = [(k, v) for k, v in ev.items() if k not in skip]
    if rest:
        parts.append(
            "<details><summary>Evaluation settings</summary>"
            + _kv(_flatten(dict(rest)))
            + "</details>"
        )
    return "".join(parts)


def _ratio(v: Any) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return _fmt(v)
    return f"{v:.3f}" if math.isfinite(v) else "–"


def _section_evaluation(job: Job) -> str:
    parts = [_problems(job, "evaluation")]
    if job.evaluation is None and job.reduced_evaluation is None:
        return parts[0] + _note("No evaluation (evaluation.json is absent; run scengen evaluate).")
    parts.append(
        "<p>Rows: the generated (or reduced) set and the references — <b>history</b> (the training "
        "days resampled) and a <b>Gaussian copula</b> fitted to the training days. Metrics: energy "
        "score, variogram score, CRPS, Wasserstein distance between the distributions, errors of "
        "autocorrelation, ramps, cross-site correlation and mean profile, and the distance of "
        "each scenario to its nearest training day (copying check).</p>"
    )
    if job.evaluation is not None:
        parts.append(_eval_tables(job.evaluation, "Generated set"))
    if job.reduced_evaluation is not None:
        parts.append(_eval_tables(job.reduced_evaluation, "Reduced set"))
    return "".join(parts)


def _distance_curve(job: Job) -> list[tuple[int, float]]:
    """(K, distance) from reduction.json's curve, its own K and the decision test's sets."""
    pts: dict[int, float] = {}
    info = job.reduction or {}
    curve = info.get("curve") if isinstance(info.get("curve"), dict) else {}
    for k, v in curve.items():
        try:
            pts[int(k)] = float(v)
        except (TypeError, ValueError):
            continue
    try:
        if info.get("k") is not None and info.get("distance") is not None:
            pts.setdefault(int(info["k"]), float(info["distance"]))
    except (TypeError, ValueError):
        pass
    if job.decision is not None and "distance" in job.decision.table:
        t = job.decision.table
        for _, r in t[t["kind"] == "reduced"].iterrows():
            if np.isfinite(r["distance"]):
                pts.setdefault(int(r["n_scenarios"]), float(r["distance"]))
    return sorted((k, v) for k, v in pts.items() if math.isfinite(v))


def _fig_reduced_sites(red: ScenarioSet, full: ScenarioSet | None, seed: int = 0) -> Figure:
    """The reduced scenarios per site (the first :data:`MAX_GRID_SITES`), over the full set's
    5–95 % band when ``full`` (same sites and steps) is given; colours as in :func:`_fig_fan`."""
    from matplotlib.patches import Patch

    hours = _hours(red)
    sites = _site_subset(red.n_sites)
    fig, axes = _grid(len(sites), 3.6, 2.6)
    p = red.probabilities
    pmax = float(p.max())
    colours = _scenario_colours(p)
    order = np.argsort(p, kind="stable")[-MAX_DRAWN:]
    for ax, j in zip(axes, sites, strict=True):
        if full is not None:
            q = np.quantile(
                _sample(full.values[:, j], full.probabilities, MAX_STAT_SCENARIOS, seed),
                (0.05, 0.95),
                axis=0,
            )
            ax.fill_between(hours, q[0], q[1], color="#cccccc", lw=0)
        for i in order:
            ax.plot(hours, red.values[i, j], color=colours[i], lw=_prob_width(p[i], pmax))
        ax.set_title(red.sites[j], fontsize=9)
        ax.set_xlabel("hour of day")
        ax.set_ylabel("output [p.u.]")
        ax.set_xlim(hours[0], hours[-1])
        ax.set_ylim(0, max(1.0, float(red.values[:, j].max())) * 1.02)
        ax.grid(alpha=0.3)
    extra = [(Patch(color="#cccccc"), "full set 5–95 %")] if full is not None else []
    _probability_legend(fig, red, colours, extra)
    return fig


#: most rows of the probability table
MAX_TABLE_ROWS = 1000


def _probability_table(red: ScenarioSet) -> str:
    """Every reduced scenario and its probability, most probable first, with its colour in the
    figures; shown open for up to 30 scenarios, else in a collapsed box (expanded in print)."""
    p = red.probabilities
    colours = _scenario_colours(p)
    order = np.argsort(-p, kind="stable")[:MAX_TABLE_ROWS]
    pt = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "scenario": [f"#{red.ids[i]}" for i in order],
            "probability": p[order],
            "colour": [
                f'<span class="swatch" style="background:{colours[i]}"></span>' for i in order
            ],
        }
    )
    table = _table(
        pt, cls="probs", formats={"probability": lambda v: f"{v:.4f}"}, raw_html=("colour",)
    )
    more = (
        _note(f"The {MAX_TABLE_ROWS} most probable of {red.n_scenarios} scenarios.")
        if red.n_scenarios > MAX_TABLE_ROWS
        else ""
    )
    title = f"Probabilities of the {red.n_scenarios} scenarios"
    if red.n_scenarios <= 30:
        return f"<h4>{_e(title)}</h4>{table}{more}"
    return f"<details><summary>{_e(title)}</summary>{table}{more}</details>"


def _section_reduction(job: Job) -> str:
    parts = [_problems(job, "reduction")]
    red, full, info = job.reduced, job.scenarios, job.reduction
    if red is None and info is None:
        return parts[0] + _note("No reduction (reduced/ is absent).")
    if info:
        keys = (
            "method",
            "metric",
            "p",
            "k",
            "distance",
            "distance_exact",
            "verified",
            "max_distance",
            "n_input",
            "seconds",
            "seed",
        )
        items = [(k, info[k]) for k in keys if k in info and info[k] is not None]
        parts.append(_kv(items))
    if red is not None:
        same = full is not None and full.sites == red.sites and full.n_steps == red.n_steps
        fig = _fig_reduced_sites(red, full if same else None, job.seed)
        parts.append(
            _img(
                fig,
                f"the {red.n_scenarios} reduced scenarios with their probabilities, per site",
                f"The K = {red.n_scenarios} reduced scenarios per site"
                + (f" (the {MAX_DRAWN} most probable drawn)" if red.n_scenarios > MAX_DRAWN else "")
                + "; colour by probability rank (as in the verdict), line width grows with the "
                "probability.",
            )
            + (
                _note(f"Showing the first {MAX_GRID_SITES} of {red.n_sites} sites.")
                if red.n_sites > MAX_GRID_SITES
                else ""
            )
        )
        parts.append(_probability_table(red))
    panels = []
    ck = _distance_curve(job)
    if len(ck) >= 2:
        panels.append("curve")
    elif info is not None:
        parts.append(
            _note("No distance-against-K curve recorded (reduce with --max-distance records one).")
        )
    sizes = None
    if job.assignment is not None and {"medoid"} <= set(job.assignment.columns):
        sizes = job.assignment["medoid"].value_counts().sort_values(ascending=False)
        panels.append("sizes")
    if panels:
        fig = _figure(5.2 * len(panels), 3.0)
        axes = np.atleast_1d(fig.subplots(1, len(panels)))
        for ax, what in zip(axes, panels, strict=True):
            if what == "curve":
                ks, ds = zip(*ck, strict=True)
                ax.plot(ks, ds, marker="o", ms=3, color=GENERATED)
                k_sel = (info or {}).get("k")
                if k_sel is not None and int(k_sel) in dict(ck):
                    ax.plot(
                        [int(k_sel)],
                        [dict(ck)[int(k_sel)]],
                        "o",
                        color=MEASURED,
                        ms=7,
                        label=f"chosen K = {k_sel}",
                    )
                    ax.legend(fontsize=8)
                if info and info.get("max_distance") is not None:
                    ax.axhline(float(info["max_distance"]), color=MEASURED, ls="--", lw=1)
                if max(ks) / max(1, min(ks)) >= 20:
                    ax.set_xscale("log")
                    from matplotlib.ticker import ScalarFormatter

                    if len(ks) <= 12:
                        ax.set_xticks(ks, [str(k) for k in ks])
                        ax.minorticks_off()
                    else:
                        ax.xaxis.set_major_formatter(ScalarFormatter())
                ax.set(
                    xlabel="K (number of scenarios kept)",
                    ylabel="Wasserstein distance to the full set [p.u.]",
                    title="distance against K",
                )
            else:
                ax.bar(np.arange(len(sizes)), sizes.to_numpy(), color=GENERATED)
                if len(sizes) <= 25:
                    ax.set_xticks(
                        np.arange(len(sizes)),
                        [f"#{m}" for m in sizes.index],
                        rotation=90,
                        fontsize=7,
                    )
                else:
                    ax.set_xticks([])
                ax.set(
                    xlabel="medoid (largest cluster first)",
                    ylabel="scenarios in cluster",
                    title="cluster sizes",
                )
            ax.title.set_fontsize(10)
            ax.grid(alpha=0.3)
        parts.append(
            _img(
                fig,
                "distance against K and cluster sizes",
                " ".join(
                    {
                        "curve": "Distance against K: the k-medoids objective (= Wasserstein-1 "
                        "distance between the full and the reduced distribution) for each K.",
                        "sizes": "Cluster sizes: input scenarios assigned to each medoid.",
                    }[w]
                    for w in panels
                ),
            )
        )
    return "".join(parts)


DECISION_COLUMNS = {
    "set": "set",
    "n_scenarios": "scenarios",
    "energy_capacity": "E [p.u.·h]",
    "power_capacity": "P [p.u.]",
    "first_stage_cost": "1st-stage cost",
    "in_sample_cost": "in-sample cost",
    "cost_on_full": "cost on full set",
    "out_of_sample_cost": "out-of-sample cost",
    "gap": "gap out − in",
    "gap_pct": "gap [%]",
    "gap_to_full": "vs full (out)",
    "gap_to_full_pct": "vs full [%]",
    "distance": "W dist. [p.u.]",
    "seconds": "time [s]",
}


def _section_decision(job: Job) -> str:
    parts = [_problems(job, "decision")]
    res = job.decision
    if res is None:
        return parts[0] + _note(
            "No decision test (decision.json is absent; run scengen evaluate --decision storage)."
        )
    t = res.table.copy()
    parts.append(
        "<p>A battery (energy E, power P; annualised costs) is sized with each scenario set so "
        "that the sites' output, with imports and storage, serves a daily demand profile; the "
        "decision is then evaluated with the dispatch optimised on each of the "
        f"{res.n_heldout} held-out measured days (<i>out-of-sample</i>). Costs per day per unit "
        "of total renewable capacity. A small gap between in-sample and out-of-sample cost and "
        "between a reduced set's out-of-sample cost and the full set's means the scenarios are "
        "good enough for this decision (in-/out-of-sample stability, Kaut &amp; Wallace 2007). "
        "The oracle row is the decision optimised on the held-out days themselves: no decision "
        "can do better there.</p>"
    )
    cols = [c for c in DECISION_COLUMNS if c in t.columns]
    show = t[cols].rename(columns=DECISION_COLUMNS)
    pct = {
        DECISION_COLUMNS[c]: (lambda v: "–" if v is None or not np.isfinite(v) else f"{v:+.2f}")
        for c in ("gap_pct", "gap_to_full_pct")
    }
    parts.append(_table(show, cls="num", formats=pct))
    red = (
        t[t.get("kind", pd.Series(["reduced"] * len(t))) == "reduced"]
        if "kind" in t
        else t.iloc[1:]
    )
    if len(red) and {"n_scenarios", "gap_to_full_pct", "out_of_sample_cost"} <= set(t.columns):
        fig = _figure(11, 3.2)
        ax1, ax2 = fig.subplots(1, 2)
        k = red["n_scenarios"].to_numpy()
        full_row = t.iloc[0]
        ax1.plot(
            k,
            red["out_of_sample_cost"],
            "o-",
            color=MEASURED,
            label="out-of-sample (held-out days)",
        )
        ax1.plot(k, red["in_sample_cost"], "s-", color=GENERATED, label="in-sample")
        if "cost_on_full" in red:
            ax1.plot(k, red["cost_on_full"], "^-", color=HISTORY, label="on the full generated set")
        ax1.axhline(
            full_row["out_of_sample_cost"],
            color=MEASURED,
            ls="--",
            lw=1,
            label=f"{full_row['set']}, out-of-sample",
        )
        ax2.plot(k, red["gap_to_full_pct"], "o-", color=MEASURED, label="out-of-sample vs full set")
        ax2.plot(k, red["gap_pct"], "s-", color=GENERATED, label="out-of-sample vs in-sample")
        ax2.axhline(0, color="black", lw=0.8)
        if "kind" in t:
            for _, row in t[t["kind"].isin(["oracle", "reference"])].iterrows():
                ls = ":" if row["kind"] == "oracle" else "-."
                ax1.axhline(row["out_of_sample_cost"], color="black", ls=ls, lw=1, label=row["set"])
                ax2.axhline(
                    row["gap_to_full_pct"],
                    color="black",
                    ls=ls,
                    lw=1,
                    label=f"{row['set']} vs full",
                )
        for ax in (ax1, ax2):
            if k.max() / max(1, k.min()) >= 10:
                ax.set_xscale("log")
                ax.set_xticks(k, [str(int(x)) for x in k])
                ax.minorticks_off()
            ax.set_xlabel("K (scenarios in the reduced set)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        ax1.set(ylabel="expected cost [cost/day per p.u.]", title="cost of the decision")
        ax2.set(ylabel="cost gap [%]", title="cost gap against K")
        ax1.title.set_fontsize(10)
        ax2.title.set_fontsize(10)
        parts.append(
            _img(
                fig,
                "decision cost and cost gap against K",
                "Left: costs of the decision taken with K scenarios. Right: gap of the "
                "out-of-sample cost to the full set's and to the set's own in-sample cost.",
            )
        )
    pr = res.problem.to_dict()
    if pr.get("demand") is None:
        pr["demand"] = "default: 0.30 p.u., 0.45 p.u. 17:00–21:00"
    parts.append(
        "<details><summary>Problem parameters</summary>" + _kv(list(pr.items())) + "</details>"
    )
    return "".join(parts)


def _section_metadata(job: Job) -> str:
    parts = [_problems(job, "metadata")]
    md = job.metadata
    if md:
        keys = [k for k in ("seed", "device", "status", "step", "steps", "condition") if k in md]
        items = [(k, md[k]) for k in keys]
        for k in ("versions", "timings"):
            if isinstance(md.get(k), dict):
                items += _flatten(md[k], k + ".")
        other = {
            k: v
            for k, v in md.items()
            if k not in set(keys) | {"versions", "timings", "data", "label_counts"}
        }
        items += _flatten(other)
        parts.append(_kv(items))
    if job.scenarios is not None:
        sm = {k: v for k, v in job.scenarios.metadata.items() if k not in ("sites", "capacities")}
        parts.append("<h4>Generated scenarios (scenarios/metadata.json)</h4>" + _kv(_flatten(sm)))
    if job.stages:
        parts.append("<h4>Pipeline stages (stages.json)</h4>" + _kv(_flatten(job.stages)))
    if job.config_text:
        parts.append(f"<h4>Resolved config (config.yaml)</h4><pre>{_e(job.config_text)}</pre>")
    if job.exports:
        rows = pd.DataFrame(job.exports, columns=["file", "bytes"])
        parts.append("<h4>Exported files</h4>" + _table(rows))
    if len(parts) == 1:
        parts.append(_note("No metadata (metadata.json and config.yaml are absent)."))
    return "".join(parts)


SECTIONS: tuple[tuple[str, str, Callable[[Job], str]], ...] = (
    ("data", "Data", _section_data),
    ("training", "Training", _section_training),
    ("realism", "Realism: generated vs measured", _section_realism),
    ("evaluation", "Evaluation table", _section_evaluation),
    ("reduction", "Reduction", _section_reduction),
    ("decision", "Decision test: battery sizing", _section_decision),
    ("metadata", "Metadata", _section_metadata),
)


# ---------------------------------------------------------------------- comparison


def _summary_row(job: Job) -> dict[str, Any]:
    md, data = job.metadata, job.metadata.get("data") or {}
    ref = job.test if job.test is not None else job.train
    row: dict[str, Any] = {"job": job.name}
    row["sites"] = len(data.get("sites", [])) or (ref.n_sites if ref is not None else None)
    row["train / held-out days"] = (
        f"{data.get('n_train', job.train.n_days if job.train is not None else '–')} / "
        f"{data.get('n_test', job.test.n_days if job.test is not None else '–')}"
    )
    row["training steps"] = (
        int(job.metrics["step"].iloc[-1])
        if job.metrics is not None and len(job.metrics)
        else md.get("step")
    )
    row["device"] = md.get("device")
    row["N generated"] = job.scenarios.n_scenarios if job.scenarios is not None else None
    row["K"] = (
        job.reduced.n_scenarios if job.reduced is not None else (job.reduction or {}).get("k")
    )
    row["W distance [p.u.]"] = (job.reduction or {}).get("distance")
    for name, ev in (("gen", job.evaluation), ("red", job.reduced_evaluation)):
        if ev and isinstance(ev.get("ratios"), dict):
            rat = ev["ratios"]
            first = next(iter(rat.values()), None)
            r = first if isinstance(first, dict) else rat
            for m in ("energy_score", "variogram_score"):
                if m in r:
                    row[f"{m} / history ({name})"] = r[m]
    if job.decision is not None:
        t = job.decision.table
        if "kind" in t and "gap_to_full_pct" in t:
            for _, r in t[t["kind"] == "reduced"].iterrows():
                row[f"decision gap K={int(r['n_scenarios'])} [%]"] = r["gap_to_full_pct"]
    return row


def _summary_formats(columns: Sequence[str]) -> dict[str, Callable[[Any], str]]:
    fmts: dict[str, Callable[[Any], str]] = {c: _ratio for c in columns if "/ history" in c}
    for c in columns:
        if c.startswith("decision gap"):
            fmts[c] = lambda v: "–" if v is None or not np.isfinite(v) else f"{float(v):+.2f}"
    return fmts


def _comparison(jobs: list[Job], links: dict[str, str] | None = None) -> str:
    """Jobs as rows (the index page); the job name links to its report when there is one."""
    links = links or {}
    df = pd.DataFrame([_summary_row(j) for j in jobs])
    df["job"] = [
        f'<a href="{_e(links[j.name])}">{_e(j.name)}</a>' if j.name in links else _e(j.name)
        for j in jobs
    ]
    df = df.astype(object).where(df.notna(), None)
    table = _table(df, cls="num compare", formats=_summary_formats(df.columns), raw_html=("job",))
    return f'<div class="wide">{table}</div>'


def _side_by_side(jobs: list[Job]) -> str:
    """Jobs as columns, one row per quantity (the top of a multi-run report)."""
    rows = [_summary_row(j) for j in jobs]
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys and k != "job"]
    fmts = _summary_formats(keys)
    data = {
        r["job"]: [
            (fmts[k](r[k]) if k in fmts else _fmt(r[k])) if r.get(k) is not None else "–"
            for k in keys
        ]
        for r in rows
    }
    df = pd.DataFrame(data, index=pd.Index(keys, name="run"))
    return f'<div class="wide">{_table(df, index=True, cls="compare")}</div>'


# ---------------------------------------------------------------------- page

CSS = """
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #d0d4d9; --accent: #1b6ca8; --bg2: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); margin: 0 auto; max-width: 1180px; padding: 1.2em 1.6em 3em; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.35em; border-bottom: 2px solid var(--accent); padding-bottom: 0.15em; margin-top: 1.8em; }
h3 { font-size: 1.12em; margin: 1.4em 0 0.4em; color: var(--accent); }
h4 { font-size: 0.98em; margin: 1em 0 0.3em; }
p.sub { color: var(--muted); margin-top: 0; }
p.note { color: var(--muted); font-style: italic; }
p.warn { color: #a50e0e; background: #fce8e6; padding: 0.3em 0.6em; border-radius: 4px; }
nav.toc { background: var(--bg2); padding: 0.5em 1em; border-radius: 6px; font-size: 0.92em; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 1em; white-space: nowrap; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.86em; }
th, td { border: 1px solid var(--line); padding: 0.25em 0.55em; vertical-align: top; }
thead th { background: var(--bg2); text-align: center; }
th.rowhead { background: var(--bg2); text-align: left; font-weight: 600; }
div.wide { overflow-x: auto; }
table.compare td { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv td { max-width: 52em; overflow-wrap: anywhere; }
figure { margin: 0.8em 0 1.2em; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.88em; margin-top: 0.25em; }
pre { background: var(--bg2); padding: 0.6em 0.8em; font-size: 0.82em; overflow-x: auto;
  white-space: pre-wrap; border-radius: 4px; }
details summary { cursor: pointer; color: var(--accent); margin: 0.3em 0; }
section.job { margin-bottom: 2.5em; }
section.verdicts h2 { margin-top: 0.7em; }
div.verdict { margin-bottom: 1.6em; }
div.verdict h3 { margin-top: 0.8em; }
p.line { margin: 0.45em 0 0.25em; }
p.decision { background: var(--bg2); border-left: 4px solid var(--accent); padding: 0.35em 0.7em; }
table.checks { margin: 0.2em 0 0.6em; }
table.checks td.gloss { color: var(--muted); }
table.checks td.pass, table.checks td.fail { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.checks td.pass { background: #e6f4ea; color: #0b5d27; }
table.checks td.fail { background: #fce8e6; color: #a50e0e; }
table.checks td b { display: inline-block; min-width: 3.2em; letter-spacing: 0.03em; }
table.checks small { font-weight: normal; color: var(--muted); }
span.swatch { display: inline-block; width: 2.4em; height: 0.75em; border-radius: 2px; }
footer { color: var(--muted); font-size: 0.82em; margin-top: 3em; border-top: 1px solid var(--line); }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  nav.toc { display: none; }
  section.job > h2 { break-before: page; }
  figure, table, pre, p.line { break-inside: avoid; }
  h2, h3, h4, summary { break-after: avoid; }
  details > summary { list-style: none; color: inherit; font-weight: 600; cursor: auto; }
  details > summary::-webkit-details-marker { display: none; }
  a { color: inherit; text-decoration: none; }
}
/* printed, every collapsed box is open (a rule of its own: browsers without ::details-content
   drop only this one) */
@media print {
  details::details-content { content-visibility: visible; display: block; }
}
"""


def _page(title: str, body: str, footer: str = "") -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{_io.HTML_GENERATOR}<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"{body}<footer>Written by scengen {__version__} on {stamp}{footer}. Self-contained: all "
        "figures are embedded; nothing is loaded from elsewhere.</footer></body></html>\n"
    )


def _job_html(job: Job, n: int, tick: Callable[[], None] = lambda: None) -> str:
    anchor = f"job{n}"
    toc = f'<a href="#{anchor}-verdict">Verdict</a>' + "".join(
        f'<a href="#{anchor}-{key}">{_e(title)}</a>' for key, title, _ in SECTIONS
    )
    out = [
        f'<section class="job" id="{anchor}"><h2>{_e(job.name)}</h2>',
        f'<p class="sub">{_e(str(job.path))}</p><nav class="toc">{toc}</nav>',
    ]
    for key, title, fn in SECTIONS:
        try:
            content = fn(job)
        except Exception as e:  # one broken part must not cost the whole report
            last = traceback.extract_tb(e.__traceback__)[-1]
            content = (
                f'<p class="warn">This section failed: {_e(type(e).__name__)}: '
                f"{_e(' '.join(str(e).split()))} ({_e(Path(last.filename).name)}:{last.lineno})</p>"
            )
        out.append(f'<h3 id="{anchor}-{key}">{_e(title)}</h3>{content}')
        tick()
    out.append("</section>")
    return "".join(out)


def _jobs(job_dirs: Sequence[str | os.PathLike], seed: int = 0) -> list[Job]:
    if isinstance(job_dirs, (str, os.PathLike)):
        job_dirs = [job_dirs]
    dirs = list(job_dirs)
    if not dirs:
        raise ScengenError("no run directory given; give at least one")
    jobs = [load_job(d) for d in dirs]
    for j in jobs:
        j.seed = int(seed)
    names = [j.name for j in jobs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        # same folder name from different parents: tell them apart by their parent folder
        for j in jobs:
            if j.name in dup:
                j.name = f"{j.path.resolve().parent.name}/{j.name}"
    return jobs


def render_report(
    job_dirs: Sequence[str | os.PathLike],
    *,
    title: str | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """One self-contained HTML page reporting on one or more job directories.

    Parameters
    ----------
    job_dirs : list of path
        Run directories (see the module docstring for what is read from them).
    title : str, optional
        Page title (default: ``"scengen report: <job names>"``).
    seed : int, default 0
        Seed of the random subset of scenarios used for the statistics of sets larger than
        :data:`MAX_STAT_SCENARIOS` (same seed, same figures).
    progress : callable, optional
        Called as ``progress(done, total)`` after each section of each job.

    Returns
    -------
    str
        The HTML: the verdict of each job first, then a side-by-side comparison (several jobs)
        and each job's sections; figures as embedded PNG, inline CSS, no scripts and no
        external resources.

    Raises
    ------
    FileNotFoundError, ScengenError
        A directory does not exist or holds nothing to report.
    """
    jobs = _jobs(job_dirs, seed)
    names = ", ".join(j.name for j in jobs)
    title = title or f"scengen report: {names}"
    body = [f"<h1>{_e(title)}</h1>"]
    body.append(f'<p class="sub">{len(jobs)} run{"s" if len(jobs) > 1 else ""}: {_e(names)}</p>')
    with np.errstate(invalid="ignore", divide="ignore"):
        body.append(_verdicts(jobs))
    if len(jobs) > 1:
        body.append("<h2>Comparison</h2>" + _side_by_side(jobs))
        body.append(
            '<nav class="toc">'
            + "".join(f'<a href="#job{i}">{_e(j.name)}</a>' for i, j in enumerate(jobs, 1))
            + "</nav>"
        )
    total, done = len(jobs) * len(SECTIONS), [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    with np.errstate(invalid="ignore", divide="ignore"):
        for i, job in enumerate(jobs, 1):
            body.append(_job_html(job, i, tick))
    return _page(title, "".join(body), f" (seed {int(seed)})")


def write_report(
    job_dirs: Sequence[str | os.PathLike],
    out_file: str | os.PathLike,
    *,
    title: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render :func:`render_report` and write it to ``out_file`` atomically.

    An existing ``out_file`` is replaced only with ``overwrite`` and only when scengen wrote it;
    ``progress`` as in :func:`render_report`.
    """
    out = Path(out_file)
    _io.check_output_file(out, overwrite=overwrite)
    text = render_report(job_dirs, title=title, seed=seed, progress=progress)
    _io.write_text(out, text)
    return out


def render_index(
    job_dirs: Sequence[str | os.PathLike],
    out_file: str | os.PathLike,
    *,
    title: str = "scengen: batch results",
    report_name: str = "report.html",
    failed: dict[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the batch index page: each job's verdict, then a table comparing the jobs, each
    linking to its report.

    Parameters
    ----------
    job_dirs : list of path
        Completed job directories; each links to ``<job_dir>/<report_name>`` (relative to the
        folder of ``out_file``) when that file exists.
    out_file : path
        The index page to write (atomically), e.g. ``reports/index.html``.
    title : str
    report_name : str, default "report.html"
    failed : dict, optional
        ``{job name: error message}`` of jobs that failed, listed below the table.
    overwrite : bool, default False
        Replace an existing ``out_file`` (only one that scengen wrote).

    Returns
    -------
    pathlib.Path
        ``out_file``.
    """
    out = Path(out_file)
    _io.check_output_file(out, overwrite=overwrite)
    jobs = _jobs(job_dirs)
    links = {}
    for j in jobs:
        rep = j.path / report_name
        if rep.is_file():
            links[j.name] = Path(os.path.relpath(rep.resolve(), out.parent.resolve())).as_posix()
    body = [f"<h1>{_e(title)}</h1>", f'<p class="sub">{len(jobs)} completed job(s).</p>']
    with np.errstate(invalid="ignore", divide="ignore"):
        body.append(_verdicts(jobs, links))
        body.append("<h2>Comparison</h2>" + _comparison(jobs, links))
    body.append(
        '<p class="note">Ratios below 1 mean the generated scenarios score better than '
        "resampling the training days; the decision gap is the extra out-of-sample cost of the "
        "battery sized with K scenarios over the one sized with the full set.</p>"
    )
    if failed:
        body.append("<h2>Failed jobs</h2>")
        body.append(_kv(sorted(failed.items())))
    _io.write_text(out, _page(title, "".join(body)))
    return out


@dataclass
class ReportConfig:
    """``report`` section of a config.

    Parameters
    ----------
    title : str, optional
        Page title.
    seed : int, default 0
        Seed of the subset of scenarios used for the statistics of large sets.
    """

    title: str | None = None
    seed: int = 0
