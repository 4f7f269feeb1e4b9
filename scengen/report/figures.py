"""The report's figures: each ``_fig_*`` function computes what it shows and returns a
:class:`matplotlib.figure.Figure` (embedded by :func:`scengen.report._html._img`).

The statistics are those the quality bar scores: the within-day autocorrelation and ramps of
:mod:`scengen.stats`, the cross-site correlation of :func:`scengen.evaluate.correlation_error`,
and the combined output of :func:`scengen.decision.net_output`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scengen import stats
from scengen.report._plot import (
    GENERATED,
    HISTORY,
    MAX_DRAWN,
    MAX_STAT_SCENARIOS,
    MEASURED,
    MEASURED_FAN,
    _draw_scenarios,
    _figure,
    _grid,
    _hours,
    _probability_legend,
    _sample,
    _site_subset,
)
from scengen.scenarios import ScenarioSet

# ---------------------------------------------------------------------- verdict, data, training


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
        (colour by probability rank, see :func:`~scengen.report._plot._scenario_colours`; width
        grows with the probability) over the held-out band; legend sorted by probability.
    """
    from scengen.decision import net_output

    hours = _hours(red)
    y_red = net_output(red)
    meas = None if heldout is None else net_output(heldout)
    if meas is not None:
        fig = _figure(11.3, 3.25)
        ax_m, ax_r = fig.subplots(1, 2, sharey=True, width_ratios=(1, 1.2))
    else:
        fig = _figure(7.4, 3.25)
        ax_m, ax_r = None, fig.subplots()
    extra: list[tuple[Any, str]] = []
    top = float(np.nanmax(y_red))
    if meas is not None:
        top = max(top, float(np.nanmax(meas)))
        extra = _draw_measured_days(ax_m, ax_r, hours, meas)
    _draw_scenarios(ax_r, hours, y_red, red, alpha=0.95)
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
    _probability_legend(fig, red, extra)
    return fig


def _draw_measured_days(
    ax_m: Axes, ax_r: Axes, hours: np.ndarray, meas: np.ndarray
) -> list[tuple[Any, str]]:
    """The measured days of :func:`_fig_fan`: each day (at most
    :data:`~scengen.report._plot.MAX_DRAWN`) on ``ax_m``, their 5–95 % band and median on both
    axes; returns the legend entries of the band and median for the figure's legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    q = np.quantile(meas, (0.05, 0.5, 0.95), axis=0)
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
    return [
        (Patch(color="#c8c8c8"), "held-out 5–95 %"),
        (Line2D([], [], color=MEASURED_FAN, lw=1.2, ls="--"), "held-out median"),
    ]


def _fig_daily_means(train: Any, test: Any) -> Figure:
    """Daily mean output (:func:`scengen.decision.net_output` averaged over the day) of every
    training and held-out day (Profiles) against the date."""
    from scengen.decision import net_output

    fig = _figure(9.5, 2.6)
    ax = fig.subplots()
    for p, lab, col, mk in (
        (train, "training day", HISTORY, "."),
        (test, "held-out day", MEASURED, "o"),
    ):
        ax.plot(
            p.dates.astype("datetime64[D]").astype(datetime),
            net_output(p).mean(axis=1),
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


def _fig_validation(m: pd.DataFrame, best_step: int | None = None) -> Figure:
    """The validation curve (``val_*`` columns of ``metrics.csv``): the three ratios to the
    history reference on the validation days with their limits on the quality bar, and the
    validation score; a vertical line at the best step (the weights the model samples with)."""
    from scengen.evaluate import quality as q

    v = m.dropna(subset=["val_score"])
    fig, axes = _grid(2, 4.6, 2.7, 2)
    step = v["step"].to_numpy()
    ratios = (
        ("val_w1_ratio", "W1", q.W1_VS_HISTORY, "C0"),
        ("val_acf_ratio", "ACF error", q.AUTOCORR_VS_HISTORY, "C1"),
        ("val_ramp_ratio", "ramp W1", q.RAMP_VS_HISTORY, "C2"),
    )
    ax = axes[0]
    for col, name, limit, colour in ratios:
        ax.plot(step, v[col].to_numpy(float), color=colour, lw=1.4, marker=".", label=name)
        ax.axhline(limit, color=colour, lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_title("validation days: ratio to history (dotted: limit)", fontsize=9)
    ax.set_ylabel("ratio [-]")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(step, v["val_score"].to_numpy(float), color=GENERATED, lw=1.6, marker=".")
    ax.axhline(1.0, color="k", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_title("validation score: worst ratio / limit", fontsize=9)
    ax.set_ylabel("score [-]")
    for ax in axes:
        if best_step is not None:
            ax.axvline(best_step, color="k", lw=1.0, ls="--")
        ax.set_xlabel("generator step")
        ax.grid(alpha=0.3)
    return fig


# ---------------------------------------------------------------------- realism
# ``gen``: the generated values (equally weighted, see _sample), ``meas``: the held-out days,
# both (n, sites, steps) with the sites and steps of ``ss``.


def _fig_quantile_fans(ss: ScenarioSet, gen: np.ndarray, meas: np.ndarray) -> Figure:
    """Quantiles per site and hour: generated (bands and median) vs measured (lines)."""
    from matplotlib.lines import Line2D

    hours = _hours(ss)
    sites = _site_subset(ss.n_sites)
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
    handles += [Line2D([], [], color=MEASURED, ls=":"), Line2D([], [], color=MEASURED, ls="--")]
    labels += ["measured 25 / 75 %", "measured 5 / 95 %"]
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    return fig


def _kept_steps(meas: np.ndarray) -> np.ndarray:
    """Steps of each site in the marginals, shape ``(sites, steps)``: those where some measured
    day's output is above 1e-3 p.u. (not night), or all steps of a site that has none."""
    lit = ~np.all(meas <= 1e-3, axis=0)
    lit[~lit.any(axis=1)] = True
    return lit


