"""Margin and liquidation figures (chapter "Margin and liquidation"): tier schedules,
equity against the mark, liquidation price against leverage, venues compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from perpsbook.errors import InvalidInputError
from perpsbook.plots.style import (
    COLORS,
    format_usd,
    pct_formatter,
    reuse_axes,
    usd_formatter,
)
from perpsbook.tables import VENUE_LABELS

__all__ = [
    "VENUE_COLORS",
    "VENUE_LABELS",
    "equity_vs_mark_figure",
    "liquidation_vs_leverage_figure",
    "maintenance_schedule_figure",
    "venue_color",
    "venue_label",
]

VENUE_COLORS: dict[str, str] = {
    "binance": "#E69F00",  # orange
    "bybit": "#009E73",  # bluish green
    "hyperliquid": "#0072B2",  # blue
    "altcoin": "#CC79A7",  # reddish purple
}
"""Colour of each venue preset of :mod:`perpsbook.margin` (keys are ``Venue.name``)."""


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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.4), layout="constrained")
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
    ax: Any,
    positions: Any,
    i: int,
    venue_list: list,
    x: np.ndarray,
    legend: bool,
    ncols: int = 2,
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
            ncols=ncols,
            fontsize=8,
        )


def equity_vs_mark_figure(
    positions: Any,
    venues: Any,
    *,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    overview: bool = True,
    fig: Figure | None = None,
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

    fig : Figure, optional
        A figure this function returned before (same number of axes), redrawn in place:
        its axes and ticks are reused, a third less time than a new figure and the same
        pixels (the interactive panel keeps one figure this way).

    Returns
    -------
    Figure
        ``fig`` if given, else a new figure.
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
    if fig is None:
        fig, axes = plt.subplots(
            rows,
            n,
            figsize=(5.6 if n == 1 else 6.8, 2.9 * rows + 0.5),
            squeeze=False,
            layout="constrained",
        )
    else:
        axes = np.array(reuse_axes(fig, rows * n, "equity_vs_mark_figure")).reshape(rows, n)
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
        # two lines when columns share the 6.8-inch width of the text column
        brk = "\n" if n > 1 else " "
        default = f"{kind} {size:g} {unit} at {entry:,.2f} USD,{brk}margin {margin:,.2f} USD"
        head = titles[i] if titles is not None else f"{default} ({lev:.3g}x)"
        if overview:
            _draw_equity_panel(axes[0, i], positions, i, venue_list, wide, legend=False)
            axes[0, i].axvline(entry, color=COLORS["light"], lw=0.8)
            axes[0, i].set_ylabel("USD")
            axes[0, i].set_title(head, fontsize=10)
        _draw_equity_panel(
            axes[-1, i], positions, i, venue_list, zoom, legend=True, ncols=1 if n > 1 else 2
        )
        # few enough ticks that "$109.4k" labels do not touch at 6.8 in
        axes[-1, i].xaxis.set_major_locator(MaxNLocator(4 if n > 1 else 6))
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
    fig, axes = plt.subplots(2, 2, figsize=(6.8, 5.6), sharex=True, layout="constrained")
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
