"""Figures of the perpsbook chapters, in one consistent style.

Layout of this module:

1. **General helpers** (used by every chapter): :func:`use_style`, the palette
   :data:`COLORS`, :func:`format_usd`, :func:`usd_formatter`, :func:`pct_formatter`,
   :func:`date_axis`.
2. **Chapter sections**, one per chapter, each a group of figure functions. New chapters
   append a section at the end of the file.

Every figure function is pure: it takes data as arguments, returns a
:class:`matplotlib.figure.Figure` with labelled axes (units in the labels) and a title, and
never calls ``plt.show``. Notebook cells do ``fig = plots.xxx(...); plt.show()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from perpsbook.errors import (
    InvalidInputError,
    check_finite,
    check_positive,
)
from perpsbook.hedging import HedgePath, forced_buy_prices

__all__ = [
    "COLORS",
    "STYLE",
    "date_axis",
    "event_window_figure",
    "event_windows_figure",
    "format_usd",
    "funding_distribution_figure",
    "funding_history_figure",
    "funding_year_figure",
    "pct_formatter",
    "symbol_color",
    "usd_formatter",
    "use_style",
]

# ======================================================================================
# 1. General helpers
# ======================================================================================

COLORS: dict[str, str] = {
    # roles in a cascade (Okabe-Ito colour-blind-safe palette)
    "long": "#0072B2",  # blue
    "short": "#D55E00",  # vermillion
    "spot": "#009E73",  # bluish green
    "perp": "#E69F00",  # orange
    "mm": "#CC79A7",  # reddish purple
    "insurance": "#56B4E9",  # sky blue
    "ignitor": "#F0E442",  # yellow
    # neutral tones
    "neutral": "#4D4D4D",
    "light": "#BBBBBB",
    "event": "#D55E00",
    # instruments
    "BTCUSDT": "#E69F00",
    "ETHUSDT": "#0072B2",
}
"""Named colours shared by every chapter (keys are roles, e.g. ``COLORS["short"]``)."""

_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#4D4D4D"]

STYLE: dict[str, Any] = {
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": mpl.cycler(color=_CYCLE),
}
"""rcParams applied by :func:`use_style`."""


def use_style() -> None:
    """Apply the book's matplotlib style (figure size, dpi 100, grid, fonts, colours).

    Only ``matplotlib.rcParams`` is touched, and calling it again changes nothing more.
    """
    mpl.rcParams.update(STYLE)


def symbol_color(symbol: str) -> str:
    """Colour of an instrument (e.g. ``"BTCUSDT"``), neutral grey if it has none."""
    return COLORS.get(symbol, COLORS["neutral"])


_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def format_usd(x: float, decimals: int = 1) -> str:
    """Format a USD amount compactly: ``$1.2B``, ``-$350.0M``, ``$12.5k``, ``$7.25``.

    Parameters
    ----------
    x : float
        Amount, USD.
    decimals : int
        Decimals kept after scaling (amounts below 1,000 use two decimals).
    """
    x = float(x)
    if not np.isfinite(x):
        raise InvalidInputError(f"x must be a finite USD amount, got {x!r}")
    sign = "-" if x < 0 else ""
    a = abs(x)
    for scale, suffix in _SUFFIXES:
        if a >= scale:
            return f"{sign}${a / scale:,.{decimals}f}{suffix}"
    return f"{sign}${a:,.2f}"


def usd_formatter(decimals: int = 2) -> FuncFormatter:
    """Tick formatter writing axis values (USD) as ``$1.25B``, ``$40k``...; one per axis.

    Up to ``decimals`` decimals are kept after scaling and trailing zeros are dropped, so
    neighbouring ticks never print the same label.
    """

    def _fmt(x: float, _pos: Any = None) -> str:
        if x == 0:
            return "$0"
        text = format_usd(x, decimals)
        m = re.match(r"^(-?\$[\d,]+)\.(\d*?)0*([A-Za-z]?)$", text)
        if m:
            text = m.group(1) + (f".{m.group(2)}" if m.group(2) else "") + m.group(3)
        return text

    return FuncFormatter(_fmt)


def pct_formatter(decimals: int | None = None) -> PercentFormatter:
    """Tick formatter for values stored as fractions (0.003 is written 0.3%)."""
    return PercentFormatter(xmax=1.0, decimals=decimals)


def date_axis(ax: Any) -> None:
    """Concise date ticks on the x axis of ``ax`` (UTC dates)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


# ======================================================================================
# 2. Chapter "Data insight" (book/data_insight.ipynb): funding and event windows
# ======================================================================================


def funding_history_figure(
    histories: Any,
    *,
    rolling: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    baseline: float = 0.0001,
    title: str = "Funding rates of Binance perpetuals",
) -> Figure:
    """Funding rate per settlement (top) and its trailing annualised mean (bottom).

    Parameters
    ----------
    histories : FundingHistory or sequence of them
        Settlements; ``rate`` is a fraction per 8-hour interval.
    rolling : mapping symbol -> (time, annualised), optional
        Output of :func:`perpsbook.data.annualised_rolling_funding` per symbol (fraction per
        year). Without it the bottom panel is omitted.
    baseline : float
        Reference rate drawn as a dashed line, fraction per 8 h (Binance's interest
        component alone gives 0.01 %).
    title : str
        Figure title.

    Returns
    -------
    Figure
    """
    histories = _as_list(histories)
    nrows = 2 if rolling else 1
    fig, axes = plt.subplots(
        nrows, 1, figsize=(9, 3.2 * nrows + 0.6), sharex=True, squeeze=False, layout="constrained"
    )
    ax = axes[0, 0]
    for h in histories:
        ax.plot(h.time, h.rate, lw=0.6, alpha=0.85, color=symbol_color(h.symbol), label=h.symbol)
    ax.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax.axhline(baseline, color=COLORS["neutral"], lw=0.8, ls="--", label=f"{baseline:.2%} per 8 h")
    ax.yaxis.set_major_formatter(pct_formatter())
    ax.set_ylabel("funding rate (% per 8 h)")
    ax.legend(loc="upper right", ncols=3)
    ax.set_title(title)
    if rolling:
        ax2 = axes[1, 0]
        for symbol, (t, ann) in rolling.items():
            ax2.plot(t, ann, lw=1.2, color=symbol_color(symbol), label=symbol)
        ax2.axhline(0.0, color=COLORS["neutral"], lw=0.8)
        ax2.axhline(
            baseline * 1095, color=COLORS["neutral"], lw=0.8, ls="--", label="baseline, annualised"
        )
        ax2.yaxis.set_major_formatter(pct_formatter(0))
        ax2.set_ylabel("trailing mean × 1,095\n(% of notional per year)")
        ax2.legend(loc="upper right", ncols=3)
    axes[-1, 0].set_xlabel("settlement time (UTC)")
    date_axis(axes[-1, 0])
    return fig


def funding_year_figure(stats: Any, *, title: str = "Funding by calendar year") -> Figure:
    """Bars per year: share of positive settlements (left) and annualised funding (right).

    Parameters
    ----------
    stats : FundingYearStats or sequence of them
        From :func:`perpsbook.data.funding_stats_by_year`; one bar group per year, one bar
        per symbol.
    title : str
        Figure title.

    Returns
    -------
    Figure
    """
    stats = _as_list(stats)
    if not stats:
        raise InvalidInputError("stats must hold at least one FundingYearStats, got none")
    years = np.unique(np.concatenate([s.year for s in stats]))
    width = 0.8 / len(stats)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for i, s in enumerate(stats):
        pos = np.searchsorted(years, s.year) + (i - (len(stats) - 1) / 2) * width
        color = symbol_color(s.symbol)
        ax1.bar(pos, s.share_positive, width, color=color, label=s.symbol)
        ax2.bar(pos, s.annualised, width, color=color, label=s.symbol)
    ax1.axhline(0.5, color=COLORS["neutral"], lw=0.8, ls="--")
    ax1.set_ylim(0, 1)
    ax1.yaxis.set_major_formatter(pct_formatter(0))
    ax1.set_ylabel("settlements with rate > 0 (% of year)")
    ax1.set_title("How often longs paid")
    ax2.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax2.yaxis.set_major_formatter(pct_formatter(0))
    ax2.set_ylabel("mean rate × 1,095 (% of notional per year)")
    ax2.set_title("Annualised funding (short perp receives)")
    for ax in (ax1, ax2):
        ax.set_xticks(np.arange(years.size), [str(y) for y in years], rotation=45)
        ax.set_xlabel("calendar year (UTC; first and last years partial)")
    fig.suptitle(title, fontweight="bold")
    # one legend under both panels: inside either it would hide the tallest bars
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncols=len(stats))
    return fig


