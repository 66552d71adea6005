"""Figures of the market maker's hedge and of funding (chapter "Market makers, hedging
and funding"). The model they draw lives in :mod:`perpsbook.hedging` and
:mod:`perpsbook.funding`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError, check_finite, check_positive
from perpsbook.hedging import HedgePath, forced_buy_prices
from perpsbook.plots.style import (
    COLORS,
    CYCLE,
    date_axis,
    pct_formatter,
    reuse_axes,
    usd_formatter,
)

__all__ = [
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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.6), sharey=True, layout="constrained")
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
    ax1.set_xlabel("forced perp buys by the\nliquidation engine (USD)")
    ax1.set_ylabel("last traded price after\nthe stage (USD per coin)")
    ax1.set_title("against the size of the forced buy")
    ax2.set_xlabel("hedge ratio h\n(spot coins bought per perp coin sold)")
    ax2.set_title("against the hedge ratio")
    ax2.tick_params(labelleft=True)
    fig.suptitle(title, fontweight="bold")
    return fig


def hedge_lag_figure(
    paths: Mapping[str, HedgePath],
    *,
    dashed: Sequence[str] = (),
    title: str = "Hedging late: price and market-maker inventory by stage",
    fig: Figure | None = None,
) -> Figure:
    """Price (top) and the market maker's net delta (bottom) by stage, one line per path.

    Parameters
    ----------
    paths : mapping label -> HedgePath
        From :func:`perpsbook.hedging.market_maker_path`; prices USD per coin, deltas coins.
    dashed : sequence of str
        Labels of reference paths drawn dashed in grey.
    title : str

    fig : Figure, optional
        A figure this function returned before (same number of axes), redrawn in place:
        its axes and ticks are reused, a third less time than a new figure and the same
        pixels (the interactive panel keeps one figure this way).

    Returns
    -------
    Figure
        ``fig`` if given, else a new figure.
    """
    if not paths:
        raise InvalidInputError("paths must hold at least one HedgePath, got none")
    if fig is None:
        fig, (ax1, ax2) = plt.subplots(
            2,
            1,
            figsize=(6.8, 4.8),
            sharex=True,
            gridspec_kw={"height_ratios": [3, 2]},
            layout="constrained",
        )
    else:
        ax1, ax2 = reuse_axes(fig, 2, "hedge_lag_figure")
    for i, (label, path) in enumerate(paths.items()):
        style = {"marker": "o", "ms": 4, "color": CYCLE[i % len(CYCLE)], "label": label}
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
    fig, ax = plt.subplots(figsize=(6.8, 3.6), layout="constrained")
    for i, (label, y) in enumerate(pnls.items()):
        y = np.asarray(check_finite(f"pnls[{label!r}]", y), dtype=np.float64)
        color = CYCLE[i % len(CYCLE)]
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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.4), layout="constrained")
    for i, (label, y) in enumerate(rates.items()):
        y = np.asarray(check_finite(f"rates[{label!r}]", y), dtype=np.float64)
        style = {"color": CYCLE[i % len(CYCLE)], "label": label, "ls": "-" if i == 0 else "--"}
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
    fig, ax = plt.subplots(figsize=(6.8, 3.6), layout="constrained")
    colors = colors or {}
    for i, (label, y) in enumerate(legs.items()):
        y = np.asarray(check_finite(f"legs[{label!r}]", y), dtype=np.float64)
        color = colors.get(label, CYCLE[i % len(CYCLE)])
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
