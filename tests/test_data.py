"""Tests of scengen.data: reading, validation, daily profiles, scaling, split, labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import synthetic_days, write_measurement_csv

from scengen.data import (
    PROFILES_NPZ,
    SPLIT_CSV,
    DataConfig,
    Profiles,
    labels,
    load_from_config,
    load_profiles,
    load_split,
    read_measurements,
    save_split,
    split_days,
    summary,
)
from scengen.errors import ScengenError

ROOT = Path(__file__).resolve().parents[1]
WIND = ROOT / "data" / "wind_gefcom2012_7farms_2009-2010.csv"
PV = ROOT / "data" / "pv_gefcom2014_3sites.csv"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _csv(tmp_path, n_days=12, n_sites=2, n_steps=24, freq="h", name="m.csv", **kw) -> Path:
    vals = synthetic_days(n_days, n_sites, n_steps, seed=5)
    return write_measurement_csv(tmp_path / name, vals, freq=freq, **kw)


# ------------------------------------------------------------------------------ timestamps


@pytest.mark.parametrize(
    "suffix, offset",
    [("", None), ("Z", "Z"), ("+10:00", "+10:00"), ("-0700", "-07:00"), ("+0530", "+05:30")],
)
def test_timestamp_flavours_keep_wall_clock(tmp_path, suffix, offset):
    vals = synthetic_days(12, 2, 24, seed=1)
    f = write_measurement_csv(tmp_path / "m.csv", vals, start="2021-03-01", tz_suffix=suffix)
    p = load_profiles(f)
    assert p.values.shape == (12, 2, 24)
    assert p.utc_offset == offset
    assert str(p.dates[0]) == "2021-03-01"  # local day as written, not shifted to UTC
    assert p.start_minute == 0
    np.testing.assert_allclose(p.values, vals)


def test_space_separator_seconds_fraction_and_short_offset(tmp_path):
    idx = pd.date_range("2020-01-01", periods=24 * 10, freq="h")
    lines = ["timestamp,a"]
    for i, t in enumerate(idx):
        form = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.000", "%Y-%m-%dT%H:%M:%S"][i % 3]
        lines.append(f"{t.strftime(form)}+02,{0.5}")
    p = load_profiles(_write(tmp_path / "m.csv", "\n".join(lines) + "\n"))
    assert p.values.shape == (10, 1, 24)
    assert p.utc_offset == "+02:00"


def test_read_measurements_frame(tmp_path):
    f = _csv(tmp_path, tz_suffix="+10:00", sites=["x", "y"])
    df = read_measurements(f, sites=["y"])
    assert list(df.columns) == ["y"]
    assert df.index.name == "timestamp"
    assert df.index.tz is None
    assert df.index[0] == pd.Timestamp("2020-01-01 00:00")
    assert df.attrs["utc_offset"] == "+10:00"
    assert df.attrs["source"] == str(f)


def test_mixed_offsets_converted_to_standard_time(tmp_path):
    # Central European time: +01:00 until 2020-03-29 01:00 UTC, +02:00 after
    utc = pd.date_range("2020-03-20", "2020-04-10", freq="h", tz="UTC", inclusive="left")
    local = utc.tz_convert("Europe/Berlin")
    value = (np.arange(len(utc)) % 24) / 23  # hour of day in UTC+1
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z")
    df = pd.DataFrame({"timestamp": text, "pv": value})
    f = tmp_path / "dst.csv"
    df.to_csv(f, index=False)
    p = load_profiles(f)
    assert p.utc_offset == "+01:00"
    assert p.extra["utc_offsets"] == ["+01:00", "+02:00"]
    # every day is complete in standard time (no 23 h / 25 h days), the first UTC+1 day is
    # 2020-03-20 from 01:00 (incomplete) and the last ends at 00:59 UTC+1 on 2020-04-10
    assert p.n_dropped_days == 2
    assert p.n_days == 20
    # the step of 13:00 standard time has the same value in winter and summer
    expected = ((np.arange(24) - 1) % 24) / 23
    np.testing.assert_allclose(p.values[:, 0, :], np.tile(expected, (20, 1)))


def test_mixing_naive_and_offset_is_error(tmp_path):
    f = _csv(tmp_path)
    text = f.read_text().replace("2020-01-02T05:00:00", "2020-01-02T05:00:00Z")
    with pytest.raises(ScengenError, match="mixes timestamps without a UTC offset.*line 2"):
        load_profiles(_write(f, text))


def test_unsorted_rows_are_sorted(tmp_path):
    f = _csv(tmp_path)
    lines = f.read_text().splitlines()
    body = lines[1:]
    shuffled = [body[i] for i in np.random.default_rng(0).permutation(len(body))]
    g = _write(tmp_path / "s.csv", "\n".join([lines[0], *shuffled]) + "\n")
    np.testing.assert_array_equal(load_profiles(g).values, load_profiles(f).values)


# ------------------------------------------------------------------------------ resolution


@pytest.mark.parametrize("freq, minutes, steps", [("15min", 15, 96), ("10min", 10, 144)])
def test_sub_hourly_files(tmp_path, freq, minutes, steps):
    f = _csv(tmp_path, n_steps=steps, freq=freq)
    p = load_profiles(f)
    assert p.values.shape == (12, 2, steps)
    assert p.step_minutes == minutes
    assert p.extra["native_step_minutes"] == minutes


def test_resample_mean_of_sub_steps(tmp_path):
    vals = synthetic_days(12, 2, 96, seed=2)
    f = write_measurement_csv(tmp_path / "q.csv", vals, freq="15min")
    p = load_profiles(f, resolution=60)
    assert p.values.shape == (12, 2, 24)
    assert p.step_minutes == 60
    np.testing.assert_allclose(p.values, vals.reshape(12, 2, 24, 4).mean(axis=3))
    assert load_profiles(f, resolution=15).values.shape == (12, 2, 96)
    assert load_profiles(f, resolution=180).values.shape == (12, 2, 8)


def test_resample_missing_sub_step_drops_day(tmp_path):
    vals = synthetic_days(12, 1, 96, seed=2)
    vals[3, 0, 10] = np.nan
    f = write_measurement_csv(tmp_path / "q.csv", vals, freq="15min")
    p = load_profiles(f, resolution=60)
    assert p.n_days == 11 and p.n_dropped_days == 1
    assert np.datetime64("2020-01-04") not in p.dates


@pytest.mark.parametrize("res, why", [(30, "multiple of 60"), (90, "divides 24 h"), (0, "")])
def test_bad_resolution(tmp_path, res, why):
    f = _csv(tmp_path)
    with pytest.raises(ScengenError, match=f"resolution {res} min.*{why}"):
        load_profiles(f, resolution=res)


def test_step_not_dividing_a_day(tmp_path):
    f = _csv(tmp_path, n_days=1, n_steps=300, freq="7min")
    with pytest.raises(ScengenError, match="7 min.*does not divide 24 h"):
        load_profiles(f)


def test_timestamp_off_grid(tmp_path):
    f = _csv(tmp_path)
    text = f.read_text().replace("2020-01-03T05:00:00", "2020-01-03T05:07:00")
    with pytest.raises(ScengenError, match="'2020-01-03T05:07:00' is not on the file's 60-min"):
        load_profiles(_write(f, text))


def test_half_past_grid_sets_start_minute(tmp_path):
    f = _csv(tmp_path, start="2020-01-01 00:30")
    p = load_profiles(f)
    assert p.start_minute == 30
    assert p.n_days == 12 and p.n_dropped_days == 0  # steps 00:30 ... 23:30
    assert p.to_scenarios().times()[:2] == ["00:30", "01:30"]


# ------------------------------------------------------------------------------ incomplete days


def test_incomplete_days_dropped_and_counted(tmp_path):
    vals = synthetic_days(15, 2, 24, seed=3)
    vals[2, 1, 5] = np.nan  # an empty cell
    f = write_measurement_csv(tmp_path / "m.csv", vals)
    lines = f.read_text().splitlines()
    del lines[1 + 7 * 24 + 3]  # an absent row on day 8
    p = load_profiles(_write(f, "\n".join(lines) + "\n"))
    assert p.n_days == 13
    assert p.n_dropped_days == 2
    dropped = {"2020-01-03", "2020-01-08"}
    assert not dropped & set(p.dates.astype(str))
    assert not np.isnan(p.values).any()


def test_blank_lines_ignored_and_line_numbers_exact(tmp_path):
    f = _csv(tmp_path)
    lines = f.read_text().splitlines()
    lines.insert(3, "")
    lines[10] = lines[10].split(",")[0] + ",oops,0.1"
    with pytest.raises(ScengenError, match="line 11: value 'oops'"):
        load_profiles(_write(f, "\n".join(lines) + "\n"))


def test_too_few_complete_days(tmp_path):
    f = _csv(tmp_path, n_days=5)
    with pytest.raises(ScengenError, match="5 complete days.*fewer than the 10 needed"):
        load_profiles(f)
    assert load_profiles(f, min_days=5).n_days == 5


# ------------------------------------------------------------------------------ bad input


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_profiles(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "is empty"),
        ("timestamp,a\n", "no data rows"),
        ("time,a\n2020-01-01T00:00,1\n", "no 'timestamp' column.*columns found: \\['time', 'a'\\]"),
        ("timestamp;a\n2020-01-01T00:00;1\n", "does not look comma-separated"),
        ("timestamp\n2020-01-01T00:00\n", "no site columns"),
        ("timestamp,a,a\n2020-01-01T00:00,1,1\n", "column 'a' more than once"),
        ("timestamp,a\n2020-01-01T00:00,1\n2020-13-01T00:00,1\n", "line 3: timestamp '2020-13"),
        ("timestamp,a\n2020-01-01T00:00,1\nyesterday,1\n", "line 3: timestamp 'yesterday'"),
        ("timestamp,a\n2020-01-01T00:00,1\n,1\n", "line 3: the 'timestamp' is empty"),
        (
            "timestamp,a\n2020-01-01T00:00,1\n2020-01-01T00:00,2\n",
            "'2020-01-01T00:00' .line 3. is dup",
        ),
        ("timestamp,a\n2020-01-01T00:00Z,1\n2020-01-01T02:00+02:00,2\n", "is duplicated"),
        ("timestamp,a\n2020-01-01T00:00,1\n2020-01-01T01:00,1.2.3\n", "'a' line 3: value '1.2.3'"),
        ("timestamp,a\n2020-01-01T00:00,1\n2020-01-01T01:00,inf\n", "line 3: .*not a finite"),
        ("timestamp,a,b\n2020-01-01T00:00,1,0\n2020-01-01T01:00,1,0\n", "site 'b' is zero"),
        ("timestamp,a,b\n2020-01-01T00:00,1,\n2020-01-01T01:00,1,\n", "site 'b' has no values"),
        ("timestamp,a\n2020-01-01T00:00+25:00,1\n", "offset '\\+25:00' is out of range"),
        ("timestamp,a\n2020-01-01T00:00,1,5\n", "line 2 has more fields than the header"),
    ],
)
def test_bad_files(tmp_path, text, match):
    f = _write(tmp_path / "bad.csv", text)
    with pytest.raises(ScengenError, match=match) as e:
        load_profiles(f)
    assert "\n" not in str(e.value)
    assert "bad.csv" in str(e.value)


def test_not_utf8_and_directory(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes("timestamp,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScengenError, match="not UTF-8"):
        load_profiles(f)
    with pytest.raises(ScengenError, match="is a directory"):
        load_profiles(tmp_path)


def test_unknown_and_repeated_sites(tmp_path):
    f = _csv(tmp_path, sites=["wf1", "wf2"])
    with pytest.raises(
        ScengenError, match=r"unknown site 'wf9'.*available sites: \['wf1', 'wf2'\]"
    ):
        load_profiles(f, sites=["wf1", "wf9"])
    with pytest.raises(ScengenError, match="'wf1' is selected more than once"):
        load_profiles(f, sites=["wf1", "wf1"])


def test_site_selection_order_and_unread_columns(tmp_path):
    f = _csv(tmp_path, sites=["wf1", "wf2"])
    df = pd.read_csv(f)
    df["note"] = "text"
    df.to_csv(f, index=False)
    p = load_profiles(f, sites=["wf2", "wf1"])
    assert p.sites == ["wf2", "wf1"]
    with pytest.raises(ScengenError, match="column 'note' line 2: value 'text' is not a number"):
        load_profiles(f)


# ------------------------------------------------------------------------------ scaling


def test_out_of_range_error_and_clip(tmp_path):
    vals = synthetic_days(12, 2, 24, seed=4)
    vals[4, 1, 13] = 1.25
    vals[6, 0, 2] = -0.5
    f = write_measurement_csv(tmp_path / "m.csv", vals, sites=["a", "b"], tz_suffix="+10:00")
    with pytest.raises(ScengenError) as e:
        load_profiles(f)
    msg = str(e.value)
    assert "site 'b' at 2020-01-05T13:00+10:00: value 1.25" in msg
    assert "1 more" in msg and "--clip" in msg
    p = load_profiles(f, clip=True)
    assert p.n_clipped == 2
    assert p.values.min() == 0.0 and p.values.max() <= 1.0
    assert p.values[4, 1, 13] == 1.0 and p.values[6, 0, 2] == 0.0


def test_rounding_noise_is_not_counted(tmp_path):
    vals = synthetic_days(12, 1, 24, seed=4)
    vals[0, 0, 0] = 1 + 1e-12
    f = write_measurement_csv(tmp_path / "m.csv", vals)
    p = load_profiles(f)
    assert p.n_clipped == 0 and p.values.max() == 1.0


@pytest.mark.parametrize(
    "capacity, expected",
    [
        (50, [50.0, 50.0]),
        ("50", [50.0, 50.0]),
        ([50, 100], [50.0, 100.0]),
        ({"b": 100.0, "a": 50.0}, [50.0, 100.0]),
    ],
)
def test_capacity_variants(tmp_path, capacity, expected):
    vals = synthetic_days(12, 2, 24, seed=6)
    data = vals * np.asarray(expected)[:, None]
    f = write_measurement_csv(tmp_path / "m.csv", data, sites=["a", "b"])
    p = load_profiles(f, capacity=capacity)
    np.testing.assert_allclose(p.capacities, expected)
    np.testing.assert_allclose(p.values, vals)
    assert p.units == "file units"  # nobody said MW (issue 16)
    assert load_profiles(f, capacity=capacity, units="MW").units == "MW"
    np.testing.assert_allclose(p.to_scenarios().in_units(), data)


def test_capacity_max_and_units_from_name(tmp_path):
    vals = synthetic_days(12, 2, 24, seed=6) * 1000
    vals[5, 0, :] = np.nan  # the maximum is taken over the whole file
    f = write_measurement_csv(tmp_path / "m.csv", vals, sites=["on_mwh", "pv_mwh"])
    p = load_profiles(f, capacity="max")
    np.testing.assert_allclose(p.capacities, np.nanmax(vals, axis=(0, 2)))
    assert p.values.max() == 1.0
    assert p.units == "MWh/h"
    with pytest.raises(ScengenError, match="outside \\[0, 1\\].*--capacity"):
        load_profiles(f)


def test_per_unit_data_above_one_says_capacity(tmp_path):
    f = write_measurement_csv(tmp_path / "m.csv", np.full((1, 1, 24), 300.0))
    with pytest.raises(ScengenError, match="T00:00: value 300 is outside.*--capacity"):
        load_profiles(f, min_days=1)


@pytest.mark.parametrize(
    "capacity, match",
    [
        ([1, 2, 3], "3 values but there are 2 sites"),
        ({"a": 1, "z": 2}, "unknown site 'z'"),
        ({"a": 1}, "no value for site 'b'"),
        (0, "'a' = 0 must be a positive"),
        ([1, -2], "'b' = -2 must be a positive"),
        ("big", "'big' is not understood"),
        (True, "True is not understood"),
    ],
)
def test_bad_capacity(tmp_path, capacity, match):
    f = _csv(tmp_path, sites=["a", "b"])
    with pytest.raises(ScengenError, match=match):
        load_profiles(f, capacity=capacity)


def test_capacity_too_small_names_value(tmp_path):
    vals = synthetic_days(12, 1, 24, seed=6) * 80
    f = write_measurement_csv(tmp_path / "m.csv", vals, sites=["a"])
    with pytest.raises(ScengenError, match="p.u. of capacity 50.*check the capacity"):
        load_profiles(f, capacity=50)


# ------------------------------------------------------------------------------ split


def test_split_deterministic_and_disjoint(wind_csv):
    p = load_profiles(wind_csv)
    tr, te = split_days(p, 0.2, seed=7)
    tr2, te2 = split_days(p, 0.2, seed=7)
    np.testing.assert_array_equal(te.dates, te2.dates)
    assert te.n_days == 12 and tr.n_days == 48
    assert not set(tr.dates) & set(te.dates)
    assert sorted(set(tr.dates) | set(te.dates)) == sorted(p.dates)
    assert np.all(np.diff(te.dates.astype(int)) > 0)
    _, te3 = split_days(p, 0.2, seed=8)
    assert not np.array_equal(te.dates, te3.dates)
    # same dates held out when other sites are selected
    _, te4 = split_days(load_profiles(wind_csv, sites=["wf2"]), 0.2, seed=7)
    np.testing.assert_array_equal(te.dates, te4.dates)


def test_split_at_least_one_day_each_side(wind_csv):
    p = load_profiles(wind_csv).subset(slice(0, 3))
    tr, te = split_days(p, 0.01)
    assert (tr.n_days, te.n_days) == (2, 1)
    tr, te = split_days(p, 0.99)
    assert (tr.n_days, te.n_days) == (1, 2)
    with pytest.raises(ScengenError, match="at least 2"):
        split_days(p.subset(slice(0, 1)), 0.5)


@pytest.mark.parametrize("frac", [0, 1, -0.1, 1.5, "0.2"])
def test_split_bad_fraction(wind_csv, frac):
    with pytest.raises(ScengenError, match="test_fraction"):
        split_days(load_profiles(wind_csv), frac)


def test_save_load_split_round_trip(tmp_path, pv_csv):
    p = load_profiles(pv_csv)
    tr, te = split_days(p, 0.25, seed=1)
    save_split(tmp_path / "run", tr, te)
    split = pd.read_csv(tmp_path / "run" / SPLIT_CSV)
    assert list(split.columns) == ["date", "set"]
    assert (split["set"] == "test").sum() == te.n_days
    assert set(split.loc[split["set"] == "test", "date"]) == set(te.dates.astype(str))
    tr2, te2 = load_split(tmp_path / "run")
    for a, b in ((tr, tr2), (te, te2)):
        np.testing.assert_array_equal(a.values, b.values)
        np.testing.assert_array_equal(a.dates, b.dates)
        assert (a.sites, a.step_minutes, a.units, a.utc_offset) == (
            b.sites,
            b.step_minutes,
            b.units,
            b.utc_offset,
        )
        assert a.fingerprint == b.fingerprint
    assert (tmp_path / "run" / PROFILES_NPZ).is_file()
    with pytest.raises(ScengenError, match="no profiles.npz"):
        load_split(tmp_path)


# ------------------------------------------------------------------------------ summary, labels


def test_summary_plain_values(pv_csv):
    s = summary(load_profiles(pv_csv))
    assert set(s) == {
        "source",
        "sites",
        "capacities",
        "units",
        "step_minutes",
        "first_date",
        "last_date",
        "n_days",
        "n_dropped_days",
        "n_clipped",
        "fingerprint",
        "utc_offset",
        # issue 16: what the README says metadata records
        "start_minute",
        "n_steps",
        "dropped_dates",
        "utc_offsets",
        "native_step_minutes",
        "n_rows",
    }
    assert json.loads(json.dumps(s)) == s
    assert (s["first_date"], s["last_date"], s["n_days"]) == ("2020-01-01", "2020-02-29", 60)
    assert s["utc_offset"] == "+10:00"


def test_labels():
    dates = np.array(["2020-01-15", "2020-03-01", "2020-06-30", "2020-09-01", "2020-12-31"])
    p = Profiles(values=np.zeros((5, 1, 24)), dates=dates, sites=["a"])
    np.testing.assert_array_equal(labels(p, "month"), [1, 3, 6, 9, 12])
    np.testing.assert_array_equal(labels(p, "season"), [0, 1, 2, 3, 0])
    assert labels(p, "month").dtype == np.int64
    with pytest.raises(ScengenError, match="'week' is not known.*month.*season"):
        labels(p, "week")


def test_fingerprint_changes_with_data(wind_csv):
    a = load_profiles(wind_csv)
    b = load_profiles(wind_csv, sites=["wf1"])
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == load_profiles(wind_csv).fingerprint


def test_load_from_config(wind_csv):
    p = load_from_config(DataConfig(path=str(wind_csv), sites=["wf1"], resolution=120))
    assert p.values.shape == (60, 1, 12)
    with pytest.raises(ScengenError, match="fewer than the 100 needed"):
        load_from_config(DataConfig(path=str(wind_csv), min_days=100))
    with pytest.raises(ScengenError, match="data.path is not set"):
        load_from_config(DataConfig())


# ------------------------------------------------------------------------------ shipped data


def test_shipped_wind():
    p = load_profiles(WIND)
    assert p.values.shape == (549, 7, 24)
    assert p.n_dropped_days == 0 and p.utc_offset is None
    assert (str(p.dates[0]), str(p.dates[-1])) == ("2009-07-01", "2010-12-31")


def test_shipped_pv():
    with pytest.raises(
        ScengenError, match="site 'site3' at 2013-11-04T12:00\\+10:00: value 1.00355"
    ):
        load_profiles(PV)
    p = load_profiles(PV, clip=True)
    assert p.values.shape == (820, 3, 24)
    assert (p.n_dropped_days, p.n_clipped, p.utc_offset) == (2, 1, "+10:00")
    # local days: no output at night (21:00-04:00 local)
    assert p.values[:, :, [0, 1, 2, 3, 22, 23]].max() == 0


# ------------------------------------------------------------------------------ CLI options


def test_data_config_merges_flags(wind_csv):
    from scengen.cli.options import data_config

    section = {"sites": ["wf1"], "capacity": "max", "clip": True, "min_days": 5}
    cfg = data_config(section, str(wind_csv), sites="wf2, wf1", capacity="wf1=2,wf2=3")
    assert cfg.sites == ["wf2", "wf1"]
    assert cfg.capacity == {"wf1": 2.0, "wf2": 3.0}
    assert (cfg.clip, cfg.min_days, cfg.path) == (True, 5, str(wind_csv))
    assert data_config({}, None, capacity="MAX").capacity == "max"
    assert data_config({}, None, capacity="10,20").capacity == [10.0, 20.0]
    assert data_config({}, None, capacity="7").capacity == 7.0
    with pytest.raises(ScengenError, match="--capacity 'ten' is not understood"):
        data_config({}, None, capacity="ten")
    with pytest.raises(ScengenError, match="unknown key 'site'"):
        data_config({"site": ["wf1"]}, None)
    p = load_from_config(data_config({}, str(wind_csv), capacity="1,1"))
    assert p.units == "file units" and p.n_days == 60


def test_unnamed_column_and_spaces_in_header(tmp_path):
    f = _csv(tmp_path, sites=["a", "b"])
    df = pd.read_csv(f)
    df.to_csv(f)  # a pandas index written by mistake: first header cell empty
    with pytest.raises(ScengenError, match="column 1 has no name.*--sites"):
        load_profiles(f)
    assert load_profiles(f, sites=["b"]).sites == ["b"]
    g = _write(tmp_path / "sp.csv", f.read_text().replace(",timestamp,a,b", ", timestamp , a,b "))
    assert load_profiles(g, sites=["a", "b"]).n_days == 12


def test_corrupt_profiles_npz(tmp_path):
    (tmp_path / PROFILES_NPZ).write_bytes(b"not a zip")
    with pytest.raises(ScengenError, match="not a valid profiles.npz"):
        load_split(tmp_path)


def _probe_cli():
    """A throw-away command with the shared data options, under scengen's error handling."""
    import click

    from scengen.cli.main import ScengenGroup
    from scengen.cli.options import data_config, data_options

    @click.group(cls=ScengenGroup)
    def group():
        pass

    @group.command()
    @click.argument("path")
    @data_options
    def probe(path, **flags):
        cfg = data_config({}, path, **flags)
        p = load_from_config(cfg)
        click.echo(f"{p.values.shape} {p.n_clipped}")

    return group


