"""HTML reports: the verdict at the top, content, self-containedness (static and in headless
Chromium), printing to PDF, index, CLI."""

from __future__ import annotations

import base64
import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from scengen.cli import cli
from scengen.data import Profiles, save_split
from scengen.decision import StorageProblem, decision_test, read_decision, write_decision
from scengen.errors import ScengenError
from scengen.evaluate import EvaluationResult
from scengen.report import load_job, render_index, render_report, write_report
from scengen.scenarios import ScenarioSet, write_scenarios

CHROMIUM = "/usr/bin/chromium"
SITES = ["wf1", "wf2", "wf3"]
#: probabilities of the reduced set of make_job
PROBS = (0.4, 0.25, 0.15, 0.12, 0.08)
#: the quality checks make_job's evaluation.json files record
QUALITY_CHECKS = {
    "generated": [
        {"check": "wasserstein <= 1.00 x history", "value": 0.91, "limit": 1.07, "ok": True},
        {
            "check": "nn_distance >= 0.9 x held-out nn_distance",
            "value": 0.31,
            "limit": 0.54,
            "ok": False,
        },
    ],
    "reduced": [
        {"check": "wasserstein <= 1.00 x history", "value": 1.25, "limit": 1.07, "ok": False},
        {
            "check": "nn_distance >= 0.9 x held-out nn_distance",
            "value": 0.66,
            "limit": 0.54,
            "ok": True,
        },
    ],
}


def _days(n: int, seed: int) -> np.ndarray:
    """Smooth correlated daily profiles in [0, 1], shape (n, 3, 24)."""
    rng = np.random.default_rng(seed)
    t = np.arange(24) / 24
    level = rng.uniform(0.05, 0.8, (n, 1, 1))
    wave = 0.2 * np.sin(2 * np.pi * t + rng.uniform(0, 2 * np.pi, (n, 1, 1)))
    noise = 0.05 * rng.standard_normal((n, 3, 24)).cumsum(axis=2) / 5
    return np.clip(level + wave + noise, 0, 1)


