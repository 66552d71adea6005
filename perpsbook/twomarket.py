"""The cascade on two markets: a spot book, a perp book, an index and a mark price.

:mod:`perpsbook.cascade` tells the article's story on ONE ladder with one price. Venues
run two markets: spot coins trade on spot books, perpetual contracts on the perp book,
and liquidations are triggered on a *mark price* built from the spot index and the perp
book (:mod:`perpsbook.markets`). This module runs the cascade on that structure, stage by
stage, with every actor in its own ledger account, and in a vectorised population mode.

Actors (ledger accounts)
------------------------
``ignitor``
    Buys spot at stage 0 (by USD or by coins).
the liquidated traders, ``short:<id>`` / ``long:<id>``
    Positions (:class:`~perpsbook.positions.Positions`) under a margin venue; their
    liquidations are executed by :func:`perpsbook.liquidation.liquidate` -- the ONE
    implementation of trigger, order walk, fee, insurance fund, ADL and partial clips.
    The engine passes the run's :class:`~perpsbook.liquidation.LiquidationConfig`
    through unchanged, so a venue's policy (``LiquidationConfig.for_venue``) applies.
    ADL counterparties are the opposite-side positions in the same population.
``market_maker``
    Owns the perp book's resting orders. The liquidation engine's orders fill against
    them; the coins it sells are the delta it hedges in spot
    (:class:`perpsbook.hedging.MarketMaker`: hedge ratio, lag in stages, inventory
    limit). Between stages it re-posts a fraction ``mm_repost`` of the quotes consumed
    so far (:meth:`~perpsbook.book.OrderBook.refill` towards its initial quotes) and, by
    default, re-centres all its quotes on the index (``anchor_perp_to_index``): a perp
    market maker prices off the index, so a spot move carries the perp book with it.
``arbitrageur``
    Basis arbitrage with a capacity of ``arbitrage_usd`` per stage (0 = off). Each stage
    it offers that much perp at ``index * (1 + arbitrage_threshold)``; whatever the
    liquidation engine lifts there (i.e. when the perp trades above the index by more
    than the threshold), it hedges at once by buying the same coins of spot. This is the
    "spot locked in cash-and-carry hedges" of the article: a sold perp paired with a
    bought coin. The unfilled rest of its offer is withdrawn at the end of the stage.
``spot_makers``
    Resting sellers (and buyers) on the spot book; between stages a fraction
    ``spot_refill`` of the consumed spot depth returns and a fraction ``withdrawal`` of
    what rests on either book is withdrawn.
``insurance_fund``, ``venue_fees``, ``venue``
    As posted by :meth:`perpsbook.liquidation.LiquidationResult.ledger_entries`.
``funding_pool``
    Funding (when stages have a duration, ``stage_seconds``): every perp holder pays
    ``side * size * mark * rate * stage_seconds / interval`` into the pool, or receives
    it; the rate is :func:`perpsbook.funding.funding_rate` of the premium
    ``(perp mid - index) / index`` (open interest balances, so the pool stays at zero up
    to the positions closed by the book running dry).

Taken-over positions
--------------------
Some venue policies of :func:`~perpsbook.liquidation.liquidate` do not send everything
to the book: Binance's IOC order limited at the bankruptcy price leaves the rest to the
insurance fund, Hyperliquid's backstop vault takes accounts below 2/3 of maintenance
(the ledger accounts ``insurance_fund`` / ``backstop_vault`` then hold those perp
positions). A fund or vault does not keep a squeezed short: in every later stage it
closes ``fund_unwind`` (default all) of what it holds with a market order in the perp
book -- forced buying like the engine's, absorbed and hedged by the market maker -- and
pays for it from its cash (a fund that cannot pay is topped up by the account ``venue``,
reported as bad debt). That it closes in the next stage, at market, is our assumption:
the venues say the fund takes the position over, not how fast it unwinds it.

A two-market stage, precisely
-----------------------------
Stage 0 is the ignition: a spot market buy (a sale in the crash, below); then the index
and the mark are updated.
Stage ``k >= 1``, from the snapshot alone:

1. between stages: a fraction ``withdrawal`` of both books' resting size is withdrawn,
   ``spot_refill`` / ``mm_repost`` of the consumed depth is restored;
2. the arbitrageur's offer is added to the perp book (if any);
3. :func:`~perpsbook.liquidation.liquidate` at the **mark price of the end of the
   previous stage** (positions in Hyperliquid's cooldown -- partially clipped in the last
   ``cooldown_stages`` stages -- are passed as ``cooldown``; the index is passed as
   ``oracle_price`` when ``liquidate`` accepts it, for ADL at the oracle price);
4. the insurance fund / backstop vault close positions taken over in earlier stages
   (``fund_unwind``); the market maker absorbs its share of the engine's and their fills
   and queues the hedge;
5. the market maker executes the hedges due (spot market buy);
6. the arbitrageur buys spot for the perp it sold;
7. the index (from the spot price, optionally with other spot books, weighted); the
   market maker re-centres the perp book on it (``anchor_perp_to_index``: every resting
   perp order, and the reference it re-posts towards, shifted by the index change); the
   funding rate (if ``stage_seconds``) and the mark (its averages updated) close the
   stage.

The cascade ends when a stage starts with nothing liquidatable at the mark, no hedge
queued (or no spot left to buy) and -- for the rules with memory, whose averages keep
moving without trades -- nothing liquidatable at the mark the averages converge to
(basis average = the current basis, book average = the current book median), or a mark
that has stopped moving (``|change| <= 1e-9`` relative); or after ``max_stages``. The
mark moves monotonically towards that limit for Binance's rule (a median of two
constants and one monotone average) and for Hyperliquid's with an external price; with
the book-median EMA as third component it need not, and the check is then made at the
two ends of the path only.

What is counted (so nobody double counts)
-----------------------------------------
* ``forced_perp_notional``: USD the liquidation engine (and a fund or vault closing
  taken-over positions) paid in the perp book.
* ``spot_hedge_notional``: USD of spot the market maker bought to hedge.
* ``spot_arbitrage_notional``: USD of spot the arbitrageur bought against perp it sold.
* ``forced_buy_notional`` = the three above: every order nobody chose freely, each
  counted once in the book where it traded. A perp coin the engine buys from the market
  maker and the spot coin the market maker buys to hedge it are two trades in two
  different books, so both count; the market maker's perp quotes are NOT spot liquidity
  (they do not sit in the spot ladder), which is what the one-ladder model's
  ``(1 + h)`` per coin on ONE ladder got wrong. A fully hedged market maker carries ``q``
  coins of demand into spot for ``q`` coins of perp buying: ``q`` of spot buying, not
  ``2q``.
* ``amplification = forced_buy_notional / ignition_notional``; the spot part alone is
  ``spot_amplification = (spot_hedge + spot_arbitrage) / ignition`` -- the buying that
  reaches the index.

The crash (``side=-1``)
-----------------------
Every step above has its mirror image, selected by ``TwoMarketParams(side=-1)``: the
ignitor *sells* spot, the liquidated side is the longs, the liquidation engine *sells*
perp into the perp book's bids (the market maker's resting buy orders), the market maker
who bought that perp hedges by *selling* spot, a fund or vault holding taken-over longs
sells them, and the arbitrageur bids perp at ``index * (1 - arbitrage_threshold)`` and
sells the same coins of spot for whatever the engine sells it there. Every comparison
flips (below instead of above, bids instead of asks); the counted amounts keep their
names and stay positive USD: ``forced_buy_notional`` is then the forced *selling*.
Reflecting the inputs about a pivot ``c`` (books by :meth:`~perpsbook.book.OrderBook.mirrored`,
trigger prices ``2c - L``, the side flipped, the ignition in coins) gives the reflected
run -- prices ``2c - p``, every coin quantity equal -- for the rules that are linear in
the prices (``mark`` ``"last"``, ``"index"``, and Binance's median without funding), no
arbitrage, and a fund that covers every deficit (``tests/test_twomarket.py``).

The one-ladder model as a special case
--------------------------------------
:func:`perpsbook.cascade.run_cascade` is this engine with ``linked=True``: the spot and
the perp book are ONE ladder (instant, unlimited arbitrage over the combined depth: any
gap between the two prices is closed at once), so index = mark = last traded price
(``mark="last"``), the ignition, the engine's orders and the hedges all walk that ladder,
nothing is refilled, re-posted, withdrawn or arbitraged separately, and no funding
accrues. With the cascade's tranches given as positions whose venue liquidation and
bankruptcy prices are the tranches' (``Tranches.from_positions``), a full-close policy
(no partial clips), ``perp_passthrough = 1``, an insurance fund large enough that
nothing is socialised, both engines give the same stages: price path, liquidated coins,
engine and hedge USD, fund, forced buying (``tests/test_twomarket.py``). Forced buying
there is the one-ladder definition, engine + hedge USD on the one ladder.

Why ``rocketcoin()`` stays one-ladder by default
------------------------------------------------
The article tells its story with one price, and the book's early chapters follow it;
:func:`perpsbook.scenarios.rocketcoin_two_market` builds the same coin on two markets for
the chapter that takes the story apart (what moved spot, perp and mark, per venue). The
CLI keeps ``--markets one`` as its default for the same reason and so that its existing
output does not change.

Population mode
---------------
:func:`two_market_population` solves the cascade of N positions in one vectorised pass
when the trigger price has no memory and only spot moves it (``mark="index"``, no
arbitrage, no refill or withdrawal, full closes): the final spot price is the smallest
fixed point of ``p = S(Q_ign + h * min(C(p), D_perp))`` over the spot book's levels,
``C(p)`` = coins whose liquidation price is reached by an index of ``p``, ``D_perp`` the
perp book's ask depth. Positions are bucketed onto the levels with ``searchsorted`` +
``bincount``; no sort of the N positions.

Units: prices USD per coin, sizes coins, notional USD, rates fractions, durations
seconds (``stage_seconds``) and hours (``funding_interval_hours``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.book import Fill, OrderBook
from perpsbook.errors import (
    BookError,
    InvalidInputError,
    check_finite,
    check_nonnegative,
    check_positive,
    check_real,
)
from perpsbook.funding import funding_rate as _funding_rate
from perpsbook.hedging import MarketMaker, MarketMakerState
from perpsbook.ledger import Ledger, LedgerEntries
from perpsbook.liquidation import LiquidationConfig, liquidate
from perpsbook.margin import Venue, liquidatable
from perpsbook.markets import (
    INDEX_METHODS,
    MarkRule,
    MarkState,
    book_quotes,
    index_price,
    mark_price,
    median3,
)
from perpsbook.positions import Positions

__all__ = [
    "MAX_LAG",
    "MAX_STAGES",
    "TwoMarketParams",
    "TwoMarketPopulation",
    "TwoMarketRecord",
    "TwoMarketResult",
    "TwoMarketSnapshot",
    "initial_two_market",
    "is_two_market_settled",
    "positions_at_triggers",
    "run_two_market",
    "run_two_market_stage",
    "two_market_population",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_LAG = 1_000
"""Largest hedge lag accepted, stages. The hedge queue holds ``lag + 1`` numbers in every
snapshot, so the lag is bounded rather than letting ``lag=10**9`` exhaust memory."""

MAX_STAGES = 10_000
"""Largest ``max_stages`` accepted."""

# perpsbook.liquidation may take the oracle (index) price for Hyperliquid's ADL; pass it
# when the installed liquidate() accepts it (a public keyword, checked once).
_LIQUIDATE_TAKES_ORACLE = "oracle_price" in inspect.signature(liquidate).parameters

_TAKEOVER_ACCOUNTS = ("insurance_fund", "backstop_vault")
"""Ledger accounts that may hold positions taken over by a venue policy."""

_MARK_TOL = 1e-9  # relative mark change under which a memory rule counts as settled
_TAKEOVER_DUST = 1e-9  # held contracts below this fraction of all liquidated coins are rounding


def _taken_over(balances: dict, account: str, liquidated_qty: float) -> float:
    """Contracts a fund or vault still holds from takeovers (coins, signed), 0 for dust.

    Unwinding in pieces leaves floating-point remainders (~1e-12 coins); trading them would
    print dust trades at whatever level the book offers, and the run would never settle.
    """
    inv = balances.get(account, {}).get("perp", 0.0)
    return 0.0 if abs(inv) <= _TAKEOVER_DUST * max(liquidated_qty, 1.0) else inv


_NEVER = -(2**62)  # "never clipped" stage number


def _scalar(name: str, value: Any, check: Any = check_finite) -> float:
    return check_real(name, value, check)


def _fraction(name: str, value: Any) -> float:
    x = _scalar(name, value)
    if not 0.0 <= x <= 1.0:
        raise InvalidInputError(f"{name} must lie in [0, 1], got {value!r}")
    return x


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise InvalidInputError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class TwoMarketParams:
    """Everything that drives a two-market cascade besides the books and the positions.

    Parameters
    ----------
    ignition_notional, ignition_qty : float
        The ignition spot buy, USD or coins, > 0; give exactly one.
    hedge_ratio : float, default 1.0
        Spot coins the market maker buys per perp coin it sells, in [0, 2].
    lag : int, default 0
        Stages between a fill and its hedge, in [0, :data:`MAX_LAG`].
    inventory_limit : float, optional
        Largest net delta (coins) the market maker carries (see
        :class:`perpsbook.hedging.MarketMaker`); None = no limit.
    mm_repost : float, default 0.0
        Fraction of the consumed perp quotes the market maker re-posts between stages, [0, 1].
    spot_refill : float, default 0.0
        Fraction of the consumed spot depth that returns between stages, [0, 1].
    withdrawal : float, default 0.0
        Fraction of the resting size on both books withdrawn between stages, [0, 1).
    anchor_perp_to_index : bool, default True
        Shift the perp book by the index change between stages (its maker prices off
        the index).
    arbitrage_usd : float, default 0.0
        Basis arbitrage capacity per stage, USD, >= 0 (0 = off).
    arbitrage_threshold : float, default 0.001
        Premium over the index at which the arbitrageur sells perp, fraction >= 0.
    mark : MarkRule or str, default "binance"
        Mark-price rule (:data:`perpsbook.markets.MARK_RULES`).
    other_spot_prices : sequence of float, default ()
        Prices (USD per coin) of further spot books in the index, held fixed (nobody
        trades there in the model).
    index_weights : sequence of float, optional
        Weights of the traded spot book and then of ``other_spot_prices``.
    index_method : {"mean", "median"}, default "mean"
    liquidation : LiquidationConfig, optional
        Passed unchanged to :func:`~perpsbook.liquidation.liquidate` (default
        ``LiquidationConfig()``). Its venue is the margin venue of the positions.
    insurance_fund : float, default 0.0
        USD before the cascade, >= 0.
    stage_seconds : float, optional
        Duration of a stage, seconds, > 0; turns funding on (None: no funding).
    funding_interval_hours : float, default 8.0
    cooldown_stages : int, default 1
        Stages a partially clipped position stays in cooldown (closed in full next time).
    fund_unwind : float, default 1.0
        Fraction, in [0, 1], of the perp position the insurance fund or a backstop vault
        took over (under venue policies that take positions over instead of sending them
        to the book) that it closes with a market order in each later stage (module
        docstring, "Taken-over positions"). 0 keeps them.
    linked : bool, default False
        The one-ladder special case (module docstring): spot and perp are one book.
    max_stages : int, default 200
        Stop after this many stages after the ignition, in [1, :data:`MAX_STAGES`].
    side : {+1, -1}, default +1
        Direction of the ignition. +1: the rocket, a spot *buy* that liquidates shorts.
        -1: the crash (module docstring, "The crash"), a spot *sale* that liquidates
        longs; the engine sells perp into the bids, the market maker who bought it hedges
        by selling spot, and the arbitrageur bids perp below the index and sells spot.

    Raises
    ------
    InvalidInputError
        Naming the argument, its value and what is allowed.
    """

    ignition_notional: float | None = None
    ignition_qty: float | None = None
    hedge_ratio: float = 1.0
    lag: int = 0
    inventory_limit: float | None = None
    mm_repost: float = 0.0
    spot_refill: float = 0.0
    withdrawal: float = 0.0
    anchor_perp_to_index: bool = True
    arbitrage_usd: float = 0.0
    arbitrage_threshold: float = 0.001
    mark: Any = "binance"
    other_spot_prices: tuple[float, ...] = ()
    index_weights: tuple[float, ...] | None = None
    index_method: str = "mean"
    liquidation: LiquidationConfig | None = None
    insurance_fund: float = 0.0
    stage_seconds: float | None = None
    funding_interval_hours: float = 8.0
    cooldown_stages: int = 1
    fund_unwind: float = 1.0
    linked: bool = False
    max_stages: int = 200
    side: int = 1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        given = [n for n in ("ignition_notional", "ignition_qty") if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidInputError(
                "give exactly one of ignition_notional (USD) and ignition_qty (coins), got "
                f"ignition_notional={self.ignition_notional!r}, ignition_qty={self.ignition_qty!r}"
            )
        for n in given:
            v = _scalar(n, getattr(self, n), check_positive)
            if not v >= 1e-300:  # a subnormal ignition cannot be walked without overflow
                raise InvalidInputError(f"{n} must be >= 1e-300, got {v!r}")
            set_(self, n, v)
        set_(self, "max_stages", _int("max_stages", self.max_stages, 1, MAX_STAGES))
        if isinstance(self.side, (bool, np.bool_)) or self.side not in (1, -1):
            raise InvalidInputError(
                f"side must be +1 (rocket: ignition buys spot) or -1 (crash: ignition sells "
                f"spot), got {self.side!r}"
            )
        set_(self, "side", int(self.side))
        set_(self, "lag", _int("lag", self.lag, 0, MAX_LAG))
        mm = MarketMaker(self.hedge_ratio, self.lag, self.inventory_limit)
        set_(self, "hedge_ratio", mm.hedge_ratio)
        set_(self, "inventory_limit", mm.inventory_limit)
        set_(self, "_mm", mm)
        for n in ("mm_repost", "spot_refill", "fund_unwind"):
            set_(self, n, _fraction(n, getattr(self, n)))
        w = _fraction("withdrawal", self.withdrawal)
        if w >= 1.0:
            raise InvalidInputError(f"withdrawal must lie in [0, 1), got {self.withdrawal!r}")
        set_(self, "withdrawal", w)
        set_(self, "anchor_perp_to_index", _flag("anchor_perp_to_index", self.anchor_perp_to_index))
        set_(self, "linked", _flag("linked", self.linked))
        set_(self, "arbitrage_usd", _scalar("arbitrage_usd", self.arbitrage_usd, check_nonnegative))
        set_(
            self,
            "arbitrage_threshold",
            _scalar("arbitrage_threshold", self.arbitrage_threshold, check_nonnegative),
        )
        mark = self.mark
        if isinstance(mark, str):
            mark = MarkRule(mark)
        if not isinstance(mark, MarkRule):
            raise InvalidInputError(
                f"mark must be a MarkRule or one of the rule names, got {type(mark).__name__}"
            )
        set_(self, "mark", mark)
        for name in ("other_spot_prices", "index_weights"):
            value = getattr(self, name)
            try:
                nd = np.ndim(value)
            except ValueError as exc:  # ragged nested sequences
                raise InvalidInputError(
                    f"{name} must be a flat sequence of numbers, got {value!r}"
                ) from exc
            if isinstance(value, (str, bytes)) or (
                nd and any(isinstance(x, (str, bytes, bool)) for x in value)
            ):
                raise InvalidInputError(f"{name} must be numbers, got {value!r}")
        others = np.atleast_1d(check_positive("other_spot_prices", self.other_spot_prices))
        if others.ndim != 1:
            raise InvalidInputError(
                f"other_spot_prices must be a flat sequence of prices, got shape {others.shape}"
            )
        set_(self, "other_spot_prices", tuple(float(x) for x in others))
        if self.index_weights is not None:
            wts = np.atleast_1d(check_nonnegative("index_weights", self.index_weights))
            if wts.shape != (1 + others.size,) or not wts.sum() > 0:
                raise InvalidInputError(
                    f"index_weights must hold {1 + others.size} weights >= 0 "
                    f"(the traded spot book, then other_spot_prices), not all 0; got "
                    f"{self.index_weights!r}"
                )
            set_(self, "index_weights", tuple(float(x) for x in wts))
        if self.index_method not in INDEX_METHODS:
            raise InvalidInputError(
                f"index_method must be one of {INDEX_METHODS}, got {self.index_method!r}"
            )
        cfg = LiquidationConfig() if self.liquidation is None else self.liquidation
        if not isinstance(cfg, LiquidationConfig):
            raise InvalidInputError(
                f"liquidation must be a LiquidationConfig, got {type(cfg).__name__}"
            )
        set_(self, "liquidation", cfg)
        set_(
            self,
            "insurance_fund",
            _scalar("insurance_fund", self.insurance_fund, check_nonnegative),
        )
        if self.stage_seconds is not None:
            set_(
                self, "stage_seconds", _scalar("stage_seconds", self.stage_seconds, check_positive)
            )
        set_(
            self,
            "funding_interval_hours",
            _scalar("funding_interval_hours", self.funding_interval_hours, check_positive),
        )
        set_(self, "cooldown_stages", _int("cooldown_stages", self.cooldown_stages, 0, MAX_STAGES))
        if self.linked and (self.mark.name != "last" or self.arbitrage_usd > 0):
            raise InvalidInputError(
                "linked=True is the one-ladder model: it needs mark='last' and arbitrage_usd=0, "
                f"got mark={self.mark.name!r}, arbitrage_usd={self.arbitrage_usd!r}"
            )

    @property
    def market_maker(self) -> MarketMaker:
        """The :class:`~perpsbook.hedging.MarketMaker` these parameters describe."""
        return self._mm  # type: ignore[attr-defined]

    @property
    def venue(self) -> Venue:
        """The margin venue of the positions (the liquidation config's)."""
        return self.liquidation.venue  # type: ignore[union-attr]

    def replace(self, **changes: Any) -> TwoMarketParams:
        """A copy with some fields changed (validated again)."""
        if "ignition_qty" in changes and "ignition_notional" not in changes:
            changes["ignition_notional"] = None
        if "ignition_notional" in changes and "ignition_qty" not in changes:
            changes["ignition_qty"] = None
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of the parameters (the liquidation config by venue and policy)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, MarkRule):
                v = {k.name: getattr(v, k.name) for k in fields(v)}
            elif isinstance(v, LiquidationConfig):
                v = {
                    "venue": v.venue.name,
                    "policy": getattr(v, "policy", "market"),
                    "liquidation_fee_rate": v.liquidation_fee_rate,
                    "partial_fraction": v.partial_fraction,
                    "adl": v.adl,
                    "surplus_to": v.surplus_to,
                }
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


