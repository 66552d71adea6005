"""Real market data shipped with perpsbook, and small statistics computed from it.

The package carries three snapshots of the **Binance USDⓈ-M futures public REST API**
(see ``perpsbook/data/PROVENANCE.md`` for endpoints, collector, licence, trimming and
SHA-256 digests):

- ``BTCUSDT_funding.csv``, ``ETHUSDT_funding.csv`` — every funding settlement of the two
  perpetuals (``GET /fapi/v1/fundingRate``), 2019-09/11 to 2026-10-03;
- ``BTCUSDT_klines_4h.csv`` — 4-hour bars of the BTCUSDT perpetual
  (``GET /fapi/v1/klines``, interval ``4h``).

Loaders return frozen dataclasses of read-only numpy arrays (no pandas needed); results are
cached, so loading twice costs nothing. Units:

- times: ``datetime64[ms]``, UTC;
- funding ``rate``: a **fraction per 8-hour interval** (``0.0001`` = 0.01 % per 8 h), paid by
  longs to shorts when positive;
- prices: USD per coin (the venue quotes USDT, treated as one dollar);
- ``volume``: coins (BTC); ``quote_volume``: USD; ``trades``: count.

Nothing in this module touches the network except :func:`fetch_funding_live`, an optional
helper that needs the ``perpsbook[live]`` extra (ccxt) and is never used by the tests or the
book.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from perpsbook.errors import InvalidInputError, readonly

__all__ = [
    "CASCADE_DAYS",
    "FUNDING_CAPS",
    "FUNDING_INTERVALS_PER_YEAR",
    "SYMBOLS",
    "CapHits",
    "DailyBars",
    "EventDay",
    "FundingHistory",
    "FundingYearStats",
    "Klines",
    "YearlyChange",
    "annualised_rolling_funding",
    "cap_hits",
    "daily_bars",
    "event_day_stats",
    "fetch_funding_live",
    "funding_stats_by_year",
    "load_funding",
    "load_klines_4h",
    "window",
    "yearly_price_change",
]

SYMBOLS: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
"""Symbols whose funding history is shipped."""

KLINE_SYMBOLS: tuple[str, ...] = ("BTCUSDT",)
"""Symbols whose 4-hour bars are shipped."""

FUNDING_INTERVALS_PER_YEAR: int = 3 * 365
"""Funding intervals in a (365-day) year at one settlement every 8 hours."""

FUNDING_CAPS: dict[str, tuple[float, float]] = {
    "BTCUSDT": (0.003, -0.003),
    "ETHUSDT": (0.00375, -0.00375),
}
"""Funding-rate cap and floor (fraction per 8 h) of the two Binance perpetuals.

