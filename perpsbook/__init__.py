"""perpsbook: perpetual futures, margin, liquidation and cascades, in numpy.

The package behind the perpsbook interactive textbook. One module per idea:

========================  =================================================================
:mod:`perpsbook.errors`    error classes (all ``ValueError`` subclasses) and input checks
:mod:`perpsbook.book`      order books, market orders, fills, impact and cost curves
:mod:`perpsbook.positions` struct-of-arrays positions (side, size, entry, margin)
:mod:`perpsbook.margin`    tiers, initial/maintenance margin, liquidation and bankruptcy
                           prices, venue presets (Binance-, Bybit-, Hyperliquid-style)
:mod:`perpsbook.liquidation` the liquidation engine: fees, insurance fund, ADL, partial clips
:mod:`perpsbook.hedging`   the market maker that turns forced perp flow into spot hedges
:mod:`perpsbook.funding`   premium index, funding rate, payments, the basis trade
:mod:`perpsbook.ledger`    double-entry, zero-sum accounting
:mod:`perpsbook.cascade`   the feedback loop, stage by stage (the article's telling)
:mod:`perpsbook.population` the same loop over N positions as a vectorised fixed point
:mod:`perpsbook.theory`    branching ratio, small-shock multiplier, critical ignition
:mod:`perpsbook.scenarios` named presets, first of all :func:`rocketcoin`
:mod:`perpsbook.data`      loaders for the shipped Binance data snapshots
:mod:`perpsbook.plots`,
:mod:`perpsbook.widgets`   the book's figures and ipywidgets panels (import them directly)
========================  =================================================================

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
from perpsbook.population import PopulationResult, population_cascade, sample_population, sweep
from perpsbook.positions import Positions
from perpsbook.scenarios import Scenario, rocketcoin, rocketcoin_crash
from perpsbook.theory import branching_ratio, critical_ignition, small_shock_multiplier

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
    "initial_margin",
    "initial_snapshot",
    "liquidate",
    "liquidation_price",
    "liquidation_price_tiered",
    "maintenance_amounts",
    "maintenance_margin",
    "margin_ratio",
    "population_cascade",
    "premium_index",
    "rocketcoin",
    "rocketcoin_crash",
    "run_cascade",
    "run_stage",
    "sample_population",
    "small_shock_multiplier",
    "sweep",
    "venue_by_name",
]