# --------------------------------------------------------------------------- positions


def positions_at_triggers(
    triggers: Any,
    sizes: Any,
    venue: Venue,
    *,
    side: int = -1,
    entry_price: float = 10.0,
    n_per_trigger: int = 1,
) -> tuple[Positions, IntArray]:
    """Positions whose venue liquidation price is each trigger price (shorts by default).

    Each trigger's ``size`` coins are split into ``n_per_trigger`` equal positions opened
    at ``entry_price``. The margin is solved so that the venue's isolated liquidation
    price (:meth:`perpsbook.margin.Venue.liquidation_price`, which depends on the venue's
    maintenance tiers and on where it measures maintenance margin) equals the trigger:
    the liquidation price is linear in the margin within a tier, so a secant step per
    tier converges in a few rounds. The margin is then lowered by a few ulps until the
    venue calls the position liquidatable at the trigger itself and its liquidation
    price is not above it (for shorts; mirrored for longs), so a mark price equal to the
    trigger liquidates it -- the one-ladder model's ``L <= p`` rule.

    Parameters
    ----------
    triggers : array_like, shape (M,)
        Liquidation prices, USD per coin, > 0 (above ``entry_price`` for shorts).
    sizes : array_like, shape (M,)
        Coins per trigger, > 0.
    venue : Venue
    side : {-1, +1}
    entry_price : float
        USD per coin, > 0.
    n_per_trigger : int
        Positions per trigger, in [1, 10,000].

    Returns
    -------
    (Positions, ndarray of int64)
        The positions (trigger order, ``n_per_trigger`` per trigger) and the trigger each
        belongs to.

    Raises
    ------
    InvalidInputError
        Bad input, or a trigger no margin >= 0 reaches (e.g. a short's trigger at or
        below its entry price).
    """
    if not isinstance(venue, Venue):
        raise InvalidInputError(
            f"venue must be a perpsbook.margin.Venue, got {type(venue).__name__}"
        )
    trig = np.atleast_1d(check_positive("triggers", triggers)).astype(np.float64)
    size = np.atleast_1d(check_positive("sizes", sizes)).astype(np.float64)
    if trig.ndim != 1 or trig.shape != size.shape or trig.size == 0:
        raise InvalidInputError(
            f"triggers and sizes must be non-empty 1-D arrays of one shape, got {trig.shape} "
            f"and {size.shape}"
        )
    if side not in (-1, 1):
        raise InvalidInputError(f"side must be -1 (shorts) or +1 (longs), got {side!r}")
    entry = _scalar("entry_price", entry_price, check_positive)
    n = _int("n_per_trigger", n_per_trigger, 1, 10_000)
    which = np.repeat(np.arange(trig.size, dtype=np.int64), n)
    t = trig[which]
    s = size[which] / n
    sd = np.full(t.size, side, dtype=np.int8)

    def lp(m: FloatArray) -> FloatArray:
        return np.asarray(venue.liquidation_price(sd, s, entry, m), dtype=np.float64)

    m = np.maximum(s * np.abs(t - entry), 0.0)
    for _ in range(8):
        base = lp(m)
        slope = (lp(m + s) - base) / s  # USD per coin per USD of margin, within a tier
        m = np.maximum(m + (t - base) / slope, 0.0)
    for _ in range(64):
        cur = lp(m)
        ok = np.asarray(liquidatable(Positions(sd, s, entry, m), venue, t), dtype=bool)
        ok &= (cur >= t) if side == 1 else (cur <= t)
        if ok.all():
            break
        m = np.where(ok, m, np.maximum(m - 4.0 * np.spacing(np.maximum(m, 1.0)), 0.0))
    bad = np.abs(lp(m) - t) > 1e-9 * t
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidInputError(
            f"no margin >= 0 puts the {venue.name} liquidation price of a "
            f"{'short' if side == -1 else 'long'} opened at {entry:g} at trigger "
            f"{t[i]:g} USD (got {float(lp(m)[i]):.6g}); shorts need triggers above the entry "
            f"price, longs below"
        )
    return Positions(sd, s, entry, m), which


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True, eq=False)
class TwoMarketSnapshot:
    """The whole state at the start of a stage (immutable).

    ``run_two_market_stage(snapshot, params)`` needs nothing else: rerunning a stage from
    its snapshot gives the identical record and next snapshot.

    Attributes
    ----------
    stage : int
        The stage about to run (0 = ignition).
    spot_book, perp_book : OrderBook
        The books now (identical objects when ``linked``).
    spot_reference, perp_reference : OrderBook
        What refill restores towards (the perp's shifted with its anchor).
    perp_anchor : float
        Index (USD per coin) the perp quotes are centred on.
    spot_price, perp_price : float
        Last traded prices, USD per coin (the book's mid before any trade).
    index, mark : float
        USD per coin, as of the end of the previous stage.
    mark_change : float
        Mark change over the previous stage, USD per coin.
    mark_state : MarkState
    funding_rate : float
        Last funding rate, fraction per interval.
    positions : Positions
        Positions still open.
    position_ids : ndarray of int64
        Each open position's index in the input population.
    clipped_stage : ndarray of int64
        Stage in which each open position was last partially clipped.
    mm : MarketMakerState
    arb_perp, arb_spot : float
        The arbitrageur's perp and spot positions, coins (signed).
    insurance_fund : float
        USD.
    totals : dict
        Running sums (coins, USD), see :class:`TwoMarketResult`.
    ledger : LedgerEntries
    """

    stage: int
    spot_book: OrderBook
    perp_book: OrderBook
    spot_reference: OrderBook
    perp_reference: OrderBook
    perp_anchor: float
    spot_price: float
    perp_price: float
    index: float
    mark: float
    mark_change: float
    mark_state: MarkState
    funding_rate: float
    positions: Positions
    position_ids: IntArray
    clipped_stage: IntArray
    mm: MarketMakerState
    arb_perp: float
    arb_spot: float
    insurance_fund: float
    totals: dict[str, float]
    ledger: LedgerEntries

    def __repr__(self) -> str:
        return (
            f"TwoMarketSnapshot(stage {self.stage}, spot {self.spot_price:.6g}, perp "
            f"{self.perp_price:.6g}, index {self.index:.6g}, mark {self.mark:.6g}, "
            f"{self.positions.n} positions open)"
        )


