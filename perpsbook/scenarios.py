"""Named cascade scenarios; first of all RocketCoin (RKT), the article's numerical case.

The article (danny / @agintender, "Perpetual Futures' Liquidation Algorithm: The Prime
Mover of the Altcoin Bull Market", WuBlockchain 2025) invents a coin, RKT: 10,000,000
supply, 1,000,000 free float, spot at $10, a crowd of shorts waiting to be liquidated
between $11 and $15, a $200,000 spot purchase that lifts the price from $10 to $11, a first
layer of liquidations that -- with the market makers' hedges -- lifts it to $12, larger
layers after that, and a price that ends at $15 or above after "millions" of forced buying.

Its numbers do not all fit together. :func:`rocketcoin` builds one consistent reading of
them (the ``"default"`` variant) and a few others that each change one reading, so that a
reader can see which statement drives which outcome.

Where the article's numbers disagree, and the readings taken
------------------------------------------------------------
1. **How big are the shorts?** "$10 million of shorts (300,000 RKT)" between $11 and $15.
   300,000 RKT is worth 300,000 x 11 = $3.3M at $11 and 300,000 x 15 = $4.5M at $15
   (about $3.9M at the $13 midpoint), not $10M; conversely $10M between $11 and $15 is
   909,091 to 666,667 RKT (about 770,000 at $13). *Default: the dollar figure.* Five
   tranches at $11, $12, $13, $14, $15 worth $1.0M, $1.5M, $2.0M, $2.5M and $3.0M at their
   trigger prices: $10M in all, 90,909 + 125,000 + 153,846 + 178,571 + 200,000 =
   748,327 RKT; the first is the article's "$1 million at $11" and each later one is
   larger ("a new batch of larger short positions"). Variant ``"coins"``: the coin figure,
   the same profile scaled to 300,000 RKT (36,445 RKT = $400,894 at $11, ..., 80,179 RKT
   at $15; $4.0M in all).
2. **What did the ignition buy?** "20,000 RKT for $200,000" lifting $10 to $11. $200,000
   for 20,000 coins is a VWAP of exactly $10.00: every coin at the first price, so the
   price could not have moved. If 20,000 coins walk a flat ladder from $10.00 to $11.00
   they cost $210,000 (VWAP $10.50; see :meth:`perpsbook.book.OrderBook.calibrated`).
   *Default: the dollar figure.* The ladder below $11 holds 190 RKT per cent (19,000 per
   dollar), so $200,000 buys the 19,000 RKT from $10.00 to $10.99 for $199,405 and the
   last $595 buy 54 RKT at $11.00: the ignition fills 19,054 RKT and the last traded price
   is exactly $11.00, which triggers the first tranche. Variant ``"ignition_coins"``: the
   coin figure, 20,000 RKT through a flat $10 -> $11 ladder (101 levels of 198.02 RKT),
   costing $210,000.
3. **How deep is the book above $11?** The first layer, $1M = 90,909 RKT bought back by
   the liquidation engine plus 90,909 RKT of 1:1 hedges = 181,818 RKT of buying, is said
   to lift the price from $11 to $12. The ignition ladder (19,000 RKT per dollar) would
   send 181,818 RKT up 181,818 / 19,000 = $9.57, to about $20.6, through every tranche
   at once. So the book must be about 9.5 times deeper above $11 than below it. *Default:
   depth grows with price*: 1,800 RKT per cent in [$11, $12) (180,000 per dollar: the
   first layer's 181,818 RKT end at exactly $12.00), then 500 RKT per cent more for each
   further dollar (2,300, 2,800, 3,300, 3,800, 4,300, ...) up to $19.99. With it each
   layer's buying (2 x 125,000 = 250,000 RKT at $12, 307,692 at $13, 357,143 at $14,
   400,000 at $15) just clears the next dollar, as the article's story needs. Variants
   ``"flat_book"`` (the ignition's 190 RKT per cent all the way up: the first layer empties
   the ladder, which tops out at $19.99) and ``"deep_book"`` (the stage-1 depth, 1,800 RKT
   per cent, everywhere: $200,000 moves the price only to $10.11 and nothing is
   triggered -- the "thin float" is the whole point).
4. **The float.** 1,000,000 RKT are free to trade. In the default run the market makers'
   hedges buy 748,327 RKT of spot and the ignition 19,054: 77 % of the float. The ladder
   also carries the MM's perp quotes (the engine's 748,327 RKT are perp contracts, which
   need no coins), so it may hold more than the float; still, the article's dollar reading
   only works if almost the whole float is offered for sale within $10 -- $16.

The default run
---------------
``rocketcoin().run()`` (hedge ratio 1, lag 0, RKT venue fee 1.5 %, MMR 2.5 %, insurance
fund $500,000): stage 0 the ignition ($200,000, 19,054 RKT, $9.995 -> $11.00); stage 1
liquidates $1M at $11 (the engine pays $1,022,532) and the hedge lifts the price to $12.00;
stages 2-5 liquidate the $12, $13, $14 and $15 tranches, ending at $13.07, $14.15, $15.20
and $16.22. Liquidated: 748,327 RKT for $10.28M; forced buying (engine + hedges) $20.95M,
an amplification of about 105 on the $200,000 ignition. The MM loses about $397,000 (it
sells perps at the engine's prices and buys its hedge after them, higher up) and the
insurance fund about $32,000; the ignitor gains about $109,000 on its 19,054 RKT.

The variants' runs (same parameters):

==============  ===========  ==========  ==============  =============  ==============
variant         final price  tranches    forced buying   amplification  note
==============  ===========  ==========  ==============  =============  ==============
default         $16.22       5 of 5      $20.95M         104.8          the "notional"
                                                                        reading
coins           $11.40       1 of 5      $0.82M          4.1            stalls
ignition_coins  $16.22       5 of 5      $20.96M         99.8           $210k ignition
flat_book       $19.99       5 of 5      $2.65M          13.2           dry at stage 1
deep_book       $10.11       0 of 5      $0              0              never ignites
==============  ===========  ==========  ==============  =============  ==============

In ``flat_book`` the ladder is empty after stage 1: the last 657,418 RKT of shorts are
closed by auto-deleveraging at their bankruptcy prices and 10,872 RKT of hedges find no
seller. :func:`rocketcoin_crash` mirrors each variant about $10 (final prices $3.78,
$8.60, $3.78, $0.01, $9.89).

The book after the ignition and the order-books chapter's ladders
----------------------------------------------------------------
:func:`rkt_book_after_ignition` is ``rocketcoin().book`` after the article's $200,000
ignition (best ask $11.00): the ladder the first layer of shorts meets, used by the
market-makers chapter. :func:`order_book_profiles` returns the order-books chapter's three
RKT ladders (:data:`ORDER_BOOK_PROFILES`). The chapter's ``"calibrated"`` ladder and the
default book are both fitted to the article's ignition and stage-1 statements, but they
read them differently and are different books:

* **Ignition.** The default book takes the dollar figure: $200,000 reaches $11.00 (190 RKT
  per cent below $11, reading 2 above). All three chapter ladders take the coin figure:
  20,000 RKT reach $11.00 (``OrderBook.calibrated(10, 11, 20_000)``: 101 levels of 198.02
  RKT from $10.00 to $11.00, costing $210,000; the lower ladder of ``"ignition_coins"``).
* **Stage 1.** The default book reads it in coins: 2 x 90,909 = 181,818 RKT (the first
  layer plus its 1:1 hedge) take $11 to $12.00, hence 1,800 RKT per cent in [$11, $12).
  The ``"calibrated"`` ladder reads it in dollars: $2,000,000 (the engine's $1M plus the
  hedge's $1M) after the ignition ends exactly at $12.00, hence
  2,000,000 / (11.01 + 11.02 + ... + 12.00) = 1,738.37 RKT per cent.
* **Above $12.** The default book's depth grows with price (500 RKT per cent more for each
  further dollar, up to $19.99), so that each later, larger layer clears one more dollar.
  The ``"calibrated"`` ladder is flat-deep: 1,738.37 RKT on every cent from $11.01 to
  $30.00 (nothing in the article fixes it above $12, and the chapter uses it for single
  market orders, not for a cascade). Between $10 and $15 the default book offers
  1,039,000 RKT, the calibrated ladder 713,612.
* ``"flat"`` (198.02 RKT per cent from $10.00 to $30.00) and ``"sqrt"`` (square-root
  impact, asks $10.01 to $19.99) fit the ignition only. The flat ladder is the coin-reading
  counterpart of the ``"flat_book"`` variant (190 RKT per cent from $10.00 to $19.99).

Sources: the article above; venue parameters from :data:`perpsbook.margin.ALTCOIN`
(illustrative thin new-coin schedule: MMR 2.5 % in the first bracket, liquidation fee
1.5 %).

Units: prices USD per coin, sizes coins (RKT), notional USD.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from perpsbook.book import OrderBook
from perpsbook.cascade import CascadeParams, CascadeResult, Tranches, mirror_inputs, run_cascade
from perpsbook.errors import InvalidInputError, check_positive, check_scalar
from perpsbook.margin import ALTCOIN

__all__ = [
    "DEFAULT_INSURANCE_FUND",
    "ORDER_BOOK_PROFILES",
    "RKT_FACTS",
    "VARIANTS",
    "Scenario",
    "order_book_profiles",
    "rkt_book_after_ignition",
    "rocketcoin",
    "rocketcoin_crash",
]

RKT_FACTS: Mapping[str, float] = MappingProxyType(
    {
        "supply": 10_000_000.0,
        "free_float": 1_000_000.0,
        "spot_price": 10.0,
        "article_ignition_usd": 200_000.0,
        "article_ignition_coins": 20_000.0,
        "article_ignition_target_price": 11.0,
        "article_shorts_usd": 10_000_000.0,
        "article_shorts_coins": 300_000.0,
        "article_shorts_low": 11.0,
        "article_shorts_high": 15.0,
        "article_first_tranche_usd": 1_000_000.0,
        "article_first_stage_price": 12.0,
    }
)
"""The article's RKT numbers as stated (coins, USD, USD per coin), inconsistencies kept."""