def _night_steps(meas: np.ndarray, n_sites: int) -> int:
    """Most steps left out of the marginals of one of the drawn sites (:func:`_kept_steps`)."""
    keep = _kept_steps(meas)[_site_subset(n_sites)]
    return int((~keep).sum(axis=1).max())


def _fig_marginals(ss: ScenarioSet, gen: np.ndarray, meas: np.ndarray) -> Figure:
    """Histograms of the values per site, all steps pooled except night (:func:`_kept_steps`)."""
    sites = _site_subset(ss.n_sites)
    fig, axes = _grid(len(sites), 3.4, 2.3)
    bins = np.linspace(0, 1, 26)
    kept = _kept_steps(meas)
    for ax, j in zip(axes, sites, strict=True):
        keep = kept[j]
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
    return fig


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


def _fig_dynamics(
    ss: ScenarioSet, gen: np.ndarray, meas: np.ndarray, hist: np.ndarray | None
) -> Figure:
    """Within-day autocorrelation, power spectral density and ramp rates of the generated,
    the measured and (when given) the training days."""
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
    return fig


def _fig_correlation(ss: ScenarioSet, gen: np.ndarray, meas: np.ndarray) -> Figure:
    """Heat maps of the cross-site correlation (measured, generated, their difference).

    The correlation is the one :func:`scengen.evaluate.correlation_error` compares, over all
    days and steps, with the days weighted equally (``gen`` is an equally weighted sample).
    """
    from scengen.evaluate.metrics import _profile_corr

    cm = _profile_corr(meas, np.full(len(meas), 1.0 / len(meas)))
    cg = _profile_corr(gen, np.full(len(gen), 1.0 / len(gen)))
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
    return fig


# ---------------------------------------------------------------------- reduction