_TOTALS = (
    "ignition_qty",
    "ignition_notional",
    "liquidated_qty",
    "forced_perp_qty",
    "forced_perp_notional",
    "spot_hedge_qty",
    "spot_hedge_notional",
    "spot_arbitrage_qty",
    "spot_arbitrage_notional",
    "arbitrage_perp_qty",
    "adl_qty",
    "unfilled_qty",
    "fees",
    "bad_debt",
    "funding_paid",
    "unwind_qty",
    "unwind_notional",
    "n_liquidated",
    "takeover_basis",
)


@dataclass(frozen=True)
class TwoMarketRecord:
    """What happened in one stage.

    Attributes
    ----------
    stage : int
    spot_before, spot_after, perp_before, perp_after : float
        Last traded prices, USD per coin.
    index_before, index_after, mark_before, mark_after : float
        USD per coin; ``mark_before`` is the trigger price of the stage.
    n_liquidated : int
        Positions liquidated (fully or partly) in the stage.
    liquidated_qty : float
        Coins closed (book + ADL).
    forced_perp_qty, forced_perp_notional : float
        The engine's perp book fills (and the fund's / vault's unwinding), coins and USD.
    mm_perp_qty : float
        Coins the market maker sold to the engine.
    arbitrage_perp_qty : float
        Coins the arbitrageur sold to the engine.
    spot_hedge_qty, spot_hedge_notional : float
        The market maker's spot hedge, coins and USD.
    spot_arbitrage_qty, spot_arbitrage_notional : float
        The arbitrageur's spot buy, coins and USD.
    ignition_qty, ignition_notional : float
        Stage 0 only.
    adl_qty, unfilled_qty : float
        Coins closed by ADL; coins of liquidation or hedge orders left unfilled.
    unwind_qty, unwind_notional : float
        The insurance fund's / backstop vault's market orders closing positions taken
        over earlier, coins and USD (included in ``forced_perp_*``).
    fees, bad_debt : float
        USD.
    insurance_fund : float
        USD after the stage.
    funding_rate : float
        Fraction per interval, after the stage.
    pending_hedge_qty : float
        Coins of hedging still queued.
    mm_perp, mm_spot : float
        Market maker's positions after the stage, coins.
    trades : tuple of (buyer, seller, instrument, coins, USD)
        Who traded with whom in the stage (aggregated per pair of actors).
    """

    stage: int
    spot_before: float
    spot_after: float
    perp_before: float
    perp_after: float
    index_before: float
    index_after: float
    mark_before: float
    mark_after: float
    n_liquidated: int
    liquidated_qty: float
    forced_perp_qty: float
    forced_perp_notional: float
    mm_perp_qty: float
    arbitrage_perp_qty: float
    spot_hedge_qty: float
    spot_hedge_notional: float
    spot_arbitrage_qty: float
    spot_arbitrage_notional: float
    ignition_qty: float
    ignition_notional: float
    adl_qty: float
    unfilled_qty: float
    unwind_qty: float
    unwind_notional: float
    fees: float
    bad_debt: float
    insurance_fund: float
    funding_rate: float
    pending_hedge_qty: float
    mm_perp: float
    mm_spot: float
    trades: tuple[tuple[str, str, str, float, float], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (``trades`` as a list of objects)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "trades"}
        out["trades"] = [
            {"buyer": b, "seller": s, "instrument": i, "qty": q, "notional": u}
            for b, s, i, q, u in self.trades
        ]
        return out