def make_job(root: Path, name: str = "wind", *, decision: bool = True) -> Path:
    """A complete job directory from synthetic data (no GAN trained)."""
    d = root / name
    dates = np.arange("2020-01-01", "2020-03-01", dtype="datetime64[D]")  # 60 days
    vals = _days(len(dates), 1)
    test = np.zeros(len(dates), bool)
    test[::4] = True
    common = dict(sites=SITES, step_minutes=60, source="synthetic.csv")
    train = Profiles(values=vals[~test], dates=dates[~test], **common)
    held = Profiles(values=vals[test], dates=dates[test], **common)
    save_split(d, train, held)
    (d / "config.yaml").write_text("data:\n  path: synthetic.csv\ntrain:\n  steps: 200\n")
    meta = {
        "seed": 3,
        "device": "cpu",
        "versions": {"python": "3.11", "scengen": "0.1.0"},
        "data": {
            "source": "synthetic.csv",
            "sites": SITES,
            "capacities": [1.0, 1.0, 1.0],
            "units": "p.u.",
            "step_minutes": 60,
            "first_date": "2020-01-01",
            "last_date": "2020-02-29",
            "n_days": 60,
            "n_dropped_days": 2,
            "n_clipped": 0,
            "n_train": int((~test).sum()),
            "n_test": int(test.sum()),
        },
        "status": "complete",
        "timings": {"train_s": 12.5},
    }
    (d / "metadata.json").write_text(json.dumps(meta))
    steps = np.arange(0, 201, 10)
    w = 1.0 + np.exp(-steps / 50)
    pd.DataFrame(
        {
            "step": steps,
            "critic_loss": -w,
            "wasserstein": w,
            "gradient_penalty": 0.1 * w,
            "generator_loss": 0.5 * w,
            "time_s": steps * 0.1,
        }
    ).to_csv(d / "metrics.csv", index=False)
    full = ScenarioSet(_days(150, 2), sites=SITES, metadata={"kind": "generated", "seed": 3})
    table = {
        row: {"energy_score": 1.0 + i / 10, "crps": 0.1, "nn_distance": 0.5}
        for i, row in enumerate(("scenarios", "history", "copula"))
    }
    ratios = {row: {m: v / table["history"][m] for m, v in r.items()} for row, r in table.items()}
    evaluation = {
        "table": table,
        "ratios": ratios,
        "heldout_nn_distance": 0.6,
        "quality_checks": QUALITY_CHECKS["generated"],
        "seed": 3,
        "n_scenarios": 150,
        "n_heldout": 15,
    }
    write_scenarios(full, d / "scenarios", extra_files={"evaluation.json": evaluation})
    idx = np.array([3, 17, 40, 88, 120])
    p = np.array(PROBS)
    red = full.subset(idx, probabilities=p, method="pam")
    assignment = pd.DataFrame(
        {"scenario": full.ids, "medoid": idx[np.arange(150) % 5], "cost": np.ones(150)}
    )
    reduction = {
        "method": "pam",
        "metric": "euclidean",
        "k": 5,
        "distance": 1.2,
        "distance_exact": 1.2,
        "curve": {"1": 3.0, "2": 2.2, "5": 1.2, "10": 0.8},
        "seconds": 0.1,
        "seed": 3,
    }
    write_scenarios(
        red,
        d / "reduced",
        extra_files={
            "reduction.json": reduction,
            "assignment.csv": assignment,
            "evaluation.json": {
                **evaluation,
                "quality_checks": QUALITY_CHECKS["reduced"],
                "n_scenarios": 5,
            },
        },
    )
    if decision:
        heldout = held.to_scenarios()
        reduced = {1: full.subset([3]), 5: red}
        res = decision_test(full.subset(np.arange(60)), heldout, reduced, StorageProblem())
        write_decision(res, d)
    (d / "export" / "long").mkdir(parents=True)
    (d / "export" / "long" / "scenarios.csv").write_text("scenario,site,step,value\n")
    return d


def bare_job(root: Path, name: str = "bare") -> Path:
    """A job directory with only metadata.json and metrics.csv (cheap to render)."""
    d = root / name
    d.mkdir(parents=True)
    (d / "metadata.json").write_text(json.dumps({"seed": 1, "device": "cpu"}))
    (d / "metrics.csv").write_text("step,critic_loss,wasserstein\n0,-1,1\n10,-0.5,0.5\n")
    return d


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Path:
    return make_job(tmp_path_factory.mktemp("jobs"))


@pytest.fixture(scope="module")
def two_jobs(tmp_path_factory, job) -> tuple[Path, str]:
    """Two full jobs and their report (rendered once for several tests)."""
    root = tmp_path_factory.mktemp("two")
    other = make_job(root, "pv", decision=False)
    return root, render_report([job, other], title="Test report")


class _Refs(HTMLParser):
    """Collect tags and every attribute that could make the browser fetch something."""

    URL_ATTRS = {"src", "href", "srcset", "data", "action", "poster", "background", "formaction"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.imgs: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in self.URL_ATTRS and v is not None:
                self.urls.append((tag, k, v))
            if k == "style" and v:
                self.styles.append(v)
        if tag == "img":
            self.imgs.append(dict(attrs).get("src") or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def assert_self_contained(html: str, *, allow_relative_links: bool = False) -> _Refs:
    refs = _Refs()
    refs.feed(html)
    for bad in ("script", "link", "iframe", "object", "embed", "base", "frame"):
        assert bad not in refs.tags, f"<{bad}> in the report"
    for tag, attr, url in refs.urls:
        if url.startswith("#"):
            continue
        if tag == "img" and attr == "src" and url.startswith("data:image/png;base64,"):
            continue
        if allow_relative_links and tag == "a" and attr == "href":
            assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, re.I), url
            continue
        raise AssertionError(f"<{tag} {attr}={url[:60]!r}> refers outside the file")
    css = "\n".join(refs.styles)
    assert "@import" not in css and "url(" not in css
    assert "@font-face" not in css
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.I)
    return refs