def _fig_reduced_sites(red: ScenarioSet, full: ScenarioSet | None, seed: int = 0) -> Figure:
    """The reduced scenarios per site (the first :data:`~scengen.report._plot.MAX_GRID_SITES`),
    over the full set's 5–95 % band when ``full`` (same sites and steps) is given; colours as
    in :func:`_fig_fan`."""
    from matplotlib.patches import Patch

    hours = _hours(red)
    sites = _site_subset(red.n_sites)
    fig, axes = _grid(len(sites), 3.6, 2.6)
    for ax, j in zip(axes, sites, strict=True):
        if full is not None:
            q = np.quantile(
                _sample(full.values[:, j], full.probabilities, MAX_STAT_SCENARIOS, seed),
                (0.05, 0.95),
                axis=0,
            )
            ax.fill_between(hours, q[0], q[1], color="#cccccc", lw=0)
        _draw_scenarios(ax, hours, red.values[:, j], red)
        ax.set_title(red.sites[j], fontsize=9)
        ax.set_xlabel("hour of day")
        ax.set_ylabel("output [p.u.]")
        ax.set_xlim(hours[0], hours[-1])
        ax.set_ylim(0, max(1.0, float(red.values[:, j].max())) * 1.02)
        ax.grid(alpha=0.3)
    extra = [(Patch(color="#cccccc"), "full set 5–95 %")] if full is not None else []
    _probability_legend(fig, red, extra)
    return fig


def _fig_reduction(
    curve: Sequence[tuple[int, float]] | None,
    sizes: pd.Series | None,
    info: dict[str, Any] | None,
) -> Figure:
    """The distance against K (when ``curve`` is given) and the cluster sizes (``sizes``).

    Parameters
    ----------
    curve : list of (int, float), optional
        ``(K, distance)`` points, K increasing.
    sizes : pandas.Series, optional
        Scenarios per medoid, largest cluster first.
    info : dict, optional
        ``reduction.json``: its ``k`` is marked on the curve, its ``max_distance`` drawn.
    """
    panels = [w for w, x in (("curve", curve), ("sizes", sizes)) if x is not None]
    fig = _figure(5.2 * len(panels), 3.0)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, what in zip(axes, panels, strict=True):
        if what == "curve":
            _draw_distance_curve(ax, curve, info or {})
        else:
            _draw_cluster_sizes(ax, sizes)
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
    return fig


def _draw_distance_curve(ax: Axes, curve: Sequence[tuple[int, float]], info: dict) -> None:
    """The distance against K, the chosen K marked (log K axis over a wide range of K)."""
    from matplotlib.ticker import ScalarFormatter

    ks, ds = zip(*curve, strict=True)
    ax.plot(ks, ds, marker="o", ms=3, color=GENERATED)
    k_sel = info.get("k")
    if k_sel is not None and int(k_sel) in dict(curve):
        ax.plot(
            [int(k_sel)],
            [dict(curve)[int(k_sel)]],
            "o",
            color=MEASURED,
            ms=7,
            label=f"chosen K = {k_sel}",
        )
        ax.legend(fontsize=8)
    if info.get("max_distance") is not None:
        ax.axhline(float(info["max_distance"]), color=MEASURED, ls="--", lw=1)
    if max(ks) / max(1, min(ks)) >= 20:
        ax.set_xscale("log")
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


def _draw_cluster_sizes(ax: Axes, sizes: pd.Series) -> None:
    """Bars of the scenarios per medoid (medoids named when there are at most 25)."""
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


# ---------------------------------------------------------------------- decision test


def _decision_rows(t: pd.DataFrame) -> pd.DataFrame | None:
    """The reduced sets' rows of a decision table (``kind == "reduced"``, or every row but the
    first when there is no ``kind``); ``None`` when there is nothing for :func:`_fig_decision`."""
    red = (
        t[t.get("kind", pd.Series(["reduced"] * len(t))) == "reduced"]
        if "kind" in t
        else t.iloc[1:]
    )
    if len(red) and {"n_scenarios", "gap_to_full_pct", "out_of_sample_cost"} <= set(t.columns):
        return red
    return None


def _fig_decision(t: pd.DataFrame, red: pd.DataFrame) -> Figure:
    """Costs of the decision taken with K scenarios (left) and the cost gaps (right) against K.

    Parameters
    ----------
    t : pandas.DataFrame
        The decision table (:attr:`scengen.decision.DecisionResult.table`), the full set first.
    red : pandas.DataFrame
        Its reduced sets' rows (:func:`_decision_rows`).
    """
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
    return fig
