"""Interactive panels (ipywidgets) of the perpsbook chapters and their kernel-free twins.

Every panel is a :class:`Panel` (named controls + one pure update function returning a
figure and a text), and every panel ``x_explorer`` has a twin ``x_explorer_twin()``
(:func:`static_twin`: precomputed frames switched in the browser with no kernel).

========================================  ======================================================
:mod:`perpsbook.widgets.panel`            :class:`Panel`, :class:`KeptFigure`, start checks, PNG
:mod:`perpsbook.widgets.twin`             :func:`static_twin`, :func:`stage_player`
:mod:`perpsbook.widgets.data`             funding history, cascade-day windows
:mod:`perpsbook.widgets.book`             a market order on an order book
:mod:`perpsbook.widgets.margin`           liquidation on every venue
:mod:`perpsbook.widgets.hedging_funding`  the market maker's hedge
:mod:`perpsbook.widgets.cascade`          the RocketCoin cascade
:mod:`perpsbook.widgets.zero_sum`         who paid whom, by role and venue policy
:mod:`perpsbook.widgets.crash`            the RocketCoin crash, ADL policies on it
:mod:`perpsbook.widgets.theory`           branching ratio and critical ignition
:mod:`perpsbook.widgets.rocket`           rerun any stage of the rocket, its stage player
:mod:`perpsbook.widgets.levers`           timing, location, people: levers, venues, sniper
========================================  ======================================================

:mod:`perpsbook.widgets.fastagg` holds the Agg canvas that caches text bitmaps.

Requires the ``perpsbook[widgets]`` extra (ipywidgets >= 8). ``venue_liquidation_table``
lives in :mod:`perpsbook.tables` (pure text) and is re-exported here for old imports.
"""

try:
    import ipywidgets as _ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'perpsbook.widgets needs ipywidgets: pip install "perpsbook[widgets]"'
    ) from exc

from perpsbook.tables import venue_liquidation_table
from perpsbook.widgets.book import order_book_explorer, order_book_explorer_twin
from perpsbook.widgets.cascade import rocket_explorer, rocket_explorer_twin
from perpsbook.widgets.crash import (
    adl_explorer,
    adl_explorer_twin,
    crash_explorer,
    crash_explorer_twin,
)
from perpsbook.widgets.data import (
    event_explorer,
    event_explorer_twin,
    funding_explorer,
    funding_explorer_twin,
)
from perpsbook.widgets.hedging_funding import hedge_explorer, hedge_explorer_twin
from perpsbook.widgets.levers import (
    infrastructure_explorer,
    infrastructure_explorer_twin,
    lever_explorer,
    lever_explorer_twin,
    sniper_explorer,
    sniper_explorer_twin,
)
from perpsbook.widgets.margin import liquidation_calculator, liquidation_calculator_twin
from perpsbook.widgets.panel import KeptFigure, Panel, check_choice, check_range, figure_png
from perpsbook.widgets.rocket import (
    rocket_stage_explorer,
    rocket_stage_explorer_twin,
    rocket_stage_player,
)
from perpsbook.widgets.theory import (
    branching_explorer,
    branching_explorer_twin,
    branching_summary,
)
from perpsbook.widgets.twin import StaticTwin, stage_player, static_twin
from perpsbook.widgets.zero_sum import zero_sum_explorer, zero_sum_explorer_twin

__all__ = [
    "KeptFigure",
    "Panel",
    "StaticTwin",
    "adl_explorer",
    "adl_explorer_twin",
    "branching_explorer",
    "branching_explorer_twin",
    "branching_summary",
    "check_choice",
    "check_range",
    "crash_explorer",
    "crash_explorer_twin",
    "event_explorer",
    "event_explorer_twin",
    "figure_png",
    "funding_explorer",
    "funding_explorer_twin",
    "hedge_explorer",
    "hedge_explorer_twin",
    "infrastructure_explorer",
    "infrastructure_explorer_twin",
    "lever_explorer",
    "lever_explorer_twin",
    "liquidation_calculator",
    "liquidation_calculator_twin",
    "order_book_explorer",
    "order_book_explorer_twin",
    "rocket_explorer",
    "rocket_explorer_twin",
    "rocket_stage_explorer",
    "rocket_stage_explorer_twin",
    "rocket_stage_player",
    "sniper_explorer",
    "sniper_explorer_twin",
    "stage_player",
    "static_twin",
    "venue_liquidation_table",
    "zero_sum_explorer",
    "zero_sum_explorer_twin",
]