VARIANTS: Mapping[str, str] = MappingProxyType(
    {
        "default": (
            "$200k ignition lifts $10 -> $11; $10M of shorts in five growing tranches at "
            "$11-$15 (748,327 RKT); depth grows with price so stage 1 lifts $11 -> $12"
        ),
        "coins": (
            "as default, but the shorts total the article's 300,000 RKT (about $4.0M): the "
            "first layer is only $0.4M and the cascade stalls below $12"
        ),
        "ignition_coins": (
            "as default, but the ignition is the article's 20,000 RKT through a flat "
            "$10 -> $11 ladder, costing $210,000"
        ),
        "flat_book": (
            "the ignition's depth (190 RKT per cent) all the way up: the first layer "
            "empties the ladder at $19.99"
        ),
        "deep_book": (
            "the stage-1 depth (1,800 RKT per cent) everywhere: the ignition reaches only "
            "$10.11 and nothing is liquidated"
        ),
    }
)
"""Variant name -> one-line description (see the module docstring for the arithmetic)."""

_TICK = 0.01
_TOP = 19.99  # highest ask: keeps the mirror image about $10 above zero
_TRIGGERS = (11.0, 12.0, 13.0, 14.0, 15.0)
_TRANCHE_USD = (1.0e6, 1.5e6, 2.0e6, 2.5e6, 3.0e6)
_IGNITION_BAND = 190.0  # RKT per cent below $11: $200,000 reaches $11.00 exactly
_STAGE1_BAND = 1_800.0  # RKT per cent in [$11, $12): the first layer ends at $12.00
_BAND_STEP = 500.0  # RKT per cent added for each further dollar
DEFAULT_INSURANCE_FUND = 500_000.0
"""Insurance fund of the RKT contract before the cascade, USD (an assumption)."""


