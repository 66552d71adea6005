"""Order-book figures (chapter "Order books and price impact"): ladders, depth
profiles, impact and cost curves, one market order on one book."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from perpsbook.errors import InvalidInputError
from perpsbook.plots.style import (
    COLORS,
    SIDE_WORD,
    coins_axis,
    format_usd,
    reuse_axes,
    usd_formatter,
)

__all__ = [
    "ask_profile_figure",
    "book_ladder_figure",
    "depth_impact_figure",
    "float_depth_figure",
    "order_impact_figure",
]


def _book_items(books: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items = list(books.items())
    if not items:
        raise InvalidInputError("books must map at least one label to an OrderBook, got none")
    return items


def _side_arrays(book: Any, side: int) -> tuple[np.ndarray, np.ndarray]:
    if side == 1:
        return book.ask_prices, book.ask_sizes
    return book.bid_prices, book.bid_sizes


def _qty_grid(q_max: float, n: int) -> np.ndarray:
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
    fig, ax = plt.subplots(figsize=(6.8, 4.2), layout="constrained")
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
            label=f"taken by a market {SIDE_WORD[fill.side]} of {fill.qty:,.0f} coins",
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
    coins_axis(ax.xaxis)
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
    items = _book_items(books)
    fig, ax = plt.subplots(figsize=(6.8, 3.6), layout="constrained")
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
    coins_axis(ax.yaxis)
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
    items = _book_items(books)
    q = _qty_grid(q_max, n)
    fig, axes = plt.subplots(2, 2, figsize=(6.8, 5.4), layout="constrained")
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
    coins_axis(ax_d.yaxis)
    coins_axis(ax_p.xaxis)
    coins_axis(ax_c.xaxis)
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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.4), layout="constrained")
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
    fig: Figure | None = None,
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

    fig : Figure, optional
        A figure this function returned before (same number of axes), redrawn in place:
        its axes and ticks are reused, a third less time than a new figure and the same
        pixels (the interactive panel keeps one figure this way).

    Returns
    -------
    Figure
        ``fig`` if given, else a new figure.
    """
    side = int(fill.side)
    depth = book.total_ask_qty if side == 1 else book.total_bid_qty
    q_top = min(2.0 * fill.qty, depth) if q_max is None else min(float(q_max), depth)
    q = _qty_grid(max(q_top, fill.qty), n)
    last = book.impact_curve(side, q)
    vwap = book.cost_curve(side, q) / q
    # Fixed margins instead of constrained layout: this figure is redrawn by a widget on
    # every change and the layout pass would double its rendering time.
    if fig is None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.4), layout="none")
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.86, wspace=0.25)
    else:
        ax1, ax2 = reuse_axes(fig, 2, "order_impact_figure")
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
    coins_axis(ax1.xaxis)
    coins_axis(ax2.yaxis)
    ax1.set_xlabel(f"market {SIDE_WORD[side]} (coins)")
    ax1.set_ylabel("price (USD per coin)")
    ax1.set_title("Impact curve")
    ax1.legend(loc="upper left" if side == 1 else "lower left")
    prices, sizes = _side_arrays(book, side)
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
    default = f"A market {SIDE_WORD[side]} of {fill.qty:,.0f} coins"
    fig.suptitle(title or default, fontweight="bold")
    return fig
