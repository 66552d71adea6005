"""Tests of perpsbook.data: the shipped snapshots and the statistics computed from them."""

from __future__ import annotations

import hashlib
import re
import sys
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perpsbook.data import (
    CASCADE_DAYS,
    FUNDING_CAPS,
    FUNDING_INTERVALS_PER_YEAR,
    FundingHistory,
    Klines,
    annualised_rolling_funding,
    cap_hits,
    daily_bars,
    event_day_stats,
    fetch_funding_live,
    funding_stats_by_year,
    load_funding,
    load_klines_4h,
    window,
    yearly_price_change,
)
from perpsbook.errors import InvalidInputError, PerpsbookError

H_MS = 3_600_000


def _data_path(name: str):
    return resources.files("perpsbook").joinpath("data", name)


def _provenance() -> str:
    return _data_path("PROVENANCE.md").read_text(encoding="utf-8")


def _table_row(name: str) -> list[str]:
    """Cells of the PROVENANCE.md 'Files' table row describing ``name``."""
    for line in _provenance().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == f"`{name}`" and re.match(r"^[\d,]+$", cells[1]):
            return cells
    raise AssertionError(f"no row for {name} in PROVENANCE.md")


def _as_int(cell: str) -> int:
    return int(cell.replace(",", ""))


def _ms(text: str) -> np.datetime64:
    return np.datetime64(text.replace(" ", "T"), "ms")


def _funding(times, rates, symbol="TEST") -> FundingHistory:
    t = np.asarray(times, dtype="datetime64[ms]")
    r = np.asarray(rates, dtype=np.float64)
    nan = np.full(r.size, np.nan)
    return FundingHistory(symbol, t, t, r, nan, np.zeros(r.size, dtype=bool))


def _klines(open_time, o, h, lo, c, qv) -> Klines:
    qv = np.asarray(qv, dtype=np.float64)
    return Klines(
        symbol="TEST",
        interval_ms=4 * H_MS,
        open_time=np.asarray(open_time, dtype="datetime64[ms]"),
        open=np.asarray(o, dtype=np.float64),
        high=np.asarray(h, dtype=np.float64),
        low=np.asarray(lo, dtype=np.float64),
        close=np.asarray(c, dtype=np.float64),
        volume=qv / 100.0,
        quote_volume=qv,
        trades=np.ones(qv.size, dtype=np.int64),
    )


# --------------------------------------------------------------------------------------
# The shipped files agree with PROVENANCE.md
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["BTCUSDT_funding.csv", "ETHUSDT_funding.csv", "BTCUSDT_klines_4h.csv"]
)
def test_sha256_and_size_match_provenance(name):
    blob = _data_path(name).read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    assert f"{digest}  {name}" in _provenance()
    assert len(blob) == _as_int(_table_row(name)[-1])


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_funding_rows_and_range_match_provenance(symbol):
    f = load_funding(symbol)
    rows, first, last, no_mark, _ = _table_row(f"{symbol}_funding.csv")[1:]
    assert f.n == _as_int(rows)
    assert f.time[0] == _ms(first)
    assert f.time[-1] == _ms(last)
    assert np.count_nonzero(~f.has_mark) == _as_int(no_mark)


def test_klines_rows_and_range_match_provenance():
    k = load_klines_4h()
    rows, first, last, _ = _table_row("BTCUSDT_klines_4h.csv")[1:]
    assert k.n == _as_int(rows) == 15_491
    assert k.open_time[0] == _ms(first)
    assert k.open_time[-1] == _ms(last)


def test_known_values_first_rows():
    f = load_funding("BTCUSDT")
    assert f.time_raw[0] == np.datetime64(1568102400000, "ms")
    assert f.rate[0] == pytest.approx(0.0001)
    k = load_klines_4h("btcusdt")
    assert (k.open[0], k.high[0], k.low[0], k.close[0]) == (10000.0, 10357.53, 10000.0, 10340.12)
    assert k.volume[0] == pytest.approx(471.661)
    assert k.quote_volume[0] == pytest.approx(4879792.35634)
    assert k.trades[0] == 564
    assert k.close_time[0] == np.datetime64(1567972799999, "ms")