@dataclass(frozen=True, eq=False)
class Scenario:
    """A ready-to-run cascade: book, tranches, parameters and what they stand for.

    Attributes
    ----------
    name : str
        Scenario name (``"rocketcoin"`` or ``"rocketcoin_crash"``).
    variant : str
        Key of :data:`VARIANTS`.
    description : str
        One line on the reading this variant takes.
    book : OrderBook
        The market book (prices USD per coin, sizes coins).
    tranches : Tranches
    params : CascadeParams
    facts : Mapping
        The article's numbers (:data:`RKT_FACTS`) plus this variant's own, e.g.
        ``tranche_coins`` and ``tranche_usd_at_trigger``.
    """

    name: str
    variant: str
    description: str
    book: OrderBook
    tranches: Tranches
    params: CascadeParams
    facts: Mapping[str, float]

    def run(self) -> CascadeResult:
        """Run the stage-by-stage cascade (:func:`perpsbook.cascade.run_cascade`)."""
        return run_cascade(self.book, self.tranches, self.params)

    def with_params(self, **changes: Any) -> Scenario:
        """The same scenario with some :class:`CascadeParams` fields changed."""
        return Scenario(
            self.name,
            self.variant,
            self.description,
            self.book,
            self.tranches,
            self.params.replace(**changes),
            self.facts,
        )

    def __repr__(self) -> str:
        return f"Scenario({self.name}, variant={self.variant!r}: {self.description})"


def _grid(start: float, n: int, step: float) -> np.ndarray:
    # Rounded to the cent so that e.g. the level "11.00" is exactly 11.0 (a trigger price).
    return np.round(start + step * np.arange(n), 2)


def _rkt_book(variant: str) -> OrderBook:
    """The RKT market book of a variant: asks from $10.00 to $19.99, bids $9.99 to $0.01."""
    n = round((_TOP - 10.0) / _TICK) + 1
    asks = _grid(10.0, n, _TICK)
    dollars_above_11 = np.floor(asks - 11.0 + 1e-9)
    growing = np.where(asks < 11.0, _IGNITION_BAND, _STAGE1_BAND + _BAND_STEP * dollars_above_11)
    first = _IGNITION_BAND
    if variant == "flat_book":
        sizes = np.full(n, _IGNITION_BAND)
    elif variant == "deep_book":
        sizes = np.full(n, _STAGE1_BAND)
        first = _STAGE1_BAND
    elif variant == "ignition_coins":
        # OrderBook.calibrated(10, 11, 20_000): 101 equal levels $10.00 .. $11.00, so that
        # 20,000 RKT end exactly at $11.00; the growing bands continue from $11.01.
        first = RKT_FACTS["article_ignition_coins"] / 101.0
        sizes = np.where(asks <= 11.0, first, growing)
    else:
        sizes = growing
    bids = _grid(10.0 - _TICK, n - 1, -_TICK)
    return OrderBook(bids, np.full(n - 1, first), asks, sizes)


