"""HTML reports: content, self-containedness (static and in headless Chromium), index, CLI."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from scengen.cli import cli
from scengen.data import Profiles, save_split
from scengen.decision import StorageProblem, decision_test, write_decision
from scengen.errors import ScengenError
from scengen.report import load_job, render_index, render_report, write_report
from scengen.scenarios import ScenarioSet, write_scenarios

CHROMIUM = "/usr/bin/chromium"
SITES = ["wf1", "wf2", "wf3"]


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
    evaluation = {"table": table, "ratios": ratios, "heldout_nn_distance": 0.6, "seed": 3}
    write_scenarios(full, d / "scenarios", extra_files={"evaluation.json": evaluation})
    idx = np.array([3, 17, 40, 88, 120])
    p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
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
            "evaluation.json": evaluation,
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
    # per job: data, training, fans, marginals, acf/psd/ramps, correlation, reduced,
    # curve + cluster sizes, decision (not in the second job)
    assert len(refs.imgs) == 9 + 8
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
    assert len(assert_self_contained(html).imgs) == 5  # data, fans, marginals, stats, reduced


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