# ---------------------------------------------------------------------- content


def test_report_has_every_section_and_valid_images(two_jobs):
    html = two_jobs[1]
    for heading in (
        "Data",
        "Training",
        "Realism: generated vs measured",
        "Evaluation table",
        "Reduction",
        "Decision test: battery sizing",
        "Metadata",
    ):
        assert html.count(f">{heading}</h3>") == 2
    refs = assert_self_contained(html)
    # per job: verdict (reduced set beside the held-out days), data, training, fans, marginals,
    # acf/psd/ramps, correlation, reduced, curve + cluster sizes, decision (not in the second job)
    assert len(refs.imgs) == 10 + 9
    for src in refs.imgs:
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"matplotlib.org" not in png  # metadata stripped
    assert '<p class="warn">' not in html
    assert "<title>Test report</title>" in html
    # numbers that must be shown
    assert "held-out days" in html and ">15<" in html  # 15 held-out days
    assert "dropped days" in html
    assert "energy_score" in html and "copula" in html
    assert "chosen K = 5" not in html  # (that is inside the figure, not text)
    assert "K=5" in html and "oracle" in html
    assert "export/long/scenarios.csv" in html
    assert "steps: 200" in html  # config.yaml
    assert "(seed 0)" in html
    assert len(html) < 3_000_000


def test_one_site_few_steps(tmp_path):
    """Edge shapes: one site, 4 steps of 6 h, a reduced set of one scenario."""
    d = tmp_path / "tiny"
    rng = np.random.default_rng(0)
    dates = np.arange("2021-01-01", "2021-01-21", dtype="datetime64[D]")
    v = rng.uniform(0, 1, (20, 1, 4))
    common = dict(sites=["pv"], step_minutes=360, source="x.csv")
    save_split(d, Profiles(v[:15], dates[:15], **common), Profiles(v[15:], dates[15:], **common))
    full = ScenarioSet(rng.uniform(0, 1, (30, 1, 4)), sites=["pv"], step_minutes=360)
    write_scenarios(full, d / "scenarios")
    write_scenarios(full.subset([4], probabilities=[1.0]), d / "reduced")
    html = render_report([d])
    assert "failed" not in html and '<p class="warn">' not in html
    assert "One site: no cross-site correlation." in html
    assert "No training curves" in html
    # verdict, data, fans, marginals, stats, reduced
    assert len(assert_self_contained(html).imgs) == 6
    assert "Quality checks:</b> not evaluated" in html


def test_missing_parts_are_noted(tmp_path):
    d = tmp_path / "meta-only"
    d.mkdir()
    (d / "metadata.json").write_text(json.dumps({"seed": 1, "device": "cpu"}))
    html = render_report([d])
    assert "No training curves" in html
    assert "No generated scenarios" in html
    assert "No reduction" in html
    assert "No decision test" in html
    assert "No evaluation" in html
    assert_self_contained(html)


def test_broken_file_is_reported_not_fatal(tmp_path, job):
    d = tmp_path / "broken"
    shutil.copytree(job / "scenarios", d / "scenarios")
    shutil.copy(job / "metadata.json", d / "metadata.json")
    (d / "scenarios" / "evaluation.json").write_text("{not json")
    (d / "metrics.csv").write_text("a,b\n1,2\n")
    html = render_report([d])
    assert html.count('<p class="warn">') == 2
    assert "evaluation.json is not valid JSON" in html
    assert "has no &#x27;step&#x27; column" in html
    assert "training days</th><td>45<" in html  # the rest still renders


