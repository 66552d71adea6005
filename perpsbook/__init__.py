"""perpsbook: perpetual futures, margin, liquidation and cascades, in numpy.

The package behind the perpsbook interactive textbook. One module per idea:

============================  ================================================================
:mod:`perpsbook.errors`       error classes (all ``ValueError`` subclasses) and input checks
:mod:`perpsbook.book`         order books, market orders, fills, impact and cost curves
:mod:`perpsbook.positions`    struct-of-arrays positions (side, size, entry, margin)
:mod:`perpsbook.margin`       tiers, initial/maintenance margin, liquidation and bankruptcy
                              prices, venue presets (Binance-, Bybit-, Hyperliquid-style)
:mod:`perpsbook.liquidation`  the liquidation engine: fees, insurance fund, ADL, partial clips
:mod:`perpsbook.adl`          auto-deleveraging: venue rankings, minimal ADL quantity
:mod:`perpsbook.hedging`      the market maker that turns forced perp flow into spot hedges
:mod:`perpsbook.funding`      premium index, funding rate, payments, the basis trade
:mod:`perpsbook.ledger`       double-entry, zero-sum accounting
:mod:`perpsbook.payoffs`      who paid whom: the whole-game ledger by role, marked at stated
                              prices (every column sums to zero)
:mod:`perpsbook.cascade`      the feedback loop, stage by stage (the article's telling)
:mod:`perpsbook.markets`      index and mark price rules (last, index, Binance, Hyperliquid)
:mod:`perpsbook.twomarket`    the loop on a spot and a perp book, triggered on the mark
:mod:`perpsbook.population`   the same loop over N positions as a vectorised fixed point
:mod:`perpsbook.ladder`       the ladder arithmetic population mode and theory share
                              (building blocks; not re-exported)
:mod:`perpsbook.theory`       branching ratio, small-shock multiplier, critical ignition, on
                              one ladder and on two markets; truncated multipliers
:mod:`perpsbook.scenarios`    named presets, first of all
                              :func:`~perpsbook.scenarios.rocketcoin`
:mod:`perpsbook.rocket`       rerun any stage of either cascade with changed inputs;
                              per-stage views
:mod:`perpsbook.levers`       the article's reasons as levers on the model: critical
                              ignition per lever, elasticities, the sniper
:mod:`perpsbook.crash`        the crash chapter's helpers: mirror pairs, ADL cases, the
                              figure ledger as text
:mod:`perpsbook.data`         loaders for the shipped Binance data snapshots
:mod:`perpsbook.tables`       fixed-width text tables that fit the page
:mod:`perpsbook.plots`        the book's figures (import the package directly)
:mod:`perpsbook.widgets`      the book's ipywidgets panels (import the package directly)
============================  ================================================================

The names a chapter calls are re-exported here (``perpsbook.__all__``); helpers that only
feed them (the input checks of :mod:`perpsbook.errors`, the ladder building blocks, most
module constants, per-array variants such as ``margin.liquidation_prices``) stay under
their module. Kept out on purpose: :func:`perpsbook.rocket.stage_table`, because the
method ``stage_table()`` of :class:`~perpsbook.cascade.CascadeResult` and
:class:`~perpsbook.twomarket.TwoMarketResult` prints a different table and one name would
mean two things; with it the other per-stage views of :mod:`perpsbook.rocket`
(``stage_view``, ``short_triggers``, ``trades_table``).

Units everywhere: prices in USD per coin, sizes in coins, notional in USD, rates as
fractions; side +1 is long / buy and -1 is short / sell.
"""

