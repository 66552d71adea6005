"""Figures of the shipped market data (chapter "Data insight"): funding history, funding by
year, the funding-rate distribution, price and volume around cascade days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError
from perpsbook.plots.style import (
    COLORS,
    as_list,
    date_axis,
    pct_formatter,
    symbol_color,
    usd_formatter,
)

__all__ = [
    "event_window_figure",
    "event_windows_figure",
    "funding_distribution_figure",
    "funding_history_figure",
    "funding_year_figure",
]


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
    histories = as_list(histories)
    nrows = 2 if rolling else 1
    fig, axes = plt.subplots(
        nrows, 1, figsize=(6.8, 2.6 * nrows + 0.6), sharex=True, squeeze=False, layout="constrained"
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
    stats = as_list(stats)
    if not stats:
        raise InvalidInputError("stats must hold at least one FundingYearStats, got none")
    years = np.unique(np.concatenate([s.year for s in stats]))
    width = 0.8 / len(stats)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.8), layout="constrained")
    for i, s in enumerate(stats):
        pos = np.searchsorted(years, s.year) + (i - (len(stats) - 1) / 2) * width
        color = symbol_color(s.symbol)
        ax1.bar(pos, s.share_positive, width, color=color, label=s.symbol)
        ax2.bar(pos, s.annualised, width, color=color, label=s.symbol)
    ax1.axhline(0.5, color=COLORS["neutral"], lw=0.8, ls="--")
    ax1.set_ylim(0, 1)
    ax1.yaxis.set_major_formatter(pct_formatter(0))
    ax1.set_ylabel("settlements with rate > 0 (% of year)")
    ax1.set_title("How often longs paid\n")
    ax2.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax2.yaxis.set_major_formatter(pct_formatter(0))
    ax2.set_ylabel("mean rate × 1,095\n(% of notional per year)")
    ax2.set_title("Annualised funding\n(short perp receives)")
    for ax in (ax1, ax2):
        ax.set_xticks(np.arange(years.size), [str(y) for y in years], rotation=45)
        ax.set_xlabel("calendar year (UTC;\nfirst and last years partial)")
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
    histories = as_list(histories)
    lo = min(float(h.rate.min()) for h in histories)
    hi = max(float(h.rate.max()) for h in histories)
    if caps:
        lo = min(lo, *(c[1] for c in caps.values()))
        hi = max(hi, *(c[0] for c in caps.values()))
    edges = np.linspace(lo * 1.05, hi * 1.05, bins + 1)
    fig, ax = plt.subplots(figsize=(6.8, 3.4), layout="constrained")
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
    # One collection of rectangles instead of ax.bar's one patch per bar: the same picture,
    # drawn several times faster (a panel redraws up to 360 bars on every change).
    half = np.timedelta64(bars.interval_ms * 9 // 20, "ms")
    x0 = mdates.date2num(t - half)
    x1 = mdates.date2num(t + half)
    v = np.asarray(bars.quote_volume, dtype=np.float64)
    verts = np.stack(
        [np.column_stack(c) for c in ((x0, 0 * v), (x0, v), (x1, v), (x1, 0 * v))], axis=1
    )
    volume = PolyCollection(verts, facecolors=COLORS["perp"], linewidths=0)
    volume.sticky_edges.y.append(0.0)  # the axis starts at zero volume, as bars do
    ax_v.add_collection(volume)
    ax_v.update_datalim(np.column_stack((np.r_[x0, x1], np.r_[v, 0 * v])))
    ax_v.autoscale_view()
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
        figsize=(6.8, 4.8),
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
        figsize=(min(6.8, 2.6 * n), 5.4),
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