# --------------------------------------------------------------------------------------
# Types, units, cleanliness
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_funding_dtypes_and_no_nan(symbol):
    f = load_funding(symbol)
    assert f.time.dtype == np.dtype("datetime64[ms]")
    assert f.rate.dtype == np.float64 and f.mark_price.dtype == np.float64
    assert f.has_mark.dtype == bool
    assert np.all(np.isfinite(f.rate))
    # rates are fractions per 8 h: far below 1 % in absolute value
    assert np.max(np.abs(f.rate)) < 0.01
    # the only NaN is the unrecorded mark price, and it is exactly where has_mark is False
    assert np.array_equal(np.isnan(f.mark_price), ~f.has_mark)
    cutoff = np.datetime64("2023-10-31T08:00", "ms")
    assert np.array_equal(f.has_mark, f.time >= cutoff)
    assert np.all(f.mark_price[f.has_mark] > 0)


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_funding_times_monotone_every_8h(symbol):
    f = load_funding(symbol)
    assert np.all(np.diff(f.time) == np.timedelta64(8, "h"))
    assert np.all(f.time.astype(np.int64) % (8 * H_MS) == 0)
    lag = (f.time_raw - f.time).astype(np.int64)
    assert lag.min() >= 0 and lag.max() <= 47


def test_klines_dtypes_spacing_and_ohlc_consistency():
    k = load_klines_4h()
    for name in ("open", "high", "low", "close", "volume", "quote_volume"):
        arr = getattr(k, name)
        assert arr.dtype == np.float64
        assert np.all(np.isfinite(arr))
    assert k.trades.dtype == np.int64
    assert np.all(np.diff(k.open_time) == np.timedelta64(4, "h"))
    assert np.all(k.high >= np.maximum(k.open, k.close))
    assert np.all(k.low <= np.minimum(k.open, k.close))
    assert np.all(k.low > 0) and np.all(k.volume >= 0)
    # USD volume / BTC volume is an average price inside the day's range (units check)
    vwap = k.quote_volume / k.volume
    assert np.all((vwap >= k.low * 0.999) & (vwap <= k.high * 1.001))


def test_loaded_arrays_are_read_only_and_cached():
    f = load_funding("BTCUSDT")
    assert load_funding("btcusdt") is f
    with pytest.raises(ValueError):
        f.rate[0] = 1.0
    with pytest.raises(ValueError):
        load_klines_4h().close[0] = 1.0


@pytest.mark.parametrize("bad", ["XRPUSDT", "", None, 3])
def test_unknown_symbol_raises(bad):
    with pytest.raises(InvalidInputError, match="symbol must be one of"):
        load_funding(bad)


def test_klines_only_for_btc():
    with pytest.raises(PerpsbookError, match="BTCUSDT"):
        load_klines_4h("ETHUSDT")


# --------------------------------------------------------------------------------------
# funding_stats_by_year
# --------------------------------------------------------------------------------------


def test_stats_by_year_hand_computed():
    times = [
        "2020-12-30T00:00",
        "2020-12-30T08:00",
        "2020-12-30T16:00",
        "2020-12-31T00:00",
        "2021-01-01T00:00",
        "2021-01-01T08:00",
    ]
    f = _funding(times, [0.0001, -0.0002, 0.0003, 0.0, 0.001, 0.002])
    s = funding_stats_by_year(f)
    assert s.year.tolist() == [2020, 2021]
    assert s.n_intervals.tolist() == [4, 2]
    np.testing.assert_allclose(s.share_positive, [0.5, 1.0])
    np.testing.assert_allclose(s.share_negative, [0.25, 0.0])
    np.testing.assert_allclose(s.share_at_baseline, [0.25, 0.0])  # one 0.0001 in 2020
    np.testing.assert_allclose(s.share_above_baseline, [0.25, 1.0])
    np.testing.assert_allclose(s.mean_rate, [0.00005, 0.0015])
    np.testing.assert_allclose(s.annualised, [0.00005 * 1095, 0.0015 * 1095])
    np.testing.assert_allclose(s.annualised, [0.05475, 1.6425])
    np.testing.assert_allclose(s.total, [0.0002, 0.003])
    np.testing.assert_allclose(s.max_rate, [0.0003, 0.002])
    np.testing.assert_allclose(s.min_rate, [-0.0002, 0.001])