def test_failing_section_does_not_cost_the_report(tmp_path, monkeypatch):
    import scengen.report as rep

    def boom(job):
        raise RuntimeError("bad figure")

    sections = tuple((k, t, boom if k == "training" else f) for k, t, f in rep.SECTIONS)
    monkeypatch.setattr(rep, "SECTIONS", sections)
    html = render_report([bare_job(tmp_path)])
    assert "This section failed: RuntimeError: bad figure" in html
    assert ">Metadata</h3>" in html and "device" in html


def test_several_jobs_comparison(tmp_path, two_jobs):
    html = two_jobs[1]
    assert ">Comparison</h2>" in html
    assert html.count('<section class="job"') == 2
    assert "energy_score / history (gen)" in html
    assert "decision gap K=5 [%]" in html
    assert_self_contained(html)
    # the same folder name twice is told apart by the parent folder
    a, b = bare_job(tmp_path / "one", "wind"), bare_job(tmp_path / "again", "wind")
    html = render_report([a, b])
    assert "one/wind" in html and "again/wind" in html


def test_write_report_and_errors(tmp_path):
    out = write_report([bare_job(tmp_path)], tmp_path / "sub" / "r.html")
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["r.html"]  # no temporary left
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_report([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScengenError, match="holds nothing to report"):
        render_report([tmp_path / "empty"])
    with pytest.raises(ScengenError, match="no run directory"):
        render_report([])
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ScengenError, match="not a run directory"):
        load_job(tmp_path / "file.txt")


def test_index_links_relative(tmp_path):
    a = make_job(tmp_path / "reports", "wind", decision=False)
    b = bare_job(tmp_path / "reports", "pv")
    (a / "report.html").write_text("<html></html>")
    out = render_index([a, b], tmp_path / "reports" / "index.html", failed={"bad": "boom"})
    html = out.read_text()
    assert '<a href="wind/report.html">wind</a>' in html
    assert "pv/report.html" not in html  # no report written for pv: no link
    assert "Failed jobs" in html and "boom" in html
    assert_self_contained(html, allow_relative_links=True)
    # the verdict first, one block per job, named and linked to the job's report
    v = _verdict(html)
    assert html.index('id="verdict"') < html.index(">Comparison</h2>")
    assert v.count('<div class="verdict"') == 2
    assert '<h3><a href="wind/report.html">wind</a></h3>' in v and "<h3>pv</h3>" in v
    assert v.count("<b>PASS</b>") == 2 and v.count("<b>FAIL</b>") == 2  # wind's checks
    assert "Quality checks:</b> not evaluated" in v  # pv has none
    assert v.count("Decision test (battery sizing):</b> not run") == 2
    assert v.count("<img ") == 1  # wind's reduced set; pv has none
    assert "Reduced set:</b> none" in v


# ---------------------------------------------------------------------- verdict


def _verdict(html: str) -> str:
    """The verdict section at the top of a report or index page."""
    m = re.search(r'<section class="verdicts" id="verdict">(.*?)</section>', html, re.S)
    assert m, "no verdict section"
    return m.group(1)


