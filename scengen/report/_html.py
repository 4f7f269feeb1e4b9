"""HTML building blocks of the report pages: escaping, number formats, tables, embedded
figures and the page around them (inline CSS, no scripts, nothing loaded from elsewhere)."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scengen import __version__, _io

if TYPE_CHECKING:
    from scengen.report._load import Job

#: resolution of the embedded figures [dots per inch]
DPI = 100


def _e(x: Any) -> str:
    """``str(x)`` escaped for HTML text and attribute values."""
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    """Compact number formatting for tables.

    ``None`` and non-finite numbers are "–", booleans "yes"/"no", integers with thousands
    separators, floats with 4 significant digits (scientific when tiny or huge); lists and dicts
    element by element (at most 12 elements of a list).
    """
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


def _ratio(v: Any) -> str:
    """A ratio with 3 decimals ("–" when not finite; :func:`_fmt` when not a number)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return _fmt(v)
    return f"{v:.3f}" if math.isfinite(v) else "–"


def _table(
    df: pd.DataFrame,
    *,
    index: bool = False,
    cls: str = "",
    formats: dict[str, Callable[[Any], str]] | None = None,
    raw_html: Sequence[str] = (),
) -> str:
    """An HTML table of ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows and columns.
    index : bool, default False
        Show the index as a first column of row headings.
    cls : str
        CSS class of the table.
    formats : dict, optional
        ``{column: formatter}``; the other cells are formatted by :func:`_fmt`.
    raw_html : sequence of str
        Columns whose cells are HTML already (inserted as they are).

    Returns
    -------
    str
        The table; numeric cells get the class ``num``.
    """
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
    """A two-column table: a heading (the key) and its value (:func:`_fmt`) per row."""
    rows = "".join(
        f'<tr><th class="rowhead">{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>' for k, v in items
    )
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, value)`` pairs of a nested dict (dicts of more than 40 keys stay whole)."""
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and len(v) <= 40:
            out += _flatten(v, key + ".")
        else:
            out.append((key, v))
    return out


def _note(text: str) -> str:
    """A muted one-line note (why something is not shown)."""
    return f'<p class="note">{_e(text)}</p>'


def _problems(job: Job, part: str) -> str:
    """A warning per file of ``part`` that could not be read (empty when there is none)."""
    return "".join(f'<p class="warn">Could not read: {_e(m)}</p>' for m in job.problem(part))


def _img(fig: Figure, alt: str, caption: str = "") -> str:
    """Embed a figure as a base64 PNG (metadata stripped, nothing refers outside the file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{b64}" alt="{_e(alt)}">{cap}</figure>'


# ---------------------------------------------------------------------- page

#: the styles of every page, inline (no fonts, no URLs: nothing is loaded from elsewhere)
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
    """The whole HTML document: head with the inline :data:`CSS`, ``body``, and a footer with
    the scengen version, the time of writing and ``footer``."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{_io.HTML_GENERATOR}<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"{body}<footer>Written by scengen {__version__} on {stamp}{footer}. Self-contained: all "
        "figures are embedded; nothing is loaded from elsewhere.</footer></body></html>\n"
    )