def test_stats_by_year_real_full_year_consistency():
    s = funding_stats_by_year(load_funding("BTCUSDT"))
    full = s.year == 2021  # 365 days x 3 settlements
    assert s.n_intervals[full][0] == 1095
    assert s.annualised[full][0] == pytest.approx(s.total[full][0])
    assert s.n_intervals.sum() == load_funding("BTCUSDT").n


def test_stats_rejects_empty_and_nan():
    with pytest.raises(InvalidInputError):
        funding_stats_by_year(_funding([], []))
    with pytest.raises(InvalidInputError, match="finite"):
        funding_stats_by_year(_funding(["2020-01-01"], [np.nan]))


@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 365 * 4), st.floats(-0.003, 0.003, allow_nan=False)),
        min_size=1,
        max_size=60,
        unique_by=lambda x: x[0],
    )
)
def test_stats_properties(rows):
    rows.sort()
    base = np.datetime64("2020-01-01T00:00", "ms")
    times = base + np.array([r[0] for r in rows]) * np.timedelta64(8, "h")
    rates = np.array([r[1] for r in rows])
    s = funding_stats_by_year(_funding(times, rates))
    assert s.n_intervals.sum() == rates.size
    assert np.isclose(s.total.sum(), rates.sum(), atol=1e-12)
    assert np.all(s.share_positive + s.share_negative <= 1 + 1e-12)
    assert np.all(s.share_at_baseline + s.share_above_baseline <= s.share_positive + 1e-12)
    np.testing.assert_allclose(s.annualised, s.mean_rate * FUNDING_INTERVALS_PER_YEAR)
    assert np.all(s.min_rate <= s.mean_rate + 1e-15) and np.all(s.mean_rate <= s.max_rate + 1e-15)


# --------------------------------------------------------------------------------------
# annualised_rolling_funding
# --------------------------------------------------------------------------------------


def test_rolling_hand_computed():
    t = np.datetime64("2021-01-01", "ms") + np.arange(6) * np.timedelta64(8, "h")
    f = _funding(t, [0.0, 0.0003, 0.0, 0.0003, 0.0006, 0.0])
    times, ann = annualised_rolling_funding(f, days=1)  # 3 settlements per window
    assert times.tolist() == t[2:].tolist()
    np.testing.assert_allclose(ann, np.array([0.0001, 0.0002, 0.0003, 0.0003]) * 1095)


@given(st.lists(st.floats(-0.003, 0.003, allow_nan=False), min_size=3, max_size=40))
def test_rolling_matches_naive_mean(rates):
    rates = np.array(rates)
    t = np.datetime64("2021-01-01", "ms") + np.arange(rates.size) * np.timedelta64(8, "h")
    _, ann = annualised_rolling_funding(_funding(t, rates), days=1)
    naive = np.array([rates[i - 2 : i + 1].mean() for i in range(2, rates.size)]) * 1095
    np.testing.assert_allclose(ann, naive, atol=1e-12)


@pytest.mark.parametrize("days", [0, -1, 1.5, True])
def test_rolling_rejects_bad_days(days):
    with pytest.raises(InvalidInputError, match="days"):
        annualised_rolling_funding(load_funding("BTCUSDT"), days=days)


# --------------------------------------------------------------------------------------
# cap_hits
# --------------------------------------------------------------------------------------