def funding_distribution_figure(
    histories: Any,
    caps: Mapping[str, tuple[float, float]] | None = None,
    *,
    bins: int = 120,
    title: str = "Distribution of funding rates, with the venue's cap and floor",
) -> Figure:
    """Histogram (log counts) of settlement rates with each contract's cap and floor.

    Parameters
    ----------
    histories : FundingHistory or sequence of them
        Rates as fractions per 8 h.
    caps : mapping symbol -> (cap, floor), optional
        Limits (fraction per 8 h) drawn as vertical lines.
    bins : int
        Number of histogram bins over the common range.
    title : str

    Returns
    -------
    Figure
    """
    histories = _as_list(histories)
    lo = min(float(h.rate.min()) for h in histories)
    hi = max(float(h.rate.max()) for h in histories)
    if caps:
        lo = min(lo, *(c[1] for c in caps.values()))
        hi = max(hi, *(c[0] for c in caps.values()))
    edges = np.linspace(lo * 1.05, hi * 1.05, bins + 1)
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    for h in histories:
        color = symbol_color(h.symbol)
        ax.hist(h.rate, bins=edges, histtype="step", lw=1.4, color=color, label=h.symbol)
        if caps and h.symbol in caps:
            cap, floor = caps[h.symbol]
            for v in (cap, floor):
                ax.axvline(v, color=color, lw=1.0, ls=":")
            ax.annotate(
                f"{h.symbol} cap/floor ±{cap:.3%}",
                xy=(cap, 0.98),
                xycoords=("data", "axes fraction"),
                ha="right",
                va="top",
                fontsize=8,
                color=color,
                rotation=90,
            )
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(pct_formatter(2))
    ax.set_xlabel("funding rate (% per 8 h)")
    ax.set_ylabel("settlements (count, log scale)")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def _draw_event(ax_p: Any, ax_v: Any, bars: Any, day: Any, label: str | None) -> None:
    t = bars.open_time + np.timedelta64(bars.interval_ms // 2, "ms")  # bar midpoints
    day0 = np.datetime64(day, "D").astype("datetime64[ms]")
    day1 = day0 + np.timedelta64(1, "D")
    for ax in (ax_p, ax_v):
        ax.axvspan(day0, day1, color=COLORS["event"], alpha=0.12, lw=0)
    ax_p.fill_between(
        t, bars.low, bars.high, color=COLORS["perp"], alpha=0.35, lw=0, label="4-h high-low"
    )
    ax_p.plot(t, bars.close, color=COLORS["neutral"], lw=1.2, label="4-h close")
    ax_p.yaxis.set_major_formatter(usd_formatter())
    ax_p.set_ylabel("BTCUSDT price (USD per BTC)")
    ax_p.set_title(label or str(np.datetime64(day, "D")))
    width = np.timedelta64(bars.interval_ms * 9 // 10, "ms")
    ax_v.bar(t, bars.quote_volume, width=width, color=COLORS["perp"])
    ax_v.yaxis.set_major_formatter(usd_formatter())
    ax_v.set_ylabel("volume per 4 h (USD)")
    ax_v.set_xlabel("time (UTC)")
    date_axis(ax_v)


def event_window_figure(bars: Any, day: Any, *, title: str | None = None) -> Figure:
    """Price (close and high-low band) and USD volume of 4-hour bars around an event day.

    Parameters
    ----------
    bars : Klines
        Bars of the window (e.g. :func:`perpsbook.data.window`), prices USD per coin,
        ``quote_volume`` USD.
    day : str or datetime64
        Event day (UTC), shaded.
    title : str, optional
        Panel title; default the date.

    Returns
    -------
    Figure
    """
    if bars.n == 0:
        raise InvalidInputError("bars must contain at least one bar, got 0")
    fig, (ax_p, ax_v) = plt.subplots(
        2,
        1,
        figsize=(8, 5.5),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 2]},
        layout="constrained",
    )
    _draw_event(ax_p, ax_v, bars, day, title)
    ax_p.legend(loc="lower left")
    return fig


def event_windows_figure(
    windows: Sequence[tuple[str, Any, Any]],
    *,
    title: str = "BTCUSDT perpetual around liquidation-cascade days",
) -> Figure:
    """Side-by-side event windows: one column per ``(label, bars, day)``.

    Parameters
    ----------
    windows : sequence of (label, Klines, day)
        Column title, the window's 4-hour bars (USD per coin, USD volume), the event day.
    title : str

    Returns
    -------
    Figure
    """
    if len(windows) == 0:
        raise InvalidInputError("windows must hold at least one (label, bars, day), got none")
    n = len(windows)
    # Three columns must fit the page (about 10 in) for the tick labels to stay readable;
    # long column titles can be split with "\n".
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(3.4 * n, 6.2),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 2]},
        layout="constrained",
    )
    for j, (label, bars, day) in enumerate(windows):
        axes[1, j].sharex(axes[0, j])
        _draw_event(axes[0, j], axes[1, j], bars, day, label)
        axes[0, j].tick_params(labelbottom=False)
        axes[0, j].set_title(axes[0, j].get_title(), fontsize=10)
    axes[0, 0].legend(loc="lower left")
    fig.suptitle(title, fontweight="bold")
    return fig


# --- market makers chapter ---
# ======================================================================================
# Chapter "Market makers, hedging and funding" (book/market_makers.ipynb)
# ======================================================================================
# The model these figures draw (forced_buy_prices, market_maker_path, HedgePath) lives in
# perpsbook.hedging.

__all__ += [
    "basis_trade_figure",
    "funding_rate_figure",
    "hedge_impact_figure",
    "hedge_lag_figure",
    "mm_pnl_figure",
]


def hedge_impact_figure(
    book: Any,
    forced_usd: Any,
    hedge_ratios: Sequence[float] = (0.0, 0.5, 1.0, 1.5),
    *,
    sizes_usd: Sequence[float] = (0.5e6, 1.0e6, 2.0e6),
    price: float | None = None,
    title: str = "How the market maker's hedge moves the price",
) -> Figure:
    """Price after a stage of forced perp buying, against its size and against the hedge ratio.

    Left: last traded price (USD per coin) against the engine's forced buys (USD), one line
    per hedge ratio ``h``. Right: the same price against ``h`` in [0, 2] for a few forced-buy
    sizes. Both from :func:`perpsbook.hedging.forced_buy_prices` (engine order, then a hedge
    of ``h`` coins per coin, on one ladder).

    Parameters
    ----------
    book : OrderBook
        The market book before the stage.
    forced_usd : array_like
        Grid of forced perp buys, USD, > 0 (x axis of the left panel).
    hedge_ratios : sequence of float
        One line each in the left panel.
    sizes_usd : sequence of float
        Forced buys (USD) drawn as lines in the right panel.
    price : float, optional
        Price before the stage (USD per coin), drawn dashed; default the best ask.
    title : str

    Returns
    -------
    Figure
    """
    usd = np.asarray(check_positive("forced_usd", forced_usd), dtype=np.float64)
    p0 = float(book.best_ask if price is None else price)
    h_grid = np.linspace(0.0, 2.0, 201)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, layout="constrained")
    for h in hedge_ratios:
        ax1.plot(usd, forced_buy_prices(book, usd, h), label=f"h = {h:g}")
    short_usd = usd_formatter()
    for size in sizes_usd:
        ax2.plot(h_grid, forced_buy_prices(book, size, h_grid), label=f"{short_usd(size)} forced")
    for ax in (ax1, ax2):
        ax.axhline(p0, color=COLORS["neutral"], lw=0.8, ls="--")
        ax.legend(loc="upper left")
    ax1.xaxis.set_major_formatter(usd_formatter())
    ax1.yaxis.set_major_formatter(usd_formatter())
    ax1.set_xlabel("forced perp buys by the liquidation engine (USD)")
    ax1.set_ylabel("last traded price after the stage (USD per coin)")
    ax1.set_title("against the size of the forced buy")
    ax2.set_xlabel("hedge ratio h (spot coins bought per perp coin sold)")
    ax2.set_title("against the hedge ratio")
    ax2.tick_params(labelleft=True)
    fig.suptitle(title, fontweight="bold")
    return fig