def _rkt_tranches(variant: str) -> Tranches:
    trig = np.array(_TRIGGERS)
    usd = np.array(_TRANCHE_USD)
    if variant == "coins":
        usd = usd * (RKT_FACTS["article_shorts_coins"] / float(np.sum(usd / trig)))
    labels = [f"T{i + 1} ${p:.0f}" for i, p in enumerate(_TRIGGERS)]
    mmr = float(ALTCOIN.schedule.mmr[0])
    return Tranches.from_notional(trig, usd, mmr, side=-1, label=labels)


def _check_variant(variant: Any) -> str:
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise InvalidInputError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    return variant


def rocketcoin(
    variant: str = "default",
    *,
    ignition: float | None = None,
    ignition_qty: float | None = None,
    hedge_ratio: float = 1.0,
    lag: int = 0,
    perp_passthrough: float = 1.0,
    inventory_limit: float | None = None,
    insurance_fund: float = DEFAULT_INSURANCE_FUND,
    liquidation_fee_rate: float | None = None,
    deficit_rule: str = "socialise",
    max_stages: int = 200,
) -> Scenario:
    """The article's RocketCoin (RKT) short-liquidation rocket, in one of its readings.

    See the module docstring for the article's inconsistent numbers and the arithmetic
    behind every variant.

    Why this stays the one-ladder model (:mod:`perpsbook.cascade`): the article tells its
    story with one price, and the book's early chapters follow it;
    :func:`rocketcoin_two_market` builds the same coin on two markets for the chapter
    that takes the story apart (what moved spot, perp and mark, per venue). The CLI keeps
    ``--markets one`` as its default for the same reason and so that its existing output
    does not change. What "forced buying" and "amplification" count differs between the
    two models (see :mod:`perpsbook.twomarket`, "What is counted"): here every liquidated
    coin puts ``w + h`` coins of buying on the one ladder.

    Parameters
    ----------
    variant : str, default "default"
        A key of :data:`VARIANTS`: ``"default"``, ``"coins"``, ``"ignition_coins"``,
        ``"flat_book"`` or ``"deep_book"``.
    ignition : float, optional
        Ignition spot buy in USD, > 0. Default $200,000 (``"ignition_coins"``: 20,000 RKT).
    ignition_qty : float, optional
        Ignition in coins instead (give at most one of the two).
    hedge_ratio : float, default 1.0
        Spot coins the MM buys per perp coin it sells, in [0, 2].
    lag : int, default 0
        Stages between a liquidation and its hedge.
    perp_passthrough : float, default 1.0
        Share of the engine's order that walks the ladder, in [0, 1].
    inventory_limit : float, optional
        MM net-delta limit, coins (None: no limit).
    insurance_fund : float, default 500,000
        USD before the cascade.
    liquidation_fee_rate : float, optional
        Fraction; default the RKT venue's 1.5 % (:data:`perpsbook.margin.ALTCOIN`).
    deficit_rule : {"socialise", "adl"}, default "socialise"
        See :class:`~perpsbook.cascade.CascadeParams`.
    max_stages : int, default 200

    Returns
    -------
    Scenario
        ``.run()`` gives the :class:`~perpsbook.cascade.CascadeResult`.

    Raises
    ------
    InvalidInputError
        Unknown variant or a bad parameter (message names it).

    Examples
    --------
    >>> r = rocketcoin().run()
    >>> round(r.final_price, 2), r.n_liquidated
    (16.22, 5)
    """
    variant = _check_variant(variant)
    if ignition is not None and ignition_qty is not None:
        raise InvalidInputError(
            f"give at most one of ignition (USD) and ignition_qty (coins), got {ignition!r} "
            f"and {ignition_qty!r}"
        )
    if ignition is None and ignition_qty is None:
        if variant == "ignition_coins":
            ignition_qty = RKT_FACTS["article_ignition_coins"]
        else:
            ignition = RKT_FACTS["article_ignition_usd"]
    fee = ALTCOIN.liquidation_fee_rate if liquidation_fee_rate is None else liquidation_fee_rate
    params = CascadeParams(
        ignition_notional=ignition,
        ignition_qty=ignition_qty,
        hedge_ratio=hedge_ratio,
        lag=lag,
        inventory_limit=inventory_limit,
        perp_passthrough=perp_passthrough,
        liquidation_fee_rate=fee,
        insurance_fund=insurance_fund,
        deficit_rule=deficit_rule,
        max_stages=max_stages,
        side=1,
    )
    book = _rkt_book(variant)
    tranches = _rkt_tranches(variant)
    facts = dict(RKT_FACTS)
    facts.update(
        tranche_coins=tranches.total_size,
        tranche_usd_at_trigger=tranches.total_notional,
        first_tranche_usd_at_trigger=float(tranches.notional_at_trigger[0]),
        ladder_coins_to_15=float(np.sum(book.ask_sizes[book.ask_prices < 15.0])),
        ladder_coins_total=book.total_ask_qty,
        insurance_fund=insurance_fund,
    )
    return Scenario(
        name="rocketcoin",
        variant=variant,
        description=VARIANTS[variant],
        book=book,
        tranches=tranches,
        params=params,
        facts=MappingProxyType(facts),
    )


