"""The pages: :func:`render_report` (one or more jobs), :func:`write_report` and the batch
index :func:`render_index`; :class:`ReportConfig` is the ``report`` section of a config."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scengen import _io
from scengen.report._html import _e, _kv, _page
from scengen.report._load import Job, _jobs
from scengen.report.compare import _comparison, _side_by_side
from scengen.report.verdict import _verdicts


def _sections() -> tuple[tuple[str, str, Callable[[Job], str]], ...]:
    """The sections of a job's part: :data:`scengen.report.SECTIONS`, looked up on the package
    at each call, so that replacing ``scengen.report.SECTIONS`` changes every page."""
    import scengen.report

    return scengen.report.SECTIONS


def _job_html(job: Job, n: int, tick: Callable[[], None] = lambda: None) -> str:
    """The part of the page of one job (the ``n``-th): its name, a table of contents and every
    section of :data:`scengen.report.SECTIONS`; ``tick()`` after each section.

    A section that raises is replaced by a warning with the error and where it was raised.
    """
    anchor = f"job{n}"
    sections = _sections()
    toc = f'<a href="#{anchor}-verdict">Verdict</a>' + "".join(
        f'<a href="#{anchor}-{key}">{_e(title)}</a>' for key, title, _ in sections
    )
    out = [
        f'<section class="job" id="{anchor}"><h2>{_e(job.name)}</h2>',
        f'<p class="sub">{_e(str(job.path))}</p><nav class="toc">{toc}</nav>',
    ]
    for key, title, fn in sections:
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
        Run directories (see :mod:`scengen.report` for what is read from them).
    title : str, optional
        Page title (default: ``"scengen report: <job names>"``).
    seed : int, default 0
        Seed of the random subset of scenarios used for the statistics of sets larger than
        :data:`~scengen.report._plot.MAX_STAT_SCENARIOS` (same seed, same figures).
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
    total, done = len(jobs) * len(_sections()), [0]

    def tick() -> None:
        """Count a rendered section and report the progress."""
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