def hedge_lag_figure(
    paths: Mapping[str, HedgePath],
    *,
    dashed: Sequence[str] = (),
    title: str = "Hedging late: price and market-maker inventory by stage",
) -> Figure:
    """Price (top) and the market maker's net delta (bottom) by stage, one line per path.

    Parameters
    ----------
    paths : mapping label -> HedgePath
        From :func:`perpsbook.hedging.market_maker_path`; prices USD per coin, deltas coins.
    dashed : sequence of str
        Labels of reference paths drawn dashed in grey.
    title : str

    Returns
    -------
    Figure
    """
    if not paths:
        raise InvalidInputError("paths must hold at least one HedgePath, got none")
    fig, (ax1, ax2) = plt.subplots(
        2,
        1,
        figsize=(8, 5.6),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 2]},
        layout="constrained",
    )
    for i, (label, path) in enumerate(paths.items()):
        style = {"marker": "o", "ms": 4, "color": _CYCLE[i % len(_CYCLE)], "label": label}
        if label in dashed:
            style.update(color=COLORS["neutral"], ls="--", marker="s", alpha=0.8)
        ax1.plot(path.stage, path.price, **style)
        ax2.plot(path.stage, path.delta, **style)
    ax1.yaxis.set_major_formatter(usd_formatter())
    ax1.set_ylabel("last traded price (USD per coin)")
    ax1.legend(loc="upper left")
    ax1.set_title(title)
    ax2.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax2.yaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    ax2.set_ylabel("MM net delta\nperp + spot (coins)")
    ax2.set_xlabel("stage (0 = before the first forced buy)")
    last = max(int(p.stage[-1]) for p in paths.values())
    ax2.set_xticks(np.arange(last + 1))
    return fig


def mm_pnl_figure(
    later_prices: Any,
    pnls: Mapping[str, Any],
    *,
    marks: Mapping[str, float] | None = None,
    title: str = "Market maker's P&L if the price moves on",
) -> Figure:
    """The market maker's P&L (USD) against a later price (USD per coin), one line per case.

    Parameters
    ----------
    later_prices : array_like
        Prices at which the MM's positions are marked, USD per coin (x axis).
    pnls : mapping label -> array
        P&L at each of those prices, USD.
    marks : mapping label -> float, optional
        A price per case to mark with a dot (e.g. the price right after the stage).
    title : str

    Returns
    -------
    Figure
    """
    x = np.asarray(check_positive("later_prices", later_prices), dtype=np.float64)
    if not pnls:
        raise InvalidInputError("pnls must hold at least one curve, got none")
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for i, (label, y) in enumerate(pnls.items()):
        y = np.asarray(check_finite(f"pnls[{label!r}]", y), dtype=np.float64)
        color = _CYCLE[i % len(_CYCLE)]
        ax.plot(x, y, color=color, label=label)
        if marks and label in marks:
            ax.plot([marks[label]], [np.interp(marks[label], x, y)], "o", color=color, ms=6)
    ax.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax.xaxis.set_major_formatter(usd_formatter())
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("later price of the coin, perp = spot (USD per coin)")
    ax.set_ylabel("market maker's P&L (USD)")
    ax.set_title(title)
    ax.legend(loc="lower left")
    return fig


def funding_rate_figure(
    premium: Any,
    rates: Mapping[str, Any],
    *,
    interest: float = 0.0001,
    clamp: float = 0.0005,
    zoom: float = 0.002,
    title: str = "Funding rate against the premium index (Binance rule)",
) -> Figure:
    """Funding rate per interval against the average premium: a zoom and the full range.

    Left: premiums within ``±zoom``, with the band ``[interest - clamp, interest + clamp]``
    shaded (the rate equals the interest rate there). Right: the whole grid, where the
    caps show.

    Parameters
    ----------
    premium : array_like
        Average premium index, fraction, ascending (x axis).
    rates : mapping label -> array
        Funding rate per interval at each premium, fraction (e.g. from
        :func:`perpsbook.funding.funding_rate` with different caps).
    interest, clamp : float
        Interest rate and clamp of the rule, fractions per interval (Binance 0.01 %, 0.05 %).
    zoom : float
        Half-width of the left panel's premium range, fraction.
    title : str

    Returns
    -------
    Figure
    """
    x = np.asarray(check_finite("premium", premium), dtype=np.float64)
    if not rates:
        raise InvalidInputError("rates must hold at least one curve, got none")
    near = np.abs(x) <= zoom
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    for i, (label, y) in enumerate(rates.items()):
        y = np.asarray(check_finite(f"rates[{label!r}]", y), dtype=np.float64)
        style = {"color": _CYCLE[i % len(_CYCLE)], "label": label, "ls": "-" if i == 0 else "--"}
        ax1.plot(x[near], y[near], **style)
        ax2.plot(x, y, **style)
    lo, hi = interest - clamp, interest + clamp
    ax1.axvspan(lo, hi, color=COLORS["light"], alpha=0.35, lw=0)
    ax1.annotate(
        f"rate = {interest:.2%} for\npremium in [{lo:.2%}, {hi:.2%}]",
        xy=((lo + hi) / 2, interest),
        xytext=(0.03, 0.97),
        textcoords="axes fraction",
        va="top",
        fontsize=8,
        arrowprops={"arrowstyle": "->", "color": COLORS["neutral"]},
    )
    for ax in (ax1, ax2):
        ax.axhline(0.0, color=COLORS["neutral"], lw=0.8)
        ax.axvline(0.0, color=COLORS["neutral"], lw=0.8)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5))
        ax.xaxis.set_major_formatter(pct_formatter(2))
        ax.yaxis.set_major_formatter(pct_formatter(2))
        ax.set_xlabel("average premium index (% of the index price)")
    for ax in (ax1, ax2):
        ax.set_ylabel("funding rate (% per interval)")
    ax1.set_title("near zero: the flat band")
    ax2.set_title("wide range: the cap and floor")
    ax2.legend(loc="upper left")
    fig.suptitle(title, fontweight="bold")
    return fig


def basis_trade_figure(
    time: Any,
    legs: Mapping[str, Any],
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "A cash-and-carry trade, leg by leg",
) -> Figure:
    """Cumulative P&L (USD) of the legs of a basis trade over time.

    Parameters
    ----------
    time : array_like
        Settlement times (datetime64, UTC) or numbers (x axis).
    legs : mapping label -> array
        Cumulative USD of each leg at each time (e.g. long spot, short perp, funding
        received, total). The last one is drawn wider.
    colors : mapping label -> colour, optional
        Colour of some or all legs (e.g. ``COLORS["spot"]`` for the spot leg); the others
        take the colour cycle.
    title : str

    Returns
    -------
    Figure
    """
    if not legs:
        raise InvalidInputError("legs must hold at least one series, got none")
    t = np.asarray(time)
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    colors = colors or {}
    for i, (label, y) in enumerate(legs.items()):
        y = np.asarray(check_finite(f"legs[{label!r}]", y), dtype=np.float64)
        color = colors.get(label, _CYCLE[i % len(_CYCLE)])
        ax.plot(t, y, color=color, lw=2.2 if i == len(legs) - 1 else 1.4, label=label)
    ax.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_ylabel("cumulative P&L (USD)")
    if np.issubdtype(t.dtype, np.datetime64):
        ax.set_xlabel("settlement time (UTC)")
        date_axis(ax)
    else:
        ax.set_xlabel("settlement")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


# --- order books chapter ---
# ======================================================================================
# Chapter "Order books and price impact" (book/order_books.ipynb)
# ======================================================================================

__all__ += [
    "ask_profile_figure",
    "book_ladder_figure",
    "depth_impact_figure",
    "float_depth_figure",
    "order_impact_figure",
]

