"""Panel of the market maker's hedge (chapter "Market makers, hedging and funding")."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from perpsbook import plots as _plots
from perpsbook.errors import InvalidInputError
from perpsbook.hedging import HEDGE_RATIO_MAX, MarketMaker, market_maker_path
from perpsbook.scenarios import rkt_book_after_ignition
from perpsbook.widgets.panel import KeptFigure, Panel, View, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["hedge_explorer", "hedge_explorer_twin"]

FORCED_USD_RANGE = (0.25e6, 6.0e6)
"""Forced perp buys the panel offers, USD."""

LAG_MAX = 4
"""Longest hedge lag the panel offers, stages."""


def _hedge_update(batches: int, book: Any, price: float | None) -> Any:
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise InvalidInputError(f"batches must be an integer >= 1, got {batches!r}")
    book = rkt_book_after_ignition() if book is None else book
    kept = KeptFigure()
    bare_cache: dict[float, Any] = {}  # the h = 0 reference depends on the size only

    def update(v: dict[str, Any]) -> View:
        usd, h, lag = float(v["forced"]) * 1e6, float(v["hedge"]), int(v["lag"])
        schedule = np.full(batches, usd / batches)
        chosen = market_maker_path(MarketMaker(h, lag=lag), book, schedule, price=price)
        if usd not in bare_cache:
            bare_cache[usd] = market_maker_path(MarketMaker(0.0), book, schedule, price=price)
        bare = bare_cache[usd]
        label = f"h = {h:g}, lag {lag}"
        fig = kept(
            _plots.hedge_lag_figure,
            {label: chosen, "no hedge (h = 0)": bare},
            dashed=("no hedge (h = 0)",),
            title=f"{_plots.format_usd(usd)} of forced perp buys in {batches} stages",
        )
        text = (
            f"{label}: price {chosen.price[0]:,.2f} -> {chosen.final_price:,.2f} USD "
            f"(no hedge: {bare.final_price:,.2f});\nMM perp {chosen.perp_position[-1]:,.0f}, "
            f"spot {chosen.spot_position[-1]:,.0f}, net {chosen.delta[-1]:,.0f} coins "
            f"(largest {chosen.max_abs_delta:,.0f}); MM P&L {_plots.format_usd(chosen.pnl[-1])}"
        )
        return fig, text

    return update


def hedge_explorer(
    forced_usd: float = 3e6,
    hedge_ratio: float = 1.0,
    lag: int = 1,
    *,
    batches: int = 3,
    book: Any = None,
    price: float | None = None,
) -> Panel:
    """Panel: forced perp buys, the market maker's spot hedge, the price and its inventory.

    Controls: ``forced`` (forced perp buys, $M, split into ``batches`` equal stages),
    ``hedge`` (hedge ratio ``h``, 0 to :data:`perpsbook.hedging.HEDGE_RATIO_MAX`) and
    ``lag`` (stages, 0 to :data:`perpsbook.widgets.hedging_funding.LAG_MAX`). Runs
    :func:`perpsbook.hedging.market_maker_path`
    on the market book and shows :func:`perpsbook.plots.hedge_lag_figure` for the choice
    and, dashed, for the same buys without hedging (``h = 0``); the text gives the final
    price (USD per coin), the MM's perp, spot and net positions (coins) and its P&L (USD).

    Parameters
    ----------
    forced_usd : float
        Initial total forced perp buying, USD, in
        :data:`perpsbook.widgets.hedging_funding.FORCED_USD_RANGE`.
    hedge_ratio : float
        Initial hedge ratio, in [0, HEDGE_RATIO_MAX].
    lag : int
        Initial lag, stages, in [0, LAG_MAX].
    batches : int
        Number of equal stages the forced buying is split into, >= 1.
    book : OrderBook, optional
        Market book before the first stage; default
        :func:`perpsbook.scenarios.rkt_book_after_ignition`.
    price : float, optional
        Last traded price before the first stage, USD per coin; default the best ask.

    Returns
    -------
    Panel
    """
    update = _hedge_update(batches, book, price)
    check_range("forced_usd", forced_usd, *FORCED_USD_RANGE, "USD")
    check_range("hedge_ratio", hedge_ratio, 0.0, HEDGE_RATIO_MAX)
    check_range("lag", lag, 0, LAG_MAX, "stages")
    lo, hi = FORCED_USD_RANGE
    controls = {
        "forced": widgets.FloatSlider(
            value=forced_usd / 1e6, min=lo / 1e6, max=hi / 1e6, step=0.25, description="forced ($M)"
        ),
        "hedge": widgets.FloatSlider(
            value=hedge_ratio, min=0.0, max=HEDGE_RATIO_MAX, step=0.1, description="hedge h"
        ),
        "lag": widgets.IntSlider(value=int(lag), min=0, max=LAG_MAX, description="lag"),
    }
    return Panel(controls, update)


def hedge_explorer_twin(*, batches: int = 3) -> StaticTwin:
    """Kernel-free twin of :func:`hedge_explorer`.

    Grid (45 points): forced buys ($1.5M, $3M, $6M) × hedge ratio (0, 0.5, 1, 1.5, 2) ×
    lag (0, 1, 2 stages).
    """
    return static_twin(
        _hedge_update(batches, None, None),
        {
            "forced": [("$1.5M", 1.5), ("$3M", 3.0), ("$6M", 6.0)],
            "hedge": [0.0, 0.5, 1.0, 1.5, 2.0],
            "lag": [0, 1, 2],
        },
        start={"forced": 3.0, "hedge": 1.0, "lag": 1},
        descriptions={"forced": "forced buys", "hedge": "hedge h", "lag": "lag (stages)"},
        title="Forced perp buys and the market maker's hedge",
    )
