"""Panel of cascade theory (chapter "Cascade theory"): R(p), the multiplier and the critical
ignition of RocketCoin as depth, short interest, hedge ratio and market structure move."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import numpy as np

from perpsbook import plots as _plots
from perpsbook.book import OrderBook
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.widgets.panel import WIDE, Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["branching_explorer", "branching_explorer_twin", "branching_summary"]

DEPTH_RANGE = (0.25, 4.0)
"""Depth scales the panel offers (multiples of every level of the RKT book)."""
SHORT_RANGE = (0.0, 3.0)
"""Short-interest scales the panel offers (multiples of every tranche)."""
MARKETS = ("one ladder", "two markets")
"""Market structures: the article's one ladder, or spot + perp (mark = index)."""
BANDWIDTH = 1.0
"""USD per coin: R is measured over $1 windows, the spacing of the RKT tranches."""
PRICES = np.round(np.arange(10.5, 16.01, 0.25), 2)
"""Prices (USD per coin) where the panel draws R."""


@lru_cache(maxsize=1)
def _rkt() -> tuple[OrderBook, np.ndarray, np.ndarray]:
    from perpsbook.scenarios import rocketcoin

    sc = rocketcoin()
    return sc.book, np.asarray(sc.tranches.trigger_price), np.asarray(sc.tranches.size)


def _scaled(book: OrderBook, d: float) -> OrderBook:
    return OrderBook(book.bid_prices, book.bid_sizes * d, book.ask_prices, book.ask_sizes * d)


def branching_summary(
    depth_scale: float = 1.0,
    short_scale: float = 1.0,
    hedge_ratio: float = 1.0,
    markets: str = "one ladder",
) -> dict[str, Any]:
    """R(p), R at the first tranche, the multiplier and the critical ignition of RKT.

    The RKT book (:func:`perpsbook.scenarios.rocketcoin`) with every level times
    ``depth_scale`` and the five tranches times ``short_scale``. One ladder: load
    ``1 + h`` (:func:`perpsbook.theory.branching_ratio`,
    :func:`perpsbook.theory.critical_ignition`). Two markets: the same ladder as spot
    book and as perp book, load ``h`` (:func:`perpsbook.theory.two_market_branching_ratio`,
    :func:`perpsbook.theory.two_market_critical_ignition`).

    Returns
    -------
    dict
        ``prices`` (USD per coin), ``R`` (at those prices, $1 windows), ``r_first``
        (R at $11), ``multiplier`` (``1/(1 - R)`` at $11, ``inf`` if supercritical),
        ``critical_usd`` and ``critical_qty`` (USD, coins), ``bottleneck`` (USD per coin).
    """
    from perpsbook.theory import (
        branching_ratio,
        critical_ignition,
        two_market_branching_ratio,
        two_market_critical_ignition,
    )

    d = check_range("depth_scale", depth_scale, *DEPTH_RANGE)
    c = check_range("short_scale", short_scale, *SHORT_RANGE)
    h = check_range("hedge_ratio", hedge_ratio, 0.0, HEDGE_RATIO_MAX)
    mk = check_choice("markets", markets, MARKETS)
    base, liq, size = _rkt()
    book = _scaled(base, d)
    sizes = size * max(c, 1e-12)  # a zero short interest is a population that feeds nothing
    if mk == "one ladder":
        r = branching_ratio(book, liq, sizes, PRICES, hedge_ratio=h, bandwidth=BANDWIDTH)
        crit = critical_ignition(book, liq, sizes, hedge_ratio=h)
    else:
        r = two_market_branching_ratio(
            book, liq, sizes, PRICES, hedge_ratio=h, perp_depth=book, bandwidth=BANDWIDTH
        )
        crit = two_market_critical_ignition(book, book, liq, sizes, hedge_ratio=h)
    r_first = float(r[np.searchsorted(PRICES, 11.0)])
    return {
        "prices": PRICES,
        "R": r,
        "r_first": r_first,
        "multiplier": 1.0 / (1.0 - r_first) if r_first < 1 else float("inf"),
        "critical_usd": crit.notional,
        "critical_qty": crit.qty,
        "bottleneck": crit.bottleneck_price,
    }


