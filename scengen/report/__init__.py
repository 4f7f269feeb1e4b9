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

Modules
-------
:mod:`~scengen.report.render`
    The pages: :func:`render_report`, :func:`write_report`, :func:`render_index`,
    :class:`ReportConfig`.
:mod:`~scengen.report.verdict`
    The verdict at the top of every page.
:mod:`~scengen.report.sections`
    The sections of a job (:data:`SECTIONS`): each ``_section_*`` function assembles HTML.
:mod:`~scengen.report.figures`
    The figures: each ``_fig_*`` function computes and draws one and returns a
    :class:`matplotlib.figure.Figure`; ``_plot`` holds what they share (colours, layout, legend).
:mod:`~scengen.report.compare`
    The table comparing several jobs.
``_load``, ``_html``
    Reading a job directory (:class:`Job`, :func:`load_job`); the HTML building blocks and the
    page's CSS.

Names with a leading underscore are internal to the package (a module may use another's).
``scengen.report.SECTIONS`` is read at each call, so replacing it changes the sections rendered.
"""

from __future__ import annotations

from scengen.report._load import Job, load_job
from scengen.report.figures import _fig_fan as _fig_fan
from scengen.report.figures import _fig_training as _fig_training
from scengen.report.render import ReportConfig as ReportConfig
from scengen.report.render import render_index, render_report, write_report
from scengen.report.sections import SECTIONS as SECTIONS

__all__ = ["render_report", "write_report", "render_index", "load_job", "Job"]
