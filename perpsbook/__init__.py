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
:mod:`perpsbook.cascade`      the feedback loop, stage by stage (the article's telling)
:mod:`perpsbook.markets`      index and mark price rules (last, index, Binance, Hyperliquid)
:mod:`perpsbook.twomarket`    the loop on a spot and a perp book, triggered on the mark
:mod:`perpsbook.population`   the same loop over N positions as a vectorised fixed point
:mod:`perpsbook.theory`       branching ratio, small-shock multiplier, critical ignition
:mod:`perpsbook.scenarios`    named presets, first of all
                              :func:`~perpsbook.scenarios.rocketcoin`
:mod:`perpsbook.data`         loaders for the shipped Binance data snapshots
:mod:`perpsbook.plots`        the book's figures (import the package directly)
:mod:`perpsbook.widgets`      the book's ipywidgets panels (import the package directly)
============================  ================================================================

Units everywhere: prices in USD per coin, sizes in coins, notional in USD, rates as
fractions; side +1 is long / buy and -1 is short / sell.
"""

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
from perpsbook.markets import MarkRule, MarkState, index_price, mark_price
from perpsbook.population import PopulationResult, population_cascade, sample_population, sweep
from perpsbook.positions import Positions
from perpsbook.scenarios import (
    Scenario,
    TwoMarketScenario,
    rocketcoin,
    rocketcoin_crash,
    rocketcoin_two_market,
)
from perpsbook.theory import branching_ratio, critical_ignition, small_shock_multiplier
from perpsbook.twomarket import (
    TwoMarketParams,
    TwoMarketPopulation,
    TwoMarketRecord,
    TwoMarketResult,
    TwoMarketSnapshot,
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
    "BookError",
    "CascadeParams",
    "CascadeResult",
    "Fill",
    "InsufficientLiquidityError",
    "InvalidInputError",
    "InvalidSideError",
    "Ledger",
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
    "__version__",
    "adl_ranking",
    "bankruptcy_price",
    "basis_trade_pnl",
    "branching_ratio",
    "critical_ignition",
    "funding_payment",
    "funding_rate",
    "impact_prices_from_book",
    "index_price",
    "initial_margin",
    "initial_snapshot",
    "liquidate",
    "liquidation_price",
    "liquidation_price_tiered",
    "maintenance_amounts",
    "maintenance_margin",
    "margin_ratio",
    "mark_price",
    "population_cascade",
    "positions_at_triggers",
    "premium_index",
    "rocketcoin",
    "rocketcoin_crash",
    "rocketcoin_two_market",
    "run_cascade",
    "run_stage",
    "run_two_market",
    "run_two_market_stage",
    "sample_population",
    "small_shock_multiplier",
    "sweep",
    "two_market_population",
    "venue_by_name",
]
