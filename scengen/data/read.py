"""Reading a measurement CSV: header, ISO 8601 timestamps (naive, ``Z`` or a UTC offset, mixed
offsets converted to the smallest) and numeric site columns, validated into a time-indexed frame.

The file format is described in :mod:`scengen.data`.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scengen.errors import ScengenError

#: name of the time column of a measurement CSV
TIMESTAMP = "timestamp"

_EXTRA = "\x00extra"  # catches a field beyond the header
_MIN_NS = 60 * 10**9
_DAY_NS = 24 * 60 * _MIN_NS
_DAY_MIN = 24 * 60

# wall-clock part (date + time) and optional UTC designator / offset of an ISO 8601 timestamp
_TS_RE = re.compile(
    r"^(?P<wall>.*\d[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)\s*"
    r"(?P<off>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)


def _offset_minutes(off: str) -> int:
    """``"Z"`` / ``"+10:00"`` / ``"-0700"`` / ``"+10"`` → minutes east of UTC."""
    if off in ("Z", "z"):
        return 0
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0))


def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _read_header(path: Path) -> list[str]:
    if not path.exists():
        raise FileNotFoundError(f"measurement file {str(path)!r} does not exist")
    if path.is_dir():
        raise ScengenError(f"measurement file {str(path)!r} is a directory; give a CSV file")
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
    except UnicodeDecodeError as e:
        raise ScengenError(
            f"measurement file {str(path)!r} is not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None
    if not header or all(not h.strip() for h in header):
        raise ScengenError(
            f"measurement file {str(path)!r} is empty; expected a header row with a "
            f"'{TIMESTAMP}' column and one column per site"
        )
    return [h.strip() for h in header]


def _read(path: str | os.PathLike, sites: Any) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Read and validate a measurement CSV.

    Returns the frame (naive wall-clock ``DatetimeIndex`` in the file's offset, one float column
    per site, sorted by time), the file line number of each row and info (``utc_offset``,
    ``utc_offsets``).
    """
    p = Path(path)
    name = str(p)
    header = _read_header(p)
    if TIMESTAMP not in header:
        hint = ""
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            hint = " (the file does not look comma-separated)"
        raise ScengenError(
            f"{name!r} has no '{TIMESTAMP}' column{hint}; columns found: {header[:20]}; "
            f"expected a '{TIMESTAMP}' column (ISO 8601) and one numeric column per site"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ScengenError(
            f"{name!r} has the column {dupes[0]!r} more than once; names must be unique"
        )
    available = [h for h in header if h != TIMESTAMP]
    if isinstance(sites, str):
        sites = [s.strip() for s in sites.split(",") if s.strip()]
    if sites:
        sites = [str(s) for s in sites]
        unknown = [s for s in sites if s not in available]
        if unknown:
            raise ScengenError(
                f"unknown site {unknown[0]!r} in {name!r}; available sites: {available}"
            )
        twice = sorted({s for s in sites if sites.count(s) > 1})
        if twice:
            raise ScengenError(f"site {twice[0]!r} is selected more than once")
    else:
        sites = available
    if not sites:
        raise ScengenError(
            f"{name!r} has no site columns, only '{TIMESTAMP}'; "
            "expected one numeric column per site"
        )
    if "" in sites:
        raise ScengenError(
            f"{name!r}: column {header.index('') + 1} has no name; every site column needs one "
            "(an index written by mistake? select the site columns with --sites)"
        )
    positions = sorted(header.index(c) for c in [TIMESTAMP, *sites])

    try:
        df = pd.read_csv(
            p,
            header=None,
            skiprows=1,
            names=[*header, _EXTRA],
            dtype={TIMESTAMP: str, _EXTRA: str},
            encoding="utf-8-sig",
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as e:
        msg = " ".join(str(e).split())
        raise ScengenError(f"{name!r} is not a readable CSV: {msg}") from None
    df = df.iloc[:, [*positions, len(header)]]
    lines = np.arange(len(df)) + 2  # header is line 1
    extra = df.pop(_EXTRA).notna().to_numpy()
    if extra.any():
        i = int(np.flatnonzero(extra)[0])
        raise ScengenError(
            f"{name!r} line {lines[i]} has more fields than the header ({len(header)} columns); "
            "every row needs one value per column"
        )
    blank = df.isna().all(axis=1).to_numpy()
    if blank.any():
        df = df.loc[~blank]
        lines = lines[~blank]
    if len(df) == 0:
        raise ScengenError(f"{name!r} has a header but no data rows")

    # --- timestamps ------------------------------------------------------------------------
    raw = df[TIMESTAMP]
    if raw.isna().any():
        i = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise ScengenError(
            f"{name!r} line {lines[i]}: the '{TIMESTAMP}' is empty; every row needs an "
            "ISO 8601 timestamp"
        )
    text = raw.astype(str).str.strip()
    parts = text.str.extract(_TS_RE)
    wall_text = parts["wall"].where(parts["wall"].notna(), text)
    try:
        wall = pd.to_datetime(wall_text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # e.g. an offset hidden where the pattern did not see it
        wall = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if getattr(wall.dtype, "tz", None) is not None:  # an offset the pattern did not see
        wall = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    bad = wall.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScengenError(
            f"{name!r} line {lines[i]}: timestamp {text.iloc[i]!r} is not an ISO 8601 date and "
            "time; allowed: '2020-01-31T13:00:00', optionally with 'Z' or a UTC offset such as "
            "'+10:00' or '-0700'"
        )
    t_ns = wall.to_numpy().astype("datetime64[ns]").astype(np.int64)

    off = parts["off"]
    has_off = off.notna().to_numpy()
    info: dict[str, Any] = {"utc_offset": None, "utc_offsets": []}
    if has_off.any():
        if not has_off.all():
            i = int(np.flatnonzero(~has_off)[0])
            j = int(np.flatnonzero(has_off)[0])
            raise ScengenError(
                f"{name!r} mixes timestamps without a UTC offset (line {lines[i]}: "
                f"{text.iloc[i]!r}) and with one (line {lines[j]}: {text.iloc[j]!r}); "
                "write all of them naive or all with an offset"
            )
        codes, uniq = pd.factorize(off)
        minutes = np.array([_offset_minutes(u) for u in uniq], dtype=np.int64)
        for u in uniq:
            if abs(_offset_minutes(u)) > 18 * 60:
                raise ScengenError(f"{name!r}: UTC offset {u!r} is out of range (at most ±18:00)")
        row_min = minutes[codes]
        target = int(minutes.min())
        distinct = sorted({int(m) for m in minutes})
        if len(distinct) > 1:
            t_ns = t_ns + (target - row_min) * _MIN_NS
        written = [str(u) for u, m in zip(uniq, minutes, strict=True) if m == target]
        info["utc_offset"] = (
            "Z" if all(w in ("Z", "z") for w in written) else _format_offset(target)
        )
        info["utc_offsets"] = [_format_offset(m) for m in distinct]

    order = np.argsort(t_ns, kind="stable")
    if (np.diff(order) != 1).any():
        t_ns, lines, text = t_ns[order], lines[order], text.iloc[order]
        df = df.iloc[order]
    dup = np.flatnonzero(np.diff(t_ns) == 0)
    if dup.size:
        i = int(dup[0])
        raise ScengenError(
            f"{name!r}: timestamp {text.iloc[i + 1]!r} (line {lines[i + 1]}) is duplicated "
            f"(same time as line {lines[i]}: {text.iloc[i]!r}); each time must appear once "
            "(for local time with daylight saving, write each timestamp's UTC offset or use UTC)"
        )

    # --- values ----------------------------------------------------------------------------
    out = {}
    for s in sites:
        col = df[s]
        if col.dtype.kind not in "fiu":
            num = pd.to_numeric(col, errors="coerce")
            badv = (num.isna() & col.notna()).to_numpy()
            if badv.any():
                i = int(np.flatnonzero(badv)[0])
                raise ScengenError(
                    f"{name!r} column {s!r} line {lines[i]}: value {col.iloc[i]!r} is not a "
                    "number; site columns must hold numbers (an empty cell is a missing value)"
                )
            col = num
        v = col.to_numpy(dtype=np.float64)
        inf = np.isinf(v)
        if inf.any():
            i = int(np.flatnonzero(inf)[0])
            raise ScengenError(
                f"{name!r} column {s!r} line {lines[i]}: value {df[s].iloc[i]!r} is not a "
                "finite number"
            )
        present = v[~np.isnan(v)]
        if present.size == 0:
            raise ScengenError(
                f"{name!r}: site {s!r} has no values (every cell is empty); "
                "leave it out with --sites"
            )
        if not np.any(present != 0):
            raise ScengenError(
                f"{name!r}: site {s!r} is zero at every time; a site without output cannot be "
                "scaled or learned, leave it out with --sites"
            )
        out[s] = v
    frame = pd.DataFrame(out, index=pd.DatetimeIndex(t_ns.astype("datetime64[ns]"), name=TIMESTAMP))
    return frame, lines, info


def read_measurements(path: str | os.PathLike, sites: list[str] | None = None) -> pd.DataFrame:
    """Read and validate a measurement CSV.

    Parameters
    ----------
    path : str or path-like
        CSV with a ``timestamp`` column (ISO 8601: naive, ``Z`` or a UTC offset such as
        ``+10:00`` or ``-0700``) and one numeric column per site.
    sites : list of str, optional
        Site columns to read (default: every column but ``timestamp``). Other columns are not
        read, so they may hold anything.

    Returns
    -------
    pandas.DataFrame
        One float column per site [units of the file], an empty cell as NaN, sorted by time. The
        index (``timestamp``) is the naive wall-clock time in the file's UTC offset (in the
        smallest one when the file mixes offsets). ``df.attrs`` holds ``source``, ``utc_offset``
        (``None``, ``"Z"`` or ``"+HH:MM"``) and ``utc_offsets`` (every offset found).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ScengenError
        Empty file, no ``timestamp`` column, an unparseable or duplicated timestamp, a
        non-numeric value, an unknown site, a site that is zero (or empty) everywhere, no site
        column. The message names the file, column, line and value.
    """
    df, _, info = _read(path, sites)
    df.attrs.update(source=str(path), **info)
    return df
