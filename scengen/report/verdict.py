"""The verdict at the top of every page: per job, the quality checks of the generated and the
reduced set, the decision test in one line, and the reduced set beside the held-out days."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scengen.report._html import _e, _fmt, _img, _note
from scengen.report._load import Job
from scengen.report.figures import _fig_fan

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