def _check_books(spot_book: Any, perp_book: Any, linked: bool) -> None:
    for name, b in (("spot_book", spot_book), ("perp_book", perp_book)):
        if not isinstance(b, OrderBook):
            raise InvalidInputError(
                f"{name} must be a perpsbook.book.OrderBook, got {type(b).__name__}"
            )
        if b.ask_prices.size == 0 or b.bid_prices.size == 0:
            raise BookError(f"{name} must have both sides non-empty to start a cascade")
    if linked and spot_book != perp_book:
        raise InvalidInputError(
            "linked=True needs one book: pass the same OrderBook as spot_book and perp_book"
        )


def initial_two_market(
    spot_book: OrderBook, perp_book: OrderBook, positions: Positions, params: TwoMarketParams
) -> TwoMarketSnapshot:
    """The snapshot before the ignition (stage 0).

    Prices start at each book's mid; the index from the spot mid (and the other spot
    prices); the mark by the rule with zero basis average (= the index for the median
    rules; the perp mid for ``"last"``).
    """
    if not isinstance(params, TwoMarketParams):
        raise InvalidInputError(f"params must be a TwoMarketParams, got {type(params).__name__}")
    _check_books(spot_book, perp_book, params.linked)
    if not isinstance(positions, Positions):
        raise InvalidInputError(
            f"positions must be a perpsbook.positions.Positions, got {type(positions).__name__}"
        )
    spot = spot_book.mid
    perp = spot if params.linked else perp_book.mid
    index = spot if params.linked else _index(spot, params)
    state = params.mark.initial_state(perp_book, perp)
    mark = perp if params.mark.name == "last" else index
    if params.mark.name in ("binance", "hyperliquid"):
        mark = _mark(params, state, index, perp_book, perp, 0.0)
    ids = np.arange(positions.n, dtype=np.int64)
    clipped = np.full(positions.n, _NEVER, dtype=np.int64)
    for a in (ids, clipped):
        a.setflags(write=False)
    return TwoMarketSnapshot(
        stage=0,
        spot_book=spot_book,
        perp_book=perp_book,
        spot_reference=spot_book,
        perp_reference=perp_book,
        perp_anchor=index,
        spot_price=spot,
        perp_price=perp,
        index=index,
        mark=mark,
        mark_change=0.0,
        mark_state=state,
        funding_rate=0.0,
        positions=positions,
        position_ids=ids,
        clipped_stage=clipped,
        # the market maker's first hedge step is stage 1 (the ignition is not its trade)
        mm=replace(params.market_maker.initial_state(), stage=1),
        arb_perp=0.0,
        arb_spot=0.0,
        insurance_fund=params.insurance_fund,
        totals=dict.fromkeys(_TOTALS, 0.0),
        ledger=LedgerEntries.empty(),
    )


def _index(spot: float, params: TwoMarketParams) -> float:
    if not params.other_spot_prices:
        return spot
    prices = np.array((spot, *params.other_spot_prices))
    return index_price(prices, params.index_weights, params.index_method)


def _mark(
    params: TwoMarketParams,
    state: MarkState,
    index: float,
    perp_book: OrderBook,
    perp: float,
    rate: float,
) -> float:
    bid, ask, _ = book_quotes(perp_book, perp)
    return mark_price(
        params.mark,
        index=index,
        last=perp,
        best_bid=bid,
        best_ask=ask,
        state=state,
        funding_rate=rate,
    )


# --------------------------------------------------------------------------- one stage


class _Flows:
    """Per-stage aggregation of who traded with whom."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], list[float]] = {}

    def add(self, buyer: str, seller: str, instrument: str, qty: float, usd: float) -> None:
        if qty <= 0:
            return
        row = self.rows.setdefault((buyer, seller, instrument), [0.0, 0.0])
        row[0] += qty
        row[1] += usd

    def table(self) -> tuple[tuple[str, str, str, float, float], ...]:
        return tuple((b, s, i, q, u) for (b, s, i), (q, u) in self.rows.items())


def _merge(led: Ledger, entries: LedgerEntries, names: dict[str, str], flows: _Flows) -> None:
    """Replay one liquidation batch's postings into the run's ledger, renaming accounts."""
    if entries.n_postings == 0:
        return
    acc = [names.get(a, a) for a in entries.accounts]
    src = [acc[i] for i in entries.src.tolist()]
    dst = [acc[i] for i in entries.dst.tolist()]
    kinds = entries.kind_names.tolist()
    ins = entries.instrument_names.tolist()
    amt = entries.amount.tolist()
    memo = list(entries.memo)
    ent = entries.entry.tolist()
    i, n = 0, len(ent)
    while i < n:
        j = i
        while j < n and ent[j] == ent[i]:
            j += 1
        if kinds[i] == "trade" and j - i == 2:
            cash = i if ins[i] == "USD" else i + 1
            coin = i + 1 if cash == i else i
            buyer, seller, usd, qty = src[cash], dst[cash], amt[cash], amt[coin]
            led.trade(buyer, seller, qty, usd / qty, ins[coin], memo[i])
            tag = "adl" if "ADL" in memo[i] else ""
            flows.add(_actor(buyer, tag), _actor(seller, tag), ins[coin], qty, usd)
        else:
            for k in range(i, j):
                if kinds[k] == "fee":
                    led.fee(src[k], amt[k], to=dst[k], memo=memo[k])
                else:
                    led.transfer(src[k], dst[k], amt[k], memo[k], instrument=ins[k])
        i = j


def _actor(account: str, tag: str) -> str:
    if account.startswith("short:"):
        return "liquidated shorts" if not tag else "shorts (ADL)"
    if account.startswith("long:"):
        return "liquidated longs" if not tag else "longs (ADL counterparties)"
    return account


def _shift(book: OrderBook, d: float) -> OrderBook:
    if d == 0.0:
        return book
    bids, bsz, asks, asz = book.bid_prices + d, book.bid_sizes, book.ask_prices + d, book.ask_sizes
    if d < 0:
        # quotes that would sit at or below $0 cannot exist: the maker withdraws them
        # (the crash's mirror of asks moved above the rocket's top level)
        keep_b, keep_a = bids > 0, asks > 0
        bids, bsz, asks, asz = bids[keep_b], bsz[keep_b], asks[keep_a], asz[keep_a]
    try:
        return OrderBook(bids, bsz, asks, asz)
    except BookError as exc:
        raise BookError(
            f"re-centring the perp book on the index by {d:+.6g} USD failed: {exc}"
        ) from exc


def _withdraw(book: OrderBook, fraction: float) -> OrderBook:
    if fraction == 0.0:
        return book
    keep = 1.0 - fraction
    return OrderBook(book.bid_prices, book.bid_sizes * keep, book.ask_prices, book.ask_sizes * keep)


def _side_arrays(book: OrderBook, side: int) -> tuple[FloatArray, FloatArray]:
    """(prices, sizes) of the asks (side +1) or the bids (side -1)."""
    return (book.ask_prices, book.ask_sizes) if side == 1 else (book.bid_prices, book.bid_sizes)


def _rebuild(book: OrderBook, side: int, prices: FloatArray, sizes: FloatArray) -> OrderBook:
    if side == 1:
        return OrderBook(book.bid_prices, book.bid_sizes, prices, sizes)
    return OrderBook(prices, sizes, book.ask_prices, book.ask_sizes)


def _level(prices: FloatArray, price: float, side: int) -> int:
    # asks ascend, bids descend: search the bids on their negated prices
    return int(np.searchsorted(prices if side == 1 else -prices, side * price))


def _with_offer(
    book: OrderBook, price: float, qty: float, side: int = 1
) -> tuple[OrderBook, float]:
    """The book with ``qty`` coins more offered (side +1) or bid (side -1) at ``price``;
    returns (book, maker size there)."""
    px, sizes = _side_arrays(book, side)
    k = _level(px, price, side)
    if k < px.size and px[k] == price:
        before = float(sizes[k])
        new_sizes = sizes.copy()
        new_sizes[k] += qty
        return _rebuild(book, side, px, new_sizes), before
    return _rebuild(book, side, np.insert(px, k, price), np.insert(sizes, k, qty)), 0.0


def _without_offer(book: OrderBook, price: float, qty: float, side: int = 1) -> OrderBook:
    """Remove ``qty`` unfilled coins of the arbitrageur's offer (bid) at ``price``."""
    if qty <= 0:
        return book
    px, sizes = _side_arrays(book, side)
    k = _level(px, price, side)
    if k >= px.size or px[k] != price:
        return book
    left = float(sizes[k]) - qty
    if left > 1e-12 * max(qty, 1.0):
        new_sizes = sizes.copy()
        new_sizes[k] = left
        return _rebuild(book, side, px, new_sizes)
    return _rebuild(book, side, np.delete(px, k), np.delete(sizes, k))