_OB_SIDE_WORD = {1: "buy", -1: "sell"}


def _ob_coins_axis(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(lambda x, _pos=None: f"{x:,.0f}"))


def _ob_book_items(books: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items = list(books.items())
    if not items:
        raise InvalidInputError("books must map at least one label to an OrderBook, got none")
    return items


def _ob_side_arrays(book: Any, side: int) -> tuple[np.ndarray, np.ndarray]:
    if side == 1:
        return book.ask_prices, book.ask_sizes
    return book.bid_prices, book.bid_sizes


def _ob_qty_grid(q_max: float, n: int) -> np.ndarray:
    q_max = float(q_max)
    if not (np.isfinite(q_max) and q_max > 0):
        raise InvalidInputError(f"q_max must be a finite number of coins > 0, got {q_max!r}")
    if n < 2:
        raise InvalidInputError(f"n must be an integer >= 2 (points per curve), got {n!r}")
    return np.linspace(q_max / n, q_max, n)


def book_ladder_figure(
    book: Any,
    *,
    n_levels: int = 8,
    fill: Any = None,
    title: str = "A limit order book, level by level",
) -> Figure:
    """Horizontal bars of the coins resting at each price, bids below and asks above.

    Parameters
    ----------
    book : OrderBook
        The book to draw (prices USD per coin, sizes coins); both sides non-empty.
    n_levels : int
        Levels drawn per side (more if ``fill`` touched more).
    fill : Fill, optional
        A market order on ``book`` (e.g. ``book.buy(q)``). The coins it took are drawn
        hatched over the levels, with lines at its VWAP and last traded price (USD per coin).
    title : str

    Returns
    -------
    Figure
    """
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) or n_levels < 1:
        raise InvalidInputError(f"n_levels must be an integer >= 1, got {n_levels!r}")
    n_ask = n_bid = int(n_levels)
    if fill is not None:
        if fill.side == 1:
            n_ask = max(n_ask, fill.n_levels)
        else:
            n_bid = max(n_bid, fill.n_levels)
    ap, aq = book.ask_prices[:n_ask], book.ask_sizes[:n_ask]
    bp, bq = book.bid_prices[:n_bid], book.bid_sizes[:n_bid]
    gaps = np.diff(np.sort(np.concatenate([bp, ap])))
    height = 0.8 * float(gaps.min())
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    ax.barh(ap, aq, height=height, color=COLORS["short"], alpha=0.75, label="asks (offers to sell)")
    ax.barh(bp, bq, height=height, color=COLORS["long"], alpha=0.75, label="bids (offers to buy)")
    ax.axhline(book.mid, color=COLORS["neutral"], lw=0.9, ls="--")
    ax.annotate(
        f"mid {book.mid:,.3f} USD, spread {book.spread:,.2f} USD",
        xy=(1.0, book.mid),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="center",
        fontsize=8,
        backgroundcolor="white",
    )
    if fill is not None:
        ax.barh(
            fill.level_prices,
            fill.level_qtys,
            height=height,
            fill=False,
            hatch="///",
            edgecolor=COLORS["neutral"],
            lw=0.8,
            label=f"taken by a market {_OB_SIDE_WORD[fill.side]} of {fill.qty:,.0f} coins",
        )
        ax.axhline(fill.vwap, color=COLORS["spot"], lw=1.6, ls=":", label=f"VWAP {fill.vwap:,.4f}")
        ax.axhline(
            fill.last_price,
            color=COLORS["long"],
            lw=1.6,
            label=f"last traded price {fill.last_price:,.2f}",
        )
    levels = np.concatenate([bp, ap])
    if levels.size <= 24:  # one tick per level while they stay legible
        ax.set_yticks(levels)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos=None: f"${y:,.2f}"))
    _ob_coins_axis(ax.xaxis)
    ax.set_xlabel("coins resting at the level")
    ax.set_ylabel("price (USD per coin)")
    ax.set_title(title)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def ask_profile_figure(
    books: Mapping[str, Any],
    *,
    p_max: float | None = None,
    title: str = "How many coins sit at each ask price",
) -> Figure:
    """Coins per ask level against price, one line per book.

    A book whose best ask lies above the lowest best ask among ``books`` is drawn at zero
    coins from that price up to its own best ask (e.g. a book whose first levels were
    eaten). Earlier books are drawn with wider lines, so coinciding lines stay visible.

    Parameters
    ----------
    books : mapping label -> OrderBook
        Books whose ask sides are drawn (an empty ask side draws nothing).
    p_max : float, optional
        Highest price shown, USD per coin. Default: every level.
    title : str

    Returns
    -------
    Figure
    """
    items = _ob_book_items(books)
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    styles = ("-", "--", "-.", ":")
    sides = []
    for _label, book in items:
        prices, sizes = book.ask_prices, book.ask_sizes
        if p_max is not None:
            keep = prices <= p_max
            prices, sizes = prices[keep], sizes[keep]
        sides.append((prices, sizes))
    starts = [p[0] for p, _ in sides if p.size]
    low = min(starts) if starts else 0.0
    top = 0.0
    for i, ((label, _book), (prices, sizes)) in enumerate(zip(items, sides, strict=True)):
        if prices.size and prices[0] > low:
            tick = prices[1] - prices[0] if prices.size > 1 else prices[0] - low
            pad = np.unique(np.clip([low, prices[0] - tick], low, None))
            pad = pad[pad < prices[0]]
            prices = np.concatenate([pad, prices])
            sizes = np.concatenate([np.zeros(pad.size), sizes])
        lw = max(2.6 - 0.5 * i, 1.2)
        ax.step(prices, sizes, where="mid", ls=styles[i % len(styles)], lw=lw, label=label)
        top = max(top, float(sizes.max(initial=0.0)))
    top = top if top > 0 else 1.0
    ax.set_ylim(-0.04 * top, 1.3 * top)  # a line at zero clears the axis; legend headroom
    ax.xaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("ask price (USD per coin)")
    _ob_coins_axis(ax.yaxis)
    ax.set_ylabel("coins resting at the level")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def depth_impact_figure(
    books: Mapping[str, Any],
    q_max: float,
    *,
    n: int = 400,
    anchors: Sequence[tuple[float, float]] = (),
    title: str = "Depth, impact and cost of a market buy",
) -> Figure:
    """Three views of the ask side: cumulative depth, price impact and cost of buying Q.

    Top left: coins resting at or below each price (``OrderBook.cumulative_depth``). Top
    right: last traded price (solid) and VWAP (dashed) after a market buy of Q coins
    (``OrderBook.impact_curve`` and ``OrderBook.cost_curve / Q``). Bottom left: USD paid
    for Q coins (``OrderBook.cost_curve``). Bottom right: which colour is which book. Every
    curve is one vectorised call per book.

    Parameters
    ----------
    books : mapping label -> OrderBook
        Books compared; each must hold at least ``q_max`` coins on its ask side.
    q_max : float
        Largest buy drawn, coins, > 0.
    n : int
        Points per curve.
    anchors : sequence of (qty, price)
        Points (coins, USD per coin) marked on the impact panel, e.g. the article's
        "20,000 coins lift the price to $11".
    title : str

    Returns
    -------
    Figure

    Raises
    ------
    InsufficientLiquidityError
        If a book holds fewer than ``q_max`` coins on its ask side.
    """
    items = _ob_book_items(books)
    q = _ob_qty_grid(q_max, n)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.2), layout="constrained")
    ax_d, ax_p, ax_c, ax_key = axes.ravel()
    for label, book in items:
        last = book.impact_curve(1, q)
        cost = book.cost_curve(1, q)
        prices, cum_qty, _ = book.cumulative_depth(1)
        keep = prices <= last[-1]
        (line,) = ax_d.step(prices[keep], cum_qty[keep], where="post", label=label)
        color = line.get_color()
        ax_p.plot(q, last, color=color)
        ax_p.plot(q, cost / q, color=color, ls="--", lw=1.2)
        ax_c.plot(q, cost, color=color, label=label)
    ax_p.plot([], [], color=COLORS["neutral"], label="last traded price")
    ax_p.plot([], [], color=COLORS["neutral"], ls="--", lw=1.2, label="VWAP")
    for qa, pa in anchors:
        ax_p.plot([qa], [pa], "o", color=COLORS["neutral"], ms=6, zorder=5)
        right = qa > 0.6 * q[-1]  # label late anchors on their left, inside the axes
        ax_p.annotate(
            f"{qa:,.0f} coins → {format_usd(pa)}",
            xy=(qa, pa),
            xytext=(-6, -14) if right else (6, -14),
            textcoords="offset points",
            ha="right" if right else "left",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    ax_d.xaxis.set_major_formatter(usd_formatter())
    ax_d.set_xlabel("price (USD per coin)")
    _ob_coins_axis(ax_d.yaxis)
    _ob_coins_axis(ax_p.xaxis)
    _ob_coins_axis(ax_c.xaxis)
    ax_d.set_ylabel("coins offered at or below the price")
    ax_d.set_title("Cumulative ask depth")  # the key of the books is the fourth cell
    ax_p.yaxis.set_major_formatter(usd_formatter())
    ax_p.set_xlabel("market buy Q (coins)")
    ax_p.set_ylabel("price (USD per coin)")
    ax_p.set_title("Price after buying Q")
    ax_p.legend(loc="upper left")
    ax_c.yaxis.set_major_formatter(usd_formatter())
    ax_c.set_xlabel("market buy Q (coins)")
    ax_c.set_ylabel("USD paid for Q coins")
    ax_c.set_title("Cost of buying Q")
    for ax in (ax_p, ax_c):  # "200,000"-wide labels: at most five ticks on the Q axes
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5))
    ax_key.axis("off")
    ax_key.legend(*ax_d.get_legend_handles_labels(), loc="center", title="order book", fontsize=10)
    fig.suptitle(title, fontweight="bold")
    return fig