def rocketcoin_crash(
    variant: str = "default", *, ignition: float | None = None, **kwargs: Any
) -> Scenario:
    """The mirror image of :func:`rocketcoin`: a long-liquidation crash about $10.

    Every price ``p`` becomes ``20 - p`` (bids and asks swap, shorts become longs
    liquidated at $9, $8, $7, $6, $5 with the same coin sizes). By default the ignition is
    the mirror of the rocket's in coins (a sale of the RKT the rocket's ignition bought),
    so ``rocketcoin_crash(v).run()`` is exactly the mirror of ``rocketcoin(v).run()``:
    prices reflected about $10, every coin quantity equal (USD amounts differ: a coin sold
    at $20 - p is not worth what it was bought for at p). With ``ignition`` (USD) the crash
    instead starts with a spot *sale* of that many USD.

    Parameters
    ----------
    variant : str, default "default"
        A key of :data:`VARIANTS` (the rocket being mirrored).
    ignition : float, optional
        USD of the ignition sale, > 0.
    **kwargs
        Any other keyword of :func:`rocketcoin` (hedge_ratio, lag, ...).

    Returns
    -------
    Scenario
    """
    rocket = rocketcoin(variant, **kwargs)
    pivot = RKT_FACTS["spot_price"]
    book, tranches, params = mirror_inputs(rocket.book, rocket.tranches, rocket.params, pivot)
    if ignition is not None:
        params = params.replace(ignition_notional=ignition)
    facts = dict(rocket.facts)
    facts["mirror_pivot"] = pivot
    return Scenario(
        name="rocketcoin_crash",
        variant=variant,
        description=f"mirror image about ${pivot:g} of: {rocket.description}",
        book=book,
        tranches=tranches,
        params=params,
        facts=MappingProxyType(facts),
    )


def rkt_book_after_ignition() -> OrderBook:
    """The RocketCoin market book after the article's $200,000 ignition (best ask $11.00).

    :func:`rocketcoin` (default variant), its book after a market buy of
    ``RKT_FACTS["article_ignition_usd"]`` USD: the state in which the first layer of shorts
    is liquidated. Prices USD per coin, sizes coins. See the module docstring for how it
    differs from the ``"calibrated"`` ladder of :func:`order_book_profiles`.
    """
    return rocketcoin().book.buy_notional(RKT_FACTS["article_ignition_usd"]).book_after


# ======================================================================================
# The order-books chapter's three ladders (book/order_books.ipynb)
# ======================================================================================

ORDER_BOOK_PROFILES: Mapping[str, str] = MappingProxyType(
    {
        "flat": "flat ladder (linear impact)",
        "sqrt": "square-root impact",
        "calibrated": "calibrated to ignition and stage 1",
    }
)
"""Depth profiles of :func:`order_book_profiles`: key -> description."""

# The article's anchors as the order-books chapter reads them (module docstring): 20,000
# coins lift the last traded price from $10 to $11, then $2,000,000 of buying (the engine's
# $1M plus the hedge's $1M) lifts it from $11 to $12.
_LADDER_START = RKT_FACTS["spot_price"]  # $10, best ask, USD per coin
_LADDER_IGNITION_PRICE = RKT_FACTS["article_ignition_target_price"]  # $11
_LADDER_STAGE1_PRICE = RKT_FACTS["article_first_stage_price"]  # $12
_LADDER_IGNITION_QTY = RKT_FACTS["article_ignition_coins"]  # 20,000 coins
_LADDER_STAGE1_USD = 2.0 * RKT_FACTS["article_first_tranche_usd"]  # $2,000,000
_LADDER_TOP = 30.0  # highest ask of the flat and calibrated ladders, USD per coin


@functools.lru_cache(maxsize=1)
def _order_book_ladders() -> Mapping[str, OrderBook]:
    """The three ladders at scale 1, built once; read-only (OrderBooks are immutable)."""
    flat = OrderBook.calibrated(
        _LADDER_START, _LADDER_IGNITION_PRICE, _LADDER_IGNITION_QTY, extend_to=_LADDER_TOP
    )
    k = (_LADDER_IGNITION_PRICE / _LADDER_START - 1.0) / np.sqrt(_LADDER_IGNITION_QTY)
    sqrt = OrderBook.sqrt_impact(_LADDER_START, k, n_levels=999)
    prices = flat.ask_prices
    half_tick = 0.5 * (prices[1] - prices[0])
    # levels up to $11 carry the ignition; those above $11 up to $12 carry stage 1
    m = int(np.searchsorted(prices, _LADDER_IGNITION_PRICE + half_tick))
    n = int(np.searchsorted(prices, _LADDER_STAGE1_PRICE + half_tick))
    deep = _LADDER_STAGE1_USD / prices[m:n].sum()  # coins per level so that $2M clears $12
    sizes = np.where(np.arange(prices.size) < m, flat.ask_sizes, deep)
    calibrated = OrderBook(flat.bid_prices, flat.bid_sizes, prices, sizes)
    return MappingProxyType({"flat": flat, "sqrt": sqrt, "calibrated": calibrated})