def _taken_at(fill: Fill | None, price: float) -> float:
    if fill is None:
        return 0.0
    return float(fill.level_qtys[fill.level_prices == price].sum())


def _spot_trade(book: OrderBook, side: int, qty: float) -> Fill | None:
    """A spot market order (+1 buy, -1 sell) of ``qty`` coins; None if that side is empty."""
    if qty <= 0 or (book.ask_prices if side == 1 else book.bid_prices).size == 0:
        return None
    return book.market_order(side, qty, partial=True)


def run_two_market_stage(
    snapshot: TwoMarketSnapshot, params: TwoMarketParams
) -> tuple[TwoMarketRecord, TwoMarketSnapshot]:
    """Run one stage from its snapshot; a pure function (module docstring, "A stage").

    Parameters
    ----------
    snapshot : TwoMarketSnapshot
    params : TwoMarketParams

    Returns
    -------
    (TwoMarketRecord, TwoMarketSnapshot)
    """
    if not isinstance(snapshot, TwoMarketSnapshot):
        raise InvalidInputError(
            f"snapshot must be a TwoMarketSnapshot, got {type(snapshot).__name__}"
        )
    if not isinstance(params, TwoMarketParams):
        raise InvalidInputError(f"params must be a TwoMarketParams, got {type(params).__name__}")
    if len(snapshot.mm.pending) != params.lag + 1:
        raise InvalidInputError(
            f"snapshot's hedge queue has {len(snapshot.mm.pending)} stages but params.lag is "
            f"{params.lag}; use the params the snapshot was made with"
        )
    snap = snapshot
    k = snap.stage
    led = Ledger.from_entries(snap.ledger)
    flows = _Flows()
    tot = dict(snap.totals)
    linked = params.linked
    spot_book, perp_book = snap.spot_book, snap.perp_book
    spot_ref, perp_ref, anchor = snap.spot_reference, snap.perp_reference, snap.perp_anchor
    spot, perp = snap.spot_price, snap.perp_price
    positions, ids, clipped = snap.positions, snap.position_ids, snap.clipped_stage
    mm_state, fund = snap.mm, snap.insurance_fund
    arb_perp, arb_spot = snap.arb_perp, snap.arb_spot
    v = dict.fromkeys(
        (
            "liquidated_qty", "forced_perp_qty", "forced_perp_notional", "mm_perp_qty",
            "arbitrage_perp_qty", "spot_hedge_qty", "spot_hedge_notional",
            "spot_arbitrage_qty", "spot_arbitrage_notional", "ignition_qty",
            "ignition_notional", "adl_qty", "unfilled_qty", "fees", "bad_debt",
            "unwind_qty", "unwind_notional",
        ),
        0.0,
    )  # fmt: skip
    n_liq = 0
    basis_add = 0.0  # takeover value of this stage (USD), see 3b
    basis = snap.totals.get("takeover_basis", 0.0)  # of earlier stages, USD

    if k == 0:
        amount = params.ignition_notional or params.ignition_qty
        by_usd = params.ignition_notional is not None
        if params.side == 1:
            fill = (
                spot_book.buy_notional(amount, partial=True)
                if by_usd
                else spot_book.buy(amount, partial=True)
            )  # type: ignore[arg-type]
        else:
            fill = (
                spot_book.sell_notional(amount, partial=True)
                if by_usd
                else spot_book.sell(amount, partial=True)
            )  # type: ignore[arg-type]
        if fill.qty > 0:
            buyer, seller = ("ignitor", "spot_makers")[:: params.side]
            led.trade(buyer, seller, fill.qty, fill.notional / fill.qty, "spot", "ignition")
            flows.add(buyer, seller, "spot", fill.qty, fill.notional)
            spot = fill.last_price
        spot_book = fill.book_after
        if linked:
            perp_book, perp = spot_book, spot
        v["ignition_qty"], v["ignition_notional"] = fill.qty, fill.notional
        if fill.unfilled > 0:
            v["unfilled_qty"] = fill.unfilled if not by_usd else fill.unfilled / max(spot, 1e-300)
    else:
        # 1. between stages
        if not linked:
            perp_book = _withdraw(perp_book, params.withdrawal)
            spot_book = _withdraw(spot_book, params.withdrawal)
            if params.mm_repost > 0:
                perp_book = perp_book.refill(perp_ref, params.mm_repost)
            if params.spot_refill > 0:
                spot_book = spot_book.refill(spot_ref, params.spot_refill)
        else:
            spot_book = _withdraw(spot_book, params.withdrawal)
            if params.spot_refill > 0:
                spot_book = spot_book.refill(spot_ref, params.spot_refill)
            perp_book = spot_book
        # 2. the arbitrageur's offer
        offer_px = offer_qty = maker_at = 0.0
        sd = params.side
        if params.arbitrage_usd > 0 and not linked:
            # rocket: an offer above the index; crash: a bid below it
            offer_px = snap.index * (1.0 + sd * params.arbitrage_threshold)
            other = perp_book.bid_prices if sd == 1 else perp_book.ask_prices
            if offer_px > 0 and (other.size == 0 or sd * (offer_px - other[0]) > 0):
                offer_qty = params.arbitrage_usd / offer_px
                perp_book, maker_at = _with_offer(perp_book, offer_px, offer_qty, sd)
        # 3. liquidations at the mark
        buy_fill = sell_fill = None
        if positions.n and np.any(liquidatable(positions, params.venue, snap.mark)):
            cool = clipped >= k - params.cooldown_stages
            extra = {"oracle_price": snap.index} if _LIQUIDATE_TAKES_ORACLE else {}
            res = liquidate(
                positions, snap.mark, perp_book, fund, params.liquidation, cooldown=cool, **extra
            )
            entries = res.ledger_entries(
                trader_prefix="trader:",
                book_account="market_maker",
                fund_account="insurance_fund",
                fee_account="venue_fees",
                venue_account="venue",
            )
            side_name = np.where(positions.side > 0, "long:", "short:")
            names = {f"trader:{j}": f"{side_name[j]}{ids[j]}" for j in range(positions.n)}
            _merge(led, entries, names, flows)
            ev = res.events
            n_liq = ev.n
            v["liquidated_qty"] = float(ev.qty_closed.sum())
            v["adl_qty"] = res.adl_qty
            v["unfilled_qty"] += res.unfilled_qty
            v["fees"] = res.total_fee
            v["bad_debt"] = res.total_bad_debt
            fund = res.insurance_fund_after
            # USD the fund received (+, shorts) or paid (-, longs) for the positions it took
            # over at their bankruptcy prices: the cost basis its later unwind settles against
            basis_add = float(np.sum(-ev.side * ev.bankruptcy_price * ev.qty_takeover))
            buy_fill, sell_fill = res.buy_fill, res.sell_fill
            perp_book = res.book_after
            new_clip = clipped.copy()
            new_clip[ev.index[ev.partial]] = k
            positions = res.positions_after
            ids = ids[res.active_index]
            clipped = new_clip[res.active_index]
            for a in (ids, clipped):
                a.setflags(write=False)
            last_fills = [f for f in (buy_fill, sell_fill) if f is not None and f.qty > 0]
            if last_fills:
                perp = last_fills[-1].last_price
        # the arbitrageur's share of the engine's buy, and its unfilled offer withdrawn
        arb_qty = 0.0
        if offer_qty > 0:
            hit_fill = buy_fill if sd == 1 else sell_fill
            arb_qty = min(max(_taken_at(hit_fill, offer_px) - maker_at, 0.0), offer_qty)
            perp_book = _without_offer(perp_book, offer_px, offer_qty - arb_qty, sd)
            if arb_qty > 0:
                # liquidate() booked the whole fill against the market maker's account;
                # the arbitrageur's share passes on to it
                buyer, seller = ("market_maker", "arbitrageur")[::sd]
                what = "offer lifted" if sd == 1 else "bid hit"
                led.trade(buyer, seller, arb_qty, offer_px, "perp", f"stage {k} arbitrage {what}")
                flows.add(buyer, seller, "perp", arb_qty, arb_qty * offer_px)
                arb_perp -= sd * arb_qty
        buy_q = buy_fill.qty if buy_fill is not None else 0.0
        buy_usd = buy_fill.notional if buy_fill is not None else 0.0
        sell_q = sell_fill.qty if sell_fill is not None else 0.0
        sell_usd = sell_fill.notional if sell_fill is not None else 0.0
        # 3b. the fund / backstop vault close what they took over in earlier stages
        if params.fund_unwind > 0 and not linked:
            held = snap.ledger.balances()
            for acct in _TAKEOVER_ACCOUNTS:
                inv = _taken_over(held, acct, snap.totals["liquidated_qty"])
                want = -params.fund_unwind * inv  # + buy back a short, - sell a long
                side = 1 if want > 0 else -1
                depth = perp_book.total_ask_qty if side == 1 else perp_book.total_bid_qty
                if abs(want) <= 1e-12 * max(abs(inv), 1.0) or depth <= 0:
                    continue
                f = perp_book.market_order(side, abs(want), partial=True)
                perp_book, perp = f.book_after, f.last_price
                buyer, seller = (acct, "market_maker") if side == 1 else ("market_maker", acct)
                led.trade(buyer, seller, f.qty, f.notional / f.qty, "perp", f"stage {k} unwind")
                flows.add(buyer, seller, "perp", f.qty, f.notional)
                v["unwind_qty"] += f.qty
                v["unwind_notional"] += f.notional
                if side == 1:
                    buy_q, buy_usd = buy_q + f.qty, buy_usd + f.notional
                else:
                    sell_q, sell_usd = sell_q + f.qty, sell_usd + f.notional
                if acct == "insurance_fund":
                    # The fund's cash never held the takeover's bankruptcy value
                    # (liquidate() reports it apart), so closing settles only the
                    # difference between the unwind price and the bankruptcy price.
                    used = basis * f.qty / abs(inv)
                    basis -= used
                    fund += used - side * f.notional
                    if fund < 0:  # the fund cannot pay its loss: the venue covers it
                        led.transfer("venue", "insurance_fund", -fund, f"stage {k} fund shortfall")
                        v["bad_debt"] += -fund
                        fund = 0.0
        v["forced_perp_qty"] = buy_q + sell_q
        v["forced_perp_notional"] = buy_usd + sell_usd
        v["arbitrage_perp_qty"] = arb_qty
        # 4. the market maker absorbs its share
        mm_q = buy_q - sell_q - sd * arb_qty
        mm_usd = buy_usd - sell_usd - sd * arb_qty * offer_px
        v["mm_perp_qty"] = mm_q
        mm = params.market_maker
        if mm_q != 0.0 and mm_usd / mm_q > 0:
            mm_state = mm.absorb(mm_state, mm_q, mm_usd / mm_q)
        if linked:
            spot_book = perp_book
            spot = perp
        # 5. hedges due
        step = mm.hedge(mm_state, spot_book, k)
        mm_state, spot_book = step.state, step.book_after
        if step.fill is not None and step.fill.qty > 0:
            f = step.fill
            if f.side == 1:
                led.trade(
                    "market_maker",
                    "spot_makers",
                    f.qty,
                    f.notional / f.qty,
                    "spot",
                    f"stage {k} hedge",
                )
                flows.add("market_maker", "spot_makers", "spot", f.qty, f.notional)
            else:
                led.trade(
                    "spot_makers",
                    "market_maker",
                    f.qty,
                    f.notional / f.qty,
                    "spot",
                    f"stage {k} hedge",
                )
                flows.add("spot_makers", "market_maker", "spot", f.qty, f.notional)
            v["spot_hedge_qty"], v["spot_hedge_notional"] = f.qty, f.notional
            spot = f.last_price
        v["unfilled_qty"] += abs(mm_state.unfilled_hedge)
        # 6. the arbitrageur's spot leg
        if arb_qty > 0:
            f = _spot_trade(spot_book, sd, arb_qty)
            if f is not None and f.qty > 0:
                buyer, seller = ("arbitrageur", "spot_makers")[::sd]
                led.trade(
                    buyer, seller, f.qty, f.notional / f.qty, "spot", f"stage {k} arbitrage hedge"
                )
                flows.add(buyer, seller, "spot", f.qty, f.notional)
                spot_book = f.book_after
                spot = f.last_price
                arb_spot += sd * f.qty
                v["spot_arbitrage_qty"], v["spot_arbitrage_notional"] = f.qty, f.notional
                v["unfilled_qty"] += f.unfilled
            else:
                v["unfilled_qty"] += arb_qty
        if linked:
            perp_book, perp = spot_book, spot
    # 7. index (the perp maker re-centres its quotes on it), funding, mark
    index = spot if linked else _index(spot, params)
    if not linked and params.anchor_perp_to_index and index != anchor:
        d = index - anchor
        perp_book, perp_ref, anchor = _shift(perp_book, d), _shift(perp_ref, d), index
    rate = snap.funding_rate
    mark_state = snap.mark_state
    if params.stage_seconds is not None and not linked and k > 0:
        _, _, mid = book_quotes(perp_book, perp)
        rate = float(
            _funding_rate((mid - index) / index, interval_hours=params.funding_interval_hours)
        )
        frac = params.stage_seconds / (3600.0 * params.funding_interval_hours)
        paid = _pay_funding(led, positions, ids, snap.mark, rate * frac, k)
        tot["funding_paid"] += paid
    if linked or params.mark.name == "last":
        mark = perp
    elif params.mark.name == "index":
        mark = index
    else:
        bid, ask, mid = book_quotes(perp_book, perp)
        w = params.mark.basis_weight
        mark_state = MarkState(
            basis_average=(1.0 - w) * mark_state.basis_average + w * (mid - index),
            book_average=(1.0 - w) * mark_state.book_average + w * median3(bid, ask, perp),
        )
        mark = _mark(params, mark_state, index, perp_book, perp, rate)
    for key in v:
        if key in tot:
            tot[key] += v[key]
    tot["n_liquidated"] += n_liq
    tot["takeover_basis"] = basis + basis_add
    record = TwoMarketRecord(
        stage=k,
        spot_before=snap.spot_price,
        spot_after=spot,
        perp_before=snap.perp_price,
        perp_after=perp,
        index_before=snap.index,
        index_after=index,
        mark_before=snap.mark,
        mark_after=mark,
        n_liquidated=n_liq,
        pending_hedge_qty=mm_state.pending_total,
        insurance_fund=fund,
        funding_rate=rate,
        mm_perp=mm_state.perp_position,
        mm_spot=mm_state.spot_position,
        trades=flows.table(),
        **{key: v[key] for key in v if key not in ("mm_perp_qty",)},
        mm_perp_qty=v["mm_perp_qty"],
    )
    nxt = TwoMarketSnapshot(
        stage=k + 1,
        spot_book=spot_book,
        perp_book=perp_book,
        spot_reference=spot_ref,
        perp_reference=perp_ref,
        perp_anchor=anchor,
        spot_price=spot,
        perp_price=perp,
        index=index,
        mark=mark,
        mark_change=mark - snap.mark,
        mark_state=mark_state,
        funding_rate=rate,
        positions=positions,
        position_ids=ids,
        clipped_stage=clipped,
        mm=mm_state,
        arb_perp=arb_perp,
        arb_spot=arb_spot,
        insurance_fund=fund,
        totals=tot,
        ledger=led.entries,
    )
    return record, nxt


