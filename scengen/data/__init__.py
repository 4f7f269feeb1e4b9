"""Measured data: read a CSV of wind / PV output, validate it, build daily per-unit Profiles,
split them into train / test days and fingerprint them.

Input format
------------
A CSV file (UTF-8, comma-separated, header row) with a ``timestamp`` column and one numeric
column per site::

    timestamp,wf1,wf2
    2009-07-01T00:00:00,0.045,0.233
    2009-07-01T01:00:00,0.085,0.249

``timestamp`` is ISO 8601: naive (``2020-01-01T10:00:00`` or ``2020-01-01 10:00``), UTC
(``...Z``) or with a UTC offset (``...+10:00``, ``...-0700``, ``...+10``). An empty cell is a
missing value.

Days
----
Days are the *local calendar days as written*: the wall-clock time in the written offset is kept,
the offset is stripped and recorded in :attr:`Profiles.utc_offset`. A file that mixes offsets
(daylight saving time, e.g. ``+01:00`` in winter and ``+02:00`` in summer) is converted to the
smallest offset in the file (standard time), so every day has the same 24 h and a PV peak does not
jump by an hour between seasons; ``utc_offset`` then is that smallest offset.

The step length is the file's own (the most common difference between consecutive timestamps;
24 h must be a multiple of it) or a coarser ``resolution`` (mean over the sub-steps; a coarse step
with a missing sub-step is missing). A day with any missing step (an empty cell or an absent row)
is dropped and counted in :attr:`Profiles.n_dropped_days`; nothing is filled. Days with no row at
all in the file are neither kept nor counted.

Scaling
-------
Profiles are in per-unit of capacity, ``values = data / capacity``. Without a capacity the data
must already be per-unit. Values outside [0, 1] after scaling are an error unless ``clip=True``
(then they are clipped and counted in :attr:`Profiles.n_clipped`); deviations up to ``1e-9`` are
rounding and clipped silently.
"""

from scengen.data.load import _UNIT_SUFFIXES as _UNIT_SUFFIXES
from scengen.data.load import UNKNOWN_UNITS, load_from_config, load_profiles
from scengen.data.load import _capacities as _capacities
from scengen.data.load import _check_one_resolution as _check_one_resolution
from scengen.data.load import _hhmm as _hhmm
from scengen.data.load import _mode as _mode
from scengen.data.load import _stamp as _stamp
from scengen.data.load import _units as _units
from scengen.data.profiles import (
    CONDITIONS,
    RANGE_TOL,
    SEASONS,
    SUMMARY_DATES,
    DataConfig,
    Profiles,
    fingerprint,
    labels,
    summary,
)
from scengen.data.read import _DAY_MIN as _DAY_MIN
from scengen.data.read import _DAY_NS as _DAY_NS
from scengen.data.read import _EXTRA as _EXTRA
from scengen.data.read import _MIN_NS as _MIN_NS
from scengen.data.read import _TS_RE as _TS_RE
from scengen.data.read import TIMESTAMP, read_measurements
from scengen.data.read import _format_offset as _format_offset
from scengen.data.read import _offset_minutes as _offset_minutes
from scengen.data.read import _read as _read
from scengen.data.read import _read_header as _read_header
from scengen.data.split import (
    PROFILES_NPZ,
    SPLIT_CSV,
    load_split,
    load_validation,
    save_split,
    split_days,
    split_validation,
)

__all__ = [
    "CONDITIONS",
    "PROFILES_NPZ",
    "RANGE_TOL",
    "SEASONS",
    "SPLIT_CSV",
    "SUMMARY_DATES",
    "TIMESTAMP",
    "UNKNOWN_UNITS",
    "DataConfig",
    "Profiles",
    "fingerprint",
    "labels",
    "load_from_config",
    "load_profiles",
    "load_split",
    "load_validation",
    "read_measurements",
    "save_split",
    "split_days",
    "split_validation",
    "summary",
]