def order_book_profiles(scale: float = 1.0) -> dict[str, OrderBook]:
    """The order-books chapter's three RocketCoin ladders, with every level scaled.

    All three start at $10 and are fitted to the article's ignition read in coins
    (danny / @agintender, WuBlockchain 2025): at ``scale=1`` a market buy of 20,000 coins
    ends at a last traded price of $11.00. (:func:`rocketcoin`'s default book reads the
    ignition and stage 1 differently; the module docstring compares them.)

    * ``"flat"``: :meth:`perpsbook.book.OrderBook.calibrated` with ``shape="flat"``, equal
      coins on every $0.01 level from $10.00 to $30.00 (linear impact);
    * ``"sqrt"``: :meth:`perpsbook.book.OrderBook.sqrt_impact` with mid $10 and
      ``k = 0.1 / sqrt(20,000)`` (price after Q coins about ``10 * (1 + k * sqrt(Q))``),
      999 levels per side, asks $10.01 to $19.99;
    * ``"calibrated"``: the flat ladder up to $11.00, then deeper flat levels from $11.01
      to $30.00 sized so that, after the ignition, $2,000,000 of buying (the article's
      first-stage liquidation plus the market maker's hedge) ends exactly at $12.00.

    Parameters
    ----------
    scale : float
        Multiplier of every level's size (both sides), finite and > 0. Prices are
        unchanged; the coins needed for a given move scale with it.

    Returns
    -------
    dict of str -> OrderBook
        Keys as in :data:`ORDER_BOOK_PROFILES`; prices USD per coin, sizes coins. A new
        dict on every call.

    Raises
    ------
    InvalidInputError
        If ``scale`` is not finite and > 0.
    """
    s = check_scalar("scale", scale, check_positive)
    return {
        key: OrderBook(b.bid_prices, b.bid_sizes * s, b.ask_prices, b.ask_sizes * s)
        for key, b in _order_book_ladders().items()
    }


# ======================================================================================
# RocketCoin on two markets (perpsbook.twomarket)
# ======================================================================================

from dataclasses import replace as _replace  # noqa: E402

from perpsbook.liquidation import LiquidationConfig  # noqa: E402
from perpsbook.margin import venue_by_name  # noqa: E402
from perpsbook.markets import MarkRule  # noqa: E402
from perpsbook.positions import Positions  # noqa: E402
from perpsbook.twomarket import (  # noqa: E402
    TwoMarketParams,
    TwoMarketResult,
    positions_at_triggers,
    run_two_market,
)

__all__ += ["TWO_MARKET_VENUES", "TwoMarketScenario", "rocketcoin_two_market"]

TWO_MARKET_VENUES = ("binance", "bybit", "hyperliquid")
"""Venues :func:`rocketcoin_two_market` builds RocketCoin for."""

_VENUE_MARK = {"binance": "binance", "bybit": "binance", "hyperliquid": "hyperliquid"}
_SHORT_ENTRY = 10.0  # USD per coin: the crowd shorted the new coin at its listing price
_LONG_LEVERAGE = 2.0  # the opposite side (ADL counterparties), opened at the same price
_N_LONGS = 10


@dataclass(frozen=True, eq=False)
class TwoMarketScenario:
    """A ready-to-run two-market cascade (:mod:`perpsbook.twomarket`).

    Attributes
    ----------
    name, venue, description : str
    spot_book, perp_book : OrderBook
        USD per coin, coins.
    positions : Positions
        The shorts (rows ``0 .. n_shorts-1``, trigger order) and then the longs that are
        the ADL counterparties.
    tranche_of : ndarray of int64
        Tranche (0..4 for $11..$15) of each short.
    params : TwoMarketParams
    facts : Mapping
    """

    name: str
    venue: str
    description: str
    spot_book: OrderBook
    perp_book: OrderBook
    positions: Positions
    tranche_of: np.ndarray
    params: TwoMarketParams
    facts: Mapping[str, float]

    def run(self) -> TwoMarketResult:
        """Run it (:func:`perpsbook.twomarket.run_two_market`)."""
        return run_two_market(self.spot_book, self.perp_book, self.positions, self.params)

    def with_params(self, **changes: Any) -> TwoMarketScenario:
        """The same scenario with some :class:`TwoMarketParams` fields changed."""
        return _replace(self, params=self.params.replace(**changes))

    def __repr__(self) -> str:
        return f"TwoMarketScenario({self.name}, venue={self.venue!r}: {self.description})"