def test_cap_hits_synthetic():
    t = np.datetime64("2021-01-01", "ms") + np.arange(6) * np.timedelta64(8, "h")
    rates = [0.003, 0.0029, -0.003, 0.0001, 0.00299999999999, -0.0025]
    hits = cap_hits(_funding(t, rates), cap=0.003)
    assert hits.index.tolist() == [0, 2, 4]
    assert hits.side.tolist() == [1, -1, 1]
    assert (hits.n_cap, hits.n_floor) == (2, 1)
    assert hits.time.tolist() == t[[0, 2, 4]].tolist()
    # an asymmetric floor
    hits = cap_hits(_funding(t, rates), cap=0.004, floor=-0.0025)
    assert hits.index.tolist() == [2, 5]
    assert hits.side.tolist() == [-1, -1]


def test_cap_hits_real_data():
    btc = cap_hits(load_funding("BTCUSDT"))
    assert (btc.cap, btc.floor) == FUNDING_CAPS["BTCUSDT"] == (0.003, -0.003)
    assert btc.time.tolist() == [
        np.datetime64("2020-02-12T00:00", "ms").item(),
        np.datetime64("2020-03-13T08:00", "ms").item(),
    ]
    assert btc.side.tolist() == [1, -1]
    eth = cap_hits(load_funding("ETHUSDT"))
    assert eth.time.tolist() == [np.datetime64("2021-01-04T08:00", "ms").item()]
    # no rate lies beyond the published limits
    for sym in ("BTCUSDT", "ETHUSDT"):
        cap, floor = FUNDING_CAPS[sym]
        r = load_funding(sym).rate
        assert r.max() <= cap + 1e-12 and r.min() >= floor - 1e-12


@pytest.mark.parametrize(("cap", "floor"), [(0.0, None), (-0.003, None), (0.003, 0.001)])
def test_cap_hits_rejects_bad_limits(cap, floor):
    with pytest.raises(InvalidInputError):
        cap_hits(load_funding("BTCUSDT"), cap=cap, floor=floor)


def test_cap_hits_needs_cap_for_unknown_symbol():
    with pytest.raises(InvalidInputError, match="cap is required"):
        cap_hits(_funding(["2021-01-01"], [0.001]))


# --------------------------------------------------------------------------------------
# window, daily bars, event days
# --------------------------------------------------------------------------------------


def test_window_bounds_real_data():
    w = window(load_klines_4h(), "2021-05-19", 3)
    assert w.n == 7 * 6
    assert w.open_time[0] == np.datetime64("2021-05-16T00:00", "ms")
    assert w.open_time[-1] == np.datetime64("2021-05-22T20:00", "ms")
    # a datetime inside the day selects the same window
    w2 = window(load_klines_4h(), np.datetime64("2021-05-19T17:30"), 3)
    assert np.array_equal(w.open_time, w2.open_time)
    w0 = window(load_klines_4h(), "2025-10-10", 0)
    assert w0.n == 6 and str(w0.open_time[0]) == "2025-10-10T00:00:00.000"


@pytest.mark.parametrize("day", list(CASCADE_DAYS))
def test_cascade_days_inside_data(day):
    w = window(load_klines_4h(), day, 30)
    assert w.n == 61 * 6


@pytest.mark.parametrize(
    ("day", "days"), [("2019-09-01", 3), ("2026-10-03", 1), ("2021-05-19", -1), ("nonsense", 1)]
)
def test_window_rejects_uncovered_or_bad(day, days):
    with pytest.raises(InvalidInputError):
        window(load_klines_4h(), day, days)


def _synthetic_days(n_days: int, daily_volume, day_prices):
    """Six 4-hour bars per day; each day's volume split evenly over its bars."""
    t0 = np.datetime64("2022-01-01T00:00", "ms")
    t = t0 + np.arange(6 * n_days) * np.timedelta64(4, "h")
    qv = np.repeat(np.asarray(daily_volume, float) / 6.0, 6)
    o, h, lo, c = (np.repeat(np.asarray(x, float), 6) for x in zip(*day_prices, strict=True))
    return _klines(t, o, h, lo, c, qv)


