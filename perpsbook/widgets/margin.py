"""Panel of one position's liquidation on every venue (chapter "Margin and liquidation")."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from perpsbook import margin as _margin
from perpsbook import plots as _plots
from perpsbook.positions import Positions
from perpsbook.tables import venue_liquidation_table
from perpsbook.widgets.panel import WIDE, KeptFigure, Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["liquidation_calculator", "liquidation_calculator_twin", "venue_liquidation_table"]

LEVERAGE_MAX = max(float(v.max_leverage) for v in _margin.VENUES.values())
"""Highest leverage any venue preset allows (the slider's end), entry notional / margin."""

AMOUNT_MAX = 1e12
"""Largest size (coins), price (USD per coin) or added margin (USD) the boxes accept."""


def _updater() -> Any:
    """The panel's update function: it keeps one figure and redraws it in place."""
    kept = KeptFigure()

    def update(v: dict[str, Any]) -> View:
        return _view(v, kept)

    return update


def _view(v: dict[str, Any], kept: KeptFigure) -> View:
    s, e = float(v["size"]), float(v["entry"])
    m = _margin.initial_margin(s, e, float(v["leverage"])) + float(v["added"])
    sd = 1 if v["side"] == "long" else -1
    names = list(_margin.VENUES)
    chosen = names if v["venue"] == "all" else [v["venue"]]
    table = venue_liquidation_table(sd, s, e, m, list(_margin.VENUES.values()))
    pos = Positions(side=sd, size=s, entry_price=e, margin=m)
    venue_list = [_margin.VENUES[n] for n in chosen]
    return kept(_plots.equity_vs_mark_figure, pos, venue_list, overview=False), table


def liquidation_calculator(
    side: str = "long",
    size: float = 1.0,
    entry_price: float = 100_000.0,
    leverage: float = 10.0,
    added_margin: float = 0.0,
    venue: str = "all",
) -> Panel:
    """Panel: one position's liquidation and bankruptcy prices on every venue preset.

    Controls: ``side``, ``size`` (coins), ``entry`` (USD per coin), ``leverage`` (sets the
    initial margin ``size * entry / leverage``, USD; 1 to
    :data:`perpsbook.widgets.margin.LEVERAGE_MAX`), ``added``
    (margin added on top, USD) and ``venue`` (whose maintenance margin to draw). Shows
    :func:`perpsbook.tables.venue_liquidation_table` above
    :func:`perpsbook.plots.equity_vs_mark_figure` for the position.

    Parameters
    ----------
    side : {"long", "short"}
    size : float
        Coins, > 0.
    entry_price : float
        USD per coin, > 0.
    leverage : float
        Entry notional / initial margin, 1 to LEVERAGE_MAX.
    added_margin : float
        USD added to the initial margin, >= 0.
    venue : str
        ``"all"`` or a key of :data:`perpsbook.margin.VENUES` for the figure.

    Returns
    -------
    Panel
    """
    names = list(_margin.VENUES)
    check_choice("side", side, ("long", "short"))
    check_range("size", size, 1e-9, AMOUNT_MAX, "coins")
    check_range("entry_price", entry_price, 1e-9, AMOUNT_MAX, "USD per coin")
    check_range("leverage", leverage, 1.0, LEVERAGE_MAX)
    check_range("added_margin", added_margin, 0.0, AMOUNT_MAX, "USD")
    check_choice("venue", venue, ("all", *names))
    controls = {
        "side": widgets.ToggleButtons(
            options=[("long", "long"), ("short", "short")], value=side, description="side"
        ),
        "venue": widgets.Dropdown(
            options=[("all venues", "all")] + [(_plots.venue_label(n), n) for n in names],
            value=venue,
            description="draw",
        ),
        "size": widgets.BoundedFloatText(
            value=size, min=1e-9, max=AMOUNT_MAX, description="size (coins)", style=WIDE
        ),
        "entry": widgets.BoundedFloatText(
            value=entry_price, min=1e-9, max=AMOUNT_MAX, description="entry (USD)", style=WIDE
        ),
        "leverage": widgets.FloatSlider(
            value=leverage,
            min=1.0,
            max=LEVERAGE_MAX,
            step=0.5,
            description="leverage",
            style=WIDE,
        ),
        "added": widgets.BoundedFloatText(
            value=added_margin,
            min=0.0,
            max=AMOUNT_MAX,
            description="added margin (USD)",
            style=WIDE,
        ),
    }
    rows = [["side", "venue"], ["size", "entry"], ["leverage", "added"]]
    return Panel(controls, _updater(), rows=rows, text_first=True)


def liquidation_calculator_twin(size: float = 1.0, entry_price: float = 100_000.0) -> StaticTwin:
    """Kernel-free twin of :func:`liquidation_calculator` for ``size`` coins at ``entry_price``.

    Grid (60 points): side (long, short) × leverage (2, 5, 10, 20, 50, 100x) × venue drawn
    (all, then each preset of :data:`perpsbook.margin.VENUES`); no margin added.
    """
    check_range("size", size, 1e-9, AMOUNT_MAX, "coins")
    check_range("entry_price", entry_price, 1e-9, AMOUNT_MAX, "USD per coin")
    return static_twin(
        _updater(),
        {
            "side": [("long", "long"), ("short", "short")],
            "leverage": [(f"{x:g}x", x) for x in (2.0, 5.0, 10.0, 20.0, 50.0, 100.0)],
            "venue": [("all venues", "all")] + [(_plots.venue_label(n), n) for n in _margin.VENUES],
        },
        fixed={"size": size, "entry": entry_price, "added": 0.0},
        start={"leverage": 10.0},
        descriptions={"side": "side", "leverage": "leverage", "venue": "draw"},
        title=f"Liquidation of {size:g} coin(s) at {entry_price:,.0f} USD",
    )