def _text(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_verdict_comes_first(job):
    html = render_report([job])
    v = _verdict(html)
    assert html.index('id="verdict"') < html.index('<section class="job"')
    assert html.index('id="verdict"') < html.index(">Data</h3>")
    # one line per check with what it tests, its threshold and, per set, PASS/FAIL and the value
    assert "against the 15 held-out days" in v
    head, body = v.split("<tbody>", 1)
    assert "generated set (N = 150)" in head and "reduced set (K = 5)" in head
    assert head.count("1 of 2 pass") == 2
    rows = [_text(r) for r in re.findall(r"<tr>(.*?)</tr>", body.split("</tbody>")[0])]
    assert rows == [
        "wasserstein ≤ 1.00 × history as close to the held-out days as resampled history "
        "≤ 1.07 PASS 0.91 FAIL 1.25",
        "nn_distance ≥ 0.9 × held-out nn_distance not copies of training days "
        "≥ 0.54 FAIL 0.31 PASS 0.66",
    ]
    # coloured, and the words say it without colour
    assert '<td class="pass"><b>PASS</b> 0.91</td>' in v
    assert '<td class="fail"><b>FAIL</b> 0.31</td>' in v
    # the decision test in one line: the reduced set's K first, the other K after it
    t = read_decision(job).table.set_index("set")
    gap = {k: t.loc[f"K={k}", "gap_to_full_pct"] for k in (1, 5)}
    line = _text(re.search(r'<p class="line decision">(.*?)</p>', v).group(1))
    assert line.startswith(
        f"Decision test (battery sizing): storage sized with K = 5 scenarios costs "
        f"{gap[5]:+.1f} % out of sample vs the full set (N = 60) on the 15 held-out days "
        f"(other sets: K = 1: {gap[1]:+.1f} %)."
    ), line
    assert "over the best possible one for those days (oracle)" in line
    # the reduced set beside the held-out days
    assert v.count("<img ") == 1
    assert 'alt="the 5 reduced scenarios with their probabilities beside the held-out days"' in v
    assert "K = 5 scenarios (right) beside the 15 held-out measured days (left)" in v
    # the quality checks are a table in the evaluation section too, not a run-on cell
    ev = html.split(">Evaluation table</h3>", 1)[1].split("<h3", 1)[0]
    assert ev.count('<table class="checks">') == 2
    assert "quality_checks" not in ev


def test_verdict_says_what_is_missing(tmp_path):
    d = tmp_path / "meta-only"
    d.mkdir()
    (d / "metadata.json").write_text(json.dumps({"seed": 1}))
    v = _verdict(render_report([d]))
    lines = [_text(x) for x in re.findall(r'<p class="line[^"]*">(.*?)</p>', v)]
    assert lines == [
        "Quality checks: not evaluated (no evaluation.json; run scengen evaluate).",
        "Decision test (battery sizing): not run (no decision.json; run scengen evaluate "
        "<run>/scenarios --against <run> --decision storage).",
        "Reduced set: none (no reduced/; run scengen reduce <run>/scenarios -k 10 --out "
        "<run>/reduced).",
    ]
    assert "<img " not in v and "<table" not in v


def test_verdict_recomputes_checks_of_older_evaluation_files(tmp_path, job):
    """An evaluation.json without a quality_checks list gets them from its table."""
    d = tmp_path / "old"
    shutil.copytree(job / "scenarios", d / "scenarios")
    metrics = ("wasserstein", "autocorr_error", "ramp_wasserstein", "nn_distance")
    table = {
        "scenarios": dict(zip(metrics, (1.0, 0.02, 0.3, 0.5), strict=True)),
        "history": dict(zip(metrics, (1.1, 0.01, 0.1, 0.0), strict=True)),
        "copula": dict(zip(metrics, (1.2, 0.03, 0.2, 0.4), strict=True)),
    }
    ev = {"table": table, "heldout_nn_distance": 0.6}
    (d / "scenarios" / "evaluation.json").write_text(json.dumps(ev))
    v = _verdict(render_report([d]))
    expected = EvaluationResult(pd.DataFrame(table).T, heldout_nn_distance=0.6).quality_checks()
    assert expected["ok"].tolist() == [True, False, False, True, False]
    for r in expected.itertuples():
        pretty = r.check.replace("<=", "≤").replace(">=", "≥").replace(" x ", " × ")
        word = "PASS" if r.ok else "FAIL"
        assert re.search(rf"<tr><th[^>]*>{re.escape(pretty)}</th>((?!</tr>).)*<b>{word}</b>", v)
    assert "2 of 5 pass" in v
    # an evaluation without the reference rows has no checks: said in one line
    ev = {"table": {"scenarios": table["scenarios"]}, "quality_checks": []}
    (d / "scenarios" / "evaluation.json").write_text(json.dumps(ev))
    v = _verdict(render_report([d]))
    assert "Quality checks:</b> none (evaluated without training days" in v


def test_fan_chart_colours_legend_and_widths():
    from matplotlib.colors import to_rgb

    from scengen.report import _fig_fan

    p = np.array([0.05, 0.3, 0.1, 0.2, 0.15, 0.02, 0.08, 0.04, 0.03, 0.03])
    red = ScenarioSet(_days(10, 5), probabilities=p, sites=SITES, ids=np.arange(100, 110))
    held = ScenarioSet(_days(12, 6), sites=SITES)
    fig = _fig_fan(red, held)
    ax_m, ax_r = fig.axes[:2]
    assert ax_m.get_title() == "measured: 12 held-out days"
    assert len(ax_m.get_lines()) == 12 + 1  # every day and the median
    scen = [ln for ln in ax_r.get_lines() if ln.get_linestyle() == "-"]  # (the median: dashed)
    assert len(scen) == 10
    # ten distinguishable colours (not shades of one hue), none of them grey
    rgb = [np.array(to_rgb(ln.get_color())) for ln in scen]
    assert min(np.linalg.norm(a - b) for a, b in itertools.combinations(rgb, 2)) > 0.15
    assert all(np.ptp(c) > 0.1 or c.max() < 0.05 for c in rgb)  # coloured or black
    # drawn least probable first, line width grows with the probability
    widths = [ln.get_linewidth() for ln in scen]
    assert widths == sorted(widths) and widths[-1] > 2.5 * widths[0]
    # legend: sorted by probability, with the probabilities, readable size
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    order = np.argsort(-p, kind="stable")
    assert texts == [f"#{100 + i}   p = {p[i]:.3f}" for i in order] + [
        "held-out 5–95 %",
        "held-out median",
    ]
    assert min(t.get_fontsize() for t in legend.get_texts()) >= 9
    # legend colours are those of the lines
    by_id = {f"#{100 + i}": scen[list(np.argsort(p, kind="stable")).index(i)] for i in range(10)}
    for h, t in zip(legend.legend_handles[:10], texts[:10], strict=True):
        assert h.get_color() == by_id[t.split()[0]].get_color()

    # many scenarios: a perceptual colormap, 10 named in the legend and the rest summed
    q = np.full(25, 1 / 25)
    fig = _fig_fan(ScenarioSet(_days(25, 7), probabilities=q, sites=SITES))
    (ax,) = fig.axes
    assert len({ln.get_color() for ln in ax.get_lines()}) == 25
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 11 and texts[-1] == "15 others: Σp = 0.600"


def test_training_curves_of_short_runs_are_solid():
    from scengen.report import _fig_training

    panels = [("critic_loss", "critic loss", "E[D(fake)] − E[D(real)] + λ·GP")]
    short = pd.DataFrame({"step": [25, 50, 60], "critic_loss": [-0.9, -3.7, -3.9]})
    (line,) = _fig_training(short, panels).axes[0].get_lines()
    assert line.get_marker() == "o" and line.get_alpha() in (None, 1.0)
    assert line.get_linewidth() >= 1.5
    steps = np.arange(0, 3000, 10)
    long = pd.DataFrame({"step": steps, "critic_loss": np.sin(steps / 100)})
    raw, mean = _fig_training(long, panels).axes[0].get_lines()
    assert raw.get_alpha() < 1 and mean.get_alpha() in (None, 1.0)
    assert mean.get_label().startswith("moving mean")


def test_validation_curve_is_shown_with_the_best_step(tmp_path):
    """A run trained with validation days: the report shows the validation curve (the three
    ratios with their limits, the score) and the best step, whose weights it samples with."""
    d = tmp_path / "val"
    d.mkdir()
    (d / "metadata.json").write_text(
        json.dumps({"seed": 1, "device": "cpu", "best_step": 50, "status": "stopped early: x"})
    )
    (d / "metrics.csv").write_text(
        "step,critic_loss,wasserstein,gradient_penalty,generator_loss,time_s,"
        "val_w1_ratio,val_acf_ratio,val_ramp_ratio,val_score\n"
        "25,-1,1,0.1,1,1,,,,\n50,-1,1,0.1,1,2,1.0,1.2,0.9,0.8\n"
        "75,-1,1,0.1,1,3,,,,\n100,-1,1,0.1,1,4,1.1,1.6,1.4,0.99\n"
    )
    page = render_report([d])
    assert "validation curve" in page and "best validated step" in page
    from scengen.report.figures import _fig_validation

    fig = _fig_validation(pd.read_csv(d / "metrics.csv"), 50)
    ratios, score = fig.axes[:2]
    assert [ln.get_label() for ln in ratios.get_lines()[:5:2]] == ["W1", "ACF error", "ramp W1"]
    (curve,) = [
        ln for ln in score.get_lines() if len(ln.get_xdata()) == 2 and ln.get_marker() == "."
    ]
    assert list(curve.get_xdata()) == [50, 100] and list(curve.get_ydata()) == [0.8, 0.99]
    assert any(list(ln.get_xdata()) == [50, 50] for ln in score.get_lines())  # the best step


# ---------------------------------------------------------------------- CLI


def test_cli_report(tmp_path):
    job = bare_job(tmp_path)
    out = tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["report", str(job), "--out", str(out), "--title", "T1"])
    assert r.exit_code == 0, r.output
    assert "<title>T1</title>" in out.read_text()
    cfg = tmp_path / "c.yaml"
    cfg.write_text("report:\n  title: From config\n  seed: 4\n")
    r = CliRunner().invoke(cli, ["report", str(job), "--out", str(out), "--config", str(cfg)])
    assert r.exit_code == 1 and "--overwrite" in r.output, r.output
    args = ["report", str(job), "--out", str(out), "--config", str(cfg), "--overwrite"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "<title>From config</title>" in text and "(seed 4)" in text
    r = CliRunner().invoke(cli, ["report", str(job), "--index", "--out", str(tmp_path / "i.html")])
    assert r.exit_code == 0, r.output
    assert "batch results" in (tmp_path / "i.html").read_text()


@pytest.mark.parametrize(
    "args, match",
    [
        (["{missing}", "--out", "{out}"], "does not exist"),
        (["{empty}", "--out", "{out}"], "holds nothing to report"),
        (["{job}", "--out", "{tmp}"], "is a directory"),
        (["{job}", "--out", "{tmp}/r.pdf"], "must end in .html"),
        (["{job}", "--out", "{out}", "--config", "{cfg}"], "unknown key 'colour'"),
        (["{job}", "--out", "{out}", "--config", "{tmp}/none.yaml"], "does not exist"),
    ],
)
def test_cli_errors(tmp_path, args, match):
    job = bare_job(tmp_path / "jobs")
    (tmp_path / "empty").mkdir()
    (tmp_path / "c.yaml").write_text("report:\n  colour: red\n")
    subst = {
        "missing": tmp_path / "missing",
        "empty": tmp_path / "empty",
        "job": job,
        "out": tmp_path / "r.html",
        "tmp": tmp_path,
        "cfg": tmp_path / "c.yaml",
    }
    argv = ["report", *(a.format(**subst) for a in args)]
    r = CliRunner().invoke(cli, argv)
    assert r.exit_code == 1, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "r.html").exists()
    assert not list(tmp_path.glob(".r.html*"))