def test_daily_bars_aggregation():
    t = np.datetime64("2022-01-01T16:00", "ms") + np.arange(4) * np.timedelta64(4, "h")
    k = _klines(
        t, [10, 11, 12, 9], [12, 13, 14, 10], [9, 10, 11, 8], [11, 12, 9, 9.5], [1, 2, 3, 4]
    )
    d = daily_bars(k)
    assert d.day.tolist() == [
        np.datetime64("2022-01-01").item(),
        np.datetime64("2022-01-02").item(),
    ]
    assert d.n_bars.tolist() == [2, 2]
    assert d.open.tolist() == [10, 12] and d.close.tolist() == [12, 9.5]
    assert d.high.tolist() == [13, 14] and d.low.tolist() == [9, 8]
    assert d.quote_volume.tolist() == [3, 7] and d.trades.tolist() == [2, 2]


def test_yearly_price_change():
    t = np.array(["2020-12-31T16:00", "2020-12-31T20:00", "2021-01-01T00:00"], "datetime64[ms]")
    k = _klines(t, [100, 110, 120], [1e9] * 3, [1] * 3, [110, 120, 150], [1, 1, 1])
    y = yearly_price_change(k)
    assert y.year.tolist() == [2020, 2021]
    np.testing.assert_allclose(y.first_open, [100, 120])
    np.testing.assert_allclose(y.last_close, [120, 150])
    np.testing.assert_allclose(y.change, [0.2, 0.25])
    real = yearly_price_change(load_klines_4h())
    assert real.year.tolist() == list(range(2019, 2027))
    assert real.change[real.year == 2022][0] < -0.5  # the 2022 bear market


def test_event_day_stats_hand_computed():
    # 30 trailing days with USD volumes 1..30 (median 15.5), then an event day with 62
    vols = [*range(1, 31), 62]
    prices = [(100, 101, 99, 100)] * 30 + [(100, 104, 80, 90)]
    k = _synthetic_days(31, vols, prices)
    ev = event_day_stats(k, "2022-01-31", trailing_days=30)
    assert ev.day == np.datetime64("2022-01-31")
    assert ev.quote_volume == pytest.approx(62.0)
    assert ev.trailing_median_volume == pytest.approx(15.5)
    assert ev.volume_multiple == pytest.approx(4.0)
    assert ev.range_frac == pytest.approx(0.24)  # (104 - 80) / 100
    assert ev.low_vs_prev_close == pytest.approx(-0.20)
    assert ev.close_return == pytest.approx(-0.10)
    with pytest.raises(InvalidInputError, match="complete days"):
        event_day_stats(k, "2022-01-31", trailing_days=31)


def test_event_day_stats_real_days_are_outliers():
    k = load_klines_4h()
    for day in CASCADE_DAYS:
        ev = event_day_stats(k, day)
        assert ev.volume_multiple > 2.0
        assert ev.low_vs_prev_close < -0.1
        assert ev.low <= ev.close <= ev.high


# --------------------------------------------------------------------------------------
# between, optional live fetch
# --------------------------------------------------------------------------------------


def test_between_half_open():
    f = load_funding("ETHUSDT").between("2021-01-01", "2021-01-02")
    assert f.n == 3
    assert f.time[0] == np.datetime64("2021-01-01T00:00", "ms")
    with pytest.raises(InvalidInputError, match="end must be after start"):
        load_funding("ETHUSDT").between("2021-01-02", "2021-01-01")


def test_fetch_live_without_ccxt_raises_clear_importerror(monkeypatch):
    monkeypatch.setitem(sys.modules, "ccxt", None)  # makes `import ccxt` fail
    with pytest.raises(ImportError, match=r"perpsbook\[live\]"):
        fetch_funding_live()
