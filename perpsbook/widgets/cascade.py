"""Panel of the RocketCoin cascade (chapter "Introduction")."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from perpsbook import plots as _plots
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.widgets.panel import WIDE, KeptFigure, Panel, View, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["rocket_explorer", "rocket_explorer_twin"]

IGNITION_RANGE = (10_000.0, 2_000_000.0)
"""Ignitions the panel offers, USD of spot buying."""


def _updater() -> Any:
    """The panel's update function: it keeps one figure and redraws it in place."""
    from perpsbook.scenarios import rocketcoin

    kept = KeptFigure()

    def update(v: dict[str, Any]) -> View:
        result = rocketcoin(ignition=float(v["ignition"]), hedge_ratio=float(v["hedge"])).run()
        return kept(_plots.rocket_overview_figure, result), result.headline()

    return update


def rocket_explorer(ignition: float = 200_000.0, hedge_ratio: float = 1.0) -> Panel:
    """Panel: the RocketCoin cascade for a chosen ignition and market-maker hedge ratio.

    Controls: ``ignition`` (USD of spot buying,
    :data:`perpsbook.widgets.cascade.IGNITION_RANGE` in $1,000 steps) and
    ``hedge`` (hedge ratio ``h``, spot coins the market makers buy per perp coin they sell,
    0 to :data:`perpsbook.hedging.HEDGE_RATIO_MAX`). Each change runs
    ``perpsbook.scenarios.rocketcoin(ignition=..., hedge_ratio=...).run()`` (a few
    milliseconds) and shows :func:`perpsbook.plots.rocket_overview_figure` with the
    headline numbers of :meth:`perpsbook.cascade.CascadeResult.headline` below it.

    Parameters
    ----------
    ignition : float
        Initial ignition, USD, in [10,000, 2,000,000].
    hedge_ratio : float
        Initial hedge ratio, in [0, HEDGE_RATIO_MAX].

    Returns
    -------
    Panel

    Raises
    ------
    InvalidInputError
        If a value is outside its slider's range.
    """
    check_range("ignition", ignition, *IGNITION_RANGE, "USD")
    check_range("hedge_ratio", hedge_ratio, 0.0, HEDGE_RATIO_MAX)
    controls = {
        "ignition": widgets.FloatSlider(
            value=ignition,
            min=IGNITION_RANGE[0],
            max=IGNITION_RANGE[1],
            step=1_000.0,
            description="ignition (USD)",
            readout_format=",.0f",
            style=WIDE,
            layout=widgets.Layout(width="50%"),
        ),
        "hedge": widgets.FloatSlider(
            value=hedge_ratio,
            min=0.0,
            max=HEDGE_RATIO_MAX,
            step=0.05,
            description="hedge ratio h",
            style=WIDE,
        ),
    }
    return Panel(controls, _updater())


def rocket_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`rocket_explorer`.

    Grid (40 points): ignition ($50k, $100k, $150k, $200k, $300k, $500k, $1M, $2M) ×
    hedge ratio (0, 0.5, 1, 1.5, 2).
    """
    ignitions = [50e3, 100e3, 150e3, 200e3, 300e3, 500e3, 1e6, 2e6]
    return static_twin(
        _updater(),
        {
            "ignition": [(_plots.format_usd(x, 0), x) for x in ignitions],
            "hedge": [0.0, 0.5, 1.0, 1.5, 2.0],
        },
        start={"ignition": 200e3, "hedge": 1.0},
        descriptions={"ignition": "ignition", "hedge": "hedge ratio h"},
        title="The RocketCoin cascade",
    )
