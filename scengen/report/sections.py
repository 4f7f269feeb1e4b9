"""The sections of a job's part of the report: each ``_section_*`` function assembles the HTML of
one section from the job's data and the figures of :mod:`scengen.report.figures`.

A section whose inputs are absent is replaced by a one-line note; files of the section that
could not be read are listed at its top.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from scengen.report._html import _e, _flatten, _fmt, _img, _kv, _note, _problems, _ratio, _table
from scengen.report._load import Job
from scengen.report._plot import (
    MAX_DRAWN,
    MAX_GRID_SITES,
    MAX_STAT_SCENARIOS,
    _sample,
    _scenario_colours,
    _site_subset,
)
from scengen.report.figures import (
    _decision_rows,
    _fig_correlation,
    _fig_daily_means,
    _fig_decision,
    _fig_dynamics,
    _fig_marginals,
    _fig_quantile_fans,
    _fig_reduced_sites,
    _fig_reduction,
    _fig_training,
    _fig_validation,
    _night_steps,
)
from scengen.report.verdict import _checks_table, _quality_checks
from scengen.scenarios import ScenarioSet

# ---------------------------------------------------------------------- data, training, realism


#: the data summary's keys of ``metadata.json``'s ``data`` and their labels, in this order
DATA_LABELS = (
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


def _data_items(job: Job) -> list[tuple[str, Any]]:
    """The data summary: from ``metadata.json`` (the labelled keys of :data:`DATA_LABELS`
    first), else from the split in ``profiles.npz``; empty when neither is there."""
    data = job.metadata.get("data") if isinstance(job.metadata.get("data"), dict) else {}
    tr, te = job.train, job.test
    ref = tr if tr is not None else te
    items: list[tuple[str, Any]] = []
    if data:
        seen = set()
        for k, label in DATA_LABELS:
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
    return items


def _section_data(job: Job) -> str:
    """The data: a summary table and the daily mean output of the training and held-out days."""
    parts = [_problems(job, "data")]
    items = _data_items(job)
    if not items:
        return parts[0] + _note("No data summary: metadata.json and profiles.npz are absent.")
    parts.append(_kv(items))
    if job.train is not None and job.test is not None:
        parts.append(
            _img(
                _fig_daily_means(job.train, job.test),
                "daily mean output of each complete day, training and held-out",
                "Daily mean output (capacity-weighted over sites) of every complete day; "
                "the held-out days are used only for evaluation.",
            )
        )
    return "".join(parts)


def _section_training(job: Job) -> str:
    """The training curves of ``metrics.csv`` and the last logged values."""
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
    if "val_score" in m.columns and m["val_score"].notna().any():
        best = job.metadata.get("best_step")
        best = best if isinstance(best, int) else None
        parts.append(
            _img(
                _fig_validation(m, best),
                "validation curve",
                "Validation: the generator scored on the validation days every "
                "train.val_every steps (never on the test days); the dashed line is the best "
                "step, whose weights the model samples with.",
            )
        )
    last = m.iloc[-1]
    items = [("steps logged", int(last["step"]))]
    if isinstance(job.metadata.get("best_step"), int):
        items.append(("best validated step", job.metadata["best_step"]))
        items.append(("status", str(job.metadata.get("status", ""))))
    if "time_s" in m.columns and np.isfinite(last["time_s"]):
        items.append(("training time [s]", float(last["time_s"])))
    for col, title, _ in panels:
        items.append((f"last {title}", float(last[col])))
    parts.append(_kv(items))
    return "".join(parts)


def _section_realism(job: Job) -> str:
    """Generated vs held-out measured days: quantiles, marginals, dynamics, correlation."""
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
    n_shown = len(_site_subset(ss.n_sites))
    more = (
        _note(f"Showing the first {n_shown} of {ss.n_sites} sites.") if n_shown < ss.n_sites else ""
    )
    parts.append(
        f"<p>Generated: {ss.n_scenarios:,} scenarios"
        + (f" (statistics on a random {gen.shape[0]:,})" if gen.shape[0] < ss.n_scenarios else "")
        + f"; measured: {te.n_days} held-out days. Values in p.u. of each site's capacity.</p>"
    )
    parts.append(
        _img(
            _fig_quantile_fans(ss, gen, meas),
            "quantile fans per site and hour, measured vs generated",
            "Quantiles per site and hour: generated (blue bands and median) vs held-out measured "
            "days (orange lines).",
        )
        + more
    )
    n_dark = _night_steps(meas, ss.n_sites)
    parts.append(
        _img(
            _fig_marginals(ss, gen, meas),
            "marginal distributions per site",
            "Marginal distribution of the values per site (all steps of the day pooled"
            + (
                f"; up to {n_dark} steps where the measured output is always zero (night) left out)."
                if n_dark
                else ")."
            ),
        )
    )
    parts.append(
        _img(
            _fig_dynamics(ss, gen, meas, hist),
            "autocorrelation, power spectral density and ramp rates",
            "Left: within-day autocorrelation, each day centred on its own mean (the statistic "
            "autocorr_error scores; thick: mean over sites, thin: sites). Middle: mean "
            "periodogram of the day profiles. Right: step-to-step changes, all sites pooled.",
        )
    )
    if ss.n_sites > 1:
        parts.append(
            _img(
                _fig_correlation(ss, gen, meas),
                "cross-site correlation heat maps",
                "Correlation between sites over all days and hours.",
            )
        )
    else:
        parts.append(_note("One site: no cross-site correlation."))
    return "".join(parts)


# ---------------------------------------------------------------------- evaluation


def _set_frame(d: dict[str, Any]) -> pd.DataFrame:
    """A ``{set: {score: value}}`` mapping (or one set's ``{score: value}``) as a frame, one row
    per set."""
    df = pd.DataFrame(d).T if all(isinstance(v, dict) for v in d.values()) else pd.DataFrame([d])
    df.index.name = "set"
    return df


def _eval_tables(ev: dict[str, Any], what: str) -> str:
    """The scores, ratios to history, quality checks and settings of one ``evaluation.json``
    (``what``: the set's name, e.g. "Generated set")."""
    parts = []
    table = ev.get("table")
    if isinstance(table, dict) and table:
        df = _set_frame(table)
        parts.append(f"<h4>{_e(what)}: scores against the held-out days (lower is better)</h4>")
        parts.append(_table(df, index=True, cls="num"))
    ratios = ev.get("ratios")
    if isinstance(ratios, dict) and ratios:
        df = _set_frame(ratios)
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


def _section_evaluation(job: Job) -> str:
    """The evaluation tables of the generated and the reduced set."""
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


# ---------------------------------------------------------------------- reduction


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


#: the keys of ``reduction.json`` shown, in this order
REDUCTION_KEYS = (
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
#: captions of the panels of :func:`~scengen.report.figures._fig_reduction`
REDUCTION_PANELS = {
    "curve": "Distance against K: the k-medoids objective (= Wasserstein-1 "
    "distance between the full and the reduced distribution) for each K.",
    "sizes": "Cluster sizes: input scenarios assigned to each medoid.",
}


def _reduced_sites_html(job: Job) -> str:
    """The reduced scenarios per site over the full set's band, and their probability table."""
    red, full = job.reduced, job.scenarios
    same = full is not None and full.sites == red.sites and full.n_steps == red.n_steps
    fig = _fig_reduced_sites(red, full if same else None, job.seed)
    return (
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
        + _probability_table(red)
    )


def _section_reduction(job: Job) -> str:
    """The reduction: its settings, the reduced scenarios and their probabilities, the distance
    against K and the cluster sizes."""
    parts = [_problems(job, "reduction")]
    red, info = job.reduced, job.reduction
    if red is None and info is None:
        return parts[0] + _note("No reduction (reduced/ is absent).")
    if info:
        parts.append(_kv([(k, info[k]) for k in REDUCTION_KEYS if info.get(k) is not None]))
    if red is not None:
        parts.append(_reduced_sites_html(job))
    ck: list[tuple[int, float]] | None = _distance_curve(job)
    if len(ck) < 2:
        if info is not None:
            parts.append(
                _note(
                    "No distance-against-K curve recorded (reduce with --max-distance records one)."
                )
            )
        ck = None
    sizes = None
    if job.assignment is not None and {"medoid"} <= set(job.assignment.columns):
        sizes = job.assignment["medoid"].value_counts().sort_values(ascending=False)
    if ck is not None or sizes is not None:
        panels = [w for w, x in (("curve", ck), ("sizes", sizes)) if x is not None]
        parts.append(
            _img(
                _fig_reduction(ck, sizes, info),
                "distance against K and cluster sizes",
                " ".join(REDUCTION_PANELS[w] for w in panels),
            )
        )
    return "".join(parts)


# ---------------------------------------------------------------------- decision, metadata

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
    """The decision test: what it does, its table, the costs against K, the problem."""
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
    red = _decision_rows(t)
    if red is not None:
        parts.append(
            _img(
                _fig_decision(t, red),
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
    """The run's metadata, the scenarios' metadata, pipeline stages, config and exports."""
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
