"""Figures of the perpsbook chapters, in one consistent style.

One module per topic, every public name re-exported here (chapters write
``plots.rocket_overview_figure(...)``):

======================================  ===================================================
:mod:`perpsbook.plots.style`            palette :data:`~perpsbook.plots.style.COLORS`,
                                        :func:`use_style`, USD / percent / date / coin
                                        axis helpers
:mod:`perpsbook.plots.data`             shipped market data: funding, cascade-day windows
:mod:`perpsbook.plots.book`             order books: ladders, depth, impact and cost curves
:mod:`perpsbook.plots.margin`           tiers, equity against the mark, venues compared
:mod:`perpsbook.plots.hedging_funding`  the market maker's hedge, funding, basis trade
:mod:`perpsbook.plots.cascade`          the cascade stage by stage (price staircase)
:mod:`perpsbook.plots.zero_sum`         who paid whom: waterfall, P&L against the mark
:mod:`perpsbook.plots.crash`            the mirror image, October 2025 bars, ADL policies
:mod:`perpsbook.plots.theory`           branching ratio, multiplier, phase diagrams
:mod:`perpsbook.plots.rocket`           the rocket stage by stage in both models, variants
:mod:`perpsbook.plots.levers`           timing, location, people: levers, sniping
======================================  ===================================================

Every figure function is pure: it takes data as arguments, returns a
:class:`matplotlib.figure.Figure` with labelled axes (units in the labels) and a title, and
never calls ``plt.show``. Notebook cells do ``fig = plots.xxx(...); plt.show()``. The
figures a panel redraws take ``fig=`` (a figure they returned before) and redraw it in
place (:func:`reuse_axes`). New figures go into the module of their topic (a new topic
gets a new module).
"""

from perpsbook.plots.book import (
    ask_profile_figure,
    book_ladder_figure,
    depth_impact_figure,
    float_depth_figure,
    order_impact_figure,
)
from perpsbook.plots.cascade import price_staircase, rocket_overview_figure
from perpsbook.plots.crash import (
    ADL_POLICY_COLORS,
    ADL_POLICY_LABELS,
    adl_hits_figure,
    adl_policies_figure,
    crash_klines_figure,
    mirror_figure,
)
from perpsbook.plots.data import (
    event_window_figure,
    event_windows_figure,
    funding_distribution_figure,
    funding_history_figure,
    funding_year_figure,
)
from perpsbook.plots.hedging_funding import (
    basis_trade_figure,
    funding_rate_figure,
    hedge_impact_figure,
    hedge_lag_figure,
    mm_pnl_figure,
)
from perpsbook.plots.levers import (
    lever_curves_figure,
    lever_ranking_figure,
    sniper_figure,
    two_market_levers_figure,
    two_market_path_figure,
)
from perpsbook.plots.margin import (
    VENUE_COLORS,
    VENUE_LABELS,
    equity_vs_mark_figure,
    liquidation_vs_leverage_figure,
    maintenance_schedule_figure,
    venue_color,
    venue_label,
)
from perpsbook.plots.rocket import (
    ignition_cliff_figure,
    rocket_models_figure,
    rocket_stages_figure,
    variants_figure,
)
from perpsbook.plots.style import (
    COLORS,
    CYCLE,
    SIDE_WORD,
    STYLE,
    clear_artists,
    coins_axis,
    date_axis,
    escape_dollars,
    format_usd,
    pct_formatter,
    reuse_axes,
    symbol_color,
    usd_formatter,
    use_style,
)
from perpsbook.plots.theory import (
    ignition_response_figure,
    multiplier_check_figure,
    phase_diagram_figure,
    r_profile_figure,
)
from perpsbook.plots.zero_sum import (
    pnl_against_mark_figure,
    policy_pnl_figure,
    zero_sum_waterfall,
)

__all__ = [
    "ADL_POLICY_COLORS",
    "ADL_POLICY_LABELS",
    "COLORS",
    "CYCLE",
    "SIDE_WORD",
    "STYLE",
    "VENUE_COLORS",
    "VENUE_LABELS",
    "adl_hits_figure",
    "adl_policies_figure",
    "ask_profile_figure",
    "basis_trade_figure",
    "book_ladder_figure",
    "clear_artists",
    "coins_axis",
    "crash_klines_figure",
    "date_axis",
    "depth_impact_figure",
    "equity_vs_mark_figure",
    "escape_dollars",
    "event_window_figure",
    "event_windows_figure",
    "float_depth_figure",
    "format_usd",
    "funding_distribution_figure",
    "funding_history_figure",
    "funding_rate_figure",
    "funding_year_figure",
    "hedge_impact_figure",
    "hedge_lag_figure",
    "ignition_cliff_figure",
    "ignition_response_figure",
    "lever_curves_figure",
    "lever_ranking_figure",
    "liquidation_vs_leverage_figure",
    "maintenance_schedule_figure",
    "mirror_figure",
    "mm_pnl_figure",
    "multiplier_check_figure",
    "order_impact_figure",
    "pct_formatter",
    "phase_diagram_figure",
    "pnl_against_mark_figure",
    "policy_pnl_figure",
    "price_staircase",
    "r_profile_figure",
    "reuse_axes",
    "rocket_models_figure",
    "rocket_overview_figure",
    "rocket_stages_figure",
    "sniper_figure",
    "symbol_color",
    "two_market_levers_figure",
    "two_market_path_figure",
    "usd_formatter",
    "use_style",
    "variants_figure",
    "venue_color",
    "venue_label",
    "zero_sum_waterfall",
]