def float_depth_figure(
    floats: Any,
    cost_of_move: Any,
    price_after_budget: Any,
    *,
    move: float,
    budget: float,
    p0: float,
    highlight: Sequence[float] = (1e6, 1e7),
    title: str = "A small free float makes the price cheap to move",
) -> Figure:
    """Cost of a given price move, and the price a fixed budget reaches, against free float.

    Parameters
    ----------
    floats : array_like
        Free float (coins tradable on the market), ascending, > 0.
    cost_of_move : array_like
        USD needed to lift the last traded price by ``move`` for each float.
    price_after_budget : array_like
        Last traded price (USD per coin) after spending ``budget`` USD, for each float.
    move : float
        The price move, fraction of ``p0`` (0.1 = +10 %).
    budget : float
        The buy, USD.
    p0 : float
        Starting price, USD per coin.
    highlight : sequence of float
        Floats (coins) marked and labelled; each must be one of ``floats``.
    title : str

    Returns
    -------
    Figure
    """
    f = np.asarray(floats, dtype=np.float64)
    cost = np.asarray(cost_of_move, dtype=np.float64)
    price = np.asarray(price_after_budget, dtype=np.float64)
    if f.ndim != 1 or f.size < 2 or not (np.all(f > 0) and np.all(np.diff(f) > 0)):
        raise InvalidInputError(
            f"floats must be an ascending 1-D array of at least 2 coin counts > 0, got {floats!r}"
        )
    if cost.shape != f.shape or price.shape != f.shape:
        raise InvalidInputError(
            f"cost_of_move {cost.shape} and price_after_budget {price.shape} must have the "
            f"shape of floats {f.shape}"
        )
    idx = []
    for h in highlight:
        hit = np.flatnonzero(np.isclose(f, h, rtol=1e-9))
        if hit.size == 0:
            raise InvalidInputError(f"highlight {h!r} is not one of floats; add it to the grid")
        idx.append(int(hit[0]))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    ax1.loglog(f, cost, color=COLORS["spot"])
    ax2.semilogx(f, price, color=COLORS["long"])
    ax2.axhline(p0, color=COLORS["neutral"], lw=0.8, ls="--", label=f"start {format_usd(p0)}")
    for i in idx:
        ax1.plot(f[i], cost[i], "o", color=COLORS["neutral"])
        ax1.annotate(
            f"float {f[i] / 1e6:g}M: {format_usd(cost[i])}",
            xy=(f[i], cost[i]),
            xytext=(8, -12),
            textcoords="offset points",
            fontsize=8,
        )
        ax2.plot(f[i], price[i], "o", color=COLORS["neutral"])
        ax2.annotate(
            f"float {f[i] / 1e6:g}M: {format_usd(price[i])}",
            xy=(f[i], price[i]),
            xytext=(8, 4),
            textcoords="offset points",
            fontsize=8,
        )
    ax1.yaxis.set_major_formatter(usd_formatter())
    ax1.set_xlabel("free float (coins, log scale)")
    ax1.set_ylabel(f"USD to lift the price {move:+.0%} (log scale)")
    ax1.set_title(f"Cost of a {move:+.0%} move")
    ax2.yaxis.set_major_formatter(usd_formatter())
    ax2.set_xlabel("free float (coins, log scale)")
    ax2.set_ylabel("last traded price (USD per coin)")
    ax2.set_title(f"Price after a {format_usd(budget, 0)} market buy")
    ax2.legend(loc="upper right")
    fig.suptitle(title, fontweight="bold")
    return fig


def order_impact_figure(
    book: Any,
    fill: Any,
    *,
    q_max: float | None = None,
    n: int = 300,
    title: str | None = None,
) -> Figure:
    """One market order on one book: where it lands on the impact curve, and what it ate.

    Left: last traded price and VWAP against order size (``impact_curve``, ``cost_curve``),
    with ``fill`` marked. Right: coins per level on the side the order hit, with the coins
    it took shaded.

    Parameters
    ----------
    book : OrderBook
        The book before the order.
    fill : Fill
        The order's fill on ``book`` (``book.buy(q)``, ``book.sell(q)``, partial allowed).
    q_max : float, optional
        Largest order size on the curve, coins. Default: twice the fill, at most the side's
        depth.
    n : int
        Points on the curve.
    title : str, optional

    Returns
    -------
    Figure
    """
    side = int(fill.side)
    depth = book.total_ask_qty if side == 1 else book.total_bid_qty
    q_top = min(2.0 * fill.qty, depth) if q_max is None else min(float(q_max), depth)
    q = _ob_qty_grid(max(q_top, fill.qty), n)
    last = book.impact_curve(side, q)
    vwap = book.cost_curve(side, q) / q
    # Fixed margins instead of constrained layout: this figure is redrawn by a widget on
    # every change and the layout pass would double its rendering time.
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="none")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.86, wspace=0.25)
    ax1.plot(q, last, color=COLORS["long"], label="last traded price")
    ax1.plot(q, vwap, color=COLORS["spot"], ls="--", label="VWAP")
    ax1.axhline(fill.first_price, color=COLORS["neutral"], lw=0.8, ls=":")
    ax1.plot([fill.qty], [fill.last_price], "o", color=COLORS["long"])
    ax1.plot([fill.qty], [fill.vwap], "o", color=COLORS["spot"])
    ax1.axvline(fill.qty, color=COLORS["neutral"], lw=0.8, ls=":")
    ax1.annotate(
        f"{fill.qty:,.0f} coins for {format_usd(fill.notional)}\n"
        f"VWAP {fill.vwap:,.4f}, last {fill.last_price:,.2f}",
        xy=(fill.qty, fill.last_price),
        xytext=(6, 6),
        textcoords="offset points",
        fontsize=8,
    )
    ax1.yaxis.set_major_formatter(usd_formatter())
    _ob_coins_axis(ax1.xaxis)
    _ob_coins_axis(ax2.yaxis)
    ax1.set_xlabel(f"market {_OB_SIDE_WORD[side]} (coins)")
    ax1.set_ylabel("price (USD per coin)")
    ax1.set_title("Impact curve")
    ax1.legend(loc="upper left" if side == 1 else "lower left")
    prices, sizes = _ob_side_arrays(book, side)
    keep = (prices <= last[-1]) if side == 1 else (prices >= last[-1])
    ax2.step(prices[keep], sizes[keep], where="mid", color=COLORS["neutral"], label="resting")
    ax2.fill_between(
        fill.level_prices,
        fill.level_qtys,
        step="mid",
        color=COLORS["short"] if side == 1 else COLORS["long"],
        alpha=0.5,
        label="taken by the order",
    )
    ax2.set_ylim(0, 1.3 * float(sizes[keep].max()))  # headroom for the legend
    ax2.xaxis.set_major_formatter(usd_formatter())
    ax2.set_xlabel("ask price (USD per coin)" if side == 1 else "bid price (USD per coin)")
    ax2.set_ylabel("coins resting at the level")
    ax2.set_title("What the order ate")
    ax2.legend(loc="upper left")
    if fill.unfilled > 0:
        ax2.annotate(
            f"side exhausted: {fill.unfilled:,.0f} coins unfilled",
            xy=(0.98, 0.95),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=8,
            color=COLORS["event"],
        )
    default = f"A market {_OB_SIDE_WORD[side]} of {fill.qty:,.0f} coins"
    fig.suptitle(title or default, fontweight="bold")
    return fig