Binance clamps the funding rate to ``±0.75 × maintenance margin ratio`` of the contract's
first (highest-leverage) bracket: BTCUSDT 0.75 × 0.40 % = 0.30 %, ETHUSDT 0.75 × 0.50 % =
0.375 % (Binance, "Introduction to Binance Futures Funding Rates",
https://www.binance.com/en/support/faq/introduction-to-binance-futures-funding-rates-360033525031).
The BTCUSDT value ±0.3 % is stated explicitly in Binance's 2025 announcement on settlement
frequency after cap hits
(https://www.binance.com/en/support/announcement/detail/3243c81a35bd4f0c86a37315c3dc96cc).
The shipped data agree: BTCUSDT's largest and smallest rates are exactly +0.300 % and
-0.300 %, ETHUSDT's largest is exactly +0.375 %.
"""

CASCADE_DAYS: dict[str, str] = {
    "2020-03-12": "Black Thursday (COVID-19 crash)",
    "2021-05-19": "crypto-wide crash",
    "2025-10-10": "tariff shock",
}
"""Well-known liquidation-cascade days (UTC dates) inside the shipped 4-hour bars."""

_MS_PER_HOUR = 3_600_000
_BAR_MS = 4 * _MS_PER_HOUR
_DATA_PACKAGE = "perpsbook"
_DATA_DIR = "data"


# --------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingHistory:
    """Funding settlements of one perpetual, oldest first.

    Attributes
    ----------
    symbol : str
        Venue symbol, e.g. ``"BTCUSDT"``.
    time : ndarray of datetime64[ms]
        Settlement time, UTC, rounded to the hour. The source stamps settlements up to 47 ms
        after the hour; ``time_raw`` keeps them as recorded.
    time_raw : ndarray of datetime64[ms]
        Settlement time exactly as recorded by the venue (UTC).
    rate : ndarray of float64
        Funding rate, fraction of position notional per 8-hour interval. Positive: longs pay
        shorts.
    mark_price : ndarray of float64
        Mark price at settlement, USD per coin. The source did not record it before
        2023-10-31 08:00 UTC: those entries are NaN and ``has_mark`` is False there. This is
        the only NaN in the shipped data.
    has_mark : ndarray of bool
        True where ``mark_price`` was recorded.
    """

    symbol: str
    time: np.ndarray
    time_raw: np.ndarray
    rate: np.ndarray
    mark_price: np.ndarray
    has_mark: np.ndarray

    @property
    def n(self) -> int:
        """Number of settlements."""
        return int(self.rate.size)

    def between(self, start: Any = None, end: Any = None) -> FundingHistory:
        """Settlements with ``start <= time < end`` (dates or datetimes, UTC; None = open)."""
        lo, hi = _time_bounds(self.time, start, end)
        return self._take(slice(lo, hi))

    def _take(self, index: Any) -> FundingHistory:
        out = FundingHistory(
            symbol=self.symbol,
            time=self.time[index],
            time_raw=self.time_raw[index],
            rate=self.rate[index],
            mark_price=self.mark_price[index],
            has_mark=self.has_mark[index],
        )
        return out


@dataclass(frozen=True)
class Klines:
    """OHLCV bars of one perpetual, oldest first.

    Attributes
    ----------
    symbol : str
        Venue symbol.
    interval_ms : int
        Bar length in milliseconds (4 h = 14,400,000).
    open_time : ndarray of datetime64[ms]
        Bar open time, UTC. A bar covers ``[open_time, open_time + interval)``.
    open, high, low, close : ndarray of float64
        Last-traded prices of the perpetual, USD per coin.
    volume : ndarray of float64
        Traded quantity, coins.
    quote_volume : ndarray of float64
        Traded notional, USD.
    trades : ndarray of int64
        Number of trades.
    """

    symbol: str
    interval_ms: int
    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray

    @property
    def n(self) -> int:
        """Number of bars."""
        return int(self.close.size)

    @property
    def close_time(self) -> np.ndarray:
        """Last millisecond of each bar (``open_time + interval - 1 ms``), as the venue reports."""
        return self.open_time + np.timedelta64(self.interval_ms - 1, "ms")

    def between(self, start: Any = None, end: Any = None) -> Klines:
        """Bars with ``start <= open_time < end`` (dates or datetimes, UTC; None = open)."""
        lo, hi = _time_bounds(self.open_time, start, end)
        return self._take(slice(lo, hi))

    def _take(self, index: Any) -> Klines:
        return Klines(
            symbol=self.symbol,
            interval_ms=self.interval_ms,
            open_time=self.open_time[index],
            open=self.open[index],
            high=self.high[index],
            low=self.low[index],
            close=self.close[index],
            volume=self.volume[index],
            quote_volume=self.quote_volume[index],
            trades=self.trades[index],
        )


# --------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------


def _check_symbol(symbol: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(symbol, str) or symbol.upper() not in allowed:
        raise InvalidInputError(f"symbol must be one of {list(allowed)}, got {symbol!r}")
    return symbol.upper()


def _data_file(name: str):
    return resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR, name)


def load_funding(symbol: str = "BTCUSDT") -> FundingHistory:
    """Load the shipped funding history of a Binance USDⓈ-M perpetual.

    Parameters
    ----------
    symbol : {"BTCUSDT", "ETHUSDT"}
        Contract symbol (case-insensitive).

    Returns
    -------
    FundingHistory
        Every settlement in the snapshot, one per 8 hours without gaps; rates are fractions
        per 8-hour interval, mark prices USD per coin (NaN before 2023-10-31 08:00 UTC, see
        ``has_mark``). Arrays are read-only; the result is cached.

    Notes
    -----
    Source: Binance ``GET /fapi/v1/fundingRate`` via BTspaceC/crypto-swing-backtest (MIT);
    see ``perpsbook/data/PROVENANCE.md``.
    """
    return _load_funding_cached(_check_symbol(symbol, SYMBOLS))


@functools.cache
def _load_funding_cached(symbol: str) -> FundingHistory:
    dtype = [("t", "i8"), ("rate", "f8"), ("mark", "f8")]
    with _data_file(f"{symbol}_funding.csv").open("r", encoding="ascii") as fh:
        raw = np.genfromtxt(fh, delimiter=",", skip_header=1, dtype=dtype, filling_values=np.nan)
    t_ms = raw["t"]
    # settlements are scheduled on the hour; the venue's stamps run a few ms late
    t_hour = np.round(t_ms / _MS_PER_HOUR).astype(np.int64) * _MS_PER_HOUR
    mark = np.ascontiguousarray(raw["mark"])
    out = FundingHistory(
        symbol=symbol,
        time=t_hour.astype("datetime64[ms]"),
        time_raw=t_ms.astype("datetime64[ms]"),
        rate=np.ascontiguousarray(raw["rate"]),
        mark_price=mark,
        has_mark=np.isfinite(mark),
    )
    for a in (out.time, out.time_raw, out.rate, out.mark_price, out.has_mark):
        readonly(a, a.dtype, copy=False)  # frozen in place: the arrays out holds
    return out


def load_klines_4h(symbol: str = "BTCUSDT") -> Klines:
    """Load the shipped 4-hour bars of a Binance USDⓈ-M perpetual.

    Parameters
    ----------
    symbol : {"BTCUSDT"}
        Contract symbol (only BTCUSDT bars are shipped).

    Returns
    -------
    Klines
        15,491 consecutive 4-hour bars from 2019-09-08 16:00 to 2026-10-03 08:00 UTC (open
        times): prices USD per coin, volume coins, quote volume USD. Read-only, cached.

    Notes
    -----
    Source: Binance ``GET /fapi/v1/klines`` (interval ``4h``) via
    BTspaceC/crypto-swing-backtest (MIT); ``close_time`` was dropped from the shipped file
    and is recomputed by :attr:`Klines.close_time`. See ``perpsbook/data/PROVENANCE.md``.
    """
    return _load_klines_cached(_check_symbol(symbol, KLINE_SYMBOLS))


@functools.cache
def _load_klines_cached(symbol: str) -> Klines:
    names = ("t", "open", "high", "low", "close", "volume", "quote_volume", "trades")
    dtype = [(n, "i8" if n in ("t", "trades") else "f8") for n in names]
    with _data_file(f"{symbol}_klines_4h.csv").open("r", encoding="ascii") as fh:
        raw = np.loadtxt(fh, delimiter=",", skiprows=1, dtype=dtype)
    cols = {n: np.ascontiguousarray(raw[n]) for n in names}
    out = Klines(
        symbol=symbol,
        interval_ms=_BAR_MS,
        open_time=cols.pop("t").astype("datetime64[ms]"),
        **cols,
    )
    for a in (out.open_time, out.open, out.high, out.low, out.close):
        readonly(a, a.dtype, copy=False)
    for a in (out.volume, out.quote_volume, out.trades):
        readonly(a, a.dtype, copy=False)
    return out


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------


def _as_time(name: str, value: Any) -> np.datetime64:
    """A date/datetime/ISO string/datetime64 as datetime64[ms] (UTC, naive)."""
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    try:
        t = np.datetime64(value, "ms")
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} must be a date such as '2021-05-19' (UTC), got {value!r}"
        ) from exc
    if np.isnat(t):
        raise InvalidInputError(f"{name} must be a date such as '2021-05-19' (UTC), got {value!r}")
    return t


def _as_day(name: str, value: Any) -> np.datetime64:
    return _as_time(name, value).astype("datetime64[D]")


def _time_bounds(times: np.ndarray, start: Any, end: Any) -> tuple[int, int]:
    lo = 0 if start is None else int(np.searchsorted(times, _as_time("start", start), "left"))
    hi = times.size if end is None else int(np.searchsorted(times, _as_time("end", end), "left"))
    if start is not None and end is not None and _as_time("end", end) <= _as_time("start", start):
        raise InvalidInputError(f"end must be after start, got start={start!r}, end={end!r}")
    return lo, max(lo, hi)


# --------------------------------------------------------------------------------------
# Funding statistics
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingYearStats:
    """Funding statistics per calendar year (UTC) of one perpetual.

    Attributes
    ----------
    symbol : str
    year : ndarray of int64
        Calendar years present in the data.
    n_intervals : ndarray of int64
        Settlements in each year (1,095 or 1,098 for a full year; fewer for partial years).
    share_positive : ndarray of float64
        Fraction of settlements with rate > 0 (longs paid shorts).
    share_negative : ndarray of float64
        Fraction with rate < 0 (shorts paid longs). The rest are exactly zero.
    share_at_baseline : ndarray of float64
        Fraction with rate exactly equal to ``baseline`` (Binance's interest component,
        0.01 % per 8 h, which the formula returns whenever the premium is small).
    share_above_baseline : ndarray of float64
        Fraction with rate strictly above ``baseline``: settlements in which the premium
        pushed funding beyond its resting value.
    baseline : float
        The baseline rate used, fraction per 8 h.
    mean_rate : ndarray of float64
        Mean rate, fraction per 8-hour interval.
    annualised : ndarray of float64
        ``mean_rate × 1,095`` (three settlements a day, 365 days): the carry, as a fraction of
        notional per year, that a constant short perp position would have collected at that
        year's average rate, without compounding. Comparable across partial years.
    total : ndarray of float64
        Sum of the year's rates: the uncompounded funding actually collected per USD of
        short notional over the settlements present (equals ``annualised`` only for full
        non-leap years; smaller for partial years).
    max_rate, min_rate : ndarray of float64
        Extremes of the year, fraction per 8 h.
    """

    symbol: str
    year: np.ndarray
    n_intervals: np.ndarray
    share_positive: np.ndarray
    share_negative: np.ndarray
    share_at_baseline: np.ndarray
    share_above_baseline: np.ndarray
    baseline: float
    mean_rate: np.ndarray
    annualised: np.ndarray
    total: np.ndarray
    max_rate: np.ndarray
    min_rate: np.ndarray


def _year_of(times: np.ndarray) -> np.ndarray:
    return times.astype("datetime64[Y]").astype(np.int64) + 1970


def funding_stats_by_year(funding: FundingHistory, baseline: float = 0.0001) -> FundingYearStats:
    """Share of positive settlements, mean and annualised funding per calendar year.

    Parameters
    ----------
    funding : FundingHistory
        Settlements (rates as fractions per 8-hour interval), oldest first.
    baseline : float
        Reference rate for ``share_at_baseline`` (exactly equal) and ``share_above_baseline``
        (strictly above), fraction per 8 h.
        Default 0.0001: Binance's interest component; its formula
        ``F = P + clamp(0.01 % - P, -0.05 %, +0.05 %)`` returns exactly 0.01 % while the
        average premium ``P`` stays within [-0.04 %, +0.06 %] (Binance, "Introduction to
        Binance Futures Funding Rates").

    Returns
    -------
    FundingYearStats
        One entry per UTC calendar year present. ``annualised = mean_rate × 1,095`` (fraction
        per year); ``total`` = sum of the year's rates (fraction, uncompounded).

    Raises
    ------
    InvalidInputError
        If ``funding`` is empty or contains a non-finite rate.
    """
    rate = np.asarray(funding.rate, dtype=np.float64)
    if not np.isfinite(baseline):
        raise InvalidInputError(f"baseline must be a finite rate, got {baseline!r}")
    if rate.size == 0:
        raise InvalidInputError("funding must contain at least one settlement, got 0")
    if not np.all(np.isfinite(rate)):
        raise InvalidInputError("funding.rate must be finite (no NaN or inf)")
    years, inverse, counts = np.unique(
        _year_of(np.asarray(funding.time)), return_inverse=True, return_counts=True
    )
    n_years = years.size
    total = np.bincount(inverse, weights=rate, minlength=n_years)
    pos = np.bincount(inverse, weights=(rate > 0).astype(np.float64), minlength=n_years)
    neg = np.bincount(inverse, weights=(rate < 0).astype(np.float64), minlength=n_years)
    base = np.bincount(inverse, weights=(rate == baseline).astype(np.float64), minlength=n_years)
    above = np.bincount(inverse, weights=(rate > baseline).astype(np.float64), minlength=n_years)
    max_rate = np.full(n_years, -np.inf)
    min_rate = np.full(n_years, np.inf)
    np.maximum.at(max_rate, inverse, rate)
    np.minimum.at(min_rate, inverse, rate)
    mean = total / counts
    return FundingYearStats(
        symbol=funding.symbol,
        year=years.astype(np.int64),
        n_intervals=counts.astype(np.int64),
        share_positive=pos / counts,
        share_negative=neg / counts,
        share_at_baseline=base / counts,
        share_above_baseline=above / counts,
        baseline=float(baseline),
        mean_rate=mean,
        annualised=mean * FUNDING_INTERVALS_PER_YEAR,
        total=total,
        max_rate=max_rate,
        min_rate=min_rate,
    )


def annualised_rolling_funding(
    funding: FundingHistory, days: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Trailing mean funding rate over ``days`` days, annualised.

    Parameters
    ----------
    funding : FundingHistory
        Settlements every 8 hours, oldest first.
    days : int
        Window length in days (three settlements per day), >= 1.

    Returns
    -------
    time : ndarray of datetime64[ms]
        Time of the last settlement in each full window (the first ``3*days - 1``
        settlements have no full window and are omitted rather than padded with NaN).
    annualised : ndarray of float64
        Mean rate over the window × 1,095, fraction of notional per year.
    """
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise InvalidInputError(f"days must be an integer >= 1, got {days!r}")
    n = 3 * int(days)
    rate = np.asarray(funding.rate, dtype=np.float64)
    if rate.size < n:
        raise InvalidInputError(
            f"days={days} needs at least {n} settlements, funding has {rate.size}"
        )
    csum = np.concatenate(([0.0], np.cumsum(rate)))
    mean = (csum[n:] - csum[:-n]) / n
    return np.asarray(funding.time)[n - 1 :], mean * FUNDING_INTERVALS_PER_YEAR


@dataclass(frozen=True)
class CapHits:
    """Settlements at the venue's funding cap or floor.

    Attributes
    ----------
    symbol : str
    cap, floor : float
        Limits used, fraction per 8 h.
    index : ndarray of int64
        Positions of the hits in the funding history.
    time : ndarray of datetime64[ms]
    rate : ndarray of float64
        Rate at each hit, fraction per 8 h.
    side : ndarray of int8
        +1 at the cap (longs paid the maximum), -1 at the floor (shorts paid the maximum).
    """

    symbol: str
    cap: float
    floor: float
    index: np.ndarray
    time: np.ndarray
    rate: np.ndarray
    side: np.ndarray

    @property
    def n_cap(self) -> int:
        """Number of settlements at the cap."""
        return int(np.count_nonzero(self.side == 1))

    @property
    def n_floor(self) -> int:
        """Number of settlements at the floor."""
        return int(np.count_nonzero(self.side == -1))


def cap_hits(
    funding: FundingHistory,
    cap: float | None = None,
    floor: float | None = None,
    *,
    tol: float = 1e-10,
) -> CapHits:
    """Find settlements whose rate sits at the funding cap or floor.

    Parameters
    ----------
    funding : FundingHistory
        Settlements, rates as fractions per 8-hour interval.
    cap : float, optional
        Upper limit, fraction per 8 h (> 0). Default: ``FUNDING_CAPS[symbol][0]`` (Binance's
        ±0.75 × first-bracket maintenance margin ratio; see :data:`FUNDING_CAPS`).
    floor : float, optional
        Lower limit, fraction per 8 h (< 0). Default: ``-cap`` or the table's floor.
    tol : float
        Absolute tolerance, fraction; a rate within ``tol`` of a limit counts as a hit.

    Returns
    -------
    CapHits

    Raises
    ------
    InvalidInputError
        If no limit is given for a symbol without a default, ``cap <= 0``, ``floor >= 0`` or
        ``tol`` is negative.
    """
    if cap is None:
        if funding.symbol not in FUNDING_CAPS:
            raise InvalidInputError(
                f"cap is required for symbol {funding.symbol!r}: no default in FUNDING_CAPS "
                f"(known: {sorted(FUNDING_CAPS)})"
            )
        cap = FUNDING_CAPS[funding.symbol][0]
        floor = FUNDING_CAPS[funding.symbol][1] if floor is None else floor
    cap = float(cap)
    floor = -cap if floor is None else float(floor)
    if not (np.isfinite(cap) and cap > 0):
        raise InvalidInputError(f"cap must be a finite fraction > 0, got {cap!r}")
    if not (np.isfinite(floor) and floor < 0):
        raise InvalidInputError(f"floor must be a finite fraction < 0, got {floor!r}")
    if not (np.isfinite(tol) and tol >= 0):
        raise InvalidInputError(f"tol must be >= 0, got {tol!r}")
    rate = np.asarray(funding.rate, dtype=np.float64)
    at_cap = rate >= cap - tol
    at_floor = rate <= floor + tol
    index = np.flatnonzero(at_cap | at_floor)
    side = np.where(at_cap[index], 1, -1).astype(np.int8)
    return CapHits(
        symbol=funding.symbol,
        cap=cap,
        floor=floor,
        index=index.astype(np.int64),
        time=np.asarray(funding.time)[index],
        rate=rate[index],
        side=side,
    )


# --------------------------------------------------------------------------------------
# Bars: windows, daily aggregation, event days
# --------------------------------------------------------------------------------------


def window(klines: Klines, center_date: Any, days: int) -> Klines:
    """Bars within ``days`` whole UTC days either side of an event day.

    Parameters
    ----------
    klines : Klines
        Bars, oldest first.
    center_date : str, datetime.date, datetime64
        The event day (UTC); any time of day is truncated to the date.
    days : int
        Days kept on each side (>= 0). The result covers
        ``[center - days, center + 1 + days)`` in whole days, i.e. ``2*days + 1`` days.

    Returns
    -------
    Klines
        The bars whose open time falls in that span.

    Raises
    ------
    InvalidInputError
        If ``days`` is negative or not an integer, or the span is not fully covered by
        ``klines``.
    """
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 0:
        raise InvalidInputError(f"days must be an integer >= 0, got {days!r}")
    day = _as_day("center_date", center_date)
    start = (day - np.timedelta64(int(days), "D")).astype("datetime64[ms]")
    end = (day + np.timedelta64(int(days) + 1, "D")).astype("datetime64[ms]")
    first = klines.open_time[0] if klines.n else None
    last_end = klines.open_time[-1] + np.timedelta64(klines.interval_ms, "ms") if klines.n else None
    if first is None or start < first or end > last_end:
        raise InvalidInputError(
            f"window {str(start)[:10]} to {str(end)[:10]} (center_date={center_date!r}, "
            f"days={days}) is not covered by the bars, which span "
            f"{str(first)[:16] if first is not None else 'nothing'} to "
            f"{str(last_end)[:16] if last_end is not None else 'nothing'} UTC"
        )
    return klines.between(start, end)


@dataclass(frozen=True)
class DailyBars:
    """Bars aggregated to UTC calendar days.

    Attributes
    ----------
    day : ndarray of datetime64[D]
    open, high, low, close : ndarray of float64
        USD per coin: first open, highest high, lowest low, last close of the day.
    volume : ndarray of float64
        Coins traded in the day.
    quote_volume : ndarray of float64
        USD traded in the day.
    trades : ndarray of int64
    n_bars : ndarray of int64
        Source bars in each day (6 for a complete day of 4-hour bars).
    """

    day: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray
    n_bars: np.ndarray


def daily_bars(klines: Klines) -> DailyBars:
    """Aggregate bars to UTC days (open=first, high=max, low=min, close=last, volumes summed).

    Parameters
    ----------
    klines : Klines
        Bars, oldest first (at least one).

    Returns
    -------
    DailyBars
        One row per UTC day that has at least one bar.
    """
    if klines.n == 0:
        raise InvalidInputError("klines must contain at least one bar, got 0")
    day = klines.open_time.astype("datetime64[D]")
    starts = np.flatnonzero(np.concatenate(([True], day[1:] != day[:-1])))
    ends = np.concatenate((starts[1:], [klines.n])) - 1
    return DailyBars(
        day=day[starts],
        open=klines.open[starts],
        high=np.maximum.reduceat(klines.high, starts),
        low=np.minimum.reduceat(klines.low, starts),
        close=klines.close[ends],
        volume=np.add.reduceat(klines.volume, starts),
        quote_volume=np.add.reduceat(klines.quote_volume, starts),
        trades=np.add.reduceat(klines.trades, starts),
        n_bars=(ends - starts + 1).astype(np.int64),
    )


@dataclass(frozen=True)
class YearlyChange:
    """Calendar-year price change of a perpetual (UTC years).

    Attributes
    ----------
    year : ndarray of int64
    first_open : ndarray of float64
        Open of the year's first bar, USD per coin.
    last_close : ndarray of float64
        Close of the year's last bar, USD per coin.
    change : ndarray of float64
        ``last_close / first_open - 1``, fraction (partial years: over the bars present).
    """

    year: np.ndarray
    first_open: np.ndarray
    last_close: np.ndarray
    change: np.ndarray


def yearly_price_change(klines: Klines) -> YearlyChange:
    """Price change over each calendar year from the first bar's open to the last bar's close.

    Parameters
    ----------
    klines : Klines
        Bars, oldest first (at least one); prices USD per coin.

    Returns
    -------
    YearlyChange
        Changes as fractions (``1.0`` = +100 %).
    """
    if klines.n == 0:
        raise InvalidInputError("klines must contain at least one bar, got 0")
    year = _year_of(klines.open_time)
    starts = np.flatnonzero(np.concatenate(([True], year[1:] != year[:-1])))
    ends = np.concatenate((starts[1:], [klines.n])) - 1
    first_open = klines.open[starts]
    last_close = klines.close[ends]
    return YearlyChange(
        year=year[starts].astype(np.int64),
        first_open=first_open,
        last_close=last_close,
        change=last_close / first_open - 1.0,
    )


@dataclass(frozen=True)
class EventDay:
    """One day's perp trading set against the preceding weeks.

    Attributes
    ----------
    day : datetime64[D]
    open, high, low, close : float
        The day's prices, USD per coin.
    prev_close : float
        Previous day's close, USD per coin.
    quote_volume : float
        USD traded on the day.
    trailing_median_volume : float
        Median daily USD volume over the ``trailing_days`` days before ``day``.
    volume_multiple : float
        ``quote_volume / trailing_median_volume``.
    range_frac : float
        ``(high - low) / prev_close``: the day's high-low range as a fraction of the
        previous close.
    low_vs_prev_close : float
        ``low / prev_close - 1``: the deepest intraday fall, fraction.
    close_return : float
        ``close / prev_close - 1``, fraction.
    trailing_days : int
    """

    day: np.datetime64
    open: float
    high: float
    low: float
    close: float
    prev_close: float
    quote_volume: float
    trailing_median_volume: float
    volume_multiple: float
    range_frac: float
    low_vs_prev_close: float
    close_return: float
    trailing_days: int


def event_day_stats(klines: Klines, day: Any, trailing_days: int = 30) -> EventDay:
    """Volume multiple and price range of one day against its trailing median volume.

    Parameters
    ----------
    klines : Klines
        Bars covering ``day`` and the ``trailing_days`` days before it.
    day : str, date or datetime64
        The UTC day to describe.
    trailing_days : int
        Length of the look-back, days (>= 1); the event day itself is excluded.

    Returns
    -------
    EventDay
        Volume multiple = day's USD volume / median daily USD volume of the look-back;
        range and returns measured from the previous day's close (fractions).

    Raises
    ------
    InvalidInputError
        If the day or any look-back day is missing or incomplete (fewer than a full day of
        bars).
    """
    if isinstance(trailing_days, bool) or not isinstance(trailing_days, (int, np.integer)):
        raise InvalidInputError(f"trailing_days must be an integer >= 1, got {trailing_days!r}")
    if trailing_days < 1:
        raise InvalidInputError(f"trailing_days must be an integer >= 1, got {trailing_days!r}")
    d = _as_day("day", day)
    span = klines.between(
        (d - np.timedelta64(int(trailing_days), "D")).astype("datetime64[ms]"),
        (d + np.timedelta64(1, "D")).astype("datetime64[ms]"),
    )
    bars_per_day = 86_400_000 // klines.interval_ms
    daily = daily_bars(span) if span.n else None
    if (
        daily is None
        or daily.day.size != trailing_days + 1
        or daily.day[-1] != d
        or np.any(daily.n_bars != bars_per_day)
    ):
        raise InvalidInputError(
            f"day={d!s} with trailing_days={trailing_days} needs {trailing_days + 1} "
            f"complete days of bars ending on that day; the bars do not cover them"
        )
    prev_close = float(daily.close[-2])
    median = float(np.median(daily.quote_volume[:-1]))
    high, low, close = float(daily.high[-1]), float(daily.low[-1]), float(daily.close[-1])
    qv = float(daily.quote_volume[-1])
    return EventDay(
        day=d,
        open=float(daily.open[-1]),
        high=high,
        low=low,
        close=close,
        prev_close=prev_close,
        quote_volume=qv,
        trailing_median_volume=median,
        volume_multiple=qv / median,
        range_frac=(high - low) / prev_close,
        low_vs_prev_close=low / prev_close - 1.0,
        close_return=close / prev_close - 1.0,
        trailing_days=int(trailing_days),
    )


# --------------------------------------------------------------------------------------
# Optional live fetch (never used by tests or the book build)
# --------------------------------------------------------------------------------------


def fetch_funding_live(
    symbol: str = "BTC/USDT:USDT",
    since: Any = None,
    limit: int = 1000,
    *,
    exchange: str = "binanceusdm",
) -> FundingHistory:
    """Download recent funding settlements with ccxt (needs network and ``perpsbook[live]``).

    Parameters
    ----------
    symbol : str
        ccxt unified symbol, e.g. ``"BTC/USDT:USDT"`` (Binance USDⓈ-M BTCUSDT).
    since : str, date or datetime64, optional
        First settlement time (UTC); default: the venue's most recent ``limit`` settlements.
    limit : int
        Maximum number of settlements (Binance allows up to 1,000 per request).
    exchange : str
        ccxt exchange id; ``"binanceusdm"`` queries ``GET /fapi/v1/fundingRate``.

    Returns
    -------
    FundingHistory
        Same units as :func:`load_funding` (rate fraction per interval — check the venue's
        interval, which may be shorter than 8 h for some contracts; mark price USD, NaN if
        the venue does not return it).

    Raises
    ------
    ImportError
        If ccxt is not installed: ``pip install "perpsbook[live]"``.
    """
    try:
        import ccxt
    except ImportError as exc:
        raise ImportError(
            "fetch_funding_live needs the optional dependency ccxt; install it with "
            '`pip install "perpsbook[live]"` (or `pip install ccxt`). The shipped snapshot '
            "is available offline through perpsbook.data.load_funding()."
        ) from exc
    if not isinstance(limit, (int, np.integer)) or isinstance(limit, bool) or limit < 1:
        raise InvalidInputError(f"limit must be an integer >= 1, got {limit!r}")
    since_ms = None if since is None else int(_as_time("since", since).astype(np.int64))
    venue = getattr(ccxt, exchange)({"enableRateLimit": True})
    rows = venue.fetch_funding_rate_history(symbol, since=since_ms, limit=int(limit))
    t_ms = np.array([r["timestamp"] for r in rows], dtype=np.int64)
    rate = np.array([r["fundingRate"] for r in rows], dtype=np.float64)
    mark = np.array(
        [float(r.get("info", {}).get("markPrice") or "nan") for r in rows], dtype=np.float64
    )
    t_hour = np.round(t_ms / _MS_PER_HOUR).astype(np.int64) * _MS_PER_HOUR
    return FundingHistory(
        symbol=symbol.replace("/", "").split(":")[0],
        time=t_hour.astype("datetime64[ms]"),
        time_raw=t_ms.astype("datetime64[ms]"),
        rate=rate,
        mark_price=mark,
        has_mark=np.isfinite(mark),
    )


# --------------------------------------------------------------------------------------
# Figure ledger of the 10-11 October 2025 liquidation cascade (cited, not computed)
# --------------------------------------------------------------------------------------

_LEDGER_FILE = "oct2025_figure_ledger.csv"
_LEDGER_TEXT_COLUMNS = (
    "id",
    "event",
    "quantity",
    "unit",
    "source",
    "bibkey",
    "source_url",
    "published_date",
    "window_start_utc",
    "window_end_utc",
    "method",
    "notes",
)


@dataclass(frozen=True)
class FigureLedger:
    """Published figures on a real liquidation cascade, one row per figure per source.

    Every number here is *cited*, not computed: each row names where it was read, when the
    source was published and the time window the figure covers. Sources measure different
    things over different windows, so rows on the same quantity may disagree; both are kept
    and the ``notes`` say why. See ``perpsbook/data/PROVENANCE.md``.

    Attributes
    ----------
    id : ndarray of str
        Unique row identifier, e.g. ``"cg_24h_total"``.
    event : ndarray of str
        UTC date of the episode (``"2025-10-10"``, ``"2020-03-13"`` ...) or ``"rule"`` for a
        standing venue rule.
    quantity : ndarray of str
        What was measured, in words.
    value : ndarray of float64
        The figure (a range's low end), in ``unit``.
    value_high : ndarray of float64
        High end of a range, or NaN when the source gives a single number.
    unit : ndarray of str
        ``"USD"``, ``"traders"``, ``"fraction"``, ``"USD per coin"``, ``"XBT"`` ...
    source, bibkey, source_url : ndarray of str
        Who published it, its key in ``book/references.bib`` (empty for weak sources that
        are listed but not cited) and the address of the copy that was read.
    published_date : ndarray of str
        ``YYYY-MM-DD``, ``YYYY-MM`` or ``"n.d."`` (undated page).
    window_start_utc, window_end_utc : ndarray of str
        The time window the figure covers, ISO 8601 (date or date and minute, UTC), or
        ``"n/a"`` for a standing rule.
    method, notes : ndarray of str
        How the source obtained the figure; caveats and disagreements.
    """

    id: np.ndarray
    event: np.ndarray
    quantity: np.ndarray
    value: np.ndarray
    value_high: np.ndarray
    unit: np.ndarray
    source: np.ndarray
    bibkey: np.ndarray
    source_url: np.ndarray
    published_date: np.ndarray
    window_start_utc: np.ndarray
    window_end_utc: np.ndarray
    method: np.ndarray
    notes: np.ndarray

    def __len__(self) -> int:
        return int(self.id.size)

    def row(self, row_id: str) -> dict[str, Any]:
        """One row as a dict (floats for the values), looked up by its ``id``.

        Raises
        ------
        InvalidInputError
            If no row has that id.
        """
        hits = np.flatnonzero(self.id == row_id)
        if hits.size != 1:
            raise InvalidInputError(
                f"row_id must be one of the ledger's ids (e.g. 'cg_24h_total'), got {row_id!r}"
            )
        i = int(hits[0])
        out: dict[str, Any] = {name: str(getattr(self, name)[i]) for name in _LEDGER_TEXT_COLUMNS}
        out["value"] = float(self.value[i])
        out["value_high"] = float(self.value_high[i])
        return out

    def select(self, event: str) -> FigureLedger:
        """The rows of one episode (``event`` as in the ``event`` column), in file order."""
        keep = self.event == event
        return FigureLedger(**{name: getattr(self, name)[keep] for name in _LEDGER_FIELDS})


_LEDGER_FIELDS = (*_LEDGER_TEXT_COLUMNS[:3], "value", "value_high", *_LEDGER_TEXT_COLUMNS[3:])


def figure_ledger() -> FigureLedger:
    """Load the figure ledger of the 10-11 October 2025 crash and earlier cascades.

    Returns
    -------
    FigureLedger
        Struct of read-only arrays, one entry per published figure (cached; loading twice
        costs nothing). Values in the unit of each row (``unit`` column).

    Examples
    --------
    >>> from perpsbook.data import figure_ledger
    >>> row = figure_ledger().row("amb_peak_minute")
    >>> row["value"], row["window_start_utc"]
    (3210000000.0, '2025-10-10T21:15')
    """
    return _figure_ledger_cached()


@functools.lru_cache(maxsize=1)
def _figure_ledger_cached() -> FigureLedger:
    import csv

    with _data_file(_LEDGER_FILE).open("r", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols: dict[str, np.ndarray] = {
        name: np.array([r[name] for r in rows], dtype=str) for name in _LEDGER_TEXT_COLUMNS
    }
    cols["value"] = np.array([float(r["value"]) for r in rows], dtype=np.float64)
    cols["value_high"] = np.array(
        [float(r["value_high"]) if r["value_high"] else np.nan for r in rows], dtype=np.float64
    )
    for a in cols.values():
        readonly(a, a.dtype, copy=False)
    return FigureLedger(**{name: cols[name] for name in _LEDGER_FIELDS})


# Appended rather than edited into the list above, so this section stays self-contained.
__all__ += ["FigureLedger", "figure_ledger"]