@pytest.mark.parametrize(
    "args, match",
    [
        (["missing.csv"], "Error: measurement file 'missing.csv' does not exist"),
        (["{pv}"], "Error: .*site 'site1' at 2020-01-01T00:00\\+10:00: value 1.5 .*--clip"),
        (["{pv}", "--sites", "site1,site9"], "Error: unknown site 'site9'.*available sites"),
        (["{pv}", "--capacity", "x=1"], "Error: capacity given for unknown site 'x'"),
        (["{pv}", "--resolution", "45"], "Error: resolution 45 min is not possible"),
    ],
)
def test_cli_errors_are_one_line(pv_csv, args, match):
    from click.testing import CliRunner

    pv = pv_csv
    pv.write_text(pv.read_text().replace(",0.0,", ",1.5,", 1))
    args = [a.format(pv=pv) for a in args]
    res = CliRunner().invoke(_probe_cli(), ["probe", *args])
    assert res.exit_code == 1, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert re.search(match, res.output)
    assert "Traceback" not in res.output


def test_cli_clip_counts(pv_csv):
    from click.testing import CliRunner

    pv_csv.write_text(pv_csv.read_text().replace(",0.0,", ",1.5,", 1))
    res = CliRunner().invoke(_probe_cli(), ["probe", str(pv_csv), "--clip"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == "(60, 3, 24) 1"