def _text(s: dict[str, Any]) -> str:
    r = s["r_first"]
    mult = f"1/(1 - R) = {s['multiplier']:.2f}" if r < 1 else "supercritical: no 1/(1 - R)"
    return (
        f"R at the first tranche ($11): {r:.2f}   {mult}\n"
        f"critical ignition: {_plots.format_usd(s['critical_usd'], 2)} "
        f"({s['critical_qty']:,.0f} RKT), hardest level ${s['bottleneck']:.2f}"
    )


def _update(v: dict[str, Any]) -> View:
    s = branching_summary(
        float(v["depth"]), float(v["shorts"]), float(v["hedge"]), str(v["markets"])
    )
    fig = _plots.r_profile_figure(
        {f"R(p), {v['markets']}": (s["prices"], s["R"])},
        title="RocketCoin: branching ratio over $1 windows",
    )
    fig.axes[0].set_ylim(0.0, 4.0)
    return fig, _text(s)


def branching_explorer(
    depth_scale: float = 1.0,
    short_scale: float = 1.0,
    hedge_ratio: float = 1.0,
    markets: str = "one ladder",
) -> Panel:
    """Panel: RocketCoin's R(p), multiplier and critical ignition under four levers.

    Controls: ``depth`` (multiple of every level of the RKT book, 0.25 to 4), ``shorts``
    (multiple of every tranche, 0 to 3), ``hedge`` (hedge ratio ``h``, 0 to 2) and
    ``markets`` (one ladder, or spot + perp with the mark on the index). Each change
    calls :func:`branching_summary` and redraws R(p) with the text line below it.

    Raises
    ------
    InvalidInputError
        If a starting value is outside its control's range.
    """
    check_range("depth_scale", depth_scale, *DEPTH_RANGE)
    check_range("short_scale", short_scale, *SHORT_RANGE)
    check_range("hedge_ratio", hedge_ratio, 0.0, HEDGE_RATIO_MAX)
    check_choice("markets", markets, MARKETS)
    controls = {
        "depth": widgets.FloatSlider(
            value=depth_scale, min=DEPTH_RANGE[0], max=DEPTH_RANGE[1], step=0.05,
            description="depth scale", style=WIDE,
        ),
        "shorts": widgets.FloatSlider(
            value=short_scale, min=SHORT_RANGE[0], max=SHORT_RANGE[1], step=0.05,
            description="short interest scale", style=WIDE,
        ),
        "hedge": widgets.FloatSlider(
            value=hedge_ratio, min=0.0, max=HEDGE_RATIO_MAX, step=0.05,
            description="hedge ratio h", style=WIDE,
        ),
        "markets": widgets.Dropdown(
            options=list(MARKETS), value=markets, description="markets", style=WIDE
        ),
    }  # fmt: skip
    return Panel(controls, _update, rows=[["depth", "shorts"], ["hedge", "markets"]])


def branching_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`branching_explorer`.

    Grid (120 points): depth scale (0.5, 1, 2, 4) x short interest scale (0.5, 1, 2) x
    hedge ratio (0, 0.5, 1, 1.5, 2) x markets (one ladder, two markets).
    """
    return static_twin(
        _update,
        {
            "depth": [0.5, 1.0, 2.0, 4.0],
            "shorts": [0.5, 1.0, 2.0],
            "hedge": [0.0, 0.5, 1.0, 1.5, 2.0],
            "markets": list(MARKETS),
        },
        start={"depth": 1.0, "shorts": 1.0, "hedge": 1.0, "markets": "one ladder"},
        descriptions={
            "depth": "depth scale",
            "shorts": "short interest scale",
            "hedge": "hedge ratio h",
            "markets": "markets",
        },
        title="RocketCoin: R(p) and the critical ignition",
        dpi=60,
    )