def _pay_funding(
    led: Ledger,
    positions: Positions,
    ids: IntArray,
    mark: float,
    rate: float,
    k: int,
) -> float:
    """Post one stage's funding through ``funding_pool``; returns USD paid in.

    Holders: the open positions (their sizes), and every other account that holds perp
    contracts in the ledger (the market maker, the arbitrageur, a fund or vault holding
    taken-over positions; they all started flat, so their ledger balance is their
    position). The liquidated traders' ledger rows are closing flows, not positions.
    """
    if rate == 0.0:
        return 0.0
    # payment > 0: the holder pays (longs pay when the rate is positive)
    pay = positions.side * positions.size * mark * rate
    sides, idx = positions.side.tolist(), ids.tolist()
    holders = [f"{'long' if sd > 0 else 'short'}:{i}" for sd, i in zip(sides, idx, strict=True)]
    amounts = pay.tolist()
    for acct, bal in led.balances().items():
        if acct.startswith(("short:", "long:")) or bal["perp"] == 0.0:
            continue
        holders.append(acct)
        amounts.append(bal["perp"] * mark * rate)
    paid = 0.0
    for who, amt in zip(holders, amounts, strict=True):
        if amt > 0:
            led.transfer(who, "funding_pool", amt, f"stage {k} funding")
            paid += amt
        elif amt < 0:
            led.transfer("funding_pool", who, -amt, f"stage {k} funding")
    return paid


def is_two_market_settled(snapshot: TwoMarketSnapshot, params: TwoMarketParams) -> bool:
    """True when the next stage would change nothing (module docstring)."""
    if not isinstance(snapshot, TwoMarketSnapshot):
        raise InvalidInputError(
            f"snapshot must be a TwoMarketSnapshot, got {type(snapshot).__name__}"
        )
    if not isinstance(params, TwoMarketParams):
        raise InvalidInputError(f"params must be a TwoMarketParams, got {type(params).__name__}")
    if snapshot.stage == 0:
        return False
    if _can_liquidate(snapshot, params, snapshot.mark):
        return False
    pending = snapshot.mm.pending_total
    if (pending > 0 and snapshot.spot_book.ask_prices.size) or (
        pending < 0 and snapshot.spot_book.bid_prices.size
    ):
        return False
    if params.fund_unwind > 0 and not params.linked:
        held = snapshot.ledger.balances()
        book = snapshot.perp_book
        for acct in _TAKEOVER_ACCOUNTS:
            inv = _taken_over(held, acct, snapshot.totals["liquidated_qty"])
            if (inv < 0 and book.ask_prices.size) or (inv > 0 and book.bid_prices.size):
                return False
    if params.mark.name in ("binance", "hyperliquid") and not params.linked:
        if abs(snapshot.mark_change) <= _MARK_TOL * snapshot.mark:
            return True
        # The averages keep moving without trades; they converge to the limit mark.
        return not _can_liquidate(snapshot, params, _limit_mark(snapshot, params))
    return True