def rocketcoin_two_market(
    venue: str = "binance",
    *,
    ignition: float | None = None,
    ignition_qty: float | None = None,
    hedge_ratio: float = 1.0,
    lag: int = 0,
    inventory_limit: float | None = None,
    arbitrage_usd: float = 0.0,
    arbitrage_threshold: float = 0.001,
    mm_repost: float = 0.0,
    spot_refill: float = 0.0,
    withdrawal: float = 0.0,
    mark: str | MarkRule | None = None,
    basis_weight: float = 0.5,
    insurance_fund: float = DEFAULT_INSURANCE_FUND,
    positions_per_tranche: int = 10,
    stage_seconds: float | None = None,
    liquidation: LiquidationConfig | None = None,
    max_stages: int = 200,
) -> TwoMarketScenario:
    """RocketCoin (RKT) on a spot book and a perp book, liquidated as ``venue`` does.

    The same coin as :func:`rocketcoin` (default reading): the spot book is the default
    RKT ladder; the market maker quotes the perp with a ladder of the same shape, centred
    on the index (so after the ignition it sits about $1 higher). The article's five
    tranches ($1M, $1.5M, $2M, $2.5M, $3M at $11 .. $15, 748,327 RKT) are shorts opened at
    $10, each tranche split into ``positions_per_tranche`` equal positions whose margin
    puts the venue's own liquidation price exactly at the tranche's trigger
    (:func:`perpsbook.twomarket.positions_at_triggers`): the venue's maintenance tiers
    set their bankruptcy prices, so the fund's take differs by venue. The opposite side,
    as many coins of longs at $10 and 2x leverage in ten positions, are the ADL
    counterparties. Liquidations follow ``LiquidationConfig.for_venue(venue)``; the mark
    is Binance's rule for Binance (and Bybit, whose mark price is not modelled separately)
    and Hyperliquid's for Hyperliquid, with the external CEX perps trading at the index.

    Why :func:`rocketcoin` stays the one-ladder model: see :mod:`perpsbook.twomarket`.

    Parameters
    ----------
    venue : {"binance", "bybit", "hyperliquid"}
    ignition, ignition_qty : float, optional
        USD (default $200,000) or coins of the ignition spot buy.
    hedge_ratio, lag, inventory_limit, arbitrage_usd, arbitrage_threshold, mm_repost,
    spot_refill, withdrawal, stage_seconds, max_stages
        See :class:`perpsbook.twomarket.TwoMarketParams`.
    mark : str or MarkRule, optional
        Override the venue's mark rule.
    basis_weight : float, default 0.5
        Weight of the newest stage in the mark's averages, (0, 1].
    insurance_fund : float, default 500,000
        USD.
    positions_per_tranche : int, default 10
    liquidation : LiquidationConfig, optional
        Override ``LiquidationConfig.for_venue(venue)``.

    Returns
    -------
    TwoMarketScenario

    Raises
    ------
    InvalidInputError
        Unknown venue or a bad parameter (message names it).
    """
    if not isinstance(venue, str) or venue.strip().lower() not in TWO_MARKET_VENUES:
        raise InvalidInputError(f"venue must be one of {TWO_MARKET_VENUES}, got {venue!r}")
    key = venue.strip().lower()
    v = venue_by_name(key)
    if (
        isinstance(positions_per_tranche, bool)
        or not isinstance(positions_per_tranche, (int, np.integer))
        or not 1 <= positions_per_tranche <= 10_000
    ):
        raise InvalidInputError(
            f"positions_per_tranche must be an integer in [1, 10000], got {positions_per_tranche!r}"
        )
    if ignition is not None and ignition_qty is not None:
        raise InvalidInputError(
            f"give at most one of ignition (USD) and ignition_qty (coins), got {ignition!r} "
            f"and {ignition_qty!r}"
        )
    if ignition is None and ignition_qty is None:
        ignition = RKT_FACTS["article_ignition_usd"]
    if mark is None:
        ext = "index" if key == "hyperliquid" else None
        mark = MarkRule(_VENUE_MARK[key], basis_weight=basis_weight, external_perp=ext)
    cfg = LiquidationConfig.for_venue(v) if liquidation is None else liquidation
    tranches = _rkt_tranches("default")
    shorts, which = positions_at_triggers(
        tranches.trigger_price,
        tranches.size,
        v,
        side=-1,
        entry_price=_SHORT_ENTRY,
        n_per_trigger=positions_per_tranche,
    )
    total = float(np.sum(shorts.size))
    longs = Positions.from_leverage(
        1, np.full(_N_LONGS, total / _N_LONGS), _SHORT_ENTRY, _LONG_LEVERAGE
    )
    positions = Positions.concat([shorts, longs])
    params = TwoMarketParams(
        ignition_notional=ignition,
        ignition_qty=ignition_qty,
        hedge_ratio=hedge_ratio,
        lag=lag,
        inventory_limit=inventory_limit,
        mm_repost=mm_repost,
        spot_refill=spot_refill,
        withdrawal=withdrawal,
        arbitrage_usd=arbitrage_usd,
        arbitrage_threshold=arbitrage_threshold,
        mark=mark,
        liquidation=cfg,
        insurance_fund=insurance_fund,
        stage_seconds=stage_seconds,
        max_stages=max_stages,
    )
    book = _rkt_book("default")
    facts = dict(RKT_FACTS)
    facts.update(
        tranche_coins=total,
        n_shorts=float(shorts.n),
        n_longs=float(longs.n),
        insurance_fund=float(insurance_fund),
    )
    return TwoMarketScenario(
        name="rocketcoin_two_market",
        venue=key,
        description=(f"RKT on a spot and a perp book, {key} mark price and liquidation rules"),
        spot_book=book,
        perp_book=book,
        positions=positions,
        tranche_of=which,
        params=params,
        facts=MappingProxyType(facts),
    )


