"""Panel of a market order on an order book (chapter "Order books and price impact")."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from perpsbook import plots as _plots
from perpsbook.scenarios import ORDER_BOOK_PROFILES, order_book_profiles
from perpsbook.widgets.panel import KeptFigure, Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["fill_summary", "order_book_explorer", "order_book_explorer_twin"]

DEPTH_SCALE_RANGE = (0.1, 10.0)
"""Depth multipliers the panel offers (every level's size times this)."""

ORDER_QTY_RANGE = (1e3, 1e6)
"""Market-buy sizes the panel offers, coins."""


def fill_summary(book: Any, fill: Any) -> str:
    """One line on a market buy: coins, USD, VWAP, last price and any shortfall."""
    text = (
        f"bought {fill.qty:,.0f} coins for {fill.notional:,.0f} USD: VWAP {fill.vwap:,.4f}, "
        f"last traded price {fill.last_price:,.2f} USD per coin "
        f"({fill.last_price / book.best_ask - 1.0:+.1%} from the best ask {book.best_ask:,.2f})"
    )
    if fill.unfilled > 0:
        text += f"; the ask side ran dry with {fill.unfilled:,.0f} coins unfilled"
    return text


def _updater() -> Any:
    """The panel's update function: it keeps one figure and redraws it in place."""
    kept = KeptFigure()

    def update(v: dict[str, Any]) -> View:
        book = order_book_profiles(float(v["depth"]))[v["profile"]]
        fill = book.buy(float(v["qty"]), partial=True)
        title = f"{ORDER_BOOK_PROFILES[v['profile']]}, depth × {float(v['depth']):.2f}"
        fig = kept(_plots.order_impact_figure, book, fill, title=title)
        return fig, fill_summary(book, fill)

    return update


def order_book_explorer(profile: str = "flat", scale: float = 1.0, qty: float = 20_000.0) -> Panel:
    """Panel: a market buy on one of the chapter's RocketCoin ladders.

    Controls: ``profile`` (:data:`perpsbook.scenarios.ORDER_BOOK_PROFILES`, the ladders of
    :func:`perpsbook.scenarios.order_book_profiles`), ``depth`` (every level's size
    multiplied, :data:`perpsbook.widgets.book.DEPTH_SCALE_RANGE`) and ``qty`` (order size,
    coins, :data:`perpsbook.widgets.book.ORDER_QTY_RANGE`). Shows the fill (coins, USD cost,
    VWAP, last traded price) as text above :func:`perpsbook.plots.order_impact_figure`. An
    order larger than the ask side is filled partially and the shortfall reported.

    Parameters
    ----------
    profile : str
        Initial profile, a key of :data:`perpsbook.scenarios.ORDER_BOOK_PROFILES`.
    scale : float
        Initial depth multiplier, in [0.1, 10].
    qty : float
        Initial order size, coins, in [1,000, 1,000,000].

    Returns
    -------
    Panel
    """
    check_choice("profile", profile, list(ORDER_BOOK_PROFILES))
    check_range("scale", scale, *DEPTH_SCALE_RANGE)
    check_range("qty", qty, *ORDER_QTY_RANGE, "coins")
    controls = {
        "profile": widgets.Dropdown(
            options=[(label, key) for key, label in ORDER_BOOK_PROFILES.items()],
            value=profile,
            description="depth profile",
            style={"description_width": "initial"},
        ),
        "depth": widgets.FloatLogSlider(
            value=scale,
            base=10,
            min=-1,
            max=1,
            step=0.01,
            description="depth ×",
            readout_format=".2f",
        ),
        "qty": widgets.FloatLogSlider(
            value=qty,
            base=10,
            min=3,
            max=6,
            step=0.01,
            description="buy (coins)",
            readout_format=",.0f",
        ),
    }
    return Panel(controls, _updater(), rows=[["profile"], ["depth", "qty"]], text_first=True)


def order_book_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`order_book_explorer`.

    Grid (36 points): profile (flat, sqrt, calibrated) × depth (0.5x, 1x, 2x) × market buy
    (5,000, 20,000, 50,000, 100,000 coins).
    """
    return static_twin(
        _updater(),
        {
            "profile": [(label, key) for key, label in ORDER_BOOK_PROFILES.items()],
            "depth": [0.5, 1.0, 2.0],
            "qty": [5_000.0, 20_000.0, 50_000.0, 100_000.0],
        },
        start={"depth": 1.0, "qty": 20_000.0},
        descriptions={"profile": "depth profile", "depth": "depth ×", "qty": "buy (coins)"},
        title="A market buy on a RocketCoin ladder",
    )