def _can_liquidate(snapshot: TwoMarketSnapshot, params: TwoMarketParams, mark: float) -> bool:
    """Some position is liquidatable at ``mark`` and the next stage could close it.

    A liquidatable position stays open only when the book side its closing order needs
    is empty and ADL found no counterparty; then another stage changes nothing unless
    liquidity comes back (re-posted quotes, an arbitrage offer, refill).
    """
    pos = snapshot.positions
    if not pos.n:
        return False
    hit = np.asarray(liquidatable(pos, params.venue, mark), dtype=bool)
    if not hit.any():
        return False
    if params.mm_repost > 0 or params.arbitrage_usd > 0 or params.spot_refill > 0:
        return True
    book = snapshot.perp_book
    shorts = bool(np.any(hit & (pos.side < 0)))
    longs = bool(np.any(hit & (pos.side > 0)))
    return (shorts and book.ask_prices.size > 0) or (longs and book.bid_prices.size > 0)


def _limit_mark(snapshot: TwoMarketSnapshot, params: TwoMarketParams) -> float:
    """The mark the per-stage averages converge to if nothing trades any more, USD/coin."""
    bid, ask, mid = book_quotes(snapshot.perp_book, snapshot.perp_price)
    p = snapshot.perp_price
    state = MarkState(mid - snapshot.index, median3(bid, ask, p))
    return _mark(params, state, snapshot.index, snapshot.perp_book, p, snapshot.funding_rate)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class TwoMarketResult:
    """A whole two-market cascade.

    Attributes
    ----------
    params : TwoMarketParams
    records : tuple of TwoMarketRecord
    snapshots : tuple of TwoMarketSnapshot
        ``snapshots[k]`` is the state at the start of stage ``k``; the last is the end.
    initial_spot, initial_perp, initial_mark : float
        USD per coin.
    final_spot, final_perp, final_index, final_mark : float
        USD per coin.
    ignition_qty, ignition_notional : float
    liquidated_qty : float
        Coins closed (book + ADL).
    n_liquidated : int
        Liquidation events (a clipped position counts once per clip).
    forced_perp_notional, spot_hedge_notional, spot_arbitrage_notional : float
        USD (module docstring, "What is counted").
    forced_buy_notional : float
        Their sum, USD.
    amplification, spot_amplification : float
        ``forced_buy_notional / ignition_notional`` and the spot part alone.
    adl_qty : float
        Coins closed by ADL.
    unfilled_qty : float
        Coins left undone at the end: liquidatable positions still open (no liquidity,
        no ADL counterparty) plus hedges still queued.
    fees, bad_debt, insurance_fund_final : float
        USD.
    pnl : dict
        USD value at the final prices (spot at the spot price, perp at the final mark)
        of every account that starts flat (all but the liquidated traders).
    ledger : LedgerEntries
    ledger_imbalance : float
        Largest absolute residual of the ledger's sums per instrument; ~0.
    truncated : bool
        Stopped by ``max_stages``.
    """

    params: TwoMarketParams
    records: tuple[TwoMarketRecord, ...]
    snapshots: tuple[TwoMarketSnapshot, ...]
    initial_spot: float
    initial_perp: float
    initial_mark: float
    final_spot: float
    final_perp: float
    final_index: float
    final_mark: float
    ignition_qty: float
    ignition_notional: float
    liquidated_qty: float
    n_liquidated: int
    forced_perp_notional: float
    spot_hedge_notional: float
    spot_arbitrage_notional: float
    forced_buy_notional: float
    amplification: float
    spot_amplification: float
    adl_qty: float
    unfilled_qty: float
    fees: float
    bad_debt: float
    insurance_fund_final: float
    pnl: dict[str, float]
    ledger: LedgerEntries
    ledger_imbalance: float
    truncated: bool

    @property
    def n_stages(self) -> int:
        """Stages run, the ignition included."""
        return len(self.records)

    def column(self, name: str) -> FloatArray:
        """One :class:`TwoMarketRecord` field over the stages, as an array."""
        if name not in {f.name for f in fields(TwoMarketRecord)} or name == "trades":
            raise InvalidInputError(f"unknown record field {name!r}")
        return np.array([getattr(r, name) for r in self.records], dtype=np.float64)

    def summary(self) -> dict[str, Any]:
        """Headline numbers, JSON-able."""
        keys = (
            "initial_spot", "initial_perp", "initial_mark", "final_spot", "final_perp",
            "final_index", "final_mark", "ignition_qty", "ignition_notional",
            "liquidated_qty", "n_liquidated", "forced_perp_notional", "spot_hedge_notional",
            "spot_arbitrage_notional", "forced_buy_notional", "amplification",
            "spot_amplification", "adl_qty", "unfilled_qty", "fees", "bad_debt",
            "insurance_fund_final", "ledger_imbalance", "truncated",
        )  # fmt: skip
        out: dict[str, Any] = {"markets": "two", "n_stages": self.n_stages}
        out.update({k: getattr(self, k) for k in keys})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Summary, parameters, P&L and the stages."""
        out = self.summary()
        out["params"] = self.params.to_dict()
        out["pnl"] = dict(self.pnl)
        out["stages"] = [r.to_dict() for r in self.records]
        return out

    def stage_table(self) -> str:
        """Plain-text table: what moved spot, perp and mark in each stage."""
        cols = (
            ("stage", "stage", "{:d}"),
            ("mark_before", "trigger", "{:.4f}"),
            ("spot_after", "spot", "{:.4f}"),
            ("perp_after", "perp", "{:.4f}"),
            ("index_after", "index", "{:.4f}"),
            ("mark_after", "mark", "{:.4f}"),
            ("liquidated_qty", "liq_coins", "{:,.0f}"),
            ("forced_perp_notional", "perp_usd", "{:,.0f}"),
            ("spot_hedge_notional", "hedge_usd", "{:,.0f}"),
            ("spot_arbitrage_notional", "arb_usd", "{:,.0f}"),
            ("insurance_fund", "fund_usd", "{:,.0f}"),
        )
        rows = [[h for _, h, _ in cols]]
        for r in self.records:
            rows.append([fmt.format(getattr(r, n)) for n, _, fmt in cols])
        width = [max(len(row[j]) for row in rows) for j in range(len(cols))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(row, width, strict=True)) for row in rows]
        lines.insert(1, "  ".join("-" * w for w in width))
        forced_word = "forced buying" if self.params.side == 1 else "forced selling"
        lines += [
            "",
            f"ignition            {self.ignition_notional:,.0f} USD "
            f"({self.ignition_qty:,.0f} coins)",
            f"spot                {self.initial_spot:.4f} -> {self.final_spot:.4f} USD",
            f"perp                {self.initial_perp:.4f} -> {self.final_perp:.4f} USD",
            f"mark                {self.initial_mark:.4f} -> {self.final_mark:.4f} USD",
            f"liquidated          {self.liquidated_qty:,.0f} coins ({self.n_liquidated} events)",
            f"{forced_word:<20}{self.forced_buy_notional:,.0f} USD (perp "
            f"{self.forced_perp_notional:,.0f}, spot hedges {self.spot_hedge_notional:,.0f}, "
            f"spot arbitrage {self.spot_arbitrage_notional:,.0f})",
            f"amplification       {self.amplification:,.2f}x "
            f"(spot part {self.spot_amplification:,.2f}x)",
            f"ledger imbalance    {self.ledger_imbalance:.3g}",
        ]
        if self.truncated:
            lines.append(f"stopped after max_stages={self.params.max_stages} with work left")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"TwoMarketResult({self.n_stages} stages, spot {self.initial_spot:.6g} -> "
            f"{self.final_spot:.6g}, perp -> {self.final_perp:.6g}, mark -> "
            f"{self.final_mark:.6g}, amplification {self.amplification:.4g})"
        )


def run_two_market(
    spot_book: OrderBook, perp_book: OrderBook, positions: Positions, params: TwoMarketParams
) -> TwoMarketResult:
    """Run the two-market cascade from the ignition until it settles.

    Parameters
    ----------
    spot_book, perp_book : OrderBook
        Both sides non-empty (the same object when ``params.linked``); USD per coin, coins.
    positions : Positions
        The population: the positions to be liquidated and their opposite side (the ADL
        counterparties), under ``params.venue``.
    params : TwoMarketParams

    Returns
    -------
    TwoMarketResult
    """
    snap = initial_two_market(spot_book, perp_book, positions, params)
    snaps = [snap]
    records: list[TwoMarketRecord] = []
    truncated = False
    while True:
        rec, snap = run_two_market_stage(snap, params)
        records.append(rec)
        snaps.append(snap)
        if is_two_market_settled(snap, params):
            break
        if snap.stage > params.max_stages:
            truncated = True
            break
    return assemble_two_market_result(params, tuple(records), tuple(snaps), truncated)


def _left_open(snap: TwoMarketSnapshot, params: TwoMarketParams) -> float:
    """Coins the cascade wanted to trade but could not: liquidatable positions still open
    at the final mark plus hedges still queued."""
    pos = snap.positions
    open_qty = 0.0
    if pos.n:
        hit = np.asarray(liquidatable(pos, params.venue, snap.mark), dtype=bool)
        open_qty = float(pos.size[hit].sum())
    return open_qty + abs(snap.mm.pending_total)


def assemble_two_market_result(
    params: TwoMarketParams,
    records: tuple[TwoMarketRecord, ...],
    snaps: tuple[TwoMarketSnapshot, ...],
    truncated: bool,
) -> TwoMarketResult:
    """A :class:`TwoMarketResult` from the stages a run produced (records and the
    snapshots before and after them). Used by :func:`run_two_market` and by
    :mod:`perpsbook.rocket`; not in ``__all__``: plumbing, not an API."""
    first, last = snaps[0], snaps[-1]
    t = last.totals
    led = last.ledger
    marks = {"spot": last.spot_price, "perp": last.mark}
    pnl = {
        k: val
        for k, val in led.value(marks).items()
        if not (k.startswith("short:") or k.startswith("long:"))
    }
    imbalance = max((abs(x) for x in led.imbalance().values()), default=0.0)
    ign = t["ignition_notional"]
    forced = t["forced_perp_notional"] + t["spot_hedge_notional"] + t["spot_arbitrage_notional"]
    spot_forced = t["spot_hedge_notional"] + t["spot_arbitrage_notional"]
    return TwoMarketResult(
        params=params,
        records=records,
        snapshots=snaps,
        initial_spot=first.spot_price,
        initial_perp=first.perp_price,
        initial_mark=first.mark,
        final_spot=last.spot_price,
        final_perp=last.perp_price,
        final_index=last.index,
        final_mark=last.mark,
        ignition_qty=t["ignition_qty"],
        ignition_notional=ign,
        liquidated_qty=t["liquidated_qty"],
        n_liquidated=int(t["n_liquidated"]),
        forced_perp_notional=t["forced_perp_notional"],
        spot_hedge_notional=t["spot_hedge_notional"],
        spot_arbitrage_notional=t["spot_arbitrage_notional"],
        forced_buy_notional=forced,
        amplification=forced / ign if ign > 0 else 0.0,
        spot_amplification=spot_forced / ign if ign > 0 else 0.0,
        adl_qty=t["adl_qty"],
        unfilled_qty=_left_open(last, params),
        fees=t["fees"],
        bad_debt=t["bad_debt"],
        insurance_fund_final=last.insurance_fund,
        pnl=pnl,
        ledger=led,
        ledger_imbalance=imbalance,
        truncated=truncated,
    )


# --------------------------------------------------------------------------- population


def _first_level_at_or_above(prices: FloatArray, values: FloatArray) -> IntArray:
    """``searchsorted(prices, values, "left")`` in O(N) passes when the levels are evenly
    spaced (a tick grid): an arithmetic guess, then exact fix-ups against the level
    prices themselves. A binary search of N unsorted values costs more than a sort's
    worth of cache misses at N = 1e6; other grids fall back to it."""
    k = prices.size
    if k < 3:
        return np.searchsorted(prices, values, side="left")
    step = np.diff(prices)
    tick = float(step.mean())
    if not np.allclose(step, tick, rtol=1e-6, atol=0.0):
        return np.searchsorted(prices, values, side="left")
    guess = np.ceil((values - prices[0]) / tick)
    idx = np.clip(guess, 0, k).astype(np.int64)
    for _ in range(2):  # the guess is off by at most one level: fix it up exactly
        inner = np.minimum(idx, k - 1)
        up = (idx < k) & (prices[inner] < values)
        below = np.maximum(idx - 1, 0)
        down = (idx > 0) & (prices[below] >= values)
        idx = idx + up - down
    return idx


@dataclass(frozen=True, eq=False)
class TwoMarketPopulation:
    """The two-market cascade of N positions solved in one pass (:func:`two_market_population`).

    Attributes
    ----------
    final_spot, final_index, final_mark : float
        Spot last price = index = mark at the end, USD per coin.
    final_perp : float
        Last perp price after the engine's fills on the (static) perp book, USD per coin
        (the initial perp mid if nothing was filled).
    liquidated : ndarray of bool, shape (N,)
        Positions triggered (liquidation price <= the final index).
    n_liquidated : int
        How many were triggered.
    liquidated_qty : float
        Coins closed in the perp book (the triggered size, at most the book's ask depth).
    unfilled_qty : float
        Triggered coins the dry perp book could not take (the population holds no
        opposite side to auto-deleverage), left open, plus hedge coins the dry spot book
        could not fill.
    forced_perp_qty, forced_perp_notional : float
        The engine's perp fills, coins and USD (at most the perp book's ask depth).
    spot_hedge_qty, spot_hedge_notional : float
        The market maker's spot hedges, coins and USD.
    ignition_qty, ignition_notional : float
    forced_buy_notional, amplification : float
        As in :class:`TwoMarketResult`.
    """

    final_spot: float
    final_perp: float
    final_index: float
    final_mark: float
    liquidated: npt.NDArray[np.bool_]
    n_liquidated: int
    liquidated_qty: float
    unfilled_qty: float
    forced_perp_qty: float
    forced_perp_notional: float
    spot_hedge_qty: float
    spot_hedge_notional: float
    ignition_qty: float
    ignition_notional: float
    forced_buy_notional: float
    amplification: float


def two_market_population(
    spot_book: OrderBook,
    perp_book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    *,
    ignition_qty: float | None = None,
    ignition_notional: float | None = None,
    hedge_ratio: float = 1.0,
) -> TwoMarketPopulation:
    """Population mode of the two-market engine: N shorts, one vectorised fixed point.

    The configuration it solves is the two-market engine with ``mark="index"`` (one spot
    book, the index is its last price), no arbitrage, no refill/re-post/withdrawal, full
    closes (no partial clips) and an insurance fund that covers every deficit. Then only
    spot trades move the trigger price, and only the market maker's hedges move spot:

    * the ignition buys ``Q0`` coins of spot; its last price is spot level ``k0``;
    * with spot at level ``k`` (price ``P[k]``), the shorts with liquidation price
      ``L <= P[k]`` are liquidated: ``C[k]`` coins (a ``bincount`` of the sizes by
      ``searchsorted(P, L)``, then a cumulative sum over the K levels); the engine fills
      ``min(C[k], D)`` of them in the perp book (``D`` its ask depth; the rest is the dry
      tail closed by ADL or left open, which no market maker hedges);
    * the spot demand is ``Q0 + h * min(C[k], D)``, whose walk stops at level ``idx[k]``
      (:meth:`~perpsbook.book.OrderBook.walk`, the rule of every fill);
    * ``idx`` is non-decreasing, so the stage-by-stage iteration from ``k0`` stops at the
      first ``k >= k0`` with ``idx[k] <= k``: one vectorised comparison.

    Stage mode reaches the same final spot price, the same liquidated set and the same
    coins and spot USD whatever the lag. Perp USD and the last perp price are those of one
    walk of the total fill on the static perp book; with ``anchor_perp_to_index=True``
    stage mode's perp book moves with the index, which changes those two numbers only.

    Parameters
    ----------
    spot_book, perp_book : OrderBook
        Asks non-empty; USD per coin, coins.
    liq_prices : array_like, shape (N,)
        The shorts' liquidation prices at the venue, USD per coin, > 0 (e.g.
        :func:`perpsbook.margin.liquidation_prices`).
    sizes : array_like, shape (N,)
        Coins, > 0.
    ignition_qty, ignition_notional : float
        The ignition, coins or USD, > 0 (exactly one).
    hedge_ratio : float
        In [0, 2].

    Returns
    -------
    TwoMarketPopulation
    """
    for name, b in (("spot_book", spot_book), ("perp_book", perp_book)):
        if not isinstance(b, OrderBook):
            raise InvalidInputError(
                f"{name} must be a perpsbook.book.OrderBook, got {type(b).__name__}"
            )
        if b.ask_prices.size == 0:
            raise BookError(f"{name} has no asks: nothing can be bought")
    lp = np.asarray(check_positive("liq_prices", liq_prices), dtype=np.float64)
    sz = np.asarray(check_positive("sizes", sizes), dtype=np.float64)
    if lp.ndim != 1 or lp.shape != sz.shape:
        raise InvalidInputError(
            f"liq_prices and sizes must be 1-D arrays of one shape, got {lp.shape} and {sz.shape}"
        )
    if (ignition_qty is None) == (ignition_notional is None):
        raise InvalidInputError(
            "give exactly one of ignition_qty (coins) and ignition_notional (USD), got "
            f"ignition_qty={ignition_qty!r}, ignition_notional={ignition_notional!r}"
        )
    h = MarketMaker(hedge_ratio).hedge_ratio
    prices, cum, _ = spot_book.cumulative_depth(1)
    depth = float(cum[-1])
    if ignition_notional is not None:
        usd = _scalar("ignition_notional", ignition_notional, check_positive)
        ign = spot_book.buy_notional(usd, partial=True)
    else:
        q = _scalar("ignition_qty", ignition_qty, check_positive)
        ign = spot_book.buy(q, partial=True)
    q0, ign_usd = ign.qty, ign.notional
    k_levels = prices.size
    level = _first_level_at_or_above(prices, lp)
    reach = level < k_levels
    triggered = np.cumsum(np.bincount(level[reach], weights=sz[reach], minlength=k_levels))
    d_perp = perp_book.total_ask_qty
    filled = np.minimum(triggered, d_perp)
    wanted = q0 + h * filled
    demand = np.minimum(wanted, depth)
    stop = spot_book.walk(1, demand).k
    k0 = int(spot_book.walk(1, np.array([q0])).k[0])
    ks = np.arange(k_levels)
    ok = (stop <= ks) & (ks >= k0)
    k_star = int(np.argmax(ok)) if ok.any() else k_levels - 1
    p_final = float(prices[k_star])
    liquidated = lp <= p_final
    liquidated.setflags(write=False)
    perp_q = float(filled[k_star])
    total = float(demand[k_star])
    spot_cost = spot_book.cost_curve(1, np.array([q0, total]), partial=True)
    hedge_usd = float(spot_cost[1] - spot_cost[0]) if total > q0 else 0.0
    if perp_q > 0:
        pw = perp_book.walk(1, np.array([perp_q]))
        perp_usd = float(pw.notional[0])
        perp_last = float(perp_book.ask_prices[pw.k[0]])
    else:
        perp_usd = 0.0
        perp_last = book_quotes(perp_book, float(perp_book.ask_prices[0]))[2]
    forced = perp_usd + hedge_usd
    return TwoMarketPopulation(
        final_spot=p_final,
        final_perp=perp_last,
        final_index=p_final,
        final_mark=p_final,
        liquidated=liquidated,
        n_liquidated=int(np.count_nonzero(liquidated)),
        liquidated_qty=perp_q,
        unfilled_qty=max(float(triggered[k_star]) - perp_q, 0.0)
        + max(float(wanted[k_star]) - depth, 0.0),
        forced_perp_qty=perp_q,
        forced_perp_notional=perp_usd,
        spot_hedge_qty=max(total - q0, 0.0),
        spot_hedge_notional=hedge_usd,
        ignition_qty=q0,
        ignition_notional=ign_usd,
        forced_buy_notional=forced,
        amplification=forced / ign_usd if ign_usd > 0 else 0.0,
    )