# --- margin chapter ---
# ======================================================================================
# Chapter "Margin and liquidation" (book/margin_liquidation.ipynb): tiers, equity vs mark,
# venues compared. These functions take perpsbook.margin.Venue / TierSchedule and
# perpsbook.positions.Positions objects and call their (vectorised) methods, so every
# plotted number is the package's number.
# ======================================================================================

VENUE_COLORS: dict[str, str] = {
    "binance": "#E69F00",  # orange
    "bybit": "#009E73",  # bluish green
    "hyperliquid": "#0072B2",  # blue
    "altcoin": "#CC79A7",  # reddish purple
}
"""Colour of each venue preset of :mod:`perpsbook.margin` (keys are ``Venue.name``)."""

VENUE_LABELS: dict[str, str] = {
    "binance": "Binance-style",
    "bybit": "Bybit-style",
    "hyperliquid": "Hyperliquid-style",
    "altcoin": "RKT (illustrative)",
}
"""Display name of each venue preset (keys are ``Venue.name``)."""


def venue_color(venue: Any) -> str:
    """Colour of a venue (a ``Venue`` or its name), neutral grey if it has none."""
    return VENUE_COLORS.get(getattr(venue, "name", venue), COLORS["neutral"])


def venue_label(venue: Any) -> str:
    """Display name of a venue (a ``Venue`` or its name); unknown names are returned as is."""
    name = getattr(venue, "name", venue)
    return VENUE_LABELS.get(name, str(name))


def _check_positive(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} must be a number or an array of numbers, got {value!r}"
        ) from exc
    if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise InvalidInputError(f"{name} must be finite and > 0, got {value!r}")
    return arr


def _venue_list(venues: Any) -> list:
    items = list(venues) if isinstance(venues, (list, tuple)) else [venues]
    if not items:
        raise InvalidInputError("venues must hold at least one perpsbook.margin.Venue, got none")
    for v in items:
        if not all(hasattr(v, a) for a in ("liquidation_price", "maintenance_at", "schedule")):
            raise InvalidInputError(
                f"venues must be perpsbook.margin.Venue objects, got {type(v).__name__}"
            )
    return items


def maintenance_schedule_figure(
    schedule: Any,
    *,
    notionals: Any = None,
    title: str | None = None,
) -> Figure:
    """A tiered maintenance-margin schedule: the USD requirement and the effective rate.

    Left: maintenance margin (USD) against position notional (USD), log-log, computed with
    the maintenance amount (continuous) and without it (``notional * MMR`` of the bracket,
    which jumps at every bracket floor). Right: the effective rate ``MM / notional`` next
    to the bracket's MMR; the maintenance amount keeps the effective rate below the
    bracket rate, so a position pays the higher rate only on the part above each floor.

    Parameters
    ----------
    schedule : perpsbook.margin.TierSchedule
        Brackets (floors in USD notional, MMR fractions).
    notionals : array, optional
        Position notionals to evaluate, USD, > 0. Default: 400 log-spaced values from
        1,000 USD to the schedule's largest position (or 10x its last floor).
    title : str, optional
        Figure title; default the schedule's name.

    Returns
    -------
    Figure
    """
    if not hasattr(schedule, "maintenance_margin") or not hasattr(schedule, "floors"):
        raise InvalidInputError(
            f"schedule must be a perpsbook.margin.TierSchedule, got {type(schedule).__name__}"
        )
    if notionals is None:
        top = schedule.max_notional if np.isfinite(schedule.max_notional) else 0.0
        top = max(top, 10.0 * float(schedule.floors[-1]), 1e5)
        notionals = np.geomspace(1e3, top, 400)
    n = np.asarray(notionals, dtype=np.float64)
    if n.ndim != 1 or n.size < 2 or not np.all(np.isfinite(n)) or not np.all(n > 0):
        raise InvalidInputError(
            "notionals must be a 1-D array of at least 2 finite positive USD amounts"
        )
    n = np.sort(n)
    mm = np.asarray(schedule.maintenance_margin(n))
    rate = np.asarray(schedule.mmr_for(n))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax1.plot(n, n * rate, color=COLORS["light"], lw=1.2, ls="--", label="notional × bracket MMR")
    ax1.plot(n, mm, color=COLORS["neutral"], lw=1.8, label="notional × MMR − maintenance amount")
    ax2.step(n, rate, where="post", color=COLORS["light"], lw=1.2, ls="--", label="bracket MMR")
    ax2.plot(n, mm / n, color=COLORS["neutral"], lw=1.8, label="effective rate MM / notional")
    for ax in (ax1, ax2):
        for f in schedule.floors[1:]:
            if n[0] <= f <= n[-1]:
                ax.axvline(f, color=COLORS["light"], lw=0.6, alpha=0.6)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(usd_formatter())
        ax.set_xlabel("position notional (USD, log scale)")
        ax.legend(loc="upper left")
    ax1.set_yscale("log")
    ax1.yaxis.set_major_formatter(usd_formatter())
    ax1.set_ylabel("maintenance margin (USD, log scale)")
    ax1.set_title("Maintenance margin")
    ax2.yaxis.set_major_formatter(pct_formatter())
    ax2.set_ylabel("rate (% of notional)")
    ax2.set_title("Rate paid")
    fig.suptitle(title or schedule.name, fontweight="bold")
    return fig


def _position_row(positions: Any, i: int) -> tuple[int, float, float, float]:
    return (
        int(positions.side[i]),
        float(positions.size[i]),
        float(positions.entry_price[i]),
        float(positions.margin[i]),
    )


def _draw_equity_panel(
    ax: Any, positions: Any, i: int, venue_list: list, x: np.ndarray, legend: bool
) -> None:
    side, size, entry, margin = _position_row(positions, i)
    equity = positions.take(np.full(x.size, i)).equity(x)
    bp = float(venue_list[0].bankruptcy_price(side, size, entry, margin))
    ax.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax.plot(x, equity, color=COLORS["neutral"], lw=2.0, label="equity = margin + PnL")
    for v in venue_list:
        lp = float(v.liquidation_price(side, size, entry, margin))
        color = venue_color(v)
        where = f"LP {lp:,.2f}" if lp > 0 else "never liquidated (LP <= 0)"
        mm = v.maintenance_at(side, size, entry, x)
        ax.plot(x, mm, color=color, lw=1.4, ls="-.", label=f"{venue_label(v)} MM; {where}")
        if lp > 0:
            ax.axvline(lp, color=color, lw=1.5, ls=":")
    if bp > 0:
        ax.axvline(bp, color="black", lw=1.2, ls="--", label=f"bankruptcy price {bp:,.2f}")
    if len(venue_list) == 1:
        lp0 = float(venue_list[0].liquidation_price(side, size, entry, margin))
        if lp0 > 0 and bp > 0:
            ax.axvspan(
                min(lp0, bp), max(lp0, bp), color=venue_color(venue_list[0]), alpha=0.15, lw=0
            )
    ax.set_xlim(x[0], x[-1])
    ax.xaxis.set_major_formatter(usd_formatter())
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("mark price (USD per coin)")
    if legend:
        below = mpl.transforms.offset_copy(ax.transAxes, fig=ax.figure, y=-30, units="points")
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=below,
            ncols=2,
            fontsize=8,
        )


