"""The comparison of several jobs: a table with a row per job (the index page) or a column per
job (the top of a report on several runs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scengen.report._html import _e, _fmt, _ratio, _table
from scengen.report._load import Job


def _summary_row(job: Job) -> dict[str, Any]:
    """The comparison's quantities of one job (``None`` where unknown): data, training,
    set sizes, the evaluation's ratios to history and the decision gaps."""
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
    """Formatters of the comparison's ratio and decision-gap columns (for :func:`_table`)."""
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