__all__ += ["rocketcoin_crash_two_market"]


def rocketcoin_crash_two_market(
    venue: str = "binance",
    *,
    ignition: float | None = None,
    ignition_qty: float | None = None,
    **kwargs: Any,
) -> TwoMarketScenario:
    """The mirror image of :func:`rocketcoin_two_market`: a long-liquidation crash about $10.

    Both books are reflected about $10 (``p -> 20 - p``, bids and asks swap); the five
    tranches become longs opened at $10 whose venue liquidation prices are $9, $8, $7,
    $6, $5 (the same coins per tranche, :func:`perpsbook.twomarket.positions_at_triggers`
    with ``side=+1``); the ADL counterparties are as many coins of shorts at $10 and 2x.
    The run is :class:`perpsbook.twomarket.TwoMarketParams` with ``side=-1``: the ignitor
    sells spot, the engine sells perp into the bids, the market maker hedges by selling
    spot, the arbitrageur bids perp below the index and sells spot.

    By default the ignition sells the coins the rocket's $200,000 ignition buys (19,054
    RKT), so for rules linear in the prices (``mark="index"`` / ``"last"``, Binance's
    without funding), no arbitrage and a fund that covers every deficit the run is the
    rocket's reflected: prices ``20 - p``, coin quantities equal. A venue's maintenance
    margin is a fraction of the position's notional, so the margins that put a long's
    liquidation price at $9 differ from a short's at $11 and the fund's take differs
    (USD amounts are not reflection-invariant).

    Parameters
    ----------
    venue : {"binance", "bybit", "hyperliquid"}
    ignition : float, optional
        USD of the ignition spot sale, > 0.
    ignition_qty : float, optional
        Coins of the ignition spot sale, > 0 (default: the rocket's ignition coins).
    **kwargs
        Every other keyword of :func:`rocketcoin_two_market` (hedge_ratio, lag,
        arbitrage_usd, insurance_fund, mark, liquidation, max_stages, ...).

    Returns
    -------
    TwoMarketScenario
        ``tranche_of`` gives the tranche (0..4 for $9..$5) of each long.

    Raises
    ------
    InvalidInputError
        Unknown venue or a bad parameter (message names it).
    """
    if ignition is not None and ignition_qty is not None:
        raise InvalidInputError(
            f"give at most one of ignition (USD) and ignition_qty (coins), got {ignition!r} "
            f"and {ignition_qty!r}"
        )
    rocket = rocketcoin_two_market(venue, ignition=ignition, ignition_qty=ignition_qty, **kwargs)
    pivot = RKT_FACTS["spot_price"]
    v = rocket.params.venue
    n_per = int(np.count_nonzero(rocket.tranche_of == 0))
    tranches = _rkt_tranches("default")
    longs, which = positions_at_triggers(
        2.0 * pivot - tranches.trigger_price,
        tranches.size,
        v,
        side=1,
        entry_price=_SHORT_ENTRY,
        n_per_trigger=n_per,
    )
    total = float(np.sum(longs.size))
    shorts = Positions.from_leverage(
        -1, np.full(_N_LONGS, total / _N_LONGS), _SHORT_ENTRY, _LONG_LEVERAGE
    )
    positions = Positions.concat([longs, shorts])
    spot = rocket.spot_book.mirrored(pivot)
    perp = spot if rocket.perp_book is rocket.spot_book else rocket.perp_book.mirrored(pivot)
    params = rocket.params
    if ignition is None and ignition_qty is None:
        # the coins the rocket's ignition buys (coin amounts are reflection-invariant)
        bought = rocket.spot_book.buy_notional(params.ignition_notional, partial=True).qty
        params = params.replace(ignition_qty=bought + 0.0, side=-1)
    else:
        params = params.replace(side=-1)
    facts = dict(rocket.facts)
    facts.update(mirror_pivot=pivot, n_longs=float(longs.n), n_shorts=float(shorts.n))
    return TwoMarketScenario(
        name="rocketcoin_crash_two_market",
        venue=rocket.venue,
        description=(
            f"RKT crash (mirror about ${pivot:g}) on a spot and a perp book, "
            f"{rocket.venue} mark price and liquidation rules"
        ),
        spot_book=spot,
        perp_book=perp,
        positions=positions,
        tranche_of=which,
        params=params,
        facts=MappingProxyType(facts),
    )