def equity_vs_mark_figure(
    positions: Any,
    venues: Any,
    *,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    overview: bool = True,
) -> Figure:
    """Equity of each position against the mark price, with liquidation and bankruptcy prices.

    One column per position. The equity line is ``margin + side * size * (mark - entry)``
    (:meth:`perpsbook.positions.Positions.equity`); each venue adds its maintenance margin
    (MM) at that mark (:meth:`perpsbook.margin.Venue.maintenance_at`, dash-dot) and a dotted
    vertical line at its liquidation price (LP), where equity falls to the MM. The dashed
    black line is the bankruptcy price, where equity is zero; it does not depend on the
    venue. With one venue the gap between the two prices is shaded: the margin still in the
    position when the liquidation engine takes it over. Top row (``overview``): the whole
    move from entry; bottom row: zoomed on the liquidation and bankruptcy prices.

    Parameters
    ----------
    positions : perpsbook.positions.Positions
        1 to 4 isolated positions (coins, USD per coin, USD of margin).
    venues : Venue or sequence of Venue
        Margin rules to draw (at least one).
    titles : sequence of str, optional
        Column titles; default a description of each position.
    title : str, optional
        Figure title.
    overview : bool
        Draw the top row (default True); False draws only the zoomed row, which renders
        about twice as fast (the interactive panel uses it).

    Returns
    -------
    Figure
    """
    if not hasattr(positions, "equity") or not hasattr(positions, "take"):
        raise InvalidInputError(
            f"positions must be a perpsbook.positions.Positions, got {type(positions).__name__}"
        )
    if not 1 <= positions.n <= 4:
        raise InvalidInputError(f"positions must hold 1 to 4 positions, got {positions.n}")
    venue_list = _venue_list(venues)
    if titles is not None and len(titles) != positions.n:
        raise InvalidInputError(
            f"titles must have one entry per position ({positions.n}), got {len(titles)}"
        )
    n = positions.n
    rows = 2 if overview else 1
    fig, axes = plt.subplots(
        rows, n, figsize=(5.6 * n, 3.6 * rows + 0.5), squeeze=False, layout="constrained"
    )
    for i in range(n):
        side, size, entry, margin = _position_row(positions, i)
        bp = float(venue_list[0].bankruptcy_price(side, size, entry, margin))
        prices = [bp] + [float(v.liquidation_price(side, size, entry, margin)) for v in venue_list]
        shown = [p for p in prices if p > 0] or [0.5 * entry]
        reach = max(abs(entry - p) for p in shown)
        span = 1.4 * max(reach, 0.01 * entry)
        wide = np.linspace(max(entry - span, 1e-3 * entry), entry + span, 400)
        lo, hi = min(shown), max(shown)
        pad = max(0.6 * (hi - lo), 0.004 * entry)
        zoom = np.linspace(max(lo - pad, 1e-3 * entry), hi + pad, 400)
        kind = "Long" if side > 0 else "Short"
        unit = "coin" if size == 1 else "coins"
        lev = size * entry / margin if margin > 0 else np.inf
        default = f"{kind} {size:g} {unit} at {entry:,.2f} USD, margin {margin:,.2f} USD"
        head = titles[i] if titles is not None else f"{default} ({lev:.3g}x)"
        if overview:
            _draw_equity_panel(axes[0, i], positions, i, venue_list, wide, legend=False)
            axes[0, i].axvline(entry, color=COLORS["light"], lw=0.8)
            axes[0, i].set_ylabel("USD")
            axes[0, i].set_title(head, fontsize=10)
        _draw_equity_panel(axes[-1, i], positions, i, venue_list, zoom, legend=True)
        axes[-1, i].set_ylabel("USD (zoom)" if overview else "USD")
        axes[-1, i].set_title(
            "near the liquidation" if overview else f"{head}\nnear the liquidation",
            fontsize=10,
        )
    if title:
        fig.suptitle(title, fontweight="bold")
    return fig


def _leverage_formatter() -> FuncFormatter:
    return FuncFormatter(lambda x, _pos=None: f"{x:g}x")


def liquidation_vs_leverage_figure(
    venues: Any,
    size: float,
    entry_price: float,
    *,
    n_points: int = 200,
    title: str | None = None,
) -> Figure:
    """How far the mark must move against a position to liquidate it, by venue and leverage.

    For one position (``size`` coins at ``entry_price``) and leverage L from 1x to each
    venue's maximum for that notional, the margin is ``notional / L`` and the liquidation
    price LP comes from :meth:`perpsbook.margin.Venue.liquidation_price`. Top: the adverse
    move ``side * (entry - LP) / entry`` (fraction of the entry price), log-log, for a long
    (left) and a short (right); the dashed black line is the move to the bankruptcy price,
    ``1 / L`` on every venue. Bottom: the same move as a share of ``1 / L``, i.e. the share
    of the initial margin a trader can lose before the engine takes over.

    Parameters
    ----------
    venues : Venue or sequence of Venue
    size : float
        Coins, > 0.
    entry_price : float
        USD per coin, > 0.
    n_points : int
        Leverage values per venue (log-spaced), >= 2.
    title : str, optional

    Returns
    -------
    Figure
    """
    venue_list = _venue_list(venues)
    s = float(_check_positive("size", size))
    e = float(_check_positive("entry_price", entry_price))
    if not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise InvalidInputError(f"n_points must be an integer >= 2, got {n_points!r}")
    notional = s * e
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.4), sharex=True, layout="constrained")
    top = 1.0
    for v in venue_list:
        lev_max = float(v.schedule.max_leverage_for(notional))
        top = max(top, lev_max)
        lev = np.geomspace(1.0, lev_max, n_points)
        color = venue_color(v)
        for j, side in enumerate((1, -1)):
            lp = np.asarray(v.liquidation_price(side, s, e, notional / lev))
            move = side * (e - lp) / e
            label = f"{venue_label(v)} (max {lev_max:g}x)"
            axes[0, j].plot(lev, move, color=color, label=label)
            axes[0, j].plot(lev[-1], move[-1], "o", color=color, ms=4)
            axes[1, j].plot(lev, move * lev, color=color, label=label)
            axes[1, j].plot(lev[-1], move[-1] * lev[-1], "o", color=color, ms=4)
    lev_all = np.geomspace(1.0, top, n_points)
    for j, side in enumerate((1, -1)):
        ax, ax2 = axes[0, j], axes[1, j]
        ax.plot(lev_all, 1.0 / lev_all, color="black", ls="--", lw=1.0, label="bankruptcy")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(pct_formatter())
        ax.set_title("Long: fall of the mark" if side > 0 else "Short: rise of the mark")
        ax.legend(loc="lower left")
        ax2.axhline(1.0, color="black", ls="--", lw=1.0)
        ax2.set_ylim(0.0, 1.05)
        ax2.yaxis.set_major_formatter(pct_formatter(0))
        ax2.set_xscale("log")
        ax2.xaxis.set_major_formatter(_leverage_formatter())
        ax2.set_xlabel("leverage (entry notional / margin, log scale)")
    axes[0, 0].set_ylabel("adverse move to liquidation\n(% of entry price, log scale)")
    axes[1, 0].set_ylabel("margin lost at liquidation\n(% of initial margin)")
    unit = "coin" if s == 1 else "coins"
    fig.suptitle(
        title or f"Liquidation distance of {s:g} {unit} at {e:,.2f} USD ({format_usd(notional)})",
        fontweight="bold",
    )
    return fig


__all__ += [
    "VENUE_COLORS",
    "VENUE_LABELS",
    "equity_vs_mark_figure",
    "liquidation_vs_leverage_figure",
    "maintenance_schedule_figure",
    "venue_color",
    "venue_label",
]


# --- introduction chapter ---
# ======================================================================================
# Chapter "Introduction" (book/intro.ipynb): the RocketCoin cascade in one picture
# ======================================================================================
# The figure reads a perpsbook.cascade.CascadeResult (e.g. perpsbook.scenarios.rocketcoin()
# .run()); price_staircase turns its per-stage prices into the line that is drawn, and the
# result itself says which stage liquidated each tranche (CascadeResult.tranche_stages), so
# that the drawing holds no arithmetic that could go untested.

__all__ += ["price_staircase", "rocket_overview_figure"]