from perpsbook.adl import (
    AdlComparison,
    adl_allocate,
    adl_scores,
    compare_adl_policies,
    min_adl_quantity,
)
from perpsbook.book import Fill, OrderBook
from perpsbook.cascade import (
    CascadeParams,
    CascadeResult,
    StageRecord,
    StageSnapshot,
    Tranches,
    initial_snapshot,
    run_cascade,
    run_stage,
)
from perpsbook.crash import (
    AdlCase,
    adl_policy_summary,
    crash_adl_case,
    crash_shorts,
    ignition_to_trigger,
    ledger_value_text,
    ledger_window_text,
    mirror_pair,
    symmetry_rows,
)
from perpsbook.errors import (
    BookError,
    InsufficientLiquidityError,
    InvalidInputError,
    InvalidSideError,
    LeverageError,
    PerpsbookError,
    ScheduleError,
)
from perpsbook.funding import (
    basis_trade_pnl,
    funding_payment,
    funding_rate,
    impact_prices_from_book,
    premium_index,
)
from perpsbook.hedging import MarketMaker, MarketMakerState
from perpsbook.ledger import Ledger
from perpsbook.levers import (
    LeverSetting,
    LeverTable,
    basis_carry,
    lever_curve,
    lever_outcome,
    lever_table,
    snipe,
    two_market_lever_table,
    venue_critical_ignition,
)
from perpsbook.liquidation import LiquidationConfig, LiquidationResult, adl_ranking, liquidate
from perpsbook.margin import (
    ALTCOIN,
    BINANCE,
    BYBIT,
    HYPERLIQUID,
    TierSchedule,
    Venue,
    bankruptcy_price,
    initial_margin,
    liquidation_price,
    liquidation_price_tiered,
    maintenance_amounts,
    maintenance_margin,
    margin_ratio,
    venue_by_name,
)
from perpsbook.markets import (
    MarkRule,
    MarkState,
    binance_mark,
    book_quotes,
    hyperliquid_mark,
    index_price,
    mark_price,
)
from perpsbook.payoffs import (
    ZeroSum,
    account_role,
    cascade_zero_sum,
    marked_pnl,
    pnl_curves,
    rocketcoin_zero_sum,
    roles_table,
    two_market_zero_sum,
    unwind_value,
    with_openings,
    zero_sum,
)
from perpsbook.population import (
    MIN_DEPTH_SCALE,
    PopulationResult,
    population_cascade,
    sample_population,
    sweep,
)
from perpsbook.positions import Positions
from perpsbook.rocket import forced_parts, ignition_threshold, rerun_from, restate
from perpsbook.scenarios import (
    Scenario,
    TwoMarketScenario,
    rocketcoin,
    rocketcoin_crash,
    rocketcoin_crash_two_market,
    rocketcoin_two_market,
)
from perpsbook.theory import (
    branching_ratio,
    critical_ignition,
    critical_ignition_scan,
    flat_market,
    hedge_generations,
    small_shock_multiplier,
    spot_passthrough,
    truncated_multiplier,
    two_market_branching_ratio,
    two_market_critical_ignition,
)
from perpsbook.twomarket import (
    TwoMarketParams,
    TwoMarketPopulation,
    TwoMarketRecord,
    TwoMarketResult,
    TwoMarketSnapshot,
    initial_two_market,
    is_two_market_settled,
    positions_at_triggers,
    run_two_market,
    run_two_market_stage,
    two_market_population,
)

__version__ = "0.1.0"

__all__ = [
    "ALTCOIN",
    "BINANCE",
    "BYBIT",
    "HYPERLIQUID",
    "MIN_DEPTH_SCALE",
    "AdlCase",
    "AdlComparison",
    "BookError",
    "CascadeParams",
    "CascadeResult",
    "Fill",
    "InsufficientLiquidityError",
    "InvalidInputError",
    "InvalidSideError",
    "Ledger",
    "LeverSetting",
    "LeverTable",
    "LeverageError",
    "LiquidationConfig",
    "LiquidationResult",
    "MarkRule",
    "MarkState",
    "MarketMaker",
    "MarketMakerState",
    "OrderBook",
    "PerpsbookError",
    "PopulationResult",
    "Positions",
    "Scenario",
    "ScheduleError",
    "StageRecord",
    "StageSnapshot",
    "TierSchedule",
    "Tranches",
    "TwoMarketParams",
    "TwoMarketPopulation",
    "TwoMarketRecord",
    "TwoMarketResult",
    "TwoMarketScenario",
    "TwoMarketSnapshot",
    "Venue",
    "ZeroSum",
    "__version__",
    "account_role",
    "adl_allocate",
    "adl_policy_summary",
    "adl_ranking",
    "adl_scores",
    "bankruptcy_price",
    "basis_carry",
    "basis_trade_pnl",
    "binance_mark",
    "book_quotes",
    "branching_ratio",
    "cascade_zero_sum",
    "compare_adl_policies",
    "crash_adl_case",
    "crash_shorts",
    "critical_ignition",
    "critical_ignition_scan",
    "flat_market",
    "forced_parts",
    "funding_payment",
    "funding_rate",
    "hedge_generations",
    "hyperliquid_mark",
    "ignition_threshold",
    "ignition_to_trigger",
    "impact_prices_from_book",
    "index_price",
    "initial_margin",
    "initial_snapshot",
    "initial_two_market",
    "is_two_market_settled",
    "ledger_value_text",
    "ledger_window_text",
    "lever_curve",
    "lever_outcome",
    "lever_table",
    "liquidate",
    "liquidation_price",
    "liquidation_price_tiered",
    "maintenance_amounts",
    "maintenance_margin",
    "margin_ratio",
    "mark_price",
    "marked_pnl",
    "min_adl_quantity",
    "mirror_pair",
    "pnl_curves",
    "population_cascade",
    "positions_at_triggers",
    "premium_index",
    "rerun_from",
    "restate",
    "rocketcoin",
    "rocketcoin_crash",
    "rocketcoin_crash_two_market",
    "rocketcoin_two_market",
    "rocketcoin_zero_sum",
    "roles_table",
    "run_cascade",
    "run_stage",
    "run_two_market",
    "run_two_market_stage",
    "sample_population",
    "small_shock_multiplier",
    "snipe",
    "spot_passthrough",
    "sweep",
    "symmetry_rows",
    "truncated_multiplier",
    "two_market_branching_ratio",
    "two_market_critical_ignition",
    "two_market_lever_table",
    "two_market_population",
    "two_market_zero_sum",
    "unwind_value",
    "venue_by_name",
    "venue_critical_ignition",
    "with_openings",
    "zero_sum",
]