# ---------------------------------------------------------------------- headless Chromium

PROBE = """<script>
window.addEventListener('load', function () {
  var im = document.images, ok = 0;
  for (var i = 0; i < im.length; i++) { if (im[i].complete && im[i].naturalWidth > 0) ok++; }
  document.body.setAttribute('data-img-total', im.length);
  document.body.setAttribute('data-img-ok', ok);
  document.body.setAttribute('data-resources', performance.getEntriesByType('resource').length);
});
</script>"""


def _chromium(page: Path, tmp: Path) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium; return the DOM and the URLs the page requested."""
    netlog = tmp / f"{page.stem}.netlog.json"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp)}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    log = json.loads(netlog.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requested = []
    for ev in log["events"]:
        p = ev.get("params") or {}
        if types.get(ev["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        # the browser's own background requests have no origin; the page's are from file://
        from_page = p.get("initiator") != "not an origin" or "file://" in str(
            p.get("network_isolation_key", "")
        )
        if from_page and not p["url"].startswith(("file:", "data:")):
            requested.append(p["url"])
    return r.stdout, requested


def _probe(html: str, path: Path) -> Path:
    path.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    return path


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} not installed (Debian package 'chromium'; .ci/run installs it)",
)
def test_report_in_headless_chromium(tmp_path, two_jobs):
    html = two_jobs[1]
    n_img = len(re.findall(r"<img ", html))
    dom, requested = _chromium(_probe(html, tmp_path / "report.html"), tmp_path)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert f'data-img-total="{n_img}"' in body and f'data-img-ok="{n_img}"' in body, body
    assert 'data-resources="0"' in body, body
    assert requested == []
    # negative control: the same check sees a page that does fetch from outside
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    dom, requested = _chromium(bad, tmp_path)
    assert set(requested) == {"http://127.0.0.1:9/x.png"}


PDF_TEXT = shutil.which("pdftotext") is not None or importlib.util.find_spec("pypdf") is not None


def _print_pdf(page: Path, tmp: Path) -> Path:
    """Print ``page`` to PDF with headless Chromium (what "Save as PDF" does)."""
    pdf = tmp / f"{page.stem}.pdf"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp)}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and pdf.is_file(), r.stderr[-2000:]
    return pdf


def _pdf_text(pdf: Path, first_page: bool = False) -> str:
    """The text of a PDF (pdftotext from poppler-utils, else pypdf)."""
    if shutil.which("pdftotext"):
        pages = ["-f", "1", "-l", "1"] if first_page else []
        r = subprocess.run(
            ["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr
        return r.stdout
    from pypdf import PdfReader

    pages = PdfReader(pdf).pages
    return "\n".join(pg.extract_text() for pg in (pages[:1] if first_page else pages))


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not PDF_TEXT,
    reason=f"needs {CHROMIUM} (Debian package 'chromium') and pdftotext (Debian package "
    "'poppler-utils') or pypdf",
)
def test_report_prints_everything_to_pdf(tmp_path, job):
    html = render_report([job])
    assert html.count("<details>") >= 2  # collapsed on screen: problem parameters, settings
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    pdf = _print_pdf(page, tmp_path)
    first, text = _pdf_text(pdf, first_page=True), _pdf_text(pdf)
    # the verdict is the first page: the checks as words, the decision test
    assert "Quality checks" in first and "Decision test (battery sizing)" in first
    assert first.count("PASS") == 2 and first.count("FAIL") == 2
    assert "storage sized with K = 5 scenarios" in " ".join(first.split())
    # every probability of the reduced set
    for p in PROBS:
        assert f"{p:.4f}" in text
    # the content of the collapsed boxes: problem parameters (the default demand) and the
    # evaluation settings
    assert "17:00" in text and "n_heldout" in text
    # negative control: without the print rule a collapsed box's content is not printed
    bare = tmp_path / "no-print-rule.html"
    bare.write_text(html.replace("details::details-content", "details::no-such-part"), "utf-8")
    text = _pdf_text(_print_pdf(bare, tmp_path))
    assert "17:00" not in text and "n_heldout" not in text
    assert f"{PROBS[0]:.4f}" in text  # the probabilities are not collapsed at all