_INTRO_WORD = {1: "buy", -1: "sell"}


def _intro_tex(text: str) -> str:
    # A text with two "$" would be typeset as mathtext by matplotlib: escape them.
    return text.replace("$", r"\$")


def price_staircase(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """The last traded price of a cascade as a staircase, one jump per stage.

    Stage ``k`` is drawn as a vertical jump at ``x = k`` from its opening to its closing
    price, joined by flat segments; the staircase starts half a stage before the ignition
    at the initial price and ends half a stage after the last stage at the final price.

    Parameters
    ----------
    result : CascadeResult
        A run of :func:`perpsbook.cascade.run_cascade` (or ``Scenario.run()``).

    Returns
    -------
    x : ndarray
        Stage coordinates (dimensionless), length ``2 * n_stages + 2``.
    y : ndarray
        Prices, USD per coin, same length.
    """
    before = np.asarray(result.stages.price_before, dtype=np.float64)
    after = np.asarray(result.stages.price_after, dtype=np.float64)
    n = after.size
    x = np.concatenate(([-0.5], np.repeat(np.arange(n, dtype=np.float64), 2), [n - 0.5]))
    y = np.concatenate(
        ([result.initial_price], np.column_stack((before, after)).ravel(), [result.final_price])
    )
    return x, y


def _intro_price_panel(ax: Any, result: Any) -> None:
    x, y = price_staircase(result)
    n = len(result.stages)
    trig = result.tranches.trigger_price
    usd = result.tranches.notional_at_trigger
    stage = result.tranche_stages()
    done = stage >= 0
    for i in range(trig.size):
        color = COLORS["short"] if done[i] else COLORS["light"]
        ax.axhline(trig[i], color=color, lw=0.9, ls=":")
        ax.annotate(
            _intro_tex(f"T{i + 1} {format_usd(usd[i])}"),
            xy=(1.01, trig[i]),
            xycoords=("axes fraction", "data"),
            ha="left",
            va="center",
            fontsize=8,
            color=color,
            annotation_clip=False,
        )
    ax.plot(x, y, color=COLORS["long"], lw=2.2, label="last traded price", zorder=3)
    if done.any():
        marker = "^" if result.params.side == 1 else "v"
        ax.plot(
            stage[done],
            trig[done],
            marker,
            color=COLORS["short"],
            ms=7,
            ls="none",
            zorder=4,
            label="tranche liquidated (at its trigger price)",
        )
    if not done.all():
        ax.plot([], [], color=COLORS["light"], ls=":", label="tranche never reached")
    first = result.records[0].price_after
    ax.annotate(
        _intro_tex(f"ignition\n{format_usd(result.ignition_notional)}"),
        xy=(0.0, 0.5 * (result.initial_price + first)),
        xytext=(6, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=8,
    )
    ax.annotate(
        f"{result.final_price:,.2f}",
        xy=(n - 0.5, result.final_price),
        xytext=(0, 4 if result.params.side == 1 else -4),
        textcoords="offset points",
        ha="right",
        va="bottom" if result.params.side == 1 else "top",
        fontsize=9,
        fontweight="bold",
        color=COLORS["long"],
    )
    lo = min(float(y.min()), float(trig.min()))
    hi = max(float(y.max()), float(trig.max()))
    pad = 0.08 * (hi - lo) if hi > lo else 0.5
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(-0.6, n - 0.4)
    if n <= 20:
        ax.set_xticks(np.arange(n), ["0\nignition", *(str(k) for k in range(1, n))])
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("stage")
    ax.set_ylabel("price (USD per coin)")
    ax.set_title("Price, stage by stage")
    ax.legend(loc="upper left" if result.params.side == 1 else "lower left")


def _intro_forced_panel(ax: Any, result: Any) -> None:
    word = _INTRO_WORD[int(result.params.side)]
    st = result.stages
    n = len(st)
    x = np.arange(n)
    engine = np.asarray(st.liquidated_notional, dtype=np.float64)
    hedge = np.asarray(st.hedge_notional, dtype=np.float64)
    cum = np.asarray(st.cum_forced_buy_notional, dtype=np.float64)
    ign = float(result.ignition_notional)
    ax.bar(
        [0],
        [ign],
        color=COLORS["ignitor"],
        edgecolor=COLORS["neutral"],
        lw=0.8,
        label=f"ignition (spot {word})",
    )
    ax.bar(x, engine, color=COLORS["perp"], label=f"liquidation engine's perp {word}s")
    ax.bar(x, hedge, bottom=engine, color=COLORS["spot"], label="market makers' spot hedges")
    ax.plot(x, cum, "o-", color=COLORS["neutral"], ms=4, label=f"cumulative forced {word}ing")
    total = float(result.total_forced_buy_notional)
    top = max(total, float((engine + hedge).max(initial=0.0)), ign)
    if ign < 0.15 * top:  # a bar too short to see: point at it
        ax.annotate(
            _intro_tex(f"ignition {format_usd(ign)}"),
            xy=(0.0, ign),
            xytext=(14, 40),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=8,
            arrowprops={"arrowstyle": "->", "color": COLORS["neutral"], "lw": 0.8},
        )
    if total > 0:
        ax.annotate(
            _intro_tex(
                f"{format_usd(total, 2)} of forced {word}ing\n"
                f"= {result.amplification:,.0f}× the {format_usd(ign, 0)} ignition"
            ),
            xy=(n - 1, total),
            xytext=(0.98, 0.97),
            textcoords="axes fraction",
            ha="right",
            va="top",
            fontsize=9,
            fontweight="bold",
            arrowprops={"arrowstyle": "->", "color": COLORS["neutral"], "lw": 0.8},
        )
    else:
        ax.annotate(
            f"no liquidation triggered:\nforced {word}ing 0 USD",
            xy=(0.5, 0.5),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=9,
        )
    ax.set_ylim(0, 1.45 * top)  # headroom for the legend and the total
    ax.set_xlim(-0.6, n - 0.4)
    if n <= 20:
        ax.set_xticks(x, ["0\nignition", *(str(k) for k in range(1, n))])
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("stage")
    ax.set_ylabel(f"USD {word}ing (bars: per stage)")
    ax.set_title(f"Forced {word}ing vs the ignition")
    ax.legend(loc="upper left")


def rocket_overview_figure(result: Any, *, title: str | None = None) -> Figure:
    """A cascade in one picture: the price staircase and the forced buying, stage by stage.

    Left: the last traded price (USD per coin) as a staircase (:func:`price_staircase`),
    each tranche's liquidation price as a dotted line labelled on the right with its USD
    value at that price (vermillion if liquidated, grey if never reached) and a marker at
    the stage that liquidated it (:meth:`perpsbook.cascade.CascadeResult.tranche_stages`).
    Right: per stage, the ignition's USD and the forced USD -- the liquidation engine's
    market orders stacked with the market makers' hedges -- with the running total and its
    ratio to the ignition (the amplification of :class:`perpsbook.cascade.CascadeResult`).

    Parameters
    ----------
    result : CascadeResult
        A rocket (``params.side = +1``) or a crash (``-1``: selling, falling prices).
    title : str, optional
        Figure title; default the ignition, the forced USD and the price move.

    Returns
    -------
    Figure
    """
    word = _INTRO_WORD[int(result.params.side)]
    # Fixed margins instead of constrained layout: a widget redraws this figure on every
    # change, and the layout pass would double the time of each redraw.
    fig, (ax_p, ax_f) = plt.subplots(
        1, 2, figsize=(12, 4.9), layout="none", gridspec_kw={"width_ratios": [1.1, 1.0]}
    )
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.14, top=0.86, wspace=0.34)
    _intro_price_panel(ax_p, result)
    _intro_forced_panel(ax_f, result)
    total = result.total_forced_buy_notional
    forced = f"forces {format_usd(total, 2)} of {word}ing" if total > 0 else "forces nothing"
    default = (
        f"{format_usd(result.ignition_notional, 0)} of spot {word}ing {forced}; price "
        f"{result.initial_price:,.2f} → {result.final_price:,.2f} USD per coin"
    )
    fig.suptitle(_intro_tex(default) if title is None else title, fontweight="bold")
    return fig
